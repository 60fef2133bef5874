//! Test helper shared by the crates whose tests need a real L1: starts the anvil binary
//! (installed by `scripts/install-tools.sh`) on a free loopback port and kills it when
//! dropped.

#![warn(missing_docs)]
#![allow(clippy::missing_panics_doc)]

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

/// Anvil's first prefunded test key.
pub const KEY_0: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
/// Anvil's second prefunded test key.
pub const KEY_1: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

/// A running anvil; killed on drop.
#[derive(Debug)]
pub struct Anvil {
    child: Child,
    /// Its JSON-RPC URL (`http://127.0.0.1:PORT`).
    pub url: String,
}

impl Anvil {
    /// The anvil binary: `$ANVIL`, or the one `scripts/install-tools.sh` installs.
    fn binary() -> PathBuf {
        std::env::var_os("ANVIL")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .join("../../node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")
            })
    }

    /// Starts anvil, or returns `None` (printing why) when the binary is absent; under CI
    /// (`CI` set) a missing binary panics.
    pub fn spawn() -> Option<Self> {
        Self::spawn_with(&[])
    }

    /// Starts anvil with `extra` arguments, or returns `None` (printing why) when the binary
    /// is absent.
    pub fn spawn_with(extra: &[&str]) -> Option<Self> {
        let bin = Self::binary();
        if !bin.is_file() {
            // Under CI the test command installs anvil first: a missing binary is a failure,
            // never a silently skipped test.
            assert!(
                std::env::var_os("CI").is_none(),
                "anvil not found at {} although CI is set (scripts/install-tools.sh installs it)",
                bin.display()
            );
            eprintln!(
                "skipping: anvil not found at {} (run scripts/install-tools.sh)",
                bin.display()
            );
            return None;
        }
        Some(Self::start(&bin, extra))
    }

    /// Starts `bin` and waits until it listens.
    fn start(bin: &Path, extra: &[&str]) -> Self {
        let mut child = Command::new(bin)
            .args(["--host", "127.0.0.1", "--port", "0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn anvil");
        let stdout = child.stdout.take().expect("anvil stdout");
        let (tx, rx) = mpsc::channel();
        // Keeps draining stdout after the address so anvil never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.trim().strip_prefix("Listening on ") {
                    let _ = tx.send(addr.to_owned());
                }
            }
        });
        let mut anvil = Self {
            child,
            url: String::new(),
        };
        let addr = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("anvil did not start listening");
        anvil.url = format!("http://{addr}");
        anvil
    }

    /// Kills anvil now (idempotent).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        self.kill();
    }
}
