//! World state of an Altius chain: a flat account, storage and code store persisted in redb,
//! with Ethereum Merkle Patricia state roots.
//!
//! Callers see two small traits: [`StateProvider`] reads accounts, storage and code at one
//! block, and [`StateCommitter`] applies a block's [`StateChanges`] inside the caller's redb
//! write transaction and returns the new state root. The trie layout stays private to this
//! crate so that its implementation can change without touching the engine or the sequencer.
//!
//! Roots are maintained incrementally by a sharded trie: the account trie (keyed by
//! keccak256(address)) and every storage trie (keyed by keccak256(slot)) are split at
//! [`StateConfig::shard_depth`] nibbles; a block's changes are routed to the shards, each
//! shard rehashes only its changed paths on its own rayon task, and the few nodes above the
//! split are combined last. Trie nodes are kept in memory within
//! [`StateConfig::cache_bytes`] and persisted per shard in redb, in the same transaction as
//! the block. [`run_state_bench`] measures it against a from-scratch root.

#![warn(missing_docs)]

mod affinity;
mod bench;
mod changes;
mod commit;
mod db;
mod error;
mod flat_cache;
mod genesis_root;
mod history;
mod layout;
mod meta;
mod proof;
mod provider;
mod prune;
mod scan;
mod ssmt;
mod tables;
mod trie;
mod tries;

#[cfg(test)]
mod tests;

pub use bench::{StateBenchReport, run_state_bench};
pub use changes::{Account, AccountChanges, AccountUpdate, StateChanges};
pub use db::{StateConfig, StateDb};
pub use error::{StateError, StateResult};
pub use genesis_root::state_root_of;
pub use provider::{HistoricalState, LatestState};

use alloy_primitives::{Address, B256, Bytes, U256};

/// Reads of the world state as of one block.
pub trait StateProvider: Send + Sync {
    /// The account at `address`, or `None` if it does not exist.
    fn account(&self, address: Address) -> StateResult<Option<Account>>;

    /// The value of storage `slot` of `address` (zero when unset).
    fn storage(&self, address: Address, slot: U256) -> StateResult<U256>;

    /// The contract code with the given keccak256 hash, if known.
    fn code_by_hash(&self, code_hash: B256) -> StateResult<Option<Bytes>>;

    /// The code of the account at `address` (empty when it has none).
    fn code(&self, address: Address) -> StateResult<Bytes> {
        match self.account(address)? {
            Some(acc) if acc.code_hash != alloy_primitives::KECCAK256_EMPTY => {
                Ok(self.code_by_hash(acc.code_hash)?.unwrap_or_default())
            }
            _ => Ok(Bytes::new()),
        }
    }
}

impl<T: StateProvider + ?Sized> StateProvider for &T {
    fn account(&self, address: Address) -> StateResult<Option<Account>> {
        (**self).account(address)
    }
    fn storage(&self, address: Address, slot: U256) -> StateResult<U256> {
        (**self).storage(address, slot)
    }
    fn code_by_hash(&self, code_hash: B256) -> StateResult<Option<Bytes>> {
        (**self).code_by_hash(code_hash)
    }
}

impl<T: StateProvider + ?Sized> StateProvider for std::sync::Arc<T> {
    fn account(&self, address: Address) -> StateResult<Option<Account>> {
        (**self).account(address)
    }
    fn storage(&self, address: Address, slot: U256) -> StateResult<U256> {
        (**self).storage(address, slot)
    }
    fn code_by_hash(&self, code_hash: B256) -> StateResult<Option<Bytes>> {
        (**self).code_by_hash(code_hash)
    }
}

impl<T: StateProvider + ?Sized> StateProvider for Box<T> {
    fn account(&self, address: Address) -> StateResult<Option<Account>> {
        (**self).account(address)
    }
    fn storage(&self, address: Address, slot: U256) -> StateResult<U256> {
        (**self).storage(address, slot)
    }
    fn code_by_hash(&self, code_hash: B256) -> StateResult<Option<Bytes>> {
        (**self).code_by_hash(code_hash)
    }
}

/// Applies the state changes of a block.
///
/// The write happens inside the caller's redb write transaction so that a block's data and
/// its state are committed atomically: if the caller drops the transaction instead of
/// committing it, nothing of the block is visible, in the database or in any cache.
pub trait StateCommitter {
    /// Writes `changes` as the state of block `number` into `txn` and returns the new state
    /// root. Blocks must be committed in order, starting with the genesis block 0.
    fn commit_block(
        &self,
        txn: &redb::WriteTransaction,
        number: u64,
        changes: &StateChanges,
    ) -> StateResult<B256>;

    /// Must be called once `txn` of the last [`StateCommitter::commit_block`] has been
    /// committed to disk, so in-memory caches may take the block's values.
    fn on_committed(&self, number: u64);

    /// Must be called when the transaction of the last `commit_block` was dropped
    /// without commit, so in-memory caches forget that block.
    fn on_aborted(&self, number: u64);
}
