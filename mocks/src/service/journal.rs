//! A mock's journal: the last requests it received (method, path, body, answer, injected
//! fault), a bounded ring buffer, so an integrator can see what their code sent
//! (`GET /mocks/<agency>/admin/journal?path=P&since=T&until=T&limit=N`).
//!
//! Recording is on every request's path, so it keeps the raw parts (the body's bytes, the sim
//! time in milliseconds) and does the work of showing them (parsing the body as JSON, writing
//! the time as RFC 3339) only when the journal is read.

use super::error::MockError;
use super::faults::Injected;
use super::http::{error_response, BODY_LIMIT_BYTES};
use super::station::Refused;
use super::world::World;
use crate::clock::SimTime;
use crate::wire::journal::{Entry, JournalQuery, RefusedView};
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::Method;
use axum::http::StatusCode;
use axum::response::Response;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// Entries a journal keeps by default; older ones fall off.
pub const JOURNAL_ENTRIES_DEFAULT: usize = 1_000;
/// The longest body kept in an entry, in bytes; a longer one is cut.
pub const JOURNAL_BODY_MAX_BYTES: usize = 2_048;

/// One request as recorded, before it is shown.
#[derive(Clone, Debug)]
struct Record {
    seq: u64,
    at_ms: u64,
    method: Method,
    path: Box<str>,
    /// At most [`JOURNAL_BODY_MAX_BYTES`].
    body: Bytes,
    status: u16,
    fault: Option<&'static str>,
    refused: Option<Refused>,
}

/// A bounded journal of requests.
#[derive(Debug)]
pub struct Journal {
    entries: Mutex<(u64, VecDeque<Record>)>,
    capacity: usize,
    world: Arc<World>,
}

impl Journal {
    /// An empty journal keeping the last `capacity` entries.
    pub fn new(world: Arc<World>, capacity: usize) -> Arc<Self> {
        Arc::new(Self {
            entries: Mutex::new((0, VecDeque::with_capacity(capacity.min(1024)))),
            capacity: capacity.max(1),
            world,
        })
    }

    fn push(&self, mut record: Record) {
        let mut guard = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let (seq, entries) = &mut *guard;
        *seq += 1;
        record.seq = *seq;
        if entries.len() == self.capacity {
            entries.pop_front();
        }
        entries.push_back(record);
    }

    fn show(&self, r: &Record) -> Entry {
        Entry {
            seq: r.seq,
            at: self.world.timestamp(SimTime::from_millis(r.at_ms)),
            at_ms: r.at_ms,
            method: r.method.to_string(),
            path: r.path.to_string(),
            body: body_value(&r.body),
            status: r.status,
            fault: r.fault,
            refused: r.refused.map(|r| RefusedView {
                reason: r.reason.as_str(),
                count: r.count,
            }),
        }
    }

    /// The last `limit` entries, oldest first.
    pub fn last(&self, limit: usize) -> Vec<Entry> {
        self.select(&Filter {
            limit,
            ..Filter::default()
        })
    }

    /// The last `filter.limit` entries that pass `filter`, oldest first.
    pub fn select(&self, filter: &Filter) -> Vec<Entry> {
        let guard = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let mut picked: Vec<Record> = guard
            .1
            .iter()
            .rev()
            .filter(|r| filter.passes(r))
            .take(filter.limit)
            .cloned()
            .collect();
        drop(guard);
        picked.reverse();
        picked.iter().map(|r| self.show(r)).collect()
    }

    /// The world whose clock stamps the entries.
    pub fn world(&self) -> &World {
        &self.world
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .len()
    }

    /// True when no entry is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every entry.
    pub fn clear(&self) {
        let mut guard = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        *guard = (0, VecDeque::new());
    }
}

fn body_value(bytes: &[u8]) -> Option<serde_json::Value> {
    if bytes.is_empty() {
        return None;
    }
    if bytes.len() <= JOURNAL_BODY_MAX_BYTES {
        if let Ok(v) = serde_json::from_slice(bytes) {
            return Some(v);
        }
    }
    let cut = &bytes[..bytes.len().min(JOURNAL_BODY_MAX_BYTES)];
    Some(serde_json::Value::String(
        String::from_utf8_lossy(cut).into_owned(),
    ))
}

/// Records `req` and the answer `inner` gives it (admin requests pass unrecorded).
pub async fn record_around<F, Fut>(journal: &Journal, req: Request, inner: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    if super::admin::is_admin_api(req.uri().path()) {
        return inner(req).await;
    }
    let at_ms = journal.world.now().as_millis();
    let (parts, body) = req.into_parts();
    let method = parts.method.clone();
    let path: Box<str> = parts.uri.path().into();
    let bytes = match axum::body::to_bytes(body, BODY_LIMIT_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            let response = error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                &format!("the body is larger than {BODY_LIMIT_BYTES} bytes"),
                None,
            );
            journal.push(Record {
                seq: 0,
                at_ms,
                method,
                path,
                body: Bytes::new(),
                status: 413,
                fault: None,
                refused: None,
            });
            return response;
        }
    };
    // A copy, cut: a slice of the request's bytes could keep hyper's whole read buffer alive.
    let kept = Bytes::copy_from_slice(&bytes[..bytes.len().min(JOURNAL_BODY_MAX_BYTES)]);
    let response = inner(Request::from_parts(parts, Body::from(bytes))).await;
    journal.push(Record {
        seq: 0,
        at_ms,
        method,
        path,
        body: kept,
        status: response.status().as_u16(),
        fault: response.extensions().get::<Injected>().map(|i| i.0),
        refused: response.extensions().get::<Refused>().copied(),
    });
    response
}

/// Entries shown by default.
pub const JOURNAL_LIMIT_DEFAULT: usize = 100;

/// A resolved journal query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    pub limit: usize,
    pub path: Option<String>,
    pub since: Option<SimTime>,
    pub until: Option<SimTime>,
}

impl Default for Filter {
    fn default() -> Self {
        Self {
            limit: JOURNAL_LIMIT_DEFAULT,
            path: None,
            since: None,
            until: None,
        }
    }
}

impl Filter {
    fn passes(&self, r: &Record) -> bool {
        self.path.as_deref().is_none_or(|p| r.path.starts_with(p))
            && self.since.is_none_or(|t| r.at_ms >= t.as_millis())
            && self.until.is_none_or(|t| r.at_ms <= t.as_millis())
    }
}

impl JournalQuery {
    /// The filter this query asks for; times read on `world`'s calendar.
    pub fn resolve(&self, world: &World) -> Result<Filter, MockError> {
        let time =
            |field: &'static str, text: &Option<String>| -> Result<Option<SimTime>, MockError> {
                let Some(text) = text else { return Ok(None) };
                if let Ok(ms) = text.parse::<u64>() {
                    return Ok(Some(SimTime::from_millis(ms)));
                }
                world.epoch().parse_rfc3339(text).map(Some).map_err(|_| {
                    MockError::invalid(field, "must be RFC 3339 or milliseconds since the epoch")
                })
            };
        Ok(Filter {
            limit: self.limit.unwrap_or(JOURNAL_LIMIT_DEFAULT),
            path: self.path.clone(),
            since: time("since", &self.since)?,
            until: time("until", &self.until)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Epoch, SimTime};

    #[test]
    fn a_journal_keeps_only_the_last_entries() {
        let world = World::new(Epoch::default(), SimTime::ZERO, 1.0).unwrap();
        let j = Journal::new(world.clone(), 3);
        for i in 0..5 {
            j.push(Record {
                seq: 0,
                at_ms: i * 10,
                method: Method::POST,
                path: format!("/p/{i}").into(),
                body: Bytes::from_static(br#"{"a": 1}"#),
                status: 202,
                fault: None,
                refused: None,
            });
        }
        let last = j.last(10);
        assert_eq!(last.len(), 3);
        assert_eq!(last[0].path, "/p/2");
        assert_eq!(last[2].seq, 5);
        assert_eq!(last[2].body, Some(serde_json::json!({ "a": 1 })));
        assert!(
            last[2].at.starts_with("2026-01-01T00:00:00.04"),
            "{}",
            last[2].at
        );
        assert_eq!(j.last(1)[0].path, "/p/4");
        let f = Filter {
            since: Some(SimTime::from_millis(25)),
            until: Some(SimTime::from_millis(30)),
            ..Filter::default()
        };
        assert_eq!(j.select(&f).len(), 1);
        let f = Filter {
            path: Some("/p/4".into()),
            ..Filter::default()
        };
        assert_eq!(j.select(&f)[0].seq, 5);
        let q = JournalQuery {
            since: Some("2026-01-01T00:00:01Z".into()),
            ..JournalQuery::default()
        };
        assert_eq!(
            q.resolve(&world).unwrap().since,
            Some(SimTime::from_millis(1_000))
        );
        let q = JournalQuery {
            until: Some("yesterday".into()),
            ..JournalQuery::default()
        };
        assert!(q.resolve(&world).is_err());
        j.clear();
        assert!(j.last(10).is_empty());
    }
}
