//! Which `safe` blocks are `finalized`: those whose frames, and the frames of every earlier
//! block, sit at DA heights at or below the DA layer's finalized height.

use altius_batcher::SubmittedFrame;
use std::collections::BTreeMap;

/// The confirmed channels not yet finalized, and the finalized head.
#[derive(Debug, Clone, Default)]
pub struct Finality {
    /// Last L2 block of each confirmed channel -> highest DA height of its frames.
    channels: BTreeMap<u64, u64>,
    /// The `safe` head the channels were loaded for.
    loaded: u64,
    finalized: u64,
}

impl Finality {
    /// Starts from the recorded `finalized` head.
    pub fn new(finalized: u64) -> Self {
        Self {
            channels: BTreeMap::new(),
            loaded: 0,
            finalized,
        }
    }

    /// The finalized head.
    pub const fn finalized(&self) -> u64 {
        self.finalized
    }

    /// The `safe` head of the last [`Finality::load`].
    pub const fn loaded(&self) -> u64 {
        self.loaded
    }

    /// Reloads the channels ending after the finalized head and at or before `safe` from
    /// the batcher's frame records.
    pub fn load(&mut self, frames: &[SubmittedFrame], safe: u64) {
        self.channels.clear();
        self.loaded = safe;
        for frame in frames {
            if frame.last_block > self.finalized && frame.last_block <= safe {
                let height = self.channels.entry(frame.last_block).or_default();
                *height = (*height).max(frame.reference.height);
            }
        }
    }

    /// The highest loaded channel end whose frames, and those of every channel before it,
    /// are at heights `<= da_finalized`, if that is above the finalized head.
    pub fn candidate(&self, da_finalized: u64) -> Option<u64> {
        let mut highest = 0;
        let mut head = self.finalized;
        for (&last_block, &height) in &self.channels {
            highest = highest.max(height);
            if highest > da_finalized {
                break;
            }
            head = last_block;
        }
        (head > self.finalized).then_some(head)
    }

    /// Records `head` (once persisted) as the finalized head; it never decreases.
    pub fn commit(&mut self, head: u64) {
        if head > self.finalized {
            self.channels = self.channels.split_off(&head.saturating_add(1));
            self.finalized = head;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::B256;
    use altius_batcher::ChannelId;
    use altius_da::DaReference;

    fn frame(first_block: u64, last_block: u64, height: u64) -> SubmittedFrame {
        SubmittedFrame {
            channel_id: ChannelId([first_block as u8; 16]),
            first_block,
            last_block,
            frame_number: 0,
            reference: DaReference::keccak(height, 0, B256::ZERO),
        }
    }

    fn advance(fin: &mut Finality, da_finalized: u64) -> Option<u64> {
        let head = fin.candidate(da_finalized)?;
        fin.commit(head);
        Some(head)
    }

    #[test]
    fn finalizes_only_channels_at_or_below_the_da_finalized_height() {
        let frames = [
            frame(1, 3, 10),
            frame(1, 3, 12),
            frame(4, 6, 13),
            frame(7, 9, 20),
        ];
        let mut fin = Finality::new(0);
        fin.load(&frames, 6);
        assert_eq!(
            advance(&mut fin, 11),
            None,
            "channel 1..=3 has a frame at 12"
        );
        assert_eq!(advance(&mut fin, 12), Some(3));
        assert_eq!(advance(&mut fin, 100), Some(6), "never beyond safe");
        fin.load(&frames, 9);
        assert_eq!(advance(&mut fin, 19), None);
        assert_eq!(advance(&mut fin, 5), None, "never decreases");
        assert_eq!(fin.finalized(), 6);
        assert_eq!(fin.loaded(), 9);
        assert_eq!(advance(&mut fin, 20), Some(9));
    }

    #[test]
    fn a_later_channel_cannot_finalize_before_an_earlier_one() {
        let frames = [frame(1, 2, 9), frame(3, 4, 5)];
        let mut fin = Finality::new(0);
        fin.load(&frames, 4);
        assert_eq!(advance(&mut fin, 8), None);
        assert_eq!(advance(&mut fin, 9), Some(4));
    }
}
