//! [`LocalSettlement`]: the embedded, redb-backed settlement layer for nodes without an L1.

use std::{
    fmt,
    path::{Path, PathBuf},
    sync::Arc,
    time::{SystemTime, UNIX_EPOCH},
};

use alloy_primitives::B256;
use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use tracing::{debug, info};

use crate::{
    L2Head, Proposal, ProposalReceipt, ProposedOutput, SettlementClient, SettlementError,
    SettlementFuture, error::Result,
};

/// L2 block number -> `outputRoot (32) ++ index (u64 BE) ++ timestamp (u64 BE)`.
/// `settlement_`-prefixed so it can live in a shared node database.
const OUTPUTS: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("settlement_local_outputs");

/// Parameters fixed when the store is created, like the oracle's `initialize` arguments.
const META: TableDefinition<'_, &str, u64> = TableDefinition::new("settlement_local_meta");

const META_INTERVAL: &str = "submission_interval";
const META_STARTING_BLOCK: &str = "starting_block_number";
const STORED_OUTPUT_LEN: usize = 48;

/// Revert reason for a proposal that is not for the next expected block (the contract's).
pub const REVERT_BLOCK_NUMBER: &str =
    "L2OutputOracle: block number must be equal to next expected block number";
/// Revert reason for a proposal of a block that does not exist yet (the contract's).
pub const REVERT_FUTURE: &str = "L2OutputOracle: cannot propose L2 output in the future";
/// Revert reason for a zero output root (the contract's).
pub const REVERT_ZERO_ROOT: &str = "L2OutputOracle: L2 output proposal cannot be the zero hash";

/// The rules of a [`LocalSettlement`] store, fixed when it is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalSettlementParams {
    /// Interval in L2 blocks between proposals (non-zero).
    pub submission_interval: u64,
    /// The latest block number before the first proposal: the first one is for
    /// `starting_block_number + submission_interval`.
    pub starting_block_number: u64,
}

/// A settlement layer embedded in the node: output roots are recorded in redb with the
/// L2OutputOracle's rules and revert messages, so a node runs its proposer without any L1.
///
/// A proposal must be for `latest + submission_interval` (or `starting_block_number +
/// submission_interval` first), have a non-zero root, and be for a block at or below the
/// [`L2Head`]. Outputs persist across reopen; the parameters are stored on creation and a
/// reopen with different ones is refused.
#[derive(Clone)]
pub struct LocalSettlement {
    db: Arc<Database>,
    params: LocalSettlementParams,
    head: L2Head,
    path: Option<PathBuf>,
}

impl fmt::Debug for LocalSettlement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalSettlement")
            .field("params", &self.params)
            .field("head", &self.head.get())
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl LocalSettlement {
    /// The backend kind name.
    pub const KIND: &'static str = "local";

    /// Opens (or creates) a dedicated database file at `path`.
    pub fn open(
        path: impl AsRef<Path>,
        params: LocalSettlementParams,
        head: L2Head,
    ) -> Result<Self> {
        let path = path.as_ref();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                SettlementError::Storage(format!("creating {}: {e}", parent.display()))
            })?;
        }
        let db = Database::create(path).map_err(SettlementError::storage)?;
        let mut this = Self::with_database(Arc::new(db), params, head)?;
        this.path = Some(path.to_path_buf());
        Ok(this)
    }

    /// Uses a database shared with the rest of the node; only `settlement_`-prefixed tables
    /// are touched.
    pub fn with_database(
        db: Arc<Database>,
        params: LocalSettlementParams,
        head: L2Head,
    ) -> Result<Self> {
        if params.submission_interval == 0 {
            return Err(SettlementError::InvalidConfig(
                "submission_interval must be greater than 0".into(),
            ));
        }
        init_tables(&db, params)?;
        info!(target: "altius::settlement", ?params, "local settlement opened");
        Ok(Self {
            db,
            params,
            head,
            path: None,
        })
    }

    /// The parameters of this store.
    pub const fn params(&self) -> LocalSettlementParams {
        self.params
    }

    /// The handle on the L2 head this store checks proposals against.
    pub const fn head(&self) -> &L2Head {
        &self.head
    }

    /// Synchronous [`SettlementClient::latest_proposed_block`].
    pub fn latest_proposed_block_blocking(&self) -> Result<Option<u64>> {
        let txn = self.db.begin_read().map_err(SettlementError::storage)?;
        let table = txn.open_table(OUTPUTS).map_err(SettlementError::storage)?;
        let last = table.last().map_err(SettlementError::storage)?;
        Ok(last.map(|(k, _)| k.value()))
    }

    /// Synchronous [`SettlementClient::next_block_number`].
    pub fn next_block_number_blocking(&self) -> Result<u64> {
        self.next_after(self.latest_proposed_block_blocking()?)
    }

    /// Synchronous [`SettlementClient::output_at`].
    pub fn output_at_blocking(&self, l2_block_number: u64) -> Result<Option<ProposedOutput>> {
        let txn = self.db.begin_read().map_err(SettlementError::storage)?;
        let table = txn.open_table(OUTPUTS).map_err(SettlementError::storage)?;
        let guard = table
            .get(l2_block_number)
            .map_err(SettlementError::storage)?;
        guard
            .map(|v| decode_output(l2_block_number, v.value()))
            .transpose()
    }

    /// Synchronous [`SettlementClient::propose`]: checks the rules and records the output.
    pub fn propose_blocking(&self, proposal: &Proposal) -> Result<ProposalReceipt> {
        let n = proposal.l2_block_number;
        let txn = self.db.begin_write().map_err(SettlementError::storage)?;
        let index = {
            let mut table = txn.open_table(OUTPUTS).map_err(SettlementError::storage)?;
            let latest = table
                .last()
                .map_err(SettlementError::storage)?
                .map(|(k, _)| k.value());
            self.check(proposal, latest)?;
            let index = table.len().map_err(SettlementError::storage)?;
            let value = encode_output(proposal.output_root, index, unix_now());
            table
                .insert(n, value.as_slice())
                .map_err(SettlementError::storage)?;
            index
        };
        txn.commit().map_err(SettlementError::storage)?;
        debug!(
            target: "altius::settlement",
            l2_block = n, index, output_root = %proposal.output_root, "local output proposed"
        );
        Ok(ProposalReceipt::default())
    }

    /// The contract's checks, in its order: block number, not in the future, non-zero root.
    fn check(&self, proposal: &Proposal, latest: Option<u64>) -> Result<()> {
        let n = proposal.l2_block_number;
        let next = self.next_after(latest)?;
        if n != next {
            return Err(SettlementError::Reverted(REVERT_BLOCK_NUMBER.into()));
        }
        if self.head.get().is_none_or(|head| n > head) {
            return Err(SettlementError::Reverted(REVERT_FUTURE.into()));
        }
        if proposal.output_root.is_zero() {
            return Err(SettlementError::Reverted(REVERT_ZERO_ROOT.into()));
        }
        Ok(())
    }

    fn next_after(&self, latest: Option<u64>) -> Result<u64> {
        latest
            .unwrap_or(self.params.starting_block_number)
            .checked_add(self.params.submission_interval)
            .ok_or_else(|| SettlementError::Storage("next block number overflows u64".into()))
    }
}

fn init_tables(db: &Database, params: LocalSettlementParams) -> Result<()> {
    let txn = db.begin_write().map_err(SettlementError::storage)?;
    {
        txn.open_table(OUTPUTS).map_err(SettlementError::storage)?;
        let mut meta = txn.open_table(META).map_err(SettlementError::storage)?;
        check_or_store(&mut meta, META_INTERVAL, params.submission_interval)?;
        check_or_store(&mut meta, META_STARTING_BLOCK, params.starting_block_number)?;
    }
    txn.commit().map_err(SettlementError::storage)
}

fn check_or_store(meta: &mut redb::Table<'_, &str, u64>, key: &str, value: u64) -> Result<()> {
    let stored = meta
        .get(key)
        .map_err(SettlementError::storage)?
        .map(|v| v.value());
    match stored {
        Some(stored) if stored != value => Err(SettlementError::InvalidConfig(format!(
            "local settlement store was created with {key} = {stored}, configured {value}; \
             use the original value or a new store"
        ))),
        Some(_) => Ok(()),
        None => meta
            .insert(key, value)
            .map(drop)
            .map_err(SettlementError::storage),
    }
}

fn encode_output(root: B256, index: u64, timestamp: u64) -> [u8; STORED_OUTPUT_LEN] {
    let mut out = [0u8; STORED_OUTPUT_LEN];
    out[..32].copy_from_slice(root.as_slice());
    out[32..40].copy_from_slice(&index.to_be_bytes());
    out[40..].copy_from_slice(&timestamp.to_be_bytes());
    out
}

fn decode_output(l2_block_number: u64, bytes: &[u8]) -> Result<ProposedOutput> {
    let malformed = || {
        SettlementError::Storage(format!(
            "malformed local output for L2 block {l2_block_number}: {} bytes",
            bytes.len()
        ))
    };
    let bytes: &[u8; STORED_OUTPUT_LEN] = bytes.try_into().map_err(|_| malformed())?;
    let (root, rest) = bytes.split_at(32);
    let (index, timestamp) = rest.split_at(8);
    Ok(ProposedOutput {
        output_root: B256::from_slice(root),
        l2_block_number,
        index: u64::from_be_bytes(index.try_into().map_err(|_| malformed())?),
        timestamp: u64::from_be_bytes(timestamp.try_into().map_err(|_| malformed())?),
    })
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Runs blocking storage work off the async executor when a tokio runtime is available.
async fn run_blocking<T, F>(work: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => handle
            .spawn_blocking(work)
            .await
            .map_err(|e| SettlementError::Storage(format!("local settlement task failed: {e}")))?,
        Err(_) => work(),
    }
}

impl SettlementClient for LocalSettlement {
    fn kind(&self) -> &'static str {
        Self::KIND
    }

    fn latest_proposed_block(&self) -> SettlementFuture<'_, Option<u64>> {
        let this = self.clone();
        Box::pin(run_blocking(move || this.latest_proposed_block_blocking()))
    }

    fn next_block_number(&self) -> SettlementFuture<'_, u64> {
        let this = self.clone();
        Box::pin(run_blocking(move || this.next_block_number_blocking()))
    }

    fn propose(&self, proposal: Proposal) -> SettlementFuture<'_, ProposalReceipt> {
        let this = self.clone();
        Box::pin(run_blocking(move || this.propose_blocking(&proposal)))
    }

    fn output_at(&self, l2_block_number: u64) -> SettlementFuture<'_, Option<ProposedOutput>> {
        let this = self.clone();
        Box::pin(run_blocking(move || {
            this.output_at_blocking(l2_block_number)
        }))
    }
}

#[cfg(test)]
#[path = "local_tests.rs"]
mod tests;
