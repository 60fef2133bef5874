//! [`CelestiaDa`]: blobs in a namespace of a Celestia chain, through celestia-node's
//! JSON-RPC API (`blob.Submit`, `blob.Get`, `header.GetByHeight`, `header.NetworkHead`).

mod config;
mod rpc;

use std::{fmt, time::Duration};

use alloy_primitives::{B256, Bytes};
use celestia_types::{Blob, Commitment, nmt::Namespace};
use serde::{Deserialize, Deserializer};
use serde_json::json;
use tracing::info;

pub use config::{
    CelestiaConfig, DEFAULT_CELESTIA_MAX_BLOB_SIZE, DEFAULT_CELESTIA_TIMEOUT_SECS, GasPrice,
};

use crate::{
    CELESTIA_LAYER_BYTE, DaClient, DaError, DaFuture, DaReference, GENERIC_COMMITMENT_TYPE,
};
use rpc::{CallError, NodeRpc};

/// Length of a celestia reference commitment: `0x01 0x0c ++ height u64 LE ++ commitment`.
const REFERENCE_LEN: usize = 2 + 8 + 32;
/// Largest `header.*` response read.
const MAX_HEADER_RESPONSE: usize = 4 * 1024 * 1024;
/// Largest `blob.Submit` response read (a height).
const MAX_SUBMIT_RESPONSE: usize = 64 * 1024;

/// Publishes each submission as one share-version-0 blob in the configured namespace.
///
/// The share commitment is computed locally (celestia-types) and sent with the blob;
/// `blob.Submit` returns the inclusion height, after which the submission waits for the
/// header (`header.GetByHeight`) and reads the blob back (`blob.Get`), checking that the
/// node holds the same data under the same commitment, so a returned reference is
/// retrievable. The reference is `(height, 0, 0x01 0x0c ++ height u64 LE ++ commitment)`,
/// the generic commitment op-alt-da's Celestia server uses. Fetching checks the namespace,
/// the node's commitment and the locally recomputed one.
///
/// Celestia (CometBFT) has single-slot finality: a block in the chain is final, so
/// [`DaClient::finalized_height`] is the node's view of the network head
/// (`header.NetworkHead`).
///
/// An unreachable node, a timeout or a 5xx/429 answer is [`DaError::Unavailable`];
/// JSON-RPC errors are [`DaError::Backend`]. `Debug` never shows the auth token.
pub struct CelestiaDa {
    rpc: NodeRpc,
    namespace: Namespace,
    tx_config: serde_json::Value,
    max_blob_size: usize,
}

impl fmt::Debug for CelestiaDa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CelestiaDa")
            .field("rpc", &self.rpc)
            .field("namespace", &self.namespace)
            .field("tx_config", &self.tx_config)
            .field("max_blob_size", &self.max_blob_size)
            .finish()
    }
}

impl CelestiaDa {
    /// The backend kind name.
    pub const KIND: &'static str = "celestia";

    /// Validates `config`, reads the auth token and builds the client. Nothing is sent until
    /// the first call.
    pub fn connect(config: &CelestiaConfig) -> Result<Self, DaError> {
        config.validate()?;
        let namespace = namespace_v0("namespace", &config.namespace)?;
        let token = config.load_auth_token()?;
        let rpc = NodeRpc::new(&config.url, token, Duration::from_secs(config.timeout_secs))?;
        Ok(Self {
            rpc,
            namespace,
            tx_config: tx_config(config),
            max_blob_size: config.max_blob_bytes,
        })
    }

    /// The namespace blobs are published in.
    pub const fn namespace(&self) -> Namespace {
        self.namespace
    }

    /// The largest `blob.Get` response: base64 data plus the JSON around it.
    const fn max_blob_response(&self) -> usize {
        self.max_blob_size / 3 * 4 + 64 * 1024
    }

    async fn submit_data(&self, data: Bytes) -> Result<DaReference, DaError> {
        if data.is_empty() {
            return Err(DaError::EmptySubmission);
        }
        if data.len() > self.max_blob_size {
            return Err(DaError::TooLarge {
                size: data.len(),
                max: self.max_blob_size,
            });
        }
        let blob = Blob::new(self.namespace, data.to_vec(), None)
            .map_err(|e| DaError::Backend(format!("building the blob: {e}")))?;
        let height: u64 = self
            .rpc
            .call(
                "blob.Submit",
                json!([[blob], self.tx_config]),
                MAX_SUBMIT_RESPONSE,
            )
            .await
            .map_err(|e| e.into_da("blob.Submit"))?;
        if height == 0 {
            return Err(DaError::Backend("blob.Submit returned height 0".into()));
        }
        self.header_height("header.GetByHeight", json!([height]), Some(height))
            .await?;
        let reference = reference(height, &blob.commitment);
        let stored = self.get(height, &blob.commitment).await?;
        if stored.data != blob.data {
            return Err(DaError::Backend(format!(
                "the blob read back at height {height} differs from the one submitted"
            )));
        }
        info!(target: "altius::da", kind = Self::KIND, height, size = data.len(), commitment = %B256::from(*blob.commitment.hash()), "blob included on celestia");
        Ok(reference)
    }

    async fn fetch_data(&self, reference: &DaReference) -> Result<Bytes, DaError> {
        let commitment = parse_reference(reference)?;
        let blob = self.get(reference.height, &commitment).await?;
        Ok(blob.data.into())
    }

    /// `blob.Get`, checked: the namespace, the node's commitment and the local one.
    async fn get(&self, height: u64, commitment: &Commitment) -> Result<Blob, DaError> {
        let params = json!([height, self.namespace, commitment]);
        let blob: Blob = match self
            .rpc
            .call("blob.Get", params, self.max_blob_response())
            .await
        {
            Ok(blob) => blob,
            Err(CallError::Rpc(e)) if e.message.contains("not found") => {
                return Err(DaError::NotFound { height });
            }
            Err(e) => return Err(e.into_da("blob.Get")),
        };
        if blob.namespace != self.namespace {
            return Err(DaError::Backend(format!(
                "blob.Get returned a blob of another namespace at height {height}"
            )));
        }
        let expected = B256::from(*commitment.hash());
        let corrupted = |actual: &Commitment| DaError::Corrupted {
            height,
            expected,
            actual: B256::from(*actual.hash()),
        };
        if blob.commitment != *commitment {
            return Err(corrupted(&blob.commitment));
        }
        let local = Commitment::from_blob(
            blob.namespace,
            &blob.data,
            blob.share_version,
            blob.signer.as_ref(),
        )
        .map_err(|e| DaError::Backend(format!("computing the share commitment: {e}")))?;
        if local != *commitment {
            return Err(corrupted(&local));
        }
        Ok(blob)
    }

    /// Calls a `header.*` method and returns the header's height, which must be `expected`
    /// when given.
    async fn header_height(
        &self,
        method: &str,
        params: serde_json::Value,
        expected: Option<u64>,
    ) -> Result<u64, DaError> {
        let header: ExtendedHeader = self
            .rpc
            .call(method, params, MAX_HEADER_RESPONSE)
            .await
            .map_err(|e| e.into_da(method))?;
        let height = header.header.height;
        match expected {
            Some(want) if want != height => Err(DaError::Backend(format!(
                "{method} returned the header of height {height}, not {want}"
            ))),
            _ => Ok(height),
        }
    }
}

impl DaClient for CelestiaDa {
    fn kind(&self) -> &'static str {
        Self::KIND
    }

    fn submit(&self, data: Bytes) -> DaFuture<'_, DaReference> {
        Box::pin(self.submit_data(data))
    }

    fn fetch<'a>(&'a self, reference: &'a DaReference) -> DaFuture<'a, Bytes> {
        Box::pin(self.fetch_data(reference))
    }

    fn finalized_height(&self) -> DaFuture<'_, u64> {
        Box::pin(self.header_height("header.NetworkHead", json!([]), None))
    }
}

/// The `TxConfig` JSON of `blob.Submit` (celestia-node `state/tx_config.go`): fields left
/// out take the node's defaults (an estimated gas price).
fn tx_config(config: &CelestiaConfig) -> serde_json::Value {
    let mut tx = serde_json::Map::new();
    if let Some(price) = config.gas_price {
        tx.insert("gas_price".into(), json!(price.0));
        tx.insert("is_gas_price_set".into(), json!(true));
    }
    if let Some(max) = config.max_gas_price {
        tx.insert("max_gas_price".into(), json!(max.0));
    }
    tx.into()
}

/// The v0 namespace of a hex namespace ID (see [`CelestiaConfig::namespace`]).
pub(crate) fn namespace_v0(field: &str, text: &str) -> Result<Namespace, DaError> {
    Namespace::new_v0(&config::namespace_id(field, text)?)
        .map_err(|e| DaError::InvalidConfig(format!("celestia `{field}`: {e}")))
}

/// The share commitment of `data` as a share-version-0 blob in `namespace`.
pub(crate) fn share_commitment(namespace: Namespace, data: &[u8]) -> Result<B256, DaError> {
    Commitment::from_blob(namespace, data, 0, None)
        .map(|c| B256::from(*c.hash()))
        .map_err(|e| DaError::Backend(format!("computing the share commitment: {e}")))
}

/// `0x01 0x0c ++ height u64 LE ++ share commitment`.
fn reference(height: u64, commitment: &Commitment) -> DaReference {
    let mut bytes = Vec::with_capacity(REFERENCE_LEN);
    bytes.extend_from_slice(&[GENERIC_COMMITMENT_TYPE, CELESTIA_LAYER_BYTE]);
    bytes.extend_from_slice(&height.to_le_bytes());
    bytes.extend_from_slice(commitment.hash());
    DaReference::new(height, 0, bytes.into())
}

fn parse_reference(reference: &DaReference) -> Result<Commitment, DaError> {
    let invalid = |why: String| DaError::InvalidReference(format!("celestia reference: {why}"));
    let bytes = reference.commitment.as_ref();
    if bytes.len() != REFERENCE_LEN || bytes[..2] != [GENERIC_COMMITMENT_TYPE, CELESTIA_LAYER_BYTE]
    {
        return Err(invalid(format!(
            "expected 0x010c ++ height ++ commitment ({REFERENCE_LEN} bytes)"
        )));
    }
    let mut le = [0u8; 8];
    le.copy_from_slice(&bytes[2..10]);
    let height = u64::from_le_bytes(le);
    if height != reference.height {
        return Err(invalid(format!(
            "commitment names height {height}, the reference {}",
            reference.height
        )));
    }
    let mut hash = [0u8; 32];
    hash.copy_from_slice(&bytes[10..]);
    Ok(Commitment::new(hash))
}

/// The part of celestia-node's `ExtendedHeader` JSON read here.
#[derive(Deserialize)]
struct ExtendedHeader {
    header: HeaderFields,
}

#[derive(Deserialize)]
struct HeaderFields {
    /// Tendermint JSON writes 64-bit integers as strings.
    #[serde(deserialize_with = "u64_from_string_or_number")]
    height: u64,
}

fn u64_from_string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Number(u64),
        Text(String),
    }
    match Raw::deserialize(d)? {
        Raw::Number(n) => Ok(n),
        Raw::Text(s) => s.parse().map_err(serde::de::Error::custom),
    }
}

#[cfg(test)]
mod tests;
