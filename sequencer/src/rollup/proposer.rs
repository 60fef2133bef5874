//! The proposer task: output roots of safe blocks to the settlement layer.

use crate::node::{Node, NodeError};
use altius_settlement::{
    L2_TO_L1_MESSAGE_PASSER, L2Head, OutputRootV0, OutputSource, Proposer, ProposerTiming,
    SettlementClient, SettlementError,
};
use std::sync::Arc;
use tokio::sync::watch;

/// The output root preimage of block `number`: its state root, the L2ToL1MessagePasser
/// storage root in its state (from the state's EIP-1186 proof) and its hash. `None` when
/// the block does not exist.
pub fn output_root_inputs(node: &Node, number: u64) -> Result<Option<OutputRootV0>, NodeError> {
    let Some(header) = node.store.header(number)? else {
        return Ok(None);
    };
    let proof = node.state.proof(number, L2_TO_L1_MESSAGE_PASSER, &[])?;
    Ok(Some(OutputRootV0 {
        state_root: header.state_root,
        message_passer_storage_root: proof.storage_hash,
        block_hash: header.hash(),
    }))
}

/// The node as the proposer's [`OutputSource`].
#[derive(Debug, Clone)]
pub struct NodeOutputs(pub Arc<Node>);

impl OutputSource for NodeOutputs {
    fn safe_head(&self) -> Result<u64, SettlementError> {
        let safe = self.0.store.safe_number();
        safe.map_err(|e| SettlementError::Storage(e.to_string()))
    }

    fn output_root_inputs(&self, number: u64) -> Result<Option<OutputRootV0>, SettlementError> {
        output_root_inputs(&self.0, number).map_err(|e| SettlementError::Storage(e.to_string()))
    }
}

/// Runs the proposer and keeps `head` (read by the local settlement layer) at the node's
/// newest block, until `shutdown` turns true.
pub async fn run_proposer(
    node: Arc<Node>,
    client: Arc<dyn SettlementClient>,
    head: L2Head,
    shutdown: watch::Receiver<bool>,
) {
    let proposer = Proposer::new(
        client,
        Arc::new(NodeOutputs(node.clone())),
        ProposerTiming::default(),
    );
    tokio::join!(
        track_head(&node, &head, shutdown.clone()),
        proposer.run(shutdown)
    );
}

async fn track_head(node: &Node, head: &L2Head, mut shutdown: watch::Receiver<bool>) {
    let mut blocks = node.new_blocks.subscribe();
    head.set(node.store.head_number());
    loop {
        tokio::select! {
            _ = shutdown.wait_for(|s| *s) => break,
            r = blocks.recv() => match r {
                Ok(block) => head.set(block.number()),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    head.set(node.store.head_number());
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{builder::build_block, config::NodeConfig, dev};
    use altius_engine::Genesis;
    use altius_settlement::{LocalSettlement, LocalSettlementParams};

    #[tokio::test]
    async fn proposes_safe_blocks_with_the_output_root_of_their_state() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = NodeConfig::default();
        config.datadir.0 = dir.path().to_owned();
        let node = Node::open(config, &Genesis::dev(&dev::dev_addresses())).unwrap();
        for _ in 0..4 {
            build_block(&node).unwrap();
        }
        let txn = node.db.begin_write().unwrap();
        node.store.write_safe(&txn, 3, Some(3)).unwrap();
        txn.commit().unwrap();
        let params = LocalSettlementParams {
            submission_interval: 2,
            starting_block_number: 0,
        };
        let local = LocalSettlement::with_database(node.db.clone(), params, L2Head::at(4));
        let local = local.unwrap();
        let proposer = Proposer::new(
            Arc::new(local.clone()),
            Arc::new(NodeOutputs(node.clone())),
            ProposerTiming::default(),
        );
        assert_eq!(proposer.step().await.unwrap(), Some(2));
        assert_eq!(proposer.step().await.unwrap(), None, "4 is not safe");
        let header = node.store.header(2).unwrap().unwrap();
        let expected = OutputRootV0 {
            state_root: header.state_root,
            message_passer_storage_root: header.withdrawals_root.unwrap(),
            block_hash: header.hash(),
        };
        let output = local.output_at_blocking(2).unwrap().unwrap();
        assert_eq!(output.output_root, expected.hash());
        assert_eq!(output_root_inputs(&node, 99).unwrap(), None);
    }
}
