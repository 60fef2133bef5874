//! `altius bench engine`: one block of a workload (`altius_engine::workload`) executed by
//! the sequential and the parallel executor in the same process, medians of several runs.

use altius_engine::{
    ExecutionMode, Executor, ParallelExecutor, SequentialExecutor,
    workload::{self, Workload},
};
use clap::Args;
use eyre::{WrapErr, bail};
use serde::Serialize;
use std::time::Instant;

/// Options of `altius bench engine`.
#[derive(Debug, Clone, Args)]
pub struct EngineBenchArgs {
    /// raw, erc20, amm, hot-erc20, hot-amm or serial.
    #[arg(long, default_value = "raw")]
    pub workload: String,
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

/// The JSON line.
#[derive(Debug, Serialize)]
struct Report {
    workload: &'static str,
    txs: usize,
    gas: u64,
    threads: usize,
    sequential_ms: f64,
    parallel_ms: f64,
    speedup: f64,
    reexecutions: u64,
}

/// Runs the benchmark and prints its JSON line.
pub fn run(args: EngineBenchArgs) -> eyre::Result<()> {
    let Some(workload) = Workload::from_name(&args.workload) else {
        let names: Vec<_> = Workload::ALL.iter().map(Workload::name).collect();
        bail!(
            "unknown workload {:?}; one of {}",
            args.workload,
            names.join(", ")
        );
    };
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if threads == 0 || args.runs == 0 {
        bail!("--threads and --runs must be at least 1");
    }
    let txs = args.txs.unwrap_or_else(|| workload.txs_per_ggas());
    let block = workload::generate(workload, txs).wrap_err("building the workload")?;
    let sequential = SequentialExecutor::new(block.chain.clone());
    let parallel = ParallelExecutor::new(block.chain.clone(), threads);
    let mode = ExecutionMode::Validate;
    let (mut seq_ms, mut par_ms) = (Vec::new(), Vec::new());
    let mut reexecutions = 0;
    let mut gas = 0;
    // Alternate the two so that both see the same machine conditions; one warm-up each.
    for run in 0..=args.runs {
        // The block's transactions are copied before the clock starts: the figure is the
        // execution's alone.
        let txs_copy = block.txs.clone();
        let start = Instant::now();
        let expected = sequential.execute_block(&block.state, &block.env, txs_copy, mode)?;
        let seq = start.elapsed().as_secs_f64() * 1e3;
        let txs_copy = block.txs.clone();
        let start = Instant::now();
        let (got, stats) = parallel.execute_with_stats(&block.state, &block.env, txs_copy, mode)?;
        let par = start.elapsed().as_secs_f64() * 1e3;
        if got != expected {
            bail!("the parallel result differs from the sequential one");
        }
        gas = expected.gas_used;
        // Executions beyond one per transaction that ran on Block-STM.
        let speculative = (txs as u64).saturating_sub(stats.in_order_executions);
        reexecutions = stats.executions.saturating_sub(speculative);
        if run > 0 {
            seq_ms.push(seq);
            par_ms.push(par);
        }
    }
    let (sequential_ms, parallel_ms) = (median(&mut seq_ms), median(&mut par_ms));
    let report = Report {
        workload: workload.name(),
        txs,
        gas,
        threads,
        sequential_ms: round3(sequential_ms),
        parallel_ms: round3(parallel_ms),
        speedup: round3(sequential_ms / parallel_ms),
        reexecutions,
    };
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
