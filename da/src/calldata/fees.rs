//! EIP-1559 and EIP-4844 fee selection for batcher transactions: caps and replacement
//! bumps. Calldata transactions are replaced with both fees +10% (geth's
//! `txpool.pricebump`); blob transactions with every fee, the blob fee included, doubled
//! (geth's and reth's blob pools require a 100% bump).

/// Wei per gwei.
pub(crate) const GWEI: u128 = 1_000_000_000;

/// Replacement bump of a transaction without blobs, in percent.
const CALLDATA_BUMP_PERCENT: u128 = 10;
/// Replacement bump of a blob transaction, in percent.
const BLOB_BUMP_PERCENT: u128 = 100;

/// The fees of one batcher transaction, in wei.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fees {
    /// `maxFeePerGas`.
    pub(crate) max_fee: u128,
    /// `maxPriorityFeePerGas`.
    pub(crate) priority: u128,
    /// `maxFeePerBlobGas` of a blob transaction; `None` without blobs.
    pub(crate) blob: Option<u128>,
}

impl Fees {
    /// Fees of a transaction without blobs.
    pub(crate) const fn new(max_fee: u128, priority: u128) -> Self {
        Self {
            max_fee,
            priority,
            blob: None,
        }
    }
}

/// The configured fee caps, in wei.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FeeCaps {
    /// Largest `maxFeePerGas`.
    pub(crate) max_fee: u128,
    /// Largest `maxPriorityFeePerGas`.
    pub(crate) priority: u128,
    /// Largest `maxFeePerBlobGas` (unused without blobs).
    pub(crate) blob: u128,
}

impl FeeCaps {
    /// Caps from the config's gwei values (no blob fee allowed).
    pub(crate) fn from_gwei(max_fee_gwei: u64, priority_gwei: u64) -> Self {
        Self {
            max_fee: u128::from(max_fee_gwei).saturating_mul(GWEI),
            priority: u128::from(priority_gwei).saturating_mul(GWEI),
            blob: 0,
        }
    }

    /// These caps with a `maxFeePerBlobGas` cap of `blob_gwei`.
    pub(crate) fn with_blob_gwei(mut self, blob_gwei: u64) -> Self {
        self.blob = u128::from(blob_gwei).saturating_mul(GWEI);
        self
    }

    /// Clamps node-estimated fees to the caps, keeping `priority <= max_fee`.
    pub(crate) fn clamp(&self, estimate: Fees) -> Fees {
        let max_fee = estimate.max_fee.min(self.max_fee);
        Fees {
            max_fee,
            priority: estimate.priority.min(self.priority).min(max_fee),
            blob: estimate.blob.map(|b| b.min(self.blob)),
        }
    }

    /// The fees of a replacement: every fee raised by the pool's bump (10%, or 100% for a
    /// blob transaction), or `None` when that would exceed a cap.
    pub(crate) fn bump(&self, fees: Fees) -> Option<Fees> {
        let percent = bump_percent(&fees);
        let bumped = Fees {
            max_fee: bump_by(fees.max_fee, percent),
            priority: bump_by(fees.priority, percent),
            blob: fees.blob.map(|b| bump_by(b, percent)),
        };
        let within = bumped.max_fee <= self.max_fee
            && bumped.priority <= self.priority
            && bumped.blob.is_none_or(|b| b <= self.blob);
        within.then_some(bumped)
    }

    /// Fees replacing a transaction that pays `old`: the larger of `estimate` and `old`
    /// bumped, or the caps when the bump would exceed them.
    pub(crate) fn replacement(&self, old: Fees, estimate: Fees) -> Fees {
        let bumped = self.bump(old).unwrap_or(Fees {
            max_fee: self.max_fee,
            priority: self.priority,
            blob: old.blob.map(|_| self.blob),
        });
        Fees {
            max_fee: bumped.max_fee.max(estimate.max_fee),
            priority: bumped.priority.max(estimate.priority),
            blob: bumped.blob.max(estimate.blob),
        }
    }
}

const fn bump_percent(fees: &Fees) -> u128 {
    if fees.blob.is_some() {
        BLOB_BUMP_PERCENT
    } else {
        CALLDATA_BUMP_PERCENT
    }
}

/// `ceil(value * (100 + percent) / 100)`, and at least `value + 1`.
fn bump_by(value: u128, percent: u128) -> u128 {
    let bumped = value.saturating_mul(100 + percent).div_ceil(100);
    bumped.max(value.saturating_add(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamps_to_caps() {
        let caps = FeeCaps::from_gwei(100, 2);
        let fees = caps.clamp(Fees::new(500 * GWEI, 3 * GWEI));
        assert_eq!((fees.max_fee, fees.priority), (100 * GWEI, 2 * GWEI));
        let low = FeeCaps::from_gwei(1, 1).clamp(Fees::new(GWEI / 2, GWEI));
        assert_eq!(low.priority, GWEI / 2, "priority never exceeds max fee");
    }

    #[test]
    fn replacement_bumps_both_fees_by_ten_percent() {
        let caps = FeeCaps::from_gwei(100, 10);
        let fees = Fees::new(20 * GWEI, GWEI);
        let bumped = caps.bump(fees).unwrap();
        assert_eq!(bumped.max_fee, 22 * GWEI);
        assert_eq!(bumped.priority, GWEI + GWEI / 10);
        let tiny = caps.bump(Fees::new(7, 0)).unwrap();
        assert_eq!((tiny.max_fee, tiny.priority), (8, 1));
        let replacement = caps.replacement(fees, Fees::new(30 * GWEI, GWEI));
        assert_eq!(
            (replacement.max_fee, replacement.priority),
            (30 * GWEI, GWEI + GWEI / 10)
        );
        assert!(
            caps.bump(Fees::new(95 * GWEI, GWEI)).is_none(),
            "over the cap"
        );
    }

    #[test]
    fn blob_fees_are_capped_and_doubled_on_replacement() {
        let caps = FeeCaps::from_gwei(100, 10).with_blob_gwei(50);
        let estimate = Fees {
            blob: Some(80 * GWEI),
            ..Fees::new(20 * GWEI, GWEI)
        };
        let fees = caps.clamp(estimate);
        assert_eq!(fees.blob, Some(50 * GWEI), "blob fee capped");
        let low = Fees {
            blob: Some(10 * GWEI),
            ..Fees::new(20 * GWEI, GWEI)
        };
        let bumped = caps.bump(low).unwrap();
        assert_eq!(
            (bumped.max_fee, bumped.priority, bumped.blob),
            (40 * GWEI, 2 * GWEI, Some(20 * GWEI))
        );
        assert!(caps.bump(fees).is_none(), "blob fee already at the cap");
        let replacement = caps.replacement(fees, low);
        assert_eq!(replacement.blob, Some(50 * GWEI));
        assert_eq!(caps.clamp(Fees::new(GWEI, 0)).blob, None);
    }
}
