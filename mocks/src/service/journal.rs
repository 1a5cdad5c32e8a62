//! A mock's journal: the last requests it received (method, path, body, answer), a bounded ring
//! buffer, so an integrator can see what their code sent (`GET /mocks/<agency>/admin/journal`).

use super::http::{error_response, BODY_LIMIT_BYTES};
use super::world::World;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// Entries a journal keeps by default; older ones fall off.
pub const JOURNAL_ENTRIES_DEFAULT: usize = 1_000;
/// The longest body kept in an entry, in bytes; a longer one is cut.
pub const JOURNAL_BODY_MAX_BYTES: usize = 2_048;

/// One request as the journal keeps it.
#[derive(Clone, Debug, Serialize)]
pub struct Entry {
    /// Sequence number since the start (or the last reset).
    pub seq: u64,
    /// Sim time of arrival, RFC 3339.
    pub at: String,
    pub method: String,
    pub path: String,
    /// The body as JSON when it was JSON, else as text; absent when empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
    /// The HTTP status answered.
    pub status: u16,
}

/// A bounded journal of requests.
#[derive(Debug)]
pub struct Journal {
    entries: Mutex<(u64, VecDeque<Entry>)>,
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

    fn push(&self, mut entry: Entry) {
        let mut guard = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let (seq, entries) = &mut *guard;
        *seq += 1;
        entry.seq = *seq;
        if entries.len() == self.capacity {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    /// The last `limit` entries, oldest first.
    pub fn last(&self, limit: usize) -> Vec<Entry> {
        let guard = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let skip = guard.1.len().saturating_sub(limit);
        guard.1.iter().skip(skip).cloned().collect()
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

/// Middleware recording each request in the journal (admin requests excepted).
pub async fn record(State(journal): State<Arc<Journal>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if path.contains("/admin/") {
        return next.run(req).await;
    }
    let method = req.method().to_string();
    let at = journal.world.rfc3339(journal.world.now());
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, BODY_LIMIT_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            let response = error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                &format!("the body is larger than {BODY_LIMIT_BYTES} bytes"),
                None,
            );
            journal.push(Entry {
                seq: 0,
                at,
                method,
                path,
                body: None,
                status: 413,
            });
            return response;
        }
    };
    let body = body_value(&bytes);
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    journal.push(Entry {
        seq: 0,
        at,
        method,
        path,
        body,
        status: response.status().as_u16(),
    });
    response
}

/// Query of the journal routes: `?limit=N` (default 100).
#[derive(Debug, Deserialize)]
pub struct JournalQuery {
    #[serde(default = "default_limit")]
    pub limit: usize,
}

fn default_limit() -> usize {
    100
}

/// The journal as the admin API shows it.
#[derive(Debug, Serialize)]
pub struct JournalView {
    pub entries: Vec<Entry>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Epoch, SimTime};

    #[test]
    fn a_journal_keeps_only_the_last_entries() {
        let world = World::new(Epoch::default(), SimTime::ZERO, 1.0).unwrap();
        let j = Journal::new(world, 3);
        for i in 0..5 {
            j.push(Entry {
                seq: 0,
                at: String::new(),
                method: "POST".into(),
                path: format!("/p/{i}"),
                body: None,
                status: 202,
            });
        }
        let last = j.last(10);
        assert_eq!(last.len(), 3);
        assert_eq!(last[0].path, "/p/2");
        assert_eq!(last[2].seq, 5);
        assert_eq!(j.last(1)[0].path, "/p/4");
        j.clear();
        assert!(j.last(10).is_empty());
    }
}
