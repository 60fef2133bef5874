//! [`EthereumCalldataDa`] against anvil: round trips, nonces, replacement, outages, reorgs.

use std::{path::Path, sync::Arc, time::Duration};

use alloy::{
    consensus::Transaction as _,
    eips::BlockNumberOrTag,
    network::TransactionBuilder,
    primitives::{Address, B256, Bytes, U256},
    providers::{DynProvider, Provider, ProviderBuilder},
    rpc::types::TransactionRequest,
};
use altius_da::{CalldataConfig, DaClient, DaError, DaReference, EthereumCalldataDa};

use crate::anvil::{Anvil, KEY_0};

const L2_CHAIN_ID: u64 = 4242;
const POLL: Duration = Duration::from_millis(50);

fn config(url: &str, key_file: &Path) -> CalldataConfig {
    let mut config = CalldataConfig::new(url);
    config.l2_chain_id = Some(L2_CHAIN_ID);
    config.batcher_key_file = Some(key_file.to_path_buf());
    config.receipt_timeout_secs = 60;
    config
}

struct Setup {
    anvil: Anvil,
    _dir: tempfile::TempDir,
    config: CalldataConfig,
    l1: DynProvider,
}

fn setup(extra: &[&str]) -> Option<Setup> {
    let anvil = Anvil::spawn_with(extra)?;
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("batcher.key");
    std::fs::write(&key_file, format!("{KEY_0}\n")).unwrap();
    let config = config(&anvil.url, &key_file);
    let l1 = ProviderBuilder::new()
        .connect_http(anvil.url.parse().unwrap())
        .erased();
    Some(Setup {
        anvil,
        _dir: dir,
        config,
        l1,
    })
}

fn client(config: &CalldataConfig) -> EthereumCalldataDa {
    EthereumCalldataDa::connect(config)
        .unwrap()
        .with_poll_interval(POLL)
}

fn frames(n: u8) -> Bytes {
    let mut data = vec![0u8; 200];
    data[1..].fill(n);
    data.into()
}

async fn rpc(
    l1: &DynProvider,
    method: &'static str,
    params: serde_json::Value,
) -> serde_json::Value {
    l1.raw_request(method.into(), params).await.unwrap()
}

#[tokio::test]
async fn submit_and_fetch_round_trip() {
    let Some(s) = setup(&[]) else { return };
    let da = client(&s.config);
    assert_eq!(da.inbox(), altius_da::batch_inbox_address(L2_CHAIN_ID));
    let data = frames(1);
    let reference = da.submit(data.clone()).await.unwrap();
    assert_eq!(da.fetch(&reference).await.unwrap(), data);

    let hash = reference.l1_tx_hash().unwrap();
    let tx = s.l1.get_transaction_by_hash(hash).await.unwrap().unwrap();
    assert_eq!(tx.to(), Some(da.inbox()));
    assert_eq!(tx.inner.signer(), da.batcher());
    assert_eq!(tx.block_number, Some(reference.height));
    assert_eq!(tx.transaction_index, Some(u64::from(reference.index)));
    assert!(
        tx.max_priority_fee_per_gas().is_some(),
        "EIP-1559 transaction"
    );
}

#[tokio::test]
async fn several_submissions_use_consecutive_nonces() {
    let Some(s) = setup(&[]) else { return };
    let da = Arc::new(client(&s.config));
    let mut refs = Vec::new();
    for n in 0..3 {
        refs.push(da.submit(frames(n)).await.unwrap());
    }
    let (a, b) = tokio::join!(da.submit(frames(3)), da.submit(frames(4)));
    refs.extend([a.unwrap(), b.unwrap()]);
    let mut nonces = Vec::new();
    for r in &refs {
        let tx =
            s.l1.get_transaction_by_hash(r.l1_tx_hash().unwrap())
                .await
                .unwrap()
                .unwrap();
        nonces.push(tx.nonce());
    }
    nonces.sort_unstable();
    assert_eq!(nonces, [0, 1, 2, 3, 4]);
    for (n, r) in refs.iter().enumerate().take(3) {
        assert_eq!(da.fetch(r).await.unwrap(), frames(n as u8));
    }
}

#[tokio::test]
async fn waits_for_confirmations() {
    let Some(s) = setup(&[]) else { return };
    let mut config = s.config.clone();
    config.confirmations = 3;
    let da = client(&config);
    let l1 = s.l1.clone();
    let miner = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let _ = l1
                .raw_request::<_, serde_json::Value>("evm_mine".into(), ())
                .await;
        }
    });
    let reference = da.submit(frames(7)).await.unwrap();
    let latest = s.l1.get_block_number().await.unwrap();
    miner.abort();
    assert!(
        latest >= reference.height + 2,
        "latest {latest}, included {}",
        reference.height
    );
}

#[tokio::test]
async fn stuck_transaction_is_replaced_with_higher_fees() {
    let Some(s) = setup(&["--no-mining"]) else {
        return;
    };
    let estimate = s.l1.estimate_eip1559_fees().await.unwrap();
    let da = client(&s.config).with_resubmit_after(Duration::from_millis(300));
    let submit = tokio::spawn(async move { da.submit(frames(9)).await });
    tokio::time::sleep(Duration::from_millis(1200)).await;
    rpc(&s.l1, "evm_mine", serde_json::json!([])).await;
    let reference = tokio::time::timeout(Duration::from_secs(30), submit)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let block =
        s.l1.get_block_by_number(BlockNumberOrTag::Number(reference.height))
            .await
            .unwrap()
            .unwrap();
    assert_eq!(block.transactions.len(), 1, "only the replacement is mined");
    let tx =
        s.l1.get_transaction_by_hash(reference.l1_tx_hash().unwrap())
            .await
            .unwrap()
            .unwrap();
    assert_eq!(tx.nonce(), 0);
    let priority = tx.max_priority_fee_per_gas().unwrap();
    assert!(
        priority * 100 >= estimate.max_priority_fee_per_gas * 110,
        "priority {priority} not bumped from {}",
        estimate.max_priority_fee_per_gas
    );
    assert!(tx.max_fee_per_gas() * 100 >= estimate.max_fee_per_gas * 110);
}

#[tokio::test]
async fn unreachable_endpoint_is_retryable() {
    let Some(mut s) = setup(&[]) else { return };
    let da = client(&s.config);
    let reference = da.submit(frames(2)).await.unwrap();
    s.anvil.kill();
    let err = da.submit(frames(3)).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    let err = da.fetch(&reference).await.unwrap_err();
    assert!(matches!(err, DaError::Unavailable(_)), "{err}");
}

#[tokio::test]
async fn finalized_height_follows_the_l1_finalized_tag() {
    let Some(mut s) = setup(&["--slots-in-an-epoch", "1"]) else {
        return;
    };
    let da = client(&s.config);
    rpc(&s.l1, "anvil_mine", serde_json::json!(["0x5"])).await;
    let tagged =
        s.l1.get_block_by_number(BlockNumberOrTag::Finalized)
            .await
            .unwrap()
            .unwrap()
            .header
            .number;
    let height = da.finalized_height().await.unwrap();
    assert_eq!(height, tagged);
    assert!(height > 0 && height < 5, "lags the head of 5: {height}");
    s.anvil.kill();
    let err = da.finalized_height().await.unwrap_err();
    assert!(matches!(err, DaError::Unavailable(_)), "{err}");
}

#[tokio::test]
async fn reverted_transaction_is_reported_not_canonical() {
    let Some(s) = setup(&[]) else { return };
    let da = client(&s.config);
    let snapshot = rpc(&s.l1, "evm_snapshot", serde_json::json!([])).await;
    let reference = da.submit(frames(5)).await.unwrap();
    assert_eq!(da.fetch(&reference).await.unwrap(), frames(5));
    rpc(&s.l1, "evm_revert", serde_json::json!([snapshot])).await;
    match da.fetch(&reference).await {
        Err(DaError::NotCanonical { tx_hash, .. }) => {
            assert_eq!(tx_hash, reference.l1_tx_hash().unwrap());
        }
        other => panic!("expected NotCanonical, got {other:?}"),
    }
    let again = da.submit(frames(5)).await.unwrap();
    assert_eq!(da.fetch(&again).await.unwrap(), frames(5));
}

#[tokio::test]
async fn fetch_rejects_transactions_not_sent_to_the_inbox() {
    let Some(s) = setup(&[]) else { return };
    let da = client(&s.config);
    let wallet_l1 = ProviderBuilder::new()
        .wallet(
            KEY_0
                .parse::<alloy::signers::local::PrivateKeySigner>()
                .unwrap(),
        )
        .connect_http(s.anvil.url.parse().unwrap());
    let request = TransactionRequest::default()
        .with_to(Address::repeat_byte(0x42))
        .with_value(U256::from(1))
        .with_input(frames(1));
    let receipt = wallet_l1
        .send_transaction(request)
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    let index = receipt.transaction_index.unwrap() as u32;
    let reference = DaReference::l1_tx(
        receipt.block_number.unwrap(),
        index,
        receipt.transaction_hash,
    );
    let err = da.fetch(&reference).await.unwrap_err();
    assert!(matches!(err, DaError::InvalidReference(_)), "{err}");
    let unknown = DaReference::l1_tx(1, 0, B256::repeat_byte(1));
    let err = da.fetch(&unknown).await.unwrap_err();
    assert!(matches!(err, DaError::NotCanonical { .. }), "{err}");
}

#[tokio::test]
async fn timed_out_submission_is_replaced_by_the_next_one() {
    let Some(s) = setup(&["--no-mining"]) else {
        return;
    };
    let mut config = s.config.clone();
    config.receipt_timeout_secs = 1;
    let da = Arc::new(client(&config));
    let err = da.submit(frames(1)).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");

    let retry = {
        let da = da.clone();
        tokio::spawn(async move { da.submit(frames(2)).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    rpc(&s.l1, "evm_mine", serde_json::json!([])).await;
    let reference = retry.await.unwrap().unwrap();
    let block =
        s.l1.get_block_by_number(BlockNumberOrTag::Number(reference.height))
            .await
            .unwrap()
            .unwrap();
    assert_eq!(
        block.transactions.len(),
        1,
        "the stale transaction was replaced"
    );
    assert_eq!(da.fetch(&reference).await.unwrap(), frames(2));
    let tx =
        s.l1.get_transaction_by_hash(reference.l1_tx_hash().unwrap())
            .await
            .unwrap()
            .unwrap();
    assert_eq!(tx.nonce(), 0);
}
