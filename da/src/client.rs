//! The [`DaClient`] trait.

use std::{fmt, future::Future, pin::Pin};

use alloy_primitives::Bytes;

use crate::{DaError, DaReference};

/// The boxed future returned by [`DaClient`] methods.
///
/// Boxing keeps the trait dyn-compatible so the node can hold an `Arc<dyn DaClient>` chosen
/// from configuration at run time.
pub type DaFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, DaError>> + Send + 'a>>;

/// A data availability backend: publishes opaque bytes and reads them back.
///
/// Implementations must be cheap to share (`Send + Sync`) and must never panic on input.
pub trait DaClient: Send + Sync + fmt::Debug {
    /// A short, stable name for the backend (`"local"`, `"ethereum-blobs"`, ...).
    fn kind(&self) -> &'static str;

    /// Publishes `data` and returns where it landed.
    fn submit(&self, data: Bytes) -> DaFuture<'_, DaReference>;

    /// Retrieves the data behind `reference`, verifying it against the commitment.
    fn fetch<'a>(&'a self, reference: &'a DaReference) -> DaFuture<'a, Bytes>;

    /// The highest DA height that can no longer be reorged: data referenced at or below it
    /// is final. Never decreases on a healthy backend; 0 when nothing is final yet.
    /// An unreachable backend is the retryable [`DaError::Unavailable`].
    fn finalized_height(&self) -> DaFuture<'_, u64>;

    /// [`Self::finalized_height`] of the layer holding `reference`: the same for every
    /// reference, except for clients that put data on more than one layer (such as
    /// [`crate::FallbackDa`]), whose references with different commitment versions may
    /// live on layers with unrelated heights.
    fn finalized_height_for<'a>(&'a self, reference: &'a DaReference) -> DaFuture<'a, u64> {
        let _ = reference;
        self.finalized_height()
    }
}
