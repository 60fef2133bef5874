//! The independent cross-check of batch data (issue 5): the `altius` node runs against a
//! real anvil L1 with `ethereum-calldata` and with `ethereum-blobs`; after some L2 blocks
//! with transactions are safe, every batcher transaction is read back from anvil and
//! decoded, frames → channels → batches, with kona-protocol (an independent OP Stack
//! implementation, a dev-dependency only). The batches must hold exactly the transactions,
//! timestamps and parent hashes of our L2 blocks, for singular and span batches and for
//! zlib and brotli.
//!
//! kona's blob decoding is not public, so blobs are turned back into bytes with our own
//! OP blob decoder ([`altius_da::decode_blob`]); everything after that is kona's.
//!
//! The four runs cover each DA backend with both batch types and both compressions. The
//! blob runs include a block larger than one blob, so its channel spans several frames
//! and blob transactions.

use std::{
    collections::{HashMap, HashSet},
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use alloy::{
    consensus::Transaction as _,
    eips::{BlockNumberOrTag, eip2718::Encodable2718},
    network::{EthereumWallet, TransactionBuilder},
    primitives::{Address, B256, Bytes, U256, keccak256},
    providers::{DynProvider, Provider, ProviderBuilder},
    rpc::types::{Block, TransactionRequest},
    signers::local::PrivateKeySigner,
};
use altius_test_anvil::{Anvil, KEY_0, KEY_1};
use kona_genesis::{HardForkConfig, MAX_RLP_BYTES_PER_CHANNEL_FJORD, RollupConfig};
use kona_protocol::{Batch, BatchReader, BlockInfo, Channel, Frame};

/// The batch inbox used by every run.
const INBOX: &str = "0x00000000000000000000000000000000000fee01";
/// Payload of each of the two large L2 transactions in the blob runs: together more than
/// one blob after compression (random bytes do not compress).
const LARGE_INPUT: usize = 100_000;

/// A node run: DA backend, batch type and compression.
struct Run {
    da: &'static str,
    batch_type: &'static str,
    compression: &'static str,
}

/// The `altius` binary running on a temp datadir; killed on drop.
struct Node {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_node(run: &Run, l1_url: &str) -> Node {
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
fn listening_url(child: &mut Child) -> String {
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

fn http(url: &str) -> DynProvider {
    ProviderBuilder::new()
        .connect_http(url.parse().unwrap())
        .erased()
}

/// Deterministic incompressible bytes.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
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
async fn send_l2_transactions(l2_url: &str, large: bool) -> (Vec<B256>, u64) {
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

async fn wait_safe(l2: &DynProvider, number: u64) {
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

/// One of our L2 blocks as the batches must describe it.
#[derive(Debug, PartialEq, Eq)]
struct ExpectedBlock {
    parent_hash: B256,
    timestamp: u64,
    transactions: Vec<Bytes>,
}

/// Blocks `1..=last` of the L2 node, deposits left out (as batches leave them out).
async fn l2_blocks(l2: &DynProvider, last: u64) -> Vec<ExpectedBlock> {
    let mut blocks = Vec::new();
    for n in 1..=last {
        let block: Block<op_alloy_rpc_types::Transaction> = l2
            .raw_request("eth_getBlockByNumber".into(), (format!("{n:#x}"), true))
            .await
            .unwrap();
        let transactions = block
            .transactions
            .into_transactions()
            .map(|tx| tx.inner.inner.into_inner())
            .filter(|tx| !tx.is_deposit())
            .map(|tx| tx.encoded_2718().into())
            .collect();
        blocks.push(ExpectedBlock {
            parent_hash: block.header.parent_hash,
            timestamp: block.header.timestamp,
            transactions,
        });
    }
    blocks
}

/// The data of every batcher transaction on L1 in order (calldata, or each blob decoded),
/// and how many of those transactions were blob transactions.
async fn batcher_data(l1: &DynProvider, batcher: Address) -> (Vec<Vec<u8>>, usize) {
    let inbox: Address = INBOX.parse().unwrap();
    let latest = l1.get_block_number().await.unwrap();
    let (mut out, mut blob_txs) = (Vec::new(), 0);
    for n in 1..=latest {
        let block = l1
            .get_block_by_number(n.into())
            .full()
            .await
            .unwrap()
            .unwrap();
        for tx in block.transactions.into_transactions() {
            if tx.to() != Some(inbox) || tx.inner.signer() != batcher {
                continue;
            }
            match tx.blob_versioned_hashes() {
                None => out.push(tx.input().to_vec()),
                Some(hashes) => {
                    blob_txs += 1;
                    let blobs: Vec<Bytes> = l1
                        .raw_request(
                            "anvil_getBlobsByTransactionHash".into(),
                            (tx.inner.tx_hash(),),
                        )
                        .await
                        .unwrap();
                    assert_eq!(blobs.len(), hashes.len());
                    for blob in blobs {
                        let blob = blob.as_ref().try_into().expect("blob size");
                        out.push(altius_da::decode_blob(blob).expect("OP blob encoding"));
                    }
                }
            }
        }
    }
    (out, blob_txs)
}

/// kona: frames → channels (in the order they complete) → decompressed → batches. Also
/// returns the number of frames and the most frames in one channel.
fn kona_batches(data: &[Vec<u8>], cfg: &RollupConfig) -> (Vec<Batch>, usize, usize) {
    let mut channels: HashMap<[u8; 16], Channel> = HashMap::new();
    let mut batches = Vec::new();
    let (mut frames, mut widest) = (0, 0);
    for tx_data in data {
        for frame in Frame::parse_frames(tx_data).expect("kona parses the frames") {
            frames += 1;
            let id = frame.id;
            let channel = channels
                .entry(id)
                .or_insert_with(|| Channel::new(id, BlockInfo::default()));
            channel
                .add_frame(frame, BlockInfo::default())
                .expect("kona accepts the frame");
            if !channel.is_ready() {
                continue;
            }
            let channel = channels.remove(&id).unwrap();
            widest = widest.max(channel.len());
            let compressed = channel.frame_data().unwrap();
            let mut reader = BatchReader::new(
                compressed.to_vec(),
                MAX_RLP_BYTES_PER_CHANNEL_FJORD as usize,
            );
            reader.decompress().expect("kona decompresses the channel");
            let mut rest = reader.decompressed.as_slice();
            while !rest.is_empty() {
                let encoded = <Bytes as alloy_rlp::Decodable>::decode(&mut rest).unwrap();
                batches.push(Batch::decode(&mut encoded.as_ref(), cfg).expect("kona decodes"));
            }
        }
    }
    (batches, frames, widest)
}

/// Flattens kona's batches into blocks (parent hash only known for the first block of a
/// span batch: its 20-byte parent check) and compares them with ours.
fn check_batches(batches: &[Batch], ours: &[ExpectedBlock], batch_type: &str) -> usize {
    let mut number = 0usize;
    for batch in batches {
        match batch {
            Batch::Single(single) => {
                assert_eq!(batch_type, "singular");
                let expected = &ours[number];
                assert_eq!(
                    single.parent_hash,
                    expected.parent_hash,
                    "block {}",
                    number + 1
                );
                assert_eq!(single.timestamp, expected.timestamp, "block {}", number + 1);
                assert_eq!(
                    single.transactions,
                    expected.transactions,
                    "block {}",
                    number + 1
                );
                number += 1;
            }
            Batch::Span(span) => {
                assert_eq!(batch_type, "span");
                let first = &ours[number];
                assert_eq!(span.parent_check.as_slice(), &first.parent_hash[..20]);
                for element in &span.batches {
                    let expected = &ours[number];
                    assert_eq!(
                        element.timestamp,
                        expected.timestamp,
                        "block {}",
                        number + 1
                    );
                    assert_eq!(
                        element.transactions,
                        expected.transactions,
                        "block {}",
                        number + 1
                    );
                    number += 1;
                }
            }
        }
    }
    number
}

async fn cross_check(run: Run) {
    let Some(anvil) = Anvil::spawn() else { return };
    let large = run.da == "ethereum-blobs";
    let node = start_node(&run, &anvil.url);
    let l2 = http(&node.url);
    let (sent, last) = send_l2_transactions(&node.url, large).await;
    wait_safe(&l2, last).await;

    let l1 = http(&anvil.url);
    let batcher = KEY_0.parse::<PrivateKeySigner>().unwrap().address();
    let (data, blob_txs) = batcher_data(&l1, batcher).await;
    if large {
        assert!(blob_txs > 0, "no blob transactions");
        assert_eq!(
            blob_txs,
            data.len(),
            "one frame (blob) per blob transaction"
        );
    } else {
        assert_eq!(blob_txs, 0, "calldata only");
    }
    // Read after L1: every block a batch on L1 can describe exists by now.
    let head = l2.get_block_number().await.unwrap();
    let ours = l2_blocks(&l2, head).await;
    let genesis = l2.get_block_by_number(0.into()).await.unwrap().unwrap();
    let cfg = RollupConfig {
        block_time: 1,
        l2_chain_id: l2.get_chain_id().await.unwrap().into(),
        genesis: kona_genesis::ChainGenesis {
            l2_time: genesis.header.timestamp,
            ..Default::default()
        },
        hardforks: HardForkConfig {
            fjord_time: Some(0),
            ..Default::default()
        },
        ..Default::default()
    };
    let (batches, frames, widest) = kona_batches(&data, &cfg);
    let covered = check_batches(&batches, &ours, run.batch_type);
    assert!(
        covered as u64 >= last,
        "batches cover {covered} blocks, need {last}"
    );

    let mut in_batches = HashSet::new();
    for b in &ours[..covered] {
        in_batches.extend(b.transactions.iter().map(keccak256));
    }
    for hash in &sent {
        assert!(
            in_batches.contains(hash),
            "L2 transaction {hash} is in no batch"
        );
    }
    if large {
        assert!(
            widest >= 2,
            "the large block's channel spans several frames (blobs): {widest}"
        );
    }
    eprintln!(
        "{} {} {}: {} L1 payloads ({blob_txs} blob txs), {frames} frames, {} batches, \
         {covered} blocks checked",
        run.da,
        run.batch_type,
        run.compression,
        data.len(),
        batches.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calldata_singular_zlib() {
    cross_check(Run {
        da: "ethereum-calldata",
        batch_type: "singular",
        compression: "zlib",
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calldata_span_brotli() {
    cross_check(Run {
        da: "ethereum-calldata",
        batch_type: "span",
        compression: "brotli-10",
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blobs_singular_brotli() {
    cross_check(Run {
        da: "ethereum-blobs",
        batch_type: "singular",
        compression: "brotli-9",
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blobs_span_zlib() {
    cross_check(Run {
        da: "ethereum-blobs",
        batch_type: "span",
        compression: "zlib",
    })
    .await;
}
