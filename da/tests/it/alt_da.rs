//! [`AltDaClient`] against a loopback OP alt-DA server: keccak and generic commitments,
//! the eigenda-proxy flavour, outages and misbehaving servers.

use alloy::primitives::{Bytes, hex, keccak256};
use altius_da::{
    AltDaClient, AltDaConfig, DaClient, DaConfig, DaError, DaReference, EigenDaConfig,
};
use axum::http::Method;

use crate::servers::{
    alt_da::{AltDaServer, Fault, Flavor},
    dead_url,
};

const EIGENDA: Flavor = Flavor::Generic {
    layer: 0x00,
    cert_version: 0x01,
};
const CELESTIA: Flavor = Flavor::Generic {
    layer: 0x0c,
    cert_version: 0x00,
};

fn frames(n: u8, len: usize) -> Bytes {
    let mut data = vec![n; len];
    data[0] = 0x00;
    data.into()
}

fn keccak_client(url: &str) -> AltDaClient {
    AltDaClient::connect(&AltDaConfig::new(url)).unwrap()
}

fn generic_client(url: &str) -> AltDaClient {
    let mut config = AltDaConfig::new(url);
    config.generic_commitment = true;
    AltDaClient::connect(&config).unwrap()
}

fn eigenda_client(url: &str) -> AltDaClient {
    AltDaClient::eigenda(&EigenDaConfig::new(url)).unwrap()
}

#[tokio::test]
async fn keccak_round_trip_follows_the_spec() {
    let server = AltDaServer::start(Flavor::Keccak).await;
    let da = keccak_client(server.url());
    let data = frames(1, 1000);
    let reference = da.submit(data.clone()).await.unwrap();
    let hash = keccak256(&data);
    let commitment = [&[0x00][..], hash.as_slice()].concat();
    assert_eq!((reference.height, reference.index), (0, 0));
    assert_eq!(
        reference.commitment.as_ref(),
        [&[0x01][..], &commitment].concat(),
        "the reference is the version-1 batcher tx data"
    );
    assert_eq!(da.fetch(&reference).await.unwrap(), data);

    let hex = hex::encode(&commitment);
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!(requests[0].method, Method::POST);
    assert_eq!(requests[0].path, format!("/put/0x{hex}"));
    assert_eq!(
        requests[0].content_type.as_deref(),
        Some("application/octet-stream")
    );
    assert_eq!(requests[1].method, Method::GET);
    assert_eq!(requests[1].path, format!("/get/0x{hex}"));
    assert_eq!(server.stored().get(&commitment), Some(&data.to_vec()));
    assert_eq!(da.finalized_height().await.unwrap(), 0);
    server.assert_no_violations();
}

#[tokio::test]
async fn generic_round_trip_takes_the_servers_raw_commitment() {
    let server = AltDaServer::start(CELESTIA).await;
    let da = generic_client(server.url());
    let data = frames(2, 5000);
    let reference = da.submit(data.clone()).await.unwrap();
    let stored = server.stored();
    let (commitment, preimage) = stored.iter().next().unwrap();
    assert_eq!(preimage, &data.to_vec());
    assert_eq!(commitment[..2], [0x01, 0x0c]);
    assert_eq!(
        reference.commitment.as_ref(),
        [&[0x01][..], commitment].concat()
    );
    assert_eq!(da.fetch(&reference).await.unwrap(), data);
    let requests = server.requests();
    assert_eq!(
        (&requests[0].method, requests[0].path.as_str()),
        (&Method::POST, "/put")
    );
    assert_eq!(
        requests[1].path,
        format!("/get/0x{}", hex::encode(commitment))
    );
    server.assert_no_violations();
}

#[tokio::test]
async fn celestia_share_commitments_are_verified_with_the_namespace() {
    let namespace = celestia_types::nmt::Namespace::new_v0(&[0x41, 0x6c, 0x74]).unwrap();
    let server = AltDaServer::start(Flavor::Celestia { namespace }).await;
    let client = |ns: &str| {
        let mut config = AltDaConfig::new(server.url());
        config.generic_commitment = true;
        config.celestia_namespace = Some(ns.into());
        AltDaClient::connect(&config).unwrap()
    };
    let da = client("0x416c74");
    let data = frames(7, 2000);
    let reference = da.submit(data.clone()).await.unwrap();
    assert_eq!(reference.commitment.len(), 1 + 2 + 8 + 32);
    assert_eq!(reference.commitment[..3], [0x01, 0x01, 0x0c]);
    assert_eq!(da.fetch(&reference).await.unwrap(), data);

    server.set_fault(Fault::WrongData);
    let err = da.fetch(&reference).await.unwrap_err();
    assert!(matches!(err, DaError::Corrupted { .. }), "{err}");
    server.set_fault(Fault::None);
    let other_namespace = client("0x416c75");
    let err = other_namespace.fetch(&reference).await.unwrap_err();
    assert!(matches!(err, DaError::Corrupted { .. }), "{err}");
    // Without the namespace the commitment cannot be checked, and wrong data passes.
    server.set_fault(Fault::WrongData);
    let unchecked = generic_client(server.url());
    assert_ne!(unchecked.fetch(&reference).await.unwrap(), data);
    // A Celestia commitment of the wrong length is refused.
    server.set_fault(Fault::PutReturns(vec![0x01, 0x0c, 1, 2, 3]));
    let err = da.submit(frames(8, 10)).await.unwrap_err();
    assert!(matches!(err, DaError::Backend(_)), "{err}");
    server.assert_no_violations();
}

#[tokio::test]
async fn eigenda_proxy_round_trip_checks_the_certificate() {
    let server = AltDaServer::start(EIGENDA).await;
    let da = eigenda_client(server.url());
    assert_eq!(da.kind(), "eigenda");
    let data = frames(3, 20_000);
    let reference = da.submit(data.clone()).await.unwrap();
    assert_eq!(
        reference.commitment[..4],
        [0x01, 0x01, 0x00, 0x01],
        "tx data 0x01 ++ generic 0x01 ++ EigenDA layer 0x00 ++ cert version"
    );
    assert_eq!(da.fetch(&reference).await.unwrap(), data);
    server.assert_no_violations();

    // A Celestia commitment from a server configured as an eigenda-proxy is refused.
    let celestia = AltDaServer::start(CELESTIA).await;
    let err = eigenda_client(celestia.url())
        .submit(data.clone())
        .await
        .unwrap_err();
    assert!(matches!(err, DaError::Backend(_)), "{err}");
    // So is an unknown certificate version.
    server.set_fault(Fault::PutReturns(vec![0x01, 0x00, 0x09, 1, 2, 3]));
    let err = da.submit(frames(4, 10)).await.unwrap_err();
    assert!(matches!(err, DaError::Backend(_)), "{err}");
}

#[tokio::test]
async fn config_builds_working_clients() {
    let server = AltDaServer::start(EIGENDA).await;
    let config: DaConfig = toml::from_str(&format!(
        "kind = \"eigenda\"\nproxy_url = \"{}/\"",
        server.url()
    ))
    .unwrap();
    let da = config.build(None).unwrap();
    let reference = da.submit(frames(5, 10)).await.unwrap();
    assert_eq!(da.fetch(&reference).await.unwrap(), frames(5, 10));
    server.assert_no_violations();
}

#[tokio::test]
async fn unreachable_or_failing_servers_are_retryable() {
    let da = keccak_client(&dead_url().await);
    let err = da.submit(frames(1, 10)).await.unwrap_err();
    assert!(matches!(err, DaError::Unavailable(_)), "{err}");

    let mut server = AltDaServer::start(EIGENDA).await;
    let da = eigenda_client(server.url());
    let reference = da.submit(frames(1, 10)).await.unwrap();
    server.set_fault(Fault::Status(503));
    let err = da.submit(frames(2, 10)).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    let err = da.fetch(&reference).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    server.set_fault(Fault::Status(400));
    let err = da.submit(frames(2, 10)).await.unwrap_err();
    assert!(matches!(err, DaError::Backend(_)), "{err}");
    assert!(err.to_string().contains("400"), "{err}");

    server.set_fault(Fault::None);
    server.server.stop().await;
    let err = da.fetch(&reference).await.unwrap_err();
    assert!(matches!(err, DaError::Unavailable(_)), "{err}");
}

#[tokio::test]
async fn garbage_commitments_are_errors() {
    let server = AltDaServer::start(CELESTIA).await;
    let da = generic_client(server.url());
    for garbage in [
        Vec::new(),
        b"<html>oops</html>".to_vec(),
        vec![0x01],
        vec![0x00, 1, 2, 3],
        vec![0x00; 33],
        vec![0x01, 0x90, 1],
    ] {
        server.set_fault(Fault::PutReturns(garbage.clone()));
        let err = da.submit(frames(1, 10)).await.unwrap_err();
        assert!(matches!(err, DaError::Backend(_)), "{garbage:?}: {err}");
    }
    server.set_fault(Fault::PutReturns(vec![0x01; 200_000]));
    let err = da.submit(frames(1, 10)).await.unwrap_err();
    assert!(err.to_string().contains("exceeds"), "{err}");
}

#[tokio::test]
async fn wrong_or_missing_data_is_detected() {
    let server = AltDaServer::start(Flavor::Keccak).await;
    let da = keccak_client(server.url());
    let data = frames(6, 300);
    let reference = da.submit(data.clone()).await.unwrap();

    server.set_fault(Fault::WrongData);
    match da.fetch(&reference).await {
        Err(DaError::Corrupted {
            expected, actual, ..
        }) => {
            assert_eq!(expected, keccak256(&data));
            assert_ne!(actual, expected);
        }
        other => panic!("expected Corrupted, got {other:?}"),
    }
    server.set_fault(Fault::HugeGet(200_000));
    let err = da.fetch(&reference).await.unwrap_err();
    assert!(err.to_string().contains("exceeds"), "{err}");

    server.set_fault(Fault::None);
    let unknown = DaReference::new(0, 0, {
        let mut c = reference.commitment.to_vec();
        c[5] ^= 1;
        c.into()
    });
    assert!(matches!(
        da.fetch(&unknown).await,
        Err(DaError::NotFound { .. })
    ));
    let foreign = DaReference::keccak(3, 0, keccak256(&data));
    assert!(matches!(
        da.fetch(&foreign).await,
        Err(DaError::InvalidReference(_))
    ));
    server.assert_no_violations();
}

#[tokio::test]
async fn size_limits_are_enforced_before_sending() {
    let server = AltDaServer::start(Flavor::Keccak).await;
    let da = keccak_client(server.url());
    let err = da.submit(frames(1, 130_673)).await.unwrap_err();
    assert!(
        matches!(err, DaError::TooLarge { max: 130_672, .. }),
        "{err}"
    );
    assert!(matches!(
        da.submit(Bytes::new()).await,
        Err(DaError::EmptySubmission)
    ));
    da.submit(frames(1, 130_672)).await.unwrap();
    assert_eq!(server.requests().len(), 1);
}
