//! [`BlobsConfig`]: the `ethereum-blobs` section of the DA config.

use std::path::PathBuf;

use alloy_primitives::Address;
use serde::{Deserialize, Serialize};

use crate::calldata::config::{
    default_confirmations, default_fee_cap, default_priority_cap, default_receipt_timeout,
    default_resubmit_after,
};

use crate::{
    CalldataConfig, DEFAULT_CONFIRMATIONS, DEFAULT_MAX_FEE_PER_GAS_CAP_GWEI,
    DEFAULT_MAX_PRIORITY_FEE_CAP_GWEI, DEFAULT_RECEIPT_TIMEOUT_SECS, DEFAULT_RESUBMIT_AFTER_SECS,
    DaError,
};

/// Default cap on `maxFeePerBlobGas`, in gwei.
pub const DEFAULT_MAX_FEE_PER_BLOB_GAS_CAP_GWEI: u64 = 100;
/// Default L1 slot length, in seconds (Ethereum mainnet and its testnets).
pub const DEFAULT_L1_SLOT_SECONDS: u64 = 12;
/// Most blobs one transaction may carry (EIP-7594's per-transaction limit).
pub const MAX_BLOBS_PER_TX: usize = 6;

/// The blob sidecar format sent with each transaction: it must match the L1 fork.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SidecarFormat {
    /// Chosen per submission from the L1's current fork (`eth_config`, EIP-7910): EIP-7594
    /// from Osaka on (recognized by its P256VERIFY precompile), else EIP-4844. The default.
    #[default]
    Auto,
    /// EIP-4844 sidecar: one blob KZG proof per blob (Cancun to Prague).
    Eip4844,
    /// EIP-7594 sidecar: 128 cell KZG proofs per blob (Osaka and later).
    Eip7594,
}

/// Settings of the `ethereum-blobs` backend ([`crate::EthereumBlobsDa`]).
///
/// ```toml
/// [da]
/// kind = "ethereum-blobs"
/// l1_rpc_url = "http://127.0.0.1:8545"
/// l2_chain_id = 4242            # or `inbox = "0x00..."`
/// batcher_key_env = "ALTIUS_BATCHER_KEY"
/// l1_beacon_url = "http://127.0.0.1:5052"   # where blobs are read back from
/// max_fee_per_blob_gas_cap_gwei = 100
/// sidecar = "auto"              # from eth_config; or "eip7594" / "eip4844"
/// ```
///
/// The transaction settings (key, inbox, confirmations, fee caps, replacement, timeout) are
/// those of [`CalldataConfig`], with the same defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlobsConfig {
    /// L1 execution JSON-RPC HTTP(S) URL. Without `l1_beacon_url` blobs are read back
    /// through it with `anvil_getBlobsByTransactionHash` (anvil keeps blobs; other
    /// execution clients do not serve them).
    pub l1_rpc_url: String,
    /// L1 beacon API URL to read blobs back from (`GET /eth/v1/beacon/blobs/{slot}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l1_beacon_url: Option<String>,
    /// L1 slot length in seconds, to find an L1 block's beacon slot (default 12).
    #[serde(default = "default_slot_seconds")]
    pub l1_slot_seconds: u64,
    /// Batch inbox; defaults to [`crate::batch_inbox_address`] of `l2_chain_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbox: Option<Address>,
    /// L2 chain id, used to derive the default inbox when `inbox` is not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l2_chain_id: Option<u64>,
    /// File holding the batcher's hex private key (this or `batcher_key_env`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batcher_key_file: Option<PathBuf>,
    /// Environment variable holding the batcher's hex private key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batcher_key_env: Option<String>,
    /// L1 blocks to wait for (1 = included, the default).
    #[serde(default = "default_confirmations")]
    pub confirmations: u64,
    /// Cap on `maxFeePerGas` in gwei (default 200).
    #[serde(default = "default_fee_cap")]
    pub max_fee_per_gas_cap_gwei: u64,
    /// Cap on `maxPriorityFeePerGas` in gwei (default 10).
    #[serde(default = "default_priority_cap")]
    pub max_priority_fee_cap_gwei: u64,
    /// Cap on `maxFeePerBlobGas` in gwei (default 100), also for replacements.
    #[serde(default = "default_blob_cap")]
    pub max_fee_per_blob_gas_cap_gwei: u64,
    /// Most blobs per transaction (1..=6, default 6): a submission larger than one blob is
    /// split over several blobs of one transaction.
    #[serde(default = "default_max_blobs")]
    pub max_blobs_per_tx: usize,
    /// Sidecar format: `"auto"` (default: from the L1's fork), `"eip7594"` (Osaka and
    /// later) or `"eip4844"` (before Osaka).
    #[serde(default)]
    pub sidecar: SidecarFormat,
    /// Seconds without a receipt before the transaction is replaced (same nonce, every fee
    /// doubled, as blob pools require); default 60.
    #[serde(default = "default_resubmit_after")]
    pub resubmit_after_secs: u64,
    /// Seconds one submission may take in total before it fails as retryable; default 600.
    #[serde(default = "default_receipt_timeout")]
    pub receipt_timeout_secs: u64,
}

const fn default_blob_cap() -> u64 {
    DEFAULT_MAX_FEE_PER_BLOB_GAS_CAP_GWEI
}
const fn default_slot_seconds() -> u64 {
    DEFAULT_L1_SLOT_SECONDS
}
const fn default_max_blobs() -> usize {
    MAX_BLOBS_PER_TX
}

impl BlobsConfig {
    /// A config with every optional setting at its default and no inbox or key source.
    pub fn new(l1_rpc_url: impl Into<String>) -> Self {
        Self {
            l1_rpc_url: l1_rpc_url.into(),
            l1_beacon_url: None,
            l1_slot_seconds: DEFAULT_L1_SLOT_SECONDS,
            inbox: None,
            l2_chain_id: None,
            batcher_key_file: None,
            batcher_key_env: None,
            confirmations: DEFAULT_CONFIRMATIONS,
            max_fee_per_gas_cap_gwei: DEFAULT_MAX_FEE_PER_GAS_CAP_GWEI,
            max_priority_fee_cap_gwei: DEFAULT_MAX_PRIORITY_FEE_CAP_GWEI,
            max_fee_per_blob_gas_cap_gwei: DEFAULT_MAX_FEE_PER_BLOB_GAS_CAP_GWEI,
            max_blobs_per_tx: MAX_BLOBS_PER_TX,
            sidecar: SidecarFormat::default(),
            resubmit_after_secs: DEFAULT_RESUBMIT_AFTER_SECS,
            receipt_timeout_secs: DEFAULT_RECEIPT_TIMEOUT_SECS,
        }
    }

    /// The L1 transaction settings, shared with the `ethereum-calldata` backend.
    pub fn transaction_config(&self) -> CalldataConfig {
        CalldataConfig {
            l1_rpc_url: self.l1_rpc_url.clone(),
            inbox: self.inbox,
            l2_chain_id: self.l2_chain_id,
            batcher_key_file: self.batcher_key_file.clone(),
            batcher_key_env: self.batcher_key_env.clone(),
            confirmations: self.confirmations,
            max_fee_per_gas_cap_gwei: self.max_fee_per_gas_cap_gwei,
            max_priority_fee_cap_gwei: self.max_priority_fee_cap_gwei,
            resubmit_after_secs: self.resubmit_after_secs,
            receipt_timeout_secs: self.receipt_timeout_secs,
        }
    }

    /// Checks field values without touching the network, disk or environment.
    pub fn validate(&self) -> Result<(), DaError> {
        self.transaction_config().validate()?;
        if let Some(url) = &self.l1_beacon_url {
            let lower = url.to_ascii_lowercase();
            let host = lower
                .strip_prefix("http://")
                .or_else(|| lower.strip_prefix("https://"));
            if host.is_none_or(str::is_empty) {
                return Err(DaError::InvalidConfig(format!(
                    "`l1_beacon_url` must be an http(s) URL, got {url:?}"
                )));
            }
        }
        if self.max_fee_per_blob_gas_cap_gwei == 0 || self.l1_slot_seconds == 0 {
            return Err(DaError::InvalidConfig(
                "`max_fee_per_blob_gas_cap_gwei` and `l1_slot_seconds` must be greater than 0"
                    .into(),
            ));
        }
        if !(1..=MAX_BLOBS_PER_TX).contains(&self.max_blobs_per_tx) {
            return Err(DaError::InvalidConfig(format!(
                "`max_blobs_per_tx` must be 1..={MAX_BLOBS_PER_TX}, got {}",
                self.max_blobs_per_tx
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> BlobsConfig {
        let mut c = BlobsConfig::new("http://l1:8545");
        c.l2_chain_id = Some(10);
        c.batcher_key_env = Some("ALTIUS_TEST_BATCHER_KEY_UNSET".into());
        c
    }

    #[test]
    fn defaults_parse_and_validate() {
        let text = "l1_rpc_url = \"http://l1:8545\"\nl2_chain_id = 10\nbatcher_key_env = \"K\"";
        let parsed: BlobsConfig = toml::from_str(text).unwrap();
        assert_eq!(parsed.max_blobs_per_tx, MAX_BLOBS_PER_TX);
        assert_eq!(parsed.sidecar, SidecarFormat::Auto);
        assert_eq!(
            parsed.max_fee_per_blob_gas_cap_gwei,
            DEFAULT_MAX_FEE_PER_BLOB_GAS_CAP_GWEI
        );
        parsed.validate().unwrap();
        let tx = parsed.transaction_config();
        assert_eq!(tx.inbox_address().unwrap(), crate::batch_inbox_address(10));
        let text = format!("{text}\nsidecar = \"eip4844\"");
        let parsed: BlobsConfig = toml::from_str(&text).unwrap();
        assert_eq!(parsed.sidecar, SidecarFormat::Eip4844);
        assert!(toml::from_str::<BlobsConfig>(&format!("{text}\nbogus = 1")).is_err());
        assert!(toml::from_str::<BlobsConfig>(&format!("{text}\nsidecar = \"x\"")).is_err());
    }

    #[test]
    fn validation_rejects_bad_settings() {
        config().validate().unwrap();
        let mut c = config();
        c.max_blobs_per_tx = 0;
        assert!(c.validate().is_err());
        c.max_blobs_per_tx = MAX_BLOBS_PER_TX + 1;
        assert!(c.validate().is_err());
        let mut c = config();
        c.max_fee_per_blob_gas_cap_gwei = 0;
        assert!(c.validate().is_err());
        let mut c = config();
        c.l1_beacon_url = Some("http://cl:5052".into());
        c.validate().unwrap();
        c.l1_beacon_url = Some("cl:5052".into());
        assert!(matches!(c.validate(), Err(DaError::InvalidConfig(_))));
        let mut c = config();
        c.l1_slot_seconds = 0;
        assert!(c.validate().is_err());
        let mut c = config();
        c.l2_chain_id = None;
        assert!(c.validate().is_err(), "shared checks apply");
    }
}
