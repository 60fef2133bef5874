//! Block execution for Altius.
//!
//! The [`Executor`] trait runs the transactions of one block against a
//! [`altius_state::StateProvider`] and returns receipts and the block's
//! [`altius_state::StateChanges`]. [`SequentialExecutor`] runs them one after another over
//! op-revm with OP Stack semantics; [`ParallelExecutor`] runs them on the Block-STM core
//! ([`parallel`]) and gives the same result.
//! [`ChainSpec`] and [`Genesis`] describe the chain the executor runs.

#![warn(missing_docs)]

pub mod blocktest;
mod chain;
mod chunks;
mod db;
mod error;
mod estimate;
mod evm;
mod executor;
mod genesis;
mod messages;
mod overlay;
pub mod parallel;
mod parallel_evm;
mod parallel_executor;
mod quantity;
mod receipt;
mod sequential;
#[cfg(test)]
mod sequential_reference;
mod simulate;
#[cfg(test)]
mod test_utils;
mod tx;
pub mod workload;

pub use chain::{ChainSpec, FeeVaults, Hardfork};
pub use error::{
    EngineError, EngineResult, RPC_CODE_INVALID_PARAMS, RPC_CODE_REVERTED, RPC_CODE_SERVER_ERROR,
};
pub use executor::{
    BlockEnv, BlockExecution, BlockHashes, ExecutedTx, ExecutionMode, Executor, RecoveredTx,
    RejectedTx,
};
pub use genesis::{
    DEV_BALANCE, Genesis, GenesisAccount, L1_BLOCK, L2_TO_L1_MESSAGE_PASSER, PREDEPLOY_CODE,
    message_passer_code,
};
pub use op_revm::OpSpecId;
pub use parallel_evm::{AccountValue, EvmKey, EvmValue};
pub use parallel_executor::ParallelExecutor;
pub use sequential::SequentialExecutor;
pub use simulate::{
    AccountOverride, CallOutcome, CallRequest, RPC_GAS_CAP, StateOverride, call, estimate_gas,
};
pub use tx::{check_intrinsic_gas, floor_data_gas, intrinsic_gas, recover};
