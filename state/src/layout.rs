//! The trie layout of a database: its shard depth, its trie tables, and the one-time build
//! of the stored tries for a database whose flat state was written without them.

use crate::{
    StateError, StateResult,
    meta::Meta,
    scan,
    ssmt::{self, NoSource, Op, store::StoreWriter},
    tables::{self, AccountRow, META},
    trie,
};
use alloy_primitives::{Address, B256, keccak256};
use alloy_trie::EMPTY_ROOT_HASH;
use redb::{Database, ReadableTable, WriteTransaction};

/// Meta key of the shard depth of the stored tries (1 byte); absent before they exist.
const META_TRIE_DEPTH: &str = "trie_depth";

/// Returns the shard depth of the stored tries, creating their tables with `wanted` (and
/// building them from the flat state when blocks were committed without them).
pub(crate) fn open_tries(db: &Database, wanted: usize) -> StateResult<usize> {
    let txn = db.begin_write()?;
    let stored = stored_depth(&txn)?;
    let depth = stored.unwrap_or(wanted);
    if stored.is_some_and(|d| d != wanted) {
        tracing::info!(target: "altius::state", depth, wanted, "keeping the stored shard depth");
    }
    ssmt::store::create_tables(&txn, depth)?;
    if stored.is_none() {
        let head = Meta::read(&txn.open_table(META)?)?.head;
        if let Some((number, root)) = head {
            tracing::info!(target: "altius::state", number, "building the stored tries");
            build_tries(&txn, depth, root)?;
        }
        txn.open_table(META)?
            .insert(META_TRIE_DEPTH, [depth as u8].as_slice())?;
    }
    txn.commit()?;
    Ok(depth)
}

fn stored_depth(txn: &WriteTransaction) -> StateResult<Option<usize>> {
    let meta = txn.open_table(META)?;
    let Some(value) = meta.get(META_TRIE_DEPTH)? else {
        return Ok(None);
    };
    match value.value() {
        [d] if usize::from(*d) <= ssmt::store::MAX_SHARD_DEPTH => Ok(Some(usize::from(*d))),
        other => Err(StateError::Corrupt(format!("trie depth entry {other:?}"))),
    }
}

/// Builds and stores all tries from the flat state, checking them against `root`.
fn build_tries(txn: &WriteTransaction, depth: usize, root: B256) -> StateResult<()> {
    let mut writer = StoreWriter::new(txn, depth);
    let accounts = txn.open_table(tables::ACCOUNTS)?;
    let storage = txn.open_table(tables::HASHED_STORAGE)?;
    for entry in accounts.iter()? {
        let (address, row) = entry?;
        let address = Address::from(*address.value());
        let row = AccountRow::decode(row.value())?;
        if row.storage_root == EMPTY_ROOT_HASH {
            continue;
        }
        let mut ops = Vec::new();
        for slot in scan::hashed_storage(&storage, address)? {
            let (key, value) = slot?;
            ops.push(op(key, trie::storage_leaf(value)));
        }
        let updated = ssmt::update(&NoSource, depth, None, &ops)?;
        check(updated.hash, row.storage_root, "storage")?;
        writer.write(&Some(keccak256(address)), &updated.writes)?;
    }
    let hashed = txn.open_table(tables::HASHED_ACCOUNTS)?;
    let mut ops = Vec::new();
    for entry in scan::hashed_accounts(&hashed)? {
        let (key, row) = entry?;
        ops.push(op(key, trie::account_leaf(&row)));
    }
    let updated = ssmt::update(&NoSource, depth, None, &ops)?;
    check(updated.hash, root, "state")?;
    writer.write(&None, &updated.writes)
}

fn op(key: B256, value: Vec<u8>) -> Op {
    (
        ssmt::nibbles(key.as_slice()),
        Some(value.into_boxed_slice()),
    )
}

fn check(got: B256, expected: B256, kind: &str) -> StateResult<()> {
    if got == expected {
        Ok(())
    } else {
        Err(StateError::Corrupt(format!(
            "built {kind} root {got} differs from the stored {expected}"
        )))
    }
}
