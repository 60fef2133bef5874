//! The genesis block: committed on first start, checked on every later start.

use crate::{
    node::{Node, NodeError},
    store::StoredBlock,
};
use alloy_consensus::{EMPTY_OMMER_ROOT_HASH, Header, Sealed};
use alloy_primitives::{B256, Bloom};
use alloy_trie::EMPTY_ROOT_HASH;
use altius_engine::Genesis;
use altius_state::StateCommitter;
use tracing::info;

/// Builds the genesis header for `genesis` with the given state root.
fn genesis_header(node: &Node, genesis: &Genesis, state_root: B256) -> Header {
    Header {
        parent_hash: B256::ZERO,
        ommers_hash: EMPTY_OMMER_ROOT_HASH,
        beneficiary: node.chain.fee_vaults().sequencer,
        state_root,
        transactions_root: EMPTY_ROOT_HASH,
        receipts_root: EMPTY_ROOT_HASH,
        logs_bloom: Bloom::ZERO,
        number: 0,
        gas_limit: genesis.gas_limit,
        gas_used: 0,
        timestamp: genesis.timestamp,
        extra_data: crate::builder::extra_data(&node.chain),
        base_fee_per_gas: Some(genesis.base_fee),
        withdrawals_root: Some(EMPTY_ROOT_HASH),
        blob_gas_used: Some(0),
        excess_blob_gas: Some(0),
        parent_beacon_block_root: Some(B256::ZERO),
        requests_hash: Some(alloy_eips::eip7685::EMPTY_REQUESTS_HASH),
        ..Default::default()
    }
}

/// Writes block 0 and its state on a fresh database.
pub(crate) fn commit_genesis(node: &Node, genesis: &Genesis) -> Result<(), NodeError> {
    let changes = genesis.to_state_changes();
    let txn = node
        .db
        .begin_write()
        .map_err(|e| NodeError::Database(e.to_string()))?;
    let state_root = node.state.commit_block(&txn, 0, &changes)?;
    let header = Sealed::new(genesis_header(node, genesis, state_root));
    let block = StoredBlock {
        header: header.clone(),
        txs: vec![],
        receipts: vec![],
    };
    node.store.write_block(&txn, &block)?;
    txn.commit()
        .map_err(|e| NodeError::Database(e.to_string()))?;
    node.state.on_committed(0);
    info!(target: "altius::node", hash = %header.hash(), %state_root, "committed genesis");
    node.store.on_committed(header);
    Ok(())
}

/// Refuses to start when the configured genesis is not the one the database was made with.
pub(crate) fn check_genesis(
    node: &Node,
    genesis: &Genesis,
    head: &Sealed<Header>,
) -> Result<(), NodeError> {
    let stored = node
        .store
        .header(0)?
        .ok_or_else(|| NodeError::Genesis("the database has blocks but no genesis".into()))?;
    let root = altius_state::state_root_of(&genesis.to_state_changes())?;
    let expected = genesis_header(node, genesis, root).hash_slow();
    if expected != stored.hash() {
        return Err(NodeError::Genesis(format!(
            "the datadir holds a chain with genesis {} but the configured genesis is {expected}; \
             use another --datadir or the genesis this chain was created with",
            stored.hash()
        )));
    }
    info!(target: "altius::node", head = head.number, hash = %head.hash(), "reopened chain");
    Ok(())
}
