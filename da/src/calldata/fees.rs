//! EIP-1559 fee selection for batcher transactions: caps and replacement bumps.

/// Wei per gwei.
const GWEI: u128 = 1_000_000_000;

/// The fees of one batcher transaction, in wei.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fees {
    /// `maxFeePerGas`.
    pub(crate) max_fee: u128,
    /// `maxPriorityFeePerGas`.
    pub(crate) priority: u128,
}

/// The configured fee caps, in wei.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FeeCaps {
    /// Largest `maxFeePerGas`.
    pub(crate) max_fee: u128,
    /// Largest `maxPriorityFeePerGas`.
    pub(crate) priority: u128,
}

impl FeeCaps {
    /// Caps from the config's gwei values.
    pub(crate) fn from_gwei(max_fee_gwei: u64, priority_gwei: u64) -> Self {
        Self {
            max_fee: u128::from(max_fee_gwei).saturating_mul(GWEI),
            priority: u128::from(priority_gwei).saturating_mul(GWEI),
        }
    }

    /// Clamps node-estimated fees to the caps, keeping `priority <= max_fee`.
    pub(crate) fn clamp(&self, estimate: Fees) -> Fees {
        let max_fee = estimate.max_fee.min(self.max_fee);
        Fees {
            max_fee,
            priority: estimate.priority.min(self.priority).min(max_fee),
        }
    }

    /// The fees of a replacement: both raised by at least 10% (geth's `txpool.pricebump`),
    /// or `None` when that would exceed a cap.
    pub(crate) fn bump(&self, fees: Fees) -> Option<Fees> {
        let bumped = Fees {
            max_fee: bump_10_percent(fees.max_fee),
            priority: bump_10_percent(fees.priority),
        };
        (bumped.max_fee <= self.max_fee && bumped.priority <= self.priority).then_some(bumped)
    }
}

impl FeeCaps {
    /// Fees replacing a transaction that pays `old`: the larger of `estimate` and `old`
    /// bumped by 10%, or the caps when the bump would exceed them.
    pub(crate) fn replacement(&self, old: Fees, estimate: Fees) -> Fees {
        let bumped = self.bump(old).unwrap_or(Fees {
            max_fee: self.max_fee,
            priority: self.priority,
        });
        Fees {
            max_fee: bumped.max_fee.max(estimate.max_fee),
            priority: bumped.priority.max(estimate.priority),
        }
    }
}

/// `ceil(value * 1.1)`, and at least `value + 1`.
fn bump_10_percent(value: u128) -> u128 {
    let bumped = value.saturating_mul(110).div_ceil(100);
    bumped.max(value.saturating_add(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamps_to_caps() {
        let caps = FeeCaps::from_gwei(100, 2);
        let fees = caps.clamp(Fees {
            max_fee: 500 * GWEI,
            priority: 3 * GWEI,
        });
        assert_eq!((fees.max_fee, fees.priority), (100 * GWEI, 2 * GWEI));
        let low = FeeCaps::from_gwei(1, 1).clamp(Fees {
            max_fee: GWEI / 2,
            priority: GWEI,
        });
        assert_eq!(low.priority, GWEI / 2, "priority never exceeds max fee");
    }

    #[test]
    fn replacement_bumps_both_fees_by_ten_percent() {
        let caps = FeeCaps::from_gwei(100, 10);
        let fees = Fees {
            max_fee: 20 * GWEI,
            priority: GWEI,
        };
        let bumped = caps.bump(fees).unwrap();
        assert_eq!(bumped.max_fee, 22 * GWEI);
        assert_eq!(bumped.priority, GWEI + GWEI / 10);
        let tiny = caps
            .bump(Fees {
                max_fee: 7,
                priority: 0,
            })
            .unwrap();
        assert_eq!((tiny.max_fee, tiny.priority), (8, 1));
        let replacement = caps.replacement(
            fees,
            Fees {
                max_fee: 30 * GWEI,
                priority: GWEI,
            },
        );
        assert_eq!(
            (replacement.max_fee, replacement.priority),
            (30 * GWEI, GWEI + GWEI / 10)
        );
        assert!(
            caps.bump(Fees {
                max_fee: 95 * GWEI,
                priority: GWEI
            })
            .is_none(),
            "over the cap"
        );
    }
}
