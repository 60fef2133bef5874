//! [`OpVm`]: op-revm as a [`Vm`] of the Block-STM core.

use super::{
    db::{BlockHashFn, ViewDb, ViewDbError},
    fees::OpDeferredFees,
    values::{EvmKey, EvmValue, apply_balance_delta},
    is_fee_recipient, one_sender,
    writes::tx_writes,
};
use crate::{
    RecoveredTx,
    parallel::{ReadView, TxIndex, TxOutcome, Vm, VmError},
    tx::to_op_tx,
};
use alloy_primitives::U256;
use op_revm::{
    constants::{BASE_FEE_RECIPIENT, L1_FEE_RECIPIENT, OPERATOR_FEE_RECIPIENT},
    DefaultOp, L1BlockInfo, OpBuilder, OpHaltReason, OpSpecId, OpTransactionError,
};
use revm::{
    Context,
    context::{BlockEnv as RevmBlockEnv, CfgEnv, ContextSetters},
    context_interface::{
        JournalTr,
        result::{EVMError, ExecutionResult},
    },
    handler::Handler,
};

/// What a transaction that ran returns.
#[derive(Debug)]
pub(crate) struct OpTxOutput {
    /// revm's result.
    pub(crate) result: ExecutionResult<OpHaltReason>,
    /// The sender's nonce before the transaction.
    pub(crate) nonce_before: u64,
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
        let mut evm = Context::op()
            .with_cfg(self.cfg.clone())
            .with_block(self.block.clone())
            .with_db(db)
            .with_chain(self.l1_info.clone())
            .build_op();
        evm.0.ctx.set_tx(to_op_tx(recovered));
        let mut handler = OpDeferredFees::default();
        match handler.run(&mut evm) {
            Ok(result) => {
                let state = evm.0.ctx.journaled_state.finalize();
                let db = &mut evm.0.ctx.journaled_state.database;
                let writes = tx_writes(tx, state, db, handler.fees.take())?;
                Ok(TxOutcome {
                    output: OpTxOutput {
                        result,
                        nonce_before,
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
