//! Running Ethereum `BlockchainTests` fixtures with Ethereum L1 semantics (Shanghai, Cancun,
//! Prague and transitions between them; older forks are skipped and counted).
//!
//! Every block of a test is decoded from its RLP, checked against its parent, executed by a
//! [`BlockExecutor`] on an in-memory [`WorldState`] (state roots come from
//! [`altius_state::state_root_of`]) and compared with its header: state root, receipts root,
//! logs bloom, gas and blob gas used, requests hash. Blocks marked `expectException` must be
//! rejected. The state of the block `lastblockhash` must match `postState` or
//! `postStateHash`. [`SequentialEvmExecutor`] runs transactions one by one over mainnet
//! revm; [`ParallelEvmExecutor`] runs them on the Block-STM core.

mod chain;
mod collision;
mod executor;
mod fixture;
mod fork;
mod header;
mod parallel;
mod requests;
mod runner;
mod world;

#[cfg(test)]
mod tests;

pub use chain::{TestOutcome, run_test};
pub use executor::{
    BlockExecutor, BlockInput, BlockOutput, SequentialEvmExecutor, SignedTx, TEST_CHAIN_ID,
};
pub use fixture::{BlockchainTest, FixtureAccount, FixtureBlock, parse_fixture, parse_test};
pub use fork::{Fork, ForkSchedule};
pub use parallel::ParallelEvmExecutor;
pub use runner::{Failure, RunOptions, Summary, run_file, run_paths};
pub use world::{WorldAccount, WorldState};
