//! A dropped write transaction leaves no trace; a reopened database has the same state.

use super::{Model, account, changes, commit, update};
use crate::{StateCommitter, StateDb, StateProvider};
use alloy_primitives::{Address, U256};
use redb::Database;
use std::sync::Arc;

fn a(i: u8) -> Address {
    Address::with_last_byte(i)
}

#[test]
fn dropped_transaction_changes_nothing_and_reopen_keeps_head() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.redb");
    let state = StateDb::open(Arc::new(Database::create(&path).unwrap())).unwrap();
    let block0 = changes([(a(1), update(account(1, 100), &[(1, 1)]))]);
    let block1 = changes([(a(2), update(account(1, 5), &[(7, 7)]))]);
    commit(&state, 0, &block0);
    let root1 = commit(&state, 1, &block1);
    let head = state.head();
    assert_eq!(head, Some((1, root1)));

    let txn = state.database().begin_write().unwrap();
    let dropped = changes([
        (a(1), update(account(9, 9), &[(1, 0), (2, 2)])),
        (a(3), update(account(1, 1), &[])),
    ]);
    let dropped_root = state.commit_block(&txn, 2, &dropped).unwrap();
    assert_ne!(dropped_root, root1);
    drop(txn);
    state.on_aborted(2);

    assert_eq!(state.head(), head);
    let latest = state.latest().unwrap();
    assert_eq!(latest.head(), head);
    assert_eq!(latest.account(a(1)).unwrap(), Some(account(1, 100)));
    assert_eq!(latest.storage(a(1), U256::from(1)).unwrap(), U256::from(1));
    assert_eq!(latest.account(a(3)).unwrap(), None);
    assert!(state.at_block(2).is_err());
    assert!(state.state_root_at(2).is_err());

    drop((latest, state));
    let state = StateDb::open(Arc::new(Database::open(&path).unwrap())).unwrap();
    assert_eq!(state.head(), head);
    assert_eq!(state.state_root_at(1).unwrap(), root1);
    let mut model = Model::default();
    model.apply(&block0);
    model.apply(&block1);
    assert_eq!(model.root(), root1);
    assert_eq!(
        state
            .latest()
            .unwrap()
            .storage(a(2), U256::from(7))
            .unwrap(),
        U256::from(7)
    );
    // The aborted block number is free again.
    model.apply(&dropped);
    assert_eq!(commit(&state, 2, &dropped), model.root());
    assert_eq!(
        state.at_block(1).unwrap().account(a(1)).unwrap(),
        Some(account(1, 100))
    );
}

/// A database whose blocks were written before the stored tries existed gets them built
/// on open, and blocks keep applying on top.
#[test]
fn tries_are_built_for_a_database_without_them() {
    use crate::{StateConfig, ssmt::store::table_names};
    use redb::TableDefinition;
    let db = super::mem_db();
    let config = StateConfig {
        shard_depth: 2,
        ..StateConfig::default()
    };
    let state = StateDb::open_with_config(db.clone(), config).unwrap();
    let block0 = changes((1..40).map(|i| {
        (
            a(i),
            update(account(1, u64::from(i)), &[(1, 1), (u64::from(i), 5)]),
        )
    }));
    let block1 = changes([(a(2), update(account(2, 5), &[(7, 7), (1, 0)]))]);
    let mut model = Model::default();
    model.apply(&block0);
    model.apply(&block1);
    commit(&state, 0, &block0);
    let root1 = commit(&state, 1, &block1);
    drop(state);
    let txn = db.begin_write().unwrap();
    for name in table_names(2) {
        txn.delete_table(TableDefinition::<&[u8], &[u8]>::new(&name))
            .unwrap();
    }
    txn.open_table(crate::tables::META)
        .unwrap()
        .remove("trie_depth")
        .unwrap();
    txn.commit().unwrap();

    let state = StateDb::open(db).unwrap();
    assert_eq!(state.head(), Some((1, root1)));
    let block2 = changes([
        (a(3), update(account(3, 3), &[(1, 9)])),
        (a(50), update(account(1, 1), &[])),
    ]);
    model.apply(&block2);
    assert_eq!(commit(&state, 2, &block2), model.root());
}

/// A commit whose `on_committed` never came: the next block notices that the tries in
/// memory are behind the database and reads the stored ones.
#[test]
fn missed_commit_notification_falls_back_to_stored_tries() {
    let state = super::mem_state();
    let mut model = Model::default();
    let blocks = [
        changes((1..30).map(|i| (a(i), update(account(1, u64::from(i)), &[(1, 1), (2, 2)])))),
        changes([
            (a(2), update(account(2, 5), &[(1, 0), (9, 9)])),
            (a(3), Default::default()),
        ]),
        changes([
            (a(2), update(account(3, 5), &[(2, 0), (9, 0)])),
            (a(4), update(account(1, 1), &[(5, 5)])),
        ]),
    ];
    for (number, block) in blocks.iter().enumerate() {
        let number = number as u64;
        model.apply(block);
        let txn = state.database().begin_write().unwrap();
        let root = state.commit_block(&txn, number, block).unwrap();
        txn.commit().unwrap();
        if number != 1 {
            state.on_committed(number);
        }
        assert_eq!(root, model.root(), "block {number}");
    }
}

#[test]
fn shard_depth_is_checked_and_kept() {
    use crate::{StateConfig, StateError};
    let deep = StateConfig {
        shard_depth: 3,
        ..StateConfig::default()
    };
    assert!(matches!(
        StateDb::open_with_config(super::mem_db(), deep),
        Err(StateError::InvalidArgument(_))
    ));
    let db = super::mem_db();
    let two = StateConfig {
        shard_depth: 2,
        ..StateConfig::default()
    };
    let state = StateDb::open_with_config(db.clone(), two).unwrap();
    let block = changes((1..20).map(|i| (a(i), update(account(1, 1), &[(1, u64::from(i))]))));
    let mut model = Model::default();
    model.apply(&block);
    commit(&state, 0, &block);
    drop(state);
    // Reopened with another depth, the stored one stays in use.
    let state = StateDb::open(db).unwrap();
    let next = changes([(a(1), update(account(2, 2), &[(1, 0)]))]);
    model.apply(&next);
    assert_eq!(commit(&state, 1, &next), model.root());
}
