//! The mocks' errors: one enum, each variant with its HTTP status, `code` and field, mapped to
//! the contract's error body in one place ([`MockError::into_response`]).

use super::http::{error_response, RequestError};
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
        }
    }

    /// The field at fault.
    pub fn field(&self) -> Option<&str> {
        match self {
            MockError::Request(e) => e.field(),
            MockError::Invalid { field, .. } => Some(field),
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
        error_response(self.status(), self.code(), &self.to_string(), self.field())
    }
}
