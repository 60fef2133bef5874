//! The submitter's persistent cursor: `batcher_`-prefixed tables in the node's database.

use std::sync::Arc;

use alloy_primitives::Bytes;
use altius_da::DaReference;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use crate::{BatcherError, ChannelId};

/// `"confirmed"`: last block of the newest fully submitted channel; `"closed"`: last block
/// put into a closed channel.
const CURSOR: TableDefinition<'_, &str, u64> = TableDefinition::new("batcher_cursor");
/// Submission sequence number -> encoded [`SubmittedFrame`].
const FRAMES: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("batcher_frames");

const KEY_CONFIRMED: &str = "confirmed";
const KEY_CLOSED: &str = "closed";
/// first block, last block, channel id, frame number, DA height, DA index.
const FIXED_LEN: usize = 8 + 8 + 16 + 2 + 8 + 4;

/// One frame the submitter handed to the DA layer, as recorded in the cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmittedFrame {
    /// The channel the frame belongs to.
    pub channel_id: ChannelId,
    /// First L2 block of that channel.
    pub first_block: u64,
    /// Last L2 block of that channel.
    pub last_block: u64,
    /// The frame's number within the channel.
    pub frame_number: u16,
    /// Where the DA layer stored the frame's transaction data.
    pub reference: DaReference,
}

impl SubmittedFrame {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(FIXED_LEN + self.reference.commitment.len());
        out.extend_from_slice(&self.first_block.to_be_bytes());
        out.extend_from_slice(&self.last_block.to_be_bytes());
        out.extend_from_slice(&self.channel_id.0);
        out.extend_from_slice(&self.frame_number.to_be_bytes());
        out.extend_from_slice(&self.reference.height.to_be_bytes());
        out.extend_from_slice(&self.reference.index.to_be_bytes());
        out.extend_from_slice(&self.reference.commitment);
        out
    }

    fn decode(raw: &[u8]) -> Result<Self, BatcherError> {
        if raw.len() < FIXED_LEN {
            return Err(BatcherError::Storage(format!(
                "stored frame record has {} bytes, expected at least {FIXED_LEN}",
                raw.len()
            )));
        }
        let u64_at = |at: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&raw[at..at + 8]);
            u64::from_be_bytes(b)
        };
        let mut id = [0u8; 16];
        id.copy_from_slice(&raw[16..32]);
        let mut index = [0u8; 4];
        index.copy_from_slice(&raw[42..46]);
        Ok(Self {
            first_block: u64_at(0),
            last_block: u64_at(8),
            channel_id: ChannelId(id),
            frame_number: u16::from_be_bytes([raw[32], raw[33]]),
            reference: DaReference::new(
                u64_at(34),
                u32::from_be_bytes(index),
                Bytes::copy_from_slice(&raw[FIXED_LEN..]),
            ),
        })
    }
}

/// Reads and writes the cursor; every write is its own committed transaction.
#[derive(Debug, Clone)]
pub(crate) struct Cursor {
    db: Arc<Database>,
}

impl Cursor {
    /// Opens the tables (creating them) in `db`.
    pub(crate) fn open(db: Arc<Database>) -> Result<Self, BatcherError> {
        let txn = db.begin_write().map_err(BatcherError::storage)?;
        txn.open_table(CURSOR).map_err(BatcherError::storage)?;
        txn.open_table(FRAMES).map_err(BatcherError::storage)?;
        txn.commit().map_err(BatcherError::storage)?;
        Ok(Self { db })
    }

    fn get(&self, key: &str) -> Result<Option<u64>, BatcherError> {
        let txn = self.db.begin_read().map_err(BatcherError::storage)?;
        let table = txn.open_table(CURSOR).map_err(BatcherError::storage)?;
        let value = table.get(key).map_err(BatcherError::storage)?;
        Ok(value.map(|v| v.value()))
    }

    fn set(&self, key: &str, value: u64) -> Result<(), BatcherError> {
        let txn = self.db.begin_write().map_err(BatcherError::storage)?;
        txn.open_table(CURSOR)
            .map_err(BatcherError::storage)?
            .insert(key, value)
            .map_err(BatcherError::storage)?;
        txn.commit().map_err(BatcherError::storage)
    }

    /// Last block of the newest channel whose frames were all submitted.
    pub(crate) fn confirmed(&self) -> Result<Option<u64>, BatcherError> {
        self.get(KEY_CONFIRMED)
    }

    /// Last block put into a closed channel.
    pub(crate) fn closed(&self) -> Result<Option<u64>, BatcherError> {
        self.get(KEY_CLOSED)
    }

    pub(crate) fn set_confirmed(&self, block: u64) -> Result<(), BatcherError> {
        self.set(KEY_CONFIRMED, block)
    }

    pub(crate) fn set_closed(&self, block: u64) -> Result<(), BatcherError> {
        self.set(KEY_CLOSED, block)
    }

    /// Appends a submitted frame.
    pub(crate) fn record_frame(&self, frame: &SubmittedFrame) -> Result<(), BatcherError> {
        let txn = self.db.begin_write().map_err(BatcherError::storage)?;
        {
            let mut table = txn.open_table(FRAMES).map_err(BatcherError::storage)?;
            let next = table
                .last()
                .map_err(BatcherError::storage)?
                .map_or(0, |(k, _)| k.value().saturating_add(1));
            table
                .insert(next, frame.encode().as_slice())
                .map_err(BatcherError::storage)?;
        }
        txn.commit().map_err(BatcherError::storage)
    }

    /// The submitted frames of the channels ending after `block`, oldest first.
    pub(crate) fn frames_after(&self, block: u64) -> Result<Vec<SubmittedFrame>, BatcherError> {
        self.newest_while(|f| f.last_block > block)
    }

    /// The submitted frames at DA heights above `height`, oldest first.
    pub(crate) fn frames_above(&self, height: u64) -> Result<Vec<SubmittedFrame>, BatcherError> {
        self.newest_while(|f| f.reference.height > height)
    }

    /// The newest frames for which `keep` holds, oldest first. Frames are recorded in
    /// block (and so DA height) order, so this reads from the newest back and stops at the
    /// first frame that fails `keep`.
    fn newest_while(
        &self,
        keep: impl Fn(&SubmittedFrame) -> bool,
    ) -> Result<Vec<SubmittedFrame>, BatcherError> {
        let txn = self.db.begin_read().map_err(BatcherError::storage)?;
        let table = txn.open_table(FRAMES).map_err(BatcherError::storage)?;
        let mut out = Vec::new();
        for entry in table.iter().map_err(BatcherError::storage)?.rev() {
            let (_, value) = entry.map_err(BatcherError::storage)?;
            let frame = SubmittedFrame::decode(value.value())?;
            if !keep(&frame) {
                break;
            }
            out.push(frame);
        }
        out.reverse();
        Ok(out)
    }

    /// The most recently recorded frame.
    pub(crate) fn last_frame(&self) -> Result<Option<SubmittedFrame>, BatcherError> {
        let txn = self.db.begin_read().map_err(BatcherError::storage)?;
        let table = txn.open_table(FRAMES).map_err(BatcherError::storage)?;
        let last = table.last().map_err(BatcherError::storage)?;
        last.map(|(_, v)| SubmittedFrame::decode(v.value()))
            .transpose()
    }

    /// Rewinds to `confirmed` in one transaction: the `confirmed` and `closed` marks move
    /// there and the records of the frames of channels starting after it are removed (they
    /// are submitted again). Returns how many records were removed.
    pub(crate) fn rewind(&self, confirmed: u64) -> Result<usize, BatcherError> {
        let txn = self.db.begin_write().map_err(BatcherError::storage)?;
        let mut removed = 0;
        {
            let mut frames = txn.open_table(FRAMES).map_err(BatcherError::storage)?;
            loop {
                let last = frames.last().map_err(BatcherError::storage)?;
                let Some(key) = last
                    .map(|(k, v)| SubmittedFrame::decode(v.value()).map(|f| (k.value(), f)))
                    .transpose()?
                    .filter(|(_, f)| f.first_block > confirmed)
                    .map(|(k, _)| k)
                else {
                    break;
                };
                frames.remove(key).map_err(BatcherError::storage)?;
                removed += 1;
            }
            let mut cursor = txn.open_table(CURSOR).map_err(BatcherError::storage)?;
            for key in [KEY_CONFIRMED, KEY_CLOSED] {
                cursor
                    .insert(key, confirmed)
                    .map_err(BatcherError::storage)?;
            }
        }
        txn.commit().map_err(BatcherError::storage)?;
        Ok(removed)
    }

    /// Every submitted frame, oldest first.
    pub(crate) fn frames(&self) -> Result<Vec<SubmittedFrame>, BatcherError> {
        let txn = self.db.begin_read().map_err(BatcherError::storage)?;
        let table = txn.open_table(FRAMES).map_err(BatcherError::storage)?;
        let mut out = Vec::new();
        for entry in table.iter().map_err(BatcherError::storage)? {
            let (_, value) = entry.map_err(BatcherError::storage)?;
            out.push(SubmittedFrame::decode(value.value())?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::B256;

    #[test]
    fn frame_records_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(Database::create(dir.path().join("c.redb")).unwrap());
        let cursor = Cursor::open(db).unwrap();
        assert_eq!(cursor.confirmed().unwrap(), None);
        let frame = SubmittedFrame {
            channel_id: ChannelId([7; 16]),
            first_block: 3,
            last_block: 9,
            frame_number: 2,
            reference: DaReference::keccak(11, 4, B256::repeat_byte(5)),
        };
        cursor.record_frame(&frame).unwrap();
        cursor.record_frame(&frame).unwrap();
        cursor.set_confirmed(9).unwrap();
        assert_eq!(cursor.frames().unwrap(), vec![frame.clone(), frame]);
        assert_eq!(cursor.confirmed().unwrap(), Some(9));
        assert!(SubmittedFrame::decode(&[0; 3]).is_err());
    }

    #[test]
    fn rewind_drops_the_frames_of_later_channels() {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(Database::create(dir.path().join("c.redb")).unwrap());
        let cursor = Cursor::open(db).unwrap();
        let frame = |first, last, number| SubmittedFrame {
            channel_id: ChannelId([first as u8; 16]),
            first_block: first,
            last_block: last,
            frame_number: number,
            reference: DaReference::keccak(first, 0, B256::ZERO),
        };
        let all = [
            frame(1, 3, 0),
            frame(1, 3, 1),
            frame(4, 5, 0),
            frame(6, 9, 0),
        ];
        all.iter().for_each(|f| cursor.record_frame(f).unwrap());
        cursor.set_confirmed(9).unwrap();
        assert_eq!(cursor.frames_after(3).unwrap(), all[2..].to_vec());
        assert_eq!(cursor.frames_after(9).unwrap(), vec![]);
        assert_eq!(cursor.frames_after(0).unwrap(), all.to_vec());
        // The frame of block n sits at DA height n here.
        assert_eq!(cursor.frames_above(4).unwrap(), all[3..].to_vec());
        assert_eq!(cursor.frames_above(0).unwrap(), all.to_vec());
        assert_eq!(cursor.rewind(3).unwrap(), 2);
        assert_eq!(cursor.frames().unwrap(), all[..2].to_vec());
        assert_eq!(cursor.last_frame().unwrap(), Some(all[1].clone()));
        assert_eq!(
            (cursor.confirmed().unwrap(), cursor.closed().unwrap()),
            (Some(3), Some(3))
        );
        cursor.record_frame(&frame(4, 4, 0)).unwrap();
        assert_eq!(cursor.frames_after(3).unwrap(), vec![frame(4, 4, 0)]);
    }
}
