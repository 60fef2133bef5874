//! The `altius` binary: parses the command line and runs the chosen command.

use altius_sequencer::cli::{BenchCommand, Cli, Command, ConfigCommand};
use clap::Parser;

/// mimalloc: the engine allocates small read and write sets on many threads at once, where
/// glibc's allocator serializes on its arenas.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (`mimalloc.h`, `enum mi_option_e`).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How long mimalloc keeps freed memory before it returns it to the system, in
/// milliseconds: longer than a few blocks, so that each block reuses the memory the one
/// before it freed instead of faulting fresh (zeroed) pages in; mimalloc's default is one
/// second. `MIMALLOC_PURGE_DELAY` in the environment overrides it.
const PURGE_DELAY_MS: std::ffi::c_long = 10_000;

fn main() -> std::process::ExitCode {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one of mimalloc's options, before any thread is started.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) };
    }
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
        Command::Bench(BenchCommand::Redo(args)) => altius_sequencer::bench::redo::run(args),
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
