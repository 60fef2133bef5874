//! [`SingularBatch`]: one L2 block per batch (batch type 0).

use alloy_primitives::{B256, Bytes};
use alloy_rlp::{RlpDecodable, RlpEncodable};

use crate::BatcherError;

/// A single L2 block's batch: `rlp([parent_hash, epoch_num, epoch_hash, timestamp, txs])`.
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct SingularBatch {
    /// Hash of the L2 parent block.
    pub parent_hash: B256,
    /// L1 origin (epoch) number.
    pub epoch_num: u64,
    /// L1 origin (epoch) hash.
    pub epoch_hash: B256,
    /// L2 block timestamp.
    pub timestamp: u64,
    /// EIP-2718 encoded transactions (no deposits).
    pub transactions: Vec<Bytes>,
}

impl SingularBatch {
    /// Checks the transaction list against the derivation rules that make a batch invalid:
    /// no empty transactions, no deposits (`0x7e`), and only legacy, EIP-2930, EIP-1559 and
    /// EIP-7702 envelopes. (Whether EIP-7702 is active yet is a fork question for the caller.)
    pub fn check_transactions(&self) -> Result<(), BatcherError> {
        for (i, tx) in self.transactions.iter().enumerate() {
            match tx.first() {
                Some(0xc0..=0xff | 0x01 | 0x02 | 0x04) => {}
                Some(ty) => {
                    return Err(BatcherError::InvalidTransaction(format!(
                        "transaction {i} has type {ty:#04x}, not allowed in a batch"
                    )));
                }
                None => {
                    return Err(BatcherError::InvalidTransaction(format!(
                        "transaction {i} is empty"
                    )));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_utils::sample_batches;

    #[test]
    fn allowed_and_disallowed_transaction_types() {
        let mut batch = sample_batches().remove(0);
        batch.check_transactions().unwrap();
        for bad in [
            &[][..],
            &[0x7e, 0xc0],
            &[0x03, 0xc0],
            &[0x05, 0xc0],
            &[0x80],
        ] {
            batch.transactions = vec![Bytes::copy_from_slice(bad)];
            assert!(batch.check_transactions().is_err(), "{bad:?}");
        }
    }
}
