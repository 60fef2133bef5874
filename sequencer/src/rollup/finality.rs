//! Which `safe` blocks are `finalized`: those whose frames, and the frames of every earlier
//! block, sit at DA heights at or below the DA layer's finalized height.
//!
//! A DA client may put data on more than one layer (a fallback): frames are grouped by
//! their reference's commitment version, and each group is compared with the finalized
//! height of its own layer.

use altius_batcher::SubmittedFrame;
use altius_da::DaReference;
use std::collections::BTreeMap;

/// A commitment version (`None` for an empty commitment): references with the same one
/// live on the same layer.
pub type Layer = Option<u8>;

/// The confirmed channels not yet finalized, and the finalized head.
#[derive(Debug, Clone, Default)]
pub struct Finality {
    /// Last L2 block of each confirmed channel -> per layer, its frame at the highest DA
    /// height.
    channels: BTreeMap<u64, BTreeMap<Layer, DaReference>>,
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
                let layers = self.channels.entry(frame.last_block).or_default();
                let r = &frame.reference;
                let highest = layers.entry(r.version()).or_insert_with(|| r.clone());
                if r.height > highest.height {
                    *highest = r.clone();
                }
            }
        }
    }

    /// One loaded reference per layer, to ask the DA client for that layer's finalized
    /// height ([`altius_da::DaClient::finalized_height_for`]).
    pub fn layers(&self) -> BTreeMap<Layer, DaReference> {
        let all = self.channels.values().flat_map(|layers| layers.iter());
        all.map(|(layer, r)| (*layer, r.clone())).collect()
    }

    /// The highest loaded channel end whose frames, and those of every channel before it,
    /// are at heights at or below their layer's finalized height (`da_finalized`; a
    /// layer missing there is not final), if that is above the finalized head.
    pub fn candidate(&self, da_finalized: &BTreeMap<Layer, u64>) -> Option<u64> {
        let mut head = self.finalized;
        for (&last_block, layers) in &self.channels {
            let is_final = layers
                .iter()
                .all(|(layer, r)| da_finalized.get(layer).is_some_and(|&f| r.height <= f));
            if !is_final {
                break;
            }
            head = last_block;
        }
        (head > self.finalized).then_some(head)
    }

    /// Drops the loaded channels (after the submitter rewound, its frame records changed),
    /// so that the next [`Finality::load`] happens.
    pub fn forget_loaded(&mut self) {
        self.channels.clear();
        self.loaded = 0;
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
        let keccak = Some(altius_da::KECCAK_COMMITMENT_VERSION);
        let head = fin.candidate(&BTreeMap::from([(keccak, da_finalized)]))?;
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

    #[test]
    fn each_layer_is_compared_with_its_own_finalized_height() {
        let mut fallback = frame(3, 4, 7);
        fallback.reference = DaReference::new(7, 0, vec![0xfe, 1].into());
        let frames = [frame(1, 2, 900), fallback, frame(5, 6, 901)];
        let mut fin = Finality::new(0);
        fin.load(&frames, 6);
        let layers = fin.layers();
        assert_eq!(layers.len(), 2);
        assert_eq!(layers[&Some(0xfe)].height, 7);
        let heights =
            |primary, fallback| BTreeMap::from([(Some(0), primary), (Some(0xfe), fallback)]);
        assert_eq!(
            fin.candidate(&heights(1000, 6)),
            Some(2),
            "the fallback frame is not final"
        );
        assert_eq!(fin.candidate(&heights(900, 7)), Some(4));
        assert_eq!(fin.candidate(&heights(1000, 7)), Some(6));
        assert_eq!(
            fin.candidate(&BTreeMap::from([(Some(0), 1000)])),
            Some(2),
            "unknown layer"
        );
        fin.forget_loaded();
        assert_eq!((fin.loaded(), fin.layers().len()), (0, 0));
    }
}
