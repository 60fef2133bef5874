//! Tests of the JSON-RPC server against a real node in a temporary directory.

mod chain;
mod dispatcher;
mod e2e;
mod optimism;
mod shapes;
mod state;

use super::jsonrpc::{Origin, handle_message};
use crate::{config::NodeConfig, dev, node::Node, store::StoredBlock};
use alloy::{
    consensus::{SignableTransaction, TxEip1559, TxEnvelope},
    eips::eip2718::Encodable2718,
    network::TxSignerSync,
};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, address, b256};
use altius_engine::{Genesis, GenesisAccount};
use serde_json::{Value, json};
use std::sync::Arc;

/// A contract that emits `LOG2(topic0 = LOG_TOPIC, topic1 = caller)` on every call.
pub(super) const LOGGER: Address = address!("0x00000000000000000000000000000000000010aa");
/// A contract that reverts with the four bytes `0xdeadbeef`.
pub(super) const REVERTER: Address = address!("0x00000000000000000000000000000000000010bb");
/// A contract that returns its storage slot 0 (42 at genesis).
pub(super) const READER: Address = address!("0x00000000000000000000000000000000000010cc");
/// The first topic of the logger's logs.
pub(super) const LOG_TOPIC: B256 =
    b256!("0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");

fn logger_code() -> Bytes {
    let mut code = vec![0x33, 0x7f];
    code.extend_from_slice(LOG_TOPIC.as_slice());
    code.extend_from_slice(&[0x60, 0x00, 0x60, 0x00, 0xa2, 0x00]);
    code.into()
}

fn contract(code: &[u8]) -> GenesisAccount {
    GenesisAccount {
        code: Bytes::copy_from_slice(code),
        ..Default::default()
    }
}

fn genesis() -> Genesis {
    let mut genesis = Genesis::dev(&dev::dev_addresses());
    genesis.alloc.insert(LOGGER, contract(&logger_code()));
    let reverter = [
        0x63, 0xde, 0xad, 0xbe, 0xef, 0x60, 0x00, 0x52, 0x60, 0x04, 0x60, 0x1c, 0xfd,
    ];
    genesis.alloc.insert(REVERTER, contract(&reverter));
    let reader = [
        0x60, 0x00, 0x54, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3,
    ];
    let mut reader = contract(&reader);
    reader.storage.insert(U256::ZERO, U256::from(42));
    genesis.alloc.insert(READER, reader);
    genesis
}

/// A node on a temporary directory, removed on drop.
pub(super) struct TestNode {
    pub(super) node: Arc<Node>,
    _dir: tempfile::TempDir,
}

/// Opens a fresh node with the dev genesis plus the test contracts.
pub(super) fn test_node(tweak: impl FnOnce(&mut NodeConfig)) -> TestNode {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = NodeConfig::default();
    config.datadir.0 = dir.path().to_path_buf();
    tweak(&mut config);
    let node = Node::open(config, &genesis()).expect("node opens");
    TestNode { node, _dir: dir }
}

/// Sends one raw JSON-RPC body and parses the answer (`Value::Null` for no answer).
pub(super) fn raw(node: &Arc<Node>, body: &str) -> Value {
    handle_message(Origin { node, conn: None }, body.as_bytes()).map_or(Value::Null, |text| {
        serde_json::from_str(&text).expect("response is JSON")
    })
}

/// Calls `method` and returns the whole response object.
pub(super) fn request(node: &Arc<Node>, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    raw(node, &body.to_string())
}

/// Calls `method` and returns its result, failing the test on an error.
pub(super) fn ok(node: &Arc<Node>, method: &str, params: Value) -> Value {
    let response = request(node, method, params);
    assert!(response.get("error").is_none(), "{method}: {response}");
    response["result"].clone()
}

/// Calls `method` expecting an error; returns its code and message.
pub(super) fn err(node: &Arc<Node>, method: &str, params: Value) -> (i64, String) {
    let response = request(node, method, params);
    let error = &response["error"];
    assert!(
        error.is_object(),
        "{method}: expected an error, got {response}"
    );
    (
        error["code"].as_i64().unwrap(),
        error["message"].as_str().unwrap().to_owned(),
    )
}

/// A signed EIP-1559 transaction from dev account `from`, as raw hex.
pub(super) fn signed_tx(
    node: &Node,
    from: u32,
    nonce: u64,
    to: TxKind,
    input: Bytes,
    tip: u128,
) -> (B256, String) {
    let mut tx = TxEip1559 {
        chain_id: node.chain.chain_id,
        nonce,
        gas_limit: 200_000,
        max_fee_per_gas: 10_000_000_000,
        max_priority_fee_per_gas: tip,
        to,
        value: U256::from(1000),
        input,
        ..Default::default()
    };
    let sig = dev::dev_signer(from)
        .sign_transaction_sync(&mut tx)
        .expect("signs");
    let env: TxEnvelope = tx.into_signed(sig).into();
    (
        *env.tx_hash(),
        alloy_primitives::hex::encode_prefixed(env.encoded_2718()),
    )
}

/// Submits a transaction through `eth_sendRawTransaction`.
pub(super) fn send(node: &Arc<Node>, from: u32, nonce: u64, to: TxKind, tip: u128) -> B256 {
    let (hash, raw) = signed_tx(node, from, nonce, to, Bytes::new(), tip);
    assert_eq!(
        ok(node, "eth_sendRawTransaction", json!([raw])),
        json!(hash)
    );
    hash
}

/// Builds a block from the pool and announces it like the builder task does.
pub(super) fn mine(node: &Arc<Node>) -> Arc<StoredBlock> {
    let block = crate::builder::build_block(node).expect("block builds");
    let _ = node.new_blocks.send(block.clone());
    block
}

/// The address of dev account `i`.
pub(super) fn dev_address(i: u32) -> Address {
    dev::dev_signer(i).address()
}

/// Block 1: a transfer (dev 0), two logger calls (dev 1, dev 2), a creation (dev 3).
/// Block 2: one more logger call (dev 1).
pub(super) struct Activity {
    pub(super) transfer: B256,
    pub(super) logs: [B256; 3],
    pub(super) create: B256,
}

/// A node with the blocks described at [`Activity`].
pub(super) fn active_chain(tweak: impl FnOnce(&mut NodeConfig)) -> (TestNode, Activity) {
    let t = test_node(tweak);
    let gwei = 1_000_000_000;
    let transfer = send(&t.node, 0, 0, TxKind::Call(dev_address(5)), gwei);
    let log1 = send(&t.node, 1, 0, TxKind::Call(LOGGER), 3 * gwei);
    let log2 = send(&t.node, 2, 0, TxKind::Call(LOGGER), 2 * gwei);
    let create = send(&t.node, 3, 0, TxKind::Create, gwei);
    assert_eq!(mine(&t.node).txs.len(), 4);
    let log3 = send(&t.node, 1, 1, TxKind::Call(LOGGER), gwei);
    assert_eq!(mine(&t.node).txs.len(), 1);
    (
        t,
        Activity {
            transfer,
            logs: [log1, log2, log3],
            create,
        },
    )
}

/// A quantity as a number.
pub(super) fn u(v: &Value) -> u128 {
    let s = v.as_str().unwrap_or_else(|| panic!("not a quantity: {v}"));
    u128::from_str_radix(s.trim_start_matches("0x"), 16).unwrap()
}
