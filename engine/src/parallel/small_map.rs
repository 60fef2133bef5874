//! [`SmallMap`]: a map that is a vector while it is small and gains a hash index when it
//! grows. The reads of one transaction are a handful of keys: a linear scan beats hashing
//! every key, and no table is allocated for them.

use alloy_primitives::map::HashMap;
use std::hash::Hash;

/// Entries above which lookups go through a hash index.
const LINEAR: usize = 16;

/// A map for few entries, in insertion order.
#[derive(Debug)]
pub(crate) struct SmallMap<K, V> {
    entries: Vec<(K, V)>,
    index: Option<HashMap<K, usize>>,
}

impl<K, V> Default for SmallMap<K, V> {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
            index: None,
        }
    }
}

impl<K: Eq + Hash + Clone, V> SmallMap<K, V> {
    /// The value at `key`.
    pub(crate) fn get(&self, key: &K) -> Option<&V> {
        let at = match &self.index {
            Some(index) => *index.get(key)?,
            None => self.entries.iter().position(|(k, _)| k == key)?,
        };
        self.entries.get(at).map(|(_, value)| value)
    }

    /// Adds `key`, which must not be in the map yet.
    pub(crate) fn insert_new(&mut self, key: K, value: V) {
        debug_assert!(self.get(&key).is_none(), "key inserted twice");
        if let Some(index) = &mut self.index {
            index.insert(key.clone(), self.entries.len());
        } else if self.entries.len() == LINEAR {
            let mut index: HashMap<K, usize> = HashMap::default();
            index.reserve(LINEAR * 2);
            for (at, (k, _)) in self.entries.iter().enumerate() {
                index.insert(k.clone(), at);
            }
            index.insert(key.clone(), self.entries.len());
            self.index = Some(index);
        }
        self.entries.push((key, value));
    }

    /// The entries, in insertion order.
    pub(crate) fn into_entries(self) -> Vec<(K, V)> {
        self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_key_before_and_after_the_index() {
        let mut map = SmallMap::default();
        for key in 0..100u64 {
            map.insert_new(key, key * 2);
            for earlier in 0..=key {
                assert_eq!(map.get(&earlier), Some(&(earlier * 2)));
            }
            assert_eq!(map.get(&(key + 1)), None);
        }
        let entries = map.into_entries();
        assert_eq!(entries.len(), 100);
        assert!(entries.iter().enumerate().all(|(i, (k, _))| *k == i as u64));
    }
}
