//! [`DaReference`]: where a submission landed and how to find it again.

use alloy_primitives::{B256, Bytes};
use serde::{Deserialize, Serialize};

use crate::DaError;

/// Commitment version for a plain `keccak256(data)` commitment (`0x00 ++ hash`), the same
/// layout as the OP alt-DA keccak commitment type.
pub const KECCAK_COMMITMENT_VERSION: u8 = 0x00;

/// Commitment version for an L1 transaction hash (`0x01 ++ tx_hash`), the commitment of the
/// `ethereum-calldata` backend.
pub const L1_TX_COMMITMENT_VERSION: u8 = 0x01;

/// A reference to data published on a DA layer.
///
/// `commitment` is opaque to everyone but the backend that produced it; its first byte is a
/// version so backends can evolve the format. `height` and `index` say where the data
/// landed (the DA block height, or the local sequence number, and the position inside it),
/// which is what the batcher cursor and the safe head track. References order by
/// `(height, index)` first, so they can be compared as cursor positions.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DaReference {
    /// DA height (block number, or the local sequence number) the data landed at.
    pub height: u64,
    /// Position of the data within `height` (tx or blob index; 0 when not meaningful).
    pub index: u32,
    /// Versioned, backend-defined commitment bytes (`version ++ body`).
    pub commitment: Bytes,
}

impl DaReference {
    /// Creates a reference from its parts.
    pub const fn new(height: u64, index: u32, commitment: Bytes) -> Self {
        Self {
            height,
            index,
            commitment,
        }
    }

    /// Creates a keccak reference: `commitment = 0x00 ++ hash`.
    pub fn keccak(height: u64, index: u32, hash: B256) -> Self {
        let mut commitment = Vec::with_capacity(1 + B256::len_bytes());
        commitment.push(KECCAK_COMMITMENT_VERSION);
        commitment.extend_from_slice(hash.as_slice());
        Self::new(height, index, commitment.into())
    }

    /// Creates an L1 transaction reference: `commitment = 0x01 ++ tx_hash`.
    pub fn l1_tx(height: u64, index: u32, tx_hash: B256) -> Self {
        let mut commitment = Vec::with_capacity(1 + B256::len_bytes());
        commitment.push(L1_TX_COMMITMENT_VERSION);
        commitment.extend_from_slice(tx_hash.as_slice());
        Self::new(height, index, commitment.into())
    }

    /// The commitment version byte, if the commitment is non-empty.
    pub fn version(&self) -> Option<u8> {
        self.commitment.first().copied()
    }

    /// The commitment body (everything after the version byte).
    pub fn body(&self) -> &[u8] {
        self.commitment.get(1..).unwrap_or_default()
    }

    /// The hash of a keccak reference, or an error for any other commitment.
    pub fn keccak_hash(&self) -> Result<B256, DaError> {
        self.hash_body(KECCAK_COMMITMENT_VERSION, "keccak")
    }

    /// The transaction hash of an L1 transaction reference, or an error for any other
    /// commitment.
    pub fn l1_tx_hash(&self) -> Result<B256, DaError> {
        self.hash_body(L1_TX_COMMITMENT_VERSION, "L1 transaction")
    }

    fn hash_body(&self, version: u8, what: &str) -> Result<B256, DaError> {
        match self.version() {
            Some(v) if v == version => B256::try_from(self.body()).map_err(|_| {
                DaError::InvalidReference(format!(
                    "{what} commitment body must be 32 bytes, got {}",
                    self.body().len()
                ))
            }),
            Some(v) => Err(DaError::InvalidReference(format!(
                "expected a {what} commitment (version {version:#04x}), got version {v:#04x}"
            ))),
            None => Err(DaError::InvalidReference("empty commitment".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::keccak256;

    #[test]
    fn keccak_reference_round_trip() {
        let hash = keccak256(b"hello");
        let r = DaReference::keccak(7, 0, hash);
        assert_eq!(r.version(), Some(KECCAK_COMMITMENT_VERSION));
        assert_eq!(r.commitment.len(), 33);
        assert_eq!(r.keccak_hash().unwrap(), hash);
    }

    #[test]
    fn l1_tx_reference_round_trip() {
        let hash = keccak256(b"tx");
        let r = DaReference::l1_tx(9, 2, hash);
        assert_eq!(r.version(), Some(L1_TX_COMMITMENT_VERSION));
        assert_eq!(r.l1_tx_hash().unwrap(), hash);
        assert!(r.keccak_hash().is_err());
        assert!(DaReference::keccak(9, 2, hash).l1_tx_hash().is_err());
    }

    #[test]
    fn malformed_commitments_are_errors() {
        let empty = DaReference::new(1, 0, Bytes::new());
        assert!(empty.keccak_hash().is_err());
        assert_eq!(empty.body(), &[] as &[u8]);
        let short = DaReference::new(1, 0, Bytes::from_static(&[0, 1, 2]));
        assert!(short.keccak_hash().is_err());
        let other = DaReference::new(1, 0, Bytes::from(vec![1u8; 33]));
        assert!(other.keccak_hash().is_err());
    }

    #[test]
    fn references_order_by_position() {
        let a = DaReference::keccak(1, 5, keccak256(b"z"));
        let b = DaReference::keccak(2, 0, keccak256(b"a"));
        let c = DaReference::keccak(2, 1, keccak256(b"a"));
        assert!(a < b && b < c);
    }

    #[test]
    fn serde_round_trip() {
        let r = DaReference::keccak(42, 3, keccak256(b"x"));
        let text = toml::to_string(&r).unwrap();
        assert!(text.contains("height = 42"), "{text}");
        let back: DaReference = toml::from_str(&text).unwrap();
        assert_eq!(back, r);
    }
}
