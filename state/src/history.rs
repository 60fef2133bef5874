//! Lookups in the change sets: the value of a key as of an earlier block.
//!
//! A change set entry of block `b` holds the value a key had before `b`. The value as of block
//! `n` is therefore the one in the first change set entry with a block greater than `n`, or the
//! latest value when the key has not changed since `n`.

use crate::{
    StateError, StateResult,
    tables::{
        AccountRow, account_change_key, account_history_key, block_at, storage_change_key,
        storage_history_key, u256_from,
    },
};
use alloy_primitives::{Address, B256, U256, keccak256};
use redb::ReadableTable;
use std::collections::BTreeMap;

/// The account row as of `block`: `Some(row)` when the account changed after `block` (then
/// `row` is its value at `block`), `None` when the latest row applies.
pub(crate) fn account_at<H, C>(
    history: &H,
    changes: &C,
    address: Address,
    block: u64,
) -> StateResult<Option<Option<AccountRow>>>
where
    H: ReadableTable<&'static [u8; 28], ()>,
    C: ReadableTable<&'static [u8; 28], &'static [u8]>,
{
    let Some(after) = block.checked_add(1) else {
        return Ok(None);
    };
    let (start, end) = (
        account_history_key(address, after),
        account_history_key(address, u64::MAX),
    );
    let Some(entry) = history.range::<&[u8; 28]>(&start..=&end)?.next() else {
        return Ok(None);
    };
    let changed_in = block_at(entry?.0.value(), 20)?;
    let change = changes
        .get(&account_change_key(changed_in, address))?
        .ok_or_else(|| missing_change("account", changed_in))?;
    Ok(Some(AccountRow::decode_opt(change.value())?))
}

/// The value of a storage slot as of `block`: `Some(value)` when the slot changed after
/// `block`, `None` when the latest value applies.
pub(crate) fn storage_at<H, C>(
    history: &H,
    changes: &C,
    address: Address,
    slot: B256,
    block: u64,
) -> StateResult<Option<U256>>
where
    H: ReadableTable<&'static [u8; 60], ()>,
    C: ReadableTable<&'static [u8; 60], &'static [u8; 32]>,
{
    let Some(after) = block.checked_add(1) else {
        return Ok(None);
    };
    let start = storage_history_key(address, slot, after);
    let end = storage_history_key(address, slot, u64::MAX);
    let Some(entry) = history.range::<&[u8; 60]>(&start..=&end)?.next() else {
        return Ok(None);
    };
    let changed_in = block_at(entry?.0.value(), 52)?;
    let change = changes
        .get(&storage_change_key(changed_in, address, slot))?
        .ok_or_else(|| missing_change("storage", changed_in))?;
    Ok(Some(u256_from(change.value())))
}

fn missing_change(kind: &str, block: u64) -> StateError {
    StateError::Corrupt(format!(
        "{kind} history points to a missing change set of block {block}"
    ))
}

/// The accounts changed after `block`, by keccak256(address), with their rows as of `block`
/// (`None`: the account did not exist).
pub(crate) fn accounts_overlay<C>(
    changes: &C,
    block: u64,
) -> StateResult<BTreeMap<B256, Option<AccountRow>>>
where
    C: ReadableTable<&'static [u8; 28], &'static [u8]>,
{
    let mut overlay = BTreeMap::new();
    let Some(after) = block.checked_add(1) else {
        return Ok(overlay);
    };
    let start = account_change_key(after, Address::ZERO);
    for entry in changes.range::<&[u8; 28]>(&start..)? {
        let (key, value) = entry?;
        let address = Address::from_slice(&key.value()[8..]);
        if let std::collections::btree_map::Entry::Vacant(slot) = overlay.entry(keccak256(address))
        {
            slot.insert(AccountRow::decode_opt(value.value())?);
        }
    }
    Ok(overlay)
}

/// The storage slots of `address` changed in blocks `block + 1 ..= head`, by
/// keccak256(slot), with their values as of `block` (`None`: the slot was zero).
pub(crate) fn storage_overlay<C>(
    changes: &C,
    address: Address,
    block: u64,
    head: u64,
) -> StateResult<BTreeMap<B256, Option<U256>>>
where
    C: ReadableTable<&'static [u8; 60], &'static [u8; 32]>,
{
    let mut overlay = BTreeMap::new();
    for changed_in in block.saturating_add(1)..=head {
        let start = storage_change_key(changed_in, address, B256::ZERO);
        let end = storage_change_key(changed_in, address, B256::repeat_byte(0xff));
        for entry in changes.range::<&[u8; 60]>(&start..=&end)? {
            let (key, value) = entry?;
            let hashed = keccak256(&key.value()[28..]);
            let value = u256_from(value.value());
            overlay
                .entry(hashed)
                .or_insert((!value.is_zero()).then_some(value));
        }
    }
    Ok(overlay)
}
