//! Per-type span batch transaction data (`tx_datas` entries) and full-tx reconstruction.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEip2930, TxEip7702, TxEnvelope, TxLegacy};
use alloy_eips::{eip2930::AccessList, eip7702::SignedAuthorization};
use alloy_primitives::{Address, Bytes, Signature, TxKind, U256};
use alloy_rlp::{Decodable, Encodable, RlpDecodable, RlpEncodable};

use crate::BatcherError;

/// `rlp(value, gasPrice, data)`.
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
struct LegacyData {
    value: U256,
    gas_price: U256,
    data: Bytes,
}

/// `0x01 ++ rlp(value, gasPrice, data, accessList)`.
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
struct Eip2930Data {
    value: U256,
    gas_price: U256,
    data: Bytes,
    access_list: AccessList,
}

/// `0x02 ++ rlp(value, maxPriorityFee, maxFee, data, accessList)`.
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
struct Eip1559Data {
    value: U256,
    max_priority_fee_per_gas: U256,
    max_fee_per_gas: U256,
    data: Bytes,
    access_list: AccessList,
}

/// `0x04 ++ rlp(value, maxPriorityFee, maxFee, data, accessList, authorizationList)`.
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
struct Eip7702Data {
    value: U256,
    max_priority_fee_per_gas: U256,
    max_fee_per_gas: U256,
    data: Bytes,
    access_list: AccessList,
    authorization_list: Vec<SignedAuthorization>,
}

/// The fields a span batch stores outside `tx_datas`, per transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TxParts {
    pub(crate) to: Option<Address>,
    pub(crate) signature: Signature,
    pub(crate) nonce: u64,
    pub(crate) gas: u64,
    /// `Some(protected)` for legacy transactions, `None` for typed ones.
    pub(crate) legacy_protected: Option<bool>,
    /// The encoded `tx_datas` entry.
    pub(crate) data: Vec<u8>,
}

fn typed(ty: u8, body: &impl Encodable) -> Vec<u8> {
    let mut out = vec![ty];
    body.encode(&mut out);
    out
}

fn check_chain(actual: u64, expected: u64) -> Result<(), BatcherError> {
    if actual == expected {
        return Ok(());
    }
    Err(BatcherError::InvalidTransaction(format!(
        "transaction chain id {actual} does not match the span batch chain id {expected}"
    )))
}

/// Splits an EIP-2718 encoded transaction into span batch components.
pub(crate) fn split_tx(raw: &[u8], chain_id: u64) -> Result<TxParts, BatcherError> {
    match raw.first() {
        None => return Err(BatcherError::InvalidTransaction("empty transaction".into())),
        Some(0x7e) => {
            return Err(BatcherError::InvalidTransaction(
                "deposit transaction".into(),
            ));
        }
        Some(_) => {}
    }
    let envelope = <TxEnvelope as alloy_eips::Decodable2718>::decode_2718_exact(raw)
        .map_err(|e| BatcherError::InvalidTransaction(e.to_string()))?;
    let signature = *envelope.signature();
    match envelope {
        TxEnvelope::Legacy(signed) => {
            let tx = signed.tx();
            if let Some(id) = tx.chain_id {
                check_chain(id, chain_id)?;
            }
            let data = LegacyData {
                value: tx.value,
                gas_price: U256::from(tx.gas_price),
                data: tx.input.clone(),
            };
            Ok(TxParts {
                to: tx.to.to().copied(),
                signature,
                nonce: tx.nonce,
                gas: tx.gas_limit,
                legacy_protected: Some(tx.chain_id.is_some()),
                data: alloy_rlp::encode(&data),
            })
        }
        TxEnvelope::Eip2930(signed) => {
            let tx = signed.tx();
            check_chain(tx.chain_id, chain_id)?;
            let data = Eip2930Data {
                value: tx.value,
                gas_price: U256::from(tx.gas_price),
                data: tx.input.clone(),
                access_list: tx.access_list.clone(),
            };
            Ok(typed_parts(
                tx.to.to().copied(),
                signature,
                tx.nonce,
                tx.gas_limit,
                typed(1, &data),
            ))
        }
        TxEnvelope::Eip1559(signed) => {
            let tx = signed.tx();
            check_chain(tx.chain_id, chain_id)?;
            let data = Eip1559Data {
                value: tx.value,
                max_priority_fee_per_gas: U256::from(tx.max_priority_fee_per_gas),
                max_fee_per_gas: U256::from(tx.max_fee_per_gas),
                data: tx.input.clone(),
                access_list: tx.access_list.clone(),
            };
            Ok(typed_parts(
                tx.to.to().copied(),
                signature,
                tx.nonce,
                tx.gas_limit,
                typed(2, &data),
            ))
        }
        TxEnvelope::Eip7702(signed) => {
            let tx = signed.tx();
            check_chain(tx.chain_id, chain_id)?;
            let data = Eip7702Data {
                value: tx.value,
                max_priority_fee_per_gas: U256::from(tx.max_priority_fee_per_gas),
                max_fee_per_gas: U256::from(tx.max_fee_per_gas),
                data: tx.input.clone(),
                access_list: tx.access_list.clone(),
                authorization_list: tx.authorization_list.clone(),
            };
            Ok(typed_parts(
                Some(tx.to),
                signature,
                tx.nonce,
                tx.gas_limit,
                typed(4, &data),
            ))
        }
        TxEnvelope::Eip4844(_) => Err(BatcherError::InvalidTransaction(
            "blob transactions are not allowed".into(),
        )),
    }
}

const fn typed_parts(
    to: Option<Address>,
    signature: Signature,
    nonce: u64,
    gas: u64,
    data: Vec<u8>,
) -> TxParts {
    TxParts {
        to,
        signature,
        nonce,
        gas,
        legacy_protected: None,
        data,
    }
}

/// Reads one `tx_datas` entry (an optional type byte `<= 0x7f` followed by an RLP list),
/// returning the raw entry and its transaction type.
pub(crate) fn read_tx_data<'a>(buf: &mut &'a [u8]) -> Result<(&'a [u8], u8), BatcherError> {
    let start = *buf;
    let ty = match buf.first() {
        Some(0) => {
            return Err(BatcherError::InvalidSpanBatch(
                "explicit tx type 0 prefix".into(),
            ));
        }
        Some(&b) if b <= 0x7f => {
            *buf = &buf[1..];
            b
        }
        Some(_) => 0,
        None => return Err(BatcherError::UnexpectedEof("tx data")),
    };
    let header = alloy_rlp::Header::decode(buf)?;
    if !header.list {
        return Err(BatcherError::InvalidSpanBatch(
            "tx data RLP must be a list".into(),
        ));
    }
    if buf.len() < header.payload_length {
        return Err(BatcherError::UnexpectedEof("tx data"));
    }
    *buf = &buf[header.payload_length..];
    let used = start.len() - buf.len();
    Ok((&start[..used], ty))
}

fn u128_field(value: U256, what: &str) -> Result<u128, BatcherError> {
    u128::try_from(value)
        .map_err(|_| BatcherError::InvalidSpanBatch(format!("{what} does not fit in 128 bits")))
}

fn decode_exact<T: Decodable>(mut body: &[u8]) -> Result<T, BatcherError> {
    let value = T::decode(&mut body)?;
    if !body.is_empty() {
        return Err(BatcherError::InvalidSpanBatch(
            "trailing bytes after tx data".into(),
        ));
    }
    Ok(value)
}

/// Rebuilds the EIP-2718 encoding of a transaction from its span batch components.
pub(crate) fn join_tx(parts: &TxParts, chain_id: u64) -> Result<Bytes, BatcherError> {
    let ty = match parts.data.first() {
        Some(&b) if b <= 0x7f => b,
        Some(_) => 0,
        None => return Err(BatcherError::UnexpectedEof("tx data")),
    };
    let kind = parts.to.map_or(TxKind::Create, TxKind::Call);
    let body = if ty == 0 {
        &parts.data[..]
    } else {
        &parts.data[1..]
    };
    let envelope: TxEnvelope = match ty {
        0 => legacy_tx(decode_exact(body)?, parts, kind, chain_id)?
            .into_signed(parts.signature)
            .into(),
        1 => {
            let d: Eip2930Data = decode_exact(body)?;
            TxEip2930 {
                chain_id,
                nonce: parts.nonce,
                gas_price: u128_field(d.gas_price, "gas price")?,
                gas_limit: parts.gas,
                to: kind,
                value: d.value,
                access_list: d.access_list,
                input: d.data,
            }
            .into_signed(parts.signature)
            .into()
        }
        2 => {
            let d: Eip1559Data = decode_exact(body)?;
            TxEip1559 {
                chain_id,
                nonce: parts.nonce,
                gas_limit: parts.gas,
                max_fee_per_gas: u128_field(d.max_fee_per_gas, "max fee")?,
                max_priority_fee_per_gas: u128_field(d.max_priority_fee_per_gas, "priority fee")?,
                to: kind,
                value: d.value,
                access_list: d.access_list,
                input: d.data,
            }
            .into_signed(parts.signature)
            .into()
        }
        4 => eip7702_tx(decode_exact(body)?, parts, chain_id)?
            .into_signed(parts.signature)
            .into(),
        other => {
            return Err(BatcherError::InvalidSpanBatch(format!(
                "invalid tx type {other}"
            )));
        }
    };
    Ok(alloy_eips::Encodable2718::encoded_2718(&envelope).into())
}

fn legacy_tx(
    d: LegacyData,
    parts: &TxParts,
    to: TxKind,
    chain_id: u64,
) -> Result<TxLegacy, BatcherError> {
    let protected = parts.legacy_protected.ok_or_else(|| {
        BatcherError::InvalidSpanBatch("legacy transaction without a protected bit".into())
    })?;
    Ok(TxLegacy {
        chain_id: protected.then_some(chain_id),
        nonce: parts.nonce,
        gas_price: u128_field(d.gas_price, "gas price")?,
        gas_limit: parts.gas,
        to,
        value: d.value,
        input: d.data,
    })
}

fn eip7702_tx(d: Eip7702Data, parts: &TxParts, chain_id: u64) -> Result<TxEip7702, BatcherError> {
    let to = parts.to.ok_or_else(|| {
        BatcherError::InvalidSpanBatch("EIP-7702 transactions cannot create contracts".into())
    })?;
    Ok(TxEip7702 {
        chain_id,
        nonce: parts.nonce,
        gas_limit: parts.gas,
        max_fee_per_gas: u128_field(d.max_fee_per_gas, "max fee")?,
        max_priority_fee_per_gas: u128_field(d.max_priority_fee_per_gas, "priority fee")?,
        to,
        value: d.value,
        access_list: d.access_list,
        authorization_list: d.authorization_list,
        input: d.data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_utils::{CHAIN_ID, all_tx_types};

    #[test]
    fn legacy_tx_data_is_a_bare_rlp_list() {
        let parts = split_tx(&all_tx_types(1)[0], CHAIN_ID).unwrap();
        let expected = LegacyData {
            value: U256::from(5),
            gas_price: U256::from(1_000_000_007u64),
            data: Bytes::from(vec![1u8; 4]),
        };
        assert_eq!(parts.data, alloy_rlp::encode(&expected));
        assert_eq!(parts.data[0], 0xc0 + parts.data.len() as u8 - 1);
        assert_eq!(parts.legacy_protected, Some(true));
    }

    #[test]
    fn typed_tx_data_starts_with_the_type_byte() {
        let txs = all_tx_types(1);
        for (tx, ty) in txs[2..5].iter().zip([1u8, 2, 4]) {
            let parts = split_tx(tx, CHAIN_ID).unwrap();
            assert_eq!(parts.data[0], ty);
            assert_eq!(parts.legacy_protected, None);
            let mut buf = parts.data.as_slice();
            let (raw, read_ty) = read_tx_data(&mut buf).unwrap();
            assert_eq!((raw, read_ty, buf.len()), (parts.data.as_slice(), ty, 0));
            assert_eq!(join_tx(&parts, CHAIN_ID).unwrap(), *tx);
        }
    }

    #[test]
    fn eip7702_cannot_be_a_contract_creation() {
        let mut parts = split_tx(&all_tx_types(1)[4], CHAIN_ID).unwrap();
        parts.to = None;
        assert!(join_tx(&parts, CHAIN_ID).is_err());
    }

    #[test]
    fn malformed_tx_data_is_rejected() {
        assert!(read_tx_data(&mut &[][..]).is_err());
        assert!(
            read_tx_data(&mut &[0x00, 0xc0][..]).is_err(),
            "legacy has no type byte"
        );
        assert!(
            read_tx_data(&mut &[0x02, 0x80][..]).is_err(),
            "string, not list"
        );
        assert!(
            read_tx_data(&mut &[0x02, 0xc3, 0x01][..]).is_err(),
            "truncated list"
        );
        let parts = TxParts {
            to: None,
            signature: Signature::new(U256::from(1), U256::from(1), false),
            nonce: 0,
            gas: 0,
            legacy_protected: None,
            data: vec![0xc3, 0x01, 0x02, 0x80],
        };
        assert!(
            join_tx(&parts, CHAIN_ID).is_err(),
            "legacy without protected bit"
        );
        let trailing = TxParts {
            data: vec![0x02, 0xc0, 0x00],
            ..parts
        };
        assert!(join_tx(&trailing, CHAIN_ID).is_err());
    }
}
