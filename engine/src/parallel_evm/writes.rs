//! From revm's state after one transaction to the core's writes and deltas.

use super::{
    db::ViewDb,
    values::{AccountValue, EvmKey, EvmValue},
};
use crate::parallel::{ReadError, TxIndex};
use alloy_primitives::{Address, KECCAK256_EMPTY, U256};
use altius_state::Account;
use revm::state::EvmState;

/// The writes and deltas of one transaction.
#[derive(Debug, Default)]
pub(crate) struct TxWrites {
    /// Full values.
    pub(crate) writes: Vec<(EvmKey, EvmValue)>,
    /// Balance additions (fees).
    pub(crate) deltas: Vec<(EvmKey, U256)>,
}

/// The writes of transaction `tx`, whose run left `state` and paid `fees`; `db` knows what
/// it read.
pub(crate) fn tx_writes(
    tx: TxIndex,
    state: EvmState,
    db: &mut ViewDb<'_>,
    fees: Vec<(Address, U256)>,
) -> Result<TxWrites, ReadError> {
    let fresh_epoch = u32::try_from(tx).unwrap_or(u32::MAX - 1).saturating_add(1);
    let mut out = TxWrites::default();
    for (address, account) in state {
        if !account.is_touched() {
            continue;
        }
        let before = db.account(address)?;
        let info = Account {
            nonce: account.info.nonce,
            balance: account.info.balance,
            code_hash: account.info.code_hash,
        };
        let after = if account.is_selfdestructed() {
            AccountValue {
                info: None,
                epoch: fresh_epoch,
            }
        } else if account.is_created() {
            AccountValue {
                info: Some(info),
                epoch: fresh_epoch,
            }
        } else if account.is_empty() {
            // EIP-161: a touched empty account is deleted, with any storage it had.
            match before.info {
                None => before,
                Some(_) => AccountValue {
                    info: None,
                    epoch: fresh_epoch,
                },
            }
        } else {
            AccountValue {
                info: Some(info),
                epoch: before.epoch,
            }
        };
        if after != before {
            out.writes
                .push((EvmKey::Account(address), EvmValue::Account(after)));
        }
        let Some(info) = after.info else { continue };
        let new_code = info.code_hash != KECCAK256_EMPTY
            && (after.epoch != before.epoch
                || before.info.map(|a| a.code_hash) != Some(info.code_hash));
        if new_code && let Some(code) = &account.info.code {
            out.writes
                .push((EvmKey::Code(info.code_hash), EvmValue::Code(code.clone())));
        }
        for (slot, value) in account.storage.iter().filter(|(_, s)| s.is_changed()) {
            let value = EvmValue::Storage {
                value: value.present_value,
                epoch: after.epoch,
            };
            out.writes.push((EvmKey::Storage(address, *slot), value));
        }
    }
    out.deltas = fees
        .into_iter()
        .map(|(recipient, amount)| (EvmKey::Account(recipient), amount))
        .collect();
    Ok(out)
}
