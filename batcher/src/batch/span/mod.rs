//! Span batches (batch type 1): many L2 blocks in one column-oriented batch.
//!
//! [`SpanBatch`] is the decoded, block-by-block view; [`RawSpanBatch`] is the wire form.
//! Converting between them needs the chain's [`SpanBatchParams`].

mod bits;
mod raw;
mod tx_data;
mod txs;

pub use raw::{MAX_SPAN_BATCH_ELEMENT_COUNT, RawSpanBatch};
pub use txs::SpanBatchTxs;

use alloy_primitives::{Bytes, FixedBytes};
use serde::{Deserialize, Serialize};

use super::SingularBatch;
use crate::BatcherError;

/// Chain parameters needed to encode or derive a span batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpanBatchParams {
    /// L2 genesis timestamp (timestamps are stored relative to it).
    pub genesis_timestamp: u64,
    /// L2 block time in seconds.
    pub block_time: u64,
    /// L2 chain ID (typed and protected legacy transactions carry it implicitly).
    pub chain_id: u64,
}

/// One L2 block of a span batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanBatchElement {
    /// L1 origin (epoch) number.
    pub epoch_num: u64,
    /// L2 block timestamp.
    pub timestamp: u64,
    /// EIP-2718 encoded transactions (no deposits).
    pub transactions: Vec<Bytes>,
}

/// A span batch as a list of blocks plus the checks against the L2 parent and L1 origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanBatch {
    /// First 20 bytes of the first block's parent hash.
    pub parent_check: FixedBytes<20>,
    /// First 20 bytes of the last block's L1 origin hash.
    pub l1_origin_check: FixedBytes<20>,
    /// Whether the first block is the first of its epoch (origin bit 0).
    pub first_block_new_epoch: bool,
    /// The blocks, in order.
    pub blocks: Vec<SpanBatchElement>,
}

impl SpanBatch {
    /// Builds a span batch from consecutive singular batches. `first_sequence_number` is the
    /// first block's sequence number within its epoch (0 means it starts the epoch).
    pub fn from_singular_batches(
        batches: &[SingularBatch],
        first_sequence_number: u64,
    ) -> Result<Self, BatcherError> {
        let (first, last) = match (batches.first(), batches.last()) {
            (Some(f), Some(l)) => (f, l),
            _ => return Err(invalid("span batch must not be empty".into())),
        };
        Ok(Self {
            parent_check: FixedBytes::from_slice(&first.parent_hash[..20]),
            l1_origin_check: FixedBytes::from_slice(&last.epoch_hash[..20]),
            first_block_new_epoch: first_sequence_number == 0,
            blocks: batches
                .iter()
                .map(|b| SpanBatchElement {
                    epoch_num: b.epoch_num,
                    timestamp: b.timestamp,
                    transactions: b.transactions.clone(),
                })
                .collect(),
        })
    }

    /// Encodes into the wire form, checking that the blocks are representable: L1 origins
    /// advance by 0 or 1 per block and timestamps are `block_time` apart.
    pub fn to_raw(&self, params: &SpanBatchParams) -> Result<RawSpanBatch, BatcherError> {
        let (first, last) = match (self.blocks.first(), self.blocks.last()) {
            (Some(f), Some(l)) => (f, l),
            _ => return Err(invalid("span batch must not be empty".into())),
        };
        let rel_timestamp = first
            .timestamp
            .checked_sub(params.genesis_timestamp)
            .ok_or_else(|| {
                invalid("first block timestamp is before the genesis timestamp".into())
            })?;
        let mut origin_bits = vec![self.first_block_new_epoch];
        for (i, pair) in self.blocks.windows(2).enumerate() {
            origin_bits.push(origin_step(&pair[0], &pair[1], params.block_time, i + 1)?);
        }
        let block_tx_counts = self
            .blocks
            .iter()
            .map(|b| b.transactions.len() as u64)
            .collect();
        let txs = SpanBatchTxs::from_transactions(
            self.blocks.iter().flat_map(|b| &b.transactions),
            params.chain_id,
        )?;
        let raw = RawSpanBatch {
            rel_timestamp,
            l1_origin_num: last.epoch_num,
            parent_check: self.parent_check,
            l1_origin_check: self.l1_origin_check,
            origin_bits,
            block_tx_counts,
            txs,
        };
        raw.check_shape()?;
        Ok(raw)
    }
}

/// The origin bit for block `index` (`cur`), validating it against the previous block.
fn origin_step(
    prev: &SpanBatchElement,
    cur: &SpanBatchElement,
    block_time: u64,
    index: usize,
) -> Result<bool, BatcherError> {
    if prev.timestamp.checked_add(block_time) != Some(cur.timestamp) {
        return Err(invalid(format!(
            "block {index} is not {block_time}s after its parent"
        )));
    }
    match cur.epoch_num.checked_sub(prev.epoch_num) {
        Some(0) => Ok(false),
        Some(1) => Ok(true),
        _ => Err(invalid(format!(
            "block {index} L1 origin must advance by 0 or 1"
        ))),
    }
}

impl RawSpanBatch {
    /// Expands the wire form into blocks: timestamps, L1 origins and full transactions.
    pub fn derive(&self, params: &SpanBatchParams) -> Result<SpanBatch, BatcherError> {
        self.check_shape()?;
        let count = self.block_count();
        let mut epochs = vec![0u64; count];
        let mut epoch = self.l1_origin_num;
        for i in (0..count).rev() {
            epochs[i] = epoch;
            if i > 0 && self.origin_bits[i] {
                epoch = epoch
                    .checked_sub(1)
                    .ok_or_else(|| invalid("L1 origin underflow".into()))?;
            }
        }
        let mut txs = self.txs.to_transactions(params.chain_id)?.into_iter();
        let start = params
            .genesis_timestamp
            .checked_add(self.rel_timestamp)
            .ok_or_else(|| invalid("timestamp overflow".into()))?;
        let mut blocks = Vec::with_capacity(count);
        for (i, (epoch_num, tx_count)) in epochs.into_iter().zip(&self.block_tx_counts).enumerate()
        {
            let timestamp = (i as u64)
                .checked_mul(params.block_time)
                .and_then(|offset| start.checked_add(offset))
                .ok_or_else(|| invalid("timestamp overflow".into()))?;
            let transactions = txs.by_ref().take(*tx_count as usize).collect();
            blocks.push(SpanBatchElement {
                epoch_num,
                timestamp,
                transactions,
            });
        }
        Ok(SpanBatch {
            parent_check: self.parent_check,
            l1_origin_check: self.l1_origin_check,
            first_block_new_epoch: self.origin_bits.first().copied().unwrap_or_default(),
            blocks,
        })
    }
}

fn invalid(msg: String) -> BatcherError {
    BatcherError::InvalidSpanBatch(msg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_utils::{PARAMS, sample_batches};

    #[test]
    fn singular_batches_round_trip_through_span_batch() {
        let batches = sample_batches();
        let span = SpanBatch::from_singular_batches(&batches, 0).unwrap();
        let raw = span.to_raw(&PARAMS).unwrap();
        assert_eq!(raw.origin_bits, vec![true, false, true, false]);
        assert_eq!(raw.l1_origin_num, batches.last().unwrap().epoch_num);
        let mut wire = Vec::new();
        raw.encode(&mut wire).unwrap();
        let decoded = RawSpanBatch::decode(&wire).unwrap();
        assert_eq!(decoded, raw);
        let derived = decoded.derive(&PARAMS).unwrap();
        assert_eq!(derived, span);
        for (block, batch) in derived.blocks.iter().zip(&batches) {
            assert_eq!(block.epoch_num, batch.epoch_num);
            assert_eq!(block.timestamp, batch.timestamp);
            assert_eq!(block.transactions, batch.transactions);
        }
    }

    #[test]
    fn mid_epoch_start_clears_first_origin_bit() {
        let span = SpanBatch::from_singular_batches(&sample_batches(), 3).unwrap();
        assert!(!span.to_raw(&PARAMS).unwrap().origin_bits[0]);
    }

    #[test]
    fn unrepresentable_block_sequences_are_rejected() {
        let mut batches = sample_batches();
        assert!(SpanBatch::from_singular_batches(&[], 0).is_err());
        batches[2].epoch_num += 5;
        let span = SpanBatch::from_singular_batches(&batches, 0).unwrap();
        assert!(span.to_raw(&PARAMS).is_err());
        let mut batches = sample_batches();
        batches[1].timestamp += 1;
        let span = SpanBatch::from_singular_batches(&batches, 0).unwrap();
        assert!(span.to_raw(&PARAMS).is_err());
        let early = SpanBatchParams {
            genesis_timestamp: u64::MAX,
            ..PARAMS
        };
        let span = SpanBatch::from_singular_batches(&sample_batches(), 0).unwrap();
        assert!(span.to_raw(&early).is_err());
    }
}
