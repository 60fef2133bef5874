//! `eth_getLogs`: block range resolution with geth's errors, the operator's range and result
//! limits, and a header `logsBloom` check before any block is read.

use super::{
    block_id::Heads,
    convert::rpc_log,
    error::{INVALID_PARAMS, LIMIT_EXCEEDED, RpcError, RpcResult, to_json},
    filter::{BlockSpan, FilterQuery, LogFilter},
    params::Params,
};
use crate::{node::Node, store::StoredBlock};
use alloy_eips::BlockNumberOrTag;
use alloy_rpc_types_eth::Log;
use serde_json::Value;

/// Appends the logs of `block` that match `filter` to `out`, with their block positions.
pub(crate) fn block_logs(block: &StoredBlock, filter: &LogFilter, out: &mut Vec<Log>) {
    let mut log_index = 0u64;
    for (tx_index, receipt) in block.receipts.iter().enumerate() {
        if !filter.matches_bloom(receipt.logs_bloom()) {
            log_index += receipt.logs().len() as u64;
            continue;
        }
        for log in receipt.logs() {
            if filter.matches(log) {
                out.push(rpc_log(block, tx_index, log_index, log.clone()));
            }
            log_index += 1;
        }
    }
}

/// The inclusive block range of a query, checked as geth checks it.
pub(crate) fn resolve_span(node: &Node, span: BlockSpan) -> RpcResult<(u64, u64)> {
    match span {
        BlockSpan::Hash(hash) => {
            let n = node
                .store
                .number_by_hash(hash)?
                .ok_or_else(|| RpcError::server("unknown block"))?;
            Ok((n, n))
        }
        BlockSpan::Range { from, to } => {
            let from = from.unwrap_or(BlockNumberOrTag::Latest);
            let to = to.unwrap_or(BlockNumberOrTag::Latest);
            let heads = Heads::of(node, &[from, to])?;
            let (from, to) = (heads.number(from), heads.number(to));
            check_range(from, to, heads.head)?;
            Ok((from, to))
        }
    }
}

/// Geth's range checks: reversed first, then beyond the head.
pub(crate) fn check_range(from: u64, to: u64, head: u64) -> RpcResult<()> {
    if from > to {
        return Err(RpcError::new(INVALID_PARAMS, "invalid block range params"));
    }
    if to > head {
        return Err(RpcError::new(
            INVALID_PARAMS,
            "block range extends beyond current head block",
        ));
    }
    Ok(())
}

/// `eth_getLogs(filter)`.
pub(crate) fn get_logs(node: &Node, params: &Params) -> RpcResult<Value> {
    let raw: Value = params.required(0)?;
    let query = FilterQuery::parse(&raw)
        .map_err(|e| RpcError::invalid_params(format!("invalid argument 0: {e}")))?;
    query.filter.check_limits().map_err(RpcError::server)?;
    let (from, to) = resolve_span(node, query.span)?;
    let limits = &node.config.rpc;
    if to - from >= limits.max_logs_block_range {
        return Err(RpcError::server(format!(
            "exceed maximum block range: {}",
            limits.max_logs_block_range
        )));
    }
    to_json(collect(node, &query.filter, from, to, limits.max_logs)?)
}

fn collect(node: &Node, filter: &LogFilter, from: u64, to: u64, max: usize) -> RpcResult<Vec<Log>> {
    let mut logs = Vec::new();
    for number in from..=to {
        let Some(header) = node.store.header(number)? else {
            break;
        };
        if !filter.matches_bloom(&header.logs_bloom) {
            continue;
        }
        if let Some(block) = node.store.block(number)? {
            block_logs(&block, filter, &mut logs);
        }
        if logs.len() > max {
            return Err(RpcError::new(
                LIMIT_EXCEEDED,
                format!("query returned more than {max} results"),
            ));
        }
    }
    Ok(logs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_as_geth() {
        assert!(check_range(1, 5, 5).is_ok());
        assert!(check_range(5, 5, 5).is_ok());
        let e = check_range(6, 5, 5).unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (-32602, "invalid block range params")
        );
        let e = check_range(6, 8, 5).unwrap_err();
        assert_eq!(e.message, "block range extends beyond current head block");
    }
}
