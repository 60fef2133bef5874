//! `altius bench ...` commands. Each prints exactly one JSON line on stdout so that anyone can
//! rerun it and compare.

pub mod engine;
pub mod redo;
pub mod rpc;
pub mod state;

use altius_engine::{
    parallel::ExecutionStats,
    workload::{self, Workload, WorkloadBlock},
};
use clap::Args;
use eyre::{WrapErr, bail};

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

    #[test]
    fn the_redo_bench_runs_a_small_hot_block() {
        let args = |threads| redo::RedoBenchArgs {
            workload: "hot-erc20".into(),
            block: BlockArgs {
                txs: Some(200),
                threads: Some(threads),
                runs: 1,
            },
        };
        redo::run(args(2)).unwrap();
        assert!(redo::run(args(1)).is_err());
    }
}
