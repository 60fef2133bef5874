//! The error type of the settlement crate.

/// The result type of the settlement crate.
pub type Result<T, E = SettlementError> = std::result::Result<T, E>;

/// Everything that can go wrong while proposing or reading output roots.
#[derive(Debug, thiserror::Error)]
pub enum SettlementError {
    /// The settlement configuration is invalid (missing field, bad URL, unreadable key, ...).
    #[error("invalid settlement config: {0}")]
    InvalidConfig(String),
    /// The settlement layer rejected the call: an L1 revert (the decoded `Error(string)`
    /// reason when there is one), or the same rule broken in [`crate::LocalSettlement`],
    /// which uses the contract's revert messages.
    #[error("settlement call reverted: {0}")]
    Reverted(String),
    /// The L1 endpoint could not be reached (connection refused, HTTP error, timeout). The
    /// call may be retried.
    #[error("settlement layer unavailable: {0}")]
    Unavailable(String),
    /// The L1 node answered with an error that is neither a revert nor a transport failure.
    #[error("L1 RPC error: {0}")]
    Rpc(String),
    /// The L1 node or contract returned a value this crate cannot use.
    #[error("invalid settlement response: {0}")]
    InvalidResponse(String),
    /// The local storage layer failed or holds malformed data.
    #[error("settlement storage error: {0}")]
    Storage(String),
}

impl SettlementError {
    /// Whether the failed call may succeed when retried unchanged.
    pub const fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }

    /// Wraps any redb error as [`SettlementError::Storage`].
    pub(crate) fn storage(err: impl Into<redb::Error>) -> Self {
        Self::Storage(err.into().to_string())
    }
}
