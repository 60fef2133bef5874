//! [`SubmitterStats`]: live figures of the submitter for the node's metrics.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

#[derive(Debug, Default)]
struct Inner {
    backlog_bytes: AtomicU64,
    pending_frames: AtomicU64,
    last_da_height: AtomicU64,
    confirmed_block: AtomicU64,
    rewinds: AtomicU64,
}

/// What the submitter is doing, readable from other tasks (clones share the figures).
#[derive(Debug, Clone, Default)]
pub struct SubmitterStats(Arc<Inner>);

impl SubmitterStats {
    /// All figures at 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes of L2 transaction data in blocks the submitter has taken in (into the open
    /// channel or a channel being submitted) that are not confirmed on the DA layer yet.
    pub fn backlog_bytes(&self) -> u64 {
        self.0.backlog_bytes.load(Ordering::Relaxed)
    }

    /// Frames of the channel being submitted that the DA layer has not accepted yet.
    pub fn pending_frames(&self) -> u64 {
        self.0.pending_frames.load(Ordering::Relaxed)
    }

    /// The highest DA height holding a confirmed frame (0 before any).
    pub fn last_da_height(&self) -> u64 {
        self.0.last_da_height.load(Ordering::Relaxed)
    }

    /// The last L2 block whose data is confirmed on the DA layer.
    pub fn confirmed_block(&self) -> u64 {
        self.0.confirmed_block.load(Ordering::Relaxed)
    }

    /// How many times the submitter rewound because confirmed data left the DA layer.
    pub fn rewinds(&self) -> u64 {
        self.0.rewinds.load(Ordering::Relaxed)
    }

    pub(crate) fn set_backlog_bytes(&self, bytes: u64) {
        self.0.backlog_bytes.store(bytes, Ordering::Relaxed);
    }

    pub(crate) fn set_pending_frames(&self, frames: u64) {
        self.0.pending_frames.store(frames, Ordering::Relaxed);
    }

    pub(crate) fn set_last_da_height(&self, height: u64) {
        self.0.last_da_height.store(height, Ordering::Relaxed);
    }

    pub(crate) fn set_confirmed_block(&self, block: u64) {
        self.0.confirmed_block.store(block, Ordering::Relaxed);
    }

    pub(crate) fn count_rewind(&self) {
        self.0.rewinds.fetch_add(1, Ordering::Relaxed);
    }
}
