//! Runs the state benchmark: `state_bench ACCOUNTS UPDATES THREADS DATADIR`, printing one
//! JSON line (the lead wires the same function as `altius bench state`).

use std::{path::PathBuf, process::ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number =
        |i: usize, default: u64| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let (accounts, updates, threads) = (number(0, 100_000), number(1, 10_000), number(2, 2));
    let datadir = args
        .get(3)
        .map_or_else(|| PathBuf::from("target/state-bench"), PathBuf::from);
    let threads = usize::try_from(threads).unwrap_or(2);
    match altius_state::run_state_bench(accounts, updates, threads, &datadir) {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("state bench failed: {error}");
            ExitCode::FAILURE
        }
    }
}
