//! Resolving block tags, numbers and EIP-1898 block identifiers against the chain.
//!
//! `pending` is the same as `latest` (the sequencer has no pending block; the pool is only
//! consulted for `eth_getTransactionCount`), `safe` and `finalized` are the numbers recorded
//! by the batcher, `earliest` is the genesis.

use super::error::{RpcError, RpcResult};
use crate::node::Node;
use alloy_eips::{BlockId, BlockNumberOrTag};

/// The chain's moving block numbers at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Heads {
    /// The newest block.
    pub(crate) head: u64,
    /// The newest `safe` block.
    pub(crate) safe: u64,
    /// The newest `finalized` block.
    pub(crate) finalized: u64,
}

impl Heads {
    /// The current heads of `node`, enough to resolve `tags`: the `safe` and `finalized`
    /// numbers are only read from the store when one of the tags asks for them.
    pub(crate) fn of(node: &Node, tags: &[BlockNumberOrTag]) -> RpcResult<Self> {
        let head = node.store.head_number();
        let wants = |tag: BlockNumberOrTag| tags.contains(&tag);
        let mut heads = Self {
            head,
            safe: head,
            finalized: head,
        };
        if wants(BlockNumberOrTag::Safe) {
            heads.safe = node.store.safe_number()?.min(head);
        }
        if wants(BlockNumberOrTag::Finalized) {
            heads.finalized = node.store.finalized_number()?.min(head);
        }
        Ok(heads)
    }

    /// The number `tag` stands for (possibly beyond the head).
    pub(crate) fn number(&self, tag: BlockNumberOrTag) -> u64 {
        match tag {
            BlockNumberOrTag::Latest | BlockNumberOrTag::Pending => self.head,
            BlockNumberOrTag::Safe => self.safe,
            BlockNumberOrTag::Finalized => self.finalized,
            BlockNumberOrTag::Earliest => 0,
            BlockNumberOrTag::Number(n) => n,
        }
    }
}

/// A block whose state a method reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StateBlock {
    /// Its number.
    pub(crate) number: u64,
    /// Whether the caller asked for the newest state (`latest` / `pending`).
    pub(crate) latest: bool,
}

/// Whether `tag` asks for the newest state.
pub(crate) fn is_latest(tag: BlockNumberOrTag) -> bool {
    matches!(tag, BlockNumberOrTag::Latest | BlockNumberOrTag::Pending)
}

/// The block `id` names, or `None` when there is no such block (methods returning `null`).
pub(crate) fn find_block(node: &Node, id: BlockId) -> RpcResult<Option<u64>> {
    match id {
        BlockId::Hash(hash) => Ok(node.store.number_by_hash(hash.block_hash)?),
        BlockId::Number(tag) => {
            let heads = Heads::of(node, &[tag])?;
            let n = heads.number(tag);
            Ok((n <= heads.head).then_some(n))
        }
    }
}

/// The block whose state `id` (default `latest`) names; geth's errors when there is none.
pub(crate) fn state_block(node: &Node, id: Option<BlockId>) -> RpcResult<StateBlock> {
    match id.unwrap_or(BlockId::Number(BlockNumberOrTag::Latest)) {
        BlockId::Hash(hash) => {
            let number = node
                .store
                .number_by_hash(hash.block_hash)?
                .ok_or_else(RpcError::header_for_hash_not_found)?;
            Ok(StateBlock {
                number,
                latest: false,
            })
        }
        BlockId::Number(tag) => {
            let heads = Heads::of(node, &[tag])?;
            let number = heads.number(tag);
            if number > heads.head {
                return Err(RpcError::header_not_found());
            }
            Ok(StateBlock {
                number,
                latest: is_latest(tag),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::B256;
    use serde_json::json;

    fn id(v: serde_json::Value) -> BlockId {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn tags_resolve() {
        let heads = Heads {
            head: 10,
            safe: 7,
            finalized: 3,
        };
        let n = |v| match id(v) {
            BlockId::Number(tag) => heads.number(tag),
            BlockId::Hash(_) => panic!("hash"),
        };
        assert_eq!(n(json!("latest")), 10);
        assert_eq!(n(json!("pending")), 10);
        assert_eq!(n(json!("safe")), 7);
        assert_eq!(n(json!("finalized")), 3);
        assert_eq!(n(json!("earliest")), 0);
        assert_eq!(n(json!("0x0")), 0);
        assert_eq!(n(json!("0x1f")), 31);
        assert_eq!(n(json!({"blockNumber": "0x5"})), 5);
        assert_eq!(n(json!({"blockNumber": "safe"})), 7);
        assert!(is_latest(BlockNumberOrTag::Pending));
        assert!(!is_latest(BlockNumberOrTag::Number(10)));
    }

    #[test]
    fn eip1898_hashes() {
        let hash = B256::repeat_byte(0xab);
        for v in [
            json!(hash),
            json!({"blockHash": hash}),
            json!({"blockHash": hash, "requireCanonical": true}),
        ] {
            match id(v) {
                BlockId::Hash(h) => assert_eq!(h.block_hash, hash),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn bad_tags_are_rejected() {
        for v in [
            json!("lastest"),
            json!("12"),
            json!("0x"),
            json!(12),
            json!({"foo": 1}),
        ] {
            assert!(serde_json::from_value::<BlockId>(v.clone()).is_err(), "{v}");
        }
    }
}
