//! [`AltDaConfig`] and [`EigenDaConfig`]: the `alt-da` and `eigenda` sections of the DA
//! config.

use serde::{Deserialize, Serialize};

use crate::{CELESTIA_LAYER_BYTE, CalldataConfig, DaError, EIGENDA_LAYER_BYTE};

/// Largest preimage under a keccak commitment (`MaxInputSize` of the OP alt-DA client).
pub const MAX_KECCAK_INPUT_SIZE: usize = 130_672;
/// Default largest submission under a generic commitment: 16 MiB, EigenDA's blob limit.
pub const DEFAULT_MAX_GENERIC_SUBMISSION_SIZE: usize = 16 * 1024 * 1024;
/// Default seconds a `PUT` may take (EigenDA and Celestia servers block until the data is
/// confirmed on their layer).
pub const DEFAULT_PUT_TIMEOUT_SECS: u64 = 300;
/// Default seconds a `GET` may take.
pub const DEFAULT_GET_TIMEOUT_SECS: u64 = 60;

/// Settings of the `alt-da` backend ([`crate::AltDaClient`]).
///
/// ```toml
/// [da]
/// kind = "alt-da"
/// server_url = "http://127.0.0.1:3100"
/// generic_commitment = true      # false (default): keccak commitments
///
/// [da.l1]                        # optional: post each commitment to the L1 inbox
/// l1_rpc_url = "http://127.0.0.1:8546"
/// l2_chain_id = 901337
/// batcher_key_file = "batcher.key"
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AltDaConfig {
    /// DA server base URL.
    pub server_url: String,
    /// Use generic commitments (`0x01`, computed by the server) instead of keccak
    /// commitments (`0x00`, computed here).
    #[serde(default)]
    pub generic_commitment: bool,
    /// With generic commitments: the DA layer byte the server's commitments must carry
    /// (EigenDA 0x00, Celestia 0x0c); unset, any layer is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub da_layer: Option<u8>,
    /// With generic commitments from Celestia's op-alt-da server: its namespace ID (hex,
    /// v0), so fetched data is checked against the share commitment. Implies
    /// `da_layer = 0x0c`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub celestia_namespace: Option<String>,
    /// Largest submission; defaults to [`MAX_KECCAK_INPUT_SIZE`] for keccak commitments
    /// (also its maximum) and [`DEFAULT_MAX_GENERIC_SUBMISSION_SIZE`] for generic ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_submission_bytes: Option<usize>,
    /// Seconds a `PUT` may take before it fails as retryable (default 300).
    #[serde(default = "default_put_timeout")]
    pub put_timeout_secs: u64,
    /// Seconds a `GET` may take before it fails as retryable (default 60).
    #[serde(default = "default_get_timeout")]
    pub get_timeout_secs: u64,
    /// Posts every commitment to the L1 batch inbox as a version-1 batcher transaction
    /// (the `ethereum-calldata` settings); when absent, commitments stay off L1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l1: Option<CalldataConfig>,
}

/// Settings of the `eigenda` backend ([`crate::AltDaClient::eigenda`]): an eigenda-proxy.
///
/// ```toml
/// [da]
/// kind = "eigenda"
/// proxy_url = "http://127.0.0.1:3100"
/// ```
///
/// `[da.l1]` posts every certificate commitment to L1, as for `alt-da`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EigenDaConfig {
    /// eigenda-proxy base URL.
    pub proxy_url: String,
    /// Largest submission (default [`DEFAULT_MAX_GENERIC_SUBMISSION_SIZE`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_submission_bytes: Option<usize>,
    /// Seconds a `PUT` may take before it fails as retryable (default 300).
    #[serde(default = "default_put_timeout")]
    pub put_timeout_secs: u64,
    /// Seconds a `GET` may take before it fails as retryable (default 60).
    #[serde(default = "default_get_timeout")]
    pub get_timeout_secs: u64,
    /// Posts every commitment to the L1 batch inbox (the `ethereum-calldata` settings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l1: Option<CalldataConfig>,
}

const fn default_put_timeout() -> u64 {
    DEFAULT_PUT_TIMEOUT_SECS
}
const fn default_get_timeout() -> u64 {
    DEFAULT_GET_TIMEOUT_SECS
}

impl AltDaConfig {
    /// A config for `server_url` with every optional setting at its default.
    pub fn new(server_url: impl Into<String>) -> Self {
        Self {
            server_url: server_url.into(),
            generic_commitment: false,
            da_layer: None,
            celestia_namespace: None,
            max_submission_bytes: None,
            put_timeout_secs: DEFAULT_PUT_TIMEOUT_SECS,
            get_timeout_secs: DEFAULT_GET_TIMEOUT_SECS,
            l1: None,
        }
    }

    /// The effective submission limit.
    pub fn max_submission_size(&self) -> usize {
        let default = if self.generic_commitment {
            DEFAULT_MAX_GENERIC_SUBMISSION_SIZE
        } else {
            MAX_KECCAK_INPUT_SIZE
        };
        self.max_submission_bytes.unwrap_or(default)
    }

    /// Checks field values without touching the network or disk.
    pub fn validate(&self) -> Result<(), DaError> {
        check_http_url("server_url", &self.server_url)?;
        check_common(
            self.max_submission_bytes,
            self.put_timeout_secs,
            self.get_timeout_secs,
            self.l1.as_ref(),
        )?;
        self.check_layer()?;
        if !self.generic_commitment && self.max_submission_size() > MAX_KECCAK_INPUT_SIZE {
            return Err(DaError::InvalidConfig(format!(
                "`max_submission_bytes` must not exceed {MAX_KECCAK_INPUT_SIZE} with keccak commitments"
            )));
        }
        Ok(())
    }
}

impl AltDaConfig {
    /// The layer byte generic commitments must carry, if any.
    pub(crate) fn expected_layer(&self) -> Option<u8> {
        self.da_layer.or(self
            .celestia_namespace
            .as_ref()
            .map(|_| CELESTIA_LAYER_BYTE))
    }

    fn check_layer(&self) -> Result<(), DaError> {
        let invalid = |why: &str| Err(DaError::InvalidConfig(why.into()));
        if !self.generic_commitment
            && (self.da_layer.is_some() || self.celestia_namespace.is_some())
        {
            return invalid("`da_layer` and `celestia_namespace` need `generic_commitment = true`");
        }
        if self.da_layer.is_some_and(|l| l >= 127) {
            return invalid("`da_layer` must be below 127");
        }
        if let Some(namespace) = &self.celestia_namespace {
            if self.expected_layer() != Some(CELESTIA_LAYER_BYTE) {
                return invalid("`celestia_namespace` needs `da_layer = 12` (0x0c) or unset");
            }
            crate::celestia::namespace_v0("celestia_namespace", namespace)?;
        }
        Ok(())
    }
}

impl EigenDaConfig {
    /// A config for `proxy_url` with every optional setting at its default.
    pub fn new(proxy_url: impl Into<String>) -> Self {
        Self {
            proxy_url: proxy_url.into(),
            max_submission_bytes: None,
            put_timeout_secs: DEFAULT_PUT_TIMEOUT_SECS,
            get_timeout_secs: DEFAULT_GET_TIMEOUT_SECS,
            l1: None,
        }
    }

    /// Checks field values without touching the network or disk.
    pub fn validate(&self) -> Result<(), DaError> {
        check_http_url("proxy_url", &self.proxy_url)?;
        check_common(
            self.max_submission_bytes,
            self.put_timeout_secs,
            self.get_timeout_secs,
            self.l1.as_ref(),
        )
    }

    /// The equivalent `alt-da` settings: generic commitments from the proxy.
    pub(crate) fn as_alt_da(&self) -> AltDaConfig {
        AltDaConfig {
            server_url: self.proxy_url.clone(),
            generic_commitment: true,
            da_layer: Some(EIGENDA_LAYER_BYTE),
            celestia_namespace: None,
            max_submission_bytes: self.max_submission_bytes,
            put_timeout_secs: self.put_timeout_secs,
            get_timeout_secs: self.get_timeout_secs,
            l1: self.l1.clone(),
        }
    }
}

fn check_common(
    max_submission_bytes: Option<usize>,
    put_timeout_secs: u64,
    get_timeout_secs: u64,
    l1: Option<&CalldataConfig>,
) -> Result<(), DaError> {
    if max_submission_bytes == Some(0) || put_timeout_secs == 0 || get_timeout_secs == 0 {
        return Err(DaError::InvalidConfig(
            "`max_submission_bytes`, `put_timeout_secs` and `get_timeout_secs` must be greater than 0"
                .into(),
        ));
    }
    l1.map_or(Ok(()), CalldataConfig::validate)
}

/// Checks that `url` is an `http://` URL with a host part.
///
/// The HTTP client is built without TLS (the workspace's `reqwest` has no TLS feature), so
/// an `https://` URL is refused here with a clear message instead of failing every request.
pub(crate) fn check_http_url(field: &str, url: &str) -> Result<(), DaError> {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("https://") {
        return Err(DaError::InvalidConfig(format!(
            "`{field}`: https is not supported (no TLS in this build); use http:// to a local \
             node or a TLS-terminating proxy, got {url:?}"
        )));
    }
    match lower.strip_prefix("http://") {
        Some(host) if !host.is_empty() => Ok(()),
        _ => Err(DaError::InvalidConfig(format!(
            "`{field}` must be an http:// URL, got {url:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_validation() {
        let mut c = AltDaConfig::new("http://da:3100");
        c.validate().unwrap();
        assert_eq!(c.max_submission_size(), MAX_KECCAK_INPUT_SIZE);
        c.max_submission_bytes = Some(MAX_KECCAK_INPUT_SIZE + 1);
        assert!(c.validate().is_err(), "keccak inputs are capped");
        c.generic_commitment = true;
        c.validate().unwrap();
        c.max_submission_bytes = None;
        assert_eq!(c.max_submission_size(), DEFAULT_MAX_GENERIC_SUBMISSION_SIZE);
        c.celestia_namespace = Some("0x0102".into());
        c.validate().unwrap();
        assert_eq!(c.expected_layer(), Some(CELESTIA_LAYER_BYTE));
        c.da_layer = Some(EIGENDA_LAYER_BYTE);
        assert!(
            c.validate().is_err(),
            "a celestia namespace with the EigenDA layer"
        );
        c.celestia_namespace = None;
        c.validate().unwrap();
        c.da_layer = Some(200);
        assert!(c.validate().is_err());
        c.da_layer = None;
        c.put_timeout_secs = 0;
        assert!(c.validate().is_err());
        assert!(AltDaConfig::new("ws://da").validate().is_err());
        let err = AltDaConfig::new("https://da").validate().unwrap_err();
        assert!(err.to_string().contains("no TLS"), "{err}");
        let mut e = EigenDaConfig::new("http://proxy:3100");
        e.validate().unwrap();
        assert!(e.as_alt_da().generic_commitment);
        e.l1 = Some(CalldataConfig::new("http://l1"));
        assert!(e.validate().is_err(), "the L1 section is validated too");
    }
}
