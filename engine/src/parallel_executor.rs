//! [`ParallelExecutor`]: a block's transactions over op-revm on the Block-STM core, with the
//! result of [`SequentialExecutor`](crate::SequentialExecutor), byte for byte.

use crate::{
    BlockEnv, BlockExecution, BlockHashes, ChainSpec, EngineError, EngineResult, ExecutionMode,
    Executor, RecoveredTx,
    chunks::{ChunkRound, FittingRun, MIN_SPLIT_TXS, Probe, TxQueue},
    db::{BlockDb, accounts_of},
    evm::{l1_block_info, revm_block, revm_cfg},
    overlay::{Overlay, merge_changes},
    parallel::{self, CachedStorage, ExecutionConfig, ExecutionStats, ParallelError, Strategy},
    parallel_evm::{EvmKey, OpTxFailure, OpVm, ProviderStorage, SsaRecording, final_changes},
    sequential::BlockRun,
};
use alloy_primitives::B256;
use altius_state::{StateChanges, StateProvider};
use op_revm::L1BlockInfo;
use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering::Relaxed},
};

/// Executes a block's transactions in parallel (Block-STM) with OP Stack semantics.
///
/// The result (receipts, rejected transactions, state changes) is the one
/// [`SequentialExecutor`](crate::SequentialExecutor) gives, for any thread count.
///
/// A transaction is left out of a block being built when its gas limit exceeds the gas left
/// in the block, which depends on the gas every earlier transaction used. So the block runs
/// in rounds: each round executes in parallel the longest run of the next transactions
/// whose gas limits all fit in the gas left (none of them can be left out for gas), on top
/// of the rounds before; once fewer than two transactions fit, the rest runs in order.
///
/// The first `PROBE_TXS` (64) transactions (the probe; fewer when their gas limits add up to
/// more than `PROBE_GAS`, 2.5 Mgas, but at least 16) run in order, counting those that read
/// an account or slot an earlier one changed. None: the next rounds run as optimistic
/// chunks (`ChunkRound`), which cost least when transactions do not conflict. Half or
/// more: the rest of the block runs in order on the probe's state, as fast as sequentially.
/// Fewer than one in `threads`: optimistic chunks that log each transaction's reads, so
/// that a chunk that does not hold is repaired (only its transactions that read a changed
/// value run again, in order) rather than run again whole. Otherwise Block-STM runs the
/// next rounds. A chunk that had to run again sends the rest to logged chunks; a Block-STM
/// round that conflicted heavily sends it in order. With one thread, the whole block runs
/// in order.
///
/// The rule between logged chunks and Block-STM is a cost model: with a fraction `c` of
/// dependent transactions, logged chunks take about `1/threads + c` of the sequential time
/// (the repairs run in order), and Block-STM, whose bookkeeping about doubles the cost of a
/// transaction, about `2/threads`. It was measured on two threads only, where logged chunks
/// always win (see the README).
#[derive(Clone, Debug)]
pub struct ParallelExecutor {
    chain: ChainSpec,
    block_hashes: Option<Arc<dyn BlockHashes>>,
    config: ExecutionConfig,
    probe_txs: usize,
    /// Transactions left in an optimistic chunk below which an idle thread does not split it.
    min_split: usize,
    /// What runs after the probe; tests force each path.
    after_probe: AfterProbe,
    /// Which Block-STM executions record SSA logs, to redo stale transactions from them.
    ssa: SsaRecording,
}

/// What runs the rounds after the probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(not(test), allow(dead_code))]
enum AfterProbe {
    /// Chosen by the probe's dependent transactions.
    Auto,
    /// Tests: the rest of the block in order.
    InOrder,
    /// Tests: optimistic chunks, whatever the conflicts.
    Chunks,
    /// Tests: optimistic chunks that log their transactions, whatever the conflicts.
    LoggedChunks,
    /// Block-STM (benchmarks and tests).
    BlockStm,
}

/// How the next round runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RoundKind {
    BlockStm,
    Chunks,
    /// Chunks that log their transactions, to repair those that do not hold.
    LoggedChunks,
}

impl ParallelExecutor {
    /// An executor for `chain` on `threads` worker threads (`0`: one per core).
    pub fn new(chain: ChainSpec, threads: usize) -> Self {
        let config = match threads {
            0 => ExecutionConfig::default(),
            n => ExecutionConfig::with_threads(n),
        };
        Self {
            chain,
            block_hashes: None,
            config,
            probe_txs: PROBE_TXS,
            min_split: MIN_SPLIT_TXS,
            after_probe: AfterProbe::Auto,
            ssa: SsaRecording::Adaptive,
        }
    }

    /// Answers `BLOCKHASH` from `hashes`.
    pub fn with_block_hashes(mut self, hashes: Arc<dyn BlockHashes>) -> Self {
        self.block_hashes = Some(hashes);
        self
    }

    /// Whether a Block-STM transaction whose storage reads went stale is redone from its SSA
    /// log (only the operations that depend on the stale reads run again) rather than run
    /// anew; on by default.
    pub fn with_ssa_redo(mut self, on: bool) -> Self {
        self.ssa = if on {
            SsaRecording::Adaptive
        } else {
            SsaRecording::Off
        };
        self
    }

    /// Records the SSA log of every Block-STM execution, not only of those likely to be
    /// redone (tests, to redo as often as possible).
    #[cfg(test)]
    pub(crate) fn with_ssa_always(mut self) -> Self {
        self.ssa = SsaRecording::Always;
        self
    }

    /// Replaces the Block-STM configuration.
    pub fn with_config(mut self, config: ExecutionConfig) -> Self {
        self.config = config;
        self
    }

    /// Sets the size of the probe (tests use small ones to exercise the rounds after it).
    #[cfg(test)]
    pub(crate) fn with_probe_txs(mut self, txs: usize) -> Self {
        self.probe_txs = txs.max(2);
        self
    }

    /// Lets idle threads split optimistic chunks down to `txs` transactions (tests split
    /// small blocks).
    #[cfg(test)]
    pub(crate) fn with_min_split(mut self, txs: usize) -> Self {
        self.min_split = txs;
        self
    }

    /// Runs the rest of every block in order after the probe, whatever its dependent
    /// transactions.
    #[cfg(test)]
    pub(crate) fn with_rest_in_order(mut self) -> Self {
        self.after_probe = AfterProbe::InOrder;
        self
    }

    /// Runs the rounds after the probe as optimistic chunks, whatever the conflicts (tests
    /// of the chunks' check and of their execution again in order).
    #[cfg(test)]
    pub(crate) fn with_chunks(mut self) -> Self {
        self.after_probe = AfterProbe::Chunks;
        self
    }

    /// Runs the rounds after the probe as optimistic chunks that log their transactions,
    /// whatever the conflicts (tests).
    #[cfg(test)]
    pub(crate) fn with_logged_chunks(mut self) -> Self {
        self.after_probe = AfterProbe::LoggedChunks;
        self
    }

    /// Runs every round after the probe on Block-STM, whatever the probe found: for
    /// benchmarks of the Block-STM path (`altius bench redo`) and tests.
    pub fn with_block_stm(mut self) -> Self {
        self.after_probe = AfterProbe::BlockStm;
        self
    }

    /// The worker threads it uses.
    pub fn threads(&self) -> usize {
        self.config.threads
    }

    fn block_hash(&self, number: u64) -> Result<B256, String> {
        let Some(hashes) = &self.block_hashes else {
            return Ok(B256::ZERO);
        };
        hashes
            .block_hash(number)
            .map(Option::unwrap_or_default)
            .map_err(|e| e.to_string())
    }
}

impl Executor for ParallelExecutor {
    fn execute_block(
        &self,
        state: &dyn StateProvider,
        env: &BlockEnv,
        txs: Vec<RecoveredTx>,
        mode: ExecutionMode,
    ) -> EngineResult<BlockExecution> {
        self.execute_with_stats(state, env, txs, mode)
            .map(|(out, _)| out)
    }
}

impl ParallelExecutor {
    /// [`Executor::execute_block`], with the Block-STM counters of the block (summed over
    /// its rounds).
    ///
    /// # Errors
    ///
    /// As [`Executor::execute_block`].
    pub fn execute_with_stats(
        &self,
        state: &dyn StateProvider,
        env: &BlockEnv,
        txs: Vec<RecoveredTx>,
        mode: ExecutionMode,
    ) -> EngineResult<(BlockExecution, ExecutionStats)> {
        let mut stats = ExecutionStats::default();
        let l1_info = l1_block_info(&self.chain, state, env)?;
        let mut run = BlockRun {
            chain: &self.chain,
            env,
            mode,
            out: BlockExecution {
                txs: Vec::with_capacity(txs.len()),
                ..BlockExecution::default()
            },
        };
        let total = txs.len();
        // Taken from the front round by round, moved rather than cloned into the results.
        let mut txs = txs.into_iter();
        // One thread: the sequential executor's machinery is the fastest way in order.
        let (mut changes, mut kind) = if self.config.threads > 1 {
            self.probe(&mut run, state, &l1_info, &mut txs, &mut stats)?
        } else {
            (StateChanges::default(), RoundKind::BlockStm)
        };
        while self.config.threads > 1 && txs.len() > 0 {
            let next = total - txs.len();
            let gas_left = env.gas_limit.saturating_sub(run.out.gas_used);
            let round = FittingRun::of(txs.as_slice(), gas_left);
            if round.len() < 2 {
                // The next transaction alone (nearly) fills the block: the rest runs in order.
                break;
            }
            let (round_changes, round_stats) = {
                let overlay = Overlay::new(state, &changes);
                if kind != RoundKind::BlockStm {
                    self.chunk_round(&overlay, env, &l1_info, kind)
                        .execute(&mut run, &mut txs, &round, next, None)?
                } else {
                    let round_txs: Vec<RecoveredTx> = txs.by_ref().take(round.len()).collect();
                    self.parallel_round(&mut run, &overlay, round_txs, next, &l1_info)?
                }
            };
            add_stats(&mut stats, &round_stats);
            merge_changes(state, &mut changes, round_changes)?;
            match self.next_round(kind, &round_stats) {
                Some(next) => kind = next,
                // A dependent block: the rest runs in order, as fast as sequentially.
                None => break,
            }
        }
        if txs.len() > 0 {
            stats.in_order_executions += txs.len() as u64;
            let first = total - txs.len();
            let rest = {
                let overlay = Overlay::new(state, &changes);
                self.in_order(&mut run, &overlay, txs, first, &l1_info)?
            };
            merge_changes(state, &mut changes, rest)?;
        }
        run.out.changes = changes;
        Ok((run.out, stats))
    }

    /// Executes `txs` (the block's transactions from `first`) on Block-STM over `state`.
    fn parallel_round(
        &self,
        run: &mut BlockRun<'_>,
        state: &dyn StateProvider,
        txs: Vec<RecoveredTx>,
        first: usize,
        l1_info: &L1BlockInfo,
    ) -> EngineResult<(StateChanges, ExecutionStats)> {
        let block_hash = |number| self.block_hash(number);
        let vm = OpVm {
            cfg: revm_cfg(&self.chain),
            block: revm_block(&self.chain, run.env),
            txs: &txs,
            block_hash: &block_hash,
            l1_info: l1_info.clone(),
            ssa: self.ssa,
            redos: AtomicU64::new(0),
            again: AtomicU64::new(0),
            redo_failures: AtomicU64::new(0),
        };
        // Accounts and slots come from the provider's own cache; code is kept once read and
        // analysed, because every call of a contract reads it.
        let storage = CachedStorage::only(ProviderStorage::new(state), |key| {
            matches!(key, EvmKey::Code(_))
        });
        let output = parallel::execute_block(&vm, &storage, txs.len(), &self.config)
            .map_err(parallel_error)?;
        let redos = vm.redos.load(Relaxed);
        drop(vm);
        let final_state = output.final_state;
        let stats = ExecutionStats {
            redos,
            ..output.stats
        };
        let mut executed = Vec::with_capacity(txs.len());
        for (offset, (tx, result)) in txs.into_iter().zip(output.txs).enumerate() {
            let index = first + offset;
            match result.result {
                Ok(out) => executed.push((tx, out.result, out.nonce_before, out.bloom)),
                Err(OpTxFailure::Invalid(err)) => run.reject_failed(index, &tx, Some(&err))?,
                Err(OpTxFailure::Unsupported) => run.reject_failed(index, &tx, None)?,
                Err(OpTxFailure::Fatal(reason)) => return Err(EngineError::Evm(reason)),
            }
        }
        run.record_all(executed)?;
        let changes =
            final_changes(final_state, &storage).map_err(|e| EngineError::Evm(e.to_string()))?;
        Ok((changes, stats))
    }

    /// Executes `txs` (the block's transactions from `first`) in block order over `state`.
    fn in_order(
        &self,
        run: &mut BlockRun<'_>,
        state: &dyn StateProvider,
        txs: TxQueue,
        first: usize,
        l1_info: &L1BlockInfo,
    ) -> EngineResult<StateChanges> {
        let db = BlockDb::new(state, self.block_hashes.as_deref()).reserve(accounts_of(txs.len()));
        let env = run.env;
        let db = self
            .chunk_round(state, env, l1_info, RoundKind::Chunks)
            .in_order_on(run, db, first, txs)?;
        Ok(db.into_changes()?)
    }

    /// Executes the probe, then the first round as the probe decides (see
    /// [`ParallelExecutor`]); returns the changes so far and how the next rounds run.
    fn probe(
        &self,
        run: &mut BlockRun<'_>,
        state: &dyn StateProvider,
        l1_info: &L1BlockInfo,
        txs: &mut TxQueue,
        stats: &mut ExecutionStats,
    ) -> EngineResult<(StateChanges, RoundKind)> {
        let env = run.env;
        let chunks = self.chunk_round(state, env, l1_info, RoundKind::Chunks);
        let probe = &txs.as_slice()[..self.probe_txs.min(txs.len())];
        let probe = FittingRun::of(probe, env.gas_limit);
        let count = (probe.count_within(PROBE_GAS).max(MIN_PROBE_TXS)).min(probe.len());
        if count < 2 {
            return Ok((StateChanges::default(), RoundKind::BlockStm));
        }
        let Probe { db, dependent } = chunks.probe(run, txs, count)?;
        stats.in_order_executions += count as u64;
        stats.dependent_txs += dependent;
        match self.after_probe(count, dependent) {
            None => {
                let rest = txs.len() as u64;
                let db = db.reserve(accounts_of(txs.len()));
                let db = chunks.in_order_on(run, db, count, txs.by_ref())?;
                stats.in_order_executions += rest;
                Ok((db.into_changes()?, RoundKind::BlockStm))
            }
            Some(kind @ (RoundKind::Chunks | RoundKind::LoggedChunks)) => {
                let gas_left = env.gas_limit.saturating_sub(run.out.gas_used);
                let round = FittingRun::of(txs.as_slice(), gas_left);
                if round.len() < 2 {
                    return Ok((db.into_changes()?, kind));
                }
                let chunks = self.chunk_round(state, env, l1_info, kind);
                let (changes, round_stats) = chunks.execute(run, txs, &round, count, Some(db))?;
                add_stats(stats, &round_stats);
                let next = self.next_round(kind, &round_stats);
                Ok((changes, next.unwrap_or(RoundKind::BlockStm)))
            }
            Some(kind) => Ok((db.into_changes()?, kind)),
        }
    }

    /// Optimistic chunks over `state` on this executor's threads (logging their
    /// transactions for a `kind` of [`RoundKind::LoggedChunks`]).
    fn chunk_round<'a>(
        &'a self,
        state: &'a dyn StateProvider,
        env: &'a BlockEnv,
        l1_info: &'a L1BlockInfo,
        kind: RoundKind,
    ) -> ChunkRound<'a> {
        ChunkRound {
            chain: &self.chain,
            state,
            hashes: self.block_hashes.as_deref(),
            env,
            l1_info,
            threads: self.config.threads,
            min_split: self.min_split,
            log_txs: kind == RoundKind::LoggedChunks,
        }
    }

    /// How the rounds after a probe of `count` transactions, `dependent` of which read what
    /// an earlier one changed, run; `None`: the rest of the block runs in order.
    fn after_probe(&self, count: usize, dependent: u64) -> Option<RoundKind> {
        match self.after_probe {
            AfterProbe::InOrder => None,
            AfterProbe::Chunks => Some(RoundKind::Chunks),
            AfterProbe::LoggedChunks => Some(RoundKind::LoggedChunks),
            AfterProbe::BlockStm => Some(RoundKind::BlockStm),
            // Independent: chunks, whose cost is in dependencies between them.
            AfterProbe::Auto if dependent == 0 => Some(RoundKind::Chunks),
            // A chain (a counter, a hot account) that parallel execution only slows down.
            AfterProbe::Auto if 2 * dependent >= count as u64 => None,
            // Few dependencies: chunks, repaired (see the cost model above).
            AfterProbe::Auto if dependent * (self.config.threads as u64) < count as u64 => {
                Some(RoundKind::LoggedChunks)
            }
            AfterProbe::Auto => Some(RoundKind::BlockStm),
        }
    }

    /// How the round after a `kind` round with `stats` runs; `None`: the rest of the block
    /// runs in order.
    fn next_round(&self, kind: RoundKind, stats: &ExecutionStats) -> Option<RoundKind> {
        match (kind, self.after_probe) {
            (_, AfterProbe::Chunks) => Some(RoundKind::Chunks),
            (_, AfterProbe::LoggedChunks) => Some(RoundKind::LoggedChunks),
            // A chunk ran again: the next chunks log their transactions, to be repaired.
            (RoundKind::Chunks, _) if stats.aborts > 0 => Some(RoundKind::LoggedChunks),
            (RoundKind::BlockStm, AfterProbe::Auto) if self.conflicting(stats) => None,
            (kind, _) => Some(kind),
        }
    }

    /// Whether a round conflicted enough that the rest of the block is better run in order.
    fn conflicting(&self, stats: &ExecutionStats) -> bool {
        let conflicts = stats.aborts + stats.dependency_waits;
        // `Sequential`: the block looked serial (one sender) and the round ran in order.
        stats.strategy == Strategy::ParallelThenInOrder
            || stats.strategy == Strategy::Sequential
            || self
                .config
                .fallback
                .is_some_and(|policy| policy.triggers(stats.executions, conflicts))
    }
}

/// Transactions of a block executed in order first (the probe), to choose how the rest runs,
/// at most.
const PROBE_TXS: usize = 64;

/// Gas limits the probe's transactions add up to, at most, beyond its first
/// [`MIN_PROBE_TXS`]: it runs on one thread, and 64 swaps take 2 ms there.
const PROBE_GAS: u64 = 2_500_000;

/// Transactions of the probe, at least (when the block has that many).
const MIN_PROBE_TXS: usize = 16;

/// Adds the counters of a round to those of the block; the strategy and thread count are the
/// last round's.
fn add_stats(total: &mut ExecutionStats, round: &ExecutionStats) {
    total.strategy = round.strategy;
    total.threads = total.threads.max(round.threads);
    total.executions += round.executions;
    total.validations += round.validations;
    total.aborts += round.aborts;
    total.dependency_waits += round.dependency_waits;
    total.in_order_executions += round.in_order_executions;
    total.dependent_txs += round.dependent_txs;
    total.splits += round.splits;
    total.redos += round.redos;
    total.kept += round.kept;
}

fn parallel_error(err: ParallelError) -> EngineError {
    EngineError::Evm(format!("parallel execution: {err}"))
}

#[cfg(test)]
#[path = "parallel_executor_tests.rs"]
mod tests;
