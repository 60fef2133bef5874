//! Account state methods: balance, nonce, code, storage and Merkle proofs, at any retained
//! block.

use super::{
    block_id::{StateBlock, state_block},
    error::{RpcError, RpcResult, to_json},
    misc::quantity,
    params::Params,
};
use crate::node::Node;
use alloy_eips::BlockId;
use alloy_primitives::{Address, B256, U256};
use altius_state::StateProvider;
use serde_json::Value;

/// The state `at` names: the live state for `latest`/`pending`, else the historical one.
pub(crate) fn open_state(node: &Node, at: StateBlock) -> RpcResult<Box<dyn StateProvider + '_>> {
    if at.latest {
        Ok(Box::new(node.state.latest()?))
    } else {
        Ok(Box::new(node.state.at_block(at.number)?))
    }
}

/// The state named by the optional block argument `index`.
fn state_arg(node: &Node, params: &Params, index: usize) -> RpcResult<StateBlock> {
    state_block(node, params.optional::<BlockId>(index)?)
}

/// `eth_getBalance(address, block)`.
pub(crate) fn get_balance(node: &Node, params: &Params) -> RpcResult<Value> {
    let address: Address = params.required(0)?;
    let state = open_state(node, state_arg(node, params, 1)?)?;
    let balance = state.account(address)?.map_or(U256::ZERO, |a| a.balance);
    to_json(balance)
}

/// `eth_getTransactionCount(address, block)`; `pending` counts the sender's executable pool
/// transactions too.
pub(crate) fn get_transaction_count(node: &Node, params: &Params) -> RpcResult<Value> {
    let address: Address = params.required(0)?;
    let id = params.optional::<BlockId>(1)?;
    let state = open_state(node, state_block(node, id)?)?;
    let nonce = state.account(address)?.map_or(0, |a| a.nonce);
    let pending = matches!(id, Some(BlockId::Number(t)) if t.is_pending());
    let nonce = if pending {
        node.mempool.pending_nonce(address, nonce)
    } else {
        nonce
    };
    Ok(quantity(nonce))
}

/// `eth_getCode(address, block)`.
pub(crate) fn get_code(node: &Node, params: &Params) -> RpcResult<Value> {
    let address: Address = params.required(0)?;
    let state = open_state(node, state_arg(node, params, 1)?)?;
    to_json(state.code(address)?)
}

/// `eth_getStorageAt(address, slot, block)`: the slot as a 32-byte word.
pub(crate) fn get_storage_at(node: &Node, params: &Params) -> RpcResult<Value> {
    let address: Address = params.required(0)?;
    let slot = storage_key(params.required::<String>(1)?.as_str(), 1)?;
    let state = open_state(node, state_arg(node, params, 2)?)?;
    let value = state.storage(address, U256::from_be_bytes(slot.0))?;
    to_json(B256::from(value))
}

/// `eth_getProof(address, storageKeys, block)`: EIP-1186 account and storage proofs.
pub(crate) fn get_proof(node: &Node, params: &Params) -> RpcResult<Value> {
    let address: Address = params.required(0)?;
    let keys = params.optional::<Vec<String>>(1)?.unwrap_or_default();
    let keys = keys
        .iter()
        .map(|k| storage_key(k, 1))
        .collect::<RpcResult<Vec<_>>>()?;
    let id = params.optional::<BlockId>(2)?;
    let at = state_block(node, id)?;
    to_json(node.state.proof(at.number, address, &keys)?)
}

/// A storage key as geth reads it: hex with or without `0x`, at most 32 bytes, left-padded.
pub(crate) fn storage_key(text: &str, arg: usize) -> RpcResult<B256> {
    let invalid = |why: &str| RpcError::invalid_params(format!("invalid argument {arg}: {why}"));
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    if digits.len() > 64 {
        return Err(invalid("hex string too long, want at most 32 bytes"));
    }
    let padded = format!("{digits:0>64}");
    let mut out = [0u8; 32];
    alloy_primitives::hex::decode_to_slice(&padded, &mut out)
        .map_err(|_| invalid("invalid hex string"))?;
    Ok(B256::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_keys_as_geth() {
        let one = B256::with_last_byte(1);
        assert_eq!(storage_key("0x1", 1).unwrap(), one);
        assert_eq!(storage_key("0x01", 1).unwrap(), one);
        assert_eq!(storage_key("1", 1).unwrap(), one);
        assert_eq!(storage_key(&format!("{one}"), 1).unwrap(), one);
        assert_eq!(storage_key("0x", 1).unwrap(), B256::ZERO);
        let long = format!("0x{}", "0".repeat(65));
        assert_eq!(storage_key(&long, 1).unwrap_err().code, -32602);
        assert!(
            storage_key("0xzz", 2)
                .unwrap_err()
                .message
                .starts_with("invalid argument 2")
        );
    }
}
