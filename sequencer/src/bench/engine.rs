//! `altius bench engine`: one block of a workload (`altius_engine::workload`) executed by
//! the sequential and the parallel executor in the same process, medians of several runs.

pub use super::db_state::StateKind;
use super::{
    BlockArgs, BlockReport, alternate, db_state::BenchState, median, reexecutions, round3,
};
use altius_engine::{
    BlockExecution, EngineError, ExecutionMode, Executor, ParallelExecutor, RecoveredTx,
    SequentialExecutor, workload::WorkloadBlock,
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
    /// Also measure the machine's ceilings for the block: `threads` sequential executions of
    /// it at the same time against one alone (`ceiling`), and `threads` sequential
    /// executions of its parts at the same time against one of the whole block alone
    /// (`split_ceiling`).
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
    /// The speedups the machine allows the block (with `--ceiling`).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    ceiling: Option<Ceiling>,
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

/// What `--ceiling` measured: the speedups the machine allows the block on `threads`
/// threads, its caches and memory shared.
#[derive(Debug, Serialize)]
pub(super) struct Ceiling {
    /// `threads` times the median time of one sequential execution of the block alone over
    /// that of `threads` of them at the same time.
    pub(super) ceiling: f64,
    /// The median time of one sequential execution of the block alone over that of
    /// `threads` at the same time, each of one of `threads` contiguous parts of the block,
    /// over the state before it: what a parallel executor would reach if it did no more
    /// than split the block (no checks, no merge). `None` when the parts executed other
    /// transactions than the block does (one depends on an earlier part).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) split_ceiling: Option<f64>,
}

/// The machine's ceilings for `block` over `state` on `threads` threads (see [`Ceiling`]),
/// over `runs` runs of each side, alternating, after a warm-up.
pub(super) fn ceiling(
    sequential: &SequentialExecutor,
    state: &dyn StateProvider,
    block: &WorkloadBlock,
    threads: usize,
    runs: usize,
) -> eyre::Result<Ceiling> {
    let execute = |txs| sequential.execute_block(state, &block.env, txs, ExecutionMode::Build);
    // The transactions the executions included, in all.
    let included = |outs: Vec<BlockExecution>| outs.iter().map(|out| out.txs.len()).sum::<usize>();
    let part_len = block.txs.len().div_ceil(threads).max(1);
    let (mut alone, mut together, mut split) = (Vec::new(), Vec::new(), Vec::new());
    let mut parts_hold = true;
    for run in 0..=runs {
        let (alone_ms, whole) = at_once(vec![block.txs.clone()], execute)?;
        let copies = (0..threads).map(|_| block.txs.clone()).collect();
        let (together_ms, _) = at_once(copies, execute)?;
        let parts = block.txs.chunks(part_len).map(<[_]>::to_vec).collect();
        let (split_ms, parts) = at_once(parts, execute)?;
        parts_hold &= included(parts) == included(whole);
        if run > 0 {
            alone.push(alone_ms);
            together.push(together_ms);
            split.push(split_ms);
        }
    }
    let alone = median(&mut alone);
    Ok(Ceiling {
        ceiling: round3(threads as f64 * alone / median(&mut together)),
        split_ceiling: parts_hold.then(|| round3(alone / median(&mut split))),
    })
}

/// Executes each of `blocks` with `execute` at the same time, one thread each (a single one
/// on this thread); returns the milliseconds until all are done, and their outcomes (freed
/// by the caller, after the clock).
fn at_once<E>(blocks: Vec<Vec<RecoveredTx>>, execute: E) -> eyre::Result<(f64, Vec<BlockExecution>)>
where
    E: Fn(Vec<RecoveredTx>) -> Result<BlockExecution, EngineError> + Sync,
{
    let start = Instant::now();
    let outs = match <[_; 1]>::try_from(blocks) {
        Ok([txs]) => vec![execute(txs)?],
        Err(blocks) => std::thread::scope(|scope| {
            let execute = &execute;
            let handles: Vec<_> = blocks
                .into_iter()
                .map(|txs| scope.spawn(move || execute(txs)))
                .collect();
            handles
                .into_iter()
                .map(|handle| {
                    let out = handle
                        .join()
                        .map_err(|_| eyre::eyre!("a sequential execution panicked"))??;
                    eyre::Ok(out)
                })
                .collect::<eyre::Result<Vec<_>>>()
        })?,
    };
    Ok((start.elapsed().as_secs_f64() * 1e3, outs))
}
