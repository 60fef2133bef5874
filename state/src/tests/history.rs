//! History, ordering, snapshot and pruning scenarios.

use super::{Model, account, changes, commit, mem_db, mem_state, update};
use crate::{
    AccountUpdate, StateChanges, StateCommitter, StateConfig, StateDb, StateError, StateProvider,
    tables,
};
use alloy_primitives::{Address, B256, U256};
use redb::{ReadableDatabase, ReadableTableMetadata};

fn a(i: u8) -> Address {
    Address::with_last_byte(i)
}

fn delete() -> AccountUpdate {
    AccountUpdate::default()
}

fn value(state: &impl StateProvider, address: Address, slot: u64) -> u64 {
    state
        .storage(address, U256::from(slot))
        .unwrap()
        .to::<u64>()
}

fn table_len<K: redb::Key + 'static, V: redb::Value + 'static>(
    state: &StateDb,
    table: redb::TableDefinition<'_, K, V>,
) -> u64 {
    let txn = state.database().begin_read().unwrap();
    txn.open_table(table).unwrap().len().unwrap()
}

#[test]
fn reads_at_older_blocks() {
    let state = mem_state();
    commit(
        &state,
        0,
        &changes([(a(1), update(account(1, 10), &[(1, 10), (2, 2)]))]),
    );
    commit(
        &state,
        1,
        &changes([
            (a(1), update(account(2, 10), &[(1, 20)])),
            (a(2), update(account(1, 1), &[])),
        ]),
    );
    commit(&state, 2, &changes([(a(1), delete())]));
    commit(
        &state,
        3,
        &changes([(a(1), update(account(0, 5), &[(2, 9)]))]),
    );
    let at = |n| state.at_block(n).unwrap();
    assert_eq!(at(0).account(a(1)).unwrap(), Some(account(1, 10)));
    assert_eq!((value(&at(0), a(1), 1), value(&at(0), a(1), 2)), (10, 2));
    assert_eq!(at(0).account(a(2)).unwrap(), None);
    assert_eq!(at(1).account(a(1)).unwrap(), Some(account(2, 10)));
    assert_eq!((value(&at(1), a(1), 1), value(&at(1), a(1), 2)), (20, 2));
    assert_eq!(at(2).account(a(1)).unwrap(), None);
    assert_eq!((value(&at(2), a(1), 1), value(&at(2), a(1), 2)), (0, 0));
    assert_eq!(at(3).account(a(1)).unwrap(), Some(account(0, 5)));
    assert_eq!((value(&at(3), a(1), 1), value(&at(3), a(1), 2)), (0, 9));
    assert_eq!(at(3).block(), 3);
    assert!(matches!(
        state.at_block(4),
        Err(StateError::BlockNotAvailable(4))
    ));
    assert_eq!(state.available_blocks().unwrap(), Some((0, 3)));
}

#[test]
fn wipe_storage_deletes_all_old_slots() {
    let state = mem_state();
    let slots: Vec<(u64, u64)> = (1..=20).map(|s| (s, s)).collect();
    commit(&state, 0, &changes([(a(1), update(account(1, 1), &slots))]));
    let mut wipe = update(account(1, 1), &[(5, 50), (30, 3)]);
    wipe.wipe_storage = true;
    let block1 = changes([(a(1), wipe)]);
    let root = commit(&state, 1, &block1);
    let mut model = Model::default();
    model.apply(&changes([(a(1), update(account(1, 1), &slots))]));
    model.apply(&block1);
    assert_eq!(root, model.root());
    assert_eq!(table_len(&state, tables::STORAGE), 2);
    assert_eq!(table_len(&state, tables::HASHED_STORAGE), 2);
    let latest = state.latest().unwrap();
    assert_eq!(
        (
            value(&latest, a(1), 1),
            value(&latest, a(1), 5),
            value(&latest, a(1), 30)
        ),
        (0, 50, 3)
    );
    let old = state.at_block(0).unwrap();
    assert_eq!(
        (
            value(&old, a(1), 1),
            value(&old, a(1), 5),
            value(&old, a(1), 30)
        ),
        (1, 5, 0)
    );
}

#[test]
fn deleting_an_account_deletes_its_storage() {
    let state = mem_state();
    commit(
        &state,
        0,
        &changes([(a(1), update(account(1, 1), &[(1, 1), (2, 2)]))]),
    );
    commit(&state, 1, &changes([(a(1), delete())]));
    assert_eq!(table_len(&state, tables::STORAGE), 0);
    let root = commit(&state, 2, &changes([(a(1), update(account(1, 1), &[]))]));
    let mut model = Model::default();
    model.apply(&changes([(a(1), update(account(1, 1), &[]))]));
    assert_eq!(root, model.root());
    assert_eq!(value(&state.latest().unwrap(), a(1), 2), 0);
}

#[test]
fn blocks_must_be_committed_in_order() {
    let state = mem_state();
    let txn = state.database().begin_write().unwrap();
    let err = state
        .commit_block(&txn, 1, &StateChanges::default())
        .unwrap_err();
    assert!(matches!(
        err,
        StateError::OutOfOrder {
            got: 1,
            expected: 0
        }
    ));
    drop(txn);
    commit(&state, 0, &StateChanges::default());
    let txn = state.database().begin_write().unwrap();
    let err = state
        .commit_block(&txn, 0, &StateChanges::default())
        .unwrap_err();
    assert!(matches!(
        err,
        StateError::OutOfOrder {
            got: 0,
            expected: 1
        }
    ));
}

#[test]
fn unchanged_values_record_no_history_and_genesis_none() {
    let state = mem_state();
    let genesis = changes([(a(1), update(account(1, 1), &[(1, 1)]))]);
    commit(&state, 0, &genesis);
    assert_eq!(table_len(&state, tables::ACCOUNT_CHANGES), 0);
    commit(
        &state,
        1,
        &changes([(a(1), update(account(1, 1), &[(1, 1), (2, 0)]))]),
    );
    assert_eq!(table_len(&state, tables::ACCOUNT_CHANGES), 0);
    assert_eq!(table_len(&state, tables::STORAGE_CHANGES), 0);
    assert_eq!(
        state.state_root_at(0).unwrap(),
        state.state_root_at(1).unwrap()
    );
}

#[test]
fn latest_snapshot_is_stable_while_a_block_is_written() {
    let state = mem_state();
    commit(
        &state,
        0,
        &changes([(a(1), update(account(1, 1), &[(1, 1)]))]),
    );
    let snapshot = state.latest().unwrap();
    let txn = state.database().begin_write().unwrap();
    state
        .commit_block(
            &txn,
            1,
            &changes([(a(1), update(account(2, 2), &[(1, 2)]))]),
        )
        .unwrap();
    assert_eq!(snapshot.account(a(1)).unwrap(), Some(account(1, 1)));
    txn.commit().unwrap();
    state.on_committed(1);
    assert_eq!(value(&snapshot, a(1), 1), 1);
    assert_eq!(snapshot.head().map(|h| h.0), Some(0));
    assert_eq!(value(&state.latest().unwrap(), a(1), 1), 2);
}

#[test]
fn pruning_keeps_the_last_blocks() {
    let config = StateConfig {
        retain_blocks: Some(3),
        ..StateConfig::default()
    };
    let state = StateDb::open_with_config(mem_db(), config).unwrap();
    let mut models = Vec::new();
    let mut model = Model::default();
    for n in 0..10u64 {
        let block = changes([(a(1), update(account(n, n), &[(1, n + 1), (n, 7)]))]);
        model.apply(&block);
        assert_eq!(commit(&state, n, &block), model.root());
        models.push(model.clone());
    }
    assert_eq!(state.available_blocks().unwrap(), Some((7, 9)));
    assert!(matches!(
        state.at_block(6),
        Err(StateError::BlockNotAvailable(6))
    ));
    assert!(matches!(
        state.state_root_at(6),
        Err(StateError::BlockNotAvailable(6))
    ));
    for n in 7..10u64 {
        let at = state.at_block(n).unwrap();
        assert_eq!(at.account(a(1)).unwrap(), Some(account(n, n)));
        assert_eq!(value(&at, a(1), 1), n + 1);
        let proof = state.proof(n, a(1), &[B256::from(U256::from(1))]).unwrap();
        super::proofs::verify(&proof, models[n as usize].root(), &models[n as usize]);
    }
    // Change sets of blocks 8 and 9 remain: one account and two slots each.
    assert_eq!(table_len(&state, tables::ACCOUNT_CHANGES), 2);
    assert_eq!(table_len(&state, tables::ACCOUNT_HISTORY), 2);
    assert_eq!(
        table_len(&state, tables::STORAGE_HISTORY),
        table_len(&state, tables::STORAGE_CHANGES)
    );
    assert_eq!(table_len(&state, tables::ROOTS), 3);
}

#[test]
fn zero_retention_is_rejected() {
    let config = StateConfig {
        retain_blocks: Some(0),
        ..StateConfig::default()
    };
    let err = StateDb::open_with_config(mem_db(), config).unwrap_err();
    assert!(matches!(err, StateError::InvalidArgument(_)));
}

#[test]
fn code_must_match_its_hash() {
    let state = mem_state();
    let mut block = StateChanges::default();
    block.code.insert(
        B256::repeat_byte(1),
        alloy_primitives::Bytes::from_static(b"\x60\x00"),
    );
    let txn = state.database().begin_write().unwrap();
    let err = state.commit_block(&txn, 0, &block).unwrap_err();
    assert!(matches!(err, StateError::InvalidArgument(_)));
    drop(txn);
    let (hash, code) = super::code_entry(b"\x60\x00");
    commit(
        &state,
        0,
        &StateChanges {
            code: [(hash, code.clone())].into(),
            ..Default::default()
        },
    );
    assert_eq!(
        state.latest().unwrap().code_by_hash(hash).unwrap(),
        Some(code)
    );
}
