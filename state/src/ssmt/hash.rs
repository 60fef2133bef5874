//! Hashing of changed nodes: only nodes without a cached reference are encoded, bottom-up,
//! with the subtries above the shard depth hashed in parallel. Every newly hashed node that
//! is referenced by hash (and the root) is returned for persistence under its path.

use super::node::{Node, NodeRef, branch_rlp, ext_rlp, leaf_rlp};
use alloy_trie::nodes::RlpNode;
use rayon::prelude::*;
use std::sync::atomic::Ordering;

/// A node to persist: its path (nibbles) and its RLP. An empty RLP deletes the stored node
/// at the path (a stored node was replaced by one small enough to be inlined in its parent).
pub(crate) type NodeWrite = (Box<[u8]>, Vec<u8>);

/// The reference of `node` at `path`, hashing what changed; new stored nodes go to `out`.
pub(crate) fn hash(
    node: &NodeRef,
    path: &mut Vec<u8>,
    par_depth: usize,
    out: &mut Vec<NodeWrite>,
) -> RlpNode {
    if let Some(rlp) = node.rlp.get() {
        return rlp.clone();
    }
    let rlp = match &node.node {
        Node::Stub(hash) => return RlpNode::word_rlp(hash),
        Node::Leaf { key, value } => leaf_rlp(key, value),
        Node::Ext { key, child } => {
            let len = path.len();
            path.extend_from_slice(key);
            let child = hash(child, path, par_depth, out);
            path.truncate(len);
            ext_rlp(key, &child)
        }
        Node::Branch { children, value } => {
            let refs = if path.len() < par_depth {
                par_children(children, path, par_depth, out)
            } else {
                seq_children(children, path, par_depth, out)
            };
            branch_rlp(&refs, value.as_deref())
        }
    };
    let reference = RlpNode::from_rlp(&rlp);
    if rlp.len() >= 32 || path.is_empty() {
        out.push((path.as_slice().into(), rlp));
    } else if node.replaced.load(Ordering::Relaxed) {
        out.push((path.as_slice().into(), Vec::new()));
    }
    // Another thread cannot hash the same new node: each node has one parent.
    let _ = node.rlp.set(reference.clone());
    reference
}

fn seq_children(
    children: &[Option<NodeRef>; 16],
    path: &mut Vec<u8>,
    par_depth: usize,
    out: &mut Vec<NodeWrite>,
) -> [Option<RlpNode>; 16] {
    // Unchanged children first: their independent loads overlap in memory.
    let mut refs: [Option<RlpNode>; 16] = Default::default();
    for (slot, child) in refs.iter_mut().zip(children) {
        *slot = child.as_ref().and_then(|c| c.rlp.get().cloned());
    }
    for (n, child) in children.iter().enumerate() {
        if let (Some(child), None) = (child, &refs[n]) {
            path.push(n as u8);
            refs[n] = Some(hash(child, path, par_depth, out));
            path.pop();
        }
    }
    refs
}

fn par_children(
    children: &[Option<NodeRef>; 16],
    path: &[u8],
    par_depth: usize,
    out: &mut Vec<NodeWrite>,
) -> [Option<RlpNode>; 16] {
    let results: Vec<(usize, RlpNode, Vec<NodeWrite>)> = children
        .par_iter()
        .enumerate()
        .filter_map(|(n, child)| {
            let child = child.as_ref()?;
            let mut own = Vec::new();
            let mut child_path = path.to_vec();
            child_path.push(n as u8);
            let reference = hash(child, &mut child_path, par_depth, &mut own);
            Some((n, reference, own))
        })
        .collect();
    let mut refs: [Option<RlpNode>; 16] = Default::default();
    for (n, reference, own) in results {
        refs[n] = Some(reference);
        out.extend(own);
    }
    refs
}
