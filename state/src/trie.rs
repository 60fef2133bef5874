//! Merkle Patricia roots and proofs computed from scratch over sorted leaves with alloy-trie's
//! `HashBuilder`, and the leaf encodings of state tries.
//!
//! Block commits use the incremental trie of [`crate::ssmt`]; this module serves the roots of
//! states given whole (genesis allocations), proofs at older blocks (rebuilt from the flat
//! state and change sets), and the from-scratch baseline of tests and the benchmark.

use crate::{StateError, StateResult, tables::AccountRow};
use alloy_primitives::{B256, Bytes, U256};
use alloy_rlp::{Encodable, Header};
use alloy_trie::{
    HashBuilder, Nibbles,
    proof::{ProofNodes, ProofRetainer},
};

/// A trie leaf: the hashed key and the RLP-encoded value.
pub(crate) type Leaf = (B256, Vec<u8>);

/// The account-trie leaf value: rlp([nonce, balance, storage_root, code_hash]).
pub(crate) fn account_leaf(row: &AccountRow) -> Vec<u8> {
    let a = &row.account;
    let payload_length =
        a.nonce.length() + a.balance.length() + row.storage_root.length() + a.code_hash.length();
    let mut out = Vec::with_capacity(payload_length + 3);
    Header {
        list: true,
        payload_length,
    }
    .encode(&mut out);
    a.nonce.encode(&mut out);
    a.balance.encode(&mut out);
    row.storage_root.encode(&mut out);
    a.code_hash.encode(&mut out);
    out
}

/// The storage-trie leaf value: rlp(value).
pub(crate) fn storage_leaf(value: U256) -> Vec<u8> {
    alloy_rlp::encode(value)
}

/// Feeds leaves into `hb`, rejecting keys that are not strictly increasing.
fn add_leaves<K>(
    hb: &mut HashBuilder<K>,
    leaves: impl IntoIterator<Item = StateResult<Leaf>>,
) -> StateResult<()>
where
    K: AsRef<alloy_trie::proof::AddedRemovedKeys>,
{
    let mut last: Option<B256> = None;
    for leaf in leaves {
        let (key, value) = leaf?;
        if last.is_some_and(|l| l >= key) {
            return Err(StateError::Corrupt(format!("trie key {key} out of order")));
        }
        last = Some(key);
        hb.add_leaf(Nibbles::unpack(key), &value);
    }
    Ok(())
}

/// Account-trie entries: keccak256(address) and the stored account row.
fn account_leaves(
    accounts: impl IntoIterator<Item = StateResult<(B256, AccountRow)>>,
) -> impl Iterator<Item = StateResult<Leaf>> {
    accounts
        .into_iter()
        .map(|entry| entry.map(|(key, row)| (key, account_leaf(&row))))
}

/// Storage-trie entries: keccak256(slot) and the non-zero value.
fn storage_leaves(
    slots: impl IntoIterator<Item = StateResult<(B256, U256)>>,
) -> impl Iterator<Item = StateResult<Leaf>> {
    slots
        .into_iter()
        .map(|entry| entry.map(|(key, value)| (key, storage_leaf(value))))
}

/// The state root over accounts in increasing hashed-address order.
pub(crate) fn state_root(
    accounts: impl IntoIterator<Item = StateResult<(B256, AccountRow)>>,
) -> StateResult<B256> {
    root(account_leaves(accounts))
}

/// The storage root over slots in increasing hashed-slot order.
pub(crate) fn storage_root(
    slots: impl IntoIterator<Item = StateResult<(B256, U256)>>,
) -> StateResult<B256> {
    root(storage_leaves(slots))
}

/// [`state_root`] plus the proofs of the hashed addresses `targets`.
pub(crate) fn state_root_with_proofs(
    accounts: impl IntoIterator<Item = StateResult<(B256, AccountRow)>>,
    targets: &[B256],
) -> StateResult<(B256, TrieProofs)> {
    root_with_proofs(account_leaves(accounts), targets)
}

/// [`storage_root`] plus the proofs of the hashed slots `targets`.
pub(crate) fn storage_root_with_proofs(
    slots: impl IntoIterator<Item = StateResult<(B256, U256)>>,
    targets: &[B256],
) -> StateResult<(B256, TrieProofs)> {
    root_with_proofs(storage_leaves(slots), targets)
}

/// The root of the trie holding `leaves` (strictly increasing keys).
pub(crate) fn root(leaves: impl IntoIterator<Item = StateResult<Leaf>>) -> StateResult<B256> {
    let mut hb = HashBuilder::default();
    add_leaves(&mut hb, leaves)?;
    Ok(hb.root())
}

/// The root of the trie holding `leaves` and the proof nodes on the paths to `targets`.
fn root_with_proofs(
    leaves: impl IntoIterator<Item = StateResult<Leaf>>,
    targets: &[B256],
) -> StateResult<(B256, TrieProofs)> {
    let retainer = ProofRetainer::new(targets.iter().map(|t| Nibbles::unpack(*t)).collect());
    let mut hb = HashBuilder::default().with_proof_retainer(retainer);
    add_leaves(&mut hb, leaves)?;
    let root = hb.root();
    Ok((root, TrieProofs(hb.take_proof_nodes())))
}

/// Proof nodes retained while computing a root.
#[derive(Debug)]
pub(crate) struct TrieProofs(ProofNodes);

impl TrieProofs {
    /// The proof of `key`: the nodes from the root down its path.
    pub(crate) fn proof(&self, key: B256) -> Vec<Bytes> {
        let path = Nibbles::unpack(key);
        self.0
            .matching_nodes_sorted(&path)
            .into_iter()
            .map(|(_, node)| node)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{keccak256, map::B256Map};
    use alloy_trie::{EMPTY_ROOT_HASH, proof::verify_proof};

    fn leaves(n: u64) -> Vec<Leaf> {
        let mut v: Vec<Leaf> = (0..n)
            .map(|i| (keccak256(i.to_be_bytes()), storage_leaf(U256::from(i + 1))))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn empty_trie_root() {
        assert_eq!(root(Vec::new()).unwrap(), EMPTY_ROOT_HASH);
    }

    #[test]
    fn out_of_order_leaves_are_an_error() {
        let mut v = leaves(3);
        v.swap(0, 1);
        assert!(matches!(
            root(v.into_iter().map(Ok)),
            Err(StateError::Corrupt(_))
        ));
    }

    #[test]
    fn proofs_verify_for_present_and_absent_keys() {
        let v = leaves(50);
        let values: B256Map<Vec<u8>> = v.iter().cloned().collect();
        let absent = keccak256(b"absent");
        let targets = [v[0].0, v[17].0, absent];
        let (root, proofs) = root_with_proofs(v.into_iter().map(Ok), &targets).unwrap();
        for key in targets {
            let proof = proofs.proof(key);
            let expected = values.get(&key).cloned();
            verify_proof(root, Nibbles::unpack(key), expected, &proof).unwrap();
        }
    }

    #[test]
    fn proof_of_empty_trie_verifies() {
        let key = keccak256(b"k");
        let (root, proofs) = root_with_proofs(Vec::new(), &[key]).unwrap();
        assert_eq!(root, EMPTY_ROOT_HASH);
        verify_proof(root, Nibbles::unpack(key), None, &proofs.proof(key)).unwrap();
    }
}
