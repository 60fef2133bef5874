//! EIP-1186 account and storage proofs at any retained block.

use crate::{
    HistoricalState, LatestState, StateDb, StateError, StateResult, history,
    meta::{self, Meta},
    scan,
    ssmt::{self, store::StoreReader},
    tables, trie,
};
use alloy_primitives::{Address, B256, keccak256};
use alloy_rpc_types_eth::{EIP1186AccountProofResponse, EIP1186StorageProof};
use alloy_trie::EMPTY_ROOT_HASH;
use redb::ReadTransaction;

impl StateDb {
    /// The EIP-1186 proof of `address` and its storage `slots` in the state of `block`.
    ///
    /// Absent accounts and slots get exclusion proofs. Proofs at the head read the stored
    /// tries (nodes in memory or in the trie tables); for older blocks the tries are rebuilt
    /// from the flat state with the change sets reverted.
    pub fn proof(
        &self,
        block: u64,
        address: Address,
        slots: &[B256],
    ) -> StateResult<EIP1186AccountProofResponse> {
        let txn = self.begin_read()?;
        let meta = Meta::read_snapshot(&txn)?;
        let head = meta.check_available(block)?;
        if let Some(head) = meta.head.filter(|(number, _)| *number == block) {
            return self.latest_proof(&txn, head, address, slots);
        }
        let state = HistoricalState::new(&txn, block, self.flat.clone())?;
        let account_proof = account_proof(&txn, block, address)?;
        let row = state.account_row(address)?;
        let storage_hash = row.map_or(EMPTY_ROOT_HASH, |r| r.storage_root);
        let storage_proof = storage_proofs(&txn, &state, (block, head), address, slots)?;
        if storage_proof.0 != storage_hash {
            return Err(root_mismatch(
                "storage",
                block,
                storage_proof.0,
                storage_hash,
            ));
        }
        // An absent account reads as the default: no nonce, no balance, empty code hash.
        let account = row.map(|r| r.account).unwrap_or_default();
        Ok(EIP1186AccountProofResponse {
            address,
            balance: account.balance,
            code_hash: account.code_hash,
            nonce: account.nonce,
            storage_hash,
            account_proof,
            storage_proof: storage_proof.1,
        })
    }
}

impl StateDb {
    /// The proof of `address` and `slots` at the head of the snapshot `txn`.
    fn latest_proof(
        &self,
        txn: &ReadTransaction,
        head: (u64, B256),
        address: Address,
        slots: &[B256],
    ) -> StateResult<EIP1186AccountProofResponse> {
        let state = LatestState::new(txn, self.flat.clone())?;
        let row = state.account_row(address)?;
        let storage_hash = row.map_or(EMPTY_ROOT_HASH, |r| r.storage_root);
        let hashed = keccak256(address);
        let (accounts, storage) = self.tries.roots_at(head, hashed, storage_hash);
        let reader = StoreReader::new(txn, self.tries.depth())?;
        let account_proof = ssmt::proof::proof(
            &reader.source(None),
            accounts,
            &ssmt::nibbles(hashed.as_slice()),
        )?;
        let mut storage_proof = Vec::with_capacity(slots.len());
        for slot in slots {
            let key = ssmt::nibbles(keccak256(slot).as_slice());
            let proof = ssmt::proof::proof(&reader.source(Some(hashed)), storage.clone(), &key)?;
            storage_proof.push(EIP1186StorageProof {
                key: (*slot).into(),
                value: state.slot(address, *slot)?,
                proof,
            });
        }
        let account = row.map(|r| r.account).unwrap_or_default();
        Ok(EIP1186AccountProofResponse {
            address,
            balance: account.balance,
            code_hash: account.code_hash,
            nonce: account.nonce,
            storage_hash,
            account_proof,
            storage_proof,
        })
    }
}

/// The account-trie proof of `address` at `block`, checked against the block's root.
fn account_proof(
    txn: &ReadTransaction,
    block: u64,
    address: Address,
) -> StateResult<Vec<alloy_primitives::Bytes>> {
    let hashed_accounts = txn.open_table(tables::HASHED_ACCOUNTS)?;
    let changes = txn.open_table(tables::ACCOUNT_CHANGES)?;
    let accounts = scan::overlay(
        scan::hashed_accounts(&hashed_accounts)?,
        history::accounts_overlay(&changes, block)?,
    );
    let key = keccak256(address);
    let (root, proofs) = trie::state_root_with_proofs(accounts, &[key])?;
    let expected = meta::root_at(txn, block)?;
    if root != expected {
        return Err(root_mismatch("state", block, root, expected));
    }
    Ok(proofs.proof(key))
}

/// The storage root of `address` at `at.0` (the head being `at.1`) and the proofs of `slots`.
fn storage_proofs(
    txn: &ReadTransaction,
    state: &HistoricalState,
    at: (u64, u64),
    address: Address,
    slots: &[B256],
) -> StateResult<(B256, Vec<EIP1186StorageProof>)> {
    let hashed_storage = txn.open_table(tables::HASHED_STORAGE)?;
    let changes = txn.open_table(tables::STORAGE_CHANGES)?;
    let storage = scan::overlay(
        scan::hashed_storage(&hashed_storage, address)?,
        history::storage_overlay(&changes, address, at.0, at.1)?,
    );
    let keys: Vec<B256> = slots.iter().map(keccak256).collect();
    let (root, proofs) = trie::storage_root_with_proofs(storage, &keys)?;
    let mut out = Vec::with_capacity(slots.len());
    for (slot, key) in slots.iter().zip(keys) {
        let value = state.slot(address, *slot)?;
        out.push(EIP1186StorageProof {
            key: (*slot).into(),
            value,
            proof: proofs.proof(key),
        });
    }
    Ok((root, out))
}

fn root_mismatch(kind: &str, block: u64, got: B256, expected: B256) -> StateError {
    StateError::Corrupt(format!(
        "rebuilt {kind} root {got} of block {block} differs from {expected}"
    ))
}
