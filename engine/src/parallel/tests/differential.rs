//! Differential tests: Block-STM against the in-order reference over seeded random blocks.

use super::kv::{
    Block, Expected, ExpectedTx, FEE, KvVm, Op, PANIC_MESSAGE, random_block, reference,
};
use crate::parallel::{
    CachedStorage, ExecutionConfig, ExecutionStats, FallbackPolicy, ParallelError, Storage,
    StorageError, Strategy, TxResult, VmBlockOutput, execute_block,
};
use std::{
    collections::{BTreeMap, HashMap},
    sync::Once,
};

type KvOutput = VmBlockOutput<KvVm>;

/// Random blocks of the main differential test (each run with 1 to 8 threads); the
/// `ALTIUS_STM_BLOCKS` environment variable overrides it.
const BLOCKS: u64 = 3000;

fn blocks() -> u64 {
    std::env::var("ALTIUS_STM_BLOCKS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(BLOCKS)
}

/// Silences the panics the test VM raises on purpose.
fn quiet_vm_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<String>().map(String::as_str) != Some(PANIC_MESSAGE) {
                previous(info);
            }
        }));
    });
}

fn config(threads: usize, fallback: Option<FallbackPolicy>) -> ExecutionConfig {
    ExecutionConfig {
        threads,
        min_parallel_txs: 2,
        fallback,
        tx_writes: true,
    }
}

fn run(block: &Block, swallow: bool, config: &ExecutionConfig) -> Result<KvOutput, ParallelError> {
    let vm = KvVm {
        programs: block.programs.clone(),
        swallow_read_errors: swallow,
        serial: false,
        // Both ways of keeping the fee key's deltas: in lanes with an even thread count,
        // with the key otherwise.
        fee_lane: config.threads.is_multiple_of(2),
    };
    execute_block(&vm, &block.base, block.programs.len(), config)
}

fn expected_tx(tx: &TxResult<u64, u64, Vec<Option<u64>>, u64>) -> ExpectedTx {
    ExpectedTx {
        result: tx.result.clone(),
        writes: tx.writes.iter().copied().collect(),
    }
}

/// Checks one execution against the reference; returns its statistics.
fn check(seed: u64, expected: &Expected, got: Result<KvOutput, ParallelError>) -> ExecutionStats {
    match (expected, got) {
        (Expected::Block { txs, state }, Ok(output)) => {
            let got: Vec<ExpectedTx> = output.txs.iter().map(expected_tx).collect();
            assert_eq!(&got, txs, "seed {seed}: transactions differ");
            let final_state: BTreeMap<u64, u64> = output.final_state.iter().copied().collect();
            assert_eq!(&final_state, state, "seed {seed}: final state differs");
            output.stats
        }
        (Expected::Panicked(tx), Err(ParallelError::VmPanicked { tx: got })) => {
            assert_eq!(*tx, got, "seed {seed}: panicked at another transaction");
            ExecutionStats::default()
        }
        (expected, got) => panic!("seed {seed}: expected {expected:?}, got {got:?}"),
    }
}

/// Checks an execution that did not report per-transaction writes: the results and the final
/// state must be the reference's.
fn check_lean(seed: u64, expected: &Expected, got: Result<KvOutput, ParallelError>) {
    let (Expected::Block { txs, state }, Ok(output)) = (expected, &got) else {
        let stripped = got.map(|mut output| {
            output.txs.iter_mut().for_each(|tx| tx.writes.clear());
            output
        });
        check(seed, expected, stripped);
        return;
    };
    assert!(output.txs.iter().all(|tx| tx.writes.is_empty()));
    let results: Vec<_> = output.txs.iter().map(|tx| tx.result.clone()).collect();
    let expected_results: Vec<_> = txs.iter().map(|tx| tx.result.clone()).collect();
    assert_eq!(results, expected_results, "seed {seed}: results differ");
    let final_state: BTreeMap<u64, u64> = output.final_state.iter().copied().collect();
    assert_eq!(&final_state, state, "seed {seed}: final state differs");
}

/// The blocks of a differential run and how they execute.
#[derive(Clone, Copy)]
struct Shape {
    /// Transactions per block, at most.
    max_txs: u64,
    /// Some conditional branches panic.
    panics: bool,
    /// The VM ignores read errors.
    swallow: bool,
    /// Thread counts to compare with one thread.
    threads: &'static [usize],
}

const ALL_THREADS: &[usize] = &[2, 3, 4, 5, 6, 7, 8];

const SHORT: Shape = Shape {
    max_txs: 40,
    panics: false,
    swallow: false,
    threads: ALL_THREADS,
};

#[derive(Default)]
struct Totals {
    runs: u64,
    aborts: u64,
    dependency_waits: u64,
    fallbacks: u64,
}

impl Totals {
    fn add(&mut self, stats: &ExecutionStats) {
        self.runs += 1;
        self.aborts += stats.aborts;
        self.dependency_waits += stats.dependency_waits;
        self.fallbacks += u64::from(stats.strategy == Strategy::ParallelThenInOrder);
    }
}

/// Runs `blocks` seeded blocks with every thread count; each result must equal the reference
/// and, byte for byte, the single-threaded result.
fn differential(first_seed: u64, blocks: u64, shape: Shape) -> Totals {
    let mut totals = Totals::default();
    let Shape {
        max_txs,
        panics,
        swallow,
        threads,
    } = shape;
    for seed in first_seed..first_seed + blocks {
        let block = random_block(seed, max_txs, panics);
        let expected = reference(&block);
        let sequential = run(&block, swallow, &config(1, None));
        for &threads in threads {
            let parallel = run(&block, swallow, &config(threads, None));
            assert_same(seed, &sequential, &parallel);
            totals.add(&check(seed, &expected, parallel));
        }
        let eager = FallbackPolicy {
            min_executions: 4,
            max_conflicts_per_mille: 100,
        };
        let fallback = run(&block, swallow, &config(4, Some(eager)));
        assert_same(seed, &sequential, &fallback);
        totals.add(&check(seed, &expected, fallback));
        let lean = ExecutionConfig {
            tx_writes: false,
            ..config(2 + seed as usize % 3, None)
        };
        check_lean(seed, &expected, run(&block, swallow, &lean));
        check(seed, &expected, sequential);
    }
    totals
}

fn assert_same(
    seed: u64,
    a: &Result<KvOutput, ParallelError>,
    b: &Result<KvOutput, ParallelError>,
) {
    match (a, b) {
        (Ok(a), Ok(b)) => assert_eq!(a.txs, b.txs, "seed {seed}: results differ"),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "seed {seed}"),
        _ => panic!("seed {seed}: one run failed, the other did not"),
    }
}

#[test]
fn parallel_matches_sequential_on_random_blocks() {
    let blocks = blocks();
    let totals = differential(0, blocks, SHORT);
    assert!(
        totals.aborts + totals.dependency_waits > 0,
        "no conflict was exercised"
    );
    assert!(totals.fallbacks > 0, "the fallback was never exercised");
    println!(
        "{blocks} blocks, {} parallel runs, {} aborts, {} dependency waits, {} fallbacks",
        totals.runs, totals.aborts, totals.dependency_waits, totals.fallbacks
    );
}

#[test]
fn parallel_matches_sequential_when_the_vm_swallows_read_errors() {
    differential(
        1_000_000,
        500,
        Shape {
            swallow: true,
            ..SHORT
        },
    );
}

#[test]
fn parallel_matches_sequential_when_speculation_panics() {
    quiet_vm_panics();
    differential(
        2_000_000,
        300,
        Shape {
            panics: true,
            ..SHORT
        },
    );
}

#[test]
fn parallel_matches_sequential_on_long_blocks() {
    let shape = Shape {
        max_txs: 150,
        threads: &[2, 4, 8],
        ..SHORT
    };
    let totals = differential(3_000_000, 200, shape);
    assert!(
        totals.aborts + totals.dependency_waits > 0,
        "no conflict was exercised"
    );
}

fn fee_block(txs: u64, reader: bool) -> Block {
    let mut programs: Vec<Vec<Op>> = (0..txs)
        .map(|i| {
            let own = 100 + i;
            vec![
                Op::Read(own),
                Op::Write {
                    key: own,
                    constant: i,
                    regs: vec![0],
                },
                Op::Add {
                    key: FEE,
                    amount: i + 1,
                },
            ]
        })
        .collect();
    if reader {
        programs.push(vec![
            Op::Read(FEE),
            Op::Write {
                key: 1,
                constant: 0,
                regs: vec![0],
            },
        ]);
    }
    Block {
        base: HashMap::from([(FEE, 1000)]),
        programs,
    }
}

#[test]
fn fee_deltas_do_not_conflict() {
    let block = fee_block(200, false);
    for threads in [2, 4, 8] {
        let output = run(&block, false, &config(threads, None)).unwrap();
        assert_eq!(output.stats.aborts, 0);
        assert_eq!(output.stats.dependency_waits, 0);
        assert_eq!(output.stats.executions, 200);
        let fee: u64 = output
            .final_state
            .into_iter()
            .find(|(k, _)| *k == FEE)
            .unwrap()
            .1;
        assert_eq!(fee, 1000 + (1..=200).sum::<u64>());
    }
}

#[test]
fn reading_the_fee_recipient_resolves_every_delta_below() {
    let block = fee_block(100, true);
    let expected = reference(&block);
    for threads in 1..=8 {
        let output = run(&block, false, &config(threads, None));
        let output_ok = check(0, &expected, output);
        assert!(output_ok.executions >= 101);
    }
    let Expected::Block { txs, .. } = expected else {
        panic!("no panic expected")
    };
    let last = txs.last().unwrap();
    assert_eq!(last.result, Ok(vec![Some(1000 + (1..=100).sum::<u64>())]));
}

#[test]
fn one_thread_runs_in_order() {
    let block = random_block(7, 40, false);
    let output = run(&block, false, &config(1, Some(FallbackPolicy::default()))).unwrap();
    assert_eq!(output.stats.strategy, Strategy::Sequential);
    assert_eq!(output.stats.executions, block.programs.len() as u64);
    let small = ExecutionConfig {
        threads: 8,
        min_parallel_txs: usize::MAX,
        fallback: None,
        tx_writes: false,
    };
    assert_eq!(
        run(&block, false, &small).unwrap().stats.strategy,
        Strategy::Sequential
    );
    let empty = Block {
        base: HashMap::new(),
        programs: Vec::new(),
    };
    assert!(run(&empty, false, &config(8, None)).unwrap().txs.is_empty());
}

/// Storage that fails for one key.
struct FailingStorage(HashMap<u64, u64>);

impl Storage<u64, u64> for FailingStorage {
    fn base(&self, key: &u64) -> Result<Option<u64>, StorageError> {
        if *key == 7 {
            return Err(StorageError::new("disk on fire"));
        }
        self.0.base(key)
    }
}

#[test]
fn storage_errors_fail_the_block() {
    let mut programs = vec![
        vec![
            Op::Read(1),
            Op::Add {
                key: FEE,
                amount: 1
            }
        ];
        12
    ];
    programs[5] = vec![Op::Read(7)];
    let vm = KvVm {
        programs,
        swallow_read_errors: false,
        serial: false,
        fee_lane: true,
    };
    let storage = FailingStorage(HashMap::new());
    for threads in 1..=4 {
        let error = execute_block(&vm, &storage, 12, &config(threads, None)).unwrap_err();
        assert!(
            matches!(error, ParallelError::Storage { tx: 5, .. }),
            "{error}"
        );
    }
}

/// Storage that counts the reads reaching it.
struct CountingStorage(HashMap<u64, u64>, std::sync::atomic::AtomicUsize);

impl Storage<u64, u64> for CountingStorage {
    fn base(&self, key: &u64) -> Result<Option<u64>, StorageError> {
        self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.0.base(key)
    }
}

#[test]
fn cached_storage_reads_each_key_once() {
    let block = random_block(11, 40, false);
    let counting = CountingStorage(block.base.clone(), Default::default());
    let cached = CachedStorage::new(counting);
    let vm = KvVm {
        programs: block.programs.clone(),
        swallow_read_errors: false,
        serial: false,
        fee_lane: true,
    };
    for threads in [1, 4] {
        let output = execute_block(&vm, &cached, block.programs.len(), &config(threads, None));
        check(11, &reference(&block), output);
    }
    let reads = cached.into_inner().1.into_inner();
    assert!(reads <= 8, "{reads} storage reads of at most 8 keys");
}

#[test]
fn a_cache_of_some_keys_reads_the_others_each_time() {
    let storage = CountingStorage(HashMap::from([(1, 10), (2, 20)]), Default::default());
    let cached = CachedStorage::only(storage, |key| *key == 1);
    for _ in 0..3 {
        assert_eq!(cached.base(&1).unwrap(), Some(10));
        assert_eq!(cached.base(&2).unwrap(), Some(20));
    }
    let reads = cached.into_inner().1.into_inner();
    assert_eq!(reads, 1 + 3, "key 1 once, key 2 every time");
}
