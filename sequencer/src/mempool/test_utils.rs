//! Signed transactions and an in-memory state for the pool's tests.

use super::{MempoolConfig, PoolContext, validate::PoolTx};
use alloy::signers::{SignerSync, local::PrivateKeySigner};
use alloy_consensus::{SignableTransaction, Signed, TxEip1559, TxLegacy};
use alloy_primitives::{Address, B256, Bytes, Signature, TxKind, U256};
use altius_state::{Account, StateError, StateProvider, StateResult};
use op_alloy_consensus::OpTxEnvelope;
use parking_lot::Mutex;
use std::collections::HashMap;

/// Chain id of the tests.
pub(crate) const CHAIN_ID: u64 = 10;
/// Block gas limit of the tests.
pub(crate) const BLOCK_GAS_LIMIT: u64 = 30_000_000;
/// Base fee of the tests' next block.
pub(crate) const BASE_FEE: u64 = 1;

/// The tests' chain values.
pub(crate) fn ctx() -> PoolContext {
    PoolContext {
        chain_id: CHAIN_ID,
        block_gas_limit: BLOCK_GAS_LIMIT,
        base_fee: BASE_FEE,
    }
}

/// A deterministic key.
pub(crate) fn key(n: u8) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&B256::repeat_byte(n)).expect("valid key")
}

/// An unsigned EIP-1559 transfer of 21000 gas.
pub(crate) fn tx1559(nonce: u64, max_fee: u128, tip: u128) -> TxEip1559 {
    TxEip1559 {
        chain_id: CHAIN_ID,
        nonce,
        gas_limit: 21_000,
        max_fee_per_gas: max_fee,
        max_priority_fee_per_gas: tip,
        to: TxKind::Call(Address::repeat_byte(0xaa)),
        value: U256::ZERO,
        access_list: Default::default(),
        input: Bytes::new(),
    }
}

/// Signs `tx` with `signer`.
pub(crate) fn sign<T>(signer: &PrivateKeySigner, tx: T) -> OpTxEnvelope
where
    T: SignableTransaction<Signature>,
    Signed<T>: Into<OpTxEnvelope>,
{
    let sig = signer
        .sign_hash_sync(&tx.signature_hash())
        .expect("signing");
    tx.into_signed(sig).into()
}

/// A signed EIP-1559 transfer.
pub(crate) fn eip1559(signer: &PrivateKeySigner, nonce: u64, fee: u128, tip: u128) -> OpTxEnvelope {
    sign(signer, tx1559(nonce, fee, tip))
}

/// A signed legacy transfer, EIP-155 protected when `chain_id` is set.
pub(crate) fn legacy(
    signer: &PrivateKeySigner,
    nonce: u64,
    gas_price: u128,
    chain_id: Option<u64>,
) -> OpTxEnvelope {
    let tx = TxLegacy {
        chain_id,
        nonce,
        gas_price,
        gas_limit: 21_000,
        to: TxKind::Call(Address::repeat_byte(0xaa)),
        value: U256::ZERO,
        input: Bytes::new(),
    };
    sign(signer, tx)
}

/// A validated EIP-1559 transfer as the pool stores it.
pub(crate) fn pool_tx(signer: &PrivateKeySigner, nonce: u64, fee: u128, tip: u128) -> PoolTx {
    let config = MempoolConfig {
        max_account_slots: usize::MAX,
        ..Default::default()
    };
    super::validate::validate_stateless(eip1559(signer, nonce, fee, tip), &config, &ctx())
        .expect("valid test transaction")
}

/// A state with accounts set by the test; reads of `broken` addresses fail.
#[derive(Debug, Default)]
pub(crate) struct MemState {
    accounts: Mutex<HashMap<Address, Account>>,
    broken: Mutex<Vec<Address>>,
}

impl MemState {
    /// Sets the nonce and balance of `address`.
    pub(crate) fn set(&self, address: Address, nonce: u64, balance: u128) {
        let account = Account {
            nonce,
            balance: U256::from(balance),
            ..Default::default()
        };
        self.accounts.lock().insert(address, account);
    }

    /// A state in which each of `signers` has nonce 0 and a large balance.
    pub(crate) fn funded(signers: &[&PrivateKeySigner]) -> Self {
        let state = Self::default();
        for signer in signers {
            state.set(signer.address(), 0, 1_000_000_000_000_000_000);
        }
        state
    }

    /// Makes reads of `address` fail.
    pub(crate) fn break_account(&self, address: Address) {
        self.broken.lock().push(address);
    }
}

impl StateProvider for MemState {
    fn account(&self, address: Address) -> StateResult<Option<Account>> {
        if self.broken.lock().contains(&address) {
            return Err(StateError::Database("unreadable".into()));
        }
        Ok(self.accounts.lock().get(&address).copied())
    }

    fn storage(&self, _: Address, _: U256) -> StateResult<U256> {
        Ok(U256::ZERO)
    }

    fn code_by_hash(&self, _: B256) -> StateResult<Option<Bytes>> {
        Ok(None)
    }
}
