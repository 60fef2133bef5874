//! Ordered scans of the hashed tables, optionally overlaid with older values.

use crate::{
    StateResult,
    tables::{AccountRow, slot_of, u256_from},
};
use alloy_primitives::{Address, B256, U256};
use redb::ReadableTable;
use std::{collections::BTreeMap, iter::Peekable};

/// A fallible stream of entries in increasing key order.
pub(crate) type Entries<'a, V> = Box<dyn Iterator<Item = StateResult<(B256, V)>> + 'a>;

/// All accounts by increasing keccak256(address).
pub(crate) fn hashed_accounts<'a, T>(table: &'a T) -> StateResult<Entries<'a, AccountRow>>
where
    T: ReadableTable<&'static [u8; 32], &'static [u8]>,
{
    let iter = table.iter()?.map(|entry| {
        let (key, value) = entry?;
        Ok((B256::from(*key.value()), AccountRow::decode(value.value())?))
    });
    Ok(Box::new(iter))
}

/// The storage of `address` by increasing keccak256(slot).
pub(crate) fn hashed_storage<'a, T>(
    table: &'a T,
    address: Address,
) -> StateResult<Entries<'a, U256>>
where
    T: ReadableTable<&'static [u8; 52], &'static [u8; 32]>,
{
    let (start, end) = address_range(address);
    let iter = table.range::<&[u8; 52]>(&start..=&end)?.map(|entry| {
        let (key, value) = entry?;
        Ok((slot_of(key.value()), u256_from(value.value())))
    });
    Ok(Box::new(iter))
}

/// The first and last 52-byte storage key of `address`.
pub(crate) fn address_range(address: Address) -> ([u8; 52], [u8; 52]) {
    let mut start = [0u8; 52];
    start[..20].copy_from_slice(address.as_slice());
    let mut end = [0xffu8; 52];
    end[..20].copy_from_slice(address.as_slice());
    (start, end)
}

/// Replaces entries of `base` by those of `overlay`: `Some` sets a value, `None` removes the
/// key. Both inputs and the output are in increasing key order.
pub(crate) fn overlay<'a, V: Clone + 'a>(
    base: Entries<'a, V>,
    overlay: BTreeMap<B256, Option<V>>,
) -> Entries<'a, V> {
    Box::new(Overlay {
        base: base.peekable(),
        overlay: overlay.into_iter().peekable(),
    })
}

/// Merge iterator of [`overlay`].
struct Overlay<'a, V> {
    base: Peekable<Entries<'a, V>>,
    overlay: Peekable<std::collections::btree_map::IntoIter<B256, Option<V>>>,
}

impl<V> Overlay<'_, V> {
    /// The key of the next base entry; an error entry sorts first so it is reported.
    fn base_key(&mut self) -> Option<Option<B256>> {
        self.base
            .peek()
            .map(|entry| entry.as_ref().ok().map(|(key, _)| *key))
    }

    /// The next merged entry, which may be a removal (`Ok((key, None))`).
    fn step(&mut self) -> Option<StateResult<(B256, Option<V>)>> {
        let over_key = self.overlay.peek().map(|(key, _)| *key);
        match (self.base_key(), over_key) {
            (None, None) => None,
            (Some(None), _) | (Some(Some(_)), None) => self
                .base
                .next()
                .map(|entry| entry.map(|(k, v)| (k, Some(v)))),
            (Some(Some(base)), Some(over)) if base < over => self
                .base
                .next()
                .map(|entry| entry.map(|(k, v)| (k, Some(v)))),
            (Some(Some(base)), Some(over)) => {
                if base == over {
                    self.base.next();
                }
                self.overlay.next().map(Ok)
            }
            (None, Some(_)) => self.overlay.next().map(Ok),
        }
    }
}

impl<V> Iterator for Overlay<'_, V> {
    type Item = StateResult<(B256, V)>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.step()? {
                Ok((key, Some(value))) => return Some(Ok((key, value))),
                Ok((_, None)) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StateError;

    fn key(i: u8) -> B256 {
        B256::with_last_byte(i)
    }

    fn base(items: &[(u8, u32)]) -> Entries<'static, u32> {
        let v: Vec<_> = items.iter().map(|&(k, v)| Ok((key(k), v))).collect();
        Box::new(v.into_iter())
    }

    #[test]
    fn overlay_sets_replaces_and_removes() {
        let over = BTreeMap::from([
            (key(0), Some(100)),
            (key(2), None),
            (key(3), Some(300)),
            (key(9), Some(900)),
            (key(10), None),
        ]);
        let merged: Vec<_> = overlay(base(&[(1, 1), (2, 2), (3, 3), (5, 5)]), over)
            .map(Result::unwrap)
            .collect();
        let expect = [(0, 100), (1, 1), (3, 300), (5, 5), (9, 900)];
        assert_eq!(merged, expect.map(|(k, v)| (key(k), v)));
    }

    #[test]
    fn overlay_forwards_errors() {
        let items: Vec<StateResult<(B256, u32)>> =
            vec![Ok((key(1), 1)), Err(StateError::Corrupt("x".into()))];
        let merged: Vec<_> = overlay(
            Box::new(items.into_iter()),
            BTreeMap::from([(key(5), Some(5))]),
        )
        .collect();
        assert!(merged[0].is_ok());
        assert!(merged[1].is_err());
        assert_eq!(merged.len(), 3);
    }
}
