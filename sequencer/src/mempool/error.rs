//! Why the pool refused a transaction, in geth's words.

/// JSON-RPC error code geth uses for every transaction pool rejection.
const GETH_TX_ERROR_CODE: i64 = -32000;

/// JSON-RPC code for internal errors (JSON-RPC 2.0 specification).
const INTERNAL_ERROR_CODE: i64 = -32603;

/// A transaction the pool did not accept. `Display` gives the message geth (or, for
/// [`PoolError::Unprotected`], geth's RPC layer) returns for the same condition, so wallets
/// and tools that match on those strings keep working.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    /// The bytes are not a valid EIP-2718 or legacy RLP transaction; the message is geth's
    /// style, e.g. `rlp: input too short` or `typed transaction too short`.
    #[error("{0}")]
    Decode(String),
    /// Deposit (0x7E), blob (EIP-4844) and other types that users cannot submit to this L2.
    #[error("transaction type not supported")]
    TxTypeNotSupported,
    /// The encoded transaction is larger than `max_tx_bytes`.
    #[error("oversized data")]
    OversizedData,
    /// A legacy transaction signed without a chain id (pre-EIP-155): replayable on any chain.
    #[error("only replay-protected (EIP-155) transactions allowed over RPC")]
    Unprotected,
    /// The transaction is signed for another chain.
    #[error("invalid chain id")]
    InvalidChainId,
    /// The gas limit is above the block gas limit.
    #[error("exceeds block gas limit")]
    GasLimit,
    /// The max priority fee is above the max fee.
    #[error("max priority fee per gas higher than max fee per gas")]
    TipAboveFeeCap,
    /// The signature does not recover to a sender (including high-`s` signatures).
    #[error("invalid sender")]
    InvalidSender,
    /// A contract creation whose init code is above the EIP-3860 limit.
    #[error("max initcode size exceeded")]
    MaxInitCodeSizeExceeded,
    /// An EIP-7702 transaction without authorizations.
    #[error("EIP-7702 transaction with empty auth list")]
    EmptyAuthList,
    /// The gas limit does not cover the intrinsic gas.
    #[error("intrinsic gas too low")]
    IntrinsicGas,
    /// The gas limit does not cover the EIP-7623 calldata floor.
    #[error("insufficient gas for floor data gas cost")]
    FloorDataGas,
    /// The priority fee (gas price for legacy transactions) is below `min_priority_fee`.
    #[error("transaction underpriced")]
    Underpriced,
    /// The nonce is 2^64-1, which EIP-2681 forbids.
    #[error("nonce has max value")]
    NonceMax,
    /// The nonce is below the sender's account nonce.
    #[error("nonce too low")]
    NonceTooLow,
    /// The sender cannot pay `gas_limit * max_fee + value`.
    #[error("insufficient funds for gas * price + value")]
    InsufficientFunds,
    /// A transaction with the same hash is already pooled.
    #[error("already known")]
    AlreadyKnown,
    /// A pooled transaction has the same sender and nonce and the new one does not raise
    /// both fees by the configured bump.
    #[error("replacement transaction underpriced")]
    ReplaceUnderpriced,
    /// The sender already has `max_account_slots` transactions pooled.
    #[error("account limit exceeded")]
    AccountLimitExceeded,
    /// The pool is full and the transaction is not better than the cheapest evictable one.
    #[error("txpool is full")]
    TxPoolFull,
    /// The sender's account could not be read from the state.
    #[error("internal error: {0}")]
    State(String),
}

impl PoolError {
    /// The JSON-RPC error code: geth's -32000 for every rejection of the transaction, and
    /// -32603 (internal error) when the node could not read its own state.
    pub fn code(&self) -> i64 {
        match self {
            Self::State(_) => INTERNAL_ERROR_CODE,
            _ => GETH_TX_ERROR_CODE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_geths() {
        let cases = [
            (
                PoolError::TxTypeNotSupported,
                "transaction type not supported",
            ),
            (PoolError::OversizedData, "oversized data"),
            (PoolError::InvalidChainId, "invalid chain id"),
            (PoolError::GasLimit, "exceeds block gas limit"),
            (PoolError::InvalidSender, "invalid sender"),
            (PoolError::IntrinsicGas, "intrinsic gas too low"),
            (PoolError::NonceTooLow, "nonce too low"),
            (
                PoolError::InsufficientFunds,
                "insufficient funds for gas * price + value",
            ),
            (PoolError::AlreadyKnown, "already known"),
            (
                PoolError::ReplaceUnderpriced,
                "replacement transaction underpriced",
            ),
            (PoolError::Underpriced, "transaction underpriced"),
            (PoolError::TxPoolFull, "txpool is full"),
            (PoolError::AccountLimitExceeded, "account limit exceeded"),
            (
                PoolError::TipAboveFeeCap,
                "max priority fee per gas higher than max fee per gas",
            ),
            (
                PoolError::Unprotected,
                "only replay-protected (EIP-155) transactions allowed over RPC",
            ),
        ];
        for (err, msg) in cases {
            assert_eq!(err.to_string(), msg);
            assert_eq!(err.code(), -32000);
        }
    }

    #[test]
    fn decode_and_state_errors() {
        let err = PoolError::Decode("rlp: input too short".into());
        assert_eq!(err.to_string(), "rlp: input too short");
        assert_eq!(err.code(), -32000);
        assert_eq!(PoolError::State("db".into()).code(), -32603);
    }
}
