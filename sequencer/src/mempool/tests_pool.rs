//! Pool structure through the public API: pending and queued, ordering, limits, blocks.

use super::test_utils::*;
use super::*;
use alloy_consensus::Transaction;
use alloy_primitives::Address;

fn add(pool: &Mempool, state: &MemState, tx: OpTxEnvelope) -> Result<TxHash, PoolError> {
    pool.add(tx, state, &ctx())
}

fn limited(slots: usize, total: usize) -> Mempool {
    Mempool::new(MempoolConfig {
        max_account_slots: slots,
        max_total: total,
        ..Default::default()
    })
}

fn nonces(txs: &[RecoveredTx]) -> Vec<(Address, u64)> {
    txs.iter().map(|tx| (tx.sender, tx.tx.nonce())).collect()
}

#[test]
fn gap_is_queued_until_filled() {
    let (pool, k) = (Mempool::new(MempoolConfig::default()), key(1));
    let state = MemState::funded(&[&k]);
    let a = k.address();
    add(&pool, &state, eip1559(&k, 0, 10, 1)).unwrap();
    add(&pool, &state, eip1559(&k, 2, 10, 1)).unwrap();
    add(&pool, &state, eip1559(&k, 3, 10, 1)).unwrap();
    assert_eq!(pool.status(), (1, 2));
    assert_eq!(pool.pending_nonce(a, 0), 1);
    assert_eq!(nonces(&pool.pending_transactions()), vec![(a, 0)]);
    assert_eq!(nonces(&pool.best_transactions(BASE_FEE)), vec![(a, 0)]);
    add(&pool, &state, eip1559(&k, 1, 10, 1)).unwrap();
    assert_eq!(pool.status(), (4, 0));
    assert_eq!(pool.pending_nonce(a, 0), 4);
    assert_eq!(pool.pending_nonce(Address::ZERO, 7), 7);
    assert_eq!(pool.best_transactions(BASE_FEE).len(), 4);
}

#[test]
fn best_orders_by_tip_across_senders_in_nonce_order() {
    let pool = Mempool::new(MempoolConfig::default());
    let (k1, k2, k3) = (key(1), key(2), key(3));
    let state = MemState::funded(&[&k1, &k2, &k3]);
    let (a, b, c) = (k1.address(), k2.address(), k3.address());
    add(&pool, &state, eip1559(&k1, 1, 100, 50)).unwrap();
    add(&pool, &state, eip1559(&k1, 0, 100, 2)).unwrap();
    add(&pool, &state, eip1559(&k2, 0, 100, 5)).unwrap();
    add(&pool, &state, eip1559(&k2, 1, 100, 1)).unwrap();
    add(&pool, &state, eip1559(&k3, 0, 100, 5)).unwrap();
    // Ties (b and c at 5) by arrival; a's 50 waits behind its nonce 0 paying 2.
    let want = vec![(b, 0), (c, 0), (a, 0), (a, 1), (b, 1)];
    assert_eq!(nonces(&pool.best_transactions(10)), want);
    // At base fee 97 nobody pays more than 3: a's 0 (min(2, 3)), b's 0 (3), c's 0 (3).
    let want = vec![(b, 0), (c, 0), (a, 0), (a, 1), (b, 1)];
    assert_eq!(nonces(&pool.best_transactions(97)), want);
    assert!(pool.best_transactions(101).is_empty());
}

#[test]
fn per_sender_limit() {
    let pool = limited(2, 100);
    let k = key(1);
    let state = MemState::funded(&[&k]);
    add(&pool, &state, eip1559(&k, 0, 10, 1)).unwrap();
    add(&pool, &state, eip1559(&k, 5, 10, 1)).unwrap();
    let err = add(&pool, &state, eip1559(&k, 6, 10, 1)).unwrap_err();
    assert_eq!(err.to_string(), "account limit exceeded");
    // Replacing is always possible; a nonce below the highest takes its slot.
    let high = add(&pool, &state, eip1559(&k, 5, 20, 2)).unwrap();
    add(&pool, &state, eip1559(&k, 1, 10, 1)).unwrap();
    assert!(!pool.contains(&high));
    assert_eq!(pool.status(), (2, 0));
    // Other senders are unaffected.
    let other = key(2);
    let state = MemState::funded(&[&k, &other]);
    assert!(add(&pool, &state, eip1559(&other, 0, 10, 1)).is_ok());
}

#[test]
fn global_limit_evicts_the_cheapest() {
    let pool = limited(64, 3);
    let keys: Vec<_> = (1..=5).map(key).collect();
    let state = MemState::funded(&keys.iter().collect::<Vec<_>>());
    let cheap = add(&pool, &state, eip1559(&keys[0], 0, 100, 1)).unwrap();
    add(&pool, &state, eip1559(&keys[1], 0, 100, 5)).unwrap();
    add(&pool, &state, eip1559(&keys[2], 0, 100, 7)).unwrap();
    let err = add(&pool, &state, eip1559(&keys[3], 0, 100, 1)).unwrap_err();
    assert_eq!(err.to_string(), "txpool is full");
    let better = add(&pool, &state, eip1559(&keys[3], 0, 100, 2)).unwrap();
    assert!(!pool.contains(&cheap));
    assert!(pool.contains(&better));
    assert_eq!(pool.status(), (3, 0));
}

#[test]
fn eviction_takes_queued_first_and_never_opens_a_gap() {
    let pool = limited(64, 3);
    let (k1, k2, k3) = (key(1), key(2), key(3));
    let state = MemState::funded(&[&k1, &k2, &k3]);
    // Sender 1: cheap nonce 0 under a dear nonce 1. Sender 2: a dear queued transaction.
    let cheap_head = add(&pool, &state, eip1559(&k1, 0, 100, 1)).unwrap();
    let dear_tail = add(&pool, &state, eip1559(&k1, 1, 100, 9)).unwrap();
    let queued = add(&pool, &state, eip1559(&k2, 4, 100, 50)).unwrap();
    add(&pool, &state, eip1559(&k3, 0, 100, 3)).unwrap();
    assert!(!pool.contains(&queued));
    // Now the candidates are sender 1's tail (9) and sender 3's (3): sender 3 goes.
    add(&pool, &state, eip1559(&k2, 0, 100, 4)).unwrap();
    assert!(pool.contains(&cheap_head) && pool.contains(&dear_tail));
    assert_eq!(pool.status(), (3, 0));
}

#[test]
fn on_block_removes_mined_and_advances_nonces() {
    let pool = Mempool::new(MempoolConfig::default());
    let (k1, k2) = (key(1), key(2));
    let state = MemState::funded(&[&k1, &k2]);
    let mined = add(&pool, &state, eip1559(&k1, 0, 10, 1)).unwrap();
    add(&pool, &state, eip1559(&k1, 1, 10, 1)).unwrap();
    add(&pool, &state, eip1559(&k1, 2, 10, 1)).unwrap();
    add(&pool, &state, eip1559(&k2, 1, 10, 1)).unwrap();
    assert_eq!(pool.status(), (3, 1));
    // Block: k1's nonce 0 mined, and k1's nonce 1 and k2's nonce 0 were sent elsewhere.
    state.set(k1.address(), 2, 1_000_000_000);
    state.set(k2.address(), 1, 1_000_000_000);
    pool.on_block(&state, &ctx(), &[mined]);
    assert!(!pool.contains(&mined));
    assert_eq!(pool.status(), (2, 0));
    let want = vec![(k1.address(), 2), (k2.address(), 1)];
    assert_eq!(nonces(&pool.pending_transactions()), want);
}

#[test]
fn on_block_drops_what_the_balance_no_longer_covers() {
    let pool = Mempool::new(MempoolConfig::default());
    let k = key(1);
    let state = MemState::funded(&[&k]);
    add(&pool, &state, eip1559(&k, 0, 10, 1)).unwrap();
    let dear = add(&pool, &state, eip1559(&k, 1, 1_000, 1)).unwrap();
    add(&pool, &state, eip1559(&k, 2, 10, 1)).unwrap();
    state.set(k.address(), 0, 21_000 * 10);
    pool.on_block(&state, &ctx(), &[]);
    assert!(!pool.contains(&dear));
    // Nonce 2 is behind the gap left by the dropped nonce 1.
    assert_eq!(pool.status(), (1, 1));
    state.set(k.address(), 0, 0);
    pool.on_block(&state, &ctx(), &[]);
    assert_eq!(pool.status(), (0, 0));
}

#[test]
fn on_block_keeps_senders_whose_state_is_unreadable() {
    let pool = Mempool::new(MempoolConfig::default());
    let k = key(1);
    let state = MemState::funded(&[&k]);
    add(&pool, &state, eip1559(&k, 0, 10, 1)).unwrap();
    state.break_account(k.address());
    pool.on_block(&state, &ctx(), &[]);
    assert_eq!(pool.status(), (1, 0));
}

#[test]
fn on_block_applies_a_lower_block_gas_limit() {
    let pool = Mempool::new(MempoolConfig::default());
    let k = key(1);
    let state = MemState::funded(&[&k]);
    let mut tx = tx1559(0, 10, 1);
    tx.gas_limit = 50_000;
    add(&pool, &state, sign(&k, tx)).unwrap();
    pool.on_block(
        &state,
        &PoolContext {
            block_gas_limit: 40_000,
            ..ctx()
        },
        &[],
    );
    assert_eq!(pool.status(), (0, 0));
}

#[test]
fn remove_demotes_the_rest() {
    let pool = Mempool::new(MempoolConfig::default());
    let k = key(1);
    let state = MemState::funded(&[&k]);
    add(&pool, &state, eip1559(&k, 0, 10, 1)).unwrap();
    let bad = add(&pool, &state, eip1559(&k, 1, 10, 1)).unwrap();
    add(&pool, &state, eip1559(&k, 2, 10, 1)).unwrap();
    pool.remove(&[bad, TxHash::ZERO]);
    assert_eq!(pool.status(), (1, 1));
    assert_eq!(pool.get(&bad), None);
    assert_eq!(pool.pending_nonce(k.address(), 0), 1);
}

#[test]
fn stale_add_after_block_drops_mined() {
    let pool = Mempool::new(MempoolConfig::default());
    let k = key(1);
    let state = MemState::funded(&[&k]);
    add(&pool, &state, eip1559(&k, 0, 10, 1)).unwrap();
    // The state moved on (nonce 0 mined) before on_block: the next add prunes it.
    state.set(k.address(), 1, 1_000_000_000);
    add(&pool, &state, eip1559(&k, 1, 10, 1)).unwrap();
    assert_eq!(pool.status(), (1, 0));
}

#[test]
fn concurrent_adds() {
    let pool = Mempool::new(MempoolConfig::default());
    let keys: Vec<_> = (1..=4).map(key).collect();
    let state = MemState::funded(&keys.iter().collect::<Vec<_>>());
    std::thread::scope(|scope| {
        for k in &keys {
            let (pool, state) = (&pool, &state);
            scope.spawn(move || {
                for nonce in (0..25).rev() {
                    add(pool, state, eip1559(k, nonce, 10, 1)).unwrap();
                }
            });
        }
    });
    assert_eq!(pool.status(), (100, 0));
    assert_eq!(pool.best_transactions(BASE_FEE).len(), 100);
}

#[test]
fn replacement_in_a_full_pool_evicts_nothing() {
    let pool = limited(64, 2);
    let (k1, k2) = (key(1), key(2));
    let state = MemState::funded(&[&k1, &k2]);
    let other = add(&pool, &state, eip1559(&k2, 0, 10, 1)).unwrap();
    add(&pool, &state, eip1559(&k1, 0, 10, 1)).unwrap();
    add(&pool, &state, eip1559(&k1, 0, 20, 2)).unwrap();
    assert!(pool.contains(&other));
    assert_eq!(pool.status(), (2, 0));
}
