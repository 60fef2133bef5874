//! Block production: on a timer (or as soon as transactions arrive when the block time is
//! zero), take the best pool transactions, execute them, and commit the block and its state
//! in one database transaction.

use crate::{node::Node, node::NodeError, rollup::Throttle, store::StoredBlock};
use alloy_consensus::{EMPTY_OMMER_ROOT_HASH, Header, Sealed, TxReceipt};
use alloy_primitives::{Address, B256, Bloom, Bytes, address, keccak256};
use altius_engine::{BlockEnv, BlockExecution, ChainSpec, ExecutionMode};
use altius_state::StateCommitter;
use std::{sync::Arc, time::Duration};
use tokio::sync::watch;
use tracing::{debug, info, warn};

/// Reasons for leaving a transaction out of a block that may pass in a later block; the pool
/// keeps such transactions and drops the others.
/// The L2ToL1MessagePasser predeploy; since Isthmus the header's `withdrawalsRoot` is its
/// storage root.
const L2_TO_L1_MESSAGE_PASSER: Address = address!("0x4200000000000000000000000000000000000016");

const RETRYABLE_REJECTIONS: &[&str] = &["gas limit reached", "nonce too high"];

/// The `extraData` of our blocks, as OP Stack chains record the EIP-1559 parameters since
/// Holocene: version 0 with denominator and elasticity as big-endian u32; since Jovian
/// version 1 with the minimum base fee (zero here) as a big-endian u64 after them.
pub fn extra_data(chain: &ChainSpec) -> Bytes {
    let mut data = vec![0u8; 9];
    data[1..5].copy_from_slice(&as_u32(chain.eip1559_denominator).to_be_bytes());
    data[5..9].copy_from_slice(&as_u32(chain.eip1559_elasticity).to_be_bytes());
    if chain.spec_id() >= altius_engine::OpSpecId::JOVIAN {
        data[0] = 1;
        data.extend_from_slice(&0u64.to_be_bytes());
    }
    data.into()
}

fn as_u32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Builds, executes and commits the next block. Returns it once it is durable.
pub fn build_block(node: &Node) -> Result<Arc<StoredBlock>, NodeError> {
    let parent = node.head();
    let env = BlockEnv {
        number: parent.number + 1,
        // Strictly increasing, and never behind the wall clock.
        timestamp: now_secs().max(parent.timestamp + 1),
        gas_limit: node.config.sequencer.gas_limit,
        base_fee: node.next_base_fee(&parent),
        beneficiary: node.chain.fee_vaults().sequencer,
        prevrandao: keccak256(parent.hash()),
    };
    let candidates = node.mempool.best_transactions(env.base_fee);
    let state = node.state.latest()?;
    let exec = node
        .executor
        .execute_block(&state, &env, candidates, ExecutionMode::Build)?;
    drop(state);
    commit_block(node, &parent, &env, exec)
}

fn commit_block(
    node: &Node,
    parent: &Sealed<Header>,
    env: &BlockEnv,
    exec: BlockExecution,
) -> Result<Arc<StoredBlock>, NodeError> {
    let dropped: Vec<_> = exec
        .rejected
        .iter()
        .filter(|r| !RETRYABLE_REJECTIONS.contains(&r.reason.as_str()))
        .inspect(|r| debug!(target: "altius::builder", hash = %r.hash, reason = %r.reason, "dropping transaction"))
        .map(|r| r.hash)
        .collect();
    let txs: Vec<_> = exec.txs.iter().map(|t| t.tx.clone()).collect();
    let receipts: Vec<_> = exec.txs.iter().map(|t| t.receipt.clone()).collect();
    let logs_bloom = receipts.iter().fold(Bloom::ZERO, |mut acc, r| {
        acc.accrue_bloom(&r.bloom());
        acc
    });
    let txn = node
        .db
        .begin_write()
        .map_err(|e| NodeError::Database(e.to_string()))?;
    let state_root = match node.state.commit_block(&txn, env.number, &exec.changes) {
        Ok(root) => root,
        Err(e) => {
            drop(txn);
            node.state.on_aborted(env.number);
            return Err(e.into());
        }
    };
    let header = Header {
        parent_hash: parent.hash(),
        ommers_hash: EMPTY_OMMER_ROOT_HASH,
        beneficiary: env.beneficiary,
        state_root,
        transactions_root: alloy_consensus::proofs::calculate_transaction_root(
            &txs.iter().map(|t| t.tx.clone()).collect::<Vec<_>>(),
        ),
        receipts_root: alloy_consensus::proofs::calculate_receipt_root(&receipts),
        logs_bloom,
        number: env.number,
        gas_limit: env.gas_limit,
        gas_used: exec.gas_used,
        timestamp: env.timestamp,
        extra_data: extra_data(&node.chain),
        mix_hash: env.prevrandao,
        base_fee_per_gas: Some(env.base_fee),
        withdrawals_root: Some(node.state.storage_root_in(&txn, L2_TO_L1_MESSAGE_PASSER)?),
        blob_gas_used: Some(0),
        excess_blob_gas: Some(0),
        parent_beacon_block_root: Some(B256::ZERO),
        requests_hash: Some(alloy_eips::eip7685::EMPTY_REQUESTS_HASH),
        ..Default::default()
    };
    let block = StoredBlock {
        header: Sealed::new(header),
        txs,
        receipts,
    };
    let written = node.store.write_block(&txn, &block);
    let committed = written
        .map_err(NodeError::from)
        .and_then(|()| txn.commit().map_err(|e| NodeError::Database(e.to_string())));
    if let Err(e) = committed {
        node.state.on_aborted(env.number);
        return Err(e);
    }
    node.state.on_committed(env.number);
    node.store.on_committed(block.header.clone());
    after_commit(node, &block, &dropped);
    Ok(Arc::new(block))
}

fn after_commit(node: &Node, block: &StoredBlock, dropped: &[B256]) {
    let mined: Vec<_> = block.txs.iter().map(|t| t.hash).collect();
    node.mempool.remove(dropped);
    match node.state.latest() {
        Ok(state) => node.mempool.on_block(&state, &node.pool_context(), &mined),
        Err(e) => warn!(target: "altius::builder", error = %e, "cannot revalidate the pool"),
    }
    info!(
        target: "altius::builder",
        number = block.number(),
        hash = %block.hash(),
        txs = block.txs.len(),
        gas_used = block.header.gas_used,
        "built block"
    );
}

/// Runs block production until `shutdown` turns true. A block that has started is always
/// finished and committed before this returns, so a stop never leaves half a block. While
/// `throttle` reports too large a DA backlog, production pauses.
pub async fn run(node: Arc<Node>, mut shutdown: watch::Receiver<bool>, throttle: Arc<Throttle>) {
    let block_time = node.config.sequencer.block_time;
    let mut new_txs = node.mempool.subscribe();
    let mut ticker = (block_time > 0.0).then(|| {
        let mut t = tokio::time::interval(Duration::from_secs_f64(block_time));
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        t
    });
    loop {
        let go = tokio::select! {
            biased;
            _ = shutdown.changed() => false,
            _ = async { ticker.as_mut().expect("checked").tick().await }, if ticker.is_some() => true,
            r = new_txs.recv(), if ticker.is_none() => {
                !matches!(r, Err(tokio::sync::broadcast::error::RecvError::Closed))
            }
        };
        if !go || *shutdown.borrow() || !throttle.wait(&mut shutdown).await {
            break;
        }
        loop {
            let n = node.clone();
            let included = match tokio::task::spawn_blocking(move || build_block(&n)).await {
                Ok(Ok(block)) => {
                    let included = block.txs.len();
                    let _ = node.new_blocks.send(block);
                    included
                }
                Ok(Err(e)) => {
                    warn!(target: "altius::builder", error = %e, "block building failed");
                    0
                }
                Err(e) => {
                    warn!(target: "altius::builder", error = %e, "block task panicked");
                    0
                }
            };
            // In on-demand mode keep building while the pool still has executable work.
            let more = included > 0 && node.mempool.status().0 > 0;
            if ticker.is_some() || !more || *shutdown.borrow() {
                break;
            }
        }
    }
    info!(target: "altius::builder", "block production stopped");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{config::NodeConfig, dev};
    use alloy::{
        consensus::{SignableTransaction, TxEip1559, TxEnvelope},
        eips::eip2718::Encodable2718,
        network::TxSignerSync,
    };
    use alloy_primitives::{Address, TxKind, U256};
    use altius_engine::Genesis;
    use altius_state::StateProvider;

    fn open(dir: &std::path::Path) -> Arc<Node> {
        let mut config = NodeConfig::default();
        config.datadir.0 = dir.to_owned();
        Node::open(config, &Genesis::dev(&dev::dev_addresses())).unwrap()
    }

    fn transfer(node: &Node, nonce: u64, to: Address, value: u64) -> Vec<u8> {
        transfer_with_gas(node, nonce, to, value, 21_000)
    }

    fn transfer_with_gas(node: &Node, nonce: u64, to: Address, value: u64, gas: u64) -> Vec<u8> {
        let mut tx = TxEip1559 {
            chain_id: node.chain.chain_id,
            nonce,
            gas_limit: gas,
            max_fee_per_gas: 10_000_000_000,
            max_priority_fee_per_gas: 1_000,
            to: TxKind::Call(to),
            value: U256::from(value),
            ..Default::default()
        };
        let sig = dev::dev_signer(0).sign_transaction_sync(&mut tx).unwrap();
        TxEnvelope::from(tx.into_signed(sig)).encoded_2718()
    }

    fn submit(node: &Node, raw: &[u8]) {
        let state = node.state.latest().unwrap();
        node.mempool
            .add_raw(raw, &state, &node.pool_context())
            .unwrap();
    }

    #[test]
    fn built_block_has_real_roots_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let node = open(dir.path());
        let to = Address::with_last_byte(0x77);
        submit(&node, &transfer(&node, 0, to, 5));
        submit(&node, &transfer(&node, 1, to, 6));
        let block = build_block(&node).unwrap();
        assert_eq!(block.number(), 1);
        assert_eq!(block.txs.len(), 2);
        let header = block.header.inner();
        assert_eq!(
            header.receipts_root,
            alloy_consensus::proofs::calculate_receipt_root(&block.receipts)
        );
        assert_eq!(header.gas_used, 42_000);
        assert_eq!(Some((1, header.state_root)), node.state.head());
        assert_eq!(node.mempool.status(), (0, 0));
        let balance = node
            .state
            .latest()
            .unwrap()
            .account(to)
            .unwrap()
            .unwrap()
            .balance;
        assert_eq!(balance, U256::from(11));
        let (hash, root, tx) = (block.hash(), header.state_root, block.txs[1].hash);
        drop(node);

        let node = open(dir.path());
        assert_eq!(node.head().hash(), hash);
        assert_eq!(node.state.head(), Some((1, root)));
        assert_eq!(node.store.block(1).unwrap().unwrap(), *block);
        let loc = node.store.tx_location(tx).unwrap().unwrap();
        assert_eq!((loc.block, loc.index), (1, 1));
        // The chain goes on after the reopen.
        submit(&node, &transfer(&node, 2, to, 1));
        assert_eq!(build_block(&node).unwrap().txs.len(), 1);
    }

    #[test]
    fn a_withdrawal_changes_the_withdrawals_root() {
        let dir = tempfile::tempdir().unwrap();
        let node = open(dir.path());
        let passer = altius_engine::L2_TO_L1_MESSAGE_PASSER;
        let empty = build_block(&node).unwrap();
        assert_eq!(
            empty.header.withdrawals_root,
            Some(alloy_trie::EMPTY_ROOT_HASH)
        );
        // A plain transfer to the message passer initiates a withdrawal to the sender.
        submit(&node, &transfer_with_gas(&node, 0, passer, 1_000, 200_000));
        let block = build_block(&node).unwrap();
        assert!(block.receipts[0].is_success(), "the withdrawal succeeds");
        let root = block.header.withdrawals_root.unwrap();
        assert_ne!(root, alloy_trie::EMPTY_ROOT_HASH);
        let proof = node.state.proof(block.number(), passer, &[]).unwrap();
        assert_eq!(proof.storage_hash, root);
    }

    #[test]
    fn empty_blocks_advance_time_and_lower_the_base_fee() {
        let dir = tempfile::tempdir().unwrap();
        let node = open(dir.path());
        let genesis = node.head();
        let first = build_block(&node).unwrap();
        let second = build_block(&node).unwrap();
        assert!(first.header.timestamp > genesis.timestamp);
        assert!(second.header.timestamp > first.header.timestamp);
        assert_eq!(second.header.parent_hash, first.hash());
        assert!(second.header.base_fee_per_gas < first.header.base_fee_per_gas);
        assert_eq!(first.header.extra_data.len(), 17, "Jovian extraData");
    }

    #[test]
    fn refuses_a_datadir_of_another_genesis() {
        let dir = tempfile::tempdir().unwrap();
        drop(open(dir.path()));
        let mut config = NodeConfig::default();
        config.datadir.0 = dir.path().to_owned();
        let other = Genesis::dev(&[Address::with_last_byte(1)]);
        let err = Node::open(config, &other).unwrap_err().to_string();
        assert!(err.contains("genesis"), "{err}");
    }
}
