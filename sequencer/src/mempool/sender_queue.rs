//! The transactions of one sender, by nonce.
//!
//! The split into pending and queued is not stored: the pending run is the contiguous run of
//! nonces starting at the account nonce, everything after the first gap is queued. Filling
//! a gap therefore promotes the queued transactions behind it at once, and removing a
//! transaction demotes the ones behind it.

use super::validate::PoolTx;
use std::collections::BTreeMap;

/// One sender's pooled transactions and the account nonce they were last checked against.
#[derive(Debug)]
pub(super) struct SenderQueue {
    /// The account nonce: the first nonce the next block can include.
    state_nonce: u64,
    /// The transactions by nonce; none is below `state_nonce`.
    txs: BTreeMap<u64, PoolTx>,
}

impl SenderQueue {
    /// An empty queue for an account with nonce `state_nonce`.
    pub(super) fn new(state_nonce: u64) -> Self {
        Self {
            state_nonce,
            txs: BTreeMap::new(),
        }
    }

    /// The account nonce the queue was last checked against.
    pub(super) fn state_nonce(&self) -> u64 {
        self.state_nonce
    }

    /// Sets the account nonce and returns the transactions below it (mined or replaced
    /// on chain), which are removed.
    pub(super) fn set_state_nonce(&mut self, nonce: u64) -> Vec<PoolTx> {
        self.state_nonce = nonce;
        let kept = self.txs.split_off(&nonce);
        std::mem::replace(&mut self.txs, kept)
            .into_values()
            .collect()
    }

    /// Number of transactions.
    pub(super) fn len(&self) -> usize {
        self.txs.len()
    }

    /// True when the queue holds no transaction.
    pub(super) fn is_empty(&self) -> bool {
        self.txs.is_empty()
    }

    /// The transaction with `nonce`.
    pub(super) fn get(&self, nonce: u64) -> Option<&PoolTx> {
        self.txs.get(&nonce)
    }

    /// Inserts `tx`, returning the one it replaces.
    pub(super) fn insert(&mut self, tx: PoolTx) -> Option<PoolTx> {
        self.txs.insert(tx.nonce, tx)
    }

    /// Removes the transaction with `nonce`.
    pub(super) fn remove(&mut self, nonce: u64) -> Option<PoolTx> {
        self.txs.remove(&nonce)
    }

    /// The transaction with the highest nonce: the only one that can leave without opening
    /// a gap.
    pub(super) fn last(&self) -> Option<&PoolTx> {
        self.txs.last_key_value().map(|(_, tx)| tx)
    }

    /// The next nonce after the contiguous run starting at `from`.
    pub(super) fn next_nonce_from(&self, from: u64) -> u64 {
        let mut next = from;
        for nonce in self.txs.range(from..).map(|(nonce, _)| *nonce) {
            if nonce != next {
                break;
            }
            next = next.saturating_add(1);
        }
        next
    }

    /// The first nonce after the pending run.
    pub(super) fn pending_end(&self) -> u64 {
        self.next_nonce_from(self.state_nonce)
    }

    /// True when the transaction with `nonce` is in the pending run.
    pub(super) fn is_pending(&self, nonce: u64) -> bool {
        nonce >= self.state_nonce && nonce < self.pending_end()
    }

    /// The pending transactions in nonce order.
    pub(super) fn pending(&self) -> impl Iterator<Item = &PoolTx> {
        self.txs
            .range(self.state_nonce..self.pending_end())
            .map(|(_, tx)| tx)
    }

    /// Number of pending transactions.
    pub(super) fn pending_count(&self) -> usize {
        self.pending().count()
    }

    /// Removes every transaction `keep` rejects and returns them.
    pub(super) fn drain_unless(&mut self, mut keep: impl FnMut(&PoolTx) -> bool) -> Vec<PoolTx> {
        let dropped: Vec<u64> = self
            .txs
            .values()
            .filter(|tx| !keep(tx))
            .map(|tx| tx.nonce)
            .collect();
        dropped
            .into_iter()
            .filter_map(|nonce| self.txs.remove(&nonce))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mempool::test_utils::{key, pool_tx};

    fn queue(state_nonce: u64, nonces: &[u64]) -> SenderQueue {
        let mut q = SenderQueue::new(state_nonce);
        for &n in nonces {
            assert!(q.insert(pool_tx(&key(1), n, 10, 1)).is_none());
        }
        q
    }

    #[test]
    fn pending_is_the_contiguous_run() {
        let q = queue(3, &[3, 4, 6, 7]);
        assert_eq!(q.pending_end(), 5);
        assert_eq!(q.pending_count(), 2);
        assert!(q.is_pending(4));
        assert!(!q.is_pending(6));
        assert_eq!(q.pending().map(|t| t.nonce).collect::<Vec<_>>(), vec![3, 4]);
        assert_eq!(q.next_nonce_from(6), 8);
        assert_eq!(q.next_nonce_from(0), 0);
    }

    #[test]
    fn gap_at_the_start_means_nothing_pending() {
        let q = queue(2, &[3, 4]);
        assert_eq!(q.pending_count(), 0);
        assert_eq!(q.pending_end(), 2);
    }

    #[test]
    fn filling_the_gap_promotes() {
        let mut q = queue(0, &[0, 2, 3]);
        assert_eq!(q.pending_count(), 1);
        q.insert(pool_tx(&key(1), 1, 10, 1));
        assert_eq!(q.pending_count(), 4);
        q.remove(1);
        assert_eq!(q.pending_count(), 1);
    }

    #[test]
    fn advancing_the_state_nonce_drops_mined() {
        let mut q = queue(0, &[0, 1, 2, 4]);
        let mined = q.set_state_nonce(2);
        assert_eq!(
            mined.iter().map(|t| t.nonce).collect::<Vec<_>>(),
            vec![0, 1]
        );
        assert_eq!(q.len(), 2);
        assert_eq!(q.pending_count(), 1);
        assert_eq!(q.last().map(|t| t.nonce), Some(4));
    }

    #[test]
    fn drain_unless_removes_rejected() {
        let mut q = queue(0, &[0, 1, 2]);
        let dropped = q.drain_unless(|t| t.nonce != 1);
        assert_eq!(dropped.len(), 1);
        assert_eq!(
            (q.get(0).is_some(), q.get(1).is_some(), q.len()),
            (true, false, 2)
        );
        assert!(!q.is_empty());
    }
}
