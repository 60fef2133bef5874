//! End-to-end round trips: blocks -> batches -> channel -> frames -> (blobs) -> back.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::Encodable2718;
use alloy_primitives::{Bytes, U256};
use rand::{SeedableRng, rngs::StdRng};

use crate::{
    Batch, Channel, ChannelBuilder, ChannelConfig, CompressionAlgo,
    FJORD_MAX_RLP_BYTES_PER_CHANNEL, FrameDecoder, FrameEncoder, SingularBatch, SpanBatch,
    decode_blob, encode_blob, encode_tx_data,
    test_utils::{CHAIN_ID, PARAMS, sample_batches},
};

const ALGOS: [CompressionAlgo; 4] = [
    CompressionAlgo::Zlib,
    CompressionAlgo::Brotli9,
    CompressionAlgo::Brotli10,
    CompressionAlgo::Brotli11,
];

fn build_channel(algo: CompressionAlgo, batches: &[Batch], seed: u64) -> Channel {
    let config = ChannelConfig {
        compression: algo,
        ..Default::default()
    };
    let mut builder = ChannelBuilder::new(config, &mut StdRng::seed_from_u64(seed)).unwrap();
    for batch in batches {
        builder.add_batch(batch).unwrap();
    }
    builder.finish().unwrap()
}

/// Frames `channel`, sends each frame in its own batcher tx (optionally through a blob),
/// feeds them to a decoder out of order and returns the decoded batches.
fn through_frames(channel: &Channel, encoder: FrameEncoder, via_blobs: bool) -> Vec<Batch> {
    let frames = encoder.encode(channel).unwrap();
    let mut txs: Vec<Bytes> = frames
        .iter()
        .map(|f| encode_tx_data(std::slice::from_ref(f)).unwrap())
        .collect();
    if via_blobs {
        txs = txs
            .iter()
            .map(|tx| decode_blob(&encode_blob(tx).unwrap()).unwrap().into())
            .collect();
    }
    let mid = txs.len() / 2;
    txs.rotate_left(mid);
    let mut decoder = FrameDecoder::new();
    let mut done: Vec<Channel> = Vec::new();
    for tx in &txs {
        done.extend(decoder.add_tx_data(tx).unwrap());
    }
    assert_eq!(done.len(), 1);
    assert_eq!(&done[0], channel);
    done[0]
        .decode_batches(FJORD_MAX_RLP_BYTES_PER_CHANNEL)
        .unwrap()
}

fn span_of(batches: &[SingularBatch]) -> Batch {
    Batch::Span(
        SpanBatch::from_singular_batches(batches, 0)
            .unwrap()
            .to_raw(&PARAMS)
            .unwrap(),
    )
}

fn assert_span_matches(decoded: &[Batch], inputs: &[SingularBatch]) {
    let [Batch::Span(raw)] = decoded else {
        panic!("expected one span batch, got {decoded:?}")
    };
    let span = raw.derive(&PARAMS).unwrap();
    assert_eq!(span, SpanBatch::from_singular_batches(inputs, 0).unwrap());
    assert_eq!(span.blocks.len(), inputs.len());
    for (block, input) in span.blocks.iter().zip(inputs) {
        assert_eq!(
            (block.epoch_num, block.timestamp),
            (input.epoch_num, input.timestamp)
        );
        assert_eq!(block.transactions, input.transactions);
    }
    assert_eq!(span.parent_check.as_slice(), &inputs[0].parent_hash[..20]);
}

#[test]
fn singular_batches_survive_every_compression_and_transport() {
    let inputs = sample_batches();
    let batches: Vec<Batch> = inputs.iter().cloned().map(Batch::Singular).collect();
    for (i, algo) in ALGOS.into_iter().enumerate() {
        let channel = build_channel(algo, &batches, i as u64);
        for (encoder, blobs) in [
            (FrameEncoder::calldata(), false),
            (FrameEncoder::new(200).unwrap(), false),
            (FrameEncoder::blobs(), true),
            (FrameEncoder::new(300).unwrap(), true),
        ] {
            assert_eq!(
                through_frames(&channel, encoder, blobs),
                batches,
                "{algo:?}"
            );
        }
    }
}

#[test]
fn span_batches_survive_every_compression_and_transport() {
    let inputs = sample_batches();
    let batches = vec![span_of(&inputs)];
    for (i, algo) in ALGOS.into_iter().enumerate() {
        let channel = build_channel(algo, &batches, 100 + i as u64);
        for (encoder, blobs) in [
            (FrameEncoder::calldata(), false),
            (FrameEncoder::new(150).unwrap(), true),
        ] {
            let decoded = through_frames(&channel, encoder, blobs);
            assert_span_matches(&decoded, &inputs);
        }
    }
}

/// A block whose single transaction carries `len` bytes of incompressible calldata.
fn big_block(len: usize) -> SingularBatch {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let input: Vec<u8> = (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let tx = TxEip1559 {
        chain_id: CHAIN_ID,
        gas_limit: 30_000_000,
        max_fee_per_gas: 1,
        input: input.into(),
        ..Default::default()
    };
    let sig = alloy_primitives::Signature::new(U256::from(1), U256::from(2), false);
    let envelope: TxEnvelope = tx.into_signed(sig).into();
    let mut block = sample_batches().remove(0);
    block.transactions = vec![envelope.encoded_2718().into()];
    block
}

#[test]
fn oversized_channels_split_across_many_calldata_frames() {
    let inputs = vec![big_block(300_000)];
    for algo in [CompressionAlgo::Zlib, CompressionAlgo::Brotli10] {
        for batches in [
            vec![Batch::Singular(inputs[0].clone())],
            vec![span_of(&inputs)],
        ] {
            let channel = build_channel(algo, &batches, 7);
            assert!(channel.data.len() > 2 * 119_999);
            let frames = FrameEncoder::calldata().encode(&channel).unwrap();
            assert_eq!(frames.len(), channel.data.len().div_ceil(119_999 - 23));
            assert!(frames.iter().all(|f| f.encoded_len() <= 119_999));
            assert_eq!(
                through_frames(&channel, FrameEncoder::calldata(), false),
                batches
            );
        }
    }
}
