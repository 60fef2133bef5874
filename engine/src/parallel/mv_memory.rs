//! Multi-version memory: for every key, the value (or deltas) each transaction of the block
//! last wrote there, tagged with the incarnation that wrote it.

use super::{
    vm::{TxIndex, Vm},
    write_set::{WriteOp, WriteSet, fold_deltas, membership},
};
use alloy_primitives::map::foldhash::fast::RandomState;
use parking_lot::{Mutex, RwLock};
use std::{
    collections::HashMap,
    hash::{BuildHasher, Hash},
};

mod versions;

pub(crate) use versions::FinalEntry;
use versions::{Data, Entry, Versions};

/// Number of lock shards the keys are spread over.
const SHARDS: usize = 64;

/// How many times a transaction has been started; each run has a fresh number.
pub(crate) type Incarnation = u64;

/// One execution of one transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Version {
    /// The transaction.
    pub(crate) tx: TxIndex,
    /// Its execution.
    pub(crate) incarnation: Incarnation,
}

/// Where the value of a read came from: storage or the full value of a version, with the
/// deltas of the versions listed on top of it (highest transaction first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ReadOrigin<V> {
    /// Versions whose deltas were applied, highest transaction first.
    pub(crate) deltas: Vec<Version>,
    /// The full value below them: `None` for storage.
    pub(crate) source: Option<Version>,
    /// For an [accumulator](Vm::is_accumulator): the deltas of the transactions between
    /// `source` and the reader came from their lanes; validation folds them again.
    pub(crate) accumulated: Option<Box<Accumulated<V>>>,
}

impl<V> ReadOrigin<V> {
    const fn new() -> Self {
        Self {
            deltas: Vec::new(),
            source: None,
            accumulated: None,
        }
    }
}

/// A read of an accumulator: the value below the lanes' deltas and the value read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Accumulated<V> {
    /// The full value of the origin's `source` (or storage).
    pub(crate) below: Option<V>,
    /// `below` with the lanes' deltas applied.
    pub(crate) value: Option<V>,
}

/// A read resolved in memory: the full value (`None`: read storage) and the deltas to apply
/// to it, in block order.
#[derive(Debug)]
pub(crate) struct Resolved<V, D> {
    /// Where it came from, for validation.
    pub(crate) origin: ReadOrigin<V>,
    /// The full value, `None` when it must be read from storage.
    pub(crate) value: Option<V>,
    /// Deltas to apply to the value, in block order.
    pub(crate) deltas: Vec<D>,
}

/// What the last recorded incarnation of one transaction wrote.
#[derive(Debug)]
struct TxEntries<K, D> {
    /// Its keys in write-set order, each with whether its deltas are in `lane`.
    keys: Vec<(K, bool)>,
    /// Its deltas on accumulators, in order.
    lane: Vec<(K, D)>,
    /// Whether `lane` belongs to an incarnation that is recorded and not aborted.
    lane_ready: bool,
}

impl<K, D> Default for TxEntries<K, D> {
    fn default() -> Self {
        Self {
            keys: Vec::new(),
            lane: Vec::new(),
            lane_ready: false,
        }
    }
}
type Shard<K, V, D> = RwLock<HashMap<K, Versions<V, D>, RandomState>>;

/// The multi-version memory of one block.
///
/// Deltas on [accumulators](Vm::is_accumulator) are not kept with the key but in the lane
/// of the transaction that made them: adding to a key every transaction adds to then takes
/// no shared lock; a read of it folds the lanes of the transactions below the reader.
#[derive(Debug)]
pub(crate) struct MvMemory<K, V, D> {
    shards: Box<[Shard<K, V, D>]>,
    hasher: RandomState,
    /// What each transaction's last recorded incarnation wrote.
    txs: Box<[Mutex<TxEntries<K, D>>]>,
}

impl<K: Eq + Hash + Clone, V: Clone, D: Clone> MvMemory<K, V, D> {
    /// An empty memory for a block of `txs` transactions.
    pub(crate) fn new(txs: usize) -> Self {
        Self {
            shards: (0..SHARDS)
                .map(|_| RwLock::new(HashMap::default()))
                .collect(),
            hasher: RandomState::default(),
            txs: (0..txs).map(|_| Mutex::default()).collect(),
        }
    }

    fn shard(&self, key: &K) -> Option<&Shard<K, V, D>> {
        let hash = self.hasher.hash_one(key);
        self.shards.get((hash % SHARDS as u64) as usize)
    }

    /// The value transaction `tx` reads at `key`: the highest entry below `tx`, with deltas
    /// folded down to the nearest full value or storage.
    ///
    /// # Errors
    ///
    /// The index of the transaction whose ESTIMATE the read hit.
    pub(crate) fn read(&self, key: &K, tx: TxIndex) -> Result<Resolved<V, D>, TxIndex> {
        let mut origin = ReadOrigin::new();
        // Deltas in reverse block order, reversed at the end.
        let mut deltas: Vec<D> = Vec::new();
        let mut value = None;
        if let Some(shard) = self.shard(key) {
            let shard = shard.read();
            let entries = shard.get(key).into_iter().flat_map(|e| e.below(tx).rev());
            for (&writer, entry) in entries {
                let version = Version {
                    tx: writer,
                    incarnation: entry.incarnation,
                };
                match &entry.data {
                    Data::Estimate => return Err(writer),
                    Data::Value(v) => {
                        value = Some(v.clone());
                        origin.source = Some(version);
                        break;
                    }
                    Data::Deltas(d) => {
                        origin.deltas.push(version);
                        deltas.extend(d.iter().rev().cloned());
                    }
                }
            }
        }
        deltas.reverse();
        Ok(Resolved {
            origin,
            value,
            deltas,
        })
    }

    /// Whether transaction `tx` would still read `key` from `origin`.
    ///
    /// Only the key's own entries are checked; [`MvMemory::validate_reads`] also checks the
    /// lanes an accumulator read folded.
    pub(crate) fn validate_read(&self, key: &K, tx: TxIndex, origin: &ReadOrigin<V>) -> bool {
        let Some(shard) = self.shard(key) else {
            return false;
        };
        let shard = shard.read();
        let mut entries = shard.get(key).into_iter().flat_map(|e| e.below(tx).rev());
        for expected in &origin.deltas {
            match entries.next() {
                Some((&writer, entry)) if matches!(entry.data, Data::Deltas(_)) => {
                    if (Version {
                        tx: writer,
                        incarnation: entry.incarnation,
                    }) != *expected
                    {
                        return false;
                    }
                }
                _ => return false,
            }
        }
        match (entries.next(), origin.source) {
            (None, None) => true,
            (Some((&writer, entry)), Some(expected)) => {
                matches!(entry.data, Data::Value(_))
                    && Version {
                        tx: writer,
                        incarnation: entry.incarnation,
                    } == expected
            }
            _ => false,
        }
    }

    /// The value accumulator `key` has for transaction `tx`: the key's own entries, then the
    /// deltas in the lanes of the transactions between the full value found and `tx`.
    ///
    /// # Errors
    ///
    /// The index of a transaction whose ESTIMATE the read hit or whose lane is not ready.
    pub(crate) fn read_accumulator(&self, key: &K, tx: TxIndex) -> Result<Resolved<V, D>, TxIndex> {
        let mut resolved = self.read(key, tx)?;
        let from = resolved.origin.source.map_or(0, |v| v.tx + 1);
        self.lane_deltas(key, from..tx, &mut resolved.deltas)?;
        Ok(resolved)
    }

    /// Appends the deltas on `key` in the lanes of transactions `txs`, in block order.
    fn lane_deltas(
        &self,
        key: &K,
        txs: std::ops::Range<TxIndex>,
        out: &mut Vec<D>,
    ) -> Result<(), TxIndex> {
        for tx in txs {
            let Some(entries) = self.txs.get(tx) else {
                return Err(tx);
            };
            let entries = entries.lock();
            if !entries.lane_ready {
                return Err(tx);
            }
            let deltas = entries.lane.iter().filter(|(k, _)| k == key);
            out.extend(deltas.map(|(_, delta)| delta.clone()));
        }
        Ok(())
    }

    /// Whether every read of `reads` by `tx` would still return the same value.
    pub(crate) fn validate_reads<M>(
        &self,
        vm: &M,
        tx: TxIndex,
        reads: &[(K, ReadOrigin<V>)],
    ) -> bool
    where
        M: Vm<Key = K, Value = V, Delta = D>,
        V: PartialEq,
    {
        reads.iter().all(|(key, origin)| {
            self.validate_read(key, tx, origin)
                && origin.accumulated.as_ref().is_none_or(|accumulated| {
                    let from = origin.source.map_or(0, |v| v.tx + 1);
                    let mut deltas = Vec::new();
                    self.lane_deltas(key, from..tx, &mut deltas).is_ok()
                        && fold_deltas(vm, key, accumulated.below.clone(), &deltas)
                            == accumulated.value
                })
        })
    }

    /// Replaces the entries of `version.tx` by `write_set`, removing keys it no longer
    /// writes; deltas on keys `is_accumulator` accepts go to the transaction's lane. Returns
    /// whether it wrote a key the previous incarnation did not.
    pub(crate) fn record_with(
        &self,
        version: Version,
        write_set: WriteSet<K, V, D>,
        is_accumulator: impl Fn(&K) -> bool,
    ) -> bool {
        let Some(entries) = self.txs.get(version.tx) else {
            return false;
        };
        let mut entries = entries.lock();
        let keys: Vec<(K, bool)> = write_set
            .iter()
            .map(|(key, op)| {
                let in_lane = matches!(op, WriteOp::Deltas(_)) && is_accumulator(key);
                (key.clone(), in_lane)
            })
            .collect();
        let wrote_new = {
            let was_written = membership(&entries.keys);
            keys.iter().any(|key| !was_written(key))
        };
        let mut lane = Vec::new();
        for ((key, op), (_, in_lane)) in write_set.into_iter().zip(&keys) {
            match op {
                WriteOp::Deltas(deltas) if *in_lane => {
                    lane.extend(deltas.into_iter().map(|delta| (key.clone(), delta)));
                }
                WriteOp::Deltas(deltas) => self.insert(key, version, Data::Deltas(deltas)),
                WriteOp::Value(value) => self.insert(key, version, Data::Value(value)),
            }
        }
        {
            let is_written = membership(&keys);
            for (key, in_lane) in &entries.keys {
                if !in_lane && !is_written(&(key.clone(), false)) {
                    self.remove(key, version.tx);
                }
            }
        }
        *entries = TxEntries {
            keys,
            lane,
            lane_ready: true,
        };
        wrote_new
    }

    /// [`MvMemory::record_with`] without accumulators.
    #[cfg(test)]
    pub(crate) fn record(&self, version: Version, write_set: WriteSet<K, V, D>) -> bool {
        self.record_with(version, write_set, |_| false)
    }

    fn insert(&self, key: K, version: Version, data: Data<V, D>) {
        let Some(shard) = self.shard(&key) else {
            return;
        };
        let entry = Entry {
            incarnation: version.incarnation,
            data,
        };
        shard
            .write()
            .entry(key)
            .or_insert_with(Versions::new)
            .insert(version.tx, entry);
    }

    fn remove(&self, key: &K, tx: TxIndex) {
        let Some(shard) = self.shard(key) else { return };
        let mut shard = shard.write();
        if let Some(entries) = shard.get_mut(key) {
            entries.remove(tx);
            if entries.is_empty() {
                shard.remove(key);
            }
        }
    }

    /// Marks every entry of `tx` as an ESTIMATE: readers wait for its next incarnation.
    pub(crate) fn convert_writes_to_estimates(&self, tx: TxIndex) {
        let Some(entries) = self.txs.get(tx) else {
            return;
        };
        let mut entries = entries.lock();
        entries.lane_ready = false;
        for (key, _) in entries.keys.iter().filter(|(_, in_lane)| !in_lane) {
            let Some(shard) = self.shard(key) else {
                continue;
            };
            let mut shard = shard.write();
            if let Some(entry) = shard.get_mut(key).and_then(|entries| entries.get_mut(tx)) {
                entry.data = Data::Estimate;
            }
        }
    }

    /// Calls `f` with the final entry of every key in the shards `part`, `part + parts`, ...
    /// (so that `parts` threads can share the work); `None` if an ESTIMATE is left.
    pub(crate) fn for_each_final<E>(
        &self,
        part: usize,
        parts: usize,
        mut f: impl FnMut(&K, FinalEntry<'_, V, D>) -> Result<(), E>,
    ) -> Option<Result<(), E>> {
        for shard in self.shards.iter().skip(part).step_by(parts.max(1)) {
            let shard = shard.read();
            for (key, versions) in shard.iter() {
                if let Err(error) = f(key, versions.final_entry()?) {
                    return Some(Err(error));
                }
            }
        }
        Some(Ok(()))
    }

    /// The deltas in all lanes, grouped by key (in order of first appearance), each with
    /// the transaction that made it, in block order; `None` if a lane is not ready.
    #[allow(clippy::type_complexity)]
    pub(crate) fn final_lanes(&self) -> Option<Vec<(K, Vec<(TxIndex, D)>)>> {
        let mut lanes: Vec<(K, Vec<(TxIndex, D)>)> = Vec::new();
        for (tx, entries) in self.txs.iter().enumerate() {
            let entries = entries.lock();
            if !entries.lane_ready {
                return None;
            }
            for (key, delta) in &entries.lane {
                match lanes.iter_mut().find(|(k, _)| k == key) {
                    Some((_, deltas)) => deltas.push((tx, delta.clone())),
                    None => {
                        let mut deltas = Vec::with_capacity(self.txs.len());
                        deltas.push((tx, delta.clone()));
                        lanes.push((key.clone(), deltas));
                    }
                }
            }
        }
        Some(lanes)
    }

    /// Whether `key` has entries of its own.
    pub(crate) fn has_entries(&self, key: &K) -> bool {
        self.shard(key)
            .is_some_and(|shard| shard.read().contains_key(key))
    }

    /// How many keys have entries of their own.
    pub(crate) fn key_count(&self) -> usize {
        self.shards.iter().map(|shard| shard.read().len()).sum()
    }

    /// The write sets of all transactions, in block order; `None` if an ESTIMATE is left.
    pub(crate) fn into_write_sets(self) -> Option<Vec<WriteSet<K, V, D>>> {
        let mut shards: Vec<HashMap<K, Versions<V, D>, RandomState>> =
            self.shards.into_iter().map(RwLock::into_inner).collect();
        let mut sets = Vec::with_capacity(self.txs.len());
        for (tx, entries) in self.txs.into_iter().enumerate() {
            let TxEntries { keys, lane, .. } = entries.into_inner();
            let mut set = Vec::with_capacity(keys.len());
            for (key, in_lane) in keys {
                if in_lane {
                    let deltas = lane.iter().filter(|(k, _)| *k == key);
                    let deltas = deltas.map(|(_, delta)| delta.clone()).collect();
                    set.push((key, WriteOp::Deltas(deltas)));
                    continue;
                }
                let shard = (self.hasher.hash_one(&key) % SHARDS as u64) as usize;
                // Taken, not removed: removing from the front of a long vector is quadratic.
                let entry = shards.get_mut(shard)?.get_mut(&key)?.get_mut(tx)?;
                let op = match std::mem::replace(&mut entry.data, Data::Estimate) {
                    Data::Value(value) => WriteOp::Value(value),
                    Data::Deltas(deltas) => WriteOp::Deltas(deltas),
                    Data::Estimate => return None,
                };
                set.push((key, op));
            }
            sets.push(set);
        }
        Some(sets)
    }
}
