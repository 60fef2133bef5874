//! `altius bench ...` commands. Each prints exactly one JSON line on stdout so that anyone can
//! rerun it and compare.

mod db_state;
pub mod engine;
pub mod redo;
pub mod rpc;
pub mod state;

use altius_engine::{
    BlockExecution, RecoveredTx,
    parallel::ExecutionStats,
    workload::{self, Workload, WorkloadBlock},
};
use clap::Args;
use eyre::{WrapErr, bail};
use serde::Serialize;
use std::time::Instant;

/// The block options of `altius bench engine` and `altius bench redo`.
#[derive(Debug, Clone, Args)]
pub struct BlockArgs {
    /// Transactions in the block [default: about 1 Ggas of the workload].
    #[arg(long)]
    pub txs: Option<usize>,
    /// Threads of the parallel executor [default: available cores].
    #[arg(long)]
    pub threads: Option<usize>,
    /// Timed runs of each executor (the medians are reported).
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
}

impl BlockArgs {
    /// The block of workload `name`, and the threads to run it on.
    fn block(&self, name: &str) -> eyre::Result<(Workload, WorkloadBlock, usize)> {
        let workload = workload_named(name)?;
        let threads = self
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        if threads == 0 || self.runs == 0 {
            bail!("--threads and --runs must be at least 1");
        }
        let txs = self.txs.unwrap_or_else(|| workload.txs_per_ggas());
        let block = workload::generate(workload, txs).wrap_err("building the workload")?;
        Ok((workload, block, threads))
    }
}

/// The workload called `name`, or an error listing them all.
pub(crate) fn workload_named(name: &str) -> eyre::Result<Workload> {
    match Workload::from_name(name) {
        Some(workload) => Ok(workload),
        None => {
            let names: Vec<_> = Workload::ALL.iter().map(Workload::name).collect();
            bail!("unknown workload {name:?}; one of {}", names.join(", "))
        }
    }
}

/// The fields every block benchmark's JSON line starts with.
#[derive(Debug, Serialize)]
struct BlockReport {
    workload: &'static str,
    txs: usize,
    gas: u64,
    threads: usize,
}

/// What [`alternate`] measured: the median milliseconds of each side, and what each side's
/// last run gave besides the block.
struct Alternated<A, B> {
    first_ms: f64,
    second_ms: f64,
    block: BlockExecution,
    first: A,
    second: B,
}

impl<A, B> Alternated<A, B> {
    /// The start of the JSON line of `block`, of `workload`, run on `threads` threads.
    fn block_report(
        &self,
        workload: Workload,
        block: &WorkloadBlock,
        threads: usize,
    ) -> BlockReport {
        BlockReport {
            workload: workload.name(),
            txs: block.txs.len(),
            gas: self.block.gas_used,
            threads,
        }
    }

    /// The first side's median over the second's, rounded.
    fn speedup(&self) -> f64 {
        round3(self.first_ms / self.second_ms)
    }
}

/// Runs `first` and `second` over `block` `runs` times each, alternating so that both see
/// the same machine conditions, after one warm-up of each; the block's transactions are
/// copied before each clock starts, so that the figures are the executions' alone. Every
/// run checks that both give the same block (`what` says what differs otherwise).
fn alternate<A, B>(
    block: &WorkloadBlock,
    runs: usize,
    what: &str,
    mut first: impl FnMut(Vec<RecoveredTx>) -> eyre::Result<(BlockExecution, A)>,
    mut second: impl FnMut(Vec<RecoveredTx>) -> eyre::Result<(BlockExecution, B)>,
) -> eyre::Result<Alternated<A, B>> {
    let (mut first_ms, mut second_ms) = (Vec::new(), Vec::new());
    let mut last = None;
    for run in 0..=runs {
        let txs = block.txs.clone();
        let start = Instant::now();
        let (expected, a) = first(txs)?;
        let first_elapsed = start.elapsed().as_secs_f64() * 1e3;
        let txs = block.txs.clone();
        let start = Instant::now();
        let (got, b) = second(txs)?;
        let second_elapsed = start.elapsed().as_secs_f64() * 1e3;
        if got != expected {
            bail!("{what}");
        }
        if run > 0 {
            first_ms.push(first_elapsed);
            second_ms.push(second_elapsed);
        }
        last = Some((expected, a, b));
    }
    let Some((block, first, second)) = last else {
        bail!("no run");
    };
    Ok(Alternated {
        first_ms: median(&mut first_ms),
        second_ms: median(&mut second_ms),
        block,
        first,
        second,
    })
}

/// The median of `values` (sorted in place); NaN if there are none.
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Executions beyond one per transaction of those that ran in parallel (not in order).
fn reexecutions(stats: &ExecutionStats, txs: usize) -> u64 {
    let speculative = (txs as u64).saturating_sub(stats.in_order_executions);
    stats.executions.saturating_sub(speculative)
}

/// `x` rounded to three decimals.
fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_workloads_are_refused_with_the_list() {
        let err = workload_named("hot-nft").unwrap_err().to_string();
        assert!(
            err.contains("hot-nft") && err.contains("mixed-erc20"),
            "{err}"
        );
        assert_eq!(workload_named("raw").unwrap(), Workload::Raw);
    }

    /// A block of `txs` transactions on `threads` threads, run once.
    fn small_block(txs: usize, threads: usize) -> BlockArgs {
        BlockArgs {
            txs: Some(txs),
            threads: Some(threads),
            runs: 1,
        }
    }

    #[test]
    fn the_redo_bench_runs_a_small_hot_block() {
        let args = |threads| redo::RedoBenchArgs {
            workload: "hot-erc20".into(),
            block: small_block(200, threads),
        };
        redo::run(args(2)).unwrap();
        assert!(redo::run(args(1)).is_err());
    }

    #[test]
    fn the_engine_bench_measures_the_machine_ceiling_when_asked() {
        let block = small_block(200, 2);
        let (_, built, threads) = block.block("erc20").unwrap();
        let sequential = altius_engine::SequentialExecutor::new(built.chain.clone());
        let measured = engine::ceiling(&sequential, &built.state, &built, threads, 2).unwrap();
        // Two executions at once take more than none and less than one after the other
        // would on one core, give or take the noise of a shared machine; so do two halves.
        for ceiling in [Some(measured.ceiling), measured.split_ceiling] {
            assert!(ceiling.is_some_and(|c| c > 0.2 && c < 4.0), "{measured:?}");
        }
        // Parts that include other transactions than the block does are not a split of it:
        // the block's second half repeats its first, which the block leaves out (nonce too
        // low) and the second part includes.
        let mut repeated = built.clone();
        repeated.txs.truncate(100);
        repeated.txs.extend_from_within(..);
        let measured = engine::ceiling(&sequential, &built.state, &repeated, 2, 1).unwrap();
        assert_eq!(measured.split_ceiling, None, "{measured:?}");
        engine::run(engine::EngineBenchArgs {
            workload: "erc20".into(),
            block,
            ceiling: true,
            state: engine::StateKind::Memory,
        })
        .unwrap();
    }

    #[test]
    fn the_engine_bench_runs_on_a_state_database_and_removes_it() {
        let block = small_block(100, 2);
        let (_, built, _) = block.block("erc20").unwrap();
        let state = db_state::BenchState::new(engine::StateKind::Db, &built).unwrap();
        let db_state::BenchState::Db(db) = &state else {
            panic!("not a database");
        };
        let dir = db.dir.path().to_path_buf();
        // The database holds the workload's state: the token balance slots and accounts.
        for (address, account) in &built.state.accounts {
            assert_eq!(state.provider().account(*address).unwrap(), Some(*account));
        }
        for ((address, slot), value) in built.state.storage.iter().take(50) {
            assert_eq!(state.provider().storage(*address, *slot).unwrap(), *value);
        }
        drop(state);
        assert!(!dir.exists(), "{} left behind", dir.display());
        engine::run(engine::EngineBenchArgs {
            workload: "raw".into(),
            block,
            ceiling: false,
            state: engine::StateKind::Db,
        })
        .unwrap();
    }
}
