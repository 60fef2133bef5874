//! Block methods: `eth_getBlockBy*`, transaction and uncle counts, `eth_getBlockReceipts`.

use super::{
    block_id::find_block,
    convert,
    error::{RpcResult, to_json},
    misc::quantity,
    params::Params,
};
use crate::{node::Node, store::StoredBlock};
use alloy_eips::{BlockId, BlockNumberOrTag};
use alloy_primitives::B256;
use serde_json::Value;

/// The block `id` names, `None` when it does not exist.
pub(crate) fn load_block(node: &Node, id: BlockId) -> RpcResult<Option<StoredBlock>> {
    match find_block(node, id)? {
        Some(number) => Ok(node.store.block(number)?),
        None => Ok(None),
    }
}

fn by_number(params: &Params) -> RpcResult<BlockId> {
    Ok(BlockId::Number(params.required::<BlockNumberOrTag>(0)?))
}

fn by_hash(params: &Params) -> RpcResult<BlockId> {
    Ok(BlockId::from(params.required::<B256>(0)?))
}

fn block_json(node: &Node, id: BlockId, params: &Params) -> RpcResult<Value> {
    let full = params.optional::<bool>(1)?.unwrap_or(false);
    match load_block(node, id)? {
        Some(block) => to_json(convert::rpc_block(&block, full)),
        None => Ok(Value::Null),
    }
}

/// `eth_getBlockByNumber(tag, fullTransactions)`.
pub(crate) fn get_block_by_number(node: &Node, params: &Params) -> RpcResult<Value> {
    block_json(node, by_number(params)?, params)
}

/// `eth_getBlockByHash(hash, fullTransactions)`.
pub(crate) fn get_block_by_hash(node: &Node, params: &Params) -> RpcResult<Value> {
    block_json(node, by_hash(params)?, params)
}

fn tx_count(node: &Node, id: BlockId) -> RpcResult<Value> {
    Ok(match load_block(node, id)? {
        Some(block) => quantity(block.txs.len() as u64),
        None => Value::Null,
    })
}

/// `eth_getBlockTransactionCountByNumber(tag)`.
pub(crate) fn tx_count_by_number(node: &Node, params: &Params) -> RpcResult<Value> {
    tx_count(node, by_number(params)?)
}

/// `eth_getBlockTransactionCountByHash(hash)`.
pub(crate) fn tx_count_by_hash(node: &Node, params: &Params) -> RpcResult<Value> {
    tx_count(node, by_hash(params)?)
}

fn uncle_count(node: &Node, id: BlockId) -> RpcResult<Value> {
    Ok(match find_block(node, id)? {
        Some(_) => quantity(0u8),
        None => Value::Null,
    })
}

/// `eth_getUncleCountByBlockNumber(tag)`: always zero for an existing block.
pub(crate) fn uncle_count_by_number(node: &Node, params: &Params) -> RpcResult<Value> {
    uncle_count(node, by_number(params)?)
}

/// `eth_getUncleCountByBlockHash(hash)`: always zero for an existing block.
pub(crate) fn uncle_count_by_hash(node: &Node, params: &Params) -> RpcResult<Value> {
    uncle_count(node, by_hash(params)?)
}

/// `eth_getBlockReceipts(block)`: all receipts of the block, `null` for an unknown block.
pub(crate) fn get_block_receipts(node: &Node, params: &Params) -> RpcResult<Value> {
    let id: BlockId = params.required(0)?;
    match load_block(node, id)? {
        Some(block) => to_json(convert::block_receipts(&block)),
        None => Ok(Value::Null),
    }
}
