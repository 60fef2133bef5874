//! The methods on a node with a few blocks of transfers, logs and a contract creation.

use super::{
    LOG_TOPIC, LOGGER, READER, REVERTER, TestNode, dev_address, err, mine, ok, send, test_node,
};
use alloy_primitives::{B256, TxKind, U256};
use serde_json::{Value, json};

/// Block 1: a transfer (dev 0), two logger calls (dev 1, dev 2), a creation (dev 3).
/// Block 2: one more logger call (dev 1).
struct Activity {
    transfer: B256,
    logs: [B256; 3],
    create: B256,
}

fn active_chain(tweak: impl FnOnce(&mut crate::config::NodeConfig)) -> (TestNode, Activity) {
    let t = test_node(tweak);
    let gwei = 1_000_000_000;
    let transfer = send(&t.node, 0, 0, TxKind::Call(dev_address(5)), gwei);
    let log1 = send(&t.node, 1, 0, TxKind::Call(LOGGER), 3 * gwei);
    let log2 = send(&t.node, 2, 0, TxKind::Call(LOGGER), 2 * gwei);
    let create = send(&t.node, 3, 0, TxKind::Create, gwei);
    assert_eq!(mine(&t.node).txs.len(), 4);
    let log3 = send(&t.node, 1, 1, TxKind::Call(LOGGER), gwei);
    assert_eq!(mine(&t.node).txs.len(), 1);
    (t, Activity { transfer, logs: [log1, log2, log3], create })
}

fn u(v: &Value) -> u128 {
    let s = v.as_str().unwrap_or_else(|| panic!("not a quantity: {v}"));
    u128::from_str_radix(s.trim_start_matches("0x"), 16).unwrap()
}

#[test]
fn node_info() {
    let (t, _) = active_chain(|_| {});
    let n = &t.node;
    assert_eq!(ok(n, "eth_blockNumber", json!([])), "0x2");
    assert_eq!(ok(n, "net_version", json!([])), "901337");
    assert_eq!(ok(n, "net_listening", json!([])), true);
    assert_eq!(ok(n, "eth_syncing", json!([])), false);
    assert_eq!(ok(n, "eth_accounts", json!([])), json!([]));
    assert!(ok(n, "web3_clientVersion", json!([])).as_str().unwrap().starts_with("altius/v"));
}

#[test]
fn balances_now_and_then() {
    let (t, _) = active_chain(|_| {});
    let n = &t.node;
    let now = u(&ok(n, "eth_getBalance", json!([dev_address(5), "latest"])));
    let then = u(&ok(n, "eth_getBalance", json!([dev_address(5), "earliest"])));
    let at1 = u(&ok(n, "eth_getBalance", json!([dev_address(5), {"blockNumber": "0x1"}])));
    assert_eq!(now - then, 1000);
    assert_eq!(at1, now);
    let hash = ok(n, "eth_getBlockByNumber", json!(["0x0", false]))["hash"].clone();
    let by_hash = u(&ok(n, "eth_getBalance", json!([dev_address(5), {"blockHash": hash}])));
    assert_eq!(by_hash, then);
}

#[test]
fn nonces_latest_and_pending() {
    let (t, _) = active_chain(|_| {});
    let n = &t.node;
    assert_eq!(ok(n, "eth_getTransactionCount", json!([dev_address(1), "latest"])), "0x2");
    assert_eq!(ok(n, "eth_getTransactionCount", json!([dev_address(1), "0x1"])), "0x1");
    let pending = send(n, 1, 2, TxKind::Call(LOGGER), 1);
    assert_eq!(ok(n, "eth_getTransactionCount", json!([dev_address(1), "pending"])), "0x3");
    assert_eq!(ok(n, "eth_getTransactionCount", json!([dev_address(1), "latest"])), "0x2");
    let tx = ok(n, "eth_getTransactionByHash", json!([pending]));
    assert_eq!(tx["blockHash"], Value::Null);
    assert_eq!(tx["blockNumber"], Value::Null);
    assert_eq!(tx["transactionIndex"], Value::Null);
    assert_eq!(tx["from"], json!(dev_address(1)));
    assert_eq!(ok(n, "eth_getTransactionReceipt", json!([pending])), Value::Null);
}

#[test]
fn unknown_blocks_as_geth() {
    let (t, _) = active_chain(|_| {});
    let n = &t.node;
    let missing = B256::repeat_byte(0x77);
    let header_not_found = (-32000, "header not found".to_owned());
    assert_eq!(err(n, "eth_getBalance", json!([READER, "0x99"])), header_not_found);
    assert_eq!(err(n, "eth_call", json!([{"to": READER}, "0x3"])), header_not_found);
    let (code, message) = err(n, "eth_getCode", json!([READER, {"blockHash": missing}]));
    assert_eq!((code, message.as_str()), (-32000, "header for hash not found"));
    assert_eq!(ok(n, "eth_getBlockByNumber", json!(["0x99", false])), Value::Null);
    assert_eq!(ok(n, "eth_getBlockByHash", json!([missing, true])), Value::Null);
    assert_eq!(ok(n, "eth_getBlockTransactionCountByNumber", json!(["0x99"])), Value::Null);
    assert_eq!(ok(n, "eth_getTransactionByHash", json!([missing])), Value::Null);
    assert_eq!(ok(n, "eth_getBlockReceipts", json!(["0x99"])), Value::Null);
}

#[test]
fn transactions_and_receipts() {
    let (t, a) = active_chain(|_| {});
    let n = &t.node;
    let tx = ok(n, "eth_getTransactionByHash", json!([a.transfer]));
    assert_eq!(tx["blockNumber"], "0x1");
    assert_eq!(tx["hash"], json!(a.transfer));
    let index = tx["transactionIndex"].clone();
    let by_index = ok(n, "eth_getTransactionByBlockNumberAndIndex", json!(["0x1", index]));
    assert_eq!(by_index, tx);
    let block_hash = tx["blockHash"].clone();
    let by_hash = ok(n, "eth_getTransactionByBlockHashAndIndex", json!([block_hash, index]));
    assert_eq!(by_hash, tx);
    assert_eq!(ok(n, "eth_getTransactionByBlockNumberAndIndex", json!(["0x1", "0x9"])), Value::Null);

    let r = ok(n, "eth_getTransactionReceipt", json!([a.transfer]));
    assert_eq!(r["status"], "0x1");
    assert_eq!(r["gasUsed"], "0x5208");
    assert_eq!(r["type"], "0x2");
    assert_eq!(r["from"], json!(dev_address(0)));
    assert_eq!(r["to"], json!(dev_address(5)));
    assert_eq!(r["contractAddress"], Value::Null);
    assert_eq!(r["logs"], json!([]));
    let base_fee = u(&ok(n, "eth_getBlockByNumber", json!(["0x1", false]))["baseFeePerGas"]);
    assert_eq!(u(&r["effectiveGasPrice"]), base_fee + 1_000_000_000);

    let created = ok(n, "eth_getTransactionReceipt", json!([a.create]));
    assert_eq!(created["contractAddress"], json!(dev_address(3).create(0)));
    assert_eq!(created["to"], Value::Null);

    // Logs are numbered across the block, whatever the transaction order.
    let receipts = ok(n, "eth_getBlockReceipts", json!(["0x1"]));
    let receipts = receipts.as_array().unwrap();
    assert_eq!(receipts.len(), 4);
    let log_indexes: Vec<Value> = receipts
        .iter()
        .flat_map(|r| r["logs"].as_array().unwrap().clone())
        .map(|l| l["logIndex"].clone())
        .collect();
    assert_eq!(log_indexes, vec![json!("0x0"), json!("0x1")]);
    let mut total = 0;
    for r in receipts {
        total += u(&r["gasUsed"]);
        assert_eq!(u(&r["cumulativeGasUsed"]), total);
        let single = ok(n, "eth_getTransactionReceipt", json!([r["transactionHash"]]));
        assert_eq!(&single, r);
    }
    assert!(receipts.iter().any(|r| r["transactionHash"] == json!(a.logs[0])));
}

#[test]
fn blocks_and_counts() {
    let (t, a) = active_chain(|_| {});
    let n = &t.node;
    let block = ok(n, "eth_getBlockByNumber", json!(["0x1", false]));
    assert_eq!(block["transactions"].as_array().unwrap().len(), 4);
    assert!(block["transactions"].as_array().unwrap().contains(&json!(a.transfer)));
    let full = ok(n, "eth_getBlockByHash", json!([block["hash"], true]));
    for (i, tx) in full["transactions"].as_array().unwrap().iter().enumerate() {
        assert_eq!(tx["hash"], block["transactions"][i]);
        assert_eq!(u(&tx["transactionIndex"]), i as u128);
    }
    assert_eq!(full["hash"], block["hash"]);
    assert_eq!(ok(n, "eth_getBlockTransactionCountByNumber", json!(["0x1"])), "0x4");
    assert_eq!(ok(n, "eth_getBlockTransactionCountByHash", json!([block["hash"]])), "0x4");
    assert_eq!(ok(n, "eth_getUncleCountByBlockNumber", json!(["latest"])), "0x0");
    assert_eq!(ok(n, "eth_getBlockByNumber", json!(["latest", false]))["number"], "0x2");
    assert_eq!(ok(n, "eth_getBlockByNumber", json!(["pending", false]))["number"], "0x2");
    assert_eq!(ok(n, "eth_getBlockByNumber", json!(["safe", false]))["number"], "0x0");
    assert_eq!(ok(n, "eth_getBlockByNumber", json!(["finalized", false]))["number"], "0x0");
}

#[test]
fn logs_queries() {
    let (t, a) = active_chain(|_| {});
    let n = &t.node;
    let all = ok(n, "eth_getLogs", json!([{"fromBlock": "earliest", "address": LOGGER}]));
    assert_eq!(all.as_array().unwrap().len(), 3);
    let hashes: Vec<Value> = all.as_array().unwrap().iter().map(|l| l["transactionHash"].clone()).collect();
    assert_eq!(hashes.len(), 3);
    for hash in a.logs {
        assert!(hashes.contains(&json!(hash)));
    }
    let dev1 = B256::left_padding_from(dev_address(1).as_slice());
    let from_dev1 = ok(n, "eth_getLogs", json!([{"fromBlock": "0x0", "topics": [LOG_TOPIC, dev1]}]));
    assert_eq!(from_dev1.as_array().unwrap().len(), 2);
    let either = ok(n, "eth_getLogs", json!([{"fromBlock": "0x0", "topics": [null, [dev1, B256::ZERO]]}]));
    assert_eq!(either.as_array().unwrap().len(), 2);
    let none = ok(n, "eth_getLogs", json!([{"fromBlock": "0x0", "address": READER}]));
    assert_eq!(none, json!([]));
    let latest_only = ok(n, "eth_getLogs", json!([{}]));
    assert_eq!(latest_only.as_array().unwrap().len(), 1);
    let block2 = ok(n, "eth_getBlockByNumber", json!(["0x2", false]))["hash"].clone();
    let by_hash = ok(n, "eth_getLogs", json!([{"blockHash": block2}]));
    assert_eq!(by_hash[0]["transactionHash"], json!(a.logs[2]));
    assert_eq!(by_hash[0]["logIndex"], "0x0");
    assert_eq!(by_hash[0]["blockNumber"], "0x2");
    assert_eq!(by_hash[0]["removed"], false);

    let (code, message) = err(n, "eth_getLogs", json!([{"fromBlock": "0x2", "toBlock": "0x1"}]));
    assert_eq!((code, message.as_str()), (-32602, "invalid block range params"));
    let (code, message) = err(n, "eth_getLogs", json!([{"fromBlock": "0x1", "toBlock": "0x9"}]));
    assert_eq!((code, message.as_str()), (-32602, "block range extends beyond current head block"));
    let (code, message) = err(n, "eth_getLogs", json!([{"blockHash": B256::repeat_byte(1)}]));
    assert_eq!((code, message.as_str()), (-32000, "unknown block"));
}

#[test]
fn logs_limits() {
    let (t, _) = active_chain(|c| {
        c.rpc.max_logs_block_range = 2;
        c.rpc.max_logs = 2;
    });
    let n = &t.node;
    let (code, message) = err(n, "eth_getLogs", json!([{"fromBlock": "0x0", "toBlock": "0x2"}]));
    assert_eq!((code, message.as_str()), (-32000, "exceed maximum block range: 2"));
    let (code, message) = err(n, "eth_getLogs", json!([{"fromBlock": "0x1", "toBlock": "0x2"}]));
    assert_eq!((code, message.as_str()), (-32005, "query returned more than 2 results"));
    assert_eq!(ok(n, "eth_getLogs", json!([{"fromBlock": "0x2"}])).as_array().unwrap().len(), 1);
}

#[test]
fn calls_and_estimates() {
    let (t, _) = active_chain(|_| {});
    let n = &t.node;
    let word = |v: u64| json!(B256::from(U256::from(v)));
    assert_eq!(ok(n, "eth_call", json!([{"to": READER}, "latest"])), word(42));
    assert_eq!(ok(n, "eth_call", json!([{"to": READER}])), word(42));
    assert_eq!(ok(n, "eth_call", json!([{"to": READER}, "earliest"])), word(42));
    let overrides = json!({ READER.to_string(): {"stateDiff": {B256::ZERO.to_string(): word(7)}}});
    assert_eq!(ok(n, "eth_call", json!([{"to": READER}, "latest", overrides])), word(7));
    let response = super::request(n, "eth_call", json!([{"to": REVERTER, "data": "0x"}, "latest"]));
    assert_eq!(
        response["error"],
        json!({"code": 3, "message": "execution reverted", "data": "0xdeadbeef"})
    );
    let transfer = json!({"from": dev_address(0), "to": dev_address(7), "value": "0x1"});
    assert_eq!(ok(n, "eth_estimateGas", json!([transfer])), "0x5208");
    let (code, _) = err(n, "eth_estimateGas", json!([{"to": REVERTER}]));
    assert_eq!(code, 3);
    let logger = u(&ok(n, "eth_estimateGas", json!([{"from": dev_address(0), "to": LOGGER}])));
    assert!(logger > 21_000, "{logger}");
}

#[test]
fn account_state() {
    let (t, _) = active_chain(|_| {});
    let n = &t.node;
    assert_eq!(ok(n, "eth_getStorageAt", json!([READER, "0x0", "latest"])), json!(B256::from(U256::from(42))));
    assert_eq!(ok(n, "eth_getStorageAt", json!([READER, "0x1"])), json!(B256::ZERO));
    let code = ok(n, "eth_getCode", json!([REVERTER, "latest"]));
    assert_eq!(code, "0x63deadbeef6000526004601cfd");
    assert_eq!(ok(n, "eth_getCode", json!([dev_address(0), "latest"])), "0x");
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
    assert_eq!(u(&ok(n, "eth_gasPrice", json!([]))), next_base_fee + 1_000_000);

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
