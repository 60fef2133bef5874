//! Merkle proofs read from a trie version: the encodings of the hashed nodes on a key's path.

use super::{
    Root, Source,
    node::{Node, NodeRef, branch_rlp, ext_rlp, leaf_rlp},
    update::{Ctx, resolve},
};
use crate::{StateError, StateResult};
use alloy_primitives::Bytes;
use alloy_trie::nodes::RlpNode;

/// The proof of `key` (nibbles) in the trie `root`: the root node and every node referenced
/// by hash down the key's path, as far as the trie has nodes on it (an exclusion proof when
/// the key is absent). Inline nodes are part of their parent's encoding.
pub(crate) fn proof(source: &dyn Source, root: Root, key: &[u8]) -> StateResult<Vec<Bytes>> {
    let ctx = Ctx {
        source,
        par_depth: 0,
        removed: None,
    };
    let mut out = Vec::new();
    let (mut node, mut depth) = (root, 0);
    while let Some(cell) = resolve(ctx, node.take(), &key[..depth])? {
        let rlp = encode(&cell)?;
        if depth == 0 || rlp.len() >= 32 {
            out.push(Bytes::from(rlp));
        }
        match &cell.node {
            Node::Ext { key: part, child } if key[depth..].starts_with(part) => {
                depth += part.len();
                node = Some(child.clone());
            }
            Node::Branch { children, .. } if depth < key.len() => {
                node = children[usize::from(key[depth])].clone();
                depth += 1;
            }
            _ => {}
        }
    }
    Ok(out)
}

/// The RLP of a hashed node from its children's cached references.
fn encode(cell: &NodeRef) -> StateResult<Vec<u8>> {
    Ok(match &cell.node {
        Node::Leaf { key, value } => leaf_rlp(key, value),
        Node::Ext { key, child } => ext_rlp(key, &child_ref(child)?),
        Node::Branch { children, value } => {
            let mut refs: [Option<RlpNode>; 16] = Default::default();
            for (slot, child) in refs.iter_mut().zip(children.iter()) {
                *slot = child.as_ref().map(child_ref).transpose()?;
            }
            branch_rlp(&refs, value.as_deref())
        }
        Node::Stub(hash) => {
            return Err(StateError::Corrupt(format!("unresolved trie node {hash}")));
        }
    })
}

fn child_ref(child: &NodeRef) -> StateResult<RlpNode> {
    child
        .rlp
        .get()
        .cloned()
        .ok_or_else(|| StateError::Corrupt("proof over an unhashed trie node".into()))
}
