//! [`SpanBatchTxs`]: the column-oriented transaction section of a span batch payload.

use alloy_primitives::{Address, Bytes, Signature, U256};

use super::{
    bits::{Reader, put_bits, put_uvarint},
    tx_data::{TxParts, join_tx, read_tx_data, split_tx},
};
use crate::BatcherError;

/// Size of one `tx_sigs` entry: `r ‖ s`.
const SIG_LEN: usize = 64;

/// The transactions of a span batch, stored column by column as on the wire.
///
/// Contract creations have no `tx_tos` entry; `protected_bits` has one bit per legacy
/// transaction (EIP-155 protected or not).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpanBatchTxs {
    /// One bit per transaction: set for contract creations.
    pub contract_creation_bits: Vec<bool>,
    /// One bit per transaction: the signature's y parity.
    pub y_parity_bits: Vec<bool>,
    /// One `(r, s)` pair per transaction.
    pub tx_sigs: Vec<(U256, U256)>,
    /// One recipient per non-creation transaction.
    pub tx_tos: Vec<Address>,
    /// One per transaction: `[type ++] rlp(type-specific fields)`.
    pub tx_datas: Vec<Bytes>,
    /// One nonce per transaction.
    pub tx_nonces: Vec<u64>,
    /// One gas limit per transaction.
    pub tx_gases: Vec<u64>,
    /// One bit per legacy transaction: set when EIP-155 protected.
    pub protected_bits: Vec<bool>,
}

impl SpanBatchTxs {
    /// Builds the columns from EIP-2718 encoded transactions, all for `chain_id`.
    pub fn from_transactions<'a>(
        txs: impl IntoIterator<Item = &'a Bytes>,
        chain_id: u64,
    ) -> Result<Self, BatcherError> {
        let mut out = Self::default();
        for raw in txs {
            out.push(split_tx(raw, chain_id)?);
        }
        Ok(out)
    }

    fn push(&mut self, parts: TxParts) {
        self.contract_creation_bits.push(parts.to.is_none());
        self.y_parity_bits.push(parts.signature.v());
        self.tx_sigs
            .push((parts.signature.r(), parts.signature.s()));
        self.tx_tos.extend(parts.to);
        self.tx_datas.push(parts.data.into());
        self.tx_nonces.push(parts.nonce);
        self.tx_gases.push(parts.gas);
        self.protected_bits.extend(parts.legacy_protected);
    }

    /// Number of transactions.
    pub const fn len(&self) -> usize {
        self.tx_datas.len()
    }

    /// Whether there are no transactions.
    pub const fn is_empty(&self) -> bool {
        self.tx_datas.is_empty()
    }

    /// Rebuilds every transaction's EIP-2718 encoding, in order.
    pub fn to_transactions(&self, chain_id: u64) -> Result<Vec<Bytes>, BatcherError> {
        self.check_lengths()?;
        let mut tos = self.tx_tos.iter();
        let mut protected = self.protected_bits.iter();
        let mut out = Vec::with_capacity(self.len());
        for i in 0..self.len() {
            let data = self.tx_datas[i].to_vec();
            let is_legacy = data.first().is_some_and(|b| *b > 0x7f);
            let to = match self.contract_creation_bits[i] {
                true => None,
                false => Some(*tos.next().ok_or_else(|| short("tx_tos"))?),
            };
            let legacy_protected = match is_legacy {
                true => Some(*protected.next().ok_or_else(|| short("protected_bits"))?),
                false => None,
            };
            let (r, s) = self.tx_sigs[i];
            let signature = Signature::new(r, s, self.y_parity_bits[i]);
            let (nonce, gas) = (self.tx_nonces[i], self.tx_gases[i]);
            let parts = TxParts {
                to,
                signature,
                nonce,
                gas,
                legacy_protected,
                data,
            };
            out.push(join_tx(&parts, chain_id)?);
        }
        Ok(out)
    }

    fn check_lengths(&self) -> Result<(), BatcherError> {
        let n = self.len();
        let per_tx = [
            self.contract_creation_bits.len(),
            self.y_parity_bits.len(),
            self.tx_sigs.len(),
            self.tx_nonces.len(),
            self.tx_gases.len(),
        ];
        let creations = self.contract_creation_bits.iter().filter(|b| **b).count();
        let legacy = self
            .tx_datas
            .iter()
            .filter(|d| d.first().is_some_and(|b| *b > 0x7f))
            .count();
        if per_tx.iter().any(|len| *len != n)
            || self.tx_tos.len() != n - creations.min(n)
            || self.protected_bits.len() != legacy
        {
            return Err(BatcherError::InvalidSpanBatch(
                "inconsistent tx column lengths".into(),
            ));
        }
        Ok(())
    }

    /// Appends the wire encoding of the columns.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), BatcherError> {
        self.check_lengths()?;
        put_bits(out, &self.contract_creation_bits);
        put_bits(out, &self.y_parity_bits);
        for (r, s) in &self.tx_sigs {
            out.extend_from_slice(&r.to_be_bytes::<32>());
            out.extend_from_slice(&s.to_be_bytes::<32>());
        }
        for to in &self.tx_tos {
            out.extend_from_slice(to.as_slice());
        }
        for data in &self.tx_datas {
            out.extend_from_slice(data);
        }
        self.tx_nonces.iter().for_each(|n| put_uvarint(out, *n));
        self.tx_gases.iter().for_each(|g| put_uvarint(out, *g));
        put_bits(out, &self.protected_bits);
        Ok(())
    }

    /// Decodes `count` transactions' columns from `r`.
    pub(crate) fn decode(r: &mut Reader<'_>, count: usize) -> Result<Self, BatcherError> {
        // Every transaction needs at least its 64-byte signature: bound allocations by input.
        if count.saturating_mul(SIG_LEN) > r.remaining() {
            return Err(BatcherError::UnexpectedEof("span batch txs"));
        }
        let contract_creation_bits = r.bits(count, "contract_creation_bits")?;
        let y_parity_bits = r.bits(count, "y_parity_bits")?;
        let tx_sigs = (0..count)
            .map(|_| {
                let sig = r.array::<SIG_LEN>("tx_sigs")?;
                let (r_bytes, s_bytes) = sig.split_at(32);
                Ok((U256::from_be_slice(r_bytes), U256::from_be_slice(s_bytes)))
            })
            .collect::<Result<Vec<_>, BatcherError>>()?;
        let creations = contract_creation_bits.iter().filter(|b| **b).count();
        let tx_tos = (0..count - creations)
            .map(|_| r.array::<20>("tx_tos").map(Address::from))
            .collect::<Result<Vec<_>, _>>()?;
        let (tx_datas, legacy) = decode_tx_datas(r, count)?;
        let tx_nonces = (0..count)
            .map(|_| r.uvarint("tx_nonces"))
            .collect::<Result<_, _>>()?;
        let tx_gases = (0..count)
            .map(|_| r.uvarint("tx_gases"))
            .collect::<Result<_, _>>()?;
        let protected_bits = r.bits(legacy, "protected_bits")?;
        Ok(Self {
            contract_creation_bits,
            y_parity_bits,
            tx_sigs,
            tx_tos,
            tx_datas,
            tx_nonces,
            tx_gases,
            protected_bits,
        })
    }
}

fn decode_tx_datas(r: &mut Reader<'_>, count: usize) -> Result<(Vec<Bytes>, usize), BatcherError> {
    let mut datas = Vec::with_capacity(count);
    let mut legacy = 0;
    let mut buf = r.rest();
    for _ in 0..count {
        let (data, ty) = read_tx_data(&mut buf)?;
        if !matches!(ty, 0 | 1 | 2 | 4) {
            return Err(BatcherError::InvalidSpanBatch(format!(
                "invalid tx type {ty}"
            )));
        }
        legacy += usize::from(ty == 0);
        datas.push(Bytes::copy_from_slice(data));
    }
    r.advance_to(buf);
    Ok((datas, legacy))
}

fn short(column: &str) -> BatcherError {
    BatcherError::InvalidSpanBatch(format!("{column} column is too short"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_utils::{CHAIN_ID, all_tx_types};

    #[test]
    fn every_tx_type_round_trips_through_columns() {
        let txs = all_tx_types(7);
        let cols = SpanBatchTxs::from_transactions(&txs, CHAIN_ID).unwrap();
        assert_eq!(cols.len(), txs.len());
        assert_eq!(cols.protected_bits, vec![true, false, true]);
        assert_eq!(
            cols.tx_tos.len(),
            txs.len() - cols.contract_creation_bits.iter().filter(|b| **b).count()
        );
        let mut wire = Vec::new();
        cols.encode(&mut wire).unwrap();
        let mut r = Reader::new(&wire);
        let decoded = SpanBatchTxs::decode(&mut r, txs.len()).unwrap();
        assert_eq!(r.remaining(), 0);
        assert_eq!(decoded, cols);
        assert_eq!(decoded.to_transactions(CHAIN_ID).unwrap(), txs);
    }

    #[test]
    fn rejects_disallowed_and_foreign_transactions() {
        let deposit = Bytes::from_static(&[0x7e, 0xc0]);
        assert!(SpanBatchTxs::from_transactions([&deposit], CHAIN_ID).is_err());
        assert!(SpanBatchTxs::from_transactions([&Bytes::new()], CHAIN_ID).is_err());
        let garbage = Bytes::from_static(&[0x02, 0x01]);
        assert!(SpanBatchTxs::from_transactions([&garbage], CHAIN_ID).is_err());
        let txs = all_tx_types(1);
        assert!(SpanBatchTxs::from_transactions(&txs, CHAIN_ID + 1).is_err());
    }

    #[test]
    fn truncated_columns_are_errors_not_panics() {
        let txs = all_tx_types(3);
        let cols = SpanBatchTxs::from_transactions(&txs, CHAIN_ID).unwrap();
        let mut wire = Vec::new();
        cols.encode(&mut wire).unwrap();
        for cut in 0..wire.len() {
            let mut r = Reader::new(&wire[..cut]);
            assert!(
                SpanBatchTxs::decode(&mut r, txs.len()).is_err(),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn unknown_tx_type_in_tx_datas_is_rejected() {
        let txs = all_tx_types(2);
        let mut cols = SpanBatchTxs::from_transactions(&txs[..1], CHAIN_ID).unwrap();
        let mut data = cols.tx_datas[0].to_vec();
        data.insert(0, 0x03);
        cols.tx_datas[0] = data.into();
        cols.protected_bits.clear();
        let mut wire = Vec::new();
        cols.encode(&mut wire).unwrap();
        assert!(SpanBatchTxs::decode(&mut Reader::new(&wire), 1).is_err());
    }
}
