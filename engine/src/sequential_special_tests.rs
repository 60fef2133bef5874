//! Tests of [`SequentialExecutor`] on OP and EIP specifics: SELFDESTRUCT, EIP-7702,
//! deposits, BLOCKHASH, the L1 data fee and the predeploys.

use super::*;
use crate::{FeeVaults, Genesis, Hardfork, L1_BLOCK, PREDEPLOY_CODE, test_utils::*};
use alloy_consensus::Typed2718;
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, keccak256};
use op_alloy_consensus::OpReceiptEnvelope;

#[test]
fn selfdestruct_in_the_creating_tx_leaves_no_account() {
    let (alice, bob) = alice_bob();
    let state = dev_state(&[]);
    let create = eip1559(
        &alice,
        0,
        TxKind::Create,
        U256::from(5),
        selfdestruct_to(bob.address).into(),
        100_000,
    );
    let out = build(&state, vec![create]);
    let contract = alice.address.create(0);
    assert!(out.txs[0].receipt.status());
    assert!(
        !out.changes.accounts.contains_key(&contract),
        "created and destroyed in one tx"
    );
    let bob_after = out.changes.accounts[&bob.address].account.unwrap();
    assert_eq!(
        bob_after.balance,
        state.balance(bob.address) + U256::from(5)
    );
}

#[test]
fn selfdestruct_later_keeps_the_account_since_cancun() {
    let (alice, bob) = alice_bob();
    let target = Address::repeat_byte(0xcc);
    let code = selfdestruct_to(bob.address);
    let state = dev_state(&[(
        target,
        GenesisAccountExt::funded(contract(&code, &[(1, 1)]), 9),
    )]);
    let call = eip1559(
        &alice,
        0,
        TxKind::Call(target),
        U256::ZERO,
        Bytes::new(),
        50_000,
    );
    let out = build(&state, vec![call]);
    let bob_after = out.changes.accounts[&bob.address].account.unwrap();
    assert_eq!(
        bob_after.balance,
        state.balance(bob.address) + U256::from(9)
    );
    let update = &out.changes.accounts[&target];
    let account = update.account.unwrap();
    assert_eq!(account.balance, U256::ZERO);
    assert_eq!(account.code_hash, keccak256(&code));
    assert!(update.storage.is_empty() && !update.wipe_storage);
}

#[test]
fn selfdestruct_before_cancun_deletes_account_and_storage() {
    let (alice, bob) = alice_bob();
    let target = Address::repeat_byte(0xcc);
    let state = dev_state(&[(target, contract(&selfdestruct_to(bob.address), &[(1, 1)]))]);
    let chain = ChainSpec {
        hardfork: Hardfork::Canyon,
        ..Default::default()
    };
    let call = eip1559(
        &alice,
        0,
        TxKind::Call(target),
        U256::ZERO,
        Bytes::new(),
        50_000,
    );
    let out = SequentialExecutor::new(chain)
        .execute_block(&state, &block_env(1), vec![call], ExecutionMode::Validate)
        .unwrap();
    let update = &out.changes.accounts[&target];
    assert_eq!(update.account, None);
    assert!(update.wipe_storage);
    assert!(state.storage.contains_key(&(target, U256::from(1))));
    let mut after = state;
    after.apply(&out.changes);
    assert!(!after.accounts.contains_key(&target));
    assert!(!after.storage.keys().any(|(a, _)| *a == target));
}

#[test]
fn eip7702_delegation_runs_delegate_code_in_the_authority() {
    let (alice, bob) = alice_bob();
    let delegate = Address::repeat_byte(0xde);
    let state = dev_state(&[(delegate, contract(&LOG_AND_STORE, &[]))]);
    let auth = alloy_eips::eip7702::Authorization {
        chain_id: U256::from(CHAIN_ID),
        address: delegate,
        nonce: 0,
    };
    let signature = alice.sign(auth.signature_hash());
    let tx = alloy_consensus::TxEip7702 {
        chain_id: CHAIN_ID,
        nonce: 0,
        gas_limit: 200_000,
        max_fee_per_gas: u128::from(BASE_FEE) * 2,
        max_priority_fee_per_gas: u128::from(TIP),
        to: alice.address,
        value: U256::ZERO,
        access_list: Default::default(),
        authorization_list: vec![auth.into_signed(signature)],
        input: word(3),
    };
    let tx = crate::recover(op_alloy_consensus::OpTxEnvelope::Eip7702(bob.sign_tx(tx))).unwrap();
    let out = build(&state, vec![tx]);
    let executed = &out.txs[0];
    assert!(matches!(executed.receipt, OpReceiptEnvelope::Eip7702(_)));
    assert!(executed.receipt.status());
    assert_eq!(executed.receipt.logs()[0].address, alice.address);
    let update = &out.changes.accounts[&alice.address];
    let designator = [&[0xef, 0x01, 0x00][..], delegate.as_slice()].concat();
    assert_eq!(update.account.unwrap().code_hash, keccak256(&designator));
    assert_eq!(update.account.unwrap().nonce, 1);
    assert_eq!(update.storage[&U256::ZERO], U256::from(3));
    assert_eq!(
        out.changes.code[&keccak256(&designator)].as_ref(),
        designator.as_slice()
    );
}

#[test]
fn deposit_executes_without_fees_and_records_its_nonce() {
    let (alice, bob) = alice_bob();
    let state = dev_state(&[]);
    let deposit = op_alloy_consensus::TxDeposit {
        source_hash: B256::repeat_byte(1),
        from: alice.address,
        to: TxKind::Call(bob.address),
        mint: 0,
        value: U256::from(9),
        gas_limit: 100_000,
        is_system_transaction: false,
        input: Bytes::new(),
    };
    let tx = crate::recover(deposit.into()).unwrap();
    assert_eq!(tx.sender, alice.address);
    let out = build(&state, vec![tx]);
    let executed = &out.txs[0];
    assert_eq!(executed.gas_used, 21_000);
    assert_eq!(executed.effective_gas_price, 0);
    assert_eq!(executed.receipt.ty(), 0x7e);
    let OpReceiptEnvelope::Deposit(receipt) = &executed.receipt else {
        panic!("deposit receipt")
    };
    assert_eq!(receipt.receipt.deposit_nonce, Some(0));
    assert_eq!(receipt.receipt.deposit_receipt_version, Some(1));
    let alice_after = out.changes.accounts[&alice.address].account.unwrap();
    assert_eq!(
        alice_after.balance,
        state.balance(alice.address) - U256::from(9)
    );
    assert_eq!(alice_after.nonce, 1);
    assert!(
        !out.changes
            .accounts
            .contains_key(&FeeVaults::OP_STACK.base_fee)
    );
}

#[derive(Debug)]
struct FixedHashes;

impl BlockHashes for FixedHashes {
    fn block_hash(&self, number: u64) -> EngineResult<Option<B256>> {
        Ok(Some(B256::from(U256::from(number + 1000))))
    }
}

#[test]
fn blockhash_reads_the_hash_source() {
    let (alice, _) = alice_bob();
    let target = Address::repeat_byte(0xbb);
    // sstore(0, blockhash(9))
    let code = [0x60, 0x09, 0x40, 0x60, 0x00, 0x55, 0x00];
    let state = dev_state(&[(target, contract(&code, &[]))]);
    let call = eip1559(
        &alice,
        0,
        TxKind::Call(target),
        U256::ZERO,
        Bytes::new(),
        100_000,
    );
    let exec = executor().with_block_hashes(Arc::new(FixedHashes));
    let out = exec
        .execute_block(
            &state,
            &block_env(10),
            vec![call.clone()],
            ExecutionMode::Build,
        )
        .unwrap();
    assert_eq!(
        out.changes.accounts[&target].storage[&U256::ZERO],
        U256::from(1009)
    );
    let out = executor()
        .execute_block(&state, &block_env(10), vec![call], ExecutionMode::Build)
        .unwrap();
    assert!(
        !out.changes.accounts.contains_key(&target),
        "no source: BLOCKHASH is zero"
    );
}

/// Genesis accounts with a balance on top.
trait GenesisAccountExt {
    fn funded(self, balance: u64) -> Self;
}

impl GenesisAccountExt for crate::GenesisAccount {
    fn funded(mut self, balance: u64) -> Self {
        self.balance = U256::from(balance);
        self
    }
}

#[test]
fn genesis_predeploys_accept_plain_transfers() {
    let (alice, _) = alice_bob();
    let state = MemState::from_genesis(&Genesis::dev(&[alice.address]));
    let call = eip1559(
        &alice,
        0,
        TxKind::Call(L1_BLOCK),
        U256::from(3),
        Bytes::new(),
        30_000,
    );
    let out = build(&state, vec![call]);
    assert!(out.txs[0].receipt.status());
    assert_eq!(
        out.changes.accounts[&L1_BLOCK].account.unwrap().balance,
        U256::from(3)
    );
}

#[test]
fn l1_fee_is_charged_once_l1block_holds_l1_values() {
    let (alice, bob) = alice_bob();
    // L1 base fee 1 gwei (slot 1); base fee scalar 1_000_000 at bytes 16..20 of slot 3.
    let scalars = U256::from(1_000_000u64) << 96;
    let mut l1_block = contract(&PREDEPLOY_CODE, &[(1, BASE_FEE)]);
    l1_block.storage.insert(U256::from(3), scalars);
    let state = dev_state(&[(L1_BLOCK, l1_block)]);
    let out = build(&state, vec![transfer(&alice, 0, bob.address, 1)]);
    let l1_fee = out.changes.accounts[&FeeVaults::OP_STACK.l1_fee]
        .account
        .unwrap()
        .balance;
    // Fjord: minimum estimated size 100 bytes * (l1 base fee * 16 * scalar) / 1e12.
    assert_eq!(
        l1_fee,
        U256::from(100u64 * BASE_FEE * 16 * 1_000_000 / 1_000_000)
    );
    let paid = state.balance(alice.address)
        - out.changes.accounts[&alice.address]
            .account
            .unwrap()
            .balance;
    assert_eq!(paid, U256::from(1 + 21_000 * (BASE_FEE + TIP)) + l1_fee);
}
