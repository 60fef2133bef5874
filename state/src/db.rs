//! [`StateDb`]: the state store on a shared redb database.

use crate::{
    HistoricalState, LatestState, StateChanges, StateCommitter, StateError, StateResult,
    commit::{self, Writer},
    flat_cache::{FlatCache, FlatView},
    layout,
    meta::{self, Meta},
    prune,
    ssmt::store,
    tables,
    tries::{TrieOptions, Tries},
};
use alloy_primitives::{Address, B256};
use parking_lot::RwLock;
use rayon::{ThreadPool, ThreadPoolBuilder};
use redb::{Database, ReadTransaction, ReadableDatabase, ReadableTable, WriteTransaction};
use std::sync::Arc;

/// Options of a [`StateDb`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateConfig {
    /// Keep the history needed to read (and prove) the state of the last `n` blocks, head
    /// included; `None` keeps the history of all blocks. Must be at least 1.
    pub retain_blocks: Option<u64>,
    /// Depth in nibbles at which the tries are split into independently hashed and stored
    /// shards: 0 (one shard), 1 (16 shards) or 2 (256 shards). Fixed when the database is
    /// created: an existing database keeps the depth it was created with.
    pub shard_depth: u8,
    /// Memory budget, in bytes, of what is kept in memory between blocks: three quarters
    /// for trie nodes, one quarter for hot account rows and storage slots. Estimated, not
    /// exact.
    pub cache_bytes: u64,
    /// Threads that update and hash the tries; 0 uses rayon's global pool.
    pub threads: usize,
}

impl Default for StateConfig {
    fn default() -> Self {
        Self {
            retain_blocks: None,
            shard_depth: 1,
            cache_bytes: 512 << 20,
            threads: 0,
        }
    }
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
    /// The tries in memory.
    pub(crate) tries: Arc<Tries>,
    /// Hot account rows and slots of the head.
    pub(crate) flat: Arc<FlatCache>,
    /// The pool hashing the tries; `None`: rayon's global pool.
    pool: Option<Arc<ThreadPool>>,
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
        if usize::from(config.shard_depth) > store::MAX_SHARD_DEPTH {
            return Err(StateError::InvalidArgument(format!(
                "shard_depth must be at most {}",
                store::MAX_SHARD_DEPTH
            )));
        }
        create_tables(&db)?;
        let depth = layout::open_tries(&db, usize::from(config.shard_depth))?;
        // A quarter of the budget holds flat values, the rest trie nodes.
        let budget = usize::try_from(config.cache_bytes).unwrap_or(usize::MAX);
        let options = TrieOptions {
            depth,
            cache_bytes: budget - budget / 4,
        };
        let state = Self {
            db,
            config,
            head: Arc::new(RwLock::new(None)),
            tries: Arc::new(Tries::new(options)),
            flat: Arc::new(FlatCache::new(budget / 4)),
            pool: build_pool(config.threads)?,
        };
        state.refresh_head()?;
        state.flat.reset(state.head());
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
        LatestState::new(&self.begin_read()?, self.flat.clone())
    }

    /// The state as of block `number`, as a consistent snapshot.
    ///
    /// Fails with [`StateError::BlockNotAvailable`] for blocks after the head and for blocks
    /// whose history was pruned.
    pub fn at_block(&self, number: u64) -> StateResult<HistoricalState> {
        let txn = self.begin_read()?;
        Meta::read_snapshot(&txn)?.check_available(number)?;
        HistoricalState::new(&txn, number, self.flat.clone())
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

    /// A clone whose trie work runs on a dedicated pool of `threads` threads (at least
    /// one), worker `i` pinned to the `i`-th core this process may use (modulo their
    /// number), so that the threads really run side by side (see [`crate::affinity`]).
    pub(crate) fn with_pinned_threads(&self, threads: usize) -> StateResult<Self> {
        let pool = crate::affinity::pinned_pool(threads)
            .map_err(|e| StateError::InvalidArgument(format!("state thread pool: {e}")))?;
        let mut state = self.clone();
        state.pool = Some(Arc::new(pool));
        Ok(state)
    }

    /// Bytes of keys and values the last [`StateCommitter::commit_block`] wrote.
    pub(crate) fn last_bytes_written(&self) -> u64 {
        self.tries.last_bytes_written()
    }

    /// Time the last [`StateCommitter::commit_block`] spent updating and hashing tries.
    pub(crate) fn last_trie_time(&self) -> std::time::Duration {
        self.tries.last_trie_time()
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

/// A dedicated pool of `threads` threads; `None` for 0 (rayon's global pool).
fn build_pool(threads: usize) -> StateResult<Option<Arc<ThreadPool>>> {
    if threads == 0 {
        return Ok(None);
    }
    let pool = ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("altius-state-{i}"))
        .build()
        .map_err(|e| StateError::InvalidArgument(format!("state thread pool: {e}")))?;
    Ok(Some(Arc::new(pool)))
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
        let mut session = self.tries.session(&self.db, head, self.pool.as_deref())?;
        let flat = FlatView {
            cache: self.flat.clone(),
            head,
        };
        let mut writer = Writer::open(txn, number, flat)?;
        let root = writer.apply(changes, &mut session)?;
        let flat_bytes = writer.bytes_written();
        self.flat
            .set_pending(head, (number, root), writer.take_changes());
        drop(writer);
        let node_bytes = session.persist(txn, (number, root))?;
        self.tries.set_last_bytes_written(flat_bytes + node_bytes);
        meta::write_head(txn, number, root)?;
        if let Some(retain) = self.config.retain_blocks {
            prune::prune(txn, number, retain)?;
        }
        tracing::debug!(
            target: "altius::state",
            number,
            %root,
            accounts = changes.accounts.len(),
            flat_bytes,
            node_bytes,
            "state block written"
        );
        Ok(root)
    }

    fn on_committed(&self, number: u64) {
        self.tries.on_committed(number);
        self.flat.on_committed(number);
        if let Err(error) = self.refresh_head() {
            tracing::warn!(target: "altius::state", number, %error, "cannot refresh the state head after a commit");
        }
    }

    fn on_aborted(&self, number: u64) {
        self.tries.on_aborted(number);
        self.flat.on_aborted(number);
        tracing::debug!(target: "altius::state", number, "state block aborted");
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
