//! Tests of the whole crate: roots, history, proofs, atomicity and Ethereum fixtures.

mod atomicity;
mod fixtures;
mod history;
mod proofs;
mod random;
mod restart;
mod trie_fixtures;

use crate::{Account, AccountUpdate, StateChanges, StateCommitter, StateDb};
use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use alloy_trie::{TrieAccount, root};
use redb::{Database, backends::InMemoryBackend};
use std::{collections::BTreeMap, sync::Arc};

/// A fresh in-memory database.
pub(crate) fn mem_db() -> Arc<Database> {
    Arc::new(
        Database::builder()
            .create_with_backend(InMemoryBackend::new())
            .unwrap(),
    )
}

/// A state on a fresh in-memory database.
pub(crate) fn mem_state() -> StateDb {
    StateDb::open(mem_db()).unwrap()
}

/// Commits `changes` as block `number` in a transaction of its own.
pub(crate) fn commit(state: &StateDb, number: u64, changes: &StateChanges) -> B256 {
    let txn = state.database().begin_write().unwrap();
    let root = state.commit_block(&txn, number, changes).unwrap();
    txn.commit().unwrap();
    state.on_committed(number);
    root
}

/// An account with the given nonce and balance and no code.
pub(crate) fn account(nonce: u64, balance: u64) -> Account {
    Account {
        nonce,
        balance: U256::from(balance),
        ..Account::default()
    }
}

/// An update setting `account` and the given slots.
pub(crate) fn update(account: Account, storage: &[(u64, u64)]) -> AccountUpdate {
    let storage = storage
        .iter()
        .map(|&(k, v)| (U256::from(k), U256::from(v)))
        .collect();
    AccountUpdate {
        account: Some(account),
        wipe_storage: false,
        storage,
    }
}

/// Changes of the given accounts and no code.
pub(crate) fn changes(
    accounts: impl IntoIterator<Item = (Address, AccountUpdate)>,
) -> StateChanges {
    StateChanges {
        accounts: accounts.into_iter().collect(),
        code: BTreeMap::new(),
    }
}

/// A reference world state kept in memory, with roots computed from scratch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Model {
    pub(crate) accounts: BTreeMap<Address, (Account, BTreeMap<U256, U256>)>,
    pub(crate) code: BTreeMap<B256, Bytes>,
}

impl Model {
    /// Applies a block the way [`StateChanges`] documents it.
    pub(crate) fn apply(&mut self, changes: &StateChanges) {
        self.code.extend(changes.code.clone());
        for (address, update) in &changes.accounts {
            let Some(account) = update.account else {
                self.accounts.remove(address);
                continue;
            };
            let entry = self.accounts.entry(*address).or_default();
            entry.0 = account;
            if update.wipe_storage {
                entry.1.clear();
            }
            for (slot, value) in &update.storage {
                if value.is_zero() {
                    entry.1.remove(slot);
                } else {
                    entry.1.insert(*slot, *value);
                }
            }
        }
    }

    /// The storage root of one account's slots.
    pub(crate) fn storage_root(storage: &BTreeMap<U256, U256>) -> B256 {
        root::storage_root_unhashed(storage.iter().map(|(k, v)| (B256::from(*k), *v)))
    }

    /// The state root, from scratch.
    pub(crate) fn root(&self) -> B256 {
        root::state_root_unhashed(self.accounts.iter().map(|(address, (a, storage))| {
            let storage_root = Self::storage_root(storage);
            (
                *address,
                TrieAccount::new(a.nonce, a.balance, storage_root, a.code_hash),
            )
        }))
    }

    /// The account trie leaf value of `address`, if present.
    pub(crate) fn account_leaf(&self, address: &Address) -> Option<Vec<u8>> {
        self.accounts.get(address).map(|(a, storage)| {
            let storage_root = Self::storage_root(storage);
            alloy_rlp::encode(TrieAccount::new(
                a.nonce,
                a.balance,
                storage_root,
                a.code_hash,
            ))
        })
    }
}

/// Code deployed under its hash.
pub(crate) fn code_entry(code: &[u8]) -> (B256, Bytes) {
    (keccak256(code), Bytes::copy_from_slice(code))
}
