//! Transactions: sender recovery, intrinsic gas, and the op-revm form of a transaction.

use crate::{EngineError, EngineResult, RecoveredTx, messages};
use alloy_consensus::{Transaction as _, transaction::SignerRecoverable};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, TxKind, keccak256};
use op_alloy_consensus::OpTxEnvelope;
use op_revm::{OpSpecId, OpTransaction, transaction::deposit::DepositTransactionParts};
use revm::{
    context::{TxEnv, either::Either},
    context_interface::cfg::gas::calculate_initial_tx_gas_for_tx,
};

/// Recovers the sender of `tx` from its signature (deposits carry their sender) and
/// computes its hash.
///
/// Fails with geth's `invalid sender` for a signature that does not recover (including
/// high-`s` signatures, EIP-2), and with `transaction type not supported` for types the
/// engine does not execute.
pub fn recover(tx: OpTxEnvelope) -> EngineResult<RecoveredTx> {
    if tx.is_post_exec() {
        return Err(EngineError::InvalidTransaction(
            messages::TX_TYPE_NOT_SUPPORTED.into(),
        ));
    }
    let sender = tx
        .recover_signer()
        .map_err(|e| EngineError::InvalidSignature(e.to_string()))?;
    let hash = keccak256(tx.encoded_2718());
    Ok(RecoveredTx { tx, sender, hash })
}

/// The intrinsic gas of `tx` under `spec`: what it costs before any code runs (base cost,
/// calldata, contract creation, access list, EIP-7702 authorizations). A transaction whose
/// gas limit is below it fails with geth's `intrinsic gas too low`.
pub fn intrinsic_gas(tx: &OpTxEnvelope, spec: OpSpecId) -> u64 {
    initial_gas(tx, spec).initial_total_gas
}

/// The EIP-7623 calldata floor of `tx` under `spec` (zero before Isthmus/Prague): the least
/// gas it is charged. A gas limit below it fails with geth's
/// `insufficient gas for floor data gas cost`.
pub fn floor_data_gas(tx: &OpTxEnvelope, spec: OpSpecId) -> u64 {
    if spec.is_enabled_in(OpSpecId::ISTHMUS) {
        initial_gas(tx, spec).floor_gas
    } else {
        0
    }
}

/// Checks the gas limit of `tx` against its intrinsic gas and calldata floor, with geth's
/// messages, as a mempool does before accepting it.
pub fn check_intrinsic_gas(tx: &OpTxEnvelope, spec: OpSpecId) -> EngineResult<()> {
    let gas_limit = tx.gas_limit();
    let intrinsic = intrinsic_gas(tx, spec);
    if gas_limit < intrinsic {
        return Err(EngineError::InvalidTransaction(format!(
            "intrinsic gas too low: have {gas_limit}, want {intrinsic}"
        )));
    }
    let floor = floor_data_gas(tx, spec);
    if gas_limit < floor {
        return Err(EngineError::InvalidTransaction(format!(
            "insufficient gas for floor data gas cost: have {gas_limit}, want {floor}"
        )));
    }
    Ok(())
}

/// revm's intrinsic and floor gas of `tx`.
fn initial_gas(
    tx: &OpTxEnvelope,
    spec: OpSpecId,
) -> revm::context_interface::cfg::gas::InitialAndFloorGas {
    let op_tx = op_transaction(tx, Address::ZERO, Bytes::new());
    calculate_initial_tx_gas_for_tx(&op_tx, spec.into_eth_spec())
}

/// The op-revm transaction of a recovered transaction.
pub(crate) fn to_op_tx(tx: &RecoveredTx) -> OpTransaction<TxEnv> {
    op_transaction(&tx.tx, tx.sender, tx.tx.encoded_2718().into())
}

/// The op-revm transaction of `tx` sent by `caller`, with `enveloped` as the encoded bytes
/// op-revm prices the L1 data fee of.
fn op_transaction(tx: &OpTxEnvelope, caller: Address, enveloped: Bytes) -> OpTransaction<TxEnv> {
    let mut base = base_tx_env(tx, caller);
    let mut deposit = DepositTransactionParts::default();
    if let OpTxEnvelope::Deposit(d) = tx {
        base.gas_price = 0;
        base.gas_priority_fee = None;
        base.nonce = 0;
        deposit = DepositTransactionParts {
            source_hash: d.source_hash,
            mint: Some(d.mint),
            is_system_transaction: d.is_system_transaction,
        };
    }
    OpTransaction {
        base,
        enveloped_tx: Some(enveloped),
        deposit,
    }
}

/// The fields every transaction type shares, as revm takes them.
fn base_tx_env(tx: &OpTxEnvelope, caller: Address) -> TxEnv {
    let authorization_list = tx
        .authorization_list()
        .map(|list| list.iter().cloned().map(Either::Left).collect())
        .unwrap_or_default();
    TxEnv {
        tx_type: tx.tx_type() as u8,
        caller,
        gas_limit: tx.gas_limit(),
        gas_price: tx.max_fee_per_gas(),
        kind: tx.kind(),
        value: tx.value(),
        data: tx.input().clone(),
        nonce: tx.nonce(),
        chain_id: tx.chain_id(),
        access_list: tx.access_list().cloned().unwrap_or_default(),
        gas_priority_fee: tx.max_priority_fee_per_gas(),
        blob_hashes: Vec::new(),
        max_fee_per_blob_gas: 0,
        authorization_list,
    }
}

/// The address a contract-creating transaction deploys to, given the sender's nonce
/// before the transaction.
pub(crate) fn create_address(tx: &RecoveredTx, nonce_before: u64) -> Option<Address> {
    match tx.tx.kind() {
        TxKind::Create => Some(tx.sender.create(nonce_before)),
        TxKind::Call(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_utils::{Wallet, legacy_transfer};
    use alloy_consensus::{Signed, TxEip1559, TxLegacy};
    use alloy_primitives::{Signature, U256};

    #[test]
    fn recovers_sender_and_hash() {
        let wallet = Wallet::new(1);
        let tx = legacy_transfer(&wallet, 0, Address::repeat_byte(2), U256::from(1), 901_337);
        let hash = *tx.hash();
        let recovered = recover(tx).unwrap();
        assert_eq!(recovered.sender, wallet.address);
        assert_eq!(recovered.hash, hash);
    }

    #[test]
    fn rejects_bad_signatures() {
        let sig = Signature::new(U256::ZERO, U256::ZERO, false);
        let tx = OpTxEnvelope::Legacy(Signed::new_unhashed(TxLegacy::default(), sig));
        assert!(matches!(recover(tx), Err(EngineError::InvalidSignature(_))));
    }

    #[test]
    fn intrinsic_gas_of_transfer_call_and_create() {
        let sig = Signature::new(U256::from(1), U256::from(1), false);
        let transfer = TxEip1559 {
            to: TxKind::Call(Address::ZERO),
            gas_limit: 21_000,
            ..Default::default()
        };
        let envelope = OpTxEnvelope::Eip1559(Signed::new_unhashed(transfer.clone(), sig));
        assert_eq!(intrinsic_gas(&envelope, OpSpecId::JOVIAN), 21_000);
        check_intrinsic_gas(&envelope, OpSpecId::JOVIAN).unwrap();

        let call = TxEip1559 {
            input: vec![0, 1].into(),
            gas_limit: 21_019,
            ..transfer.clone()
        };
        let envelope = OpTxEnvelope::Eip1559(Signed::new_unhashed(call, sig));
        assert_eq!(intrinsic_gas(&envelope, OpSpecId::JOVIAN), 21_000 + 4 + 16);
        let err = check_intrinsic_gas(&envelope, OpSpecId::JOVIAN).unwrap_err();
        assert_eq!(
            err.to_string(),
            "intrinsic gas too low: have 21019, want 21020"
        );

        let create = TxEip1559 {
            to: TxKind::Create,
            input: vec![0; 32].into(),
            ..transfer
        };
        let envelope = OpTxEnvelope::Eip1559(Signed::new_unhashed(create, sig));
        // 53000 base + 32 zero bytes * 4 + one initcode word * 2.
        assert_eq!(intrinsic_gas(&envelope, OpSpecId::JOVIAN), 53_000 + 128 + 2);
    }

    #[test]
    fn floor_gas_applies_from_isthmus() {
        let sig = Signature::new(U256::from(1), U256::from(1), false);
        let tx = TxEip1559 {
            to: TxKind::Call(Address::ZERO),
            input: vec![1; 100].into(),
            gas_limit: 22_700,
            ..Default::default()
        };
        let envelope = OpTxEnvelope::Eip1559(Signed::new_unhashed(tx, sig));
        // EIP-7623: 21000 + 10 * tokens (400).
        assert_eq!(floor_data_gas(&envelope, OpSpecId::JOVIAN), 25_000);
        assert_eq!(floor_data_gas(&envelope, OpSpecId::HOLOCENE), 0);
        let err = check_intrinsic_gas(&envelope, OpSpecId::JOVIAN).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("insufficient gas for floor data gas cost")
        );
        check_intrinsic_gas(&envelope, OpSpecId::HOLOCENE).unwrap();
    }
}
