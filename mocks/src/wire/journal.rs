//! A mock's journal as its admin route shows it: `GET /mocks/<agency>/admin/journal` (its
//! query and its answer).

use crate::wire::Timestamp;
use serde::{Deserialize, Serialize};

/// One request as the journal keeps it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Entry {
    /// Sequence number since the start (or the last reset).
    pub seq: u64,
    /// Sim time of arrival, RFC 3339.
    pub at: Timestamp,
    /// Sim time of arrival, milliseconds since the epoch.
    pub at_ms: u64,
    pub method: String,
    pub path: String,
    /// The body as JSON when it was JSON (any JSON value), else as text; absent when empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
    /// The HTTP status answered.
    pub status: u16,
    /// The fault injected into this answer (`error`, `outage`, `timeout`, `reset`,
    /// `malformed`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<super::faults::Failure>)]
    pub fault: Option<&'static str>,
    /// The agency's capacity refused it (or `count` messages of its batch): `reason` is
    /// `queue_full` or `quota`, as `esia_mock_refused_total` counts them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<RefusedView>,
}

/// A refusal by the agency's capacity, as the journal shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RefusedView {
    /// `queue_full` or `quota`.
    #[schema(value_type = String)]
    pub reason: &'static str,
    pub count: u32,
}

/// Query of the journal routes: `?path=P&since=T&until=T&limit=N`. `path` keeps entries whose
/// path starts with P; `since` and `until` (RFC 3339 or milliseconds since the epoch, sim time)
/// keep entries that arrived in `[since, until]`; `limit` (default 100) keeps the newest N.
#[derive(Debug, Default, Deserialize)]
pub struct JournalQuery {
    #[serde(default)]
    pub limit: Option<usize>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub since: Option<String>,
    #[serde(default)]
    pub until: Option<String>,
}

/// The journal as the admin API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Journal)]
pub struct JournalView {
    pub entries: Vec<Entry>,
}
