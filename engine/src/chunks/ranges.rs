//! [`Ranges`]: the ranges of a run's transactions the threads execute, which a thread that
//! has run out of work splits with the thread that has the most left.
//!
//! Each range is one atomic word (next, end): its owner claims `next` and moves it on; a
//! thief moves `end` down to the middle of what is left and takes the upper half as a range
//! of its own. Both change the same word by compare-and-swap, so every transaction is
//! claimed exactly once. Which thread executes which transaction depends on timing; the
//! result does not (each range is checked against the ranges before it in block order).

use crossbeam_utils::CachePadded;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// The ranges of a run's transactions, by slot.
pub(super) struct Ranges {
    /// (next, end) of each range: next in the high half, end in the low half. Each on a
    /// cache line of its own: its owner changes it at every transaction, and words sharing
    /// a line would make the threads' cores pass the line back and forth.
    slots: Vec<CachePadded<AtomicU64>>,
    /// Slots taken: the initial ranges, then the stolen ones (it may pass the number of
    /// slots: the thieves that found none left).
    used: AtomicUsize,
    /// Where each initial range starts.
    starts: Vec<usize>,
    /// A range is split only when at least this many of its transactions are left.
    min_split: usize,
}

impl Ranges {
    /// The ranges `[bounds[i], bounds[i + 1])`, one per thread, which ranges of at least
    /// `min_split` transactions are split from; at most `max_ranges` in all.
    ///
    /// # Panics
    ///
    /// When a bound exceeds `u32::MAX` (no block holds that many transactions).
    pub(super) fn new(bounds: &[usize], min_split: usize, max_ranges: usize) -> Self {
        let initial = bounds.len().saturating_sub(1);
        let capacity = max_ranges.max(initial);
        let slots: Vec<_> = (0..capacity)
            .map(|_| CachePadded::new(AtomicU64::new(0)))
            .collect();
        for (slot, pair) in slots.iter().zip(bounds.windows(2)) {
            slot.store(pack(pair[0], pair[1]), Ordering::Relaxed);
        }
        Self {
            slots,
            used: AtomicUsize::new(initial),
            starts: bounds[..initial].to_vec(),
            min_split: min_split.max(2),
        }
    }

    /// The initial ranges.
    pub(super) fn initial(&self) -> usize {
        self.starts.len()
    }

    /// Where initial range `slot` starts.
    pub(super) fn start(&self, slot: usize) -> usize {
        self.starts[slot]
    }

    /// Transactions left in range `slot`.
    pub(super) fn len(&self, slot: usize) -> usize {
        left(self.slots[slot].load(Ordering::Acquire))
    }

    /// The next transaction of range `slot`, claimed by its owner; `None` when the range is
    /// done.
    pub(super) fn claim(&self, slot: usize) -> Option<usize> {
        let word = &self.slots[slot];
        let mut current = word.load(Ordering::Acquire);
        loop {
            let (next, end) = unpack(current);
            if next >= end {
                return None;
            }
            match word.compare_exchange_weak(
                current,
                pack(next + 1, end),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Some(next),
                Err(actual) => current = actual,
            }
        }
    }

    /// Takes the upper half of what is left of the range with the most left, as a new range;
    /// returns its slot and start, or `None` when no range has enough left to split (or
    /// there are too many ranges already).
    pub(super) fn steal(&self) -> Option<(usize, usize)> {
        // The new range's slot, reserved first; it reads as empty until it is filled.
        let slot = self.used.fetch_add(1, Ordering::AcqRel);
        if slot >= self.slots.len() {
            return None;
        }
        loop {
            let used = self.used.load(Ordering::Acquire).min(self.slots.len());
            let (victim, current) = (0..used)
                .map(|slot| (slot, self.slots[slot].load(Ordering::Acquire)))
                .max_by_key(|(_, word)| left(*word))?;
            if left(current) < self.min_split {
                return None;
            }
            let (next, end) = unpack(current);
            let middle = next + (end - next) / 2;
            let split = self.slots[victim].compare_exchange(
                current,
                pack(next, middle),
                Ordering::AcqRel,
                Ordering::Acquire,
            );
            if split.is_ok() {
                self.slots[slot].store(pack(middle, end), Ordering::Release);
                return Some((slot, middle));
            }
        }
    }
}

fn pack(next: usize, end: usize) -> u64 {
    let next = u32::try_from(next).expect("a run of at most u32::MAX transactions");
    let end = u32::try_from(end).expect("a run of at most u32::MAX transactions");
    (u64::from(next) << 32) | u64::from(end)
}

fn unpack(word: u64) -> (usize, usize) {
    ((word >> 32) as usize, (word & u64::from(u32::MAX)) as usize)
}

/// Transactions left in a range.
fn left(word: u64) -> usize {
    let (next, end) = unpack(word);
    end.saturating_sub(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn drain(ranges: &Ranges, slot: usize) -> Vec<usize> {
        std::iter::from_fn(|| ranges.claim(slot)).collect()
    }

    #[test]
    fn owners_claim_their_ranges_in_order() {
        let ranges = Ranges::new(&[0, 3, 7], 4, 8);
        assert_eq!(ranges.initial(), 2);
        assert_eq!((ranges.start(0), ranges.start(1)), (0, 3));
        assert_eq!(drain(&ranges, 1), [3, 4, 5, 6]);
        assert_eq!(drain(&ranges, 0), [0, 1, 2]);
        assert_eq!(ranges.steal(), None);
    }

    #[test]
    fn a_thief_takes_the_upper_half_of_the_largest_range() {
        let ranges = Ranges::new(&[0, 4, 20], 4, 8);
        assert_eq!(ranges.claim(1), Some(4));
        // Range 1 has 5..20 left: the thief takes 12..20.
        assert_eq!(ranges.steal(), Some((2, 12)));
        assert_eq!(drain(&ranges, 1), (5..12).collect::<Vec<_>>());
        // Range 0 (0..4) and the stolen one (12..20) are left; 8 is the most.
        assert_eq!(ranges.steal(), Some((3, 16)));
        assert_eq!(drain(&ranges, 2), [12, 13, 14, 15]);
        assert_eq!(drain(&ranges, 3), [16, 17, 18, 19]);
        assert_eq!(ranges.steal(), Some((4, 2)));
        assert_eq!(drain(&ranges, 0), [0, 1]);
        assert_eq!(drain(&ranges, 4), [2, 3]);
        // Nothing left to split.
        assert_eq!(ranges.steal(), None);
    }

    #[test]
    fn small_ranges_and_a_full_table_are_not_split() {
        let ranges = Ranges::new(&[0, 3], 4, 8);
        assert_eq!(ranges.steal(), None);
        let ranges = Ranges::new(&[0, 1000], 2, 2);
        // One initial range and room for two: one split, then none.
        assert!(ranges.steal().is_some());
        assert_eq!(ranges.steal(), None);
    }

    #[test]
    fn every_transaction_is_claimed_once_under_contention() {
        for _ in 0..50 {
            let ranges = Ranges::new(&[0, 5000, 10_000], 8, 64);
            let claimed = Mutex::new(Vec::new());
            std::thread::scope(|scope| {
                for initial in 0..4 {
                    let (ranges, claimed) = (&ranges, &claimed);
                    scope.spawn(move || {
                        let mut mine = Vec::new();
                        let mut slot = if initial < 2 { Some(initial) } else { None };
                        loop {
                            if let Some(slot) = slot {
                                mine.extend(std::iter::from_fn(|| ranges.claim(slot)));
                            }
                            match ranges.steal() {
                                Some((next, _)) => slot = Some(next),
                                None => break,
                            }
                        }
                        claimed.lock().unwrap().extend(mine);
                    });
                }
            });
            let mut claimed = claimed.into_inner().unwrap();
            claimed.sort_unstable();
            assert_eq!(claimed, (0..10_000).collect::<Vec<_>>());
        }
    }
}
