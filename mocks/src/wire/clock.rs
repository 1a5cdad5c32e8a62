//! The world's clock as its admin routes show and take it: `GET /mocks/admin/clock` and
//! `POST /mocks/admin/clock/advance`.

use crate::clock::Epoch;
use crate::wire::Timestamp;
use serde::{Deserialize, Serialize};

/// The clock as `GET /mocks/admin/clock` shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = Clock)]
pub struct ClockView {
    /// Sim time now, RFC 3339 UTC.
    pub now: Timestamp,
    /// Sim time now, milliseconds since the epoch.
    pub now_ms: u64,
    /// Sim milliseconds per wall millisecond.
    pub scale: f64,
    /// The calendar date of sim time 0.
    #[schema(value_type = chrono::NaiveDate)]
    pub epoch: Epoch,
    /// Milliseconds added by advances so far.
    pub advanced_ms: u64,
}

/// `POST /mocks/admin/clock/advance`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = Advance)]
pub struct AdvanceBody {
    /// Seconds to move the world forward (fractions allowed, at most ten years).
    #[schema(minimum = 0, maximum = 316224000)]
    pub(crate) seconds: f64,
}
