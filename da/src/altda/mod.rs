//! [`AltDaClient`]: an OP alt-DA server (`POST /put`, `GET /get/0x…`), which is also how
//! eigenda-proxy and Celestia's op-alt-da server are used, optionally posting each
//! commitment to the L1 batch inbox as a version-1 batcher transaction.

mod commitment;
mod config;

use std::{fmt, sync::Arc, time::Duration};

use alloy_primitives::{B256, Bytes, hex, keccak256};
use celestia_types::nmt::Namespace;
use reqwest::{StatusCode, header::CONTENT_TYPE};
use tokio::sync::Mutex;
use tracing::{debug, info};

pub use commitment::{
    AltDaCommitment, CELESTIA_LAYER_BYTE, EIGENDA_LAYER_BYTE, GENERIC_COMMITMENT_TYPE,
    KECCAK_COMMITMENT_TYPE, TX_DATA_VERSION_1,
};
pub(crate) use config::check_http_url;
pub use config::{
    AltDaConfig, DEFAULT_GET_TIMEOUT_SECS, DEFAULT_MAX_GENERIC_SUBMISSION_SIZE,
    DEFAULT_PUT_TIMEOUT_SECS, EigenDaConfig, MAX_KECCAK_INPUT_SIZE,
};

use crate::{DaClient, DaError, DaFuture, DaReference, EthereumCalldataDa, http};
use commitment::AltDaReference;

/// Content type of preimages on the wire.
const OCTET_STREAM: &str = "application/octet-stream";
/// Largest commitment a server may return (it must fit in an L1 transaction).
const MAX_COMMITMENT_SIZE: usize = crate::MAX_CALLDATA_SUBMISSION_SIZE - 1;
/// Connection timeout of the HTTP client.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Highest EigenDA certificate version byte known (V3).
const MAX_EIGENDA_CERT_VERSION: u8 = 0x02;

/// A client of an OP alt-DA server, or of an eigenda-proxy ([`Self::eigenda`]).
///
/// Submissions are stored on the server under a keccak commitment computed here
/// (`POST /put/0x00<keccak>`) or a generic commitment the server returns (`POST /put`,
/// raw `0x01 ++ layer ++ payload` bytes). With `[da.l1]` configured the commitment is then
/// posted to the L1 inbox as calldata `0x01 ++ commitment` through
/// [`EthereumCalldataDa`] (nonces, fees, replacement, confirmations), and the reference is
/// the L1 position; a failed L1 posting retried with the same data reuses the stored
/// commitment instead of storing again. Without an L1 the reference has height 0 and
/// [`DaClient::finalized_height`] is 0: the server's acknowledgement is the only signal,
/// so data counts as final once stored.
///
/// Fetching re-reads the L1 transaction (a reorged-out one is [`DaError::NotCanonical`]),
/// then `GET /get/0x<commitment>`. Keccak commitments are verified; so are Celestia share
/// commitments (layer 0x0c) when `celestia_namespace` is configured; other generic
/// commitments are only checked for their layer byte (and EigenDA certificate version).
/// An unreachable server, a timeout or a 5xx/429 answer is the retryable
/// [`DaError::Unavailable`]; answers are size-bounded (commitments must fit in an L1
/// transaction, data in the submission limit).
#[derive(Clone)]
pub struct AltDaClient {
    kind: &'static str,
    http: reqwest::Client,
    server_url: String,
    generic: bool,
    /// The DA layer byte generic commitments must carry, when the server is known.
    layer: Option<u8>,
    /// Celestia namespace of an op-alt-da server, to check share commitments on fetch.
    celestia_namespace: Option<Namespace>,
    max_size: usize,
    put_timeout: Duration,
    get_timeout: Duration,
    l1: Option<EthereumCalldataDa>,
    /// The commitment of the last stored submission whose L1 posting has not succeeded yet,
    /// by data hash, so a retry does not store (and pay for) the data again.
    last_put: Arc<Mutex<Option<(B256, AltDaCommitment)>>>,
}

impl fmt::Debug for AltDaClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AltDaClient")
            .field("kind", &self.kind)
            .field("server_url", &self.server_url)
            .field("generic", &self.generic)
            .field("layer", &self.layer)
            .field("celestia_namespace", &self.celestia_namespace)
            .field("max_size", &self.max_size)
            .field("l1", &self.l1)
            .finish_non_exhaustive()
    }
}

impl AltDaClient {
    /// The `alt-da` backend kind name.
    pub const KIND: &'static str = "alt-da";
    /// The `eigenda` backend kind name.
    pub const EIGENDA_KIND: &'static str = "eigenda";

    /// Validates `config` and builds the client (and the L1 sender, reading its key). Nothing
    /// is sent until the first submission.
    pub fn connect(config: &AltDaConfig) -> Result<Self, DaError> {
        config.validate()?;
        let l1 = config
            .l1
            .as_ref()
            .map(EthereumCalldataDa::connect)
            .transpose()?;
        Ok(Self {
            kind: Self::KIND,
            http: http::client(CONNECT_TIMEOUT)?,
            server_url: config.server_url.trim_end_matches('/').to_owned(),
            generic: config.generic_commitment,
            layer: config.expected_layer(),
            celestia_namespace: config
                .celestia_namespace
                .as_deref()
                .map(|ns| crate::celestia::namespace_v0("celestia_namespace", ns))
                .transpose()?,
            max_size: config.max_submission_size(),
            put_timeout: Duration::from_secs(config.put_timeout_secs),
            get_timeout: Duration::from_secs(config.get_timeout_secs),
            l1,
            last_put: Arc::default(),
        })
    }

    /// An eigenda-proxy client: generic commitments that must be EigenDA certificates
    /// (`0x01 0x00 ++ cert_version ++ cert`).
    pub fn eigenda(config: &EigenDaConfig) -> Result<Self, DaError> {
        config.validate()?;
        let mut client = Self::connect(&config.as_alt_da())?;
        client.kind = Self::EIGENDA_KIND;
        Ok(client)
    }

    /// Polls the L1 for receipts and blocks every `interval` (when posting to L1).
    pub fn with_l1_poll_interval(mut self, interval: Duration) -> Self {
        self.l1 = self.l1.map(|l1| l1.with_poll_interval(interval));
        self
    }

    /// The L1 sender, when commitments are posted to L1.
    pub const fn l1(&self) -> Option<&EthereumCalldataDa> {
        self.l1.as_ref()
    }

    async fn submit_data(&self, data: Bytes) -> Result<DaReference, DaError> {
        if data.is_empty() {
            return Err(DaError::EmptySubmission);
        }
        if data.len() > self.max_size {
            return Err(DaError::TooLarge {
                size: data.len(),
                max: self.max_size,
            });
        }
        let commitment = self.store(&data).await?;
        let Some(l1) = &self.l1 else {
            self.last_put.lock().await.take();
            info!(target: "altius::da", kind = self.kind, size = data.len(), commitment = %hex::encode(commitment.encode()), "stored on the alt-DA server");
            return Ok(AltDaReference::off_l1(&commitment));
        };
        let posted = l1.submit(commitment.tx_data()).await?;
        self.last_put.lock().await.take();
        let tx = posted.l1_tx_hash()?;
        info!(target: "altius::da", kind = self.kind, size = data.len(), l1_block = posted.height, %tx, "alt-DA commitment posted to L1");
        Ok(AltDaReference::on_l1(
            &commitment,
            posted.height,
            posted.index,
            tx,
        ))
    }

    /// Stores `data` on the server, or reuses the commitment of the same data stored by a
    /// submission whose L1 posting failed.
    async fn store(&self, data: &Bytes) -> Result<AltDaCommitment, DaError> {
        let hash = keccak256(data);
        let mut last = self.last_put.lock().await;
        if let Some((_, commitment)) = last.as_ref().filter(|(h, _)| *h == hash) {
            debug!(target: "altius::da", kind = self.kind, "reusing the stored commitment");
            return Ok(commitment.clone());
        }
        let commitment = if self.generic {
            self.put_generic(data).await?
        } else {
            self.put_keccak(data, hash).await?
        };
        *last = Some((hash, commitment.clone()));
        Ok(commitment)
    }

    async fn put_keccak(&self, data: &Bytes, hash: B256) -> Result<AltDaCommitment, DaError> {
        let commitment = AltDaCommitment::Keccak(hash);
        let url = format!(
            "{}/put/0x{}",
            self.server_url,
            hex::encode(commitment.encode())
        );
        self.put(&url, data).await?;
        Ok(commitment)
    }

    async fn put_generic(&self, data: &Bytes) -> Result<AltDaCommitment, DaError> {
        let url = format!("{}/put", self.server_url);
        let body = self.put(&url, data).await?;
        let commitment = AltDaCommitment::decode(&body)?;
        self.check_generic(&commitment)?;
        Ok(commitment)
    }

    /// `POST url` with `data`; returns the response body of a 2xx answer.
    async fn put(&self, url: &str, data: &Bytes) -> Result<Bytes, DaError> {
        let what = format!("{} PUT", self.kind);
        let response = self
            .http
            .post(url)
            .header(CONTENT_TYPE, OCTET_STREAM)
            .timeout(self.put_timeout)
            .body(data.0.clone())
            .send()
            .await
            .map_err(|e| http::unreachable(&what, &e))?;
        if !response.status().is_success() {
            return Err(http::status_error(&what, response).await);
        }
        http::read_limited(&what, response, MAX_COMMITMENT_SIZE).await
    }

    /// A generic commitment must be one; from an eigenda-proxy, an EigenDA certificate.
    fn check_generic(&self, commitment: &AltDaCommitment) -> Result<(), DaError> {
        let AltDaCommitment::Generic { layer, payload } = commitment else {
            return Err(DaError::Backend(format!(
                "{}: expected a generic commitment, the server returned a keccak one",
                self.kind
            )));
        };
        match self.layer {
            Some(expected) if *layer != expected => Err(DaError::Backend(format!(
                "{}: commitment for DA layer {layer:#04x}, expected {expected:#04x}",
                self.kind
            ))),
            Some(EIGENDA_LAYER_BYTE) => match payload.first() {
                Some(&version) if version <= MAX_EIGENDA_CERT_VERSION && payload.len() > 1 => {
                    Ok(())
                }
                version => Err(DaError::Backend(format!(
                    "{}: not an EigenDA certificate (version {version:?}, {} bytes)",
                    self.kind,
                    payload.len()
                ))),
            },
            Some(CELESTIA_LAYER_BYTE) if !matches!(payload.len(), 40 | 48) => {
                Err(DaError::Backend(format!(
                    "{}: a Celestia commitment is height ++ commitment (++ offsets), 40 or 48 bytes, not {}",
                    self.kind,
                    payload.len()
                )))
            }
            _ => Ok(()),
        }
    }

    /// Checks data fetched under a generic commitment, where the layer allows it: a
    /// Celestia share commitment when the namespace is configured.
    fn verify_generic(
        &self,
        height: u64,
        commitment: &AltDaCommitment,
        data: &[u8],
    ) -> Result<(), DaError> {
        let (Some(namespace), AltDaCommitment::Generic { layer, payload }) =
            (self.celestia_namespace, commitment)
        else {
            return Ok(());
        };
        if *layer != CELESTIA_LAYER_BYTE || payload.len() < 40 {
            return Ok(());
        }
        let expected = B256::from_slice(&payload[8..40]);
        let actual = crate::celestia::share_commitment(namespace, data)?;
        if actual != expected {
            return Err(DaError::Corrupted {
                height,
                expected,
                actual,
            });
        }
        Ok(())
    }

    async fn fetch_data(&self, reference: &DaReference) -> Result<Bytes, DaError> {
        let parsed = AltDaReference::parse(reference)?;
        if let AltDaCommitment::Generic { .. } = parsed.commitment {
            self.check_generic(&parsed.commitment)
                .map_err(|e| DaError::InvalidReference(e.to_string()))?;
        }
        if let Some(tx) = parsed.l1_tx {
            self.check_on_l1(reference, &parsed.commitment, tx).await?;
        }
        let data = self.get(reference.height, &parsed.commitment).await?;
        self.verify_generic(reference.height, &parsed.commitment, &data)?;
        if let AltDaCommitment::Keccak(expected) = parsed.commitment {
            let actual = keccak256(&data);
            if actual != expected {
                return Err(DaError::Corrupted {
                    height: reference.height,
                    expected,
                    actual,
                });
            }
        }
        Ok(data)
    }

    /// Checks that L1 transaction `tx` is canonical at the reference's position and carries
    /// the commitment.
    async fn check_on_l1(
        &self,
        reference: &DaReference,
        commitment: &AltDaCommitment,
        tx: B256,
    ) -> Result<(), DaError> {
        let l1 = self.l1.as_ref().ok_or_else(|| {
            DaError::InvalidReference(format!(
                "{}: the reference is an L1 posting but no `[da.l1]` is configured",
                self.kind
            ))
        })?;
        let posted = DaReference::l1_tx(reference.height, reference.index, tx);
        let calldata = l1.fetch(&posted).await?;
        if calldata != commitment.tx_data() {
            return Err(DaError::InvalidReference(format!(
                "{}: L1 transaction {tx} does not carry the referenced commitment",
                self.kind
            )));
        }
        Ok(())
    }

    async fn get(&self, height: u64, commitment: &AltDaCommitment) -> Result<Bytes, DaError> {
        let what = format!("{} GET", self.kind);
        let url = format!(
            "{}/get/0x{}",
            self.server_url,
            hex::encode(commitment.encode())
        );
        let response = self
            .http
            .get(&url)
            .timeout(self.get_timeout)
            .send()
            .await
            .map_err(|e| http::unreachable(&what, &e))?;
        match response.status() {
            StatusCode::NOT_FOUND => Err(DaError::NotFound { height }),
            status if status.is_success() => {
                http::read_limited(&what, response, self.max_size).await
            }
            _ => Err(http::status_error(&what, response).await),
        }
    }

    async fn finalized(&self) -> Result<u64, DaError> {
        match &self.l1 {
            Some(l1) => l1.finalized_height().await,
            None => Ok(0),
        }
    }
}

impl DaClient for AltDaClient {
    fn kind(&self) -> &'static str {
        self.kind
    }

    fn submit(&self, data: Bytes) -> DaFuture<'_, DaReference> {
        Box::pin(self.submit_data(data))
    }

    fn fetch<'a>(&'a self, reference: &'a DaReference) -> DaFuture<'a, Bytes> {
        Box::pin(self.fetch_data(reference))
    }

    fn finalized_height(&self) -> DaFuture<'_, u64> {
        Box::pin(self.finalized())
    }
}
