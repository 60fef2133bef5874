//! The collaborative scheduler of Block-STM (Gelashvili et al., PPoPP'23, algorithms 4–5).
//!
//! Two counters hand out work: `execution_idx` (the next transaction to execute) and
//! `validation_idx` (the next one to validate); a thread takes from the lower one, validation
//! winning ties. Conflicts lower them with `fetch_min`. All atomics are sequentially
//! consistent, as the paper assumes.
//!
//! One change to the paper's pseudo-code: `try_incarnate` does not release the active task
//! itself, its callers do, so the failing `try_incarnate` in `finish_validation` does not
//! release it twice.

use super::{
    mv_memory::{Incarnation, Version},
    vm::TxIndex,
};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};

/// Where a transaction is in its life cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    /// Waiting for a thread to execute its current incarnation.
    ReadyToExecute,
    /// A thread executes its current incarnation.
    Executing,
    /// Its current incarnation has executed and recorded its writes.
    Executed,
    /// Its current incarnation failed validation or waits for a dependency.
    Aborting,
}

/// Work handed to a thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Task {
    /// Execute this incarnation.
    Execute(Version),
    /// Validate the reads of this incarnation.
    Validate(Version),
}

#[derive(Debug)]
struct TxState {
    incarnation: Incarnation,
    status: Status,
}

/// A value on a cache line of its own, so that threads updating one counter do not slow
/// down threads reading another.
#[derive(Debug, Default)]
#[repr(align(128))]
struct Padded<T>(T);

impl<T> std::ops::Deref for Padded<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// The scheduler of one block.
#[derive(Debug)]
pub(crate) struct Scheduler {
    txs: usize,
    execution_idx: Padded<AtomicUsize>,
    validation_idx: Padded<AtomicUsize>,
    decrease_cnt: Padded<AtomicUsize>,
    num_active_tasks: Padded<AtomicUsize>,
    done_marker: Padded<AtomicBool>,
    states: Box<[Mutex<TxState>]>,
    dependencies: Box<[Mutex<Vec<TxIndex>>]>,
}

impl Scheduler {
    /// A scheduler for a block of `txs` transactions, all ready to execute.
    pub(crate) fn new(txs: usize) -> Self {
        let ready = || {
            Mutex::new(TxState {
                incarnation: 0,
                status: Status::ReadyToExecute,
            })
        };
        Self {
            txs,
            execution_idx: Padded::default(),
            validation_idx: Padded::default(),
            decrease_cnt: Padded::default(),
            num_active_tasks: Padded::default(),
            done_marker: Padded::default(),
            states: (0..txs).map(|_| ready()).collect(),
            dependencies: (0..txs).map(|_| Mutex::new(Vec::new())).collect(),
        }
    }

    /// Whether every transaction has executed and validated.
    pub(crate) fn done(&self) -> bool {
        self.done_marker.load(SeqCst)
    }

    /// The current incarnation and status of `tx`.
    pub(crate) fn state(&self, tx: TxIndex) -> Option<(Incarnation, Status)> {
        let state = self.states.get(tx)?.lock();
        Some((state.incarnation, state.status))
    }

    fn decrease_execution_idx(&self, target: TxIndex) {
        self.execution_idx.fetch_min(target, SeqCst);
        self.decrease_cnt.fetch_add(1, SeqCst);
    }

    fn decrease_validation_idx(&self, target: TxIndex) {
        self.validation_idx.fetch_min(target, SeqCst);
        self.decrease_cnt.fetch_add(1, SeqCst);
    }

    fn release_task(&self) {
        self.num_active_tasks.fetch_sub(1, SeqCst);
    }

    fn check_done(&self) {
        let observed_cnt = self.decrease_cnt.load(SeqCst);
        let lowest = self
            .execution_idx
            .load(SeqCst)
            .min(self.validation_idx.load(SeqCst));
        if lowest >= self.txs
            && self.num_active_tasks.load(SeqCst) == 0
            && observed_cnt == self.decrease_cnt.load(SeqCst)
        {
            self.done_marker.store(true, SeqCst);
        }
    }

    /// Moves `tx` from ReadyToExecute to Executing; the caller owns an active task.
    fn try_incarnate(&self, tx: TxIndex) -> Option<Version> {
        let mut state = self.states.get(tx)?.lock();
        if state.status != Status::ReadyToExecute {
            return None;
        }
        state.status = Status::Executing;
        Some(Version {
            tx,
            incarnation: state.incarnation,
        })
    }

    fn next_version_to_execute(&self) -> Option<Version> {
        if self.execution_idx.load(SeqCst) >= self.txs {
            self.check_done();
            return None;
        }
        self.num_active_tasks.fetch_add(1, SeqCst);
        let tx = self.execution_idx.fetch_add(1, SeqCst);
        let version = self.try_incarnate(tx);
        if version.is_none() {
            self.release_task();
        }
        version
    }

    fn next_version_to_validate(&self) -> Option<Version> {
        if self.validation_idx.load(SeqCst) >= self.txs {
            self.check_done();
            return None;
        }
        self.num_active_tasks.fetch_add(1, SeqCst);
        let tx = self.validation_idx.fetch_add(1, SeqCst);
        if let Some((incarnation, Status::Executed)) = self.state(tx) {
            return Some(Version { tx, incarnation });
        }
        self.release_task();
        None
    }

    /// The next task for an idle thread, if there is one now.
    pub(crate) fn next_task(&self) -> Option<Task> {
        if self.validation_idx.load(SeqCst) < self.execution_idx.load(SeqCst) {
            self.next_version_to_validate().map(Task::Validate)
        } else {
            self.next_version_to_execute().map(Task::Execute)
        }
    }

    /// Makes executing `tx` wait for `blocking` (whose ESTIMATE it read). Returns `false` if
    /// `blocking` has executed meanwhile: then `tx` re-executes at once.
    pub(crate) fn add_dependency(&self, tx: TxIndex, blocking: TxIndex) -> bool {
        if blocking >= tx {
            return false;
        }
        let (Some(dependents), Some(blocking_state), Some(state)) = (
            self.dependencies.get(blocking),
            self.states.get(blocking),
            self.states.get(tx),
        ) else {
            return false;
        };
        {
            let mut dependents = dependents.lock();
            if blocking_state.lock().status == Status::Executed {
                return false;
            }
            state.lock().status = Status::Aborting;
            dependents.push(tx);
        }
        self.release_task();
        true
    }

    fn set_ready_status(&self, tx: TxIndex) {
        if let Some(state) = self.states.get(tx) {
            let mut state = state.lock();
            state.incarnation = state.incarnation.wrapping_add(1);
            state.status = Status::ReadyToExecute;
        }
    }

    fn resume_dependencies(&self, dependents: Vec<TxIndex>) {
        for &tx in &dependents {
            self.set_ready_status(tx);
        }
        if let Some(&lowest) = dependents.iter().min() {
            self.decrease_execution_idx(lowest);
        }
    }

    /// Records that `version` executed; returns a validation task for it when one is due.
    pub(crate) fn finish_execution(
        &self,
        version: Version,
        wrote_new_location: bool,
    ) -> Option<Task> {
        let Version { tx, .. } = version;
        if let Some(state) = self.states.get(tx) {
            state.lock().status = Status::Executed;
        }
        let dependents = match self.dependencies.get(tx) {
            Some(dependents) => std::mem::take(&mut *dependents.lock()),
            None => Vec::new(),
        };
        self.resume_dependencies(dependents);
        if self.validation_idx.load(SeqCst) > tx {
            if !wrote_new_location {
                return Some(Task::Validate(version));
            }
            self.decrease_validation_idx(tx);
        }
        self.release_task();
        None
    }

    /// Aborts `version` if it is still the executed incarnation; `true` if this call did.
    pub(crate) fn try_validation_abort(&self, version: Version) -> bool {
        let Some(state) = self.states.get(version.tx) else {
            return false;
        };
        let mut state = state.lock();
        if state.incarnation == version.incarnation && state.status == Status::Executed {
            state.status = Status::Aborting;
            return true;
        }
        false
    }

    /// Records a validation; after an abort, may return the re-execution task.
    pub(crate) fn finish_validation(&self, tx: TxIndex, aborted: bool) -> Option<Task> {
        if aborted {
            self.set_ready_status(tx);
            self.decrease_validation_idx(tx.saturating_add(1));
            if self.execution_idx.load(SeqCst) > tx
                && let Some(version) = self.try_incarnate(tx)
            {
                return Some(Task::Execute(version));
            }
        }
        self.release_task();
        None
    }
}
