//! JSON-RPC errors with the codes and messages geth uses.

use serde::Serialize;
use serde_json::Value;

/// Invalid JSON was received.
pub const PARSE_ERROR: i64 = -32700;
/// The JSON is not a valid request object.
pub const INVALID_REQUEST: i64 = -32600;
/// The method does not exist.
pub const METHOD_NOT_FOUND: i64 = -32601;
/// Invalid method parameters.
pub const INVALID_PARAMS: i64 = -32602;
/// Internal error of the node.
pub const INTERNAL_ERROR: i64 = -32603;
/// Geth's code for every other server error.
pub const SERVER_ERROR: i64 = -32000;
/// Geth's code for a reverted `eth_call` / `eth_estimateGas`.
pub const EXECUTION_REVERTED: i64 = 3;
/// Code used by Infura and others when a query returns too many results.
pub const LIMIT_EXCEEDED: i64 = -32005;

/// Result of a method handler.
pub type RpcResult<T> = Result<T, RpcError>;

/// A JSON-RPC error object.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RpcError {
    /// The error code.
    pub code: i64,
    /// The message.
    pub message: String,
    /// Extra data (the revert output of a reverted call).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl RpcError {
    /// An error with `code` and `message` and no data.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// `-32700 parse error`.
    pub fn parse_error() -> Self {
        Self::new(PARSE_ERROR, "parse error")
    }

    /// `-32600` with `message`.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(INVALID_REQUEST, message)
    }

    /// `-32601`, in geth's words.
    pub fn method_not_found(method: &str) -> Self {
        Self::new(
            METHOD_NOT_FOUND,
            format!("the method {method} does not exist/is not available"),
        )
    }

    /// `-32602` with `message`.
    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(INVALID_PARAMS, message)
    }

    /// `-32000` with `message`, geth's code for errors of a method.
    pub fn server(message: impl Into<String>) -> Self {
        Self::new(SERVER_ERROR, message)
    }

    /// `-32603`: the node failed (storage, encoding). Logged, since it is our fault.
    pub fn internal(message: impl std::fmt::Display) -> Self {
        tracing::warn!(target: "altius::rpc", error = %message, "internal error");
        Self::new(INTERNAL_ERROR, format!("internal error: {message}"))
    }

    /// Geth's error for a block number or tag beyond the chain.
    pub fn header_not_found() -> Self {
        Self::server("header not found")
    }

    /// Geth's error for an EIP-1898 block hash that is not known.
    pub fn header_for_hash_not_found() -> Self {
        Self::server("header for hash not found")
    }

    /// Geth's error for a reverted call: code 3, the reason in the message, the revert
    /// output as data.
    pub fn reverted(reason: Option<&str>, output: &[u8]) -> Self {
        let message = match reason {
            Some(r) if !r.is_empty() => format!("execution reverted: {r}"),
            _ => "execution reverted".to_owned(),
        };
        let data = (!output.is_empty())
            .then(|| Value::String(alloy_primitives::hex::encode_prefixed(output)));
        Self {
            code: EXECUTION_REVERTED,
            message,
            data,
        }
    }
}

impl std::fmt::Display for RpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for RpcError {}

impl From<crate::store::StoreError> for RpcError {
    fn from(e: crate::store::StoreError) -> Self {
        Self::internal(e)
    }
}

impl From<altius_state::StateError> for RpcError {
    fn from(e: altius_state::StateError) -> Self {
        match e {
            altius_state::StateError::BlockNotAvailable(_) => Self::server(e.to_string()),
            other => Self::internal(other),
        }
    }
}

impl From<crate::mempool::PoolError> for RpcError {
    fn from(e: crate::mempool::PoolError) -> Self {
        Self::new(e.code(), e.to_string())
    }
}

/// Serializes a result value; failures are internal errors.
pub(crate) fn to_json<T: Serialize>(value: T) -> RpcResult<Value> {
    serde_json::to_value(value).map_err(RpcError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverted_shapes() {
        let e = RpcError::reverted(Some("user error"), &[0x08, 0xc3]);
        assert_eq!(e.code, 3);
        assert_eq!(e.message, "execution reverted: user error");
        assert_eq!(e.data, Some(Value::String("0x08c3".into())));
        let e = RpcError::reverted(None, &[]);
        assert_eq!(e.message, "execution reverted");
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"code": 3, "message": "execution reverted"})
        );
    }

    #[test]
    fn method_not_found_is_geths() {
        let e = RpcError::method_not_found("eth_foo");
        assert_eq!(e.code, -32601);
        assert_eq!(
            e.message,
            "the method eth_foo does not exist/is not available"
        );
    }
}
