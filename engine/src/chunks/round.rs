//! [`ChunkRound::execute`]: a run of transactions as optimistic chunks on all threads (see
//! the module above).

use super::{
    ChunkDb, ChunkRound, Envs, FittingRun, Outcome, TxQueue, pipeline::FIRST_CHUNK_PER_MILLE,
    ranges::Ranges, record_one,
};
use crate::{
    EngineError, EngineResult, RecoveredTx,
    db::{BlockDb, ChunkedState, Updates, accounts_of},
    evm::{revm_block, revm_cfg},
    parallel::{ExecutionStats, Strategy},
    sequential::BlockRun,
};
use altius_state::StateChanges;
use rayon::prelude::*;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// A range is split with an idle thread only when at least this many of its transactions
/// are left (the idle thread takes half): a chunk costs a database, a check and a merge.
pub(crate) const MIN_SPLIT_TXS: usize = 32;

/// Chunks per thread at most, the first ones included.
const MAX_CHUNKS_PER_THREAD: usize = 8;

/// A chunk after its execution: `len` of the run's transactions from `start` on.
pub(super) struct Chunk<'a> {
    pub(super) start: usize,
    pub(super) len: usize,
    pub(super) db: ChunkDb<'a>,
    /// Their outcomes; none for the first chunk, whose transactions are in the block
    /// already.
    pub(super) outcomes: Vec<Outcome>,
    /// The updates of its accounts with few slots, computed on its thread (or, when none,
    /// with the run's changes).
    pub(super) updates: Option<Updates>,
}

/// What the threads of a run share: revm's environments, the ranges they claim and split,
/// and the run's transactions, read in place.
#[derive(Clone, Copy)]
pub(super) struct Threads<'r> {
    pub(super) envs: &'r Envs,
    pub(super) ranges: &'r Ranges,
    pub(super) txs: &'r [RecoveredTx],
}

/// The outcomes of the chunks taken, in block order, each with its start in the run.
pub(super) type Taken = Vec<(usize, Vec<Outcome>)>;

impl ChunkRound<'_> {
    /// Executes the first `fitting.len()` of `txs` (the block's transactions from `first`,
    /// whose gas limits all fit in the gas left), taken out, into `run`; returns the run's
    /// state changes over the state before it.
    ///
    /// `before`: the state the probe left over the same state, on which the first chunk goes
    /// on.
    pub(crate) fn execute<'s>(
        &'s self,
        run: &mut BlockRun<'_>,
        txs: &mut TxQueue,
        fitting: &FittingRun,
        first: usize,
        before: Option<BlockDb<'s>>,
    ) -> EngineResult<(StateChanges, ExecutionStats)> {
        let envs = (revm_cfg(self.chain), revm_block(self.chain, run.env));
        let count = fitting.len().min(txs.len());
        let run_txs = &txs.as_slice()[..count];
        let bounds = if self.log_txs {
            fitting.split_weighted(self.threads, FIRST_CHUNK_PER_MILLE)
        } else {
            fitting.split(self.threads)
        };
        let ranges = Ranges::new(
            &bounds,
            self.min_split,
            MAX_CHUNKS_PER_THREAD * self.threads,
        );
        let db = before.unwrap_or_else(|| BlockDb::new(self.state, self.hashes));
        let threads = Threads {
            envs: &envs,
            ranges: &ranges,
            txs: run_txs,
        };
        let (state, head, taken, stats) = if self.log_txs {
            self.execute_pipelined(run, first, threads, db)?
        } else {
            let chunks = self.execute_chunks(run, first, threads, db)?;
            let mut stats = ExecutionStats {
                strategy: Strategy::OptimisticChunks,
                threads: ranges.initial(),
                splits: chunks.len().saturating_sub(ranges.initial()) as u64,
                ..ExecutionStats::default()
            };
            let (state, head, taken) = self.check_in_order(&envs, run_txs, chunks, &mut stats)?;
            (state, head, taken, stats)
        };
        // The transactions and receipts are recorded while the changes are computed.
        let record_taken = || record(run, first, (head, count), taken, txs);
        let (changes, recorded) = rayon::join(|| state.into_changes(), record_taken);
        recorded?;
        Ok((changes?, stats))
    }

    /// Checks the `chunks` of the run of `txs` in block order, each against the ones before
    /// it, and executes those that do not hold again, counting executions in `stats`;
    /// returns the state after the run, the first chunk's length (its transactions are in
    /// the block already) and the outcomes of the others.
    fn check_in_order<'s>(
        &self,
        envs: &Envs,
        txs: &[RecoveredTx],
        mut chunks: Vec<Chunk<'s>>,
        stats: &mut ExecutionStats,
    ) -> EngineResult<(ChunkedState<'s>, usize, Taken)> {
        chunks.sort_unstable_by_key(|chunk| chunk.start);
        let mut chunks = chunks.into_iter();
        let head = chunks.next().ok_or_else(|| chunks_error("no chunk"))?;
        stats.in_order_executions += head.len as u64;
        stats.executions += (txs.len() - head.len) as u64;
        let mut after = After {
            state: ChunkedState::with_updates(head.db.into_parts().0, head.updates),
            taken: Vec::new(),
        };
        for chunk in chunks {
            self.check_one(envs, txs, &mut after, chunk, stats)?;
        }
        Ok((after.state, head.len, after.taken))
    }

    /// Checks `chunk` (of the run of `txs`) against the chunks before it, `after`, and takes
    /// it; when it does not hold, repairs it (when it logged its transactions) or executes
    /// it again, counting executions in `stats`.
    pub(super) fn check_one<'s>(
        &self,
        envs: &Envs,
        txs: &[RecoveredTx],
        after: &mut After<'s>,
        chunk: Chunk<'s>,
        stats: &mut ExecutionStats,
    ) -> EngineResult<()> {
        let Some((db, mut chunk)) = after.take(chunk)? else {
            return Ok(());
        };
        stats.aborts += 1;
        let (start, len) = (chunk.start, chunk.len);
        let again = txs
            .get(start..start + len)
            .ok_or_else(|| chunks_error("a chunk past its end"))?;
        let (db, outcomes) = match chunk.db.take_log() {
            Some(log) => {
                let repaired = self.repair(envs, db, again, chunk.outcomes, log)?;
                stats.in_order_executions += repaired.again;
                stats.kept += len as u64 - repaired.again;
                (repaired.db, repaired.outcomes)
            }
            None => {
                stats.in_order_executions += len as u64;
                self.again(envs, db, again)?
            }
        };
        after.state = ChunkedState::new(db);
        after.taken.push((start, outcomes));
        Ok(())
    }

    /// Executes the first of the `threads`' ranges in order on `db` (the state before it)
    /// into `run` (the run starts at block position `first`) on this thread, every other one
    /// over the state before the run on rayon's threads, and the ranges the threads split
    /// off when they run out; returns the chunks in any order.
    ///
    /// Rayon's threads rather than threads of their own: the checks and the merge that
    /// follow run on rayon's threads, and a thread that has just finished a task takes the
    /// next one at once, where one that slept through the execution takes a while to wake.
    fn execute_chunks<'s>(
        &'s self,
        run: &mut BlockRun<'_>,
        first: usize,
        threads: Threads<'_>,
        db: BlockDb<'s>,
    ) -> EngineResult<Vec<Chunk<'s>>> {
        let others = || {
            (1..threads.ranges.initial())
                .into_par_iter()
                .map(|slot| {
                    let range = (slot, threads.ranges.start(slot));
                    self.work(threads, Some(range), Vec::new())
                })
                .collect::<EngineResult<Vec<_>>>()
        };
        let head = || {
            let head = self.first_chunk(run, first, threads, db)?;
            self.work(threads, None, vec![head])
        };
        // A panic (a bug: the EVM does not panic on a transaction) fails the block, as an
        // error, rather than the node.
        let (head, others) = catch_unwind(AssertUnwindSafe(|| rayon::join(head, others)))
            .map_err(|_| EngineError::Evm("a chunk's execution panicked".into()))?;
        let mut chunks = head?;
        chunks.extend(others?.into_iter().flatten());
        Ok(chunks)
    }

    /// Executes the first of the `threads`' ranges in order on `db`, the exact state before
    /// it, into `run` (the run starts at block position `first`): its transactions are
    /// copied, since the other threads read the run's, and go into the block as they run.
    pub(super) fn first_chunk<'s>(
        &'s self,
        run: &mut BlockRun<'_>,
        first: usize,
        Threads { envs, ranges, txs }: Threads<'_>,
        db: BlockDb<'s>,
    ) -> EngineResult<Chunk<'s>> {
        let mut db = ChunkDb::exact(db.reserve(accounts_of(ranges.len(0))));
        let mut len = 0;
        let claimed = std::iter::from_fn(|| ranges.claim(0)).map(|index| {
            len += 1;
            txs[index].clone()
        });
        self.execute_exact(run, envs, &mut db, first, claimed)?;
        Ok(Chunk {
            start: 0,
            len,
            db,
            outcomes: Vec::new(),
            updates: None,
        })
    }

    /// Executes `range` of the `threads`' ranges (slot and start), if any, over the state
    /// before the run, then the ranges this thread splits off the others until none is left
    /// to split; then computes the updates of the accounts of these chunks and of `done`,
    /// the ones it executed before. Returns them all.
    fn work<'s>(
        &'s self,
        Threads { envs, ranges, txs }: Threads<'_>,
        range: Option<(usize, usize)>,
        mut done: Vec<Chunk<'s>>,
    ) -> EngineResult<Vec<Chunk<'s>>> {
        let mut next = range.or_else(|| ranges.steal());
        while let Some((slot, start)) = next {
            let expected = ranges.len(slot);
            let mut db = self.recording_db(expected);
            let claimed = std::iter::from_fn(|| ranges.claim(slot)).map(|index| &txs[index]);
            let outcomes = self.run_chunk(envs, &mut db, claimed, expected)?;
            done.push(Chunk {
                start,
                len: outcomes.len(),
                db,
                outcomes,
                updates: None,
            });
            next = ranges.steal();
        }
        // Once no range is left to split: until then, executing comes first.
        for chunk in &mut done {
            chunk.updates = Some(chunk.db.db.small_updates()?);
        }
        Ok(done)
    }

    /// The database of a chunk of `txs` transactions over the state before the run, logging
    /// what it reads.
    pub(super) fn recording_db(&self, txs: usize) -> ChunkDb<'_> {
        let db = BlockDb::new(self.state, self.hashes).reserve(accounts_of(txs));
        let db = ChunkDb::new(db.recording_reads());
        if self.log_txs { db.logging_txs() } else { db }
    }

    /// Executes `txs` (about `expected` of them) in order on `db`, with gas counted from the
    /// first; their outcomes.
    pub(super) fn run_chunk<'t>(
        &self,
        envs: &Envs,
        db: &mut ChunkDb<'_>,
        txs: impl IntoIterator<Item = &'t RecoveredTx>,
        expected: usize,
    ) -> EngineResult<Vec<Outcome>> {
        // Room for them all at once: an outcome is large, and growing the list step by
        // step would copy them all at each step.
        let mut outcomes = Vec::with_capacity(expected);
        // The run's gas limits all fit in the block.
        self.run_txs(envs, db, txs, (0, u64::MAX), |_, outcome| {
            outcomes.push(outcome);
            Ok(())
        })?;
        Ok(outcomes)
    }

    /// Executes `txs`, a chunk that did not hold, again in order on `db` (the state after
    /// the transactions before them); returns the state after them and their outcomes.
    fn again<'s>(
        &self,
        envs: &Envs,
        db: BlockDb<'s>,
        txs: &[RecoveredTx],
    ) -> EngineResult<(BlockDb<'s>, Vec<Outcome>)> {
        let mut db = ChunkDb::exact(db);
        let outcomes = self.run_chunk(envs, &mut db, txs, txs.len())?;
        Ok((db.into_parts().0, outcomes))
    }
}

/// The state after the chunks checked so far, and the outcomes of the chunks taken.
pub(super) struct After<'s> {
    pub(super) state: ChunkedState<'s>,
    pub(super) taken: Taken,
}

impl<'s> After<'s> {
    /// Checks `chunk` against the state so far and takes it; when it does not hold, returns
    /// the state so far as one database, on which the chunk's transactions must run again
    /// or be repaired (then [`Self::state`] is empty until they have), and the chunk.
    fn take(&mut self, mut chunk: Chunk<'s>) -> EngineResult<Option<(BlockDb<'s>, Chunk<'s>)>> {
        let Some(shared) = chunk.db.holds_after(&mut self.state)? else {
            return Ok(Some((std::mem::take(&mut self.state).into_one(), chunk)));
        };
        let (db, pending) = chunk.db.into_parts();
        self.state.add(db, shared, chunk.updates);
        for (recipient, total) in pending {
            self.state.credit(recipient, total)?;
        }
        self.taken.push((chunk.start, chunk.outcomes));
        Ok(None)
    }
}

/// Adds the run's transactions (from block position `first`), taken from `txs`, with the
/// outcomes of its chunks after the first, `taken`, to the block: `head` (the first chunk's,
/// in the block already) and `count` (all).
fn record(
    run: &mut BlockRun<'_>,
    first: usize,
    (head, count): (usize, usize),
    taken: Taken,
    txs: &mut TxQueue,
) -> EngineResult<()> {
    // The first chunk's transactions went into the block as copies.
    txs.by_ref().take(head).for_each(drop);
    let mut position = head;
    for (start, outcomes) in taken {
        if start != position {
            return Err(chunks_error("they do not follow each other"));
        }
        position += outcomes.len();
        // Their receipts count gas from the start of the chunk.
        let gas_before = run.out.gas_used;
        for (offset, outcome) in outcomes.into_iter().enumerate() {
            let tx = txs
                .next()
                .ok_or_else(|| chunks_error("too many outcomes"))?;
            match outcome {
                Outcome::Executed(mut receipt) => {
                    receipt.add_gas_before(gas_before);
                    run.push_in_order(receipt.with_tx(tx));
                }
                // Left out: the gas used so far does not change.
                failed => record_one(run, first + start + offset, tx, failed)?,
            }
        }
    }
    if position != count {
        return Err(chunks_error("they do not cover the run"));
    }
    Ok(())
}

/// An internal error: the chunks of a run do not add up to it.
pub(super) fn chunks_error(why: &str) -> EngineError {
    EngineError::Evm(format!("optimistic chunks of a run: {why}"))
}
