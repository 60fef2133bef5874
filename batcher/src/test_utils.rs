//! Shared fixtures for unit tests: transactions of every allowed type and a few blocks.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEip2930, TxEip7702, TxEnvelope, TxLegacy};
use alloy_eips::{
    Encodable2718,
    eip2930::{AccessList, AccessListItem},
    eip7702::Authorization,
};
use alloy_primitives::{Address, B256, Bytes, Signature, TxKind, U256};

use crate::{SingularBatch, SpanBatchParams};

pub(crate) const CHAIN_ID: u64 = 8453;

pub(crate) const PARAMS: SpanBatchParams = SpanBatchParams {
    genesis_timestamp: 1_700_000_000,
    block_time: 2,
    chain_id: CHAIN_ID,
};

fn sig(seed: u64, i: u64) -> Signature {
    let r = U256::from(seed.wrapping_mul(1_000_003).wrapping_add(i + 1)) << 128;
    Signature::new(
        r | U256::from(7 + i),
        U256::from(seed + i + 99) << 64,
        (seed + i).is_multiple_of(2),
    )
}

fn encode(tx: impl Into<TxEnvelope>) -> Bytes {
    tx.into().encoded_2718().into()
}

fn access_list(seed: u64) -> AccessList {
    AccessList(vec![AccessListItem {
        address: Address::repeat_byte(seed as u8),
        storage_keys: vec![B256::repeat_byte(1), B256::with_last_byte(seed as u8)],
    }])
}

/// Six transactions: protected legacy, unprotected legacy creation, 2930, 1559 creation,
/// 7702, and a protected legacy with large values. Protected bits: `[true, false, true]`.
pub(crate) fn all_tx_types(seed: u64) -> Vec<Bytes> {
    let to = TxKind::Call(Address::repeat_byte(0xaa ^ seed as u8));
    let input = Bytes::from(vec![seed as u8; 3 + seed as usize % 5]);
    let legacy = |chain_id, to, value: U256, i| {
        let tx = TxLegacy {
            chain_id,
            nonce: seed + i,
            gas_price: 1_000_000_007,
            gas_limit: 21_000 + i,
            to,
            value,
            input: input.clone(),
        };
        encode(tx.into_signed(sig(seed, i)))
    };
    let auth = Authorization {
        chain_id: U256::from(CHAIN_ID),
        address: Address::repeat_byte(0x77),
        nonce: seed,
    };
    vec![
        legacy(Some(CHAIN_ID), to, U256::from(5), 0),
        legacy(None, TxKind::Create, U256::ZERO, 1),
        encode(
            TxEip2930 {
                chain_id: CHAIN_ID,
                nonce: seed,
                gas_price: 3,
                gas_limit: 50_000,
                to,
                value: U256::from(1),
                access_list: access_list(seed),
                input: input.clone(),
            }
            .into_signed(sig(seed, 2)),
        ),
        encode(
            TxEip1559 {
                chain_id: CHAIN_ID,
                nonce: seed + 3,
                gas_limit: 1_000_000,
                max_fee_per_gas: 2_000_000_000,
                max_priority_fee_per_gas: 1_000,
                to: TxKind::Create,
                value: U256::ZERO,
                access_list: AccessList::default(),
                input: input.clone(),
            }
            .into_signed(sig(seed, 3)),
        ),
        encode(
            TxEip7702 {
                chain_id: CHAIN_ID,
                nonce: seed + 4,
                gas_limit: 100_000,
                max_fee_per_gas: 10,
                max_priority_fee_per_gas: 1,
                to: Address::repeat_byte(0x42),
                value: U256::from(9),
                access_list: access_list(seed + 1),
                authorization_list: vec![auth.into_signed(sig(seed, 9))],
                input: input.clone(),
            }
            .into_signed(sig(seed, 4)),
        ),
        legacy(Some(CHAIN_ID), to, U256::MAX >> 8, 5),
    ]
}

/// Four consecutive blocks over two epochs (the second block is empty).
pub(crate) fn sample_batches() -> Vec<SingularBatch> {
    let epochs = [(100u64, 0x10u8), (100, 0x10), (101, 0x11), (101, 0x11)];
    epochs
        .iter()
        .enumerate()
        .map(|(i, &(epoch_num, epoch_byte))| SingularBatch {
            parent_hash: B256::repeat_byte(0xf0 + i as u8),
            epoch_num,
            epoch_hash: B256::repeat_byte(epoch_byte),
            timestamp: PARAMS.genesis_timestamp + 1_000 + 2 * i as u64,
            transactions: if i == 1 {
                Vec::new()
            } else {
                all_tx_types(i as u64 + 1)
            },
        })
        .collect()
}
