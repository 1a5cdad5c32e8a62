//! Targeted faults as the admin routes take and show them: `POST /mocks/<agency>/admin/faults`
//! (one [`Fault`] or a list), its answer ([`super::admin::FaultsAdded`]) and
//! `GET /mocks/<agency>/admin/faults`.

use crate::agency::duration::DurationMs;
use serde::{Deserialize, Serialize};

/// How a request fails, for a "fail next" fault. Wire names: `error` (503 `agency_error`),
/// `outage` (503 `outage`), `timeout` (held, then 504), `reset` (the connection is cut),
/// `malformed` (processed, but the body is cut short).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Failure {
    #[default]
    Error,
    Outage,
    Timeout,
    Reset,
    Malformed,
}

impl Failure {
    /// The wire name, as the journal shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            Failure::Error => "error",
            Failure::Outage => "outage",
            Failure::Timeout => "timeout",
            Failure::Reset => "reset",
            Failure::Malformed => "malformed",
        }
    }
}

/// A passport named by a fault.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PassportRef {
    #[schema(value_type = crate::wire::SeriesDigits)]
    pub series: String,
    #[schema(value_type = crate::wire::NumberDigits)]
    pub number: String,
}

/// A targeted fault (`POST /mocks/<agency>/admin/faults`), tagged by `kind`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// The next `count` requests (to paths starting with `path`, when given) fail as `failure`
    /// says (default `error`).
    FailNext {
        count: u32,
        #[serde(default)]
        failure: Failure,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        path: Option<String>,
    },
    /// Every answer about this person disagrees with the truth from now on: PFR answers
    /// `mismatch` for the SNILS, FMS `mismatch` for the passport, the CA shows the person's
    /// certificates as someone else's, a bank sends a wrong birth date, a service center's
    /// operator mistypes the passport number.
    Mismatch {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        snils: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        passport: Option<PassportRef>,
    },
    /// The post loses this letter now (its pickup answers 404 `letter_lost`).
    LoseLetter { tracking_number: String },
    /// The agency is down from now for `duration` (a window added to the profile's
    /// `outages`).
    Outage {
        /// `"2h"` (humantime) or milliseconds.
        #[schema(value_type = Value, example = "2h")]
        duration: DurationMs,
    },
}

/// One "fail next" counter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FailNext {
    pub remaining: u32,
    pub failure: Failure,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// The targeted faults a mock holds, as `GET /mocks/<agency>/admin/faults` shows them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FaultsView {
    pub fail_next: Vec<FailNext>,
    /// How many people answers disagree about.
    pub mismatches: usize,
}
