//! The [`SettlementClient`] trait and the values it exchanges.

use std::{fmt, future::Future, pin::Pin};

use alloy_primitives::B256;

use crate::SettlementError;

/// The boxed future returned by [`SettlementClient`] methods.
///
/// Boxing keeps the trait dyn-compatible so the node can hold an `Arc<dyn SettlementClient>`
/// chosen from configuration at run time.
pub type SettlementFuture<'a, T> =
    Pin<Box<dyn Future<Output = Result<T, SettlementError>> + Send + 'a>>;

/// An output root to record for an L2 block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proposal {
    /// The output root of `l2_block_number` (see [`crate::OutputRootV0`]); must be non-zero.
    pub output_root: B256,
    /// The L2 block the root commits to; must be the settlement layer's next block number.
    pub l2_block_number: u64,
    /// Hash of L1 block `l1_block_number`, checked on L1 to guard against reorgs; zero to skip
    /// the check. Ignored by [`crate::LocalSettlement`].
    pub l1_block_hash: B256,
    /// The L1 block whose hash is `l1_block_hash`.
    pub l1_block_number: u64,
}

/// Where a proposal landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProposalReceipt {
    /// The L1 transaction, if the proposal was sent to L1.
    pub tx_hash: Option<B256>,
    /// The L1 block that included the transaction, if any.
    pub l1_block: Option<u64>,
}

/// An output recorded by the settlement layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProposedOutput {
    /// The proposed output root.
    pub output_root: B256,
    /// The L2 block it commits to.
    pub l2_block_number: u64,
    /// Unix time (seconds) at which it was recorded: the L1 block timestamp on L1.
    pub timestamp: u64,
    /// Position in the list of outputs (0 for the first one).
    pub index: u64,
}

/// A settlement layer that records L2 output roots: the L2OutputOracle on L1, or the embedded
/// [`crate::LocalSettlement`].
///
/// Implementations must be cheap to share (`Send + Sync`), must never panic on input and
/// report a transient transport failure as [`SettlementError::Unavailable`].
pub trait SettlementClient: Send + Sync + fmt::Debug {
    /// A short, stable name for the backend (`"local"`, `"l2-output-oracle"`).
    fn kind(&self) -> &'static str;

    /// The L2 block number of the latest proposed output, or `None` if none was proposed.
    fn latest_proposed_block(&self) -> SettlementFuture<'_, Option<u64>>;

    /// The L2 block number the next proposal must be for.
    fn next_block_number(&self) -> SettlementFuture<'_, u64>;

    /// Records `proposal`, enforcing the settlement layer's rules.
    fn propose(&self, proposal: Proposal) -> SettlementFuture<'_, ProposalReceipt>;

    /// The output proposed for exactly `l2_block_number`, if any.
    fn output_at(&self, l2_block_number: u64) -> SettlementFuture<'_, Option<ProposedOutput>>;
}
