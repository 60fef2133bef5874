//! [`BatcherConfig`]: the `[batcher]` section of the node configuration.

use serde::{Deserialize, Serialize};

use crate::{
    BatcherError, ChannelConfig, CompressionAlgo, DEFAULT_CALLDATA_FRAME_SIZE, FRAME_OVERHEAD,
    MAX_BLOB_FRAME_SIZE,
};

/// The `kind` of the DA backend that carries frames in blobs, one frame per blob.
const BLOBS_DA_KIND: &str = "ethereum-blobs";

/// Which batch format the submitter writes into channels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BatchKind {
    /// One [`crate::SingularBatch`] per block (batch type 0).
    Singular,
    /// One [`crate::SpanBatch`] per channel (batch type 1, Delta and later). Blocks whose
    /// timestamps are not `block_time` apart start a new channel, because a span batch
    /// cannot represent them.
    #[default]
    Span,
}

/// Batch submission settings.
///
/// ```toml
/// [batcher]
/// batch_type = "span"
/// compression = "brotli-10"
/// max_frame_size = 119999
/// target_channel_size = 119976
/// max_channel_duration_blocks = 10
/// max_channel_age_ms = 5000
/// max_backlog_blocks = 600
/// retry_backoff_ms = 500
/// max_retry_backoff_ms = 30000
/// verify_interval_ms = 12000
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BatcherConfig {
    /// `"singular"` or `"span"` (default).
    pub batch_type: BatchKind,
    /// Channel compression: `"zlib"`, `"brotli-9"`, `"brotli-10"` (default), `"brotli-11"`.
    pub compression: CompressionAlgo,
    /// Largest encoded frame in bytes, frame overhead included (default 119,999: one
    /// calldata transaction; with `ethereum-blobs`, 130,043: one blob, see
    /// [`BatcherConfig::sized_for_da`]). Each frame is submitted to the DA layer on its own.
    pub max_frame_size: usize,
    /// Compressed channel size at which a channel is closed (default: one full frame).
    pub target_channel_size: usize,
    /// A channel is closed once it holds this many blocks (default 10).
    pub max_channel_duration_blocks: u64,
    /// A channel is closed once it has been open this long, even without new blocks
    /// (default 5000 ms), so that a quiet chain still becomes safe.
    pub max_channel_age_ms: u64,
    /// Throttle threshold: when more than this many blocks are not yet confirmed on the DA
    /// layer, the sequencer pauses block production (default 600; 0 disables throttling).
    pub max_backlog_blocks: u64,
    /// First delay before retrying a failed DA submission (default 500 ms); it doubles on
    /// each failure up to `max_retry_backoff_ms`. Submissions are retried forever.
    pub retry_backoff_ms: u64,
    /// Longest delay between retries (default 30,000 ms).
    pub max_retry_backoff_ms: u64,
    /// How often the frames of channels that are not finalized are read back from the DA
    /// layer to notice an L1 reorg that dropped them (default 12,000 ms, one L1 slot);
    /// dropped data is submitted again and the `safe` head moves back.
    pub verify_interval_ms: u64,
}

impl Default for BatcherConfig {
    fn default() -> Self {
        Self {
            batch_type: BatchKind::Span,
            compression: CompressionAlgo::Brotli10,
            max_frame_size: DEFAULT_CALLDATA_FRAME_SIZE,
            target_channel_size: DEFAULT_CALLDATA_FRAME_SIZE - FRAME_OVERHEAD,
            max_channel_duration_blocks: 10,
            max_channel_age_ms: 5000,
            max_backlog_blocks: 600,
            retry_backoff_ms: 500,
            max_retry_backoff_ms: 30_000,
            verify_interval_ms: 12_000,
        }
    }
}

impl BatcherConfig {
    /// Checks values that parse but cannot work.
    pub fn validate(&self) -> Result<(), BatcherError> {
        if self.max_frame_size <= FRAME_OVERHEAD {
            return Err(BatcherError::InvalidConfig(format!(
                "batcher.max_frame_size must exceed the {FRAME_OVERHEAD}-byte frame overhead"
            )));
        }
        if self.max_channel_duration_blocks == 0
            || self.max_channel_age_ms == 0
            || self.verify_interval_ms == 0
        {
            return Err(BatcherError::InvalidConfig(
                "batcher.max_channel_duration_blocks, max_channel_age_ms and verify_interval_ms must be > 0".into(),
            ));
        }
        if self.retry_backoff_ms == 0 || self.max_retry_backoff_ms < self.retry_backoff_ms {
            return Err(BatcherError::InvalidConfig(
                "batcher.retry_backoff_ms must be > 0 and <= max_retry_backoff_ms".into(),
            ));
        }
        self.channel_config().validate()
    }

    /// This configuration adjusted to the DA backend `da_kind` (its `DaClient::kind`).
    ///
    /// `ethereum-blobs` carries one frame per blob, so frames may be as large as
    /// [`MAX_BLOB_FRAME_SIZE`] (130,043 bytes) and no larger: the calldata default frame
    /// size (119,999) and the channel target that goes with it become a full blob's, and a
    /// configured `max_frame_size` above a blob's is an error. Other backends keep the
    /// configuration as it is.
    pub fn sized_for_da(mut self, da_kind: &str) -> Result<Self, BatcherError> {
        if da_kind != BLOBS_DA_KIND {
            return Ok(self);
        }
        let defaults = Self::default();
        if self.max_frame_size == defaults.max_frame_size {
            self.max_frame_size = MAX_BLOB_FRAME_SIZE;
            if self.target_channel_size == defaults.target_channel_size {
                self.target_channel_size = MAX_BLOB_FRAME_SIZE - FRAME_OVERHEAD;
            }
        }
        if self.max_frame_size > MAX_BLOB_FRAME_SIZE {
            return Err(BatcherError::InvalidConfig(format!(
                "batcher.max_frame_size {} does not fit a blob: ethereum-blobs carries one \
                 frame of at most {MAX_BLOB_FRAME_SIZE} bytes per blob",
                self.max_frame_size
            )));
        }
        Ok(self)
    }

    /// The channel settings derived from this configuration.
    pub fn channel_config(&self) -> ChannelConfig {
        ChannelConfig {
            compression: self.compression,
            target_size: self.target_channel_size,
            ..ChannelConfig::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse_and_validate() {
        let parsed: BatcherConfig = toml::from_str("").unwrap();
        assert_eq!(parsed, BatcherConfig::default());
        parsed.validate().unwrap();
        let text = "batch_type = \"singular\"\ncompression = \"zlib\"\nmax_frame_size = 500";
        let parsed: BatcherConfig = toml::from_str(text).unwrap();
        assert_eq!(parsed.batch_type, BatchKind::Singular);
        assert_eq!(parsed.compression, CompressionAlgo::Zlib);
        parsed.validate().unwrap();
    }

    #[test]
    fn rejects_unknown_fields_and_bad_values() {
        assert!(toml::from_str::<BatcherConfig>("bogus = 1").is_err());
        assert!(toml::from_str::<BatcherConfig>("batch_type = \"mixed\"").is_err());
        let bad = BatcherConfig {
            max_frame_size: 10,
            ..Default::default()
        };
        assert!(bad.validate().is_err());
        let bad = BatcherConfig {
            retry_backoff_ms: 0,
            ..Default::default()
        };
        assert!(bad.validate().is_err());
    }

    #[test]
    fn frames_are_sized_for_blobs() {
        let calldata = BatcherConfig::default()
            .sized_for_da("ethereum-calldata")
            .unwrap();
        assert_eq!(calldata, BatcherConfig::default());
        let blobs = BatcherConfig::default()
            .sized_for_da("ethereum-blobs")
            .unwrap();
        assert_eq!(blobs.max_frame_size, 130_043);
        assert_eq!(blobs.target_channel_size, 130_043 - FRAME_OVERHEAD);
        blobs.validate().unwrap();
        let small = BatcherConfig {
            max_frame_size: 50_000,
            ..Default::default()
        };
        assert_eq!(
            small.clone().sized_for_da("ethereum-blobs").unwrap(),
            small,
            "an explicit size that fits is kept"
        );
        let big = BatcherConfig {
            max_frame_size: 200_000,
            ..Default::default()
        };
        assert!(big.clone().sized_for_da("ethereum-blobs").is_err());
        assert_eq!(big.clone().sized_for_da("local").unwrap(), big);
    }
}
