//! Mapping alloy's RPC and transport errors onto [`DaError`].

use alloy::transports::{RpcError, TransportErrorKind};

use crate::DaError;

/// Maps a JSON-RPC error: transport failures (connection refused, HTTP status, closed
/// backend) become the retryable [`DaError::Unavailable`], error responses
/// [`DaError::Backend`].
pub(crate) fn from_rpc(what: &str, err: RpcError<TransportErrorKind>) -> DaError {
    match err {
        RpcError::Transport(kind) => DaError::Unavailable(format!("{what}: {kind}")),
        RpcError::ErrorResp(payload) => DaError::Backend(format!(
            "{what}: {} (code {})",
            payload.message.trim(),
            payload.code
        )),
        other => DaError::Backend(format!("{what}: {other}")),
    }
}

/// Whether an error response to a replacement means the nonce is already used (the
/// previous transaction was mined), so waiting for its receipt is what remains to do.
pub(crate) fn nonce_already_used(err: &DaError) -> bool {
    let DaError::Backend(message) = err else {
        return false;
    };
    let lower = message.to_ascii_lowercase();
    lower.contains("nonce too low") || lower.contains("already known")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_failures_are_retryable() {
        let err = from_rpc("send", TransportErrorKind::backend_gone());
        assert!(err.is_retryable(), "{err}");
        let err = from_rpc("send", TransportErrorKind::custom_str("connection refused"));
        assert!(matches!(err, DaError::Unavailable(_)), "{err}");
        assert!(!nonce_already_used(&err));
        assert!(nonce_already_used(&DaError::Backend(
            "send: nonce too low".into()
        )));
    }
}
