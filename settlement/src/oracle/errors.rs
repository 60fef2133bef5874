//! Mapping alloy's contract, RPC and transport errors onto [`SettlementError`].

use alloy::{
    contract::Error as ContractError,
    providers::PendingTransactionError,
    rpc::json_rpc::ErrorPayload,
    sol_types::{Revert, SolError, decode_revert_reason},
    transports::{RpcError, TransportErrorKind},
};

use crate::SettlementError;

/// The prefix nodes put before a revert reason in an error message.
const EXECUTION_REVERTED: &str = "execution reverted";

/// Maps an error from a contract call or transaction send.
pub(crate) fn from_contract(err: ContractError) -> SettlementError {
    match err {
        ContractError::TransportError(e) => from_rpc(e),
        ContractError::PendingTransactionError(e) => from_pending(e),
        ContractError::ZeroData(name, _) => SettlementError::InvalidResponse(format!(
            "`{name}` returned no data: is the oracle address a deployed L2OutputOracle?"
        )),
        ContractError::ContractNotDeployed => {
            SettlementError::Reverted("L2OutputOracle deployment transaction failed".into())
        }
        other => SettlementError::InvalidResponse(other.to_string()),
    }
}

/// Maps an error from waiting for a transaction receipt.
pub(crate) fn from_pending(err: PendingTransactionError) -> SettlementError {
    match err {
        PendingTransactionError::TransportError(e) => from_rpc(e),
        other => SettlementError::Unavailable(format!("waiting for the L1 receipt: {other}")),
    }
}

/// Maps a JSON-RPC error: error responses become reverts or RPC errors, every transport
/// failure (connection refused, HTTP status, closed backend) becomes `Unavailable`.
pub(crate) fn from_rpc(err: RpcError<TransportErrorKind>) -> SettlementError {
    match err {
        RpcError::ErrorResp(payload) => from_payload(&payload),
        RpcError::Transport(kind) => SettlementError::Unavailable(kind.to_string()),
        other => SettlementError::Rpc(other.to_string()),
    }
}

fn from_payload(payload: &ErrorPayload) -> SettlementError {
    if let Some(data) = payload.as_revert_data() {
        let reason = Revert::abi_decode(&data)
            .map(|revert| revert.reason)
            .ok()
            .or_else(|| decode_revert_reason(&data))
            .unwrap_or_else(|| format!("{} (data {data})", payload.message));
        return SettlementError::Reverted(reason);
    }
    let message = payload.message.trim();
    match message.strip_prefix(EXECUTION_REVERTED) {
        Some(rest) => {
            let reason = rest.trim_start_matches(':').trim();
            SettlementError::Reverted(if reason.is_empty() { message } else { reason }.to_owned())
        }
        None => SettlementError::Rpc(format!("{} (code {})", message, payload.code)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::{primitives::hex, sol_types::SolError};
    use std::borrow::Cow;

    fn payload(message: &'static str, data: Option<String>) -> ErrorPayload {
        ErrorPayload {
            code: 3,
            message: Cow::Borrowed(message),
            data: data.map(|d| serde_json::value::RawValue::from_string(d).unwrap()),
        }
    }

    #[test]
    fn decodes_error_string_revert_data() {
        let data = Revert::from("L2OutputOracle: nope").abi_encode();
        let p = payload(
            "execution reverted: L2OutputOracle: nope",
            Some(format!("\"0x{}\"", hex::encode(data))),
        );
        let err = from_rpc(RpcError::ErrorResp(p));
        assert!(
            matches!(err, SettlementError::Reverted(ref r) if r == "L2OutputOracle: nope"),
            "{err}"
        );
    }

    #[test]
    fn falls_back_to_the_message_without_data() {
        let err = from_rpc(RpcError::ErrorResp(payload(
            "execution reverted: bad thing",
            None,
        )));
        assert!(
            matches!(err, SettlementError::Reverted(ref r) if r == "bad thing"),
            "{err}"
        );
        let err = from_rpc(RpcError::ErrorResp(payload("nonce too low", None)));
        assert!(matches!(err, SettlementError::Rpc(_)), "{err}");
    }

    #[test]
    fn transport_failures_are_unavailable() {
        let err = from_rpc(TransportErrorKind::backend_gone());
        assert!(err.is_retryable(), "{err}");
        let err = from_rpc(TransportErrorKind::custom_str("connection refused"));
        assert!(matches!(err, SettlementError::Unavailable(_)), "{err}");
    }
}
