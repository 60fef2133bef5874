//! [`CelestiaDa`] against a loopback celestia-node JSON-RPC endpoint.

use std::path::Path;

use alloy::primitives::Bytes;
use altius_da::{CelestiaConfig, CelestiaDa, DaClient, DaError, DaReference, GasPrice};
use serde_json::json;

use crate::servers::{
    celestia::{CelestiaNode, Fault},
    dead_url,
};

const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.write.sig";

fn config(url: &str, token_file: &Path) -> CelestiaConfig {
    std::fs::write(token_file, format!("{TOKEN}\n")).unwrap();
    let mut config = CelestiaConfig::new(url, "0x416c74697573");
    config.auth_token_file = Some(token_file.to_path_buf());
    config.timeout_secs = 10;
    config
}

struct Setup {
    node: CelestiaNode,
    da: CelestiaDa,
    _dir: tempfile::TempDir,
}

async fn setup(tune: impl FnOnce(&mut CelestiaConfig)) -> Setup {
    let node = CelestiaNode::start(TOKEN).await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(node.url(), &dir.path().join("jwt"));
    tune(&mut config);
    let da = CelestiaDa::connect(&config).unwrap();
    Setup {
        node,
        da,
        _dir: dir,
    }
}

fn data(n: u8, len: usize) -> Bytes {
    vec![n; len].into()
}

#[tokio::test]
async fn submit_and_fetch_round_trip() {
    let s = setup(|_| {}).await;
    let payload = data(1, 3000);
    let reference = s.da.submit(payload.clone()).await.unwrap();
    assert_eq!(reference.height, 101, "the node's next block");
    assert_eq!(reference.commitment.len(), 42);
    assert_eq!(reference.commitment[..2], [0x01, 0x0c]);
    assert_eq!(reference.commitment[2..10], 101u64.to_le_bytes());
    let stored = s.node.state.lock().unwrap().blobs.clone();
    assert_eq!(stored.len(), 1);
    let (height, blob) = &stored[0];
    assert_eq!(*height, 101);
    assert_eq!(blob.data, payload.to_vec());
    assert_eq!(blob.share_version, 0);
    assert_eq!(&reference.commitment[10..], blob.commitment.hash());
    assert_eq!(
        blob.namespace.as_bytes()[19..],
        [0, 0, 0, 0, 0x41, 0x6c, 0x74, 0x69, 0x75, 0x73],
        "v0 namespace, ID left-padded"
    );

    assert_eq!(s.da.fetch(&reference).await.unwrap(), payload);
    assert_eq!(
        s.node.calls(),
        ["blob.Submit", "header.GetByHeight", "blob.Get", "blob.Get"]
    );
    let tx_configs = s.node.state.lock().unwrap().tx_configs.clone();
    assert_eq!(tx_configs, [json!({})], "the node estimates the gas price");
    s.node.assert_no_violations();

    // Several submissions land at increasing heights and all read back.
    let second = s.da.submit(data(2, 600_000)).await.unwrap();
    assert_eq!(second.height, 102);
    assert_eq!(s.da.fetch(&second).await.unwrap(), data(2, 600_000));
    assert_eq!(s.da.fetch(&reference).await.unwrap(), payload);
}

#[tokio::test]
async fn gas_price_options_are_sent() {
    let s = setup(|c| {
        c.gas_price = Some(GasPrice(0.004));
        c.max_gas_price = Some(GasPrice(0.1));
    })
    .await;
    s.da.submit(data(1, 10)).await.unwrap();
    let tx_configs = s.node.state.lock().unwrap().tx_configs.clone();
    assert_eq!(
        tx_configs,
        [json!({"gas_price": 0.004, "is_gas_price_set": true, "max_gas_price": 0.1})]
    );
    s.node.assert_no_violations();
}

#[tokio::test]
async fn finalized_height_is_the_network_head() {
    let s = setup(|_| {}).await;
    assert_eq!(s.da.finalized_height().await.unwrap(), 100);
    let reference = s.da.submit(data(1, 10)).await.unwrap();
    assert_eq!(s.da.finalized_height().await.unwrap(), reference.height);
    assert_eq!(s.node.calls().last().unwrap(), "header.NetworkHead");
    s.node.assert_no_violations();
}

#[tokio::test]
async fn wrong_commitment_or_data_from_the_node_is_detected() {
    let s = setup(|_| {}).await;
    let reference = s.da.submit(data(3, 100)).await.unwrap();

    s.node.set_fault(Fault::WrongCommitment([9; 32]));
    match s.da.fetch(&reference).await {
        Err(DaError::Corrupted { actual, .. }) => assert_eq!(actual.0, [9; 32]),
        other => panic!("expected Corrupted, got {other:?}"),
    }
    s.node.set_fault(Fault::WrongData);
    let err = s.da.fetch(&reference).await.unwrap_err();
    assert!(matches!(err, DaError::Corrupted { .. }), "{err}");
    // A submission whose read-back disagrees is not reported as published.
    let err = s.da.submit(data(4, 100)).await.unwrap_err();
    assert!(matches!(err, DaError::Corrupted { .. }), "{err}");

    s.node.set_fault(Fault::None);
    let mut other = reference.commitment.to_vec();
    other[20] ^= 1;
    let unknown = DaReference::new(reference.height, 0, other.into());
    assert!(matches!(
        s.da.fetch(&unknown).await,
        Err(DaError::NotFound { height }) if height == reference.height
    ));
    let moved = DaReference::new(reference.height + 1, 0, reference.commitment.clone());
    assert!(matches!(
        s.da.fetch(&moved).await,
        Err(DaError::InvalidReference(_))
    ));
}

#[tokio::test]
async fn garbage_responses_are_errors() {
    let s = setup(|_| {}).await;
    for garbage in [
        "not json",
        "{}",
        r#"{"jsonrpc":"2.0","id":999,"result":5}"#,
        r#"{"jsonrpc":"2.0","id":1,"result":"x"}"#,
        r#"[1,2,3]"#,
    ] {
        s.node.set_fault(Fault::Garbage(garbage.into()));
        let err = s.da.submit(data(1, 10)).await.unwrap_err();
        assert!(matches!(err, DaError::Backend(_)), "{garbage}: {err}");
        let err = s.da.finalized_height().await.unwrap_err();
        assert!(matches!(err, DaError::Backend(_)), "{garbage}: {err}");
    }
}

#[tokio::test]
async fn unreachable_node_is_retryable_and_bad_auth_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let da = CelestiaDa::connect(&config(&dead_url().await, &dir.path().join("jwt"))).unwrap();
    let err = da.submit(data(1, 10)).await.unwrap_err();
    assert!(matches!(err, DaError::Unavailable(_)), "{err}");
    let err = da.finalized_height().await.unwrap_err();
    assert!(matches!(err, DaError::Unavailable(_)), "{err}");

    let mut s = setup(|_| {}).await;
    s.node.set_fault(Fault::Status(503));
    assert!(s.da.submit(data(1, 10)).await.unwrap_err().is_retryable());
    s.node.set_fault(Fault::None);
    let reference = s.da.submit(data(1, 10)).await.unwrap();
    s.node.server.stop().await;
    let err = s.da.fetch(&reference).await.unwrap_err();
    assert!(matches!(err, DaError::Unavailable(_)), "{err}");

    let node = CelestiaNode::start("another-token").await;
    let wrong = CelestiaDa::connect(&config(node.url(), &dir.path().join("jwt2"))).unwrap();
    let err = wrong.submit(data(1, 10)).await.unwrap_err();
    assert!(matches!(err, DaError::Backend(_)), "{err}");
    assert!(err.to_string().contains("401"), "{err}");
}

#[tokio::test]
async fn size_limit_is_enforced_before_sending() {
    let s = setup(|c| c.max_blob_bytes = 1000).await;
    let err = s.da.submit(data(1, 1001)).await.unwrap_err();
    assert!(matches!(err, DaError::TooLarge { max: 1000, .. }), "{err}");
    assert!(matches!(
        s.da.submit(Bytes::new()).await,
        Err(DaError::EmptySubmission)
    ));
    assert!(s.node.calls().is_empty());
}
