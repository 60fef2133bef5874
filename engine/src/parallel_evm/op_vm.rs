//! [`OpVm`]: op-revm as a [`Vm`] of the Block-STM core.

use super::{
    db::{BlockHashFn, ViewDb, ViewDbError, evm_context},
    fees::OpDeferredFees,
    is_fee_recipient, one_sender,
    ssa::{RecordingView, SsaRecord, SsaRecorder},
    values::{EvmKey, EvmValue, apply_balance_delta},
    writes::tx_writes,
};
use crate::{
    RecoveredTx,
    parallel::{ReadView, TxIndex, TxOutcome, Vm, VmError},
    tx::to_op_tx,
};
use alloy_consensus::Transaction as _;
use alloy_primitives::{Bloom, U256, logs_bloom};
use op_revm::precompiles::OpPrecompiles;
use op_revm::{
    L1BlockInfo, OpEvm, OpHaltReason, OpSpecId, OpTransactionError,
    constants::{BASE_FEE_RECIPIENT, L1_FEE_RECIPIENT, OPERATOR_FEE_RECIPIENT},
};
use revm::{
    context::{BlockEnv as RevmBlockEnv, CfgEnv, Evm, FrameStack},
    context_interface::{
        JournalTr,
        result::{EVMError, ExecutionResult},
    },
    handler::Handler,
    handler::instructions::EthInstructions,
    inspector::{Inspector, InspectorHandler, NoOpInspector},
    interpreter::interpreter::EthInterpreter,
};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// What a transaction that ran returns.
#[derive(Debug)]
pub(crate) struct OpTxOutput {
    /// revm's result.
    pub(crate) result: ExecutionResult<OpHaltReason>,
    /// The sender's nonce before the transaction.
    pub(crate) nonce_before: u64,
    /// The logs bloom of its receipt, computed here, on the executing thread.
    pub(crate) bloom: Bloom,
    /// What a redo of the transaction needs, when the VM records it.
    pub(crate) ssa: Option<Box<SsaRecord>>,
}

/// Why a transaction did not run.
#[derive(Debug)]
pub(crate) enum OpTxFailure {
    /// It is invalid in block order (nonce, funds, ...).
    Invalid(OpTransactionError),
    /// Its type cannot be in a block (a post-execution transaction).
    Unsupported,
    /// Not the transaction's fault: the block cannot be executed.
    Fatal(String),
}

/// The transactions of one block over op-revm.
pub(crate) struct OpVm<'a> {
    pub(crate) cfg: CfgEnv<OpSpecId>,
    pub(crate) block: RevmBlockEnv,
    pub(crate) txs: &'a [RecoveredTx],
    pub(crate) block_hash: BlockHashFn<'a>,
    /// The L1 fee parameters, read once before the block's first transaction (as op-revm
    /// reads them when one EVM runs the whole block).
    pub(crate) l1_info: L1BlockInfo,
    /// Which executions record an SSA log, so that the next incarnation of a transaction
    /// can redo only what a stale storage read changed.
    pub(crate) ssa: SsaRecording,
    /// Incarnations that a redo produced.
    pub(crate) redos: AtomicU64,
    /// Transactions executed again so far.
    pub(crate) again: AtomicU64,
    /// Redos that a changed guard sent to a full execution.
    pub(crate) redo_failures: AtomicU64,
}

/// Which executions of [`OpVm`] record an SSA log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SsaRecording {
    /// None: every re-execution runs in full.
    Off,
    /// Those likely to be redone cheaply, and only while redos mostly succeed (see
    /// [`RECORD_AFTER_REEXECUTIONS`], [`FAILED_REDOS_ALLOWED`] and [`RECORD_GAS_LIMIT`]).
    Adaptive,
    /// All (tests, to redo as often as possible).
    #[cfg_attr(not(test), allow(dead_code))]
    Always,
}

/// A first execution records its SSA log once the block's re-executions so far, times this,
/// exceed the transaction's position: with every execution recording, Block-STM took 30 to
/// 50 % longer on a block of independent ERC20 transfers, which have nothing to redo.
const RECORD_AFTER_REEXECUTIONS: u64 = 16;

/// Failed redos beyond twice the successful ones after which executions stop recording:
/// where redos keep failing, recording only slows the block down.
const FAILED_REDOS_ALLOWED: u64 = 8;

/// Transactions with a larger gas limit do not record: recording costs in proportion to the
/// instructions run, and on a block of swaps on one pool (150,000 gas each, over 2,000
/// instructions in three frames) Block-STM took 1.3× as long with the redo as without,
/// although the redo halved its re-executions; ERC20 transfers (60,000) gained.
const RECORD_GAS_LIMIT: u64 = 100_000;

/// The revm context a transaction of [`OpVm`] runs in.
type OpCtx<'v> = revm::Context<
    RevmBlockEnv,
    op_revm::OpTransaction<revm::context::TxEnv>,
    CfgEnv<OpSpecId>,
    ViewDb<'v>,
    revm::Journal<ViewDb<'v>>,
    L1BlockInfo,
>;

/// An inspector [`OpVm`] runs transactions with: none, or the SSA recorder.
trait OpInspector: for<'v> Inspector<OpCtx<'v>, EthInterpreter> {
    /// Whether the run goes through revm's inspecting loop (slower).
    const INSPECTS: bool;
}

impl OpInspector for NoOpInspector {
    const INSPECTS: bool = false;
}

impl OpInspector for &mut SsaRecorder {
    const INSPECTS: bool = true;
}

/// The result of running one transaction on op-revm.
type Run = Result<TxOutcome<EvmKey, EvmValue, U256, OpTxOutput>, VmError<OpTxFailure>>;

impl OpVm<'_> {
    /// Whether an execution of transaction `tx` (its first, if `first`) records its SSA
    /// log: under [`SsaRecording::Adaptive`], when the transaction is light, the block's
    /// re-executions are frequent (for a first execution) and redos mostly succeed.
    fn records(&self, tx: TxIndex, first: bool) -> bool {
        match self.ssa {
            SsaRecording::Off => false,
            SsaRecording::Always => true,
            SsaRecording::Adaptive => {
                let light = self
                    .txs
                    .get(tx)
                    .is_some_and(|t| t.tx.gas_limit() <= RECORD_GAS_LIMIT);
                let again = self.again.load(Relaxed);
                let frequent = !first || again * RECORD_AFTER_REEXECUTIONS > tx as u64;
                let failures = self.redo_failures.load(Relaxed);
                let pays = failures <= 2 * self.redos.load(Relaxed) + FAILED_REDOS_ALLOWED;
                light && frequent && pays
            }
        }
    }

    /// Executes transaction `tx` in full, recording its SSA log if `record`.
    fn execute_in_full(
        &self,
        tx: TxIndex,
        view: &mut dyn ReadView<EvmKey, EvmValue>,
        record: bool,
    ) -> Run {
        let Some(recovered) = self.txs.get(tx) else {
            return Err(VmError::Tx(OpTxFailure::Fatal(format!(
                "no transaction {tx}"
            ))));
        };
        if recovered.tx.is_post_exec() {
            return Err(VmError::Tx(OpTxFailure::Unsupported));
        }
        if !record {
            return self.run(tx, recovered, view, NoOpInspector);
        }
        let mut recording = RecordingView::new(view);
        let mut recorder = SsaRecorder::default();
        let mut outcome = self.run(tx, recovered, &mut recording, &mut recorder)?;
        outcome.output.ssa = SsaRecord::new(
            recording,
            recorder,
            outcome.writes.clone(),
            outcome.deltas.clone(),
        )
        .map(Box::new);
        Ok(outcome)
    }

    /// Redoes transaction `tx` from the record of its last execution; `None` when it must
    /// run in full.
    fn redo(&self, view: &mut dyn ReadView<EvmKey, EvmValue>, previous: OpTxOutput) -> Option<Run> {
        let mut record = previous.ssa?;
        match record.redo(view) {
            Err(read) => Some(Err(VmError::Read(read))),
            Ok(Err(_)) => {
                self.redo_failures.fetch_add(1, Relaxed);
                None
            }
            Ok(Ok(())) => {
                self.redos.fetch_add(1, Relaxed);
                let (writes, deltas) = (record.writes.clone(), record.deltas.clone());
                let mut result = previous.result;
                record.patch_result(&mut result);
                Some(Ok(TxOutcome {
                    output: OpTxOutput {
                        result,
                        ssa: Some(record),
                        ..previous
                    },
                    writes,
                    deltas,
                }))
            }
        }
    }

    /// Runs `recovered` (transaction `tx`) over `view` with `inspector`.
    fn run<I>(
        &self,
        tx: TxIndex,
        recovered: &RecoveredTx,
        view: &mut dyn ReadView<EvmKey, EvmValue>,
        inspector: I,
    ) -> Run
    where
        I: OpInspector,
    {
        let mut db = ViewDb::new(view, self.block_hash, None);
        let nonce_before = db.account(recovered.sender)?.info.map_or(0, |a| a.nonce);
        let ctx = evm_context(
            self.block.clone(),
            to_op_tx(recovered),
            self.cfg.clone(),
            db,
            self.l1_info.clone(),
        );
        // As `build_op`, but frames are made as calls need them: `build_op` makes eight at
        // once (each with a 32 KiB stack), and a plain transfer uses one.
        let spec = self.cfg.spec;
        let mut evm = OpEvm(Evm {
            ctx,
            inspector,
            instruction: EthInstructions::new_mainnet_with_spec(spec.into()),
            precompiles: OpPrecompiles::new_with_spec(spec),
            frame_stack: FrameStack::new(),
        });
        let mut handler = OpDeferredFees::default();
        let result = if I::INSPECTS {
            handler.inspect_run(&mut evm)
        } else {
            handler.run(&mut evm)
        };
        match result {
            Ok(result) => {
                let state = evm.0.ctx.journaled_state.finalize();
                let db = &mut evm.0.ctx.journaled_state.database;
                let writes = tx_writes(tx, state, db, handler.fees.take())?;
                let bloom = logs_bloom(result.logs());
                Ok(TxOutcome {
                    output: OpTxOutput {
                        result,
                        nonce_before,
                        bloom,
                        ssa: None,
                    },
                    writes: writes.writes,
                    deltas: writes.deltas,
                })
            }
            Err(EVMError::Transaction(err)) => Err(VmError::Tx(OpTxFailure::Invalid(err))),
            Err(EVMError::Database(ViewDbError::Read(err))) => Err(VmError::Read(err)),
            Err(other) => Err(VmError::Tx(OpTxFailure::Fatal(other.to_string()))),
        }
    }
}

impl Vm for OpVm<'_> {
    type Key = EvmKey;
    type Value = EvmValue;
    type Delta = U256;
    type Output = OpTxOutput;
    type Error = OpTxFailure;

    fn execute(&self, tx: TxIndex, view: &mut dyn ReadView<EvmKey, EvmValue>) -> Run {
        self.execute_in_full(tx, view, self.records(tx, true))
    }

    fn execute_again(
        &self,
        tx: TxIndex,
        view: &mut dyn ReadView<EvmKey, EvmValue>,
        previous: OpTxOutput,
    ) -> Run {
        self.again.fetch_add(1, Relaxed);
        match self.redo(view, previous) {
            Some(run) => run,
            None => self.execute_in_full(tx, view, self.records(tx, false)),
        }
    }

    fn apply_delta(&self, _key: &EvmKey, value: Option<EvmValue>, delta: &U256) -> EvmValue {
        apply_balance_delta(value, delta)
    }

    fn is_accumulator(&self, key: &EvmKey) -> bool {
        let recipients = [
            self.block.beneficiary,
            BASE_FEE_RECIPIENT,
            L1_FEE_RECIPIENT,
            OPERATOR_FEE_RECIPIENT,
        ];
        is_fee_recipient(key, &recipients)
    }

    fn is_clearly_serial(&self, txs: usize) -> bool {
        one_sender(self.txs.iter().take(txs).map(|tx| &tx.sender))
    }
}

#[cfg(test)]
#[path = "op_vm_tests.rs"]
mod tests;
