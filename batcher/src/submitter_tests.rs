//! [`BatchSubmitter`] against the local DA: decode everything back from the DA store.

use std::sync::{
    Arc,
    atomic::{AtomicU32, Ordering},
};

use alloy_primitives::{B256, Bytes};
use altius_da::{DaClient, DaError, DaFuture, DaReference, LocalDa};
use redb::Database;
use std::sync::Mutex;

use crate::{
    Batch, BatchKind, BatchSubmitter, BatcherConfig, BatcherError, FJORD_MAX_RLP_BYTES_PER_CHANNEL,
    FrameDecoder, L2BlockData, L2BlockSource, SingularBatch,
    test_utils::{PARAMS, all_tx_types},
};

#[derive(Debug, Default)]
struct VecSource(Mutex<Vec<L2BlockData>>);

impl VecSource {
    /// Blocks 1..=n on top of a genesis at `PARAMS.genesis_timestamp`; block 4 comes late,
    /// so span channels must break there.
    fn extend_to(&self, n: u64) {
        let mut blocks = self.0.lock().unwrap();
        while (blocks.len() as u64) < n {
            let number = blocks.len() as u64 + 1;
            let parent_hash = blocks.last().map_or(B256::ZERO, |b| b.hash);
            let delay = if number >= 4 { 5 } else { 0 };
            blocks.push(L2BlockData {
                number,
                hash: B256::with_last_byte(number as u8),
                parent_hash,
                timestamp: PARAMS.genesis_timestamp + number * PARAMS.block_time + delay,
                transactions: if number.is_multiple_of(3) {
                    vec![]
                } else {
                    all_tx_types(number)
                },
            });
        }
    }

    fn all(&self) -> Vec<L2BlockData> {
        self.0.lock().unwrap().clone()
    }

    fn len(&self) -> u64 {
        self.all().len() as u64
    }
}

impl L2BlockSource for VecSource {
    fn head_number(&self) -> Result<u64, BatcherError> {
        Ok(self.len())
    }

    fn block(&self, number: u64) -> Result<Option<L2BlockData>, BatcherError> {
        let all = self.all();
        Ok(number
            .checked_sub(1)
            .and_then(|i| all.get(i as usize).cloned()))
    }
}

/// Fails the first `failures` submissions, then forwards to the local DA.
#[derive(Debug)]
struct FlakyDa {
    inner: LocalDa,
    failures: AtomicU32,
}

impl DaClient for FlakyDa {
    fn kind(&self) -> &'static str {
        "flaky"
    }

    fn submit(&self, data: Bytes) -> DaFuture<'_, DaReference> {
        let left = self.failures.load(Ordering::SeqCst);
        if left > 0 {
            self.failures.store(left - 1, Ordering::SeqCst);
            return Box::pin(async { Err(DaError::Backend("down".into())) });
        }
        self.inner.submit(data)
    }

    fn fetch<'a>(&'a self, reference: &'a DaReference) -> DaFuture<'a, Bytes> {
        self.inner.fetch(reference)
    }

    fn finalized_height(&self) -> DaFuture<'_, u64> {
        self.inner.finalized_height()
    }
}

fn config(batch_type: BatchKind) -> BatcherConfig {
    BatcherConfig {
        batch_type,
        max_frame_size: 100,
        max_channel_duration_blocks: 3,
        retry_backoff_ms: 1,
        max_retry_backoff_ms: 4,
        ..Default::default()
    }
}

fn temp_db() -> (tempfile::TempDir, Arc<Database>) {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Database::create(dir.path().join("node.redb")).unwrap());
    (dir, db)
}

/// Reads every submitted frame back from the DA store and decodes the complete channels
/// into singular batches (span batches are expanded block by block).
async fn decode_all(sub: &BatchSubmitter, da: &dyn DaClient) -> Vec<SingularBatch> {
    let mut decoder = FrameDecoder::new();
    let mut out = Vec::new();
    for frame in sub.submitted_frames().unwrap() {
        let data = da.fetch(&frame.reference).await.unwrap();
        for channel in decoder.add_tx_data(&data).unwrap() {
            for batch in channel
                .decode_batches(FJORD_MAX_RLP_BYTES_PER_CHANNEL)
                .unwrap()
            {
                out.extend(expand(batch, &out));
            }
        }
    }
    out
}

fn expand(batch: Batch, before: &[SingularBatch]) -> Vec<SingularBatch> {
    match batch {
        Batch::Singular(single) => vec![single],
        Batch::Span(raw) => {
            let span = raw.derive(&PARAMS).unwrap();
            // A span batch carries only a 20-byte check of its first parent; the parents of
            // the following blocks are the preceding blocks (hash = number as last byte).
            let first = before.len() as u64 + 1;
            assert_eq!(span.parent_check.as_slice(), &parent_of(first)[..20]);
            let blocks = span.blocks.into_iter().enumerate();
            blocks
                .map(|(i, b)| SingularBatch {
                    parent_hash: parent_of(first + i as u64),
                    epoch_num: b.epoch_num,
                    epoch_hash: B256::ZERO,
                    timestamp: b.timestamp,
                    transactions: b.transactions,
                })
                .collect()
        }
    }
}

fn parent_of(number: u64) -> B256 {
    if number == 1 {
        B256::ZERO
    } else {
        B256::with_last_byte((number - 1) as u8)
    }
}

fn expected(source: &VecSource, through: u64) -> Vec<SingularBatch> {
    let blocks = source.all().into_iter().take(through as usize);
    blocks.map(|b| b.to_batch()).collect()
}

#[tokio::test]
async fn blocks_decode_back_exactly_for_both_batch_types() {
    for kind in [BatchKind::Singular, BatchKind::Span] {
        let (_dir, db) = temp_db();
        let da = Arc::new(LocalDa::with_database(db.clone()).unwrap());
        let mut sub = BatchSubmitter::open(db, da.clone(), config(kind), PARAMS, 0).unwrap();
        let source = VecSource::default();
        source.extend_to(8);
        assert_eq!(sub.catch_up(&source).await.unwrap(), 6, "{kind:?}");
        assert_eq!(sub.backlog().get(), 2);
        sub.close_channel().await.unwrap();
        assert_eq!(sub.confirmed_block(), 8);
        let decoded = decode_all(&sub, da.as_ref()).await;
        assert_eq!(decoded, expected(&source, 8), "{kind:?}");
        assert!(
            sub.submitted_frames().unwrap().len() > 3,
            "frames are small"
        );
    }
}

#[tokio::test]
async fn restart_resumes_without_gap_or_duplicate() {
    for kind in [BatchKind::Singular, BatchKind::Span] {
        let (_dir, db) = temp_db();
        let da = Arc::new(LocalDa::with_database(db.clone()).unwrap());
        let source = VecSource::default();
        source.extend_to(5);
        let open = || BatchSubmitter::open(db.clone(), da.clone(), config(kind), PARAMS, 0);
        let mut sub = open().unwrap();
        assert_eq!(sub.catch_up(&source).await.unwrap(), 3);
        drop(sub); // blocks 4 and 5 were in an open channel: lost with the process

        let mut sub = open().unwrap();
        assert_eq!((sub.confirmed_block(), sub.next_block()), (3, 4));
        source.extend_to(11);
        sub.catch_up(&source).await.unwrap();
        sub.close_channel().await.unwrap();
        assert_eq!(sub.confirmed_block(), 11);
        // Feeding an old block again is ignored.
        sub.add_block(source.all()[2].clone()).await.unwrap();
        let decoded = decode_all(&sub, da.as_ref()).await;
        assert_eq!(decoded, expected(&source, 11), "{kind:?}");
    }
}

#[tokio::test]
async fn out_of_order_blocks_are_refused() {
    let (_dir, db) = temp_db();
    let da = Arc::new(LocalDa::with_database(db.clone()).unwrap());
    let mut sub = BatchSubmitter::open(db, da, config(BatchKind::Span), PARAMS, 0).unwrap();
    let source = VecSource::default();
    source.extend_to(3);
    let err = sub.add_block(source.all()[2].clone()).await.unwrap_err();
    assert!(matches!(
        err,
        BatcherError::UnexpectedBlock {
            expected: 1,
            got: 3
        }
    ));
}

#[tokio::test]
async fn failing_da_loses_nothing() {
    let (_dir, db) = temp_db();
    let da = Arc::new(FlakyDa {
        inner: LocalDa::with_database(db.clone()).unwrap(),
        failures: AtomicU32::new(7),
    });
    let mut sub =
        BatchSubmitter::open(db, da.clone(), config(BatchKind::Singular), PARAMS, 0).unwrap();
    let source = VecSource::default();
    source.extend_to(7);
    sub.catch_up(&source).await.unwrap();
    sub.close_channel().await.unwrap();
    assert_eq!(da.failures.load(Ordering::SeqCst), 0);
    assert_eq!(sub.backlog().get(), 1, "measured before the final close");
    let decoded = decode_all(&sub, da.as_ref()).await;
    assert_eq!(decoded, expected(&source, 7));
}

#[tokio::test]
async fn old_channels_are_closed_without_new_blocks() {
    let (_dir, db) = temp_db();
    let da = Arc::new(LocalDa::with_database(db.clone()).unwrap());
    let cfg = BatcherConfig {
        max_channel_age_ms: 1,
        ..config(BatchKind::Span)
    };
    let mut sub = BatchSubmitter::open(db, da, cfg, PARAMS, 0).unwrap();
    let source = VecSource::default();
    source.extend_to(1);
    sub.add_block(source.all()[0].clone()).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    assert_eq!(sub.catch_up(&source).await.unwrap(), 1);
}

/// Stores the first `ok` submissions, then fails every one.
#[derive(Debug)]
struct DiesAfter {
    inner: LocalDa,
    ok: AtomicU32,
}

impl DaClient for DiesAfter {
    fn kind(&self) -> &'static str {
        "dies-after"
    }

    fn submit(&self, data: Bytes) -> DaFuture<'_, DaReference> {
        if self.ok.load(Ordering::SeqCst) == 0 {
            return Box::pin(async { Err(DaError::Backend("gone".into())) });
        }
        self.ok.fetch_sub(1, Ordering::SeqCst);
        self.inner.submit(data)
    }

    fn fetch<'a>(&'a self, reference: &'a DaReference) -> DaFuture<'a, Bytes> {
        self.inner.fetch(reference)
    }

    fn finalized_height(&self) -> DaFuture<'_, u64> {
        self.inner.finalized_height()
    }
}

#[tokio::test]
async fn crash_in_the_middle_of_a_channel_rebuilds_it_whole() {
    let (_dir, db) = temp_db();
    let local = LocalDa::with_database(db.clone()).unwrap();
    let dying = Arc::new(DiesAfter {
        inner: local.clone(),
        ok: AtomicU32::new(2),
    });
    let cfg = config(BatchKind::Singular);
    let mut sub = BatchSubmitter::open(db.clone(), dying, cfg.clone(), PARAMS, 0).unwrap();
    let source = VecSource::default();
    source.extend_to(3);
    let run = sub.catch_up(&source);
    // Long enough for the two good frames even on a loaded machine; the third never lands.
    let timed_out = tokio::time::timeout(std::time::Duration::from_secs(3), run).await;
    assert!(timed_out.is_err(), "stuck retrying the third frame");
    assert_eq!(
        sub.submitted_frames().unwrap().len(),
        2,
        "a partial channel"
    );
    drop(sub); // the crash

    let local: Arc<dyn DaClient> = Arc::new(local);
    let mut sub = BatchSubmitter::open(db, local.clone(), cfg, PARAMS, 0).unwrap();
    assert_eq!(
        sub.next_block(),
        1,
        "the partial channel is rebuilt from its first block"
    );
    source.extend_to(5);
    sub.catch_up(&source).await.unwrap();
    sub.close_channel().await.unwrap();
    let decoded = decode_all(&sub, local.as_ref()).await;
    assert_eq!(
        decoded,
        expected(&source, 5),
        "orphaned frames never complete a channel"
    );
}

/// The local DA, except that it "forgets" chosen submissions, as an L1 reorg that drops
/// batcher transactions does: fetching them fails as not canonical. With `down`, every
/// fetch fails as unavailable.
#[derive(Debug)]
struct ForgetfulDa {
    inner: LocalDa,
    forgotten: Mutex<Vec<DaReference>>,
    down: std::sync::atomic::AtomicBool,
}

impl DaClient for ForgetfulDa {
    fn kind(&self) -> &'static str {
        "forgetful"
    }

    fn submit(&self, data: Bytes) -> DaFuture<'_, DaReference> {
        self.inner.submit(data)
    }

    fn fetch<'a>(&'a self, reference: &'a DaReference) -> DaFuture<'a, Bytes> {
        if self.down.load(Ordering::SeqCst) {
            return Box::pin(async { Err(DaError::Unavailable("down".into())) });
        }
        if self.forgotten.lock().unwrap().contains(reference) {
            let height = reference.height;
            return Box::pin(async move {
                Err(DaError::NotCanonical {
                    height,
                    tx_hash: B256::ZERO,
                    reason: "reorged out".into(),
                })
            });
        }
        self.inner.fetch(reference)
    }

    fn finalized_height(&self) -> DaFuture<'_, u64> {
        self.inner.finalized_height()
    }
}

#[tokio::test]
async fn frames_dropped_by_a_reorg_are_submitted_again() {
    for kind in [BatchKind::Singular, BatchKind::Span] {
        let (_dir, db) = temp_db();
        let da = Arc::new(ForgetfulDa {
            inner: LocalDa::with_database(db.clone()).unwrap(),
            forgotten: Mutex::default(),
            down: Default::default(),
        });
        let open = || BatchSubmitter::open(db.clone(), da.clone(), config(kind), PARAMS, 0);
        let mut sub = open().unwrap();
        let source = VecSource::default();
        source.extend_to(9);
        sub.catch_up(&source).await.unwrap();
        sub.close_channel().await.unwrap();
        assert_eq!(sub.confirmed_block(), 9);
        assert_eq!(sub.verify(0).await.unwrap(), None, "nothing lost yet");

        // The reorg takes away the second frame of the channel holding block 5, and so
        // everything after it on L1 with it.
        let frames = sub.submitted_frames().unwrap();
        let lost: Vec<_> = frames.iter().filter(|f| f.last_block >= 5).collect();
        let first_lost = lost[0].first_block;
        assert!(first_lost > 1 && first_lost <= 5, "{kind:?}: {first_lost}");
        let forget = lost.iter().skip(1).map(|f| f.reference.clone());
        da.forgotten.lock().unwrap().extend(forget);

        // Unreachable: nothing can be told, nothing changes.
        da.down.store(true, Ordering::SeqCst);
        assert_eq!(sub.verify(0).await.unwrap(), None);
        da.down.store(false, Ordering::SeqCst);
        // Final data is not checked again.
        assert_eq!(sub.verify(9).await.unwrap(), None);

        let stats = sub.stats();
        assert_eq!(
            sub.verify(0).await.unwrap(),
            Some(first_lost - 1),
            "{kind:?}"
        );
        assert_eq!(
            (sub.confirmed_block(), sub.next_block()),
            (first_lost - 1, first_lost)
        );
        assert_eq!(
            (stats.rewinds(), stats.confirmed_block()),
            (1, first_lost - 1)
        );
        let kept = sub.submitted_frames().unwrap();
        assert!(kept.iter().all(|f| f.last_block < first_lost), "{kept:?}");

        // The cursor was rewound on disk too: a restart resumes at the first lost block.
        drop(sub);
        let mut sub = open().unwrap();
        assert_eq!(sub.next_block(), first_lost);
        source.extend_to(11);
        sub.catch_up(&source).await.unwrap();
        sub.close_channel().await.unwrap();
        assert_eq!(
            sub.verify(0).await.unwrap(),
            None,
            "the new frames are there"
        );
        assert_eq!(sub.stats().last_da_height(), {
            let last = sub.submitted_frames().unwrap().pop().unwrap();
            last.reference.height
        });
        // What is on the DA layer now decodes to every block once, in order.
        let decoded = decode_all(&sub, da.as_ref()).await;
        assert_eq!(decoded, expected(&source, 11), "{kind:?}");
    }
}

#[tokio::test]
async fn stats_report_backlog_bytes_and_confirmed_heights() {
    let (_dir, db) = temp_db();
    let da = Arc::new(LocalDa::with_database(db.clone()).unwrap());
    let cfg = BatcherConfig {
        max_channel_duration_blocks: 100,
        ..config(BatchKind::Singular)
    };
    let mut sub = BatchSubmitter::open(db, da, cfg, PARAMS, 0).unwrap();
    let stats = sub.stats();
    let source = VecSource::default();
    source.extend_to(4);
    sub.catch_up(&source).await.unwrap();
    let bytes: u64 = source
        .all()
        .iter()
        .flat_map(|b| &b.transactions)
        .map(|t| t.len() as u64)
        .sum();
    assert!(bytes > 0);
    assert_eq!(
        stats.backlog_bytes(),
        bytes,
        "four blocks in the open channel"
    );
    assert_eq!((stats.confirmed_block(), stats.last_da_height()), (0, 0));
    sub.close_channel().await.unwrap();
    assert_eq!((stats.backlog_bytes(), stats.pending_frames()), (0, 0));
    assert_eq!(stats.confirmed_block(), 4);
    let frames = sub.submitted_frames().unwrap();
    assert_eq!(
        stats.last_da_height(),
        frames.last().unwrap().reference.height
    );
    assert!(stats.last_da_height() > 0);
}

#[tokio::test]
async fn switching_to_the_fallback_da_loses_and_repeats_nothing() {
    for kind in [BatchKind::Singular, BatchKind::Span] {
        let (_dir, db) = temp_db();
        let fallback_dir = tempfile::tempdir().unwrap();
        let primary = Arc::new(DiesAfter {
            inner: LocalDa::with_database(db.clone()).unwrap(),
            ok: AtomicU32::new(3),
        });
        let fallback = Arc::new(LocalDa::open(fallback_dir.path().join("l1.redb")).unwrap());
        let after = std::time::Duration::from_millis(20);
        let da = Arc::new(altius_da::FallbackDa::new(
            primary.clone(),
            fallback.clone(),
            after,
            std::time::Duration::from_secs(3600),
        ));
        let cfg = BatcherConfig {
            max_retry_backoff_ms: 8,
            ..config(kind)
        };
        let mut sub = BatchSubmitter::open(db, da.clone(), cfg, PARAMS, 0).unwrap();
        let source = VecSource::default();
        source.extend_to(9);
        sub.catch_up(&source).await.unwrap();
        sub.close_channel().await.unwrap();
        assert!(da.status().is_active(), "{kind:?}");
        let frames = sub.submitted_frames().unwrap();
        let on_fallback = frames
            .iter()
            .filter(|f| f.reference.version() == Some(altius_da::FALLBACK_COMMITMENT_VERSION))
            .count();
        assert_eq!(
            frames.len() - on_fallback,
            3,
            "the primary took three frames"
        );
        assert_eq!(
            fallback.latest_height().unwrap(),
            Some(on_fallback as u64),
            "every other frame went to the fallback, once"
        );
        assert_eq!(
            sub.verify(0).await.unwrap(),
            None,
            "all of it can be read back"
        );
        let decoded = decode_all(&sub, da.as_ref()).await;
        assert_eq!(decoded, expected(&source, 9), "{kind:?}");
    }
}
