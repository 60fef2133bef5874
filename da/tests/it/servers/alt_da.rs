//! An OP alt-DA server (specs `experimental/alt-da.md`) that is also an eigenda-proxy
//! (`POST /put` answering `0x01 0x00 ++ cert_version ++ cert`): `POST /put/0x00<keccak>`
//! with the preimage, `POST /put` with the preimage (generic commitments, raw bytes back),
//! `GET /get/0x<commitment>`, `application/octet-stream` bodies.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use alloy::primitives::{hex, keccak256};
use axum::{
    Router,
    body::Bytes as Body,
    extract::{DefaultBodyLimit, Path, State},
    http::{HeaderMap, Method, StatusCode, header::CONTENT_TYPE},
    response::{IntoResponse, Response},
    routing::{get, post},
};

use celestia_types::{Commitment, nmt::Namespace};

use super::Loopback;

/// How the server computes commitments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// Keccak commitments only (`POST /put/0x00<hash>`).
    Keccak,
    /// Generic commitments on `POST /put`: `0x01 ++ layer ++ cert_version ++ cert`.
    Generic { layer: u8, cert_version: u8 },
    /// Celestia's op-alt-da server: `0x01 0x0c ++ height u64 LE ++ share commitment` of the
    /// data as a v0 blob in `namespace`.
    Celestia { namespace: Namespace },
}

/// Misbehaviours to test the client against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fault {
    None,
    /// `POST /put` answers these bytes instead of the commitment.
    PutReturns(Vec<u8>),
    /// `GET` answers other data than what was stored.
    WrongData,
    /// Every request answers this status.
    Status(u16),
    /// `GET` answers a body this long.
    HugeGet(usize),
}

/// One request as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Request {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) content_type: Option<String>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    flavor: Flavor,
    pub(crate) fault: Fault,
    store: HashMap<Vec<u8>, Vec<u8>>,
    pub(crate) requests: Vec<Request>,
    /// Requests that broke the documented API, with why.
    pub(crate) violations: Vec<String>,
    puts: u64,
}

pub(crate) type Shared = Arc<Mutex<Inner>>;

/// A running server and its state.
#[derive(Debug)]
pub(crate) struct AltDaServer {
    pub(crate) server: Loopback,
    pub(crate) state: Shared,
}

impl AltDaServer {
    pub(crate) async fn start(flavor: Flavor) -> Self {
        let state = Arc::new(Mutex::new(Inner {
            flavor,
            fault: Fault::None,
            store: HashMap::new(),
            requests: Vec::new(),
            violations: Vec::new(),
            puts: 0,
        }));
        let router = Router::new()
            .route("/put", post(put_generic).put(put_generic))
            .route("/put/{commitment}", post(put_keccak).put(put_keccak))
            .route("/get/{commitment}", get(get_data))
            .layer(DefaultBodyLimit::max(64 * 1024 * 1024))
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

    pub(crate) fn requests(&self) -> Vec<Request> {
        self.state.lock().unwrap().requests.clone()
    }

    /// Stored preimages, by commitment.
    pub(crate) fn stored(&self) -> HashMap<Vec<u8>, Vec<u8>> {
        self.state.lock().unwrap().store.clone()
    }

    /// Panics if any request broke the documented API.
    pub(crate) fn assert_no_violations(&self) {
        let violations = self.state.lock().unwrap().violations.clone();
        assert!(violations.is_empty(), "API violations: {violations:?}");
    }
}

fn record(state: &Shared, method: Method, path: String, headers: &HeaderMap) -> Option<Response> {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut inner = state.lock().unwrap();
    if method == Method::POST && content_type.as_deref() != Some("application/octet-stream") {
        inner
            .violations
            .push(format!("{method} {path}: content type {content_type:?}"));
    }
    inner.requests.push(Request {
        method,
        path,
        content_type,
    });
    match inner.fault {
        Fault::Status(code) => Some(StatusCode::from_u16(code).unwrap().into_response()),
        _ => None,
    }
}

fn parse_hex(state: &Shared, what: &str, text: &str) -> Option<Vec<u8>> {
    let parsed = text.strip_prefix("0x").and_then(|h| hex::decode(h).ok());
    if parsed.is_none() {
        let message = format!("{what}: commitment {text:?} is not 0x-prefixed hex");
        state.lock().unwrap().violations.push(message);
    }
    parsed
}

async fn put_generic(
    State(state): State<Shared>,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Some(response) = record(&state, method, "/put".into(), &headers) {
        return response;
    }
    let mut inner = state.lock().unwrap();
    if body.is_empty() {
        inner.violations.push("POST /put with an empty body".into());
        return StatusCode::BAD_REQUEST.into_response();
    }
    inner.puts += 1;
    let commitment = match inner.flavor {
        Flavor::Keccak => {
            inner
                .violations
                .push("POST /put on a keccak-only server".into());
            return (StatusCode::BAD_REQUEST, "keccak commitments only").into_response();
        }
        Flavor::Generic {
            layer,
            cert_version,
        } => {
            // A stand-in for a certificate: distinct per dispersal, as real ones are.
            let mut cert = keccak256(&body).to_vec();
            cert.extend_from_slice(&inner.puts.to_be_bytes());
            [&[0x01, layer, cert_version][..], &cert].concat()
        }
        Flavor::Celestia { namespace } => {
            let share = Commitment::from_blob(namespace, &body, 0, None).unwrap();
            let height = 1000 + inner.puts;
            [&[0x01, 0x0c][..], &height.to_le_bytes(), share.hash()].concat()
        }
    };
    inner.store.insert(commitment.clone(), body.to_vec());
    if let Fault::PutReturns(bytes) = &inner.fault {
        return octets(bytes.clone());
    }
    octets(commitment)
}

async fn put_keccak(
    State(state): State<Shared>,
    method: Method,
    headers: HeaderMap,
    Path(commitment): Path<String>,
    body: Body,
) -> Response {
    let path = format!("/put/{commitment}");
    if let Some(response) = record(&state, method, path.clone(), &headers) {
        return response;
    }
    let Some(commitment) = parse_hex(&state, &path, &commitment) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let mut inner = state.lock().unwrap();
    if commitment.len() != 33 || commitment[0] != 0x00 {
        inner
            .violations
            .push(format!("{path}: not a keccak commitment"));
        return StatusCode::BAD_REQUEST.into_response();
    }
    if keccak256(&body).as_slice() != &commitment[1..] {
        inner
            .violations
            .push(format!("{path}: body does not hash to the commitment"));
        return StatusCode::BAD_REQUEST.into_response();
    }
    inner.store.insert(commitment, body.to_vec());
    StatusCode::OK.into_response()
}

async fn get_data(
    State(state): State<Shared>,
    headers: HeaderMap,
    Path(commitment): Path<String>,
) -> Response {
    let path = format!("/get/{commitment}");
    if let Some(response) = record(&state, Method::GET, path.clone(), &headers) {
        return response;
    }
    let Some(commitment) = parse_hex(&state, &path, &commitment) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let inner = state.lock().unwrap();
    match (&inner.fault, inner.store.get(&commitment)) {
        (Fault::HugeGet(len), _) => octets(vec![0xab; *len]),
        (_, None) => StatusCode::NOT_FOUND.into_response(),
        (Fault::WrongData, Some(data)) => {
            let mut data = data.clone();
            data[0] ^= 0xff;
            octets(data)
        }
        (_, Some(data)) => octets(data.clone()),
    }
}

fn octets(body: Vec<u8>) -> Response {
    (
        [(CONTENT_TYPE, "application/octet-stream")],
        Body::from(body),
    )
        .into_response()
}
