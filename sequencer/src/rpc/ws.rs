//! WebSocket connections: JSON-RPC messages in, responses and subscription notifications
//! out through a bounded outbox written by a separate task.

use super::{
    jsonrpc::{Origin, handle_message},
    pubsub::Connection,
};
use crate::node::Node;
use axum::extract::ws::{Message, WebSocket};
use futures::{SinkExt, StreamExt, stream::SplitSink};
use std::{sync::Arc, time::Duration};
use tokio::sync::{OwnedSemaphorePermit, mpsc, watch};

/// Messages queued for one client before it counts as too slow and is disconnected.
const OUTBOX: usize = 1024;
/// Interval of keep-alive pings (geth's).
const PING_INTERVAL: Duration = Duration::from_secs(30);

/// Why a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// The client closed it or the socket failed.
    Client,
    /// The client did not read its messages.
    Slow,
    /// The server is stopping.
    Shutdown,
}

/// Serves one upgraded connection until it closes. Holds `permit` (a connection slot) for
/// its lifetime.
pub(crate) async fn serve_socket(
    node: Arc<Node>,
    socket: WebSocket,
    id: u64,
    permit: OwnedSemaphorePermit,
    shutdown: watch::Receiver<bool>,
) {
    let (sink, mut stream) = socket.split();
    let (tx, rx) = mpsc::channel(OUTBOX);
    let conn = Arc::new(Connection::new(id, tx));
    let mut writer = tokio::spawn(write_loop(sink, rx));
    tracing::debug!(target: "altius::rpc", conn = id, "websocket connected");
    let end = read_loop(&node, &conn, &mut stream, shutdown).await;
    conn.close();
    match end {
        End::Slow => {
            tracing::warn!(target: "altius::rpc", conn = id, "websocket client too slow, disconnected");
            writer.abort();
        }
        End::Client | End::Shutdown => {
            // Let queued responses and the close frame go out, but not forever.
            if tokio::time::timeout(Duration::from_secs(5), &mut writer)
                .await
                .is_err()
            {
                writer.abort();
            }
        }
    }
    drop(permit);
    tracing::debug!(target: "altius::rpc", conn = id, ?end, "websocket closed");
}

async fn read_loop(
    node: &Arc<Node>,
    conn: &Arc<Connection>,
    stream: &mut futures::stream::SplitStream<WebSocket>,
    mut shutdown: watch::Receiver<bool>,
) -> End {
    let mut ping = tokio::time::interval(PING_INTERVAL);
    ping.tick().await;
    loop {
        let message = tokio::select! {
            m = stream.next() => m,
            () = conn.too_slow() => return End::Slow,
            _ = shutdown.wait_for(|stop| *stop) => return End::Shutdown,
            _ = ping.tick() => {
                conn.send(Message::Ping(Default::default()));
                continue;
            }
        };
        let body = match message {
            Some(Ok(Message::Text(text))) => axum::body::Bytes::from(text),
            Some(Ok(Message::Binary(data))) => data,
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(Message::Close(_))) | None => return End::Client,
            Some(Err(e)) => {
                tracing::debug!(target: "altius::rpc", conn = conn.id, error = %e, "websocket read failed");
                return End::Client;
            }
        };
        handle(node, conn, body).await;
    }
}

/// Handles one message on a blocking thread, queues the answer, then starts the
/// subscriptions it created.
async fn handle(node: &Arc<Node>, conn: &Arc<Connection>, body: axum::body::Bytes) {
    let (node, task_conn) = (node.clone(), conn.clone());
    let answer = tokio::task::spawn_blocking(move || {
        handle_message(
            Origin {
                node: &node,
                conn: Some(&task_conn),
            },
            &body,
        )
    })
    .await;
    match answer {
        Ok(Some(text)) => {
            conn.send(Message::text(text));
        }
        Ok(None) => {}
        Err(e) => {
            tracing::error!(target: "altius::rpc", conn = conn.id, error = %e, "request task failed")
        }
    }
    conn.start_pending();
}

async fn write_loop(mut sink: SplitSink<WebSocket, Message>, mut rx: mpsc::Receiver<Message>) {
    while let Some(message) = rx.recv().await {
        if sink.send(message).await.is_err() {
            return;
        }
    }
    let _ = sink.send(Message::Close(None)).await;
    let _ = sink.close().await;
}
