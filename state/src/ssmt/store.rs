//! Persistence of trie nodes in redb, one table per shard.
//!
//! Account-trie nodes at paths shorter than the shard depth live in `state_trie_top`; every
//! other node lives in the table of its shard, `state_trie_s{i}`, where `i` is the path
//! prefix of the account (for storage-trie nodes, the prefix of the account's hashed
//! address, so that an account's storage trie sits with its leaf). Keys are
//! `kind ++ [hashed address] ++ packed path ++ path length`, values the node RLP.

use super::{
    NodeWrite, Source,
    node::{self, NodeRef},
};
use crate::{StateError, StateResult};
use alloy_primitives::{B256, keccak256};
use redb::{ReadOnlyTable, ReadTransaction, Table, TableDefinition, WriteTransaction};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Which trie a node belongs to: the account trie, or the storage trie of a hashed address.
pub(crate) type TrieId = Option<B256>;

/// The largest supported shard depth (256 shards).
pub(crate) const MAX_SHARD_DEPTH: usize = 2;

/// Key kind byte of account-trie nodes.
const ACCOUNT_KIND: u8 = 0;
/// Key kind byte of storage-trie nodes.
const STORAGE_KIND: u8 = 1;

/// The table names for `depth`: the top table, then one per shard.
pub(crate) fn table_names(depth: usize) -> Vec<String> {
    let mut names = vec!["state_trie_top".to_owned()];
    names.extend((0..1usize << (4 * depth)).map(|i| format!("state_trie_s{i}")));
    names
}

fn definition(name: &str) -> TableDefinition<'_, &'static [u8], &'static [u8]> {
    TableDefinition::new(name)
}

/// Creates the trie tables of `depth` in `txn`.
pub(crate) fn create_tables(txn: &WriteTransaction, depth: usize) -> StateResult<()> {
    for name in table_names(depth) {
        txn.open_table(definition(&name))?;
    }
    Ok(())
}

/// Index into [`table_names`] of the node of `trie` at `path`.
fn table_index(trie: &TrieId, path: &[u8], depth: usize) -> usize {
    let prefix = match trie {
        None if path.len() < depth => return 0,
        None => path[..depth].to_vec(),
        Some(hashed) => super::nibbles(&hashed[..depth.div_ceil(2)])[..depth].to_vec(),
    };
    1 + prefix
        .iter()
        .fold(0usize, |i, n| (i << 4) | usize::from(*n))
}

/// The key of the node of `trie` at `path`.
fn node_key(trie: &TrieId, path: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + 32 + path.len() / 2 + 2);
    match trie {
        None => key.push(ACCOUNT_KIND),
        Some(hashed) => {
            key.push(STORAGE_KIND);
            key.extend_from_slice(hashed.as_slice());
        }
    }
    key.extend(
        path.chunks(2)
            .map(|p| (p[0] << 4) | p.get(1).copied().unwrap_or(0)),
    );
    // Paths are at most 64 nibbles for state tries; longer raw keys are never stored.
    key.push(path.len() as u8);
    key
}

/// Read access to the stored nodes of the last committed block.
pub(crate) struct StoreReader {
    depth: usize,
    /// Bytes of the nodes loaded so far.
    pub(crate) loaded_bytes: AtomicUsize,
    tables: Vec<ReadOnlyTable<&'static [u8], &'static [u8]>>,
}

impl StoreReader {
    /// Opens the trie tables of `txn`.
    pub(crate) fn new(txn: &ReadTransaction, depth: usize) -> StateResult<Self> {
        let tables = table_names(depth)
            .iter()
            .map(|name| txn.open_table(definition(name)))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            depth,
            tables,
            loaded_bytes: AtomicUsize::new(0),
        })
    }

    /// The node source of one trie.
    pub(crate) fn source(&self, trie: TrieId) -> TrieSource<'_> {
        TrieSource { reader: self, trie }
    }
}

impl std::fmt::Debug for StoreReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreReader")
            .field("depth", &self.depth)
            .finish_non_exhaustive()
    }
}

/// Loads the nodes of one trie from a [`StoreReader`].
#[derive(Debug)]
pub(crate) struct TrieSource<'a> {
    reader: &'a StoreReader,
    trie: TrieId,
}

impl Source for TrieSource<'_> {
    fn load(&self, path: &[u8], hash: B256) -> StateResult<NodeRef> {
        let table = &self.reader.tables[table_index(&self.trie, path, self.reader.depth)];
        let key = node_key(&self.trie, path);
        let value = table
            .get(key.as_slice())?
            .ok_or_else(|| missing(path, hash))?;
        let rlp = value.value();
        self.reader
            .loaded_bytes
            .fetch_add(rlp.len() + key.len(), Ordering::Relaxed);
        if keccak256(rlp) != hash {
            return Err(StateError::Corrupt(format!(
                "trie node at {path:?} does not hash to {hash}"
            )));
        }
        node::decode(rlp)
    }
}

fn missing(path: &[u8], hash: B256) -> StateError {
    StateError::Corrupt(format!("trie node {hash} at path {path:?} is missing"))
}

/// Writes trie nodes in the caller's transaction.
pub(crate) struct StoreWriter<'txn> {
    txn: &'txn WriteTransaction,
    names: Vec<String>,
    depth: usize,
    tables: Vec<Option<Table<'txn, &'static [u8], &'static [u8]>>>,
    /// Bytes of keys and values written so far.
    pub(crate) bytes: u64,
}

impl<'txn> StoreWriter<'txn> {
    /// A writer of the tables of `depth` in `txn`.
    pub(crate) fn new(txn: &'txn WriteTransaction, depth: usize) -> Self {
        let names = table_names(depth);
        let tables = names.iter().map(|_| None).collect();
        Self {
            txn,
            names,
            depth,
            tables,
            bytes: 0,
        }
    }

    fn table(
        &mut self,
        index: usize,
    ) -> StateResult<&mut Table<'txn, &'static [u8], &'static [u8]>> {
        let slot = &mut self.tables[index];
        if slot.is_none() {
            *slot = Some(self.txn.open_table(definition(&self.names[index]))?);
        }
        slot.as_mut()
            .ok_or_else(|| StateError::Database("trie table not open".into()))
    }

    /// Stores the nodes of `trie` (deleting those written with an empty RLP).
    pub(crate) fn write(&mut self, trie: &TrieId, writes: &[NodeWrite]) -> StateResult<()> {
        for (path, rlp) in writes {
            let key = node_key(trie, path);
            let table = self.table(table_index(trie, path, self.depth))?;
            if rlp.is_empty() {
                table.remove(key.as_slice())?;
            } else {
                table.insert(key.as_slice(), rlp.as_slice())?;
                self.bytes += (key.len() + rlp.len()) as u64;
            }
        }
        Ok(())
    }

    /// Deletes the nodes of `trie` at `paths`.
    pub(crate) fn delete(&mut self, trie: &TrieId, paths: &[Box<[u8]>]) -> StateResult<()> {
        for path in paths {
            let index = table_index(trie, path, self.depth);
            self.table(index)?.remove(node_key(trie, path).as_slice())?;
        }
        Ok(())
    }

    /// Deletes all stored nodes of the storage trie of `hashed` (a wiped account).
    pub(crate) fn delete_storage_trie(&mut self, hashed: B256) -> StateResult<()> {
        let trie = Some(hashed);
        let start = node_key(&trie, &[]);
        let mut end = start.clone();
        end.pop();
        end.extend([0xff; 34]);
        let index = table_index(&trie, &[], self.depth);
        self.table(index)?
            .retain_in::<&[u8], _>(start.as_slice()..end.as_slice(), |_, _| false)?;
        Ok(())
    }
}

impl std::fmt::Debug for StoreWriter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreWriter")
            .field("depth", &self.depth)
            .field("bytes", &self.bytes)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_tables() {
        assert_eq!(node_key(&None, &[]), vec![0, 0]);
        assert_eq!(node_key(&None, &[1, 2, 3]), vec![0, 0x12, 0x30, 3]);
        assert_ne!(node_key(&None, &[1, 2, 0]), node_key(&None, &[1, 2]));
        assert_eq!(table_index(&None, &[1], 2), 0);
        assert_eq!(table_index(&None, &[1, 2, 3], 2), 1 + 0x12);
        assert_eq!(table_index(&None, &[5], 0), 1);
        let h = B256::repeat_byte(0xab);
        assert_eq!(table_index(&Some(h), &[], 1), 1 + 0xa);
        assert_eq!(table_index(&Some(h), &[1, 2], 2), 1 + 0xab);
        assert_eq!(table_names(1).len(), 17);
    }
}
