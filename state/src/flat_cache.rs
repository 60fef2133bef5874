//! Hot flat values in memory: account rows and storage slots of the committed head.
//!
//! The cache is tagged with the head it describes. Readers use it only when their snapshot
//! is at that head, so a reader never sees a value of another block. A committed block moves
//! the tag forward and takes the block's changed values; anything else (a block committed
//! elsewhere, a missed notification) clears it. Within the byte budget, entries age in two
//! generations: the young one fills up, then becomes the old one, and the old one is dropped;
//! hits in the old generation move back to the young one.

use crate::tables::AccountRow;
use alloy_primitives::{Address, B256, U256, map::HashMap};
use parking_lot::Mutex;

/// A cached key: an account, or one storage slot of an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum FlatKey {
    /// An account row.
    Account(Address),
    /// A storage slot.
    Slot(Address, B256),
}

/// A cached value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FlatValue {
    /// An account row, `None` for an absent account.
    Account(Option<AccountRow>),
    /// A slot value (zero when unset).
    Slot(U256),
}

/// Estimated bytes of one entry.
const ENTRY_BYTES: usize = 200;

/// The flat-value cache of a state.
#[derive(Debug)]
pub(crate) struct FlatCache {
    /// Entries per generation.
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    head: Option<(u64, B256)>,
    young: HashMap<FlatKey, FlatValue>,
    old: HashMap<FlatKey, FlatValue>,
    /// The changes of a block written but not committed yet, with the head it builds on.
    pending: Option<Pending>,
}

#[derive(Debug)]
struct Pending {
    parent: Option<(u64, B256)>,
    head: (u64, B256),
    changes: Vec<(FlatKey, FlatValue)>,
}

impl Inner {
    fn insert(&mut self, key: FlatKey, value: FlatValue, capacity: usize) {
        if self.young.len() >= capacity {
            self.old = std::mem::take(&mut self.young);
        }
        self.young.insert(key, value);
    }

    fn clear(&mut self, head: Option<(u64, B256)>) {
        self.head = head;
        self.young.clear();
        self.old.clear();
    }
}

impl FlatCache {
    /// A cache of at most about `bytes` bytes (0 disables it).
    pub(crate) fn new(bytes: usize) -> Self {
        Self {
            capacity: bytes / ENTRY_BYTES / 2,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// The value of `key` at `head`, if cached.
    pub(crate) fn get(&self, head: Option<(u64, B256)>, key: &FlatKey) -> Option<FlatValue> {
        if self.capacity == 0 {
            return None;
        }
        let mut inner = self.inner.lock();
        if inner.head != head || head.is_none() {
            return None;
        }
        if let Some(value) = inner.young.get(key) {
            return Some(*value);
        }
        let value = inner.old.remove(key)?;
        inner.insert(*key, value, self.capacity);
        Some(value)
    }

    /// Caches `value`, read for `key` in a snapshot at `head`.
    pub(crate) fn insert(&self, head: Option<(u64, B256)>, key: FlatKey, value: FlatValue) {
        if self.capacity == 0 || head.is_none() {
            return;
        }
        let mut inner = self.inner.lock();
        if inner.head == head {
            inner.insert(key, value, self.capacity);
        }
    }

    /// Keeps the changed values of block `head`, written on top of `parent`, until the block
    /// is committed.
    pub(crate) fn set_pending(
        &self,
        parent: Option<(u64, B256)>,
        head: (u64, B256),
        changes: Vec<(FlatKey, FlatValue)>,
    ) {
        self.inner.lock().pending = Some(Pending {
            parent,
            head,
            changes,
        });
    }

    /// Block `number` was committed: the cache moves to it.
    pub(crate) fn on_committed(&self, number: u64) {
        let mut inner = self.inner.lock();
        let Some(pending) = inner.pending.take_if(|p| p.head.0 == number) else {
            return;
        };
        if inner.head != pending.parent {
            inner.clear(Some(pending.head));
            return;
        }
        inner.head = Some(pending.head);
        for (key, value) in pending.changes {
            inner.old.remove(&key);
            inner.insert(key, value, self.capacity);
        }
    }

    /// Empties the cache and tags it with `head` (the committed head on open).
    pub(crate) fn reset(&self, head: Option<(u64, B256)>) {
        self.inner.lock().clear(head);
    }

    /// Block `number` was dropped: forget its changes.
    pub(crate) fn on_aborted(&self, number: u64) {
        let mut inner = self.inner.lock();
        inner.pending.take_if(|p| p.head.0 == number);
    }
}

/// A cache seen from a snapshot at `head`.
#[derive(Clone, Debug)]
pub(crate) struct FlatView {
    /// The cache.
    pub(crate) cache: std::sync::Arc<FlatCache>,
    /// The head of the snapshot.
    pub(crate) head: Option<(u64, B256)>,
}

impl FlatView {
    /// The cached account row of `address`, if any.
    pub(crate) fn account(&self, address: Address) -> Option<Option<AccountRow>> {
        match self.cache.get(self.head, &FlatKey::Account(address))? {
            FlatValue::Account(row) => Some(row),
            FlatValue::Slot(_) => None,
        }
    }

    /// The cached value of `slot` of `address`, if any.
    pub(crate) fn slot(&self, address: Address, slot: B256) -> Option<U256> {
        match self.cache.get(self.head, &FlatKey::Slot(address, slot))? {
            FlatValue::Slot(value) => Some(value),
            FlatValue::Account(_) => None,
        }
    }

    /// Caches the account row of `address` read from the snapshot.
    pub(crate) fn put_account(&self, address: Address, row: Option<AccountRow>) {
        let key = FlatKey::Account(address);
        self.cache.insert(self.head, key, FlatValue::Account(row));
    }

    /// Caches the value of `slot` of `address` read from the snapshot.
    pub(crate) fn put_slot(&self, address: Address, slot: B256, value: U256) {
        let key = FlatKey::Slot(address, slot);
        self.cache.insert(self.head, key, FlatValue::Slot(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(n: u64) -> Option<(u64, B256)> {
        Some((n, B256::with_last_byte(n as u8)))
    }

    #[test]
    fn values_follow_the_head() {
        let cache = FlatCache::new(ENTRY_BYTES * 8);
        let key = FlatKey::Slot(Address::ZERO, B256::ZERO);
        cache.insert(head(1), key, FlatValue::Slot(U256::from(1)));
        assert_eq!(cache.get(head(1), &key), None, "no head yet");
        cache.set_pending(None, head(1).unwrap(), vec![]);
        cache.on_committed(1);
        cache.insert(head(1), key, FlatValue::Slot(U256::from(1)));
        assert_eq!(
            cache.get(head(1), &key),
            Some(FlatValue::Slot(U256::from(1)))
        );
        assert_eq!(cache.get(head(2), &key), None);
        cache.set_pending(
            head(1),
            head(2).unwrap(),
            vec![(key, FlatValue::Slot(U256::from(2)))],
        );
        cache.on_aborted(2);
        cache.on_committed(2);
        assert_eq!(
            cache.get(head(1), &key),
            Some(FlatValue::Slot(U256::from(1)))
        );
        cache.set_pending(
            head(1),
            head(2).unwrap(),
            vec![(key, FlatValue::Slot(U256::from(2)))],
        );
        cache.on_committed(2);
        assert_eq!(cache.get(head(1), &key), None);
        assert_eq!(
            cache.get(head(2), &key),
            Some(FlatValue::Slot(U256::from(2)))
        );
        // A block built on another parent clears the cache.
        cache.set_pending(head(7), head(3).unwrap(), vec![]);
        cache.on_committed(3);
        assert_eq!(cache.get(head(3), &key), None);
    }

    #[test]
    fn generations_bound_the_size() {
        let cache = FlatCache::new(ENTRY_BYTES * 8);
        cache.set_pending(None, head(1).unwrap(), vec![]);
        cache.on_committed(1);
        for i in 0..100u8 {
            let key = FlatKey::Account(Address::with_last_byte(i));
            cache.insert(head(1), key, FlatValue::Account(None));
        }
        let inner = cache.inner.lock();
        assert!(inner.young.len() <= 4 && inner.old.len() <= 4);
    }
}
