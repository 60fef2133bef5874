//! Running the `altius` binary against anvil and sending it L2 transactions.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use alloy::{
    eips::BlockNumberOrTag,
    network::{EthereumWallet, TransactionBuilder},
    primitives::{Address, B256, Bytes, U256},
    providers::{DynProvider, Provider, ProviderBuilder},
    rpc::types::TransactionRequest,
    signers::local::PrivateKeySigner,
};
use altius_test_anvil::{KEY_0, KEY_1};

use super::INBOX;

/// Payload of each of the two large L2 transactions in the blob runs: together more than
/// one blob after compression (random bytes do not compress).
const LARGE_INPUT: usize = 100_000;

/// A node run: DA backend, batch type and compression.
pub(crate) struct Run {
    pub(crate) da: &'static str,
    pub(crate) batch_type: &'static str,
    pub(crate) compression: &'static str,
}

/// The `altius` binary running on a temp datadir; killed on drop.
pub(crate) struct Node {
    child: Child,
    pub(crate) url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn start_node(run: &Run, l1_url: &str) -> Node {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("batcher.key");
    std::fs::write(&key_file, format!("{KEY_0}\n")).unwrap();
    let config = format!(
        "[da]\nkind = \"{da}\"\nl1_rpc_url = \"{l1_url}\"\ninbox = \"{INBOX}\"\n\
         batcher_key_file = {key_file:?}\n\n\
         [batcher]\nbatch_type = \"{bt}\"\ncompression = \"{c}\"\n\
         max_channel_duration_blocks = 4\nmax_channel_age_ms = 1500\n",
        da = run.da,
        bt = run.batch_type,
        c = run.compression,
    );
    let config_file = dir.path().join("altius.toml");
    std::fs::write(&config_file, config).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_altius"))
        .args(["run", "--http-port", "0", "--block-time", "1", "--datadir"])
        .arg(dir.path().join("data"))
        .arg("--config")
        .arg(&config_file)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start altius");
    let url = listening_url(&mut child);
    Node {
        child,
        url,
        _dir: dir,
    }
}

/// Reads the node's stdout until its `Listening on host:port` line.
pub(crate) fn listening_url(child: &mut Child) -> String {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(addr) = line.split("Listening on ").nth(1) {
                let _ = tx.send(addr.split_whitespace().next().unwrap_or("").to_owned());
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("altius did not start listening");
    format!("http://{addr}")
}

pub(crate) fn http(url: &str) -> DynProvider {
    ProviderBuilder::new()
        .connect_http(url.parse().unwrap())
        .erased()
}

/// Deterministic incompressible bytes.
pub(crate) fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect()
}

/// Sends L2 transactions over a few blocks; returns their hashes and the highest block
/// that includes one.
pub(crate) async fn send_l2_transactions(l2_url: &str, large: bool) -> (Vec<B256>, u64) {
    let signer: PrivateKeySigner = KEY_1.parse().unwrap();
    let from = signer.address();
    let l2 = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(l2_url.parse().unwrap());
    let mut requests = Vec::new();
    for i in 0..6u64 {
        let to = Address::with_last_byte(0x40 + i as u8);
        let mut request = TransactionRequest::default()
            .with_from(from)
            .with_to(to)
            .with_value(U256::from(1000 + i));
        if i % 2 == 1 {
            request = request.with_input(Bytes::from(noise(64, i + 1)));
        }
        requests.push(request);
    }
    if large {
        for i in 0..2u64 {
            requests.push(
                TransactionRequest::default()
                    .with_from(from)
                    .with_to(Address::with_last_byte(0x77))
                    .with_input(Bytes::from(noise(LARGE_INPUT, 100 + i)))
                    .with_gas_limit(5_000_000),
            );
        }
    }
    let mut hashes = Vec::new();
    let mut pending = Vec::new();
    for (i, request) in requests.into_iter().enumerate() {
        pending.push(l2.send_transaction(request).await.unwrap());
        if i % 3 == 2 {
            // Spread the transactions over several blocks.
            tokio::time::sleep(Duration::from_millis(1100)).await;
        }
    }
    let mut last = 0;
    for p in pending {
        let hash = *p.tx_hash();
        let receipt = p
            .with_timeout(Some(Duration::from_secs(30)))
            .get_receipt()
            .await
            .unwrap();
        assert!(receipt.status(), "L2 transaction {hash} failed");
        last = last.max(receipt.block_number.unwrap());
        hashes.push(hash);
    }
    (hashes, last)
}

pub(crate) async fn wait_safe(l2: &DynProvider, number: u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let safe = l2
            .get_block_by_number(BlockNumberOrTag::Safe)
            .await
            .unwrap()
            .map_or(0, |b| b.header.number);
        if safe >= number {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "safe head stuck at {safe} < {number}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
