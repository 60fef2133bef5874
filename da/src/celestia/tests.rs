//! Unit tests of the celestia backend: the published share commitment vectors, references
//! and the `TxConfig` JSON.

use alloy_primitives::hex;

use super::*;

fn commitment_of(namespace_id: &str, data: &[u8]) -> [u8; 32] {
    let config = CelestiaConfig::new("http://c", namespace_id);
    let namespace = Namespace::new_v0(&config.namespace_id().unwrap()).unwrap();
    *Blob::new(namespace, data.to_vec(), None)
        .unwrap()
        .commitment
        .hash()
}

/// The vectors of eigerco/lumina `types/src/blob.rs`, reproduced independently in the
/// shared reference (§4).
#[test]
fn share_commitments_match_the_published_vectors() {
    assert_eq!(
        hex::encode(commitment_of(
            "0102030405",
            b"some data to store on blockchain"
        )),
        "9b40387de53a16a779672f6d77733b967b46f00dcf2aa7ba61dba0980b16cf6f"
    );
    let data = hex::decode("f1f20ca8007e910a3bf8b2e61da0f26bca07ef78717a6ea54165f5").unwrap();
    assert_eq!(
        hex::encode(commitment_of("0x0c204d39600fddd3", &data)),
        "0fa606b0f59dc51f23bb639c3aca679203c6d9a6c3df4a521f1b057623ea9d59"
    );
}

#[test]
fn reference_round_trip_and_checks() {
    let commitment = Commitment::new([7; 32]);
    let r = reference(0x0102, &commitment);
    assert_eq!(r.height, 0x0102);
    assert_eq!(r.commitment.len(), REFERENCE_LEN);
    assert_eq!(
        r.commitment[..4],
        [0x01, 0x0c, 0x02, 0x01],
        "height is little-endian"
    );
    assert_eq!(parse_reference(&r).unwrap(), commitment);

    let moved = DaReference::new(9, 0, r.commitment.clone());
    assert!(matches!(
        parse_reference(&moved),
        Err(DaError::InvalidReference(_))
    ));
    let mut wrong_layer = r.commitment.to_vec();
    wrong_layer[1] = 0x00;
    let wrong = DaReference::new(r.height, 0, wrong_layer.into());
    assert!(parse_reference(&wrong).is_err());
    let short = DaReference::new(r.height, 0, r.commitment.slice(..20));
    assert!(parse_reference(&short).is_err());
}

#[test]
fn tx_config_json_leaves_unset_fields_to_the_node() {
    let mut config = CelestiaConfig::new("http://c", "01");
    assert_eq!(tx_config(&config), json!({}));
    config.gas_price = Some(GasPrice(0.004));
    config.max_gas_price = Some(GasPrice(0.2));
    assert_eq!(
        tx_config(&config),
        json!({"gas_price": 0.004, "is_gas_price_set": true, "max_gas_price": 0.2})
    );
}

#[test]
fn header_heights_parse_from_strings_and_numbers() {
    let h: ExtendedHeader = serde_json::from_str(r#"{"header":{"height":"42"},"dah":{}}"#).unwrap();
    assert_eq!(h.header.height, 42);
    let h: ExtendedHeader = serde_json::from_str(r#"{"header":{"height":43}}"#).unwrap();
    assert_eq!(h.header.height, 43);
    assert!(serde_json::from_str::<ExtendedHeader>(r#"{"header":{"height":"x"}}"#).is_err());
    assert!(serde_json::from_str::<ExtendedHeader>(r#"{"header":{}}"#).is_err());
}

#[test]
fn debug_never_shows_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jwt");
    std::fs::write(&path, "eyJ.topsecret.sig\n").unwrap();
    let mut config = CelestiaConfig::new("http://127.0.0.1:1", "01");
    config.auth_token_file = Some(path);
    let da = CelestiaDa::connect(&config).unwrap();
    let debug = format!("{da:?}");
    assert!(!debug.contains("topsecret"), "{debug}");
    assert!(debug.contains("redacted"), "{debug}");
}
