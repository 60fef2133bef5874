//! Forks of Ethereum L1 that the runner supports, and the fork schedule of a test network.

use alloy_eips::eip7840::BlobParams;
use revm::primitives::hardfork::SpecId;

/// An Ethereum L1 fork the runner executes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fork {
    /// Paris (the merge); only as the start of a transition network.
    Paris,
    /// Shanghai: withdrawals, PUSH0, init code limit.
    Shanghai,
    /// Cancun: blobs, EIP-4788 beacon roots, transient storage, MCOPY.
    Cancun,
    /// Prague: EIP-2935 history, EIP-7685 requests, EIP-7702, calldata floor.
    Prague,
}

impl Fork {
    /// revm's spec for the fork.
    pub const fn spec_id(self) -> SpecId {
        match self {
            Self::Paris => SpecId::MERGE,
            Self::Shanghai => SpecId::SHANGHAI,
            Self::Cancun => SpecId::CANCUN,
            Self::Prague => SpecId::PRAGUE,
        }
    }

    /// The blob parameters of the fork, `None` before Cancun.
    pub const fn blob_params(self) -> Option<BlobParams> {
        match self {
            Self::Paris | Self::Shanghai => None,
            Self::Cancun => Some(BlobParams::cancun()),
            Self::Prague => Some(BlobParams::prague()),
        }
    }

    /// True when `self` includes `other`.
    pub fn at_least(self, other: Self) -> bool {
        self >= other
    }

    fn by_name(name: &str) -> Option<Self> {
        match name {
            "Paris" | "Merge" => Some(Self::Paris),
            "Shanghai" => Some(Self::Shanghai),
            "Cancun" => Some(Self::Cancun),
            "Prague" => Some(Self::Prague),
            _ => None,
        }
    }
}

/// The forks of a test network by block timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForkSchedule {
    first: Fork,
    /// The later fork and the timestamp it activates at.
    next: Option<(Fork, u64)>,
}

impl ForkSchedule {
    /// The schedule of a fixture's `network`, or `None` for networks the runner does not
    /// execute (forks before Shanghai, later forks).
    pub fn from_network(network: &str) -> Option<Self> {
        if let Some(single) = Fork::by_name(network) {
            return (single >= Fork::Shanghai).then_some(Self {
                first: single,
                next: None,
            });
        }
        let (from, rest) = network.split_once("To")?;
        let (to, at) = rest.split_once("AtTime")?;
        let at = parse_time(at)?;
        let (first, next) = (Fork::by_name(from)?, Fork::by_name(to)?);
        (next >= Fork::Shanghai && next > first).then_some(Self {
            first,
            next: Some((next, at)),
        })
    }

    /// The fork active at `timestamp`.
    pub fn at(&self, timestamp: u64) -> Fork {
        match self.next {
            Some((fork, at)) if timestamp >= at => fork,
            _ => self.first,
        }
    }
}

/// `15k` → 15000.
fn parse_time(text: &str) -> Option<u64> {
    match text.strip_suffix('k') {
        Some(thousands) => thousands.parse::<u64>().ok()?.checked_mul(1000),
        None => text.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_networks() {
        let s = ForkSchedule::from_network("ShanghaiToCancunAtTime15k").unwrap();
        assert_eq!(s.at(14_999), Fork::Shanghai);
        assert_eq!(s.at(15_000), Fork::Cancun);
        assert_eq!(
            ForkSchedule::from_network("Prague").unwrap().at(0),
            Fork::Prague
        );
        assert!(ForkSchedule::from_network("London").is_none());
        assert!(ForkSchedule::from_network("Paris").is_none());
        assert!(ForkSchedule::from_network("Osaka").is_none());
    }
}
