//! [`L2Head`]: the node's current L2 head, shared with [`crate::LocalSettlement`].

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

/// Sentinel stored while no head is known (block `u64::MAX` is never reached).
const UNKNOWN: u64 = u64::MAX;

/// A cheap, cloneable handle on the number of the node's latest L2 block.
///
/// The node updates it as blocks are sealed; [`crate::LocalSettlement`] reads it to reject
/// proposals for blocks that do not exist yet, as the L1 contract does with timestamps.
#[derive(Debug, Clone)]
pub struct L2Head(Arc<AtomicU64>);

impl Default for L2Head {
    fn default() -> Self {
        Self(Arc::new(AtomicU64::new(UNKNOWN)))
    }
}

impl L2Head {
    /// A handle with no head known yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A handle whose head is `number`.
    pub fn at(number: u64) -> Self {
        let head = Self::new();
        head.set(number);
        head
    }

    /// Records `number` as the latest L2 block. `u64::MAX` clears the head.
    pub fn set(&self, number: u64) {
        self.0.store(number, Ordering::Release);
    }

    /// The latest L2 block number, if known.
    pub fn get(&self) -> Option<u64> {
        Some(self.0.load(Ordering::Acquire)).filter(|n| *n != UNKNOWN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_head() {
        let head = L2Head::new();
        assert_eq!(head.get(), None);
        let other = head.clone();
        other.set(7);
        assert_eq!(head.get(), Some(7));
        assert_eq!(L2Head::at(3).get(), Some(3));
    }
}
