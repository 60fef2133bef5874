//! Operator settings of the pool and the chain values validation needs.

use serde::{Deserialize, Serialize};

/// Limits and price rules of the transaction pool (the `[mempool]` section of the node's
/// TOML configuration). Every field is optional; missing fields take their default.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MempoolConfig {
    /// Most transactions one sender may have in the pool, pending and queued together
    /// (default 64). A sender at the limit may still replace one of its transactions, or
    /// submit a lower nonce than its highest pooled one (which then drops that highest one);
    /// any other new transaction is rejected with `account limit exceeded`.
    pub max_account_slots: usize,
    /// Most transactions in the whole pool (default 10000). When full, a new transaction
    /// evicts the cheapest one that can be dropped without opening a nonce gap (queued
    /// before pending, lowest tip at the current base fee first); if the new transaction is
    /// not better than that one it is rejected with `txpool is full`.
    pub max_total: usize,
    /// Largest accepted transaction, in bytes of its EIP-2718 encoding (default 131072, as
    /// geth). Larger ones are rejected with `oversized data`.
    pub max_tx_bytes: usize,
    /// Percentage by which both the max fee and the max priority fee of a transaction must
    /// exceed those of the pooled transaction with the same sender and nonce to replace it
    /// (default 10).
    pub price_bump_percent: u64,
    /// Lowest accepted max priority fee per gas in wei, the gas price for legacy
    /// transactions (default 0). Lower ones are rejected with `transaction underpriced`.
    pub min_priority_fee: u64,
}

impl Default for MempoolConfig {
    fn default() -> Self {
        Self {
            max_account_slots: 64,
            max_total: 10_000,
            max_tx_bytes: 131_072,
            price_bump_percent: 10,
            min_priority_fee: 0,
        }
    }
}

/// Chain values a transaction is validated against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolContext {
    /// The chain id transactions must be signed for.
    pub chain_id: u64,
    /// Gas limit of a block: no transaction may ask for more.
    pub block_gas_limit: u64,
    /// Base fee per gas of the next block, used to rank transactions for eviction.
    pub base_fee: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let c = MempoolConfig::default();
        assert_eq!(c.max_account_slots, 64);
        assert_eq!(c.max_total, 10_000);
        assert_eq!(c.max_tx_bytes, 131_072);
        assert_eq!(c.price_bump_percent, 10);
        assert_eq!(c.min_priority_fee, 0);
    }

    #[test]
    fn toml_partial_and_unknown_fields() {
        let c: MempoolConfig = toml::from_str("max_total = 5\nmin_priority_fee = 7").unwrap();
        assert_eq!(c.max_total, 5);
        assert_eq!(c.min_priority_fee, 7);
        assert_eq!(c.max_account_slots, 64);
        assert!(toml::from_str::<MempoolConfig>("max_totl = 5").is_err());
    }
}
