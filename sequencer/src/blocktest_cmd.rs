//! `altius blocktest`: runs Ethereum `BlockchainTests` fixtures with Ethereum L1 semantics
//! (see `altius_engine::blocktest`), printing one line per failure and a summary.

use altius_engine::blocktest::{BlockExecutor, RunOptions, SequentialEvmExecutor, run_paths};
use clap::Args;
use std::path::PathBuf;

/// Options of `altius blocktest`.
#[derive(Debug, Clone, Args)]
pub struct BlocktestArgs {
    /// Worker threads: fixture tests run in parallel on them; block execution stays
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
             {threads} threads run fixture tests in parallel",
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
            paths: vec![file],
        };
        assert!(super::run(args).is_err());
    }
}
