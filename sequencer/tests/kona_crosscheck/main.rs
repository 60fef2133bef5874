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

mod kona;
mod node;

use std::collections::HashSet;

use alloy::{primitives::keccak256, providers::Provider, signers::local::PrivateKeySigner};
use altius_test_anvil::{Anvil, KEY_0};
use kona_genesis::{HardForkConfig, RollupConfig};

use kona::{batcher_data, check_batches, kona_batches, l2_blocks};
use node::{Run, http, send_l2_transactions, start_node, wait_safe};

/// The batch inbox used by every run.
const INBOX: &str = "0x00000000000000000000000000000000000fee01";

/// One run: node and anvil up, transactions sent and safe, then everything on L1 decoded
/// by kona and compared with our blocks.
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
