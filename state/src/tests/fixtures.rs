//! Known roots from the Ethereum test fixtures (`ethereum/tests`), read from
//! `../../shared/ethereum-tests` relative to the crate; skipped with a note when absent.

use super::mem_state;
use crate::{Account, AccountUpdate, StateChanges, StateCommitter, StateDb, trie};
use alloy_primitives::{Address, B256, Bytes, KECCAK256_EMPTY, U256, hex, keccak256};
use serde::Deserialize;
use serde_json::Value;
use std::{
    collections::{BTreeMap, HashSet},
    path::{Path, PathBuf},
};

pub(super) fn fixtures_dir(sub: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/ethereum-tests")
        .join(sub);
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("note: {} is absent, skipping", dir.display());
        None
    }
}

/// A trie-test string: `0x`-prefixed hex, or raw UTF-8 bytes.
fn trie_bytes(value: &Value) -> Option<Vec<u8>> {
    let s = value.as_str()?;
    Some(match s.strip_prefix("0x") {
        Some(h) => hex::decode(h).unwrap_or_else(|e| panic!("bad hex {s}: {e}")),
        None => s.as_bytes().to_vec(),
    })
}

/// The key-value pairs of a trie test's `in`, in application order (`None` deletes).
pub(super) fn trie_inputs(input: &Value) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
    match input {
        Value::Array(pairs) => pairs
            .iter()
            .map(|p| (trie_bytes(&p[0]).expect("key"), trie_bytes(&p[1])))
            .collect(),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| (trie_bytes(&Value::from(k.clone())).unwrap(), trie_bytes(v)))
            .collect(),
        other => panic!("unexpected trie test input {other}"),
    }
}

/// The secure-trie root of a trie test: keys hashed with keccak256, as in storage tries.
fn secure_trie_root(input: &Value) -> B256 {
    let mut leaves = BTreeMap::new();
    for (key, value) in trie_inputs(input) {
        match value.filter(|v| !v.is_empty()) {
            Some(value) => leaves.insert(keccak256(&key), value),
            None => leaves.remove(&keccak256(&key)),
        };
    }
    trie::root(leaves.into_iter().map(Ok)).unwrap()
}

#[test]
fn secure_trie_fixtures() {
    let Some(dir) = fixtures_dir("TrieTests") else {
        return;
    };
    let files = [
        "trietest_secureTrie.json",
        "trieanyorder_secureTrie.json",
        "hex_encoded_securetrie_test.json",
    ];
    let mut checked = 0;
    for file in files {
        let text = std::fs::read_to_string(dir.join(file)).expect(file);
        let tests: BTreeMap<String, Value> = serde_json::from_str(&text).expect(file);
        for (name, test) in tests {
            let expected: B256 = test["root"]
                .as_str()
                .expect("root")
                .parse()
                .expect("root hex");
            assert_eq!(secure_trie_root(&test["in"]), expected, "{file}: {name}");
            checked += 1;
        }
    }
    println!("checked {checked} secure trie fixtures");
    assert!(checked > 10);
}

#[derive(Deserialize)]
struct BlockchainTest {
    pre: BTreeMap<Address, PreAccount>,
    #[serde(rename = "genesisBlockHeader")]
    genesis: GenesisHeader,
    #[serde(rename = "postState")]
    post_state: Option<BTreeMap<Address, PreAccount>>,
    #[serde(rename = "postStateHash")]
    post_state_hash: Option<B256>,
    #[serde(default)]
    blocks: Vec<FixtureBlock>,
    lastblockhash: B256,
}

#[derive(Deserialize)]
struct GenesisHeader {
    #[serde(rename = "stateRoot")]
    state_root: B256,
    hash: B256,
}

#[derive(Deserialize)]
struct FixtureBlock {
    #[serde(rename = "blockHeader")]
    header: Option<GenesisHeader>,
}

impl BlockchainTest {
    /// The state root of the last valid block (the one `lastblockhash` names).
    fn last_state_root(&self) -> Option<B256> {
        if self.genesis.hash == self.lastblockhash {
            return Some(self.genesis.state_root);
        }
        self.blocks
            .iter()
            .filter_map(|b| b.header.as_ref())
            .find(|h| h.hash == self.lastblockhash)
            .map(|h| h.state_root)
    }
}

#[derive(Deserialize)]
struct PreAccount {
    balance: U256,
    nonce: U256,
    code: Bytes,
    #[serde(default)]
    storage: BTreeMap<U256, U256>,
}

/// The genesis block changes of a `pre` allocation.
fn genesis_changes(pre: &BTreeMap<Address, PreAccount>) -> StateChanges {
    let mut changes = StateChanges::default();
    for (address, acc) in pre {
        let nonce = u64::try_from(acc.nonce).expect("nonce fits u64");
        let code_hash = if acc.code.is_empty() {
            KECCAK256_EMPTY
        } else {
            keccak256(&acc.code)
        };
        if !acc.code.is_empty() {
            changes.code.insert(code_hash, acc.code.clone());
        }
        let account = Some(Account {
            nonce,
            balance: acc.balance,
            code_hash,
        });
        let update = AccountUpdate {
            account,
            wipe_storage: false,
            storage: acc.storage.clone(),
        };
        changes.accounts.insert(*address, update);
    }
    changes
}

pub(super) fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable fixtures dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

/// Commits `accounts` as genesis in a transaction that is then dropped; returns the root.
fn root_of(state: &StateDb, accounts: &BTreeMap<Address, PreAccount>) -> B256 {
    let txn = state.database().begin_write().unwrap();
    let root = state
        .commit_block(&txn, 0, &genesis_changes(accounts))
        .unwrap();
    drop(txn);
    state.on_aborted(0);
    root
}

/// Commits `test.pre` as genesis in a transaction that is then dropped, and compares roots.
fn check_genesis(state: &StateDb, test: &BlockchainTest, name: &str) {
    assert_eq!(root_of(state, &test.pre), test.genesis.state_root, "{name}");
}

/// Compares the root of `test.postState` with the last valid block's; false when the test
/// gives only a `postStateHash`.
fn check_post_state(state: &StateDb, test: &BlockchainTest, name: &str) -> bool {
    let Some(post) = &test.post_state else {
        assert!(test.post_state_hash.is_some(), "{name}: no post state");
        return false;
    };
    let expected = test
        .last_state_root()
        .unwrap_or_else(|| panic!("{name}: no last block"));
    assert_eq!(root_of(state, post), expected, "{name}: post state");
    true
}

#[test]
fn blockchain_test_genesis_roots() {
    let Some(dir) = fixtures_dir("BlockchainTests") else {
        return;
    };
    let mut files = Vec::new();
    json_files(&dir, &mut files);
    files.sort();
    let state = mem_state();
    let (mut seen, mut checked) = (HashSet::new(), 0);
    let (mut tests_seen, mut post_checked, mut post_hash_only) = (0, 0, 0);
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let tests: BTreeMap<String, BlockchainTest> =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for (name, test) in tests {
            let name = format!("{}: {name}", file.display());
            tests_seen += 1;
            check_genesis(&state, &test, &name);
            checked += 1;
            seen.insert(test.genesis.state_root);
            if check_post_state(&state, &test, &name) {
                post_checked += 1;
            } else {
                post_hash_only += 1;
            }
        }
    }
    println!(
        "{tests_seen} tests in {} files: checked {checked} genesis roots ({} distinct), \
         {post_checked} post-state roots; skipped {post_hash_only} with postStateHash only",
        files.len(),
        seen.len()
    );
    assert_eq!(
        state.head(),
        None,
        "dropped transactions must leave no trace"
    );
}
