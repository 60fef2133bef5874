//! Pruning of change sets, history index entries and roots of blocks no longer retained.

use crate::{
    StateResult,
    meta::{self, Meta},
    tables::{self, META},
};
use alloy_primitives::{Address, B256};
use redb::WriteTransaction;

/// At most this many blocks are pruned per commit, to bound the cost of one commit when
/// retention is first enabled on a long history.
const MAX_PRUNED_PER_COMMIT: u64 = 1024;

/// After committing `head`, forgets the history needed only for blocks older than the last
/// `retain` blocks (`retain >= 1`).
pub(crate) fn prune(txn: &WriteTransaction, head: u64, retain: u64) -> StateResult<()> {
    let oldest = Meta::read(&txn.open_table(META)?)?.oldest;
    let wanted = head.saturating_add(1).saturating_sub(retain);
    let target = wanted.min(oldest.saturating_add(MAX_PRUNED_PER_COMMIT));
    if target <= oldest {
        return Ok(());
    }
    // Reading the state of `target` needs the change sets of blocks after it only.
    for block in oldest + 1..=target {
        prune_accounts(txn, block)?;
        prune_storage(txn, block)?;
    }
    let mut roots = txn.open_table(tables::ROOTS)?;
    roots.retain_in(oldest..target, |_, _| false)?;
    meta::write_oldest(txn, target)
}

/// Removes the account change set of `block` and its history index entries.
fn prune_accounts(txn: &WriteTransaction, block: u64) -> StateResult<()> {
    let mut changes = txn.open_table(tables::ACCOUNT_CHANGES)?;
    let start = tables::account_change_key(block, Address::ZERO);
    let end = tables::account_change_key(block, Address::repeat_byte(0xff));
    let mut addresses = Vec::new();
    let mut extracted = changes.extract_from_if::<&[u8; 28], _>(&start..=&end, |_, _| true)?;
    for entry in &mut extracted {
        addresses.push(Address::from_slice(&entry?.0.value()[8..]));
    }
    extracted.close()?;
    let mut history = txn.open_table(tables::ACCOUNT_HISTORY)?;
    for address in addresses {
        history.remove(&tables::account_history_key(address, block))?;
    }
    Ok(())
}

/// Removes the storage change set of `block` and its history index entries.
fn prune_storage(txn: &WriteTransaction, block: u64) -> StateResult<()> {
    let mut changes = txn.open_table(tables::STORAGE_CHANGES)?;
    let start = tables::storage_change_key(block, Address::ZERO, B256::ZERO);
    let end =
        tables::storage_change_key(block, Address::repeat_byte(0xff), B256::repeat_byte(0xff));
    let mut keys = Vec::new();
    let mut extracted = changes.extract_from_if::<&[u8; 60], _>(&start..=&end, |_, _| true)?;
    for entry in &mut extracted {
        let key = *entry?.0.value();
        keys.push((
            Address::from_slice(&key[8..28]),
            B256::from_slice(&key[28..]),
        ));
    }
    extracted.close()?;
    let mut history = txn.open_table(tables::STORAGE_HISTORY)?;
    for (address, slot) in keys {
        history.remove(&tables::storage_history_key(address, slot, block))?;
    }
    Ok(())
}
