//! State, simulation, fee and submission methods on a node with a few blocks.

use super::{LOGGER, READER, REVERTER, active_chain, dev_address, err, ok, send, u};
use alloy_primitives::{B256, TxKind, U256};
use serde_json::{Value, json};

#[test]
fn balances_now_and_then() {
    let (t, _) = active_chain(|_| {});
    let n = &t.node;
    let now = u(&ok(n, "eth_getBalance", json!([dev_address(5), "latest"])));
    let then = u(&ok(
        n,
        "eth_getBalance",
        json!([dev_address(5), "earliest"]),
    ));
    let at1 = u(&ok(
        n,
        "eth_getBalance",
        json!([dev_address(5), {"blockNumber": "0x1"}]),
    ));
    assert_eq!(now - then, 1000);
    assert_eq!(at1, now);
    let hash = ok(n, "eth_getBlockByNumber", json!(["0x0", false]))["hash"].clone();
    let by_hash = u(&ok(
        n,
        "eth_getBalance",
        json!([dev_address(5), {"blockHash": hash}]),
    ));
    assert_eq!(by_hash, then);
}

#[test]
fn nonces_latest_and_pending() {
    let (t, _) = active_chain(|_| {});
    let n = &t.node;
    assert_eq!(
        ok(
            n,
            "eth_getTransactionCount",
            json!([dev_address(1), "latest"])
        ),
        "0x2"
    );
    assert_eq!(
        ok(n, "eth_getTransactionCount", json!([dev_address(1), "0x1"])),
        "0x1"
    );
    let pending = send(n, 1, 2, TxKind::Call(LOGGER), 1);
    assert_eq!(
        ok(
            n,
            "eth_getTransactionCount",
            json!([dev_address(1), "pending"])
        ),
        "0x3"
    );
    assert_eq!(
        ok(
            n,
            "eth_getTransactionCount",
            json!([dev_address(1), "latest"])
        ),
        "0x2"
    );
    let tx = ok(n, "eth_getTransactionByHash", json!([pending]));
    assert_eq!(tx["blockHash"], Value::Null);
    assert_eq!(tx["blockNumber"], Value::Null);
    assert_eq!(tx["transactionIndex"], Value::Null);
    assert_eq!(tx["from"], json!(dev_address(1)));
    assert_eq!(
        ok(n, "eth_getTransactionReceipt", json!([pending])),
        Value::Null
    );
}

#[test]
fn calls_and_estimates() {
    let (t, _) = active_chain(|_| {});
    let n = &t.node;
    let word = |v: u64| json!(B256::from(U256::from(v)));
    assert_eq!(
        ok(n, "eth_call", json!([{"to": READER}, "latest"])),
        word(42)
    );
    assert_eq!(ok(n, "eth_call", json!([{"to": READER}])), word(42));
    assert_eq!(
        ok(n, "eth_call", json!([{"to": READER}, "earliest"])),
        word(42)
    );
    let overrides = json!({ READER.to_string(): {"stateDiff": {B256::ZERO.to_string(): word(7)}}});
    assert_eq!(
        ok(n, "eth_call", json!([{"to": READER}, "latest", overrides])),
        word(7)
    );
    let response = super::request(
        n,
        "eth_call",
        json!([{"to": REVERTER, "data": "0x"}, "latest"]),
    );
    assert_eq!(
        response["error"],
        json!({"code": 3, "message": "execution reverted", "data": "0xdeadbeef"})
    );
    // alloy and cast send the call data twice; geth accepts equal copies.
    let twice = json!({"to": READER, "input": "0x01", "data": "0x01"});
    assert_eq!(ok(n, "eth_call", json!([twice])), word(42));
    let differ = json!({"to": READER, "input": "0x01", "data": "0x02"});
    let (code, message) = err(n, "eth_call", json!([differ]));
    assert_eq!(code, -32000);
    assert!(
        message.starts_with("both \"data\" and \"input\" are set"),
        "{message}"
    );
    let transfer = json!({"from": dev_address(0), "to": dev_address(7), "value": "0x1"});
    assert_eq!(ok(n, "eth_estimateGas", json!([transfer])), "0x5208");
    let (code, _) = err(n, "eth_estimateGas", json!([{"to": REVERTER}]));
    assert_eq!(code, 3);
    let logger = u(&ok(
        n,
        "eth_estimateGas",
        json!([{"from": dev_address(0), "to": LOGGER}]),
    ));
    assert!(logger > 21_000, "{logger}");
}

#[test]
fn account_state() {
    let (t, _) = active_chain(|_| {});
    let n = &t.node;
    assert_eq!(
        ok(n, "eth_getStorageAt", json!([READER, "0x0", "latest"])),
        json!(B256::from(U256::from(42)))
    );
    assert_eq!(
        ok(n, "eth_getStorageAt", json!([READER, "0x1"])),
        json!(B256::ZERO)
    );
    let code = ok(n, "eth_getCode", json!([REVERTER, "latest"]));
    assert_eq!(code, "0x63deadbeef6000526004601cfd");
    assert_eq!(
        ok(n, "eth_getCode", json!([dev_address(0), "latest"])),
        "0x"
    );
    let proof = ok(n, "eth_getProof", json!([READER, ["0x0"], "latest"]));
    assert_eq!(proof["address"], json!(READER));
    assert_eq!(proof["storageProof"][0]["value"], "0x2a");
    assert!(!proof["accountProof"].as_array().unwrap().is_empty());
    let old = ok(n, "eth_getProof", json!([dev_address(5), [], "0x0"]));
    let then = ok(n, "eth_getBalance", json!([dev_address(5), "0x0"]));
    assert_eq!(old["balance"], then);
}

#[test]
fn fees() {
    let (t, _) = active_chain(|_| {});
    let n = &t.node;
    assert_eq!(ok(n, "eth_maxPriorityFeePerGas", json!([])), "0xf4240");
    let next_base_fee = u128::from(n.next_base_fee(&n.head()));
    assert_eq!(
        u(&ok(n, "eth_gasPrice", json!([]))),
        next_base_fee + 1_000_000
    );

    let h = ok(n, "eth_feeHistory", json!(["0x2", "latest", [0, 50, 100]]));
    assert_eq!(h["oldestBlock"], "0x1");
    assert_eq!(h["baseFeePerGas"].as_array().unwrap().len(), 3);
    assert_eq!(u(&h["baseFeePerGas"][2]), next_base_fee);
    assert_eq!(h["gasUsedRatio"].as_array().unwrap().len(), 2);
    assert_eq!(h["baseFeePerBlobGas"].as_array().unwrap().len(), 3);
    assert_eq!(h["blobGasUsedRatio"].as_array().unwrap().len(), 2);
    let rewards = h["reward"].as_array().unwrap();
    assert_eq!(rewards.len(), 2);
    // Block 1 tips: 1 gwei (transfer, creation), 2 and 3 gwei (logger calls).
    assert_eq!(u(&rewards[0][0]), 1_000_000_000);
    assert_eq!(u(&rewards[0][2]), 3_000_000_000);
    assert_eq!(u(&rewards[1][1]), 1_000_000_000);

    let h = ok(n, "eth_feeHistory", json!([10, "0x1"]));
    assert_eq!(h["oldestBlock"], "0x0");
    assert!(h.get("reward").is_none());
    let (code, message) = err(n, "eth_feeHistory", json!(["0x1", "0x5"]));
    assert_eq!(code, -32000);
    assert_eq!(message, "request beyond head block: requested 5, head 2");
}

#[test]
fn raw_transaction_errors() {
    let (t, _) = active_chain(|_| {});
    let n = &t.node;
    let (code, message) = err(n, "eth_sendRawTransaction", json!(["0x02"]));
    assert_eq!(code, -32000, "{message}");
    let (_, raw) = super::signed_tx(n, 0, 0, TxKind::Call(READER), Default::default(), 1);
    let (code, message) = err(n, "eth_sendRawTransaction", json!([raw]));
    assert_eq!((code, message.as_str()), (-32000, "nonce too low"));
}
