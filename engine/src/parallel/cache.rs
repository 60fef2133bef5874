//! [`CachedStorage`]: a [`Storage`] that reads each key from the inner storage once.

use super::vm::{Storage, StorageError};
use alloy_primitives::map::foldhash::fast::RandomState;
use parking_lot::RwLock;
use std::{
    collections::HashMap,
    hash::{BuildHasher, Hash},
};

/// Number of lock shards the cached keys are spread over.
const SHARDS: usize = 32;

/// One lock shard of the cache.
type Shard<K, V> = RwLock<HashMap<K, Option<V>, RandomState>>;

/// A [`Storage`] that remembers the values (or absences) it read from `inner`, so that
/// speculative re-executions do not read a database again. Errors are not remembered.
///
/// It can keep only some keys: those whose reads cost more than the cache's own upkeep (code
/// that must be analysed, say, when `inner` has a cache of accounts of its own).
#[derive(Debug)]
pub struct CachedStorage<K, V, S> {
    inner: S,
    shards: Box<[Shard<K, V>]>,
    hasher: RandomState,
    keep: fn(&K) -> bool,
}

impl<K, V, S> CachedStorage<K, V, S> {
    /// A cache of every key over `inner`, empty.
    pub fn new(inner: S) -> Self {
        Self::only(inner, |_| true)
    }

    /// A cache over `inner` of the keys `keep` accepts, empty; other keys are read from
    /// `inner` each time.
    pub fn only(inner: S, keep: fn(&K) -> bool) -> Self {
        Self {
            inner,
            shards: (0..SHARDS)
                .map(|_| RwLock::new(HashMap::default()))
                .collect(),
            hasher: RandomState::default(),
            keep,
        }
    }

    /// The inner storage.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<K, V, S> Storage<K, V> for CachedStorage<K, V, S>
where
    K: Eq + Hash + Clone + Send + Sync,
    V: Clone + Send + Sync,
    S: Storage<K, V>,
{
    fn base(&self, key: &K) -> Result<Option<V>, StorageError> {
        if !(self.keep)(key) {
            return self.inner.base(key);
        }
        let shard = (self.hasher.hash_one(key) % SHARDS as u64) as usize;
        let Some(shard) = self.shards.get(shard) else {
            return self.inner.base(key);
        };
        if let Some(value) = shard.read().get(key) {
            return Ok(value.clone());
        }
        let value = self.inner.base(key)?;
        Ok(shard.write().entry(key.clone()).or_insert(value).clone())
    }
}
