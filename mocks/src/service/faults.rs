//! Faults of a mock, as data (STYLE habit 7): what the wire does to a request ([`Wire`]: a
//! response delay, connection resets, malformed bodies), beside the agency model's profile
//! (latency, error and timeout rates, outage windows), and targeted faults ([`Fault`]: fail the
//! next N requests, answer mismatch about one person, lose one letter, an outage from now).
//!
//! [`apply`] (inside the mocks' one layer, [`super::watch`]) applies the wire faults and the "fail next"
//! counters to every request of a mock except its control routes (`/admin/...`, `.../complete`,
//! `.../deliver`); the handlers consult [`Faults::mismatch`] themselves. An injected fault is
//! marked on the response ([`Injected`]) so the journal shows it.

use super::error::MockError;
use super::http::RequestError;
use super::Context;
use crate::agency::latency::{happens, Latency};
use crate::wire::faults::{FailNext, Failure, Fault, FaultsView};
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Targeted faults a mock holds at once ("fail next" counters and mismatch keys, each).
pub const TARGETED_MAX: usize = 10_000;
/// The largest `count` of one "fail next" fault.
pub const FAIL_NEXT_MAX: u32 = 1_000_000;

/// What the wire does to a mock's answers. Default: nothing (no delay, no resets, no malformed
/// bodies). Set with `PUT /mocks/<agency>/admin/profile` beside the agency's own keys.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `response_delay` | `{ kind = "fixed", value = "0s" }` | wall-clock delay before every answer (a [`Latency`]) |
/// | `reset_rate` | 0 | probability that the connection is cut instead of answered (the request is not processed) |
/// | `malformed_rate` | 0 | probability that the answer's body is cut short, not JSON (the request is processed) |
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Wire {
    pub response_delay: Latency,
    pub reset_rate: f64,
    pub malformed_rate: f64,
}

impl Wire {
    /// The keys of a profile that belong to the wire.
    pub const KEYS: [&'static str; 3] = ["response_delay", "reset_rate", "malformed_rate"];

    /// Checks the rates.
    pub fn check(&self) -> Result<(), MockError> {
        for (key, rate) in [
            ("reset_rate", self.reset_rate),
            ("malformed_rate", self.malformed_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(MockError::invalid(key, "must be a probability from 0 to 1"));
            }
        }
        if self.reset_rate + self.malformed_rate > 1.0 + 1e-12 {
            return Err(MockError::invalid(
                "malformed_rate",
                "must not exceed 1 - reset_rate",
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Default)]
struct State_ {
    wire: Wire,
    fail_next: VecDeque<FailNext>,
    mismatches: HashSet<u64>,
}

/// A mock's faults: the wire's profile and the targeted faults.
#[derive(Debug)]
pub struct Faults {
    agency: &'static str,
    context: Arc<Context>,
    state: Mutex<State_>,
}

/// The mark of an injected fault on a response, read by the journal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Injected(pub &'static str);

/// What the fault layer does to one request.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Plan {
    delay_ms: u64,
    failure: Option<Failure>,
}

impl Faults {
    /// No faults, for the mock of `agency`.
    pub fn new(context: Arc<Context>, agency: &'static str) -> Arc<Self> {
        Arc::new(Self {
            agency,
            context,
            state: Mutex::new(State_::default()),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State_> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The wire's profile.
    pub fn wire(&self) -> Wire {
        self.state().wire.clone()
    }

    /// Sets the wire's profile.
    pub fn set_wire(&self, wire: Wire) -> Result<(), MockError> {
        wire.check()?;
        self.state().wire = wire;
        Ok(())
    }

    /// Adds a "fail next" counter.
    pub fn fail_next(
        &self,
        count: u32,
        failure: Failure,
        path: Option<String>,
    ) -> Result<(), MockError> {
        if count == 0 || count > FAIL_NEXT_MAX {
            return Err(MockError::invalid(
                "count",
                format!("must be from 1 to {FAIL_NEXT_MAX}"),
            ));
        }
        if let Some(p) = &path {
            if !p.starts_with('/') || p.len() > 512 {
                return Err(MockError::invalid(
                    "path",
                    "must be a path starting with '/', at most 512 bytes",
                ));
            }
        }
        let mut s = self.state();
        if s.fail_next.len() >= TARGETED_MAX {
            return Err(MockError::StoreFull {
                store: "targeted faults",
            });
        }
        s.fail_next.push_back(FailNext {
            remaining: count,
            failure,
            path,
        });
        Ok(())
    }

    /// Makes answers about `key` (a SNILS's or a passport's number, as the mock keys them)
    /// disagree with the truth.
    pub fn add_mismatch(&self, key: u64) -> Result<(), MockError> {
        let mut s = self.state();
        if s.mismatches.len() >= TARGETED_MAX && !s.mismatches.contains(&key) {
            return Err(MockError::StoreFull {
                store: "targeted faults",
            });
        }
        s.mismatches.insert(key);
        Ok(())
    }

    /// Whether answers about `key` must disagree with the truth.
    pub fn mismatch(&self, key: u64) -> bool {
        let s = self.state();
        !s.mismatches.is_empty() && s.mismatches.contains(&key)
    }

    /// The targeted faults held.
    pub fn view(&self) -> FaultsView {
        let s = self.state();
        FaultsView {
            fail_next: s.fail_next.iter().cloned().collect(),
            mismatches: s.mismatches.len(),
        }
    }

    /// Forgets every targeted fault (the wire is left as it is).
    pub fn clear_targeted(&self) {
        let mut s = self.state();
        s.fail_next.clear();
        s.mismatches.clear();
    }

    /// Forgets every fault, the wire's included.
    pub fn clear(&self) {
        *self.state() = State_::default();
    }

    /// Decides what happens to a request to `path`: a "fail next" counter that matches is
    /// used first; otherwise the wire's rates are drawn.
    fn plan(&self, path: &str) -> Plan {
        let mut s = self.state();
        let delay_ms = if s.wire.response_delay == Latency::default() {
            0
        } else {
            let latency = s.wire.response_delay.clone();
            self.context.with_rng(|rng| latency.sample_ms(rng))
        };
        let position = s
            .fail_next
            .iter()
            .position(|f| f.path.as_deref().is_none_or(|p| path.starts_with(p)));
        if let Some(i) = position {
            let failure = s.fail_next[i].failure;
            s.fail_next[i].remaining -= 1;
            if s.fail_next[i].remaining == 0 {
                s.fail_next.remove(i);
            }
            return Plan {
                delay_ms,
                failure: Some(failure),
            };
        }
        let (reset, malformed) = (s.wire.reset_rate, s.wire.malformed_rate);
        let failure = if reset == 0.0 && malformed == 0.0 {
            None
        } else {
            self.context.with_rng(|rng| {
                if happens(rng, reset) {
                    Some(Failure::Reset)
                } else if happens(rng, malformed / (1.0 - reset).max(f64::MIN_POSITIVE)) {
                    Some(Failure::Malformed)
                } else {
                    None
                }
            })
        };
        Plan { delay_ms, failure }
    }
}

fn marked(mut response: Response, failure: Failure) -> Response {
    response.extensions_mut().insert(Injected(failure.as_str()));
    response
}

/// A response whose body breaks off: the client sees the connection cut before a complete
/// answer (hyper closes a connection whose body fails).
fn reset_response() -> Response {
    let stream = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "injected connection reset",
        ))
    });
    let mut response = Response::new(Body::from_stream(stream));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// `response` with its body cut to half (at most 16 bytes): not JSON any more.
async fn malformed(response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, super::BODY_LIMIT_BYTES)
        .await
        .unwrap_or_default();
    let cut = (bytes.len() / 2).clamp(1, 16).min(bytes.len().max(1));
    let broken = if bytes.is_empty() {
        Bytes::from_static(b"{")
    } else {
        bytes.slice(..cut)
    };
    let mut response = Response::from_parts(parts, Body::from(broken));
    response.headers_mut().remove(header::CONTENT_LENGTH);
    response
}

/// Applies `faults` to `req`, calling `route` (the route's service, ready) unless the request
/// fails before it (called inside [`super::journal::record_around`] by [`super::watch`]).
pub async fn apply<S>(faults: &Faults, req: Request, route: S) -> Response
where
    S: tower::Service<Request, Response = Response, Error = std::convert::Infallible>,
{
    let run = |req| async move {
        match tower::ServiceExt::oneshot(route, req).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    };
    if super::admin::is_admin_path(req.uri().path()) {
        return run(req).await;
    }
    let plan = faults.plan(req.uri().path());
    if plan.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(plan.delay_ms)).await;
    }
    let Some(failure) = plan.failure else {
        return run(req).await;
    };
    let agency = faults.agency;
    let response = match failure {
        Failure::Error => MockError::AgencyError { agency }.into_response(),
        Failure::Outage => MockError::Outage { agency }.into_response(),
        Failure::Timeout => {
            tokio::time::sleep(Duration::from_millis(faults.context.hang_ms)).await;
            MockError::Timeout { agency }.into_response()
        }
        Failure::Reset => reset_response(),
        Failure::Malformed => malformed(run(req).await).await,
    };
    marked(response, failure)
}

/// Reads the body of `POST .../admin/faults`: one fault or a list of them.
pub fn parse_faults(bytes: &[u8]) -> Result<Vec<Fault>, MockError> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        Many(Vec<Fault>),
        One(Fault),
    }
    let value: serde_json::Value = super::http::parse_json(bytes)?;
    if value.is_array() {
        serde_json::from_value::<Vec<Fault>>(value)
            .map_err(|e| bad_fault(e.to_string()))
            .and_then(|v| {
                if v.len() > 1_000 {
                    Err(MockError::invalid(
                        "faults",
                        "must hold at most 1,000 at once",
                    ))
                } else {
                    Ok(v)
                }
            })
    } else {
        match serde_json::from_value::<OneOrMany>(value.clone()) {
            Ok(OneOrMany::One(f)) => Ok(vec![f]),
            Ok(OneOrMany::Many(v)) => Ok(v),
            // Re-read as one fault for serde's precise message.
            Err(_) => serde_json::from_value::<Fault>(value)
                .map(|f| vec![f])
                .map_err(|e| bad_fault(e.to_string())),
        }
    }
}

fn bad_fault(message: String) -> MockError {
    MockError::Request(RequestError::WrongShape {
        field: Some("kind".into()),
        message: format!(
            "{message} (a fault is {{\"kind\": \"fail_next\" | \"mismatch\" | \"lose_letter\" | \"outage\", ...}})"
        ),
    })
}

/// The status an injected failure answers, for documentation and tests.
pub fn status_of(failure: Failure) -> Option<StatusCode> {
    match failure {
        Failure::Error | Failure::Outage => Some(StatusCode::SERVICE_UNAVAILABLE),
        Failure::Timeout => Some(StatusCode::GATEWAY_TIMEOUT),
        Failure::Reset | Failure::Malformed => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agency::duration::DurationMs;
    use crate::clock::{Epoch, SimTime};
    use crate::service::{MocksConfig, World};

    fn faults() -> Arc<Faults> {
        let world = World::new(Epoch::default(), SimTime::ZERO, 1.0).unwrap();
        Faults::new(Context::new(world, &MocksConfig::default()), "sms")
    }

    #[test]
    fn fail_next_counts_down_and_matches_paths() {
        let f = faults();
        f.fail_next(2, Failure::Timeout, Some("/mocks/sms/messages".into()))
            .unwrap();
        assert_eq!(f.plan("/mocks/sms/inbox/7").failure, None);
        assert_eq!(
            f.plan("/mocks/sms/messages").failure,
            Some(Failure::Timeout)
        );
        assert_eq!(f.view().fail_next[0].remaining, 1);
        assert_eq!(
            f.plan("/mocks/sms/messages").failure,
            Some(Failure::Timeout)
        );
        assert_eq!(f.plan("/mocks/sms/messages").failure, None);
        assert!(f.view().fail_next.is_empty());
        assert!(f.fail_next(0, Failure::Error, None).is_err());
        assert!(f.fail_next(1, Failure::Error, Some("x".into())).is_err());
    }

    #[test]
    fn wire_rates_are_drawn() {
        let f = faults();
        f.set_wire(Wire {
            reset_rate: 1.0,
            ..Wire::default()
        })
        .unwrap();
        assert_eq!(f.plan("/a").failure, Some(Failure::Reset));
        f.set_wire(Wire {
            malformed_rate: 1.0,
            ..Wire::default()
        })
        .unwrap();
        assert_eq!(f.plan("/a").failure, Some(Failure::Malformed));
        assert!(f
            .set_wire(Wire {
                reset_rate: 0.7,
                malformed_rate: 0.7,
                ..Wire::default()
            })
            .is_err());
        f.clear();
        assert_eq!(f.plan("/a").failure, None);
    }

    #[test]
    fn faults_read_as_data() {
        let v = parse_faults(br#"{"kind": "fail_next", "count": 3}"#).unwrap();
        assert_eq!(
            v,
            [Fault::FailNext {
                count: 3,
                failure: Failure::Error,
                path: None
            }]
        );
        let v = parse_faults(
            br#"[{"kind": "mismatch", "snils": "112-233-445 95"}, {"kind": "outage", "duration": "2h"}]"#,
        )
        .unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(
            v[1],
            Fault::Outage {
                duration: DurationMs(2 * 3_600_000)
            }
        );
        let e = parse_faults(br#"{"kind": "explode"}"#).unwrap_err();
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(e.to_string().contains("explode"), "{e}");
    }
}
