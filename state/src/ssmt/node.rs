//! Trie nodes of the incremental trie: in-memory shape, RLP encoding and decoding.
//!
//! Keys are nibble sequences of any length (one nibble per byte), so the same nodes serve the
//! 64-nibble hashed keys of state tries and the raw keys of the plain trie test vectors, where
//! a key may be a prefix of another one and branches then carry a value.

use crate::{StateError, StateResult};
use alloy_primitives::{B256, keccak256};
use alloy_rlp::{EMPTY_STRING_CODE, Encodable, Header};
use alloy_trie::nodes::RlpNode;
use std::sync::{
    Arc, OnceLock,
    atomic::{AtomicBool, Ordering},
};

/// A nibble sequence, one nibble (0..16) per byte.
pub(crate) type Nibs = Box<[u8]>;

/// A shared, immutable trie node with its lazily computed reference.
pub(crate) type NodeRef = Arc<Cell>;

/// The children of a branch node, by next nibble.
pub(crate) type Children = [Option<NodeRef>; 16];

/// The shape of a node.
#[derive(Debug)]
pub(crate) enum Node {
    /// The rest of a key and its value.
    Leaf {
        /// Key nibbles below the node's path.
        key: Nibs,
        /// The stored value (for state tries an RLP encoding).
        value: Box<[u8]>,
    },
    /// A shared key part leading to a branch.
    Ext {
        /// The shared nibbles (never empty).
        key: Nibs,
        /// The branch below.
        child: NodeRef,
    },
    /// Up to 16 children and, for keys ending here, a value.
    Branch {
        /// Children by next nibble.
        children: Box<Children>,
        /// Value of the key ending at this node (raw-key tries only).
        value: Option<Box<[u8]>>,
    },
    /// A hashed node not loaded yet: it is stored under its path.
    Stub(B256),
}

/// A node and its reference in the parent (`rlp(node)` when short, else its hash).
#[derive(Debug)]
pub(crate) struct Cell {
    pub(crate) node: Node,
    pub(crate) rlp: OnceLock<RlpNode>,
    /// The node replaced a stored node at its path (whose entry goes if the path empties).
    pub(crate) replaced: AtomicBool,
}

impl Cell {
    /// A new node whose reference is yet to be computed.
    pub(crate) fn new(node: Node) -> NodeRef {
        Arc::new(Self {
            node,
            rlp: OnceLock::new(),
            replaced: AtomicBool::new(false),
        })
    }

    /// A node whose reference is known (loaded or unchanged).
    pub(crate) fn with_rlp(node: Node, rlp: RlpNode) -> NodeRef {
        Arc::new(Self {
            node,
            rlp: OnceLock::from(rlp),
            replaced: AtomicBool::new(false),
        })
    }

    /// True when the node is stored under its path, or replaced one that is.
    pub(crate) fn holds_stored_path(&self) -> bool {
        self.replaced.load(Ordering::Relaxed) || self.rlp.get().is_some_and(|r| r.is_hash())
    }

    /// A stub of a stored node with the given hash.
    pub(crate) fn stub(hash: B256) -> NodeRef {
        Self::with_rlp(Node::Stub(hash), RlpNode::word_rlp(&hash))
    }

    /// A leaf node.
    pub(crate) fn leaf(key: &[u8], value: Box<[u8]>) -> NodeRef {
        Self::new(Node::Leaf {
            key: key.into(),
            value,
        })
    }

    /// An extension node (`key` not empty).
    pub(crate) fn ext(key: &[u8], child: NodeRef) -> NodeRef {
        Self::new(Node::Ext {
            key: key.into(),
            child,
        })
    }
}

/// The root hash of a trie given the reference of its root node.
pub(crate) fn root_hash(root: Option<&RlpNode>) -> B256 {
    match root {
        None => alloy_trie::EMPTY_ROOT_HASH,
        Some(rlp) => rlp.as_hash().unwrap_or_else(|| keccak256(rlp.as_slice())),
    }
}

/// Hex-prefix encoding of a key part (Ethereum yellow paper, appendix C).
pub(crate) fn hex_prefix(nibbles: &[u8], leaf: bool) -> Vec<u8> {
    let odd = nibbles.len() % 2 == 1;
    let flag = (u8::from(leaf) << 1) | u8::from(odd);
    let mut out = Vec::with_capacity(nibbles.len() / 2 + 1);
    let rest = if odd {
        out.push((flag << 4) | nibbles[0]);
        &nibbles[1..]
    } else {
        out.push(flag << 4);
        nibbles
    };
    out.extend(rest.chunks_exact(2).map(|p| (p[0] << 4) | p[1]));
    out
}

/// Decodes [`hex_prefix`]: the nibbles and whether it marks a leaf.
fn decode_hex_prefix(bytes: &[u8]) -> StateResult<(Vec<u8>, bool)> {
    let first = *bytes.first().ok_or_else(|| corrupt("empty path"))?;
    let flag = first >> 4;
    if flag > 3 {
        return Err(corrupt("bad path flag"));
    }
    let mut nibbles = Vec::with_capacity(bytes.len() * 2);
    if flag & 1 == 1 {
        nibbles.push(first & 0x0f);
    }
    for b in &bytes[1..] {
        nibbles.extend([b >> 4, b & 0x0f]);
    }
    Ok((nibbles, flag & 2 == 2))
}

fn corrupt(what: &str) -> StateError {
    StateError::Corrupt(format!("trie node: {what}"))
}

/// RLP of a leaf node.
pub(crate) fn leaf_rlp(key: &[u8], value: &[u8]) -> Vec<u8> {
    let path = hex_prefix(key, true);
    list(&[&path[..], value], &[])
}

/// RLP of an extension node.
pub(crate) fn ext_rlp(key: &[u8], child: &RlpNode) -> Vec<u8> {
    let path = hex_prefix(key, false);
    list(&[&path[..]], &[child.as_slice()])
}

/// RLP of a branch node; `None` children encode as the empty string.
pub(crate) fn branch_rlp(children: &[Option<RlpNode>; 16], value: Option<&[u8]>) -> Vec<u8> {
    let empty = [EMPTY_STRING_CODE];
    let raw: Vec<&[u8]> = children
        .iter()
        .map(|c| c.as_ref().map_or(&empty[..], |c| c.as_slice()))
        .collect();
    let value_rlp = value.map(alloy_rlp::encode);
    let mut items = raw;
    items.push(value_rlp.as_deref().unwrap_or(&empty));
    list(&[], &items)
}

/// An RLP list of the byte strings `strings` followed by the already encoded `raw` items.
fn list(strings: &[&[u8]], raw: &[&[u8]]) -> Vec<u8> {
    let payload_length = strings.iter().map(|s| s.length()).sum::<usize>()
        + raw.iter().map(|r| r.len()).sum::<usize>();
    let mut out = Vec::with_capacity(payload_length + 4);
    Header {
        list: true,
        payload_length,
    }
    .encode(&mut out);
    for s in strings {
        s.encode(&mut out);
    }
    for r in raw {
        out.extend_from_slice(r);
    }
    out
}

/// Decodes a node from its RLP; hashed children become stubs, inline ones are decoded.
pub(crate) fn decode(rlp: &[u8]) -> StateResult<NodeRef> {
    let items = list_items(rlp)?;
    let node = match items.len() {
        2 => decode_short(&items)?,
        17 => decode_branch(&items)?,
        n => return Err(corrupt(&format!("list of {n} items"))),
    };
    Ok(Cell::with_rlp(node, RlpNode::from_rlp(rlp)))
}

/// The raw items of an RLP list.
fn list_items(rlp: &[u8]) -> StateResult<Vec<&[u8]>> {
    let mut buf = rlp;
    let header = Header::decode(&mut buf).map_err(|e| corrupt(&e.to_string()))?;
    if !header.list || buf.len() != header.payload_length {
        return Err(corrupt("not a list"));
    }
    let mut items = Vec::with_capacity(17);
    while !buf.is_empty() {
        let start = buf;
        let item = Header::decode(&mut buf).map_err(|e| corrupt(&e.to_string()))?;
        let len = start.len() - buf.len() + item.payload_length;
        if buf.len() < item.payload_length {
            return Err(corrupt("short item"));
        }
        items.push(&start[..len]);
        buf = &buf[item.payload_length..];
    }
    Ok(items)
}

/// The payload of an RLP byte string.
fn string_payload(item: &[u8]) -> StateResult<&[u8]> {
    let mut buf = item;
    Header::decode_bytes(&mut buf, false).map_err(|e| corrupt(&e.to_string()))
}

/// A child reference: empty, a hash (stub) or an inline node.
fn decode_child(item: &[u8]) -> StateResult<Option<NodeRef>> {
    if item == [EMPTY_STRING_CODE] {
        return Ok(None);
    }
    if item.len() == 33 && item[0] == EMPTY_STRING_CODE + 32 {
        return Ok(Some(Cell::stub(B256::from_slice(&item[1..]))));
    }
    if item.first().is_some_and(|b| *b >= 0xc0) && item.len() < 32 {
        return decode(item).map(Some);
    }
    Err(corrupt("bad child reference"))
}

fn decode_short(items: &[&[u8]]) -> StateResult<Node> {
    let (key, leaf) = decode_hex_prefix(string_payload(items[0])?)?;
    if leaf {
        let value = string_payload(items[1])?;
        return Ok(Node::Leaf {
            key: key.into(),
            value: value.into(),
        });
    }
    let child = decode_child(items[1])?.ok_or_else(|| corrupt("empty extension child"))?;
    if key.is_empty() {
        return Err(corrupt("empty extension key"));
    }
    Ok(Node::Ext {
        key: key.into(),
        child,
    })
}

fn decode_branch(items: &[&[u8]]) -> StateResult<Node> {
    let mut children: Children = Default::default();
    for (slot, item) in children.iter_mut().zip(items) {
        *slot = decode_child(item)?;
    }
    let value = string_payload(items[16])?;
    Ok(Node::Branch {
        children: Box::new(children),
        value: (!value.is_empty()).then(|| value.into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_prefix_roundtrip() {
        for (nibbles, leaf) in [(vec![1, 2, 3], true), (vec![0, 15], false), (vec![], true)] {
            let enc = hex_prefix(&nibbles, leaf);
            assert_eq!(decode_hex_prefix(&enc).unwrap(), (nibbles, leaf));
        }
        assert_eq!(hex_prefix(&[1, 2, 3, 4, 5], false), vec![0x11, 0x23, 0x45]);
        assert_eq!(
            hex_prefix(&[0, 15, 1, 12, 11, 8], true),
            vec![0x20, 0x0f, 0x1c, 0xb8]
        );
    }

    #[test]
    fn decode_rejects_garbage() {
        for bad in [
            &[][..],
            &[0x80],
            &[0xc1, 0x80],
            &[0xc2, 0x80, 0x80],
            &[0xc3, 0x82],
        ] {
            assert!(decode(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn leaf_roundtrip() {
        let rlp = leaf_rlp(&[1, 2, 3], b"value of some length that is long enough");
        let cell = decode(&rlp).unwrap();
        match &cell.node {
            Node::Leaf { key, value } => {
                assert_eq!(&key[..], &[1, 2, 3]);
                assert_eq!(&value[..], b"value of some length that is long enough");
            }
            other => panic!("{other:?}"),
        }
    }
}
