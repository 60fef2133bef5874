//! The write path: applying a block's [`StateChanges`] inside the caller's transaction.

use crate::{
    AccountUpdate, StateChanges, StateError, StateResult,
    flat_cache::{FlatKey, FlatValue, FlatView},
    scan, ssmt,
    tables::{self, AccountRow},
    trie,
    tries::{Session, StorageJob},
};
use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use alloy_trie::EMPTY_ROOT_HASH;
use rayon::prelude::*;
use redb::{ReadableTable, Table, WriteTransaction};
use std::collections::BTreeMap;

/// The state tables opened in one write transaction.
pub(crate) struct Writer<'txn> {
    /// The block being written.
    number: u64,
    accounts: Table<'txn, &'static [u8; 20], &'static [u8]>,
    hashed_accounts: Table<'txn, &'static [u8; 32], &'static [u8]>,
    storage: Table<'txn, &'static [u8; 52], &'static [u8; 32]>,
    hashed_storage: Table<'txn, &'static [u8; 52], &'static [u8; 32]>,
    code: Table<'txn, &'static [u8; 32], &'static [u8]>,
    account_changes: Table<'txn, &'static [u8; 28], &'static [u8]>,
    storage_changes: Table<'txn, &'static [u8; 60], &'static [u8; 32]>,
    account_history: Table<'txn, &'static [u8; 28], ()>,
    storage_history: Table<'txn, &'static [u8; 60], ()>,
    /// Bytes of keys and values written.
    bytes: u64,
    /// Hot values of the head the block builds on.
    flat: FlatView,
    /// The values the block changed, for the cache once the block is committed.
    changes: Vec<(FlatKey, FlatValue)>,
}

impl<'txn> Writer<'txn> {
    /// Opens the tables for writing block `number`.
    pub(crate) fn open(
        txn: &'txn WriteTransaction,
        number: u64,
        flat: FlatView,
    ) -> StateResult<Self> {
        Ok(Self {
            number,
            accounts: txn.open_table(tables::ACCOUNTS)?,
            hashed_accounts: txn.open_table(tables::HASHED_ACCOUNTS)?,
            storage: txn.open_table(tables::STORAGE)?,
            hashed_storage: txn.open_table(tables::HASHED_STORAGE)?,
            code: txn.open_table(tables::CODE)?,
            account_changes: txn.open_table(tables::ACCOUNT_CHANGES)?,
            storage_changes: txn.open_table(tables::STORAGE_CHANGES)?,
            account_history: txn.open_table(tables::ACCOUNT_HISTORY)?,
            storage_history: txn.open_table(tables::STORAGE_HISTORY)?,
            bytes: 0,
            flat,
            changes: Vec::new(),
        })
    }

    /// Applies all changes of the block and returns the new state root: keys are hashed in
    /// parallel, flat values are read and written, then the storage tries of all changed
    /// accounts and the account trie are updated in one parallel run, and the account rows
    /// (whose storage roots that run produced) are written last.
    pub(crate) fn apply(
        &mut self,
        changes: &StateChanges,
        session: &mut Session<'_>,
    ) -> StateResult<B256> {
        self.write_code(&changes.code)?;
        let keys = session.hash_keys(changes);
        let mut plans = Vec::with_capacity(changes.accounts.len());
        let mut jobs = Vec::new();
        for ((address, update), keys) in changes.accounts.iter().zip(keys) {
            let old = self.account_row(*address)?;
            let job = self
                .apply_storage(*address, update, &keys.slots)?
                .map(|(wiped, ops)| {
                    jobs.push(StorageJob {
                        hashed: keys.address,
                        old_root: old.map_or(EMPTY_ROOT_HASH, |row| row.storage_root),
                        wiped,
                        ops,
                    });
                    jobs.len() - 1
                });
            plans.push(Plan {
                address: *address,
                hashed: keys.address,
                old,
                account: update.account,
                job,
            });
        }
        let account_ops = |roots: &[B256]| {
            let mut ops: Vec<ssmt::Op> = plans
                .par_iter()
                .filter_map(|plan| {
                    let new = plan.row(roots);
                    (new != plan.old).then(|| {
                        let leaf = new.map(|row| trie::account_leaf(&row).into_boxed_slice());
                        (ssmt::nibbles(plan.hashed.as_slice()), leaf)
                    })
                })
                .collect();
            // Distinct addresses have distinct hashes: the keys are unique.
            ops.par_sort_unstable_by(|a, b| a.0.cmp(&b.0));
            ops
        };
        let (storage_roots, root) = session.state_root(jobs, account_ops)?;
        for plan in &plans {
            let new = plan.row(&storage_roots);
            if new != plan.old {
                self.write_account(plan.address, plan.hashed, plan.old.as_ref(), new.as_ref())?;
            }
        }
        Ok(root)
    }

    /// The values the block changed so far.
    pub(crate) fn take_changes(&mut self) -> Vec<(FlatKey, FlatValue)> {
        std::mem::take(&mut self.changes)
    }

    /// Bytes of keys and values written to the flat tables so far.
    pub(crate) fn bytes_written(&self) -> u64 {
        self.bytes
    }

    /// Change sets describe the state before a block; there is none before genesis.
    fn keeps_history(&self) -> bool {
        self.number > 0
    }

    fn write_code(&mut self, code: &BTreeMap<B256, Bytes>) -> StateResult<()> {
        for (hash, bytes) in code {
            if keccak256(bytes) != *hash {
                let msg = format!("code under hash {hash} does not hash to it");
                return Err(StateError::InvalidArgument(msg));
            }
            self.code.insert(&hash.0, bytes.as_ref())?;
            self.bytes += 32 + bytes.len() as u64;
        }
        Ok(())
    }

    /// The row of `address` before the block. Each account is read once, before the block
    /// writes it, so the value read is the head's and may be cached.
    fn account_row(&self, address: Address) -> StateResult<Option<AccountRow>> {
        if let Some(row) = self.flat.account(address) {
            return Ok(row);
        }
        let row = match self.accounts.get(&address.0.0)? {
            Some(row) => Some(AccountRow::decode(row.value())?),
            None => None,
        };
        self.flat.put_account(address, row);
        Ok(row)
    }

    fn write_account(
        &mut self,
        address: Address,
        hashed: B256,
        old: Option<&AccountRow>,
        new: Option<&AccountRow>,
    ) -> StateResult<()> {
        if self.keeps_history() {
            let key = tables::account_change_key(self.number, address);
            self.account_changes
                .insert(&key, AccountRow::encode_opt(old).as_slice())?;
            self.account_history
                .insert(&tables::account_history_key(address, self.number), ())?;
            self.bytes += 28 + 104 + 28;
        }
        self.changes
            .push((FlatKey::Account(address), FlatValue::Account(new.copied())));
        match new {
            Some(row) => {
                let encoded = row.encode();
                self.accounts.insert(&address.0.0, encoded.as_slice())?;
                self.hashed_accounts.insert(&hashed.0, encoded.as_slice())?;
                self.bytes += 2 * (32 + 104);
            }
            None => {
                self.accounts.remove(&address.0.0)?;
                self.hashed_accounts.remove(&hashed.0)?;
            }
        }
        Ok(())
    }

    /// Applies the storage part of `update` to the flat tables. Returns `None` when no slot
    /// changed, else whether the storage was wiped and the storage-trie changes: all
    /// remaining slots after a wipe, the changed ones otherwise. A deleted account loses all
    /// of its storage.
    /// `hashed_slots` are the hashes of the slots of `update.storage`, in its order.
    fn apply_storage(
        &mut self,
        address: Address,
        update: &AccountUpdate,
        hashed_slots: &[B256],
    ) -> StateResult<Option<(bool, Vec<ssmt::Op>)>> {
        let wiped = update.wipe_storage || update.account.is_none();
        let mut touched = if wiped {
            self.all_slots(address)?
        } else {
            BTreeMap::new()
        };
        if update.account.is_some() {
            for ((slot, value), hashed) in update.storage.iter().zip(hashed_slots) {
                let slot = B256::from(*slot);
                match touched.get_mut(&slot) {
                    Some(entry) => entry.1 = *value,
                    None => {
                        let old = self.slot_value(address, slot)?;
                        touched.insert(slot, (old, *value, *hashed));
                    }
                }
            }
        }
        let (mut changed, mut ops) = (false, Vec::new());
        for (slot, (old, new, hashed)) in touched {
            if old != new {
                self.write_slot(address, (slot, hashed), old, new)?;
                changed = true;
            }
            if old != new || (wiped && !new.is_zero()) {
                let leaf = (!new.is_zero()).then(|| trie::storage_leaf(new).into_boxed_slice());
                ops.push((ssmt::nibbles(hashed.as_slice()), leaf));
            }
        }
        ssmt::sort_ops(&mut ops);
        Ok(changed.then_some((wiped, ops)))
    }

    /// All slots of `address` as `slot -> (value, 0, hashed slot)`: what a wipe does to them.
    fn all_slots(&self, address: Address) -> StateResult<BTreeMap<B256, SlotChange>> {
        let (start, end) = scan::address_range(address);
        let mut slots = BTreeMap::new();
        for entry in self.storage.range::<&[u8; 52]>(&start..=&end)? {
            let (key, value) = entry?;
            let slot = tables::slot_of(key.value());
            let value = tables::u256_from(value.value());
            slots.insert(slot, (value, U256::ZERO, keccak256(slot)));
        }
        Ok(slots)
    }

    /// The value of a slot before the block (read once, before the block writes it).
    fn slot_value(&self, address: Address, slot: B256) -> StateResult<U256> {
        if let Some(value) = self.flat.slot(address, slot) {
            return Ok(value);
        }
        let value = self.storage.get(&tables::slot_key(address, slot))?;
        let value = value.map_or(U256::ZERO, |v| tables::u256_from(v.value()));
        self.flat.put_slot(address, slot, value);
        Ok(value)
    }

    /// `slot` is the slot and its hash.
    fn write_slot(
        &mut self,
        address: Address,
        (slot, hashed): (B256, B256),
        old: U256,
        new: U256,
    ) -> StateResult<()> {
        if self.keeps_history() {
            let key = tables::storage_change_key(self.number, address, slot);
            self.storage_changes
                .insert(&key, &tables::u256_bytes(old))?;
            let key = tables::storage_history_key(address, slot, self.number);
            self.storage_history.insert(&key, ())?;
            self.bytes += 60 + 32 + 60;
        }
        self.changes
            .push((FlatKey::Slot(address, slot), FlatValue::Slot(new)));
        let plain = tables::slot_key(address, slot);
        let hashed = tables::slot_key(address, hashed);
        if new.is_zero() {
            self.storage.remove(&plain)?;
            self.hashed_storage.remove(&hashed)?;
        } else {
            let value = tables::u256_bytes(new);
            self.storage.insert(&plain, &value)?;
            self.hashed_storage.insert(&hashed, &value)?;
            self.bytes += 2 * (52 + 32);
        }
        Ok(())
    }
}

/// A slot's value before and after the block, and the slot's hash.
type SlotChange = (U256, U256, B256);

/// What the block does to one account row.
struct Plan {
    address: Address,
    /// keccak256 of the address.
    hashed: B256,
    /// The row before the block.
    old: Option<AccountRow>,
    /// The account after the block (`None`: deleted).
    account: Option<crate::Account>,
    /// Index of the account's storage job, if its storage changed.
    job: Option<usize>,
}

impl Plan {
    /// The row after the block, given the new storage roots of the block's storage jobs.
    fn row(&self, storage_roots: &[B256]) -> Option<AccountRow> {
        let storage_root = match self.job {
            Some(i) => storage_roots[i],
            None => self.old.map_or(EMPTY_ROOT_HASH, |row| row.storage_root),
        };
        self.account.map(|account| AccountRow {
            account,
            storage_root,
        })
    }
}

impl std::fmt::Debug for Writer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("number", &self.number)
            .finish_non_exhaustive()
    }
}

/// Checks that `number` is the block after the committed head (`None`: nothing committed).
pub(crate) fn check_order(head: Option<u64>, number: u64) -> StateResult<()> {
    let expected = match head {
        Some(head) => head.checked_add(1).ok_or(StateError::OutOfOrder {
            got: number,
            expected: head,
        })?,
        None => 0,
    };
    if number == expected {
        Ok(())
    } else {
        Err(StateError::OutOfOrder {
            got: number,
            expected,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_checks() {
        assert!(check_order(None, 0).is_ok());
        assert!(matches!(
            check_order(None, 1),
            Err(StateError::OutOfOrder {
                got: 1,
                expected: 0
            })
        ));
        assert!(check_order(Some(4), 5).is_ok());
        assert!(check_order(Some(4), 4).is_err());
        assert!(check_order(Some(u64::MAX), 0).is_err());
    }
}
