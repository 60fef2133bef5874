//! The `altius` binary: parses the command line and runs the chosen command.

use altius_sequencer::cli::{BenchCommand, Cli, Command, ConfigCommand};
use clap::Parser;

/// mimalloc: the engine allocates small read and write sets on many threads at once, where
/// glibc's allocator serializes on its arenas.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => altius_sequencer::run::run(args),
        Command::Config(ConfigCommand::Default) => {
            print!("{}", altius_sequencer::config::NodeConfig::example_toml());
            Ok(())
        }
        Command::Bench(BenchCommand::Rpc(args)) => altius_sequencer::bench::rpc::run(args),
        Command::Bench(BenchCommand::State(args)) => altius_sequencer::bench::state::run(args),
        Command::Bench(BenchCommand::Engine(args)) => altius_sequencer::bench::engine::run(args),
        Command::Blocktest(args) => altius_sequencer::blocktest_cmd::run(args),
        Command::Contracts(cmd) => altius_sequencer::contracts_cmd::run(cmd),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
