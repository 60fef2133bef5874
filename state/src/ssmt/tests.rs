//! Differential tests: incremental roots against from-scratch HashBuilder roots.

use super::*;
use crate::trie;
use alloy_primitives::{keccak256, map::HashMap};
use parking_lot::Mutex;
use rand::{Rng, SeedableRng, rngs::StdRng};
use std::collections::{BTreeMap, BTreeSet};

/// A node store in memory, filled from update writes.
#[derive(Default)]
struct MapSource(Mutex<HashMap<Vec<u8>, Vec<u8>>>);

impl MapSource {
    fn store(&self, updated: &Updated) {
        let mut map = self.0.lock();
        for path in &updated.removed {
            map.remove(&path.to_vec());
        }
        for (path, rlp) in &updated.writes {
            if rlp.is_empty() {
                map.remove(&path.to_vec());
            } else {
                map.insert(path.to_vec(), rlp.clone());
            }
        }
    }
}

impl Source for MapSource {
    fn load(&self, path: &[u8], hash: B256) -> StateResult<NodeRef> {
        let map = self.0.lock();
        let rlp = map
            .get(path)
            .ok_or_else(|| StateError::Corrupt("missing".into()))?;
        assert_eq!(keccak256(rlp), hash, "stale node at {path:?}");
        node::decode(rlp)
    }
}

fn scratch_root(model: &BTreeMap<B256, Vec<u8>>) -> B256 {
    trie::root(model.iter().map(|(k, v)| Ok((*k, v.clone())))).unwrap()
}

/// Keys from a small pool (so that updates and deletes hit existing keys), some sharing
/// long prefixes so that extensions form and collapse.
fn random_key(rng: &mut StdRng, pool: u64) -> B256 {
    let i = rng.random_range(0..pool);
    let mut key = keccak256(i.to_be_bytes());
    if i % 5 == 0 {
        key.0[..12].copy_from_slice(&[0x42; 12]);
    }
    key
}

fn random_batch(rng: &mut StdRng, pool: u64, model: &mut BTreeMap<B256, Vec<u8>>) -> Vec<Op> {
    let mut ops = Vec::new();
    for _ in 0..rng.random_range(1..40) {
        let key = random_key(rng, pool);
        let value = if rng.random_bool(0.35) {
            model.remove(&key);
            None
        } else {
            let len = rng.random_range(1..40);
            let v: Vec<u8> = (0..len).map(|_| rng.random()).collect();
            model.insert(key, v.clone());
            Some(v.into_boxed_slice())
        };
        ops.push((nibbles(key.as_slice()), value));
    }
    sort_ops(&mut ops);
    ops
}

/// Runs `batches` random batches; every `reload` batches the trie is dropped from memory
/// and reloaded lazily from the stored nodes.
fn differential(seed: u64, depth: usize, batches: usize, reload: usize) {
    let mut rng = StdRng::seed_from_u64(seed);
    let pool = rng.random_range(8..300);
    let source = MapSource::default();
    let mut model = BTreeMap::new();
    let mut root: Root = None;
    for b in 0..batches {
        let ops = random_batch(&mut rng, pool, &mut model);
        let updated = update(&source, depth, root, &ops).unwrap();
        assert_eq!(
            updated.hash,
            scratch_root(&model),
            "seed {seed} depth {depth} batch {b}"
        );
        source.store(&updated);
        if seed.is_multiple_of(4) {
            assert_no_stale_nodes(&source, &model);
        }
        root = if reload > 0 && b % reload == 0 {
            stored_root(updated.hash)
        } else {
            updated.root
        };
    }
}

/// The stored paths are exactly those of the hashed nodes of the trie of `model` (and its
/// root): removed nodes were deleted.
fn assert_no_stale_nodes(source: &MapSource, model: &BTreeMap<B256, Vec<u8>>) {
    let mut ops: Vec<Op> = model
        .iter()
        .map(|(k, v)| (nibbles(k.as_slice()), Some(v.clone().into_boxed_slice())))
        .collect();
    sort_ops(&mut ops);
    let fresh = update(&NoSource, 0, None, &ops).unwrap();
    let expected: BTreeSet<Vec<u8>> = fresh.writes.iter().map(|(p, _)| p.to_vec()).collect();
    let mut stored: BTreeSet<Vec<u8>> = source.0.lock().keys().cloned().collect();
    if fresh.root.is_none() {
        stored.remove(&Vec::new());
    }
    let extra: Vec<_> = stored.difference(&expected).collect();
    let missing: Vec<_> = expected.difference(&stored).collect();
    assert!(
        extra.is_empty() && missing.is_empty(),
        "stale {extra:?}, missing {missing:?}"
    );
}

#[test]
fn differential_against_hash_builder() {
    for threads in [1, 2, 4] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            for depth in 0..=2 {
                for seed in 0..40 {
                    differential(
                        seed * 31 + depth as u64,
                        depth,
                        60,
                        [0, 1, 3][seed as usize % 3],
                    );
                }
            }
        });
    }
}

#[test]
fn big_batches_split_across_shards() {
    let mut rng = StdRng::seed_from_u64(99);
    for depth in 0..=2 {
        let mut model = BTreeMap::new();
        let mut root: Root = None;
        for round in 0..6 {
            let mut ops = Vec::new();
            for _ in 0..3000 {
                let key = keccak256(rng.random_range(0..5000u32).to_be_bytes());
                let value = (round % 3 != 2 || rng.random_bool(0.2)).then(|| {
                    let v = rng.random::<[u8; 8]>().to_vec();
                    v.into_boxed_slice()
                });
                match &value {
                    Some(v) => model.insert(key, v.to_vec()),
                    None => model.remove(&key),
                };
                ops.push((nibbles(key.as_slice()), value));
            }
            sort_ops(&mut ops);
            let updated = update(&NoSource, depth, root, &ops).unwrap();
            assert_eq!(
                updated.hash,
                scratch_root(&model),
                "depth {depth} round {round}"
            );
            root = updated.root;
        }
    }
}

#[test]
fn proofs_verify_after_updates_and_reloads() {
    use alloy_trie::{Nibbles, proof::verify_proof};
    let mut rng = StdRng::seed_from_u64(3);
    let source = MapSource::default();
    let mut model = BTreeMap::new();
    let mut root: Root = None;
    for b in 0..30 {
        let ops = random_batch(&mut rng, 120, &mut model);
        let updated = update(&source, 1, root, &ops).unwrap();
        source.store(&updated);
        root = if b % 2 == 0 {
            stored_root(updated.hash)
        } else {
            updated.root
        };
        for i in 0..20 {
            let key = random_key(&mut rng, 120 + i);
            let nodes = proof::proof(&source, root.clone(), &nibbles(key.as_slice())).unwrap();
            let expected = model.get(&key).cloned();
            verify_proof(updated.hash, Nibbles::unpack(key), expected, &nodes)
                .unwrap_or_else(|e| panic!("batch {b} key {key}: {e}"));
        }
    }
}

#[test]
fn sort_ops_keeps_last_change() {
    let k = |b: u8| Box::from([b]);
    let mut ops = vec![
        (k(2), None),
        (k(1), Some(k(1))),
        (k(2), Some(k(9))),
        (k(1), None),
    ];
    sort_ops(&mut ops);
    assert_eq!(ops, vec![(k(1), None), (k(2), Some(k(9)))]);
}

#[test]
fn shard_loads_count_prefixes() {
    let ops: Vec<Op> = vec![
        (Box::from([1, 2]), None),
        (Box::from([1, 3]), None),
        (Box::from([15]), None),
    ];
    let loads = shard_loads(&ops, 1);
    assert_eq!(
        (loads[1], loads[15], loads.iter().sum::<usize>()),
        (2, 1, 3)
    );
}

/// Timing of the engine alone (run with `--release --ignored --nocapture`).
#[test]
#[ignore = "timing, not a check"]
fn engine_timing() {
    let mut rng = StdRng::seed_from_u64(5);
    let n: u64 = std::env::var("ENGINE_N").map_or(100_000, |v| v.parse().unwrap());
    let mut ops: Vec<Op> = (0..n)
        .map(|i| {
            (
                nibbles(keccak256(i.to_be_bytes()).as_slice()),
                Some(vec![1u8; 70].into_boxed_slice()),
            )
        })
        .collect();
    sort_ops(&mut ops);
    let base = update(&NoSource, 2, None, &ops).unwrap().root;
    let mut batch: Vec<Op> = (0..10_000)
        .map(|_| {
            let i = rng.random_range(0..n);
            (
                nibbles(keccak256(i.to_be_bytes()).as_slice()),
                Some(vec![2u8; 70].into_boxed_slice()),
            )
        })
        .collect();
    sort_ops(&mut batch);
    let rounds: Vec<usize> =
        std::env::var("ENGINE_THREADS").map_or(vec![1, 2, 1, 2], |t| vec![t.parse().unwrap(); 6]);
    for threads in rounds {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let (mut best, mut best_apply) = (f64::MAX, f64::MAX);
        for _ in 0..10 {
            let start = std::time::Instant::now();
            let ctx = update::Ctx {
                source: &NoSource,
                par_depth: 2,
                removed: None,
            };
            let root = pool.install(|| update::apply(ctx, base.clone(), 0, &batch).unwrap());
            best_apply = best_apply.min(start.elapsed().as_secs_f64() * 1e3);
            let mut writes = Vec::new();
            pool.install(|| hash::hash(root.as_ref().unwrap(), &mut Vec::new(), 2, &mut writes));
            best = best.min(start.elapsed().as_secs_f64() * 1e3);
            drop((root, writes));
        }
        println!("threads {threads}: {best:.2} ms (apply {best_apply:.2} ms)");
        let ctx = update::Ctx {
            source: &NoSource,
            par_depth: 2,
            removed: None,
        };
        let root = update::apply(ctx, base.clone(), 0, &batch).unwrap();
        let mut writes = Vec::new();
        hash::hash(root.as_ref().unwrap(), &mut Vec::new(), 2, &mut writes);
        let bytes: usize = writes.iter().map(|w| w.1.len()).sum();
        println!("{} nodes written, {bytes} bytes", writes.len());
    }
}
