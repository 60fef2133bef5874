//! `altius run`: open the node, start block production and the JSON-RPC server, and stop
//! cleanly on SIGINT or SIGTERM.

use crate::{builder, cli::RunArgs, config::NodeConfig, dev, node::Node, rollup, rpc};
use altius_engine::Genesis;
use eyre::WrapErr;
use std::net::SocketAddr;
use tokio::sync::watch;
use tracing::info;

/// Runs the node until a stop signal.
pub fn run(args: RunArgs) -> eyre::Result<()> {
    init_tracing();
    let config = load_config(&args)?;
    let genesis = load_genesis(&config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("altius")
        .build()
        .wrap_err("cannot start the async runtime")?;
    runtime.block_on(run_node(config, genesis))
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .try_init();
}

/// The configuration file (or the defaults) with the command-line flags applied.
pub fn load_config(args: &RunArgs) -> eyre::Result<NodeConfig> {
    let mut config = match &args.config {
        Some(path) => NodeConfig::load(path)?,
        None => NodeConfig::default(),
    };
    if let Some(d) = &args.datadir {
        config.datadir.0 = d.clone();
    }
    if let Some(a) = args.http_addr {
        config.rpc.addr = a;
    }
    if let Some(p) = args.http_port {
        config.rpc.port = p;
    }
    if let Some(t) = args.block_time {
        config.sequencer.block_time = t;
    }
    if let Some(g) = &args.genesis {
        config.genesis.file = Some(g.clone());
    }
    config.validate()?;
    Ok(config)
}

/// The genesis from the configured file, or the dev genesis.
pub fn load_genesis(config: &NodeConfig) -> eyre::Result<Genesis> {
    match &config.genesis.file {
        None => Ok(Genesis::dev(&dev::dev_addresses())),
        Some(path) => {
            Genesis::load(path).wrap_err_with(|| format!("cannot load genesis {}", path.display()))
        }
    }
}

async fn run_node(config: NodeConfig, genesis: Genesis) -> eyre::Result<()> {
    let dev_genesis = config.genesis.file.is_none();
    let addr = SocketAddr::new(config.rpc.addr, config.rpc.port);
    let node = tokio::task::block_in_place(|| Node::open(config, &genesis))?;
    if dev_genesis {
        println!("{}", dev::banner(node.chain.chain_id, 10_000));
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .wrap_err_with(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    println!("Listening on {local}");
    info!(target: "altius::node", %local, head = node.head().number, "node started");

    let (stop_tx, stop_rx) = watch::channel(false);
    let rollup = rollup::RollupTasks::start(&node, &stop_rx)?;
    let builder = tokio::spawn(builder::run(
        node.clone(),
        stop_rx.clone(),
        rollup.throttle(),
    ));
    let metrics = start_metrics(&node, &rollup, &stop_rx).await?;
    let mut rpc_stop = stop_rx;
    let server = tokio::spawn(rpc::serve(node.clone(), listener, async move {
        let _ = rpc_stop.wait_for(|s| *s).await;
    }));

    wait_for_signal().await?;
    info!(target: "altius::node", "stopping: finishing the block in progress");
    let _ = stop_tx.send(true);
    builder.await.wrap_err("block builder task failed")?;
    rollup.join().await?;
    match tokio::time::timeout(std::time::Duration::from_secs(5), server).await {
        Ok(joined) => joined
            .wrap_err("rpc task failed")?
            .wrap_err("rpc server failed")?,
        Err(_) => info!(target: "altius::node", "rpc connections still open at shutdown"),
    }
    if let Some(metrics) = metrics {
        metrics.abort();
    }
    info!(target: "altius::node", head = node.head().number, "stopped");
    Ok(())
}

/// Binds the `[metrics]` address (when enabled) and serves `GET /metrics` there.
async fn start_metrics(
    node: &Node,
    rollup: &rollup::RollupTasks,
    stop: &watch::Receiver<bool>,
) -> eyre::Result<Option<tokio::task::JoinHandle<std::io::Result<()>>>> {
    let config = &node.config.metrics;
    if !config.enabled {
        return Ok(None);
    }
    let addr = SocketAddr::new(config.addr, config.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .wrap_err_with(|| format!("cannot listen for metrics on {addr}"))?;
    let local = listener.local_addr()?;
    println!("Metrics on http://{local}/metrics");
    info!(target: "altius::node", %local, "serving metrics");
    let metrics = std::sync::Arc::new(rollup::NodeMetrics::new(rollup.metric_sources()));
    let mut stop = stop.clone();
    let shutdown = async move {
        let _ = stop.wait_for(|s| *s).await;
    };
    Ok(Some(tokio::spawn(rollup::serve_metrics(
        metrics, listener, shutdown,
    ))))
}

async fn wait_for_signal() -> eyre::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).wrap_err("cannot watch SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).wrap_err("cannot watch SIGINT")?;
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    Ok(())
}
