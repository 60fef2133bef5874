//! Tests of [`SequentialExecutor`]: fees, receipts, rejections and state changes.

use super::*;
use crate::{FeeVaults, L1_BLOCK, PREDEPLOY_CODE, test_utils::*};
use alloy_consensus::TxReceipt;
use alloy_primitives::{Address, B256, KECCAK256_EMPTY, TxKind, U256, keccak256};
use op_alloy_consensus::OpReceiptEnvelope;

#[test]
fn transfer_pays_value_base_fee_and_tip_to_the_right_vaults() {
    let (alice, bob) = alice_bob();
    let mut state = dev_state(&[]);
    let before = state.clone();
    let out = build(&state, vec![transfer(&alice, 0, bob.address, ONE_ETH)]);
    assert!(out.rejected.is_empty());
    assert_eq!(out.gas_used, 21_000);
    let executed = &out.txs[0];
    assert_eq!(executed.gas_used, 21_000);
    assert_eq!(executed.effective_gas_price, u128::from(BASE_FEE + TIP));
    assert!(matches!(executed.receipt, OpReceiptEnvelope::Eip1559(_)));
    assert!(executed.receipt.status());
    assert_eq!(executed.receipt.cumulative_gas_used(), 21_000);
    assert_eq!(executed.contract_address, None);

    state.apply(&out.changes);
    let vaults = FeeVaults::OP_STACK;
    let fee = U256::from(21_000 * (BASE_FEE + TIP));
    assert_eq!(
        state.balance(alice.address),
        before.balance(alice.address) - U256::from(ONE_ETH) - fee
    );
    assert_eq!(
        state.balance(bob.address),
        before.balance(bob.address) + U256::from(ONE_ETH)
    );
    assert_eq!(state.nonce(alice.address), 1);
    assert_eq!(
        state.balance(vaults.base_fee),
        U256::from(21_000 * BASE_FEE)
    );
    assert_eq!(state.balance(vaults.sequencer), U256::from(21_000 * TIP));
    // No L1 attributes in the L1Block predeploy: no L1 data fee, no operator fee.
    assert_eq!(state.balance(vaults.l1_fee), U256::ZERO);
    assert_eq!(state.balance(vaults.operator_fee), U256::ZERO);
    assert!(
        state.accounts.contains_key(&vaults.l1_fee),
        "touched predeploys are not deleted"
    );
    assert!(
        !out.changes.accounts.contains_key(&vaults.l1_fee),
        "unchanged accounts are left out"
    );
    assert_eq!(out.changes.accounts.len(), 4);
}

#[test]
fn deploy_and_call_emits_log_and_stores() {
    let (alice, _) = alice_bob();
    let state = dev_state(&[]);
    let create = eip1559(
        &alice,
        0,
        TxKind::Create,
        U256::ZERO,
        deploy_code(&LOG_AND_STORE),
        200_000,
    );
    let contract = alice.address.create(0);
    let call = eip1559(
        &alice,
        1,
        TxKind::Call(contract),
        U256::ZERO,
        word(7),
        100_000,
    );
    let out = build(&state, vec![create, call]);
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    assert_eq!(out.txs[0].contract_address, Some(contract));
    assert!(out.txs[0].receipt.status());

    let receipt = &out.txs[1].receipt;
    assert!(receipt.status());
    assert_eq!(receipt.cumulative_gas_used(), out.gas_used);
    assert_eq!(out.gas_used, out.txs[0].gas_used + out.txs[1].gas_used);
    let logs = receipt.logs();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].address, contract);
    assert_eq!(logs[0].topics(), &[B256::from(U256::from(0xaa))]);
    assert_eq!(logs[0].data.data, word(42));
    assert!(
        receipt
            .bloom()
            .contains_input(alloy_primitives::BloomInput::Raw(contract.as_slice()))
    );

    let update = &out.changes.accounts[&contract];
    let account = update.account.unwrap();
    assert_eq!(account.code_hash, keccak256(LOG_AND_STORE));
    assert_eq!(account.nonce, 1);
    assert_eq!(update.storage[&U256::ZERO], U256::from(7));
    assert!(!update.wipe_storage, "a new account has no storage to wipe");
    assert_eq!(
        out.changes.code[&keccak256(LOG_AND_STORE)].as_ref(),
        &LOG_AND_STORE
    );
}

#[test]
fn reverting_tx_has_status_zero_and_pays_gas() {
    let (alice, _) = alice_bob();
    let state = dev_state(&[]);
    // The predeploy code reverts on any calldata.
    let call = eip1559(
        &alice,
        0,
        TxKind::Call(L1_BLOCK),
        U256::ZERO,
        vec![1, 2, 3, 4].into(),
        50_000,
    );
    let out = build(&state, vec![call]);
    let executed = &out.txs[0];
    assert!(!executed.receipt.status());
    assert!(executed.receipt.logs().is_empty());
    // 21064 intrinsic + 22 execution, raised to the EIP-7623 floor 21000 + 10 * 16 tokens.
    assert_eq!(executed.gas_used, 21_160);
    let mut after = state.clone();
    after.apply(&out.changes);
    assert_eq!(after.nonce(alice.address), 1);
    let fee = U256::from(21_160 * (BASE_FEE + TIP));
    assert_eq!(
        after.balance(alice.address),
        state.balance(alice.address) - fee
    );
    assert_eq!(
        after.accounts[&L1_BLOCK].code_hash,
        keccak256(PREDEPLOY_CODE)
    );
}

#[test]
fn build_mode_leaves_out_invalid_txs_untouched() {
    let (alice, bob) = alice_bob();
    let carol = Wallet::new(3);
    let state = dev_state(&[]);
    let cheap = alloy_consensus::TxEip1559 {
        chain_id: CHAIN_ID,
        gas_limit: 21_000,
        max_fee_per_gas: 1,
        max_priority_fee_per_gas: 1,
        to: TxKind::Call(alice.address),
        ..Default::default()
    };
    let cheap = crate::recover(op_alloy_consensus::OpTxEnvelope::Eip1559(
        bob.sign_tx(cheap),
    ))
    .unwrap();
    let txs = vec![
        transfer(&alice, 0, bob.address, 1),
        transfer(&alice, 5, bob.address, 1),
        transfer(&alice, 0, bob.address, 1),
        transfer(&carol, 0, bob.address, 1),
        cheap,
        transfer(&alice, 1, bob.address, 1),
    ];
    let hashes: Vec<_> = txs.iter().map(|t| t.hash).collect();
    let out = build(&state, txs);
    assert_eq!(out.txs.len(), 2);
    assert_eq!(out.gas_used, 42_000);
    let reasons: Vec<_> = out
        .rejected
        .iter()
        .map(|r| (r.hash, r.reason.as_str()))
        .collect();
    assert_eq!(reasons.len(), 4);
    assert_eq!(reasons[0].0, hashes[1]);
    assert!(
        reasons[0].1.starts_with("nonce too high: address"),
        "{}",
        reasons[0].1
    );
    assert!(
        reasons[1].1.starts_with("nonce too low: address"),
        "{}",
        reasons[1].1
    );
    assert!(
        reasons[2]
            .1
            .starts_with("insufficient funds for gas * price + value: address")
    );
    assert!(
        reasons[3]
            .1
            .starts_with("max fee per gas less than block base fee")
    );
    assert!(!out.changes.accounts.contains_key(&carol.address));
    assert_eq!(
        out.changes.accounts[&alice.address].account.unwrap().nonce,
        2
    );
    assert_eq!(out.txs[1].receipt.cumulative_gas_used(), 42_000);
}

#[test]
fn build_mode_stops_at_the_block_gas_limit() {
    let (alice, bob) = alice_bob();
    let state = dev_state(&[]);
    let env = BlockEnv {
        gas_limit: 50_000,
        ..block_env(1)
    };
    let txs = (0..3)
        .map(|n| transfer(&alice, n, bob.address, 1))
        .collect();
    let out = executor()
        .execute_block(&state, &env, txs, ExecutionMode::Build)
        .unwrap();
    assert_eq!(out.txs.len(), 2);
    assert_eq!(out.rejected[0].reason, "gas limit reached");
}

#[test]
fn validate_mode_fails_on_an_invalid_tx() {
    let (alice, bob) = alice_bob();
    let state = dev_state(&[]);
    let txs = vec![
        transfer(&alice, 0, bob.address, 1),
        transfer(&alice, 2, bob.address, 1),
    ];
    let bad = txs[1].hash;
    let err = executor()
        .execute_block(&state, &block_env(1), txs, ExecutionMode::Validate)
        .unwrap_err();
    match err {
        EngineError::InvalidBlockTransaction {
            index,
            hash,
            reason,
        } => {
            assert_eq!((index, hash), (1, bad));
            assert!(reason.starts_with("nonce too high"));
        }
        other => panic!("unexpected {other}"),
    }
    let ok = vec![transfer(&alice, 0, bob.address, 1)];
    let out = executor()
        .execute_block(&state, &block_env(1), ok, ExecutionMode::Validate)
        .unwrap();
    assert_eq!(out.txs.len(), 1);
}

#[test]
fn unchanged_slot_values_are_left_out() {
    let (alice, _) = alice_bob();
    let target = Address::repeat_byte(0xdd);
    let state = dev_state(&[(target, contract(&LOG_AND_STORE, &[(0, 5)]))]);
    let txs = vec![
        eip1559(
            &alice,
            0,
            TxKind::Call(target),
            U256::ZERO,
            word(7),
            100_000,
        ),
        eip1559(
            &alice,
            1,
            TxKind::Call(target),
            U256::ZERO,
            word(5),
            100_000,
        ),
        eip1559(
            &alice,
            2,
            TxKind::Call(target),
            U256::ZERO,
            word(0),
            100_000,
        ),
    ];
    let out = build(&state, txs[..2].to_vec());
    assert!(
        !out.changes.accounts.contains_key(&target),
        "slot back to its original value"
    );
    let out = build(&state, txs);
    let update = &out.changes.accounts[&target];
    assert_eq!(
        update.storage[&U256::ZERO],
        U256::ZERO,
        "zero deletes the slot"
    );
}

#[test]
fn execution_is_deterministic() {
    let (alice, bob) = alice_bob();
    let state = dev_state(&[]);
    let txs = vec![
        eip1559(
            &alice,
            0,
            TxKind::Create,
            U256::ZERO,
            deploy_code(&LOG_AND_STORE),
            200_000,
        ),
        transfer(&bob, 0, alice.address, 5),
        eip1559(
            &alice,
            1,
            TxKind::Call(alice.address.create(0)),
            U256::ZERO,
            word(1),
            100_000,
        ),
    ];
    let a = build(&state, txs.clone());
    let b = build(&state, txs);
    assert_eq!(a, b);
    let empty = build(&state, vec![]);
    assert!(empty.changes.is_empty() && empty.txs.is_empty());
    assert_eq!(state.accounts[&alice.address].code_hash, KECCAK256_EMPTY);
}
