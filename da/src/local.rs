//! [`LocalDa`]: the embedded, redb-backed default DA backend.

use std::{
    fmt,
    path::{Path, PathBuf},
    sync::Arc,
};

use alloy_primitives::{Bytes, keccak256};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use tracing::debug;

use crate::{DaClient, DaError, DaFuture, DaReference};

/// Append-only store: height -> submitted bytes. `da_`-prefixed so it can live in a shared
/// node database.
const SUBMISSIONS: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("da_local_submissions");

/// Largest payload [`LocalDa`] accepts in one submission (64 MiB).
pub const MAX_LOCAL_SUBMISSION_SIZE: usize = 64 * 1024 * 1024;

/// The first height handed out by an empty store.
const FIRST_HEIGHT: u64 = 1;

/// An append-only DA store embedded in the node.
///
/// Every submission gets the next height (starting at 1, strictly increasing, persisted
/// across reopen) and a keccak reference `(height, 0x00 ++ keccak256(data))`. Fetching
/// re-hashes the stored bytes, so on-disk corruption is reported instead of returned.
#[derive(Clone)]
pub struct LocalDa {
    db: Arc<Database>,
    path: Option<PathBuf>,
}

impl fmt::Debug for LocalDa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalDa")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl LocalDa {
    /// The backend kind name.
    pub const KIND: &'static str = "local";

    /// Opens (or creates) a dedicated database file at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, DaError> {
        let path = path.as_ref();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| DaError::Storage(format!("creating {}: {e}", parent.display())))?;
        }
        let db = Database::create(path).map_err(DaError::storage)?;
        let mut da = Self::with_database(Arc::new(db))?;
        da.path = Some(path.to_path_buf());
        Ok(da)
    }

    /// Uses a database shared with the rest of the node; only `da_`-prefixed tables are
    /// touched.
    pub fn with_database(db: Arc<Database>) -> Result<Self, DaError> {
        let txn = db.begin_write().map_err(DaError::storage)?;
        txn.open_table(SUBMISSIONS).map_err(DaError::storage)?;
        txn.commit().map_err(DaError::storage)?;
        Ok(Self { db, path: None })
    }

    /// The height of the latest submission, if any.
    pub fn latest_height(&self) -> Result<Option<u64>, DaError> {
        let txn = self.db.begin_read().map_err(DaError::storage)?;
        let table = txn.open_table(SUBMISSIONS).map_err(DaError::storage)?;
        let last = table.last().map_err(DaError::storage)?;
        Ok(last.map(|(k, _)| k.value()))
    }

    /// Synchronous [`DaClient::submit`]: appends `data` at the next height.
    pub fn submit_blocking(&self, data: &[u8]) -> Result<DaReference, DaError> {
        if data.is_empty() {
            return Err(DaError::EmptySubmission);
        }
        if data.len() > MAX_LOCAL_SUBMISSION_SIZE {
            return Err(DaError::TooLarge {
                size: data.len(),
                max: MAX_LOCAL_SUBMISSION_SIZE,
            });
        }
        let txn = self.db.begin_write().map_err(DaError::storage)?;
        let height = {
            let mut table = txn.open_table(SUBMISSIONS).map_err(DaError::storage)?;
            let height = next_height(&table)?;
            table.insert(height, data).map_err(DaError::storage)?;
            height
        };
        txn.commit().map_err(DaError::storage)?;
        debug!(target: "altius::da", height, size = data.len(), "local DA submission stored");
        Ok(DaReference::keccak(height, 0, keccak256(data)))
    }

    /// Synchronous [`DaClient::fetch`]: reads and verifies the data behind `reference`.
    pub fn fetch_blocking(&self, reference: &DaReference) -> Result<Bytes, DaError> {
        let expected = reference.keccak_hash()?;
        if reference.index != 0 {
            return Err(DaError::InvalidReference(format!(
                "local DA references have index 0, got {}",
                reference.index
            )));
        }
        let height = reference.height;
        let txn = self.db.begin_read().map_err(DaError::storage)?;
        let table = txn.open_table(SUBMISSIONS).map_err(DaError::storage)?;
        let guard = table.get(height).map_err(DaError::storage)?;
        let data = guard.ok_or(DaError::NotFound { height })?.value().to_vec();
        let actual = keccak256(&data);
        if actual != expected {
            return Err(DaError::Corrupted {
                height,
                expected,
                actual,
            });
        }
        Ok(data.into())
    }
}

fn next_height(table: &redb::Table<'_, u64, &[u8]>) -> Result<u64, DaError> {
    match table.last().map_err(DaError::storage)? {
        None => Ok(FIRST_HEIGHT),
        Some((k, _)) => k
            .value()
            .checked_add(1)
            .ok_or_else(|| DaError::Storage("local DA height overflow".into())),
    }
}

/// Runs blocking storage work off the async executor when a tokio runtime is available.
async fn run_blocking<T, F>(work: F) -> Result<T, DaError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, DaError> + Send + 'static,
{
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => handle
            .spawn_blocking(work)
            .await
            .map_err(|e| DaError::Backend(format!("local DA task failed: {e}")))?,
        Err(_) => work(),
    }
}

impl DaClient for LocalDa {
    fn kind(&self) -> &'static str {
        Self::KIND
    }

    fn submit(&self, data: Bytes) -> DaFuture<'_, DaReference> {
        let this = self.clone();
        Box::pin(run_blocking(move || this.submit_blocking(&data)))
    }

    fn fetch<'a>(&'a self, reference: &'a DaReference) -> DaFuture<'a, Bytes> {
        let this = self.clone();
        let reference = reference.clone();
        Box::pin(run_blocking(move || this.fetch_blocking(&reference)))
    }

    /// The latest height: nothing stored locally can be reorged.
    fn finalized_height(&self) -> DaFuture<'_, u64> {
        let this = self.clone();
        Box::pin(run_blocking(move || {
            this.latest_height().map(|h| h.unwrap_or(0))
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::B256;
    use redb::TableHandle;

    fn temp_da() -> (tempfile::TempDir, LocalDa) {
        let dir = tempfile::tempdir().unwrap();
        let da = LocalDa::open(dir.path().join("nested/da.redb")).unwrap();
        (dir, da)
    }

    #[tokio::test]
    async fn submit_fetch_round_trip_through_dyn_client() {
        let (_dir, da) = temp_da();
        let client: Arc<dyn DaClient> = Arc::new(da);
        assert_eq!(client.kind(), "local");
        assert_eq!(client.finalized_height().await.unwrap(), 0, "empty store");
        let r1 = client.submit(Bytes::from_static(b"first")).await.unwrap();
        let r2 = client.submit(Bytes::from_static(b"second")).await.unwrap();
        assert_eq!((r1.height, r2.height), (1, 2));
        assert_eq!(client.finalized_height().await.unwrap(), 2, "latest height");
        assert_eq!(r1.keccak_hash().unwrap(), keccak256(b"first"));
        assert_eq!(
            client.fetch(&r1).await.unwrap(),
            Bytes::from_static(b"first")
        );
        assert_eq!(
            client.fetch(&r2).await.unwrap(),
            Bytes::from_static(b"second")
        );
    }

    #[test]
    fn works_without_a_tokio_runtime() {
        let (_dir, da) = temp_da();
        let fut = da.submit(Bytes::from_static(b"sync"));
        let r = futures_lite_block_on(fut).unwrap();
        assert_eq!(da.fetch_blocking(&r).unwrap(), Bytes::from_static(b"sync"));
    }

    /// Minimal executor for a future that completes without waking (no runtime present).
    fn futures_lite_block_on<T>(mut fut: DaFuture<'_, T>) -> Result<T, DaError> {
        use std::task::{Context, Poll, Waker};
        let mut cx = Context::from_waker(Waker::noop());
        match fut.as_mut().poll(&mut cx) {
            Poll::Ready(out) => out,
            Poll::Pending => Err(DaError::Backend("pending".into())),
        }
    }

    #[test]
    fn heights_persist_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("da.redb");
        let r1 = LocalDa::open(&path)
            .unwrap()
            .submit_blocking(b"one")
            .unwrap();
        let da = LocalDa::open(&path).unwrap();
        assert_eq!(da.latest_height().unwrap(), Some(1));
        let r2 = da.submit_blocking(b"two").unwrap();
        assert_eq!(r2.height, 2);
        assert_eq!(da.fetch_blocking(&r1).unwrap(), Bytes::from_static(b"one"));
    }

    #[test]
    fn shared_database_uses_prefixed_tables() {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(Database::create(dir.path().join("node.redb")).unwrap());
        let da = LocalDa::with_database(db.clone()).unwrap();
        assert_eq!(da.latest_height().unwrap(), None);
        let r = da.submit_blocking(b"shared").unwrap();
        let txn = db.begin_read().unwrap();
        let tables: Vec<String> = txn
            .list_tables()
            .unwrap()
            .map(|t| t.name().to_string())
            .collect();
        assert!(tables.iter().all(|t| t.starts_with("da_")), "{tables:?}");
        drop(txn);
        assert_eq!(
            da.fetch_blocking(&r).unwrap(),
            Bytes::from_static(b"shared")
        );
    }

    #[test]
    fn corruption_and_bad_references_are_errors() {
        let (_dir, da) = temp_da();
        let r = da.submit_blocking(b"payload").unwrap();
        let txn = da.db.begin_write().unwrap();
        txn.open_table(SUBMISSIONS)
            .unwrap()
            .insert(r.height, &b"tampered"[..])
            .unwrap();
        txn.commit().unwrap();
        assert!(matches!(
            da.fetch_blocking(&r),
            Err(DaError::Corrupted { height: 1, .. })
        ));

        let missing = DaReference::keccak(99, 0, B256::ZERO);
        assert!(matches!(
            da.fetch_blocking(&missing),
            Err(DaError::NotFound { height: 99 })
        ));
        let wrong_index = DaReference::keccak(1, 5, B256::ZERO);
        assert!(matches!(
            da.fetch_blocking(&wrong_index),
            Err(DaError::InvalidReference(_))
        ));
        let garbage = DaReference::new(1, 0, Bytes::from_static(&[9, 9]));
        assert!(matches!(
            da.fetch_blocking(&garbage),
            Err(DaError::InvalidReference(_))
        ));
    }

    #[test]
    fn rejects_empty_and_oversized_submissions() {
        let (_dir, da) = temp_da();
        assert!(matches!(
            da.submit_blocking(&[]),
            Err(DaError::EmptySubmission)
        ));
        let big = vec![0u8; MAX_LOCAL_SUBMISSION_SIZE + 1];
        assert!(matches!(
            da.submit_blocking(&big),
            Err(DaError::TooLarge { .. })
        ));
        assert_eq!(da.latest_height().unwrap(), None);
    }
}
