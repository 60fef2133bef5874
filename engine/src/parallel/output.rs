//! What executing a block returns: per-transaction results and writes, statistics, errors.

use super::vm::{StorageError, TxIndex, Vm};

/// The result of one transaction of the block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxResult<K, V, O, E> {
    /// Its output, or the error it failed with (then it wrote nothing).
    pub result: Result<O, E>,
    /// The keys it wrote with the full value each holds right after it, deltas resolved, in
    /// the order the VM produced them (written keys first, then keys changed only by deltas).
    /// Empty unless [`ExecutionConfig::tx_writes`](super::ExecutionConfig::tx_writes) asks
    /// for it: the block's result is [`BlockOutput::final_state`].
    pub writes: Vec<(K, V)>,
}

/// The result of executing a block: the same as executing it in order, whatever the strategy
/// and the number of threads (the statistics aside).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockOutput<K, V, O, E> {
    /// One result per transaction, in block order.
    pub txs: Vec<TxResult<K, V, O, E>>,
    /// The final value of every key the block wrote, in no particular order.
    pub final_state: Vec<(K, V)>,
    /// How the block was executed.
    pub stats: ExecutionStats,
}

/// The [`BlockOutput`] of a [`Vm`].
pub type VmBlockOutput<M> =
    BlockOutput<<M as Vm>::Key, <M as Vm>::Value, <M as Vm>::Output, <M as Vm>::Error>;

/// How a block was executed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Strategy {
    /// In block order on the calling thread.
    #[default]
    Sequential,
    /// Block-STM to the end.
    Parallel,
    /// Block-STM until conflicts crossed the fallback threshold, then in block order
    /// (keeping the speculative results that were still valid).
    ParallelThenInOrder,
    /// Block-STM, then from scratch in block order after a VM panic or misbehaviour.
    ParallelThenSequential,
    /// Contiguous chunks, one per thread, each executed in order over the state before them
    /// and checked in block order; a chunk that read a value an earlier one changed runs
    /// again in order, whole or (when it logged its transactions) only the transactions that
    /// read a changed value (the EVM executor's path for runs with few conflicts).
    OptimisticChunks,
}

/// Counters of one block execution.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExecutionStats {
    /// The strategy that produced the result.
    pub strategy: Strategy,
    /// Threads that executed the block.
    pub threads: usize,
    /// Speculative transaction executions (in parallel), including re-executions and those
    /// cut short by a dependency; executions in block order are counted apart.
    pub executions: u64,
    /// Read-set validations.
    pub validations: u64,
    /// Incarnations aborted because validation failed.
    pub aborts: u64,
    /// Executions stopped because they read an ESTIMATE.
    pub dependency_waits: u64,
    /// Executions in block order: after the parallel phase (fallback), of a probe, of a
    /// chunk run again.
    pub in_order_executions: u64,
    /// Transactions that read a value an earlier transaction of the block changed: the
    /// block's dependencies, which unlike aborts and waits do not depend on timing. Counted
    /// by the EVM executor's in-order probe; Block-STM leaves it at zero.
    pub dependent_txs: u64,
    /// Optimistic chunks that a thread which had run out of work split off another's.
    pub splits: u64,
    /// Re-executions the VM redid from its log of the execution before (the EVM's SSA
    /// redo: only the operations that depend on the stale reads) rather than ran anew;
    /// counted in `executions` too.
    pub redos: u64,
    /// Transactions of optimistic chunks that did not hold whose execution was kept, since
    /// every value they read was still the same; the others ran again in order.
    pub kept: u64,
}

impl ExecutionStats {
    /// Executions beyond one per transaction.
    pub const fn re_executions(&self, txs: usize) -> u64 {
        self.executions.saturating_sub(txs as u64)
    }
}

/// Why a block could not be executed. Transaction failures are not errors of the block; they
/// are in [`TxResult::result`].
#[derive(Debug, thiserror::Error)]
pub enum ParallelError {
    /// Storage failed to return a value.
    #[error("storage read failed at transaction {tx}: {source}")]
    Storage {
        /// The transaction that read it.
        tx: TxIndex,
        /// The storage error.
        source: StorageError,
    },
    /// The VM panicked executing a transaction in block order.
    #[error("the vm panicked executing transaction {tx}")]
    VmPanicked {
        /// The transaction.
        tx: TxIndex,
    },
    /// The VM returned a read error that its view never raised.
    #[error("the vm returned a read error its view did not raise, at transaction {tx}")]
    ForeignReadError {
        /// The transaction.
        tx: TxIndex,
    },
}
