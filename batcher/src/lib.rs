//! Altius batcher: turns L2 blocks into OP Stack derivation data.
//!
//! The pieces here are byte-compatible with the OP Stack derivation format:
//!
//! - [`SingularBatch`] (batch type 0) and [`RawSpanBatch`] / [`SpanBatch`] (batch type 1),
//!   wrapped in [`Batch`];
//! - [`ChannelBuilder`]: batches to an RLP batch stream, compressed with zlib or brotli;
//!   [`SpanChannelBuilder`]: blocks to a channel holding one growing span batch;
//! - [`FrameEncoder`] / [`FrameDecoder`]: channels to frames and batcher transaction data
//!   (`0x00 ++ frames`), and back;
//! - [`encode_blob`] / [`decode_blob`]: the version-0 blob encoding;
//! - [`batch_inbox_address`]: the default batch inbox for a chain ID;
//! - [`BatchSubmitter`]: the submission loop's engine: consecutive L2 blocks to channels
//!   and frames on a [`altius_da::DaClient`], with a cursor persisted in redb
//!   ([`BatcherConfig`] is the node's `[batcher]` section).
//!
//! Apart from [`BatchSubmitter`] nothing here talks to a DA layer, and it does so only
//! through the `DaClient` trait.
//!
//! ```
//! use altius_batcher::{
//!     Batch, ChannelBuilder, ChannelConfig, FrameDecoder, FrameEncoder, SingularBatch,
//!     encode_tx_data,
//! };
//! use rand::{SeedableRng, rngs::StdRng};
//!
//! # fn main() -> Result<(), altius_batcher::BatcherError> {
//! let batch = Batch::Singular(SingularBatch {
//!     parent_hash: Default::default(),
//!     epoch_num: 1,
//!     epoch_hash: Default::default(),
//!     timestamp: 2,
//!     transactions: vec![],
//! });
//! let mut builder = ChannelBuilder::new(ChannelConfig::default(), &mut StdRng::seed_from_u64(1))?;
//! builder.add_batch(&batch)?;
//! let channel = builder.finish()?;
//! let frames = FrameEncoder::calldata().encode(&channel)?;
//! let calldata = encode_tx_data(&frames)?; // 0x00 ++ frame
//!
//! let decoded = FrameDecoder::new().add_tx_data(&calldata)?;
//! assert_eq!(decoded[0].decode_batches(100_000_000)?, vec![batch]);
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod batch;
mod blob;
mod channel;
mod config;
mod cursor;
mod error;
mod frame;
mod inbox;
mod span_channel;
mod submitter;

pub use batch::{
    Batch, BatchType, MAX_SPAN_BATCH_ELEMENT_COUNT, RawSpanBatch, SingularBatch, SpanBatch,
    SpanBatchElement, SpanBatchParams, SpanBatchTxs,
};
pub use blob::{
    BLOB_ENCODING_VERSION, BLOB_SIZE, MAX_BLOB_DATA_SIZE, MAX_BLOB_FRAME_SIZE, decode_blob,
    encode_blob,
};
pub use channel::{
    Channel, ChannelBuilder, ChannelConfig, ChannelId, CompressionAlgo,
    FJORD_MAX_RLP_BYTES_PER_CHANNEL, decode_batch_stream, decompress_channel,
};
pub use config::{BatchKind, BatcherConfig};
pub use cursor::SubmittedFrame;
pub use error::BatcherError;
pub use frame::{
    DEFAULT_CALLDATA_FRAME_SIZE, DERIVATION_VERSION_0, FRAME_OVERHEAD, Frame, FrameDecoder,
    FrameEncoder, MAX_FRAME_LEN, encode_tx_data, parse_tx_data,
};
pub use inbox::batch_inbox_address;
pub use span_channel::SpanChannelBuilder;
pub use submitter::{BacklogGauge, BatchSubmitter, L2BlockData, L2BlockSource, SubmitterStats};

#[cfg(test)]
mod fixture_tests;
#[cfg(test)]
mod pipeline_tests;
#[cfg(test)]
mod submitter_tests;
#[cfg(test)]
mod test_utils;
