//! [`SpanChannelBuilder`]: a channel carrying one span batch that grows block by block.

use rand::RngCore;
use tracing::debug;

use crate::{
    Batch, BatcherError, Channel, ChannelConfig, ChannelId, SingularBatch, SpanBatch,
    SpanBatchParams, channel::compress,
};

/// Builds a channel holding a single span batch, like op-batcher's span channel output.
///
/// Every added block re-encodes the span batch; once the RLP stream would exceed
/// `max_rlp_bytes` or the compressed channel would exceed `target_size`, the block is
/// rejected with [`BatcherError::ChannelFull`] and the channel is marked full. A first block
/// that alone exceeds the target is kept (its channel spans several frames).
#[derive(Debug)]
pub struct SpanChannelBuilder {
    id: ChannelId,
    config: ChannelConfig,
    params: SpanBatchParams,
    blocks: Vec<SingularBatch>,
    first_sequence_number: u64,
    compressed: Option<Vec<u8>>,
    full: bool,
}

impl SpanChannelBuilder {
    /// Starts a span channel with a random ID drawn from `rng`.
    pub fn new<R: RngCore + ?Sized>(
        config: ChannelConfig,
        params: SpanBatchParams,
        rng: &mut R,
    ) -> Result<Self, BatcherError> {
        Self::with_id(ChannelId::random(rng), config, params)
    }

    /// Starts a span channel with a given ID.
    pub fn with_id(
        id: ChannelId,
        config: ChannelConfig,
        params: SpanBatchParams,
    ) -> Result<Self, BatcherError> {
        config.validate()?;
        Ok(Self {
            id,
            config,
            params,
            blocks: Vec::new(),
            first_sequence_number: 0,
            compressed: Some(Vec::new()),
            full: false,
        })
    }

    /// The channel ID.
    pub const fn id(&self) -> ChannelId {
        self.id
    }

    /// Number of blocks in the span batch.
    pub const fn block_count(&self) -> usize {
        self.blocks.len()
    }

    /// Whether the channel reached its target size (or rejected a block for size); no
    /// further blocks are accepted.
    pub const fn is_full(&self) -> bool {
        self.full
    }

    /// Appends the next L2 block. `sequence_number` is its position within its L1 epoch
    /// (only the first block's is encoded). On any error the channel is left unchanged; a
    /// full channel answers [`BatcherError::ChannelFull`] with `size` 0.
    pub fn add_block(
        &mut self,
        block: SingularBatch,
        sequence_number: u64,
    ) -> Result<(), BatcherError> {
        if self.full {
            return Err(BatcherError::ChannelFull {
                size: 0,
                max: self.config.target_size as u64,
            });
        }
        if self.blocks.is_empty() {
            self.first_sequence_number = sequence_number;
        }
        self.blocks.push(block);
        match self.encode_candidate() {
            Ok(compressed) => {
                let target = self.config.target_size;
                self.full = compressed.as_ref().is_some_and(|c| c.len() >= target);
                self.compressed = compressed;
                Ok(())
            }
            Err(err) => {
                self.blocks.pop();
                self.full |= matches!(err, BatcherError::ChannelFull { .. });
                Err(err)
            }
        }
    }

    /// Encodes the current blocks; compresses only when the result may exceed the target.
    fn encode_candidate(&self) -> Result<Option<Vec<u8>>, BatcherError> {
        let stream = self.stream()?;
        let size = stream.len() as u64;
        if size > self.config.max_rlp_bytes {
            return Err(BatcherError::ChannelFull {
                size,
                max: self.config.max_rlp_bytes,
            });
        }
        // Compression never grows data by more than a small framing overhead.
        let bound = stream.len() + stream.len() / 64 + 64;
        if bound <= self.config.target_size {
            return Ok(None);
        }
        let compressed = compress(self.config.compression, &stream)?;
        if compressed.len() > self.config.target_size && self.blocks.len() > 1 {
            let max = self.config.target_size as u64;
            return Err(BatcherError::ChannelFull {
                size: compressed.len() as u64,
                max,
            });
        }
        Ok(Some(compressed))
    }

    fn stream(&self) -> Result<Vec<u8>, BatcherError> {
        let span = SpanBatch::from_singular_batches(&self.blocks, self.first_sequence_number)?;
        let mut stream = Vec::new();
        Batch::Span(span.to_raw(&self.params)?).encode_rlp(&mut stream)?;
        Ok(stream)
    }

    /// Returns the finished channel.
    pub fn finish(self) -> Result<Channel, BatcherError> {
        if self.blocks.is_empty() {
            return Err(BatcherError::InvalidBatch(
                "span channel has no blocks".into(),
            ));
        }
        let data = match self.compressed {
            Some(data) if !data.is_empty() => data,
            _ => compress(self.config.compression, &self.stream()?)?,
        };
        debug!(target: "altius::batcher", channel = %self.id, blocks = self.blocks.len(), compressed = data.len(), "span channel closed");
        Ok(Channel {
            id: self.id,
            data: data.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        CompressionAlgo, FJORD_MAX_RLP_BYTES_PER_CHANNEL,
        test_utils::{PARAMS, sample_batches},
    };

    fn builder(target_size: usize) -> SpanChannelBuilder {
        let config = ChannelConfig {
            compression: CompressionAlgo::Zlib,
            target_size,
            ..Default::default()
        };
        SpanChannelBuilder::with_id(ChannelId([3; 16]), config, PARAMS).unwrap()
    }

    fn decode_span(channel: &Channel) -> SpanBatch {
        let batches = channel
            .decode_batches(FJORD_MAX_RLP_BYTES_PER_CHANNEL)
            .unwrap();
        match batches.as_slice() {
            [Batch::Span(raw)] => raw.derive(&PARAMS).unwrap(),
            other => panic!("expected one span batch, got {other:?}"),
        }
    }

    #[test]
    fn blocks_accumulate_into_one_span_batch() {
        let inputs = sample_batches();
        let mut b = builder(1_000_000);
        for (i, block) in inputs.iter().enumerate() {
            b.add_block(block.clone(), i as u64).unwrap();
        }
        assert_eq!(b.block_count(), inputs.len());
        let span = decode_span(&b.finish().unwrap());
        assert_eq!(span, SpanBatch::from_singular_batches(&inputs, 0).unwrap());
    }

    #[test]
    fn target_size_rejects_the_overflowing_block() {
        let inputs = sample_batches();
        let mut two = builder(1_000_000);
        two.add_block(inputs[0].clone(), 0).unwrap();
        two.add_block(inputs[1].clone(), 1).unwrap();
        let target = two.finish().unwrap().data.len();

        let mut b = builder(target);
        b.add_block(inputs[0].clone(), 0).unwrap();
        b.add_block(inputs[1].clone(), 1).unwrap();
        let err = b.add_block(inputs[2].clone(), 0).unwrap_err();
        assert!(matches!(err, BatcherError::ChannelFull { .. }), "{err}");
        assert!(b.is_full());
        assert!(b.add_block(inputs[2].clone(), 0).is_err());
        let channel = b.finish().unwrap();
        assert_eq!(channel.data.len(), target);
        assert_eq!(decode_span(&channel).blocks.len(), 2);
    }

    #[test]
    fn a_single_oversized_block_is_kept() {
        let inputs = sample_batches();
        let mut b = builder(50);
        b.add_block(inputs[0].clone(), 0).unwrap();
        assert!(b.add_block(inputs[1].clone(), 1).is_err());
        assert_eq!(decode_span(&b.finish().unwrap()).blocks.len(), 1);
    }

    #[test]
    fn invalid_blocks_leave_the_channel_unchanged() {
        let mut inputs = sample_batches();
        let mut b = builder(1_000_000);
        b.add_block(inputs[0].clone(), 0).unwrap();
        inputs[1].epoch_num += 7;
        assert!(matches!(
            b.add_block(inputs[1].clone(), 1),
            Err(BatcherError::InvalidSpanBatch(_))
        ));
        assert!(!b.is_full());
        assert_eq!(b.block_count(), 1);
        assert!(builder(10).finish().is_err());
    }
}
