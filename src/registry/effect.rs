//! Effects: what the registry asks the world to do. The registry never performs I/O; each
//! command pushes effects into a `Vec<Effect>` it is handed. The stand performs them through the
//! mocks over HTTP (with retries and the request ids as idempotency keys) and feeds the replies
//! back (`Registry::apply_pfr`...); the simulator turns them into scheduled events.

use super::code::Written;
use super::confirmation::ConfirmationMethod;
use super::ids::{ConfirmationId, Oid, RegistrationId, RequestId};
use super::personal::Address;
use super::verification::FailureReason;
use chrono::NaiveDate;
use esia_mocks::agency::ca::CaVerdict;
use esia_mocks::ident::{Gender, PassportSeries, Phone, Snils};

/// What a message to the citizen is about, with what it carries (the code, the link's token),
/// so that a performer, a journal or a simulator never reads them back from its text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Topic {
    /// The SMS code of a registration (the text holds it as written).
    RegistrationCode {
        registration_id: RegistrationId,
        code: Written,
    },
    /// The e-mail link of a registration (the text holds [`link_path`] of these).
    RegistrationLink {
        registration_id: RegistrationId,
        token: Written,
    },
    /// The personal data passed verification: the account is standard.
    VerificationPassed,
    /// The personal data failed verification.
    VerificationFailed(FailureReason),
    /// The account is confirmed.
    Confirmed(ConfirmationMethod),
    /// A certificate was refused by the CA.
    CertificateRefused(CaVerdict),
    /// An account was made (by an MFC operator or a bank).
    AccountCreated,
}

/// A request to PFR: is this SNILS this person's?
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PfrRequest {
    pub request_id: RequestId,
    pub snils: Snils,
    pub surname: String,
    pub name: String,
    /// Empty for a person without one.
    pub patronymic: String,
    pub birth_date: NaiveDate,
    pub gender: Gender,
}

/// A request to FMS: is this passport valid and this person's?
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FmsRequest {
    pub request_id: RequestId,
    pub series: PassportSeries,
    pub number: u32,
    pub surname: String,
    pub name: String,
    pub patronymic: String,
    pub birth_date: NaiveDate,
    pub issue_date: NaiveDate,
}

/// One thing for the world to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Send an SMS (registration code, notifications).
    SendSms {
        to: Phone,
        text: String,
        topic: Topic,
    },
    /// Send an e-mail (registration link, notifications). `to` is in lower case.
    SendMail {
        to: String,
        subject: String,
        text: String,
        topic: Topic,
    },
    /// Ask PFR to check a SNILS; the reply goes to `Registry::apply_pfr`.
    VerifyPfr(PfrRequest),
    /// Ask FMS to check a passport; the reply goes to `Registry::apply_fms`.
    VerifyFms(FmsRequest),
    /// Ask the CA about a certificate; the reply goes to `Registry::apply_certificate`.
    CheckCertificate {
        request_id: RequestId,
        serial: String,
        issuer: String,
        /// The SNILS of the account being confirmed: the certificate must be this person's.
        snils: Snils,
    },
    /// Send a registered letter with a confirmation code.
    OrderLetter {
        confirmation_id: ConfirmationId,
        oid: Oid,
        /// Surname, name and patronymic, as on the envelope.
        recipient: String,
        address: Address,
        /// The code, as the citizen will type it.
        code: String,
    },
}

/// The path of a registration's e-mail link, relative to the engine's base URL.
pub fn link_path(registration_id: RegistrationId, token: Written) -> String {
    format!("/api/v1/registrations/{registration_id}/email?token={token}")
}

impl Effect {
    /// The request id of an agency request, if this is one.
    pub fn request_id(&self) -> Option<RequestId> {
        match self {
            Effect::VerifyPfr(r) => Some(r.request_id),
            Effect::VerifyFms(r) => Some(r.request_id),
            Effect::CheckCertificate { request_id, .. } => Some(*request_id),
            _ => None,
        }
    }
}
