//! [`EthereumBlobsDa`]: each submission is carried by the blobs of one EIP-4844 (type-3)
//! transaction from the batcher key to the batch inbox on L1, in the OP version-0 blob
//! encoding, with real KZG commitments and proofs.
//!
//! Sending (nonce, fees with caps, replacement of stuck transactions, confirmations) is the
//! `ethereum-calldata` backend's machinery, with a blob fee added.

mod beacon;
mod codec;
mod commitment;
mod config;
mod kzg;

use std::{fmt, time::Duration};

use alloy::{
    consensus::Transaction as _, network::TransactionBuilder4844, providers::Provider,
    rpc::types::TransactionRequest,
};
use alloy_primitives::{B256, Bytes};
use tracing::info;

pub use codec::{
    BLOB_ENCODING_VERSION, BLOB_SIZE, MAX_BLOB_DATA_SIZE, MAX_BLOB_FRAME_SIZE, decode_blob,
    encode_blob,
};
pub use commitment::BLOB_TX_COMMITMENT_VERSION;
pub use config::{
    BlobsConfig, DEFAULT_L1_SLOT_SECONDS, DEFAULT_MAX_FEE_PER_BLOB_GAS_CAP_GWEI, MAX_BLOBS_PER_TX,
    SidecarFormat,
};

use commitment::{blob_reference, decode_verified, parse_commitment};

use crate::{
    DaClient, DaError, DaFuture, DaReference, EthereumCalldataDa,
    calldata::{errors::from_rpc, position},
};

/// How long [`DaClient::fetch`] may take before failing as retryable.
const FETCH_TIMEOUT: Duration = Duration::from_secs(60);

/// Publishes data in blobs sent to the batch inbox, and reads the blobs back from the L1
/// node.
///
/// A submission of up to `max_blobs_per_tx` × [`MAX_BLOB_DATA_SIZE`] bytes is cut into
/// chunks of [`MAX_BLOB_DATA_SIZE`] bytes, each OP-encoded into one blob of a single
/// transaction (so batcher data of `0x00 ++ frame` with frames of at most
/// [`MAX_BLOB_FRAME_SIZE`] bytes is exactly one blob, as op-batcher sends it). The sidecar
/// carries KZG commitments and proofs computed with c-kzg ([`SidecarFormat`] says which
/// proofs; by default they follow the L1's fork, read from `eth_config`). The fee of blob
/// gas is twice the current blob base fee, capped; replacements double every fee. The reference is `(L1 block, tx index, 0x02 ++ tx hash ++ versioned
/// hashes)`. Fetching reads the blobs from the beacon API when `l1_beacon_url` is set, else
/// from the L1 JSON-RPC endpoint (`anvil_getBlobsByTransactionHash`), recomputes each
/// blob's KZG commitment and keeps the blobs whose versioned hashes the transaction names,
/// in its order, before decoding.
#[derive(Clone)]
pub struct EthereumBlobsDa {
    l1: EthereumCalldataDa,
    beacon: Option<beacon::BeaconClient>,
    max_blobs: usize,
    sidecar: SidecarFormat,
}

impl fmt::Debug for EthereumBlobsDa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EthereumBlobsDa")
            .field("l1", &self.l1)
            .field("max_blobs", &self.max_blobs)
            .field("sidecar", &self.sidecar)
            .field("beacon", &self.beacon.is_some())
            .finish()
    }
}

impl EthereumBlobsDa {
    /// The backend kind name.
    pub const KIND: &'static str = "ethereum-blobs";

    /// Validates `config`, loads the batcher key and connects over HTTP. Nothing is sent
    /// until the first submission.
    pub fn connect(config: &BlobsConfig) -> Result<Self, DaError> {
        config.validate()?;
        let l1 = EthereumCalldataDa::connect(&config.transaction_config())?
            .with_blob_fee_cap_gwei(config.max_fee_per_blob_gas_cap_gwei);
        let beacon = config
            .l1_beacon_url
            .as_deref()
            .map(|url| beacon::BeaconClient::new(url, config.l1_slot_seconds))
            .transpose()?;
        Ok(Self {
            l1,
            beacon,
            max_blobs: config.max_blobs_per_tx,
            sidecar: config.sidecar,
        })
    }

    /// Polls the node for receipts and blocks every `interval` (default 1 s).
    pub fn with_poll_interval(mut self, interval: Duration) -> Self {
        self.l1 = self.l1.with_poll_interval(interval);
        self
    }

    /// Replaces a transaction that has no receipt after `after` (overrides the config).
    pub fn with_resubmit_after(mut self, after: Duration) -> Self {
        self.l1 = self.l1.with_resubmit_after(after);
        self
    }

    /// The batcher address (the sender of every submission).
    pub const fn batcher(&self) -> alloy_primitives::Address {
        self.l1.batcher()
    }

    /// The batch inbox address (the recipient of every submission).
    pub const fn inbox(&self) -> alloy_primitives::Address {
        self.l1.inbox()
    }

    /// The largest submission: `max_blobs_per_tx` full blobs.
    pub const fn max_submission_size(&self) -> usize {
        self.max_blobs * MAX_BLOB_DATA_SIZE
    }

    async fn submit_data(&self, data: Bytes) -> Result<DaReference, DaError> {
        if data.is_empty() {
            return Err(DaError::EmptySubmission);
        }
        let max = self.max_submission_size();
        if data.len() > max {
            return Err(DaError::TooLarge {
                size: data.len(),
                max,
            });
        }
        let format = self.sidecar_format().await?;
        let payload = data.clone();
        let sidecar = tokio::task::spawn_blocking(move || {
            let chunks: Vec<&[u8]> = payload.chunks(MAX_BLOB_DATA_SIZE).collect();
            kzg::build_sidecar(&chunks, format)
        })
        .await
        .map_err(|e| DaError::Backend(format!("KZG task failed: {e}")))??;
        let hashes: Vec<B256> = sidecar.versioned_hashes().collect();
        let request = TransactionRequest::default().with_blob_sidecar(sidecar);
        let receipt = self.l1.send_request(request).await?;
        let (height, index) = position(&receipt)?;
        let hash = receipt.transaction_hash;
        info!(target: "altius::da", %hash, l1_block = height, index, blobs = hashes.len(), size = data.len(), "blob transaction confirmed");
        Ok(blob_reference(height, index, hash, &hashes))
    }

    /// The sidecar format of the next submission: the configured one, or for
    /// [`SidecarFormat::Auto`] the one of the L1's current fork, from `eth_config`.
    pub async fn sidecar_format(&self) -> Result<SidecarFormat, DaError> {
        if self.sidecar != SidecarFormat::Auto {
            return Ok(self.sidecar);
        }
        let config: serde_json::Value = self
            .l1
            .provider()
            .raw_request("eth_config".into(), ())
            .await
            .map_err(|e| from_rpc("eth_config (set `sidecar` if the L1 lacks it)", e))?;
        format_of_fork(&config)
    }

    async fn fetch_data(&self, reference: &DaReference) -> Result<Bytes, DaError> {
        let (tx_hash, hashes) = parse_commitment(reference)?;
        tokio::time::timeout(FETCH_TIMEOUT, self.read_back(reference, tx_hash, &hashes))
            .await
            .map_err(|_| DaError::Unavailable(format!("fetching {tx_hash} timed out")))?
    }

    async fn read_back(
        &self,
        reference: &DaReference,
        tx_hash: B256,
        hashes: &[B256],
    ) -> Result<Bytes, DaError> {
        let tx = self.l1.canonical_tx(reference, tx_hash).await?;
        let on_chain = tx.blob_versioned_hashes().unwrap_or_default();
        if on_chain != hashes {
            return Err(DaError::InvalidReference(format!(
                "transaction {tx_hash} carries blobs {on_chain:?}, the reference names {hashes:?}"
            )));
        }
        let candidates = self.candidate_blobs(reference.height, tx_hash).await?;
        let height = reference.height;
        let expected = hashes.to_vec();
        tokio::task::spawn_blocking(move || decode_verified(height, &expected, &candidates))
            .await
            .map_err(|e| DaError::Backend(format!("KZG task failed: {e}")))?
    }

    /// Blobs that include those of `tx_hash`: every blob of its beacon block, or the
    /// transaction's own from the L1 node.
    async fn candidate_blobs(&self, height: u64, tx_hash: B256) -> Result<Vec<Bytes>, DaError> {
        let provider = self.l1.provider();
        if let Some(beacon) = &self.beacon {
            let block = provider
                .get_block_by_number(height.into())
                .await
                .map_err(|e| from_rpc("eth_getBlockByNumber", e))?
                .ok_or(DaError::NotFound { height })?;
            return beacon.blobs_at(block.header.timestamp).await;
        }
        let blobs: Option<Vec<Bytes>> = provider
            .raw_request("anvil_getBlobsByTransactionHash".into(), (tx_hash,))
            .await
            .map_err(|e| from_rpc("anvil_getBlobsByTransactionHash", e))?;
        blobs.ok_or_else(|| {
            DaError::Backend(format!(
                "the L1 node has no blobs for transaction {tx_hash}"
            ))
        })
    }
}

/// The sidecar format of the current fork in an `eth_config` answer: Osaka (EIP-7594)
/// brought the P256VERIFY precompile.
fn format_of_fork(config: &serde_json::Value) -> Result<SidecarFormat, DaError> {
    let precompiles = config
        .get("current")
        .and_then(|c| c.get("precompiles"))
        .and_then(|p| p.as_object())
        .ok_or_else(|| {
            DaError::Backend("eth_config has no current.precompiles; set `sidecar`".into())
        })?;
    Ok(if precompiles.contains_key("P256VERIFY") {
        SidecarFormat::Eip7594
    } else {
        SidecarFormat::Eip4844
    })
}

impl DaClient for EthereumBlobsDa {
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
        self.l1.finalized_height()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fork_picks_the_sidecar_format() {
        let prague = serde_json::json!({"current": {"precompiles": {"SHA256": "0x02"}}});
        let osaka = serde_json::json!({"current": {"precompiles": {"P256VERIFY": "0x0100"}}});
        assert_eq!(format_of_fork(&prague).unwrap(), SidecarFormat::Eip4844);
        assert_eq!(format_of_fork(&osaka).unwrap(), SidecarFormat::Eip7594);
        assert!(format_of_fork(&serde_json::json!({"current": null})).is_err());
        assert!(format_of_fork(&serde_json::json!([])).is_err());
    }
}
