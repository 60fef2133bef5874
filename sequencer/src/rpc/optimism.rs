//! The op-node methods a rollup client expects: `optimism_outputAtBlock`,
//! `optimism_syncStatus` and `optimism_rollupConfig`, in op-node's JSON shapes (block
//! numbers and timestamps are JSON integers, as op-node's Go `uint64` fields are).
//!
//! There is no L1 yet: every L1 reference is the zero reference, every L2 block's L1 origin
//! is epoch 0 with the zero hash, so its sequence number is its block number.

use super::{
    block_id::Heads,
    error::{RpcError, RpcResult},
    params::Params,
};
use crate::{node::Node, rollup::output_root_inputs};
use alloy_consensus::{Header, Sealed};
use alloy_eips::BlockNumberOrTag;
use alloy_primitives::{Address, B256};
use altius_batcher::batch_inbox_address;
use altius_engine::OpSpecId;
use altius_settlement::OUTPUT_ROOT_VERSION_V0;
use serde_json::{Value, json};

/// op-node's `L1BlockRef` with every field zero.
fn zero_l1_ref() -> Value {
    json!({"hash": B256::ZERO, "number": 0, "parentHash": B256::ZERO, "timestamp": 0})
}

/// op-node's `L2BlockRef` of `header`.
fn l2_ref(header: &Sealed<Header>) -> Value {
    json!({
        "hash": header.hash(),
        "number": header.number,
        "parentHash": header.parent_hash,
        "timestamp": header.timestamp,
        "l1origin": {"hash": B256::ZERO, "number": 0},
        "sequenceNumber": header.number,
    })
}

fn header_at(node: &Node, number: u64) -> RpcResult<Sealed<Header>> {
    node.store
        .header(number)?
        .ok_or_else(|| RpcError::server(format!("block {number} not found")))
}

fn sync_status_value(node: &Node) -> RpcResult<Value> {
    let heads = Heads::of(node, &[BlockNumberOrTag::Safe, BlockNumberOrTag::Finalized])?;
    let unsafe_l2 = l2_ref(&header_at(node, heads.number(BlockNumberOrTag::Latest))?);
    let safe_l2 = l2_ref(&header_at(node, heads.number(BlockNumberOrTag::Safe))?);
    let finalized_l2 = l2_ref(&header_at(node, heads.number(BlockNumberOrTag::Finalized))?);
    Ok(json!({
        "current_l1": zero_l1_ref(),
        "current_l1_finalized": zero_l1_ref(),
        "head_l1": zero_l1_ref(),
        "safe_l1": zero_l1_ref(),
        "finalized_l1": zero_l1_ref(),
        "unsafe_l2": unsafe_l2,
        "safe_l2": safe_l2,
        "finalized_l2": finalized_l2,
        "pending_safe_l2": safe_l2,
        "cross_unsafe_l2": unsafe_l2,
        "local_safe_l2": safe_l2,
    }))
}

/// `optimism_syncStatus`.
pub(crate) fn sync_status(node: &Node, _: &Params) -> RpcResult<Value> {
    sync_status_value(node)
}

/// `optimism_outputAtBlock(blockNumber)`: the v0 output root of a block (a number or a
/// tag), with its preimage parts and the sync status.
pub(crate) fn output_at_block(node: &Node, params: &Params) -> RpcResult<Value> {
    let tag: BlockNumberOrTag = params.required(0)?;
    let number = Heads::of(node, &[tag])?.number(tag);
    let header = header_at(node, number)?;
    let inputs = output_root_inputs(node, number)
        .map_err(RpcError::internal)?
        .ok_or_else(|| RpcError::server(format!("block {number} not found")))?;
    Ok(json!({
        "version": OUTPUT_ROOT_VERSION_V0,
        "outputRoot": inputs.hash(),
        "blockRef": l2_ref(&header),
        "withdrawalStorageRoot": inputs.message_passer_storage_root,
        "stateRoot": inputs.state_root,
        "syncStatus": sync_status_value(node)?,
    }))
}

/// op-node's names of the upgrades, each with the op-revm spec that activates it (Delta
/// has no EVM change; it is active with Ecotone, its successor).
const UPGRADES: [(&str, OpSpecId); 9] = [
    ("regolith_time", OpSpecId::REGOLITH),
    ("canyon_time", OpSpecId::CANYON),
    ("delta_time", OpSpecId::ECOTONE),
    ("ecotone_time", OpSpecId::ECOTONE),
    ("fjord_time", OpSpecId::FJORD),
    ("granite_time", OpSpecId::GRANITE),
    ("holocene_time", OpSpecId::HOLOCENE),
    ("isthmus_time", OpSpecId::ISTHMUS),
    ("jovian_time", OpSpecId::JOVIAN),
];

/// `optimism_rollupConfig`: the chain's rollup parameters; the active upgrades are active
/// from genesis (time 0), L1 fields are zero until the L1 issue.
pub(crate) fn rollup_config(node: &Node, _: &Params) -> RpcResult<Value> {
    let genesis = header_at(node, 0)?;
    let chain_id = node.chain.chain_id;
    let mut config = json!({
        "genesis": {
            "l1": {"hash": B256::ZERO, "number": 0},
            "l2": {"hash": genesis.hash(), "number": 0},
            "l2_time": genesis.timestamp,
            "system_config": {
                "batcherAddr": Address::ZERO,
                "overhead": B256::ZERO,
                "scalar": B256::ZERO,
                "gasLimit": node.config.sequencer.gas_limit,
            },
        },
        "block_time": (node.config.sequencer.block_time.ceil() as u64).max(1),
        "max_sequencer_drift": 600,
        "seq_window_size": 3600,
        "channel_timeout": 50,
        "l1_chain_id": 0,
        "l2_chain_id": chain_id,
        "batch_inbox_address": batch_inbox_address(chain_id),
        "deposit_contract_address": Address::ZERO,
        "l1_system_config_address": Address::ZERO,
        "da_kind": node.config.da.kind(),
    });
    let spec = node.chain.spec_id();
    for (name, fork) in UPGRADES {
        if spec >= fork {
            config[name] = json!(0);
        }
    }
    Ok(config)
}
