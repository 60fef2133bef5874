//! The values a block changes: accounts, storage slots and new code.

use alloy_primitives::{B256, Bytes, KECCAK256_EMPTY, U256};
use std::collections::BTreeMap;

mod accounts;

pub use accounts::AccountChanges;

/// An account without its storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Account {
    /// Transaction count (or contract creation count).
    pub nonce: u64,
    /// Balance in wei.
    pub balance: U256,
    /// keccak256 of the code; [`KECCAK256_EMPTY`] for accounts without code.
    pub code_hash: B256,
}

impl Default for Account {
    fn default() -> Self {
        Self {
            nonce: 0,
            balance: U256::ZERO,
            code_hash: KECCAK256_EMPTY,
        }
    }
}

impl Account {
    /// True for an account that EIP-161 treats as empty.
    pub fn is_empty(&self) -> bool {
        self.nonce == 0 && self.balance.is_zero() && self.code_hash == KECCAK256_EMPTY
    }
}

/// What a block does to one account.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountUpdate {
    /// The account after the block, or `None` when the block deleted it.
    pub account: Option<Account>,
    /// Erase all of the account's storage before applying `storage` (the account was
    /// destroyed, or destroyed and created again, in the block).
    pub wipe_storage: bool,
    /// Storage slots written by the block; a zero value deletes the slot.
    pub storage: BTreeMap<U256, U256>,
}

/// All state changes of one block.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StateChanges {
    /// Changed accounts, in address order.
    pub accounts: AccountChanges,
    /// Code deployed by the block, by its keccak256 hash.
    pub code: BTreeMap<B256, Bytes>,
}

impl StateChanges {
    /// True when the block changed nothing.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty() && self.code.is_empty()
    }
}
