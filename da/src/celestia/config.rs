//! [`CelestiaConfig`]: the `celestia` section of the DA config.

use std::{fmt, path::PathBuf};

use alloy_primitives::hex;
use serde::{Deserialize, Serialize};

use crate::{DaError, altda::check_http_url};

/// Length of a celestia v0 namespace's user-supplied ID suffix.
pub(crate) const NAMESPACE_ID_LEN: usize = 10;
/// Default largest blob: under celestia-app's 2 MiB transaction size limit.
pub const DEFAULT_CELESTIA_MAX_BLOB_SIZE: usize = 1_900_000;
/// Default seconds one JSON-RPC call may take (`blob.Submit` waits for inclusion).
pub const DEFAULT_CELESTIA_TIMEOUT_SECS: u64 = 120;

/// Settings of the `celestia` backend ([`crate::CelestiaDa`]): a celestia-node (bridge,
/// full or light) over JSON-RPC.
///
/// ```toml
/// [da]
/// kind = "celestia"
/// url = "http://127.0.0.1:26658"
/// namespace = "0x416c74697573"      # v0 namespace ID, 1..=10 bytes
/// auth_token_file = "celestia.jwt" # write permission
/// gas_price = 0.004                # utia per gas; unset: the node estimates
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CelestiaConfig {
    /// celestia-node JSON-RPC URL.
    pub url: String,
    /// Hex namespace ID (up to 10 bytes, v0 namespace), left-padded with zeros.
    pub namespace: String,
    /// File holding the node's JWT auth token (sent as `Authorization: Bearer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_token_file: Option<PathBuf>,
    /// Gas price in utia; unset, the node estimates it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gas_price: Option<GasPrice>,
    /// Highest gas price in utia the node's estimate may reach; unset, the node's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_gas_price: Option<GasPrice>,
    /// Largest blob (default [`DEFAULT_CELESTIA_MAX_BLOB_SIZE`]).
    #[serde(default = "default_max_blob_size")]
    pub max_blob_bytes: usize,
    /// Seconds one JSON-RPC call may take before it fails as retryable (default 120).
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

const fn default_max_blob_size() -> usize {
    DEFAULT_CELESTIA_MAX_BLOB_SIZE
}
const fn default_timeout() -> u64 {
    DEFAULT_CELESTIA_TIMEOUT_SECS
}

/// A gas price in utia: a finite, positive number.
#[derive(Clone, Copy, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GasPrice(pub f64);

impl PartialEq for GasPrice {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}

impl Eq for GasPrice {}

impl fmt::Debug for GasPrice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} utia", self.0)
    }
}

impl CelestiaConfig {
    /// A config with every optional setting at its default.
    pub fn new(url: impl Into<String>, namespace: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            namespace: namespace.into(),
            auth_token_file: None,
            gas_price: None,
            max_gas_price: None,
            max_blob_bytes: DEFAULT_CELESTIA_MAX_BLOB_SIZE,
            timeout_secs: DEFAULT_CELESTIA_TIMEOUT_SECS,
        }
    }

    /// Checks field values without touching the network or disk.
    pub fn validate(&self) -> Result<(), DaError> {
        check_http_url("url", &self.url)?;
        self.namespace_id()?;
        for (field, price) in [
            ("gas_price", self.gas_price),
            ("max_gas_price", self.max_gas_price),
        ] {
            if price.is_some_and(|p| !(p.0.is_finite() && p.0 > 0.0)) {
                return Err(DaError::InvalidConfig(format!(
                    "celestia `{field}` must be a positive number"
                )));
            }
        }
        if self.max_blob_bytes == 0 || self.timeout_secs == 0 {
            return Err(DaError::InvalidConfig(
                "celestia `max_blob_bytes` and `timeout_secs` must be greater than 0".into(),
            ));
        }
        Ok(())
    }

    /// The namespace ID (hex, `0x` optional, 1..=10 bytes), left-padded to 10 bytes.
    pub fn namespace_id(&self) -> Result<[u8; NAMESPACE_ID_LEN], DaError> {
        namespace_id("namespace", &self.namespace)
    }

    /// Reads the auth token file (surrounding whitespace ignored). Errors never contain the
    /// token.
    pub(crate) fn load_auth_token(&self) -> Result<Option<String>, DaError> {
        let Some(path) = &self.auth_token_file else {
            return Ok(None);
        };
        let text = std::fs::read_to_string(path).map_err(|e| {
            DaError::InvalidConfig(format!(
                "reading the celestia auth token {}: {e}",
                path.display()
            ))
        })?;
        let token = text.trim();
        if token.is_empty() || token.contains(char::is_whitespace) {
            return Err(DaError::InvalidConfig(format!(
                "the celestia auth token file {} must hold one token",
                path.display()
            )));
        }
        Ok(Some(token.to_owned()))
    }
}

/// Parses a v0 namespace ID (hex, `0x` optional, 1..=10 bytes), left-padded to 10 bytes.
pub(crate) fn namespace_id(field: &str, text: &str) -> Result<[u8; NAMESPACE_ID_LEN], DaError> {
    let bytes = hex::decode(text)
        .map_err(|e| DaError::InvalidConfig(format!("celestia `{field}` is not hex: {e}")))?;
    if bytes.is_empty() || bytes.len() > NAMESPACE_ID_LEN {
        return Err(DaError::InvalidConfig(format!(
            "celestia `{field}` must be 1..={NAMESPACE_ID_LEN} bytes, got {}",
            bytes.len()
        )));
    }
    let mut id = [0u8; NAMESPACE_ID_LEN];
    id[NAMESPACE_ID_LEN - bytes.len()..].copy_from_slice(&bytes);
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_and_namespace() {
        let c = CelestiaConfig::new("http://c:26658", "0x0102");
        c.validate().unwrap();
        assert_eq!(c.namespace_id().unwrap()[8..], [1, 2]);
        assert_eq!(c.namespace_id().unwrap()[..8], [0; 8]);
        for ns in ["zz", "", "0x0102030405060708090a0b"] {
            assert!(
                CelestiaConfig::new("http://c", ns).validate().is_err(),
                "{ns}"
            );
        }
        let mut bad = c;
        bad.gas_price = Some(GasPrice(-1.0));
        assert!(bad.validate().is_err());
        bad.gas_price = Some(GasPrice(f64::NAN));
        assert!(bad.validate().is_err());
        bad.gas_price = Some(GasPrice(0.004));
        bad.validate().unwrap();
        bad.timeout_secs = 0;
        assert!(bad.validate().is_err());
    }

    #[test]
    fn auth_token_is_read_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jwt");
        let mut c = CelestiaConfig::new("http://c", "01");
        assert_eq!(c.load_auth_token().unwrap(), None);
        c.auth_token_file = Some(path.clone());
        assert!(c.load_auth_token().is_err(), "missing file");
        std::fs::write(&path, "secret token\n").unwrap();
        let err = c.load_auth_token().unwrap_err().to_string();
        assert!(!err.contains("secret"), "{err}");
        std::fs::write(&path, "  eyJhbGc.secret.sig\n").unwrap();
        assert_eq!(c.load_auth_token().unwrap().unwrap(), "eyJhbGc.secret.sig");
    }
}
