//! The bodies SMEV 3's asynchronous checks share, for PFR and FMS (`/mocks/pfr/...`,
//! `/mocks/fms/...`): the state of a request (`POST .../requests`, `GET .../requests/{id}`, the
//! callback), its 429, `POST .../requests/{id}/complete` and `POST .../admin/records` (also the
//! CA's answer). The requests themselves are in [`super::pfr`] and [`super::fms`].

use crate::wire::Timestamp;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// SMEV 3's statuses of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum SmevStatus {
    RequestIsQueued,
    UnderProcessing,
    ResponseIsDelivered,
    RequestIsRejectedBySmev,
}

/// Why SMEV rejected a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Rejection {
    AccessDenied,
    NoData,
    /// The agency's quota or queue is full (its `capacity`): send again later.
    QuoteLimitExceeded,
}

/// A request as polling shows it, and the body of a callback.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequestView<V> {
    pub request_id: String,
    /// `pfr` or `fms`.
    pub agency: String,
    pub status: SmevStatus,
    /// Present once `status` is `responseIsDelivered`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<V>,
    /// Present when `status` is `requestIsRejectedBySmev`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection: Option<Rejection>,
    pub accepted_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_at: Option<Timestamp>,
}

/// [`RequestView`] as the document states it, for PFR and FMS alike.
#[derive(utoipa::ToSchema)]
#[schema(as = SmevRequest)]
#[allow(dead_code)]
pub struct RequestViewSchema {
    request_id: String,
    /// `pfr` or `fms`.
    agency: String,
    status: SmevStatus,
    /// PFR: `match`, `mismatch`, `not_found`; FMS: `valid`, `invalid`, `mismatch`,
    /// `not_found`. Present once `status` is `responseIsDelivered`.
    result: Option<String>,
    /// Present when `status` is `requestIsRejectedBySmev`.
    rejection: Option<Rejection>,
    accepted_at: Timestamp,
    answered_at: Option<Timestamp>,
}

/// The 429 of an agency at its capacity, as SMEV says it.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SmevRejection {
    request_id: String,
    agency: String,
    status: SmevStatus,
    rejection: Rejection,
    error: crate::wire::ErrorDetail,
}

/// [`Complete`] for PFR, as the document states it.
#[derive(utoipa::ToSchema)]
#[schema(as = PfrComplete)]
#[allow(dead_code)]
pub struct PfrCompleteSchema {
    result: Option<crate::agency::pfr::PfrVerdict>,
    rejection: Option<Rejection>,
}

/// [`Complete`] for FMS, as the document states it.
#[derive(utoipa::ToSchema)]
#[schema(as = FmsComplete)]
#[allow(dead_code)]
pub struct FmsCompleteSchema {
    result: Option<crate::agency::fms::FmsVerdict>,
    rejection: Option<Rejection>,
}

/// [`Records`] of PFR, as the document states it.
#[derive(utoipa::ToSchema)]
#[schema(as = PfrRecords)]
#[allow(dead_code)]
pub struct PfrRecordsSchema {
    records: Vec<crate::agency::pfr::PfrRecord>,
}

/// [`Records`] of FMS, as the document states it.
#[derive(utoipa::ToSchema)]
#[schema(as = FmsRecords)]
#[allow(dead_code)]
pub struct FmsRecordsSchema {
    records: Vec<crate::agency::fms::FmsRecord>,
}

/// `POST .../requests/{id}/complete`: answer now, optionally with another result or a rejection.
#[derive(Debug, Default, Deserialize)]
#[serde(bound = "V: DeserializeOwned")]
pub struct Complete<V> {
    #[serde(default)]
    pub result: Option<V>,
    #[serde(default)]
    pub rejection: Option<Rejection>,
}

/// `POST .../admin/records`.
#[derive(Debug, Deserialize)]
#[serde(bound = "R: DeserializeOwned")]
pub struct Records<R> {
    pub records: Vec<R>,
}

/// The answer of `POST .../admin/records`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecordsAdded {
    pub added: usize,
    /// Records added through the admin API, in all.
    pub held: usize,
}
