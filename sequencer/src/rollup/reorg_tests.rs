//! The batch submission task against a DA layer that loses data it had confirmed (as an
//! L1 reorg does): `safe` moves back and the data is submitted again.

use super::{batcher::run_batcher, metrics::MetricSources};
use crate::{builder::build_block, config::NodeConfig, dev, node::Node};
use alloy_primitives::{B256, Bytes};
use altius_batcher::{BacklogGauge, SubmitterStats};
use altius_da::{DaClient, DaError, DaFuture, DaReference, FallbackDa, LocalDa};
use altius_engine::Genesis;
use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};
use tokio::sync::watch;

/// The node's local DA, except that it forgets chosen references and that its finalized
/// height is set by the test (0: nothing is final, every frame stays subject to checks).
#[derive(Debug)]
struct Forgetful {
    inner: LocalDa,
    forgotten: Mutex<Vec<DaReference>>,
    finalized: AtomicU64,
}

impl DaClient for Forgetful {
    fn kind(&self) -> &'static str {
        "forgetful"
    }

    fn submit(&self, data: Bytes) -> DaFuture<'_, DaReference> {
        self.inner.submit(data)
    }

    fn fetch<'a>(&'a self, reference: &'a DaReference) -> DaFuture<'a, Bytes> {
        if self.forgotten.lock().unwrap().contains(reference) {
            let height = reference.height;
            let reason = "reorged out".to_string();
            return Box::pin(async move {
                Err(DaError::NotCanonical {
                    height,
                    tx_hash: B256::ZERO,
                    reason,
                })
            });
        }
        self.inner.fetch(reference)
    }

    fn finalized_height(&self) -> DaFuture<'_, u64> {
        let height = self.finalized.load(Ordering::SeqCst);
        Box::pin(async move { Ok(height) })
    }
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..500 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_batch_data_moves_safe_back_and_is_submitted_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = NodeConfig::default();
    config.datadir.0 = dir.path().to_owned();
    config.batcher.max_channel_age_ms = 1;
    config.batcher.max_channel_duration_blocks = 2;
    config.batcher.verify_interval_ms = 20;
    let node = Node::open(config, &Genesis::dev(&dev::dev_addresses())).unwrap();
    for _ in 0..4 {
        build_block(&node).unwrap();
    }
    let da = Arc::new(Forgetful {
        inner: LocalDa::with_database(node.db.clone()).unwrap(),
        forgotten: Mutex::default(),
        finalized: AtomicU64::new(0),
    });
    let stats = SubmitterStats::new();
    let start = || {
        let (stop, stop_rx) = watch::channel(false);
        let handles = (BacklogGauge::new(), stats.clone());
        let task = tokio::spawn(run_batcher(node.clone(), da.clone(), handles, stop_rx));
        (stop, task)
    };
    let safe = || node.store.safe_number().unwrap();
    let (stop, task) = start();
    wait_until("safe 4", || safe() >= 4).await;
    stop.send(true).unwrap();
    task.await.unwrap();
    assert_eq!(
        node.store.finalized_number().unwrap(),
        0,
        "nothing is final"
    );

    // The DA layer loses the frames of the channel holding block 3.
    let open = || super::open_submitter(&node, da.clone(), BacklogGauge::new(), stats.clone());
    let frames = open().unwrap().submitted_frames().unwrap();
    let lost: Vec<_> = frames
        .iter()
        .filter(|f| f.first_block <= 3 && f.last_block >= 3)
        .collect();
    let first_lost = lost.first().expect("a channel holds block 3").first_block;
    da.forgotten
        .lock()
        .unwrap()
        .extend(lost.iter().map(|f| f.reference.clone()));

    // The task notices, moves safe back, submits again; safe comes back.
    let (stop, task) = start();
    wait_until("a rewind", || stats.rewinds() >= 1).await;
    wait_until("safe 4 again", || {
        safe() >= 4 && stats.confirmed_block() >= 4
    })
    .await;
    build_block(&node).unwrap();
    wait_until("safe 5", || safe() >= 5).await;
    stop.send(true).unwrap();
    task.await.unwrap();
    assert_eq!(stats.rewinds(), 1, "once: the new frames are not lost");
    let now = open().unwrap().submitted_frames().unwrap();
    let forgotten = da.forgotten.lock().unwrap().clone();
    assert!(now.iter().all(|f| !forgotten.contains(&f.reference)));
    // Each block in exactly one channel (a channel's frames share its range).
    let mut channels: Vec<_> = now
        .iter()
        .map(|f| (f.channel_id, f.first_block, f.last_block))
        .collect();
    channels.dedup();
    let covered: Vec<u64> = channels.iter().flat_map(|c| c.1..=c.2).collect();
    assert_eq!(
        covered,
        (1..=5).collect::<Vec<_>>(),
        "first lost {first_lost}: {now:?}"
    );
}

/// A DA layer that is always down.
#[derive(Debug)]
struct Down;

impl DaClient for Down {
    fn kind(&self) -> &'static str {
        "down"
    }

    fn submit(&self, _: Bytes) -> DaFuture<'_, DaReference> {
        Box::pin(async { Err(DaError::Unavailable("down".into())) })
    }

    fn fetch<'a>(&'a self, _: &'a DaReference) -> DaFuture<'a, Bytes> {
        Box::pin(async { Err(DaError::Unavailable("down".into())) })
    }

    fn finalized_height(&self) -> DaFuture<'_, u64> {
        Box::pin(async { Err(DaError::Unavailable("down".into())) })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_become_safe_through_the_fallback_and_the_metrics_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = NodeConfig::default();
    config.datadir.0 = dir.path().to_owned();
    config.batcher.max_channel_age_ms = 1;
    config.batcher.retry_backoff_ms = 5;
    config.batcher.max_retry_backoff_ms = 20;
    let node = Node::open(config, &Genesis::dev(&dev::dev_addresses())).unwrap();
    for _ in 0..3 {
        build_block(&node).unwrap();
    }
    let fallback = Arc::new(LocalDa::open(dir.path().join("l1.redb")).unwrap());
    let da = FallbackDa::new(
        Arc::new(Down),
        fallback,
        Duration::from_millis(50),
        Duration::from_secs(3600),
    );
    let status = da.status();
    let (backlog, stats) = (BacklogGauge::new(), SubmitterStats::new());
    let metrics = super::NodeMetrics::new(MetricSources {
        node: node.clone(),
        backlog: backlog.clone(),
        submitter: stats.clone(),
        throttle: Arc::new(super::Throttle::new(backlog.clone(), 0)),
        fallback: Some(status.clone()),
    });
    assert!(
        metrics
            .render()
            .unwrap()
            .contains("\naltius_da_fallback_active 0\n")
    );
    let (stop, stop_rx) = watch::channel(false);
    let task = tokio::spawn(run_batcher(
        node.clone(),
        Arc::new(da),
        (backlog, stats),
        stop_rx,
    ));
    wait_until("safe 3", || node.store.safe_number().unwrap() >= 3).await;
    assert!(status.is_active());
    // The fallback (a local store here) is final at once: finalized follows, per layer.
    wait_until("finalized 3", || {
        node.store.finalized_number().unwrap() >= 3
    })
    .await;
    let text = metrics.render().unwrap();
    assert!(text.contains("\naltius_da_fallback_active 1\n"), "{text}");
    assert!(text.contains("\naltius_l2_safe_block 3\n"), "{text}");
    stop.send(true).unwrap();
    task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_da_layer_taking_back_final_data_moves_finalized_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = NodeConfig::default();
    config.datadir.0 = dir.path().to_owned();
    config.batcher.max_channel_age_ms = 1;
    config.batcher.max_channel_duration_blocks = 2;
    config.batcher.verify_interval_ms = 20;
    let node = Node::open(config, &Genesis::dev(&dev::dev_addresses())).unwrap();
    for _ in 0..4 {
        build_block(&node).unwrap();
    }
    let da = Arc::new(Forgetful {
        inner: LocalDa::with_database(node.db.clone()).unwrap(),
        forgotten: Mutex::default(),
        finalized: AtomicU64::new(1_000),
    });
    let stats = SubmitterStats::new();
    let (stop, stop_rx) = watch::channel(false);
    let handles = (BacklogGauge::new(), stats.clone());
    let task = tokio::spawn(run_batcher(node.clone(), da.clone(), handles, stop_rx));
    let heads = || {
        let store = &node.store;
        (
            store.safe_number().unwrap(),
            store.finalized_number().unwrap(),
        )
    };
    wait_until("safe and finalized 4", || heads() == (4, 4)).await;
    // Let the verifier see the finalized height 1000 before it goes back.
    tokio::time::sleep(Duration::from_millis(100)).await;

    // A development L1 reverted: the data of the channel holding block 3 is gone, and the
    // L1's finalized height went back to 0.
    let open = || super::open_submitter(&node, da.clone(), BacklogGauge::new(), stats.clone());
    let frames = open().unwrap().submitted_frames().unwrap();
    let lost: Vec<_> = frames
        .iter()
        .filter(|f| f.first_block <= 3 && f.last_block >= 3)
        .map(|f| f.reference.clone())
        .collect();
    let first_lost = frames
        .iter()
        .find(|f| f.last_block >= 3)
        .unwrap()
        .first_block;
    da.forgotten.lock().unwrap().extend(lost);
    da.finalized.store(0, Ordering::SeqCst);
    wait_until("a rewind", || stats.rewinds() >= 1).await;
    // The data goes out again; finalized stays back while the DA finalizes nothing.
    wait_until("safe 4 again", || {
        heads().0 >= 4 && stats.confirmed_block() >= 4
    })
    .await;
    assert_eq!(heads().1, first_lost - 1, "finalized moved back");
    da.finalized.store(1_000, Ordering::SeqCst);
    wait_until("finalized 4 again", || heads() == (4, 4)).await;
    stop.send(true).unwrap();
    task.await.unwrap();
}
