//! Batched updates: a sorted batch of key changes is pushed down the trie, copying only the
//! nodes on changed paths; the subtries of different prefixes above the shard depth are
//! updated in parallel.

use super::{
    Source,
    node::{Cell, Children, Node, NodeRef},
};
use crate::StateResult;
use parking_lot::Mutex;
use rayon::prelude::*;
use std::sync::{Arc, atomic::Ordering};

/// A key change: the full key (nibbles) and its new value, `None` to delete it.
pub(crate) type Op = (Box<[u8]>, Option<Box<[u8]>>);

/// Fewer changes than this under one node are not worth a parallel split.
const PAR_MIN_OPS: usize = 16;

/// What an update needs besides the nodes: where stubs load from and the shard depth.
#[derive(Clone, Copy)]
pub(crate) struct Ctx<'a> {
    /// Loads stored nodes by path.
    pub(crate) source: &'a dyn Source,
    /// Subtries below this depth are updated and hashed in parallel.
    pub(crate) par_depth: usize,
    /// Paths of stored nodes that no longer exist after the update.
    pub(crate) removed: Option<&'a Mutex<Vec<Box<[u8]>>>>,
}

impl Ctx<'_> {
    /// Records that the node `old` at `path` is gone, if a stored node was at its path.
    fn removed(&self, old: Option<&NodeRef>, path: &[u8]) {
        let stored = old.is_some_and(|n| n.holds_stored_path());
        if let (true, Some(removed)) = (stored, self.removed) {
            removed.lock().push(path.into());
        }
    }
}

/// Applies `ops` (keys strictly increasing, all starting with the node's path of length
/// `depth`) to the trie rooted at `node`.
pub(crate) fn apply(
    ctx: Ctx<'_>,
    node: Option<NodeRef>,
    depth: usize,
    ops: &[Op],
) -> StateResult<Option<NodeRef>> {
    let Some(first) = ops.first() else {
        return Ok(node);
    };
    let old = node.clone();
    let new = apply_changes(ctx, node, depth, ops)?;
    match (&old, &new) {
        (_, None) => ctx.removed(old.as_ref(), &first.0[..depth]),
        (Some(old), Some(new)) if !Arc::ptr_eq(old, new) && old.holds_stored_path() => {
            new.replaced.store(true, Ordering::Relaxed);
        }
        _ => {}
    }
    Ok(new)
}

/// [`apply`] to a node that `ops` change.
fn apply_changes(
    ctx: Ctx<'_>,
    node: Option<NodeRef>,
    depth: usize,
    ops: &[Op],
) -> StateResult<Option<NodeRef>> {
    let first = &ops[0];
    let node = resolve(ctx, node, &first.0[..depth])?;
    if let Some(done) = replace_leaf(node.as_ref(), depth, ops) {
        return Ok(done);
    }
    let (mut children, mut value) = expand(node.as_ref());
    let (value_ops, rest) = match ops.iter().position(|(k, _)| k.len() > depth) {
        Some(i) => ops.split_at(i),
        None => (ops, &[][..]),
    };
    if let Some((_, v)) = value_ops.last() {
        value.clone_from(v);
    }
    let inputs: Vec<_> = group_by_nibble(rest, depth)
        .into_iter()
        .map(|(n, g)| (n, children[n].take(), g))
        .collect();
    let step = |(n, child, g): (usize, Option<NodeRef>, &[Op])| -> StateResult<_> {
        Ok((n, apply(ctx, child, depth + 1, g)?))
    };
    let updated = if depth < ctx.par_depth && rest.len() >= PAR_MIN_OPS {
        inputs
            .into_par_iter()
            .map(step)
            .collect::<StateResult<Vec<_>>>()?
    } else {
        inputs
            .into_iter()
            .map(step)
            .collect::<StateResult<Vec<_>>>()?
    };
    for (n, child) in updated {
        children[n] = child;
    }
    normalize(ctx, &first.0[..depth], children, value)
}

/// A single change of the key a leaf holds: replace or delete the leaf without expanding it.
fn replace_leaf(node: Option<&NodeRef>, depth: usize, ops: &[Op]) -> Option<Option<NodeRef>> {
    let [(key, value)] = ops else { return None };
    match node.map(|n| &n.node) {
        Some(Node::Leaf { key: rest, .. }) if key[depth..] == rest[..] => {
            Some(value.clone().map(|v| Cell::leaf(rest, v)))
        }
        None => Some(value.clone().map(|v| Cell::leaf(&key[depth..], v))),
        _ => None,
    }
}

/// Loads a stub from the store; other nodes are returned as they are.
pub(crate) fn resolve(
    ctx: Ctx<'_>,
    node: Option<NodeRef>,
    path: &[u8],
) -> StateResult<Option<NodeRef>> {
    match node.as_deref().map(|c| &c.node) {
        Some(Node::Stub(hash)) => ctx.source.load(path, *hash).map(Some),
        _ => Ok(node),
    }
}

/// The node seen as a branch at its own path: its children by next nibble and its value.
fn expand(node: Option<&NodeRef>) -> (Box<Children>, Option<Box<[u8]>>) {
    let mut children: Box<Children> = Box::default();
    let mut value = None;
    match node.map(|n| &n.node) {
        None | Some(Node::Stub(_)) => {}
        Some(Node::Leaf { key, value: v }) => match key.split_first() {
            None => value = Some(v.clone()),
            Some((n, rest)) => children[usize::from(*n)] = Some(Cell::leaf(rest, v.clone())),
        },
        Some(Node::Ext { key, child }) => {
            let n = usize::from(key[0]);
            children[n] = Some(if key.len() == 1 {
                child.clone()
            } else {
                Cell::ext(&key[1..], child.clone())
            });
        }
        Some(Node::Branch {
            children: c,
            value: v,
        }) => {
            children.clone_from(c);
            value.clone_from(v);
        }
    }
    (children, value)
}

/// Splits `ops` (all longer than `depth`) into runs sharing the nibble at `depth`.
fn group_by_nibble(ops: &[Op], depth: usize) -> Vec<(usize, &[Op])> {
    let mut groups = Vec::new();
    let mut rest = ops;
    while let Some((key, _)) = rest.first() {
        let n = key[depth];
        let end = rest
            .iter()
            .position(|(k, _)| k[depth] != n)
            .unwrap_or(rest.len());
        groups.push((usize::from(n), &rest[..end]));
        rest = &rest[end..];
    }
    groups
}

/// Rebuilds a well-formed node at `path` from branch parts: an empty branch vanishes, a
/// lone value becomes a leaf, a lone child is merged into a leaf or an extension.
fn normalize(
    ctx: Ctx<'_>,
    path: &[u8],
    children: Box<Children>,
    value: Option<Box<[u8]>>,
) -> StateResult<Option<NodeRef>> {
    let mut present = children.iter().enumerate().filter(|(_, c)| c.is_some());
    let lone = match (present.next(), present.next()) {
        (None, _) => return Ok(value.map(|v| Cell::leaf(&[], v))),
        (Some((n, _)), None) if value.is_none() => n,
        _ => return Ok(Some(Cell::new(Node::Branch { children, value }))),
    };
    let child = children[lone].clone();
    let mut child_path = path.to_vec();
    child_path.push(lone as u8);
    let Some(child) = resolve(ctx, child, &child_path)? else {
        return Ok(None);
    };
    let nibble = [lone as u8];
    let merged = match &child.node {
        Node::Leaf { key, value } => Cell::leaf(&[&nibble[..], key].concat(), value.clone()),
        Node::Ext { key, child } => Cell::ext(&[&nibble[..], key].concat(), child.clone()),
        Node::Branch { .. } | Node::Stub(_) => return Ok(Some(Cell::ext(&nibble, child))),
    };
    // The child moved up into this node: its own path is vacated.
    ctx.removed(Some(&child), &child_path);
    Ok(Some(merged))
}
