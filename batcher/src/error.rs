//! The error type of the batcher crate.

/// Everything that can go wrong while encoding or decoding derivation data.
#[derive(Debug, thiserror::Error)]
pub enum BatcherError {
    /// RLP encoding was malformed.
    #[error("rlp: {0}")]
    Rlp(#[from] alloy_rlp::Error),
    /// Input ended before a complete item could be read.
    #[error("unexpected end of data while reading {0}")]
    UnexpectedEof(&'static str),
    /// A batch was malformed or failed validation.
    #[error("invalid batch: {0}")]
    InvalidBatch(String),
    /// A span batch was malformed or failed validation.
    #[error("invalid span batch: {0}")]
    InvalidSpanBatch(String),
    /// A transaction could not be decoded or is not allowed in a batch.
    #[error("invalid transaction: {0}")]
    InvalidTransaction(String),
    /// Adding the batch would exceed the channel's RLP byte limit.
    #[error("channel full: {size} more RLP bytes would exceed the limit of {max}")]
    ChannelFull {
        /// RLP bytes the rejected batch needed.
        size: u64,
        /// The channel's RLP byte limit.
        max: u64,
    },
    /// Compressing or decompressing a channel failed.
    #[error("compression: {0}")]
    Compression(String),
    /// A frame or batcher transaction was malformed.
    #[error("invalid frame: {0}")]
    InvalidFrame(String),
    /// A blob or blob payload was malformed or too large.
    #[error("invalid blob: {0}")]
    InvalidBlob(String),
    /// A configuration value was out of range.
    #[error("invalid config: {0}")]
    InvalidConfig(String),
    /// The batcher's cursor in the database failed or holds malformed data.
    #[error("batcher storage: {0}")]
    Storage(String),
    /// A block was handed to the submitter out of order.
    #[error("expected L2 block {expected}, got {got}")]
    UnexpectedBlock {
        /// The block the submitter needs next.
        expected: u64,
        /// The block it was given.
        got: u64,
    },
    /// The source of L2 blocks failed or lacks a block it reported.
    #[error("L2 block source: {0}")]
    Source(String),
}

impl BatcherError {
    /// Wraps any redb error as [`BatcherError::Storage`].
    pub(crate) fn storage(err: impl Into<redb::Error>) -> Self {
        Self::Storage(err.into().to_string())
    }
}
