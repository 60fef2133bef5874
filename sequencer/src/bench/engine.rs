//! `altius bench engine`: one block of a workload (`altius_engine::workload`) executed by
//! the sequential and the parallel executor in the same process, medians of several runs.

pub use super::db_state::StateKind;
use super::{
    BlockArgs, BlockReport, alternate, db_state::BenchState, median, reexecutions, round3,
};
use altius_engine::{
    ExecutionMode, Executor, ParallelExecutor, SequentialExecutor, workload::WorkloadBlock,
};
use altius_state::StateProvider;
use clap::Args;
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
    /// Also measure the machine's ceiling for the block: `threads` sequential executions of
    /// it at the same time, against one alone (reported as `ceiling`).
    #[arg(long)]
    pub ceiling: bool,
    /// The state executed on: the workload's in-memory maps, or the same state in a redb
    /// state database (in a temporary folder), read as the node reads it.
    #[arg(long, value_enum, default_value = "memory")]
    pub state: StateKind,
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
    /// `threads` times the time of one sequential execution alone over the time of
    /// `threads` of them at the same time, medians: the speedup that the machine's cores
    /// allow the block, its caches and memory shared (with `--ceiling`).
    #[serde(skip_serializing_if = "Option::is_none")]
    ceiling: Option<f64>,
    /// `"db"` when the block ran over a state database (`--state db`).
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<&'static str>,
}

/// Runs the benchmark and prints its JSON line.
pub fn run(args: EngineBenchArgs) -> eyre::Result<()> {
    let (workload, block, threads) = args.block.block(&args.workload)?;
    let sequential = SequentialExecutor::new(block.chain.clone());
    let parallel = ParallelExecutor::new(block.chain.clone(), threads);
    let mode = ExecutionMode::Validate;
    let bench_state = BenchState::new(args.state, &block)?;
    let (state, env) = (bench_state.provider(), &block.env);
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
        ceiling: match args.ceiling {
            true => Some(ceiling(
                &sequential,
                state,
                &block,
                threads,
                args.block.runs,
            )?),
            false => None,
        },
        state: (args.state == StateKind::Db).then_some("db"),
    };
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

/// The machine's ceiling for `block` over `state` on `threads` threads (see
/// [`Report::ceiling`]), over `runs` runs of each side, alternating, after a warm-up.
pub(super) fn ceiling(
    sequential: &SequentialExecutor,
    state: &dyn StateProvider,
    block: &WorkloadBlock,
    threads: usize,
    runs: usize,
) -> eyre::Result<f64> {
    let execute = |txs| {
        sequential
            .execute_block(state, &block.env, txs, ExecutionMode::Validate)
            .map(drop)
    };
    let (mut alone, mut together) = (Vec::new(), Vec::new());
    for run in 0..=runs {
        let txs = block.txs.clone();
        let start = Instant::now();
        execute(txs)?;
        let alone_ms = start.elapsed().as_secs_f64() * 1e3;
        let copies: Vec<_> = (0..threads).map(|_| block.txs.clone()).collect();
        let start = Instant::now();
        std::thread::scope(|scope| {
            let handles: Vec<_> = copies
                .into_iter()
                .map(|txs| scope.spawn(move || execute(txs)))
                .collect();
            handles.into_iter().try_for_each(|handle| {
                handle
                    .join()
                    .map_err(|_| eyre::eyre!("a sequential execution panicked"))?
                    .map_err(eyre::Report::from)
            })
        })?;
        let together_ms = start.elapsed().as_secs_f64() * 1e3;
        if run > 0 {
            alone.push(alone_ms);
            together.push(together_ms);
        }
    }
    Ok(round3(
        threads as f64 * median(&mut alone) / median(&mut together),
    ))
}
