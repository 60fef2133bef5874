//! Altius settlement: output roots and the settlement layers they are proposed to.
//!
//! This crate computes OP Stack output roots ([`OutputRootV0`]) and defines the
//! backend-agnostic [`SettlementClient`] trait the proposer uses to record them, with two
//! backends chosen at run time by [`SettlementConfig`]:
//!
//! - [`LocalSettlement`]: an embedded redb store enforcing the L2OutputOracle's rules, so a
//!   node runs without any L1;
//! - [`L2OutputOracleClient`]: the L2OutputOracle contract on L1, through `sol!` bindings
//!   generated from the committed artifact ([`L2OutputOracle`]).
//!
//! [`Proposer`] is the proposer loop: it reads safe blocks through the small
//! [`OutputSource`] trait the node implements and proposes every output the settlement
//! layer expects next.
//!
//! ```
//! use alloy_primitives::B256;
//! use altius_settlement::{
//!     L2Head, LocalSettlement, LocalSettlementParams, OutputRootV0, Proposal,
//! };
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! let params = LocalSettlementParams { submission_interval: 10, starting_block_number: 0 };
//! let head = L2Head::at(12); // the node moves this as it seals blocks
//! let local = LocalSettlement::open(dir.path().join("settlement.redb"), params, head)?;
//!
//! let output_root = OutputRootV0 {
//!     state_root: B256::repeat_byte(1),
//!     message_passer_storage_root: B256::repeat_byte(2),
//!     block_hash: B256::repeat_byte(3),
//! }
//! .hash();
//! let next = local.next_block_number_blocking()?; // 10
//! let proposal = Proposal {
//!     output_root,
//!     l2_block_number: next,
//!     l1_block_hash: B256::ZERO, // only checked on L1
//!     l1_block_number: 0,
//! };
//! local.propose_blocking(&proposal)?;
//! assert_eq!(local.latest_proposed_block_blocking()?, Some(10));
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod client;
mod config;
mod error;
mod head;
mod local;
mod oracle;
mod output_root;
mod proposer;
#[cfg(test)]
mod proposer_tests;

pub use client::{Proposal, ProposalReceipt, ProposedOutput, SettlementClient, SettlementFuture};
pub use config::{DEFAULT_SUBMISSION_INTERVAL, SettlementConfig, SettlementKind};
pub use error::{Result, SettlementError};
pub use head::L2Head;
pub use local::{
    LocalSettlement, LocalSettlementParams, REVERT_BLOCK_NUMBER, REVERT_FUTURE, REVERT_ZERO_ROOT,
};
pub use oracle::{
    L2OutputOracle, L2OutputOracleClient, OracleInitParams, deploy_and_initialize,
    proposer_provider,
};
pub use output_root::{L2_TO_L1_MESSAGE_PASSER, OUTPUT_ROOT_VERSION_V0, OutputRootV0};
pub use proposer::{OutputSource, Proposer, ProposerTiming};
