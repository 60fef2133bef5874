//! The write set of one transaction: one operation per key, full value or deltas.

use super::vm::Vm;
use alloy_primitives::map::{HashMap, HashSet};
use std::hash::Hash;

/// Above this many keys, key lookups use a hash table rather than a linear scan.
const SMALL: usize = 16;

/// What a transaction does to one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum WriteOp<V, D> {
    /// Stores a full value.
    Value(V),
    /// Applies these deltas, in order, to the value before the transaction.
    Deltas(Vec<D>),
}

/// The operations of one transaction, one per key, in the order the VM produced the keys.
pub(crate) type WriteSet<K, V, D> = Vec<(K, WriteOp<V, D>)>;

/// Folds `deltas` onto `value` in order.
pub(crate) fn fold_deltas<M: Vm>(
    vm: &M,
    key: &M::Key,
    value: Option<M::Value>,
    deltas: &[M::Delta],
) -> Option<M::Value> {
    deltas
        .iter()
        .fold(value, |acc, delta| Some(vm.apply_delta(key, acc, delta)))
}

/// Merges the writes and deltas of a transaction outcome into one operation per key.
///
/// Writes come first (the last write of a key wins), then deltas: a delta on a written key is
/// applied to the written value, deltas on other keys are kept in order.
pub(crate) fn normalize<M: Vm>(
    vm: &M,
    writes: Vec<(M::Key, M::Value)>,
    deltas: Vec<(M::Key, M::Delta)>,
) -> WriteSet<M::Key, M::Value, M::Delta> {
    let mut set = Builder::with_capacity(writes.len() + deltas.len());
    for (key, value) in writes {
        match set.find(&key) {
            Some(op) => *op = WriteOp::Value(value),
            None => set.push(key, WriteOp::Value(value)),
        }
    }
    for (key, delta) in deltas {
        match set.find_with_key(&key) {
            Some((key, op)) => apply_to_op(vm, key, op, delta),
            None => set.push(key, WriteOp::Deltas(vec![delta])),
        }
    }
    set.ops
}

fn apply_to_op<M: Vm>(vm: &M, key: &M::Key, op: &mut WriteOp<M::Value, M::Delta>, delta: M::Delta) {
    match op {
        WriteOp::Value(value) => *value = vm.apply_delta(key, Some(value.clone()), &delta),
        WriteOp::Deltas(deltas) => deltas.push(delta),
    }
}

/// Builds a write set with key lookups.
struct Builder<K, V, D> {
    ops: WriteSet<K, V, D>,
    index: Option<HashMap<K, usize>>,
}

impl<K: Eq + Hash + Clone, V, D> Builder<K, V, D> {
    fn with_capacity(capacity: usize) -> Self {
        let index = (capacity > SMALL)
            .then(|| HashMap::with_capacity_and_hasher(capacity, Default::default()));
        Self {
            ops: Vec::with_capacity(capacity),
            index,
        }
    }

    fn position(&self, key: &K) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(key).copied(),
            None => self.ops.iter().position(|(k, _)| k == key),
        }
    }

    fn find(&mut self, key: &K) -> Option<&mut WriteOp<V, D>> {
        self.find_with_key(key).map(|(_, op)| op)
    }

    fn find_with_key(&mut self, key: &K) -> Option<(&K, &mut WriteOp<V, D>)> {
        let position = self.position(key)?;
        self.ops.get_mut(position).map(|(k, op)| (&*k, op))
    }

    fn push(&mut self, key: K, op: WriteOp<V, D>) {
        if let Some(index) = &mut self.index {
            index.insert(key.clone(), self.ops.len());
        }
        self.ops.push((key, op));
    }
}

/// A membership test over `keys`: a linear scan for few keys, a hash set otherwise.
pub(crate) fn membership<K: Eq + Hash>(keys: &[K]) -> impl Fn(&K) -> bool + '_ {
    let set: Option<HashSet<&K>> = (keys.len() > SMALL).then(|| keys.iter().collect());
    move |key| match &set {
        Some(set) => set.contains(key),
        None => keys.contains(key),
    }
}
