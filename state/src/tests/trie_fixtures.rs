//! The TrieTests vectors of `ethereum/tests` reproduced by the incremental trie: plain
//! (raw, unhashed keys of any length, empty values deleting), secure and any-order files.

use super::fixtures::{fixtures_dir, trie_inputs};
use crate::ssmt::{self, NoSource, Op, Root};
use alloy_primitives::{B256, keccak256};
use serde_json::Value;
use std::collections::BTreeMap;

/// The changes of a test's `in`, in order: keys hashed or not, empty values deleting.
fn ops_of(input: &Value, secure: bool) -> Vec<Op> {
    trie_inputs(input)
        .into_iter()
        .map(|(key, value)| {
            let key = if secure {
                keccak256(&key).to_vec()
            } else {
                key
            };
            let value = value.filter(|v| !v.is_empty()).map(Vec::into_boxed_slice);
            (ssmt::nibbles(&key), value)
        })
        .collect()
}

/// The root after applying `ops` one at a time.
fn root_one_by_one(ops: &[Op], depth: usize) -> B256 {
    let mut root: Root = None;
    let mut hash = alloy_trie::EMPTY_ROOT_HASH;
    for op in ops {
        let updated = ssmt::update(&NoSource, depth, root, std::slice::from_ref(op)).unwrap();
        (root, hash) = (updated.root, updated.hash);
    }
    hash
}

/// The root after applying `ops` as one batch.
fn root_batch(ops: &[Op], depth: usize) -> B256 {
    let mut ops = ops.to_vec();
    ssmt::sort_ops(&mut ops);
    ssmt::update(&NoSource, depth, None, &ops).unwrap().hash
}

#[test]
fn trie_test_vectors() {
    let Some(dir) = fixtures_dir("TrieTests") else {
        return;
    };
    let files = [
        ("trietest.json", false),
        ("trieanyorder.json", false),
        ("trietest_secureTrie.json", true),
        ("trieanyorder_secureTrie.json", true),
        ("hex_encoded_securetrie_test.json", true),
    ];
    let mut checked = 0;
    for (file, secure) in files {
        let text = std::fs::read_to_string(dir.join(file)).expect(file);
        let tests: BTreeMap<String, Value> = serde_json::from_str(&text).expect(file);
        for (name, test) in tests {
            let expected: B256 = test["root"].as_str().expect("root").parse().expect("hex");
            let ops = ops_of(&test["in"], secure);
            for depth in [0, 1, 2] {
                assert_eq!(
                    root_one_by_one(&ops, depth),
                    expected,
                    "{file}: {name} d{depth}"
                );
                assert_eq!(
                    root_batch(&ops, depth),
                    expected,
                    "{file}: {name} batch d{depth}"
                );
            }
            checked += 1;
        }
    }
    println!("checked {checked} trie test vectors");
    assert_eq!(checked, 25);
}
