//! Decoding and validation of incoming transactions, in geth's order.

use super::{MempoolConfig, PoolContext, PoolError};
use alloy_consensus::{
    Transaction, TxLegacy,
    transaction::{RlpEcdsaDecodableTx, SignerRecoverable},
};
use alloy_eips::eip2718::{Decodable2718, Eip2718Result};
use alloy_primitives::U256;
use altius_engine::RecoveredTx;
use altius_state::Account;
use op_alloy_consensus::OpTxEnvelope;
use revm::context_interface::cfg::gas::calculate_initial_tx_gas;
use revm::primitives::{eip3860::MAX_INITCODE_SIZE, hardfork::SpecId};

/// Rules the intrinsic gas is computed with (Isthmus is Prague for the EVM).
const SPEC: SpecId = SpecId::PRAGUE;

/// A validated transaction with the values the pool ranks and re-checks it by.
#[derive(Clone, Debug)]
pub(super) struct PoolTx {
    /// The transaction and its sender.
    pub(super) tx: RecoveredTx,
    /// Its nonce.
    pub(super) nonce: u64,
    /// Its gas limit.
    pub(super) gas_limit: u64,
    /// Max fee per gas (the gas price for legacy and EIP-2930 transactions).
    pub(super) max_fee: u128,
    /// Max priority fee per gas (the gas price for legacy and EIP-2930 transactions).
    pub(super) max_priority: u128,
    /// Most it can cost its sender: `gas_limit * max_fee + value`.
    pub(super) cost: U256,
    /// Arrival order in the pool, set on insertion; breaks price ties.
    pub(super) seq: u64,
}

impl PoolTx {
    /// The tip per gas it pays at `base_fee`: `min(max_priority, max_fee - base_fee)`, or
    /// `None` while `max_fee < base_fee` (not executable).
    pub(super) fn effective_tip(&self, base_fee: u64) -> Option<u128> {
        let headroom = self.max_fee.checked_sub(u128::from(base_fee))?;
        Some(headroom.min(self.max_priority))
    }

    /// Ranks transactions for eviction: lower is evicted first. Non-executable transactions
    /// rank below all executable ones and among themselves by max fee.
    pub(super) fn price_rank(&self, base_fee: u64) -> (bool, u128) {
        match self.effective_tip(base_fee) {
            Some(tip) => (true, tip),
            None => (false, self.max_fee),
        }
    }

    /// Whether `account` (`None`: no account) can still pay for it.
    pub(super) fn affordable(&self, account: Option<&Account>) -> bool {
        account.map_or(U256::ZERO, |a| a.balance) >= self.cost
    }

    /// The transaction hash.
    pub(super) fn hash(&self) -> alloy_primitives::TxHash {
        self.tx.hash
    }
}

/// Type bytes of the transactions that decode as [`OpTxEnvelope`] and may be submitted
/// (deposits decode so that they can be refused by [`validate_stateless`]).
const DECODABLE_TYPES: [u8; 4] = [0x01, 0x02, 0x04, 0x7e];

/// geth's message for an empty or type-byte-only input.
const SHORT_TYPED_TX: &str = "typed transaction too short";

/// Decodes EIP-2718 bytes (or untyped legacy RLP) the way geth's `UnmarshalBinary` does,
/// with geth's messages.
pub(super) fn decode(raw: &[u8]) -> Result<OpTxEnvelope, PoolError> {
    match raw.first() {
        None => Err(PoolError::Decode(SHORT_TYPED_TX.into())),
        Some(&first) if first > 0x7f => decode_exact(raw, |buf| {
            Ok(OpTxEnvelope::Legacy(TxLegacy::rlp_decode_signed(buf)?))
        }),
        Some(_) if raw.len() == 1 => Err(PoolError::Decode(SHORT_TYPED_TX.into())),
        Some(ty) if !DECODABLE_TYPES.contains(ty) => Err(PoolError::TxTypeNotSupported),
        Some(_) => decode_exact(raw, OpTxEnvelope::decode_2718),
    }
}

/// Runs `decoder` on `raw` and requires it to consume every byte.
fn decode_exact(
    raw: &[u8],
    decoder: impl FnOnce(&mut &[u8]) -> Eip2718Result<OpTxEnvelope>,
) -> Result<OpTxEnvelope, PoolError> {
    let mut buf = raw;
    let tx = decoder(&mut buf).map_err(|err| PoolError::Decode(format!("rlp: {err}")))?;
    if !buf.is_empty() {
        return Err(PoolError::Decode(
            "rlp: input contains more than one value".into(),
        ));
    }
    Ok(tx)
}

/// Every check that needs neither the state nor the pool, ending with sender recovery.
pub(super) fn validate_stateless(
    tx: OpTxEnvelope,
    config: &MempoolConfig,
    ctx: &PoolContext,
) -> Result<PoolTx, PoolError> {
    check_envelope(&tx, config, ctx)?;
    let sender = tx.recover_signer().map_err(|_| PoolError::InvalidSender)?;
    check_gas(&tx)?;
    let max_priority = tx.priority_fee_or_price();
    if max_priority < u128::from(config.min_priority_fee) {
        return Err(PoolError::Underpriced);
    }
    let max_fee = tx.max_fee_per_gas();
    let gas_limit = tx.gas_limit();
    let cost = U256::from(gas_limit)
        .saturating_mul(U256::from(max_fee))
        .saturating_add(tx.value());
    let nonce = tx.nonce();
    let hash = tx.tx_hash();
    let tx = RecoveredTx { tx, sender, hash };
    Ok(PoolTx {
        tx,
        nonce,
        gas_limit,
        max_fee,
        max_priority,
        cost,
        seq: 0,
    })
}

/// Type, size, chain id, block gas limit and fee cap checks.
fn check_envelope(
    tx: &OpTxEnvelope,
    config: &MempoolConfig,
    ctx: &PoolContext,
) -> Result<(), PoolError> {
    if tx.is_deposit() || tx.is_post_exec() {
        return Err(PoolError::TxTypeNotSupported);
    }
    if tx.eip2718_encoded_length() > config.max_tx_bytes {
        return Err(PoolError::OversizedData);
    }
    match tx.chain_id() {
        None => return Err(PoolError::Unprotected),
        Some(id) if id != ctx.chain_id => return Err(PoolError::InvalidChainId),
        Some(_) => {}
    }
    if tx.gas_limit() > ctx.block_gas_limit {
        return Err(PoolError::GasLimit);
    }
    if tx.nonce() == u64::MAX {
        return Err(PoolError::NonceMax);
    }
    if tx.priority_fee_or_price() > tx.max_fee_per_gas() {
        return Err(PoolError::TipAboveFeeCap);
    }
    Ok(())
}

/// Init code size, EIP-7702 authorizations, intrinsic gas and the EIP-7623 floor.
fn check_gas(tx: &OpTxEnvelope) -> Result<(), PoolError> {
    let is_create = tx.is_create();
    if is_create && tx.input().len() > MAX_INITCODE_SIZE {
        return Err(PoolError::MaxInitCodeSizeExceeded);
    }
    let auths = tx.authorization_list().map(|list| list.len() as u64);
    if auths == Some(0) {
        return Err(PoolError::EmptyAuthList);
    }
    let (accounts, slots) = tx.access_list().map_or((0, 0), |list| {
        let slots: usize = list.iter().map(|item| item.storage_keys.len()).sum();
        (list.len() as u64, slots as u64)
    });
    let gas = calculate_initial_tx_gas(
        SPEC,
        tx.input(),
        is_create,
        accounts,
        slots,
        auths.unwrap_or(0),
    );
    if tx.gas_limit() < gas.initial_total_gas {
        return Err(PoolError::IntrinsicGas);
    }
    if tx.gas_limit() < gas.floor_gas {
        return Err(PoolError::FloorDataGas);
    }
    Ok(())
}

/// The checks against the sender's account: nonce and balance. Returns the account nonce.
pub(super) fn validate_account(tx: &PoolTx, account: Option<&Account>) -> Result<u64, PoolError> {
    let state_nonce = account.map_or(0, |a| a.nonce);
    if tx.nonce < state_nonce {
        return Err(PoolError::NonceTooLow);
    }
    if !tx.affordable(account) {
        return Err(PoolError::InsufficientFunds);
    }
    Ok(state_nonce)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mempool::test_utils::*;
    use alloy_eips::eip2718::Encodable2718;

    fn stateless(tx: OpTxEnvelope) -> Result<PoolTx, PoolError> {
        validate_stateless(tx, &MempoolConfig::default(), &ctx())
    }

    #[test]
    fn decodes_typed_and_legacy() {
        let typed = eip1559(&key(1), 0, 2, 1);
        assert_eq!(
            decode(&typed.encoded_2718()).unwrap().tx_hash(),
            typed.tx_hash()
        );
        let legacy = legacy(&key(1), 0, 2, Some(CHAIN_ID));
        assert_eq!(
            decode(&legacy.encoded_2718()).unwrap().tx_hash(),
            legacy.tx_hash()
        );
    }

    #[test]
    fn malformed_bytes() {
        let short = PoolError::Decode("typed transaction too short".into());
        assert_eq!(decode(&[]), Err(short.clone()));
        assert_eq!(decode(&[2]), Err(short));
        let Err(PoolError::Decode(msg)) = decode(&[0x02, 0xc0, 0x01]) else {
            panic!()
        };
        assert!(msg.starts_with("rlp: "), "{msg}");
        let Err(PoolError::Decode(msg)) = decode(&[0xf8, 0x01, 0x02]) else {
            panic!()
        };
        assert!(msg.starts_with("rlp: "), "{msg}");
        let trailing = PoolError::Decode("rlp: input contains more than one value".into());
        let mut raw = eip1559(&key(1), 0, 2, 1).encoded_2718();
        raw.push(0);
        assert_eq!(decode(&raw), Err(trailing.clone()));
        let mut raw = legacy(&key(1), 0, 2, Some(CHAIN_ID)).encoded_2718();
        raw.push(0);
        assert_eq!(decode(&raw), Err(trailing));
    }

    #[test]
    fn unsupported_type_bytes() {
        let mut raw = eip1559(&key(1), 0, 2, 1).encoded_2718();
        raw[0] = 3;
        assert_eq!(decode(&raw), Err(PoolError::TxTypeNotSupported));
        raw[0] = 0;
        assert_eq!(decode(&raw), Err(PoolError::TxTypeNotSupported));
        raw[0] = 0x05;
        assert_eq!(decode(&raw), Err(PoolError::TxTypeNotSupported));
    }

    #[test]
    fn intrinsic_gas_and_floor() {
        let k = key(1);
        let mut tx = tx1559(0, 2, 1);
        tx.gas_limit = 20_999;
        assert_eq!(
            stateless(sign(&k, tx.clone())).err(),
            Some(PoolError::IntrinsicGas)
        );
        tx.gas_limit = 21_000;
        assert!(stateless(sign(&k, tx.clone())).is_ok());
        // 1000 non-zero bytes: 21000 + 16000 intrinsic, floor 21000 + 40000.
        tx.input = vec![1u8; 1000].into();
        tx.gas_limit = 37_000;
        assert_eq!(
            stateless(sign(&k, tx.clone())).err(),
            Some(PoolError::FloorDataGas)
        );
        tx.gas_limit = 61_000;
        assert!(stateless(sign(&k, tx)).is_ok());
    }

    #[test]
    fn fee_and_gas_limit_rules() {
        let k = key(1);
        let mut tx = tx1559(0, 2, 3);
        assert_eq!(
            stateless(sign(&k, tx.clone())).err(),
            Some(PoolError::TipAboveFeeCap)
        );
        tx.max_priority_fee_per_gas = 1;
        tx.gas_limit = BLOCK_GAS_LIMIT + 1;
        assert_eq!(stateless(sign(&k, tx)).err(), Some(PoolError::GasLimit));
        let config = MempoolConfig {
            min_priority_fee: 2,
            ..Default::default()
        };
        let cheap = validate_stateless(eip1559(&k, 0, 5, 1), &config, &ctx());
        assert_eq!(cheap.err(), Some(PoolError::Underpriced));
    }

    #[test]
    fn create_with_big_init_code() {
        let mut tx = tx1559(0, 2, 1);
        tx.to = alloy_primitives::TxKind::Create;
        tx.input = vec![0u8; MAX_INITCODE_SIZE + 1].into();
        tx.gas_limit = 10_000_000;
        let err = stateless(sign(&key(1), tx)).err();
        assert_eq!(err, Some(PoolError::MaxInitCodeSizeExceeded));
    }

    #[test]
    fn account_checks() {
        let ptx = stateless(eip1559(&key(1), 3, 2, 1)).unwrap();
        let rich = Account {
            nonce: 3,
            balance: U256::MAX,
            ..Default::default()
        };
        assert_eq!(validate_account(&ptx, Some(&rich)), Ok(3));
        let ahead = Account { nonce: 4, ..rich };
        assert_eq!(
            validate_account(&ptx, Some(&ahead)),
            Err(PoolError::NonceTooLow)
        );
        let exact = Account {
            balance: ptx.cost,
            ..rich
        };
        assert_eq!(validate_account(&ptx, Some(&exact)), Ok(3));
        let poor = Account {
            balance: ptx.cost - U256::from(1),
            ..rich
        };
        assert_eq!(
            validate_account(&ptx, Some(&poor)),
            Err(PoolError::InsufficientFunds)
        );
        assert_eq!(
            validate_account(&ptx, None),
            Err(PoolError::InsufficientFunds)
        );
    }

    #[test]
    fn effective_tip_and_rank() {
        let ptx = stateless(eip1559(&key(1), 0, 10, 3)).unwrap();
        assert_eq!(ptx.effective_tip(5), Some(3));
        assert_eq!(ptx.effective_tip(8), Some(2));
        assert_eq!(ptx.effective_tip(11), None);
        assert!(ptx.price_rank(11) < ptx.price_rank(10));
        assert_eq!(ptx.cost, U256::from(21_000u64 * 10));
    }
}
