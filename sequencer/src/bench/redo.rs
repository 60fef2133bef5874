//! `altius bench redo`: one block of a workload executed on Block-STM with the SSA redo and
//! without it, in the same process, medians of several runs.
//!
//! Every round after the probe runs on Block-STM, whatever the probe finds, and conflicts
//! never send the rest of the block in order: the node itself runs a hot block in order,
//! and a block whose conflicts are rare records no logs.

use super::{BlockArgs, BlockReport, alternate, reexecutions, round3};
use altius_engine::{ExecutionMode, ParallelExecutor, parallel::ExecutionConfig};
use clap::Args;
use eyre::bail;
use serde::Serialize;

/// Options of `altius bench redo`.
#[derive(Debug, Clone, Args)]
pub struct RedoBenchArgs {
    /// A workload of `altius bench engine`; redos happen where transactions conflict on
    /// storage slots: hot-erc20, mixed-erc20.
    #[arg(long, default_value = "hot-erc20")]
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
    without_redo_ms: f64,
    with_redo_ms: f64,
    speedup: f64,
    /// Executions beyond one per transaction, with the redo (redos included) and without.
    reexecutions: u64,
    reexecutions_without_redo: u64,
    redos: u64,
}

/// Runs the benchmark and prints its JSON line.
pub fn run(args: RedoBenchArgs) -> eyre::Result<()> {
    let (workload, block, threads) = args.block.block(&args.workload)?;
    if threads < 2 {
        bail!("--threads must be at least 2: one thread runs blocks in order");
    }
    let config = ExecutionConfig {
        fallback: None,
        ..ExecutionConfig::with_threads(threads)
    };
    let with_redo = ParallelExecutor::new(block.chain.clone(), threads)
        .with_config(config)
        .with_block_stm();
    let without_redo = with_redo.clone().with_ssa_redo(false);
    let mode = ExecutionMode::Validate;
    let (state, env) = (&block.state, &block.env);
    let measured = alternate(
        &block,
        args.block.runs,
        "the result with the redo differs from the one without",
        |txs| Ok(without_redo.execute_with_stats(state, env, txs, mode)?),
        |txs| Ok(with_redo.execute_with_stats(state, env, txs, mode)?),
    )?;
    let txs = block.txs.len();
    let report = Report {
        block: measured.block_report(workload, &block, threads),
        without_redo_ms: round3(measured.first_ms),
        with_redo_ms: round3(measured.second_ms),
        speedup: measured.speedup(),
        reexecutions: reexecutions(&measured.second, txs),
        reexecutions_without_redo: reexecutions(&measured.first, txs),
        redos: measured.second.redos,
    };
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}
