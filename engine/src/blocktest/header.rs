//! Checks of a block against its parent and of its body against its header, with Ethereum
//! L1 rules after the merge.

use super::{executor::BlockOutput, fork::Fork};
use alloy_consensus::{
    Block, EMPTY_OMMER_ROOT_HASH, Header, TxEip4844Variant, TxEnvelope, TxReceipt as _,
    proofs::{calculate_receipt_root, calculate_transaction_root, calculate_withdrawals_root},
};
use alloy_eips::eip1559::BaseFeeParams;
use alloy_primitives::{B64, B256, U256};

/// The largest gas limit a header may carry (geth's `MaxGasLimit`).
const MAX_GAS_LIMIT: u64 = 0x7fff_ffff_ffff_ffff;
/// The smallest gas limit.
const MIN_GAS_LIMIT: u64 = 5000;
/// The gas limit may change by less than 1/1024 of the parent's per block.
const GAS_LIMIT_BOUND_DIVISOR: u64 = 1024;
/// The longest extra data.
const MAX_EXTRA_DATA: usize = 32;

/// Rejects a header that is not a valid child of `parent` under `fork`.
pub(super) fn check_header(header: &Header, parent: &Header, fork: Fork, parent_fork: Fork) -> Res {
    ensure(
        parent.number.checked_add(1) == Some(header.number),
        "wrong block number",
    )?;
    ensure(
        header.timestamp > parent.timestamp,
        "timestamp not after parent",
    )?;
    check_gas_limit(header, parent)?;
    ensure(
        header.gas_used <= header.gas_limit,
        "gas used above gas limit",
    )?;
    ensure(
        header.extra_data.len() <= MAX_EXTRA_DATA,
        "extra data too long",
    )?;
    ensure(header.difficulty == U256::ZERO, "non-zero difficulty")?;
    ensure(header.nonce == B64::ZERO, "non-zero nonce")?;
    ensure(
        header.ommers_hash == EMPTY_OMMER_ROOT_HASH,
        "ommers after the merge",
    )?;
    let base_fee = parent.next_block_base_fee(BaseFeeParams::ethereum());
    ensure(header.base_fee_per_gas == base_fee, "wrong base fee")?;
    check_fork_fields(header, fork)?;
    if let Some(params) = fork.blob_params() {
        let expected = if parent_fork.at_least(Fork::Cancun) {
            parent
                .next_block_excess_blob_gas(params)
                .unwrap_or_default()
        } else {
            0
        };
        ensure(
            header.excess_blob_gas == Some(expected),
            "wrong excess blob gas",
        )?;
        let used = header.blob_gas_used.unwrap_or_default();
        ensure(
            used <= params.max_blob_gas_per_block(),
            "blob gas above limit",
        )?;
    }
    Ok(())
}

/// Rejects a header whose optional fields do not match `fork`.
fn check_fork_fields(header: &Header, fork: Fork) -> Res {
    let shanghai = fork.at_least(Fork::Shanghai);
    let cancun = fork.at_least(Fork::Cancun);
    let prague = fork.at_least(Fork::Prague);
    ensure(header.base_fee_per_gas.is_some(), "missing base fee")?;
    ensure(
        header.withdrawals_root.is_some() == shanghai,
        "withdrawals root presence",
    )?;
    ensure(
        header.blob_gas_used.is_some() == cancun,
        "blob gas used presence",
    )?;
    ensure(
        header.excess_blob_gas.is_some() == cancun,
        "excess blob gas presence",
    )?;
    let beacon = header.parent_beacon_block_root.is_some();
    ensure(beacon == cancun, "parent beacon root presence")?;
    ensure(
        header.requests_hash.is_some() == prague,
        "requests hash presence",
    )
}

/// Rejects a gas limit out of bounds of the parent's.
fn check_gas_limit(header: &Header, parent: &Header) -> Res {
    let limit = header.gas_limit;
    ensure(limit <= MAX_GAS_LIMIT, "gas limit too big")?;
    ensure(limit >= MIN_GAS_LIMIT, "gas limit too small")?;
    // Also keeps the base fee computation away from a zero gas target.
    ensure(
        parent.gas_limit >= MIN_GAS_LIMIT,
        "parent gas limit too small",
    )?;
    let bound = parent.gas_limit / GAS_LIMIT_BOUND_DIVISOR;
    ensure(
        limit.abs_diff(parent.gas_limit) < bound,
        "gas limit change too large",
    )
}

/// Rejects a body that does not match its header.
pub(super) fn check_body(block: &Block<TxEnvelope>, fork: Fork) -> Res {
    let header = &block.header;
    ensure(block.body.ommers.is_empty(), "ommers after the merge")?;
    let full_blobs = block.body.transactions.iter().any(|tx| {
        matches!(tx, TxEnvelope::Eip4844(s) if matches!(s.tx(), TxEip4844Variant::TxEip4844WithSidecar(_)))
    });
    ensure(!full_blobs, "blob transaction with sidecar in block")?;
    let tx_root = calculate_transaction_root(&block.body.transactions);
    ensure(
        tx_root == header.transactions_root,
        "wrong transactions root",
    )?;
    let withdrawals = block.body.withdrawals.as_ref();
    ensure(
        withdrawals.is_some() == fork.at_least(Fork::Shanghai),
        "withdrawals presence",
    )?;
    if let Some(w) = withdrawals {
        let root = calculate_withdrawals_root(w);
        ensure(
            Some(root) == header.withdrawals_root,
            "wrong withdrawals root",
        )?;
    }
    Ok(())
}

/// Rejects an execution whose results differ from the header.
pub(super) fn check_outcome(header: &Header, out: &BlockOutput, state_root: B256) -> Res {
    ensure(out.gas_used == header.gas_used, "wrong gas used")?;
    if let Some(used) = header.blob_gas_used {
        ensure(out.blob_gas_used == used, "wrong blob gas used")?;
    }
    let receipts_root = calculate_receipt_root(&out.receipts);
    ensure(receipts_root == header.receipts_root, "wrong receipts root")?;
    let bloom = out
        .receipts
        .iter()
        .fold(Default::default(), |acc: alloy_primitives::Bloom, r| {
            acc | r.bloom()
        });
    ensure(bloom == header.logs_bloom, "wrong logs bloom")?;
    let requests_hash = out.requests.as_ref().map(|r| r.requests_hash());
    ensure(requests_hash == header.requests_hash, "wrong requests hash")?;
    if state_root != header.state_root {
        return Err(format!(
            "wrong state root: got {state_root}, header has {}",
            header.state_root
        ));
    }
    Ok(())
}

/// The result of a check.
type Res = Result<(), String>;

/// `Err(what)` unless `ok`.
fn ensure(ok: bool, what: &str) -> Res {
    if ok { Ok(()) } else { Err(what.to_string()) }
}
