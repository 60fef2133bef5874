//! [`SettlementConfig`]: settlement backend selection from the node's TOML config.

use std::{path::PathBuf, sync::Arc};

use alloy::signers::local::PrivateKeySigner;
use alloy_primitives::Address;
use serde::{Deserialize, Serialize};

use crate::{
    L2Head, L2OutputOracleClient, LocalSettlement, LocalSettlementParams, SettlementClient,
    SettlementError, error::Result,
};

/// Default interval in L2 blocks between output proposals.
pub const DEFAULT_SUBMISSION_INTERVAL: u64 = 10;

/// Which settlement layer records the output roots.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SettlementKind {
    /// The embedded redb store ([`LocalSettlement`]); no L1 needed.
    #[default]
    #[serde(rename = "local")]
    Local,
    /// An L2OutputOracle contract on L1 ([`L2OutputOracleClient`]).
    #[serde(rename = "l2-output-oracle")]
    L2OutputOracle,
}

/// The `[settlement]` section of the node config.
///
/// ```toml
/// [settlement]
/// kind = "l2-output-oracle"
/// l1_rpc = "http://127.0.0.1:8545"
/// oracle_address = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
/// proposer_key_env = "ALTIUS_PROPOSER_KEY"
/// ```
///
/// The proposer key itself never appears in the config: it is read from a file or an
/// environment variable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SettlementConfig {
    /// The settlement layer: `"local"` (default) or `"l2-output-oracle"`.
    pub kind: SettlementKind,
    /// L1 execution JSON-RPC HTTP URL (`l2-output-oracle` only, required there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub l1_rpc: Option<String>,
    /// Address of the deployed L2OutputOracle (`l2-output-oracle` only, required there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oracle_address: Option<Address>,
    /// Interval in L2 blocks between proposals (default 10). The local store enforces it;
    /// with an oracle, the contract's own interval is authoritative.
    pub submission_interval: u64,
    /// File holding the proposer's hex private key (`l2-output-oracle`; this or
    /// `proposer_key_env`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proposer_key_file: Option<PathBuf>,
    /// Environment variable holding the proposer's hex private key (`l2-output-oracle`;
    /// this or `proposer_key_file`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proposer_key_env: Option<String>,
    /// L1 blocks to wait for a proposal's receipt (default 1: included).
    pub confirmations: u64,
    /// Dedicated database file for `local`; when absent the node's shared database is used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
}

impl Default for SettlementConfig {
    fn default() -> Self {
        Self {
            kind: SettlementKind::Local,
            l1_rpc: None,
            oracle_address: None,
            submission_interval: DEFAULT_SUBMISSION_INTERVAL,
            proposer_key_file: None,
            proposer_key_env: None,
            confirmations: 1,
            path: None,
        }
    }
}

impl SettlementConfig {
    /// Checks field values without touching the network, disk or environment.
    pub fn validate(&self) -> Result<()> {
        if self.submission_interval == 0 {
            return Err(invalid("`submission_interval` must be greater than 0"));
        }
        match self.kind {
            SettlementKind::Local => self.validate_local(),
            SettlementKind::L2OutputOracle => self.validate_oracle(),
        }
    }

    fn validate_local(&self) -> Result<()> {
        let oracle_only = [
            ("l1_rpc", self.l1_rpc.is_some()),
            ("oracle_address", self.oracle_address.is_some()),
            ("proposer_key_file", self.proposer_key_file.is_some()),
            ("proposer_key_env", self.proposer_key_env.is_some()),
        ];
        match oracle_only.iter().find(|(_, set)| *set) {
            Some((field, _)) => Err(invalid(&format!(
                "`{field}` is only used with kind = \"l2-output-oracle\""
            ))),
            None => Ok(()),
        }
    }

    fn validate_oracle(&self) -> Result<()> {
        let url = self
            .l1_rpc
            .as_deref()
            .ok_or_else(|| invalid("`l1_rpc` is required"))?;
        check_http_url(url)?;
        match self.oracle_address {
            None => return Err(invalid("`oracle_address` is required")),
            Some(a) if a.is_zero() => return Err(invalid("`oracle_address` must not be zero")),
            Some(_) => {}
        }
        if self.path.is_some() {
            return Err(invalid("`path` is only used with kind = \"local\""));
        }
        match (&self.proposer_key_file, &self.proposer_key_env) {
            (Some(_), None) | (None, Some(_)) => Ok(()),
            _ => Err(invalid(
                "set exactly one of `proposer_key_file` and `proposer_key_env`",
            )),
        }
    }

    /// Reads the proposer key from `proposer_key_file` or `proposer_key_env` (hex, `0x`
    /// optional, surrounding whitespace ignored). Errors never contain the key.
    pub fn load_proposer_key(&self) -> Result<PrivateKeySigner> {
        let (source, text) = match (&self.proposer_key_file, &self.proposer_key_env) {
            (Some(file), None) => {
                let source = format!("file {}", file.display());
                let text = std::fs::read_to_string(file)
                    .map_err(|e| invalid(&format!("reading proposer key {source}: {e}")))?;
                (source, text)
            }
            (None, Some(var)) => {
                let source = format!("environment variable {var}");
                let text = std::env::var(var)
                    .map_err(|_| invalid(&format!("proposer key {source} is not set")))?;
                (source, text)
            }
            _ => {
                return Err(invalid(
                    "set exactly one of `proposer_key_file` and `proposer_key_env`",
                ));
            }
        };
        text.trim().parse().map_err(|_| {
            invalid(&format!(
                "proposer key in {source} is not a 32-byte hex private key"
            ))
        })
    }

    /// Validates the config and builds the backend.
    ///
    /// `shared_db` is the node's database, used by `local` when no `path` is set; `head` is
    /// the node's L2 head, against which `local` rejects proposals for future blocks.
    pub fn build(
        &self,
        shared_db: Option<Arc<redb::Database>>,
        head: L2Head,
    ) -> Result<Arc<dyn SettlementClient>> {
        self.validate()?;
        match self.kind {
            SettlementKind::Local => self.build_local(shared_db, head),
            SettlementKind::L2OutputOracle => {
                let signer = self.load_proposer_key()?;
                let (Some(url), Some(oracle)) = (&self.l1_rpc, self.oracle_address) else {
                    return Err(invalid("`l1_rpc` and `oracle_address` are required"));
                };
                let client = L2OutputOracleClient::connect(url, oracle, signer)?
                    .with_confirmations(self.confirmations);
                Ok(Arc::new(client))
            }
        }
    }

    fn build_local(
        &self,
        shared_db: Option<Arc<redb::Database>>,
        head: L2Head,
    ) -> Result<Arc<dyn SettlementClient>> {
        let params = LocalSettlementParams {
            submission_interval: self.submission_interval,
            starting_block_number: 0,
        };
        match (&self.path, shared_db) {
            (Some(path), _) => Ok(Arc::new(LocalSettlement::open(path, params, head)?)),
            (None, Some(db)) => Ok(Arc::new(LocalSettlement::with_database(db, params, head)?)),
            (None, None) => Err(invalid(
                "local settlement needs a `path` or the node's shared database",
            )),
        }
    }
}

fn invalid(message: &str) -> SettlementError {
    SettlementError::InvalidConfig(message.to_owned())
}

fn check_http_url(url: &str) -> Result<()> {
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("http://")
        .or_else(|| lower.strip_prefix("https://"));
    match rest {
        Some(host) if !host.is_empty() => Ok(()),
        _ => Err(invalid(&format!(
            "`l1_rpc` must be an http(s) URL, got {url:?}"
        ))),
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
