//! [`OpVm`]: op-revm as a [`Vm`] of the Block-STM core.

use super::{
    db::{BlockHashFn, ViewDb, ViewDbError, evm_context},
    fees::OpDeferredFees,
    is_fee_recipient, one_sender,
    values::{EvmKey, EvmValue, apply_balance_delta},
    writes::tx_writes,
};
use crate::{
    RecoveredTx,
    parallel::{ReadView, TxIndex, TxOutcome, Vm, VmError},
    tx::to_op_tx,
};
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
};

/// What a transaction that ran returns.
#[derive(Debug)]
pub(crate) struct OpTxOutput {
    /// revm's result.
    pub(crate) result: ExecutionResult<OpHaltReason>,
    /// The sender's nonce before the transaction.
    pub(crate) nonce_before: u64,
    /// The logs bloom of its receipt, computed here, on the executing thread.
    pub(crate) bloom: Bloom,
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
}

impl Vm for OpVm<'_> {
    type Key = EvmKey;
    type Value = EvmValue;
    type Delta = U256;
    type Output = OpTxOutput;
    type Error = OpTxFailure;

    fn execute(
        &self,
        tx: TxIndex,
        view: &mut dyn ReadView<EvmKey, EvmValue>,
    ) -> Result<TxOutcome<EvmKey, EvmValue, U256, OpTxOutput>, VmError<OpTxFailure>> {
        let Some(recovered) = self.txs.get(tx) else {
            return Err(VmError::Tx(OpTxFailure::Fatal(format!(
                "no transaction {tx}"
            ))));
        };
        if recovered.tx.is_post_exec() {
            return Err(VmError::Tx(OpTxFailure::Unsupported));
        }
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
            inspector: (),
            instruction: EthInstructions::new_mainnet_with_spec(spec.into()),
            precompiles: OpPrecompiles::new_with_spec(spec),
            frame_stack: FrameStack::new(),
        });
        let mut handler = OpDeferredFees::default();
        match handler.run(&mut evm) {
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
