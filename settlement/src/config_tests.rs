use super::*;

const ANVIL_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

#[derive(Debug, Deserialize)]
struct Wrapper {
    #[serde(default)]
    settlement: SettlementConfig,
}

fn parse(text: &str) -> std::result::Result<SettlementConfig, toml::de::Error> {
    toml::from_str::<Wrapper>(text).map(|w| w.settlement)
}

fn oracle_config() -> SettlementConfig {
    parse(
        r#"[settlement]
kind = "l2-output-oracle"
l1_rpc = "http://127.0.0.1:8545"
oracle_address = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
proposer_key_env = "ALTIUS_TEST_KEY_THAT_IS_NOT_SET"
confirmations = 2
"#,
    )
    .unwrap()
}

#[test]
fn defaults_to_local_with_interval_10() {
    let config = parse("").unwrap();
    assert_eq!(config, SettlementConfig::default());
    assert_eq!(config.kind, SettlementKind::Local);
    assert_eq!((config.submission_interval, config.confirmations), (10, 1));
    assert_eq!(parse("[settlement]\nkind = \"local\"").unwrap(), config);
    config.validate().unwrap();
}

#[test]
fn parses_an_oracle_config() {
    let config = oracle_config();
    assert_eq!(config.kind, SettlementKind::L2OutputOracle);
    assert_eq!(config.confirmations, 2);
    assert_eq!(config.submission_interval, DEFAULT_SUBMISSION_INTERVAL);
    config.validate().unwrap();
}

#[test]
fn rejects_unknown_fields_kinds_and_inline_keys() {
    assert!(parse("[settlement]\nkind = \"optimism\"").is_err());
    assert!(parse("[settlement]\ninterval = 5").is_err());
    assert!(parse(&format!("[settlement]\nproposer_key = \"{ANVIL_KEY}\"")).is_err());
}

/// A field that must be named in the error, and the change that breaks it.
type Mutation = fn(&mut SettlementConfig);

#[test]
fn validation_catches_missing_and_misplaced_fields() {
    let cases: [(&str, Mutation); 7] = [
        ("submission_interval", |c| c.submission_interval = 0),
        ("l1_rpc", |c| c.l1_rpc = None),
        ("l1_rpc", |c| c.l1_rpc = Some("127.0.0.1:8545".into())),
        ("oracle_address", |c| c.oracle_address = None),
        ("oracle_address", |c| c.oracle_address = Some(Address::ZERO)),
        ("exactly one", |c| c.proposer_key_file = Some("/k".into())),
        ("path", |c| c.path = Some("/tmp/s.redb".into())),
    ];
    for (needle, mutate) in cases {
        let mut config = oracle_config();
        mutate(&mut config);
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains(needle), "{needle}: {err}");
    }
    let local = SettlementConfig {
        l1_rpc: Some("http://x".into()),
        ..Default::default()
    };
    assert!(local.validate().unwrap_err().to_string().contains("l1_rpc"));
}

#[test]
fn loads_the_key_from_a_file_and_never_echoes_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("proposer.key");
    std::fs::write(&file, format!("  {ANVIL_KEY}\n")).unwrap();
    let config = SettlementConfig {
        proposer_key_file: Some(file.clone()),
        proposer_key_env: None,
        ..oracle_config()
    };
    let signer = config.load_proposer_key().unwrap();
    assert_eq!(
        signer.address(),
        "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
            .parse::<Address>()
            .unwrap()
    );

    let bad = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff";
    std::fs::write(&file, bad).unwrap();
    let err = config.load_proposer_key().unwrap_err().to_string();
    assert!(!err.contains(bad) && err.contains("proposer.key"), "{err}");

    let missing = oracle_config().load_proposer_key().unwrap_err().to_string();
    assert!(
        missing.contains("ALTIUS_TEST_KEY_THAT_IS_NOT_SET"),
        "{missing}"
    );
}

#[test]
fn builds_local_from_a_path_or_the_shared_database() {
    let dir = tempfile::tempdir().unwrap();
    let config = SettlementConfig {
        path: Some(dir.path().join("s.redb")),
        ..Default::default()
    };
    let client = config.build(None, L2Head::new()).unwrap();
    assert_eq!(client.kind(), "local");

    let db = Arc::new(redb::Database::create(dir.path().join("node.redb")).unwrap());
    let shared = SettlementConfig::default()
        .build(Some(db), L2Head::new())
        .unwrap();
    assert_eq!(shared.kind(), "local");
    assert!(
        SettlementConfig::default()
            .build(None, L2Head::new())
            .is_err()
    );
}

#[test]
fn builds_an_oracle_client_without_touching_the_network() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("proposer.key");
    std::fs::write(&file, ANVIL_KEY).unwrap();
    let config = SettlementConfig {
        proposer_key_file: Some(file),
        proposer_key_env: None,
        ..oracle_config()
    };
    let client = config.build(None, L2Head::new()).unwrap();
    assert_eq!(client.kind(), "l2-output-oracle");
    let debug = format!("{client:?}");
    assert!(!debug.contains(&ANVIL_KEY[2..]), "{debug}");
    assert!(debug.contains("confirmations: 2"), "{debug}");
}
