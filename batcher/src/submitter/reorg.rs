//! [`BatchSubmitter::verify`]: noticing confirmed frames that left the DA layer (an L1
//! reorg dropped their transactions) and rewinding so that they are submitted again.

use altius_da::DaError;
use tracing::{debug, warn};

use super::BatchSubmitter;
use crate::{BatcherError, SubmittedFrame};

/// Whether a fetch error means the data is gone from the DA layer (rather than that the
/// layer could not be asked).
const fn is_lost(error: &DaError) -> bool {
    matches!(
        error,
        DaError::NotCanonical { .. } | DaError::NotFound { .. } | DaError::Corrupted { .. }
    )
}

impl BatchSubmitter {
    /// Reads back from the DA layer every confirmed frame of the channels ending after
    /// `after_block` (pass the `finalized` head: final data is not checked again).
    ///
    /// When a frame is gone, the submitter rewinds: the blocks from the first block of
    /// that frame's channel on are no longer confirmed, the open channel is dropped, the
    /// frame records of that channel and later ones are removed, and the next
    /// [`Self::catch_up`] submits those blocks again in new channels. Returns the new
    /// confirmed block after a rewind, `None` when every frame is still there or the DA
    /// layer could not be asked (then nothing changes; call again later).
    pub async fn verify(&mut self, after_block: u64) -> Result<Option<u64>, BatcherError> {
        let frames = self.cursor.frames_after(after_block)?;
        self.check(&frames).await
    }

    /// Like [`Self::verify`], for the frames at DA heights above `da_height`, whatever
    /// their blocks: for when the DA layer's finalized height went back (a reorg deeper
    /// than finality, as when a development L1 is reverted or restarted).
    pub async fn verify_above(&mut self, da_height: u64) -> Result<Option<u64>, BatcherError> {
        let frames = self.cursor.frames_above(da_height)?;
        self.check(&frames).await
    }

    async fn check(&mut self, frames: &[SubmittedFrame]) -> Result<Option<u64>, BatcherError> {
        let confirmed = frames.iter().filter(|f| f.last_block <= self.confirmed);
        for frame in confirmed {
            match self.da.fetch(&frame.reference).await {
                Ok(_) => {}
                Err(e) if is_lost(&e) => return self.rewind(frame, &e).map(Some),
                Err(e) => {
                    debug!(target: "altius::batcher", error = %e, "cannot check submitted frames now");
                    return Ok(None);
                }
            }
        }
        Ok(None)
    }

    /// Rewinds to the block before `lost`'s channel.
    fn rewind(&mut self, lost: &SubmittedFrame, error: &DaError) -> Result<u64, BatcherError> {
        let confirmed = lost.first_block.saturating_sub(1);
        let removed = self.cursor.rewind(confirmed)?;
        warn!(
            target: "altius::batcher",
            channel = %lost.channel_id,
            first = lost.first_block,
            da_height = lost.reference.height,
            %error,
            removed_frames = removed,
            was_confirmed = self.confirmed,
            confirmed,
            "batch data left the DA layer (reorg?): submitting again from block {}",
            lost.first_block,
        );
        self.open = None;
        self.confirmed = confirmed;
        self.next_block = confirmed.saturating_add(1);
        self.unconfirmed_bytes.clear();
        self.stats.set_backlog_bytes(0);
        self.stats.set_confirmed_block(confirmed);
        let last = self.cursor.last_frame()?;
        self.stats
            .set_last_da_height(last.map_or(0, |f| f.reference.height));
        self.stats.count_rewind();
        Ok(confirmed)
    }
}
