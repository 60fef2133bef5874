//! Channels: a compressed stream of RLP-encoded batches with a random 16-byte ID.

use std::{fmt, io::Read, io::Write};

use alloy_primitives::{Bytes, hex};
use alloy_rlp::Header;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use tracing::debug;

use crate::{Batch, BatcherError};

/// `MAX_RLP_BYTES_PER_CHANNEL` from Fjord on.
pub const FJORD_MAX_RLP_BYTES_PER_CHANNEL: u64 = 100_000_000;
/// First byte of a brotli channel (Fjord).
const BROTLI_CHANNEL_VERSION: u8 = 0x01;
/// Brotli window size used by the OP batcher.
const BROTLI_LGWIN: u32 = 22;
const BROTLI_BUFFER: usize = 4096;

/// A channel ID: 16 random bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ChannelId(pub [u8; 16]);

impl ChannelId {
    /// Draws a fresh ID from `rng` (pass a seeded RNG for deterministic tests).
    pub fn random<R: RngCore + ?Sized>(rng: &mut R) -> Self {
        let mut id = [0u8; 16];
        rng.fill_bytes(&mut id);
        Self(id)
    }
}

impl fmt::Debug for ChannelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChannelId({self})")
    }
}

impl fmt::Display for ChannelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

/// Channel compression, as named by op-batcher's `compression-algo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum CompressionAlgo {
    /// RFC-1950 zlib (pre-Fjord format), best compression.
    #[serde(rename = "zlib")]
    Zlib,
    /// `0x01 ++ brotli` at quality 9.
    #[serde(rename = "brotli-9")]
    Brotli9,
    /// `0x01 ++ brotli` at quality 10 (the op-batcher default).
    #[default]
    #[serde(rename = "brotli-10")]
    Brotli10,
    /// `0x01 ++ brotli` at quality 11.
    #[serde(rename = "brotli-11")]
    Brotli11,
}

/// Channel limits and compression settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChannelConfig {
    /// Compression algorithm.
    pub compression: CompressionAlgo,
    /// Hard limit on the uncompressed RLP batch stream.
    pub max_rlp_bytes: u64,
    /// Compressed size at which the channel counts as full.
    pub target_size: usize,
    /// Expected compressed/uncompressed ratio, used to estimate the compressed size of
    /// data still buffered inside the compressor.
    pub approx_compression_ratio: f64,
}

impl Default for ChannelConfig {
    fn default() -> Self {
        Self {
            compression: CompressionAlgo::default(),
            max_rlp_bytes: FJORD_MAX_RLP_BYTES_PER_CHANNEL,
            target_size: crate::DEFAULT_CALLDATA_FRAME_SIZE - crate::FRAME_OVERHEAD,
            approx_compression_ratio: 0.6,
        }
    }
}

impl ChannelConfig {
    /// Checks the values are usable.
    pub fn validate(&self) -> Result<(), BatcherError> {
        if self.max_rlp_bytes == 0 || self.target_size == 0 {
            return Err(BatcherError::InvalidConfig(
                "channel limits must be non-zero".into(),
            ));
        }
        let ratio = self.approx_compression_ratio;
        if !(ratio.is_finite() && ratio > 0.0 && ratio <= 2.0) {
            return Err(BatcherError::InvalidConfig(format!(
                "approx_compression_ratio must be in (0, 2], got {ratio}"
            )));
        }
        Ok(())
    }
}

enum Compressor {
    Zlib(flate2::write::ZlibEncoder<Vec<u8>>),
    Brotli(Box<brotli::CompressorWriter<Vec<u8>>>),
}

impl Compressor {
    fn new(algo: CompressionAlgo) -> Self {
        let brotli = |quality| {
            let out = vec![BROTLI_CHANNEL_VERSION];
            Self::Brotli(Box::new(brotli::CompressorWriter::new(
                out,
                BROTLI_BUFFER,
                quality,
                BROTLI_LGWIN,
            )))
        };
        match algo {
            CompressionAlgo::Zlib => Self::Zlib(flate2::write::ZlibEncoder::new(
                Vec::new(),
                flate2::Compression::best(),
            )),
            CompressionAlgo::Brotli9 => brotli(9),
            CompressionAlgo::Brotli10 => brotli(10),
            CompressionAlgo::Brotli11 => brotli(11),
        }
    }

    fn write_all(&mut self, data: &[u8]) -> Result<(), BatcherError> {
        let res = match self {
            Self::Zlib(w) => w.write_all(data),
            Self::Brotli(w) => w.write_all(data),
        };
        res.map_err(|e| BatcherError::Compression(e.to_string()))
    }

    fn output_len(&self) -> usize {
        match self {
            Self::Zlib(w) => w.get_ref().len(),
            Self::Brotli(w) => w.get_ref().len(),
        }
    }

    fn finish(self) -> Result<Vec<u8>, BatcherError> {
        match self {
            Self::Zlib(w) => w
                .finish()
                .map_err(|e| BatcherError::Compression(e.to_string())),
            Self::Brotli(mut w) => {
                w.flush()
                    .map_err(|e| BatcherError::Compression(e.to_string()))?;
                Ok(w.into_inner())
            }
        }
    }
}

/// Compresses a whole batch stream in one go, producing finished channel data.
pub(crate) fn compress(algo: CompressionAlgo, stream: &[u8]) -> Result<Vec<u8>, BatcherError> {
    let mut compressor = Compressor::new(algo);
    compressor.write_all(stream)?;
    compressor.finish()
}

/// A finished channel: its ID and compressed data, ready to be cut into frames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    /// The channel ID.
    pub id: ChannelId,
    /// The compressed batch stream (zlib, or `0x01 ++ brotli`).
    pub data: Bytes,
}

impl Channel {
    /// Decompresses the channel and decodes its batches.
    pub fn decode_batches(&self, max_rlp_bytes: u64) -> Result<Vec<Batch>, BatcherError> {
        decode_batch_stream(&decompress_channel(&self.data, max_rlp_bytes)?)
    }
}

/// Accumulates batches into a compressed channel.
pub struct ChannelBuilder {
    id: ChannelId,
    config: ChannelConfig,
    compressor: Compressor,
    rlp_bytes: u64,
    batches: usize,
}

impl fmt::Debug for ChannelBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChannelBuilder")
            .field("id", &self.id)
            .field("config", &self.config)
            .field("rlp_bytes", &self.rlp_bytes)
            .field("batches", &self.batches)
            .finish_non_exhaustive()
    }
}

impl ChannelBuilder {
    /// Starts a channel with a random ID drawn from `rng`.
    pub fn new<R: RngCore + ?Sized>(
        config: ChannelConfig,
        rng: &mut R,
    ) -> Result<Self, BatcherError> {
        Self::with_id(ChannelId::random(rng), config)
    }

    /// Starts a channel with a given ID.
    pub fn with_id(id: ChannelId, config: ChannelConfig) -> Result<Self, BatcherError> {
        config.validate()?;
        let compressor = Compressor::new(config.compression);
        Ok(Self {
            id,
            config,
            compressor,
            rlp_bytes: 0,
            batches: 0,
        })
    }

    /// The channel ID.
    pub const fn id(&self) -> ChannelId {
        self.id
    }

    /// Uncompressed RLP bytes added so far.
    pub const fn rlp_bytes(&self) -> u64 {
        self.rlp_bytes
    }

    /// Number of batches added so far.
    pub const fn batch_count(&self) -> usize {
        self.batches
    }

    /// Appends a batch. Fails with [`BatcherError::ChannelFull`], leaving the channel
    /// unchanged, when it would push the RLP stream past `max_rlp_bytes`, and with
    /// [`BatcherError::InvalidTransaction`] for transactions derivation would reject.
    pub fn add_batch(&mut self, batch: &Batch) -> Result<(), BatcherError> {
        if let Batch::Singular(single) = batch {
            single.check_transactions()?;
        }
        let mut rlp = Vec::new();
        batch.encode_rlp(&mut rlp)?;
        let size = rlp.len() as u64;
        if self.rlp_bytes.saturating_add(size) > self.config.max_rlp_bytes {
            return Err(BatcherError::ChannelFull {
                size,
                max: self.config.max_rlp_bytes,
            });
        }
        self.compressor.write_all(&rlp)?;
        self.rlp_bytes += size;
        self.batches += 1;
        debug!(target: "altius::batcher", channel = %self.id, size, total = self.rlp_bytes, "batch added to channel");
        Ok(())
    }

    /// Estimated compressed size: the larger of the bytes the compressor has emitted and
    /// `rlp_bytes * approx_compression_ratio`.
    pub fn estimated_size(&self) -> usize {
        let estimate = self.rlp_bytes as f64 * self.config.approx_compression_ratio;
        self.compressor.output_len().max(estimate as usize)
    }

    /// Whether the channel has reached its target size and should be closed.
    pub fn is_full(&self) -> bool {
        self.estimated_size() >= self.config.target_size
    }

    /// Closes the compressor and returns the finished channel.
    pub fn finish(self) -> Result<Channel, BatcherError> {
        let data = self.compressor.finish()?;
        debug!(target: "altius::batcher", channel = %self.id, batches = self.batches, rlp = self.rlp_bytes, compressed = data.len(), "channel closed");
        Ok(Channel {
            id: self.id,
            data: data.into(),
        })
    }
}

/// Decompresses channel data (zlib when `byte0 & 0x0f` is 8 or 15, brotli after a `0x01`
/// version byte), refusing more than `max_rlp_bytes` of output.
pub fn decompress_channel(data: &[u8], max_rlp_bytes: u64) -> Result<Vec<u8>, BatcherError> {
    let first = *data
        .first()
        .ok_or(BatcherError::Compression("empty channel".into()))?;
    let mut out = Vec::new();
    let limit = max_rlp_bytes.saturating_add(1);
    let res = if matches!(first & 0x0f, 8 | 15) {
        flate2::read::ZlibDecoder::new(data)
            .take(limit)
            .read_to_end(&mut out)
    } else if first == BROTLI_CHANNEL_VERSION {
        brotli::Decompressor::new(&data[1..], BROTLI_BUFFER)
            .take(limit)
            .read_to_end(&mut out)
    } else {
        return Err(BatcherError::Compression(format!(
            "unknown channel format byte {first:#04x}"
        )));
    };
    match res {
        Ok(_) => {}
        // op-node reads channels lazily, so a stream that was flushed but never terminated
        // (real op-batcher output does this) is valid up to where it stops.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !out.is_empty() => {
            debug!(target: "altius::batcher", size = out.len(), "channel stream is not terminated");
        }
        Err(e) => return Err(BatcherError::Compression(e.to_string())),
    }
    if out.len() as u64 > max_rlp_bytes {
        return Err(BatcherError::Compression(format!(
            "channel decompresses to more than {max_rlp_bytes} bytes"
        )));
    }
    Ok(out)
}

/// Decodes a batch stream: concatenated RLP byte strings of `batch_type ++ content`.
pub fn decode_batch_stream(mut stream: &[u8]) -> Result<Vec<Batch>, BatcherError> {
    let mut batches = Vec::new();
    while !stream.is_empty() {
        let payload = Header::decode_bytes(&mut stream, false)?;
        batches.push(Batch::decode(payload)?);
    }
    Ok(batches)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SingularBatch, test_utils::sample_batches};
    use rand::{SeedableRng, rngs::StdRng};

    const ALGOS: [CompressionAlgo; 4] = [
        CompressionAlgo::Zlib,
        CompressionAlgo::Brotli9,
        CompressionAlgo::Brotli10,
        CompressionAlgo::Brotli11,
    ];

    fn build(algo: CompressionAlgo, batches: &[SingularBatch]) -> Channel {
        let config = ChannelConfig {
            compression: algo,
            ..Default::default()
        };
        let mut builder = ChannelBuilder::new(config, &mut StdRng::seed_from_u64(1)).unwrap();
        for b in batches {
            builder.add_batch(&Batch::Singular(b.clone())).unwrap();
        }
        builder.finish().unwrap()
    }

    /// Strict decoders: they fail unless the compressed stream is properly terminated.
    fn stream_is_terminated(data: &[u8]) -> bool {
        let mut out = Vec::new();
        match data[0] {
            BROTLI_CHANNEL_VERSION => brotli::Decompressor::new(&data[1..], BROTLI_BUFFER)
                .read_to_end(&mut out)
                .is_ok(),
            _ => flate2::read::ZlibDecoder::new(data)
                .read_to_end(&mut out)
                .is_ok(),
        }
    }

    #[test]
    fn channel_ids_are_deterministic_per_seed() {
        let a = ChannelId::random(&mut StdRng::seed_from_u64(7));
        let b = ChannelId::random(&mut StdRng::seed_from_u64(7));
        let c = ChannelId::random(&mut StdRng::seed_from_u64(8));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.to_string().len(), 34);
    }

    #[test]
    fn every_compression_round_trips_with_the_right_format_byte() {
        let batches = sample_batches();
        for algo in ALGOS {
            let channel = build(algo, &batches);
            match algo {
                CompressionAlgo::Zlib => assert_eq!(channel.data[0] & 0x0f, 8),
                _ => assert_eq!(channel.data[0], BROTLI_CHANNEL_VERSION),
            }
            assert!(
                stream_is_terminated(&channel.data),
                "{algo:?} stream must be closed"
            );
            let decoded = channel
                .decode_batches(FJORD_MAX_RLP_BYTES_PER_CHANNEL)
                .unwrap();
            let expected: Vec<_> = batches.iter().cloned().map(Batch::Singular).collect();
            assert_eq!(decoded, expected, "{algo:?}");
        }
    }

    #[test]
    fn max_rlp_bytes_is_enforced_on_both_sides() {
        let batches = sample_batches();
        let mut rlp = Vec::new();
        Batch::Singular(batches[0].clone())
            .encode_rlp(&mut rlp)
            .unwrap();
        let config = ChannelConfig {
            max_rlp_bytes: rlp.len() as u64 + 10,
            ..Default::default()
        };
        let mut builder = ChannelBuilder::with_id(ChannelId::default(), config).unwrap();
        builder
            .add_batch(&Batch::Singular(batches[0].clone()))
            .unwrap();
        let err = builder
            .add_batch(&Batch::Singular(batches[2].clone()))
            .unwrap_err();
        assert!(matches!(err, BatcherError::ChannelFull { .. }));
        assert_eq!(
            (builder.batch_count(), builder.rlp_bytes()),
            (1, rlp.len() as u64)
        );
        let channel = build(CompressionAlgo::Zlib, &batches);
        assert!(channel.decode_batches(rlp.len() as u64).is_err());
    }

    #[test]
    fn target_size_marks_the_channel_full() {
        let config = ChannelConfig {
            target_size: 1_000,
            ..Default::default()
        };
        let mut builder = ChannelBuilder::with_id(ChannelId::default(), config).unwrap();
        assert!(!builder.is_full());
        for b in sample_batches().iter().cycle().take(8) {
            builder.add_batch(&Batch::Singular(b.clone())).unwrap();
        }
        assert!(builder.is_full(), "estimated {}", builder.estimated_size());
    }

    #[test]
    fn bad_configs_and_streams_are_rejected() {
        let bad = ChannelConfig {
            approx_compression_ratio: f64::NAN,
            ..Default::default()
        };
        assert!(ChannelBuilder::with_id(ChannelId::default(), bad).is_err());
        assert!(decompress_channel(&[], 100).is_err());
        assert!(decompress_channel(&[0x02, 0x00], 100).is_err());
        assert!(decompress_channel(&[0x78, 0x00, 0x01], 100).is_err());
        assert!(decode_batch_stream(&[0xc0]).is_err());
        assert!(decode_batch_stream(&[0x83, 0x00]).is_err());
    }

    #[test]
    fn flushed_but_unterminated_zlib_stream_is_accepted() {
        let batches = sample_batches();
        let mut stream = Vec::new();
        Batch::Singular(batches[0].clone())
            .encode_rlp(&mut stream)
            .unwrap();
        let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&stream).unwrap();
        enc.flush().unwrap();
        let unterminated = enc.get_ref().clone();
        assert_eq!(&unterminated[unterminated.len() - 4..], &[0, 0, 0xff, 0xff]);
        let decoded = decompress_channel(&unterminated, FJORD_MAX_RLP_BYTES_PER_CHANNEL).unwrap();
        assert_eq!(decoded, stream);
        assert!(decompress_channel(&unterminated[..2], FJORD_MAX_RLP_BYTES_PER_CHANNEL).is_err());
    }

    #[test]
    fn config_parses_from_toml() {
        let cfg: ChannelConfig = toml::from_str("compression = \"brotli-11\"").unwrap();
        assert_eq!(cfg.compression, CompressionAlgo::Brotli11);
        assert_eq!(cfg.max_rlp_bytes, FJORD_MAX_RLP_BYTES_PER_CHANNEL);
        assert!(toml::from_str::<ChannelConfig>("compression = \"lz4\"").is_err());
        assert!(toml::from_str::<ChannelConfig>("bogus = 1").is_err());
    }
}
