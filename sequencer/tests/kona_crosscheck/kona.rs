//! Reading our L2 blocks and the batcher transactions on L1, and decoding the latter with
//! kona-protocol.

use std::collections::HashMap;

use alloy::{
    consensus::Transaction as _,
    eips::eip2718::Encodable2718,
    primitives::{Address, B256, Bytes},
    providers::{DynProvider, Provider},
    rpc::types::Block,
};
use kona_genesis::{MAX_RLP_BYTES_PER_CHANNEL_FJORD, RollupConfig};
use kona_protocol::{Batch, BatchReader, BlockInfo, Channel, Frame};

use super::INBOX;

/// One of our L2 blocks as the batches must describe it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ExpectedBlock {
    pub(crate) parent_hash: B256,
    pub(crate) timestamp: u64,
    pub(crate) transactions: Vec<Bytes>,
}

/// Blocks `1..=last` of the L2 node, deposits left out (as batches leave them out).
pub(crate) async fn l2_blocks(l2: &DynProvider, last: u64) -> Vec<ExpectedBlock> {
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
pub(crate) async fn batcher_data(l1: &DynProvider, batcher: Address) -> (Vec<Vec<u8>>, usize) {
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
pub(crate) fn kona_batches(data: &[Vec<u8>], cfg: &RollupConfig) -> (Vec<Batch>, usize, usize) {
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
pub(crate) fn check_batches(batches: &[Batch], ours: &[ExpectedBlock], batch_type: &str) -> usize {
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
