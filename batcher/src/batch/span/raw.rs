//! [`RawSpanBatch`]: the wire form of a span batch (batch type 1, Delta).

use alloy_primitives::FixedBytes;

use super::{
    SpanBatchTxs,
    bits::{Reader, put_bits, put_uvarint},
};
use crate::BatcherError;

/// Upper bound on span batch block and transaction counts (`MAX_SPAN_BATCH_ELEMENT_COUNT`).
pub const MAX_SPAN_BATCH_ELEMENT_COUNT: u64 = 10_000_000;

/// A span batch exactly as encoded: `prefix ++ payload`.
///
/// `prefix = uvarint rel_timestamp ++ uvarint l1_origin_num ++ parent_check[20] ++
/// l1_origin_check[20]`; `payload = uvarint block_count ++ origin_bits ++
/// uvarint block_tx_counts[] ++ txs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawSpanBatch {
    /// First block's timestamp minus the L2 genesis timestamp.
    pub rel_timestamp: u64,
    /// L1 origin number of the last block.
    pub l1_origin_num: u64,
    /// First 20 bytes of the first block's parent hash.
    pub parent_check: FixedBytes<20>,
    /// First 20 bytes of the last block's L1 origin hash.
    pub l1_origin_check: FixedBytes<20>,
    /// One bit per block: set when the block's L1 origin differs from the previous block's
    /// (bit 0: the first block starts a new epoch).
    pub origin_bits: Vec<bool>,
    /// Number of transactions in each block.
    pub block_tx_counts: Vec<u64>,
    /// All transactions, column by column.
    pub txs: SpanBatchTxs,
}

impl RawSpanBatch {
    /// Number of blocks.
    pub const fn block_count(&self) -> usize {
        self.block_tx_counts.len()
    }

    /// Appends the encoding (without the batch type byte).
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), BatcherError> {
        self.check_shape()?;
        put_uvarint(out, self.rel_timestamp);
        put_uvarint(out, self.l1_origin_num);
        out.extend_from_slice(self.parent_check.as_slice());
        out.extend_from_slice(self.l1_origin_check.as_slice());
        put_uvarint(out, self.block_count() as u64);
        put_bits(out, &self.origin_bits);
        self.block_tx_counts
            .iter()
            .for_each(|c| put_uvarint(out, *c));
        self.txs.encode(out)
    }

    pub(super) fn check_shape(&self) -> Result<(), BatcherError> {
        let blocks = self.block_count() as u64;
        if blocks == 0 || blocks > MAX_SPAN_BATCH_ELEMENT_COUNT {
            return Err(invalid(format!("block count {blocks} out of range")));
        }
        if self.origin_bits.len() != self.block_count() {
            return Err(invalid(
                "origin_bits length differs from block count".into(),
            ));
        }
        let total = self
            .block_tx_counts
            .iter()
            .try_fold(0u64, |acc, c| acc.checked_add(*c));
        match total {
            Some(t) if t == self.txs.len() as u64 && t <= MAX_SPAN_BATCH_ELEMENT_COUNT => Ok(()),
            _ => Err(invalid(
                "block tx counts do not match the transactions".into(),
            )),
        }
    }

    /// Decodes a span batch (without the batch type byte), rejecting trailing bytes.
    pub fn decode(data: &[u8]) -> Result<Self, BatcherError> {
        let mut r = Reader::new(data);
        let rel_timestamp = r.uvarint("rel_timestamp")?;
        let l1_origin_num = r.uvarint("l1_origin_num")?;
        let parent_check = FixedBytes(r.array("parent_check")?);
        let l1_origin_check = FixedBytes(r.array("l1_origin_check")?);
        let block_count = read_count(&mut r, "block_count")?;
        if block_count == 0 {
            return Err(invalid("span batch must not be empty".into()));
        }
        let origin_bits = r.bits(block_count, "origin_bits")?;
        let block_tx_counts = read_tx_counts(&mut r, block_count)?;
        let total = block_tx_counts.iter().sum::<u64>() as usize;
        let txs = SpanBatchTxs::decode(&mut r, total)?;
        if r.remaining() != 0 {
            return Err(invalid(format!("{} trailing bytes", r.remaining())));
        }
        Ok(Self {
            rel_timestamp,
            l1_origin_num,
            parent_check,
            l1_origin_check,
            origin_bits,
            block_tx_counts,
            txs,
        })
    }
}

/// Reads a count bounded by the element limit and by the remaining input (each element
/// takes at least one byte), so hostile counts cannot trigger huge allocations.
fn read_count(r: &mut Reader<'_>, what: &'static str) -> Result<usize, BatcherError> {
    let count = r.uvarint(what)?;
    if count > MAX_SPAN_BATCH_ELEMENT_COUNT {
        return Err(invalid(format!(
            "{what} {count} exceeds {MAX_SPAN_BATCH_ELEMENT_COUNT}"
        )));
    }
    let count = usize::try_from(count).map_err(|_| invalid(format!("{what} too large")))?;
    if count > r.remaining() {
        return Err(BatcherError::UnexpectedEof(what));
    }
    Ok(count)
}

fn read_tx_counts(r: &mut Reader<'_>, blocks: usize) -> Result<Vec<u64>, BatcherError> {
    let mut counts = Vec::with_capacity(blocks);
    let mut total = 0u64;
    for _ in 0..blocks {
        let count = r.uvarint("block_tx_counts")?;
        total = total.saturating_add(count);
        if total > MAX_SPAN_BATCH_ELEMENT_COUNT {
            return Err(invalid(format!(
                "span batch tx count exceeds {MAX_SPAN_BATCH_ELEMENT_COUNT}"
            )));
        }
        counts.push(count);
    }
    Ok(counts)
}

fn invalid(msg: String) -> BatcherError {
    BatcherError::InvalidSpanBatch(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal() -> RawSpanBatch {
        RawSpanBatch {
            rel_timestamp: 10,
            l1_origin_num: 300,
            parent_check: FixedBytes([1; 20]),
            l1_origin_check: FixedBytes([2; 20]),
            origin_bits: vec![true, false],
            block_tx_counts: vec![0, 0],
            txs: SpanBatchTxs::default(),
        }
    }

    #[test]
    fn empty_block_span_batch_has_exact_bytes() {
        let mut out = Vec::new();
        minimal().encode(&mut out).unwrap();
        let mut expected = vec![10, 0xac, 0x02];
        expected.extend([1; 20]);
        expected.extend([2; 20]);
        expected.extend([2, 0b01, 0, 0]);
        assert_eq!(out, expected);
        assert_eq!(RawSpanBatch::decode(&out).unwrap(), minimal());
    }

    #[test]
    fn malformed_shapes_are_rejected() {
        let mut out = Vec::new();
        let mut empty = minimal();
        empty.origin_bits.clear();
        empty.block_tx_counts.clear();
        assert!(empty.encode(&mut out).is_err());
        let mut mismatch = minimal();
        mismatch.block_tx_counts[0] = 1;
        assert!(mismatch.encode(&mut out).is_err());
    }

    #[test]
    fn hostile_counts_and_trailing_bytes_are_rejected() {
        let mut out = Vec::new();
        minimal().encode(&mut out).unwrap();
        let mut trailing = out.clone();
        trailing.push(0);
        assert!(RawSpanBatch::decode(&trailing).is_err());
        let mut huge = out[..43].to_vec();
        put_uvarint(&mut huge, MAX_SPAN_BATCH_ELEMENT_COUNT + 1);
        assert!(RawSpanBatch::decode(&huge).is_err());
        let mut zero = out[..43].to_vec();
        zero.push(0);
        assert!(RawSpanBatch::decode(&zero).is_err());
        let mut many_txs = out[..44].to_vec();
        many_txs.push(0b01);
        put_uvarint(&mut many_txs, 9_000_000);
        put_uvarint(&mut many_txs, 9_000_000);
        assert!(RawSpanBatch::decode(&many_txs).is_err());
        for cut in 0..out.len() {
            assert!(RawSpanBatch::decode(&out[..cut]).is_err(), "cut at {cut}");
        }
    }
}
