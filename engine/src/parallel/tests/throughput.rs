//! A throughput smoke test (ignored by default): CPU-heavy transactions, independent or
//! chained, with one to four threads. Run with
//! `cargo test -p altius-engine throughput -- --ignored --nocapture`.

use crate::parallel::{ExecutionConfig, ReadView, Strategy, TxOutcome, Vm, VmError, execute_block};
use std::{collections::HashMap, hint::black_box, time::Instant};

/// Each transaction reads one key, hashes for a while, writes the key and pays a fee.
struct SpinVm {
    /// The key transaction `i` reads and writes: `i` (independent) or `1` (a chain).
    chained: bool,
    rounds: u64,
}

impl Vm for SpinVm {
    type Key = u64;
    type Value = u64;
    type Delta = u64;
    type Output = u64;
    type Error = ();

    fn execute(
        &self,
        tx: usize,
        view: &mut dyn ReadView<u64, u64>,
    ) -> Result<TxOutcome<u64, u64, u64, u64>, VmError<()>> {
        let key = if self.chained { 1 } else { 1 + tx as u64 };
        let mut value = view.read(&key)?.unwrap_or(0);
        for round in 0..self.rounds {
            value = black_box(value.rotate_left(5) ^ round).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
        let mut outcome = TxOutcome::new(value);
        outcome.writes.push((key, value));
        outcome.deltas.push((0, 1));
        Ok(outcome)
    }

    fn apply_delta(&self, _key: &u64, value: Option<u64>, delta: &u64) -> u64 {
        value.unwrap_or(0).wrapping_add(*delta)
    }
}

#[test]
#[ignore = "timing only"]
fn throughput() {
    let storage: HashMap<u64, u64> = HashMap::new();
    for chained in [false, true] {
        let vm = SpinVm {
            chained,
            rounds: 20_000,
        };
        let mut reference = None;
        for threads in [1, 2, 4] {
            let config = ExecutionConfig::with_threads(threads);
            let start = Instant::now();
            let output = execute_block(&vm, &storage, 2000, &config).expect("no storage error");
            let elapsed = start.elapsed();
            let stats = output.stats;
            println!(
                "chained {chained} threads {threads}: {elapsed:?}, {:?}, {} executions, {} aborts",
                stats.strategy, stats.executions, stats.aborts
            );
            assert!(threads == 1 || stats.strategy != Strategy::Sequential);
            let txs = output.txs;
            assert_eq!(*reference.get_or_insert_with(|| txs.clone()), txs);
        }
    }
}
