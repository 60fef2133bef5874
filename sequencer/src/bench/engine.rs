//! `altius bench engine`: one block of a workload (`altius_engine::workload`) executed by
//! the sequential and the parallel executor in the same process, medians of several runs.

use super::{BlockArgs, BlockReport, alternate, reexecutions, round3};
use altius_engine::{ExecutionMode, Executor, ParallelExecutor, SequentialExecutor};
use clap::Args;
use serde::Serialize;

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
    #[serde(flatten)]
    block: BlockReport,
    sequential_ms: f64,
    parallel_ms: f64,
    speedup: f64,
    reexecutions: u64,
}

/// Runs the benchmark and prints its JSON line.
pub fn run(args: EngineBenchArgs) -> eyre::Result<()> {
    let (workload, block, threads) = args.block.block(&args.workload)?;
    let sequential = SequentialExecutor::new(block.chain.clone());
    let parallel = ParallelExecutor::new(block.chain.clone(), threads);
    let mode = ExecutionMode::Validate;
    let (state, env) = (&block.state, &block.env);
    let measured = alternate(
        &block,
        args.block.runs,
        "the parallel result differs from the sequential one",
        |txs| Ok((sequential.execute_block(state, env, txs, mode)?, ())),
        |txs| Ok(parallel.execute_with_stats(state, env, txs, mode)?),
    )?;
    let report = Report {
        block: measured.block_report(workload, &block, threads),
        sequential_ms: round3(measured.first_ms),
        parallel_ms: round3(measured.second_ms),
        speedup: measured.speedup(),
        reexecutions: reexecutions(&measured.second, block.txs.len()),
    };
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}
