//! Altius data availability (DA).
//!
//! This crate defines the small, backend-agnostic [`DaClient`] trait the batcher and the
//! derivation side use to publish and retrieve opaque byte payloads, the [`DaReference`]
//! returned for every submission, the [`DaConfig`] that selects a backend from TOML at
//! run time, [`LocalDa`], the embedded redb-backed default backend, and
//! [`EthereumCalldataDa`], which sends each submission as calldata to the L1 batch inbox.
//!
//! DA backends know nothing about batches, channels or frames: they move bytes.
//!
//! ```
//! use std::sync::Arc;
//!
//! use altius_da::{DaClient, DaConfig};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! # let path = dir.path().join("da.redb");
//! let config: DaConfig = toml::from_str(&format!("kind = \"local\"\npath = {path:?}"))?;
//! let da: Arc<dyn DaClient> = config.build(None)?;
//! let reference = da.submit(b"frames".to_vec().into()).await?;
//! assert_eq!(da.fetch(&reference).await?.as_ref(), b"frames");
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod calldata;
mod client;
mod config;
mod error;
mod fallback;
mod local;
mod reference;

pub use calldata::{
    CalldataConfig, DEFAULT_CONFIRMATIONS, DEFAULT_MAX_FEE_PER_GAS_CAP_GWEI,
    DEFAULT_MAX_PRIORITY_FEE_CAP_GWEI, DEFAULT_RECEIPT_TIMEOUT_SECS, DEFAULT_RESUBMIT_AFTER_SECS,
    EthereumCalldataDa, MAX_CALLDATA_SUBMISSION_SIZE, batch_inbox_address,
};
pub use client::{DaClient, DaFuture};
pub use config::DaConfig;
pub use error::DaError;
pub use fallback::{FALLBACK_COMMITMENT_VERSION, FallbackConfig, FallbackDa, FallbackStatus};
pub use local::{LocalDa, MAX_LOCAL_SUBMISSION_SIZE};
pub use reference::{DaReference, KECCAK_COMMITMENT_VERSION, L1_TX_COMMITMENT_VERSION};
