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
