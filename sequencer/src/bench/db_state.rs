//! The state `altius bench engine` executes on: the workload's own in-memory state, or
//! (`--state db`) the same state committed as the genesis of a redb state database in a
//! temporary folder, read through its snapshot and flat cache the way the node reads it.

use altius_engine::workload::WorkloadBlock;
use altius_state::{LatestState, StateCommitter, StateDb, StateProvider};
use clap::ValueEnum;
use eyre::WrapErr;
use redb::Database;
use std::sync::Arc;
use tempfile::TempDir;

/// Where the executed state lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StateKind {
    /// The workload's in-memory maps.
    Memory,
    /// A redb state database, as the node's.
    Db,
}

/// The state of a benchmark run.
pub(super) enum BenchState<'b> {
    /// The workload's state.
    Memory(&'b dyn StateProvider),
    /// A database holding it.
    Db(Box<DbState>),
}

/// A state database in a temporary folder of its own, and the snapshot read. The folder
/// is removed when it is dropped, after the database (fields drop in order).
pub(super) struct DbState {
    latest: LatestState,
    _state: StateDb,
    /// Held for its drop (the tests also read its path).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(super) dir: TempDir,
}

impl<'b> BenchState<'b> {
    /// The state of `kind` holding `block`'s state.
    pub(super) fn new(kind: StateKind, block: &'b WorkloadBlock) -> eyre::Result<Self> {
        match kind {
            StateKind::Memory => Ok(Self::Memory(&block.state)),
            StateKind::Db => {
                let dir = tempfile::Builder::new()
                    .prefix("altius-bench-engine-")
                    .tempdir()
                    .wrap_err("cannot create a temporary folder")?;
                let (state, latest) = committed(block, dir.path())?;
                Ok(Self::Db(Box::new(DbState {
                    latest,
                    _state: state,
                    dir,
                })))
            }
        }
    }

    /// The state to execute on.
    pub(super) fn provider(&self) -> &dyn StateProvider {
        match self {
            Self::Memory(state) => *state,
            Self::Db(db) => &db.latest,
        }
    }
}

/// A state database in `dir` whose genesis is `block`'s state, and its latest snapshot.
fn committed(block: &WorkloadBlock, dir: &std::path::Path) -> eyre::Result<(StateDb, LatestState)> {
    let db = Database::create(dir.join("state.redb")).wrap_err("creating the database")?;
    let state = StateDb::open(Arc::new(db))?;
    let txn = state.database().begin_write()?;
    state.commit_block(&txn, 0, &block.state.to_state_changes())?;
    txn.commit()?;
    state.on_committed(0);
    let latest = state.latest()?;
    Ok((state, latest))
}
