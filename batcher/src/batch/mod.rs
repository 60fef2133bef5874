//! Batches: the unit of L2 block data inside a channel.

mod single;
mod span;

pub use single::SingularBatch;
pub use span::{
    MAX_SPAN_BATCH_ELEMENT_COUNT, RawSpanBatch, SpanBatch, SpanBatchElement, SpanBatchParams,
    SpanBatchTxs,
};

use alloy_rlp::{Decodable, Encodable};

use crate::BatcherError;

/// The batch type byte that prefixes every encoded batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum BatchType {
    /// `0x00`: [`SingularBatch`].
    Singular = 0,
    /// `0x01`: [`RawSpanBatch`] (Delta and later).
    Span = 1,
}

/// A batch as carried in a channel: `batch_type ++ content`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Batch {
    /// One block.
    Singular(SingularBatch),
    /// A span of blocks.
    Span(RawSpanBatch),
}

impl Batch {
    /// The batch type.
    pub const fn batch_type(&self) -> BatchType {
        match self {
            Self::Singular(_) => BatchType::Singular,
            Self::Span(_) => BatchType::Span,
        }
    }

    /// Encodes as `batch_type ++ content` (the bytes an RLP string in the channel wraps).
    pub fn encode(&self) -> Result<Vec<u8>, BatcherError> {
        let mut out = vec![self.batch_type() as u8];
        match self {
            Self::Singular(b) => b.encode(&mut out),
            Self::Span(b) => b.encode(&mut out)?,
        }
        Ok(out)
    }

    /// Decodes `batch_type ++ content`, rejecting unknown types and trailing bytes.
    pub fn decode(data: &[u8]) -> Result<Self, BatcherError> {
        let (ty, mut content) = data
            .split_first()
            .ok_or(BatcherError::UnexpectedEof("batch type"))?;
        match *ty {
            0 => {
                let batch = SingularBatch::decode(&mut content)?;
                if !content.is_empty() {
                    return Err(BatcherError::InvalidBatch(
                        "trailing bytes after batch".into(),
                    ));
                }
                Ok(Self::Singular(batch))
            }
            1 => RawSpanBatch::decode(content).map(Self::Span),
            other => Err(BatcherError::InvalidBatch(format!(
                "unknown batch type {other}"
            ))),
        }
    }

    /// Appends the batch to a channel's batch stream as an RLP byte string.
    pub fn encode_rlp(&self, out: &mut Vec<u8>) -> Result<(), BatcherError> {
        self.encode()?.as_slice().encode(out);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_utils::{PARAMS, sample_batches};
    use alloy_primitives::{B256, Bytes, hex};

    #[test]
    fn singular_batch_has_exact_bytes() {
        let batch = SingularBatch {
            parent_hash: B256::repeat_byte(0x11),
            epoch_num: 5,
            epoch_hash: B256::repeat_byte(0x22),
            timestamp: 0x0102,
            transactions: vec![Bytes::from_static(&[0x02, 0xc0])],
        };
        let encoded = Batch::Singular(batch.clone()).encode().unwrap();
        let mut expected = hex!("00f84aa0").to_vec();
        expected.extend([0x11; 32]);
        expected.push(0x05);
        expected.push(0xa0);
        expected.extend([0x22; 32]);
        expected.extend(hex!("820102c38202c0"));
        assert_eq!(encoded, expected);
        assert_eq!(Batch::decode(&encoded).unwrap(), Batch::Singular(batch));
    }

    #[test]
    fn both_batch_types_round_trip() {
        let batches = sample_batches();
        for b in &batches {
            let batch = Batch::Singular(b.clone());
            assert_eq!(Batch::decode(&batch.encode().unwrap()).unwrap(), batch);
        }
        let raw = SpanBatch::from_singular_batches(&batches, 0)
            .unwrap()
            .to_raw(&PARAMS)
            .unwrap();
        let span = Batch::Span(raw);
        let encoded = span.encode().unwrap();
        assert_eq!(encoded[0], 1);
        assert_eq!(Batch::decode(&encoded).unwrap(), span);
    }

    #[test]
    fn malformed_batches_are_errors() {
        assert!(Batch::decode(&[]).is_err());
        assert!(Batch::decode(&[2, 0xc0]).is_err());
        assert!(Batch::decode(&[0, 0xc0]).is_err());
        let mut encoded = Batch::Singular(sample_batches()[0].clone())
            .encode()
            .unwrap();
        encoded.push(0);
        assert!(Batch::decode(&encoded).is_err());
    }
}
