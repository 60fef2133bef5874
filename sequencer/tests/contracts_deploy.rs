//! `altius contracts deploy` against a real L1 (anvil), through the binary.

use std::process::{Command, Output};

use alloy::{
    primitives::{Address, U256},
    providers::ProviderBuilder,
    signers::local::PrivateKeySigner,
};
use altius_settlement::{L2OutputOracle, SettlementConfig};

use altius_test_anvil::{Anvil, KEY_0, KEY_1};

fn altius(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_altius"))
        .args(args)
        .output()
        .expect("run altius")
}

fn address_of(key: &str) -> Address {
    key.parse::<PrivateKeySigner>().unwrap().address()
}

/// The oracle address and the `[settlement]` section printed by a successful deploy.
fn parse_output(out: &Output) -> (Address, SettlementConfig) {
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let address = stdout
        .lines()
        .find_map(|l| l.strip_prefix("L2OutputOracle deployed at "))
        .expect("address line")
        .parse()
        .unwrap();
    let toml_text = &stdout[stdout.find("[settlement]").expect("settlement section")..];
    #[derive(serde::Deserialize)]
    struct Wrapper {
        settlement: SettlementConfig,
    }
    let config = toml::from_str::<Wrapper>(toml_text).unwrap().settlement;
    config.validate().unwrap();
    (address, config)
}

#[tokio::test]
async fn deploys_an_initialized_oracle_and_prints_its_config() {
    let Some(mut anvil) = Anvil::spawn() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("deployer.key");
    std::fs::write(&key_file, format!("{KEY_0}\n")).unwrap();
    let key_path = key_file.to_str().unwrap();
    let proposer = address_of(KEY_1);
    let out = altius(&[
        "contracts",
        "deploy",
        "--l1-rpc",
        &anvil.url,
        "--key-file",
        key_path,
        "--submission-interval",
        "5",
        "--starting-block-number",
        "100",
        "--proposer",
        &proposer.to_string(),
    ]);
    let (address, config) = parse_output(&out);
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains(&KEY_0[2..]),
        "key printed"
    );
    assert_eq!(config.oracle_address, Some(address));
    assert_eq!(config.l1_rpc.as_deref(), Some(anvil.url.as_str()));
    assert_eq!(config.submission_interval, 5);
    assert_eq!(
        config.proposer_key_env.as_deref(),
        Some("ALTIUS_PROPOSER_KEY")
    );

    let l1 = ProviderBuilder::new().connect_http(anvil.url.parse().unwrap());
    let oracle = L2OutputOracle::new(address, l1);
    assert_eq!(
        oracle.latestBlockNumber().call().await.unwrap(),
        U256::from(100)
    );
    assert_eq!(oracle.PROPOSER().call().await.unwrap(), proposer);
    assert_eq!(oracle.CHALLENGER().call().await.unwrap(), address_of(KEY_0));
    assert_eq!(
        oracle.SUBMISSION_INTERVAL().call().await.unwrap(),
        U256::from(5)
    );

    // The deployer proposes by default, and its key source is reused.
    let out = Command::new(env!("CARGO_BIN_EXE_altius"))
        .args([
            "contracts",
            "deploy",
            "--l1-rpc",
            &anvil.url,
            "--key-env",
            "ALTIUS_TEST_DEPLOYER_KEY",
        ])
        .env("ALTIUS_TEST_DEPLOYER_KEY", KEY_0)
        .output()
        .unwrap();
    let (second, config) = parse_output(&out);
    assert_ne!(second, address);
    assert_eq!(
        config.proposer_key_env.as_deref(),
        Some("ALTIUS_TEST_DEPLOYER_KEY")
    );
    let l1 = ProviderBuilder::new().connect_http(anvil.url.parse().unwrap());
    let oracle = L2OutputOracle::new(second, l1);
    assert_eq!(oracle.PROPOSER().call().await.unwrap(), address_of(KEY_0));

    // A bad key file and a down endpoint are clear errors.
    std::fs::write(&key_file, "0xnot-a-key-secretvalue\n").unwrap();
    let out = altius(&[
        "contracts",
        "deploy",
        "--l1-rpc",
        &anvil.url,
        "--key-file",
        key_path,
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("does not hold a 32-byte hex private key"),
        "{stderr}"
    );
    assert!(!stderr.contains("secretvalue"), "{stderr}");

    std::fs::write(&key_file, KEY_0).unwrap();
    anvil.kill();
    let out = altius(&[
        "contracts",
        "deploy",
        "--l1-rpc",
        &anvil.url,
        "--key-file",
        key_path,
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("cannot reach the L1 endpoint"), "{stderr}");
}
