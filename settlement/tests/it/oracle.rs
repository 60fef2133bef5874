//! [`L2OutputOracleClient`] against the committed L2OutputOracle deployed on anvil.

use std::{sync::Arc, time::Duration};

use alloy::{
    eips::BlockNumberOrTag,
    primitives::{Address, B256, U256},
    providers::{DynProvider, Provider},
    signers::local::PrivateKeySigner,
};
use altius_settlement::{
    L2OutputOracle, L2OutputOracleClient, OracleInitParams, OutputRootV0, Proposal,
    REVERT_BLOCK_NUMBER, REVERT_FUTURE, REVERT_ZERO_ROOT, SettlementClient, SettlementError,
    deploy_and_initialize, proposer_provider,
};

use crate::anvil::{Anvil, KEY_0, KEY_1};

const INTERVAL: u64 = 10;

fn signer(key: &str) -> PrivateKeySigner {
    key.parse().unwrap()
}

fn provider(url: &str, signer: PrivateKeySigner) -> DynProvider {
    proposer_provider(url, signer).unwrap()
}

fn root(n: u8) -> B256 {
    OutputRootV0 {
        state_root: B256::repeat_byte(n),
        message_passer_storage_root: B256::repeat_byte(0xaa),
        block_hash: B256::with_last_byte(n),
    }
    .hash()
}

fn proposal(l2_block_number: u64, output_root: B256) -> Proposal {
    Proposal {
        output_root,
        l2_block_number,
        l1_block_hash: B256::ZERO,
        l1_block_number: 0,
    }
}

fn revert_reason(result: Result<impl std::fmt::Debug, SettlementError>) -> String {
    match result {
        Err(SettlementError::Reverted(reason)) => reason,
        other => panic!("expected a revert, got {other:?}"),
    }
}

async fn l1_now(provider: &DynProvider) -> (u64, u64, B256) {
    let block = provider
        .get_block_by_number(BlockNumberOrTag::Latest)
        .await
        .unwrap()
        .unwrap();
    (
        block.header.number,
        block.header.timestamp,
        block.header.hash,
    )
}

/// Deploys an oracle whose starting L2 block is `age` seconds old (L2 block time 2 s).
async fn deploy(provider: &DynProvider, proposer: Address, age: u64) -> Address {
    let (_, now, _) = l1_now(provider).await;
    let params = OracleInitParams {
        submission_interval: INTERVAL,
        l2_block_time: 2,
        starting_block_number: 0,
        starting_timestamp: now.saturating_sub(age),
        proposer,
        challenger: proposer,
        finalization_period_seconds: 3600,
    };
    deploy_and_initialize(provider, &params).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oracle_on_anvil_proposes_reverts_and_reports_unavailable() {
    let Some(mut anvil) = Anvil::spawn() else {
        return;
    };
    let proposer = signer(KEY_0);
    let l1 = provider(&anvil.url, proposer.clone());
    let address = deploy(&l1, proposer.address(), 1_000).await;
    let client: Arc<dyn SettlementClient> =
        Arc::new(L2OutputOracleClient::connect(&anvil.url, address, proposer.clone()).unwrap());

    assert_eq!(client.kind(), "l2-output-oracle");
    assert_eq!(client.latest_proposed_block().await.unwrap(), None);
    assert_eq!(client.next_block_number().await.unwrap(), INTERVAL);
    assert_eq!(client.output_at(INTERVAL).await.unwrap(), None);

    proposes_and_reads_back(&client, &l1, address).await;
    reverts_with_reasons(&client, &anvil.url, address).await;
    future_blocks_revert(&l1, &anvil.url, proposer.address()).await;

    anvil.kill();
    let latest = tokio::time::timeout(Duration::from_secs(30), client.latest_proposed_block())
        .await
        .unwrap();
    assert!(
        matches!(latest, Err(SettlementError::Unavailable(_))),
        "{latest:?}"
    );
    let sent = tokio::time::timeout(
        Duration::from_secs(30),
        client.propose(proposal(30, root(3))),
    )
    .await
    .unwrap();
    assert!(matches!(sent, Err(ref e) if e.is_retryable()), "{sent:?}");
}

async fn proposes_and_reads_back(
    client: &Arc<dyn SettlementClient>,
    l1: &DynProvider,
    oracle: Address,
) {
    let receipt = client.propose(proposal(10, root(1))).await.unwrap();
    let tx_hash = receipt.tx_hash.expect("tx hash");
    assert!(receipt.l1_block.is_some());

    let mined = l1.get_transaction_receipt(tx_hash).await.unwrap().unwrap();
    let event = mined
        .decoded_log::<L2OutputOracle::OutputProposed>()
        .expect("OutputProposed");
    assert_eq!(event.outputRoot, root(1));
    assert_eq!(event.l2OutputIndex, U256::ZERO);
    assert_eq!(event.l2BlockNumber, U256::from(10));

    let stored = L2OutputOracle::new(oracle, l1)
        .getL2Output(U256::ZERO)
        .call()
        .await
        .unwrap();
    assert_eq!((stored.outputRoot, stored.l2BlockNumber), (root(1), 10));
    assert_eq!(client.latest_proposed_block().await.unwrap(), Some(10));
    assert_eq!(client.next_block_number().await.unwrap(), 20);

    // With an L1 block hash, the contract checks it against `blockhash`.
    let (number, _, hash) = l1_now(l1).await;
    let anchored = Proposal {
        l1_block_hash: hash,
        l1_block_number: number,
        ..proposal(20, root(2))
    };
    client.propose(anchored).await.unwrap();
    let out = client.output_at(20).await.unwrap().expect("output at 20");
    assert_eq!(
        (out.output_root, out.l2_block_number, out.index),
        (root(2), 20, 1)
    );
    assert!(out.timestamp > 0);
    assert_eq!(client.output_at(15).await.unwrap(), None);
    assert_eq!(client.output_at(30).await.unwrap(), None);
    assert_eq!(client.latest_proposed_block().await.unwrap(), Some(20));
}

async fn reverts_with_reasons(client: &Arc<dyn SettlementClient>, url: &str, oracle: Address) {
    assert_eq!(
        revert_reason(client.propose(proposal(25, root(3))).await),
        REVERT_BLOCK_NUMBER
    );
    assert_eq!(
        revert_reason(client.propose(proposal(30, B256::ZERO)).await),
        REVERT_ZERO_ROOT
    );
    let wrong_hash = Proposal {
        l1_block_hash: B256::repeat_byte(1),
        l1_block_number: 1,
        ..proposal(30, root(3))
    };
    let reason = revert_reason(client.propose(wrong_hash).await);
    assert!(reason.contains("block hash does not match"), "{reason}");

    let stranger = L2OutputOracleClient::connect(url, oracle, signer(KEY_1)).unwrap();
    let reason = revert_reason(stranger.propose(proposal(30, root(3))).await);
    assert!(reason.contains("only the proposer address"), "{reason}");
    assert_eq!(client.latest_proposed_block().await.unwrap(), Some(20));
}

async fn future_blocks_revert(l1: &DynProvider, url: &str, proposer: Address) {
    // Starting now with 2 s blocks: block 10 is 20 s in the future.
    let oracle = deploy(l1, proposer, 0).await;
    let client = L2OutputOracleClient::connect(url, oracle, signer(KEY_0)).unwrap();
    assert_eq!(
        revert_reason(client.propose(proposal(10, root(1))).await),
        REVERT_FUTURE
    );
}
