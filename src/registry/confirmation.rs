//! Identity confirmation (DOMAIN.md step 3): the methods, the post letter in flight, the
//! e-signature check in flight, and the restrictions a method leaves on the account. Fixed-size
//! `Copy` data; the rules that move an account between tiers are in [`super::account`].

use super::code::OneTimeCode;
use super::ids::{ConfirmationId, RequestId};
use esia_mocks::agency::banks::Bank;
use esia_mocks::agency::ca::CaVerdict;
use esia_mocks::clock::SimTime;
use serde::{Serialize, Serializer};

/// How an account's identity was confirmed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConfirmationMethod {
    /// In person at a service center (MFC, Rostelecom, Post, MVD).
    ServiceCenter,
    /// The code of a registered post letter.
    PostLetter,
    /// A qualified e-signature or a UEC card, checked with the CA.
    ESignature,
    /// A partner bank, after PFR and FMS agreed on the data it sent.
    Bank(Bank),
    /// Registered by an MFC operator: confirmed from the start.
    MfcRegistration,
}

impl ConfirmationMethod {
    /// The wire name: `service_center`, `post_letter`, `e_signature`, `bank`, `mfc_registration`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConfirmationMethod::ServiceCenter => "service_center",
            ConfirmationMethod::PostLetter => "post_letter",
            ConfirmationMethod::ESignature => "e_signature",
            ConfirmationMethod::Bank(_) => "bank",
            ConfirmationMethod::MfcRegistration => "mfc_registration",
        }
    }

    /// The bank, for a bank confirmation.
    pub fn bank(self) -> Option<Bank> {
        match self {
            ConfirmationMethod::Bank(b) => Some(b),
            _ => None,
        }
    }
}

impl Serialize for ConfirmationMethod {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// What an account may not do, as a set of flags.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Restrictions(u8);

impl Restrictions {
    /// No entry to the FNS taxpayer cabinet (after a post-letter confirmation, DOMAIN.md step 3).
    pub const NO_FNS_CABINET: Restrictions = Restrictions(1);

    /// No restriction.
    pub const fn none() -> Self {
        Restrictions(0)
    }
    /// True when every flag of `other` is set.
    pub fn contains(self, other: Restrictions) -> bool {
        self.0 & other.0 == other.0 && other.0 != 0
    }
    /// Sets the flags of `other`.
    pub fn insert(&mut self, other: Restrictions) {
        self.0 |= other.0;
    }
    /// Clears the flags of `other`.
    pub fn remove(&mut self, other: Restrictions) {
        self.0 &= !other.0;
    }
    /// True when no flag is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// The wire names of the flags set (`no_fns_cabinet`).
    pub fn names(self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.contains(Self::NO_FNS_CABINET) {
            v.push("no_fns_cabinet");
        }
        v
    }
}

impl Serialize for Restrictions {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.names())
    }
}

/// A post letter with a confirmation code, ordered and not yet used up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Letter {
    /// The id of the latest order (a re-order gets a new one: it is a new letter).
    pub confirmation_id: ConfirmationId,
    /// The code in the latest letter; earlier letters' codes no longer work.
    pub code: OneTimeCode,
}

/// An account's confirmation: how and when it was confirmed, and what is in flight.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Confirmation {
    pub(crate) method: Option<ConfirmationMethod>,
    pub(crate) confirmed_at: Option<SimTime>,
    pub(crate) letter: Option<Letter>,
    pub(crate) signature_request: Option<RequestId>,
    pub(crate) last_refusal: Option<CaVerdict>,
    pub(crate) restrictions: Restrictions,
}

impl Confirmation {
    /// The method that confirmed the account (the latest, when a restriction was lifted by a
    /// second confirmation).
    pub fn method(&self) -> Option<ConfirmationMethod> {
        self.method
    }
    /// When the account was (last) confirmed.
    pub fn confirmed_at(&self) -> Option<SimTime> {
        self.confirmed_at
    }
    /// The letter in flight or delivered.
    pub fn letter(&self) -> Option<&Letter> {
        self.letter.as_ref()
    }
    /// The certificate check in flight.
    pub fn signature_request(&self) -> Option<RequestId> {
        self.signature_request
    }
    /// Why the last certificate was refused.
    pub fn last_refusal(&self) -> Option<CaVerdict> {
        self.last_refusal
    }
    /// The account's restrictions.
    pub fn restrictions(&self) -> Restrictions {
        self.restrictions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restrictions_as_flags_and_names() {
        let mut r = Restrictions::none();
        assert!(r.is_empty());
        assert!(!r.contains(Restrictions::NO_FNS_CABINET));
        r.insert(Restrictions::NO_FNS_CABINET);
        assert_eq!(r.names(), ["no_fns_cabinet"]);
        assert_eq!(serde_json::to_string(&r).unwrap(), r#"["no_fns_cabinet"]"#);
        r.remove(Restrictions::NO_FNS_CABINET);
        assert!(r.is_empty());
    }

    #[test]
    fn method_names() {
        assert_eq!(ConfirmationMethod::Bank(Bank::Tinkoff).as_str(), "bank");
        assert_eq!(
            ConfirmationMethod::Bank(Bank::Tinkoff).bank(),
            Some(Bank::Tinkoff)
        );
        assert_eq!(
            serde_json::to_string(&ConfirmationMethod::ESignature).unwrap(),
            r#""e_signature""#
        );
    }
}
