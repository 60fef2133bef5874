//! Output roots: the L2 state commitments posted to the settlement layer.

use alloy_primitives::{Address, B256, address, keccak256};

/// The L2ToL1MessagePasser predeploy, whose storage root is committed in every output root.
pub const L2_TO_L1_MESSAGE_PASSER: Address = address!("0x4200000000000000000000000000000000000016");

/// The version word of a v0 output root (32 zero bytes).
pub const OUTPUT_ROOT_VERSION_V0: B256 = B256::ZERO;

/// The preimage of a version 0 output root.
///
/// `outputRoot = keccak256(bytes32(0) ++ stateRoot ++ messagePasserStorageRoot ++ blockHash)`,
/// as in the OP Stack's `proposals.md`. From Isthmus on, an L2 header's `withdrawalsRoot`
/// holds the message passer storage root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct OutputRootV0 {
    /// State root of the L2 block.
    pub state_root: B256,
    /// Storage root of [`L2_TO_L1_MESSAGE_PASSER`] after the L2 block.
    pub message_passer_storage_root: B256,
    /// Hash of the L2 block.
    pub block_hash: B256,
}

impl OutputRootV0 {
    /// Length of the hashed preimage: version plus three 32-byte fields.
    pub const ENCODED_LEN: usize = 128;

    /// The 128-byte preimage `version ++ stateRoot ++ messagePasserStorageRoot ++ blockHash`.
    pub fn encode(&self) -> [u8; Self::ENCODED_LEN] {
        let mut out = [0u8; Self::ENCODED_LEN];
        let parts = [
            OUTPUT_ROOT_VERSION_V0,
            self.state_root,
            self.message_passer_storage_root,
            self.block_hash,
        ];
        for (chunk, part) in out.chunks_exact_mut(32).zip(parts) {
            chunk.copy_from_slice(part.as_slice());
        }
        out
    }

    /// The output root: `keccak256` of [`Self::encode`].
    pub fn hash(&self) -> B256 {
        keccak256(self.encode())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::b256;

    #[test]
    fn message_passer_address_is_the_predeploy() {
        assert_eq!(
            L2_TO_L1_MESSAGE_PASSER.to_string().to_lowercase(),
            "0x4200000000000000000000000000000000000016"
        );
    }

    #[test]
    fn hash_matches_the_formula_on_fixed_inputs() {
        let root = OutputRootV0 {
            state_root: B256::repeat_byte(0x11),
            message_passer_storage_root: B256::repeat_byte(0x22),
            block_hash: B256::repeat_byte(0x33),
        };
        let mut preimage = Vec::with_capacity(128);
        preimage.extend_from_slice(&[0u8; 32]);
        preimage.extend_from_slice(&[0x11; 32]);
        preimage.extend_from_slice(&[0x22; 32]);
        preimage.extend_from_slice(&[0x33; 32]);
        assert_eq!(root.encode().as_slice(), preimage.as_slice());
        assert_eq!(root.hash(), keccak256(&preimage));
        // Computed independently with `cast keccak` over the same 128-byte preimage.
        assert_eq!(
            root.hash(),
            b256!("0xd50bf2ff34ced71be0d2f0be7c2433c6b39d9c3b16c95daf1ed6f24b7578a3b2")
        );
    }

    /// The vector kona (op-rs/kona, `protocol/protocol/src/output_root.rs`) publishes for
    /// `(stateRoot, storageRoot, blockHash) = (0xbeef, 0xbabe, 0xc0de)`, left-padded.
    #[test]
    fn reproduces_the_published_kona_vector() {
        let root = OutputRootV0 {
            state_root: B256::left_padding_from(&[0xbe, 0xef]),
            message_passer_storage_root: B256::left_padding_from(&[0xba, 0xbe]),
            block_hash: B256::left_padding_from(&[0xc0, 0xde]),
        };
        assert_eq!(
            root.hash(),
            b256!("0x0c39fb6b07cf6694b13e63e59f7b15255be1c93a4d6d3e0da6c99729647c0d11")
        );
    }

    #[test]
    fn every_field_changes_the_root() {
        let base = OutputRootV0::default();
        let variants = [
            OutputRootV0 {
                state_root: B256::with_last_byte(1),
                ..base
            },
            OutputRootV0 {
                message_passer_storage_root: B256::with_last_byte(1),
                ..base
            },
            OutputRootV0 {
                block_hash: B256::with_last_byte(1),
                ..base
            },
        ];
        let mut hashes: Vec<B256> = variants.iter().map(OutputRootV0::hash).collect();
        hashes.push(base.hash());
        hashes.sort();
        hashes.dedup();
        assert_eq!(hashes.len(), 4);
        assert_eq!(base.hash(), keccak256([0u8; 128]));
    }
}
