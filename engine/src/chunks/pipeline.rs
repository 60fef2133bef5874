//! [`ChunkRound::execute_pipelined`]: logged chunks, checked and repaired in block order
//! while the other threads go on executing.
//!
//! A logged chunk that does not hold is repaired in block order (`super::repair`): work on
//! one thread, which waiting for every chunk to be executed first would add to the end of
//! the run. Here the threads other than the first execute their ranges as chunks of at most
//! [`ChunkRound::pipeline_chunk`] transactions and hand each one over when it is done; the
//! first thread, once its own chunk is executed, checks (and repairs) them in block order as
//! they come. When the next one is not done yet, it executes a chunk of its own, taken from
//! a range it splits off the others, so that it is back soon to check; when there is none
//! left to take, it waits. The result is the one of [`ChunkRound::execute`] with the same
//! chunks: each is checked against the state after those before it.

use super::{
    ChunkRound,
    round::{After, Chunk, Taken, Threads, chunks_error},
};
use crate::{
    EngineError, EngineResult,
    db::{BlockDb, ChunkedState},
    parallel::{ExecutionStats, Strategy},
    sequential::BlockRun,
};
use rayon::prelude::*;
use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    sync::{
        Mutex, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
};

/// Chunks per thread the run is cut into, about, for the pipeline (see
/// [`ChunkRound::pipeline_chunk`]).
const PIPELINE_CHUNKS_PER_THREAD: usize = 16;

/// The first chunk's gas, in thousandths of each other initial range's: the first thread
/// checks the others' chunks once it is done with its own, so it takes less (measured on
/// the `mixed-erc20` workload, two threads: 600 to 800 did best).
pub(super) const FIRST_CHUNK_PER_MILLE: u64 = 750;

/// The chunks executed and not checked yet, handed over to the first thread.
#[derive(Default)]
struct Handover<'s> {
    chunks: Mutex<Vec<Chunk<'s>>>,
    /// A thread failed: the first stops waiting.
    failed: AtomicBool,
    /// Why, the first failure.
    failure: Mutex<Option<EngineError>>,
}

impl<'s> Handover<'s> {
    fn push(&self, chunk: Chunk<'s>) {
        let mut chunks = self.chunks.lock().unwrap_or_else(PoisonError::into_inner);
        chunks.push(chunk);
    }

    /// The chunk that starts at `start`, if it is done.
    fn take(&self, start: usize) -> Option<Chunk<'s>> {
        let mut chunks = self.chunks.lock().unwrap_or_else(PoisonError::into_inner);
        let index = chunks.iter().position(|chunk| chunk.start == start)?;
        Some(chunks.swap_remove(index))
    }

    fn fail(&self, err: EngineError) {
        let mut failure = self.failure.lock().unwrap_or_else(PoisonError::into_inner);
        failure.get_or_insert(err);
        self.failed.store(true, Ordering::Release);
    }

    fn failed(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }

    fn failure(&self) -> EngineError {
        let mut failure = self.failure.lock().unwrap_or_else(PoisonError::into_inner);
        failure
            .take()
            .unwrap_or_else(|| chunks_error("a chunk's thread failed"))
    }
}

impl ChunkRound<'_> {
    /// Executes the `threads`' ranges as pipelined chunks (see the module), the first in
    /// order on `db` (the exact state before it) into `run` (the run starts at block
    /// position `first`); returns the state after the run, the first chunk's length (its
    /// transactions are in the block already), the outcomes of the others and the counters.
    pub(super) fn execute_pipelined<'s>(
        &'s self,
        run: &mut BlockRun<'_>,
        first: usize,
        threads: Threads<'_>,
        db: BlockDb<'s>,
    ) -> EngineResult<(ChunkedState<'s>, usize, Taken, ExecutionStats)> {
        let handover = Handover::default();
        let max = self.pipeline_chunk(threads.txs.len());
        let head = || {
            let checked = self
                .first_chunk(run, first, threads, db)
                .and_then(|head| self.check_as_they_come(threads, head, &handover, max));
            if checked.is_err() {
                // The others stop at their next chunk.
                handover.fail(chunks_error("the checks failed"));
            }
            checked
        };
        let others = || {
            (1..threads.ranges.initial())
                .into_par_iter()
                .for_each(|slot| {
                    let produced = catch_unwind(AssertUnwindSafe(|| {
                        self.produce(threads, slot, &handover, max)
                    }));
                    match produced {
                        Ok(Ok(())) => {}
                        Ok(Err(err)) => handover.fail(err),
                        Err(_) => {
                            handover.fail(EngineError::Evm("a chunk's execution panicked".into()))
                        }
                    }
                });
        };
        let (checked, ()) = catch_unwind(AssertUnwindSafe(|| rayon::join(head, others)))
            .map_err(|_| EngineError::Evm("a chunk's check panicked".into()))?;
        checked
    }

    /// The most transactions of a pipelined chunk, for a run of `txs`.
    fn pipeline_chunk(&self, txs: usize) -> usize {
        (txs / (PIPELINE_CHUNKS_PER_THREAD * self.threads.max(1))).max(self.min_split)
    }

    /// Checks the chunks after `head` in block order as the `handover` brings them (see the
    /// module), executing chunks of at most `max` transactions in between.
    fn check_as_they_come<'s>(
        &'s self,
        threads: Threads<'_>,
        head: Chunk<'s>,
        handover: &Handover<'s>,
        max: usize,
    ) -> EngineResult<(ChunkedState<'s>, usize, Taken, ExecutionStats)> {
        let count = threads.txs.len();
        let mut stats = ExecutionStats {
            strategy: Strategy::OptimisticChunks,
            threads: threads.ranges.initial(),
            in_order_executions: head.len as u64,
            executions: (count - head.len) as u64,
            ..ExecutionStats::default()
        };
        let mut after = After {
            state: ChunkedState::new(head.db.into_parts().0),
            taken: Vec::new(),
        };
        let (mut position, mut own, mut may_steal) = (head.len, None, true);
        while position < count {
            if let Some(chunk) = handover.take(position) {
                position += chunk.len;
                self.check_one(threads.envs, threads.txs, &mut after, chunk, &mut stats)?;
                continue;
            }
            if handover.failed() {
                return Err(handover.failure());
            }
            own = own.filter(|&slot| threads.ranges.len(slot) > 0);
            if own.is_none() && may_steal {
                // Ranges only shrink: once none is left to split, none will be.
                own = threads.ranges.steal().map(|(slot, _)| slot);
                may_steal = own.is_some();
            }
            if let Some(slot) = own {
                if let Some(chunk) = self.execute_some(threads, slot, max)? {
                    stats.splits += 1;
                    handover.push(chunk);
                }
                continue;
            }
            // Another thread is executing the next chunk; run a job of the pool meanwhile,
            // if this thread has one (on a pool of one thread, the others' own).
            if rayon::yield_now() != Some(rayon::Yield::Executed) {
                std::thread::yield_now();
            }
        }
        Ok((after.state, head.len, after.taken, stats))
    }

    /// Executes range `slot` of the `threads`' ranges as chunks of at most `max`
    /// transactions, then the ranges this thread splits off the others, handing each chunk
    /// over when it is done.
    fn produce<'s>(
        &'s self,
        threads: Threads<'_>,
        slot: usize,
        handover: &Handover<'s>,
        max: usize,
    ) -> EngineResult<()> {
        let mut next = Some(slot);
        while let Some(slot) = next {
            while let Some(chunk) = self.execute_some(threads, slot, max)? {
                if handover.failed() {
                    return Ok(());
                }
                handover.push(chunk);
            }
            next = threads.ranges.steal().map(|(slot, _)| slot);
        }
        Ok(())
    }

    /// Executes the next at most `max` transactions of range `slot` as a logged chunk over
    /// the state before the run; `None` when the range is done.
    fn execute_some<'s>(
        &'s self,
        Threads { envs, ranges, txs }: Threads<'_>,
        slot: usize,
        max: usize,
    ) -> EngineResult<Option<Chunk<'s>>> {
        let expected = max.min(ranges.len(slot));
        let mut db = self.recording_db(expected);
        let mut start = None;
        let claimed = std::iter::from_fn(|| ranges.claim(slot))
            .take(max)
            .inspect(|&index| {
                start.get_or_insert(index);
            })
            .map(|index| &txs[index]);
        let outcomes = self.run_chunk(envs, &mut db, claimed, expected)?;
        let Some(start) = start else {
            return Ok(None);
        };
        Ok(Some(Chunk {
            start,
            len: outcomes.len(),
            db,
            outcomes,
            updates: None,
        }))
    }
}
