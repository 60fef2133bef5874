//! The SSA redo: when validation finds that a transaction read a storage slot an earlier
//! transaction has since changed, only the operations that depend on that read run again,
//! instead of the whole transaction.
//!
//! # Recording
//!
//! An execution that may need a redo runs with [`SsaRecorder`], a revm inspector. It mirrors
//! every frame's stack, memory and calldata with the log entry that defined each value, and
//! logs an operation only when one of its inputs is a logged value: storage reads (`SLOAD`,
//! and the original value an `SSTORE` loads) start the log, and everything computed from
//! constants alone (calldata, the caller, code) stays a constant. A transfer of a token logs
//! a few dozen entries out of its few hundred instructions.
//!
//! # Redo
//!
//! On the next incarnation the transaction reads again every key it read, through the view,
//! so that the core validates the new reads. If an account or code changed, it runs in full.
//! If only storage changed, [`SsaLog::redo`] walks the log forward from the changed reads and
//! recomputes the arithmetic, comparison, bitwise and memory operations they reach. Logged
//! bytes follow a call's arguments into the callee's calldata; the redo writes the new bytes
//! of the logs' data and of the transaction's output into its result.
//!
//! A redo holds only if the execution would have taken the same path at the same cost, so
//! the log guards everything else a changed value could reach: whether a branch condition is
//! zero, a jump target, a memory offset or length, a storage key, a call's address, gas or
//! value, a log's topics, data a contract other than the transaction's returns, any opcode
//! the redo does not recompute. Any guarded value that changes, and any `SSTORE` whose gas
//! or refund would change, sends the transaction to a full execution. Gas, fees and the
//! logs' topics are then those recorded; stored values, logs' data and the output change.

mod eval;
mod log;
mod memory;
mod recorder;
mod shadow;
mod storage;

pub(crate) use recorder::SsaRecorder;

use super::values::{EvmKey, EvmValue};
use crate::parallel::{ReadError, ReadView};
use alloy_primitives::{Address, U256, map::HashMap};
use log::RedoFailure;
use op_revm::OpHaltReason;
use recorder::Recorded;
use revm::context_interface::result::{ExecutionResult, Output};

/// The reads of one execution, key and value, in read order.
type Reads = Vec<(EvmKey, Option<EvmValue>)>;

/// A view that remembers every read it answered.
pub(crate) struct RecordingView<'v> {
    inner: &'v mut dyn ReadView<EvmKey, EvmValue>,
    reads: Reads,
}

impl<'v> RecordingView<'v> {
    /// Records the reads of `inner`.
    pub(crate) fn new(inner: &'v mut dyn ReadView<EvmKey, EvmValue>) -> Self {
        Self {
            inner,
            reads: Vec::with_capacity(16),
        }
    }
}

impl ReadView<EvmKey, EvmValue> for RecordingView<'_> {
    fn read(&mut self, key: &EvmKey) -> Result<Option<EvmValue>, ReadError> {
        let value = self.inner.read(key)?;
        self.reads.push((*key, value.clone()));
        Ok(value)
    }
}

/// What a recorded execution keeps for a redo: its reads, its log and its writes.
#[derive(Debug)]
pub(crate) struct SsaRecord {
    reads: Reads,
    recorded: Recorded,
    /// The transaction's writes and fee deltas, as the core got them.
    pub(crate) writes: Vec<(EvmKey, EvmValue)>,
    pub(crate) deltas: Vec<(EvmKey, U256)>,
}

impl SsaRecord {
    /// The record of an execution that read `reads`, logged `recorder` and wrote `writes`
    /// and `deltas`; `None` when the recorder gave up.
    pub(crate) fn new(
        view: RecordingView<'_>,
        recorder: SsaRecorder,
        writes: Vec<(EvmKey, EvmValue)>,
        deltas: Vec<(EvmKey, U256)>,
    ) -> Option<Self> {
        Some(Self {
            reads: view.reads,
            recorded: recorder.finish()?,
            writes,
            deltas,
        })
    }

    /// Redoes the execution over `view`: reads every key again, then recomputes what the
    /// changed storage reaches. On success the record describes the new execution.
    ///
    /// # Errors
    ///
    /// The outer error is a read the view could not answer (the execution must stop, as a
    /// full one would); the inner one says why a full execution is needed instead.
    pub(crate) fn redo(
        &mut self,
        view: &mut dyn ReadView<EvmKey, EvmValue>,
    ) -> Result<Result<(), RedoFailure>, ReadError> {
        let mut reads = Vec::with_capacity(self.reads.len());
        let mut slots = HashMap::<(Address, U256), Option<EvmValue>>::default();
        let mut epochs = HashMap::<Address, u32>::default();
        for (key, before) in &self.reads {
            let now = view.read(key)?;
            match key {
                EvmKey::Storage(address, slot) => {
                    slots.insert((*address, *slot), now.clone());
                }
                EvmKey::Account(address) => {
                    if &now != before {
                        return Ok(Err(RedoFailure::Guard));
                    }
                    let epoch = now.as_ref().and_then(EvmValue::as_account).map(|a| a.epoch);
                    epochs.insert(*address, epoch.unwrap_or_default());
                }
                // Code is named by its hash: only whether it exists can change.
                EvmKey::Code(_) => {
                    if now.is_some() != before.is_some() {
                        return Ok(Err(RedoFailure::Guard));
                    }
                }
            }
            reads.push((*key, now));
        }
        let source = |address: &Address, slot: &U256| {
            let epoch = epochs.get(address)?;
            Some(match slots.get(&(*address, *slot))? {
                Some(EvmValue::Storage { value, epoch: e }) if e == epoch => *value,
                _ => U256::ZERO,
            })
        };
        if let Err(failure) = self.recorded.log.redo(source) {
            return Ok(Err(failure));
        }
        self.reads = reads;
        self.rewrite_storage(&epochs);
        Ok(Ok(()))
    }

    /// Writes into `result` the new bytes of its logs' data and of its output (its gas,
    /// topics and the rest are those recorded, as the guards held).
    pub(crate) fn patch_result(&self, result: &mut ExecutionResult<OpHaltReason>) {
        let ExecutionResult::Success { logs, output, .. } = result else {
            return;
        };
        let log = &self.recorded.log;
        for (index, bytes) in &self.recorded.log_data {
            if let Some(entry) = logs.get_mut(*index) {
                let mut data = entry.data.data.to_vec();
                log.patch(&mut data, bytes);
                entry.data.data = data.into();
            }
        }
        if let (Output::Call(data), false) = (output, self.recorded.output.is_empty()) {
            let mut patched = data.to_vec();
            log.patch(&mut patched, &self.recorded.output);
            *data = patched.into();
        }
    }

    /// Sets the writes of every stored slot to the value it is left with, when that differs
    /// from its value before the transaction (as revm reports only changed slots).
    fn rewrite_storage(&mut self, epochs: &HashMap<Address, u32>) {
        for (address, slot, source, last) in &self.recorded.stored {
            let key = EvmKey::Storage(*address, *slot);
            let before = self.recorded.log.value(*source);
            let after = self.recorded.log.value(*last);
            let position = self.writes.iter().position(|(k, _)| k == &key);
            let epoch = match position.map(|i| &self.writes[i].1) {
                Some(EvmValue::Storage { epoch, .. }) => *epoch,
                _ => account_epoch_after(&self.writes, address)
                    .or_else(|| epochs.get(address).copied())
                    .unwrap_or_default(),
            };
            let value = EvmValue::Storage {
                value: after,
                epoch,
            };
            match (position, before == after) {
                (Some(i), true) => {
                    self.writes.remove(i);
                }
                (Some(i), false) => self.writes[i].1 = value,
                (None, false) => self.writes.push((key, value)),
                (None, true) => {}
            }
        }
    }
}

/// The storage epoch `writes` leave `address` in, if they write it.
fn account_epoch_after(writes: &[(EvmKey, EvmValue)], address: &Address) -> Option<u32> {
    writes.iter().find_map(|(key, value)| match (key, value) {
        (EvmKey::Account(a), EvmValue::Account(account)) if a == address => Some(account.epoch),
        _ => None,
    })
}
