//! Optimistic chunks: the parallel executor's path for a run of transactions that do not
//! conflict.
//!
//! The run is cut into contiguous chunks, one per thread. Each thread executes its chunk in
//! block order with the sequential executor's machinery (one EVM, one [`BlockDb`]) over the
//! state before the run, logging every value it reads from that state, and keeps the fees it
//! pays to recipients it has not read aside as sums. Then, in block order, each chunk is
//! checked against the chunks before it: when every value it read is still the value they
//! left, its execution is the one sequential execution would have done, so its changes and
//! receipts are taken as they are (and its fee sums added); otherwise the chunk runs again,
//! in order, on top of the chunks before it. The result is the sequential one in every case;
//! only the time differs. Block-STM's multi-version memory, with its shared maps, locks and
//! per-transaction read sets, is not needed when there are no conflicts, and it costs more
//! than the execution of a plain transfer.

use crate::{
    BlockEnv, BlockHashes, ChainSpec, EngineError, EngineResult, ExecutedTx, RecoveredTx,
    db::{BlockDb, ChunkedState, Shared},
    evm::{build_evm, revm_block, revm_cfg},
    parallel::{ExecutionStats, Strategy},
    parallel_evm::OpDeferredFees,
    sequential::{BlockRun, executed_tx},
    tx::to_op_tx,
};
use alloy_consensus::Transaction as _;
use alloy_primitives::logs_bloom;
use altius_state::{StateChanges, StateProvider};
use op_revm::{
    DefaultOp, L1BlockInfo, OpBuilder, OpContext, OpSpecId, OpTransactionError,
    api::builder::DefaultOpEvm,
};
use revm::{
    Context,
    context::{BlockEnv as RevmBlockEnv, CfgEnv},
    context_interface::{ContextSetters, ContextTr, JournalTr, result::EVMError},
    handler::Handler,
};
use std::collections::VecDeque;

mod chunk_db;

use chunk_db::ChunkDb;

/// A run of transactions executed as optimistic chunks.
pub(crate) struct ChunkRound<'a> {
    pub(crate) chain: &'a ChainSpec,
    /// The state before the run.
    pub(crate) state: &'a dyn StateProvider,
    pub(crate) hashes: Option<&'a dyn BlockHashes>,
    pub(crate) env: &'a BlockEnv,
    pub(crate) l1_info: &'a L1BlockInfo,
    pub(crate) threads: usize,
}

/// The EVM of one chunk.
type ChunkEvm<'d, 'a> = DefaultOpEvm<OpContext<&'d mut ChunkDb<'a>>>;

/// The handler of a chunk's EVM: op-revm's, with fees kept aside.
type ChunkHandler<'d, 'a> =
    OpDeferredFees<ChunkEvm<'d, 'a>, EVMError<crate::db::DbError, OpTransactionError>>;

/// revm's configuration and block environment of the run.
type Envs = (CfgEnv<OpSpecId>, RevmBlockEnv);

/// What a transaction of a chunk gave, before the chunk is checked.
// Nearly every transaction executes: boxing the large variant would allocate for each.
#[allow(clippy::large_enum_variant)]
enum Outcome {
    /// It ran; its receipt counts gas from the start of the chunk.
    Executed(ExecutedTx),
    /// It is invalid on the state the chunk saw.
    Invalid(RecoveredTx, OpTransactionError),
    /// Its type cannot be in a block.
    Unsupported(RecoveredTx),
}

impl Outcome {
    fn into_tx(self) -> RecoveredTx {
        match self {
            Self::Executed(executed) => executed.tx,
            Self::Invalid(tx, _) | Self::Unsupported(tx) => tx,
        }
    }
}

/// The first transactions of a block, executed in order.
pub(crate) struct Probe<'a> {
    /// The state after them, over the state before the block.
    pub(crate) db: BlockDb<'a>,
    /// How many of them read an account or slot an earlier one had changed.
    pub(crate) dependent: u64,
}

/// A chunk after its execution.
struct Chunk<'a> {
    db: ChunkDb<'a>,
    outcomes: Vec<Outcome>,
    /// Its transactions that read an account or slot an earlier one of the chunk changed.
    dependent: u64,
}

impl ChunkRound<'_> {
    /// Executes the first `count` of `txs` (the block's transactions from `first`, whose gas
    /// limits all fit in the gas left), taken out, into `run`; returns the run's state
    /// changes over the state before it.
    ///
    /// `before`: the state the probe left over the same state, which the chunks are then
    /// checked against too.
    pub(crate) fn execute<'s>(
        &'s self,
        run: &mut BlockRun<'_>,
        txs: &mut VecDeque<RecoveredTx>,
        count: usize,
        first: usize,
        before: Option<BlockDb<'s>>,
    ) -> EngineResult<(StateChanges, ExecutionStats)> {
        let envs = (revm_cfg(self.chain), revm_block(self.chain, run.env));
        let log_first = before.is_some();
        let chunks = split_by_gas(txs, count, self.threads);
        let chunks = self.execute_chunks(&envs, chunks, log_first)?;
        let mut stats = ExecutionStats {
            strategy: Strategy::OptimisticChunks,
            threads: chunks.len(),
            executions: count as u64,
            ..ExecutionStats::default()
        };
        let mut after = After {
            state: before.map(ChunkedState::new),
            taken: Vec::new(),
        };
        let mut index = first;
        for chunk in chunks {
            let len = chunk.outcomes.len();
            if let Some((before, outcomes)) = after.take(chunk, index, run)? {
                stats.aborts += 1;
                stats.in_order_executions += len as u64;
                let mut db = before.unwrap_or_else(|| BlockDb::new(self.state, self.hashes));
                let txs = outcomes.into_iter().map(Outcome::into_tx);
                self.in_order(run, &envs, &mut db, index, txs)?;
                after.state = Some(ChunkedState::new(db));
            }
            index += len;
        }
        // The receipts are recorded while the changes are computed.
        let taken = after.taken;
        let record_taken = || {
            taken
                .into_iter()
                .try_for_each(|(first, outcomes)| record(run, first, outcomes))
        };
        let (changes, recorded) = match after.state {
            Some(state) => rayon::join(|| state.into_changes(), record_taken),
            None => (Ok(StateChanges::default()), record_taken()),
        };
        recorded?;
        Ok((changes?, stats))
    }

    /// Executes every chunk on its own thread (the first on this one).
    fn execute_chunks<'s>(
        &'s self,
        envs: &Envs,
        chunks: Vec<Vec<RecoveredTx>>,
        log_first: bool,
    ) -> EngineResult<Vec<Chunk<'s>>> {
        std::thread::scope(|scope| {
            let mut chunks = chunks.into_iter();
            let head = chunks.next().unwrap_or_default();
            let handles: Vec<_> = chunks
                .map(|txs| scope.spawn(move || self.execute_chunk(envs, txs, true)))
                .collect();
            let mut out = vec![self.execute_chunk(envs, head, log_first)?];
            for handle in handles {
                let chunk = handle
                    .join()
                    .map_err(|_| EngineError::Evm("a chunk's execution panicked".into()))??;
                out.push(chunk);
            }
            Ok(out)
        })
    }

    /// Executes `txs` in order over the state before the run; `log_reads` for every chunk
    /// but the first, which the check does not need.
    fn execute_chunk<'s>(
        &'s self,
        (cfg, block): &Envs,
        txs: Vec<RecoveredTx>,
        log_reads: bool,
    ) -> EngineResult<Chunk<'s>> {
        let mut db = BlockDb::new(self.state, self.hashes);
        if log_reads {
            db = db.recording_reads();
        }
        let mut db = ChunkDb::new(db);
        let mut outcomes = Vec::with_capacity(txs.len());
        let mut dependent = 0;
        {
            let mut evm = Context::op()
                .with_cfg(cfg.clone())
                .with_block(block.clone())
                .with_db(&mut db)
                .build_op();
            evm.0.ctx.chain = self.l1_info.clone();
            let mut handler = OpDeferredFees::default();
            let mut gas = 0u64;
            for tx in txs {
                let changed_reads = evm.0.ctx.db_mut().db.changed_reads();
                let outcome = self.run_one(&mut evm, &mut handler, tx, gas)?;
                if evm.0.ctx.db_mut().db.changed_reads() > changed_reads {
                    dependent += 1;
                }
                if let Outcome::Executed(executed) = &outcome {
                    gas = gas.saturating_add(executed.gas_used);
                }
                outcomes.push(outcome);
            }
        }
        Ok(Chunk {
            db,
            outcomes,
            dependent,
        })
    }

    /// Executes the first `count` of `txs` (the block's first transactions, whose gas limits
    /// fit in the block), taken out, in order into `run`, counting those that read what an
    /// earlier one changed.
    pub(crate) fn probe<'s>(
        &'s self,
        run: &mut BlockRun<'_>,
        txs: &mut VecDeque<RecoveredTx>,
        count: usize,
    ) -> EngineResult<Probe<'s>> {
        let envs = (revm_cfg(self.chain), revm_block(self.chain, run.env));
        let probe_txs = txs.drain(..count.min(txs.len())).collect();
        let mut chunk = self.execute_chunk(&envs, probe_txs, false)?;
        if chunk.db.holds_alone()? {
            let (mut db, pending) = chunk.db.into_parts();
            for (recipient, total) in pending {
                db.credit(recipient, total)?;
            }
            record(run, 0, chunk.outcomes)?;
            return Ok(Probe {
                db,
                dependent: chunk.dependent,
            });
        }
        // A sum of fees overflowed: from scratch in order, and the rest of the block too.
        let mut db = BlockDb::new(self.state, self.hashes);
        let dependent = chunk.outcomes.len() as u64;
        let probe_txs = chunk.outcomes.into_iter().map(Outcome::into_tx);
        self.in_order(run, &envs, &mut db, 0, probe_txs)?;
        Ok(Probe { db, dependent })
    }

    /// Executes `txs` (from block position `first`) in order on `db`, the state after the
    /// transactions before them, as the sequential executor does.
    pub(crate) fn in_order_on(
        &self,
        run: &mut BlockRun<'_>,
        db: &mut BlockDb<'_>,
        first: usize,
        txs: impl Iterator<Item = RecoveredTx>,
    ) -> EngineResult<()> {
        let envs = (revm_cfg(self.chain), revm_block(self.chain, run.env));
        self.in_order(run, &envs, db, first, txs)
    }

    /// Runs `tx` on a chunk's EVM, after transactions that used `gas`.
    fn run_one<'d, 'a>(
        &self,
        evm: &mut ChunkEvm<'d, 'a>,
        handler: &mut ChunkHandler<'d, 'a>,
        tx: RecoveredTx,
        gas: u64,
    ) -> EngineResult<Outcome> {
        if tx.tx.is_post_exec() {
            return Ok(Outcome::Unsupported(tx));
        }
        let nonce_before = evm
            .0
            .ctx
            .db_mut()
            .account(tx.sender)?
            .map_or(0, |a| a.nonce);
        evm.0.ctx.set_tx(to_op_tx(&tx));
        let result = handler.run(evm);
        let state = evm.0.ctx.journal_mut().finalize();
        let fees = handler.fees.take();
        Ok(match result {
            Ok(result) => {
                let db = evm.0.ctx.db_mut();
                db.db.apply(state)?;
                db.pay(fees)?;
                let bloom = logs_bloom(result.logs());
                let executed = executed_tx(
                    self.chain,
                    self.env,
                    gas,
                    tx,
                    result,
                    nonce_before,
                    Some(bloom),
                )?;
                Outcome::Executed(executed)
            }
            Err(EVMError::Transaction(err)) => Outcome::Invalid(tx, err),
            Err(EVMError::Database(err)) => return Err(err.into()),
            Err(other) => return Err(EngineError::Evm(other.to_string())),
        })
    }

    /// Executes `txs` (from block position `first`) in order on `db`, as the sequential
    /// executor does.
    fn in_order(
        &self,
        run: &mut BlockRun<'_>,
        (cfg, block): &Envs,
        db: &mut BlockDb<'_>,
        first: usize,
        txs: impl Iterator<Item = RecoveredTx>,
    ) -> EngineResult<()> {
        let mut evm = build_evm(cfg.clone(), block.clone(), db);
        evm.0.ctx.chain = self.l1_info.clone();
        for (offset, tx) in txs.enumerate() {
            run.execute(&mut evm, first + offset, tx)?;
        }
        Ok(())
    }
}

/// The state after the chunks checked so far, and the chunks taken whose receipts are not
/// recorded yet: (block position, outcomes).
struct After<'s> {
    state: Option<ChunkedState<'s>>,
    taken: Vec<(usize, Vec<Outcome>)>,
}

impl<'s> After<'s> {
    /// Checks `chunk` (from block position `index`) against the state so far and takes it;
    /// when it does not hold, records the receipts taken so far and returns the state so
    /// far as one database (`None`: the chunk is the first) and the chunk's outcomes, whose
    /// transactions must run again on it.
    #[allow(clippy::type_complexity)]
    fn take(
        &mut self,
        mut chunk: Chunk<'s>,
        index: usize,
        run: &mut BlockRun<'_>,
    ) -> EngineResult<Option<(Option<BlockDb<'s>>, Vec<Outcome>)>> {
        let shared = match self.state.as_mut() {
            None => chunk.db.holds_alone()?.then(Vec::new),
            Some(before) => chunk.db.holds_after(before)?,
        };
        let Some(shared) = shared else {
            // Receipts go in block order: those of the chunks before first.
            for (first, outcomes) in self.taken.drain(..) {
                record(run, first, outcomes)?;
            }
            let before = self.state.take().and_then(ChunkedState::into_one);
            return Ok(Some((before, chunk.outcomes)));
        };
        let (db, pending) = chunk.db.into_parts();
        let state = match self.state.as_mut() {
            None => self.state.insert(ChunkedState::new(db)),
            Some(before) => {
                before.add(db, shared);
                before
            }
        };
        for (recipient, total) in pending {
            state.credit(recipient, total)?;
        }
        self.taken.push((index, chunk.outcomes));
        Ok(None)
    }
}

/// Adds the transactions of a checked chunk (from block position `first`) to the block.
fn record(run: &mut BlockRun<'_>, first: usize, outcomes: Vec<Outcome>) -> EngineResult<()> {
    let mut executed = Vec::with_capacity(outcomes.len());
    for (offset, outcome) in outcomes.into_iter().enumerate() {
        match outcome {
            Outcome::Executed(tx) => executed.push(tx),
            Outcome::Invalid(tx, err) => run.reject_failed(first + offset, &tx, Some(&err))?,
            Outcome::Unsupported(tx) => run.reject_failed(first + offset, &tx, None)?,
        }
    }
    run.append_executed(executed);
    Ok(())
}

/// The first `count` of `txs`, taken out and cut into at most `parts` contiguous chunks of
/// about equal gas limits.
fn split_by_gas(
    txs: &mut VecDeque<RecoveredTx>,
    count: usize,
    parts: usize,
) -> Vec<Vec<RecoveredTx>> {
    let count = count.min(txs.len());
    let total: u64 = txs.iter().take(count).map(|tx| tx.tx.gas_limit()).sum();
    let parts = parts.clamp(1, count.max(1)) as u64;
    let mut ends = Vec::with_capacity(parts as usize);
    let mut gas = 0u64;
    for (i, tx) in txs.iter().take(count).enumerate() {
        gas = gas.saturating_add(tx.tx.gas_limit());
        // The end of chunk `k` is where the gas passes k/parts of the total.
        let done = (u128::from(gas) * u128::from(parts) / u128::from(total.max(1))) as usize;
        if done > ends.len() && ends.len() + 1 < parts as usize {
            ends.push(i + 1);
        }
    }
    ends.push(count);
    let mut start = 0;
    let mut chunks = Vec::with_capacity(ends.len());
    for end in ends {
        if end > start {
            chunks.push(txs.drain(..end - start).collect());
        }
        start = end;
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_utils::{block_env, eip1559};
    use crate::workload::Wallet;
    use alloy_primitives::{Address, Bytes, TxKind, U256};

    fn txs(gas: &[u64]) -> Vec<RecoveredTx> {
        let wallet = Wallet::new(1);
        gas.iter()
            .enumerate()
            .map(|(i, g)| {
                eip1559(
                    &wallet,
                    i as u64,
                    TxKind::Call(Address::ZERO),
                    U256::ZERO,
                    Bytes::new(),
                    *g,
                )
            })
            .collect()
    }

    fn sizes(chunks: &[Vec<RecoveredTx>]) -> Vec<usize> {
        chunks.iter().map(Vec::len).collect()
    }

    fn split_all(txs: Vec<RecoveredTx>, parts: usize) -> Vec<Vec<RecoveredTx>> {
        let mut txs = VecDeque::from(txs);
        let chunks = split_by_gas(&mut txs, usize::MAX, parts);
        assert!(txs.is_empty());
        chunks
    }

    #[test]
    fn chunks_have_about_equal_gas_and_keep_the_order() {
        let _ = block_env(1);
        assert_eq!(sizes(&split_all(txs(&[21_000; 10]), 2)), [5, 5]);
        assert_eq!(sizes(&split_all(txs(&[21_000; 9]), 3)), [3, 3, 3]);
        assert_eq!(
            sizes(&split_all(txs(&[90_000, 10_000, 10_000, 10_000]), 2)),
            [1, 3]
        );
        assert_eq!(sizes(&split_all(txs(&[21_000; 3]), 8)), [1, 1, 1]);
        assert_eq!(sizes(&split_all(txs(&[21_000]), 2)), [1]);
        let chunks = split_all(txs(&[21_000; 7]), 2);
        let nonces: Vec<u64> = chunks.iter().flatten().map(|tx| tx.tx.nonce()).collect();
        assert_eq!(nonces, (0..7).collect::<Vec<_>>());
        // Only the first `count` are taken.
        let mut rest = VecDeque::from(txs(&[21_000; 7]));
        assert_eq!(sizes(&split_by_gas(&mut rest, 4, 2)), [2, 2]);
        assert_eq!(rest.front().map(|tx| tx.tx.nonce()), Some(4));
    }
}
