//! KZG commitments, proofs and versioned hashes of blobs, with c-kzg and the Ethereum
//! trusted setup it ships.

use alloy::eips::{
    eip4844::{
        AsCkzg, BYTES_PER_BLOB, Blob, BlobTransactionSidecar, env_settings::EnvKzgSettings,
        kzg_to_versioned_hash,
    },
    eip7594::BlobTransactionSidecarVariant,
};
use alloy_primitives::B256;

use super::{SidecarFormat, codec};
use crate::DaError;

fn kzg_error(what: &str, err: c_kzg::Error) -> DaError {
    DaError::InvalidBlob(format!("{what}: {err}"))
}

/// Encodes every chunk into an OP blob and builds the sidecar: commitments and either one
/// blob proof per blob (EIP-4844) or the cell proofs (EIP-7594; also for `Auto`, which
/// callers resolve first). CPU-heavy: call it on a blocking thread.
pub(super) fn build_sidecar(
    chunks: &[&[u8]],
    format: SidecarFormat,
) -> Result<BlobTransactionSidecarVariant, DaError> {
    let settings = EnvKzgSettings::Default.get();
    let mut blobs = vec![Blob::ZERO; chunks.len()];
    for (chunk, blob) in chunks.iter().zip(&mut blobs) {
        codec::encode_blob_into(chunk, &mut blob.0)?;
    }
    let sidecar = BlobTransactionSidecar::try_from_blobs_with_settings(blobs, settings)
        .map_err(|e| kzg_error("computing KZG commitments and proofs", e))?;
    Ok(match format {
        SidecarFormat::Eip4844 => BlobTransactionSidecarVariant::Eip4844(sidecar),
        SidecarFormat::Eip7594 | SidecarFormat::Auto => BlobTransactionSidecarVariant::Eip7594(
            sidecar
                .try_into_7594(settings)
                .map_err(|e| kzg_error("computing KZG cell proofs", e))?,
        ),
    })
}

/// The versioned hash of `blob` (`0x01 ++ sha256(commitment)[1..]`), recomputing its KZG
/// commitment; an error if the bytes are not a blob of canonical field elements.
pub(super) fn versioned_hash(blob: &[u8]) -> Result<B256, DaError> {
    let blob: &Blob = <&Blob>::try_from(blob).map_err(|_| {
        DaError::InvalidBlob(format!(
            "a blob has {} bytes, expected {BYTES_PER_BLOB}",
            blob.len()
        ))
    })?;
    let commitment = EnvKzgSettings::Default
        .get()
        .blob_to_kzg_commitment(blob.as_ckzg())
        .map_err(|e| kzg_error("computing a KZG commitment", e))?;
    Ok(kzg_to_versioned_hash(commitment.to_bytes().as_slice()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sidecars_commit_to_the_encoded_blobs() {
        let a = vec![0xab; 1000];
        let b = vec![0x01; 10];
        let chunks = [a.as_slice(), b.as_slice()];
        let legacy = build_sidecar(&chunks, SidecarFormat::Eip4844).unwrap();
        let BlobTransactionSidecarVariant::Eip4844(inner) = &legacy else {
            panic!("wrong format");
        };
        inner
            .validate(
                &legacy.versioned_hashes().collect::<Vec<_>>(),
                EnvKzgSettings::Default.get(),
            )
            .unwrap();
        let cells = build_sidecar(&chunks, SidecarFormat::Eip7594).unwrap();
        assert!(matches!(cells, BlobTransactionSidecarVariant::Eip7594(_)));
        let hashes: Vec<B256> = cells.versioned_hashes().collect();
        assert_eq!(hashes, legacy.versioned_hashes().collect::<Vec<_>>());
        for (blob, hash) in cells.blobs().iter().zip(&hashes) {
            assert_eq!(versioned_hash(blob.as_slice()).unwrap(), *hash);
            assert_eq!(hash[0], 0x01);
        }
        assert_eq!(
            codec::decode_blob(&cells.blobs()[0].0).unwrap(),
            a,
            "blob content is the OP encoding"
        );
    }

    #[test]
    fn bad_blobs_are_errors() {
        assert!(versioned_hash(&[0u8; 100]).is_err());
        let non_canonical = vec![0xff; BYTES_PER_BLOB];
        assert!(matches!(
            versioned_hash(&non_canonical),
            Err(DaError::InvalidBlob(_))
        ));
    }
}
