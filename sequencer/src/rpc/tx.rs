//! Transaction methods: submission, lookup by hash or position, receipts.

use super::{
    blocks::load_block,
    convert,
    error::{RpcError, RpcResult, to_json},
    params::Params,
};
use crate::{node::Node, store::StoredBlock};
use alloy_eips::{BlockId, BlockNumberOrTag};
use alloy_primitives::{B256, Bytes, TxHash};
use alloy_rpc_types_eth::Index;
use serde_json::Value;

/// `eth_sendRawTransaction(bytes)`: decodes, validates and pools the transaction; returns
/// its hash. Rejections carry the pool's geth message and code.
pub(crate) fn send_raw_transaction(node: &Node, params: &Params) -> RpcResult<Value> {
    let raw: Bytes = params.required(0)?;
    let state = node.state.latest()?;
    let hash = node
        .mempool
        .add_raw(&raw, &state, &node.pool_context())
        .map_err(|e| {
            tracing::debug!(target: "altius::rpc", error = %e, "transaction rejected");
            RpcError::from(e)
        })?;
    tracing::debug!(target: "altius::rpc", %hash, "transaction accepted");
    to_json(hash)
}

/// The block holding transaction `hash` and its index, if it was included.
fn included(node: &Node, hash: TxHash) -> RpcResult<Option<(StoredBlock, usize)>> {
    let Some(at) = node.store.tx_location(hash)? else {
        return Ok(None);
    };
    Ok(node.store.block(at.block)?.map(|b| (b, at.index as usize)))
}

/// `eth_getTransactionByHash(hash)`: included transactions, then pool transactions (with
/// `null` block fields), else `null`.
pub(crate) fn get_transaction_by_hash(node: &Node, params: &Params) -> RpcResult<Value> {
    let hash: B256 = params.required(0)?;
    if let Some((block, index)) = included(node, hash)? {
        return to_json(convert::block_tx(&block, index));
    }
    match node.mempool.get(&hash) {
        Some(tx) => to_json(convert::pending_tx(&tx)),
        None => Ok(Value::Null),
    }
}

/// `eth_getTransactionReceipt(hash)`: `null` until the transaction is in a block.
pub(crate) fn get_transaction_receipt(node: &Node, params: &Params) -> RpcResult<Value> {
    let hash: B256 = params.required(0)?;
    match included(node, hash)? {
        Some((block, index)) => to_json(convert::tx_receipt(&block, index)),
        None => Ok(Value::Null),
    }
}

fn by_position(node: &Node, id: BlockId, params: &Params) -> RpcResult<Value> {
    let index: Index = params.required(1)?;
    match load_block(node, id)? {
        Some(block) => to_json(convert::block_tx(&block, usize::from(index))),
        None => Ok(Value::Null),
    }
}

/// `eth_getTransactionByBlockNumberAndIndex(tag, index)`.
pub(crate) fn by_block_number_and_index(node: &Node, params: &Params) -> RpcResult<Value> {
    let tag: BlockNumberOrTag = params.required(0)?;
    by_position(node, BlockId::Number(tag), params)
}

/// `eth_getTransactionByBlockHashAndIndex(hash, index)`.
pub(crate) fn by_block_hash_and_index(node: &Node, params: &Params) -> RpcResult<Value> {
    let hash: B256 = params.required(0)?;
    by_position(node, BlockId::from(hash), params)
}
