//! The mocks' errors: one enum, each variant with its HTTP status, `code` and field, mapped to
//! the contract's error body in one place ([`MockError::into_response`]).

use super::http::{error_detail_response, RequestError};
use super::station::Refused;
use crate::agency::capacity::Refusal;
use crate::wire::{ErrorDetail, Timestamp};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Every way a mock refuses a request.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MockError {
    /// The request itself is malformed (body, path, route, method).
    #[error(transparent)]
    Request(#[from] RequestError),
    /// A field breaks a rule (422).
    #[error("{field} {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// The thing named does not exist (404).
    #[error("{what} not found")]
    NotFound { what: &'static str },
    /// A store is at its cap (503): the mock is full, not the request wrong.
    #[error("the {store} store is full; try again later or reset the mock")]
    StoreFull { store: &'static str },
    /// The agency's profile drew an error answer for this request (503, as a real agency's
    /// transient failure).
    #[error("the {agency} service failed to process the request; retry")]
    AgencyError { agency: &'static str },
    /// The agency is in an outage window of its profile (503).
    #[error("the {agency} service is down")]
    Outage { agency: &'static str },
    /// The agency's profile drew no answer; after holding the request this long the mock gives
    /// up (504). A client's own timeout normally fires first.
    #[error("the {agency} service did not answer")]
    Timeout { agency: &'static str },
    /// A bank or service-center mock started without the engine's URL (503).
    #[error("this mock was started without the engine's URL (--engine-url)")]
    NoEngine,
    /// The engine could not be reached or did not answer in time (502).
    #[error("the engine did not answer: {message}")]
    EngineUnreachable { message: String },
    /// The SNILS is not a client of this bank (404).
    #[error("the SNILS is not a client of {bank}")]
    NotAClient { bank: &'static str },
    /// The letter is still on its way (409).
    #[error("the letter has not arrived at the post office yet")]
    NotArrived,
    /// The letter was lost on the way; order a new one (404).
    #[error("the letter was lost; order a new one")]
    LetterLost,
    /// The passport shown is not the letter's recipient's (403).
    #[error("the passport is not the recipient's")]
    WrongPassport,
    /// The service center is closed at this hour (409); `opens_at` is when it opens next.
    #[error("the service center is closed{}", opens_at.as_ref().map(|t| format!("; it opens at {t}")).unwrap_or_default())]
    Closed { opens_at: Option<Timestamp> },
    /// The service center has no slot (429, `Retry-After`): come back later. `refused` is the
    /// station's reason when the centers' capacity turned the visitor away (none: the
    /// profile's `refusal_rate` drew it).
    #[error("no slot: the queue is too long; come back later")]
    Queue {
        retry_after_s: u64,
        refused: Option<Refusal>,
    },
    /// The agency is at its capacity (429, `Retry-After`, code `queue_full` or `quota`): every
    /// server busy and the queue full, or the quota of requests a second spent. `count`
    /// requests (messages of a batch) refused.
    #[error("{}", busy_message(agency, *reason))]
    Busy {
        agency: &'static str,
        reason: Refusal,
        retry_after_s: u64,
        count: u32,
    },
    /// This kind of service center cannot register accounts (422, field `register`).
    #[error("only an MFC registers accounts; this center is a {kind}")]
    CannotRegister { kind: &'static str },
}

impl MockError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            MockError::Request(e) => e.status(),
            MockError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            MockError::NotFound { .. } => StatusCode::NOT_FOUND,
            MockError::StoreFull { .. }
            | MockError::AgencyError { .. }
            | MockError::Outage { .. } => StatusCode::SERVICE_UNAVAILABLE,
            MockError::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            MockError::NoEngine => StatusCode::SERVICE_UNAVAILABLE,
            MockError::EngineUnreachable { .. } => StatusCode::BAD_GATEWAY,
            MockError::NotAClient { .. } | MockError::LetterLost => StatusCode::NOT_FOUND,
            MockError::NotArrived | MockError::Closed { .. } => StatusCode::CONFLICT,
            MockError::WrongPassport => StatusCode::FORBIDDEN,
            MockError::Queue { .. } | MockError::Busy { .. } => StatusCode::TOO_MANY_REQUESTS,
            MockError::CannotRegister { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    /// The stable `code`.
    pub fn code(&self) -> &'static str {
        match self {
            MockError::Request(e) => e.code(),
            MockError::Invalid { .. } => "invalid",
            MockError::NotFound { .. } => "not_found",
            MockError::StoreFull { .. } => "store_full",
            MockError::AgencyError { .. } => "agency_error",
            MockError::Outage { .. } => "outage",
            MockError::Timeout { .. } => "timeout",
            MockError::NoEngine => "no_engine",
            MockError::EngineUnreachable { .. } => "engine_unreachable",
            MockError::NotAClient { .. } => "not_a_client",
            MockError::NotArrived => "not_arrived",
            MockError::LetterLost => "letter_lost",
            MockError::WrongPassport => "wrong_passport",
            MockError::Closed { .. } => "closed",
            MockError::Queue { .. } => "queue",
            MockError::Busy { reason, .. } => reason.as_str(),
            MockError::CannotRegister { .. } => "cannot_register",
        }
    }

    /// The field at fault.
    pub fn field(&self) -> Option<&str> {
        match self {
            MockError::Request(e) => e.field(),
            MockError::Invalid { field, .. } => Some(field),
            MockError::WrongPassport => Some("passport_number"),
            MockError::CannotRegister { .. } => Some("register"),
            _ => None,
        }
    }

    /// An `Invalid` error.
    pub fn invalid(field: &'static str, message: impl ToString) -> Self {
        MockError::Invalid {
            field,
            message: message.to_string(),
        }
    }
}

impl IntoResponse for MockError {
    fn into_response(self) -> Response {
        let mut detail = ErrorDetail::new(self.code(), self.to_string());
        detail.field = self.field().map(str::to_owned);
        // A client moves the clock to the opening: say when it is, as data.
        if let MockError::Closed {
            opens_at: Some(at), ..
        } = &self
        {
            detail.opens_at = Some(at.clone());
        }
        let (retry_after_s, refused) = match &self {
            MockError::Queue {
                retry_after_s,
                refused,
            } => (
                Some(*retry_after_s),
                refused.map(|reason| Refused { reason, count: 1 }),
            ),
            MockError::Busy {
                reason,
                retry_after_s,
                count,
                ..
            } => (
                Some(*retry_after_s),
                Some(Refused {
                    reason: *reason,
                    count: *count,
                }),
            ),
            _ => (None, None),
        };
        // When to ask again, as a header and as data.
        detail.retry_after_s = retry_after_s;
        let mut response = error_detail_response(self.status(), detail);
        if let Some(s) = retry_after_s {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(s),
            );
        }
        if let Some(r) = refused {
            response.extensions_mut().insert(r);
        }
        response
    }
}

fn busy_message(agency: &str, reason: Refusal) -> String {
    match reason {
        Refusal::QueueFull => {
            format!("the {agency} service is at capacity: every server is busy and the queue is full; retry later")
        }
        Refusal::Quota => {
            format!("the {agency} service's quota of requests a second is spent; retry later")
        }
    }
}
