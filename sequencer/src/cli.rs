//! The `altius` command line.

use clap::{Args, Parser, Subcommand};
use std::{net::IpAddr, path::PathBuf};

/// Altius: an OP Stack style L2 rollup node with parallel execution.
#[derive(Debug, Parser)]
#[command(name = "altius", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the node (a dev chain on embedded defaults when given no arguments).
    Run(RunArgs),
    /// Configuration helpers.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Benchmarks; each prints one JSON line.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Run Ethereum BlockchainTests fixtures with Ethereum L1 semantics.
    Blocktest(crate::blocktest_cmd::BlocktestArgs),
    /// L1 contracts: deploy the L2OutputOracle.
    #[command(subcommand)]
    Contracts(crate::contracts_cmd::ContractsCommand),
}

/// Options of `altius run`; flags override the config file.
#[derive(Debug, Clone, Default, Args)]
pub struct RunArgs {
    /// TOML configuration file (see `altius config default`).
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Data directory [default: ./altius-data].
    #[arg(long)]
    pub datadir: Option<PathBuf>,
    /// JSON-RPC listen address [default: 127.0.0.1].
    #[arg(long)]
    pub http_addr: Option<IpAddr>,
    /// JSON-RPC port (HTTP and WebSocket) [default: 8545; 0 picks a free port].
    #[arg(long)]
    pub http_port: Option<u16>,
    /// Seconds between blocks; 0 builds a block as soon as a transaction arrives [default: 1].
    #[arg(long)]
    pub block_time: Option<f64>,
    /// Genesis file (TOML or JSON) [default: the built-in dev genesis].
    #[arg(long)]
    pub genesis: Option<PathBuf>,
}

/// `altius config ...`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print a complete, commented example configuration with every default.
    Default,
}

/// `altius bench ...`.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Send signed ETH transfers to a running node and measure throughput and latency.
    Rpc(crate::bench::rpc::RpcBenchArgs),
    /// Build a large state and time incremental state-root computation.
    State(crate::bench::state::StateBenchArgs),
    /// Execute one block of a workload sequentially and in parallel.
    Engine(crate::bench::engine::EngineBenchArgs),
    /// Execute one block of a workload in parallel with the SSA redo and without it.
    Redo(crate::bench::redo::RedoBenchArgs),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_run_flags() {
        let cli = Cli::try_parse_from([
            "altius",
            "run",
            "--datadir",
            "/tmp/x",
            "--http-port",
            "0",
            "--block-time",
            "0",
        ])
        .unwrap();
        let Command::Run(args) = cli.command else {
            panic!("not run")
        };
        assert_eq!(args.http_port, Some(0));
        assert_eq!(args.block_time, Some(0.0));
        assert_eq!(args.datadir.unwrap(), PathBuf::from("/tmp/x"));
    }

    #[test]
    fn run_needs_no_arguments() {
        assert!(Cli::try_parse_from(["altius", "run"]).is_ok());
        assert!(Cli::try_parse_from(["altius", "run", "--bogus"]).is_err());
    }
}
