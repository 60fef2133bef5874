//! The server on a real socket: alloy's HTTP and WebSocket providers, raw HTTP edge cases,
//! subscriptions, connection limits and shutdown.

use super::{LOGGER, TestNode, dev_address, mine, signed_tx, test_node};
use alloy::{
    eips::BlockNumberOrTag,
    providers::{Provider, ProviderBuilder, WsConnect},
    rpc::types::{Filter, TransactionRequest},
    transports::http::reqwest,
};
use alloy_primitives::{Bytes, TxKind, U256};
use serde_json::{Value, json};
use std::{net::SocketAddr, sync::Arc, time::Duration};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
    sync::oneshot,
    task::JoinHandle,
};

struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Running {
    fn http(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn ws(&self) -> String {
        format!("ws://{}", self.addr)
    }

    async fn stop(mut self) {
        let _ = self.stop.take().map(|s| s.send(()));
        let joined = tokio::time::timeout(Duration::from_secs(10), self.task).await;
        joined
            .expect("server stops")
            .expect("no panic")
            .expect("clean stop");
    }
}

async fn start(t: &TestNode) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(crate::rpc::serve(t.node.clone(), listener, async move {
        let _ = stopped.await;
    }));
    Running {
        addr,
        stop: Some(stop),
        task,
    }
}

async fn mine_async(t: &TestNode) -> Arc<crate::store::StoredBlock> {
    let node = t.node.clone();
    tokio::task::spawn_blocking(move || mine(&node))
        .await
        .expect("mined")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alloy_http_provider() {
    let t = test_node(|_| {});
    let server = start(&t).await;
    let provider = ProviderBuilder::new().connect_http(server.http().parse().unwrap());
    assert_eq!(
        provider.get_chain_id().await.unwrap(),
        t.node.chain.chain_id
    );
    assert_eq!(provider.get_block_number().await.unwrap(), 0);
    let (hash, raw) = signed_tx(&t.node, 0, 0, TxKind::Call(LOGGER), Bytes::new(), 1);
    let raw = alloy_primitives::hex::decode(raw).unwrap();
    let pending = provider.send_raw_transaction(&raw).await.unwrap();
    assert_eq!(*pending.tx_hash(), hash);
    assert_eq!(
        provider
            .get_transaction_count(dev_address(0))
            .pending()
            .await
            .unwrap(),
        1
    );
    let block = mine_async(&t).await;
    let receipt = provider
        .get_transaction_receipt(hash)
        .await
        .unwrap()
        .expect("mined");
    assert!(receipt.status());
    assert_eq!(receipt.block_hash, Some(block.hash()));
    let full = provider
        .get_block_by_number(BlockNumberOrTag::Latest)
        .full()
        .await
        .unwrap();
    let full = full.expect("the block");
    assert_eq!(full.header.hash, block.hash());
    assert_eq!(full.transactions.len(), 1);
    let logs = provider
        .get_logs(&Filter::new().address(LOGGER).from_block(0))
        .await
        .unwrap();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].transaction_hash, Some(hash));
    let history = provider
        .get_fee_history(1, BlockNumberOrTag::Latest, &[50.0])
        .await
        .unwrap();
    assert_eq!(history.base_fee_per_gas.len(), 2);
    let transfer = TransactionRequest::default()
        .from(dev_address(0))
        .to(dev_address(9))
        .value(U256::from(1));
    assert_eq!(
        provider.estimate_gas(transfer.clone()).await.unwrap(),
        21_000
    );
    assert_eq!(provider.call(transfer).await.unwrap(), Bytes::new());
    assert!(provider.get_balance(dev_address(0)).await.unwrap() > U256::ZERO);
    server.stop().await;
}

/// Sends raw bytes and returns the whole response text.
async fn raw_http(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_edges() {
    let t = test_node(|c| c.rpc.max_request_bytes = 1024);
    let server = start(&t).await;
    let client = reqwest::Client::new();
    let url = server.http();
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}).to_string();

    let r = client
        .post(&url)
        .header("content-type", "application/json")
        .body(call.clone());
    let r = r.send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    assert_eq!(r.headers()["content-type"], "application/json");

    let r = client
        .post(&url)
        .header("content-type", "text/plain")
        .body(call.clone());
    let r = r.send().await.unwrap();
    assert_eq!(r.status(), 415);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32600);

    let big = format!("[{}]", vec![call.as_str(); 100].join(","));
    let r = client
        .post(&url)
        .header("content-type", "application/json")
        .body(big);
    let r = r.send().await.unwrap();
    assert_eq!(r.status(), 413);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32600);
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("request too large") && message.contains("1024"),
        "{message}"
    );

    // A chunked body (no Content-Length) is cut off at the limit too.
    let chunk = "x".repeat(4096);
    let request = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: \
         chunked\r\nConnection: close\r\n\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        chunk.len()
    );
    let response = raw_http(server.addr, request.as_bytes()).await;
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");

    let r = client
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    assert!(
        r.headers()["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST")
    );
    assert_eq!(r.headers()["access-control-allow-headers"], "content-type");

    assert_eq!(client.get(&url).send().await.unwrap().status(), 200);
    assert_eq!(client.put(&url).send().await.unwrap().status(), 405);

    let note = json!({"jsonrpc": "2.0", "method": "eth_chainId"}).to_string();
    let r = client
        .post(&url)
        .header("content-type", "application/json")
        .body(note);
    let r = r.send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_subscriptions() {
    let t = test_node(|_| {});
    let server = start(&t).await;
    let ws = ProviderBuilder::new()
        .connect_ws(WsConnect::new(server.ws()))
        .await
        .unwrap();
    assert_eq!(ws.get_block_number().await.unwrap(), 0);
    let mut heads = ws.subscribe_blocks().await.unwrap();
    let mut logs = ws
        .subscribe_logs(&Filter::new().address(LOGGER))
        .await
        .unwrap();
    let mut pending = ws.subscribe_pending_transactions().await.unwrap();

    let (hash, raw) = signed_tx(&t.node, 0, 0, TxKind::Call(LOGGER), Bytes::new(), 1);
    let raw = alloy_primitives::hex::decode(raw).unwrap();
    let sent = ws.send_raw_transaction(&raw).await.unwrap();
    assert_eq!(*sent.tx_hash(), hash);
    let seen = tokio::time::timeout(Duration::from_secs(5), pending.recv()).await;
    assert_eq!(seen.expect("in time").unwrap(), hash);

    let block = mine_async(&t).await;
    let head = tokio::time::timeout(Duration::from_secs(5), heads.recv()).await;
    let head = head.expect("in time").unwrap();
    assert_eq!(head.hash, block.hash());
    assert_eq!(head.number, 1);
    let log = tokio::time::timeout(Duration::from_secs(5), logs.recv()).await;
    let log = log.expect("in time").unwrap();
    assert_eq!(log.transaction_hash, Some(hash));
    assert_eq!(log.block_hash, Some(block.hash()));
    assert_eq!(log.log_index, Some(0));

    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_connection_limit() {
    let t = test_node(|c| c.rpc.max_ws_connections = 1);
    let server = start(&t).await;
    let first = ProviderBuilder::new()
        .connect_ws(WsConnect::new(server.ws()))
        .await
        .unwrap();
    let second = ProviderBuilder::new()
        .connect_ws(WsConnect::new(server.ws()))
        .await;
    assert!(second.is_err(), "the second connection is refused");
    assert_eq!(first.get_block_number().await.unwrap(), 0);
    drop(first);
    // The slot frees once the first connection has closed.
    let mut reconnected = None;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if let Ok(p) = ProviderBuilder::new()
            .connect_ws(WsConnect::new(server.ws()))
            .await
        {
            reconnected = Some(p);
            break;
        }
    }
    let reconnected = reconnected.expect("a slot frees up");
    assert_eq!(reconnected.get_block_number().await.unwrap(), 0);
    server.stop().await;
}
