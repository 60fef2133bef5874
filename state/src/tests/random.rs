//! Seeded random blocks: roots against a from-scratch reference and reads at every block.

use super::{Model, code_entry, commit, mem_db, mem_state};
use crate::{Account, AccountUpdate, StateChanges, StateConfig, StateDb, StateProvider};
use alloy_primitives::{Address, B256, KECCAK256_EMPTY, U256};
use rand::{Rng, SeedableRng, rngs::StdRng};

const ADDRESSES: u8 = 24;
const SLOTS: u64 = 16;

fn address(i: u8) -> Address {
    Address::with_last_byte(i)
}

/// Slot keys: small numbers and a few full-width ones.
fn slot(i: u64) -> U256 {
    if i % 4 == 3 {
        U256::from(i).wrapping_mul(U256::MAX / U256::from(7))
    } else {
        U256::from(i)
    }
}

fn random_storage(rng: &mut StdRng) -> std::collections::BTreeMap<U256, U256> {
    (0..rng.random_range(0..5))
        .map(|_| {
            let value = if rng.random_bool(0.3) {
                0
            } else {
                rng.random_range(1..1000u64)
            };
            (slot(rng.random_range(0..SLOTS)), U256::from(value))
        })
        .collect()
}

fn random_account(rng: &mut StdRng, changes: &mut StateChanges) -> Account {
    let mut account = Account {
        nonce: rng.random_range(0..5),
        balance: U256::from(rng.random_range(0..1_000_000u64)),
        code_hash: KECCAK256_EMPTY,
    };
    if rng.random_bool(0.2) {
        let (hash, code) = code_entry(&rng.random::<[u8; 8]>());
        changes.code.insert(hash, code);
        account.code_hash = hash;
    }
    account
}

fn random_update(rng: &mut StdRng, changes: &mut StateChanges) -> AccountUpdate {
    match rng.random_range(0..10) {
        0 => AccountUpdate {
            account: None,
            wipe_storage: rng.random_bool(0.5),
            ..Default::default()
        },
        1 => AccountUpdate {
            account: Some(random_account(rng, changes)),
            wipe_storage: true,
            storage: random_storage(rng),
        },
        _ => AccountUpdate {
            account: Some(random_account(rng, changes)),
            wipe_storage: false,
            storage: random_storage(rng),
        },
    }
}

fn random_block(rng: &mut StdRng) -> StateChanges {
    let mut changes = StateChanges::default();
    for _ in 0..rng.random_range(0..8) {
        let update = random_update(rng, &mut changes);
        changes
            .accounts
            .insert(address(rng.random_range(0..ADDRESSES)), update);
    }
    changes
}

/// Checks every account and slot of the pool in `state` against `model`.
fn check_reads(state: &impl StateProvider, model: &Model) {
    for i in 0..ADDRESSES {
        let a = address(i);
        let expected = model.accounts.get(&a);
        assert_eq!(
            state.account(a).unwrap(),
            expected.map(|e| e.0),
            "account {a}"
        );
        for s in (0..SLOTS).map(slot) {
            let value = expected
                .and_then(|e| e.1.get(&s).copied())
                .unwrap_or_default();
            assert_eq!(state.storage(a, s).unwrap(), value, "slot {s} of {a}");
        }
        if let Some((acc, _)) = expected {
            let code = model.code.get(&acc.code_hash).cloned().unwrap_or_default();
            assert_eq!(state.code(a).unwrap(), code);
        }
    }
}

fn run(seed: u64, blocks: u64) -> (StateDb, Vec<(Model, B256)>) {
    run_on(mem_state(), seed, blocks)
}

fn run_on(state: StateDb, seed: u64, blocks: u64) -> (StateDb, Vec<(Model, B256)>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut model = Model::default();
    let mut snapshots = Vec::new();
    for number in 0..blocks {
        let changes = if number % 9 == 5 {
            StateChanges::default()
        } else {
            random_block(&mut rng)
        };
        model.apply(&changes);
        let root = commit(&state, number, &changes);
        assert_eq!(root, model.root(), "seed {seed} block {number}");
        assert_eq!(state.head(), Some((number, root)));
        if number % 3 == 0 {
            // Reads between blocks fill the flat cache that the next blocks must update.
            check_reads(&state.latest().unwrap(), &model);
        }
        snapshots.push((model.clone(), root));
    }
    (state, snapshots)
}

#[test]
fn random_blocks_roots_match_reference() {
    for seed in [1, 2, 3, 4] {
        run(seed, 80);
    }
}

/// Every shard depth and thread count, with a cache so small that every block reloads the
/// tries from the stored nodes, and with a cache holding everything.
#[test]
fn random_blocks_with_every_trie_config() {
    for shard_depth in 0..=2u8 {
        for threads in [1, 2, 4] {
            for cache_bytes in [0, 1 << 30] {
                let config = StateConfig {
                    shard_depth,
                    threads,
                    cache_bytes,
                    ..StateConfig::default()
                };
                let state = StateDb::open_with_config(mem_db(), config).unwrap();
                let seed = u64::from(shard_depth) * 10 + threads as u64;
                let (state, snapshots) = run_on(state, seed, 40);
                let (model, root) = snapshots.last().unwrap();
                let slots: Vec<B256> = (0..SLOTS).map(|s| B256::from(slot(s))).collect();
                for i in [0u8, 5, 13, 23] {
                    let proof = state.proof(39, address(i), &slots).unwrap();
                    super::proofs::verify(&proof, *root, model);
                }
            }
        }
    }
}

#[test]
fn random_blocks_reads_at_every_block() {
    let (state, snapshots) = run(42, 60);
    check_reads(&state.latest().unwrap(), &snapshots.last().unwrap().0);
    for (number, (model, root)) in snapshots.iter().enumerate() {
        let number = number as u64;
        check_reads(&state.at_block(number).unwrap(), model);
        assert_eq!(state.state_root_at(number).unwrap(), *root);
    }
}

#[test]
fn random_blocks_proofs_at_older_blocks() {
    let (state, snapshots) = run(7, 30);
    for number in [0u64, 3, 11, 29] {
        let (model, root) = &snapshots[number as usize];
        for i in [0u8, 5, 13, 23] {
            let slots: Vec<B256> = (0..SLOTS).map(|s| B256::from(slot(s))).collect();
            let proof = state.proof(number, address(i), &slots).unwrap();
            super::proofs::verify(&proof, *root, model);
        }
    }
}

/// A contract with many slot changes per block goes through the big-trie path (its storage
/// trie split across threads) and still matches the reference roots and proofs.
#[test]
fn hot_contract_storage_matches_reference() {
    let config = StateConfig {
        shard_depth: 2,
        threads: 2,
        cache_bytes: 0,
        ..StateConfig::default()
    };
    let state = StateDb::open_with_config(mem_db(), config).unwrap();
    let mut rng = StdRng::seed_from_u64(77);
    let mut model = Model::default();
    let hot = address(200);
    for number in 0..4u64 {
        let mut changes = random_block(&mut rng);
        let storage = (0..1200)
            .map(|_| {
                let value = if number > 0 && rng.random_bool(0.3) {
                    0
                } else {
                    rng.random_range(1..1000u64)
                };
                (U256::from(rng.random_range(0..3000u64)), U256::from(value))
            })
            .collect();
        let account = random_account(&mut rng, &mut changes);
        changes.accounts.insert(
            hot,
            AccountUpdate {
                account: Some(account),
                wipe_storage: false,
                storage,
            },
        );
        model.apply(&changes);
        assert_eq!(
            commit(&state, number, &changes),
            model.root(),
            "block {number}"
        );
    }
    let slots: Vec<B256> = (0..40u64).map(|s| B256::from(U256::from(s))).collect();
    let proof = state.proof(3, hot, &slots).unwrap();
    super::proofs::verify(&proof, model.root(), &model);
}
