//! Fee methods: `eth_gasPrice`, `eth_maxPriorityFeePerGas`, `eth_feeHistory`.

use super::{
    block_id::Heads,
    error::{RpcError, RpcResult, to_json},
    misc::quantity,
    params::Params,
};
use crate::{node::Node, store::StoredBlock};
use alloy_consensus::Transaction as _;
use alloy_eips::BlockNumberOrTag;
use alloy_rpc_types_eth::FeeHistory;
use serde_json::Value;

/// Lowest tip ever suggested: op-geth's minimum suggested priority fee (0.001 gwei).
const MIN_SUGGESTED_TIP: u128 = 1_000_000;
/// Most blocks one `eth_feeHistory` call covers (geth's limit); larger counts are clamped.
const MAX_FEE_HISTORY_BLOCKS: u64 = 1024;
/// Most reward percentiles one `eth_feeHistory` call may ask for (geth's limit).
const MAX_PERCENTILES: usize = 100;

/// The tip to suggest, op-geth style: with a single sequencer, any tip is included while
/// blocks have room, so the minimum is suggested unless the newest block used more than 90%
/// of its gas; then 10% over that block's median tip.
fn suggested_tip(node: &Node) -> RpcResult<u128> {
    let floor = MIN_SUGGESTED_TIP.max(u128::from(node.config.mempool.min_priority_fee));
    let head = node.head();
    if u128::from(head.gas_used) * 10 <= u128::from(head.gas_limit) * 9 {
        return Ok(floor);
    }
    let Some(block) = node.store.block(head.number)? else {
        return Ok(floor);
    };
    let mut tips: Vec<u128> = tip_samples(&block).iter().map(|s| s.tip).collect();
    tips.sort_unstable();
    let median = tips.get(tips.len() / 2).copied().unwrap_or(0);
    Ok(floor.max(median.saturating_mul(110) / 100))
}

/// `eth_maxPriorityFeePerGas`.
pub(crate) fn max_priority_fee(node: &Node, _: &Params) -> RpcResult<Value> {
    Ok(quantity(suggested_tip(node)?))
}

/// `eth_gasPrice`: the next block's base fee plus the suggested tip.
pub(crate) fn gas_price(node: &Node, _: &Params) -> RpcResult<Value> {
    let base_fee = u128::from(node.next_base_fee(&node.head()));
    Ok(quantity(base_fee.saturating_add(suggested_tip(node)?)))
}

/// The tip one transaction paid and the gas it used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TipSample {
    /// Effective tip per gas.
    pub(crate) tip: u128,
    /// Gas used by the transaction.
    pub(crate) gas_used: u64,
}

fn tip_samples(block: &StoredBlock) -> Vec<TipSample> {
    let base_fee = block.header.base_fee_per_gas.unwrap_or_default();
    let mut before = 0;
    block
        .txs
        .iter()
        .zip(&block.receipts)
        .map(|(tx, receipt)| {
            let cumulative = receipt.cumulative_gas_used();
            let gas_used = cumulative.saturating_sub(before);
            before = cumulative;
            let tip = if tx.tx.is_deposit() {
                0
            } else {
                tx.tx.effective_tip_per_gas(base_fee).unwrap_or_default()
            };
            TipSample { tip, gas_used }
        })
        .collect()
}

/// Geth's reward percentiles: tips sorted ascending, each percentile the tip of the
/// transaction at which the gas used so far reaches that share of the block's gas used.
pub(crate) fn percentile_rewards(
    mut samples: Vec<TipSample>,
    block_gas_used: u64,
    percentiles: &[f64],
) -> Vec<u128> {
    if samples.is_empty() {
        return vec![0; percentiles.len()];
    }
    samples.sort_by_key(|s| s.tip);
    let mut index = 0;
    let mut sum = samples[0].gas_used;
    percentiles
        .iter()
        .map(|p| {
            let threshold = (block_gas_used as f64 * p / 100.0) as u64;
            while sum < threshold && index < samples.len() - 1 {
                index += 1;
                sum += samples[index].gas_used;
            }
            samples[index].tip
        })
        .collect()
}

/// Checks the percentiles as geth does.
pub(crate) fn check_percentiles(percentiles: &[f64]) -> RpcResult<()> {
    let invalid = |detail: String| RpcError::server(format!("invalid reward percentile: {detail}"));
    if percentiles.len() > MAX_PERCENTILES {
        return Err(invalid(format!("over the query limit {MAX_PERCENTILES}")));
    }
    for (i, p) in percentiles.iter().enumerate() {
        if !(0.0..=100.0).contains(p) {
            return Err(invalid(format!("{p}")));
        }
        if i > 0 && *p < percentiles[i - 1] {
            return Err(invalid(format!(
                "#{}:{} > #{i}:{p}",
                i - 1,
                percentiles[i - 1]
            )));
        }
    }
    Ok(())
}

/// A block count as geth accepts it: a JSON number, or a decimal or `0x` hex string.
pub(crate) fn parse_block_count(value: &Value) -> Result<u64, String> {
    let text = match value {
        Value::Number(n) => return n.as_u64().ok_or_else(|| format!("invalid block count {n}")),
        Value::String(s) => s.as_str(),
        other => return Err(format!("invalid block count {other}")),
    };
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed.map_err(|_| format!("invalid block count {text:?}"))
}

/// `eth_feeHistory(blockCount, newestBlock, rewardPercentiles)`.
pub(crate) fn fee_history(node: &Node, params: &Params) -> RpcResult<Value> {
    let count = params
        .raw(0)
        .ok_or_else(|| RpcError::invalid_params("missing value for required argument 0"))
        .and_then(|v| {
            parse_block_count(v)
                .map_err(|e| RpcError::invalid_params(format!("invalid argument 0: {e}")))
        })?;
    let newest: BlockNumberOrTag = params.required(1)?;
    let percentiles = params.optional::<Vec<f64>>(2)?.unwrap_or_default();
    check_percentiles(&percentiles)?;
    let heads = Heads::of(node, &[newest])?;
    let newest = heads.number(newest);
    if newest > heads.head {
        return Err(RpcError::server(format!(
            "request beyond head block: requested {newest}, head {}",
            heads.head
        )));
    }
    if count == 0 {
        return to_json(FeeHistory::default());
    }
    let count = count.min(MAX_FEE_HISTORY_BLOCKS).min(newest + 1);
    to_json(collect_history(
        node,
        newest + 1 - count,
        newest,
        &percentiles,
    )?)
}

fn collect_history(
    node: &Node,
    oldest: u64,
    newest: u64,
    percentiles: &[f64],
) -> RpcResult<FeeHistory> {
    let mut history = FeeHistory {
        oldest_block: oldest,
        ..Default::default()
    };
    let mut rewards = Vec::new();
    let mut last = None;
    for number in oldest..=newest {
        let header = node
            .store
            .header(number)?
            .ok_or_else(RpcError::header_not_found)?;
        history
            .base_fee_per_gas
            .push(u128::from(header.base_fee_per_gas.unwrap_or_default()));
        history
            .gas_used_ratio
            .push(gas_ratio(header.gas_used, header.gas_limit));
        if !percentiles.is_empty() {
            let block = node
                .store
                .block(number)?
                .ok_or_else(RpcError::header_not_found)?;
            rewards.push(percentile_rewards(
                tip_samples(&block),
                header.gas_used,
                percentiles,
            ));
        }
        last = Some(header);
    }
    if let Some(header) = last {
        history
            .base_fee_per_gas
            .push(u128::from(node.next_base_fee(&header)));
    }
    let blocks = history.gas_used_ratio.len();
    history.base_fee_per_blob_gas = vec![0; blocks + 1];
    history.blob_gas_used_ratio = vec![0.0; blocks];
    history.reward = (!percentiles.is_empty()).then_some(rewards);
    Ok(history)
}

fn gas_ratio(used: u64, limit: u64) -> f64 {
    if limit == 0 {
        0.0
    } else {
        used as f64 / limit as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn s(tip: u128, gas_used: u64) -> TipSample {
        TipSample { tip, gas_used }
    }

    #[test]
    fn percentiles_are_gas_weighted() {
        // Tips 1 (21000 gas), 5 (100000 gas), 3 (29000 gas): 150000 gas in total.
        let samples = vec![s(5, 100_000), s(1, 21_000), s(3, 29_000)];
        let got = percentile_rewards(
            samples,
            150_000,
            &[0.0, 10.0, 14.0, 15.0, 33.0, 34.0, 100.0],
        );
        // Sorted: 1 (cum 21000 = 14%), 3 (cum 50000 = 33.3%), 5 (cum 150000).
        assert_eq!(got, vec![1, 1, 1, 3, 3, 5, 5]);
    }

    #[test]
    fn empty_block_rewards_are_zero() {
        assert_eq!(percentile_rewards(vec![], 0, &[25.0, 75.0]), vec![0, 0]);
        assert_eq!(
            percentile_rewards(vec![s(7, 21_000)], 21_000, &[]),
            Vec::<u128>::new()
        );
    }

    #[test]
    fn single_tx_gets_every_percentile() {
        assert_eq!(
            percentile_rewards(vec![s(9, 21_000)], 21_000, &[0.0, 50.0, 100.0]),
            vec![9; 3]
        );
    }

    #[test]
    fn percentile_validation() {
        assert!(check_percentiles(&[]).is_ok());
        assert!(check_percentiles(&[0.0, 25.0, 25.0, 100.0]).is_ok());
        let e = check_percentiles(&[50.0, 10.0]).unwrap_err();
        assert_eq!(e.code, -32000);
        assert!(
            e.message.starts_with("invalid reward percentile"),
            "{}",
            e.message
        );
        assert!(check_percentiles(&[101.0]).is_err());
        assert!(check_percentiles(&[-1.0]).is_err());
        assert!(check_percentiles(&[1.0; 101]).is_err());
    }

    #[test]
    fn block_counts() {
        assert_eq!(parse_block_count(&json!("0x10")), Ok(16));
        assert_eq!(parse_block_count(&json!("10")), Ok(10));
        assert_eq!(parse_block_count(&json!(4)), Ok(4));
        assert!(parse_block_count(&json!("0xzz")).is_err());
        assert!(parse_block_count(&json!(-1)).is_err());
        assert!(parse_block_count(&json!([1])).is_err());
    }

    #[test]
    fn history_json_shape() {
        let history = FeeHistory {
            oldest_block: 2,
            base_fee_per_gas: vec![7, 8],
            gas_used_ratio: vec![0.5],
            base_fee_per_blob_gas: vec![0, 0],
            blob_gas_used_ratio: vec![0.0],
            reward: Some(vec![vec![1, 2]]),
        };
        let v = serde_json::to_value(&history).unwrap();
        assert_eq!(v["oldestBlock"], "0x2");
        assert_eq!(v["baseFeePerGas"], json!(["0x7", "0x8"]));
        assert_eq!(v["reward"], json!([["0x1", "0x2"]]));
        assert_eq!(v["gasUsedRatio"], json!([0.5]));
        assert_eq!(v["baseFeePerBlobGas"], json!(["0x0", "0x0"]));
    }
}
