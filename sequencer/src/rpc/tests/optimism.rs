//! op-node methods: output roots, sync status and rollup config.

use super::{active_chain, err, ok};
use alloy_primitives::{B256, keccak256};
use serde_json::json;

fn b256(v: &serde_json::Value) -> B256 {
    v.as_str().unwrap().parse().unwrap()
}

#[test]
fn output_at_block_matches_the_v0_formula_and_proof() {
    let (t, _) = active_chain(|_| {});
    let n = &t.node;
    let txn = n.db.begin_write().unwrap();
    n.store.write_safe(&txn, 1, Some(1)).unwrap();
    txn.commit().unwrap();

    let out = ok(n, "optimism_outputAtBlock", json!(["0x1"]));
    let block = ok(n, "eth_getBlockByNumber", json!(["0x1", false]));
    let proof = ok(
        n,
        "eth_getProof",
        json!(["0x4200000000000000000000000000000000000016", [], "0x1"]),
    );
    let mut preimage = vec![0u8; 32];
    preimage.extend_from_slice(b256(&block["stateRoot"]).as_slice());
    preimage.extend_from_slice(b256(&proof["storageHash"]).as_slice());
    preimage.extend_from_slice(b256(&block["hash"]).as_slice());
    assert_eq!(b256(&out["outputRoot"]), keccak256(&preimage));
    assert_eq!(b256(&out["version"]), B256::ZERO);
    assert_eq!(out["stateRoot"], block["stateRoot"]);
    assert_eq!(out["withdrawalStorageRoot"], proof["storageHash"]);
    let block_ref = &out["blockRef"];
    assert_eq!(block_ref["number"], json!(1), "numbers are JSON integers");
    assert_eq!(block_ref["hash"], block["hash"]);
    assert_eq!(block_ref["parentHash"], block["parentHash"]);
    assert_eq!(block_ref["l1origin"]["number"], json!(0));
    assert_eq!(out["syncStatus"]["safe_l2"]["number"], json!(1));

    let (code, message) = err(n, "optimism_outputAtBlock", json!(["0x99"]));
    assert_eq!(code, -32000);
    assert!(message.contains("not found"), "{message}");
}

#[test]
fn sync_status_and_rollup_config() {
    let (t, _) = active_chain(|_| {});
    let n = &t.node;
    let status = ok(n, "optimism_syncStatus", json!([]));
    assert_eq!(status["unsafe_l2"]["number"], json!(2));
    assert_eq!(status["safe_l2"]["number"], json!(0));
    assert_eq!(status["finalized_l2"]["number"], json!(0));
    assert_eq!(status["head_l1"]["number"], json!(0));

    let config = ok(n, "optimism_rollupConfig", json!([]));
    let genesis = ok(n, "eth_getBlockByNumber", json!(["0x0", false]));
    assert_eq!(config["l2_chain_id"], json!(901337));
    assert_eq!(config["genesis"]["l2"]["hash"], genesis["hash"]);
    assert_eq!(config["block_time"], json!(1));
    assert_eq!(config["jovian_time"], json!(0));
    let inbox = altius_batcher::batch_inbox_address(901337).to_string();
    assert_eq!(
        config["batch_inbox_address"]
            .as_str()
            .unwrap()
            .to_lowercase(),
        inbox.to_lowercase()
    );
}
