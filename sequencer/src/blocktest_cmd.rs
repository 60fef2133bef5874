//! `altius blocktest`: runs Ethereum `BlockchainTests` fixtures with Ethereum L1 semantics
//! (see `altius_engine::blocktest`), printing one line per failure and a summary.

use altius_engine::blocktest::{BlockExecutor, RunOptions, SequentialEvmExecutor, run_paths};
use clap::Args;
use std::path::PathBuf;

/// Options of `altius blocktest`.
#[derive(Debug, Clone, Args)]
pub struct BlocktestArgs {
    /// Worker threads: fixture files run in parallel on them; block execution stays
    /// sequential until the parallel engine has an EVM.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Fixture files or folders (searched recursively for `.json` files).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

/// Runs the fixtures; fails when any test failed.
pub fn run(args: BlocktestArgs) -> eyre::Result<()> {
    let executor = SequentialEvmExecutor;
    let threads = args.threads.max(1);
    if threads > 1 {
        println!(
            "note: block execution is sequential ({}, no parallel EVM yet); \
             {threads} threads run fixture files in parallel",
            executor.describe()
        );
    }
    let summary =
        run_paths(&args.paths, &executor, RunOptions { threads }).map_err(|e| eyre::eyre!(e))?;
    for failure in &summary.failures {
        println!("FAIL {}: {}", failure.test, failure.message);
    }
    println!("{}", summary.line());
    if summary.failures.is_empty() {
        Ok(())
    } else {
        Err(eyre::eyre!(
            "{} blockchain tests failed",
            summary.failures.len()
        ))
    }
}
