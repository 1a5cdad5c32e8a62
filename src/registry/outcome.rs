//! What the registry's commands return: registrations started, accounts made, sessions,
//! verifications dispatched, letters ordered, confirmations, partners' requests, agencies'
//! replies applied, expiries.

use super::account::Tier;
use super::confirmation::ConfirmationMethod;
use super::ids::{ConfirmationId, Oid, RegistrationId, RequestId, SessionToken};
use super::password::PasswordHash;
use super::registry::*;
use super::verification::FailureReason;
use esia_mocks::agency::ca::CaVerdict;
use esia_mocks::clock::SimTime;
use esia_mocks::ident::Phone;
use serde::Serialize;

/// A registration started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegistrationStarted {
    pub registration_id: RegistrationId,
    pub channel: Channel,
    /// When the code or link expires.
    pub expires_at: SimTime,
}

/// An account made from a registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Registered {
    pub oid: Oid,
    pub tier: Tier,
    /// The second contact's code or link, sent now: the same registration confirms it.
    pub second_contact: Option<RegistrationStarted>,
}

/// The account a login names, with its stored hash to verify outside the registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginCandidate {
    pub oid: Oid,
    pub hash: PasswordHash,
}

/// An open session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Session {
    pub token: SessionToken,
    pub oid: Oid,
    pub expires_at: SimTime,
}

/// Personal data accepted and sent to PFR and FMS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerificationDispatched {
    pub oid: Oid,
    pub pfr_request: RequestId,
    pub fms_request: RequestId,
}

/// A post letter ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LetterOrdered {
    pub oid: Oid,
    pub confirmation_id: ConfirmationId,
    /// When the letter's code stops working.
    pub expires_at: SimTime,
    /// True when this letter replaces an earlier one.
    pub reorder: bool,
}

/// A confirmation done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Confirmed {
    pub oid: Oid,
    pub method: ConfirmationMethod,
}

/// An account made by an MFC operator; the caller gives the citizen the one-time password it
/// hashed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MfcRegistered {
    pub oid: Oid,
    /// The login: the phone.
    pub login: Phone,
}

/// A partner's confirmation request accepted: PFR and FMS are asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartnerCheckStarted {
    pub confirmation_id: ConfirmationId,
    pub pfr_request: RequestId,
    pub fms_request: RequestId,
}

/// Why a partner's confirmation was refused once the agencies answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PartnerRefusal {
    /// PFR or FMS disagreed (or did not answer).
    Verification(FailureReason),
    /// The SNILS or passport got bound to another account meanwhile.
    DocumentsBound,
    /// The phone is another account's login.
    ContactBound,
}

/// Where a partner's confirmation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartnerStatus {
    Pending,
    Confirmed { oid: Oid, created: bool },
    Refused(PartnerRefusal),
}

/// Why a reply was ignored. Ignoring is safe: the stand may retry replies freely.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IgnoredReply {
    /// No such request (never issued, or dropped long ago).
    Unknown,
    /// This request was answered already.
    AlreadyApplied,
    /// The request was superseded (the citizen re-submitted, or confirmed another way).
    Stale,
    /// The request went to another agency.
    WrongAgency,
}

/// What applying an agency's reply did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyOutcome {
    /// Recorded; the other agency has not answered, or the result was already decided.
    Recorded,
    /// Both agencies agreed: the account is standard.
    VerificationPassed { oid: Oid },
    /// The verification failed; the documents are free to be submitted again.
    VerificationFailed { oid: Oid, reason: FailureReason },
    /// The certificate was valid: the account is confirmed.
    Confirmed {
        oid: Oid,
        method: ConfirmationMethod,
    },
    /// The certificate was refused.
    SignatureRefused { oid: Oid, verdict: CaVerdict },
    /// A partner's client is confirmed: an existing account, or a new one.
    PartnerConfirmed {
        confirmation_id: ConfirmationId,
        oid: Oid,
        created: bool,
    },
    /// A partner's request is refused.
    PartnerRefused {
        confirmation_id: ConfirmationId,
        reason: PartnerRefusal,
    },
    /// Ignored, and why.
    Ignored(IgnoredReply),
}

/// What `expire` dropped or failed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Expired {
    pub registrations: usize,
    pub sessions: usize,
    pub requests: usize,
    pub verifications_timed_out: usize,
    pub partner_confirmations: usize,
    /// True when items due at `now` remain beyond the limit of
    /// [`Registry::expire_some`]: call it again.
    pub more: bool,
}
