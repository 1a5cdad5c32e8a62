//! The errors of the engine's HTTP API, and their one mapping to HTTP: status, `code`, `field`
//! and the extras a client acts on (`attempts_left` of a wrong code, `retry_after_ms` and the
//! `Retry-After` header of a refused resend or a full store).

use crate::registry::registry::PartnerRefusal;
use crate::registry::RegistryError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use esia_mocks::agency::ca::CaVerdict;
use esia_mocks::service::http::error_detail_response;
use esia_mocks::service::RequestError;
use esia_mocks::wire::ErrorDetail;

/// Every way the engine's API refuses a request.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StandError {
    /// A domain rule of the registry.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A malformed request (body, path, query, route, method).
    #[error(transparent)]
    Request(#[from] RequestError),
    /// No `Authorization: Bearer` header where one is needed (401).
    #[error("this route needs an `Authorization: Bearer` {what}")]
    TokenMissing { what: &'static str },
    /// An operator or partner token that is not the stand's (403).
    #[error("the {what} is not valid")]
    TokenWrong { what: &'static str },
    /// The effects queue is full: the stand is overloaded (503).
    #[error("the stand is busy ({what} full); try again shortly")]
    Busy { what: &'static str },
    /// A partner's confirmation was refused once PFR and FMS answered.
    #[error("the confirmation is refused: {0:?}")]
    PartnerRefused(PartnerRefusal),
    /// The CA's record refuses the certificate (422, field `certificate`, with `verdict`).
    #[error("the certificate is refused: {0:?}")]
    CertificateRefused(CaVerdict),
    /// An agency the request needs could not be reached after every retry (503).
    #[error("the {agency} service is unavailable: {message}")]
    AgencyUnavailable {
        agency: &'static str,
        message: String,
    },
    /// Too many wrong passwords for this account: every login waits until the lockout ends,
    /// the right password included (429, `Retry-After`).
    #[error("too many wrong passwords for this login; try again after the lockout")]
    LoginLocked { retry_after_ms: u64 },
    /// Too many failed logins from this client address (429, `Retry-After`).
    #[error("too many failed logins from this address; try again later")]
    LoginThrottled { retry_after_ms: u64 },
    /// Work the stand failed to do (a hashing task died): never the client's fault (500).
    #[error("internal error: {0}")]
    Internal(String),
}

/// The HTTP status of a refusal of the registry: the one place that maps the engine's errors
/// to HTTP.
pub fn registry_status(e: &RegistryError) -> StatusCode {
    use RegistryError::*;
    match e {
        NotFound { .. } | CenterNotFound => StatusCode::NOT_FOUND,
        CodeWrong { .. }
        | WeakPassword(_)
        | Invalid { .. }
        | DocumentsMismatch { .. }
        | CannotRegister { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        CodeExpired => StatusCode::GONE,
        CodeLocked | ResendTooSoon { .. } | ResendLimit => StatusCode::TOO_MANY_REQUESTS,
        DocumentsBound { .. }
        | ContactBound { .. }
        | ContactNotConfirmed
        | AlreadyDone { .. }
        | VerificationPending
        | WrongTier { .. }
        | NoLetter
        | WrongChannel { .. }
        | PasswordNotSet => StatusCode::CONFLICT,
        StoreFull { .. } => StatusCode::SERVICE_UNAVAILABLE,
        Unauthorized => StatusCode::UNAUTHORIZED,
    }
}

impl StandError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            StandError::Registry(e) => registry_status(e),
            StandError::Request(e) => e.status(),
            StandError::TokenMissing { .. } => StatusCode::UNAUTHORIZED,
            StandError::TokenWrong { .. } => StatusCode::FORBIDDEN,
            StandError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            StandError::PartnerRefused(PartnerRefusal::Verification(_)) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            StandError::PartnerRefused(_) => StatusCode::CONFLICT,
            StandError::CertificateRefused(_) => StatusCode::UNPROCESSABLE_ENTITY,
            StandError::AgencyUnavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            StandError::LoginLocked { .. } | StandError::LoginThrottled { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            StandError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable `code`.
    pub fn code(&self) -> &'static str {
        match self {
            StandError::Registry(e) => e.code(),
            StandError::Request(e) => e.code(),
            StandError::TokenMissing { .. } => "token_missing",
            StandError::TokenWrong { .. } => "token_wrong",
            StandError::Busy { .. } => "busy",
            StandError::PartnerRefused(PartnerRefusal::Verification(_)) => "verification_failed",
            StandError::PartnerRefused(PartnerRefusal::DocumentsBound) => "documents_bound",
            StandError::PartnerRefused(PartnerRefusal::ContactBound) => "contact_bound",
            StandError::CertificateRefused(_) => "certificate_refused",
            StandError::AgencyUnavailable { .. } => "agency_unavailable",
            StandError::LoginLocked { .. } => "login_locked",
            StandError::LoginThrottled { .. } => "login_throttled",
            StandError::Internal(_) => "internal",
        }
    }

    /// The field at fault.
    pub fn field(&self) -> Option<&str> {
        match self {
            StandError::Registry(e) => e.field(),
            StandError::Request(e) => e.field(),
            StandError::PartnerRefused(PartnerRefusal::DocumentsBound) => Some("passport"),
            StandError::PartnerRefused(PartnerRefusal::ContactBound) => Some("phone"),
            StandError::CertificateRefused(_) => Some("certificate"),
            _ => None,
        }
    }

    /// Milliseconds after which the same request may succeed, when there is such a time.
    fn retry_after_ms(&self) -> Option<u64> {
        match self {
            StandError::Registry(RegistryError::ResendTooSoon { retry_after_ms }) => {
                Some(*retry_after_ms)
            }
            StandError::Registry(RegistryError::StoreFull { .. }) | StandError::Busy { .. } => {
                Some(1_000)
            }
            StandError::AgencyUnavailable { .. } => Some(5_000),
            StandError::LoginLocked { retry_after_ms }
            | StandError::LoginThrottled { retry_after_ms } => Some(*retry_after_ms),
            _ => None,
        }
    }
}

impl IntoResponse for StandError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::warn!(error = %self, "answered {status}");
        }
        let mut detail = ErrorDetail::new(self.code(), self.to_string());
        detail.field = self.field().map(str::to_owned);
        if let StandError::Registry(RegistryError::CodeWrong { attempts_left }) = &self {
            detail.attempts_left = Some(u32::from(*attempts_left));
        }
        if let StandError::PartnerRefused(PartnerRefusal::Verification(reason)) = &self {
            detail.reason = Some(reason.as_str().to_owned());
        }
        if let StandError::CertificateRefused(verdict) = &self {
            detail.verdict = Some(*verdict);
        }
        if let StandError::AgencyUnavailable { agency, .. } = &self {
            detail.agency = Some((*agency).to_owned());
        }
        let retry = self.retry_after_ms();
        detail.retry_after_ms = retry;
        let mut response = error_detail_response(status, detail);
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(ms) = retry {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(ms.div_ceil(1_000)));
        }
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::error::tests::every_variant;
    use crate::registry::FailureReason;

    #[test]
    fn every_refusal_of_the_registry_maps_to_a_status() {
        let all = every_variant();
        for e in &all {
            let status = registry_status(e);
            assert!(
                status.is_client_error() || status.is_server_error(),
                "{e:?}"
            );
        }
        assert_eq!(registry_status(&all[1]), 422);
        assert_eq!(registry_status(&all[2]), 410);
        assert_eq!(registry_status(&all[3]), 429);
        assert_eq!(registry_status(&all[8]), 409);
        assert_eq!(registry_status(&all[16]), 503);
        assert_eq!(registry_status(&all[19]), 404);
        assert_eq!(registry_status(&all[20]), 422);
    }

    #[test]
    fn each_error_maps_to_one_status_and_code() {
        let cases = [
            (
                StandError::Registry(RegistryError::CodeWrong { attempts_left: 1 }),
                422,
                "code_wrong",
            ),
            (
                StandError::Registry(RegistryError::CodeLocked),
                429,
                "code_locked",
            ),
            (
                StandError::TokenMissing {
                    what: "operator token",
                },
                401,
                "token_missing",
            ),
            (
                StandError::TokenWrong {
                    what: "operator token",
                },
                403,
                "token_wrong",
            ),
            (StandError::Busy { what: "queue" }, 503, "busy"),
            (
                StandError::PartnerRefused(PartnerRefusal::Verification(
                    FailureReason::PfrMismatch,
                )),
                422,
                "verification_failed",
            ),
            (
                StandError::PartnerRefused(PartnerRefusal::DocumentsBound),
                409,
                "documents_bound",
            ),
            (
                StandError::CertificateRefused(CaVerdict::Revoked),
                422,
                "certificate_refused",
            ),
            (
                StandError::AgencyUnavailable {
                    agency: "post",
                    message: String::new(),
                },
                503,
                "agency_unavailable",
            ),
            (
                StandError::LoginLocked {
                    retry_after_ms: 60_000,
                },
                429,
                "login_locked",
            ),
            (
                StandError::LoginThrottled {
                    retry_after_ms: 1_000,
                },
                429,
                "login_throttled",
            ),
        ];
        for (e, status, code) in cases {
            assert_eq!(e.status().as_u16(), status, "{e}");
            assert_eq!(e.code(), code);
        }
    }
}
