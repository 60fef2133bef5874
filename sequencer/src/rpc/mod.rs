//! The Ethereum JSON-RPC server: HTTP and WebSocket on one port, like anvil.
//!
//! - `POST /` (any path) takes JSON-RPC 2.0 single or batch requests with a geth-accepted
//!   `Content-Type` (`application/json`). Bodies over `rpc.max_request_bytes` get HTTP 413
//!   with a JSON-RPC error, without being read to the end. Batches over
//!   `rpc.max_batch_size` get one `-32600` error.
//! - `GET /` with `Upgrade: websocket` opens a WebSocket (at most `rpc.max_ws_connections`)
//!   that also serves `eth_subscribe` (`newHeads`, `logs`, `newPendingTransactions`); a
//!   client that stops reading is disconnected. A plain `GET` answers 200 (health check).
//! - CORS is permissive, so wallets and dapps in browsers can call the node.
//!
//! Methods: `web3_clientVersion`, `web3_sha3`, `net_version`, `net_listening`,
//! `net_peerCount`, `eth_chainId`, `eth_syncing`, `eth_accounts`, `eth_blockNumber`,
//! `eth_getBalance`, `eth_getTransactionCount`, `eth_getCode`, `eth_getStorageAt`,
//! `eth_getProof`, `eth_call`, `eth_estimateGas`, `eth_gasPrice`,
//! `eth_maxPriorityFeePerGas`, `eth_feeHistory`, `eth_sendRawTransaction`,
//! `eth_getTransactionByHash`, `eth_getTransactionReceipt`,
//! `eth_getTransactionByBlock{Number,Hash}AndIndex`, `eth_getBlockBy{Number,Hash}`,
//! `eth_getBlockTransactionCountBy{Number,Hash}`, `eth_getUncleCountByBlock{Number,Hash}`,
//! `eth_getBlockReceipts`, `eth_getLogs`, op-node's `optimism_outputAtBlock`,
//! `optimism_syncStatus` and `optimism_rollupConfig`, and over WebSocket `eth_subscribe` /
//! `eth_unsubscribe`. Block parameters take `latest`, `pending` (the same as `latest`,
//! except that `eth_getTransactionCount` adds the sender's pool transactions), `safe`,
//! `finalized`, `earliest`, numbers and EIP-1898 objects.
//!
//! Errors follow geth's codes and messages (see [`error`]). Every method runs on a blocking
//! thread, so storage reads and EVM calls never stall the async runtime.

mod block_id;
mod blocks;
mod call;
mod convert;
mod dispatch;
pub mod error;
mod fees;
mod filter;
mod http;
mod jsonrpc;
mod logs;
mod misc;
mod optimism;
mod params;
mod pubsub;
mod state;
mod tx;
mod ws;

#[cfg(test)]
mod tests;

use crate::node::Node;
use axum::{Router, serve::ListenerExt};
use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};
use tokio::{
    net::TcpListener,
    sync::{Semaphore, watch},
};

/// State shared by all requests.
#[derive(Debug)]
struct Server {
    node: Arc<Node>,
    /// One permit per allowed WebSocket connection.
    ws_slots: Arc<Semaphore>,
    /// Turns true when the server stops; WebSocket connections then close.
    shutdown: watch::Receiver<bool>,
    /// Numbers WebSocket connections for the logs.
    connections: AtomicU64,
}

impl Server {
    fn next_id(&self) -> u64 {
        self.connections.fetch_add(1, Ordering::Relaxed)
    }
}

/// The router serving JSON-RPC over HTTP and WebSocket on every path.
fn router(node: Arc<Node>, shutdown: watch::Receiver<bool>) -> Router {
    let slots = node.config.rpc.max_ws_connections;
    let server = Server {
        node,
        ws_slots: Arc::new(Semaphore::new(slots)),
        shutdown,
        connections: AtomicU64::new(0),
    };
    Router::new()
        .fallback(http::entry)
        .with_state(Arc::new(server))
}

/// Serves JSON-RPC on `listener` until `shutdown` completes, then stops accepting, lets
/// in-flight HTTP requests finish and closes WebSocket connections.
///
/// The caller binds the listener (so it can print the address, also for port 0):
///
/// ```ignore
/// let listener = tokio::net::TcpListener::bind(addr).await?;
/// tokio::spawn(altius_sequencer::rpc::serve(node, listener, async { stop.await }));
/// ```
pub async fn serve(
    node: Arc<Node>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let local = listener.local_addr()?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let app = router(node, stop_rx);
    tracing::info!(
        target: "altius::rpc",
        %local,
        methods = dispatch::method_names().count(),
        "JSON-RPC server listening (HTTP and WebSocket)"
    );
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(target: "altius::rpc", error = %e, "cannot set TCP_NODELAY");
        }
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stop_tx.send(true);
            tracing::info!(target: "altius::rpc", "JSON-RPC server stopping");
        })
        .await
}
