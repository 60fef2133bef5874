//! Alt-DA and EigenDA commitments posted to a real L1 (anvil) as version-1 batcher
//! transactions.

use std::time::Duration;

use alloy::{
    consensus::Transaction as _,
    primitives::{Bytes, keccak256},
    providers::{DynProvider, Provider, ProviderBuilder},
};
use altius_da::{AltDaClient, AltDaConfig, CalldataConfig, DaClient, DaError, EigenDaConfig};

use crate::{
    anvil::{Anvil, KEY_0},
    servers::alt_da::{AltDaServer, Fault, Flavor},
};

const L2_CHAIN_ID: u64 = 4242;

struct Setup {
    _anvil: Anvil,
    _dir: tempfile::TempDir,
    l1_config: CalldataConfig,
    l1: DynProvider,
}

fn setup() -> Option<Setup> {
    let anvil = Anvil::spawn()?;
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("batcher.key");
    std::fs::write(&key_file, format!("{KEY_0}\n")).unwrap();
    let mut l1_config = CalldataConfig::new(&anvil.url);
    l1_config.l2_chain_id = Some(L2_CHAIN_ID);
    l1_config.batcher_key_file = Some(key_file);
    l1_config.receipt_timeout_secs = 60;
    let l1 = ProviderBuilder::new()
        .connect_http(anvil.url.parse().unwrap())
        .erased();
    Some(Setup {
        _anvil: anvil,
        _dir: dir,
        l1_config,
        l1,
    })
}

fn frames(n: u8) -> Bytes {
    let mut data = vec![n; 400];
    data[0] = 0x00;
    data.into()
}

#[tokio::test]
async fn keccak_commitment_is_posted_to_the_inbox() {
    let Some(s) = setup() else { return };
    let server = AltDaServer::start(Flavor::Keccak).await;
    let mut config = AltDaConfig::new(server.url());
    config.l1 = Some(s.l1_config.clone());
    let da = AltDaClient::connect(&config)
        .unwrap()
        .with_l1_poll_interval(Duration::from_millis(50));
    let data = frames(1);
    let reference = da.submit(data.clone()).await.unwrap();
    assert!(reference.height > 0, "an L1 block");

    let tx_hash = alloy::primitives::B256::from_slice(&reference.commitment[1..33]);
    let tx =
        s.l1.get_transaction_by_hash(tx_hash)
            .await
            .unwrap()
            .unwrap();
    let inbox = altius_da::batch_inbox_address(L2_CHAIN_ID);
    assert_eq!(tx.to(), Some(inbox));
    assert_eq!(tx.block_number, Some(reference.height));
    assert_eq!(tx.transaction_index, Some(u64::from(reference.index)));
    let expected = [&[0x01, 0x00][..], keccak256(&data).as_slice()].concat();
    assert_eq!(tx.input().as_ref(), expected, "0x01 ++ keccak commitment");

    assert_eq!(da.fetch(&reference).await.unwrap(), data);
    let finalized = da.finalized_height().await.unwrap();
    assert!(finalized <= reference.height + 1, "{finalized}");
    server.assert_no_violations();
}

#[tokio::test]
async fn eigenda_certificate_is_posted_and_reorgs_are_detected() {
    let Some(s) = setup() else { return };
    let server = AltDaServer::start(Flavor::Generic {
        layer: 0x00,
        cert_version: 0x02,
    })
    .await;
    let mut config = EigenDaConfig::new(server.url());
    config.l1 = Some(s.l1_config.clone());
    let da = AltDaClient::eigenda(&config)
        .unwrap()
        .with_l1_poll_interval(Duration::from_millis(50));
    let snapshot: serde_json::Value = s.l1.raw_request("evm_snapshot".into(), ()).await.unwrap();
    let data = frames(2);
    let reference = da.submit(data.clone()).await.unwrap();
    let tx_hash = alloy::primitives::B256::from_slice(&reference.commitment[1..33]);
    let tx =
        s.l1.get_transaction_by_hash(tx_hash)
            .await
            .unwrap()
            .unwrap();
    assert_eq!(
        tx.input()[..4],
        [0x01, 0x01, 0x00, 0x02],
        "0x01 ++ 0x01 0x00 ++ V3 cert"
    );
    let (cert, _) = server.stored().into_iter().next().unwrap();
    assert_eq!(&tx.input()[1..], cert.as_slice());
    assert_eq!(da.fetch(&reference).await.unwrap(), data);

    let _: bool =
        s.l1.raw_request("evm_revert".into(), [snapshot])
            .await
            .unwrap();
    let err = da.fetch(&reference).await.unwrap_err();
    assert!(matches!(err, DaError::NotCanonical { .. }), "{err}");
    let again = da.submit(data.clone()).await.unwrap();
    assert_eq!(da.fetch(&again).await.unwrap(), data);
    server.assert_no_violations();
}

#[tokio::test]
async fn a_failed_l1_posting_is_retried_without_storing_again() {
    let Some(s) = setup() else { return };
    let server = AltDaServer::start(Flavor::Generic {
        layer: 0x0c,
        cert_version: 0x00,
    })
    .await;
    let mut config = AltDaConfig::new(server.url());
    config.generic_commitment = true;
    let mut l1 = s.l1_config.clone();
    l1.l1_rpc_url = crate::servers::dead_url().await;
    config.l1 = Some(l1);
    let down = AltDaClient::connect(&config).unwrap();
    let data = frames(3);
    let err = down.submit(data.clone()).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    let err = down.submit(data.clone()).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert_eq!(server.requests().len(), 1, "stored once for both attempts");

    // And an L1 reference cannot be fetched by a client without an L1.
    config.l1 = Some(s.l1_config.clone());
    let up = AltDaClient::connect(&config)
        .unwrap()
        .with_l1_poll_interval(Duration::from_millis(50));
    let reference = up.submit(data.clone()).await.unwrap();
    config.l1 = None;
    let no_l1 = AltDaClient::connect(&config).unwrap();
    let err = no_l1.fetch(&reference).await.unwrap_err();
    assert!(matches!(err, DaError::InvalidReference(_)), "{err}");
    server.set_fault(Fault::None);
    server.assert_no_violations();
}
