//! The read views transactions execute against: [`MvView`] over the multi-version memory
//! (recording each read's origin) and [`SeqView`] over the in-order [`State`].

use super::{
    mv_memory::{Accumulated, MvMemory, ReadOrigin},
    small_map::SmallMap,
    vm::{ReadError, ReadView, Storage, StorageError, TxIndex, Vm},
    write_set::{WriteOp, WriteSet, fold_deltas},
};
use alloy_primitives::map::HashMap;

/// Why a speculative execution could not complete its reads.
#[derive(Debug)]
pub(crate) enum ViewFailure {
    /// It read an ESTIMATE of this transaction.
    Blocked(TxIndex),
    /// Storage failed.
    Storage(StorageError),
}

impl ViewFailure {
    fn read_error(&self) -> ReadError {
        match self {
            Self::Blocked(tx) => ReadError::blocked(*tx),
            Self::Storage(_) => ReadError::storage(),
        }
    }
}

/// The reads of one execution: key, origin and the value returned.
type ReadLog<K, V> = SmallMap<K, (ReadOrigin<V>, Option<V>)>;

/// The view of transaction `tx` over the multi-version memory.
pub(crate) struct MvView<'a, M: Vm, S> {
    vm: &'a M,
    storage: &'a S,
    memory: &'a MvMemory<M::Key, M::Value, M::Delta>,
    tx: TxIndex,
    reads: ReadLog<M::Key, M::Value>,
    failure: Option<ViewFailure>,
}

impl<'a, M: Vm, S: Storage<M::Key, M::Value>> MvView<'a, M, S> {
    /// A view for transaction `tx`.
    pub(crate) fn new(
        vm: &'a M,
        storage: &'a S,
        memory: &'a MvMemory<M::Key, M::Value, M::Delta>,
        tx: TxIndex,
    ) -> Self {
        Self {
            vm,
            storage,
            memory,
            tx,
            reads: SmallMap::default(),
            failure: None,
        }
    }

    /// The read set (key and origin of every read) and the failure that stopped reads.
    #[allow(clippy::type_complexity)]
    pub(crate) fn finish(self) -> (Vec<(M::Key, ReadOrigin<M::Value>)>, Option<ViewFailure>) {
        let reads = self
            .reads
            .into_entries()
            .into_iter()
            .map(|(key, (origin, _))| (key, origin))
            .collect();
        (reads, self.failure)
    }

    fn fail(&mut self, failure: ViewFailure) -> ReadError {
        let error = failure.read_error();
        self.failure = Some(failure);
        error
    }
}

impl<M: Vm, S: Storage<M::Key, M::Value>> ReadView<M::Key, M::Value> for MvView<'_, M, S> {
    fn read(&mut self, key: &M::Key) -> Result<Option<M::Value>, ReadError> {
        if let Some(failure) = &self.failure {
            return Err(failure.read_error());
        }
        if let Some((_, value)) = self.reads.get(key) {
            return Ok(value.clone());
        }
        let accumulator = self.vm.is_accumulator(key);
        let resolved = if accumulator {
            self.memory.read_accumulator(key, self.tx)
        } else {
            self.memory.read(key, self.tx)
        };
        let mut resolved = match resolved {
            Ok(resolved) => resolved,
            Err(blocking) => return Err(self.fail(ViewFailure::Blocked(blocking))),
        };
        let below = match resolved.value {
            Some(value) => Some(value),
            None => match self.storage.base(key) {
                Ok(value) => value,
                Err(error) => return Err(self.fail(ViewFailure::Storage(error))),
            },
        };
        let value = fold_deltas(self.vm, key, below.clone(), &resolved.deltas);
        if accumulator {
            resolved.origin.accumulated = Some(Box::new(Accumulated {
                below,
                value: value.clone(),
            }));
        }
        self.reads
            .insert_new(key.clone(), (resolved.origin, value.clone()));
        Ok(value)
    }
}

/// State in block order: values written so far and values read from storage.
#[derive(Debug)]
pub(crate) struct State<K, V> {
    /// Each key's current value and whether the block wrote it.
    values: HashMap<K, (Option<V>, bool)>,
}

impl<K: Eq + std::hash::Hash + Clone, V: Clone> State<K, V> {
    /// The state before the block.
    pub(crate) fn new() -> Self {
        Self {
            values: HashMap::default(),
        }
    }

    fn get<S: Storage<K, V>>(&mut self, storage: &S, key: &K) -> Result<Option<V>, StorageError> {
        if let Some((value, _)) = self.values.get(key) {
            return Ok(value.clone());
        }
        let value = storage.base(key)?;
        self.values.insert(key.clone(), (value.clone(), false));
        Ok(value)
    }

    fn set(&mut self, key: K, value: V) {
        self.values.insert(key, (Some(value), true));
    }

    /// Applies a write set; pushes the full value each key holds afterwards to `writes`,
    /// when given.
    pub(crate) fn apply<M, S>(
        &mut self,
        vm: &M,
        storage: &S,
        write_set: WriteSet<K, V, M::Delta>,
        mut writes: Option<&mut Vec<(K, V)>>,
    ) -> Result<(), StorageError>
    where
        M: Vm<Key = K, Value = V>,
        S: Storage<K, V>,
    {
        for (key, op) in write_set {
            let value = match op {
                WriteOp::Value(value) => value,
                WriteOp::Deltas(deltas) => {
                    let before = self.get(storage, &key)?;
                    match fold_deltas(vm, &key, before, &deltas) {
                        Some(value) => value,
                        None => continue,
                    }
                }
            };
            if let Some(writes) = writes.as_deref_mut() {
                writes.push((key.clone(), value.clone()));
            }
            self.set(key, value);
        }
        Ok(())
    }

    /// The final value of every key written, in no particular order.
    pub(crate) fn into_final_state(self) -> Vec<(K, V)> {
        self.values
            .into_iter()
            .filter_map(|(key, (value, written))| Some((key, value.filter(|_| written)?)))
            .collect()
    }
}

/// The view of a transaction executed in block order over [`State`].
pub(crate) struct SeqView<'a, K, V, S> {
    state: &'a mut State<K, V>,
    storage: &'a S,
    /// The storage failure that stopped reads.
    pub(crate) failure: Option<StorageError>,
}

impl<'a, K, V, S> SeqView<'a, K, V, S> {
    /// A view over `state`, reading `storage` for keys not in it.
    pub(crate) const fn new(state: &'a mut State<K, V>, storage: &'a S) -> Self {
        Self {
            state,
            storage,
            failure: None,
        }
    }
}

impl<K, V, S> ReadView<K, V> for SeqView<'_, K, V, S>
where
    K: Eq + std::hash::Hash + Clone,
    V: Clone,
    S: Storage<K, V>,
{
    fn read(&mut self, key: &K) -> Result<Option<V>, ReadError> {
        if self.failure.is_some() {
            return Err(ReadError::storage());
        }
        self.state.get(self.storage, key).map_err(|error| {
            self.failure = Some(error);
            ReadError::storage()
        })
    }
}
