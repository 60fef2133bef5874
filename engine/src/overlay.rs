//! [`Overlay`]: a [`StateProvider`] with a part of a block's [`StateChanges`] on top, and
//! [`merge_changes`], which adds the changes of the block's next part to them.

use alloy_primitives::{Address, B256, Bytes, U256};
use altius_state::{Account, AccountUpdate, StateChanges, StateProvider, StateResult};
use std::collections::btree_map::Entry;

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
    if acc.accounts.len() < next.accounts.len() {
        // Fold the smaller, earlier changes into the larger, later ones.
        let earlier = std::mem::replace(acc, next);
        for (hash, code) in earlier.code {
            acc.code.entry(hash).or_insert(code);
        }
        for (address, prev) in earlier.accounts {
            let merged = match acc.accounts.remove(&address) {
                None => Some(prev),
                Some(update) => normalize(base, address, combine(prev, update))?,
            };
            if let Some(update) = merged {
                acc.accounts.insert(address, update);
            }
        }
        return Ok(());
    }
    acc.code.extend(next.code);
    for (address, update) in next.accounts {
        let merged = match acc.accounts.entry(address) {
            Entry::Vacant(entry) => {
                entry.insert(update);
                continue;
            }
            Entry::Occupied(entry) => combine(entry.remove(), update),
        };
        if let Some(update) = normalize(base, address, merged)? {
            acc.accounts.insert(address, update);
        }
    }
    Ok(())
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
