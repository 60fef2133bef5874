//! The sharded, incremental Merkle Patricia trie ("SSMT").
//!
//! A trie is a tree of immutable shared nodes ([`node::NodeRef`]). A block's changes are
//! applied as one sorted batch ([`update::apply`]): only nodes on changed paths are copied,
//! so the previous version stays intact until the block is committed. The trie is split at a
//! configurable prefix depth into shards: below that depth every subtrie is updated and
//! rehashed on its own rayon task, and the few nodes above it are combined last. Nodes that
//! are not in memory are stubs that load from the store by path ([`Source`]).

pub(crate) mod hash;
pub(crate) mod node;
pub(crate) mod proof;
pub(crate) mod store;
pub(crate) mod update;

use crate::{StateError, StateResult};
use alloy_primitives::B256;
pub(crate) use hash::NodeWrite;
use node::{Cell, NodeRef};
pub(crate) use update::Op;

/// Where stub nodes are loaded from.
pub(crate) trait Source: Sync {
    /// The stored node at `path` whose reference hash is `hash`.
    fn load(&self, path: &[u8], hash: B256) -> StateResult<NodeRef>;
}

/// A source for tries held entirely in memory: loading is an error.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NoSource;

impl Source for NoSource {
    fn load(&self, path: &[u8], hash: B256) -> StateResult<NodeRef> {
        Err(StateError::Corrupt(format!(
            "trie node {hash} at path {path:?} is not in memory"
        )))
    }
}

/// A trie version: its root node (`None` when empty).
pub(crate) type Root = Option<NodeRef>;

/// The root node of a stored trie known only by its root hash.
pub(crate) fn stored_root(hash: B256) -> Root {
    (hash != alloy_trie::EMPTY_ROOT_HASH).then(|| Cell::stub(hash))
}

/// The result of a batch update.
#[derive(Debug)]
pub(crate) struct Updated {
    /// The new root node.
    pub(crate) root: Root,
    /// The new root hash.
    pub(crate) hash: B256,
    /// The new nodes to persist.
    pub(crate) writes: Vec<NodeWrite>,
    /// Paths of stored nodes that are gone (to delete before writing `writes`).
    pub(crate) removed: Vec<Box<[u8]>>,
}

/// Sorts `ops` by key, keeping the last change of each key.
pub(crate) fn sort_ops(ops: &mut Vec<Op>) {
    // A stable sort keeps equal keys in input order; keep the last of each run.
    ops.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out: Vec<Op> = Vec::with_capacity(ops.len());
    for op in ops.drain(..) {
        match out.last_mut() {
            Some(last) if last.0 == op.0 => *last = op,
            _ => out.push(op),
        }
    }
    *ops = out;
}

/// Applies `ops` (sorted, unique keys) to `root` and hashes the result, parallel above
/// `shard_depth` nibbles.
pub(crate) fn update(
    source: &dyn Source,
    shard_depth: usize,
    root: Root,
    ops: &[Op],
) -> StateResult<Updated> {
    let removed = parking_lot::Mutex::new(Vec::new());
    let ctx = update::Ctx {
        source,
        par_depth: shard_depth,
        removed: Some(&removed),
    };
    let root = update::apply(ctx, root, 0, ops)?;
    let mut writes = Vec::new();
    let reference = root
        .as_ref()
        .map(|r| hash::hash(r, &mut Vec::new(), shard_depth, &mut writes));
    Ok(Updated {
        hash: node::root_hash(reference.as_ref()),
        root,
        writes,
        removed: removed.into_inner(),
    })
}

/// The number of `ops` per shard (keys by their first `depth` nibbles); keys shorter than
/// `depth` are not counted.
pub(crate) fn shard_loads(ops: &[Op], depth: usize) -> Vec<usize> {
    let mut loads = vec![0usize; 1 << (4 * depth)];
    for (key, _) in ops {
        if let Some(prefix) = key.get(..depth) {
            let index = prefix
                .iter()
                .fold(0usize, |i, n| (i << 4) | usize::from(*n));
            loads[index] += 1;
        }
    }
    loads
}

/// Unpacks bytes into nibbles.
pub(crate) fn nibbles(bytes: &[u8]) -> Box<[u8]> {
    bytes.iter().flat_map(|b| [b >> 4, b & 0x0f]).collect()
}

/// A copy of `root` whose hashed nodes `keep` nibbles or more below the root are replaced by
/// stubs, dropping them from memory; they load again from the store when needed.
pub(crate) fn truncate(root: &NodeRef, keep: usize) -> NodeRef {
    truncate_at(root, 0, keep)
}

fn truncate_at(node: &NodeRef, depth: usize, keep: usize) -> NodeRef {
    let Some(rlp) = node.rlp.get() else {
        return node.clone();
    };
    if depth >= keep {
        return match rlp.as_hash() {
            Some(hash) => Cell::stub(hash),
            None => node.clone(),
        };
    }
    let shape = match &node.node {
        node::Node::Branch { children, value } => {
            let mut kept: Box<node::Children> = Box::default();
            for (slot, child) in kept.iter_mut().zip(children.iter()) {
                *slot = child.as_ref().map(|c| truncate_at(c, depth + 1, keep));
            }
            node::Node::Branch {
                children: kept,
                value: value.clone(),
            }
        }
        node::Node::Ext { key, child } => node::Node::Ext {
            key: key.clone(),
            child: truncate_at(child, depth + key.len(), keep),
        },
        _ => return node.clone(),
    };
    Cell::with_rlp(shape, rlp.clone())
}

/// The number of nodes of `root` held in memory (stubs excluded).
pub(crate) fn nodes_in_memory(root: &NodeRef) -> usize {
    match &root.node {
        node::Node::Stub(_) => 0,
        node::Node::Leaf { .. } => 1,
        node::Node::Ext { child, .. } => 1 + nodes_in_memory(child),
        node::Node::Branch { children, .. } => {
            1 + children
                .iter()
                .flatten()
                .map(nodes_in_memory)
                .sum::<usize>()
        }
    }
}

#[cfg(test)]
mod tests;
