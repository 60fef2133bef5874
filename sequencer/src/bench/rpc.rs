//! `altius bench rpc`: signs ETH transfers from the dev accounts, sends them to a running node
//! with `eth_sendRawTransaction` (concurrently), waits until every one is in a block, and
//! reports throughput and send-to-inclusion latency.

use crate::dev;
use alloy::{
    consensus::{SignableTransaction, TxEip1559, TxEnvelope},
    eips::eip2718::Encodable2718,
    network::TxSignerSync,
    signers::local::PrivateKeySigner,
};
use alloy_primitives::{Address, B256, TxKind, U256};
use clap::Args;
use eyre::{WrapErr, eyre};
use serde_json::{Value, json};
use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

/// Options of `altius bench rpc`.
#[derive(Debug, Clone, Args)]
pub struct RpcBenchArgs {
    /// JSON-RPC URL of the node.
    #[arg(long, default_value = "http://127.0.0.1:8545")]
    pub url: String,
    /// Number of transfers.
    #[arg(long, default_value_t = 1000)]
    pub txs: usize,
    /// Number of sending dev accounts (1 to 10).
    #[arg(long, default_value_t = 10)]
    pub senders: usize,
    /// Most transactions of one sender sent but not yet in a block; keep it at or below
    /// the node's `mempool.max_account_slots` (64 by default).
    #[arg(long, default_value_t = 64)]
    pub window: usize,
    /// Give up waiting for inclusion after this many seconds.
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
}

/// A minimal JSON-RPC client over HTTP.
#[derive(Debug, Clone)]
struct Client {
    http: reqwest::Client,
    url: String,
}

impl Client {
    async fn call(&self, method: &str, params: Value) -> eyre::Result<Value> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let resp: Value = self
            .http
            .post(&self.url)
            .json(&body)
            .send()
            .await
            .wrap_err_with(|| format!("{method}: cannot reach {}", self.url))?
            .json()
            .await
            .wrap_err_with(|| format!("{method}: invalid response"))?;
        if let Some(err) = resp.get("error") {
            return Err(eyre!("{method}: {err}"));
        }
        Ok(resp.get("result").cloned().unwrap_or(Value::Null))
    }

    async fn quantity(&self, method: &str, params: Value) -> eyre::Result<u64> {
        let v = self.call(method, params).await?;
        let s = v
            .as_str()
            .ok_or_else(|| eyre!("{method}: not a quantity: {v}"))?;
        u64::from_str_radix(s.trim_start_matches("0x"), 16)
            .wrap_err_with(|| format!("{method}: bad quantity {s}"))
    }
}

/// Runs the benchmark and prints its JSON line.
pub fn run(args: RpcBenchArgs) -> eyre::Result<()> {
    if args.senders == 0 || args.senders > dev::DEV_ACCOUNTS as usize || args.txs == 0 {
        return Err(eyre!("--senders must be 1..=10 and --txs at least 1"));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let line = rt.block_on(bench(args))?;
    println!("{line}");
    Ok(())
}

/// One signed transfer: its sender (index into the dev accounts), hash and raw bytes.
#[derive(Debug, Clone)]
struct SignedTx {
    sender: usize,
    hash: B256,
    raw: String,
}

async fn sign_all(client: &Client, args: &RpcBenchArgs) -> eyre::Result<Vec<SignedTx>> {
    let chain_id = client.quantity("eth_chainId", json!([])).await?;
    let gas_price = client.quantity("eth_gasPrice", json!([])).await?;
    let signers: Vec<PrivateKeySigner> =
        dev::dev_signers().into_iter().take(args.senders).collect();
    let mut nonces = Vec::new();
    for s in &signers {
        nonces.push(
            client
                .quantity("eth_getTransactionCount", json!([s.address(), "pending"]))
                .await?,
        );
    }
    let mut out = Vec::with_capacity(args.txs);
    for i in 0..args.txs {
        let k = i % signers.len();
        let mut tx = TxEip1559 {
            chain_id,
            nonce: nonces[k],
            gas_limit: 21_000,
            max_fee_per_gas: u128::from(gas_price) * 4,
            max_priority_fee_per_gas: 1_000,
            to: TxKind::Call(Address::with_last_byte(0xb0 + (i % 16) as u8)),
            value: U256::from(1u64 + i as u64),
            ..Default::default()
        };
        nonces[k] += 1;
        let sig = signers[k].sign_transaction_sync(&mut tx)?;
        let env: TxEnvelope = tx.into_signed(sig).into();
        let raw = alloy_primitives::hex::encode_prefixed(env.encoded_2718());
        out.push(SignedTx {
            sender: k,
            hash: *env.tx_hash(),
            raw,
        });
    }
    Ok(out)
}

/// Send times and inclusion times of every transaction, shared by the tasks.
type Times = Arc<parking_lot::Mutex<HashMap<B256, Instant>>>;

async fn bench(args: RpcBenchArgs) -> eyre::Result<String> {
    let client = Client {
        http: reqwest::Client::new(),
        url: args.url.clone(),
    };
    let signed = sign_all(&client, &args).await?;
    let start_block = client.quantity("eth_blockNumber", json!([])).await?;
    let sent_at: Times = Arc::default();
    // One window per sender: a sender never has more than `window` transactions in the
    // pool, so the node's per-account limit never rejects the load.
    let windows: Vec<_> = (0..args.senders)
        .map(|_| Arc::new(tokio::sync::Semaphore::new(args.window.max(1))))
        .collect();
    let started = Instant::now();
    let mut sends = tokio::task::JoinSet::new();
    for (k, window) in windows.iter().enumerate() {
        let mine: Vec<_> = signed.iter().filter(|t| t.sender == k).cloned().collect();
        let (client, window, sent_at) = (client.clone(), window.clone(), sent_at.clone());
        sends.spawn(async move {
            for tx in mine {
                window.acquire().await?.forget();
                sent_at.lock().insert(tx.hash, Instant::now());
                client
                    .call("eth_sendRawTransaction", json!([tx.raw]))
                    .await?;
            }
            eyre::Ok(())
        });
    }
    let included = tokio::select! {
        included = watch_inclusions(&client, start_block, &signed, &windows, &args) => included?,
        Some(Ok(Err(e))) = sends.join_next() => return Err(e),
    };
    while let Some(r) = sends.join_next().await {
        r??;
    }
    let seconds = started.elapsed().as_secs_f64();
    let sent_at = sent_at.lock();
    let mut lat: Vec<f64> = signed
        .iter()
        .filter_map(|t| {
            Some(
                included
                    .get(&t.hash)?
                    .duration_since(*sent_at.get(&t.hash)?),
            )
        })
        .map(|d| d.as_secs_f64() * 1000.0)
        .collect();
    lat.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 - 1.0) * p).round() as usize)
            .copied()
    };
    let report = RpcBenchReport {
        txs: args.txs,
        seconds: round3(seconds),
        tps: round3(args.txs as f64 / seconds),
        p50_ms: pct(0.50).map(round3),
        p99_ms: pct(0.99).map(round3),
    };
    Ok(serde_json::to_string(&report)?)
}

/// The JSON line `altius bench rpc` prints.
#[derive(Debug, serde::Serialize)]
struct RpcBenchReport {
    txs: usize,
    seconds: f64,
    tps: f64,
    p50_ms: Option<f64>,
    p99_ms: Option<f64>,
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Polls new blocks, records when each of our transactions first appears in one, and
/// frees a place in its sender's window.
async fn watch_inclusions(
    client: &Client,
    start_block: u64,
    signed: &[SignedTx],
    windows: &[Arc<tokio::sync::Semaphore>],
    args: &RpcBenchArgs,
) -> eyre::Result<HashMap<B256, Instant>> {
    let wanted: HashMap<B256, usize> = signed.iter().map(|t| (t.hash, t.sender)).collect();
    let mut seen = HashMap::new();
    let mut next = start_block + 1;
    let deadline = Instant::now() + Duration::from_secs(args.timeout);
    while seen.len() < wanted.len() {
        if Instant::now() > deadline {
            return Err(eyre!(
                "only {} of {} transactions included in time",
                seen.len(),
                wanted.len()
            ));
        }
        let head = client.quantity("eth_blockNumber", json!([])).await?;
        while next <= head {
            let block = client
                .call("eth_getBlockByNumber", json!([format!("{next:#x}"), false]))
                .await?;
            let now = Instant::now();
            for h in block["transactions"].as_array().into_iter().flatten() {
                let Some(hash) = h.as_str().and_then(|s| s.parse::<B256>().ok()) else {
                    continue;
                };
                if let Some(&sender) = wanted.get(&hash)
                    && seen.insert(hash, now).is_none()
                {
                    windows[sender].add_permits(1);
                }
            }
            next += 1;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(seen)
}
