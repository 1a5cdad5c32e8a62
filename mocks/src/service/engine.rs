//! The engine as the bank and service-center mocks reach it: a base URL and the partner and
//! operator tokens they were given (DESIGN.md: nothing in `mocks/` knows the engine but its
//! HTTP API). A call forwards the engine's answer, status and JSON body, to the mock's caller.

use super::error::MockError;
use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use serde::Serialize;
use std::time::Duration;

/// Where the engine is and the tokens to show it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EngineLink {
    /// `http://host:port`, without a trailing slash.
    pub url: String,
    pub partner_token: String,
    pub operator_token: String,
}

/// Which of the engine's APIs a call uses, and so which token it shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Api {
    Partner,
    Operator,
}

/// An HTTP client of the engine.
#[derive(Debug)]
pub struct Engine {
    link: Option<EngineLink>,
    http: reqwest::Client,
}

/// The largest answer of the engine forwarded, in bytes.
const ANSWER_MAX_BYTES: usize = 64 * 1024;

impl Engine {
    /// A client of the engine at `link` (`None`: every call answers 503 `no_engine`); each
    /// call may take `timeout_ms` of wall time (the engine's partner API itself waits up to
    /// 10 s for PFR and FMS).
    pub fn new(link: Option<EngineLink>, timeout_ms: u64) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(timeout_ms))
            .build()
            .unwrap_or_default();
        let link = link.map(|l| EngineLink {
            url: l.url.trim_end_matches('/').to_owned(),
            ..l
        });
        Self { link, http }
    }

    /// The engine's link, if known.
    pub fn link(&self) -> Option<&EngineLink> {
        self.link.as_ref()
    }

    /// POSTs `body` to the engine's `path` (`/api/v1/...`) with `api`'s token.
    pub async fn post<B: Serialize + ?Sized>(
        &self,
        api: Api,
        path: &str,
        body: &B,
    ) -> Result<Response, MockError> {
        let link = self.link.as_ref().ok_or(MockError::NoEngine)?;
        let request = self.http.post(format!("{}{path}", link.url)).json(body);
        self.send(request, Self::token(link, api)).await
    }

    /// GETs the engine's `path` with `api`'s token.
    pub async fn get(&self, api: Api, path: &str) -> Result<Response, MockError> {
        let link = self.link.as_ref().ok_or(MockError::NoEngine)?;
        let request = self.http.get(format!("{}{path}", link.url));
        self.send(request, Self::token(link, api)).await
    }

    fn token(link: &EngineLink, api: Api) -> &str {
        match api {
            Api::Partner => &link.partner_token,
            Api::Operator => &link.operator_token,
        }
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        token: &str,
    ) -> Result<Response, MockError> {
        let unreachable = |e: reqwest::Error| MockError::EngineUnreachable {
            message: e.to_string(),
        };
        let answer = request
            .bearer_auth(token)
            .send()
            .await
            .map_err(unreachable)?;
        let status =
            StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
        let bytes = answer.bytes().await.map_err(unreachable)?;
        if bytes.len() > ANSWER_MAX_BYTES {
            return Err(MockError::EngineUnreachable {
                message: format!("an answer of {} bytes", bytes.len()),
            });
        }
        let mut response = Response::new(Body::from(bytes));
        *response.status_mut() = status;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        Ok(response)
    }
}
