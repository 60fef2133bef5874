//! A celestia-node JSON-RPC endpoint (celestia-node `nodebuilder/rpc`, `blob/blob.go`,
//! `state/txclient/tx_config.go`): `POST /` with `Authorization: Bearer <jwt>`,
//! `blob.Submit([]Blob, TxConfig) -> height`, `blob.Get(height, namespace, commitment)`,
//! `header.GetByHeight(height)`, `header.NetworkHead()`. Submitted blobs are checked the way
//! a node checks them (namespace, share version, the commitment recomputed) and each
//! submission lands in a new block.

use std::sync::{Arc, Mutex};

use axum::{
    Router,
    body::Bytes as Body,
    extract::State,
    http::{HeaderMap, StatusCode, header::AUTHORIZATION, header::CONTENT_TYPE},
    response::{IntoResponse, Response},
    routing::post,
};
use celestia_types::{Blob, Commitment, nmt::Namespace};
use serde_json::{Value, json};

use super::Loopback;

/// Misbehaviours to test the client against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fault {
    None,
    /// `blob.Get` answers the blob with this commitment instead.
    WrongCommitment([u8; 32]),
    /// `blob.Get` answers other data under the stored commitment.
    WrongData,
    /// Every call answers this body with HTTP 200.
    Garbage(String),
    /// Every call answers this HTTP status.
    Status(u16),
}

/// A stored blob: (height, blob).
type Stored = (u64, Blob);

#[derive(Debug)]
pub(crate) struct Inner {
    token: String,
    pub(crate) fault: Fault,
    pub(crate) head: u64,
    pub(crate) blobs: Vec<Stored>,
    /// Method names called, in order.
    pub(crate) calls: Vec<String>,
    /// The `TxConfig` objects received.
    pub(crate) tx_configs: Vec<Value>,
    pub(crate) violations: Vec<String>,
}

pub(crate) type Shared = Arc<Mutex<Inner>>;

#[derive(Debug)]
pub(crate) struct CelestiaNode {
    pub(crate) server: Loopback,
    pub(crate) state: Shared,
}

impl CelestiaNode {
    pub(crate) async fn start(token: &str) -> Self {
        let state = Arc::new(Mutex::new(Inner {
            token: token.to_owned(),
            fault: Fault::None,
            head: 100,
            blobs: Vec::new(),
            calls: Vec::new(),
            tx_configs: Vec::new(),
            violations: Vec::new(),
        }));
        let router = Router::new()
            .route("/", post(rpc))
            .with_state(state.clone());
        Self {
            server: Loopback::start(router).await,
            state,
        }
    }

    pub(crate) fn url(&self) -> &str {
        &self.server.url
    }

    pub(crate) fn set_fault(&self, fault: Fault) {
        self.state.lock().unwrap().fault = fault;
    }

    pub(crate) fn calls(&self) -> Vec<String> {
        self.state.lock().unwrap().calls.clone()
    }

    pub(crate) fn assert_no_violations(&self) {
        let violations = self.state.lock().unwrap().violations.clone();
        assert!(violations.is_empty(), "API violations: {violations:?}");
    }
}

async fn rpc(State(state): State<Shared>, headers: HeaderMap, body: Body) -> Response {
    let mut inner = state.lock().unwrap();
    let auth = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    if auth != Some(&format!("Bearer {}", inner.token)) {
        inner.violations.push(format!("authorization {auth:?}"));
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
    if content_type != Some("application/json") {
        inner
            .violations
            .push(format!("content type {content_type:?}"));
    }
    match inner.fault.clone() {
        Fault::Status(code) => return StatusCode::from_u16(code).unwrap().into_response(),
        Fault::Garbage(text) => return text.into_response(),
        _ => {}
    }
    let request: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            inner.violations.push(format!("body is not JSON: {e}"));
            return StatusCode::BAD_REQUEST.into_response();
        }
    };
    let id = request["id"].clone();
    if request["jsonrpc"] != "2.0" || !(id.is_u64() || id.is_string()) {
        inner
            .violations
            .push(format!("not a JSON-RPC 2.0 request: {request}"));
    }
    let method = request["method"].as_str().unwrap_or_default().to_owned();
    inner.calls.push(method.clone());
    let params = request["params"].as_array().cloned().unwrap_or_default();
    let outcome = match method.as_str() {
        "blob.Submit" => submit(&mut inner, &params),
        "blob.Get" => get(&inner, &params),
        "header.GetByHeight" => header_by_height(&inner, &params),
        "header.NetworkHead" if params.is_empty() => Ok(header(inner.head)),
        other => Err(format!("unexpected call {other} {params:?}")),
    };
    let reply = match outcome {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err(message) => {
            if !message.starts_with("blob: not found") {
                inner.violations.push(format!("{method}: {message}"));
            }
            json!({"jsonrpc": "2.0", "id": id, "error": {"code": 1, "message": message}})
        }
    };
    ([(CONTENT_TYPE, "application/json")], reply.to_string()).into_response()
}

/// `blob.Submit([]Blob, TxConfig)`: each blob must be a full share-version-0 blob JSON with
/// the node's index convention (-1) and a commitment the node agrees with.
fn submit(inner: &mut Inner, params: &[Value]) -> Result<Value, String> {
    let [blobs, tx_config] = params else {
        return Err(format!("expected [blobs, tx_config], got {params:?}"));
    };
    let blobs = blobs.as_array().ok_or("blobs is not an array")?;
    let config = tx_config.as_object().ok_or("tx config is not an object")?;
    const KNOWN: [&str; 8] = [
        "gas_price",
        "is_gas_price_set",
        "max_gas_price",
        "gas",
        "tx_priority",
        "key_name",
        "signer_address",
        "fee_granter_address",
    ];
    if let Some(key) = config.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(format!("unknown TxConfig field {key}"));
    }
    if config.contains_key("gas_price") && config.get("is_gas_price_set") != Some(&json!(true)) {
        return Err("gas_price without is_gas_price_set".into());
    }
    if blobs.is_empty() {
        return Err("no blobs".into());
    }
    let mut parsed = Vec::new();
    for raw in blobs {
        for key in ["namespace", "data", "share_version", "commitment"] {
            if raw.get(key).is_none() {
                return Err(format!("blob without {key}: {raw}"));
            }
        }
        if raw["share_version"] != 0 || raw.get("index").is_some_and(|i| *i != -1) {
            return Err(format!("unexpected share_version or index: {raw}"));
        }
        let blob: Blob = serde_json::from_value(raw.clone()).map_err(|e| e.to_string())?;
        blob.validate()
            .map_err(|e| format!("commitment check: {e}"))?;
        parsed.push(blob);
    }
    inner.tx_configs.push(tx_config.clone());
    inner.head += 1;
    let height = inner.head;
    inner.blobs.extend(parsed.into_iter().map(|b| (height, b)));
    Ok(json!(height))
}

/// `blob.Get(height uint64, namespace, commitment)`.
fn get(inner: &Inner, params: &[Value]) -> Result<Value, String> {
    let [height, namespace, commitment] = params else {
        return Err(format!(
            "expected [height, namespace, commitment], got {params:?}"
        ));
    };
    let height = height.as_u64().ok_or("height is not a number")?;
    let namespace: Namespace =
        serde_json::from_value(namespace.clone()).map_err(|e| format!("namespace: {e}"))?;
    let commitment: Commitment =
        serde_json::from_value(commitment.clone()).map_err(|e| format!("commitment: {e}"))?;
    let Some((_, blob)) = inner
        .blobs
        .iter()
        .find(|(h, b)| *h == height && b.namespace == namespace && b.commitment == commitment)
    else {
        return Err("blob: not found".into());
    };
    let mut blob = blob.clone();
    blob.index = Some(7);
    match &inner.fault {
        Fault::WrongCommitment(hash) => blob.commitment = Commitment::new(*hash),
        Fault::WrongData => blob.data[0] ^= 0xff,
        _ => {}
    }
    serde_json::to_value(&blob).map_err(|e| e.to_string())
}

fn header_by_height(inner: &Inner, params: &[Value]) -> Result<Value, String> {
    let [height] = params else {
        return Err(format!("expected [height], got {params:?}"));
    };
    match height.as_u64() {
        Some(h) if h >= 1 && h <= inner.head => Ok(header(h)),
        _ => Err(format!("height {height} is not in [1, {}]", inner.head)),
    }
}

/// The shape of an `ExtendedHeader` (heights are strings, as in Tendermint JSON).
fn header(height: u64) -> Value {
    json!({
        "header": {
            "version": {"block": "11", "app": "3"},
            "chain_id": "mocha-4",
            "height": height.to_string(),
            "time": "2026-11-28T19:00:00Z",
        },
        "commit": {"height": height.to_string(), "round": 0, "signatures": []},
        "validator_set": {"validators": []},
        "dah": {"row_roots": [], "column_roots": []},
    })
}
