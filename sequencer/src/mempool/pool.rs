//! The pool's data behind the lock: per-sender queues, the hash index, limits and eviction.

use super::{MempoolConfig, PoolError, sender_queue::SenderQueue, validate::PoolTx};
use alloy_primitives::{Address, TxHash, U256};
use altius_state::Account;
use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};

/// All pooled transactions.
#[derive(Debug)]
pub(super) struct PoolInner {
    /// Limits and price rules.
    config: MempoolConfig,
    /// The queues by sender (ordered so that every listing is deterministic).
    senders: BTreeMap<Address, SenderQueue>,
    /// Sender and nonce of every pooled transaction.
    by_hash: HashMap<TxHash, (Address, u64)>,
    /// Arrival counter.
    next_seq: u64,
}

impl PoolInner {
    /// An empty pool.
    pub(super) fn new(config: MempoolConfig) -> Self {
        Self {
            config,
            senders: BTreeMap::new(),
            by_hash: HashMap::new(),
            next_seq: 0,
        }
    }

    /// The queues by sender.
    pub(super) fn senders(&self) -> &BTreeMap<Address, SenderQueue> {
        &self.senders
    }

    /// True when a transaction with `hash` is pooled.
    pub(super) fn contains(&self, hash: &TxHash) -> bool {
        self.by_hash.contains_key(hash)
    }

    /// The pooled transaction with `hash`.
    pub(super) fn get(&self, hash: &TxHash) -> Option<&PoolTx> {
        let (sender, nonce) = self.by_hash.get(hash)?;
        self.senders.get(sender)?.get(*nonce)
    }

    /// Number of pooled transactions.
    pub(super) fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// Adds a transaction that passed validation against an account with nonce
    /// `state_nonce`. Returns the transactions it replaced or evicted.
    pub(super) fn insert(
        &mut self,
        mut tx: PoolTx,
        state_nonce: u64,
        base_fee: u64,
    ) -> Result<Vec<PoolTx>, PoolError> {
        if self.contains(&tx.hash()) {
            return Err(PoolError::AlreadyKnown);
        }
        let mut removed = self.advance_sender(tx.tx.sender, state_nonce);
        removed.extend(self.make_room_in_queue(&tx)?);
        tx.seq = self.next_seq;
        self.next_seq += 1;
        let hash = tx.hash();
        removed.extend(self.put(tx, state_nonce));
        removed.extend(self.enforce_max_total(hash, base_fee)?);
        Ok(removed)
    }

    /// Raises the stored nonce of `sender` to `state_nonce` (never lowers it: the caller's
    /// state may be older than the last block the pool saw) and drops what falls below it.
    fn advance_sender(&mut self, sender: Address, state_nonce: u64) -> Vec<PoolTx> {
        let Some(queue) = self.senders.get_mut(&sender) else {
            return Vec::new();
        };
        if state_nonce <= queue.state_nonce() {
            return Vec::new();
        }
        let mined = queue.set_state_nonce(state_nonce);
        if queue.is_empty() {
            self.senders.remove(&sender);
        }
        self.unindex(&mined);
        mined
    }

    /// The sender-level rules for a new `tx`: its nonce against the stored account nonce,
    /// the replacement price bump, and the account limit, at which a nonce below the
    /// sender's highest takes that highest one's slot (returned).
    fn make_room_in_queue(&mut self, tx: &PoolTx) -> Result<Option<PoolTx>, PoolError> {
        let sender = tx.tx.sender;
        let Some(queue) = self.senders.get(&sender) else {
            return match self.config.max_account_slots {
                0 => Err(PoolError::AccountLimitExceeded),
                _ => Ok(None),
            };
        };
        if tx.nonce < queue.state_nonce() {
            return Err(PoolError::NonceTooLow);
        }
        if let Some(old) = queue.get(tx.nonce) {
            return check_replacement(old, tx, self.config.price_bump_percent).map(|()| None);
        }
        if queue.len() < self.config.max_account_slots {
            return Ok(None);
        }
        match queue.last() {
            Some(last) if last.nonce > tx.nonce => Ok(self.pop_last(sender)),
            _ => Err(PoolError::AccountLimitExceeded),
        }
    }

    /// Evicts while the pool is over `max_total`; fails with [`PoolError::TxPoolFull`] if
    /// the new transaction `new` is the one to go.
    fn enforce_max_total(&mut self, new: TxHash, base_fee: u64) -> Result<Vec<PoolTx>, PoolError> {
        let mut evicted = Vec::new();
        while self.len() > self.config.max_total {
            let Some(tx) = self.evict_cheapest(base_fee) else {
                break;
            };
            if tx.hash() == new {
                return Err(PoolError::TxPoolFull);
            }
            evicted.push(tx);
        }
        Ok(evicted)
    }

    /// Stores `tx` in its sender's queue (created for an account with nonce `state_nonce`
    /// if absent) and the index; returns the transaction it replaced.
    fn put(&mut self, tx: PoolTx, state_nonce: u64) -> Option<PoolTx> {
        let key = (tx.tx.sender, tx.nonce);
        let hash = tx.hash();
        let queue = self
            .senders
            .entry(key.0)
            .or_insert_with(|| SenderQueue::new(state_nonce));
        let replaced = queue.insert(tx);
        if let Some(old) = &replaced {
            self.by_hash.remove(&old.hash());
        }
        self.by_hash.insert(hash, key);
        replaced
    }

    /// Removes the highest-nonce transaction of `sender`.
    fn pop_last(&mut self, sender: Address) -> Option<PoolTx> {
        let nonce = self.senders.get(&sender)?.last()?.nonce;
        self.remove_at(sender, nonce)
    }

    /// Removes the transaction of `sender` with `nonce`, dropping the queue when empty.
    fn remove_at(&mut self, sender: Address, nonce: u64) -> Option<PoolTx> {
        let queue = self.senders.get_mut(&sender)?;
        let tx = queue.remove(nonce)?;
        if queue.is_empty() {
            self.senders.remove(&sender);
        }
        self.by_hash.remove(&tx.hash());
        Some(tx)
    }

    /// Removes the transaction with `hash`; the ones behind it become queued.
    pub(super) fn remove(&mut self, hash: &TxHash) -> Option<PoolTx> {
        let (sender, nonce) = *self.by_hash.get(hash)?;
        self.remove_at(sender, nonce)
    }

    /// Evicts the cheapest transaction among the senders' highest nonces, so that no
    /// sender's pending run gets a gap: queued ones first, then by price at `base_fee`, the
    /// latest arrival on ties.
    fn evict_cheapest(&mut self, base_fee: u64) -> Option<PoolTx> {
        let (sender, nonce) = self
            .senders
            .iter()
            .filter_map(|(sender, queue)| {
                let last = queue.last()?;
                let rank = (
                    queue.is_pending(last.nonce),
                    last.price_rank(base_fee),
                    Reverse(last.seq),
                );
                Some((rank, *sender, last.nonce))
            })
            .min_by_key(|(rank, ..)| *rank)
            .map(|(_, sender, nonce)| (sender, nonce))?;
        self.remove_at(sender, nonce)
    }

    /// Re-checks `sender` against its account after a block: sets its nonce, drops what is
    /// mined, what the balance no longer covers and what exceeds `block_gas_limit`.
    pub(super) fn revalidate(
        &mut self,
        sender: Address,
        account: Option<&Account>,
        block_gas_limit: u64,
    ) -> Vec<PoolTx> {
        let Some(queue) = self.senders.get_mut(&sender) else {
            return Vec::new();
        };
        let mut dropped = queue.set_state_nonce(account.map_or(0, |a| a.nonce));
        dropped.extend(
            queue.drain_unless(|tx| tx.affordable(account) && tx.gas_limit <= block_gas_limit),
        );
        if queue.is_empty() {
            self.senders.remove(&sender);
        }
        self.unindex(&dropped);
        dropped
    }

    /// Forgets the hashes of `txs`, already removed from their queues.
    fn unindex(&mut self, txs: &[PoolTx]) {
        for tx in txs {
            self.by_hash.remove(&tx.hash());
        }
    }

    /// `(pending, queued)` counts.
    pub(super) fn status(&self) -> (usize, usize) {
        let pending: usize = self.senders.values().map(SenderQueue::pending_count).sum();
        (pending, self.len() - pending)
    }
}

/// geth's replacement rule: both fees strictly higher and at least `bump` percent higher.
fn check_replacement(old: &PoolTx, new: &PoolTx, bump: u64) -> Result<(), PoolError> {
    let bumped = |fee: u128| {
        U256::from(fee).saturating_mul(U256::from(bump).saturating_add(U256::from(100)))
            / U256::from(100)
    };
    let fee_ok = new.max_fee > old.max_fee && U256::from(new.max_fee) >= bumped(old.max_fee);
    let tip_ok = new.max_priority > old.max_priority
        && U256::from(new.max_priority) >= bumped(old.max_priority);
    if fee_ok && tip_ok {
        Ok(())
    } else {
        Err(PoolError::ReplaceUnderpriced)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mempool::test_utils::{key, pool_tx};

    fn config(slots: usize, total: usize) -> MempoolConfig {
        MempoolConfig {
            max_account_slots: slots,
            max_total: total,
            ..Default::default()
        }
    }

    #[test]
    fn replacement_threshold() {
        let old = pool_tx(&key(1), 0, 100, 10);
        let at = |fee, tip| check_replacement(&old, &pool_tx(&key(1), 0, fee, tip), 10);
        assert_eq!(at(109, 11), Err(PoolError::ReplaceUnderpriced));
        assert_eq!(at(110, 10), Err(PoolError::ReplaceUnderpriced));
        assert_eq!(at(110, 11), Ok(()));
        let one = pool_tx(&key(1), 0, 1, 1);
        let bumped = pool_tx(&key(1), 0, 2, 2);
        assert_eq!(
            check_replacement(&one, &one, 0),
            Err(PoolError::ReplaceUnderpriced)
        );
        assert_eq!(check_replacement(&one, &bumped, 10), Ok(()));
    }

    #[test]
    fn index_follows_queues() {
        let mut pool = PoolInner::new(config(4, 10));
        let a = pool_tx(&key(1), 0, 10, 1);
        let b = pool_tx(&key(1), 1, 10, 1);
        let (ha, hb) = (a.hash(), b.hash());
        pool.insert(a, 0, 1).unwrap();
        pool.insert(b, 0, 1).unwrap();
        assert_eq!(pool.status(), (2, 0));
        assert_eq!(pool.remove(&ha).map(|t| t.hash()), Some(ha));
        assert_eq!(pool.status(), (0, 1));
        assert!(pool.contains(&hb));
        let dropped = pool.revalidate(key(1).address(), None, 30_000_000);
        assert_eq!(dropped.len(), 1);
        assert_eq!(pool.len(), 0);
        assert!(pool.senders().is_empty());
    }

    #[test]
    fn stale_state_nonce_never_lowers() {
        let mut pool = PoolInner::new(config(4, 10));
        pool.insert(pool_tx(&key(1), 5, 10, 1), 5, 1).unwrap();
        pool.insert(pool_tx(&key(1), 6, 10, 1), 3, 1).unwrap();
        assert_eq!(pool.status(), (2, 0));
        let err = pool.insert(pool_tx(&key(1), 4, 10, 1), 3, 1);
        assert_eq!(err.err(), Some(PoolError::NonceTooLow));
    }

    #[test]
    fn single_slot_swap_keeps_the_account_nonce() {
        let mut pool = PoolInner::new(config(1, 10));
        pool.insert(pool_tx(&key(1), 3, 10, 1), 0, 1).unwrap();
        let swapped = pool.insert(pool_tx(&key(1), 0, 10, 1), 0, 1).unwrap();
        assert_eq!(swapped.iter().map(|t| t.nonce).collect::<Vec<_>>(), vec![3]);
        assert_eq!(pool.status(), (1, 0));
        let err = pool.insert(pool_tx(&key(1), 1, 10, 1), 0, 1);
        assert_eq!(err.err(), Some(PoolError::AccountLimitExceeded));
        let mut none = PoolInner::new(config(0, 10));
        let err = none.insert(pool_tx(&key(1), 0, 10, 1), 0, 1);
        assert_eq!(err.err(), Some(PoolError::AccountLimitExceeded));
    }

    #[test]
    fn eviction_prefers_queued_then_cheapest() {
        let mut pool = PoolInner::new(config(4, 3));
        pool.insert(pool_tx(&key(1), 0, 10, 1), 0, 1).unwrap();
        pool.insert(pool_tx(&key(2), 0, 10, 5), 0, 1).unwrap();
        let queued = pool_tx(&key(3), 1, 10, 9);
        let queued_hash = queued.hash();
        pool.insert(queued, 0, 1).unwrap();
        let evicted = pool.insert(pool_tx(&key(4), 0, 10, 2), 0, 1).unwrap();
        assert_eq!(
            evicted.iter().map(PoolTx::hash).collect::<Vec<_>>(),
            vec![queued_hash]
        );
        let evicted = pool.insert(pool_tx(&key(5), 0, 10, 3), 0, 1).unwrap();
        assert_eq!(evicted[0].tx.sender, key(1).address());
        let err = pool.insert(pool_tx(&key(6), 0, 10, 2), 0, 1);
        assert_eq!(err.err(), Some(PoolError::TxPoolFull));
        assert_eq!(pool.len(), 3);
    }
}
