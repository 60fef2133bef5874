//! [`FittingRun`]: the transactions at the front of a queue whose gas limits fit in the gas
//! left in the block, and where to cut them into chunks of about equal gas.

use crate::RecoveredTx;
use alloy_consensus::Transaction as _;
use rayon::prelude::*;

/// The least gas limit a valid transaction can have: its intrinsic gas is at least this.
const MIN_TX_GAS: u64 = 21_000;

/// Transactions from which their gas limits are read on all cores (few in the unit tests,
/// so that their small queues are read so too).
#[cfg(not(test))]
const PARALLEL_TXS: usize = 8192;
#[cfg(test)]
const PARALLEL_TXS: usize = 2;

/// The first transactions of a queue whose gas limits add up to at most the gas left, with
/// the running total of their gas limits: one pass over the transactions, which are large
/// and spread out in memory, gives both how many fit and where the chunks start.
#[derive(Debug)]
pub(crate) struct FittingRun {
    /// The gas limits of the transactions up to and including each one.
    totals: Vec<u64>,
}

impl FittingRun {
    /// The first of `txs` whose gas limits add up to at most `gas_left`.
    ///
    /// As many as would fit if each had the least gas limit a valid transaction can have
    /// are read on all cores when they are many (each read is a cache miss); any after them
    /// (there are more only when some have lower limits) on this thread.
    pub(crate) fn of(txs: &[RecoveredTx], gas_left: u64) -> Self {
        let most = usize::try_from(gas_left / MIN_TX_GAS)
            .unwrap_or(usize::MAX)
            .saturating_add(1)
            .min(txs.len());
        let (front, back) = txs.split_at(most);
        let mut totals = Vec::with_capacity(most);
        if front.len() >= PARALLEL_TXS {
            (front.par_iter())
                .map(|tx| tx.tx.gas_limit())
                .collect_into_vec(&mut totals);
        } else {
            totals.extend(front.iter().map(|tx| tx.tx.gas_limit()));
        }
        // The limits become running totals, up to the first that does not fit.
        let mut total = 0u64;
        for i in 0..totals.len() {
            total = total.saturating_add(totals[i]);
            if total > gas_left {
                totals.truncate(i);
                return Self { totals };
            }
            totals[i] = total;
        }
        for tx in back {
            total = total.saturating_add(tx.tx.gas_limit());
            if total > gas_left {
                break;
            }
            totals.push(total);
        }
        Self { totals }
    }

    /// How many transactions fit.
    pub(crate) fn len(&self) -> usize {
        self.totals.len()
    }

    /// How many of them, from the first, have gas limits that add up to at most `gas`.
    pub(crate) fn count_within(&self, gas: u64) -> usize {
        self.totals.partition_point(|&total| total <= gas)
    }

    /// Where the chunks of the run start, and its end: at most `parts` contiguous chunks
    /// of about equal gas limits. Chunk `k` starts after the transaction with which the gas
    /// passes `k / parts` of the total, and after the start of chunk `k - 1`.
    pub(crate) fn split(&self, parts: usize) -> Vec<usize> {
        self.split_weighted(parts, 1000)
    }

    /// [`Self::split`], the first chunk weighing `first_per_mille` thousandths of each of
    /// the others: chunk `k` starts where the gas passes `(w + k - 1) / (w + parts - 1)` of
    /// the total, `w` that weight.
    pub(crate) fn split_weighted(&self, parts: usize, first_per_mille: u64) -> Vec<usize> {
        let len = self.totals.len();
        let total = u128::from(self.totals.last().copied().unwrap_or(0).max(1));
        let parts = parts.clamp(1, len.max(1));
        let first = u128::from(first_per_mille.max(1));
        let units = first + 1000 * (parts as u128 - 1);
        let mut bounds = Vec::with_capacity(parts + 1);
        bounds.push(0);
        for k in 1..parts {
            // The first transaction with which the gas reaches chunk k's share of the total.
            let share = first + 1000 * (k as u128 - 1);
            let reached =
                (self.totals).partition_point(|&gas| u128::from(gas) * units < share * total);
            let start = (reached + 1).max(bounds[k - 1] + 1);
            if start >= len {
                break;
            }
            bounds.push(start);
        }
        bounds.push(len);
        bounds
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_utils::eip1559;
    use crate::workload::Wallet;
    use alloy_primitives::{Address, Bytes, TxKind, U256};

    fn txs(gas: &[u64]) -> Vec<RecoveredTx> {
        let wallet = Wallet::new(1);
        gas.iter()
            .enumerate()
            .map(|(i, g)| {
                eip1559(
                    &wallet,
                    i as u64,
                    TxKind::Call(Address::ZERO),
                    U256::ZERO,
                    Bytes::new(),
                    *g,
                )
            })
            .collect()
    }

    fn split(gas: &[u64], parts: usize) -> Vec<usize> {
        FittingRun::of(&txs(gas), u64::MAX).split(parts)
    }

    #[test]
    fn only_the_transactions_that_fit_are_in_the_run() {
        let queue = txs(&[21_000, 30_000, 21_000, 10_000]);
        assert_eq!(FittingRun::of(&queue, 51_000).len(), 2);
        assert_eq!(FittingRun::of(&queue, 50_999).len(), 1);
        assert_eq!(FittingRun::of(&queue, 20_999).len(), 0);
        assert_eq!(FittingRun::of(&queue, u64::MAX).len(), 4);
        let run = FittingRun::of(&queue, u64::MAX);
        assert_eq!(run.count_within(0), 0);
        assert_eq!(run.count_within(51_000), 2);
        assert_eq!(run.count_within(71_999), 2);
        assert_eq!(run.count_within(72_000), 3);
        assert_eq!(run.count_within(u64::MAX), 4);
    }

    #[test]
    fn limits_below_the_least_gas_still_count() {
        // Read first: as many as fit at 21,000 each (two, then three); the rest one by one.
        let queue = txs(&[10_000; 8]);
        assert_eq!(FittingRun::of(&queue, 21_000).len(), 2);
        assert_eq!(FittingRun::of(&queue, 42_000).len(), 4);
        assert_eq!(FittingRun::of(&queue, 79_999).len(), 7);
        assert_eq!(FittingRun::of(&queue, 80_000).len(), 8);
        let mixed = txs(&[30_000, 1_000, 1_000, 1_000, 25_000]);
        let run = FittingRun::of(&mixed, 33_000);
        assert_eq!(run.totals, [30_000, 31_000, 32_000, 33_000]);
    }

    #[test]
    fn chunks_have_about_equal_gas() {
        assert_eq!(split(&[21_000; 10], 2), [0, 5, 10]);
        assert_eq!(split(&[21_000; 9], 3), [0, 3, 6, 9]);
        assert_eq!(split(&[90_000, 10_000, 10_000, 10_000], 2), [0, 1, 4]);
        assert_eq!(split(&[21_000; 3], 8), [0, 1, 2, 3]);
        assert_eq!(split(&[21_000], 2), [0, 1]);
        assert_eq!(split(&[], 2), [0, 0]);
        // One transaction with most of the gas: the chunks after it start one by one.
        assert_eq!(split(&[10, 1_000, 10, 10, 10], 4), [0, 2, 3, 4, 5]);
        assert_eq!(split(&[1_000, 10, 10], 3), [0, 1, 2, 3]);
        assert_eq!(split(&[10, 10, 1_000], 3), [0, 3]);
    }

    #[test]
    fn a_lighter_first_chunk_takes_its_share_of_the_gas() {
        let run = FittingRun::of(&txs(&[21_000; 35]), u64::MAX);
        // Weights 3/4, 1, 1 of 2.75: the first chunk ends where the gas passes 3/11.
        assert_eq!(run.split_weighted(3, 750), [0, 10, 23, 35]);
        assert_eq!(run.split_weighted(2, 750), [0, 15, 35]);
        assert_eq!(run.split_weighted(2, 1000), run.split(2));
        assert_eq!(run.split_weighted(1, 750), [0, 35]);
    }
}
