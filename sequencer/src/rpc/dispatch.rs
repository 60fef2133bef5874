//! The method table: which handler serves which method, and how many arguments it takes.

use super::{
    blocks, call,
    error::{RpcError, RpcResult},
    fees,
    jsonrpc::Origin,
    logs, misc, optimism,
    params::Params,
    pubsub, state, tx,
};
use crate::node::Node;
use serde_json::Value;

/// A method handler: the node and the decoded positional parameters.
pub(crate) type Handler = fn(&Node, &Params) -> RpcResult<Value>;

/// Every method served over both HTTP and WebSocket, with its most accepted arguments.
const METHODS: &[(&str, usize, Handler)] = &[
    ("web3_clientVersion", 0, misc::client_version),
    ("web3_sha3", 1, misc::sha3),
    ("net_version", 0, misc::net_version),
    ("net_listening", 0, misc::net_listening),
    ("net_peerCount", 0, misc::net_peer_count),
    ("eth_chainId", 0, misc::chain_id),
    ("eth_syncing", 0, misc::syncing),
    ("eth_accounts", 0, misc::accounts),
    ("eth_blockNumber", 0, misc::block_number),
    ("eth_getBalance", 2, state::get_balance),
    ("eth_getTransactionCount", 2, state::get_transaction_count),
    ("eth_getCode", 2, state::get_code),
    ("eth_getStorageAt", 3, state::get_storage_at),
    ("eth_getProof", 3, state::get_proof),
    ("eth_call", 3, call::eth_call),
    ("eth_estimateGas", 3, call::estimate_gas),
    ("eth_gasPrice", 0, fees::gas_price),
    ("eth_maxPriorityFeePerGas", 0, fees::max_priority_fee),
    ("eth_feeHistory", 3, fees::fee_history),
    ("eth_sendRawTransaction", 1, tx::send_raw_transaction),
    ("eth_getTransactionByHash", 1, tx::get_transaction_by_hash),
    ("eth_getTransactionReceipt", 1, tx::get_transaction_receipt),
    (
        "eth_getTransactionByBlockNumberAndIndex",
        2,
        tx::by_block_number_and_index,
    ),
    (
        "eth_getTransactionByBlockHashAndIndex",
        2,
        tx::by_block_hash_and_index,
    ),
    ("eth_getBlockByNumber", 2, blocks::get_block_by_number),
    ("eth_getBlockByHash", 2, blocks::get_block_by_hash),
    (
        "eth_getBlockTransactionCountByNumber",
        1,
        blocks::tx_count_by_number,
    ),
    (
        "eth_getBlockTransactionCountByHash",
        1,
        blocks::tx_count_by_hash,
    ),
    (
        "eth_getUncleCountByBlockNumber",
        1,
        blocks::uncle_count_by_number,
    ),
    (
        "eth_getUncleCountByBlockHash",
        1,
        blocks::uncle_count_by_hash,
    ),
    ("eth_getBlockReceipts", 1, blocks::get_block_receipts),
    ("eth_getLogs", 1, logs::get_logs),
    ("optimism_outputAtBlock", 1, optimism::output_at_block),
    ("optimism_syncStatus", 0, optimism::sync_status),
    ("optimism_rollupConfig", 0, optimism::rollup_config),
];

/// Runs method `method` with the raw `params` member of the request. Blocking.
pub(crate) fn call(origin: Origin<'_>, method: &str, params: Option<Value>) -> RpcResult<Value> {
    match method {
        "eth_subscribe" | "eth_unsubscribe" => {
            let params = Params::from_json(params)?;
            let conn = origin.conn.ok_or_else(notifications_unsupported)?;
            if method == "eth_subscribe" {
                params.at_most(2)?;
                pubsub::subscribe(origin.node, conn, &params)
            } else {
                params.at_most(1)?;
                pubsub::unsubscribe(conn, &params)
            }
        }
        _ => {
            let (_, max, handler) = METHODS
                .iter()
                .find(|(name, _, _)| *name == method)
                .ok_or_else(|| RpcError::method_not_found(method))?;
            let params = Params::from_json(params)?;
            params.at_most(*max)?;
            handler(origin.node, &params)
        }
    }
}

/// Geth's answer to `eth_subscribe` over HTTP.
fn notifications_unsupported() -> RpcError {
    RpcError::new(
        super::error::METHOD_NOT_FOUND,
        "notifications not supported",
    )
}

/// Names of all methods (for the start-up log and tests).
pub(crate) fn method_names() -> impl Iterator<Item = &'static str> {
    METHODS
        .iter()
        .map(|(name, _, _)| *name)
        .chain(["eth_subscribe", "eth_unsubscribe"])
}
