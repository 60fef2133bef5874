//! `altius bench state`: builds a state of N accounts, applies U random account and storage
//! updates, and times the new root with T threads and with one (see
//! `altius_state::run_state_bench`).

use clap::Args;
use eyre::WrapErr;
use std::path::PathBuf;

/// Options of `altius bench state`.
#[derive(Debug, Clone, Args)]
pub struct StateBenchArgs {
    /// Accounts in the state (each with a few storage slots, some contracts with many).
    #[arg(long, default_value_t = 100_000)]
    pub accounts: u64,
    /// Random account and storage updates in the timed block.
    #[arg(long, default_value_t = 10_000)]
    pub updates: u64,
    /// Threads of the timed run [default: available cores].
    #[arg(long)]
    pub threads: Option<usize>,
    /// Directory for the benchmark's database [default: a fresh folder under the system
    /// temporary directory, removed afterwards].
    #[arg(long)]
    pub datadir: Option<PathBuf>,
}

/// Runs the benchmark and prints its JSON line.
pub fn run(args: StateBenchArgs) -> eyre::Result<()> {
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    // Without `--datadir`, a temporary folder removed when `temporary` is dropped.
    let (dir, _temporary) = match args.datadir {
        Some(d) => {
            std::fs::create_dir_all(&d)
                .wrap_err_with(|| format!("cannot create {}", d.display()))?;
            (d, None)
        }
        None => {
            let t = tempfile::Builder::new()
                .prefix("altius-bench-state-")
                .tempdir()
                .wrap_err("cannot create a temporary folder")?;
            (t.path().to_path_buf(), Some(t))
        }
    };
    let report = altius_state::run_state_bench(args.accounts, args.updates, threads, &dir);
    println!("{}", serde_json::to_string(&report?)?);
    Ok(())
}
