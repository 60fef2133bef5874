//! [`AddressFilter`]: which addresses a part of a [`ChunkedState`](super::ChunkedState) may
//! hold, answered in a bit array before its map is looked up.
//!
//! A later chunk's check looks every address it read up in the parts before it, and nearly
//! all of them are in none (each chunk has its own senders and recipients): a miss in a
//! large hash map costs a few cache misses, a bit array of the part's addresses one access
//! to memory a tenth of the size. The filter may answer yes for an address the part does not
//! hold (then the map is looked up), never no for one it holds.

use alloy_primitives::Address;

/// Bits per address the filter is made for, at least (rounded up to a power of two): with
/// two bits set per address, about one address in twenty that is not in the set passes.
const BITS_PER_ADDRESS: usize = 8;

/// A set of addresses that may answer yes for an address not in it (a Bloom filter with two
/// bits per address).
#[derive(Clone, Debug)]
pub(crate) struct AddressFilter {
    words: Vec<u64>,
    /// The bits minus one (a power of two minus one).
    mask: u64,
}

impl AddressFilter {
    /// An empty filter for about `addresses` addresses (more only make it answer yes more
    /// often).
    pub(crate) fn with_capacity(addresses: usize) -> Self {
        let bits = (addresses.max(1) * BITS_PER_ADDRESS)
            .next_power_of_two()
            .max(64);
        Self {
            words: vec![0; bits / 64],
            mask: bits as u64 - 1,
        }
    }

    /// Adds `address`.
    pub(crate) fn insert(&mut self, address: &Address) {
        for bit in self.bits(address) {
            self.words[(bit / 64) as usize] |= 1 << (bit % 64);
        }
    }

    /// False when `address` was never added; true when it was (or, now and then, when not).
    pub(crate) fn may_contain(&self, address: &Address) -> bool {
        self.bits(address)
            .into_iter()
            .all(|bit| self.words[(bit / 64) as usize] & (1 << (bit % 64)) != 0)
    }

    /// The two bits of `address`: addresses are hashes (of a key, or of a creator and
    /// nonce), so two of their 8-byte words serve as hashes. Addresses chosen to collide
    /// (mined prefixes) only make the filter answer yes more often.
    fn bits(&self, address: &Address) -> [u64; 2] {
        let word = |at: usize| {
            let mut bytes = [0; 8];
            bytes.copy_from_slice(&address[at..at + 8]);
            u64::from_le_bytes(bytes)
        };
        [word(4) & self.mask, word(12) & self.mask]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_utils::Rng;

    fn random_address(rng: &mut Rng) -> Address {
        let mut bytes = [0u8; 20];
        for chunk in bytes.chunks_mut(8) {
            let word = rng.next().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
        Address::from(bytes)
    }

    #[test]
    fn an_added_address_is_always_found_and_most_others_are_not() {
        let mut rng = Rng(7);
        let added: Vec<_> = (0..10_000).map(|_| random_address(&mut rng)).collect();
        let mut filter = AddressFilter::with_capacity(added.len());
        for address in &added {
            filter.insert(address);
        }
        assert!(added.iter().all(|address| filter.may_contain(address)));
        let passed = (0..10_000)
            .filter(|_| filter.may_contain(&random_address(&mut rng)))
            .count();
        // About 3% with 16 bits per address (10,000 rounded up to 2^17 bits).
        assert!(passed < 1_000, "{passed} of 10,000 other addresses passed");
        assert!(!AddressFilter::with_capacity(0).may_contain(&Address::ZERO));
    }

    #[test]
    fn addresses_alike_in_their_words_still_pass() {
        // Mined addresses: only their first byte differs, so every one sets the same two
        // bits, and those not added pass too.
        let mined: Vec<_> = (0..=255u8)
            .map(|byte| {
                let mut bytes = [0u8; 20];
                bytes[0] = byte;
                Address::from(bytes)
            })
            .collect();
        let mut filter = AddressFilter::with_capacity(4);
        for address in &mined[..128] {
            filter.insert(address);
        }
        assert!(mined.iter().all(|address| filter.may_contain(address)));
    }
}
