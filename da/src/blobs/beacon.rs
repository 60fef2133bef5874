//! Reading blobs back from an L1 beacon node: `GET /eth/v1/beacon/blobs/{slot}`, the slot
//! of an L1 block being `(timestamp - genesis_time) / slot_seconds`.

use std::time::Duration;

use alloy_primitives::Bytes;
use reqwest::{StatusCode, Url};
use serde::Deserialize;
use tokio::sync::OnceCell;

use crate::DaError;

/// How long one beacon API request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A beacon API client for blobs.
#[derive(Debug, Clone)]
pub(super) struct BeaconClient {
    http: reqwest::Client,
    base: Url,
    slot_seconds: u64,
    genesis_time: std::sync::Arc<OnceCell<u64>>,
}

#[derive(Deserialize)]
struct Envelope<T> {
    data: T,
}

#[derive(Deserialize)]
struct Genesis {
    genesis_time: String,
}

impl BeaconClient {
    /// A client of the beacon API at `url` on a chain with `slot_seconds`-second slots.
    pub(super) fn new(url: &str, slot_seconds: u64) -> Result<Self, DaError> {
        let base = url
            .parse()
            .map_err(|e| DaError::InvalidConfig(format!("invalid `l1_beacon_url` {url:?}: {e}")))?;
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| DaError::Backend(format!("building the beacon HTTP client: {e}")))?;
        Ok(Self {
            http,
            base,
            slot_seconds,
            genesis_time: Default::default(),
        })
    }

    /// Every blob of the beacon block of the L1 block with `timestamp`.
    pub(super) async fn blobs_at(&self, timestamp: u64) -> Result<Vec<Bytes>, DaError> {
        let genesis = *self
            .genesis_time
            .get_or_try_init(|| self.read_genesis_time())
            .await?;
        let since = timestamp.checked_sub(genesis).ok_or_else(|| {
            DaError::Backend(format!(
                "L1 block time {timestamp} precedes the beacon genesis {genesis}"
            ))
        })?;
        let slot = since / self.slot_seconds;
        let blobs: Vec<Bytes> = self.get(&format!("eth/v1/beacon/blobs/{slot}")).await?;
        Ok(blobs)
    }

    async fn read_genesis_time(&self) -> Result<u64, DaError> {
        let genesis: Genesis = self.get("eth/v1/beacon/genesis").await?;
        genesis.genesis_time.parse().map_err(|_| {
            DaError::Backend(format!(
                "beacon genesis_time {:?} is not a number",
                genesis.genesis_time
            ))
        })
    }

    /// `GET {base}/{path}` and the `data` of its JSON answer.
    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, DaError> {
        let url = self.base.join(path).map_err(|e| {
            DaError::InvalidConfig(format!("beacon URL {} + {path}: {e}", self.base))
        })?;
        let response = self
            .http
            .get(url.clone())
            .send()
            .await
            .map_err(|e| DaError::Unavailable(format!("GET {url}: {e}")))?;
        let status = response.status();
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            return Err(DaError::Unavailable(format!("GET {url}: HTTP {status}")));
        }
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            return Err(DaError::Backend(format!(
                "GET {url}: HTTP {status}: {}",
                body.chars().take(200).collect::<String>()
            )));
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| DaError::Unavailable(format!("GET {url}: {e}")))?;
        serde_json::from_slice::<Envelope<T>>(&body)
            .map(|e| e.data)
            .map_err(|e| DaError::Backend(format!("GET {url}: malformed answer: {e}")))
    }
}
