//! Errors of the engine, worded so that a JSON-RPC server can show them as they are.

use alloy_primitives::{Bytes, TxHash};
use altius_state::StateError;

/// Result alias of the engine.
pub type EngineResult<T> = Result<T, EngineError>;

/// JSON-RPC error code geth uses for reverts (the revert data goes into `error.data`).
pub const RPC_CODE_REVERTED: i64 = 3;
/// JSON-RPC error code geth uses for every other execution or transaction error.
pub const RPC_CODE_SERVER_ERROR: i64 = -32000;
/// JSON-RPC error code for invalid request parameters.
pub const RPC_CODE_INVALID_PARAMS: i64 = -32602;

/// Errors raised while executing blocks, calls and gas estimations.
///
/// The `Display` text of the variants a user can cause is geth's own wording
/// (`nonce too low: ...`, `execution reverted: ...`), so RPC servers pass it through.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A transaction (or call) cannot be executed on the current state, in geth's words:
    /// `nonce too low: ...`, `insufficient funds for gas * price + value: ...`,
    /// `intrinsic gas too low: ...`, `insufficient funds for transfer`, ...
    #[error("{0}")]
    InvalidTransaction(String),
    /// A transaction of a block being validated is invalid in block order.
    #[error("invalid transaction {hash} at index {index}: {reason}")]
    InvalidBlockTransaction {
        /// Position of the transaction in the block.
        index: usize,
        /// Hash of the transaction.
        hash: TxHash,
        /// Why it is invalid, in geth's words.
        reason: String,
    },
    /// The signature of a transaction does not recover to a sender.
    #[error("invalid sender: {0}")]
    InvalidSignature(String),
    /// The call reverted (`execution reverted` or `execution reverted: <reason>`).
    #[error("{}", revert_message(.reason.as_deref()))]
    Reverted {
        /// The decoded `Error(string)` / `Panic(uint256)` reason, when the data holds one.
        reason: Option<String>,
        /// The raw revert data.
        data: Bytes,
    },
    /// The call halted with an EVM error (`invalid opcode: INVALID`, `stack underflow`, ...).
    #[error("{0}")]
    Halted(String),
    /// Gas estimation found no gas limit up to the cap at which the call succeeds.
    #[error("gas required exceeds allowance ({0})")]
    GasRequiredExceedsAllowance(u64),
    /// Invalid request parameters (for example both `gasPrice` and `maxFeePerGas`).
    #[error("{0}")]
    InvalidParams(String),
    /// Invalid chain configuration or genesis.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// Reading the state failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// An internal EVM error that no transaction can cause.
    #[error("evm: {0}")]
    Evm(String),
}

impl EngineError {
    /// The revert data of a [`EngineError::Reverted`] error.
    pub fn revert_data(&self) -> Option<&Bytes> {
        match self {
            Self::Reverted { data, .. } => Some(data),
            _ => None,
        }
    }

    /// The JSON-RPC error code geth would answer with.
    pub fn rpc_code(&self) -> i64 {
        match self {
            Self::Reverted { .. } => RPC_CODE_REVERTED,
            Self::InvalidParams(_) => RPC_CODE_INVALID_PARAMS,
            _ => RPC_CODE_SERVER_ERROR,
        }
    }
}

/// geth's text for a revert.
fn revert_message(reason: Option<&str>) -> String {
    match reason {
        Some(reason) => format!("execution reverted: {reason}"),
        None => "execution reverted".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revert_messages_follow_geth() {
        let plain = EngineError::Reverted {
            reason: None,
            data: Bytes::new(),
        };
        assert_eq!(plain.to_string(), "execution reverted");
        assert_eq!(plain.rpc_code(), RPC_CODE_REVERTED);
        let with_reason = EngineError::Reverted {
            reason: Some("nope".into()),
            data: Bytes::from(vec![1]),
        };
        assert_eq!(with_reason.to_string(), "execution reverted: nope");
        assert_eq!(with_reason.revert_data().map(|d| d.len()), Some(1));
    }

    #[test]
    fn other_errors_use_server_error_code() {
        let err = EngineError::GasRequiredExceedsAllowance(21_000);
        assert_eq!(err.to_string(), "gas required exceeds allowance (21000)");
        assert_eq!(err.rpc_code(), RPC_CODE_SERVER_ERROR);
        assert!(err.revert_data().is_none());
        assert_eq!(
            EngineError::InvalidParams("x".into()).rpc_code(),
            RPC_CODE_INVALID_PARAMS
        );
    }
}
