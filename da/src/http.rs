//! HTTP plumbing shared by the HTTP-based backends (alt-DA, EigenDA proxy, celestia-node):
//! a client with timeouts, bounded response bodies and the mapping of failures onto
//! [`DaError`].

use std::time::Duration;

use alloy_primitives::Bytes;
use reqwest::{Response, StatusCode};

use crate::DaError;

/// Longest part of an error response body quoted in an error message.
const ERROR_BODY_QUOTE: usize = 200;

/// Builds a client whose connections time out after `connect_timeout`.
pub(crate) fn client(connect_timeout: Duration) -> Result<reqwest::Client, DaError> {
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .build()
        .map_err(|e| DaError::InvalidConfig(format!("building the HTTP client: {e}")))
}

/// Maps a failed request: the server could not be reached, timed out or hung up, so the
/// call may be retried ([`DaError::Unavailable`]).
pub(crate) fn unreachable(what: &str, err: &reqwest::Error) -> DaError {
    let cause = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    DaError::Unavailable(format!("{what}: {cause}: {}", error_chain(err)))
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Whether a status means the server is temporarily unable to answer (retry later).
pub(crate) fn is_transient(status: StatusCode) -> bool {
    status.is_server_error()
        || status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
}

/// The error for a non-success `status`: retryable for 5xx, 408 and 429, else
/// [`DaError::Backend`]. Quotes the start of the body.
pub(crate) async fn status_error(what: &str, mut response: Response) -> DaError {
    let status = response.status();
    let mut quote = Vec::new();
    while quote.len() < ERROR_BODY_QUOTE {
        match response.chunk().await {
            Ok(Some(chunk)) => quote.extend_from_slice(&chunk),
            _ => break,
        }
    }
    quote.truncate(ERROR_BODY_QUOTE);
    let body = String::from_utf8_lossy(&quote);
    let message = format!("{what}: HTTP {status}: {}", body.trim());
    if is_transient(status) {
        DaError::Unavailable(message)
    } else {
        DaError::Backend(message)
    }
}

/// Reads a response body of at most `limit` bytes; a longer body is an error, and the rest
/// of it is never read into memory.
pub(crate) async fn read_limited(
    what: &str,
    mut response: Response,
    limit: usize,
) -> Result<Bytes, DaError> {
    let too_large = || DaError::Backend(format!("{what}: response exceeds {limit} bytes"));
    if response
        .content_length()
        .is_some_and(|len| len > limit as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| unreachable(what, &e))? {
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_statuses() {
        assert!(is_transient(StatusCode::SERVICE_UNAVAILABLE));
        assert!(is_transient(StatusCode::INTERNAL_SERVER_ERROR));
        assert!(is_transient(StatusCode::TOO_MANY_REQUESTS));
        assert!(!is_transient(StatusCode::BAD_REQUEST));
        assert!(!is_transient(StatusCode::NOT_FOUND));
    }
}
