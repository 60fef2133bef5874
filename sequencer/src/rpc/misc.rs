//! Node and network information: `web3_*`, `net_*`, `eth_chainId`, `eth_blockNumber`,
//! `eth_syncing`, `eth_accounts`.

use super::{error::RpcResult, params::Params};
use crate::node::Node;
use alloy_primitives::{Bytes, keccak256};
use serde_json::Value;

/// A JSON quantity (`0x`-prefixed hex without leading zeros).
pub(crate) fn quantity(n: impl Into<u128>) -> Value {
    Value::String(format!("{:#x}", n.into()))
}

/// `web3_clientVersion`: `altius/v<version>`.
pub(crate) fn client_version(_: &Node, _: &Params) -> RpcResult<Value> {
    Ok(Value::String(format!(
        "altius/v{}",
        env!("CARGO_PKG_VERSION")
    )))
}

/// `web3_sha3`: keccak256 of the given bytes.
pub(crate) fn sha3(_: &Node, params: &Params) -> RpcResult<Value> {
    let data: Bytes = params.required(0)?;
    Ok(Value::String(keccak256(&data).to_string()))
}

/// `net_version`: the chain id in decimal.
pub(crate) fn net_version(node: &Node, _: &Params) -> RpcResult<Value> {
    Ok(Value::String(node.chain.chain_id.to_string()))
}

/// `net_listening`: always true while the server runs.
pub(crate) fn net_listening(_: &Node, _: &Params) -> RpcResult<Value> {
    Ok(Value::Bool(true))
}

/// `net_peerCount`: a sequencer has no peers.
pub(crate) fn net_peer_count(_: &Node, _: &Params) -> RpcResult<Value> {
    Ok(quantity(0u8))
}

/// `eth_chainId`.
pub(crate) fn chain_id(node: &Node, _: &Params) -> RpcResult<Value> {
    Ok(quantity(node.chain.chain_id))
}

/// `eth_syncing`: the sequencer is the source of the chain, never syncing.
pub(crate) fn syncing(_: &Node, _: &Params) -> RpcResult<Value> {
    Ok(Value::Bool(false))
}

/// `eth_accounts`: the node holds no keys.
pub(crate) fn accounts(_: &Node, _: &Params) -> RpcResult<Value> {
    Ok(Value::Array(Vec::new()))
}

/// `eth_blockNumber`: the head.
pub(crate) fn block_number(node: &Node, _: &Params) -> RpcResult<Value> {
    Ok(quantity(node.store.head_number()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        assert_eq!(quantity(0u8), Value::String("0x0".into()));
        assert_eq!(quantity(255u64), Value::String("0xff".into()));
        assert_eq!(
            quantity(u128::MAX),
            Value::String(format!("0x{}", "f".repeat(32)))
        );
    }
}
