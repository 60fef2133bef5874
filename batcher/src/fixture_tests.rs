//! Byte-compatibility checks against data produced by the OP Stack reference implementation
//! (see `testdata/README.md`).

use alloy_consensus::{Transaction, TxEnvelope};
use alloy_eips::Decodable2718;

use crate::{
    Batch, FJORD_MAX_RLP_BYTES_PER_CHANNEL, FRAME_OVERHEAD, FrameDecoder, RawSpanBatch,
    SpanBatchParams, SpanBatchTxs, decompress_channel, encode_tx_data, parse_tx_data,
};

const RAW_SPAN_BATCH: &[u8] = include_bytes!("../testdata/op_node_raw_span_batch.bin");
const BATCHER_TX: &[u8] = include_bytes!("../testdata/op_mainnet_batcher_tx.bin");

const PARAMS: SpanBatchParams = SpanBatchParams {
    genesis_timestamp: 1_686_068_903,
    block_time: 2,
    chain_id: 10,
};

#[test]
fn op_node_span_batch_decodes_and_reencodes_byte_for_byte() {
    let raw = RawSpanBatch::decode(RAW_SPAN_BATCH).unwrap();
    assert!(raw.block_count() > 1);
    assert!(!raw.txs.is_empty());
    let mut encoded = Vec::new();
    raw.encode(&mut encoded).unwrap();
    assert_eq!(encoded, RAW_SPAN_BATCH);

    let mut with_type = vec![1u8];
    with_type.extend_from_slice(RAW_SPAN_BATCH);
    assert_eq!(Batch::decode(&with_type).unwrap(), Batch::Span(raw));
}

#[test]
fn op_node_span_batch_survives_full_transaction_reconstruction() {
    let raw = RawSpanBatch::decode(RAW_SPAN_BATCH).unwrap();
    let span = raw.derive(&PARAMS).unwrap();
    assert_eq!(span.blocks.len(), raw.block_count());
    let txs = raw.txs.to_transactions(PARAMS.chain_id).unwrap();
    let rebuilt = SpanBatchTxs::from_transactions(&txs, PARAMS.chain_id).unwrap();
    assert_eq!(rebuilt, raw.txs);
    assert_eq!(span.to_raw(&PARAMS).unwrap(), raw);
}

#[test]
fn op_mainnet_batcher_tx_frames_parse_and_reencode() {
    let tx = TxEnvelope::decode_2718_exact(BATCHER_TX).unwrap();
    let calldata = tx.input();
    assert_eq!(calldata.len(), 119_823);
    let frames = parse_tx_data(calldata).unwrap();
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].data.len(), calldata.len() - 1 - FRAME_OVERHEAD);
    assert_eq!(&encode_tx_data(&frames).unwrap(), calldata);
}

/// The OP Mainnet tx carries a whole zlib channel in one frame, holding one span batch of
/// 27 blocks and 209 transactions (legacy and EIP-1559). The zlib stream is flushed but not
/// terminated, as op-batcher produced it.
#[test]
fn op_mainnet_channel_decodes_to_a_span_batch_that_reencodes_exactly() {
    let tx = TxEnvelope::decode_2718_exact(BATCHER_TX).unwrap();
    let channels = FrameDecoder::new().add_tx_data(tx.input()).unwrap();
    assert_eq!(channels.len(), 1);
    let stream = decompress_channel(&channels[0].data, FJORD_MAX_RLP_BYTES_PER_CHANNEL).unwrap();
    let batches = channels[0]
        .decode_batches(FJORD_MAX_RLP_BYTES_PER_CHANNEL)
        .unwrap();
    let [Batch::Span(raw)] = batches.as_slice() else {
        panic!(
            "expected a single span batch, got {} batches",
            batches.len()
        )
    };
    let mut rlp = Vec::new();
    Batch::Span(raw.clone()).encode_rlp(&mut rlp).unwrap();
    assert_eq!(rlp, stream);

    let span = raw.derive(&PARAMS).unwrap();
    assert_eq!(span.blocks.len(), raw.block_count());
    assert!(
        span.blocks
            .windows(2)
            .all(|w| w[1].timestamp == w[0].timestamp + 2)
    );
    assert_eq!(span.to_raw(&PARAMS).unwrap(), *raw);
    assert_eq!(span.blocks[0].epoch_num, 19_426_582);
    assert_eq!((raw.block_count(), raw.txs.len()), (27, 209));
    let txs: Vec<_> = span
        .blocks
        .iter()
        .flat_map(|b| b.transactions.clone())
        .collect();
    assert_eq!(
        SpanBatchTxs::from_transactions(&txs, PARAMS.chain_id).unwrap(),
        raw.txs
    );
}

/// Deterministic xorshift, so the mutation tests are reproducible.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Mutated and truncated real data must produce errors or values, never panics.
#[test]
fn mutated_inputs_never_panic() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..3_000 {
        let mut data = RAW_SPAN_BATCH.to_vec();
        for _ in 0..1 + xorshift(&mut state) % 4 {
            let pos = (xorshift(&mut state) % data.len() as u64) as usize;
            data[pos] = xorshift(&mut state) as u8;
        }
        let cut = data.len() - (xorshift(&mut state) % 64) as usize;
        if let Ok(raw) = RawSpanBatch::decode(&data[..cut]) {
            let _ = raw.derive(&PARAMS);
        }
        let _ = Batch::decode(&data[..cut]);
        let _ = parse_tx_data(&data[..cut]);
        let _ = decompress_channel(&data[..cut], 1 << 20);
    }
    for cut in (0..RAW_SPAN_BATCH.len()).step_by(97) {
        assert!(
            RawSpanBatch::decode(&RAW_SPAN_BATCH[..cut]).is_err(),
            "cut at {cut}"
        );
    }
}
