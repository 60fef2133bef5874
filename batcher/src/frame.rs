//! Frames: channel chunks carried in batcher transactions (`0x00 ++ frame...`).

use std::collections::{BTreeMap, HashMap};

use alloy_primitives::Bytes;
use tracing::{debug, trace};

use crate::{BatcherError, Channel, ChannelId, blob::MAX_BLOB_FRAME_SIZE};

/// Batcher transaction version carrying frames.
pub const DERIVATION_VERSION_0: u8 = 0x00;
/// Fixed frame overhead: `channel_id(16) ++ frame_number(2) ++ length(4) ++ is_last(1)`.
pub const FRAME_OVERHEAD: usize = 23;
/// Largest `frame_data_length` derivation accepts.
pub const MAX_FRAME_LEN: usize = 1_000_000;
/// Default calldata frame size: a 120,000-byte L1 tx minus the version byte.
pub const DEFAULT_CALLDATA_FRAME_SIZE: usize = 119_999;
/// Upper bound on the bytes a [`FrameDecoder`] buffers (`MAX_CHANNEL_BANK_SIZE`, Fjord).
const MAX_PENDING_BYTES: usize = 1_000_000_000;

/// One frame: `channel_id ++ frame_number u16 BE ++ len u32 BE ++ data ++ is_last u8`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The channel this frame belongs to.
    pub channel_id: ChannelId,
    /// Position of the frame in its channel.
    pub number: u16,
    /// A slice of the channel data.
    pub data: Bytes,
    /// Whether this is the channel's last frame.
    pub is_last: bool,
}

impl Frame {
    /// Encoded size in bytes.
    pub fn encoded_len(&self) -> usize {
        FRAME_OVERHEAD + self.data.len()
    }

    /// Appends the encoding; fails if the data exceeds [`MAX_FRAME_LEN`].
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), BatcherError> {
        if self.data.len() > MAX_FRAME_LEN {
            return Err(BatcherError::InvalidFrame(format!(
                "frame data of {} bytes exceeds {MAX_FRAME_LEN}",
                self.data.len()
            )));
        }
        out.extend_from_slice(&self.channel_id.0);
        out.extend_from_slice(&self.number.to_be_bytes());
        out.extend_from_slice(&(self.data.len() as u32).to_be_bytes());
        out.extend_from_slice(&self.data);
        out.push(u8::from(self.is_last));
        Ok(())
    }

    /// Decodes one frame from the front of `buf`, advancing it.
    pub fn decode(buf: &mut &[u8]) -> Result<Self, BatcherError> {
        let eof = || BatcherError::InvalidFrame("truncated frame".into());
        let (header, rest) = buf.split_at_checked(22).ok_or_else(eof)?;
        let (id, header) = header.split_at(16);
        let number = u16::from_be_bytes([header[0], header[1]]);
        let len = u32::from_be_bytes([header[2], header[3], header[4], header[5]]) as usize;
        if len > MAX_FRAME_LEN {
            return Err(BatcherError::InvalidFrame(format!(
                "frame length {len} exceeds {MAX_FRAME_LEN}"
            )));
        }
        let (data, rest) = rest.split_at_checked(len).ok_or_else(eof)?;
        let (is_last, rest) = rest.split_first().ok_or_else(eof)?;
        let is_last = match is_last {
            0 => false,
            1 => true,
            other => {
                return Err(BatcherError::InvalidFrame(format!(
                    "invalid is_last byte {other}"
                )));
            }
        };
        let mut channel_id = [0u8; 16];
        channel_id.copy_from_slice(id);
        *buf = rest;
        Ok(Self {
            channel_id: ChannelId(channel_id),
            number,
            data: Bytes::copy_from_slice(data),
            is_last,
        })
    }
}

/// Encodes batcher transaction data: `0x00 ++ frames`.
pub fn encode_tx_data(frames: &[Frame]) -> Result<Bytes, BatcherError> {
    let mut out = vec![DERIVATION_VERSION_0];
    for frame in frames {
        frame.encode(&mut out)?;
    }
    Ok(out.into())
}

/// Parses batcher transaction data into frames. Like derivation, any malformed frame
/// rejects the whole transaction.
pub fn parse_tx_data(data: &[u8]) -> Result<Vec<Frame>, BatcherError> {
    let (version, mut rest) = data
        .split_first()
        .ok_or_else(|| BatcherError::InvalidFrame("empty tx data".into()))?;
    if *version != DERIVATION_VERSION_0 {
        return Err(BatcherError::InvalidFrame(format!(
            "unsupported derivation version {version}"
        )));
    }
    if rest.is_empty() {
        return Err(BatcherError::InvalidFrame("no frames in tx data".into()));
    }
    let mut frames = Vec::new();
    while !rest.is_empty() {
        frames.push(Frame::decode(&mut rest)?);
    }
    Ok(frames)
}

/// Cuts channels into frames of at most `max_frame_size` encoded bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameEncoder {
    max_frame_size: usize,
}

impl FrameEncoder {
    /// An encoder for frames of at most `max_frame_size` bytes (overhead included).
    pub fn new(max_frame_size: usize) -> Result<Self, BatcherError> {
        if max_frame_size <= FRAME_OVERHEAD {
            return Err(BatcherError::InvalidConfig(format!(
                "max frame size must exceed the {FRAME_OVERHEAD}-byte frame overhead"
            )));
        }
        Ok(Self { max_frame_size })
    }

    /// Calldata frames: [`DEFAULT_CALLDATA_FRAME_SIZE`] bytes.
    pub const fn calldata() -> Self {
        Self {
            max_frame_size: DEFAULT_CALLDATA_FRAME_SIZE,
        }
    }

    /// Blob frames: one frame per blob, [`MAX_BLOB_FRAME_SIZE`] bytes.
    pub const fn blobs() -> Self {
        Self {
            max_frame_size: MAX_BLOB_FRAME_SIZE,
        }
    }

    /// The largest encoded frame this encoder produces.
    pub const fn max_frame_size(&self) -> usize {
        self.max_frame_size
    }

    /// Cuts `channel` into numbered frames; the last one has `is_last` set. An empty
    /// channel yields one empty, last frame.
    pub fn encode(&self, channel: &Channel) -> Result<Vec<Frame>, BatcherError> {
        let chunk = (self.max_frame_size - FRAME_OVERHEAD).min(MAX_FRAME_LEN);
        let count = channel.data.len().div_ceil(chunk).max(1);
        if count > usize::from(u16::MAX) + 1 {
            return Err(BatcherError::InvalidFrame(format!(
                "channel needs {count} frames, over the u16 limit"
            )));
        }
        let frames: Vec<Frame> = (0..count)
            .map(|i| {
                let end = ((i + 1) * chunk).min(channel.data.len());
                Frame {
                    channel_id: channel.id,
                    number: i as u16,
                    data: channel.data.slice(i * chunk..end),
                    is_last: i + 1 == count,
                }
            })
            .collect();
        debug!(target: "altius::batcher", channel = %channel.id, frames = frames.len(), "channel framed");
        Ok(frames)
    }
}

#[derive(Debug, Default)]
struct PendingChannel {
    frames: BTreeMap<u16, Bytes>,
    last: Option<u16>,
}

/// Reassembles channels from frames (the inverse of [`FrameEncoder`]).
///
/// Frames may arrive in any order and interleaved across channels. Duplicate frames, frames
/// past the last one and a second last frame are ignored, as in derivation.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    channels: HashMap<ChannelId, PendingChannel>,
    pending_bytes: usize,
}

impl FrameDecoder {
    /// An empty decoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of channels still missing frames.
    pub fn pending_channels(&self) -> usize {
        self.channels.len()
    }

    /// Parses batcher tx data and adds its frames, returning any channels completed.
    pub fn add_tx_data(&mut self, data: &[u8]) -> Result<Vec<Channel>, BatcherError> {
        let mut done = Vec::new();
        for frame in parse_tx_data(data)? {
            done.extend(self.add_frame(frame)?);
        }
        Ok(done)
    }

    /// Adds one frame, returning the channel if this frame completed it.
    pub fn add_frame(&mut self, frame: Frame) -> Result<Option<Channel>, BatcherError> {
        if let Some(pending) = self.channels.get(&frame.channel_id) {
            let past_last = pending
                .last
                .is_some_and(|l| frame.number > l || frame.is_last);
            if past_last || pending.frames.contains_key(&frame.number) {
                trace!(target: "altius::batcher", channel = %frame.channel_id, number = frame.number, "ignoring frame");
                return Ok(None);
            }
            let max_buffered = pending.frames.last_key_value().map(|(n, _)| *n);
            if frame.is_last && max_buffered.is_some_and(|n| n > frame.number) {
                return Err(BatcherError::InvalidFrame(
                    "last frame precedes buffered frames".into(),
                ));
            }
        }
        if self.pending_bytes.saturating_add(frame.data.len()) > MAX_PENDING_BYTES {
            return Err(BatcherError::InvalidFrame(
                "frame decoder buffer is full".into(),
            ));
        }
        self.pending_bytes += frame.data.len();
        let pending = self.channels.entry(frame.channel_id).or_default();
        if frame.is_last {
            pending.last = Some(frame.number);
        }
        pending.frames.insert(frame.number, frame.data);
        Ok(self.take_if_complete(frame.channel_id))
    }

    fn take_if_complete(&mut self, id: ChannelId) -> Option<Channel> {
        let pending = self.channels.get(&id)?;
        let last = pending.last?;
        if pending.frames.len() != usize::from(last) + 1 {
            return None;
        }
        let pending = self.channels.remove(&id)?;
        let data: Vec<u8> = pending
            .frames
            .into_values()
            .flat_map(|d| d.to_vec())
            .collect();
        self.pending_bytes = self.pending_bytes.saturating_sub(data.len());
        Some(Channel {
            id,
            data: data.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel(len: usize) -> Channel {
        let data: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
        Channel {
            id: ChannelId([0x5a; 16]),
            data: data.into(),
        }
    }

    #[test]
    fn frame_has_exact_layout() {
        let frame = Frame {
            channel_id: ChannelId([1; 16]),
            number: 0x0203,
            data: Bytes::from_static(b"hi"),
            is_last: true,
        };
        let mut out = Vec::new();
        frame.encode(&mut out).unwrap();
        let mut expected = vec![1u8; 16];
        expected.extend([0x02, 0x03, 0, 0, 0, 2, b'h', b'i', 1]);
        assert_eq!(out, expected);
        assert_eq!(out.len(), frame.encoded_len());
        assert_eq!(Frame::decode(&mut out.as_slice()).unwrap(), frame);
    }

    #[test]
    fn oversized_channel_splits_and_reassembles() {
        let encoder = FrameEncoder::new(1_000).unwrap();
        let ch = channel(10_000);
        let frames = encoder.encode(&ch).unwrap();
        assert_eq!(frames.len(), 11);
        assert!(frames.iter().all(|f| f.encoded_len() <= 1_000));
        assert_eq!(frames.iter().filter(|f| f.is_last).count(), 1);
        let mut decoder = FrameDecoder::new();
        let mut done = Vec::new();
        for frame in frames.iter().rev() {
            let tx = encode_tx_data(std::slice::from_ref(frame)).unwrap();
            done.extend(decoder.add_tx_data(&tx).unwrap());
        }
        assert_eq!(done, vec![ch]);
        assert_eq!(decoder.pending_channels(), 0);
    }

    #[test]
    fn exact_multiple_and_empty_channels() {
        let encoder = FrameEncoder::new(FRAME_OVERHEAD + 100).unwrap();
        assert_eq!(encoder.encode(&channel(300)).unwrap().len(), 3);
        let empty = encoder.encode(&channel(0)).unwrap();
        assert_eq!(empty.len(), 1);
        assert!(empty[0].is_last && empty[0].data.is_empty());
        assert!(FrameEncoder::new(FRAME_OVERHEAD).is_err());
        assert_eq!(FrameEncoder::calldata().max_frame_size(), 119_999);
        assert_eq!(FrameEncoder::blobs().max_frame_size(), 130_043);
    }

    #[test]
    fn multiple_frames_per_tx_and_duplicates() {
        let frames = FrameEncoder::new(50)
            .unwrap()
            .encode(&channel(100))
            .unwrap();
        let tx = encode_tx_data(&frames).unwrap();
        assert_eq!(tx[0], DERIVATION_VERSION_0);
        let mut decoder = FrameDecoder::new();
        assert!(decoder.add_frame(frames[0].clone()).unwrap().is_none());
        assert!(decoder.add_frame(frames[0].clone()).unwrap().is_none());
        let done = decoder.add_tx_data(&tx).unwrap();
        assert_eq!(done, vec![channel(100)]);
    }

    #[test]
    fn late_or_inconsistent_frames() {
        let frames = FrameEncoder::new(50).unwrap().encode(&channel(60)).unwrap();
        assert_eq!(frames.len(), 3);
        let mut decoder = FrameDecoder::new();
        assert!(decoder.add_frame(frames[1].clone()).unwrap().is_none());
        let early_last = Frame {
            number: 0,
            is_last: true,
            ..frames[0].clone()
        };
        assert!(decoder.add_frame(early_last).is_err());
        assert!(decoder.add_frame(frames[2].clone()).unwrap().is_none());
        let beyond = Frame {
            number: 9,
            ..frames[1].clone()
        };
        assert!(
            decoder.add_frame(beyond).unwrap().is_none(),
            "frames past the last are ignored"
        );
        assert!(
            decoder.add_frame(frames[2].clone()).unwrap().is_none(),
            "duplicates are ignored"
        );
        assert_eq!(
            decoder.add_frame(frames[0].clone()).unwrap(),
            Some(channel(60))
        );
        assert_eq!(decoder.pending_channels(), 0);
    }

    #[test]
    fn malformed_tx_data_is_rejected() {
        let frames = FrameEncoder::new(50).unwrap().encode(&channel(60)).unwrap();
        let tx = encode_tx_data(&frames).unwrap();
        assert!(parse_tx_data(&[]).is_err());
        assert!(parse_tx_data(&[DERIVATION_VERSION_0]).is_err());
        let mut wrong_version = tx.to_vec();
        wrong_version[0] = 1;
        assert!(parse_tx_data(&wrong_version).is_err());
        let boundaries: Vec<usize> = frames
            .iter()
            .scan(1, |end, f| {
                *end += f.encoded_len();
                Some(*end)
            })
            .collect();
        for cut in (1..tx.len()).filter(|c| !boundaries.contains(c)) {
            assert!(parse_tx_data(&tx[..cut]).is_err(), "cut at {cut}");
        }
        let mut bad_last = tx.to_vec();
        *bad_last.last_mut().unwrap() = 2;
        assert!(parse_tx_data(&bad_last).is_err());
        let mut huge = tx[..1 + 18].to_vec();
        huge.extend(u32::MAX.to_be_bytes());
        assert!(parse_tx_data(&huge).is_err());
    }
}
