//! EIP-1186 proofs verified with `alloy_trie::proof::verify_proof`.

use super::{Model, account, changes, commit, mem_state, update};
use crate::{AccountUpdate, StateChanges, StateError};
use alloy_primitives::{Address, B256, KECCAK256_EMPTY, U256, keccak256};
use alloy_rpc_types_eth::EIP1186AccountProofResponse;
use alloy_trie::{EMPTY_ROOT_HASH, Nibbles, proof::verify_proof};

/// Verifies `proof` against `root` and the values of `model`.
pub(crate) fn verify(proof: &EIP1186AccountProofResponse, root: B256, model: &Model) {
    let address = proof.address;
    let key = Nibbles::unpack(keccak256(address));
    verify_proof(
        root,
        key,
        model.account_leaf(&address),
        &proof.account_proof,
    )
    .unwrap();
    let (storage_root, storage) = match model.accounts.get(&address) {
        Some((acc, storage)) => {
            assert_eq!(
                (proof.nonce, proof.balance, proof.code_hash),
                (acc.nonce, acc.balance, acc.code_hash)
            );
            (Model::storage_root(storage), storage.clone())
        }
        None => {
            assert_eq!((proof.nonce, proof.balance), (0, U256::ZERO));
            assert_eq!(proof.code_hash, KECCAK256_EMPTY);
            (EMPTY_ROOT_HASH, Default::default())
        }
    };
    assert_eq!(proof.storage_hash, storage_root);
    for slot_proof in &proof.storage_proof {
        let slot = slot_proof.key.as_b256();
        let value = storage
            .get(&U256::from_be_bytes(slot.0))
            .copied()
            .unwrap_or_default();
        assert_eq!(slot_proof.value, value);
        let leaf = (!value.is_zero()).then(|| alloy_rlp::encode(value));
        verify_proof(
            storage_root,
            Nibbles::unpack(keccak256(slot)),
            leaf,
            &slot_proof.proof,
        )
        .unwrap();
    }
}

fn slots(keys: &[u64]) -> Vec<B256> {
    keys.iter().map(|k| B256::from(U256::from(*k))).collect()
}

fn addr(i: u8) -> Address {
    Address::with_last_byte(i)
}

/// Genesis with 30 accounts, some with storage; returns the model after it.
fn genesis(state: &crate::StateDb) -> (Model, B256) {
    let accounts = (1..=30u8).map(|i| {
        let storage: Vec<(u64, u64)> = (0..u64::from(i % 5) * 3).map(|s| (s, s + 100)).collect();
        (
            addr(i),
            update(account(u64::from(i), 1000 * u64::from(i)), &storage),
        )
    });
    let genesis = changes(accounts);
    let mut model = Model::default();
    model.apply(&genesis);
    (model, commit(state, 0, &genesis))
}

#[test]
fn proofs_at_latest_for_present_and_absent_keys() {
    let state = mem_state();
    let (model, root) = genesis(&state);
    for i in [4u8, 9, 30, 31, 200] {
        let proof = state
            .proof(0, addr(i), &slots(&[0, 1, 5, 11, 999]))
            .unwrap();
        verify(&proof, root, &model);
    }
}

#[test]
fn proofs_at_an_older_block_use_its_values() {
    let state = mem_state();
    let (old_model, old_root) = genesis(&state);
    let mut block1 = changes([
        (addr(4), update(account(9, 9), &[(0, 0), (1, 77), (50, 5)])),
        (addr(9), AccountUpdate::default()),
        (addr(40), update(account(1, 1), &[(3, 3)])),
    ]);
    block1.accounts.insert(
        addr(14),
        AccountUpdate {
            account: Some(account(1, 2)),
            wipe_storage: true,
            ..Default::default()
        },
    );
    let mut new_model = old_model.clone();
    new_model.apply(&block1);
    let new_root = commit(&state, 1, &block1);
    assert_eq!(new_root, new_model.root());
    for i in [4u8, 9, 14, 40, 41] {
        let keys = slots(&[0, 1, 3, 5, 50]);
        verify(
            &state.proof(0, addr(i), &keys).unwrap(),
            old_root,
            &old_model,
        );
        verify(
            &state.proof(1, addr(i), &keys).unwrap(),
            new_root,
            &new_model,
        );
    }
}

#[test]
fn proofs_in_an_empty_state() {
    let state = mem_state();
    let root = commit(&state, 0, &StateChanges::default());
    assert_eq!(root, EMPTY_ROOT_HASH);
    let proof = state.proof(0, addr(1), &slots(&[1])).unwrap();
    verify(&proof, root, &Model::default());
}

#[test]
fn proofs_of_unavailable_blocks_fail() {
    let state = mem_state();
    assert!(matches!(
        state.proof(0, addr(1), &[]),
        Err(StateError::BlockNotAvailable(0))
    ));
    genesis(&state);
    assert!(matches!(
        state.proof(1, addr(1), &[]),
        Err(StateError::BlockNotAvailable(1))
    ));
}
