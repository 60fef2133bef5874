//! [`MemoryState`]: a flat in-memory [`StateProvider`].

use crate::Genesis;
use alloy_primitives::{Address, B256, Bytes, KECCAK256_EMPTY, U256, map::HashMap};
use altius_state::{Account, AccountUpdate, StateChanges, StateProvider, StateResult};
use std::collections::BTreeMap;

/// A flat in-memory state: what the workloads and the tests execute on. Hash maps, like
/// the node's own flat cache in front of its database (`altius_state`'s `FlatCache`), so
/// that a read costs what it costs the node.
#[derive(Clone, Debug, Default)]
pub struct MemoryState {
    /// Accounts by address.
    pub accounts: HashMap<Address, Account>,
    /// Non-zero storage slots.
    pub storage: HashMap<(Address, U256), U256>,
    /// Code by hash.
    pub code: HashMap<B256, Bytes>,
}

impl MemoryState {
    /// The genesis state of `genesis`.
    pub fn from_genesis(genesis: &Genesis) -> Self {
        let mut state = Self::default();
        state.apply(&genesis.to_state_changes());
        state
    }

    /// Applies a block's changes, the way the state committer must.
    pub fn apply(&mut self, changes: &StateChanges) {
        self.code
            .extend(changes.code.iter().map(|(h, c)| (*h, c.clone())));
        for (address, update) in &changes.accounts {
            if update.wipe_storage || update.account.is_none() {
                self.storage.retain(|(a, _), _| a != address);
            }
            for (slot, value) in &update.storage {
                if value.is_zero() {
                    self.storage.remove(&(*address, *slot));
                } else {
                    self.storage.insert((*address, *slot), *value);
                }
            }
            match update.account {
                Some(account) => self.accounts.insert(*address, account),
                None => self.accounts.remove(address),
            };
        }
    }

    /// The whole state as the changes of a block over an empty state: what a state
    /// database is given as its genesis to hold the same state.
    pub fn to_state_changes(&self) -> StateChanges {
        let mut storage: HashMap<Address, BTreeMap<U256, U256>> = HashMap::default();
        for ((address, slot), value) in &self.storage {
            storage.entry(*address).or_default().insert(*slot, *value);
        }
        let accounts = self.accounts.iter().map(|(address, account)| {
            let update = AccountUpdate {
                account: Some(*account),
                wipe_storage: false,
                storage: storage.remove(address).unwrap_or_default(),
            };
            (*address, update)
        });
        StateChanges {
            accounts: accounts.collect(),
            code: self.code.iter().map(|(h, c)| (*h, c.clone())).collect(),
        }
    }

    /// Balance of `address` (zero when absent).
    pub fn balance(&self, address: Address) -> U256 {
        self.accounts
            .get(&address)
            .map(|a| a.balance)
            .unwrap_or_default()
    }

    /// Nonce of `address` (zero when absent).
    pub fn nonce(&self, address: Address) -> u64 {
        self.accounts
            .get(&address)
            .map(|a| a.nonce)
            .unwrap_or_default()
    }
}

impl StateProvider for MemoryState {
    fn account(&self, address: Address) -> StateResult<Option<Account>> {
        Ok(self.accounts.get(&address).copied())
    }

    fn storage(&self, address: Address, slot: U256) -> StateResult<U256> {
        Ok(self
            .storage
            .get(&(address, slot))
            .copied()
            .unwrap_or_default())
    }

    fn code_by_hash(&self, code_hash: B256) -> StateResult<Option<Bytes>> {
        if code_hash == KECCAK256_EMPTY {
            return Ok(Some(Bytes::new()));
        }
        Ok(self.code.get(&code_hash).cloned())
    }
}
