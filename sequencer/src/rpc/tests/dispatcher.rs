//! JSON-RPC framing: parse errors, request shapes, batches, notifications, methods, params.

use super::{err, ok, raw, request, test_node};
use serde_json::{Value, json};

fn error_of(response: &Value) -> (i64, &str) {
    let error = &response["error"];
    (
        error["code"].as_i64().unwrap(),
        error["message"].as_str().unwrap(),
    )
}

#[test]
fn parse_errors_have_null_id() {
    let t = test_node(|_| {});
    for body in ["{", "", "not json", "[1,", "{\"jsonrpc\":\"2.0\",}"] {
        let response = raw(&t.node, body);
        assert_eq!(
            response,
            json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32700, "message": "parse error"}}),
            "{body:?}"
        );
    }
}

#[test]
fn invalid_request_shapes() {
    let t = test_node(|_| {});
    let cases = [
        ("1", Value::Null),
        ("\"eth_chainId\"", Value::Null),
        (r#"{"jsonrpc":"2.0","id":7}"#, json!(7)),
        (r#"{"jsonrpc":"2.0","id":7,"method":5}"#, json!(7)),
        (
            r#"{"jsonrpc":"1.0","id":"a","method":"eth_chainId"}"#,
            json!("a"),
        ),
        (r#"{"id":1,"method":"eth_chainId"}"#, json!(1)),
        (
            r#"{"jsonrpc":"2.0","id":{"x":1},"method":"eth_chainId"}"#,
            Value::Null,
        ),
    ];
    for (body, id) in cases {
        let response = raw(&t.node, body);
        assert_eq!(error_of(&response), (-32600, "invalid request"), "{body}");
        assert_eq!(response["id"], id, "{body}");
    }
}

#[test]
fn ids_are_echoed() {
    let t = test_node(|_| {});
    for id in [json!(1), json!("abc"), Value::Null, json!(1.5)] {
        let body = json!({"jsonrpc": "2.0", "id": id, "method": "eth_chainId"});
        let response = raw(&t.node, &body.to_string());
        assert_eq!(response["id"], id);
        assert_eq!(response["result"], "0xdc0d9", "{response}");
        assert_eq!(response["jsonrpc"], "2.0");
    }
}

#[test]
fn notifications_get_no_answer() {
    let t = test_node(|_| {});
    assert_eq!(
        raw(&t.node, r#"{"jsonrpc":"2.0","method":"eth_chainId"}"#),
        Value::Null
    );
    let batch = r#"[{"jsonrpc":"2.0","method":"eth_chainId"},{"jsonrpc":"2.0","method":"x"}]"#;
    assert_eq!(raw(&t.node, batch), Value::Null);
}

#[test]
fn batches() {
    let t = test_node(|c| c.rpc.max_batch_size = 3);
    let body = r#"[
        {"jsonrpc":"2.0","id":1,"method":"eth_chainId"},
        {"jsonrpc":"2.0","method":"eth_chainId"},
        5,
        {"jsonrpc":"2.0","id":"x","method":"eth_nope"}
    ]"#;
    // Four entries: over the limit of three, one error with the first call's id.
    let response = raw(&t.node, body);
    let list = response.as_array().expect("an array");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], 1);
    let (code, message) = error_of(&list[0]);
    assert_eq!(code, -32600);
    assert!(message.contains("limit is 3"), "{message}");

    let body = r#"[
        {"jsonrpc":"2.0","id":1,"method":"eth_chainId"},
        {"jsonrpc":"2.0","method":"eth_chainId"},
        5
    ]"#;
    let response = raw(&t.node, body);
    let list = response.as_array().expect("an array");
    assert_eq!(list.len(), 2, "the notification has no answer: {response}");
    assert_eq!(list[0]["result"], "0xdc0d9");
    assert_eq!(error_of(&list[1]), (-32600, "invalid request"));

    let response = raw(&t.node, "[]");
    assert_eq!(error_of(&response), (-32600, "empty batch"));
    assert_eq!(response["id"], Value::Null);
}

#[test]
fn unknown_methods() {
    let t = test_node(|_| {});
    let (code, message) = err(&t.node, "eth_foo", json!([]));
    assert_eq!(code, -32601);
    assert_eq!(
        message,
        "the method eth_foo does not exist/is not available"
    );
    let (code, message) = err(&t.node, "eth_subscribe", json!(["newHeads"]));
    assert_eq!(
        (code, message.as_str()),
        (-32601, "notifications not supported")
    );
}

#[test]
fn bad_params() {
    let t = test_node(|_| {});
    let cases = [
        (
            "eth_chainId",
            json!([1]),
            "too many arguments, want at most 0",
        ),
        (
            "eth_getBalance",
            json!([]),
            "missing value for required argument 0",
        ),
        (
            "eth_getBalance",
            json!({"address": "0x00"}),
            "non-array args",
        ),
        ("eth_getBalance", json!(["0x1234"]), "invalid argument 0: "),
        (
            "eth_getBalance",
            json!([super::dev_address(0), "lastest"]),
            "invalid argument 1: ",
        ),
        (
            "eth_getBlockByNumber",
            json!(["0x0", "yes"]),
            "invalid argument 1: ",
        ),
        (
            "eth_getStorageAt",
            json!([super::READER, "0xzz"]),
            "invalid argument 1: ",
        ),
        (
            "eth_feeHistory",
            json!(["0xzz", "latest"]),
            "invalid argument 0: ",
        ),
        (
            "eth_getLogs",
            json!([{"topics": ["0x01"]}]),
            "invalid argument 0: ",
        ),
    ];
    for (method, params, expected) in cases {
        let (code, message) = err(&t.node, method, params.clone());
        assert_eq!(code, -32602, "{method} {params}: {message}");
        assert!(
            message.starts_with(expected),
            "{method} {params}: {message}"
        );
    }
    // Trailing nulls count as missing, so optional arguments may be null.
    assert!(
        request(&t.node, "eth_blockNumber", json!([null]))
            .get("result")
            .is_some()
    );
    assert_eq!(
        ok(&t.node, "eth_getBalance", json!([super::READER, null])),
        "0x0"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_and_unsubscribe() {
    use crate::rpc::{
        jsonrpc::{Origin, handle_message},
        pubsub::Connection,
    };
    use std::sync::Arc;
    let t = test_node(|_| {});
    let (tx, _rx) = tokio::sync::mpsc::channel(16);
    let conn = Arc::new(Connection::new(1, tx));
    let call = |method: &str, params: Value| {
        let (node, conn) = (t.node.clone(), conn.clone());
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let text = handle_message(
            Origin {
                node: &node,
                conn: Some(&conn),
            },
            body.to_string().as_bytes(),
        );
        serde_json::from_str::<Value>(&text.unwrap()).unwrap()
    };
    let id = call("eth_subscribe", json!(["newHeads"]))["result"].clone();
    assert!(id.as_str().unwrap().starts_with("0x"), "{id}");
    let logs = call(
        "eth_subscribe",
        json!(["logs", {"address": super::LOGGER, "topics": [null]}]),
    );
    assert!(logs["result"].is_string(), "{logs}");
    assert_eq!(call("eth_unsubscribe", json!([id]))["result"], true);
    let again = call("eth_unsubscribe", json!([id]));
    assert_eq!(error_of(&again), (-32000, "subscription not found"));
    let unknown = call("eth_subscribe", json!(["nope"]));
    assert_eq!(
        error_of(&unknown),
        (-32601, "no \"nope\" subscription in eth namespace")
    );
    let bad = call("eth_subscribe", json!(["logs", {"address": "0x12"}]));
    assert_eq!(error_of(&bad).0, -32602);
    conn.close();
}
