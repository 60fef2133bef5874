//! Prometheus metrics: `GET /metrics` (text exposition format) on the `[metrics]` address.
//!
//! The figures are read when scraped: the chain heads from the store, the batcher's from
//! its shared [`SubmitterStats`] and [`BacklogGauge`], the throttle and the DA fallback
//! from their flags.

use super::Throttle;
use crate::node::Node;
use altius_batcher::{BacklogGauge, SubmitterStats};
use altius_da::FallbackStatus;
use axum::{
    Router,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use prometheus_client::{
    encoding::text::encode,
    metrics::{counter::Counter, gauge::Gauge},
    registry::Registry,
};
use std::{future::Future, sync::Arc};
use tracing::warn;

/// The content type of the Prometheus text format.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Where the figures come from.
#[derive(Debug, Clone)]
pub struct MetricSources {
    /// The node (chain heads).
    pub node: Arc<Node>,
    /// Blocks not yet confirmed on the DA layer.
    pub backlog: BacklogGauge,
    /// The submitter's figures.
    pub submitter: SubmitterStats,
    /// The block production throttle.
    pub throttle: Arc<Throttle>,
    /// The DA fallback's state, when one is configured.
    pub fallback: Option<FallbackStatus>,
}

#[derive(Debug, Default)]
struct Gauges {
    head: Gauge,
    safe: Gauge,
    finalized: Gauge,
    backlog_blocks: Gauge,
    backlog_bytes: Gauge,
    pending_frames: Gauge,
    confirmed_block: Gauge,
    da_height: Gauge,
    throttled: Gauge,
    fallback_active: Gauge,
    rewinds: Counter,
}

/// The node's metrics registry.
#[derive(Debug)]
pub struct NodeMetrics {
    sources: MetricSources,
    gauges: Gauges,
    registry: Registry,
}

impl NodeMetrics {
    /// Registers every metric.
    pub fn new(sources: MetricSources) -> Self {
        let gauges = Gauges::default();
        let mut registry = Registry::with_prefix("altius");
        let g = &gauges;
        let entries: [(&str, &str, &Gauge); 10] = [
            ("l2_head_block", "Newest L2 block (unsafe head)", &g.head),
            (
                "l2_safe_block",
                "L2 safe head: its batch data is on the DA layer",
                &g.safe,
            ),
            (
                "l2_finalized_block",
                "L2 finalized head: its batch data is final on the DA layer",
                &g.finalized,
            ),
            (
                "batcher_backlog_blocks",
                "L2 blocks not yet confirmed on the DA layer",
                &g.backlog_blocks,
            ),
            (
                "batcher_backlog_bytes",
                "Transaction bytes of the L2 blocks the batcher holds that are not yet confirmed on the DA layer",
                &g.backlog_bytes,
            ),
            (
                "batcher_pending_frames",
                "Frames of the channel being submitted not yet accepted by the DA layer",
                &g.pending_frames,
            ),
            (
                "batcher_confirmed_block",
                "Last L2 block whose batch data the DA layer accepted",
                &g.confirmed_block,
            ),
            (
                "batcher_last_confirmed_da_height",
                "Highest DA height (L1 block, local sequence number) holding a confirmed frame",
                &g.da_height,
            ),
            (
                "batcher_throttled",
                "1 while block production is paused because the DA backlog is too large",
                &g.throttled,
            ),
            (
                "da_fallback_active",
                "1 while batch data goes to the fallback DA layer",
                &g.fallback_active,
            ),
        ];
        for (name, help, gauge) in entries {
            registry.register(name, help, gauge.clone());
        }
        registry.register(
            "batcher_rewinds",
            "Times the batcher resubmitted data that left the DA layer (L1 reorgs)",
            gauges.rewinds.clone(),
        );
        Self {
            sources,
            gauges,
            registry,
        }
    }

    /// The current figures in the Prometheus text format.
    pub fn render(&self) -> Result<String, std::fmt::Error> {
        self.refresh();
        let mut out = String::new();
        encode(&mut out, &self.registry)?;
        Ok(out)
    }

    fn refresh(&self) {
        let (s, g) = (&self.sources, &self.gauges);
        let set = |gauge: &Gauge, value: u64| {
            gauge.set(i64::try_from(value).unwrap_or(i64::MAX));
        };
        let store = &s.node.store;
        set(&g.head, store.head_number());
        match (store.safe_number(), store.finalized_number()) {
            (Ok(safe), Ok(finalized)) => {
                set(&g.safe, safe);
                set(&g.finalized, finalized);
            }
            (Err(e), _) | (_, Err(e)) => {
                warn!(target: "altius::metrics", error = %e, "cannot read the safe head");
            }
        }
        set(&g.backlog_blocks, s.backlog.get());
        set(&g.backlog_bytes, s.submitter.backlog_bytes());
        set(&g.pending_frames, s.submitter.pending_frames());
        set(&g.confirmed_block, s.submitter.confirmed_block());
        set(&g.da_height, s.submitter.last_da_height());
        set(&g.throttled, u64::from(s.throttle.paused()));
        let fallback = s.fallback.as_ref().is_some_and(FallbackStatus::is_active);
        set(&g.fallback_active, u64::from(fallback));
        let rewinds = s.submitter.rewinds();
        g.rewinds.inc_by(rewinds.saturating_sub(g.rewinds.get()));
    }
}

async fn scrape(State(metrics): State<Arc<NodeMetrics>>) -> Response {
    match metrics.render() {
        Ok(text) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Serves `GET /metrics` on `listener` until `shutdown` completes.
pub async fn serve_metrics(
    metrics: Arc<NodeMetrics>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = Router::new()
        .route("/metrics", get(scrape))
        .with_state(metrics);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{builder::build_block, config::NodeConfig, dev, rollup::run_batcher};
    use altius_engine::Genesis;
    use std::time::Duration;
    use tokio::sync::watch;

    /// The value of the sample `name` (no labels) in a text exposition.
    fn sample(text: &str, name: &str) -> Option<i64> {
        let line = text.lines().find(|l| l.split(' ').next() == Some(name))?;
        line.split(' ').nth(1)?.parse().ok()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_endpoint_serves_the_current_figures() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = NodeConfig::default();
        config.datadir.0 = dir.path().to_owned();
        config.batcher.max_channel_age_ms = 1;
        let node = Node::open(config, &Genesis::dev(&dev::dev_addresses())).unwrap();
        for _ in 0..3 {
            build_block(&node).unwrap();
        }
        let backlog = BacklogGauge::new();
        let stats = SubmitterStats::new();
        let throttle = Arc::new(Throttle::new(backlog.clone(), 1));
        let sources = MetricSources {
            node: node.clone(),
            backlog: backlog.clone(),
            submitter: stats.clone(),
            throttle: throttle.clone(),
            fallback: Some(FallbackStatus::default()),
        };
        let metrics = Arc::new(NodeMetrics::new(sources));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/metrics", listener.local_addr().unwrap());
        let (stop, stop_rx) = watch::channel(false);
        let mut server_stop = stop_rx.clone();
        let server = tokio::spawn(serve_metrics(metrics, listener, async move {
            let _ = server_stop.wait_for(|s| *s).await;
        }));
        let scrape = || async {
            let response = reqwest::get(&url).await.unwrap();
            assert_eq!(response.status(), 200);
            let content_type = response.headers()[header::CONTENT_TYPE].to_str().unwrap();
            assert!(content_type.starts_with("text/plain"), "{content_type}");
            response.text().await.unwrap()
        };

        let before = scrape().await;
        assert_eq!(sample(&before, "altius_l2_head_block"), Some(3), "{before}");
        assert_eq!(sample(&before, "altius_l2_safe_block"), Some(0));
        assert_eq!(sample(&before, "altius_da_fallback_active"), Some(0));
        assert!(
            before.contains("# TYPE altius_batcher_backlog_bytes gauge"),
            "{before}"
        );
        assert!(before.contains("# HELP altius_batcher_pending_frames "));
        assert_eq!(sample(&before, "altius_batcher_rewinds_total"), Some(0));
        backlog.set(2);
        assert!(throttle.is_paused());
        let throttled = scrape().await;
        assert_eq!(sample(&throttled, "altius_batcher_throttled"), Some(1));
        assert_eq!(sample(&throttled, "altius_batcher_backlog_blocks"), Some(2));

        let da = node.config.da.build(Some(node.db.clone())).unwrap();
        let task = tokio::spawn(run_batcher(node.clone(), da, (backlog, stats), stop_rx));
        for _ in 0..200 {
            if node.store.safe_number().unwrap() >= 3 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let after = scrape().await;
        assert_eq!(sample(&after, "altius_l2_safe_block"), Some(3), "{after}");
        assert_eq!(sample(&after, "altius_l2_finalized_block"), Some(3));
        assert_eq!(sample(&after, "altius_batcher_confirmed_block"), Some(3));
        assert_eq!(sample(&after, "altius_batcher_backlog_blocks"), Some(0));
        assert_eq!(sample(&after, "altius_batcher_backlog_bytes"), Some(0));
        assert_eq!(sample(&after, "altius_batcher_pending_frames"), Some(0));
        assert!(sample(&after, "altius_batcher_last_confirmed_da_height").unwrap() >= 1);
        let missing = reqwest::get(url.replace("/metrics", "/nope"))
            .await
            .unwrap();
        assert_eq!(missing.status(), 404);
        stop.send(true).unwrap();
        task.await.unwrap();
        server.await.unwrap().unwrap();
    }
}
