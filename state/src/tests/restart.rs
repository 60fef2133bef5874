//! Crash safety: a child process commits blocks in a loop and is killed with SIGKILL; the
//! reopened state is exactly the last committed block, and later blocks apply on top.
//!
//! The child is this test binary itself, re-invoked on [`child_commits_blocks`] with
//! [`CHILD_ENV`] naming the database file.

use super::{Model, code_entry, commit};
use crate::{Account, AccountUpdate, StateChanges, StateConfig, StateDb, StateProvider};
use alloy_primitives::{Address, U256};
use rand::{Rng, SeedableRng, rngs::StdRng};
use redb::Database;
use std::{
    io::{BufRead, BufReader, Write},
    process::{Command, Stdio},
    sync::Arc,
};

const CHILD_ENV: &str = "ALTIUS_STATE_RESTART_DB";

/// The deterministic block `number`: 40 updates over 300 addresses.
fn block(number: u64) -> StateChanges {
    let mut rng = StdRng::seed_from_u64(number);
    let mut changes = StateChanges::default();
    for _ in 0..40 {
        let address = Address::with_last_byte(0).create(rng.random_range(0..300));
        if rng.random_bool(0.05) {
            changes.accounts.insert(address, AccountUpdate::default());
            continue;
        }
        let mut account = Account {
            nonce: number,
            balance: U256::from(rng.random::<u64>()),
            ..Account::default()
        };
        if rng.random_bool(0.1) {
            let (hash, code) = code_entry(&rng.random::<[u8; 12]>());
            changes.code.insert(hash, code);
            account.code_hash = hash;
        }
        let storage = (0..rng.random_range(0..6))
            .map(|_| {
                let value = if rng.random_bool(0.2) {
                    0
                } else {
                    rng.random::<u32>()
                };
                (U256::from(rng.random_range(0..64u64)), U256::from(value))
            })
            .collect();
        let update = AccountUpdate {
            account: Some(account),
            wipe_storage: rng.random_bool(0.03),
            storage,
        };
        changes.accounts.insert(address, update);
    }
    changes
}

fn open(path: &std::path::Path, config: StateConfig) -> StateDb {
    StateDb::open_with_config(Arc::new(Database::create(path).unwrap()), config).unwrap()
}

/// The child: commits blocks until killed, printing each committed number.
#[test]
#[ignore = "run by restart_after_sigkill in a child process"]
fn child_commits_blocks() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let config = StateConfig {
        shard_depth: 2,
        cache_bytes: 64 << 10,
        ..StateConfig::default()
    };
    let state = open(path.as_ref(), config);
    let mut stdout = std::io::stdout();
    let start = state.head().map_or(0, |(n, _)| n + 1);
    for number in start..1_000_000 {
        commit(&state, number, &block(number));
        if writeln!(stdout, "committed {number}")
            .and_then(|()| stdout.flush())
            .is_err()
        {
            return;
        }
    }
}

/// Runs the child on `path` until it reports `blocks` more commits, then SIGKILLs it.
/// Returns the last block it reported.
fn run_and_kill(path: &std::path::Path, blocks: u64) -> u64 {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "tests::restart::child_commits_blocks",
            "--ignored",
            "--nocapture",
        ])
        .args(["--test-threads", "1"])
        .env(CHILD_ENV, path)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (mut first, mut last) = (None, None);
    // The pipe stays open until the kill, so the child keeps committing until then.
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in &mut lines {
        if let Some(n) = line.unwrap().strip_prefix("committed ") {
            let n = n.parse::<u64>().unwrap();
            first.get_or_insert(n);
            last = Some(n);
            if n >= first.unwrap() + blocks {
                break;
            }
        }
    }
    // Let the child go on for a while, so that the kill lands at some point of a later block.
    std::thread::sleep(std::time::Duration::from_millis(blocks * 2));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    drop(lines);
    last.expect("the child committed blocks")
}

/// Reopens the state after a kill and checks it against the model of blocks `0..=head`.
fn check_reopened(path: &std::path::Path, last_seen: u64) -> (StateDb, Model, u64) {
    let state = open(path, StateConfig::default());
    let (head, root) = state.head().expect("a committed head");
    assert!(
        head >= last_seen,
        "head {head} is older than the seen {last_seen}"
    );
    let mut model = Model::default();
    for number in 0..=head {
        model.apply(&block(number));
    }
    assert_eq!(
        root,
        model.root(),
        "root of the last committed block {head}"
    );
    assert_eq!(state.state_root_at(head).unwrap(), root);
    let latest = state.latest().unwrap();
    for (address, (account, _)) in model.accounts.iter().take(50) {
        assert_eq!(latest.account(*address).unwrap(), Some(*account));
    }
    (state, model, head)
}

#[test]
fn restart_after_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.redb");
    for round in [20, 9, 13] {
        let last_seen = run_and_kill(&path, round);
        let (_, _, head) = check_reopened(&path, last_seen);
        println!("killed after block {last_seen}, reopened at head {head}");
    }
    let (state, mut model, head) = check_reopened(&path, 0);
    for number in head + 1..head + 15 {
        let changes = block(number);
        model.apply(&changes);
        assert_eq!(
            commit(&state, number, &changes),
            model.root(),
            "block {number}"
        );
    }
}
