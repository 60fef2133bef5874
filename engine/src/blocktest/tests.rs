//! Runs the shared Ethereum fixtures.

use super::*;
use std::path::PathBuf;

/// The shared fixture folder, relative to the crate.
const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/ethereum-tests/BlockchainTests"
);

/// The fixtures through the parallel engine, on the thread counts in
/// `ALTIUS_BLOCKTEST_THREADS` (comma-separated; default `2,8`), two fixture tests at a time.
#[test]
fn shared_blockchain_tests_pass_on_the_parallel_engine() {
    let path = PathBuf::from(FIXTURES);
    if !path.exists() {
        eprintln!("note: {FIXTURES} is absent, skipping");
        return;
    }
    let counts = std::env::var("ALTIUS_BLOCKTEST_THREADS").unwrap_or_else(|_| "2,8".into());
    for threads in counts
        .split(',')
        .filter_map(|t| t.trim().parse::<usize>().ok())
    {
        let executor = ParallelEvmExecutor::new(threads);
        let summary = run_paths(
            std::slice::from_ref(&path),
            &executor,
            RunOptions { threads: 2 },
        )
        .unwrap();
        for failure in summary.failures.iter().take(50) {
            eprintln!("FAIL {}: {}", failure.test, failure.message);
        }
        eprintln!("{threads} threads: {}", summary.line());
        assert!(
            summary.failures.is_empty(),
            "{threads} threads: {}",
            summary.line()
        );
        assert!(summary.passed > 7000, "{}", summary.line());
    }
}

#[test]
#[ignore = "the sequential reference; run by hand"]
fn shared_blockchain_tests_pass_sequentially() {
    let path = PathBuf::from(FIXTURES);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let summary = run_paths(&[path], &SequentialEvmExecutor, RunOptions { threads }).unwrap();
    for failure in summary.failures.iter().take(50) {
        eprintln!("FAIL {}: {}", failure.test, failure.message);
    }
    eprintln!("{}", summary.line());
    assert!(summary.failures.is_empty(), "{}", summary.line());
}

#[test]
fn malformed_input_is_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.json");
    std::fs::write(&file, "{ not json").unwrap();
    let summary = run_file(&file, &SequentialEvmExecutor);
    assert_eq!(summary.failures.len(), 1);
    let test = r#"{"t": {"network": "Cancun", "pre": {}, "genesisRLP": "0xc0",
        "blocks": [{"rlp": "zz"}], "lastblockhash": "0x0000000000000000000000000000000000000000000000000000000000000000"}}"#;
    std::fs::write(&file, test).unwrap();
    let summary = run_file(&file, &SequentialEvmExecutor);
    assert_eq!(summary.failures.len(), 1, "{summary:?}");
}
