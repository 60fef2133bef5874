//! [`EthereumBlobsDa`] against anvil: round trips in both sidecar formats, payloads over
//! several blobs, replacement, outages and bad input.

use std::{path::Path, time::Duration};

use alloy::{
    consensus::Transaction as _,
    providers::{DynProvider, Provider, ProviderBuilder},
};
use altius_da::{
    BlobsConfig, DaClient, DaError, DaReference, EthereumBlobsDa, MAX_BLOB_DATA_SIZE, SidecarFormat,
};

use crate::anvil::{Anvil, KEY_0};

const L2_CHAIN_ID: u64 = 4242;
const POLL: Duration = Duration::from_millis(50);

struct Setup {
    anvil: Anvil,
    _dir: tempfile::TempDir,
    config: BlobsConfig,
    l1: DynProvider,
}

fn config(url: &str, key_file: &Path) -> BlobsConfig {
    let mut config = BlobsConfig::new(url);
    config.l2_chain_id = Some(L2_CHAIN_ID);
    config.batcher_key_file = Some(key_file.to_path_buf());
    config.receipt_timeout_secs = 60;
    config
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

fn client(config: &BlobsConfig) -> EthereumBlobsDa {
    EthereumBlobsDa::connect(config)
        .unwrap()
        .with_poll_interval(POLL)
}

fn payload(len: usize, seed: u8) -> alloy::primitives::Bytes {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect::<Vec<u8>>()
        .into()
}

async fn rpc(l1: &DynProvider, method: &'static str) -> serde_json::Value {
    l1.raw_request(method.into(), ()).await.unwrap()
}

/// Checks the transaction behind `reference`: type 3, to the inbox, from the batcher, with
/// `blobs` blobs whose versioned hashes the reference names.
async fn check_blob_tx(l1: &DynProvider, da: &EthereumBlobsDa, r: &DaReference, blobs: usize) {
    let hash = alloy::primitives::B256::from_slice(&r.body()[..32]);
    let tx = l1.get_transaction_by_hash(hash).await.unwrap().unwrap();
    assert_eq!(tx.inner.tx_type() as u8, 3, "EIP-4844 transaction");
    assert_eq!(tx.to(), Some(da.inbox()));
    assert_eq!(tx.inner.signer(), da.batcher());
    assert!(tx.input().is_empty(), "no calldata");
    assert!(tx.max_fee_per_blob_gas().unwrap() > 0);
    let hashes = tx.blob_versioned_hashes().unwrap();
    assert_eq!(hashes.len(), blobs);
    assert_eq!(r.body()[32..], hashes.concat());
    assert_eq!(tx.block_number, Some(r.height));
}

#[tokio::test]
async fn submit_and_fetch_round_trip_with_cell_proofs() {
    let Some(s) = setup(&[]) else { return };
    let da = client(&s.config);
    assert_eq!(da.kind(), "ethereum-blobs");
    assert_eq!(
        da.sidecar_format().await.unwrap(),
        SidecarFormat::Eip7594,
        "auto: anvil's default fork is Osaka or later"
    );
    let data = payload(1000, 1);
    let reference = da.submit(data.clone()).await.unwrap();
    assert_eq!(da.fetch(&reference).await.unwrap(), data);
    check_blob_tx(&s.l1, &da, &reference, 1).await;
}

#[tokio::test]
async fn auto_picks_eip4844_sidecars_on_a_prague_l1() {
    let Some(s) = setup(&["--hardfork", "prague"]) else {
        return;
    };
    let mut explicit = s.config.clone();
    explicit.sidecar = SidecarFormat::Eip7594;
    let explicit = client(&explicit);
    assert_eq!(
        explicit.sidecar_format().await.unwrap(),
        SidecarFormat::Eip7594
    );
    // auto: Prague has no P256VERIFY precompile, so EIP-4844 proofs.
    let da = client(&s.config);
    assert_eq!(da.sidecar_format().await.unwrap(), SidecarFormat::Eip4844);
    let data = payload(MAX_BLOB_DATA_SIZE, 2);
    let reference = da.submit(data.clone()).await.unwrap();
    assert_eq!(da.fetch(&reference).await.unwrap(), data);
    check_blob_tx(&s.l1, &da, &reference, 1).await;
    let second = da.submit(payload(10, 3)).await.unwrap();
    assert_eq!(da.fetch(&second).await.unwrap(), payload(10, 3));
    let tx =
        s.l1.get_transaction_by_hash(alloy::primitives::B256::from_slice(&second.body()[..32]))
            .await
            .unwrap()
            .unwrap();
    assert_eq!(tx.nonce(), 1, "nonces are tracked");
}

#[tokio::test]
async fn oversized_payload_spans_several_blobs_of_one_transaction() {
    let Some(s) = setup(&[]) else { return };
    let mut config = s.config.clone();
    config.max_blobs_per_tx = 3;
    let da = client(&config);
    let data = payload(2 * MAX_BLOB_DATA_SIZE + 777, 4);
    let reference = da.submit(data.clone()).await.unwrap();
    check_blob_tx(&s.l1, &da, &reference, 3).await;
    assert_eq!(da.fetch(&reference).await.unwrap(), data);
    let too_big = payload(3 * MAX_BLOB_DATA_SIZE + 1, 5);
    match da.submit(too_big).await {
        Err(DaError::TooLarge { size, max }) => {
            assert_eq!(
                (size, max),
                (3 * MAX_BLOB_DATA_SIZE + 1, 3 * MAX_BLOB_DATA_SIZE)
            );
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

#[tokio::test]
async fn stuck_blob_transaction_is_replaced_with_doubled_fees() {
    let Some(s) = setup(&["--no-mining"]) else {
        return;
    };
    let da = client(&s.config).with_resubmit_after(Duration::from_millis(400));
    let submit = tokio::spawn(async move { da.submit(payload(300, 6)).await });
    // The first send waits for the KZG work; then give the replacements time to happen.
    for _ in 0..300 {
        let pool: serde_json::Value = rpc(&s.l1, "txpool_inspect").await;
        if pool["pending"].as_object().is_some_and(|p| !p.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(2000)).await;
    rpc(&s.l1, "evm_mine").await;
    let reference = tokio::time::timeout(Duration::from_secs(30), submit)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let block =
        s.l1.get_block_by_number(reference.height.into())
            .await
            .unwrap()
            .unwrap();
    assert_eq!(block.transactions.len(), 1, "only the replacement is mined");
    let hash = alloy::primitives::B256::from_slice(&reference.body()[..32]);
    let tx = s.l1.get_transaction_by_hash(hash).await.unwrap().unwrap();
    let base = s.l1.get_blob_base_fee().await.unwrap();
    assert!(
        tx.max_fee_per_blob_gas().unwrap() >= 4 * base.max(1),
        "blob fee doubled at least once: {:?} (base {base})",
        tx.max_fee_per_blob_gas()
    );
}

#[tokio::test]
async fn unreachable_l1_is_retryable() {
    let Some(mut s) = setup(&[]) else { return };
    let da = client(&s.config);
    let reference = da.submit(payload(50, 7)).await.unwrap();
    s.anvil.kill();
    let err = da.submit(payload(50, 8)).await.unwrap_err();
    assert!(matches!(err, DaError::Unavailable(_)), "{err}");
    let err = da.fetch(&reference).await.unwrap_err();
    assert!(matches!(err, DaError::Unavailable(_)), "{err}");
    let err = da.finalized_height().await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
}

#[tokio::test]
async fn bad_input_is_rejected() {
    let Some(s) = setup(&[]) else { return };
    let da = client(&s.config);
    assert!(matches!(
        da.submit(Default::default()).await,
        Err(DaError::EmptySubmission)
    ));
    let reference = da.submit(payload(64, 9)).await.unwrap();
    let calldata_ref = DaReference::l1_tx(reference.height, reference.index, Default::default());
    assert!(matches!(
        da.fetch(&calldata_ref).await,
        Err(DaError::InvalidReference(_))
    ));
    let mut wrong_hash = reference.commitment.to_vec();
    *wrong_hash.last_mut().unwrap() ^= 1;
    let wrong = DaReference::new(reference.height, reference.index, wrong_hash.into());
    assert!(matches!(
        da.fetch(&wrong).await,
        Err(DaError::InvalidReference(_))
    ));
    let mut unknown = reference.commitment.to_vec();
    unknown[1] ^= 1;
    let unknown = DaReference::new(reference.height, reference.index, unknown.into());
    assert!(matches!(
        da.fetch(&unknown).await,
        Err(DaError::NotCanonical { .. })
    ));
    let moved = DaReference::new(reference.height + 5, 0, reference.commitment.clone());
    assert!(matches!(
        da.fetch(&moved).await,
        Err(DaError::NotCanonical { .. })
    ));
    assert_eq!(da.fetch(&reference).await.unwrap(), payload(64, 9));
}

#[tokio::test]
async fn blobs_are_read_back_from_the_beacon_api() {
    let Some(s) = setup(&[]) else { return };
    // 12-second slots from genesis: anvil's beacon slot N is then L1 block N.
    let interval: serde_json::Value =
        s.l1.raw_request("anvil_setBlockTimestampInterval".into(), (12,))
            .await
            .unwrap();
    assert!(interval.is_null(), "{interval}");
    let mut config = s.config.clone();
    config.l1_beacon_url = Some(s.anvil.url.clone());
    let da = client(&config);
    let data = payload(MAX_BLOB_DATA_SIZE + 5, 10);
    let reference = da.submit(data.clone()).await.unwrap();
    // Another blob transaction in a later block must not confuse the lookup.
    let other = da.submit(payload(99, 11)).await.unwrap();
    assert_ne!(other.height, reference.height);
    assert_eq!(da.fetch(&reference).await.unwrap(), data);
    assert_eq!(da.fetch(&other).await.unwrap(), payload(99, 11));

    config.l1_slot_seconds = 4;
    let wrong_slots = client(&config);
    let err = wrong_slots.fetch(&reference).await.unwrap_err();
    assert!(
        matches!(err, DaError::Backend(_) | DaError::Corrupted { .. }),
        "{err}"
    );

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    config.l1_beacon_url = Some(format!("http://{}", closed.local_addr().unwrap()));
    drop(closed);
    let err = client(&config).fetch(&reference).await.unwrap_err();
    assert!(matches!(err, DaError::Unavailable(_)), "{err}");
}

#[tokio::test]
async fn confirmations_and_reorged_blob_transactions() {
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
    let snapshot = rpc(&s.l1, "evm_snapshot").await;
    let reference = da.submit(payload(500, 12)).await.unwrap();
    miner.abort();
    let latest = s.l1.get_block_number().await.unwrap();
    assert!(
        latest >= reference.height + 2,
        "latest {latest}, included {}",
        reference.height
    );
    assert_eq!(da.fetch(&reference).await.unwrap(), payload(500, 12));

    let reverted: bool =
        s.l1.raw_request("evm_revert".into(), (snapshot,))
            .await
            .unwrap();
    assert!(reverted);
    match da.fetch(&reference).await {
        Err(DaError::NotCanonical { height, .. }) => assert_eq!(height, reference.height),
        other => panic!("expected NotCanonical, got {other:?}"),
    }
}
