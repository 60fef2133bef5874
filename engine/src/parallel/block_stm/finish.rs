//! The end of a Block-STM run: the block's output read from the multi-version memory.

use super::{
    super::{
        mv_memory::MvMemory,
        output::{ParallelError, Strategy, TxResult, VmBlockOutput},
        view::State,
        vm::{Storage, TxIndex, Vm},
        write_set::fold_deltas,
    },
    Shared, guarded,
};
use std::thread;

impl<M, S> Shared<'_, M, S>
where
    M: Vm,
    S: Storage<M::Key, M::Value>,
{
    /// The block's output; `None` if a transaction has no recorded execution or an ESTIMATE
    /// is left in the memory.
    pub(super) fn into_output(
        self,
        strategy: Strategy,
        threads: usize,
        tx_writes: bool,
    ) -> Option<Result<VmBlockOutput<M>, ParallelError>> {
        let stats = self.stats(strategy, threads);
        let final_state = match self.final_state(threads)? {
            Ok(state) => state,
            Err(error) => return Some(Err(error)),
        };
        let results: Vec<_> = self
            .slots
            .into_iter()
            .map(|slot| slot.into_inner().map(|slot| slot.result))
            .collect::<Option<_>>()?;
        let txs = if tx_writes {
            match replay_writes(self.vm, self.storage, self.memory, results)? {
                Ok(txs) => txs,
                Err(error) => return Some(Err(error)),
            }
        } else {
            results
                .into_iter()
                .map(|result| TxResult {
                    result,
                    writes: Vec::new(),
                })
                .collect()
        };
        Some(Ok(VmBlockOutput::<M> {
            txs,
            final_state,
            stats,
        }))
    }

    /// The final value of every key written, read from the memory by `threads` threads (each
    /// takes a share of the memory's shards).
    #[allow(clippy::type_complexity)]
    fn final_state(
        &self,
        threads: usize,
    ) -> Option<Result<Vec<(M::Key, M::Value)>, ParallelError>> {
        let parts = threads.max(1);
        let lanes = self.memory.final_lanes()?;
        let lanes = &lanes;
        // The lanes' deltas on `key` from transaction `from` on.
        let lane_deltas = |key: &M::Key, from: TxIndex| -> Vec<M::Delta> {
            let Some((_, deltas)) = lanes.iter().find(|(k, _)| k == key) else {
                return Vec::new();
            };
            let start = deltas.partition_point(|(tx, _)| *tx < from);
            deltas[start..].iter().map(|(_, d)| d.clone()).collect()
        };
        let capacity = self.memory.key_count() / parts + lanes.len();
        let part = |part: usize| {
            let mut state = Vec::with_capacity(capacity);
            let done = self.memory.for_each_final(part, parts, |key, entry| {
                let mut deltas: Vec<M::Delta> = entry.deltas.into_iter().cloned().collect();
                if self.vm.is_accumulator(key) {
                    deltas.extend(lane_deltas(key, entry.value_writer.map_or(0, |tx| tx + 1)));
                }
                let value = entry.value.cloned();
                let value = self.final_value(key, value, &deltas, entry.first_writer)?;
                if let Some(value) = value {
                    state.push((key.clone(), value));
                }
                Ok(())
            });
            let mut done = done.unwrap_or(Err(FinalError::Estimate));
            // Accumulators only lanes add to, shared out among the parts too.
            let lane_only = lanes
                .iter()
                .filter(|(key, _)| !self.memory.has_entries(key));
            for (key, deltas) in lane_only.skip(part).step_by(parts) {
                if done.is_err() {
                    break;
                }
                let deltas: Vec<M::Delta> = deltas.iter().map(|(_, d)| d.clone()).collect();
                match self.final_value(key, None, &deltas, 0) {
                    Ok(Some(value)) => state.push((key.clone(), value)),
                    Ok(None) => {}
                    Err(error) => done = Err(error),
                }
            }
            done.map(|()| state)
        };
        let parts: Vec<_> = thread::scope(|scope| {
            let handles: Vec<_> = (1..parts).map(|n| scope.spawn(move || part(n))).collect();
            let mut results = vec![guarded(|| part(0))];
            results.extend(handles.into_iter().map(|handle| handle.join().ok()));
            results
        });
        let mut state = Vec::with_capacity(capacity * threads.max(1));
        for part in parts {
            match part? {
                Ok(mut part) => state.append(&mut part),
                Err(FinalError::Estimate) => return None,
                Err(FinalError::Storage(error)) => return Some(Err(error)),
            }
        }
        Some(Ok(state))
    }

    /// `value` (`None`: the value in storage) with `deltas` applied.
    fn final_value(
        &self,
        key: &M::Key,
        value: Option<M::Value>,
        deltas: &[M::Delta],
        writer: TxIndex,
    ) -> Result<Option<M::Value>, FinalError> {
        let below = match value {
            Some(value) => Some(value),
            None if deltas.is_empty() => None,
            None => self.storage.base(key).map_err(|source| {
                FinalError::Storage(ParallelError::Storage { tx: writer, source })
            })?,
        };
        Ok(fold_deltas(self.vm, key, below, deltas))
    }
}

/// Why the final state could not be read from the memory.
enum FinalError {
    /// An ESTIMATE or an unready lane is left: execute again in order.
    Estimate,
    /// Storage failed.
    Storage(ParallelError),
}

/// Each transaction's writes, replaying the write sets in block order.
#[allow(clippy::type_complexity)]
fn replay_writes<M, S>(
    vm: &M,
    storage: &S,
    memory: MvMemory<M::Key, M::Value, M::Delta>,
    results: Vec<Result<M::Output, M::Error>>,
) -> Option<Result<Vec<TxResult<M::Key, M::Value, M::Output, M::Error>>, ParallelError>>
where
    M: Vm,
    S: Storage<M::Key, M::Value>,
{
    let write_sets = memory.into_write_sets()?;
    let mut state = State::new();
    let mut txs = Vec::with_capacity(results.len());
    for (tx, (result, write_set)) in results.into_iter().zip(write_sets).enumerate() {
        let mut writes = Vec::new();
        if let Err(source) = state.apply(vm, storage, write_set, Some(&mut writes)) {
            return Some(Err(ParallelError::Storage { tx, source }));
        }
        txs.push(TxResult { result, writes });
    }
    Some(Ok(txs))
}
