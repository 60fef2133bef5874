//! An in-memory world state that revm reads and writes, with roots from the state crate.

use super::fixture::FixtureAccount;
use alloy_primitives::{Address, B256, KECCAK256_EMPTY, U256, keccak256, map::HashMap};
use altius_state::{Account, AccountUpdate, StateChanges, state_root_of};
use revm::{
    Database, DatabaseCommit,
    bytecode::Bytecode,
    state::{Account as EvmAccount, AccountInfo},
};
use std::{collections::BTreeMap, convert::Infallible, sync::Arc};

/// One account with its storage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorldAccount {
    /// Nonce, balance and code hash.
    pub account: Account,
    /// Non-zero storage slots.
    pub storage: BTreeMap<U256, U256>,
}

impl WorldAccount {
    fn is_storage_only(&self) -> bool {
        let a = &self.account;
        a.nonce == 0 && a.code_hash == KECCAK256_EMPTY && !self.storage.is_empty()
    }
}

/// The complete state of a chain at one block, plus the hashes `BLOCKHASH` may read.
#[derive(Debug, Clone, Default)]
pub struct WorldState {
    accounts: BTreeMap<Address, WorldAccount>,
    code: HashMap<B256, Bytecode>,
    /// Block number to hash, for the ancestors of the block being executed.
    pub block_hashes: Arc<BTreeMap<u64, B256>>,
}

impl WorldState {
    /// The state of a fixture's `pre` or `postState` allocation.
    pub fn from_alloc(alloc: &BTreeMap<Address, FixtureAccount>) -> Self {
        let mut world = Self::default();
        for (address, acc) in alloc {
            let code_hash = if acc.code.is_empty() {
                KECCAK256_EMPTY
            } else {
                let hash = keccak256(&acc.code);
                world.code.insert(hash, Bytecode::new_raw(acc.code.clone()));
                hash
            };
            let account = Account {
                nonce: acc.nonce.to::<u64>(),
                balance: acc.balance,
                code_hash,
            };
            let storage = acc
                .storage
                .iter()
                .filter(|(_, v)| !v.is_zero())
                .map(|(k, v)| (*k, *v))
                .collect();
            world
                .accounts
                .insert(*address, WorldAccount { account, storage });
        }
        world
    }

    /// The accounts.
    pub fn accounts(&self) -> &BTreeMap<Address, WorldAccount> {
        &self.accounts
    }

    /// The state root, computed by the state crate.
    pub fn state_root(&self) -> Result<B256, String> {
        let mut changes = StateChanges::default();
        for (address, acc) in &self.accounts {
            let update = AccountUpdate {
                account: Some(acc.account),
                wipe_storage: false,
                storage: acc.storage.clone(),
            };
            changes.accounts.insert(*address, update);
        }
        state_root_of(&changes).map_err(|e| format!("state root: {e}"))
    }

    /// Adds `amount` wei to `address`, and removes the account if it is then empty
    /// (EIP-4895 withdrawals under EIP-161).
    pub fn credit(&mut self, address: Address, amount: U256) {
        let entry = self.accounts.entry(address).or_default();
        entry.account.balance = entry.account.balance.saturating_add(amount);
        if entry.account.is_empty() {
            self.accounts.remove(&address);
        }
    }

    /// True when `address` has storage but neither code nor nonce: creating a contract
    /// there collides (EIP-7610). Only fixture pre-states hold such accounts.
    pub fn is_storage_only(&self, address: &Address) -> bool {
        self.accounts
            .get(address)
            .is_some_and(WorldAccount::is_storage_only)
    }

    /// True when some account is [`WorldState::is_storage_only`].
    pub fn has_storage_only_accounts(&self) -> bool {
        self.accounts.values().any(WorldAccount::is_storage_only)
    }

    /// The accounts that are [`WorldState::is_storage_only`].
    pub fn storage_only_accounts(&self) -> std::collections::HashSet<Address> {
        self.accounts
            .iter()
            .filter(|(_, a)| a.is_storage_only())
            .map(|(address, _)| *address)
            .collect()
    }

    /// The code stored under `hash`, if known.
    pub fn code_if_known(&self, hash: &B256) -> Option<Bytecode> {
        self.code.get(hash).cloned()
    }

    /// Applies a block's changes (as the parallel executor reports them).
    pub fn apply_changes(&mut self, changes: &StateChanges) {
        for (hash, code) in &changes.code {
            self.code
                .entry(*hash)
                .or_insert_with(|| crate::db::bytecode_from_raw(code.clone()));
        }
        for (address, update) in &changes.accounts {
            let Some(account) = update.account else {
                self.accounts.remove(address);
                continue;
            };
            let entry = self.accounts.entry(*address).or_default();
            if update.wipe_storage {
                entry.storage.clear();
            }
            entry.account = account;
            for (slot, value) in &update.storage {
                if value.is_zero() {
                    entry.storage.remove(slot);
                } else {
                    entry.storage.insert(*slot, *value);
                }
            }
        }
    }

    /// The code stored under `hash` (empty when unknown).
    pub fn code(&self, hash: &B256) -> Bytecode {
        self.code.get(hash).cloned().unwrap_or_default()
    }

    fn apply(&mut self, address: Address, acc: EvmAccount) {
        if !acc.is_touched() {
            return;
        }
        if acc.is_selfdestructed() || (acc.is_touched() && acc.is_empty()) {
            self.accounts.remove(&address);
            return;
        }
        let code_hash = acc.info.code_hash;
        if let Some(code) = &acc.info.code
            && code_hash != KECCAK256_EMPTY
        {
            self.code
                .entry(acc.info.code_hash)
                .or_insert_with(|| code.clone());
        }
        let created = acc.is_created();
        let entry = self.accounts.entry(address).or_default();
        if created {
            entry.storage.clear();
        }
        entry.account = Account {
            nonce: acc.info.nonce,
            balance: acc.info.balance,
            code_hash,
        };
        for (slot, value) in acc.changed_storage_slots() {
            if value.present_value.is_zero() {
                entry.storage.remove(slot);
            } else {
                entry.storage.insert(*slot, value.present_value);
            }
        }
    }
}

impl Database for WorldState {
    type Error = Infallible;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, Infallible> {
        Ok(self.accounts.get(&address).map(|acc| {
            let a = acc.account;
            AccountInfo {
                balance: a.balance,
                nonce: a.nonce,
                code_hash: a.code_hash,
                account_id: None,
                code: self.code.get(&a.code_hash).cloned(),
            }
        }))
    }

    fn code_by_hash(&mut self, code_hash: B256) -> Result<Bytecode, Infallible> {
        Ok(self.code(&code_hash))
    }

    fn storage(&mut self, address: Address, index: U256) -> Result<U256, Infallible> {
        Ok(self
            .accounts
            .get(&address)
            .and_then(|a| a.storage.get(&index).copied())
            .unwrap_or_default())
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, Infallible> {
        Ok(self.block_hashes.get(&number).copied().unwrap_or_default())
    }
}

impl DatabaseCommit for WorldState {
    fn commit(&mut self, changes: revm::primitives::AddressMap<EvmAccount>) {
        for (address, acc) in changes {
            self.apply(address, acc);
        }
    }
}
