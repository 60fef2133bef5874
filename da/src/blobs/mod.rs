//! [`EthereumBlobsDa`]: each submission is carried by the blobs of one EIP-4844 (type-3)
//! transaction from the batcher key to the batch inbox on L1, in the OP version-0 blob
//! encoding, with real KZG commitments and proofs.
//!
//! Sending (nonce, fees with caps, replacement of stuck transactions, confirmations) is the
//! `ethereum-calldata` backend's machinery, with a blob fee added.

mod beacon;
mod codec;
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
pub use config::{
    BlobsConfig, DEFAULT_L1_SLOT_SECONDS, DEFAULT_MAX_FEE_PER_BLOB_GAS_CAP_GWEI, MAX_BLOBS_PER_TX,
    SidecarFormat,
};

use crate::{
    DaClient, DaError, DaFuture, DaReference, EthereumCalldataDa,
    calldata::{errors::from_rpc, position},
};

/// Commitment version of a blob transaction: `0x02 ++ tx_hash ++ versioned_hash...`, the
/// versioned hashes of the blobs holding the submission, in order.
pub const BLOB_TX_COMMITMENT_VERSION: u8 = 0x02;

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
/// proofs; by default they follow the L1's fork, read from `eth_config`). The fee of blob gas is twice the current blob base fee, capped; replacements
/// double every fee. The reference is `(L1 block, tx index, 0x02 ++ tx hash ++ versioned
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

/// Picks the blobs of `expected` out of `candidates` by recomputing every candidate's
/// versioned hash, and decodes them, in order, into the submitted bytes.
fn decode_verified(height: u64, expected: &[B256], candidates: &[Bytes]) -> Result<Bytes, DaError> {
    let mut by_hash = std::collections::HashMap::with_capacity(candidates.len());
    for blob in candidates {
        by_hash.insert(kzg::versioned_hash(blob)?, blob);
    }
    let mut data = Vec::with_capacity(expected.len() * MAX_BLOB_DATA_SIZE);
    for (i, hash) in expected.iter().enumerate() {
        let Some(blob) = by_hash.get(hash) else {
            // Name what was served instead, if anything, at the same position.
            let actual = candidates
                .get(i)
                .map_or(Ok(B256::ZERO), |b| kzg::versioned_hash(b))?;
            return Err(DaError::Corrupted {
                height,
                expected: *hash,
                actual,
            });
        };
        let blob: &[u8; BLOB_SIZE] = blob
            .as_ref()
            .try_into()
            .map_err(|_| DaError::InvalidBlob("blob of the wrong size".into()))?;
        data.extend_from_slice(&decode_blob(blob)?);
    }
    Ok(data.into())
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

fn blob_reference(height: u64, index: u32, tx_hash: B256, hashes: &[B256]) -> DaReference {
    let mut commitment = Vec::with_capacity(1 + 32 * (1 + hashes.len()));
    commitment.push(BLOB_TX_COMMITMENT_VERSION);
    commitment.extend_from_slice(tx_hash.as_slice());
    hashes
        .iter()
        .for_each(|h| commitment.extend_from_slice(h.as_slice()));
    DaReference::new(height, index, commitment.into())
}

/// The transaction hash and versioned hashes of a blob reference.
fn parse_commitment(reference: &DaReference) -> Result<(B256, Vec<B256>), DaError> {
    match reference.version() {
        Some(BLOB_TX_COMMITMENT_VERSION) => {}
        Some(v) => {
            return Err(DaError::InvalidReference(format!(
                "expected a blob transaction commitment (version \
                 {BLOB_TX_COMMITMENT_VERSION:#04x}), got version {v:#04x}"
            )));
        }
        None => return Err(DaError::InvalidReference("empty commitment".into())),
    }
    let body = reference.body();
    let blobs = (body.len() / 32).saturating_sub(1);
    if !body.len().is_multiple_of(32) || blobs == 0 || blobs > MAX_BLOBS_PER_TX {
        return Err(DaError::InvalidReference(format!(
            "a blob transaction commitment body is a tx hash and 1..={MAX_BLOBS_PER_TX} \
             versioned hashes, got {} bytes",
            body.len()
        )));
    }
    let mut words = body.chunks_exact(32).map(B256::from_slice);
    let tx_hash = words.next().unwrap_or_default();
    Ok((tx_hash, words.collect()))
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
    fn commitments_round_trip_and_reject_bad_input() {
        let hashes = [B256::repeat_byte(1), B256::repeat_byte(2)];
        let r = blob_reference(7, 3, B256::repeat_byte(9), &hashes);
        assert_eq!(r.version(), Some(BLOB_TX_COMMITMENT_VERSION));
        let (tx, parsed) = parse_commitment(&r).unwrap();
        assert_eq!((tx, parsed.as_slice()), (B256::repeat_byte(9), &hashes[..]));
        let bad = |bytes: Vec<u8>| parse_commitment(&DaReference::new(1, 0, bytes.into()));
        assert!(bad(vec![]).is_err());
        assert!(bad([vec![2u8], vec![0; 32]].concat()).is_err(), "no blob");
        assert!(bad([vec![2u8], vec![0; 70]].concat()).is_err(), "ragged");
        assert!(
            bad([vec![2u8], vec![0; 32 * 8]].concat()).is_err(),
            "too many"
        );
        assert!(
            bad([vec![1u8], vec![0; 64]].concat()).is_err(),
            "calldata ref"
        );
    }

    #[test]
    fn the_fork_picks_the_sidecar_format() {
        let prague = serde_json::json!({"current": {"precompiles": {"SHA256": "0x02"}}});
        let osaka = serde_json::json!({"current": {"precompiles": {"P256VERIFY": "0x0100"}}});
        assert_eq!(format_of_fork(&prague).unwrap(), SidecarFormat::Eip4844);
        assert_eq!(format_of_fork(&osaka).unwrap(), SidecarFormat::Eip7594);
        assert!(format_of_fork(&serde_json::json!({"current": null})).is_err());
        assert!(format_of_fork(&serde_json::json!([])).is_err());
    }

    #[test]
    fn decoding_checks_every_versioned_hash() {
        let chunks: [&[u8]; 2] = [b"first blob", b"second"];
        let sidecar = kzg::build_sidecar(&chunks, SidecarFormat::Eip4844).unwrap();
        let hashes: Vec<B256> = sidecar.versioned_hashes().collect();
        let blobs: Vec<Bytes> = sidecar
            .blobs()
            .iter()
            .map(|b| Bytes::copy_from_slice(b.as_slice()))
            .collect();
        let data = decode_verified(5, &hashes, &blobs).unwrap();
        assert_eq!(data.as_ref(), b"first blobsecond");
        let other = kzg::build_sidecar(&[b"other".as_slice()], SidecarFormat::Eip4844).unwrap();
        let other = Bytes::copy_from_slice(other.blobs()[0].as_slice());
        let block = [blobs[1].clone(), other.clone(), blobs[0].clone()];
        assert_eq!(
            decode_verified(5, &hashes, &block).unwrap(),
            data,
            "picked out of a block's blobs, in the transaction's order"
        );
        assert!(matches!(
            decode_verified(5, &hashes, &[blobs[0].clone(), other]),
            Err(DaError::Corrupted { height: 5, .. })
        ));
        assert!(decode_verified(5, &hashes, &blobs[..1]).is_err());
        let short = [blobs[0].slice(..100), blobs[1].clone()];
        assert!(matches!(
            decode_verified(5, &hashes, &short),
            Err(DaError::InvalidBlob(_))
        ));
    }
}
