//! The rollup side of `altius run`: the batch submission task, which moves the `safe` head
//! as block data lands on the DA layer, the throttle it gives the block builder, and the
//! proposer task, which records output roots of safe blocks on the settlement layer, and
//! the metrics that show all of it.

pub mod batcher;
pub mod finality;
pub mod metrics;
pub mod proposer;
#[cfg(test)]
mod reorg_tests;
pub mod verify;

pub use batcher::{ChainSource, Throttle, block_data, open_submitter, run_batcher};
pub use metrics::{MetricSources, NodeMetrics, serve_metrics};
pub use proposer::{NodeOutputs, output_root_inputs, run_proposer};

use crate::node::Node;
use altius_batcher::{BacklogGauge, SubmitterStats};
use altius_settlement::L2Head;
use eyre::WrapErr;
use std::sync::Arc;
use tokio::{sync::watch, task::JoinHandle};

/// The running batch submission and proposer tasks.
#[derive(Debug)]
pub struct RollupTasks {
    throttle: Arc<Throttle>,
    metrics: MetricSources,
    batcher: JoinHandle<()>,
    proposer: JoinHandle<()>,
}

impl RollupTasks {
    /// Opens the configured DA and settlement layers (both before anything is spawned, so a
    /// bad configuration starts nothing) and spawns the tasks; they stop when `stop` turns
    /// true.
    pub fn start(node: &Arc<Node>, stop: &watch::Receiver<bool>) -> eyre::Result<Self> {
        let config = &node.config;
        let da = config
            .da
            .build(Some(node.db.clone()))
            .wrap_err("cannot open the DA layer")?;
        let (da, fallback) = config
            .da_fallback
            .wrap(da)
            .wrap_err("cannot open the fallback DA layer")?;
        let head = L2Head::at(node.head().number);
        let settlement = config
            .settlement
            .build(Some(node.db.clone()), head.clone())
            .wrap_err("cannot open the settlement layer")?;
        let backlog = BacklogGauge::new();
        let stats = SubmitterStats::new();
        let max_backlog = config.batcher.max_backlog_blocks;
        let throttle = Arc::new(Throttle::new(backlog.clone(), max_backlog));
        let metrics = MetricSources {
            node: node.clone(),
            backlog: backlog.clone(),
            submitter: stats.clone(),
            throttle: throttle.clone(),
            fallback,
        };
        let batcher = run_batcher(node.clone(), da, (backlog, stats), stop.clone());
        let proposer = run_proposer(node.clone(), settlement, head, stop.clone());
        Ok(Self {
            throttle,
            metrics,
            batcher: tokio::spawn(batcher),
            proposer: tokio::spawn(proposer),
        })
    }

    /// The throttle the block builder obeys.
    pub fn throttle(&self) -> Arc<Throttle> {
        self.throttle.clone()
    }

    /// Where the metrics read the rollup's figures.
    pub fn metric_sources(&self) -> MetricSources {
        self.metrics.clone()
    }

    /// Waits for both tasks to stop.
    pub async fn join(self) -> eyre::Result<()> {
        self.batcher
            .await
            .wrap_err("batch submission task failed")?;
        self.proposer.await.wrap_err("proposer task failed")
    }
}
