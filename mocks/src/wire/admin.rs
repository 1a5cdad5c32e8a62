//! The admin routes every mock shares, under `/mocks/<agency>/admin/`: a mock's profile as
//! `GET` and `PUT .../profile` show and take it, and the answer of `POST .../faults` (the faults
//! themselves are in [`super::faults`], the journal in [`super::journal`]).

use crate::wire::faults::FaultsView;
use serde::{Deserialize, Serialize};

/// The answer of `POST .../admin/faults`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FaultsAdded {
    pub applied: usize,
    pub faults: FaultsView,
}

/// A duration as a profile writes it: `"250ms"`, `"2h"`, `"3d"` (humantime), or milliseconds.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
#[schema(as = Duration, example = "10m", value_type = Value)]
pub struct DurationSchema(serde_json::Value);

/// A delay distribution (`kind` and the keys of that kind: fixed `value`; uniform `min`,
/// `max`; lognormal `median`, `p99`; exponential `mean`; empirical `points` as
/// `[[quantile, duration], ...]`; mixture `parts` as `[{weight, latency}]`; `min` and `max`
/// clamp the others). A key another kind takes, or one its kind needs missing, is 422.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
#[schema(as = Latency)]
pub struct LatencySchema {
    #[schema(value_type = String, pattern = "^(?:fixed|uniform|lognormal|exponential|empirical|mixture)$")]
    kind: String,
    value: Option<DurationSchema>,
    median: Option<DurationSchema>,
    p99: Option<DurationSchema>,
    mean: Option<DurationSchema>,
    #[schema(value_type = Option<Vec<Vec<Value>>>)]
    points: Option<Vec<Vec<serde_json::Value>>>,
    #[schema(value_type = Option<Vec<Value>>)]
    parts: Option<Vec<serde_json::Value>>,
    min: Option<DurationSchema>,
    max: Option<DurationSchema>,
}

/// An agency's capacity: servers, a queue beyond them, a quota a second.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
#[schema(as = Capacity)]
pub struct CapacitySchema {
    /// Requests served at once.
    #[schema(minimum = 1)]
    servers: u32,
    /// Requests that may wait beyond the servers (absent: unbounded; 0: none).
    queue: Option<u32>,
    /// Requests accepted a second (absent: no quota).
    #[schema(exclusive_minimum = 0)]
    rate: Option<f64>,
}

/// An outage window, from and to as durations since the epoch.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
#[schema(as = Outage)]
pub struct OutageSchema {
    from: DurationSchema,
    to: DurationSchema,
}

/// A mock's profile as `GET`/`PUT .../admin/profile` show and take it: the agency's keys
/// (those of a scenario's `[agencies]` table: latency, error_rate, timeout_rate, outages,
/// speedup, capacity and its own: loss_rate, spam_rate, refusal_rate, visit_delay; for the
/// banks one table per bank; for the centers opening_hours) and the wire's: response_delay,
/// reset_rate, malformed_rate. With a capacity, latency is the service time at a server;
/// `"capacity": null` removes it. The agency's own keys and the rules between keys (the rates
/// of one agency summing to at most 1) are checked by the agency: 422 naming the key.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
#[schema(as = Profile)]
pub struct ProfileSchema {
    #[schema(minimum = 0, maximum = 1)]
    error_rate: Option<f64>,
    #[schema(minimum = 0, maximum = 1)]
    timeout_rate: Option<f64>,
    #[schema(minimum = 0, maximum = 1)]
    reset_rate: Option<f64>,
    #[schema(minimum = 0, maximum = 1)]
    malformed_rate: Option<f64>,
    latency: Option<LatencySchema>,
    response_delay: Option<LatencySchema>,
    #[schema(nullable = true)]
    capacity: Option<CapacitySchema>,
    outages: Option<Vec<OutageSchema>>,
}
