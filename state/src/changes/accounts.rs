//! [`AccountChanges`]: the accounts a block changed, as one list sorted by address.

use super::AccountUpdate;
use alloy_primitives::Address;
use std::ops::Index;

/// The accounts a block changed and what it did to each, sorted by address, each address
/// once.
///
/// A map with `BTreeMap`'s interface where blocks use it, kept as one sorted list: an
/// executor hands its changes over already in order (and the parallel one merges the
/// sorted lists of its threads) without building a tree, readers walk it in order, and a
/// lookup is a binary search. Inserting in address order appends; inserting in the middle
/// moves the entries after it: build large unordered sets with [`FromIterator`] or
/// [`AccountChanges::from_sorted`] instead.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountChanges {
    entries: Vec<(Address, AccountUpdate)>,
}

impl AccountChanges {
    /// No accounts.
    pub const fn new() -> Self {
        Self {
            entries: Vec::new(),
        }
    }

    /// No accounts, with room for `capacity` of them.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            entries: Vec::with_capacity(capacity),
        }
    }

    /// The changes in `entries`, which are expected sorted by address with each address once
    /// (then this only checks it); otherwise they are sorted, and for an address given more
    /// than once the last one counts, as [`FromIterator`] does.
    pub fn from_sorted(entries: Vec<(Address, AccountUpdate)>) -> Self {
        if entries.windows(2).all(|pair| pair[0].0 < pair[1].0) {
            return Self { entries };
        }
        entries.into_iter().collect()
    }

    /// Accounts changed.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no account changed.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn position(&self, address: &Address) -> Result<usize, usize> {
        self.entries.binary_search_by(|(a, _)| a.cmp(address))
    }

    /// What the block did to `address`, if it changed it.
    pub fn get(&self, address: &Address) -> Option<&AccountUpdate> {
        let i = self.position(address).ok()?;
        Some(&self.entries[i].1)
    }

    /// [`Self::get`], to change it.
    pub fn get_mut(&mut self, address: &Address) -> Option<&mut AccountUpdate> {
        let i = self.position(address).ok()?;
        Some(&mut self.entries[i].1)
    }

    /// Whether the block changed `address`.
    pub fn contains_key(&self, address: &Address) -> bool {
        self.position(address).is_ok()
    }

    /// Sets what the block did to `address`; returns what was set before, if anything.
    pub fn insert(&mut self, address: Address, update: AccountUpdate) -> Option<AccountUpdate> {
        // Inserted in order (a merge of sorted lists), each one goes last: no search.
        if self.entries.last().is_none_or(|(last, _)| *last < address) {
            self.entries.push((address, update));
            return None;
        }
        match self.position(&address) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, update)),
            Err(i) => {
                self.entries.insert(i, (address, update));
                None
            }
        }
    }

    /// What the block did to `address`, set to `default()` first if it did not change it.
    pub fn get_or_insert_with(
        &mut self,
        address: Address,
        default: impl FnOnce() -> AccountUpdate,
    ) -> &mut AccountUpdate {
        let i = match self.position(&address) {
            Ok(i) => i,
            Err(i) => {
                self.entries.insert(i, (address, default()));
                i
            }
        };
        &mut self.entries[i].1
    }

    /// Takes `address` out; returns what the block did to it, if it changed it.
    pub fn remove(&mut self, address: &Address) -> Option<AccountUpdate> {
        let i = self.position(address).ok()?;
        Some(self.entries.remove(i).1)
    }

    /// The changed accounts in address order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&Address, &AccountUpdate)> {
        self.entries
            .iter()
            .map(|(address, update)| (address, update))
    }

    /// [`Self::iter`], to change the updates.
    pub fn iter_mut(&mut self) -> impl ExactSizeIterator<Item = (&Address, &mut AccountUpdate)> {
        self.entries
            .iter_mut()
            .map(|(address, update)| (&*address, update))
    }

    /// The changed addresses in order.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &Address> {
        self.entries.iter().map(|(address, _)| address)
    }

    /// The updates in address order.
    pub fn values(&self) -> impl ExactSizeIterator<Item = &AccountUpdate> {
        self.entries.iter().map(|(_, update)| update)
    }

    /// The sorted list itself.
    pub fn as_slice(&self) -> &[(Address, AccountUpdate)] {
        &self.entries
    }

    /// The sorted list itself, taken.
    pub fn into_vec(self) -> Vec<(Address, AccountUpdate)> {
        self.entries
    }
}

impl FromIterator<(Address, AccountUpdate)> for AccountChanges {
    /// Sorts them; for an address given more than once the last one counts (as when
    /// inserting them one by one).
    fn from_iter<I: IntoIterator<Item = (Address, AccountUpdate)>>(iter: I) -> Self {
        let mut entries: Vec<_> = iter.into_iter().collect();
        // Stable: equal addresses stay in the order given.
        entries.sort_by_key(|entry| entry.0);
        let mut deduped: Vec<(Address, AccountUpdate)> = Vec::with_capacity(entries.len());
        for entry in entries {
            match deduped.last_mut() {
                Some(last) if last.0 == entry.0 => *last = entry,
                _ => deduped.push(entry),
            }
        }
        Self { entries: deduped }
    }
}

impl<const N: usize> From<[(Address, AccountUpdate); N]> for AccountChanges {
    fn from(entries: [(Address, AccountUpdate); N]) -> Self {
        entries.into_iter().collect()
    }
}

impl Extend<(Address, AccountUpdate)> for AccountChanges {
    /// As inserting them one by one, in one pass.
    fn extend<I: IntoIterator<Item = (Address, AccountUpdate)>>(&mut self, iter: I) {
        let mut entries = std::mem::take(&mut self.entries);
        entries.extend(iter);
        *self = entries.into_iter().collect();
    }
}

impl IntoIterator for AccountChanges {
    type Item = (Address, AccountUpdate);
    type IntoIter = std::vec::IntoIter<(Address, AccountUpdate)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<'a> IntoIterator for &'a AccountChanges {
    type Item = (&'a Address, &'a AccountUpdate);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (Address, AccountUpdate)>,
        fn(&'a (Address, AccountUpdate)) -> (&'a Address, &'a AccountUpdate),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.entries
            .iter()
            .map(|(address, update)| (address, update))
    }
}

impl Index<&Address> for AccountChanges {
    type Output = AccountUpdate;

    /// # Panics
    ///
    /// When the block did not change `address`.
    fn index(&self, address: &Address) -> &AccountUpdate {
        self.get(address).expect("no change of this account")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Account;
    use alloy_primitives::U256;

    fn update(balance: u64) -> AccountUpdate {
        AccountUpdate {
            account: Some(Account {
                balance: U256::from(balance),
                ..Account::default()
            }),
            ..AccountUpdate::default()
        }
    }

    fn address(byte: u8) -> Address {
        Address::repeat_byte(byte)
    }

    #[test]
    fn behaves_as_a_sorted_map() {
        let mut changes = AccountChanges::new();
        assert!(changes.is_empty());
        assert_eq!(changes.insert(address(3), update(3)), None);
        assert_eq!(changes.insert(address(1), update(1)), None);
        assert_eq!(changes.insert(address(2), update(2)), None);
        assert_eq!(changes.insert(address(1), update(10)), Some(update(1)));
        let keys: Vec<_> = changes.keys().copied().collect();
        assert_eq!(keys, [address(1), address(2), address(3)]);
        assert_eq!(changes[&address(1)], update(10));
        assert!(changes.contains_key(&address(2)));
        assert_eq!(changes.get(&address(4)), None);
        changes.get_mut(&address(2)).unwrap().wipe_storage = true;
        assert!(changes[&address(2)].wipe_storage);
        assert_eq!(
            changes.remove(&address(2)).map(|u| u.wipe_storage),
            Some(true)
        );
        assert_eq!(changes.remove(&address(2)), None);
        assert_eq!(changes.len(), 2);
        let pairs: Vec<_> = (&changes).into_iter().map(|(a, _)| *a).collect();
        assert_eq!(pairs, [address(1), address(3)]);
    }

    #[test]
    fn inserting_in_order_appends_and_an_address_again_replaces() {
        let mut changes = AccountChanges::with_capacity(3);
        assert_eq!(changes.insert(address(1), update(1)), None);
        assert_eq!(changes.insert(address(4), update(4)), None);
        assert_eq!(changes.insert(address(4), update(40)), Some(update(4)));
        assert_eq!(changes.insert(address(2), update(2)), None);
        assert_eq!(changes.insert(address(5), update(5)), None);
        let entries = changes.into_vec();
        let expected = [(1, 1), (2, 2), (4, 40), (5, 5)].map(|(a, u)| (address(a), update(u)));
        assert_eq!(entries, expected);
    }

    #[test]
    fn collecting_sorts_and_keeps_the_last_of_an_address() {
        let changes: AccountChanges = [
            (address(5), update(1)),
            (address(2), update(2)),
            (address(5), update(3)),
        ]
        .into_iter()
        .collect();
        let entries = changes.clone().into_vec();
        assert_eq!(entries, [(address(2), update(2)), (address(5), update(3))]);
        let mut extended = changes;
        extended.extend([(address(1), update(4)), (address(2), update(5))]);
        let entries = extended.into_vec();
        assert_eq!(
            entries,
            [
                (address(1), update(4)),
                (address(2), update(5)),
                (address(5), update(3))
            ]
        );
    }

    #[test]
    fn from_sorted_takes_a_sorted_list_and_sorts_any_other() {
        let sorted = vec![(address(1), update(1)), (address(2), update(2))];
        assert_eq!(
            AccountChanges::from_sorted(sorted.clone()).into_vec(),
            sorted
        );
        let unsorted = vec![
            (address(2), update(2)),
            (address(1), update(1)),
            (address(2), update(3)),
        ];
        let entries = AccountChanges::from_sorted(unsorted).into_vec();
        assert_eq!(entries, [(address(1), update(1)), (address(2), update(3))]);
    }
}
