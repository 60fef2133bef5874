//! Low-level span batch encoding helpers: a bounds-checked reader, unsigned varints and
//! big-endian bit lists.

use crate::BatcherError;

/// Longest valid unsigned varint encoding of a `u64`.
const MAX_UVARINT_LEN: usize = 10;

/// A bounds-checked cursor over a byte slice. Never panics on short input.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) const fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    pub(crate) const fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// The unread bytes; advancing the returned slice does not advance the reader.
    pub(crate) const fn rest(&self) -> &'a [u8] {
        self.buf
    }

    pub(crate) fn advance_to(&mut self, rest: &'a [u8]) {
        self.buf = rest;
    }

    pub(crate) fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], BatcherError> {
        let (head, tail) = self
            .buf
            .split_at_checked(n)
            .ok_or(BatcherError::UnexpectedEof(what))?;
        self.buf = tail;
        Ok(head)
    }

    pub(crate) fn array<const N: usize>(
        &mut self,
        what: &'static str,
    ) -> Result<[u8; N], BatcherError> {
        let bytes = self.take(N, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    /// Reads a Go `binary.Uvarint` (LEB128), rejecting overflow.
    pub(crate) fn uvarint(&mut self, what: &'static str) -> Result<u64, BatcherError> {
        let mut value = 0u64;
        for i in 0..MAX_UVARINT_LEN {
            let byte = *self
                .take(1, what)?
                .first()
                .ok_or(BatcherError::UnexpectedEof(what))?;
            if i == MAX_UVARINT_LEN - 1 && byte > 1 {
                return Err(BatcherError::InvalidSpanBatch(format!(
                    "{what}: uvarint overflows"
                )));
            }
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte < 0x80 {
                return Ok(value);
            }
        }
        Err(BatcherError::InvalidSpanBatch(format!(
            "{what}: uvarint overflows"
        )))
    }

    /// Reads a bit list of `count` bits (big-endian integer, left-padded to whole bytes).
    pub(crate) fn bits(
        &mut self,
        count: usize,
        what: &'static str,
    ) -> Result<Vec<bool>, BatcherError> {
        let bytes = self.take(count.div_ceil(8), what)?;
        let total = bytes.len() * 8;
        let bit = |i: usize| bytes[bytes.len() - 1 - i / 8] >> (i % 8) & 1 == 1;
        if (count..total).any(bit) {
            return Err(BatcherError::InvalidSpanBatch(format!(
                "{what}: bitfield has too many bits"
            )));
        }
        Ok((0..count).map(bit).collect())
    }
}

/// Appends a Go `binary.PutUvarint` (LEB128) encoding of `value`.
pub(crate) fn put_uvarint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Appends `bits` as a big-endian integer (bit `i` is the `i`-th least significant bit),
/// left-padded to whole bytes.
pub(crate) fn put_bits(out: &mut Vec<u8>, bits: &[bool]) {
    let len = bits.len().div_ceil(8);
    let start = out.len();
    out.resize(start + len, 0);
    for (i, _) in bits.iter().enumerate().filter(|(_, b)| **b) {
        out[start + len - 1 - i / 8] |= 1 << (i % 8);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uvarint_round_trip_and_known_encodings() {
        for (value, encoded) in [
            (0u64, vec![0x00]),
            (1, vec![0x01]),
            (127, vec![0x7f]),
            (128, vec![0x80, 0x01]),
            (300, vec![0xac, 0x02]),
            (
                u64::MAX,
                vec![0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
            ),
        ] {
            let mut out = Vec::new();
            put_uvarint(&mut out, value);
            assert_eq!(out, encoded);
            let mut r = Reader::new(&out);
            assert_eq!(r.uvarint("v").unwrap(), value);
            assert_eq!(r.remaining(), 0);
        }
    }

    #[test]
    fn uvarint_rejects_overflow_and_truncation() {
        let overflow = [0xff; 9].into_iter().chain([0x02]).collect::<Vec<_>>();
        assert!(Reader::new(&overflow).uvarint("v").is_err());
        assert!(Reader::new(&[0xff; 11]).uvarint("v").is_err());
        assert!(matches!(
            Reader::new(&[0x80]).uvarint("v"),
            Err(BatcherError::UnexpectedEof(_))
        ));
        assert!(Reader::new(&[]).uvarint("v").is_err());
    }

    #[test]
    fn bits_are_big_endian_and_left_padded() {
        let bits = [
            true, false, false, false, false, false, false, false, false, true,
        ];
        let mut out = Vec::new();
        put_bits(&mut out, &bits);
        assert_eq!(out, vec![0b10, 0b1]);
        assert_eq!(Reader::new(&out).bits(10, "b").unwrap(), bits);
        let mut empty = Vec::new();
        put_bits(&mut empty, &[]);
        assert!(empty.is_empty());
        assert!(Reader::new(&[]).bits(0, "b").unwrap().is_empty());
    }

    #[test]
    fn bits_reject_excess_and_short_input() {
        assert!(Reader::new(&[0b100]).bits(2, "b").is_err());
        assert!(Reader::new(&[0b11]).bits(9, "b").is_err());
    }
}
