//! The default batch inbox address.

use alloy_primitives::{Address, U256, keccak256};

/// The conventional batch inbox for `chain_id`: `0x00 ++ keccak256(bytes32(chainId))[:19]`.
pub fn batch_inbox_address(chain_id: u64) -> Address {
    let hash = keccak256(U256::from(chain_id).to_be_bytes::<32>());
    let mut addr = [0u8; 20];
    addr[1..].copy_from_slice(&hash[..19]);
    Address::from(addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbox_is_version_byte_plus_hash_prefix() {
        let chain_id = 8453u64;
        let mut word = [0u8; 32];
        word[24..].copy_from_slice(&chain_id.to_be_bytes());
        let hash = keccak256(word);
        let inbox = batch_inbox_address(chain_id);
        assert_eq!(inbox[0], 0);
        assert_eq!(&inbox[1..], &hash[..19]);
        assert_ne!(batch_inbox_address(1), batch_inbox_address(10));
    }

    /// Vectors computed independently with ethers.js `keccak256(zeroPadValue(id, 32))`.
    #[test]
    fn inbox_matches_independent_vectors() {
        use alloy_primitives::address;
        assert_eq!(
            batch_inbox_address(10),
            address!("0x00c65a7bb8d6351c1cf70c95a316cc6a92839c98")
        );
        assert_eq!(
            batch_inbox_address(901),
            address!("0x00289c189bee4e70334629f04cd5ed602b6600eb")
        );
        assert_eq!(
            batch_inbox_address(8453),
            address!("0x003e30a4f0e31d8ec3b8e98957bc7fedf7f6fb56")
        );
    }
}
