//! From revm's state after one transaction to the core's writes and deltas, and from the
//! block's final writes to [`StateChanges`].

use super::{
    db::ViewDb,
    values::{AccountValue, EvmKey, EvmValue},
};
use crate::parallel::{ReadError, Storage, StorageError, TxIndex};
use alloy_primitives::{Address, KECCAK256_EMPTY, U256};
use altius_state::{Account, AccountUpdate, StateChanges};
use revm::state::EvmState;
use std::collections::{BTreeMap, HashMap};

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

/// What one account's keys hold at the end of the block.
#[derive(Default)]
struct FinalAccount {
    account: Option<AccountValue>,
    storage: BTreeMap<U256, (U256, u32)>,
}

/// The block's [`StateChanges`] from the final value of every key it wrote, compared with
/// `storage`, the state before the block: the same changes a sequential run reports.
pub(crate) fn final_changes<S: Storage<EvmKey, EvmValue>>(
    final_state: Vec<(EvmKey, EvmValue)>,
    storage: &S,
) -> Result<StateChanges, StorageError> {
    let mut accounts: HashMap<Address, FinalAccount> = HashMap::new();
    let mut code = HashMap::new();
    for (key, value) in final_state {
        match (key, value) {
            (EvmKey::Account(address), EvmValue::Account(account)) => {
                accounts.entry(address).or_default().account = Some(account);
            }
            (EvmKey::Storage(address, slot), EvmValue::Storage { value, epoch }) => {
                let entry = accounts.entry(address).or_default();
                entry.storage.insert(slot, (value, epoch));
            }
            (EvmKey::Code(hash), EvmValue::Code(bytecode)) => {
                code.insert(hash, bytecode.original_bytes());
            }
            _ => {}
        }
    }
    let mut changes = StateChanges::default();
    for (address, written) in accounts {
        let base = base_account(storage, address)?;
        if let Some(update) = account_update(storage, address, base, written)? {
            if let Some(account) = update.account
                && account.code_hash != KECCAK256_EMPTY
                && base.info.map(|a| a.code_hash) != Some(account.code_hash)
            {
                let bytes = match code.get(&account.code_hash) {
                    Some(bytes) => bytes.clone(),
                    None => match storage.base(&EvmKey::Code(account.code_hash))? {
                        Some(EvmValue::Code(bytecode)) => bytecode.original_bytes(),
                        _ => {
                            return Err(StorageError::new(format!(
                                "no code for hash {}",
                                account.code_hash
                            )));
                        }
                    },
                };
                changes.code.insert(account.code_hash, bytes);
            }
            changes.accounts.insert(address, update);
        }
    }
    Ok(changes)
}

fn base_account<S: Storage<EvmKey, EvmValue>>(
    storage: &S,
    address: Address,
) -> Result<AccountValue, StorageError> {
    Ok(match storage.base(&EvmKey::Account(address))? {
        Some(EvmValue::Account(account)) => account,
        _ => AccountValue::default(),
    })
}

/// The update of one account, `None` when the block left it as it was.
fn account_update<S: Storage<EvmKey, EvmValue>>(
    storage: &S,
    address: Address,
    base: AccountValue,
    written: FinalAccount,
) -> Result<Option<AccountUpdate>, StorageError> {
    let account = written.account.unwrap_or(base);
    let Some(current) = account.info else {
        return Ok(base.info.map(|_| AccountUpdate {
            account: None,
            wipe_storage: true,
            storage: BTreeMap::new(),
        }));
    };
    let wiped = account.epoch != 0;
    let mut slots = BTreeMap::new();
    for (slot, (value, epoch)) in written.storage {
        if epoch != account.epoch {
            continue;
        }
        let changed = if wiped {
            !value.is_zero()
        } else {
            value != base_slot(storage, address, slot)?
        };
        if changed {
            slots.insert(slot, value);
        }
    }
    let wipe_storage = wiped && base.info.is_some();
    if Some(current) == base.info && slots.is_empty() && !wipe_storage {
        return Ok(None);
    }
    Ok(Some(AccountUpdate {
        account: Some(current),
        wipe_storage,
        storage: slots,
    }))
}

fn base_slot<S: Storage<EvmKey, EvmValue>>(
    storage: &S,
    address: Address,
    slot: U256,
) -> Result<U256, StorageError> {
    Ok(match storage.base(&EvmKey::Storage(address, slot))? {
        Some(EvmValue::Storage { value, .. }) => value,
        _ => U256::ZERO,
    })
}
