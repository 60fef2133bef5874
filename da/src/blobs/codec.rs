//! The OP Stack version-0 blob encoding.
//!
//! A blob is 4096 field elements of 32 bytes. Each round packs 127 bytes into four field
//! elements: 4 x 31 "tail" bytes plus 3 bytes spread as 6-bit chunks over the elements' top
//! bytes, so the top two bits of every element stay zero. The first round starts with the
//! encoding version and a 3-byte big-endian length.
//!
//! This is byte-level: the batcher puts `0x00 ++ one frame` into each blob, the
//! `ethereum-blobs` backend encodes whatever bytes it is given.

use crate::DaError;

/// Size of an EIP-4844 blob in bytes.
pub const BLOB_SIZE: usize = 4096 * 32;
/// The blob encoding version (rollup byte 0, blob byte 1).
pub const BLOB_ENCODING_VERSION: u8 = 0;
/// Largest payload one blob carries: `(4 * 31 + 3) * 1024 - 4`.
pub const MAX_BLOB_DATA_SIZE: usize = (4 * 31 + 3) * ROUNDS - HEADER_LEN;
/// Largest frame that fits a blob next to the derivation version byte.
pub const MAX_BLOB_FRAME_SIZE: usize = MAX_BLOB_DATA_SIZE - 1;

const ROUNDS: usize = 1024;
const ROUND_BYTES: usize = 127;
const HEADER_LEN: usize = 4;
const TAIL: usize = 31;
const FE: usize = 32;

/// Encodes `data` (at most [`MAX_BLOB_DATA_SIZE`] bytes) into a blob.
pub fn encode_blob(data: &[u8]) -> Result<Box<[u8; BLOB_SIZE]>, DaError> {
    let mut blob: Box<[u8; BLOB_SIZE]> = vec![0u8; BLOB_SIZE]
        .into_boxed_slice()
        .try_into()
        .map_err(|_| DaError::InvalidBlob("blob allocation".into()))?;
    encode_blob_into(data, &mut blob)?;
    Ok(blob)
}

/// Encodes `data` into `blob` (every byte of it is overwritten), without a copy of the
/// blob on the stack.
pub(crate) fn encode_blob_into(data: &[u8], blob: &mut [u8; BLOB_SIZE]) -> Result<(), DaError> {
    if data.len() > MAX_BLOB_DATA_SIZE {
        return Err(DaError::InvalidBlob(format!(
            "{} bytes exceed the blob capacity of {MAX_BLOB_DATA_SIZE}",
            data.len()
        )));
    }
    let len = data.len() as u32;
    let mut raw = vec![0u8; ROUNDS * ROUND_BYTES];
    raw[0] = BLOB_ENCODING_VERSION;
    raw[1..HEADER_LEN].copy_from_slice(&len.to_be_bytes()[1..]);
    raw[HEADER_LEN..HEADER_LEN + data.len()].copy_from_slice(data);
    for (round, chunk) in raw.chunks_exact(ROUND_BYTES).enumerate() {
        encode_round(chunk, &mut blob[round * 4 * FE..(round + 1) * 4 * FE]);
    }
    Ok(())
}

/// Packs 127 bytes `t0 x t1 y t2 z t3` into four field elements.
fn encode_round(chunk: &[u8], out: &mut [u8]) {
    let (x, y, z) = (chunk[TAIL], chunk[2 * TAIL + 1], chunk[3 * TAIL + 2]);
    let tops = [
        x & 0b0011_1111,
        (y & 0b0000_1111) | ((x & 0b1100_0000) >> 2),
        z & 0b0011_1111,
        ((z & 0b1100_0000) >> 2) | ((y & 0b1111_0000) >> 4),
    ];
    for (j, top) in tops.into_iter().enumerate() {
        let fe = &mut out[j * FE..(j + 1) * FE];
        fe[0] = top;
        fe[1..].copy_from_slice(&chunk[j * (TAIL + 1)..j * (TAIL + 1) + TAIL]);
    }
}

/// Unpacks four field elements into 127 bytes, rejecting elements with high bits set.
fn decode_round(fes: &[u8], out: &mut [u8], round: usize) -> Result<(), DaError> {
    let mut tops = [0u8; 4];
    for (j, top) in tops.iter_mut().enumerate() {
        let fe = &fes[j * FE..(j + 1) * FE];
        if fe[0] & 0b1100_0000 != 0 {
            return Err(DaError::InvalidBlob(format!(
                "field element {} has its top bits set",
                round * 4 + j
            )));
        }
        *top = fe[0];
        out[j * (TAIL + 1)..j * (TAIL + 1) + TAIL].copy_from_slice(&fe[1..]);
    }
    out[TAIL] = (tops[0] & 0b0011_1111) | ((tops[1] & 0b0011_0000) << 2);
    out[2 * TAIL + 1] = (tops[1] & 0b0000_1111) | ((tops[3] & 0b0000_1111) << 4);
    out[3 * TAIL + 2] = (tops[2] & 0b0011_1111) | ((tops[3] & 0b0011_0000) << 2);
    Ok(())
}

/// Decodes a version-0 blob back into its payload, checking the version, the length and
/// that every byte past the payload is zero.
pub fn decode_blob(blob: &[u8; BLOB_SIZE]) -> Result<Vec<u8>, DaError> {
    let mut raw = vec![0u8; ROUNDS * ROUND_BYTES];
    for (round, (fes, out)) in blob
        .chunks_exact(4 * FE)
        .zip(raw.chunks_exact_mut(ROUND_BYTES))
        .enumerate()
    {
        decode_round(fes, out, round)?;
    }
    if raw[0] != BLOB_ENCODING_VERSION {
        return Err(DaError::InvalidBlob(format!(
            "unknown blob encoding version {}",
            raw[0]
        )));
    }
    let len = u32::from_be_bytes([0, raw[1], raw[2], raw[3]]) as usize;
    if len > MAX_BLOB_DATA_SIZE {
        return Err(DaError::InvalidBlob(format!(
            "blob length {len} exceeds capacity"
        )));
    }
    let end = HEADER_LEN + len;
    if raw[end..].iter().any(|b| *b != 0) {
        return Err(DaError::InvalidBlob(
            "non-zero bytes after the payload".into(),
        ));
    }
    raw.truncate(end);
    raw.drain(..HEADER_LEN);
    Ok(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 131 + 7) as u8 | 0xc0).collect()
    }

    #[test]
    fn limits_match_the_spec() {
        assert_eq!(MAX_BLOB_DATA_SIZE, 130_044);
        assert_eq!(MAX_BLOB_FRAME_SIZE, 130_043);
        assert_eq!(BLOB_SIZE, 131_072);
    }

    #[test]
    fn round_trips_at_every_boundary() {
        for len in [
            0,
            1,
            27,
            28,
            123,
            124,
            127,
            250,
            4096,
            MAX_BLOB_DATA_SIZE - 1,
            MAX_BLOB_DATA_SIZE,
        ] {
            let data = pattern(len);
            let blob = encode_blob(&data).unwrap();
            assert!(
                blob.chunks_exact(32).all(|fe| fe[0] & 0xc0 == 0),
                "len {len}"
            );
            assert_eq!(decode_blob(&blob).unwrap(), data, "len {len}");
        }
    }

    #[test]
    fn header_layout_matches_the_spec() {
        let blob = encode_blob(&[0xab; 300]).unwrap();
        assert_eq!(blob[1], BLOB_ENCODING_VERSION);
        assert_eq!(&blob[2..5], &[0x00, 0x01, 0x2c]);
        assert_eq!(&blob[5..32], &[0xab; 27]);
        assert_eq!(blob[0], 0xab & 0x3f);
        assert!(encode_blob(&[]).unwrap().iter().all(|b| *b == 0));
    }

    #[test]
    fn oversized_payload_is_rejected() {
        assert!(encode_blob(&pattern(MAX_BLOB_DATA_SIZE + 1)).is_err());
    }

    /// The op-node decoder's position-based algorithm (`opos`/`ipos` with a reassembly step
    /// per round), written independently of the round-chunk implementation above.
    fn positional_decode(blob: &[u8; BLOB_SIZE]) -> Vec<u8> {
        let len = u32::from_be_bytes([0, blob[2], blob[3], blob[4]]) as usize;
        let mut output = vec![0u8; MAX_BLOB_DATA_SIZE];
        output[0..27].copy_from_slice(&blob[5..32]);
        let (mut opos, mut ipos) = (28usize, 32usize);
        let mut enc = [blob[0], 0, 0, 0];
        let mut round = 0;
        loop {
            let first = if round == 0 { 1 } else { 0 };
            for e in enc.iter_mut().skip(first) {
                *e = blob[ipos];
                let n = 31.min(output.len().saturating_sub(opos));
                output[opos..opos + n].copy_from_slice(&blob[ipos + 1..ipos + 1 + n]);
                opos += 32;
                ipos += 32;
            }
            opos -= 1;
            output[opos - 96] = (enc[0] & 0x3f) | ((enc[1] & 0x30) << 2);
            output[opos - 64] = (enc[1] & 0x0f) | ((enc[3] & 0x0f) << 4);
            output[opos - 32] = (enc[2] & 0x3f) | ((enc[3] & 0x30) << 2);
            round += 1;
            if round == ROUNDS || opos >= len {
                break;
            }
        }
        output.truncate(len);
        output
    }

    #[test]
    fn matches_the_positional_reference_decoder() {
        for len in [0, 5, 123, 124, 250, 1000, 65_537, MAX_BLOB_DATA_SIZE] {
            let data = pattern(len);
            assert_eq!(
                positional_decode(&encode_blob(&data).unwrap()),
                data,
                "len {len}"
            );
        }
    }

    #[test]
    fn malformed_blobs_are_rejected() {
        let good = encode_blob(&pattern(1000)).unwrap();
        let mut bad_version = good.clone();
        bad_version[1] = 1;
        assert!(decode_blob(&bad_version).is_err());
        let mut high_bits = good.clone();
        high_bits[32 * 100] |= 0x80;
        assert!(decode_blob(&high_bits).is_err());
        let mut trailing = good.clone();
        trailing[BLOB_SIZE - 1] = 1;
        assert!(decode_blob(&trailing).is_err());
        let mut trailing_top = good.clone();
        trailing_top[BLOB_SIZE - 32] = 1;
        assert!(decode_blob(&trailing_top).is_err());
        let mut too_long = good;
        too_long[2..5].copy_from_slice(&[0xff, 0xff, 0xff]);
        assert!(decode_blob(&too_long).is_err());
    }
}
