//! Chain methods on a node with a few blocks: blocks, transactions, receipts, logs.

use super::{LOG_TOPIC, LOGGER, READER, active_chain, dev_address, err, ok, u};
use alloy_primitives::B256;
use serde_json::{Value, json};

#[test]
fn node_info() {
    let (t, _) = active_chain(|_| {});
    let n = &t.node;
    assert_eq!(ok(n, "eth_blockNumber", json!([])), "0x2");
    assert_eq!(ok(n, "net_version", json!([])), "901337");
    assert_eq!(ok(n, "net_listening", json!([])), true);
    assert_eq!(ok(n, "eth_syncing", json!([])), false);
    assert_eq!(ok(n, "eth_accounts", json!([])), json!([]));
    assert!(
        ok(n, "web3_clientVersion", json!([]))
            .as_str()
            .unwrap()
            .starts_with("altius/v")
    );
}

#[test]
fn unknown_blocks_as_geth() {
    let (t, _) = active_chain(|_| {});
    let n = &t.node;
    let missing = B256::repeat_byte(0x77);
    let header_not_found = (-32000, "header not found".to_owned());
    assert_eq!(
        err(n, "eth_getBalance", json!([READER, "0x99"])),
        header_not_found
    );
    assert_eq!(
        err(n, "eth_call", json!([{"to": READER}, "0x3"])),
        header_not_found
    );
    let (code, message) = err(n, "eth_getCode", json!([READER, {"blockHash": missing}]));
    assert_eq!(
        (code, message.as_str()),
        (-32000, "header for hash not found")
    );
    assert_eq!(
        ok(n, "eth_getBlockByNumber", json!(["0x99", false])),
        Value::Null
    );
    assert_eq!(
        ok(n, "eth_getBlockByHash", json!([missing, true])),
        Value::Null
    );
    assert_eq!(
        ok(n, "eth_getBlockTransactionCountByNumber", json!(["0x99"])),
        Value::Null
    );
    assert_eq!(
        ok(n, "eth_getTransactionByHash", json!([missing])),
        Value::Null
    );
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
    let by_index = ok(
        n,
        "eth_getTransactionByBlockNumberAndIndex",
        json!(["0x1", index]),
    );
    assert_eq!(by_index, tx);
    let block_hash = tx["blockHash"].clone();
    let by_hash = ok(
        n,
        "eth_getTransactionByBlockHashAndIndex",
        json!([block_hash, index]),
    );
    assert_eq!(by_hash, tx);
    assert_eq!(
        ok(
            n,
            "eth_getTransactionByBlockNumberAndIndex",
            json!(["0x1", "0x9"])
        ),
        Value::Null
    );

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
        let single = ok(
            n,
            "eth_getTransactionReceipt",
            json!([r["transactionHash"]]),
        );
        assert_eq!(&single, r);
    }
    assert!(
        receipts
            .iter()
            .any(|r| r["transactionHash"] == json!(a.logs[0]))
    );
}

#[test]
fn blocks_and_counts() {
    let (t, a) = active_chain(|_| {});
    let n = &t.node;
    let block = ok(n, "eth_getBlockByNumber", json!(["0x1", false]));
    assert_eq!(block["transactions"].as_array().unwrap().len(), 4);
    assert!(
        block["transactions"]
            .as_array()
            .unwrap()
            .contains(&json!(a.transfer))
    );
    let full = ok(n, "eth_getBlockByHash", json!([block["hash"], true]));
    for (i, tx) in full["transactions"].as_array().unwrap().iter().enumerate() {
        assert_eq!(tx["hash"], block["transactions"][i]);
        assert_eq!(u(&tx["transactionIndex"]), i as u128);
    }
    assert_eq!(full["hash"], block["hash"]);
    assert_eq!(
        ok(n, "eth_getBlockTransactionCountByNumber", json!(["0x1"])),
        "0x4"
    );
    assert_eq!(
        ok(
            n,
            "eth_getBlockTransactionCountByHash",
            json!([block["hash"]])
        ),
        "0x4"
    );
    assert_eq!(
        ok(n, "eth_getUncleCountByBlockNumber", json!(["latest"])),
        "0x0"
    );
    assert_eq!(
        ok(n, "eth_getBlockByNumber", json!(["latest", false]))["number"],
        "0x2"
    );
    assert_eq!(
        ok(n, "eth_getBlockByNumber", json!(["pending", false]))["number"],
        "0x2"
    );
    assert_eq!(
        ok(n, "eth_getBlockByNumber", json!(["safe", false]))["number"],
        "0x0"
    );
    assert_eq!(
        ok(n, "eth_getBlockByNumber", json!(["finalized", false]))["number"],
        "0x0"
    );
}

#[test]
fn logs_queries() {
    let (t, a) = active_chain(|_| {});
    let n = &t.node;
    let all = ok(
        n,
        "eth_getLogs",
        json!([{"fromBlock": "earliest", "address": LOGGER}]),
    );
    assert_eq!(all.as_array().unwrap().len(), 3);
    let hashes: Vec<Value> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["transactionHash"].clone())
        .collect();
    assert_eq!(hashes.len(), 3);
    for hash in a.logs {
        assert!(hashes.contains(&json!(hash)));
    }
    let dev1 = B256::left_padding_from(dev_address(1).as_slice());
    let from_dev1 = ok(
        n,
        "eth_getLogs",
        json!([{"fromBlock": "0x0", "topics": [LOG_TOPIC, dev1]}]),
    );
    assert_eq!(from_dev1.as_array().unwrap().len(), 2);
    let either = ok(
        n,
        "eth_getLogs",
        json!([{"fromBlock": "0x0", "topics": [null, [dev1, B256::ZERO]]}]),
    );
    assert_eq!(either.as_array().unwrap().len(), 2);
    let none = ok(
        n,
        "eth_getLogs",
        json!([{"fromBlock": "0x0", "address": READER}]),
    );
    assert_eq!(none, json!([]));
    let latest_only = ok(n, "eth_getLogs", json!([{}]));
    assert_eq!(latest_only.as_array().unwrap().len(), 1);
    let block2 = ok(n, "eth_getBlockByNumber", json!(["0x2", false]))["hash"].clone();
    let by_hash = ok(n, "eth_getLogs", json!([{"blockHash": block2}]));
    assert_eq!(by_hash[0]["transactionHash"], json!(a.logs[2]));
    assert_eq!(by_hash[0]["logIndex"], "0x0");
    assert_eq!(by_hash[0]["blockNumber"], "0x2");
    assert_eq!(by_hash[0]["removed"], false);

    let (code, message) = err(
        n,
        "eth_getLogs",
        json!([{"fromBlock": "0x2", "toBlock": "0x1"}]),
    );
    assert_eq!(
        (code, message.as_str()),
        (-32602, "invalid block range params")
    );
    let (code, message) = err(
        n,
        "eth_getLogs",
        json!([{"fromBlock": "0x1", "toBlock": "0x9"}]),
    );
    assert_eq!(
        (code, message.as_str()),
        (-32602, "block range extends beyond current head block")
    );
    let (code, message) = err(
        n,
        "eth_getLogs",
        json!([{"blockHash": B256::repeat_byte(1)}]),
    );
    assert_eq!((code, message.as_str()), (-32000, "unknown block"));
}

#[test]
fn logs_limits() {
    let (t, _) = active_chain(|c| {
        c.rpc.max_logs_block_range = 2;
        c.rpc.max_logs = 2;
    });
    let n = &t.node;
    let (code, message) = err(
        n,
        "eth_getLogs",
        json!([{"fromBlock": "0x0", "toBlock": "0x2"}]),
    );
    assert_eq!(
        (code, message.as_str()),
        (-32000, "exceed maximum block range: 2")
    );
    let (code, message) = err(
        n,
        "eth_getLogs",
        json!([{"fromBlock": "0x1", "toBlock": "0x2"}]),
    );
    assert_eq!(
        (code, message.as_str()),
        (-32005, "query returned more than 2 results")
    );
    assert_eq!(
        ok(n, "eth_getLogs", json!([{"fromBlock": "0x2"}]))
            .as_array()
            .unwrap()
            .len(),
        1
    );
}
