//! A minimal JSON-RPC 2.0 client for celestia-node (`module.Method` calls over HTTP POST
//! with an optional `Authorization: Bearer` token).

use std::{
    fmt,
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde::{Deserialize, de::DeserializeOwned};
use serde_json::{Value, json};

use crate::{DaError, http};

/// An error object of a JSON-RPC response.
#[derive(Debug, Deserialize)]
pub(crate) struct RpcErrorObject {
    pub(crate) code: i64,
    pub(crate) message: String,
}

/// What a call can end with besides a result.
#[derive(Debug)]
pub(crate) enum CallError {
    /// The node answered with a JSON-RPC error.
    Rpc(RpcErrorObject),
    /// Transport, HTTP or decoding failure, already mapped.
    Da(DaError),
}

impl From<DaError> for CallError {
    fn from(err: DaError) -> Self {
        Self::Da(err)
    }
}

impl CallError {
    /// Maps a JSON-RPC error response to [`DaError::Backend`].
    pub(crate) fn into_da(self, method: &str) -> DaError {
        match self {
            Self::Da(err) => err,
            Self::Rpc(e) => {
                DaError::Backend(format!("{method}: {} (code {})", e.message.trim(), e.code))
            }
        }
    }
}

#[derive(Deserialize)]
struct Response {
    #[serde(default)]
    id: Value,
    #[serde(default)]
    result: Option<Value>,
    #[serde(default)]
    error: Option<RpcErrorObject>,
}

/// The JSON-RPC endpoint of a celestia-node.
pub(crate) struct NodeRpc {
    http: reqwest::Client,
    url: String,
    token: Option<String>,
    timeout: Duration,
    next_id: AtomicU64,
}

impl fmt::Debug for NodeRpc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeRpc")
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl NodeRpc {
    pub(crate) fn new(
        url: &str,
        token: Option<String>,
        timeout: Duration,
    ) -> Result<Self, DaError> {
        Ok(Self {
            http: http::client(Duration::from_secs(10))?,
            url: url.to_owned(),
            token,
            timeout,
            next_id: AtomicU64::new(1),
        })
    }

    /// Calls `method` with positional `params`; the response body may be at most `limit`
    /// bytes.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        params: Value,
        limit: usize,
    ) -> Result<T, CallError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let body = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
        let mut request = self
            .http
            .post(&self.url)
            .header(CONTENT_TYPE, "application/json")
            .timeout(self.timeout)
            .body(body.to_string());
        if let Some(token) = &self.token {
            request = request.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        let response = request
            .send()
            .await
            .map_err(|e| http::unreachable(method, &e))?;
        if !response.status().is_success() {
            return Err(http::status_error(method, response).await.into());
        }
        let bytes = http::read_limited(method, response, limit).await?;
        let malformed =
            |why: String| DaError::Backend(format!("{method}: malformed response: {why}"));
        let response: Response =
            serde_json::from_slice(&bytes).map_err(|e| malformed(e.to_string()))?;
        if response.id != json!(id) {
            return Err(malformed(format!("id {} instead of {id}", response.id)).into());
        }
        match (response.result, response.error) {
            (_, Some(error)) => Err(CallError::Rpc(error)),
            (Some(result), None) => {
                serde_json::from_value(result).map_err(|e| malformed(e.to_string()).into())
            }
            (None, None) => Err(malformed("neither result nor error".into()).into()),
        }
    }
}
