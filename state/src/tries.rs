//! The state's tries in memory: the committed version, the version of the block being
//! committed, and the per-block update session that computes roots and persists nodes.
//!
//! The committed version only ever takes a block's nodes in [`Tries::on_committed`]; a
//! dropped transaction leaves it untouched. When the in-memory version does not match the
//! head in the caller's transaction (a block committed elsewhere, a missed notification),
//! the tries restart from the stored root and load nodes lazily.

use crate::{
    StateChanges, StateResult,
    ssmt::{
        self, NodeWrite, Op, Root, Updated,
        node::root_hash,
        store::{StoreReader, StoreWriter, TrieId},
    },
};
use alloy_primitives::{B256, keccak256, map::B256Map};
use alloy_trie::EMPTY_ROOT_HASH;
use parking_lot::Mutex;
use rayon::{ThreadPool, prelude::*};
use redb::{Database, ReadableDatabase, WriteTransaction};
use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

/// Estimated bytes of one in-memory node besides its encoding.
const NODE_OVERHEAD: usize = 160;

/// One version of the tries.
#[derive(Debug, Default)]
struct Version {
    /// The block and state root this version belongs to.
    head: Option<(u64, B256)>,
    accounts: Root,
    /// Storage tries in memory, by hashed address.
    storage: B256Map<Root>,
    /// Estimated memory held by the version.
    bytes: usize,
}

/// The tries of a block written but not yet committed.
#[derive(Debug)]
struct Pending {
    head: (u64, B256),
    accounts: Root,
    storage: Vec<(B256, Root)>,
    bytes: usize,
}

/// Options of the tries.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TrieOptions {
    /// Shard depth in nibbles.
    pub(crate) depth: usize,
    /// Memory budget of the cached nodes.
    pub(crate) cache_bytes: usize,
}

/// The in-memory tries of a state.
#[derive(Debug)]
pub(crate) struct Tries {
    options: TrieOptions,
    committed: Mutex<Version>,
    pending: Mutex<Option<Pending>>,
    /// Bytes written by the last block.
    last_written: AtomicU64,
    /// Nanoseconds the last block spent updating and hashing tries.
    last_trie_nanos: AtomicU64,
}

/// keccak256 of a changed account's address and of the slots the block writes.
#[derive(Debug)]
pub(crate) struct HashedKeys {
    /// keccak256 of the address.
    pub(crate) address: B256,
    /// keccak256 of each written slot, in the order of the update's storage map.
    pub(crate) slots: Vec<B256>,
}

/// The storage changes of one account in a block.
#[derive(Debug)]
pub(crate) struct StorageJob {
    /// keccak256 of the address.
    pub(crate) hashed: B256,
    /// The storage root before the block.
    pub(crate) old_root: B256,
    /// The storage was erased first: the trie is rebuilt from `ops` alone.
    pub(crate) wiped: bool,
    /// Slot changes by hashed slot, sorted.
    pub(crate) ops: Vec<Op>,
}

impl Tries {
    /// Empty tries with `options`.
    pub(crate) fn new(options: TrieOptions) -> Self {
        Self {
            options,
            committed: Mutex::new(Version::default()),
            pending: Mutex::new(None),
            last_written: AtomicU64::new(0),
            last_trie_nanos: AtomicU64::new(0),
        }
    }

    /// The shard depth.
    pub(crate) fn depth(&self) -> usize {
        self.options.depth
    }

    /// The account trie of `head` and the storage trie of `hashed` (whose root is
    /// `storage_root` at `head`): from memory when the committed version is `head`, else
    /// stubs of the stored roots.
    pub(crate) fn roots_at(
        &self,
        head: (u64, B256),
        hashed: B256,
        storage_root: B256,
    ) -> (Root, Root) {
        let committed = self.committed.lock();
        if committed.head != Some(head) {
            return (ssmt::stored_root(head.1), ssmt::stored_root(storage_root));
        }
        let storage = match committed.storage.get(&hashed) {
            Some(root) if root_hash(root.as_ref().and_then(|r| r.rlp.get())) == storage_root => {
                root.clone()
            }
            _ => ssmt::stored_root(storage_root),
        };
        (committed.accounts.clone(), storage)
    }

    /// Time the last block spent updating and hashing its tries.
    pub(crate) fn last_trie_time(&self) -> Duration {
        Duration::from_nanos(self.last_trie_nanos.load(Ordering::Relaxed))
    }

    /// Bytes of keys and values written by the last block.
    pub(crate) fn last_bytes_written(&self) -> u64 {
        self.last_written.load(Ordering::Relaxed)
    }

    /// Records the bytes written by a block.
    pub(crate) fn set_last_bytes_written(&self, bytes: u64) {
        self.last_written.store(bytes, Ordering::Relaxed);
    }

    /// Starts the trie update of the block after `head` (as read in the block's transaction).
    pub(crate) fn session<'a>(
        &'a self,
        db: &Database,
        head: Option<(u64, B256)>,
        pool: Option<&'a ThreadPool>,
    ) -> StateResult<Session<'a>> {
        let reader = StoreReader::new(&db.begin_read()?, self.options.depth)?;
        let committed = self.committed.lock();
        let accounts = if committed.head == head {
            committed.accounts.clone()
        } else {
            tracing::debug!(target: "altius::state", ?head, "tries restart from the stored root");
            ssmt::stored_root(head.map_or(EMPTY_ROOT_HASH, |(_, root)| root))
        };
        Ok(Session {
            tries: self,
            reader,
            pool,
            cached: head.is_some() && committed.head == head,
            accounts,
            storage: Vec::new(),
            wiped: Vec::new(),
            writes: Vec::new(),
            removed: Vec::new(),
            busy: Duration::ZERO,
        })
    }

    /// The block `number` was committed: its tries become the committed version.
    pub(crate) fn on_committed(&self, number: u64) {
        let pending = {
            let mut slot = self.pending.lock();
            match slot.take() {
                Some(p) if p.head.0 == number => p,
                other => {
                    // Another block's tries (or none): keep them for their own notification.
                    *slot = other;
                    return;
                }
            }
        };
        let mut committed = self.committed.lock();
        if committed.head.and_then(|(n, _)| n.checked_add(1)) != Some(number) && number != 0 {
            committed.storage.clear();
        }
        committed.head = Some(pending.head);
        committed.accounts = pending.accounts;
        for (hashed, root) in pending.storage {
            match root {
                Some(root) => committed.storage.insert(hashed, Some(root)),
                None => committed.storage.remove(&hashed),
            };
        }
        committed.bytes += pending.bytes;
        evict(&mut committed, &self.options);
    }

    /// The block `number` was dropped: forget its tries.
    pub(crate) fn on_aborted(&self, number: u64) {
        let mut pending = self.pending.lock();
        if pending.as_ref().is_some_and(|p| p.head.0 == number) {
            *pending = None;
        }
    }
}

/// Keeps the committed version within the memory budget: storage tries are dropped first,
/// then account-trie nodes below the deepest level that fits.
fn evict(version: &mut Version, options: &TrieOptions) {
    if version.bytes <= options.cache_bytes {
        return;
    }
    version.storage.clear();
    let per_level = NODE_OVERHEAD + 200;
    let mut keep = options.depth;
    while 16usize.saturating_pow(keep as u32 + 1) * per_level * 2 <= options.cache_bytes {
        keep += 1;
    }
    version.accounts = version.accounts.as_ref().map(|r| ssmt::truncate(r, keep));
    let nodes = version.accounts.as_ref().map_or(0, ssmt::nodes_in_memory);
    version.bytes = nodes * per_level;
    tracing::debug!(target: "altius::state", keep, nodes, "trie cache evicted");
}

/// Runs `op` on `pool`, or on the current (global) pool.
fn run_on<R: Send>(pool: Option<&ThreadPool>, op: impl FnOnce() -> R + Send) -> R {
    match pool {
        Some(pool) => pool.install(op),
        None => op(),
    }
}

/// The trie work of one block.
pub(crate) struct Session<'a> {
    tries: &'a Tries,
    reader: StoreReader,
    pool: Option<&'a ThreadPool>,
    /// The in-memory storage tries belong to the block's parent.
    cached: bool,
    accounts: Root,
    storage: Vec<(B256, Root)>,
    wiped: Vec<B256>,
    writes: Vec<(TrieId, Vec<NodeWrite>)>,
    /// Stored nodes that are gone, by trie.
    removed: Vec<(TrieId, Vec<Box<[u8]>>)>,
    /// Time spent in trie updates.
    busy: Duration,
}

impl Session<'_> {
    /// The in-memory storage trie of `job`'s account, if it matches the old root.
    fn storage_base(&self, version: &Version, job: &StorageJob) -> Root {
        if job.wiped {
            return None;
        }
        let cached = self
            .cached
            .then(|| version.storage.get(&job.hashed))
            .flatten();
        match cached {
            Some(root) if root_hash(root.as_ref().and_then(|r| r.rlp.get())) == job.old_root => {
                root.clone()
            }
            _ => ssmt::stored_root(job.old_root),
        }
    }

    /// keccak256 of every changed address and of its written slots (in the order of
    /// `changes`), computed in parallel on the session's pool.
    pub(crate) fn hash_keys(&mut self, changes: &StateChanges) -> Vec<HashedKeys> {
        let start = Instant::now();
        let op = || {
            let accounts: Vec<_> = changes.accounts.iter().collect();
            accounts
                .into_par_iter()
                .map(|(address, update)| HashedKeys {
                    address: keccak256(address),
                    slots: update
                        .storage
                        .keys()
                        .map(|slot| keccak256(B256::from(*slot)))
                        .collect(),
                })
                .collect()
        };
        let keys = run_on(self.pool, op);
        self.busy += start.elapsed();
        keys
    }

    /// Updates the storage tries of `jobs` and then the account trie in one parallel run:
    /// `account_ops` turns the new storage roots (by job) into the account-trie changes,
    /// sorted by key. Returns the new storage roots and the new state root.
    pub(crate) fn state_root(
        &mut self,
        jobs: Vec<StorageJob>,
        account_ops: impl FnOnce(&[B256]) -> Vec<Op> + Send,
    ) -> StateResult<(Vec<B256>, B256)> {
        let bases: Vec<Root> = {
            let version = self.tries.committed.lock();
            jobs.iter()
                .map(|job| self.storage_base(&version, job))
                .collect()
        };
        let depth = self.tries.options.depth;
        let base = self.accounts.take();
        let start = Instant::now();
        let (reader, pool) = (&self.reader, self.pool);
        let op = || -> StateResult<_> {
            // All storage tries side by side; a big one splits into tasks of its own
            // (above the shard depth), which idle threads steal.
            let storage: Vec<Updated> = jobs
                .par_iter()
                .zip(bases)
                .map(|(job, base)| {
                    let source = reader.source(Some(job.hashed));
                    ssmt::update(&source, depth, base, &job.ops)
                })
                .collect::<StateResult<_>>()?;
            let roots: Vec<B256> = storage.iter().map(|u| u.hash).collect();
            let ops = account_ops(&roots);
            let accounts = ssmt::update(&reader.source(None), depth, base, &ops)?;
            Ok((storage, accounts, ops))
        };
        let result = run_on(pool, op);
        self.busy += start.elapsed();
        let (storage, accounts, ops) = result?;
        let mut roots = Vec::with_capacity(jobs.len());
        for (job, updated) in jobs.into_iter().zip(storage) {
            if job.wiped && job.old_root != EMPTY_ROOT_HASH {
                self.wiped.push(job.hashed);
            }
            roots.push(updated.hash);
            self.storage.push((job.hashed, updated.root));
            self.writes.push((Some(job.hashed), updated.writes));
            self.removed.push((Some(job.hashed), updated.removed));
        }
        let loads = ssmt::shard_loads(&ops, depth);
        let max = loads.iter().copied().max().unwrap_or(0);
        tracing::debug!(
            target: "altius::state",
            changes = ops.len(),
            max_shard = max,
            mean_shard = ops.len() as f64 / loads.len() as f64,
            "account trie updated"
        );
        self.accounts = accounts.root;
        self.writes.push((None, accounts.writes));
        self.removed.push((None, accounts.removed));
        Ok((roots, accounts.hash))
    }

    /// Writes the block's nodes into `txn` and keeps its tries as pending for block
    /// `head`; returns the bytes written.
    pub(crate) fn persist(self, txn: &WriteTransaction, head: (u64, B256)) -> StateResult<u64> {
        let mut writer = StoreWriter::new(txn, self.tries.options.depth);
        for hashed in &self.wiped {
            writer.delete_storage_trie(*hashed)?;
        }
        for (trie, paths) in &self.removed {
            writer.delete(trie, paths)?;
        }
        let mut written = 0usize;
        for (trie, writes) in &self.writes {
            writer.write(trie, writes)?;
            written += writes
                .iter()
                .map(|(_, rlp)| rlp.len() + NODE_OVERHEAD)
                .sum::<usize>();
        }
        let loaded = self.reader.loaded_bytes.load(Ordering::Relaxed);
        let nanos = u64::try_from(self.busy.as_nanos()).unwrap_or(u64::MAX);
        self.tries.last_trie_nanos.store(nanos, Ordering::Relaxed);
        *self.tries.pending.lock() = Some(Pending {
            head,
            accounts: self.accounts,
            storage: self.storage,
            bytes: written + loaded,
        });
        Ok(writer.bytes)
    }
}

impl std::fmt::Debug for Session<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("cached", &self.cached)
            .field("writes", &self.writes.len())
            .finish_non_exhaustive()
    }
}
