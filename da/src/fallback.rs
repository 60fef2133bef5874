//! [`FallbackDa`]: posts to a second DA layer (Ethereum calldata) while the configured one
//! has been failing for longer than a set time, and goes back once it works again.

use std::{
    fmt,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use alloy_primitives::Bytes;
use serde::{Deserialize, Serialize};
use tracing::{info, warn};

use crate::{CalldataConfig, DaClient, DaError, DaFuture, DaReference, EthereumCalldataDa};

/// Commitment version of a reference to data on the fallback layer: `0xfe ++` the fallback
/// backend's own commitment.
pub const FALLBACK_COMMITMENT_VERSION: u8 = 0xfe;

/// The `[da_fallback]` section: off unless `after_secs` is set.
///
/// ```toml
/// [da_fallback]
/// after_secs = 600
/// retry_primary_secs = 60
/// [da_fallback.ethereum_calldata]
/// l1_rpc_url = "http://127.0.0.1:8545"
/// l2_chain_id = 4242
/// batcher_key_env = "ALTIUS_BATCHER_KEY"
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FallbackConfig {
    /// Seconds the configured DA layer must keep failing before submissions go to the
    /// fallback; 0 (the default) turns the fallback off.
    pub after_secs: u64,
    /// While on the fallback, the configured DA layer is tried again this often (seconds;
    /// default: `after_secs`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_primary_secs: Option<u64>,
    /// The fallback layer: Ethereum calldata (the fields of `kind = "ethereum-calldata"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ethereum_calldata: Option<CalldataConfig>,
}

impl FallbackConfig {
    /// Whether a fallback is configured.
    pub const fn is_enabled(&self) -> bool {
        self.after_secs > 0
    }

    /// Checks the values without touching the network or disk.
    pub fn validate(&self) -> Result<(), DaError> {
        match (&self.ethereum_calldata, self.is_enabled()) {
            (Some(calldata), _) => calldata.validate(),
            (None, true) => Err(DaError::InvalidConfig(
                "da_fallback.after_secs is set but da_fallback.ethereum_calldata is missing".into(),
            )),
            (None, false) => Ok(()),
        }
    }

    /// `primary` wrapped in a [`FallbackDa`] when the fallback is on, else `primary` as
    /// it is; the status says whether the fallback is in use (`None` when off).
    pub fn wrap(
        &self,
        primary: Arc<dyn DaClient>,
    ) -> Result<(Arc<dyn DaClient>, Option<FallbackStatus>), DaError> {
        self.validate()?;
        let Some(calldata) = self
            .ethereum_calldata
            .as_ref()
            .filter(|_| self.is_enabled())
        else {
            return Ok((primary, None));
        };
        let fallback = Arc::new(EthereumCalldataDa::connect(calldata)?);
        let after = Duration::from_secs(self.after_secs);
        let retry = Duration::from_secs(self.retry_primary_secs.unwrap_or(self.after_secs));
        let da = FallbackDa::new(primary, fallback, after, retry);
        let status = da.status();
        Ok((Arc::new(da), Some(status)))
    }
}

/// Whether a [`FallbackDa`] currently posts to its fallback layer (clones share it).
#[derive(Debug, Clone, Default)]
pub struct FallbackStatus(Arc<AtomicBool>);

impl FallbackStatus {
    /// True while submissions go to the fallback layer.
    pub fn is_active(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

#[derive(Debug)]
struct State {
    /// When the current run of primary failures began.
    failing_since: Option<Instant>,
    /// When the primary was last tried while on the fallback.
    last_probe: Option<Instant>,
}

/// A [`DaClient`] that submits to `primary`, or to `fallback` once `primary` has failed
/// for `after` without a success in between.
///
/// While on the fallback, the primary is tried again every `retry_primary`; its first
/// success switches back. Each submission lands on exactly one layer (the one that
/// accepted it), so nothing is lost or posted twice by the switch. References to fallback
/// data are tagged ([`FALLBACK_COMMITMENT_VERSION`]) and fetched from the fallback;
/// [`DaClient::finalized_height_for`] answers per layer. Switches are logged at `warn`
/// (to the fallback) and `info` (back).
pub struct FallbackDa {
    primary: Arc<dyn DaClient>,
    fallback: Arc<dyn DaClient>,
    after: Duration,
    retry_primary: Duration,
    state: tokio::sync::Mutex<State>,
    status: FallbackStatus,
}

impl fmt::Debug for FallbackDa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FallbackDa")
            .field("primary", &self.primary)
            .field("fallback", &self.fallback)
            .field("after", &self.after)
            .field("active", &self.status.is_active())
            .finish_non_exhaustive()
    }
}

impl FallbackDa {
    /// Wraps `primary`; `fallback` takes over after `after` of failures.
    pub fn new(
        primary: Arc<dyn DaClient>,
        fallback: Arc<dyn DaClient>,
        after: Duration,
        retry_primary: Duration,
    ) -> Self {
        Self {
            primary,
            fallback,
            after,
            retry_primary,
            state: tokio::sync::Mutex::new(State {
                failing_since: None,
                last_probe: None,
            }),
            status: FallbackStatus::default(),
        }
    }

    /// A handle on whether the fallback is in use.
    pub fn status(&self) -> FallbackStatus {
        self.status.clone()
    }

    async fn submit_data(&self, data: Bytes) -> Result<DaReference, DaError> {
        let mut state = self.state.lock().await;
        let active = self.status.is_active();
        let probe_due = state
            .last_probe
            .is_none_or(|t| t.elapsed() >= self.retry_primary);
        if !active || probe_due {
            if active {
                state.last_probe = Some(Instant::now());
            }
            match self.primary.submit(data.clone()).await {
                Ok(reference) => {
                    state.failing_since = None;
                    if self.status.0.swap(false, Ordering::Relaxed) {
                        info!(target: "altius::da", primary = self.primary.kind(), "the DA layer works again: leaving the fallback");
                    }
                    return Ok(reference);
                }
                Err(e) => {
                    let since = *state.failing_since.get_or_insert_with(Instant::now);
                    if !active && since.elapsed() < self.after {
                        return Err(e);
                    }
                    if !active {
                        warn!(target: "altius::da", primary = self.primary.kind(), fallback = self.fallback.kind(), failing_secs = since.elapsed().as_secs(), error = %e, "the DA layer keeps failing: posting to the fallback");
                        self.status.0.store(true, Ordering::Relaxed);
                        state.last_probe = Some(Instant::now());
                    }
                }
            }
        }
        let reference = self.fallback.submit(data).await?;
        Ok(tag(reference))
    }

    /// The layer holding `reference`, and the reference as that layer knows it.
    fn route(&self, reference: &DaReference) -> (&dyn DaClient, DaReference) {
        if reference.version() == Some(FALLBACK_COMMITMENT_VERSION) {
            let inner = DaReference::new(
                reference.height,
                reference.index,
                Bytes::copy_from_slice(reference.body()),
            );
            (self.fallback.as_ref(), inner)
        } else {
            (self.primary.as_ref(), reference.clone())
        }
    }
}

fn tag(reference: DaReference) -> DaReference {
    let mut commitment = Vec::with_capacity(1 + reference.commitment.len());
    commitment.push(FALLBACK_COMMITMENT_VERSION);
    commitment.extend_from_slice(&reference.commitment);
    DaReference::new(reference.height, reference.index, commitment.into())
}

impl DaClient for FallbackDa {
    fn kind(&self) -> &'static str {
        self.primary.kind()
    }

    fn submit(&self, data: Bytes) -> DaFuture<'_, DaReference> {
        Box::pin(self.submit_data(data))
    }

    fn fetch<'a>(&'a self, reference: &'a DaReference) -> DaFuture<'a, Bytes> {
        let (layer, inner) = self.route(reference);
        Box::pin(async move { layer.fetch(&inner).await })
    }

    fn finalized_height(&self) -> DaFuture<'_, u64> {
        self.primary.finalized_height()
    }

    fn finalized_height_for<'a>(&'a self, reference: &'a DaReference) -> DaFuture<'a, u64> {
        let (layer, inner) = self.route(reference);
        Box::pin(async move { layer.finalized_height_for(&inner).await })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LocalDa;

    /// A local store that fails every call while `down`.
    #[derive(Debug)]
    struct Switchable {
        inner: LocalDa,
        down: AtomicBool,
    }

    impl DaClient for Switchable {
        fn kind(&self) -> &'static str {
            "switchable"
        }
        fn submit(&self, data: Bytes) -> DaFuture<'_, DaReference> {
            if self.down.load(Ordering::SeqCst) {
                return Box::pin(async { Err(DaError::Unavailable("down".into())) });
            }
            self.inner.submit(data)
        }
        fn fetch<'a>(&'a self, reference: &'a DaReference) -> DaFuture<'a, Bytes> {
            self.inner.fetch(reference)
        }
        fn finalized_height(&self) -> DaFuture<'_, u64> {
            Box::pin(async { Ok(1_000) })
        }
    }

    fn local(dir: &tempfile::TempDir, name: &str) -> LocalDa {
        LocalDa::open(dir.path().join(name)).unwrap()
    }

    #[tokio::test]
    async fn switches_after_the_delay_and_back_when_the_primary_recovers() {
        let dir = tempfile::tempdir().unwrap();
        let primary = Arc::new(Switchable {
            inner: local(&dir, "p.redb"),
            down: AtomicBool::new(true),
        });
        let fallback = Arc::new(local(&dir, "f.redb"));
        let after = Duration::from_millis(50);
        let da = FallbackDa::new(primary.clone(), fallback.clone(), after, Duration::ZERO);
        let status = da.status();
        let err = da.submit(Bytes::from_static(b"a")).await.unwrap_err();
        assert!(
            err.is_retryable(),
            "before the delay the failure is reported"
        );
        assert!(!status.is_active());
        tokio::time::sleep(after).await;
        let on_fallback = da.submit(Bytes::from_static(b"b")).await.unwrap();
        assert!(status.is_active());
        assert_eq!(on_fallback.version(), Some(FALLBACK_COMMITMENT_VERSION));
        assert_eq!(da.fetch(&on_fallback).await.unwrap().as_ref(), b"b");
        assert_eq!(
            fallback.latest_height().unwrap(),
            Some(1),
            "stored once, there"
        );
        // Per-layer finality: the fallback (local) is final at its latest height.
        assert_eq!(da.finalized_height_for(&on_fallback).await.unwrap(), 1);
        assert_eq!(da.finalized_height().await.unwrap(), 1_000);

        primary.down.store(false, Ordering::SeqCst);
        let back = da.submit(Bytes::from_static(b"c")).await.unwrap();
        assert!(
            !status.is_active(),
            "the primary's first success switches back"
        );
        assert_ne!(back.version(), Some(FALLBACK_COMMITMENT_VERSION));
        assert_eq!(da.fetch(&back).await.unwrap().as_ref(), b"c");
        assert_eq!(da.finalized_height_for(&back).await.unwrap(), 1_000);
        assert_eq!(fallback.latest_height().unwrap(), Some(1));
        assert_eq!(primary.inner.latest_height().unwrap(), Some(1));
    }

    #[tokio::test]
    async fn on_the_fallback_the_primary_is_retried_only_every_retry_interval() {
        let dir = tempfile::tempdir().unwrap();
        let primary = Arc::new(Switchable {
            inner: local(&dir, "p.redb"),
            down: AtomicBool::new(true),
        });
        let da = FallbackDa::new(
            primary.clone(),
            Arc::new(local(&dir, "f.redb")),
            Duration::ZERO,
            Duration::from_secs(3600),
        );
        da.submit(Bytes::from_static(b"a")).await.unwrap();
        assert!(da.status().is_active());
        primary.down.store(false, Ordering::SeqCst);
        let r = da.submit(Bytes::from_static(b"b")).await.unwrap();
        assert_eq!(
            r.version(),
            Some(FALLBACK_COMMITMENT_VERSION),
            "no probe yet"
        );
        assert_eq!(primary.inner.latest_height().unwrap(), None);
    }

    #[test]
    fn config_defaults_off_and_needs_a_layer_when_on() {
        let off: FallbackConfig = toml::from_str("").unwrap();
        assert!(!off.is_enabled());
        off.validate().unwrap();
        let missing: FallbackConfig = toml::from_str("after_secs = 5").unwrap();
        assert!(matches!(missing.validate(), Err(DaError::InvalidConfig(_))));
        let on: FallbackConfig = toml::from_str(
            "after_secs = 5\n[ethereum_calldata]\nl1_rpc_url = \"http://l1\"\nl2_chain_id = 1\nbatcher_key_env = \"K\"",
        )
        .unwrap();
        on.validate().unwrap();
        assert!(toml::from_str::<FallbackConfig>("bogus = 1").is_err());
    }
}
