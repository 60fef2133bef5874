//! The [`Executor`] trait and the types it takes and returns.

use crate::EngineResult;
use alloy_primitives::{Address, B256, TxHash};
use altius_state::{StateChanges, StateProvider};
use op_alloy_consensus::{OpReceiptEnvelope, OpTxEnvelope};

/// A signed transaction together with its recovered sender.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecoveredTx {
    /// The signed transaction.
    pub tx: OpTxEnvelope,
    /// Its sender, recovered from the signature.
    pub sender: Address,
    /// Its hash.
    pub hash: TxHash,
}

/// The block-level values transactions see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockEnv {
    /// Block number.
    pub number: u64,
    /// Block timestamp in seconds.
    pub timestamp: u64,
    /// Block gas limit.
    pub gas_limit: u64,
    /// EIP-1559 base fee per gas.
    pub base_fee: u64,
    /// Fee recipient (the sequencer fee vault on OP chains).
    pub beneficiary: Address,
    /// `prevrandao` (the header's mix hash).
    pub prevrandao: B256,
}

/// How an executor treats a transaction that is invalid in block order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecutionMode {
    /// Building a block: invalid transactions (nonce, funds, gas left in the block) are left
    /// out of the block deterministically and reported in [`BlockExecution::rejected`].
    Build,
    /// Validating a given block: any invalid transaction fails the whole block.
    Validate,
}

/// A transaction included in the block, with its receipt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecutedTx {
    /// The transaction.
    pub tx: RecoveredTx,
    /// Its receipt; `cumulative_gas_used` counts from the start of the block.
    pub receipt: OpReceiptEnvelope,
    /// Gas used by this transaction alone.
    pub gas_used: u64,
    /// Address of the contract it created, if any. Like geth's receipts, a contract-creating
    /// transaction has it even when the creation failed; calls have `None`.
    pub contract_address: Option<Address>,
    /// Price per gas it paid (base fee plus the tip it could pay).
    pub effective_gas_price: u128,
}

/// A transaction left out of a block being built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RejectedTx {
    /// Hash of the transaction.
    pub hash: TxHash,
    /// Why it was left out, in geth's words where geth has them (`nonce too low`, ...).
    pub reason: String,
}

/// The outcome of executing a block.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockExecution {
    /// The included transactions, in block order.
    pub txs: Vec<ExecutedTx>,
    /// Transactions left out ([`ExecutionMode::Build`] only).
    pub rejected: Vec<RejectedTx>,
    /// Everything the block changed in the state.
    pub changes: StateChanges,
    /// Total gas used.
    pub gas_used: u64,
}

/// Executes the transactions of one block.
pub trait Executor: Send + Sync + std::fmt::Debug {
    /// Runs `txs` in order on top of `state` with the block values `env`.
    fn execute_block(
        &self,
        state: &dyn StateProvider,
        env: &BlockEnv,
        txs: Vec<RecoveredTx>,
        mode: ExecutionMode,
    ) -> EngineResult<BlockExecution>;
}

/// The hashes of earlier blocks, which the `BLOCKHASH` opcode reads.
///
/// Every node of a chain must answer the same, or blocks whose transactions use `BLOCKHASH`
/// execute differently: use the canonical chain's headers.
pub trait BlockHashes: Send + Sync + std::fmt::Debug {
    /// The hash of block `number`, or `None` when it is not known (`BLOCKHASH` then gives
    /// zero). Only called for the 256 blocks before the executing one.
    fn block_hash(&self, number: u64) -> EngineResult<Option<B256>>;
}
