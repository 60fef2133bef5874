//! Accounts held by several parts of a [`ChunkedState`](super::ChunkedState) as layers:
//! an account with many slots that every chunk uses (a token) stays in each chunk's part
//! instead of being moved into the part before it, on one thread, as the chunks are taken.
//! A read goes through the layers, latest first; the account's changes are computed from
//! all its layers at the end, as if each had been absorbed into the one before it.
//!
//! A chunk's thread sorts the slots of its accounts with many slots once it has executed
//! it, so that the layers' slots then merge in one pass.

use super::{CachedAccount, DbError, ProviderRead, Slot, account_update, chunks::Updates};
use alloy_primitives::{Address, B256, U256, map::HashMap};
use altius_state::AccountUpdate;
use revm::bytecode::Bytecode;
use std::{borrow::Cow, collections::BTreeMap};

/// An account's slots, sorted by slot.
pub(super) type SortedSlots = Vec<(U256, Slot)>;

/// A part's state of an account, and its slots sorted if its chunk's thread sorted them.
pub(super) type Layer<'s> = (&'s CachedAccount, Option<&'s SortedSlots>);

impl CachedAccount {
    /// Its slots, sorted by slot.
    pub(super) fn sorted_slots(&self) -> SortedSlots {
        let mut slots: SortedSlots = self.storage.iter().map(|(k, s)| (*k, *s)).collect();
        slots.sort_unstable_by_key(|(slot, _)| *slot);
        slots
    }
}

/// Whether the `layers` of an account (the parts holding it, latest first) still give
/// `read`, a value a later part of the block read from the provider below them.
pub(super) fn layers_give<'c>(
    layers: impl Iterator<Item = &'c CachedAccount>,
    read: &ProviderRead,
) -> bool {
    for cached in layers {
        match read {
            ProviderRead::Account(_, value) => return cached.current == *value,
            ProviderRead::Slot(_, slot, value) => match cached.storage.get(slot) {
                Some(known) => return known.current == *value,
                // Storage wiped here reads zero; otherwise the layer below answers.
                None if cached.wiped => return value.is_zero(),
                None => {}
            },
        }
    }
    // None holds the slot: the provider answers, as it did.
    true
}

impl Updates {
    /// The update of the account at `address` held by `layers` (in block order; see
    /// [`layered_update`]); new code is looked up in `code`.
    pub(super) fn layered(
        address: &Address,
        layers: &[Layer<'_>],
        code: &HashMap<B256, Bytecode>,
    ) -> Result<Self, DbError> {
        let mut updates = Self::default();
        if let [(single, None)] = layers {
            updates.push(*address, single.original, single.update(), code)?;
            return Ok(updates);
        }
        let original = layers.first().and_then(|(layer, _)| layer.original);
        updates.push(*address, original, layered_update(layers), code)?;
        Ok(updates)
    }
}

/// What the block did to an account held by the `layers` (in block order), as if each had
/// been absorbed into the one before it.
fn layered_update(layers: &[Layer<'_>]) -> Option<AccountUpdate> {
    let (first, last) = (layers.first()?.0, layers.last()?.0);
    // A wiped layer hides the storage of the layers before it.
    let from = layers.iter().rposition(|(layer, _)| layer.wiped);
    let wiped = from.is_some();
    account_update(first.original, last.current, wiped, || {
        let sorted: Vec<Cow<'_, [(U256, Slot)]>> = layers[from.unwrap_or(0)..]
            .iter()
            .map(|(layer, sorted)| match sorted {
                // Sorted for the layer as it is: a part's accounts with many slots only
                // change their fields afterwards (fees), never their slots.
                Some(sorted) if sorted.len() == layer.storage.len() => Cow::Borrowed(&sorted[..]),
                _ => Cow::Owned(layer.sorted_slots()),
            })
            .collect();
        changed_slots(&sorted, wiped)
    })
}

/// The slots to write, from the slots of each layer (sorted, in block order) from the last
/// wiped one on, if any (`wiped`): each as the latest layer holding it left it, written
/// when it differs from its value before the block (the same in every layer: each read it
/// from the provider), or after a wipe when it is not zero.
fn changed_slots(layers: &[Cow<'_, [(U256, Slot)]>], wiped: bool) -> BTreeMap<U256, U256> {
    let mut next = vec![0; layers.len()];
    let mut changed = Vec::with_capacity(layers.iter().map(|layer| layer.len()).max().unwrap_or(0));
    loop {
        // The lowest slot at the layers' heads, and the latest layer holding it.
        let mut lowest: Option<(usize, &U256)> = None;
        for (index, (layer, at)) in layers.iter().zip(&next).enumerate() {
            if let Some((slot, _)) = layer.get(*at)
                && lowest.is_none_or(|(_, low)| slot <= low)
            {
                lowest = Some((index, slot));
            }
        }
        let Some((latest, &slot)) = lowest else {
            break;
        };
        let value = &layers[latest][next[latest]].1;
        if value.written(wiped) {
            changed.push((slot, value.current));
        }
        for (layer, at) in layers.iter().zip(&mut next) {
            if layer.get(*at).is_some_and(|(held, _)| *held == slot) {
                *at += 1;
            }
        }
    }
    // In order: the map is built in one pass.
    changed.into_iter().collect()
}

#[cfg(test)]
#[path = "db_layers_tests.rs"]
mod tests;
