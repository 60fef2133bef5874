//! The order in which a block builder should try the pending transactions.

use super::{sender_queue::SenderQueue, validate::PoolTx};
use alloy_primitives::Address;
use altius_engine::RecoveredTx;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

/// A sender's next transaction in the heap: highest tip first, then earliest arrival.
type Head = (u128, Reverse<u64>, usize);

/// All pending transactions, best first: repeatedly the sender whose next transaction pays
/// the highest tip at `base_fee`, each sender in nonce order. A transaction whose max fee is
/// below `base_fee` is not executable yet: it and its sender's later ones are left out.
pub(super) fn best_transactions(
    senders: &BTreeMap<Address, SenderQueue>,
    base_fee: u64,
) -> Vec<RecoveredTx> {
    let runs: Vec<Vec<&PoolTx>> = senders
        .values()
        .map(|queue| queue.pending().collect())
        .collect();
    let mut cursors = vec![0usize; runs.len()];
    let mut heap: BinaryHeap<Head> = BinaryHeap::new();
    for (idx, run) in runs.iter().enumerate() {
        push_head(&mut heap, run.first().copied(), idx, base_fee);
    }
    let mut out = Vec::with_capacity(runs.iter().map(Vec::len).sum());
    while let Some((_, _, idx)) = heap.pop() {
        let (Some(run), Some(cursor)) = (runs.get(idx), cursors.get_mut(idx)) else {
            continue;
        };
        let Some(tx) = run.get(*cursor) else { continue };
        out.push(tx.tx.clone());
        *cursor += 1;
        push_head(&mut heap, run.get(*cursor).copied(), idx, base_fee);
    }
    out
}

/// Puts a sender's next transaction in the heap if it is executable at `base_fee`.
fn push_head(heap: &mut BinaryHeap<Head>, tx: Option<&PoolTx>, idx: usize, base_fee: u64) {
    if let Some(tx) = tx
        && let Some(tip) = tx.effective_tip(base_fee)
    {
        heap.push((tip, Reverse(tx.seq), idx));
    }
}

/// All pending transactions, by sender and nonce.
pub(super) fn pending_transactions(senders: &BTreeMap<Address, SenderQueue>) -> Vec<RecoveredTx> {
    senders
        .values()
        .flat_map(SenderQueue::pending)
        .map(|tx| tx.tx.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mempool::test_utils::{key, pool_tx};

    fn senders(txs: &[(u8, u64, u128, u128)]) -> BTreeMap<Address, SenderQueue> {
        let mut map = BTreeMap::new();
        for (seq, &(k, nonce, fee, tip)) in txs.iter().enumerate() {
            let mut tx = pool_tx(&key(k), nonce, fee, tip);
            tx.seq = seq as u64;
            let queue = map
                .entry(tx.tx.sender)
                .or_insert_with(|| SenderQueue::new(0));
            queue.insert(tx);
        }
        map
    }

    fn order(map: &BTreeMap<Address, SenderQueue>, base_fee: u64) -> Vec<(Address, u64)> {
        best_transactions(map, base_fee)
            .into_iter()
            .map(|tx| (tx.sender, alloy_consensus::Transaction::nonce(&tx.tx)))
            .collect()
    }

    #[test]
    fn highest_tip_first_with_nonce_order() {
        let map = senders(&[
            (1, 0, 100, 1),
            (1, 1, 100, 50),
            (2, 0, 100, 5),
            (2, 1, 100, 2),
        ]);
        let (a, b) = (key(1).address(), key(2).address());
        assert_eq!(order(&map, 10), vec![(b, 0), (b, 1), (a, 0), (a, 1)]);
    }

    #[test]
    fn tip_is_capped_by_fee_minus_base_fee() {
        // At base fee 95, sender 1 pays min(20, 5) = 5 and sender 2 pays 8.
        let map = senders(&[(1, 0, 100, 20), (2, 0, 200, 8)]);
        let (a, b) = (key(1).address(), key(2).address());
        assert_eq!(order(&map, 95), vec![(b, 0), (a, 0)]);
        assert_eq!(order(&map, 0), vec![(a, 0), (b, 0)]);
    }

    #[test]
    fn not_executable_stops_the_sender() {
        let map = senders(&[(1, 0, 100, 1), (1, 1, 5, 1), (1, 2, 100, 1), (2, 0, 9, 1)]);
        let a = key(1).address();
        assert_eq!(order(&map, 10), vec![(a, 0)]);
    }

    #[test]
    fn ties_by_arrival_and_queued_left_out() {
        let map = senders(&[(2, 0, 100, 3), (1, 0, 100, 3), (3, 5, 100, 9)]);
        let (a, b) = (key(1).address(), key(2).address());
        assert_eq!(order(&map, 1), vec![(b, 0), (a, 0)]);
        assert_eq!(pending_transactions(&map).len(), 2);
    }
}
