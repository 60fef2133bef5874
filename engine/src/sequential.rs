//! [`SequentialExecutor`]: runs a block's transactions one after another over op-revm.

use crate::{
    BlockEnv, BlockExecution, BlockHashes, ChainSpec, EngineError, EngineResult, ExecutedTx,
    ExecutionMode, Executor, RecoveredTx, RejectedTx,
    chunks::{ChunkRound, MIN_SPLIT_TXS},
    db::{BlockDb, accounts_of},
    evm::l1_block_info,
    messages::{self, TxFacts},
    receipt::{
        ReceiptFields, add_cumulative_gas, build_receipt, build_receipt_without_bloom, set_bloom,
        set_cumulative_gas,
    },
    tx::create_address,
};
use alloy_consensus::Transaction as _;
use alloy_primitives::{Address, Bloom};
use altius_state::StateProvider;
use op_alloy_consensus::OpReceiptEnvelope;
use op_revm::{OpHaltReason, OpTransactionError};
use revm::context_interface::result::ExecutionResult;
use std::sync::Arc;

/// An executed transaction, its result, its sender's nonce before it and its logs bloom.
pub(crate) type ExecutedResult = (RecoveredTx, ExecutionResult<OpHaltReason>, u64, Bloom);

/// Executes a block's transactions in order with OP Stack semantics (op-revm).
///
/// Transactions see each other's writes through a per-block cache over the
/// [`StateProvider`]; the provider itself is never written. Fees are paid to that cache
/// directly rather than through revm's journal, with the same result (the tests compare both
/// ways). There are no block-level system
/// calls: the chain has no L1 attributes deposit, and the EIP-4788 beacon root and EIP-2935
/// block hash contracts are not part of its genesis, so op-reth would skip those calls too.
#[derive(Clone, Debug)]
pub struct SequentialExecutor {
    chain: ChainSpec,
    block_hashes: Option<Arc<dyn BlockHashes>>,
}

impl SequentialExecutor {
    /// An executor for `chain`. `BLOCKHASH` returns zero until
    /// [`SequentialExecutor::with_block_hashes`] gives it a source of hashes.
    pub fn new(chain: ChainSpec) -> Self {
        Self {
            chain,
            block_hashes: None,
        }
    }

    /// Answers `BLOCKHASH` from `hashes`.
    pub fn with_block_hashes(mut self, hashes: Arc<dyn BlockHashes>) -> Self {
        self.block_hashes = Some(hashes);
        self
    }

    /// The chain it executes.
    pub fn chain(&self) -> &ChainSpec {
        &self.chain
    }
}

impl Executor for SequentialExecutor {
    fn execute_block(
        &self,
        state: &dyn StateProvider,
        env: &BlockEnv,
        txs: Vec<RecoveredTx>,
        mode: ExecutionMode,
    ) -> EngineResult<BlockExecution> {
        let hashes = self.block_hashes.as_deref();
        let mut block = BlockRun {
            chain: &self.chain,
            env,
            mode,
            out: BlockExecution {
                txs: Vec::with_capacity(txs.len()),
                ..BlockExecution::default()
            },
        };
        let l1_info = l1_block_info(&self.chain, state, env)?;
        let run = ChunkRound {
            chain: &self.chain,
            state,
            hashes,
            env,
            l1_info: &l1_info,
            threads: 1,
            min_split: MIN_SPLIT_TXS,
            log_txs: false,
        };
        let db = BlockDb::new(state, hashes).reserve(accounts_of(txs.len()));
        let db = run.in_order_on(&mut block, db, 0, txs)?;
        let mut out = block.out;
        out.changes = db.into_changes()?;
        Ok(out)
    }
}

/// The state of one block's execution.
pub(crate) struct BlockRun<'c> {
    pub(crate) chain: &'c ChainSpec,
    pub(crate) env: &'c BlockEnv,
    pub(crate) mode: ExecutionMode,
    pub(crate) out: BlockExecution,
}

impl BlockRun<'_> {
    /// Adds executed transactions, in block order, and their receipts to the block, with
    /// the logs blooms computed when they executed.
    pub(crate) fn record_all(&mut self, executed: Vec<ExecutedResult>) -> EngineResult<()> {
        for (tx, result, nonce_before, bloom) in executed {
            self.push_executed(tx, result, nonce_before, Some(bloom))?;
        }
        Ok(())
    }

    /// Adds `tx` and its receipt, whose logs bloom is `bloom` or computed here.
    pub(crate) fn push_executed(
        &mut self,
        tx: RecoveredTx,
        result: ExecutionResult<OpHaltReason>,
        nonce_before: u64,
        bloom: Option<Bloom>,
    ) -> EngineResult<()> {
        let gas_before = self.out.gas_used;
        let executed = tx_receipt(
            self.chain,
            self.env,
            gas_before,
            &tx,
            result,
            nonce_before,
            bloom,
        )?
        .with_tx(tx);
        self.out.gas_used = gas_before.saturating_add(executed.gas_used);
        self.out.txs.push(executed);
        Ok(())
    }

    /// Adds a transaction executed right after this block's transactions, whose receipt
    /// counts their gas.
    pub(crate) fn push_in_order(&mut self, tx: ExecutedTx) {
        self.out.gas_used = self.out.gas_used.saturating_add(tx.gas_used);
        self.out.txs.push(tx);
    }

    /// Leaves an invalid transaction out of the block being built, or fails the block being
    /// validated.
    pub(crate) fn reject(
        &mut self,
        index: usize,
        tx: &RecoveredTx,
        reason: String,
    ) -> EngineResult<()> {
        match self.mode {
            ExecutionMode::Build => {
                tracing::debug!(hash = %tx.hash, %reason, "transaction left out of block");
                self.out.rejected.push(RejectedTx {
                    hash: tx.hash,
                    reason,
                });
                Ok(())
            }
            ExecutionMode::Validate => Err(EngineError::InvalidBlockTransaction {
                index,
                hash: tx.hash,
                reason,
            }),
        }
    }

    /// Leaves out (or fails the block for) `tx`, invalid on the state it ran on (`err`), or
    /// of a type no block can hold (`None`).
    pub(crate) fn reject_failed(
        &mut self,
        index: usize,
        tx: &RecoveredTx,
        err: Option<&OpTransactionError>,
    ) -> EngineResult<()> {
        let reason = match err {
            Some(err) => messages::invalid_tx_message(err, &self.facts(tx)),
            None => messages::TX_TYPE_NOT_SUPPORTED.to_string(),
        };
        self.reject(index, tx, reason)
    }

    /// The numbers of `tx` that geth's messages quote.
    pub(crate) fn facts(&self, tx: &RecoveredTx) -> TxFacts {
        let max_fee = tx.tx.max_fee_per_gas();
        TxFacts {
            sender: tx.sender,
            max_fee_per_gas: max_fee,
            max_priority_fee_per_gas: tx.tx.max_priority_fee_per_gas().unwrap_or(max_fee),
            base_fee: self.env.base_fee,
        }
    }
}

/// What an executed transaction adds to the block besides itself: its receipt and figures.
pub(crate) struct TxReceipt {
    receipt: OpReceiptEnvelope,
    pub(crate) gas_used: u64,
    contract_address: Option<Address>,
    effective_gas_price: u128,
}

impl TxReceipt {
    /// Counts `gas` used in the block before the receipt's own count began.
    pub(crate) fn add_gas_before(&mut self, gas: u64) {
        add_cumulative_gas(&mut self.receipt, gas);
    }

    /// Counts `gas` used before it (in the block, or in the part of the block its count
    /// starts at), in place of what was counted before.
    pub(crate) fn set_gas_before(&mut self, gas: u64) {
        set_cumulative_gas(&mut self.receipt, gas.saturating_add(self.gas_used));
    }

    /// `tx` with its receipt, to add to the block.
    pub(crate) fn with_tx(self, tx: RecoveredTx) -> ExecutedTx {
        ExecutedTx {
            tx,
            receipt: self.receipt,
            gas_used: self.gas_used,
            contract_address: self.contract_address,
            effective_gas_price: self.effective_gas_price,
        }
    }
}

/// The receipt of `tx`, executed with `result` after `gas_before` was used in the block (its
/// sender's nonce was `nonce_before`); the logs bloom is `bloom` or computed here.
pub(crate) fn tx_receipt(
    chain: &ChainSpec,
    env: &BlockEnv,
    gas_before: u64,
    tx: &RecoveredTx,
    result: ExecutionResult<OpHaltReason>,
    nonce_before: u64,
    bloom: Option<Bloom>,
) -> EngineResult<TxReceipt> {
    let gas_used = result.tx_gas_used();
    let fields = ReceiptFields {
        success: result.is_success(),
        cumulative_gas_used: gas_before.saturating_add(gas_used),
        logs: result.into_logs(),
        nonce_before,
    };
    let spec = chain.spec_id();
    let receipt = match bloom {
        Some(bloom) => build_receipt_without_bloom(&tx.tx, fields, spec).map(|mut receipt| {
            set_bloom(&mut receipt, bloom);
            receipt
        }),
        None => build_receipt(&tx.tx, fields, spec),
    }
    .ok_or_else(|| EngineError::Evm("transaction type without receipt".into()))?;
    Ok(TxReceipt {
        receipt,
        gas_used,
        contract_address: create_address(tx, nonce_before),
        effective_gas_price: tx.tx.effective_gas_price(Some(env.base_fee)),
    })
}

#[cfg(test)]
#[path = "sequential_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "sequential_special_tests.rs"]
mod special_tests;
