//! [`CalldataConfig`]: the `ethereum-calldata` section of the DA config.

use std::path::PathBuf;

use alloy::signers::local::PrivateKeySigner;
use alloy_primitives::{Address, B256, U256, keccak256};
use serde::{Deserialize, Serialize};

use crate::DaError;

/// Default L1 confirmations to wait for (1: included).
pub const DEFAULT_CONFIRMATIONS: u64 = 1;
/// Default cap on `maxFeePerGas`, in gwei.
pub const DEFAULT_MAX_FEE_PER_GAS_CAP_GWEI: u64 = 200;
/// Default cap on `maxPriorityFeePerGas`, in gwei.
pub const DEFAULT_MAX_PRIORITY_FEE_CAP_GWEI: u64 = 10;
/// Default seconds without a receipt before a transaction is replaced with higher fees.
pub const DEFAULT_RESUBMIT_AFTER_SECS: u64 = 60;
/// Default seconds a submission may take in total (send, replacements, confirmations).
pub const DEFAULT_RECEIPT_TIMEOUT_SECS: u64 = 600;

/// Settings of the `ethereum-calldata` backend ([`crate::EthereumCalldataDa`]).
///
/// ```toml
/// [da]
/// kind = "ethereum-calldata"
/// l1_rpc_url = "http://127.0.0.1:8545"
/// l2_chain_id = 4242            # or `inbox = "0x00..."`
/// batcher_key_env = "ALTIUS_BATCHER_KEY"
/// ```
///
/// The batcher key never appears in the config: it is read from `batcher_key_file` or the
/// environment variable named by `batcher_key_env`. The inbox defaults to
/// [`batch_inbox_address`] of `l2_chain_id`; one of `inbox` and `l2_chain_id` is required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalldataConfig {
    /// L1 execution JSON-RPC HTTP(S) URL.
    pub l1_rpc_url: String,
    /// Batch inbox; defaults to [`batch_inbox_address`] of `l2_chain_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbox: Option<Address>,
    /// L2 chain id, used to derive the default inbox when `inbox` is not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l2_chain_id: Option<u64>,
    /// File holding the batcher's hex private key (this or `batcher_key_env`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batcher_key_file: Option<PathBuf>,
    /// Environment variable holding the batcher's hex private key (this or
    /// `batcher_key_file`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batcher_key_env: Option<String>,
    /// L1 blocks to wait for (1 = included, the default).
    #[serde(default = "default_confirmations")]
    pub confirmations: u64,
    /// Cap on `maxFeePerGas` in gwei (default 200), also for replacements.
    #[serde(default = "default_fee_cap")]
    pub max_fee_per_gas_cap_gwei: u64,
    /// Cap on `maxPriorityFeePerGas` in gwei (default 10), also for replacements.
    #[serde(default = "default_priority_cap")]
    pub max_priority_fee_cap_gwei: u64,
    /// Seconds without a receipt before the transaction is replaced (same nonce, both fees
    /// +10%); default 60.
    #[serde(default = "default_resubmit_after")]
    pub resubmit_after_secs: u64,
    /// Seconds one submission may take in total before it fails as retryable; default 600.
    #[serde(default = "default_receipt_timeout")]
    pub receipt_timeout_secs: u64,
}

/// Serde defaults shared with the `ethereum-blobs` config.
pub(crate) const fn default_confirmations() -> u64 {
    DEFAULT_CONFIRMATIONS
}
pub(crate) const fn default_fee_cap() -> u64 {
    DEFAULT_MAX_FEE_PER_GAS_CAP_GWEI
}
pub(crate) const fn default_priority_cap() -> u64 {
    DEFAULT_MAX_PRIORITY_FEE_CAP_GWEI
}
pub(crate) const fn default_resubmit_after() -> u64 {
    DEFAULT_RESUBMIT_AFTER_SECS
}
pub(crate) const fn default_receipt_timeout() -> u64 {
    DEFAULT_RECEIPT_TIMEOUT_SECS
}

impl CalldataConfig {
    /// A config with every optional setting at its default and no inbox or key source.
    pub fn new(l1_rpc_url: impl Into<String>) -> Self {
        Self {
            l1_rpc_url: l1_rpc_url.into(),
            inbox: None,
            l2_chain_id: None,
            batcher_key_file: None,
            batcher_key_env: None,
            confirmations: DEFAULT_CONFIRMATIONS,
            max_fee_per_gas_cap_gwei: DEFAULT_MAX_FEE_PER_GAS_CAP_GWEI,
            max_priority_fee_cap_gwei: DEFAULT_MAX_PRIORITY_FEE_CAP_GWEI,
            resubmit_after_secs: DEFAULT_RESUBMIT_AFTER_SECS,
            receipt_timeout_secs: DEFAULT_RECEIPT_TIMEOUT_SECS,
        }
    }

    /// Checks field values without touching the network, disk or environment.
    pub fn validate(&self) -> Result<(), DaError> {
        check_http_url(&self.l1_rpc_url)?;
        self.inbox_address()?;
        self.key_source()?;
        let positive = [
            ("confirmations", self.confirmations),
            ("max_fee_per_gas_cap_gwei", self.max_fee_per_gas_cap_gwei),
            ("max_priority_fee_cap_gwei", self.max_priority_fee_cap_gwei),
            ("resubmit_after_secs", self.resubmit_after_secs),
            ("receipt_timeout_secs", self.receipt_timeout_secs),
        ];
        if let Some((field, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(invalid(format!("`{field}` must be greater than 0")));
        }
        if self.max_priority_fee_cap_gwei > self.max_fee_per_gas_cap_gwei {
            return Err(invalid(
                "`max_priority_fee_cap_gwei` must not exceed `max_fee_per_gas_cap_gwei`".into(),
            ));
        }
        Ok(())
    }

    /// The inbox: `inbox`, else [`batch_inbox_address`] of `l2_chain_id`.
    pub fn inbox_address(&self) -> Result<Address, DaError> {
        match (self.inbox, self.l2_chain_id) {
            (Some(inbox), _) if inbox.is_zero() => Err(invalid("`inbox` must not be zero".into())),
            (Some(inbox), _) => Ok(inbox),
            (None, Some(chain_id)) => Ok(batch_inbox_address(chain_id)),
            (None, None) => Err(invalid(
                "ethereum-calldata needs `inbox` or `l2_chain_id` (for the default inbox)".into(),
            )),
        }
    }

    fn key_source(&self) -> Result<KeySource<'_>, DaError> {
        match (&self.batcher_key_file, &self.batcher_key_env) {
            (Some(file), None) => Ok(KeySource::File(file)),
            (None, Some(var)) => Ok(KeySource::Env(var)),
            _ => Err(invalid(
                "set exactly one of `batcher_key_file` and `batcher_key_env`".into(),
            )),
        }
    }

    /// Reads the batcher key (hex, `0x` optional, surrounding whitespace ignored). Errors
    /// never contain the key.
    pub fn load_batcher_key(&self) -> Result<PrivateKeySigner, DaError> {
        let (source, text) = match self.key_source()? {
            KeySource::File(file) => {
                let source = format!("file {}", file.display());
                let text = std::fs::read_to_string(file)
                    .map_err(|e| invalid(format!("reading batcher key {source}: {e}")))?;
                (source, text)
            }
            KeySource::Env(var) => {
                let source = format!("environment variable {var}");
                let text = std::env::var(var)
                    .map_err(|_| invalid(format!("batcher key {source} is not set")))?;
                (source, text)
            }
        };
        text.trim().parse().map_err(|_| {
            invalid(format!(
                "batcher key in {source} is not a 32-byte hex private key"
            ))
        })
    }
}

enum KeySource<'a> {
    File(&'a PathBuf),
    Env(&'a String),
}

/// The conventional batch inbox of an L2 chain: `0x00 ++ keccak256(bytes32(chainId))[:19]`.
pub fn batch_inbox_address(l2_chain_id: u64) -> Address {
    let hash = keccak256(B256::from(U256::from(l2_chain_id)));
    let mut bytes = [0u8; 20];
    bytes[1..].copy_from_slice(&hash[..19]);
    Address::from(bytes)
}

fn invalid(message: String) -> DaError {
    DaError::InvalidConfig(message)
}

fn check_http_url(url: &str) -> Result<(), DaError> {
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("http://")
        .or_else(|| lower.strip_prefix("https://"));
    match rest {
        Some(host) if !host.is_empty() => Ok(()),
        _ => Err(invalid(format!(
            "`l1_rpc_url` must be an http(s) URL, got {url:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> CalldataConfig {
        let mut c = CalldataConfig::new("http://l1:8545");
        c.l2_chain_id = Some(10);
        c.batcher_key_env = Some("ALTIUS_TEST_BATCHER_KEY_UNSET".into());
        c
    }

    #[test]
    fn default_inbox_follows_the_convention() {
        // keccak256(bytes32(10)) = 0xc65a7bb8d6351c1cf70c95a316cc6a92839c986682d98bc35f958f4883f9d2a8
        let expected: Address = "0x00c65a7bb8d6351c1cf70c95a316cc6a92839c98"
            .parse()
            .unwrap();
        assert_eq!(batch_inbox_address(10), expected);
        assert_eq!(config().inbox_address().unwrap(), expected);
        let mut explicit = config();
        explicit.inbox = Some(Address::repeat_byte(7));
        assert_eq!(explicit.inbox_address().unwrap(), Address::repeat_byte(7));
    }

    #[test]
    fn validation_rejects_bad_settings() {
        config().validate().unwrap();
        let mut c = config();
        c.l1_rpc_url = "ws://l1:8546".into();
        assert!(c.validate().is_err());
        let mut c = config();
        c.l2_chain_id = None;
        assert!(c.validate().is_err());
        let mut c = config();
        c.batcher_key_file = Some("/k".into());
        assert!(c.validate().is_err(), "two key sources");
        let mut c = config();
        c.confirmations = 0;
        assert!(c.validate().is_err());
        let mut c = config();
        c.max_priority_fee_cap_gwei = c.max_fee_per_gas_cap_gwei + 1;
        assert!(c.validate().is_err());
        let mut c = config();
        c.inbox = Some(Address::ZERO);
        assert!(c.validate().is_err());
    }

    #[test]
    fn key_errors_never_show_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, "0xnot-a-key-secretvalue\n").unwrap();
        let mut c = config();
        c.batcher_key_env = None;
        c.batcher_key_file = Some(path);
        let err = c.load_batcher_key().unwrap_err().to_string();
        assert!(!err.contains("secretvalue"), "{err}");
        let good = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
        std::fs::write(c.batcher_key_file.as_ref().unwrap(), format!("0x{good}\n")).unwrap();
        let signer = c.load_batcher_key().unwrap();
        assert_eq!(
            signer.address(),
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
                .parse::<Address>()
                .unwrap()
        );
        assert!(config().load_batcher_key().is_err(), "unset variable");
    }
}
