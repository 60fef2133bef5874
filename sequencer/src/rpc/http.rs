//! The HTTP side: `POST` JSON-RPC, `GET` WebSocket upgrade (or a health answer), CORS.

use super::{
    Server,
    error::RpcError,
    jsonrpc::{Origin, Response as RpcResponse, handle_message},
    ws,
};
use axum::{
    body::{Body, Bytes},
    extract::{FromRequestParts, Request, State, ws::WebSocketUpgrade},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
};
use futures::StreamExt;
use serde_json::Value;
use std::sync::Arc;

/// Content types geth accepts for JSON-RPC over HTTP.
const ACCEPTED_CONTENT_TYPES: &[&str] = &[
    "application/json",
    "application/json-rpc",
    "application/jsonrequest",
];

/// Every request on any path.
pub(crate) async fn entry(State(server): State<Arc<Server>>, request: Request) -> Response {
    let mut response = match *request.method() {
        Method::POST => post(&server, request).await,
        Method::GET => get(&server, request).await,
        Method::OPTIONS => preflight(request.headers()),
        _ => StatusCode::METHOD_NOT_ALLOWED.into_response(),
    };
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

/// A JSON-RPC error (id `null`) with an HTTP status.
fn error_response(status: StatusCode, error: RpcError) -> Response {
    json_response(status, RpcResponse::error(Value::Null, error).to_json())
}

fn json_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// A CORS preflight: any origin, the methods we serve, the headers asked for.
fn preflight(headers: &HeaderMap) -> Response {
    let allow_headers = headers
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .cloned()
        .unwrap_or_else(|| HeaderValue::from_static("content-type"));
    (
        StatusCode::NO_CONTENT,
        [
            (
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST, OPTIONS"),
            ),
            (header::ACCESS_CONTROL_ALLOW_HEADERS, allow_headers),
            (
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("86400"),
            ),
        ],
    )
        .into_response()
}

/// Whether the `Content-Type` is one geth accepts (parameters such as charset ignored).
pub(crate) fn content_type_ok(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let media = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    ACCEPTED_CONTENT_TYPES.contains(&media.as_str())
}

fn too_large(limit: usize) -> Response {
    error_response(
        StatusCode::PAYLOAD_TOO_LARGE,
        RpcError::invalid_request(format!("request too large: the limit is {limit} bytes")),
    )
}

/// Why a body could not be read.
enum BodyError {
    TooLarge,
    Read(axum::Error),
}

/// Reads at most `limit` bytes, stopping as soon as the body is larger.
async fn read_body(body: Body, limit: usize) -> Result<Bytes, BodyError> {
    let mut stream = body.into_data_stream();
    let mut buf = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(BodyError::Read)?;
        if buf.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.into())
}

async fn post(server: &Arc<Server>, request: Request) -> Response {
    let limit = server.node.config.rpc.max_request_bytes;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return too_large(limit);
    }
    if !content_type_ok(request.headers()) {
        return error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            RpcError::invalid_request("invalid content type, only application/json is supported"),
        );
    }
    let body = match read_body(request.into_body(), limit).await {
        Ok(body) => body,
        Err(BodyError::TooLarge) => return too_large(limit),
        Err(BodyError::Read(e)) => {
            tracing::debug!(target: "altius::rpc", error = %e, "cannot read request body");
            return StatusCode::BAD_REQUEST.into_response();
        }
    };
    let node = server.node.clone();
    let answer = tokio::task::spawn_blocking(move || {
        handle_message(
            Origin {
                node: &node,
                conn: None,
            },
            &body,
        )
    })
    .await;
    match answer {
        Ok(Some(text)) => json_response(StatusCode::OK, text),
        Ok(None) => StatusCode::OK.into_response(),
        Err(e) => error_response(StatusCode::INTERNAL_SERVER_ERROR, RpcError::internal(e)),
    }
}

fn wants_websocket(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

async fn get(server: &Arc<Server>, request: Request) -> Response {
    if !wants_websocket(request.headers()) {
        // Like geth: a plain GET is a health check.
        return StatusCode::OK.into_response();
    }
    let limit = server.node.config.rpc.max_ws_connections;
    let Ok(permit) = server.ws_slots.clone().try_acquire_owned() else {
        tracing::warn!(target: "altius::rpc", limit, "websocket connection refused: at the limit");
        return error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            RpcError::server(format!("too many websocket connections (limit {limit})")),
        );
    };
    let (mut parts, _) = request.into_parts();
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    let max = server.node.config.rpc.max_request_bytes;
    let (node, shutdown, id) = (
        server.node.clone(),
        server.shutdown.clone(),
        server.next_id(),
    );
    upgrade
        .max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| ws::serve_socket(node, socket, id, permit, shutdown))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_type(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn content_types_as_geth() {
        assert!(content_type_ok(&with_type("application/json")));
        assert!(content_type_ok(&with_type(
            "application/json; charset=utf-8"
        )));
        assert!(content_type_ok(&with_type("Application/JSON")));
        assert!(content_type_ok(&with_type("application/json-rpc")));
        assert!(!content_type_ok(&with_type("text/plain")));
        assert!(!content_type_ok(&with_type(
            "application/x-www-form-urlencoded"
        )));
        assert!(!content_type_ok(&HeaderMap::new()));
    }
}
