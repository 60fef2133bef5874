//! `eth_subscribe` / `eth_unsubscribe` over WebSocket: `newHeads`, `logs`,
//! `newPendingTransactions` and `syncing`.
//!
//! Each subscription is a task that forwards events into the connection's bounded outbox.
//! It never waits for the client: when the outbox is full the connection is marked slow and
//! closed, so one client that stops reading cannot hold up the node or other clients.

use super::{
    convert,
    error::{RpcError, RpcResult},
    filter::{FilterQuery, LogFilter},
    logs::block_logs,
    params::Params,
};
use crate::{node::Node, store::StoredBlock};
use alloy_primitives::TxHash;
use axum::extract::ws::Message;
use parking_lot::Mutex;
use serde_json::{Value, json};
use std::{collections::HashMap, sync::Arc};
use tokio::{
    sync::{Notify, broadcast, mpsc, oneshot},
    task::AbortHandle,
};

/// Most subscriptions one connection may hold.
pub(crate) const MAX_SUBSCRIPTIONS: usize = 1024;

/// A WebSocket connection as the dispatcher and the subscriptions see it.
#[derive(Debug)]
pub(crate) struct Connection {
    /// Connection number, for logs.
    pub(crate) id: u64,
    /// The outbox; `None` once the connection is closing.
    out: Mutex<Option<mpsc::Sender<Message>>>,
    /// Live subscriptions by id.
    subs: Mutex<HashMap<String, AbortHandle>>,
    /// Subscriptions created by the message being handled, started once its response is
    /// queued (so that the client learns the id before the first notification).
    starting: Mutex<Vec<oneshot::Sender<()>>>,
    /// Signalled when the client is too slow and must be disconnected.
    slow: Notify,
}

impl Connection {
    /// A connection whose messages go to `out`.
    pub(crate) fn new(id: u64, out: mpsc::Sender<Message>) -> Self {
        Self {
            id,
            out: Mutex::new(Some(out)),
            subs: Mutex::default(),
            starting: Mutex::default(),
            slow: Notify::new(),
        }
    }

    /// Queues `message` without waiting. Returns false when the connection is closing or
    /// the client is too slow (which also asks the connection to close).
    pub(crate) fn send(&self, message: Message) -> bool {
        let Some(out) = self.out.lock().clone() else {
            return false;
        };
        match out.try_send(message) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.slow.notify_one();
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    /// Resolves when the client has been found too slow.
    pub(crate) async fn too_slow(&self) {
        self.slow.notified().await;
    }

    /// Starts the subscriptions created since the last call.
    pub(crate) fn start_pending(&self) {
        for start in self.starting.lock().drain(..) {
            let _ = start.send(());
        }
    }

    /// Stops every subscription and closes the outbox (queued messages are still written).
    pub(crate) fn close(&self) {
        self.out.lock().take();
        self.starting.lock().clear();
        for (_, task) in self.subs.lock().drain() {
            task.abort();
        }
    }

    fn notify(&self, subscription: &str, result: Value) -> bool {
        let body = json!({
            "jsonrpc": "2.0",
            "method": "eth_subscription",
            "params": {"subscription": subscription, "result": result},
        });
        self.send(Message::text(body.to_string()))
    }
}

/// What a subscription forwards.
enum Kind {
    NewHeads,
    Logs(LogFilter),
    PendingTxs { full: bool },
    Syncing,
}

fn parse_kind(params: &Params) -> RpcResult<Kind> {
    let name: String = params.required(0)?;
    match name.as_str() {
        "newHeads" => Ok(Kind::NewHeads),
        "logs" => {
            let filter = match params.raw(1) {
                Some(raw) => {
                    FilterQuery::parse(raw)
                        .map_err(|e| RpcError::invalid_params(format!("invalid argument 1: {e}")))?
                        .filter
                }
                None => LogFilter::default(),
            };
            filter.check_limits().map_err(RpcError::server)?;
            Ok(Kind::Logs(filter))
        }
        "newPendingTransactions" => Ok(Kind::PendingTxs {
            full: params.optional::<bool>(1)?.unwrap_or(false),
        }),
        "syncing" => Ok(Kind::Syncing),
        other => Err(RpcError::new(
            super::error::METHOD_NOT_FOUND,
            format!("no \"{other}\" subscription in eth namespace"),
        )),
    }
}

/// `eth_subscribe(kind, options)`: returns the subscription id.
pub(crate) fn subscribe(
    node: &Arc<Node>,
    conn: &Arc<Connection>,
    params: &Params,
) -> RpcResult<Value> {
    let kind = parse_kind(params)?;
    let mut subs = conn.subs.lock();
    if subs.len() >= MAX_SUBSCRIPTIONS {
        return Err(RpcError::server(format!(
            "too many subscriptions on this connection (limit {MAX_SUBSCRIPTIONS})"
        )));
    }
    let id = format!("{:#x}", rand::random::<u128>());
    let (start_tx, start) = oneshot::channel();
    let task = spawn_forwarder(node, conn.clone(), id.clone(), kind, start);
    subs.insert(id.clone(), task);
    conn.starting.lock().push(start_tx);
    tracing::debug!(target: "altius::rpc", conn = conn.id, %id, "subscribed");
    Ok(Value::String(id))
}

/// `eth_unsubscribe(id)`.
pub(crate) fn unsubscribe(conn: &Connection, params: &Params) -> RpcResult<Value> {
    let id: String = params.required(0)?;
    match conn.subs.lock().remove(&id) {
        Some(task) => {
            task.abort();
            Ok(Value::Bool(true))
        }
        None => Err(RpcError::server("subscription not found")),
    }
}

fn spawn_forwarder(
    node: &Arc<Node>,
    conn: Arc<Connection>,
    id: String,
    kind: Kind,
    start: oneshot::Receiver<()>,
) -> AbortHandle {
    let task = match kind {
        Kind::NewHeads => {
            let rx = node.new_blocks.subscribe();
            tokio::spawn(forward(conn, id, start, rx, |block: Arc<StoredBlock>| {
                let header = convert::rpc_header(&block.header, None);
                serde_json::to_value(header).into_iter().collect()
            }))
        }
        Kind::Logs(filter) => {
            let rx = node.new_blocks.subscribe();
            tokio::spawn(forward(
                conn,
                id,
                start,
                rx,
                move |block: Arc<StoredBlock>| block_log_values(&block, &filter),
            ))
        }
        Kind::PendingTxs { full } => {
            let rx = node.mempool.subscribe();
            let node = node.clone();
            tokio::spawn(forward(conn, id, start, rx, move |hash: TxHash| {
                pending_value(&node, hash, full).into_iter().collect()
            }))
        }
        Kind::Syncing => tokio::spawn(async move {
            let _keep = (conn, id, start);
            std::future::pending::<()>().await;
        }),
    };
    task.abort_handle()
}

fn block_log_values(block: &StoredBlock, filter: &LogFilter) -> Vec<Value> {
    if !filter.matches_bloom(&block.header.logs_bloom) {
        return Vec::new();
    }
    let mut logs = Vec::new();
    block_logs(block, filter, &mut logs);
    logs.into_iter()
        .filter_map(|l| serde_json::to_value(l).ok())
        .collect()
}

fn pending_value(node: &Node, hash: TxHash, full: bool) -> Option<Value> {
    if !full {
        return serde_json::to_value(hash).ok();
    }
    let tx = node.mempool.get(&hash)?;
    serde_json::to_value(convert::pending_tx(&tx)).ok()
}

/// Forwards every event of `rx`, rendered by `render`, until the client is gone or slow.
async fn forward<T: Clone>(
    conn: Arc<Connection>,
    id: String,
    start: oneshot::Receiver<()>,
    mut rx: broadcast::Receiver<T>,
    render: impl Fn(T) -> Vec<Value>,
) {
    if start.await.is_err() {
        return;
    }
    loop {
        match rx.recv().await {
            Ok(event) => {
                for item in render(event) {
                    if !conn.notify(&id, item) {
                        return;
                    }
                }
            }
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::warn!(target: "altius::rpc", conn = conn.id, %id, missed, "subscriber fell behind, disconnecting");
                conn.slow.notify_one();
                return;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_full_outbox_marks_the_client_slow() {
        let (tx, mut rx) = mpsc::channel(2);
        let conn = Connection::new(1, tx);
        assert!(conn.send(Message::text("a")));
        assert!(conn.send(Message::text("b")));
        assert!(!conn.send(Message::text("c")), "the outbox is full");
        tokio::time::timeout(Duration::from_secs(1), conn.too_slow())
            .await
            .expect("slow");
        assert_eq!(rx.recv().await, Some(Message::text("a")));
        conn.close();
        assert!(!conn.send(Message::text("d")), "closed");
        assert_eq!(rx.recv().await, Some(Message::text("b")));
        assert_eq!(rx.recv().await, None, "the outbox ends once drained");
    }

    #[tokio::test]
    async fn notifications_wait_for_the_subscribe_answer() {
        let (tx, mut rx) = mpsc::channel(8);
        let conn = Arc::new(Connection::new(1, tx));
        let (events, _) = broadcast::channel::<u64>(8);
        let (start_tx, start) = oneshot::channel();
        let task = tokio::spawn(forward(
            conn.clone(),
            "0x1".into(),
            start,
            events.subscribe(),
            |n| vec![json!(n)],
        ));
        events.send(7).unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(rx.try_recv().is_err(), "nothing before the start");
        start_tx.send(()).unwrap();
        let got = tokio::time::timeout(Duration::from_secs(1), rx.recv())
            .await
            .unwrap()
            .unwrap();
        let got: Value = serde_json::from_str(got.to_text().unwrap()).unwrap();
        assert_eq!(got["method"], "eth_subscription");
        assert_eq!(got["params"], json!({"subscription": "0x1", "result": 7}));
        task.abort();
    }
}
