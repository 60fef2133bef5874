//! [`StateDb`]: the state store on a shared redb database.

use crate::{
    HistoricalState, LatestState, StateChanges, StateCommitter, StateError, StateResult,
    commit::{self, Writer},
    meta::{self, Meta},
    prune, tables,
};
use alloy_primitives::{Address, B256};
use parking_lot::RwLock;
use redb::{Database, ReadTransaction, ReadableDatabase, ReadableTable, WriteTransaction};
use std::sync::Arc;

/// Options of a [`StateDb`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StateConfig {
    /// Keep the history needed to read (and prove) the state of the last `n` blocks, head
    /// included; `None` keeps the history of all blocks. Must be at least 1.
    pub retain_blocks: Option<u64>,
}

/// The world state, stored in tables prefixed `state_` of a shared redb database.
///
/// Blocks are written with [`StateCommitter::commit_block`] in the caller's transaction:
/// an update with `account: None` deletes the account together with all of its storage (its
/// `storage` entries are ignored), and deployed code must hash to its key. Each block records
/// change sets (values before the block) so that [`StateDb::at_block`] and [`StateDb::proof`]
/// can serve retained older blocks.
///
/// Cloning is cheap; clones share the database and the cached head. Use clones rather than
/// a second `StateDb` on the same database, so that [`StateDb::head`] stays current.
#[derive(Clone)]
pub struct StateDb {
    db: Arc<Database>,
    config: StateConfig,
    /// The committed head, refreshed on open and on [`StateCommitter::on_committed`].
    head: Arc<RwLock<Option<(u64, B256)>>>,
}

impl StateDb {
    /// Opens the state on `db`, creating its tables if needed, keeping all history.
    pub fn open(db: Arc<Database>) -> StateResult<Self> {
        Self::open_with_config(db, StateConfig::default())
    }

    /// Opens the state on `db` with `config`, creating its tables if needed.
    pub fn open_with_config(db: Arc<Database>, config: StateConfig) -> StateResult<Self> {
        if config.retain_blocks == Some(0) {
            return Err(StateError::InvalidArgument(
                "retain_blocks must be at least 1".into(),
            ));
        }
        create_tables(&db)?;
        let state = Self {
            db,
            config,
            head: Arc::new(RwLock::new(None)),
        };
        state.refresh_head()?;
        Ok(state)
    }

    /// The shared database.
    pub fn database(&self) -> &Arc<Database> {
        &self.db
    }

    /// The last committed block and its state root; `None` before genesis is committed.
    pub fn head(&self) -> Option<(u64, B256)> {
        *self.head.read()
    }

    /// The latest committed state, as a consistent snapshot.
    pub fn latest(&self) -> StateResult<LatestState> {
        LatestState::new(&self.begin_read()?)
    }

    /// The state as of block `number`, as a consistent snapshot.
    ///
    /// Fails with [`StateError::BlockNotAvailable`] for blocks after the head and for blocks
    /// whose history was pruned.
    pub fn at_block(&self, number: u64) -> StateResult<HistoricalState> {
        let txn = self.begin_read()?;
        Meta::read_snapshot(&txn)?.check_available(number)?;
        HistoricalState::new(&txn, number)
    }

    /// The state root after block `number`.
    pub fn state_root_at(&self, number: u64) -> StateResult<B256> {
        meta::root_at(&self.begin_read()?, number)
    }

    /// The blocks whose state can be read: `(oldest, head)`; `None` before genesis.
    pub fn available_blocks(&self) -> StateResult<Option<(u64, u64)>> {
        let meta = Meta::read_snapshot(&self.begin_read()?)?;
        Ok(meta.head.map(|(head, _)| (meta.oldest, head)))
    }

    /// The storage root of `address` as written so far in `txn` (the empty root for an
    /// account that does not exist). The sequencer uses it for the header's
    /// `withdrawalsRoot`, the storage root of the L2ToL1MessagePasser, after
    /// [`StateCommitter::commit_block`] in the same transaction.
    pub fn storage_root_in(&self, txn: &WriteTransaction, address: Address) -> StateResult<B256> {
        let table = txn.open_table(tables::ACCOUNTS)?;
        let row = table.get(&address.0.0)?;
        match row {
            Some(raw) => Ok(tables::AccountRow::decode(raw.value())?.storage_root),
            None => Ok(alloy_trie::EMPTY_ROOT_HASH),
        }
    }

    pub(crate) fn begin_read(&self) -> StateResult<ReadTransaction> {
        Ok(self.db.begin_read()?)
    }

    fn refresh_head(&self) -> StateResult<()> {
        let head = Meta::read_snapshot(&self.begin_read()?)?.head;
        *self.head.write() = head;
        Ok(())
    }
}

/// Creates all state tables in a transaction of their own.
fn create_tables(db: &Database) -> StateResult<()> {
    let txn = db.begin_write()?;
    txn.open_table(tables::ACCOUNTS)?;
    txn.open_table(tables::HASHED_ACCOUNTS)?;
    txn.open_table(tables::STORAGE)?;
    txn.open_table(tables::HASHED_STORAGE)?;
    txn.open_table(tables::CODE)?;
    txn.open_table(tables::META)?;
    txn.open_table(tables::ROOTS)?;
    txn.open_table(tables::ACCOUNT_CHANGES)?;
    txn.open_table(tables::STORAGE_CHANGES)?;
    txn.open_table(tables::ACCOUNT_HISTORY)?;
    txn.open_table(tables::STORAGE_HISTORY)?;
    txn.commit()?;
    Ok(())
}

impl StateCommitter for StateDb {
    /// On error the transaction holds a partial write and must be dropped, not committed.
    fn commit_block(
        &self,
        txn: &WriteTransaction,
        number: u64,
        changes: &StateChanges,
    ) -> StateResult<B256> {
        let head = Meta::read(&txn.open_table(tables::META)?)?.head;
        commit::check_order(head.map(|(n, _)| n), number)?;
        let root = Writer::open(txn, number)?.apply(changes)?;
        meta::write_head(txn, number, root)?;
        if let Some(retain) = self.config.retain_blocks {
            prune::prune(txn, number, retain)?;
        }
        tracing::debug!(number, %root, accounts = changes.accounts.len(), "state block written");
        Ok(root)
    }

    fn on_committed(&self, number: u64) {
        if let Err(error) = self.refresh_head() {
            tracing::warn!(number, %error, "cannot refresh the state head after a commit");
        }
    }

    fn on_aborted(&self, number: u64) {
        // Nothing to forget: only committed data is ever cached.
        tracing::debug!(number, "state block aborted");
    }
}

impl std::fmt::Debug for StateDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateDb")
            .field("config", &self.config)
            .field("head", &self.head())
            .finish_non_exhaustive()
    }
}
