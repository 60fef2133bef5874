//! Block-STM: worker threads executing and validating transactions speculatively over the
//! multi-version memory, with an in-order finish when the fallback policy triggers.

use super::{
    ExecutionConfig, FallbackPolicy,
    mv_memory::{Incarnation, MvMemory, ReadOrigin, Version},
    output::{ExecutionStats, ParallelError, Strategy, VmBlockOutput},
    scheduler::{Scheduler, Status, Task},
    sequential,
    view::{MvView, ViewFailure},
    vm::{Storage, StorageError, TxIndex, Vm, VmError},
    write_set::{WriteSet, normalize},
};
use parking_lot::Mutex;

mod finish;
use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    sync::atomic::{AtomicU8, AtomicU64, Ordering::Relaxed, Ordering::SeqCst},
    thread,
};

/// Idle rounds a worker spins before it starts yielding its core.
const SPIN_LIMIT: u32 = 64;

/// Why the workers stopped before the block was done; a higher reason wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Halt {
    None = 0,
    /// Conflicts crossed the fallback threshold: finish in order.
    Fallback = 1,
    /// A worker panicked or the VM misbehaved: execute again in order, from scratch.
    Fault = 2,
    /// Storage failed: the block fails.
    Storage = 3,
}

/// The last recorded execution of a transaction.
struct Slot<M: Vm> {
    incarnation: Incarnation,
    reads: Vec<(M::Key, ReadOrigin<M::Value>)>,
    result: Result<M::Output, M::Error>,
}

/// What one execution of a transaction gave.
enum Run<M: Vm> {
    /// It read an ESTIMATE of this transaction.
    Blocked(TxIndex),
    /// Storage failed.
    Storage(StorageError),
    /// The VM returned a read error its view did not raise.
    Foreign,
    /// It completed (successfully or with the transaction's own error).
    Done {
        reads: Vec<(M::Key, ReadOrigin<M::Value>)>,
        result: Result<M::Output, M::Error>,
        write_set: WriteSet<M::Key, M::Value, M::Delta>,
    },
}

/// Why the in-order finish could not complete.
enum InOrderError {
    /// The memory is not in the expected state: execute from scratch.
    Restart,
    /// Storage failed at this transaction.
    Storage(TxIndex, StorageError),
}

/// A worker's own counts, added to the shared [`Counters`] on conflicts and when it stops
/// (a shared counter bumped by every thread on every transaction costs more than the
/// transaction's bookkeeping).
#[derive(Default)]
struct LocalCounts {
    executions: u64,
    validations: u64,
}

#[derive(Default)]
struct Counters {
    executions: AtomicU64,
    validations: AtomicU64,
    aborts: AtomicU64,
    dependency_waits: AtomicU64,
    in_order_executions: AtomicU64,
}

/// Everything the workers of one block share.
struct Shared<'a, M: Vm, S> {
    vm: &'a M,
    storage: &'a S,
    policy: Option<FallbackPolicy>,
    memory: MvMemory<M::Key, M::Value, M::Delta>,
    scheduler: Scheduler,
    slots: Box<[Mutex<Option<Slot<M>>>]>,
    counters: Counters,
    halt: AtomicU8,
    storage_error: Mutex<Option<(TxIndex, StorageError)>>,
}

/// Executes transactions `0..txs` with Block-STM on `threads` threads (at least 2).
pub(crate) fn execute<M, S>(
    vm: &M,
    storage: &S,
    txs: usize,
    threads: usize,
    config: &ExecutionConfig,
) -> Result<VmBlockOutput<M>, ParallelError>
where
    M: Vm,
    S: Storage<M::Key, M::Value>,
{
    let tx_writes = config.tx_writes;
    let from_scratch = || from_scratch(vm, storage, txs, tx_writes);
    let shared = Shared::new(vm, storage, txs, config.fallback);
    let threads = shared.run_workers(threads);
    let strategy = match shared.halt() {
        Halt::None => Strategy::Parallel,
        Halt::Fallback => match guarded(|| shared.finish_in_order()) {
            Some(Ok(())) => Strategy::ParallelThenInOrder,
            Some(Err(InOrderError::Storage(tx, source))) => {
                return Err(ParallelError::Storage { tx, source });
            }
            Some(Err(InOrderError::Restart)) | None => return from_scratch(),
        },
        Halt::Fault => return from_scratch(),
        Halt::Storage => return Err(shared.into_storage_error()),
    };
    match guarded(|| shared.into_output(strategy, threads, tx_writes)) {
        Some(Some(output)) => output,
        Some(None) | None => from_scratch(),
    }
}

/// Executes the block again, in order, after the parallel phase went wrong.
fn from_scratch<M, S>(
    vm: &M,
    storage: &S,
    txs: usize,
    tx_writes: bool,
) -> Result<VmBlockOutput<M>, ParallelError>
where
    M: Vm,
    S: Storage<M::Key, M::Value>,
{
    tracing::debug!(target: "altius::engine", txs, "parallel execution restarts in order");
    sequential::execute(
        vm,
        storage,
        txs,
        Strategy::ParallelThenSequential,
        tx_writes,
    )
}

/// Runs `f`, turning a panic into `None`.
fn guarded<T>(f: impl FnOnce() -> T) -> Option<T> {
    catch_unwind(AssertUnwindSafe(f)).ok()
}

/// Waits a little before asking the scheduler again.
fn backoff(idle: &mut u32) {
    if *idle < SPIN_LIMIT {
        std::hint::spin_loop();
    } else {
        thread::yield_now();
    }
    *idle = idle.saturating_add(1);
}

impl<'a, M, S> Shared<'a, M, S>
where
    M: Vm,
    S: Storage<M::Key, M::Value>,
{
    fn new(vm: &'a M, storage: &'a S, txs: usize, policy: Option<FallbackPolicy>) -> Self {
        Self {
            vm,
            storage,
            policy,
            memory: MvMemory::new(txs),
            scheduler: Scheduler::new(txs),
            slots: (0..txs).map(|_| Mutex::new(None)).collect(),
            counters: Counters::default(),
            halt: AtomicU8::new(Halt::None as u8),
            storage_error: Mutex::new(None),
        }
    }

    /// Runs the workers (this thread is one of them); returns how many ran.
    fn run_workers(&self, threads: usize) -> usize {
        thread::scope(|scope| {
            let mut running = 1;
            for n in 1..threads {
                let builder = thread::Builder::new().name(format!("altius-exec-{n}"));
                match builder.spawn_scoped(scope, || self.worker()) {
                    Ok(_) => running += 1,
                    Err(error) => {
                        tracing::warn!(
                            target: "altius::engine",
                            %error,
                            "cannot spawn an execution thread"
                        );
                        break;
                    }
                }
            }
            self.worker();
            running
        })
    }

    fn halt(&self) -> Halt {
        match self.halt.load(SeqCst) {
            0 => Halt::None,
            1 => Halt::Fallback,
            2 => Halt::Fault,
            _ => Halt::Storage,
        }
    }

    fn set_halt(&self, reason: Halt) {
        self.halt.fetch_max(reason as u8, SeqCst);
    }

    fn worker(&self) {
        if guarded(|| self.work()).is_none() {
            self.set_halt(Halt::Fault);
        }
    }

    fn work(&self) {
        let mut task = None;
        let mut idle = 0;
        let mut local = LocalCounts::default();
        while !self.scheduler.done() && self.halt() == Halt::None {
            task = match task {
                Some(Task::Execute(version)) => self.try_execute(version, &mut local),
                Some(Task::Validate(version)) => self.validate(version, &mut local),
                None => {
                    let next = self.scheduler.next_task();
                    if next.is_none() {
                        backoff(&mut idle);
                    }
                    next
                }
            };
        }
        self.flush(&mut local);
    }

    /// Executes `tx` against the memory; `previous` is what its last execution returned, if
    /// the VM may redo from it.
    fn run(&self, tx: TxIndex, previous: Option<M::Output>) -> Run<M> {
        let mut view = MvView::new(self.vm, self.storage, &self.memory, tx);
        let result = match previous {
            Some(previous) => self.vm.execute_again(tx, &mut view, previous),
            None => self.vm.execute(tx, &mut view),
        };
        let (reads, failure) = view.finish();
        match failure {
            Some(ViewFailure::Blocked(blocking)) => return Run::Blocked(blocking),
            Some(ViewFailure::Storage(error)) => return Run::Storage(error),
            None => {}
        }
        match result {
            Ok(outcome) => Run::Done {
                reads,
                result: Ok(outcome.output),
                write_set: normalize(self.vm, outcome.writes, outcome.deltas),
            },
            Err(VmError::Tx(error)) => Run::Done {
                reads,
                result: Err(error),
                write_set: Vec::new(),
            },
            Err(VmError::Read(_)) => Run::Foreign,
        }
    }

    /// Records a completed execution: its reads and result, then its writes.
    fn record(&self, version: Version, run: Run<M>) -> bool {
        let Run::Done {
            reads,
            result,
            write_set,
        } = run
        else {
            return false;
        };
        if let Some(slot) = self.slots.get(version.tx) {
            *slot.lock() = Some(Slot {
                incarnation: version.incarnation,
                reads,
                result,
            });
        }
        self.memory
            .record_with(version, write_set, |key| self.vm.is_accumulator(key))
    }

    /// Takes the output of the last recorded execution of `tx`, which is about to run
    /// again: its slot stays empty until it has. No validation of that execution can abort
    /// it any more, as the scheduler has moved on to the next incarnation.
    fn take_output(&self, tx: TxIndex) -> Option<M::Output> {
        let slot = self.slots.get(tx)?.lock().take()?;
        slot.result.ok()
    }

    fn try_execute(&self, version: Version, local: &mut LocalCounts) -> Option<Task> {
        let mut previous = if version.incarnation > 0 {
            self.take_output(version.tx)
        } else {
            None
        };
        loop {
            local.executions += 1;
            match self.run(version.tx, previous.take()) {
                Run::Blocked(blocking) => {
                    self.counters.dependency_waits.fetch_add(1, Relaxed);
                    self.note_conflict(local);
                    if self.scheduler.add_dependency(version.tx, blocking) || self.halted() {
                        return None;
                    }
                }
                Run::Storage(error) => {
                    *self.storage_error.lock() = Some((version.tx, error));
                    self.set_halt(Halt::Storage);
                    return None;
                }
                Run::Foreign => {
                    self.set_halt(Halt::Fault);
                    return None;
                }
                done @ Run::Done { .. } => {
                    let wrote_new_location = self.record(version, done);
                    return self.scheduler.finish_execution(version, wrote_new_location);
                }
            }
        }
    }

    fn halted(&self) -> bool {
        self.halt() != Halt::None
    }

    fn reads_valid(&self, tx: TxIndex, incarnation: Option<Incarnation>) -> bool {
        let Some(slot) = self.slots.get(tx) else {
            return false;
        };
        let slot = slot.lock();
        slot.as_ref().is_some_and(|slot| {
            incarnation.is_none_or(|incarnation| slot.incarnation == incarnation)
                && self.memory.validate_reads(self.vm, tx, &slot.reads)
        })
    }

    fn validate(&self, version: Version, local: &mut LocalCounts) -> Option<Task> {
        local.validations += 1;
        let aborted =
            !self.reads_valid(version.tx, None) && self.scheduler.try_validation_abort(version);
        if aborted {
            self.counters.aborts.fetch_add(1, Relaxed);
            self.memory.convert_writes_to_estimates(version.tx);
            self.note_conflict(local);
        }
        self.scheduler.finish_validation(version.tx, aborted)
    }

    /// Adds a worker's counts to the shared counters.
    fn flush(&self, local: &mut LocalCounts) {
        let counts = std::mem::take(local);
        self.counters
            .executions
            .fetch_add(counts.executions, Relaxed);
        self.counters
            .validations
            .fetch_add(counts.validations, Relaxed);
    }

    /// Counts a conflict; halts for the in-order finish when the policy says so.
    fn note_conflict(&self, local: &mut LocalCounts) {
        self.flush(local);
        let Some(policy) = self.policy else { return };
        let conflicts =
            self.counters.aborts.load(Relaxed) + self.counters.dependency_waits.load(Relaxed);
        if policy.triggers(self.counters.executions.load(Relaxed), conflicts) {
            self.set_halt(Halt::Fallback);
        }
    }

    /// After a fallback halt: walks the block in order, keeping every transaction whose
    /// recorded execution is still valid and re-executing the others.
    fn finish_in_order(&self) -> Result<(), InOrderError> {
        for tx in 0..self.slots.len() {
            let Some((incarnation, status)) = self.scheduler.state(tx) else {
                return Err(InOrderError::Restart);
            };
            if status == Status::Executed && self.reads_valid(tx, Some(incarnation)) {
                continue;
            }
            self.counters.in_order_executions.fetch_add(1, Relaxed);
            let version = Version {
                tx,
                incarnation: incarnation.wrapping_add(1),
            };
            match self.run(tx, self.take_output(tx)) {
                Run::Blocked(_) | Run::Foreign => return Err(InOrderError::Restart),
                Run::Storage(error) => return Err(InOrderError::Storage(tx, error)),
                done @ Run::Done { .. } => {
                    self.record(version, done);
                }
            }
        }
        Ok(())
    }

    fn into_storage_error(self) -> ParallelError {
        match self.storage_error.into_inner() {
            Some((tx, source)) => ParallelError::Storage { tx, source },
            None => ParallelError::Storage {
                tx: 0,
                source: StorageError::new("storage failed"),
            },
        }
    }

    fn stats(&self, strategy: Strategy, threads: usize) -> ExecutionStats {
        let counters = &self.counters;
        ExecutionStats {
            strategy,
            threads,
            executions: counters.executions.load(Relaxed),
            validations: counters.validations.load(Relaxed),
            aborts: counters.aborts.load(Relaxed),
            dependency_waits: counters.dependency_waits.load(Relaxed),
            in_order_executions: counters.in_order_executions.load(Relaxed),
            dependent_txs: 0,
            splits: 0,
            redos: 0,
            kept: 0,
        }
    }
}
