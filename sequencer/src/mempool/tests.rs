//! Acceptance and rejection through the public API, one rule at a time.

use super::test_utils::*;
use super::*;
use alloy::signers::SignerSync;
use alloy_consensus::{SignableTransaction, Signed, TxEip4844, TxEip7702};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, Signature, U256};
use op_alloy_consensus::TxDeposit;

fn pool() -> Mempool {
    Mempool::new(MempoolConfig::default())
}

fn add(pool: &Mempool, state: &MemState, tx: OpTxEnvelope) -> Result<TxHash, PoolError> {
    pool.add(tx, state, &ctx())
}

#[test]
fn accepts_eip1559_and_legacy_raw() {
    let (pool, k) = (pool(), key(1));
    let state = MemState::funded(&[&k]);
    let typed = eip1559(&k, 0, 10, 1);
    let hash = pool.add_raw(&typed.encoded_2718(), &state, &ctx()).unwrap();
    assert_eq!(hash, typed.tx_hash());
    let legacy = legacy(&k, 1, 10, Some(CHAIN_ID));
    assert_eq!(
        pool.add_raw(&legacy.encoded_2718(), &state, &ctx()),
        Ok(legacy.tx_hash())
    );
    let got = pool.get(&hash).unwrap();
    assert_eq!((got.sender, got.hash), (k.address(), hash));
    assert!(pool.contains(&legacy.tx_hash()));
    assert_eq!(pool.status(), (2, 0));
}

#[test]
fn malformed_bytes_are_decode_errors() {
    let state = MemState::default();
    for raw in [
        &[][..],
        &[0x02][..],
        &[0x02, 0xc1, 0x80][..],
        &[0xf8, 0xff, 0x00][..],
    ] {
        let err = pool().add_raw(raw, &state, &ctx()).unwrap_err();
        assert!(matches!(err, PoolError::Decode(_)), "{raw:?}: {err}");
        assert_eq!(err.code(), -32000);
    }
}

#[test]
fn deposit_and_blob_rejected() {
    let state = MemState::default();
    let deposit = OpTxEnvelope::from(TxDeposit {
        gas_limit: 21_000,
        ..Default::default()
    });
    assert_eq!(
        add(&pool(), &state, deposit.clone()),
        Err(PoolError::TxTypeNotSupported)
    );
    let raw = deposit.encoded_2718();
    assert_eq!(
        pool().add_raw(&raw, &state, &ctx()),
        Err(PoolError::TxTypeNotSupported)
    );
    let blob = TxEip4844 {
        chain_id: CHAIN_ID,
        gas_limit: 21_000,
        ..Default::default()
    };
    let signed: Signed<TxEip4844> = blob.into_signed(Signature::test_signature());
    let raw = signed.encoded_2718();
    assert_eq!(raw[0], 3);
    let err = pool().add_raw(&raw, &state, &ctx()).unwrap_err();
    assert_eq!(err.to_string(), "transaction type not supported");
}

#[test]
fn wrong_chain_id_and_unprotected() {
    let k = key(1);
    let state = MemState::funded(&[&k]);
    let mut tx = tx1559(0, 10, 1);
    tx.chain_id = CHAIN_ID + 1;
    let err = add(&pool(), &state, sign(&k, tx)).unwrap_err();
    assert_eq!(err.to_string(), "invalid chain id");
    let err = add(&pool(), &state, legacy(&k, 0, 10, Some(1))).unwrap_err();
    assert_eq!(err, PoolError::InvalidChainId);
    let err = add(&pool(), &state, legacy(&k, 0, 10, None)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "only replay-protected (EIP-155) transactions allowed over RPC"
    );
}

#[test]
fn bad_signature_is_invalid_sender() {
    let state = MemState::default();
    let tx = tx1559(0, 10, 1);
    let zero_sig = Signature::new(U256::ZERO, U256::ZERO, false);
    let err = add(&pool(), &state, tx.clone().into_signed(zero_sig).into()).unwrap_err();
    assert_eq!(err.to_string(), "invalid sender");
    // A valid signature with high `s` (EIP-2 malleability) is refused too.
    let sig = key(1).sign_hash_sync(&tx.signature_hash()).unwrap();
    let n = U256::from_str_radix(
        "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141",
        16,
    )
    .unwrap();
    let high = Signature::new(sig.r(), n - sig.s(), !sig.v());
    let err = add(&pool(), &state, tx.into_signed(high).into()).unwrap_err();
    assert_eq!(err, PoolError::InvalidSender);
}

#[test]
fn oversized_data() {
    let k = key(1);
    let state = MemState::funded(&[&k]);
    let mut tx = tx1559(0, 10, 1);
    tx.input = Bytes::from(vec![0u8; 131_072]);
    tx.gas_limit = 5_000_000;
    let err = add(&pool(), &state, sign(&k, tx.clone())).unwrap_err();
    assert_eq!(err.to_string(), "oversized data");
    tx.input = Bytes::from(vec![0u8; 130_000]);
    assert!(add(&pool(), &state, sign(&k, tx)).is_ok());
}

#[test]
fn gas_rules() {
    let k = key(1);
    let state = MemState::funded(&[&k]);
    let mut tx = tx1559(0, 10, 1);
    tx.gas_limit = 20_000;
    let err = add(&pool(), &state, sign(&k, tx.clone())).unwrap_err();
    assert_eq!(err.to_string(), "intrinsic gas too low");
    tx.gas_limit = BLOCK_GAS_LIMIT + 1;
    let err = add(&pool(), &state, sign(&k, tx.clone())).unwrap_err();
    assert_eq!(err.to_string(), "exceeds block gas limit");
    tx.gas_limit = 21_000;
    tx.max_priority_fee_per_gas = 11;
    let err = add(&pool(), &state, sign(&k, tx)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "max priority fee per gas higher than max fee per gas"
    );
}

#[test]
fn eip7702_needs_authorizations() {
    let k = key(1);
    let state = MemState::funded(&[&k]);
    let tx = TxEip7702 {
        chain_id: CHAIN_ID,
        gas_limit: 100_000,
        max_fee_per_gas: 10,
        to: Address::repeat_byte(1),
        ..Default::default()
    };
    let err = add(&pool(), &state, sign(&k, tx)).unwrap_err();
    assert_eq!(err.to_string(), "EIP-7702 transaction with empty auth list");
}

#[test]
fn min_priority_fee() {
    let k = key(1);
    let state = MemState::funded(&[&k]);
    let pool = Mempool::new(MempoolConfig {
        min_priority_fee: 5,
        ..Default::default()
    });
    let err = add(&pool, &state, eip1559(&k, 0, 10, 4)).unwrap_err();
    assert_eq!(err.to_string(), "transaction underpriced");
    assert!(add(&pool, &state, eip1559(&k, 0, 10, 5)).is_ok());
    assert_eq!(
        add(&pool, &state, legacy(&k, 1, 4, Some(CHAIN_ID))),
        Err(PoolError::Underpriced)
    );
}

#[test]
fn nonce_too_low_and_insufficient_funds() {
    let k = key(1);
    let state = MemState::default();
    state.set(k.address(), 3, 21_000 * 10);
    let err = add(&pool(), &state, eip1559(&k, 2, 10, 1)).unwrap_err();
    assert_eq!(err.to_string(), "nonce too low");
    assert!(add(&pool(), &state, eip1559(&k, 3, 10, 1)).is_ok());
    let err = add(&pool(), &state, eip1559(&k, 3, 11, 1)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "insufficient funds for gas * price + value"
    );
    let mut tx = tx1559(3, 10, 1);
    tx.value = U256::from(1);
    assert_eq!(
        add(&pool(), &state, sign(&k, tx)),
        Err(PoolError::InsufficientFunds)
    );
    let stranger = key(9);
    let err = add(&pool(), &state, eip1559(&stranger, 0, 10, 1)).unwrap_err();
    assert_eq!(err, PoolError::InsufficientFunds);
}

#[test]
fn unreadable_state_is_internal_error() {
    let k = key(1);
    let state = MemState::funded(&[&k]);
    state.break_account(k.address());
    let err = add(&pool(), &state, eip1559(&k, 0, 10, 1)).unwrap_err();
    assert!(matches!(err, PoolError::State(_)));
    assert_eq!(err.code(), -32603);
}

#[test]
fn already_known() {
    let (pool, k) = (pool(), key(1));
    let state = MemState::funded(&[&k]);
    let tx = eip1559(&k, 0, 10, 1);
    add(&pool, &state, tx.clone()).unwrap();
    let err = add(&pool, &state, tx).unwrap_err();
    assert_eq!(err.to_string(), "already known");
}

#[test]
fn replacement_needs_the_price_bump() {
    let (pool, k) = (pool(), key(1));
    let state = MemState::funded(&[&k]);
    let old = add(&pool, &state, eip1559(&k, 0, 100, 10)).unwrap();
    let err = add(&pool, &state, eip1559(&k, 0, 109, 11)).unwrap_err();
    assert_eq!(err.to_string(), "replacement transaction underpriced");
    assert_eq!(
        add(&pool, &state, eip1559(&k, 0, 200, 10)),
        Err(PoolError::ReplaceUnderpriced)
    );
    let new = add(&pool, &state, eip1559(&k, 0, 110, 11)).unwrap();
    assert!(!pool.contains(&old));
    assert!(pool.contains(&new));
    assert_eq!(pool.status(), (1, 0));
}

#[test]
fn replacement_still_checks_funds() {
    let (pool, k) = (pool(), key(1));
    let state = MemState::default();
    state.set(k.address(), 0, 21_000 * 100);
    add(&pool, &state, eip1559(&k, 0, 90, 10)).unwrap();
    let err = add(&pool, &state, eip1559(&k, 0, 200, 20)).unwrap_err();
    assert_eq!(err, PoolError::InsufficientFunds);
}

#[test]
fn subscribe_announces_accepted_only() {
    let (pool, k) = (pool(), key(1));
    let state = MemState::funded(&[&k]);
    let mut rx = pool.subscribe();
    let hash = add(&pool, &state, eip1559(&k, 0, 10, 1)).unwrap();
    let _ = add(&pool, &state, eip1559(&k, 0, 10, 1));
    assert_eq!(rx.try_recv(), Ok(hash));
    assert!(rx.try_recv().is_err());
}

#[test]
fn pool_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Mempool>();
}
