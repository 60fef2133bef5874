//! [`StateProvider`]s over read snapshots: the latest state and the state at an earlier block.

use crate::{
    Account, StateProvider, StateResult,
    flat_cache::{FlatCache, FlatView},
    history,
    meta::Meta,
    tables::{self, AccountRow},
};
use alloy_primitives::{Address, B256, Bytes, U256};
use redb::{ReadOnlyTable, ReadTransaction};
use std::sync::Arc;

/// The latest committed state, read from one database snapshot.
///
/// The snapshot is consistent: blocks committed after its creation are not visible.
pub struct LatestState {
    head: Option<(u64, B256)>,
    /// Hot values of the head, when the snapshot is at the cache's head.
    flat: FlatView,
    accounts: ReadOnlyTable<&'static [u8; 20], &'static [u8]>,
    storage: ReadOnlyTable<&'static [u8; 52], &'static [u8; 32]>,
    code: ReadOnlyTable<&'static [u8; 32], &'static [u8]>,
}

impl LatestState {
    /// Opens the state tables of `txn`, reading hot values from `cache`.
    pub(crate) fn new(txn: &ReadTransaction, cache: Arc<FlatCache>) -> StateResult<Self> {
        let head = Meta::read_snapshot(txn)?.head;
        Ok(Self {
            head,
            flat: FlatView { cache, head },
            accounts: txn.open_table(tables::ACCOUNTS)?,
            storage: txn.open_table(tables::STORAGE)?,
            code: txn.open_table(tables::CODE)?,
        })
    }

    /// The block (and its state root) this snapshot shows; `None` before genesis.
    pub fn head(&self) -> Option<(u64, B256)> {
        self.head
    }

    /// The stored row of `address`, with its storage root.
    pub(crate) fn account_row(&self, address: Address) -> StateResult<Option<AccountRow>> {
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

    /// The value of `slot` of `address`.
    pub(crate) fn slot(&self, address: Address, slot: B256) -> StateResult<U256> {
        if let Some(value) = self.flat.slot(address, slot) {
            return Ok(value);
        }
        let value = self.storage.get(&tables::slot_key(address, slot))?;
        let value = value.map_or(U256::ZERO, |v| tables::u256_from(v.value()));
        self.flat.put_slot(address, slot, value);
        Ok(value)
    }
}

impl StateProvider for LatestState {
    fn account(&self, address: Address) -> StateResult<Option<Account>> {
        Ok(self.account_row(address)?.map(|row| row.account))
    }

    fn storage(&self, address: Address, slot: U256) -> StateResult<U256> {
        self.slot(address, B256::from(slot))
    }

    fn code_by_hash(&self, code_hash: B256) -> StateResult<Option<Bytes>> {
        Ok(self
            .code
            .get(&code_hash.0)?
            .map(|code| Bytes::copy_from_slice(code.value())))
    }
}

impl std::fmt::Debug for LatestState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LatestState")
            .field("head", &self.head)
            .finish_non_exhaustive()
    }
}

/// The state as of an earlier block, read from one database snapshot.
pub struct HistoricalState {
    block: u64,
    latest: LatestState,
    account_changes: ReadOnlyTable<&'static [u8; 28], &'static [u8]>,
    account_history: ReadOnlyTable<&'static [u8; 28], ()>,
    storage_changes: ReadOnlyTable<&'static [u8; 60], &'static [u8; 32]>,
    storage_history: ReadOnlyTable<&'static [u8; 60], ()>,
}

impl HistoricalState {
    /// Opens the state of `block` in `txn`; the caller checked that it is retained.
    pub(crate) fn new(
        txn: &ReadTransaction,
        block: u64,
        cache: Arc<FlatCache>,
    ) -> StateResult<Self> {
        Ok(Self {
            block,
            latest: LatestState::new(txn, cache)?,
            account_changes: txn.open_table(tables::ACCOUNT_CHANGES)?,
            account_history: txn.open_table(tables::ACCOUNT_HISTORY)?,
            storage_changes: txn.open_table(tables::STORAGE_CHANGES)?,
            storage_history: txn.open_table(tables::STORAGE_HISTORY)?,
        })
    }

    /// The block whose state this provider reads.
    pub fn block(&self) -> u64 {
        self.block
    }

    /// The stored row of `address` as of the block, with its storage root.
    pub(crate) fn account_row(&self, address: Address) -> StateResult<Option<AccountRow>> {
        let changes = &self.account_changes;
        match history::account_at(&self.account_history, changes, address, self.block)? {
            Some(row) => Ok(row),
            None => self.latest.account_row(address),
        }
    }

    /// The value of `slot` of `address` as of the block.
    pub(crate) fn slot(&self, address: Address, slot: B256) -> StateResult<U256> {
        let (history, changes) = (&self.storage_history, &self.storage_changes);
        match history::storage_at(history, changes, address, slot, self.block)? {
            Some(value) => Ok(value),
            None => self.latest.slot(address, slot),
        }
    }
}

impl StateProvider for HistoricalState {
    fn account(&self, address: Address) -> StateResult<Option<Account>> {
        Ok(self.account_row(address)?.map(|row| row.account))
    }

    fn storage(&self, address: Address, slot: U256) -> StateResult<U256> {
        self.slot(address, B256::from(slot))
    }

    fn code_by_hash(&self, code_hash: B256) -> StateResult<Option<Bytes>> {
        self.latest.code_by_hash(code_hash)
    }
}

impl std::fmt::Debug for HistoricalState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HistoricalState")
            .field("block", &self.block)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn providers_are_send_and_sync() {
        assert_send_sync::<LatestState>();
        assert_send_sync::<HistoricalState>();
    }
}
