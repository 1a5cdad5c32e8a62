//! The engine's clients of the agencies: JSON over HTTP to each agency's base URL, every attempt
//! with a timeout that covers the whole answer (a slow body times out too), failed attempts
//! retried with exponential backoff and full jitter. What is retried: timeouts, connection
//! errors, 5xx, 408 and 2xx answers whose body is not the expected JSON. What is not: any
//! other 4xx (the request itself is wrong; repeating it cannot help), and 429: the agency is at
//! its capacity (a full queue, a spent quota; SMEV's `requestIsRejectedBySmev` with
//! `QUOTE_LIMIT_EXCEEDED` comes as a 429 too), and the call ends at once with
//! [`AgencyError::Busy`] and the `Retry-After` it gave, so that the caller sets the request
//! aside and asks again later instead of holding a worker through the wait (see
//! [`super::performer`]).
//!
//! Requests are idempotent by construction: a PFR or FMS request carries its `request_id`, and
//! the agency answers a repeat with the first request's state, so a retry after a lost answer
//! never asks twice.

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Method, Request, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::Mutex;
use std::time::Duration;

/// How an agency call is retried. Defaults: 6 attempts, 2 s per attempt, backoff from 100 ms
/// doubling to at most 5 s, each wait drawn uniformly below its bound (full jitter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all (the first included).
    pub attempts: u32,
    /// The time one attempt may take, answer body included.
    pub timeout_ms: u64,
    /// The bound of the first wait between attempts.
    pub backoff_first_ms: u64,
    /// The largest bound of a wait.
    pub backoff_max_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 6,
            timeout_ms: 2_000,
            backoff_first_ms: 100,
            backoff_max_ms: 5_000,
        }
    }
}

/// Why one attempt failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AgencyError {
    /// No complete answer within the attempt's timeout.
    #[error("no answer within {timeout_ms} ms")]
    Timeout { timeout_ms: u64 },
    /// The connection could not be made or broke.
    #[error("connection failed: {0}")]
    Connect(String),
    /// A status worth retrying (5xx, 408).
    #[error("answered HTTP {status}")]
    Unavailable { status: u16 },
    /// 429: the agency is at its capacity; ask again after `retry_after_ms` (its `Retry-After`
    /// in whole seconds, if it gave one).
    #[error("at capacity (HTTP 429){}", retry_after_ms.map(|ms| format!("; retry after {ms} ms")).unwrap_or_default())]
    Busy { retry_after_ms: Option<u64> },
    /// A status not worth retrying (4xx): the request is wrong for this agency.
    #[error("refused with HTTP {status}: {body}")]
    Refused { status: u16, body: String },
    /// A success whose body is not the expected JSON.
    #[error("answered a body that is not the expected JSON: {0}")]
    Malformed(String),
}

impl AgencyError {
    /// Whether another attempt at once may succeed (a busy agency is asked again later, by
    /// the caller).
    pub fn retryable(&self) -> bool {
        !matches!(self, AgencyError::Refused { .. } | AgencyError::Busy { .. })
    }
}

impl CallFailed {
    /// The agency's capacity refused the call: `Some(its Retry-After in ms, if it gave one)`.
    pub fn busy(&self) -> Option<Option<u64>> {
        match self.last {
            AgencyError::Busy { retry_after_ms } => Some(retry_after_ms),
            _ => None,
        }
    }
}

/// A call that failed for good: after `attempts` attempts, the last one's error.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{attempts} attempt(s) failed; the last: {last}")]
pub struct CallFailed {
    pub attempts: u32,
    pub last: AgencyError,
}

/// The HTTP client of the agencies: hyper's pooled client over plain TCP (`http://` URLs, HTTP/1.1)
/// with `TCP_NODELAY`, a request built from a URL parsed once per call (no per-request layers).
type Http = Client<HttpConnector, Full<Bytes>>;

/// The largest answer body read from an agency (a bigger one is a malformed answer).
const ANSWER_MAX: usize = 1 << 20;

/// An HTTP client of the agencies, shared by every call.
#[derive(Debug)]
pub struct AgencyClient {
    http: Http,
    policy: RetryPolicy,
    jitter: Mutex<ChaCha8Rng>,
}

impl AgencyClient {
    /// A client retrying by `policy`; `seed` seeds the jitter.
    pub fn new(policy: RetryPolicy, seed: u64) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_millis(policy.timeout_ms)));
        let http = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(256)
            .build(connector);
        Self {
            http,
            policy,
            jitter: Mutex::new(ChaCha8Rng::seed_from_u64(seed)),
        }
    }

    /// The retry policy.
    pub fn policy(&self) -> RetryPolicy {
        self.policy
    }

    /// The wait before attempt `attempt + 1` (after `attempt` failures), with full jitter.
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let bound = self
            .policy
            .backoff_first_ms
            .saturating_mul(1u64 << attempt.saturating_sub(1).min(20))
            .min(self.policy.backoff_max_ms)
            .max(1);
        let mut rng = self.jitter.lock().unwrap_or_else(|e| e.into_inner());
        Duration::from_millis(rng.next_u64() % (bound + 1))
    }

    /// POSTs `body` as JSON to `url` and reads the answer as `R`, retrying by the policy.
    pub async fn post<B: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        url: &str,
        body: &B,
    ) -> Result<R, CallFailed> {
        let body = match serde_json::to_vec(body) {
            Ok(b) => Bytes::from(b),
            Err(e) => return Err(Self::unsent(AgencyError::Connect(e.to_string()))),
        };
        self.call(Method::POST, url, Some(body)).await
    }

    /// GETs `url` as `R`, retrying by the policy; `Ok(None)` for a 404.
    pub async fn get<R: DeserializeOwned>(&self, url: &str) -> Result<Option<R>, CallFailed> {
        match self.call(Method::GET, url, None).await {
            Ok(r) => Ok(Some(r)),
            Err(CallFailed {
                last: AgencyError::Refused { status: 404, .. },
                ..
            }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn unsent(last: AgencyError) -> CallFailed {
        CallFailed { attempts: 0, last }
    }

    async fn call<R: DeserializeOwned>(
        &self,
        method: Method,
        url: &str,
        body: Option<Bytes>,
    ) -> Result<R, CallFailed> {
        let uri = match Uri::try_from(url) {
            Ok(u) if u.scheme() == Some(&hyper::http::uri::Scheme::HTTP) => u,
            Ok(_) => {
                return Err(Self::unsent(AgencyError::Connect(format!(
                    "{url}: only http:// URLs are supported"
                ))))
            }
            Err(e) => {
                return Err(Self::unsent(AgencyError::Connect(format!("{url}: {e}"))));
            }
        };
        let attempts = self.policy.attempts.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut request = Request::new(Full::new(body.clone().unwrap_or_default()));
            *request.method_mut() = method.clone();
            *request.uri_mut() = uri.clone();
            if body.is_some() {
                request
                    .headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            }
            let error = match self.attempt(request).await {
                Ok(r) => return Ok(r),
                Err(e) => e,
            };
            if !error.retryable() || attempt >= attempts {
                return Err(CallFailed {
                    attempts: attempt,
                    last: error,
                });
            }
            tracing::debug!(attempt, error = %error, "agency call failed; retrying");
            tokio::time::sleep(self.backoff(attempt)).await;
        }
    }

    async fn attempt<R: DeserializeOwned>(
        &self,
        request: Request<Full<Bytes>>,
    ) -> Result<R, AgencyError> {
        let timeout_ms = self.policy.timeout_ms;
        let work = async {
            let response = self
                .http
                .request(request)
                .await
                .map_err(|e| AgencyError::Connect(chain(&e)))?;
            let status = response.status();
            let retry_after_ms = response
                .headers()
                .get(hyper::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(|s| s.saturating_mul(1_000));
            let bytes = Limited::new(response.into_body(), ANSWER_MAX)
                .collect()
                .await
                .map_err(|e| AgencyError::Connect(chain(&*e)))?
                .to_bytes();
            if status.is_success() {
                serde_json::from_slice(&bytes).map_err(|e| AgencyError::Malformed(e.to_string()))
            } else if status.as_u16() == 429 {
                Err(AgencyError::Busy { retry_after_ms })
            } else if status.is_server_error() || status.as_u16() == 408 {
                Err(AgencyError::Unavailable {
                    status: status.as_u16(),
                })
            } else {
                let body = String::from_utf8_lossy(&bytes[..bytes.len().min(500)]).into_owned();
                Err(AgencyError::Refused {
                    status: status.as_u16(),
                    body,
                })
            }
        };
        // One deadline for connecting, sending and reading the whole body.
        match tokio::time::timeout(Duration::from_millis(timeout_ms), work).await {
            Ok(result) => result,
            Err(_) => Err(AgencyError::Timeout { timeout_ms }),
        }
    }
}

/// An error with its causes, `outer: inner: innermost` (hyper's own message is terse).
pub(crate) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(c) = source {
        s.push_str(": ");
        s.push_str(&c.to_string());
        source = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_its_cap_with_full_jitter() {
        let c = AgencyClient::new(RetryPolicy::default(), 1);
        let mut last_mean = 0.0;
        for attempt in 1..12 {
            let bound = (100u64 << (attempt - 1)).min(5_000);
            let draws: Vec<u64> = (0..400)
                .map(|_| c.backoff(attempt).as_millis() as u64)
                .collect();
            let (min, max) = (draws.iter().min().unwrap(), draws.iter().max().unwrap());
            let mean = draws.iter().sum::<u64>() as f64 / draws.len() as f64;
            let distinct = draws
                .iter()
                .collect::<std::collections::BTreeSet<_>>()
                .len();
            // Full jitter: uniform below the bound, so spread over all of it (the seeded
            // stream makes these figures the same on every run).
            assert!(*max <= bound, "attempt {attempt}: {max} > {bound}");
            assert!(
                *min < bound / 4 && *max > bound * 3 / 4,
                "attempt {attempt}: {min}..{max} of {bound}"
            );
            assert!(
                distinct > 50,
                "attempt {attempt}: {distinct} distinct waits"
            );
            assert!(
                (mean - bound as f64 / 2.0).abs() < bound as f64 * 0.1,
                "attempt {attempt}: mean {mean} for a bound of {bound}"
            );
            // Exponential: the mean doubles until the bound reaches its cap.
            if bound < 5_000 {
                assert!(
                    mean > 1.6 * last_mean,
                    "attempt {attempt}: {mean} after {last_mean}"
                );
            }
            last_mean = mean;
        }
        assert!(AgencyError::Timeout { timeout_ms: 1 }.retryable());
        assert!(!AgencyError::Busy {
            retry_after_ms: None
        }
        .retryable());
        assert!(!AgencyError::Refused {
            status: 400,
            body: String::new()
        }
        .retryable());
    }
}
