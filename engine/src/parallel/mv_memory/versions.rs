//! The entries of one key in the multi-version memory.

use super::{Incarnation, TxIndex};

/// What a transaction's entry at a key holds.
#[derive(Debug)]
pub(super) enum Data<V, D> {
    /// A full value.
    Value(V),
    /// Deltas on the value below.
    Deltas(Vec<D>),
    /// The writer is being re-executed: readers wait for it.
    Estimate,
}

/// One transaction's entry at a key.
#[derive(Debug)]
pub(super) struct Entry<V, D> {
    /// The incarnation that wrote it.
    pub(super) incarnation: Incarnation,
    /// What it wrote.
    pub(super) data: Data<V, D>,
}

/// The entries of one key, sorted by transaction. Most keys have one writer, so a small
/// sorted vector beats a tree: one allocation, and transactions finish nearly in order, so
/// inserts land at or near the end.
#[derive(Debug)]
pub(super) struct Versions<V, D>(pub(super) Vec<(TxIndex, Entry<V, D>)>);

impl<V, D> Versions<V, D> {
    pub(super) fn new() -> Self {
        Self(Vec::with_capacity(1))
    }

    pub(super) fn position(&self, tx: TxIndex) -> Result<usize, usize> {
        self.0.binary_search_by_key(&tx, |(writer, _)| *writer)
    }

    /// The entries of transactions below `tx`, in block order.
    pub(super) fn below(
        &self,
        tx: TxIndex,
    ) -> impl DoubleEndedIterator<Item = (&TxIndex, &Entry<V, D>)> {
        let end = self.0.partition_point(|(writer, _)| *writer < tx);
        self.0[..end].iter().map(|(writer, entry)| (writer, entry))
    }

    pub(super) fn insert(&mut self, tx: TxIndex, entry: Entry<V, D>) {
        match self.position(tx) {
            Ok(at) => self.0[at].1 = entry,
            Err(at) => self.0.insert(at, (tx, entry)),
        }
    }

    pub(super) fn remove(&mut self, tx: TxIndex) {
        if let Ok(at) = self.position(tx) {
            self.0.remove(at);
        }
    }

    pub(super) fn get_mut(&mut self, tx: TxIndex) -> Option<&mut Entry<V, D>> {
        let at = self.position(tx).ok()?;
        self.0.get_mut(at).map(|(_, entry)| entry)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// What the key holds after the block: the last full value (`None`: the value before the
    /// block) and the deltas above it, in block order; `None` if an ESTIMATE is left.
    pub(super) fn final_entry(&self) -> Option<FinalEntry<'_, V, D>> {
        let mut deltas = Vec::new();
        let mut value = None;
        for (_, entry) in self.0.iter().rev() {
            match &entry.data {
                Data::Estimate => return None,
                Data::Value(v) => {
                    value = Some(v);
                    break;
                }
                Data::Deltas(d) => deltas.extend(d.iter().rev()),
            }
        }
        deltas.reverse();
        let first_writer = self.0.first().map_or(0, |(tx, _)| *tx);
        let value_writer = value.and_then(|_| {
            self.0
                .iter()
                .rev()
                .find(|(_, entry)| matches!(entry.data, Data::Value(_)))
                .map(|(tx, _)| *tx)
        });
        Some(FinalEntry {
            value,
            deltas,
            first_writer,
            value_writer,
        })
    }
}

/// The value a key holds after the block, before storage is read and deltas are applied.
#[derive(Debug)]
pub(crate) struct FinalEntry<'a, V, D> {
    /// The last full value written; `None`: the value before the block.
    pub(crate) value: Option<&'a V>,
    /// Deltas to apply to it, in block order.
    pub(crate) deltas: Vec<&'a D>,
    /// The first transaction that wrote the key (blamed if storage fails).
    pub(crate) first_writer: TxIndex,
    /// The transaction that wrote `value`.
    pub(crate) value_writer: Option<TxIndex>,
}
