//! JSON shapes: blocks, transactions, receipts and headers parse back into alloy's RPC types
//! (OP and plain Ethereum) and carry the fields clients expect.

use super::{LOGGER, dev_address, mine, ok, send, test_node};
use crate::rpc::convert;
use alloy_primitives::TxKind;
use serde_json::json;

type OpBlock = alloy_rpc_types_eth::Block<op_alloy_rpc_types::Transaction>;

#[test]
fn block_round_trips() {
    let t = test_node(|_| {});
    send(&t.node, 0, 0, TxKind::Call(LOGGER), 1);
    send(&t.node, 1, 0, TxKind::Call(dev_address(4)), 1);
    mine(&t.node);
    for full in [true, false] {
        let json = ok(&t.node, "eth_getBlockByNumber", json!(["0x1", full]));
        let block: OpBlock = serde_json::from_value(json.clone()).expect("an OP block");
        assert_eq!(
            serde_json::to_value(&block).unwrap(),
            json,
            "lossless round trip"
        );
        assert_eq!(block.header.number, 1);
        assert_eq!(block.transactions.len(), 2);
        let eth: alloy_rpc_types_eth::Block = serde_json::from_value(json.clone()).expect("eth");
        assert_eq!(eth.header.hash, block.header.hash);
        assert_eq!(
            eth.header.hash_slow(),
            block.header.hash,
            "the hash is the header's"
        );
        for key in [
            "hash",
            "parentHash",
            "sha3Uncles",
            "miner",
            "stateRoot",
            "transactionsRoot",
            "receiptsRoot",
            "logsBloom",
            "difficulty",
            "number",
            "gasLimit",
            "gasUsed",
            "timestamp",
            "extraData",
            "mixHash",
            "nonce",
            "baseFeePerGas",
            "withdrawalsRoot",
            "blobGasUsed",
            "excessBlobGas",
            "parentBeaconBlockRoot",
            "requestsHash",
            "size",
            "uncles",
            "transactions",
            "withdrawals",
        ] {
            assert!(json.get(key).is_some(), "block lacks {key}: {json}");
        }
        assert_eq!(json["withdrawals"], json!([]));
        assert_eq!(json["uncles"], json!([]));
    }
}

#[test]
fn block_size_is_its_rlp_length() {
    let t = test_node(|_| {});
    send(&t.node, 0, 0, TxKind::Call(LOGGER), 1);
    let block = mine(&t.node);
    let json = ok(&t.node, "eth_getBlockByNumber", json!(["latest", false]));
    let body = alloy_consensus::BlockBody::<op_alloy_consensus::OpTxEnvelope> {
        transactions: block.txs.iter().map(|t| t.tx.clone()).collect(),
        ommers: vec![],
        withdrawals: Some(Default::default()),
    };
    let consensus = alloy_consensus::Block::new(block.header.inner().clone(), body);
    let expected = alloy_rlp::encode(&consensus).len();
    assert_eq!(json["size"], json!(format!("{expected:#x}")));
}

#[test]
fn receipt_and_transaction_round_trip() {
    let t = test_node(|_| {});
    let hash = send(&t.node, 0, 0, TxKind::Call(LOGGER), 1);
    mine(&t.node);
    let json = ok(&t.node, "eth_getTransactionReceipt", json!([hash]));
    let receipt: op_alloy_rpc_types::OpTransactionReceipt =
        serde_json::from_value(json.clone()).expect("an OP receipt");
    assert_eq!(
        serde_json::to_value(&receipt).unwrap(),
        json,
        "lossless round trip"
    );
    let eth: alloy_rpc_types_eth::TransactionReceipt =
        serde_json::from_value(json.clone()).expect("an Ethereum receipt");
    assert_eq!(eth.transaction_hash, hash);
    for key in [
        "transactionHash",
        "transactionIndex",
        "blockHash",
        "blockNumber",
        "from",
        "to",
        "cumulativeGasUsed",
        "gasUsed",
        "effectiveGasPrice",
        "contractAddress",
        "logs",
        "logsBloom",
        "type",
        "status",
    ] {
        assert!(json.get(key).is_some(), "receipt lacks {key}: {json}");
    }
    let log = &json["logs"][0];
    for key in [
        "address",
        "topics",
        "data",
        "blockHash",
        "blockNumber",
        "transactionHash",
        "transactionIndex",
        "logIndex",
        "removed",
    ] {
        assert!(log.get(key).is_some(), "log lacks {key}: {log}");
    }

    let tx = ok(&t.node, "eth_getTransactionByHash", json!([hash]));
    let parsed: op_alloy_rpc_types::Transaction = serde_json::from_value(tx.clone()).expect("tx");
    assert_eq!(serde_json::to_value(&parsed).unwrap(), tx);
    let eth: alloy_rpc_types_eth::Transaction = serde_json::from_value(tx.clone()).expect("eth tx");
    assert_eq!(*eth.inner.tx_hash(), hash);
    for key in [
        "hash",
        "from",
        "to",
        "nonce",
        "gas",
        "gasPrice",
        "maxFeePerGas",
        "maxPriorityFeePerGas",
        "input",
        "value",
        "type",
        "chainId",
        "v",
        "r",
        "s",
        "yParity",
        "accessList",
        "blockHash",
        "blockNumber",
        "transactionIndex",
    ] {
        assert!(tx.get(key).is_some(), "transaction lacks {key}: {tx}");
    }
}

#[test]
fn new_heads_header_is_gethlike() {
    let t = test_node(|_| {});
    let block = mine(&t.node);
    let header = serde_json::to_value(convert::rpc_header(&block.header, None)).unwrap();
    assert_eq!(header["hash"], json!(block.hash()));
    assert_eq!(header.get("size"), None);
    assert_eq!(header.get("totalDifficulty"), None);
    assert_eq!(header.get("transactions"), None);
    let parsed: alloy_rpc_types_eth::Header = serde_json::from_value(header).expect("header");
    assert_eq!(parsed.hash, block.hash());
    assert_eq!(parsed.inner, *block.header.inner());
}
