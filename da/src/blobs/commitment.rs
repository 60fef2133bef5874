//! The commitment of a blob submission (`0x02 ++ tx hash ++ versioned hashes`) and the
//! check of blobs read back against it.

use alloy_primitives::{B256, Bytes};

use super::{BLOB_SIZE, MAX_BLOB_DATA_SIZE, MAX_BLOBS_PER_TX, decode_blob, kzg};
use crate::{DaError, DaReference};

/// Commitment version of a blob transaction: `0x02 ++ tx_hash ++ versioned_hash...`, the
/// versioned hashes of the blobs holding the submission, in order.
pub const BLOB_TX_COMMITMENT_VERSION: u8 = 0x02;

/// The reference of a confirmed blob transaction at `(height, index)`.
pub(super) fn blob_reference(
    height: u64,
    index: u32,
    tx_hash: B256,
    hashes: &[B256],
) -> DaReference {
    let mut commitment = Vec::with_capacity(1 + 32 * (1 + hashes.len()));
    commitment.push(BLOB_TX_COMMITMENT_VERSION);
    commitment.extend_from_slice(tx_hash.as_slice());
    hashes
        .iter()
        .for_each(|h| commitment.extend_from_slice(h.as_slice()));
    DaReference::new(height, index, commitment.into())
}

/// The transaction hash and versioned hashes of a blob reference.
pub(super) fn parse_commitment(reference: &DaReference) -> Result<(B256, Vec<B256>), DaError> {
    match reference.version() {
        Some(BLOB_TX_COMMITMENT_VERSION) => {}
        Some(v) => {
            return Err(DaError::InvalidReference(format!(
                "expected a blob transaction commitment (version \
                 {BLOB_TX_COMMITMENT_VERSION:#04x}), got version {v:#04x}"
            )));
        }
        None => return Err(DaError::InvalidReference("empty commitment".into())),
    }
    let body = reference.body();
    let blobs = (body.len() / 32).saturating_sub(1);
    if !body.len().is_multiple_of(32) || blobs == 0 || blobs > MAX_BLOBS_PER_TX {
        return Err(DaError::InvalidReference(format!(
            "a blob transaction commitment body is a tx hash and 1..={MAX_BLOBS_PER_TX} \
             versioned hashes, got {} bytes",
            body.len()
        )));
    }
    let mut words = body.chunks_exact(32).map(B256::from_slice);
    let tx_hash = words.next().unwrap_or_default();
    Ok((tx_hash, words.collect()))
}

/// Picks the blobs of `expected` out of `candidates` by recomputing every candidate's
/// versioned hash, and decodes them, in order, into the submitted bytes.
pub(super) fn decode_verified(
    height: u64,
    expected: &[B256],
    candidates: &[Bytes],
) -> Result<Bytes, DaError> {
    let mut by_hash = std::collections::HashMap::with_capacity(candidates.len());
    for blob in candidates {
        by_hash.insert(kzg::versioned_hash(blob)?, blob);
    }
    let mut data = Vec::with_capacity(expected.len() * MAX_BLOB_DATA_SIZE);
    for (i, hash) in expected.iter().enumerate() {
        let Some(blob) = by_hash.get(hash) else {
            // Name what was served instead, if anything, at the same position.
            let actual = candidates
                .get(i)
                .map_or(Ok(B256::ZERO), |b| kzg::versioned_hash(b))?;
            return Err(DaError::Corrupted {
                height,
                expected: *hash,
                actual,
            });
        };
        let blob: &[u8; BLOB_SIZE] = blob
            .as_ref()
            .try_into()
            .map_err(|_| DaError::InvalidBlob("blob of the wrong size".into()))?;
        data.extend_from_slice(&decode_blob(blob)?);
    }
    Ok(data.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SidecarFormat;

    #[test]
    fn commitments_round_trip_and_reject_bad_input() {
        let hashes = [B256::repeat_byte(1), B256::repeat_byte(2)];
        let r = blob_reference(7, 3, B256::repeat_byte(9), &hashes);
        assert_eq!(r.version(), Some(BLOB_TX_COMMITMENT_VERSION));
        let (tx, parsed) = parse_commitment(&r).unwrap();
        assert_eq!((tx, parsed.as_slice()), (B256::repeat_byte(9), &hashes[..]));
        let bad = |bytes: Vec<u8>| parse_commitment(&DaReference::new(1, 0, bytes.into()));
        assert!(bad(vec![]).is_err());
        assert!(bad([vec![2u8], vec![0; 32]].concat()).is_err(), "no blob");
        assert!(bad([vec![2u8], vec![0; 70]].concat()).is_err(), "ragged");
        assert!(
            bad([vec![2u8], vec![0; 32 * 8]].concat()).is_err(),
            "too many"
        );
        assert!(
            bad([vec![1u8], vec![0; 64]].concat()).is_err(),
            "calldata ref"
        );
    }

    #[test]
    fn decoding_checks_every_versioned_hash() {
        let chunks: [&[u8]; 2] = [b"first blob", b"second"];
        let sidecar = kzg::build_sidecar(&chunks, SidecarFormat::Eip4844).unwrap();
        let hashes: Vec<B256> = sidecar.versioned_hashes().collect();
        let blobs: Vec<Bytes> = sidecar
            .blobs()
            .iter()
            .map(|b| Bytes::copy_from_slice(b.as_slice()))
            .collect();
        let data = decode_verified(5, &hashes, &blobs).unwrap();
        assert_eq!(data.as_ref(), b"first blobsecond");
        let other = kzg::build_sidecar(&[b"other".as_slice()], SidecarFormat::Eip4844).unwrap();
        let other = Bytes::copy_from_slice(other.blobs()[0].as_slice());
        let block = [blobs[1].clone(), other.clone(), blobs[0].clone()];
        assert_eq!(
            decode_verified(5, &hashes, &block).unwrap(),
            data,
            "picked out of a block's blobs, in the transaction's order"
        );
        assert!(matches!(
            decode_verified(5, &hashes, &[blobs[0].clone(), other]),
            Err(DaError::Corrupted { height: 5, .. })
        ));
        assert!(decode_verified(5, &hashes, &blobs[..1]).is_err());
        let short = [blobs[0].slice(..100), blobs[1].clone()];
        assert!(matches!(
            decode_verified(5, &hashes, &short),
            Err(DaError::InvalidBlob(_))
        ));
    }
}
