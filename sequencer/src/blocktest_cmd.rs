//! `altius blocktest`: runs Ethereum `BlockchainTests` fixtures with Ethereum L1 semantics
//! (see `altius_engine::blocktest`), printing one line per failure and a summary.

use altius_engine::blocktest::{
    BlockExecutor, ParallelEvmExecutor, RunOptions, SequentialEvmExecutor, run_paths,
};
use clap::Args;
use std::path::PathBuf;

/// Options of `altius blocktest`.
#[derive(Debug, Clone, Args)]
pub struct BlocktestArgs {
    /// Threads of the parallel engine executing each block's transactions.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Fixture tests run at the same time.
    #[arg(long, default_value_t = 1)]
    pub jobs: usize,
    /// Execute transactions one by one (mainnet revm) instead of on the parallel engine.
    #[arg(long)]
    pub sequential: bool,
    /// Fixture files or folders (searched recursively for `.json` files).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

/// Runs the fixtures; fails when any test failed.
pub fn run(args: BlocktestArgs) -> eyre::Result<()> {
    let executor: Box<dyn BlockExecutor> = if args.sequential {
        Box::new(SequentialEvmExecutor)
    } else {
        Box::new(ParallelEvmExecutor::new(args.threads.max(1)))
    };
    let jobs = args.jobs.max(1);
    println!("executor: {}; {jobs} fixture jobs", executor.describe());
    let summary = run_paths(&args.paths, executor.as_ref(), RunOptions { threads: jobs })
        .map_err(|e| eyre::eyre!(e))?;
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

#[cfg(test)]
mod tests {
    use crate::cli::{Cli, Command};
    use clap::Parser;
    use std::path::PathBuf;

    #[test]
    fn parses_blocktest_arguments() {
        let cli =
            Cli::try_parse_from(["altius", "blocktest", "--threads", "4", "a", "b.json"]).unwrap();
        let Command::Blocktest(args) = cli.command else {
            panic!("not blocktest")
        };
        assert_eq!(args.threads, 4);
        assert_eq!(args.paths, [PathBuf::from("a"), PathBuf::from("b.json")]);
        assert!(Cli::try_parse_from(["altius", "blocktest"]).is_err());
    }

    #[test]
    fn failures_give_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("broken.json");
        std::fs::write(&file, "[").unwrap();
        let args = super::BlocktestArgs {
            threads: 1,
            jobs: 1,
            sequential: false,
            paths: vec![file],
        };
        assert!(super::run(args).is_err());
    }
}
