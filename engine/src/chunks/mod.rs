//! Optimistic chunks: the parallel executor's path for a run of transactions that do not
//! conflict, and the in-order execution both executors use.
//!
//! In order ([`ChunkRound::in_order_on`]): one EVM over one [`BlockDb`]; op-revm's handler
//! hands each transaction's fees back ([`OpDeferredFees`]) and they are paid to the database
//! directly, with revm's semantics, instead of through revm's journal (which loads the fee
//! recipients in every transaction: a quarter of the cost of a plain transfer).
//!
//! Chunks: the run is cut into contiguous chunks, one per thread. The first runs in order on
//! the exact state before it (the probe's, when there is one). Every later one executes in
//! block order over the state before the run, logging every value it reads from that state,
//! and keeps the fees it pays to recipients it has not read aside as sums. Then, in block
//! order, each later chunk is checked against the chunks before it: when every value it
//! read is still the value they left, its execution is the one sequential execution would
//! have done, so its changes and receipts are taken as they are (and its fee sums added);
//! otherwise the chunk runs again, in order, on top of the chunks before it. The result is
//! the sequential one in every case; only the time differs. Each chunk's thread also
//! computes the updates of the accounts it changed, which the merge only puts in order. Block-STM's multi-version memory, with its shared maps, locks and
//! per-transaction read sets, is not needed when there are no conflicts, and it costs more
//! than the execution of a plain transfer.

use crate::{
    BlockEnv, BlockHashes, ChainSpec, EngineError, EngineResult, ExecutedTx, RecoveredTx,
    db::{BlockDb, ChunkedState, Shared, Updates},
    evm::{revm_block, revm_cfg},
    messages::GAS_LIMIT_REACHED,
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

/// A run of transactions over one state: executed as optimistic chunks
/// ([`ChunkRound::execute`]), or in order ([`ChunkRound::in_order_on`], which the sequential
/// executor uses too, with `threads` 1).
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
    /// Its gas limit exceeds the gas left in the block.
    OverGasLimit(RecoveredTx),
}

impl Outcome {
    fn into_tx(self) -> RecoveredTx {
        match self {
            Self::Executed(executed) => executed.tx,
            Self::Invalid(tx, _) | Self::Unsupported(tx) | Self::OverGasLimit(tx) => tx,
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
    /// The updates of its accounts with few slots, computed on its thread.
    updates: Updates,
}

impl ChunkRound<'_> {
    /// Executes the first `count` of `txs` (the block's transactions from `first`, whose gas
    /// limits all fit in the gas left), taken out, into `run`; returns the run's state
    /// changes over the state before it.
    ///
    /// `before`: the state the probe left over the same state, on which the first chunk goes
    /// on.
    pub(crate) fn execute<'s>(
        &'s self,
        run: &mut BlockRun<'_>,
        txs: &mut VecDeque<RecoveredTx>,
        count: usize,
        first: usize,
        before: Option<BlockDb<'s>>,
    ) -> EngineResult<(StateChanges, ExecutionStats)> {
        let envs = (revm_cfg(self.chain), revm_block(self.chain, run.env));
        let mut chunks = split_by_gas(txs, count, self.threads).into_iter();
        let head = chunks.next().unwrap_or_default();
        let head_len = head.len();
        let db = before.unwrap_or_else(|| BlockDb::new(self.state, self.hashes));
        let (db, updates, later) = self.execute_chunks(run, &envs, (db, head), first, chunks)?;
        let mut stats = ExecutionStats {
            strategy: Strategy::OptimisticChunks,
            threads: later.len() + 1,
            executions: (count - head_len) as u64,
            in_order_executions: head_len as u64,
            ..ExecutionStats::default()
        };
        let mut after = After {
            state: ChunkedState::with_updates(db, updates),
            taken: Vec::new(),
        };
        let mut index = first + head_len;
        for chunk in later {
            let len = chunk.outcomes.len();
            if let Some((db, outcomes)) = after.take(chunk, index, run)? {
                stats.aborts += 1;
                stats.in_order_executions += len as u64;
                let txs = outcomes.into_iter().map(Outcome::into_tx);
                let db = self.in_order(run, &envs, db, index, txs)?;
                after.state = ChunkedState::new(db);
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
        let state = after.state;
        let (changes, recorded) = rayon::join(|| state.into_changes(), record_taken);
        recorded?;
        Ok((changes?, stats))
    }

    /// Executes the first chunk in order on `db` (the state before it) into `run`, on this
    /// thread, and every later chunk on a thread of its own over the state before the run.
    fn execute_chunks<'s>(
        &'s self,
        run: &mut BlockRun<'_>,
        envs: &Envs,
        (db, head): (BlockDb<'s>, VecDeque<RecoveredTx>),
        first: usize,
        later: impl Iterator<Item = VecDeque<RecoveredTx>>,
    ) -> EngineResult<(BlockDb<'s>, Updates, Vec<Chunk<'s>>)> {
        std::thread::scope(|scope| {
            let handles: Vec<_> = later
                .map(|txs| scope.spawn(move || self.execute_chunk(envs, txs)))
                .collect();
            let db = self.in_order(run, envs, db, first, head)?;
            let updates = db.small_updates()?;
            let mut out = Vec::with_capacity(handles.len());
            for handle in handles {
                let chunk = handle
                    .join()
                    .map_err(|_| EngineError::Evm("a chunk's execution panicked".into()))??;
                out.push(chunk);
            }
            Ok((db, updates, out))
        })
    }

    /// Executes `txs` in order over the state before the run, logging what they read.
    fn execute_chunk<'s>(
        &'s self,
        envs: &Envs,
        txs: VecDeque<RecoveredTx>,
    ) -> EngineResult<Chunk<'s>> {
        let mut db = ChunkDb::new(BlockDb::new(self.state, self.hashes).recording_reads());
        let mut outcomes = Vec::with_capacity(txs.len());
        // The run's gas limits all fit in the block.
        self.run_txs(envs, &mut db, txs, (0, u64::MAX), |outcome| {
            outcomes.push(outcome);
            Ok(())
        })?;
        let updates = db.db.small_updates()?;
        Ok(Chunk {
            db,
            outcomes,
            updates,
        })
    }

    /// Executes `txs` (from block position `first`) in order on `db`, the state before them,
    /// into `run`, paying fees as they go; returns how many read an account or slot an
    /// earlier one changed.
    fn execute_exact(
        &self,
        run: &mut BlockRun<'_>,
        envs: &Envs,
        db: &mut ChunkDb<'_>,
        first: usize,
        txs: impl IntoIterator<Item = RecoveredTx>,
    ) -> EngineResult<u64> {
        let mut index = first;
        let gas = (run.out.gas_used, run.env.gas_limit);
        self.run_txs(envs, db, txs, gas, |outcome| {
            record_one(run, index, outcome)?;
            index += 1;
            Ok(())
        })
    }

    /// Runs `txs` in order on a chunk's EVM over `db`, after transactions that used `gas`
    /// of the block's `gas_limit`, handing each outcome to `each`; returns how many read an
    /// account or slot an earlier one changed.
    fn run_txs(
        &self,
        (cfg, block): &Envs,
        db: &mut ChunkDb<'_>,
        txs: impl IntoIterator<Item = RecoveredTx>,
        (mut gas, gas_limit): (u64, u64),
        mut each: impl FnMut(Outcome) -> EngineResult<()>,
    ) -> EngineResult<u64> {
        let mut evm = Context::op()
            .with_cfg(cfg.clone())
            .with_block(block.clone())
            .with_db(db)
            .build_op();
        evm.0.ctx.chain = self.l1_info.clone();
        let mut handler = OpDeferredFees::default();
        let mut dependent = 0;
        for tx in txs {
            if tx.tx.gas_limit() > gas_limit.saturating_sub(gas) {
                each(Outcome::OverGasLimit(tx))?;
                continue;
            }
            let changed_reads = evm.0.ctx.db_mut().db.changed_reads();
            let outcome = self.run_one(&mut evm, &mut handler, tx, gas)?;
            if evm.0.ctx.db_mut().db.changed_reads() > changed_reads {
                dependent += 1;
            }
            if let Outcome::Executed(executed) = &outcome {
                gas = gas.saturating_add(executed.gas_used);
            }
            each(outcome)?;
        }
        Ok(dependent)
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
        let probe_txs = txs.drain(..count.min(txs.len()));
        let mut db = ChunkDb::exact(BlockDb::new(self.state, self.hashes));
        let dependent = self.execute_exact(run, &envs, &mut db, 0, probe_txs)?;
        Ok(Probe {
            db: db.into_parts().0,
            dependent,
        })
    }

    /// Executes `txs` (from block position `first`) in order on `db`, the state after the
    /// transactions before them, into `run`, as sequential execution does; returns the state
    /// after them.
    pub(crate) fn in_order_on<'s>(
        &self,
        run: &mut BlockRun<'_>,
        db: BlockDb<'s>,
        first: usize,
        txs: impl IntoIterator<Item = RecoveredTx>,
    ) -> EngineResult<BlockDb<'s>> {
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

    /// Executes `txs` (from block position `first`) in order on `db`, the state after the
    /// transactions before them, into `run`; returns the state after them.
    fn in_order<'s>(
        &self,
        run: &mut BlockRun<'_>,
        envs: &Envs,
        db: BlockDb<'s>,
        first: usize,
        txs: impl IntoIterator<Item = RecoveredTx>,
    ) -> EngineResult<BlockDb<'s>> {
        let mut db = ChunkDb::exact(db);
        self.execute_exact(run, envs, &mut db, first, txs)?;
        Ok(db.into_parts().0)
    }
}

/// The state after the chunks checked so far, and the chunks taken whose receipts are not
/// recorded yet: (block position, outcomes).
struct After<'s> {
    state: ChunkedState<'s>,
    taken: Vec<(usize, Vec<Outcome>)>,
}

impl<'s> After<'s> {
    /// Checks `chunk` (from block position `index`) against the state so far and takes it;
    /// when it does not hold, records the receipts taken so far and returns the state so
    /// far as one database and the chunk's outcomes, whose transactions must run again on
    /// it (then [`Self::state`] is empty until they have).
    fn take(
        &mut self,
        mut chunk: Chunk<'s>,
        index: usize,
        run: &mut BlockRun<'_>,
    ) -> EngineResult<Option<(BlockDb<'s>, Vec<Outcome>)>> {
        let Some(shared) = chunk.db.holds_after(&mut self.state)? else {
            // Receipts go in block order: those of the chunks before first.
            for (first, outcomes) in self.taken.drain(..) {
                record(run, first, outcomes)?;
            }
            let before = std::mem::take(&mut self.state).into_one();
            return Ok(Some((before, chunk.outcomes)));
        };
        let (db, pending) = chunk.db.into_parts();
        self.state.add(db, shared, chunk.updates);
        for (recipient, total) in pending {
            self.state.credit(recipient, total)?;
        }
        self.taken.push((index, chunk.outcomes));
        Ok(None)
    }
}

/// Adds the outcome of the transaction at block position `index`, executed after the
/// transactions before it, to the block.
fn record_one(run: &mut BlockRun<'_>, index: usize, outcome: Outcome) -> EngineResult<()> {
    match outcome {
        Outcome::Executed(tx) => run.push_in_order(tx),
        Outcome::Invalid(tx, err) => run.reject_failed(index, &tx, Some(&err))?,
        Outcome::Unsupported(tx) => run.reject_failed(index, &tx, None)?,
        Outcome::OverGasLimit(tx) => run.reject(index, &tx, GAS_LIMIT_REACHED.to_string())?,
    }
    Ok(())
}

/// Adds the transactions of a checked chunk (from block position `first`) to the block.
fn record(run: &mut BlockRun<'_>, first: usize, outcomes: Vec<Outcome>) -> EngineResult<()> {
    let mut executed = Vec::with_capacity(outcomes.len());
    for (offset, outcome) in outcomes.into_iter().enumerate() {
        match outcome {
            Outcome::Executed(tx) => executed.push(tx),
            // Left out: the gas used so far does not change.
            failed => record_one(run, first + offset, failed)?,
        }
    }
    run.append_executed(executed);
    Ok(())
}

/// The first `count` of `txs`, taken out and cut into at most `parts` contiguous chunks of
/// about equal gas limits. The first chunk is moved out whole; only the later ones (and the
/// transactions after `count`) are copied.
fn split_by_gas(
    txs: &mut VecDeque<RecoveredTx>,
    count: usize,
    parts: usize,
) -> Vec<VecDeque<RecoveredTx>> {
    let count = count.min(txs.len());
    let total: u64 = txs.iter().take(count).map(|tx| tx.tx.gas_limit()).sum();
    let parts = parts.clamp(1, count.max(1)) as u64;
    // Where chunks 1.. start: chunk `k` starts where the gas passes k/parts of the total.
    let mut starts = Vec::with_capacity(parts as usize);
    let mut gas = 0u64;
    for (i, tx) in txs.iter().take(count).enumerate() {
        gas = gas.saturating_add(tx.tx.gas_limit());
        let done = (u128::from(gas) * u128::from(parts) / u128::from(total.max(1))) as usize;
        if done > starts.len() && starts.len() + 1 < parts as usize && i + 1 < count {
            starts.push(i + 1);
        }
    }
    let rest = txs.split_off(count);
    let mut chunks = Vec::with_capacity(starts.len() + 1);
    for start in starts.into_iter().rev() {
        chunks.push(txs.split_off(start));
    }
    chunks.push(std::mem::replace(txs, rest));
    chunks.reverse();
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

    fn sizes(chunks: &[VecDeque<RecoveredTx>]) -> Vec<usize> {
        chunks.iter().map(VecDeque::len).collect()
    }

    fn split_all(txs: Vec<RecoveredTx>, parts: usize) -> Vec<VecDeque<RecoveredTx>> {
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
