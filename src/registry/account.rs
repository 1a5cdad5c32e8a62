//! An account's tier and the rules that move it: the compact per-account state machine shared
//! by the registry (one per account) and the simulator (one per live citizen).
//!
//! Invariants every method keeps (and [`AccountState::check_invariants`] checks): the tier never
//! goes down; `standard` or above means the documents were verified (or the account was made
//! confirmed by an MFC operator); `confirmed` requires verified documents, except for an MFC
//! registration, where the operator checked them in person.

use super::code::{CodeCheck, OneTimeCode, ResendRefused};
use super::config::CodePolicy;
use super::confirmation::{Confirmation, ConfirmationMethod, Letter, Restrictions};
use super::error::RegistryError;
use super::ids::{ConfirmationId, RequestId};
use super::verification::{ReplyApplied, SubmitRefused, Verification, VerificationStatus};
use esia_mocks::agency::banks::Bank;
use esia_mocks::agency::ca::CaVerdict;
use esia_mocks::agency::fms::FmsVerdict;
use esia_mocks::agency::pfr::PfrVerdict;
use esia_mocks::clock::SimTime;
use serde::{Deserialize, Serialize};
use std::fmt;

/// An account's tier; ordered, so `tier >= Tier::Standard` reads as it should.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Simplified,
    Standard,
    Confirmed,
}

impl Tier {
    /// Every tier, lowest first.
    pub const ALL: [Tier; 3] = [Tier::Simplified, Tier::Standard, Tier::Confirmed];

    /// The tier's place in [`Tier::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Simplified => "simplified",
            Tier::Standard => "standard",
            Tier::Confirmed => "confirmed",
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A letter ordered: the first, or a re-order replacing a lost one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LetterOrdered {
    pub reorder: bool,
    pub expires_at: SimTime,
}

/// What applying a CA verdict did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureApplied {
    /// The certificate is valid and this person's: the account is confirmed.
    Confirmed,
    /// The certificate was refused for this reason.
    Refused(CaVerdict),
    /// Not the check in force (superseded, or already answered).
    Stale,
}

const ALREADY_CONFIRMED: RegistryError = RegistryError::AlreadyDone {
    what: "the account is already confirmed",
};

/// One account's tier, verification and confirmation. Fixed size, `Copy`, no strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountState {
    tier: Tier,
    verification: Verification,
    confirmation: Confirmation,
}

impl Default for AccountState {
    fn default() -> Self {
        Self::simplified()
    }
}

impl AccountState {
    /// A new account from the registration form: simplified, nothing verified.
    pub const fn simplified() -> Self {
        Self {
            tier: Tier::Simplified,
            verification: Verification::new(),
            confirmation: Confirmation {
                method: None,
                confirmed_at: None,
                letter: None,
                signature_request: None,
                last_refusal: None,
                restrictions: Restrictions::none(),
            },
        }
    }

    /// An account registered by an MFC operator at `now`: confirmed from the start.
    pub fn mfc_registered(now: SimTime) -> Self {
        let mut s = Self::simplified();
        s.tier = Tier::Confirmed;
        s.confirmation.method = Some(ConfirmationMethod::MfcRegistration);
        s.confirmation.confirmed_at = Some(now);
        s
    }

    /// An account made by a bank at `now` for a client whose data PFR and FMS verified.
    pub fn bank_created(
        now: SimTime,
        bank: Bank,
        verified: Verification,
    ) -> Result<Self, RegistryError> {
        let mut s = Self::simplified();
        s.confirm_by_bank(now, bank, verified)?;
        Ok(s)
    }

    /// The tier.
    pub fn tier(&self) -> Tier {
        self.tier
    }
    /// True when confirmed (`trusted` in ESIA's person record).
    pub fn trusted(&self) -> bool {
        self.tier == Tier::Confirmed
    }
    /// The verification of the personal data.
    pub fn verification(&self) -> &Verification {
        &self.verification
    }
    /// The confirmation.
    pub fn confirmation(&self) -> &Confirmation {
        &self.confirmation
    }
    /// The restrictions.
    pub fn restrictions(&self) -> Restrictions {
        self.confirmation.restrictions
    }

    /// Whether personal data may be submitted now.
    pub fn can_submit_personal_data(&self) -> Result<(), RegistryError> {
        if self.tier == Tier::Confirmed {
            return Err(ALREADY_CONFIRMED);
        }
        self.verification.can_submit().map_err(|e| match e {
            SubmitRefused::Pending => RegistryError::VerificationPending,
            SubmitRefused::AlreadyPassed => RegistryError::AlreadyDone {
                what: "the personal data are already verified",
            },
        })
    }

    /// Personal data submitted at `now`; PFR and FMS are asked under these request ids.
    pub fn submit_personal_data(
        &mut self,
        now: SimTime,
        pfr_request: RequestId,
        fms_request: RequestId,
    ) -> Result<(), RegistryError> {
        self.can_submit_personal_data()?;
        self.verification
            .submit(now, pfr_request, fms_request)
            .map_err(|_| RegistryError::VerificationPending)
    }

    fn promote(&mut self, applied: ReplyApplied) -> ReplyApplied {
        if applied == ReplyApplied::Passed {
            self.tier = self.tier.max(Tier::Standard);
        }
        applied
    }

    /// PFR's verdict on `request`; both agencies passing makes the account standard.
    pub fn apply_pfr(
        &mut self,
        now: SimTime,
        request: RequestId,
        verdict: PfrVerdict,
    ) -> ReplyApplied {
        let applied = self.verification.apply_pfr(now, request, verdict);
        self.promote(applied)
    }

    /// FMS's verdict on `request`.
    pub fn apply_fms(
        &mut self,
        now: SimTime,
        request: RequestId,
        verdict: FmsVerdict,
    ) -> ReplyApplied {
        let applied = self.verification.apply_fms(now, request, verdict);
        self.promote(applied)
    }

    /// The agency behind `request` could not be reached.
    pub fn apply_unavailable(&mut self, now: SimTime, request: RequestId) -> ReplyApplied {
        self.verification.apply_unavailable(now, request)
    }

    /// Fails a verification pending for longer than `timeout_ms`. True when it did.
    pub fn time_out(&mut self, now: SimTime, timeout_ms: u64) -> bool {
        self.verification.time_out(now, timeout_ms)
    }

    /// Refuses a confirmation when the account is confirmed already (unless a restriction can be
    /// lifted by `method`) or its documents are not verified.
    fn may_confirm(&self, method: ConfirmationMethod) -> Result<(), RegistryError> {
        if self.tier == Tier::Confirmed {
            let liftable = self.restrictions().contains(Restrictions::NO_FNS_CABINET)
                && method != ConfirmationMethod::PostLetter;
            if !liftable {
                return Err(ALREADY_CONFIRMED);
            }
        }
        if !self.verification.passed() {
            return Err(RegistryError::WrongTier {
                needed: Tier::Standard,
            });
        }
        Ok(())
    }

    /// Confirms by `method` at `now` (checked by `may_confirm` first). A second confirmation of
    /// a letter-confirmed account by another method lifts `no_fns_cabinet`.
    fn confirm(&mut self, now: SimTime, method: ConfirmationMethod) {
        self.tier = Tier::Confirmed;
        self.confirmation.method = Some(method);
        self.confirmation.confirmed_at = Some(now);
        if method == ConfirmationMethod::PostLetter {
            self.confirmation
                .restrictions
                .insert(Restrictions::NO_FNS_CABINET);
        } else {
            self.confirmation
                .restrictions
                .remove(Restrictions::NO_FNS_CABINET);
        }
    }

    /// Orders a post letter (or re-orders a lost one) with code `code_value`. The letter's code
    /// replaces any earlier one.
    pub fn order_letter(
        &mut self,
        now: SimTime,
        confirmation_id: ConfirmationId,
        code_value: u64,
        policy: &CodePolicy,
    ) -> Result<LetterOrdered, RegistryError> {
        if self.tier == Tier::Confirmed {
            return Err(ALREADY_CONFIRMED);
        }
        self.may_confirm(ConfirmationMethod::PostLetter)?;
        match &mut self.confirmation.letter {
            Some(letter) => {
                let expires_at = letter
                    .code
                    .resend(now, code_value, policy)
                    .map_err(resend_error)?;
                letter.confirmation_id = confirmation_id;
                Ok(LetterOrdered {
                    reorder: true,
                    expires_at,
                })
            }
            None => {
                let code = OneTimeCode::issue(now, code_value, policy);
                self.confirmation.letter = Some(Letter {
                    confirmation_id,
                    code,
                });
                Ok(LetterOrdered {
                    reorder: false,
                    expires_at: code.expires_at(),
                })
            }
        }
    }

    /// Whether a letter may be ordered now (checked before drawing a code and an id).
    pub fn can_order_letter(&self, now: SimTime, policy: &CodePolicy) -> Result<(), RegistryError> {
        if self.tier == Tier::Confirmed {
            return Err(ALREADY_CONFIRMED);
        }
        self.may_confirm(ConfirmationMethod::PostLetter)?;
        match &self.confirmation.letter {
            Some(letter) => letter.code.can_resend(now, policy).map_err(resend_error),
            None => Ok(()),
        }
    }

    /// The code from the letter, typed at `now`. Right: the account is confirmed and carries
    /// `no_fns_cabinet`. Typing the right code again after that is accepted again.
    pub fn enter_letter_code(&mut self, now: SimTime, typed: u64) -> Result<(), RegistryError> {
        let by_letter = self.confirmation.method == Some(ConfirmationMethod::PostLetter);
        if self.tier == Tier::Confirmed && !by_letter {
            return Err(ALREADY_CONFIRMED);
        }
        let Some(letter) = &mut self.confirmation.letter else {
            return Err(RegistryError::NoLetter);
        };
        match letter.code.check(now, typed) {
            CodeCheck::Accepted => {
                if !by_letter {
                    self.may_confirm(ConfirmationMethod::PostLetter)?;
                    self.confirm(now, ConfirmationMethod::PostLetter);
                }
                Ok(())
            }
            CodeCheck::Wrong { attempts_left } => Err(RegistryError::CodeWrong { attempts_left }),
            CodeCheck::Expired => Err(RegistryError::CodeExpired),
            CodeCheck::Locked => Err(RegistryError::CodeLocked),
        }
    }

    /// A certificate check sent to the CA under `request`.
    pub fn start_signature(&mut self, request: RequestId) -> Result<(), RegistryError> {
        self.may_confirm(ConfirmationMethod::ESignature)?;
        self.confirmation.signature_request = Some(request);
        Ok(())
    }

    /// The check under `request` could not be made: it is dropped (false if another check has
    /// replaced it).
    pub fn abandon_signature(&mut self, request: RequestId) -> bool {
        if self.confirmation.signature_request != Some(request) {
            return false;
        }
        self.confirmation.signature_request = None;
        true
    }

    /// Whether a signature would be accepted for checking now.
    pub fn can_sign(&self) -> Result<(), RegistryError> {
        self.may_confirm(ConfirmationMethod::ESignature)
    }

    /// The CA's verdict on `request`.
    pub fn apply_certificate(
        &mut self,
        now: SimTime,
        request: RequestId,
        verdict: CaVerdict,
    ) -> SignatureApplied {
        if self.confirmation.signature_request != Some(request) {
            return SignatureApplied::Stale;
        }
        self.confirmation.signature_request = None;
        if verdict != CaVerdict::Valid {
            self.confirmation.last_refusal = Some(verdict);
            return SignatureApplied::Refused(verdict);
        }
        if self.may_confirm(ConfirmationMethod::ESignature).is_err() {
            // Confirmed some other way while the CA was asked.
            return SignatureApplied::Stale;
        }
        self.confirmation.last_refusal = None;
        self.confirm(now, ConfirmationMethod::ESignature);
        SignatureApplied::Confirmed
    }

    /// Confirmed in person at a service center (the registry has matched the documents).
    pub fn confirm_in_person(&mut self, now: SimTime) -> Result<(), RegistryError> {
        self.may_confirm(ConfirmationMethod::ServiceCenter)?;
        self.confirm(now, ConfirmationMethod::ServiceCenter);
        Ok(())
    }

    /// Whether a bank could confirm this account now (before PFR and FMS are asked).
    pub fn can_confirm_by_bank(&self) -> Result<(), RegistryError> {
        if self.tier == Tier::Confirmed
            && !self.restrictions().contains(Restrictions::NO_FNS_CABINET)
        {
            return Err(ALREADY_CONFIRMED);
        }
        Ok(())
    }

    /// Confirmed by `bank`, whose client data PFR and FMS verified in `verified` (which must have
    /// passed). The bank's verified data become the account's: its own verification is replaced.
    pub fn confirm_by_bank(
        &mut self,
        now: SimTime,
        bank: Bank,
        verified: Verification,
    ) -> Result<(), RegistryError> {
        self.can_confirm_by_bank()?;
        if !verified.passed() {
            return Err(RegistryError::WrongTier {
                needed: Tier::Standard,
            });
        }
        self.verification = verified;
        self.tier = self.tier.max(Tier::Standard);
        self.may_confirm(ConfirmationMethod::Bank(bank))?;
        self.confirm(now, ConfirmationMethod::Bank(bank));
        Ok(())
    }

    /// Checks the invariants of the module doc.
    pub fn check_invariants(&self) -> Result<(), &'static str> {
        let mfc = self.confirmation.method == Some(ConfirmationMethod::MfcRegistration);
        let verified = self.verification.status() == VerificationStatus::Passed;
        if self.tier >= Tier::Standard && !verified && !mfc {
            return Err("standard or confirmed without verified documents");
        }
        if (self.tier == Tier::Confirmed) != self.confirmation.method.is_some() {
            return Err("confirmed without a method, or a method without confirmation");
        }
        if self.restrictions().contains(Restrictions::NO_FNS_CABINET)
            && self.confirmation.method != Some(ConfirmationMethod::PostLetter)
        {
            return Err("no_fns_cabinet without a letter confirmation");
        }
        Ok(())
    }
}

fn resend_error(r: ResendRefused) -> RegistryError {
    match r {
        ResendRefused::TooSoon { retry_after_ms } => {
            RegistryError::ResendTooSoon { retry_after_ms }
        }
        ResendRefused::TooMany => RegistryError::ResendLimit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::config::RegistryConfig;
    use esia_mocks::clock::MS_PER_DAY;

    fn t(ms: u64) -> SimTime {
        SimTime::from_millis(ms)
    }
    const P: RequestId = RequestId(1);
    const F: RequestId = RequestId(2);

    fn standard() -> AccountState {
        let mut a = AccountState::simplified();
        a.submit_personal_data(t(0), P, F).unwrap();
        a.apply_pfr(t(1), P, PfrVerdict::Match);
        assert_eq!(
            a.apply_fms(t(2), F, FmsVerdict::Valid),
            ReplyApplied::Passed
        );
        assert_eq!(a.tier(), Tier::Standard);
        a
    }

    fn passed() -> Verification {
        let mut v = Verification::new();
        v.submit(t(0), RequestId(7), RequestId(8)).unwrap();
        v.apply_pfr(t(1), RequestId(7), PfrVerdict::Match);
        v.apply_fms(t(1), RequestId(8), FmsVerdict::Valid);
        v
    }

    #[test]
    fn tiers_are_ordered_and_named() {
        assert!(Tier::Simplified < Tier::Standard && Tier::Standard < Tier::Confirmed);
        assert_eq!(
            serde_json::to_string(&Tier::Standard).unwrap(),
            r#""standard""#
        );
    }

    #[test]
    fn failed_verification_keeps_simplified_and_allows_resubmission() {
        let mut a = AccountState::simplified();
        a.submit_personal_data(t(0), P, F).unwrap();
        assert_eq!(
            a.submit_personal_data(t(0), P, F),
            Err(RegistryError::VerificationPending)
        );
        a.apply_fms(t(1), F, FmsVerdict::Invalid);
        assert_eq!(a.tier(), Tier::Simplified);
        a.submit_personal_data(t(2), RequestId(3), RequestId(4))
            .unwrap();
        a.check_invariants().unwrap();
    }

    #[test]
    fn confirmation_needs_verified_documents() {
        let mut a = AccountState::simplified();
        let needed = Err(RegistryError::WrongTier {
            needed: Tier::Standard,
        });
        assert_eq!(a.confirm_in_person(t(0)), needed);
        assert_eq!(
            a.order_letter(
                t(0),
                ConfirmationId(1),
                1,
                &RegistryConfig::default().letter_code
            )
            .map(|_| ()),
            needed
        );
        assert_eq!(a.start_signature(RequestId(9)), needed);
        assert_eq!(a.tier(), Tier::Simplified);
    }

    #[test]
    fn letter_confirms_with_no_fns_cabinet_and_a_signature_lifts_it() {
        let policy = RegistryConfig::default().letter_code;
        let mut a = standard();
        let o = a
            .order_letter(t(10), ConfirmationId(5), 12_345_678, &policy)
            .unwrap();
        assert!(!o.reorder);
        // Lost: re-ordered a day later (not sooner), with a new code.
        assert!(matches!(
            a.order_letter(t(11), ConfirmationId(6), 1, &policy),
            Err(RegistryError::ResendTooSoon { .. })
        ));
        let o = a
            .order_letter(t(10 + MS_PER_DAY), ConfirmationId(6), 87_654_321, &policy)
            .unwrap();
        assert!(o.reorder);
        assert_eq!(
            a.enter_letter_code(t(20 * MS_PER_DAY), 12_345_678),
            Err(RegistryError::CodeWrong { attempts_left: 4 })
        );
        a.enter_letter_code(t(20 * MS_PER_DAY), 87_654_321).unwrap();
        assert_eq!(a.tier(), Tier::Confirmed);
        assert!(a.restrictions().contains(Restrictions::NO_FNS_CABINET));
        // A retry with the right code is accepted again.
        a.enter_letter_code(t(20 * MS_PER_DAY + 1), 87_654_321)
            .unwrap();
        a.check_invariants().unwrap();
        a.start_signature(RequestId(9)).unwrap();
        assert_eq!(
            a.apply_certificate(t(21 * MS_PER_DAY), RequestId(9), CaVerdict::Valid),
            SignatureApplied::Confirmed
        );
        assert!(a.restrictions().is_empty());
        assert_eq!(
            a.confirmation().method(),
            Some(ConfirmationMethod::ESignature)
        );
        assert_eq!(
            a.confirm_in_person(t(22 * MS_PER_DAY)),
            Err(ALREADY_CONFIRMED)
        );
        a.check_invariants().unwrap();
    }

    #[test]
    fn refused_certificates_leave_the_tier() {
        let mut a = standard();
        for verdict in [
            CaVerdict::Expired,
            CaVerdict::Revoked,
            CaVerdict::NotThisPerson,
            CaVerdict::NotFound,
        ] {
            a.start_signature(RequestId(9)).unwrap();
            assert_eq!(
                a.apply_certificate(t(5), RequestId(9), verdict),
                SignatureApplied::Refused(verdict)
            );
            assert_eq!(
                a.apply_certificate(t(5), RequestId(9), CaVerdict::Valid),
                SignatureApplied::Stale
            );
            assert_eq!(a.tier(), Tier::Standard);
            assert_eq!(a.confirmation().last_refusal(), Some(verdict));
        }
    }

    #[test]
    fn a_check_the_ca_never_answered_is_dropped() {
        let mut a = standard();
        a.start_signature(RequestId(9)).unwrap();
        a.start_signature(RequestId(10)).unwrap();
        assert!(!a.abandon_signature(RequestId(9)), "replaced by 10");
        assert!(a.abandon_signature(RequestId(10)));
        assert_eq!(a.confirmation().signature_request(), None);
        assert_eq!(
            a.apply_certificate(t(5), RequestId(10), CaVerdict::Valid),
            SignatureApplied::Stale
        );
        a.check_invariants().unwrap();
    }

    #[test]
    fn bank_confirms_existing_or_new_accounts() {
        let mut a = AccountState::simplified();
        a.confirm_by_bank(t(3), Bank::Sber, passed()).unwrap();
        assert_eq!(a.tier(), Tier::Confirmed);
        assert_eq!(
            a.confirmation().method(),
            Some(ConfirmationMethod::Bank(Bank::Sber))
        );
        a.check_invariants().unwrap();
        assert_eq!(a.can_confirm_by_bank(), Err(ALREADY_CONFIRMED));
        let n = AccountState::bank_created(t(3), Bank::Pochta, passed()).unwrap();
        assert!(n.trusted());
        assert!(AccountState::bank_created(t(3), Bank::Pochta, Verification::new()).is_err());
    }

    #[test]
    fn mfc_accounts_are_confirmed_from_the_start() {
        let a = AccountState::mfc_registered(t(0));
        assert_eq!(a.tier(), Tier::Confirmed);
        assert_eq!(a.verification().status(), VerificationStatus::NotStarted);
        a.check_invariants().unwrap();
        let mut a = a;
        assert_eq!(a.submit_personal_data(t(1), P, F), Err(ALREADY_CONFIRMED));
    }

    #[test]
    fn state_is_fixed_size() {
        let size = std::mem::size_of::<AccountState>();
        assert!(size <= 192, "{size}");
    }
}
