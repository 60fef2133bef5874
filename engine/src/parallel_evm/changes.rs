//! From the block's final values to [`StateChanges`]: the same changes a sequential run
//! reports, computed on all cores.

use super::values::{AccountValue, EvmKey, EvmValue};
use crate::parallel::{Storage, StorageError};
use alloy_primitives::{Address, B256, Bytes, KECCAK256_EMPTY, U256, map::HashMap};
use altius_state::{AccountUpdate, StateChanges};
use rayon::prelude::*;
use std::collections::BTreeMap;

/// Accounts below this many are compared with storage on the calling thread.
const PARALLEL_ACCOUNTS: usize = 256;

/// Slots of one account above which they are compared with storage in parallel.
const PARALLEL_SLOTS: usize = 1024;

/// What one account's keys hold at the end of the block.
#[derive(Default)]
struct FinalAccount {
    account: Option<AccountValue>,
    storage: Vec<(U256, U256, u32)>,
}

/// The block's [`StateChanges`] from the final value of every key it wrote (in any order),
/// compared with `storage`, the state before the block.
pub(crate) fn final_changes<S: Storage<EvmKey, EvmValue>>(
    final_state: Vec<(EvmKey, EvmValue)>,
    storage: &S,
) -> Result<StateChanges, StorageError> {
    let (accounts, code) = group_by_account(final_state);
    let update = |(address, written): (Address, FinalAccount)| {
        let base = base_account(storage, address)?;
        let Some(update) = account_update(storage, address, base, written)? else {
            return Ok(None);
        };
        let new_code = new_code(storage, &code, base, &update)?;
        Ok(Some((address, update, new_code)))
    };
    let updates: Vec<_> = if accounts.len() < PARALLEL_ACCOUNTS {
        accounts.into_iter().map(update).collect::<Result<_, _>>()?
    } else {
        accounts
            .into_par_iter()
            .with_min_len(64)
            .map(update)
            .collect::<Result<_, _>>()?
    };
    let mut changes = StateChanges::default();
    let mut changed = Vec::with_capacity(updates.len());
    for (address, update, new_code) in updates.into_iter().flatten() {
        if let Some((hash, bytes)) = new_code {
            changes.code.insert(hash, bytes);
        }
        changed.push((address, update));
    }
    changed.par_sort_unstable_by_key(|(address, _)| *address);
    changes.accounts = changed.into_iter().collect();
    Ok(changes)
}

/// The final values grouped by account, and the code written, by hash.
fn group_by_account(
    final_state: Vec<(EvmKey, EvmValue)>,
) -> (Vec<(Address, FinalAccount)>, HashMap<B256, Bytes>) {
    let mut index: HashMap<Address, usize> = HashMap::default();
    index.reserve(final_state.len());
    let mut accounts: Vec<(Address, FinalAccount)> = Vec::with_capacity(final_state.len());
    let mut code = HashMap::default();
    for (key, value) in final_state {
        let address = match key {
            EvmKey::Account(address) | EvmKey::Storage(address, _) => address,
            EvmKey::Code(hash) => {
                if let EvmValue::Code(bytecode) = value {
                    code.insert(hash, bytecode.original_bytes());
                }
                continue;
            }
        };
        let at = *index.entry(address).or_insert_with(|| {
            accounts.push((address, FinalAccount::default()));
            accounts.len() - 1
        });
        let Some((_, entry)) = accounts.get_mut(at) else {
            continue;
        };
        match (key, value) {
            (EvmKey::Account(_), EvmValue::Account(account)) => entry.account = Some(account),
            (EvmKey::Storage(_, slot), EvmValue::Storage { value, epoch }) => {
                entry.storage.push((slot, value, epoch));
            }
            _ => {}
        }
    }
    (accounts, code)
}

/// The code to store for `update`: code the account did not have before the block.
fn new_code<S: Storage<EvmKey, EvmValue>>(
    storage: &S,
    written: &HashMap<B256, Bytes>,
    base: AccountValue,
    update: &AccountUpdate,
) -> Result<Option<(B256, Bytes)>, StorageError> {
    let Some(account) = update.account else {
        return Ok(None);
    };
    let hash = account.code_hash;
    if hash == KECCAK256_EMPTY || base.info.map(|a| a.code_hash) == Some(hash) {
        return Ok(None);
    }
    let bytes = match written.get(&hash) {
        Some(bytes) => bytes.clone(),
        None => match storage.base(&EvmKey::Code(hash))? {
            Some(EvmValue::Code(bytecode)) => bytecode.original_bytes(),
            _ => return Err(StorageError::new(format!("no code for hash {hash}"))),
        },
    };
    Ok(Some((hash, bytes)))
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
    let changed = |&(slot, value, epoch): &(U256, U256, u32)| {
        if epoch != account.epoch {
            return Ok(None);
        }
        let changed = if wiped {
            !value.is_zero()
        } else {
            value != base_slot(storage, address, slot)?
        };
        Ok(changed.then_some((slot, value)))
    };
    let slots: Vec<Option<(U256, U256)>> = if written.storage.len() < PARALLEL_SLOTS {
        written
            .storage
            .iter()
            .map(changed)
            .collect::<Result<_, _>>()?
    } else {
        written
            .storage
            .par_iter()
            .with_min_len(256)
            .map(changed)
            .collect::<Result<_, _>>()?
    };
    let slots: BTreeMap<U256, U256> = slots.into_iter().flatten().collect();
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
