//! `altius bench engine`: one block of a workload (`altius_engine::workload`) executed by
//! the sequential and the parallel executor in the same process, medians of several runs.

use super::{BlockArgs, median, round3};
use altius_engine::{ExecutionMode, Executor, ParallelExecutor, SequentialExecutor};
use clap::Args;
use eyre::bail;
use serde::Serialize;
use std::time::Instant;

/// Options of `altius bench engine`.
#[derive(Debug, Clone, Args)]
pub struct EngineBenchArgs {
    /// raw, erc20, amm, hot-erc20, hot-amm, serial or mixed-erc20.
    #[arg(long, default_value = "raw")]
    pub workload: String,
    /// The block and the runs.
    #[command(flatten)]
    pub block: BlockArgs,
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
    let (workload, block, threads) = args.block.block(&args.workload)?;
    let txs = block.txs.len();
    let sequential = SequentialExecutor::new(block.chain.clone());
    let parallel = ParallelExecutor::new(block.chain.clone(), threads);
    let mode = ExecutionMode::Validate;
    let (mut seq_ms, mut par_ms) = (Vec::new(), Vec::new());
    let mut reexecutions = 0;
    let mut gas = 0;
    // Alternate the two so that both see the same machine conditions; one warm-up each.
    for run in 0..=args.block.runs {
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
        reexecutions = super::reexecutions(&stats, txs);
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
