//! The batch submission task: feeds committed blocks to the [`BatchSubmitter`], marks
//! them `safe` once their frames are on the DA layer, and `finalized` once those frames
//! (and all earlier ones) sit at or below the DA layer's finalized height.
//!
//! The same rule holds for every DA: the local DA's finalized height is its latest one, so
//! there `finalized` moves with `safe`; on Ethereum it follows L1's `finalized` block.
//!
//! Every `verify_interval_ms` the frames of blocks that are safe but not finalized are read
//! back from the DA layer ([`super::verify::Verifier`]); when an L1 reorg dropped one, the
//! submitter rewinds and `safe` moves back to the last block whose data is still there.

use super::{finality::Finality, verify::Verifier};
use crate::{
    node::{Node, NodeError},
    store::StoredBlock,
};
use alloy_eips::eip2718::Encodable2718;
use altius_batcher::{
    BacklogGauge, BatchSubmitter, BatcherError, L2BlockData, L2BlockSource, SpanBatchParams,
    SubmitterStats,
};
use altius_da::{DaClient, DaReference};
use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};
use tokio::sync::watch;
use tracing::{info, warn};

/// How often the task looks for blocks and old channels without a new-block signal.
const POLL: Duration = Duration::from_millis(250);

/// How long asking the DA layer for its finalized height may take.
const FINALIZED_TIMEOUT: Duration = Duration::from_secs(10);

/// The batcher's view of a committed block: deposits are left out, as in OP batches.
pub fn block_data(block: &StoredBlock) -> L2BlockData {
    L2BlockData {
        number: block.number(),
        hash: block.hash(),
        parent_hash: block.header.parent_hash,
        timestamp: block.header.timestamp,
        transactions: block
            .txs
            .iter()
            .filter(|t| !t.tx.is_deposit())
            .map(|t| t.tx.encoded_2718().into())
            .collect(),
    }
}

/// The node's chain store as the batcher's block source.
#[derive(Debug, Clone)]
pub struct ChainSource(pub Arc<Node>);

impl L2BlockSource for ChainSource {
    fn head_number(&self) -> Result<u64, BatcherError> {
        Ok(self.0.store.head_number())
    }

    fn block(&self, number: u64) -> Result<Option<L2BlockData>, BatcherError> {
        let block = self.0.store.block(number);
        let block = block.map_err(|e| BatcherError::Source(e.to_string()))?;
        Ok(block.as_ref().map(block_data))
    }
}

/// Opens the submitter on the node's database. Span batches need a whole-second block
/// time: a fractional or zero one is rounded up to 1 s (blocks off that grid just start a
/// new channel).
pub fn open_submitter(
    node: &Node,
    da: Arc<dyn DaClient>,
    backlog: BacklogGauge,
    stats: SubmitterStats,
) -> Result<BatchSubmitter, NodeError> {
    let genesis = node
        .store
        .header(0)?
        .ok_or_else(|| NodeError::Genesis("the genesis block is missing".into()))?;
    let params = SpanBatchParams {
        genesis_timestamp: genesis.timestamp,
        block_time: (node.config.sequencer.block_time.ceil() as u64).max(1),
        chain_id: node.chain.chain_id,
    };
    // Frames sized for the DA backend (one blob each with ethereum-blobs).
    let config = (node.config.batcher.clone().sized_for_da(da.kind()))
        .map_err(|e| NodeError::Database(format!("batcher: {e}")))?;
    let submitter = BatchSubmitter::open(node.db.clone(), da, config, params, 0)
        .map_err(|e| NodeError::Database(format!("batcher: {e}")))?;
    Ok(submitter.with_backlog(backlog).with_stats(stats))
}

/// Records `safe` and, when given, `finalized` in one transaction.
fn write_heads(node: &Node, safe: u64, finalized: Option<u64>) -> Result<(), NodeError> {
    let db_err = |e: &dyn std::fmt::Display| NodeError::Database(e.to_string());
    let txn = node.db.begin_write().map_err(|e| db_err(&e))?;
    node.store.write_safe(&txn, safe, finalized)?;
    txn.commit().map_err(|e| db_err(&e))
}

/// Asks the DA layer holding `reference` for its finalized height; logs and returns `None`
/// on failure.
async fn da_finalized_height(da: &dyn DaClient, reference: &DaReference) -> Option<u64> {
    match tokio::time::timeout(FINALIZED_TIMEOUT, da.finalized_height_for(reference)).await {
        Ok(Ok(height)) => Some(height),
        Ok(Err(e)) => {
            warn!(target: "altius::batcher", error = %e, "cannot read the DA finalized height");
            None
        }
        Err(_) => {
            warn!(target: "altius::batcher", "reading the DA finalized height timed out");
            None
        }
    }
}

/// The block `finalized` may move to with `safe` at `safe`, if it may move.
async fn next_finalized(
    da: &dyn DaClient,
    sub: &BatchSubmitter,
    finality: &mut Finality,
    safe: u64,
) -> Option<u64> {
    if finality.finalized() >= safe {
        return None;
    }
    if finality.loaded() < safe {
        match sub.submitted_frames() {
            Ok(frames) => finality.load(&frames, safe),
            Err(e) => {
                warn!(target: "altius::batcher", error = %e, "cannot read the submitted frames");
                return None;
            }
        }
    }
    let mut heights = BTreeMap::new();
    for (layer, reference) in finality.layers() {
        heights.insert(layer, da_finalized_height(da, &reference).await?);
    }
    finality.candidate(&heights)
}

/// The `safe` and `finalized` heads as the task tracks them.
#[derive(Debug)]
struct Heads {
    safe: u64,
    finality: Finality,
}

impl Heads {
    /// Moves `safe` to `confirmed` (if higher) and `finalized` as far as the DA layer's
    /// finalized height allows, both in one transaction.
    async fn update(
        &mut self,
        node: &Node,
        da: &dyn DaClient,
        sub: &BatchSubmitter,
        confirmed: u64,
    ) {
        let safe = confirmed.max(self.safe);
        let finalized = next_finalized(da, sub, &mut self.finality, safe).await;
        if safe == self.safe && finalized.is_none() {
            return;
        }
        match write_heads(node, safe, finalized) {
            Ok(()) => {
                self.safe = safe;
                finalized.into_iter().for_each(|f| self.finality.commit(f));
            }
            Err(e) => warn!(target: "altius::batcher", error = %e, "cannot record the safe head"),
        }
    }

    /// Moves `safe` back to `confirmed` after the submitter rewound (data left the DA
    /// layer). `finalized` moves back only if the DA layer took back data it had called
    /// final (a development L1 reverted or restarted).
    fn rewind(&mut self, node: &Node, confirmed: u64) {
        self.finality.forget_loaded();
        if confirmed >= self.safe {
            return;
        }
        let finalized = (confirmed < self.finality.finalized()).then_some(confirmed);
        match write_heads(node, confirmed, finalized) {
            Ok(()) => {
                warn!(target: "altius::batcher", from = self.safe, to = confirmed, "safe head moved back: its batch data is no longer on the DA layer");
                self.safe = confirmed;
                if let Some(f) = finalized {
                    warn!(target: "altius::batcher", from = self.finality.finalized(), to = f, "finalized head moved back: the DA layer dropped data it had finalized");
                    self.finality = Finality::new(f);
                }
            }
            Err(e) => warn!(target: "altius::batcher", error = %e, "cannot record the safe head"),
        }
    }
}

/// Keeps `backlog` current while the submitter is busy (a submission may wait for the DA
/// layer for long while blocks keep coming): never returns.
async fn track_backlog(
    node: &Node,
    backlog: &BacklogGauge,
    stats: &SubmitterStats,
) -> std::convert::Infallible {
    loop {
        tokio::time::sleep(POLL).await;
        let head = node.store.head_number();
        backlog.set(head.saturating_sub(stats.confirmed_block()));
    }
}

/// Runs batch submission until `shutdown` turns true. After an error the submitter is
/// reopened from its persisted cursor, so nothing is skipped.
pub async fn run_batcher(
    node: Arc<Node>,
    da: Arc<dyn DaClient>,
    (backlog, stats): (BacklogGauge, SubmitterStats),
    mut shutdown: watch::Receiver<bool>,
) {
    let source = ChainSource(node.clone());
    let mut blocks = node.new_blocks.subscribe();
    let mut submitter = None;
    let mut heads = Heads {
        safe: node.store.safe_number().unwrap_or(0),
        finality: Finality::new(node.store.finalized_number().unwrap_or(0)),
    };
    let retry = Duration::from_millis(node.config.batcher.retry_backoff_ms);
    let mut verifier = Verifier::new(Duration::from_millis(
        node.config.batcher.verify_interval_ms,
    ));
    loop {
        tokio::select! {
            biased;
            _ = shutdown.wait_for(|s| *s) => break,
            _ = blocks.recv() => {}
            _ = tokio::time::sleep(POLL) => {}
        }
        if submitter.is_none() {
            match open_submitter(&node, da.clone(), backlog.clone(), stats.clone()) {
                Ok(sub) => submitter = Some(sub),
                Err(e) => {
                    warn!(target: "altius::batcher", error = %e, "cannot open the batch submitter");
                    tokio::time::sleep(retry).await;
                    continue;
                }
            }
        }
        let Some(sub) = submitter.as_mut() else {
            continue;
        };
        let finalized = heads.finality.finalized();
        let step = tokio::select! {
            biased;
            _ = shutdown.wait_for(|s| *s) => break,
            step = verifier.run(sub, da.as_ref(), finalized) => step,
        };
        match step {
            Ok(Some(confirmed)) => heads.rewind(&node, confirmed),
            Ok(None) => {}
            Err(e) => {
                warn!(target: "altius::batcher", error = %e, "cannot check the submitted frames")
            }
        }
        let step = tokio::select! {
            biased;
            _ = shutdown.wait_for(|s| *s) => break,
            step = sub.catch_up(&source) => step,
            never = track_backlog(&node, &backlog, &stats) => match never {},
        };
        match step {
            Ok(confirmed) => heads.update(&node, da.as_ref(), sub, confirmed).await,
            Err(e) => {
                warn!(target: "altius::batcher", error = %e, "batch submission failed; resuming from the cursor");
                submitter = None;
                tokio::time::sleep(retry).await;
            }
        }
    }
    let (safe, finalized) = (heads.safe, heads.finality.finalized());
    info!(target: "altius::batcher", safe, finalized, "batch submission stopped");
}

/// Pauses block production while too many blocks wait for the DA layer (the unsafe chain
/// stays bounded; transactions wait in the pool). `max_backlog_blocks = 0` disables it.
#[derive(Debug)]
pub struct Throttle {
    backlog: BacklogGauge,
    max: u64,
    paused: AtomicBool,
}

impl Throttle {
    /// A throttle on `backlog` with the threshold `max` (0: never pause).
    pub fn new(backlog: BacklogGauge, max: u64) -> Self {
        Self {
            backlog,
            max,
            paused: AtomicBool::new(false),
        }
    }

    /// Whether block production should pause now; logs when that changes.
    pub fn is_paused(&self) -> bool {
        let backlog = self.backlog.get();
        let pause = self.max > 0 && backlog > self.max;
        if self.paused.swap(pause, Ordering::AcqRel) != pause {
            if pause {
                warn!(target: "altius::builder", backlog, max = self.max, "DA backlog too large: pausing block production");
            } else {
                info!(target: "altius::builder", backlog, "DA backlog cleared: resuming block production");
            }
        }
        pause
    }

    /// Whether production was paused at the last [`Self::is_paused`] (for metrics).
    pub fn paused(&self) -> bool {
        self.paused.load(Ordering::Acquire)
    }

    /// Waits until production may go on; returns false if `shutdown` turned true first.
    pub async fn wait(&self, shutdown: &mut watch::Receiver<bool>) -> bool {
        while self.is_paused() {
            tokio::select! {
                _ = shutdown.wait_for(|s| *s) => return false,
                _ = tokio::time::sleep(POLL) => {}
            }
        }
        !*shutdown.borrow()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{builder::build_block, config::NodeConfig, dev};
    use altius_engine::Genesis;

    fn open(dir: &std::path::Path) -> Arc<Node> {
        let mut config = NodeConfig::default();
        config.datadir.0 = dir.to_owned();
        config.batcher.max_channel_age_ms = 1;
        Node::open(config, &Genesis::dev(&dev::dev_addresses())).unwrap()
    }

    async fn wait_safe(node: &Node, number: u64) {
        for _ in 0..200 {
            if node.store.safe_number().unwrap() >= number {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("safe never reached {number}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn committed_blocks_become_safe_and_finalized_and_survive_restart() {
        let dir = tempfile::tempdir().unwrap();
        let node = open(dir.path());
        for _ in 0..3 {
            build_block(&node).unwrap();
        }
        let da = node.config.da.build(Some(node.db.clone())).unwrap();
        let (stop, stop_rx) = watch::channel(false);
        let backlog = BacklogGauge::new();
        let handles = (backlog.clone(), SubmitterStats::new());
        let task = tokio::spawn(run_batcher(node.clone(), da, handles, stop_rx));
        wait_safe(&node, 3).await;
        assert_eq!(
            node.store.finalized_number().unwrap(),
            3,
            "local DA: with safe"
        );
        stop.send(true).unwrap();
        task.await.unwrap();
        drop(node);

        let node = open(dir.path());
        assert_eq!(node.store.safe_number().unwrap(), 3);
        let da: Arc<dyn DaClient> = node.config.da.build(Some(node.db.clone())).unwrap();
        let sub = open_submitter(&node, da, BacklogGauge::new(), SubmitterStats::new()).unwrap();
        assert_eq!(sub.next_block(), 4, "resumes after the confirmed block");
    }

    #[test]
    fn throttle_pauses_above_the_threshold_only() {
        let gauge = BacklogGauge::new();
        let throttle = Throttle::new(gauge.clone(), 5);
        assert!(!throttle.is_paused());
        gauge.set(6);
        assert!(throttle.is_paused());
        gauge.set(5);
        assert!(!throttle.is_paused());
        gauge.set(1_000);
        assert!(!Throttle::new(gauge, 0).is_paused());
    }
}
