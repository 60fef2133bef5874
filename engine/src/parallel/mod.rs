//! The VM-agnostic parallel execution core: Block-STM (Gelashvili et al., PPoPP'23).
//!
//! A [`Vm`] executes transaction `i` of a block against a [`ReadView`] and returns its writes
//! (full values) and its deltas (commutative changes, such as fee payments to one recipient).
//! [`execute_block`] runs the block on several threads: transactions execute speculatively
//! over a multi-version memory, every read is recorded with the version it came from, a
//! validation re-checks those versions, and a conflicting transaction re-executes. The
//! result is the one of executing the transactions in block order, for any thread count:
//!
//! - transaction `i` reads, for each key, the value left by transactions `0..i` (or the
//!   value in [`Storage`]), with their deltas applied in block order;
//! - a transaction that fails ([`VmError::Tx`]) writes nothing;
//! - a transaction's writes are applied, then its deltas (see [`TxOutcome`]).
//!
//! Deltas do not read: transactions that only add to a key never conflict with each other.
//! A transaction that reads such a key sees all deltas below it resolved exactly.
//!
//! # Writing a VM
//!
//! Keys are the units of conflict; for the EVM: an account's basic fields, a code hash's
//! code, a storage slot. Full writes carry the new value; a fee payment to a vault is a delta
//! on the vault's account key (its balance grows), so the vault's balance as read by any
//! transaction includes every fee paid before it. Execution must depend on nothing but the
//! view and the transaction: block-level counters (cumulative gas, say) are keys too, or are
//! derived from the outputs after the block.

mod block_stm;
mod cache;
mod mv_memory;
mod output;
mod scheduler;
mod sequential;
mod small_map;
#[cfg(test)]
mod tests;
mod view;
mod vm;
mod write_set;

pub use cache::CachedStorage;
pub use output::{BlockOutput, ExecutionStats, ParallelError, Strategy, TxResult, VmBlockOutput};
pub(crate) use small_map::SmallMap;
pub use vm::{ReadError, ReadView, Storage, StorageError, TxIndex, TxOutcome, Vm, VmError};

/// When a block executing in parallel switches to block order: after `min_executions`
/// executions, as soon as conflicts (validation aborts plus executions stopped by a
/// dependency) exceed `max_conflicts_per_mille` per thousand executions. The switch keeps the
/// speculative results that are still valid and executes the rest in order.
///
/// The switch only changes how the result is computed, never the result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FallbackPolicy {
    /// Executions to observe before judging.
    pub min_executions: u64,
    /// Conflicts per thousand executions above which the block switches to block order.
    pub max_conflicts_per_mille: u64,
}

impl FallbackPolicy {
    /// Whether `conflicts` out of `executions` call for the switch.
    pub const fn triggers(&self, executions: u64, conflicts: u64) -> bool {
        executions >= self.min_executions
            && conflicts.saturating_mul(1000)
                > executions.saturating_mul(self.max_conflicts_per_mille)
    }
}

impl Default for FallbackPolicy {
    /// After 64 executions, more than 300 conflicts per thousand: a chain of dependent
    /// transactions on two threads shows about 350, independent transactions none. To be
    /// tuned on EVM blocks.
    fn default() -> Self {
        Self {
            min_executions: 64,
            max_conflicts_per_mille: 300,
        }
    }
}

/// How [`execute_block`] runs a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExecutionConfig {
    /// Worker threads; `0` and `1` execute in order on the calling thread.
    pub threads: usize,
    /// Blocks with fewer transactions execute in order.
    pub min_parallel_txs: usize,
    /// When to switch a conflicting block to block order; `None`: never.
    pub fallback: Option<FallbackPolicy>,
    /// Whether to report each transaction's writes ([`TxResult::writes`]); it costs a replay
    /// of the block's write sets in order after the parallel phase.
    pub tx_writes: bool,
}

impl ExecutionConfig {
    /// `threads` workers, no minimum block size, the default fallback policy.
    pub fn with_threads(threads: usize) -> Self {
        Self {
            threads,
            min_parallel_txs: 2,
            fallback: Some(FallbackPolicy::default()),
            tx_writes: false,
        }
    }
}

impl Default for ExecutionConfig {
    /// One worker per available core.
    fn default() -> Self {
        Self::with_threads(std::thread::available_parallelism().map_or(1, usize::from))
    }
}

/// Executes transactions `0..txs` of `vm` over `storage`.
///
/// With one thread, a block below [`ExecutionConfig::min_parallel_txs`] or a block the VM
/// calls [clearly serial](Vm::is_clearly_serial), it is a plain loop in block order;
/// otherwise Block-STM on at most one thread per transaction.
///
/// # Errors
///
/// [`ParallelError`] when storage fails or the VM panics (or returns a read error its view
/// did not raise) executing in block order. Failing transactions are not errors: their
/// failures are in [`TxResult::result`].
pub fn execute_block<M, S>(
    vm: &M,
    storage: &S,
    txs: usize,
    config: &ExecutionConfig,
) -> Result<VmBlockOutput<M>, ParallelError>
where
    M: Vm,
    S: Storage<M::Key, M::Value>,
{
    let threads = config.threads.min(txs);
    let output = if threads <= 1 || txs < config.min_parallel_txs || vm.is_clearly_serial(txs) {
        sequential::execute(vm, storage, txs, Strategy::Sequential, config.tx_writes)?
    } else {
        block_stm::execute(vm, storage, txs, threads, config)?
    };
    let stats = &output.stats;
    tracing::debug!(
        target: "altius::engine",
        txs,
        strategy = ?stats.strategy,
        threads = stats.threads,
        executions = stats.executions,
        validations = stats.validations,
        aborts = stats.aborts,
        dependency_waits = stats.dependency_waits,
        in_order_executions = stats.in_order_executions,
        "block executed"
    );
    Ok(output)
}
