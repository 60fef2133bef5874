//! JSON-RPC 2.0 framing: single and batch requests, notifications and error responses,
//! shared by HTTP and WebSocket.

use super::{
    dispatch,
    error::{RpcError, RpcResult},
    pubsub::Connection,
};
use crate::node::Node;
use serde::Serialize;
use serde_json::Value;
use std::{sync::Arc, time::Instant};

/// A response object, members in geth's order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Response {
    jsonrpc: &'static str,
    id: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<RpcError>,
}

impl Response {
    /// The response to call `id`.
    pub(crate) fn new(id: Value, outcome: RpcResult<Value>) -> Self {
        match outcome {
            Ok(result) => Self {
                jsonrpc: "2.0",
                id,
                result: Some(result),
                error: None,
            },
            Err(error) => Self::error(id, error),
        }
    }

    /// An error response.
    pub(crate) fn error(id: Value, error: RpcError) -> Self {
        Self {
            jsonrpc: "2.0",
            id,
            result: None,
            error: Some(error),
        }
    }

    /// The response as JSON text.
    pub(crate) fn to_json(&self) -> String {
        serialize(self)
    }
}

fn serialize<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|e| {
        let err = RpcError::internal(format!("cannot serialize the response: {e}"));
        serde_json::to_string(&Response::error(Value::Null, err)).unwrap_or_default()
    })
}

/// Where a message came from: the node and, over WebSocket, the connection.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Origin<'a> {
    /// The node.
    pub(crate) node: &'a Arc<Node>,
    /// The WebSocket connection, `None` over HTTP.
    pub(crate) conn: Option<&'a Arc<Connection>>,
}

/// Handles one HTTP body or WebSocket message. Returns the response text, or `None` when
/// there is nothing to answer (notifications only). Blocking: call from a blocking thread.
pub(crate) fn handle_message(origin: Origin<'_>, body: &[u8]) -> Option<String> {
    let value: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(_) => return Some(Response::error(Value::Null, RpcError::parse_error()).to_json()),
    };
    match value {
        Value::Array(items) => handle_batch(origin, items),
        single => handle_single(origin, single).map(|r| r.to_json()),
    }
}

fn handle_batch(origin: Origin<'_>, items: Vec<Value>) -> Option<String> {
    if items.is_empty() {
        let err = RpcError::invalid_request("empty batch");
        return Some(Response::error(Value::Null, err).to_json());
    }
    let limit = origin.node.config.rpc.max_batch_size;
    if items.len() > limit {
        let id = items.iter().find_map(call_id).unwrap_or(Value::Null);
        let err = RpcError::invalid_request(format!(
            "batch too large: {} requests, the limit is {limit}",
            items.len()
        ));
        return Some(serialize(&[Response::error(id, err)]));
    }
    let responses: Vec<Response> = items
        .into_iter()
        .filter_map(|item| handle_single(origin, item))
        .collect();
    (!responses.is_empty()).then(|| serialize(&responses))
}

/// The id of a request object that has a valid one.
fn call_id(item: &Value) -> Option<Value> {
    item.as_object()?
        .get("id")
        .filter(|id| valid_id(id))
        .cloned()
}

fn valid_id(id: &Value) -> bool {
    matches!(id, Value::Null | Value::Number(_) | Value::String(_))
}

/// A request object taken apart.
struct Call {
    /// `None` for a notification.
    id: Option<Value>,
    method: String,
    params: Option<Value>,
}

/// Takes a request object apart; `Err(id)` for an invalid request (answered with `id`).
fn parse_call(value: Value) -> Result<Call, Value> {
    let Value::Object(mut obj) = value else {
        return Err(Value::Null);
    };
    let id = obj.remove("id");
    if id.as_ref().is_some_and(|id| !valid_id(id)) {
        return Err(Value::Null);
    }
    let reply_id = id.clone().unwrap_or(Value::Null);
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err(reply_id);
    }
    let Some(Value::String(method)) = obj.remove("method") else {
        return Err(reply_id);
    };
    Ok(Call {
        id,
        method,
        params: obj.remove("params"),
    })
}

fn handle_single(origin: Origin<'_>, value: Value) -> Option<Response> {
    let call = match parse_call(value) {
        Ok(call) => call,
        Err(id) => {
            return Some(Response::error(
                id,
                RpcError::invalid_request("invalid request"),
            ));
        }
    };
    let started = Instant::now();
    let outcome = dispatch::call(origin, &call.method, call.params);
    log_call(&call.method, &outcome, started);
    call.id.map(|id| Response::new(id, outcome))
}

fn log_call(method: &str, outcome: &RpcResult<Value>, started: Instant) {
    let micros = started.elapsed().as_micros() as u64;
    match outcome {
        Ok(_) => tracing::trace!(target: "altius::rpc", method, micros, "served"),
        Err(e) => {
            tracing::debug!(target: "altius::rpc", method, micros, code = e.code, error = %e.message, "failed")
        }
    }
}
