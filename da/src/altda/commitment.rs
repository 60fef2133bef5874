//! OP alt-DA commitments (specs `experimental/alt-da.md`) and how they sit in a
//! [`DaReference`].

use alloy_primitives::{B256, Bytes, keccak256};

use crate::{DaError, DaReference};

/// Batcher transaction version of an alt-DA commitment (`TxDataVersion1`): the L1 calldata
/// is `0x01 ++ commitment`.
pub const TX_DATA_VERSION_1: u8 = 0x01;
/// Commitment type of a keccak commitment: `0x00 ++ keccak256(preimage)`.
pub const KECCAK_COMMITMENT_TYPE: u8 = 0x00;
/// Commitment type of a generic commitment: `0x01 ++ da_layer ++ payload`.
pub const GENERIC_COMMITMENT_TYPE: u8 = 0x01;
/// DA layer byte of EigenDA in generic commitments.
pub const EIGENDA_LAYER_BYTE: u8 = 0x00;
/// DA layer byte of Celestia in generic commitments.
pub const CELESTIA_LAYER_BYTE: u8 = 0x0c;
/// Layer bytes are in `[0, 127)`.
const MAX_LAYER_BYTE: u8 = 127;

/// Reference version of an alt-DA commitment kept off L1: `0x01 ++ commitment`, which is
/// exactly the batcher transaction data a derivation would read from L1.
const OFF_L1_REFERENCE: u8 = TX_DATA_VERSION_1;
/// Reference version of an alt-DA commitment posted to L1:
/// `0x02 ++ l1_tx_hash ++ 0x01 ++ commitment`, at the L1 block and tx index of the posting.
const ON_L1_REFERENCE: u8 = 0x02;

/// A decoded alt-DA commitment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AltDaCommitment {
    /// `keccak256` of the preimage; the server stores under it and anyone can verify.
    Keccak(B256),
    /// A DA-layer-specific commitment the server computed.
    Generic {
        /// The DA layer byte (EigenDA 0x00, Celestia 0x0c).
        layer: u8,
        /// The layer's commitment bytes.
        payload: Bytes,
    },
}

impl AltDaCommitment {
    /// The keccak commitment of `preimage`.
    pub fn keccak(preimage: &[u8]) -> Self {
        Self::Keccak(keccak256(preimage))
    }

    /// Decodes `type ++ body`, as `POST /put` returns it and `GET /get/0x…` takes it.
    pub fn decode(bytes: &[u8]) -> Result<Self, DaError> {
        let bad = |why: String| DaError::Backend(format!("malformed alt-DA commitment: {why}"));
        match bytes {
            [] => Err(bad("empty".into())),
            [KECCAK_COMMITMENT_TYPE, hash @ ..] => B256::try_from(hash)
                .map(Self::Keccak)
                .map_err(|_| bad(format!("keccak body of {} bytes, not 32", hash.len()))),
            [GENERIC_COMMITMENT_TYPE] => Err(bad("generic commitment without a layer".into())),
            [GENERIC_COMMITMENT_TYPE, layer, payload @ ..] => {
                if *layer >= MAX_LAYER_BYTE {
                    return Err(bad(format!("DA layer byte {layer:#04x} is out of range")));
                }
                if payload.is_empty() {
                    return Err(bad("generic commitment with an empty payload".into()));
                }
                Ok(Self::Generic {
                    layer: *layer,
                    payload: Bytes::copy_from_slice(payload),
                })
            }
            [other, ..] => Err(bad(format!("unknown commitment type {other:#04x}"))),
        }
    }

    /// `type ++ body`.
    pub fn encode(&self) -> Bytes {
        let mut out = Vec::new();
        match self {
            Self::Keccak(hash) => {
                out.push(KECCAK_COMMITMENT_TYPE);
                out.extend_from_slice(hash.as_slice());
            }
            Self::Generic { layer, payload } => {
                out.extend_from_slice(&[GENERIC_COMMITMENT_TYPE, *layer]);
                out.extend_from_slice(payload);
            }
        }
        out.into()
    }

    /// The batcher transaction data that publishes this commitment on L1: `0x01 ++ type ++ body`.
    pub fn tx_data(&self) -> Bytes {
        [&[TX_DATA_VERSION_1][..], &self.encode()].concat().into()
    }
}

/// Where an alt-DA commitment was published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AltDaReference {
    pub(crate) commitment: AltDaCommitment,
    /// The L1 transaction carrying the commitment, if it was posted to L1.
    pub(crate) l1_tx: Option<B256>,
}

impl AltDaReference {
    /// The reference of a commitment not posted to L1: height and index 0.
    pub(crate) fn off_l1(commitment: &AltDaCommitment) -> DaReference {
        DaReference::new(0, 0, commitment.tx_data())
    }

    /// The reference of a commitment posted to L1 by `tx` at `(height, index)`.
    pub(crate) fn on_l1(
        commitment: &AltDaCommitment,
        height: u64,
        index: u32,
        tx: B256,
    ) -> DaReference {
        let bytes = [&[ON_L1_REFERENCE][..], tx.as_slice(), &commitment.tx_data()].concat();
        DaReference::new(height, index, bytes.into())
    }

    /// Parses a reference made by [`Self::off_l1`] or [`Self::on_l1`].
    pub(crate) fn parse(reference: &DaReference) -> Result<Self, DaError> {
        let invalid = |why: &str| DaError::InvalidReference(format!("alt-DA reference: {why}"));
        let (l1_tx, tx_data) = match reference.commitment.as_ref() {
            [OFF_L1_REFERENCE, ..] => (None, reference.commitment.as_ref()),
            [ON_L1_REFERENCE, rest @ ..] if rest.len() > 32 => {
                (Some(B256::from_slice(&rest[..32])), &rest[32..])
            }
            _ => return Err(invalid("unknown version or truncated")),
        };
        let commitment = match tx_data {
            [TX_DATA_VERSION_1, commitment @ ..] => AltDaCommitment::decode(commitment)
                .map_err(|e| DaError::InvalidReference(e.to_string()))?,
            _ => return Err(invalid("the commitment is not version-1 tx data")),
        };
        Ok(Self { commitment, l1_tx })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commitments_round_trip() {
        let keccak = AltDaCommitment::keccak(b"frames");
        let encoded = keccak.encode();
        assert_eq!(encoded.len(), 33);
        assert_eq!(encoded[0], 0x00);
        assert_eq!(AltDaCommitment::decode(&encoded).unwrap(), keccak);
        assert_eq!(keccak.tx_data()[..2], [0x01, 0x00]);

        let eigen = [0x01, 0x00, 0x02, 0xaa, 0xbb];
        let generic = AltDaCommitment::decode(&eigen).unwrap();
        assert_eq!(
            generic,
            AltDaCommitment::Generic {
                layer: EIGENDA_LAYER_BYTE,
                payload: Bytes::from_static(&[0x02, 0xaa, 0xbb]),
            }
        );
        assert_eq!(generic.encode().as_ref(), eigen);
        assert_eq!(
            generic.tx_data().as_ref(),
            [0x01, 0x01, 0x00, 0x02, 0xaa, 0xbb]
        );
    }

    #[test]
    fn malformed_commitments_are_errors() {
        for bad in [
            &[][..],
            &[0x00, 1, 2],
            &[0x01],
            &[0x01, 0x0c],
            &[0x01, 0x7f, 1],
            &[0x02, 1, 2],
        ] {
            assert!(AltDaCommitment::decode(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn references_round_trip() {
        let c = AltDaCommitment::keccak(b"x");
        let off = AltDaReference::off_l1(&c);
        assert_eq!((off.height, off.index), (0, 0));
        assert_eq!(off.commitment, c.tx_data());
        let parsed = AltDaReference::parse(&off).unwrap();
        assert_eq!((parsed.commitment, parsed.l1_tx), (c.clone(), None));

        let tx = B256::repeat_byte(7);
        let on = AltDaReference::on_l1(&c, 12, 3, tx);
        assert_eq!((on.height, on.index), (12, 3));
        let parsed = AltDaReference::parse(&on).unwrap();
        assert_eq!((parsed.commitment, parsed.l1_tx), (c, Some(tx)));

        for bad in [&[][..], &[0x02; 33], &[0x03, 0x01, 0x00], &[0x01, 0x05]] {
            let r = DaReference::new(0, 0, Bytes::copy_from_slice(bad));
            assert!(
                matches!(AltDaReference::parse(&r), Err(DaError::InvalidReference(_))),
                "{bad:?}"
            );
        }
    }
}
