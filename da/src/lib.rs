//! Altius data availability (DA).
//!
//! This crate defines the small, backend-agnostic [`DaClient`] trait the batcher and the
//! derivation side use to publish and retrieve opaque byte payloads, the [`DaReference`]
//! returned for every submission, the [`DaConfig`] that selects a backend from TOML at
//! run time, [`LocalDa`], the embedded redb-backed default backend,
//! [`EthereumCalldataDa`], which sends each submission as calldata to the L1 batch inbox,
//! [`EthereumBlobsDa`], which sends it in EIP-4844 blobs, [`AltDaClient`], a client of an
//! OP alt-DA server or an eigenda-proxy that may post each commitment to L1, and
//! [`CelestiaDa`], blobs through a celestia-node.
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

mod altda;
mod blobs;
mod calldata;
mod celestia;
mod client;
mod config;
mod error;
mod fallback;
mod http;
mod local;
mod reference;

pub use altda::{
    AltDaClient, AltDaCommitment, AltDaConfig, CELESTIA_LAYER_BYTE, DEFAULT_GET_TIMEOUT_SECS,
    DEFAULT_MAX_GENERIC_SUBMISSION_SIZE, DEFAULT_PUT_TIMEOUT_SECS, EIGENDA_LAYER_BYTE,
    EigenDaConfig, GENERIC_COMMITMENT_TYPE, KECCAK_COMMITMENT_TYPE, MAX_KECCAK_INPUT_SIZE,
    TX_DATA_VERSION_1,
};
pub use blobs::{
    BLOB_ENCODING_VERSION, BLOB_SIZE, BLOB_TX_COMMITMENT_VERSION, BlobsConfig,
    DEFAULT_L1_SLOT_SECONDS, DEFAULT_MAX_FEE_PER_BLOB_GAS_CAP_GWEI, EthereumBlobsDa,
    MAX_BLOB_DATA_SIZE, MAX_BLOB_FRAME_SIZE, MAX_BLOBS_PER_TX, SidecarFormat, decode_blob,
    encode_blob,
};
pub use calldata::{
    CalldataConfig, DEFAULT_CONFIRMATIONS, DEFAULT_MAX_FEE_PER_GAS_CAP_GWEI,
    DEFAULT_MAX_PRIORITY_FEE_CAP_GWEI, DEFAULT_RECEIPT_TIMEOUT_SECS, DEFAULT_RESUBMIT_AFTER_SECS,
    EthereumCalldataDa, MAX_CALLDATA_SUBMISSION_SIZE, batch_inbox_address,
};
pub use celestia::{
    CelestiaConfig, CelestiaDa, DEFAULT_CELESTIA_MAX_BLOB_SIZE, DEFAULT_CELESTIA_TIMEOUT_SECS,
    GasPrice,
};
pub use client::{DaClient, DaFuture};
pub use config::DaConfig;
pub use error::DaError;
pub use fallback::{FALLBACK_COMMITMENT_VERSION, FallbackConfig, FallbackDa, FallbackStatus};
pub use local::{LocalDa, MAX_LOCAL_SUBMISSION_SIZE};
pub use reference::{DaReference, KECCAK_COMMITMENT_VERSION, L1_TX_COMMITMENT_VERSION};
