//! The state benchmark: build a state of N accounts, then time one block of U random account
//! and storage updates with T threads and with one, against a from-scratch root.

use crate::{
    Account, AccountUpdate, StateChanges, StateCommitter, StateConfig, StateDb, StateError,
    StateResult, scan, ssmt, tables, trie,
};
use alloy_primitives::{Address, B256, U256, keccak256};
use redb::Database;
use std::{path::Path, sync::Arc, time::Instant};

/// Accounts written per block while building the state.
const BUILD_CHUNK: u64 = 100_000;
/// Every this many accounts one is a contract with storage.
const CONTRACT_EVERY: u64 = 50;
/// Slots of each ordinary contract.
const CONTRACT_SLOTS: u64 = 8;
/// Timed repetitions of each measurement, interleaved; the fastest counts. The two-thread
/// runs need both cores free for their whole length, so they need more tries than the
/// one-thread runs to see a quiet moment on a shared machine.
const RUNS: usize = 15;

/// The figures of one [`run_state_bench`] run. `Display` prints it as one JSON line.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct StateBenchReport {
    /// Accounts in the state.
    pub accounts: u64,
    /// Account updates in the timed block.
    pub updates: u64,
    /// Threads of the timed run.
    pub threads: usize,
    /// Time to build the state, in milliseconds.
    pub build_ms: f64,
    /// Time to apply the block's updates to the tries and compute the new root, in
    /// milliseconds: the trie work of `commit_block` (hashing the changed addresses and
    /// slots, updating and hashing the storage tries, building the account leaves, updating
    /// and hashing the account trie), without the flat-state reads and writes and the node
    /// writes to redb (see `commit_ms`). Fastest of several runs.
    pub root_ms: f64,
    /// The same with one thread.
    pub root_ms_1thread: f64,
    /// `root_ms_1thread / root_ms`.
    pub speedup: f64,
    /// Time of a from-scratch HashBuilder root over the same state (read from redb), which
    /// the benchmark also checks against the incremental root.
    pub scratch_ms: f64,
    /// Bytes of keys and values the block's commit wrote (flat state, history, trie nodes).
    pub bytes_written: u64,
    /// Resident memory of the process at the end, in MiB.
    pub rss_mb: f64,
    /// Time of the whole `commit_block` (flat writes included) with `threads` threads.
    pub commit_ms: f64,
    /// The same with one thread.
    pub commit_ms_1thread: f64,
    /// Account-trie changes of the busiest shard over the mean per shard (1.0 = balanced).
    pub shard_imbalance: f64,
    /// The same for the slot changes of the hot contract, whose storage trie is split too.
    pub hot_storage_imbalance: f64,
    /// Speedup of a plain parallel keccak loop on the same pools, measured around the timed
    /// runs: what the machine offered (other processes share its cores).
    pub cpu_speedup: f64,
}

impl std::fmt::Display for StateBenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{{\"accounts\":{},\"updates\":{},\"threads\":{},\"build_ms\":{:.1},\
             \"root_ms\":{:.2},\"root_ms_1thread\":{:.2},\"speedup\":{:.2},\
             \"scratch_ms\":{:.1},\"bytes_written\":{},\"rss_mb\":{:.1},\"commit_ms\":{:.2},\
             \"commit_ms_1thread\":{:.2},\"shard_imbalance\":{:.2},\
             \"hot_storage_imbalance\":{:.2},\"cpu_speedup\":{:.2}}}",
            self.accounts,
            self.updates,
            self.threads,
            self.build_ms,
            self.root_ms,
            self.root_ms_1thread,
            self.speedup,
            self.scratch_ms,
            self.bytes_written,
            self.rss_mb,
            self.commit_ms,
            self.commit_ms_1thread,
            self.shard_imbalance,
            self.hot_storage_imbalance,
            self.cpu_speedup,
        )
    }
}

/// Builds a state of `accounts` accounts in a fresh database under `datadir`, then times a
/// block of `updates` random account updates (a share of them with storage writes, plus
/// writes to one large "hot" contract storage) with `threads` threads and with one.
pub fn run_state_bench(
    accounts: u64,
    updates: u64,
    threads: usize,
    datadir: &Path,
) -> StateResult<StateBenchReport> {
    run_with_cache(accounts, updates, threads, datadir, BENCH_CACHE_BYTES)
}

/// Memory budget of the benchmark: enough to hold the tries of a million accounts.
const BENCH_CACHE_BYTES: u64 = 8 << 30;

/// [`run_state_bench`] with a cache budget of `cache_bytes`.
fn run_with_cache(
    accounts: u64,
    updates: u64,
    threads: usize,
    datadir: &Path,
    cache_bytes: u64,
) -> StateResult<StateBenchReport> {
    if accounts == 0 {
        return Err(StateError::InvalidArgument(
            "the benchmark needs accounts".into(),
        ));
    }
    let state = open_fresh(datadir, threads, cache_bytes)?;
    let start = Instant::now();
    let head = build(&state, accounts)?;
    let build_ms = ms(start);
    let changes = update_block(accounts, updates);
    let (one, many) = (
        state.with_pinned_threads(1)?,
        state.with_pinned_threads(threads)?,
    );
    let cpu_before = cpu_speedup(threads)?;
    let [(root_1, commit_1), (root_t, commit_t)] = time_blocks(&one, &many, head + 1, &changes)?;
    let cpu_speedup = (cpu_before + cpu_speedup(threads)?) / 2.0;
    let root = commit_block(&state, head + 1, &changes)?;
    let bytes_written = state.last_bytes_written();
    let (scratch_ms, scratch_root) = scratch(&state)?;
    if scratch_root != root {
        return Err(StateError::Corrupt(format!(
            "incremental root {root} differs from the from-scratch root {scratch_root}"
        )));
    }
    let report = StateBenchReport {
        accounts,
        updates,
        threads,
        build_ms,
        root_ms: root_t,
        root_ms_1thread: root_1,
        speedup: root_1 / root_t.max(f64::EPSILON),
        scratch_ms,
        bytes_written,
        rss_mb: rss_mb(),
        commit_ms: commit_t,
        commit_ms_1thread: commit_1,
        shard_imbalance: imbalance(changes.accounts.keys().map(keccak256)),
        hot_storage_imbalance: imbalance(
            changes
                .accounts
                .get(&address(0))
                .into_iter()
                .flat_map(|hot| hot.storage.keys())
                .map(|slot| keccak256(B256::from(*slot))),
        ),
        cpu_speedup,
    };
    tracing::info!(target: "altius::state", %report, "state benchmark");
    Ok(report)
}

fn open_fresh(datadir: &Path, threads: usize, cache_bytes: u64) -> StateResult<StateDb> {
    let io = |e: std::io::Error| StateError::InvalidArgument(format!("bench datadir: {e}"));
    std::fs::create_dir_all(datadir).map_err(io)?;
    let path = datadir.join("state-bench.redb");
    if path.exists() {
        std::fs::remove_file(&path).map_err(io)?;
    }
    let config = StateConfig {
        shard_depth: 2,
        cache_bytes,
        threads,
        ..StateConfig::default()
    };
    StateDb::open_with_config(Arc::new(Database::create(&path)?), config)
}

/// A small deterministic generator (splitmix64).
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A value in `0..n` (`n > 0`).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn ms(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1e3
}

fn address(i: u64) -> Address {
    Address::from_slice(&keccak256(i.to_be_bytes())[12..])
}

/// Slots of the hot contract (account 0).
fn hot_slots(accounts: u64) -> u64 {
    (accounts / 10).clamp(1, 100_000)
}

/// Commits the initial accounts in blocks of [`BUILD_CHUNK`]; returns the last block.
fn build(state: &StateDb, accounts: u64) -> StateResult<u64> {
    let mut number = 0;
    let mut next = 0;
    loop {
        let end = (next + BUILD_CHUNK).min(accounts);
        let mut changes = StateChanges::default();
        for i in next..end {
            changes
                .accounts
                .insert(address(i), initial_account(i, accounts));
        }
        commit_block(state, number, &changes)?;
        next = end;
        if next >= accounts {
            return Ok(number);
        }
        number += 1;
    }
}

fn initial_account(i: u64, accounts: u64) -> AccountUpdate {
    let slots = match i {
        0 => hot_slots(accounts),
        i if i.is_multiple_of(CONTRACT_EVERY) => CONTRACT_SLOTS,
        _ => 0,
    };
    AccountUpdate {
        account: Some(Account {
            nonce: 1,
            balance: U256::from(i + 1),
            ..Account::default()
        }),
        wipe_storage: false,
        storage: (0..slots)
            .map(|s| (U256::from(s), U256::from(s + 1)))
            .collect(),
    }
}

/// `updates` random accounts get a new balance and nonce; contracts among them also write
/// two slots, and the hot contract writes `updates / 5` slots.
fn update_block(accounts: u64, updates: u64) -> StateChanges {
    let mut rng = Mix(accounts ^ updates.rotate_left(32));
    let mut changed = Vec::with_capacity(updates as usize);
    for _ in 0..updates {
        let i = rng.below(accounts);
        let mut storage = std::collections::BTreeMap::new();
        if i.is_multiple_of(CONTRACT_EVERY) {
            for _ in 0..2 {
                let slot = rng.below(CONTRACT_SLOTS * 2);
                storage.insert(U256::from(slot), U256::from(rng.next()));
            }
        }
        let account = Account {
            nonce: 2 + rng.below(1000),
            balance: U256::from(rng.next()),
            ..Account::default()
        };
        let update = AccountUpdate {
            account: Some(account),
            wipe_storage: false,
            storage,
        };
        changed.push((address(i), update));
    }
    // Collected at once: inserting one by one in random order would move the list each time.
    let mut changes = StateChanges {
        accounts: changed.into_iter().collect(),
        ..StateChanges::default()
    };
    let hot = changes
        .accounts
        .get_or_insert_with(address(0), || initial_account(0, 0));
    hot.storage.clear();
    for _ in 0..updates / 5 {
        let slot = rng.below(hot_slots(accounts) * 2);
        hot.storage.insert(U256::from(slot), U256::from(rng.next()));
    }
    changes
}

fn commit_block(state: &StateDb, number: u64, changes: &StateChanges) -> StateResult<B256> {
    let txn = state.database().begin_write()?;
    let root = state.commit_block(&txn, number, changes)?;
    txn.commit()?;
    state.on_committed(number);
    Ok(root)
}

/// Aborted commits of `changes` alternating between `one` (one thread) and `many`, the
/// order swapped every repetition so that neither always follows the other; the fastest of
/// [`RUNS`] each: `[(trie ms, commit ms) with one thread, the same with many]`. Every run
/// applies the same changes to the same committed state. Both states run their trie work on
/// dedicated pools with pinned workers ([`StateDb::with_pinned_threads`]).
fn time_blocks(
    one: &StateDb,
    many: &StateDb,
    number: u64,
    changes: &StateChanges,
) -> StateResult<[(f64, f64); 2]> {
    let mut best = [(f64::MAX, f64::MAX); 2];
    for run in 0..RUNS {
        let mut order = [(one, 0), (many, 1)];
        if run % 2 == 1 {
            order.reverse();
        }
        for (state, i) in order {
            let txn = state.database().begin_write()?;
            let start = Instant::now();
            state.commit_block(&txn, number, changes)?;
            best[i].1 = best[i].1.min(ms(start));
            best[i].0 = best[i].0.min(state.last_trie_time().as_secs_f64() * 1e3);
            drop(txn);
            state.on_aborted(number);
        }
    }
    Ok(best)
}

/// The speedup of hashing independent inputs with `threads` threads over one thread, on
/// pinned pools like those of the timed runs.
fn cpu_speedup(threads: usize) -> StateResult<f64> {
    use rayon::prelude::*;
    let pool = |n: usize| {
        crate::affinity::pinned_pool(n)
            .map_err(|e| StateError::InvalidArgument(format!("bench pool: {e}")))
    };
    let work = || {
        (0..200_000u64)
            .into_par_iter()
            .map(|i| keccak256(i.to_be_bytes())[0])
            .max()
    };
    let (one, many) = (pool(1)?, pool(threads.max(1))?);
    let mut best = [f64::MAX; 2];
    for _ in 0..3 {
        for (pool, best) in [&one, &many].into_iter().zip(best.iter_mut()) {
            let start = Instant::now();
            pool.install(work);
            *best = best.min(ms(start));
        }
    }
    Ok(best[0] / best[1].max(f64::EPSILON))
}

/// A from-scratch root of the committed accounts: time in ms and the root.
fn scratch(state: &StateDb) -> StateResult<(f64, B256)> {
    let txn = state.begin_read()?;
    let start = Instant::now();
    let table = txn.open_table(tables::HASHED_ACCOUNTS)?;
    let root = trie::state_root(scan::hashed_accounts(&table)?)?;
    Ok((ms(start), root))
}

/// Busiest shard over the mean, for `keys` of a trie split at depth 2.
fn imbalance(keys: impl Iterator<Item = B256>) -> f64 {
    let ops: Vec<ssmt::Op> = keys.map(|k| (ssmt::nibbles(k.as_slice()), None)).collect();
    let loads = ssmt::shard_loads(&ops, 2);
    let max = loads.iter().copied().max().unwrap_or(0) as f64;
    max * loads.len() as f64 / (ops.len().max(1) as f64)
}

/// Resident set size from `/proc/self/status` (0 where unavailable).
fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_bench_runs_and_checks_its_root() {
        let dir = tempfile::tempdir().unwrap();
        let report = run_state_bench(3_000, 300, 2, dir.path()).unwrap();
        assert_eq!(
            (report.accounts, report.updates, report.threads),
            (3_000, 300, 2)
        );
        assert!(report.bytes_written > 0 && report.root_ms > 0.0);
        let line = report.to_string();
        let json: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(json["accounts"], 3_000);
        println!("{line}");
    }

    /// The benchmark with a small cache: trie nodes load from redb (run with `--release
    /// --ignored --nocapture`; `BENCH_ACCOUNTS` sets the size).
    #[test]
    #[ignore = "timing, not a check"]
    fn bench_with_small_cache() {
        let accounts = std::env::var("BENCH_ACCOUNTS").map_or(100_000, |a| a.parse().unwrap());
        let dir = tempfile::tempdir().unwrap();
        let report = run_with_cache(accounts, 10_000, 2, dir.path(), 32 << 20).unwrap();
        println!("{report}");
    }
}
