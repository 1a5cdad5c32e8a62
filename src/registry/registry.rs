//! The registry as the stand keeps it: registrations, accounts and their indexes, sessions,
//! agency requests in flight and partner confirmations, each store capped, with the helpers
//! every step shares (the census and deadline bookkeeping of `update_account`). The commands,
//! one method each, live in the file of their step, as quinn-proto's `Connection` does:
//! `signup` (step 1), `sessions`, `view`, `verify` (step 2), `confirm` (step 3), `partner`
//! (banks), `expiry` (housekeeping), `invariants`. Each takes `now`, a CSPRNG where it makes
//! codes or ids, and an effect sink, and returns its outcome (`outcome`) or a
//! [`RegistryError`]. No I/O, no clock, no hashing.

use super::account::{AccountState, Tier};
use super::census::{Census, Mark};
use super::code::CodeCheck;
use super::config::RegistryConfig;
use super::effect::{Effect, Topic};
use super::error::{RegistryError, Store};
use super::expiry::{Deadlines, Owner};
use super::ids::{ConfirmationId, IdMap, Oid, RequestId, SessionToken};
use super::partner::PartnerConfirmation;
use super::password::PasswordHash;
use super::personal::{PassportKey, PersonalData};
use super::registrations::Registrations;
use super::verification::{Agency, VerificationStatus};
use esia_mocks::agency::centers::{self, Center};
use esia_mocks::clock::SimTime;
use esia_mocks::ident::{Phone, Snils};
use rand::CryptoRng;
use std::collections::HashMap;

pub use super::outcome::*;
pub use super::signup::{Channel, RegistrationForm};
pub use super::view::{AccountView, ConfirmationView, VerificationView};

/// An account as the stand keeps it: the compact state plus the strings around it.
#[derive(Clone, Debug)]
pub struct Account {
    pub(super) oid: Oid,
    pub(super) state: AccountState,
    pub(super) surname: Box<str>,
    pub(super) name: Box<str>,
    pub(super) phone: Option<Phone>,
    pub(super) email: Option<Box<str>>,
    pub(super) password: Option<PasswordHash>,
    pub(super) personal: Option<Box<PersonalData>>,
    pub(super) created_at: SimTime,
}

impl Account {
    /// The account's oid.
    pub fn oid(&self) -> Oid {
        self.oid
    }
    /// The compact state: tier, verification, confirmation.
    pub fn state(&self) -> &AccountState {
        &self.state
    }
    /// The surname given at registration (or in the personal data).
    pub fn surname(&self) -> &str {
        &self.surname
    }
    /// The phone login.
    pub fn phone(&self) -> Option<Phone> {
        self.phone
    }
    /// The e-mail login, in lower case.
    pub fn email(&self) -> Option<&str> {
        self.email.as_deref()
    }
    /// The personal data last submitted.
    pub fn personal(&self) -> Option<&PersonalData> {
        self.personal.as_deref()
    }
    /// When the account was made.
    pub fn created_at(&self) -> SimTime {
        self.created_at
    }
    /// True when the account holds its SNILS and passport in the indexes: while they are being
    /// verified, once verified, and once confirmed.
    pub fn binds_documents(&self) -> bool {
        self.personal.is_some()
            && (self.state.tier() == Tier::Confirmed
                || matches!(
                    self.state.verification().status(),
                    VerificationStatus::Pending | VerificationStatus::Passed
                ))
    }
}

/// Which agency a request went to: PFR or FMS verifying personal data, or the CA checking a
/// certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum AgencyKind {
    Verifier(Agency),
    Ca,
}

/// An agency request in flight, or the tombstone of an answered one.
#[derive(Clone, Copy, Debug)]
pub(super) struct Request {
    pub(super) owner: Owner,
    pub(super) agency: AgencyKind,
    pub(super) issued_at: SimTime,
    /// Set once answered: the tombstone is kept until then.
    pub(super) answered_until: Option<SimTime>,
}

/// Every store of the registry.
pub struct Registry {
    pub(super) config: RegistryConfig,
    pub(super) registrations: Registrations,
    pub(super) accounts: Vec<Account>,
    pub(super) by_phone: HashMap<Phone, Oid>,
    pub(super) by_email: HashMap<Box<str>, Oid>,
    pub(super) by_snils: HashMap<Snils, Oid>,
    pub(super) by_passport: HashMap<PassportKey, Oid>,
    pub(super) sessions: IdMap<SessionToken, Session>,
    pub(super) requests: IdMap<RequestId, Request>,
    pub(super) partners: IdMap<ConfirmationId, PartnerConfirmation>,
    /// Every deadline of the stores and of pending verifications (see [`super::expiry`]).
    pub(super) due: Deadlines,
    /// Accounts by tier and verifications pending, kept as accounts change.
    pub(super) census: Census,
    /// The service centers whose operators use the operator API.
    pub(super) centers: Vec<Center>,
}

pub(super) const NOT_FOUND_REGISTRATION: RegistryError = RegistryError::NotFound {
    what: "registration",
};
pub(super) const NOT_FOUND_ACCOUNT: RegistryError = RegistryError::NotFound { what: "account" };
pub(super) const PASSWORD_SET: RegistryError = RegistryError::AlreadyDone {
    what: "the password is already set; the registration confirms the second contact",
};

pub(super) fn full(store: Store) -> RegistryError {
    RegistryError::StoreFull { store }
}

pub(super) fn code_error(check: CodeCheck) -> Result<(), RegistryError> {
    match check {
        CodeCheck::Accepted => Ok(()),
        CodeCheck::Wrong { attempts_left } => Err(RegistryError::CodeWrong { attempts_left }),
        CodeCheck::Expired => Err(RegistryError::CodeExpired),
        CodeCheck::Locked => Err(RegistryError::CodeLocked),
    }
}

pub(super) fn full_name(d: &PersonalData) -> String {
    if d.patronymic.is_empty() {
        format!("{} {}", d.surname, d.name)
    } else {
        format!("{} {} {}", d.surname, d.name, d.patronymic)
    }
}

pub(super) fn parse_phone(field: &'static str, s: &str) -> Result<Phone, RegistryError> {
    Phone::parse(s).map_err(|e| RegistryError::invalid(field, e))
}

impl Registry {
    /// An empty registry working with `config`.
    pub fn new(config: RegistryConfig) -> Self {
        Self {
            config,
            registrations: Registrations::default(),
            accounts: Vec::new(),
            by_phone: HashMap::new(),
            by_email: HashMap::new(),
            by_snils: HashMap::new(),
            by_passport: HashMap::new(),
            sessions: IdMap::default(),
            requests: IdMap::default(),
            partners: IdMap::default(),
            due: Deadlines::default(),
            census: Census::default(),
            centers: centers::directory(),
        }
    }

    /// The figures the registry works with.
    pub fn config(&self) -> &RegistryConfig {
        &self.config
    }

    /// How many entries each store holds: registrations, accounts, sessions, requests, partners.
    pub fn sizes(&self) -> [(Store, usize); 5] {
        [
            (Store::Registrations, self.registrations.len()),
            (Store::Accounts, self.accounts.len()),
            (Store::Sessions, self.sessions.len()),
            (Store::Requests, self.requests.len()),
            (Store::PartnerConfirmations, self.partners.len()),
        ]
    }

    /// Every account, in oid order (for invariant checks and exports).
    pub fn accounts(&self) -> impl Iterator<Item = &Account> {
        self.accounts.iter()
    }

    /// The account `oid`.
    pub fn account(&self, oid: Oid) -> Result<&Account, RegistryError> {
        oid.0
            .checked_sub(Oid::FIRST.0)
            .and_then(|i| self.accounts.get(usize::try_from(i).ok()?))
            .ok_or(NOT_FOUND_ACCOUNT)
    }

    /// Accounts by tier and verifications pending (for `/metrics`: no walk over the accounts).
    pub fn census(&self) -> Census {
        self.census
    }

    /// Changes account `oid` through `change`, then moves its counts in the census and its
    /// verification's timeout in the deadline index: every change to an account goes through
    /// here, so both stay exact.
    pub(super) fn update_account<T>(
        &mut self,
        oid: Oid,
        change: impl FnOnce(&mut Account) -> T,
    ) -> Result<T, RegistryError> {
        let i = oid
            .0
            .checked_sub(Oid::FIRST.0)
            .and_then(|i| usize::try_from(i).ok())
            .filter(|i| *i < self.accounts.len())
            .ok_or(NOT_FOUND_ACCOUNT)?;
        let a = &mut self.accounts[i];
        let (mark, due) = (
            Mark::of(&a.state),
            self.config.verification_due(a.state.verification()),
        );
        let out = change(a);
        let (mark_now, due_now) = (
            Mark::of(&a.state),
            self.config.verification_due(a.state.verification()),
        );
        self.census.moved(mark, mark_now);
        self.due
            .verifications
            .shift(Owner::Account(oid), due, due_now);
        Ok(out)
    }

    /// Changes partner request `cid` through `change`, keeping its deadlines indexed; `None`
    /// when there is no such request.
    pub(super) fn update_partner<T>(
        &mut self,
        cid: ConfirmationId,
        change: impl FnOnce(&mut PartnerConfirmation) -> T,
    ) -> Option<T> {
        let config = &self.config;
        let p = self.partners.get_mut(&cid)?;
        let due = |p: &PartnerConfirmation| {
            (
                config.verification_due(&p.verification),
                config.partner_due(p.created_at, p.decided_at),
            )
        };
        let before = due(p);
        let out = change(p);
        let after = due(p);
        self.due
            .verifications
            .shift(Owner::Partner(cid), before.0, after.0);
        self.due.partners.shift(cid, Some(before.1), Some(after.1));
        Some(out)
    }

    /// Adds an account; the caller has checked the cap and the indexes.
    pub(super) fn push_account(&mut self, mut account: Account) -> Oid {
        let oid = Oid(Oid::FIRST.0 + self.accounts.len() as u64);
        account.oid = oid;
        self.census.add(Mark::of(&account.state));
        if let Some(t) = self.config.verification_due(account.state.verification()) {
            self.due.verifications.insert(t, Owner::Account(oid));
        }
        if let Some(p) = account.phone {
            self.by_phone.insert(p, oid);
        }
        if let Some(e) = &account.email {
            self.by_email.insert(e.clone(), oid);
        }
        self.accounts.push(account);
        oid
    }

    pub(super) fn today(&self, now: SimTime) -> chrono::NaiveDate {
        self.config.epoch.date_of(now)
    }

    pub(super) fn notify(
        account: &Account,
        topic: Topic,
        subject: &str,
        text: String,
        effects: &mut Vec<Effect>,
    ) {
        if let Some(to) = account.phone {
            effects.push(Effect::SendSms { to, text, topic });
        } else if let Some(to) = &account.email {
            effects.push(Effect::SendMail {
                to: to.to_string(),
                subject: subject.to_owned(),
                text,
                topic,
            });
        }
    }

    /// A PFR and an FMS request for `owner`, issued `now` (PFR's drawn first).
    pub(super) fn new_verification_requests(
        &mut self,
        rng: &mut impl CryptoRng,
        now: SimTime,
        owner: Owner,
    ) -> (RequestId, RequestId) {
        let pfr = self.new_request(rng, now, owner, AgencyKind::Verifier(Agency::Pfr));
        let fms = self.new_request(rng, now, owner, AgencyKind::Verifier(Agency::Fms));
        (pfr, fms)
    }

    pub(super) fn new_request(
        &mut self,
        rng: &mut impl CryptoRng,
        now: SimTime,
        owner: Owner,
        agency: AgencyKind,
    ) -> RequestId {
        loop {
            let id = RequestId::random(rng);
            if let std::collections::hash_map::Entry::Vacant(e) = self.requests.entry(id) {
                e.insert(Request {
                    owner,
                    agency,
                    issued_at: now,
                    answered_until: None,
                });
                self.due
                    .requests
                    .insert(self.config.request_due(now, None), id);
                return id;
            }
        }
    }

    /// Takes back a request just issued, when the command that issued it fails.
    pub(super) fn withdraw_request(&mut self, id: RequestId) {
        if let Some(r) = self.requests.remove(&id) {
            let due = self.config.request_due(r.issued_at, r.answered_until);
            self.due.requests.remove(due, id);
        }
    }

    pub(super) fn has_room(&self, store: Store, extra: usize) -> Result<(), RegistryError> {
        let (len, cap) = match store {
            Store::Registrations => (self.registrations.len(), self.config.caps.registrations),
            Store::Accounts => (self.accounts.len(), self.config.caps.accounts),
            Store::Sessions => (self.sessions.len(), self.config.caps.sessions),
            Store::Requests => (self.requests.len(), self.config.caps.requests),
            Store::PartnerConfirmations => {
                (self.partners.len(), self.config.caps.partner_confirmations)
            }
        };
        if len + extra > cap {
            Err(full(store))
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::code;
    use crate::registry::ids::RegistrationId;
    use crate::registry::personal::tests::form;
    use crate::registry::testkit::Driver;
    use crate::registry::verification::FailureReason;
    use esia_mocks::agency::fms::FmsVerdict;
    use esia_mocks::agency::pfr::PfrVerdict;
    use esia_mocks::clock::MS_PER_DAY;

    /// The unit tests' world: the default configuration, seed 5, 10 s after the epoch.
    fn t() -> Driver {
        Driver::seeded(RegistryConfig::default(), 5, SimTime::from_secs(10))
    }

    /// What only these tests do: read a code from the registry's insides, set passwords unhashed.
    impl Driver {
        fn start(&mut self, phone: Option<&str>, email: Option<&str>) -> RegistrationId {
            let f = RegistrationForm {
                surname: "Иванов".into(),
                name: "Иван".into(),
                phone: phone.map(str::to_owned),
                email: email.map(str::to_owned),
                channel: None,
            };
            self.reg
                .start_registration(self.now, &mut self.rng, &f, &mut self.effects)
                .unwrap()
                .registration_id
        }

        fn code(&self, id: RegistrationId) -> String {
            let r = self.reg.registrations.get(id).unwrap();
            let policy = self.reg.policy_of(&r.text.contact);
            code::render(r.code.value(), &policy)
        }

        fn account(&mut self, phone: &str) -> Oid {
            let id = self.start(Some(phone), None);
            let c = self.code(id);
            self.reg.confirm_code(self.now, id, &c).unwrap();
            self.set_password(id).unwrap().oid
        }

        fn set_password(&mut self, id: RegistrationId) -> Result<Registered, RegistryError> {
            self.reg.set_password(
                self.now,
                &mut self.rng,
                id,
                PasswordHash::unhashed(),
                &mut self.effects,
            )
        }

        fn last_mail_token(&self) -> String {
            let Some(token) = self.effects.iter().rev().find_map(|e| match e {
                Effect::SendMail {
                    topic: Topic::RegistrationLink { token, .. },
                    ..
                } => Some(token.to_string()),
                _ => None,
            }) else {
                panic!("no e-mail sent")
            };
            token
        }
    }

    #[test]
    pub(super) fn login_finds_phone_email_and_snils() {
        let mut t = t();
        let a = t.account("+79160000001");
        let id = t.start(None, Some("Ivan@Mail.ru"));
        let c = t.code(id);
        t.reg.follow_email_link(t.now, id, &c).unwrap();
        let b = t.set_password(id).unwrap().oid;
        assert_eq!(t.reg.login_lookup("8 (916) 000-00-01").unwrap().oid, a);
        assert_eq!(t.reg.login_lookup(" ivan@mail.RU ").unwrap().oid, b);
        assert_eq!(
            t.reg.login_lookup("nobody@mail.ru"),
            Err(RegistryError::Unauthorized)
        );
        assert_eq!(t.reg.login_lookup(""), Err(RegistryError::Unauthorized));
        t.submit(a, &form()).unwrap();
        assert_eq!(t.reg.login_lookup("112-233-445 95").unwrap().oid, a);
        assert_eq!(t.reg.login_lookup("11223344595").unwrap().oid, a);
    }

    #[test]
    pub(super) fn a_code_for_the_wrong_channel_or_a_confirmed_resend_is_refused() {
        let mut t = t();
        let id = t.start(Some("+79160000002"), None);
        assert_eq!(
            t.reg.follow_email_link(t.now, id, "0123456789abcdef"),
            Err(RegistryError::WrongChannel {
                confirmed_by: "the SMS code"
            })
        );
        let c = t.code(id);
        t.reg.confirm_code(t.now, id, &c).unwrap();
        t.now = t.now.saturating_add(61_000);
        assert!(matches!(
            t.reg.resend_code(t.now, &mut t.rng, id, &mut t.effects),
            Err(RegistryError::AlreadyDone { .. })
        ));
    }

    #[test]
    pub(super) fn the_first_registration_of_a_phone_to_finish_wins() {
        let mut t = t();
        let first = t.start(Some("+79160000003"), None);
        let second = t.start(Some("+79160000003"), None);
        for id in [first, second] {
            let c = t.code(id);
            t.reg.confirm_code(t.now, id, &c).unwrap();
        }
        t.set_password(second).unwrap();
        assert_eq!(
            t.set_password(first),
            Err(RegistryError::ContactBound { field: "phone" })
        );
        t.reg.check_invariants().unwrap();
    }

    #[test]
    pub(super) fn failed_verification_frees_the_documents_for_their_owner() {
        let mut t = t();
        let typo = t.account("+79160000004");
        let owner = t.account("+79160000005");
        let d = t.submit(typo, &form()).unwrap();
        assert_eq!(
            t.submit(owner, &form()),
            Err(RegistryError::DocumentsBound { field: "snils" })
        );
        let out = t
            .reg
            .apply_pfr(t.now, d.pfr_request, PfrVerdict::Mismatch, &mut t.effects);
        assert_eq!(
            out,
            ReplyOutcome::VerificationFailed {
                oid: typo,
                reason: FailureReason::PfrMismatch
            }
        );
        t.submit(owner, &form()).unwrap();
        assert_eq!(
            t.submit(typo, &form()),
            Err(RegistryError::DocumentsBound { field: "snils" })
        );
        t.reg.check_invariants().unwrap();
    }

    #[test]
    pub(super) fn reply_tombstones_expire_and_late_replays_become_unknown() {
        let mut t = t();
        let a = t.account("+79160000006");
        let d = t.submit(a, &form()).unwrap();
        t.reg
            .apply_pfr(t.now, d.pfr_request, PfrVerdict::Match, &mut t.effects);
        t.reg
            .apply_fms(t.now, d.fms_request, FmsVerdict::Valid, &mut t.effects);
        assert_eq!(
            t.reg
                .apply_pfr(t.now, d.pfr_request, PfrVerdict::Match, &mut t.effects),
            ReplyOutcome::Ignored(IgnoredReply::AlreadyApplied)
        );
        t.now = t.now.saturating_add(MS_PER_DAY + 1);
        let e = t.reg.expire(t.now, &mut t.effects);
        assert_eq!(e.requests, 2);
        assert_eq!(
            t.reg
                .apply_pfr(t.now, d.pfr_request, PfrVerdict::Match, &mut t.effects),
            ReplyOutcome::Ignored(IgnoredReply::Unknown)
        );
        assert_eq!(t.reg.account(a).unwrap().state().tier(), Tier::Standard);
    }

    #[test]
    pub(super) fn a_bank_targets_the_snils_then_a_bare_phone_and_never_a_phone_with_other_documents(
    ) {
        let mut t = t();
        let bare = t.account("+79160000007");
        let data = form().validate(t.reg.today(t.now)).unwrap();
        let phone = Phone::parse("+79160000007").unwrap();
        assert_eq!(t.reg.partner_target(&data, phone), Ok(Some(bare)));
        assert_eq!(
            t.reg
                .partner_target(&data, Phone::parse("+79160000099").unwrap()),
            Ok(None)
        );
        let mut other = form();
        other.snils = "123-456-789 64".into();
        other.passport.number = "111111".into();
        t.submit(bare, &other).unwrap();
        assert_eq!(
            t.reg.partner_target(&data, phone),
            Err(PartnerRefusal::ContactBound)
        );
        let holder = t.account("+79160000008");
        t.submit(holder, &form()).unwrap();
        assert_eq!(
            t.reg
                .partner_target(&data, Phone::parse("+79160000008").unwrap()),
            Ok(Some(holder))
        );
    }

    #[test]
    pub(super) fn both_contacts_the_code_by_the_preferred_channel_then_the_other_after_the_password(
    ) {
        let mut t = t();
        // Both given: the SMS code by default; the e-mail waits.
        let id = t.start(Some("+79160000011"), Some("Both@Mail.ru"));
        assert!(matches!(t.effects.as_slice(), [Effect::SendSms { .. }]));
        let c = t.code(id);
        t.reg.confirm_code(t.now, id, &c).unwrap();
        t.effects.clear();
        let done = t.set_password(id).unwrap();
        let second = done.second_contact.expect("the e-mail's link is sent now");
        assert_eq!(second.channel, Channel::Email);
        assert_eq!(second.registration_id, id);
        let token = t.last_mail_token();
        // The registration now confirms the e-mail; it cannot set a password again.
        assert!(matches!(
            t.reg.check_password(id, "Vx7kPz9m", "Vx7kPz9m"),
            Err(RegistryError::AlreadyDone { .. })
        ));
        assert_eq!(
            t.reg.login_lookup("both@mail.ru"),
            Err(RegistryError::Unauthorized)
        );
        assert_eq!(
            t.reg.follow_email_link(t.now, id, &token),
            Ok(Some(done.oid))
        );
        // Followed again: the same answer; both are logins now.
        assert_eq!(
            t.reg.follow_email_link(t.now, id, &token),
            Ok(Some(done.oid))
        );
        assert_eq!(t.reg.login_lookup("both@mail.ru").unwrap().oid, done.oid);
        assert_eq!(t.reg.login_lookup("+79160000011").unwrap().oid, done.oid);
        t.reg.check_invariants().unwrap();

        // `channel: email` sends the link first and the SMS code after the password.
        let f = RegistrationForm {
            surname: "Петрова".into(),
            name: "Анна".into(),
            phone: Some("+79160000012".into()),
            email: Some("anna@mail.ru".into()),
            channel: Some(Channel::Email),
        };
        t.effects.clear();
        let started = t
            .reg
            .start_registration(t.now, &mut t.rng, &f, &mut t.effects)
            .unwrap();
        assert_eq!(started.channel, Channel::Email);
        let token = t.last_mail_token();
        assert_eq!(
            t.reg.confirm_code(t.now, started.registration_id, "123456"),
            Err(RegistryError::WrongChannel {
                confirmed_by: "the e-mail link"
            })
        );
        t.reg
            .follow_email_link(t.now, started.registration_id, &token)
            .unwrap();
        let done = t.set_password(started.registration_id).unwrap();
        assert_eq!(done.second_contact.map(|c| c.channel), Some(Channel::Sms));
        let code = t.code(started.registration_id);
        assert_eq!(
            t.reg.confirm_code(t.now, started.registration_id, &code),
            Ok(Some(done.oid))
        );
        assert_eq!(t.reg.login_lookup("+79160000012").unwrap().oid, done.oid);
        // A contact that is another account's login is refused at the start.
        let taken = RegistrationForm {
            email: Some("ANNA@mail.ru".into()),
            phone: Some("+79160000013".into()),
            ..f
        };
        assert_eq!(
            t.reg
                .start_registration(t.now, &mut t.rng, &taken, &mut t.effects),
            Err(RegistryError::ContactBound { field: "email" })
        );
        t.reg.check_invariants().unwrap();
    }

    #[test]
    pub(super) fn a_second_contact_taken_meanwhile_is_not_offered_and_not_bound() {
        let mut t = t();
        let id = t.start(Some("+79160000014"), Some("same@mail.ru"));
        let c = t.code(id);
        t.reg.confirm_code(t.now, id, &c).unwrap();
        // Another registration makes the e-mail its login first.
        let other = t.start(None, Some("same@mail.ru"));
        let token = t.last_mail_token();
        t.reg.follow_email_link(t.now, other, &token).unwrap();
        let owner = t.set_password(other).unwrap().oid;
        let done = t.set_password(id).unwrap();
        assert_eq!(done.second_contact, None);
        assert_eq!(t.reg.login_lookup("same@mail.ru").unwrap().oid, owner);
        t.reg.check_invariants().unwrap();
    }

    #[test]
    pub(super) fn operators_work_at_centers_of_the_directory_and_only_an_mfc_registers() {
        let mut t = t();
        let f = form();
        for (center, want) in [
            ("mfc-99", Some(RegistryError::CenterNotFound)),
            (
                "rostelecom-1",
                Some(RegistryError::CannotRegister { kind: "rostelecom" }),
            ),
            (
                "post-1",
                Some(RegistryError::CannotRegister { kind: "post" }),
            ),
            ("mvd-1", Some(RegistryError::CannotRegister { kind: "mvd" })),
            ("mfc-3", None),
        ] {
            let r = t.reg.mfc_register(
                t.now,
                center,
                &f,
                "+79160000015",
                PasswordHash::unhashed(),
                &mut t.effects,
            );
            assert_eq!(r.as_ref().err(), want.as_ref(), "{center}");
        }
        assert_eq!(
            t.reg.operator_confirm(
                t.now,
                "x",
                &f.snils,
                &f.passport.series,
                &f.passport.number,
                &mut t.effects
            ),
            Err(RegistryError::CenterNotFound)
        );
        assert_eq!(
            t.reg.center("rostelecom-1").map(|c| c.id.as_str()),
            Ok("rostelecom-1")
        );
    }

    #[test]
    pub(super) fn the_next_deadline_is_the_first_timeout_and_a_dropped_request_is_unknown_at_once()
    {
        let mut t = t();
        let a = t.account("+79160000016");
        let b = t.account("+79160000017");
        assert_eq!(t.reg.next_deadline(SimTime::ZERO), None);
        let timeout = t.reg.config().verification_timeout_ms;
        let tombstone = t.reg.config().reply_tombstone_ttl_ms;
        let first = t.submit(a, &form()).unwrap();
        let mut other = form();
        other.snils = "123-456-789 64".into();
        other.passport.number = "111111".into();
        t.now = t.now.saturating_add(MS_PER_DAY);
        let second = t.submit(b, &other).unwrap();
        let deadline_a = SimTime::from_secs(10).saturating_add(timeout + 1);
        let deadline_b = deadline_a.saturating_add(MS_PER_DAY);
        assert_eq!(t.reg.next_deadline(SimTime::ZERO), Some(deadline_a));
        assert_eq!(
            t.reg.next_deadline(deadline_a.saturating_add(1)),
            Some(deadline_b)
        );
        // A's verification decided: its deadline is gone.
        t.reg
            .apply_pfr(t.now, first.pfr_request, PfrVerdict::Match, &mut t.effects);
        t.reg
            .apply_fms(t.now, first.fms_request, FmsVerdict::Valid, &mut t.effects);
        assert_eq!(t.reg.next_deadline(SimTime::ZERO), Some(deadline_b));
        // B's times out exactly at its deadline, not a millisecond before.
        let before = deadline_b.saturating_sub(1);
        assert_eq!(
            t.reg.expire(before, &mut t.effects).verifications_timed_out,
            0
        );
        assert_eq!(
            t.reg
                .expire(deadline_b, &mut t.effects)
                .verifications_timed_out,
            1
        );
        assert_eq!(t.reg.next_deadline(SimTime::ZERO), None);
        // B's unanswered requests live a tombstone's life past the timeout: an answer before
        // that is recorded late; from the drop on it is unknown, housekeeping run or not (the
        // world's advance need not stop at the drop for a late answer to be taken the same).
        let dropped_b = SimTime::from_secs(10).saturating_add(MS_PER_DAY + timeout + tombstone + 1);
        let late = dropped_b.saturating_sub(1);
        assert_eq!(
            t.reg
                .apply_fms(late, second.fms_request, FmsVerdict::Valid, &mut t.effects),
            ReplyOutcome::Recorded
        );
        assert_eq!(
            t.reg.apply_pfr(
                dropped_b,
                second.pfr_request,
                PfrVerdict::Match,
                &mut t.effects
            ),
            ReplyOutcome::Ignored(IgnoredReply::Unknown)
        );
        assert_eq!(
            t.reg.account(b).unwrap().state().verification().pfr(),
            None,
            "an answer after the drop changes nothing"
        );
    }

    #[test]
    pub(super) fn the_birth_date_rule_applies_to_a_password_change_once_personal_data_are_known() {
        use crate::registry::password::PasswordError;
        let mut t = t();
        let oid = t.account("+79163829575");
        let f = form();
        let birth = chrono::NaiveDate::parse_from_str(&f.birth_date, "%Y-%m-%d").unwrap();
        let with_birth = format!("Xy{}q", birth.format("%d%m%Y"));
        // Not known yet: nothing to refuse.
        assert!(t
            .reg
            .check_new_password(oid, &with_birth, &with_birth)
            .is_ok());
        t.submit(oid, &f).unwrap();
        assert_eq!(
            t.reg.check_new_password(oid, &with_birth, &with_birth),
            Err(RegistryError::WeakPassword(
                PasswordError::ContainsBirthDate
            ))
        );
        // The phone and the surname, as at registration.
        assert_eq!(
            t.reg
                .check_new_password(oid, "X9163829575q", "X9163829575q"),
            Err(RegistryError::WeakPassword(PasswordError::ContainsPhone))
        );
        assert_eq!(
            t.reg.check_new_password(oid, "Ivanov77Q", "Ivanov77Q"),
            Err(RegistryError::WeakPassword(PasswordError::ContainsSurname))
        );
        assert!(t
            .reg
            .check_new_password(oid, "Vx7kPz9mN", "Vx7kPz9mN")
            .is_ok());
        t.reg
            .change_password(oid, PasswordHash::unhashed())
            .unwrap();
        assert_eq!(
            t.reg.check_new_password(Oid(1), "Vx7kPz9mN", "Vx7kPz9mN"),
            Err(NOT_FOUND_ACCOUNT)
        );
    }

    #[test]
    pub(super) fn expired_registrations_are_dropped_after_the_grace() {
        let mut t = t();
        let id = t.start(Some("+79160000009"), None);
        let grace = t.reg.config().registration_grace_ms;
        t.now = t.now.saturating_add(300_000 + grace);
        assert_eq!(t.reg.expire(t.now, &mut t.effects).registrations, 0);
        t.now = t.now.saturating_add(1);
        assert_eq!(t.reg.expire(t.now, &mut t.effects).registrations, 1);
        assert_eq!(
            t.reg.confirm_code(t.now, id, "000000"),
            Err(RegistryError::NotFound {
                what: "registration"
            })
        );
    }
}
