//! The shadow of the storage a transaction touched: which logged value each slot holds.

use super::log::{Def, Kind, Operand, SsaLog};
use alloy_primitives::{Address, U256, map::HashMap};

/// A storage slot: account and key.
pub(crate) type SlotKey = (Address, U256);

/// A slot the transaction touched: its value before the transaction (a logged source) and
/// its value now.
#[derive(Clone, Copy, Debug)]
struct SlotState {
    source: Operand,
    current: Operand,
}

/// Every slot the transaction read or stored to.
#[derive(Debug, Default)]
pub(crate) struct ShadowStorage {
    slots: HashMap<SlotKey, SlotState>,
    /// The slots stored to, in first-store order.
    stored: Vec<SlotKey>,
}

impl ShadowStorage {
    /// The state of `key`; on first touch its value before the transaction, `before()`, is
    /// logged as a source (`None`: unknown, and the log is given up).
    fn slot(
        &mut self,
        log: &mut SsaLog,
        key: SlotKey,
        before: impl FnOnce() -> Option<U256>,
    ) -> Option<SlotState> {
        if let Some(slot) = self.slots.get(&key) {
            return Some(*slot);
        }
        let (address, slot) = key;
        let source = log.push(Kind::Source { address, slot }, before()?);
        let state = SlotState {
            source,
            current: source,
        };
        self.slots.insert(key, state);
        Some(state)
    }

    /// An `SLOAD` of `key` that returned `value`: the definition of the value (`None`: the
    /// shadow disagrees with revm, and the log is given up).
    pub(crate) fn load(&mut self, log: &mut SsaLog, key: SlotKey, value: U256) -> Option<Def> {
        let slot = self.slot(log, key, || Some(value))?;
        (slot.current.value == value).then_some(slot.current.def)
    }

    /// An `SSTORE` of `new` to `key`, whose value before the transaction `original` gives;
    /// logs it (`None`: the original value is unknown).
    pub(crate) fn store(
        &mut self,
        log: &mut SsaLog,
        key: SlotKey,
        new: Operand,
        original: impl FnOnce() -> Option<U256>,
    ) -> Option<()> {
        let slot = self.slot(log, key, original)?;
        let store = Kind::Store {
            original: slot.source,
            present: slot.current,
            new,
        };
        log.push(store, U256::ZERO);
        if !self.stored.contains(&key) {
            self.stored.push(key);
        }
        self.slots.insert(
            key,
            SlotState {
                source: slot.source,
                current: new,
            },
        );
        Some(())
    }

    /// Every slot stored to, in first-store order: its source and the value it was left with.
    pub(crate) fn stored(&self) -> Vec<(Address, U256, Operand, Operand)> {
        self.stored
            .iter()
            .filter_map(|key| {
                let slot = self.slots.get(key)?;
                Some((key.0, key.1, slot.source, slot.current))
            })
            .collect()
    }
}
