//! The error type of the DA crate.

use alloy_primitives::B256;

/// Everything that can go wrong while talking to a DA backend.
#[derive(Debug, thiserror::Error)]
pub enum DaError {
    /// The configured backend exists in the config schema but has no implementation yet.
    #[error("unsupported DA backend: {0}")]
    Unsupported(String),
    /// The DA configuration is invalid.
    #[error("invalid DA config: {0}")]
    InvalidConfig(String),
    /// A reference was malformed or does not belong to this backend.
    #[error("invalid DA reference: {0}")]
    InvalidReference(String),
    /// Submitted data was empty.
    #[error("refusing to submit empty data")]
    EmptySubmission,
    /// Submitted data exceeded the backend limit.
    #[error("submission of {size} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// Size of the rejected payload.
        size: usize,
        /// Largest accepted payload.
        max: usize,
    },
    /// Nothing is stored at the referenced height.
    #[error("no DA data at height {height}")]
    NotFound {
        /// The requested height.
        height: u64,
    },
    /// Stored data does not match its commitment.
    #[error("DA data at height {height} is corrupted: expected hash {expected}, found {actual}")]
    Corrupted {
        /// Height of the corrupted entry.
        height: u64,
        /// Hash recorded in the reference.
        expected: B256,
        /// Hash of the bytes actually stored.
        actual: B256,
    },
    /// Blob data is not a valid OP version-0 blob, or does not fit one.
    #[error("invalid blob: {0}")]
    InvalidBlob(String),
    /// The storage layer failed.
    #[error("DA storage error: {0}")]
    Storage(String),
    /// A backend-specific failure (an error response, task join, ...).
    #[error("DA backend error: {0}")]
    Backend(String),
    /// The DA layer could not be reached (connection refused, HTTP error, timeout). The
    /// call may be retried unchanged.
    #[error("DA layer unavailable: {0}")]
    Unavailable(String),
    /// The referenced L1 transaction is no longer in the canonical chain (reorged out or
    /// dropped), or sits at another position than the reference says: submit the data again.
    #[error("DA transaction {tx_hash} referenced at L1 block {height} is not canonical: {reason}")]
    NotCanonical {
        /// Height recorded in the reference.
        height: u64,
        /// The referenced transaction.
        tx_hash: B256,
        /// What was found instead.
        reason: String,
    },
}

impl DaError {
    /// Whether the failed call may succeed when retried unchanged.
    pub const fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }

    /// Wraps any redb error as [`DaError::Storage`].
    pub(crate) fn storage(err: impl Into<redb::Error>) -> Self {
        Self::Storage(err.into().to_string())
    }
}
