//! [`Overlay`]: a [`StateProvider`] with a part of a block's [`StateChanges`] on top, and
//! [`merge_changes`], which adds the changes of the block's next part to them.

use alloy_primitives::{Address, B256, Bytes, U256};
use altius_state::{
    Account, AccountChanges, AccountUpdate, StateChanges, StateProvider, StateResult,
};
use std::{cmp::Ordering, collections::btree_map::Entry};

/// `base` with `changes` applied.
pub(crate) struct Overlay<'a> {
    base: &'a dyn StateProvider,
    changes: &'a StateChanges,
}

impl<'a> Overlay<'a> {
    /// `base` seen through `changes`.
    pub(crate) fn new(base: &'a dyn StateProvider, changes: &'a StateChanges) -> Self {
        Self { base, changes }
    }
}

impl StateProvider for Overlay<'_> {
    fn account(&self, address: Address) -> StateResult<Option<Account>> {
        match self.changes.accounts.get(&address) {
            Some(update) => Ok(update.account),
            None => self.base.account(address),
        }
    }

    fn storage(&self, address: Address, slot: U256) -> StateResult<U256> {
        if let Some(update) = self.changes.accounts.get(&address) {
            if let Some(value) = update.storage.get(&slot) {
                return Ok(*value);
            }
            if update.wipe_storage || update.account.is_none() {
                return Ok(U256::ZERO);
            }
        }
        self.base.storage(address, slot)
    }

    fn code_by_hash(&self, code_hash: B256) -> StateResult<Option<Bytes>> {
        match self.changes.code.get(&code_hash) {
            Some(code) => Ok(Some(code.clone())),
            None => self.base.code_by_hash(code_hash),
        }
    }
}

/// Adds `next`, the changes of the block's next part computed over `Overlay(base, acc)`, to
/// `acc`, the changes of its earlier parts over `base`: the result is what one run of both
/// parts over `base` reports (slots back at their value in `base` and accounts back to
/// what they were are left out).
pub(crate) fn merge_changes(
    base: &dyn StateProvider,
    acc: &mut StateChanges,
    next: StateChanges,
) -> StateResult<()> {
    if acc.is_empty() {
        *acc = next;
        return Ok(());
    }
    // The same hash is the same code.
    acc.code.extend(next.code);
    // Both lists are sorted: one pass merges them.
    let (mut earlier, mut later) = (
        std::mem::take(&mut acc.accounts).into_iter(),
        next.accounts.into_iter(),
    );
    let mut merged = Vec::with_capacity(earlier.len() + later.len());
    let (mut prev, mut update) = (earlier.next(), later.next());
    loop {
        match (prev.take(), update.take()) {
            (Some(p), Some(u)) => match p.0.cmp(&u.0) {
                Ordering::Less => {
                    merged.push(p);
                    (prev, update) = (earlier.next(), Some(u));
                }
                Ordering::Greater => {
                    merged.push(u);
                    (prev, update) = (Some(p), later.next());
                }
                Ordering::Equal => {
                    if let Some(both) = merge_account(base, p.0, p.1, u.1)? {
                        merged.push((p.0, both));
                    }
                    (prev, update) = (earlier.next(), later.next());
                }
            },
            (Some(p), None) => {
                merged.push(p);
                merged.extend(earlier);
                break;
            }
            (None, Some(u)) => {
                merged.push(u);
                merged.extend(later);
                break;
            }
            (None, None) => break,
        }
    }
    acc.accounts = AccountChanges::from_sorted(merged);
    Ok(())
}

/// `prev` (over `base`) followed by `update` (over `base` with `prev` applied), as a run of
/// both over `base` reports it; `None` when together they change nothing.
fn merge_account(
    base: &dyn StateProvider,
    address: Address,
    mut prev: AccountUpdate,
    update: AccountUpdate,
) -> StateResult<Option<AccountUpdate>> {
    if update.wipe_storage || update.account.is_none() {
        return normalize(base, address, combine(prev, update));
    }
    let original = base.account(address)?;
    // Storage `prev` does not know reads as in `base` (or zero after a wipe), so a slot only
    // `update` wrote differs from it; only slots both wrote need a look at `base`.
    let wiped = prev.wipe_storage || original.is_none();
    let changed = |slot: U256, value: U256| -> StateResult<bool> {
        Ok(if wiped {
            !value.is_zero()
        } else {
            value != base.storage(address, slot)?
        })
    };
    // The smaller map goes into the larger; on a slot both wrote, `update`'s value counts.
    if update.storage.len() <= prev.storage.len() {
        for (slot, value) in update.storage {
            match prev.storage.entry(slot) {
                Entry::Vacant(entry) => {
                    entry.insert(value);
                }
                Entry::Occupied(entry) if changed(slot, value)? => *entry.into_mut() = value,
                Entry::Occupied(entry) => {
                    entry.remove();
                }
            }
        }
    } else {
        let mut storage = update.storage;
        for (slot, value) in std::mem::take(&mut prev.storage) {
            match storage.entry(slot) {
                Entry::Vacant(entry) => {
                    entry.insert(value);
                }
                Entry::Occupied(entry) if !changed(slot, *entry.get())? => {
                    entry.remove();
                }
                Entry::Occupied(_) => {}
            }
        }
        prev.storage = storage;
    }
    prev.account = update.account;
    prev.wipe_storage &= original.is_some();
    if prev.account == original && prev.storage.is_empty() && !prev.wipe_storage {
        return Ok(None);
    }
    Ok(Some(prev))
}

/// `prev` followed by `update`, before normalization.
fn combine(mut prev: AccountUpdate, update: AccountUpdate) -> AccountUpdate {
    if update.wipe_storage || update.account.is_none() {
        prev.storage = update.storage;
        prev.wipe_storage = true;
    } else {
        prev.storage.extend(update.storage);
    }
    prev.account = update.account;
    prev
}

/// `update` as a run over `base` reports it, `None` when it changes nothing.
fn normalize(
    base: &dyn StateProvider,
    address: Address,
    mut update: AccountUpdate,
) -> StateResult<Option<AccountUpdate>> {
    let original = base.account(address)?;
    update.wipe_storage &= original.is_some();
    let Some(current) = update.account else {
        return Ok(original.map(|_| AccountUpdate {
            account: None,
            wipe_storage: true,
            storage: Default::default(),
        }));
    };
    let mut slots = std::collections::BTreeMap::new();
    for (slot, value) in std::mem::take(&mut update.storage) {
        let keep = if update.wipe_storage || original.is_none() {
            !value.is_zero()
        } else {
            value != base.storage(address, slot)?
        };
        if keep {
            slots.insert(slot, value);
        }
    }
    update.storage = slots;
    if Some(current) == original && update.storage.is_empty() && !update.wipe_storage {
        return Ok(None);
    }
    Ok(Some(update))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::MemoryState;
    use alloy_primitives::KECCAK256_EMPTY;

    const A: Address = Address::repeat_byte(0xa);

    fn account(nonce: u64) -> Account {
        Account {
            nonce,
            balance: U256::from(1),
            code_hash: KECCAK256_EMPTY,
        }
    }

    fn update(nonce: u64, slots: &[(u64, u64)]) -> StateChanges {
        let storage = slots
            .iter()
            .map(|(k, v)| (U256::from(*k), U256::from(*v)))
            .collect();
        let update = AccountUpdate {
            account: Some(account(nonce)),
            wipe_storage: false,
            storage,
        };
        StateChanges {
            accounts: [(A, update)].into(),
            code: Default::default(),
        }
    }

    /// Slots both parts wrote are compared with the base, whichever part wrote more slots.
    #[test]
    fn merged_parts_report_what_one_run_reports() {
        let mut base = MemoryState::default();
        base.accounts.insert(A, account(0));
        base.storage.insert((A, U256::from(1)), U256::from(10));
        base.storage.insert((A, U256::from(2)), U256::from(20));
        // The first part writes 1 and 3; the second puts 1 back and writes 2 (and more).
        let first = update(1, &[(1, 11), (3, 30)]);
        for extra in [vec![], vec![(4, 40), (5, 50), (6, 60)]] {
            let mut slots = vec![(1, 10), (2, 21)];
            slots.extend(extra.iter().copied());
            let mut acc = first.clone();
            merge_changes(&base, &mut acc, update(2, &slots)).unwrap();
            let mut expected = vec![(2, 21), (3, 30)];
            expected.extend(extra);
            assert_eq!(
                acc,
                update(2, &expected),
                "{} slots in the second part",
                slots.len()
            );
        }
        // Back to the base entirely: no change at all.
        let mut acc = update(1, &[(1, 11)]);
        let mut back = update(0, &[(1, 10)]);
        back.accounts.get_mut(&A).unwrap().account = Some(account(0));
        merge_changes(&base, &mut acc, back).unwrap();
        assert!(acc.is_empty(), "{acc:?}");
    }
}
