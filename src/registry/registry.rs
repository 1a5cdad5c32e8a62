//! The registry as the stand keeps it: registrations, accounts and their indexes, sessions,
//! agency requests in flight and partner confirmations, each store capped. One method per
//! command of the HTTP contract; each takes `now`, a CSPRNG where it makes codes or ids, and an
//! effect sink, and returns its outcome or a [`RegistryError`]. No I/O, no clock, no hashing.

use super::account::{AccountState, SignatureApplied, Tier};
use super::code::{self, CodeCheck, OneTimeCode, ResendRefused};
use super::config::{CodePolicy, RegistryConfig};
use super::confirmation::{ConfirmationMethod, Restrictions};
use super::effect::{Effect, FmsRequest, PfrRequest, Topic};
use super::error::{FieldError, RegistryError, Store};
use super::ids::{ConfirmationId, IdMap, Oid, RegistrationId, RequestId, SessionToken};
use super::password::{self, PasswordContext, PasswordHash};
use super::personal::{
    validate_contact_name, Address, PassportKey, PersonalData, PersonalDataForm,
};
use super::registrations::{Contact, Registration, RegistrationText, Registrations};
use super::verification::{FailureReason, ReplyApplied, Verification, VerificationStatus};
use esia_mocks::agency::banks::Bank;
use esia_mocks::agency::ca::CaVerdict;
use esia_mocks::agency::centers::{self, Center};
use esia_mocks::agency::fms::FmsVerdict;
use esia_mocks::agency::pfr::PfrVerdict;
use esia_mocks::clock::SimTime;
use esia_mocks::ident::{parse_email, parse_passport_number, PassportSeries, Phone, Snils};
use rand::CryptoRng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

/// How a registration's code travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Sms,
    Email,
}

/// The registration form (`POST /registrations`): names and a phone, an e-mail or both.
///
/// The code goes by `channel`, the preferred one: by default SMS when a phone is given, else
/// e-mail. Both contacts given: the other one gets its code (or link) once the password is set,
/// and becomes a second login when confirmed (as guide 003 shows: the phone's code, the
/// password, then the e-mail's link).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RegistrationForm {
    pub surname: String,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub channel: Option<Channel>,
}

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
}

/// The read model of an account (`GET /accounts/{oid}`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AccountView {
    pub oid: Oid,
    pub tier: Tier,
    pub trusted: bool,
    pub surname: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snils: Option<String>,
    pub verification: VerificationView,
    pub confirmation: ConfirmationView,
    pub restrictions: Restrictions,
}

/// `verification` of [`AccountView`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VerificationView {
    pub status: VerificationStatus,
    pub pfr: Option<PfrVerdict>,
    pub fms: Option<FmsVerdict>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<FailureReason>,
}

/// `confirmation` of [`AccountView`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConfirmationView {
    /// `none`, `letter_ordered`, `signature_pending` or `confirmed`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<ConfirmationMethod>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bank: Option<Bank>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmed_at: Option<SimTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub letter_confirmation_id: Option<ConfirmationId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub letter_expires_at: Option<SimTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_refusal: Option<CaVerdict>,
}

/// An account as the stand keeps it: the compact state plus the strings around it.
#[derive(Clone, Debug)]
pub struct Account {
    oid: Oid,
    state: AccountState,
    surname: Box<str>,
    name: Box<str>,
    phone: Option<Phone>,
    email: Option<Box<str>>,
    password: Option<PasswordHash>,
    personal: Option<Box<PersonalData>>,
    created_at: SimTime,
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

/// Which agency a request went to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AgencyKind {
    Pfr,
    Fms,
    Ca,
}

/// Whose a request (or a verification deadline) is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Owner {
    Account(Oid),
    Partner(ConfirmationId),
}

/// An agency request in flight, or the tombstone of an answered one.
#[derive(Clone, Copy, Debug)]
struct Request {
    owner: Owner,
    agency: AgencyKind,
    issued_at: SimTime,
    /// Set once answered: the tombstone is kept until then.
    answered_until: Option<SimTime>,
}

/// A partner bank's request to confirm its client.
#[derive(Clone, Debug)]
struct PartnerConfirmation {
    bank: Bank,
    /// The client's data until the request is decided (then moved into the account).
    data: Option<Box<PersonalData>>,
    phone: Phone,
    password: Option<PasswordHash>,
    verification: Verification,
    status: PartnerStatus,
    created_at: SimTime,
    decided_at: Option<SimTime>,
}

/// Every store of the registry.
pub struct Registry {
    config: RegistryConfig,
    registrations: Registrations,
    accounts: Vec<Account>,
    by_phone: HashMap<Phone, Oid>,
    by_email: HashMap<Box<str>, Oid>,
    by_snils: HashMap<Snils, Oid>,
    by_passport: HashMap<PassportKey, Oid>,
    sessions: IdMap<SessionToken, Session>,
    requests: IdMap<RequestId, Request>,
    partners: IdMap<ConfirmationId, PartnerConfirmation>,
    /// The instants at which pending verifications time out, for [`Registry::next_deadline`].
    deadlines: BTreeSet<(SimTime, Owner)>,
    /// The service centers whose operators use the operator API.
    centers: Vec<Center>,
}

const NOT_FOUND_REGISTRATION: RegistryError = RegistryError::NotFound {
    what: "registration",
};
const NOT_FOUND_ACCOUNT: RegistryError = RegistryError::NotFound { what: "account" };
const PASSWORD_SET: RegistryError = RegistryError::AlreadyDone {
    what: "the password is already set; the registration confirms the second contact",
};

fn full(store: Store) -> RegistryError {
    RegistryError::StoreFull { store }
}

fn code_error(check: CodeCheck) -> Result<(), RegistryError> {
    match check {
        CodeCheck::Accepted => Ok(()),
        CodeCheck::Wrong { attempts_left } => Err(RegistryError::CodeWrong { attempts_left }),
        CodeCheck::Expired => Err(RegistryError::CodeExpired),
        CodeCheck::Locked => Err(RegistryError::CodeLocked),
    }
}

fn full_name(d: &PersonalData) -> String {
    if d.patronymic.is_empty() {
        format!("{} {}", d.surname, d.name)
    } else {
        format!("{} {} {}", d.surname, d.name, d.patronymic)
    }
}

fn parse_phone(field: &'static str, s: &str) -> Result<Phone, RegistryError> {
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
            deadlines: BTreeSet::new(),
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

    fn account_mut(&mut self, oid: Oid) -> Result<&mut Account, RegistryError> {
        oid.0
            .checked_sub(Oid::FIRST.0)
            .and_then(|i| self.accounts.get_mut(usize::try_from(i).ok()?))
            .ok_or(NOT_FOUND_ACCOUNT)
    }

    /// Adds an account; the caller has checked the cap and the indexes.
    fn push_account(&mut self, mut account: Account) -> Oid {
        let oid = Oid(Oid::FIRST.0 + self.accounts.len() as u64);
        account.oid = oid;
        if let Some(p) = account.phone {
            self.by_phone.insert(p, oid);
        }
        if let Some(e) = &account.email {
            self.by_email.insert(e.clone(), oid);
        }
        self.accounts.push(account);
        oid
    }

    fn today(&self, now: SimTime) -> chrono::NaiveDate {
        self.config.epoch.date_of(now)
    }

    fn notify(
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

    fn new_request(
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
                return id;
            }
        }
    }

    fn has_room(&self, store: Store, extra: usize) -> Result<(), RegistryError> {
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

    // -----------------------------------------------------------------------------------------
    // Step 1: simplified account

    fn send_code(
        id: RegistrationId,
        reg: &Registration,
        policy: &CodePolicy,
        effects: &mut Vec<Effect>,
    ) {
        let written = code::render(reg.code.value(), policy);
        match &reg.text.contact {
            Contact::Phone(to) => effects.push(Effect::SendSms {
                to: *to,
                text: format!(
                    "Код подтверждения: {written}. Никому не сообщайте его. Госуслуги"
                ),
                topic: Topic::RegistrationCode,
            }),
            Contact::Email(to) => effects.push(Effect::SendMail {
                to: to.to_string(),
                subject: "Подтверждение регистрации на Госуслугах".to_owned(),
                text: format!(
                    "Здравствуйте, {}! Чтобы подтвердить адрес, перейдите по ссылке в течение 3 дней: \
                     /api/v1/registrations/{id}/email?token={written}",
                    reg.text.name
                ),
                topic: Topic::RegistrationLink,
            }),
        }
    }

    /// Starts a registration (`POST /registrations`): checks the names and the contacts (a
    /// phone, an e-mail or both; none another account's login), and sends an SMS code or an
    /// e-mail link by the preferred channel (see [`RegistrationForm`]).
    pub fn start_registration(
        &mut self,
        now: SimTime,
        rng: &mut impl CryptoRng,
        form: &RegistrationForm,
        effects: &mut Vec<Effect>,
    ) -> Result<RegistrationStarted, RegistryError> {
        let surname = validate_contact_name("surname", &form.surname)?;
        let name = validate_contact_name("name", &form.name)?;
        let phone = form.phone.as_deref().filter(|s| !s.trim().is_empty());
        let email = form.email.as_deref().filter(|s| !s.trim().is_empty());
        let phone = match phone {
            Some(p) => {
                let p = parse_phone("phone", p)?;
                if self.by_phone.contains_key(&p) {
                    return Err(RegistryError::ContactBound { field: "phone" });
                }
                Some(Contact::Phone(p))
            }
            None => None,
        };
        let email = match email {
            Some(e) => {
                let e = parse_email(e).map_err(|err| RegistryError::invalid("email", err))?;
                if self.by_email.contains_key(e.as_str()) {
                    return Err(RegistryError::ContactBound { field: "email" });
                }
                Some(Contact::Email(e.into()))
            }
            None => None,
        };
        let channel = match (form.channel, &phone, &email) {
            (_, None, None) => {
                return Err(RegistryError::invalid(
                    "phone",
                    FieldError::Rule("or an e-mail is needed"),
                ))
            }
            (Some(Channel::Sms), None, _) => {
                return Err(RegistryError::invalid(
                    "channel",
                    FieldError::Rule("is sms, which needs a phone"),
                ))
            }
            (Some(Channel::Email), _, None) => {
                return Err(RegistryError::invalid(
                    "channel",
                    FieldError::Rule("is email, which needs an e-mail"),
                ))
            }
            (Some(c), _, _) => c,
            (None, Some(_), _) => Channel::Sms,
            (None, None, Some(_)) => Channel::Email,
        };
        let (contact, second) = match channel {
            Channel::Sms => (phone, email),
            Channel::Email => (email, phone),
        };
        let contact = contact.ok_or(RegistryError::invalid(
            "channel",
            FieldError::Rule("names a contact that is not given"),
        ))?;
        self.has_room(Store::Registrations, 1)?;
        let policy = match channel {
            Channel::Sms => self.config.sms_code,
            Channel::Email => self.config.email_link,
        };
        let value = code::draw(rng, &policy);
        let reg = Registration {
            code: OneTimeCode::issue(now, value, &policy),
            confirmed: false,
            by_phone: channel == Channel::Sms,
            of_account: false,
            text: Box::new(RegistrationText {
                surname: surname.into(),
                name: name.into(),
                contact,
                second,
                account: None,
            }),
        };
        let expires_at = reg.code.expires_at();
        let id = self
            .registrations
            .insert(rng, reg)
            .ok_or(full(Store::Registrations))?;
        if let Some(reg) = self.registrations.get(id) {
            Self::send_code(id, reg, &policy, effects);
        }
        Ok(RegistrationStarted {
            registration_id: id,
            channel,
            expires_at,
        })
    }

    fn policy_of(&self, contact: &Contact) -> CodePolicy {
        match contact {
            Contact::Phone(_) => self.config.sms_code,
            Contact::Email(_) => self.config.email_link,
        }
    }

    fn check_registration_code(
        &mut self,
        now: SimTime,
        id: RegistrationId,
        typed: &str,
        want: Channel,
    ) -> Result<Option<Oid>, RegistryError> {
        let (sms, link) = (self.config.sms_code, self.config.email_link);
        let reg = self
            .registrations
            .get_mut(id)
            .ok_or(NOT_FOUND_REGISTRATION)?;
        let (policy, field) = match (reg.by_phone, want) {
            (true, Channel::Sms) => (sms, "code"),
            (false, Channel::Email) => (link, "token"),
            (by_phone, _) => {
                return Err(RegistryError::WrongChannel {
                    confirmed_by: if by_phone {
                        "the SMS code"
                    } else {
                        "the e-mail link"
                    },
                })
            }
        };
        let Some(value) = code::parse(typed, &policy) else {
            return Err(RegistryError::invalid(
                field,
                FieldError::Rule(if policy.digits == 0 {
                    "must be the 16 hex digits of the link"
                } else {
                    "must be the digits sent in the SMS"
                }),
            ));
        };
        code_error(reg.code.check(now, value))?;
        if !reg.of_account {
            reg.confirmed = true;
            return Ok(None);
        }
        // The account's second contact: it becomes a login, if no other account's.
        let (contact, oid) = match (&reg.text.contact, reg.text.account) {
            (c, Some(oid)) => (c.clone(), oid),
            (_, None) => return Ok(None),
        };
        self.add_login(oid, &contact)?;
        if let Some(reg) = self.registrations.get_mut(id) {
            reg.confirmed = true;
        }
        Ok(Some(oid))
    }

    /// Makes `contact` a login of account `oid` (again: nothing changes).
    fn add_login(&mut self, oid: Oid, contact: &Contact) -> Result<(), RegistryError> {
        match contact {
            Contact::Phone(p) => {
                if self.by_phone.get(p).is_some_and(|o| *o != oid) {
                    return Err(RegistryError::ContactBound { field: "phone" });
                }
                let account = self.account_mut(oid)?;
                match account.phone {
                    Some(q) if q != *p => {
                        return Err(RegistryError::AlreadyDone {
                            what: "the account has another phone already",
                        })
                    }
                    _ => account.phone = Some(*p),
                }
                self.by_phone.insert(*p, oid);
            }
            Contact::Email(e) => {
                if self.by_email.get(e).is_some_and(|o| *o != oid) {
                    return Err(RegistryError::ContactBound { field: "email" });
                }
                let account = self.account_mut(oid)?;
                match &account.email {
                    Some(f) if f != e => {
                        return Err(RegistryError::AlreadyDone {
                            what: "the account has another e-mail already",
                        })
                    }
                    _ => account.email = Some(e.clone()),
                }
                self.by_email.insert(e.clone(), oid);
            }
        }
        Ok(())
    }

    /// The SMS code typed (`POST /registrations/{id}/code`). The right code again after that is
    /// accepted again, so a retried request gets the same answer. When the code confirms the
    /// second contact of an account already made, the phone becomes its login: its oid.
    pub fn confirm_code(
        &mut self,
        now: SimTime,
        id: RegistrationId,
        typed: &str,
    ) -> Result<Option<Oid>, RegistryError> {
        self.check_registration_code(now, id, typed, Channel::Sms)
    }

    /// The e-mail link followed (`GET /registrations/{id}/email?token=T`); as
    /// [`Registry::confirm_code`], the e-mail may become an account's second login.
    pub fn follow_email_link(
        &mut self,
        now: SimTime,
        id: RegistrationId,
        token: &str,
    ) -> Result<Option<Oid>, RegistryError> {
        self.check_registration_code(now, id, token, Channel::Email)
    }

    /// A new code or link (`POST /registrations/{id}/resend`): a fresh lifetime and attempts.
    pub fn resend_code(
        &mut self,
        now: SimTime,
        rng: &mut impl CryptoRng,
        id: RegistrationId,
        effects: &mut Vec<Effect>,
    ) -> Result<RegistrationStarted, RegistryError> {
        let reg = self.registrations.get(id).ok_or(NOT_FOUND_REGISTRATION)?;
        if reg.confirmed {
            return Err(RegistryError::AlreadyDone {
                what: "the contact is already confirmed",
            });
        }
        let policy = self.policy_of(&reg.text.contact);
        reg.code.can_resend(now, &policy).map_err(|r| match r {
            ResendRefused::TooSoon { retry_after_ms } => {
                RegistryError::ResendTooSoon { retry_after_ms }
            }
            ResendRefused::TooMany => RegistryError::ResendLimit,
        })?;
        let value = code::draw(rng, &policy);
        let reg = self
            .registrations
            .get_mut(id)
            .ok_or(NOT_FOUND_REGISTRATION)?;
        let expires_at = reg
            .code
            .resend(now, value, &policy)
            .map_err(|_| RegistryError::ResendLimit)?;
        Self::send_code(id, reg, &policy, effects);
        Ok(RegistrationStarted {
            registration_id: id,
            channel: match reg.text.contact {
                Contact::Phone(_) => Channel::Sms,
                Contact::Email(_) => Channel::Email,
            },
            expires_at,
        })
    }

    /// Checks a password against the rules for this registration (before the caller hashes it,
    /// outside any lock). The birth date is not known yet: that rule applies to a later change
    /// ([`Registry::check_new_password`]).
    pub fn check_password(
        &self,
        id: RegistrationId,
        password: &str,
        repeat: &str,
    ) -> Result<(), RegistryError> {
        let reg = self.registrations.get(id).ok_or(NOT_FOUND_REGISTRATION)?;
        if reg.of_account {
            return Err(PASSWORD_SET);
        }
        if !reg.confirmed {
            return Err(RegistryError::ContactNotConfirmed);
        }
        let ctx = PasswordContext {
            phone: match reg.text.contact {
                Contact::Phone(p) => Some(p),
                Contact::Email(_) => None,
            },
            birth_date: None,
            surname: Some(&reg.text.surname),
        };
        password::check(password, repeat, &ctx)?;
        Ok(())
    }

    /// Sets the password (already checked and hashed by the caller) and makes the simplified
    /// account (`POST /registrations/{id}/password`), its login the confirmed contact. The
    /// registration is used up; or, when a second contact was given (and is still no one's
    /// login), it lives on to confirm that one: its code or link is sent now.
    pub fn set_password(
        &mut self,
        now: SimTime,
        rng: &mut impl CryptoRng,
        id: RegistrationId,
        hash: PasswordHash,
        effects: &mut Vec<Effect>,
    ) -> Result<Registered, RegistryError> {
        let reg = self.registrations.get(id).ok_or(NOT_FOUND_REGISTRATION)?;
        if reg.of_account {
            return Err(PASSWORD_SET);
        }
        if !reg.confirmed {
            return Err(RegistryError::ContactNotConfirmed);
        }
        // Another registration of the same contact may have finished first.
        let (phone, email) = match &reg.text.contact {
            Contact::Phone(p) => {
                if self.by_phone.contains_key(p) {
                    return Err(RegistryError::ContactBound { field: "phone" });
                }
                (Some(*p), None)
            }
            Contact::Email(e) => {
                if self.by_email.contains_key(e) {
                    return Err(RegistryError::ContactBound { field: "email" });
                }
                (None, Some(e.clone()))
            }
        };
        let second = reg.text.second.clone().filter(|c| match c {
            Contact::Phone(p) => !self.by_phone.contains_key(p),
            Contact::Email(e) => !self.by_email.contains_key(e),
        });
        self.has_room(Store::Accounts, 1)?;
        let (surname, name) = (reg.text.surname.clone(), reg.text.name.clone());
        let oid = self.push_account(Account {
            oid: Oid(0),
            state: AccountState::simplified(),
            surname,
            name,
            phone,
            email,
            password: Some(hash),
            personal: None,
            created_at: now,
        });
        let Some(second) = second else {
            self.registrations.remove(id);
            return Ok(Registered {
                oid,
                tier: Tier::Simplified,
                second_contact: None,
            });
        };
        let policy = self.policy_of(&second);
        let value = code::draw(rng, &policy);
        let reg = self
            .registrations
            .get_mut(id)
            .ok_or(NOT_FOUND_REGISTRATION)?;
        reg.code = OneTimeCode::issue(now, value, &policy);
        reg.confirmed = false;
        reg.by_phone = matches!(second, Contact::Phone(_));
        reg.of_account = true;
        let channel = if reg.by_phone {
            Channel::Sms
        } else {
            Channel::Email
        };
        reg.text.contact = second;
        reg.text.second = None;
        reg.text.account = Some(oid);
        Self::send_code(id, reg, &policy, effects);
        Ok(Registered {
            oid,
            tier: Tier::Simplified,
            second_contact: Some(RegistrationStarted {
                registration_id: id,
                channel,
                expires_at: reg.code.expires_at(),
            }),
        })
    }

    /// Checks a new password of account `oid` (`PUT /accounts/{oid}/password`) against every
    /// rule, with the facts the registry holds about the person: the phone, and once personal
    /// data are submitted the birth date and the surname in them (else the surname given at
    /// registration). Returns the stored hash, for the caller to verify the current password
    /// outside any lock, then hash the new one and call [`Registry::change_password`].
    pub fn check_new_password(
        &self,
        oid: Oid,
        password: &str,
        repeat: &str,
    ) -> Result<PasswordHash, RegistryError> {
        let a = self.account(oid)?;
        let current = a.password.clone().ok_or(RegistryError::PasswordNotSet)?;
        let personal = a.personal.as_deref();
        let ctx = PasswordContext {
            phone: a.phone,
            birth_date: personal.map(|d| d.birth_date),
            surname: Some(personal.map_or(&*a.surname, |d| d.surname.as_str())),
        };
        password::check(password, repeat, &ctx)?;
        Ok(current)
    }

    /// Replaces account `oid`'s password (checked and hashed by the caller; an MFC's one-time
    /// password is changed this way).
    pub fn change_password(&mut self, oid: Oid, hash: PasswordHash) -> Result<(), RegistryError> {
        self.account_mut(oid)?.password = Some(hash);
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // Login and sessions

    fn find_login(&self, login: &str) -> Option<Oid> {
        let login = login.trim();
        if login.contains('@') {
            let e = parse_email(login).ok()?;
            return self.by_email.get(e.as_str()).copied();
        }
        if let Ok(p) = Phone::parse(login) {
            if let Some(oid) = self.by_phone.get(&p) {
                return Some(*oid);
            }
        }
        let s = Snils::parse(login).ok()?;
        self.by_snils.get(&s).copied()
    }

    /// First step of a login (`POST /sessions`): finds the account by phone, e-mail or SNILS and
    /// returns its hash. The caller verifies the password outside any lock, then calls
    /// [`Registry::open_session`]. An unknown login is `Unauthorized`, like a wrong password.
    pub fn login_lookup(&self, login: &str) -> Result<LoginCandidate, RegistryError> {
        let oid = self.find_login(login).ok_or(RegistryError::Unauthorized)?;
        let account = self.account(oid)?;
        let hash = account
            .password
            .clone()
            .ok_or(RegistryError::PasswordNotSet)?;
        Ok(LoginCandidate { oid, hash })
    }

    /// Second step of a login: the password was right; opens a session.
    pub fn open_session(
        &mut self,
        now: SimTime,
        rng: &mut impl CryptoRng,
        oid: Oid,
    ) -> Result<Session, RegistryError> {
        self.account(oid)?;
        self.has_room(Store::Sessions, 1)?;
        let token = loop {
            let t = SessionToken::random(rng);
            if !self.sessions.contains_key(&t) {
                break t;
            }
        };
        let session = Session {
            token,
            oid,
            expires_at: now.saturating_add(self.config.session_ttl_ms),
        };
        self.sessions.insert(token, session);
        Ok(session)
    }

    /// The account a session token belongs to, if the session is open at `now`.
    pub fn authenticate(&self, now: SimTime, token: SessionToken) -> Result<Oid, RegistryError> {
        match self.sessions.get(&token) {
            Some(s) if now <= s.expires_at => Ok(s.oid),
            _ => Err(RegistryError::Unauthorized),
        }
    }

    /// Checks that `token` is an open session of account `oid`.
    pub fn authorize(
        &self,
        now: SimTime,
        token: SessionToken,
        oid: Oid,
    ) -> Result<(), RegistryError> {
        if self.authenticate(now, token)? == oid {
            Ok(())
        } else {
            Err(RegistryError::Unauthorized)
        }
    }

    /// Closes a session (logout). Closing an unknown session is not an error.
    pub fn close_session(&mut self, token: SessionToken) {
        self.sessions.remove(&token);
    }

    // -----------------------------------------------------------------------------------------
    // Reading

    /// The read model of account `oid` (`GET /accounts/{oid}`).
    pub fn account_view(&self, oid: Oid) -> Result<AccountView, RegistryError> {
        let a = self.account(oid)?;
        let s = &a.state;
        let v = s.verification();
        let c = s.confirmation();
        let status = if s.trusted() {
            "confirmed"
        } else if c.signature_request().is_some() {
            "signature_pending"
        } else if c.letter().is_some() {
            "letter_ordered"
        } else {
            "none"
        };
        Ok(AccountView {
            oid,
            tier: s.tier(),
            trusted: s.trusted(),
            surname: a.surname.to_string(),
            name: a.name.to_string(),
            phone: a.phone.map(|p| p.canonical()),
            email: a.email.as_deref().map(str::to_owned),
            snils: a
                .binds_documents()
                .then(|| a.personal.as_ref().map(|p| p.snils.canonical()))
                .flatten(),
            verification: VerificationView {
                status: v.status(),
                pfr: v.pfr(),
                fms: v.fms(),
                reason: v.reason(),
            },
            confirmation: ConfirmationView {
                status,
                method: c.method(),
                bank: c.method().and_then(ConfirmationMethod::bank),
                confirmed_at: c.confirmed_at(),
                letter_confirmation_id: c.letter().map(|l| l.confirmation_id),
                letter_expires_at: c.letter().map(|l| l.code.expires_at()),
                last_refusal: c.last_refusal(),
            },
            restrictions: s.restrictions(),
        })
    }

    // -----------------------------------------------------------------------------------------
    // Step 2: standard account

    /// Refuses documents bound to an account other than `owner` (`None`: to any account).
    fn documents_free(&self, data: &PersonalData, owner: Option<Oid>) -> Result<(), RegistryError> {
        if let Some(o) = self.by_snils.get(&data.snils) {
            if Some(*o) != owner {
                return Err(RegistryError::DocumentsBound { field: "snils" });
            }
        }
        if let Some(o) = self.by_passport.get(&data.passport.key()) {
            if Some(*o) != owner {
                return Err(RegistryError::DocumentsBound { field: "passport" });
            }
        }
        Ok(())
    }

    fn bind_documents(&mut self, data: &PersonalData, oid: Oid) {
        self.by_snils.insert(data.snils, oid);
        self.by_passport.insert(data.passport.key(), oid);
    }

    fn unbind_documents(&mut self, oid: Oid) {
        let Ok(a) = self.account(oid) else { return };
        let Some(d) = a.personal.as_deref() else {
            return;
        };
        let (snils, passport) = (d.snils, d.passport.key());
        if self.by_snils.get(&snils) == Some(&oid) {
            self.by_snils.remove(&snils);
        }
        if self.by_passport.get(&passport) == Some(&oid) {
            self.by_passport.remove(&passport);
        }
    }

    fn verification_effects(
        data: &PersonalData,
        pfr_request: RequestId,
        fms_request: RequestId,
        effects: &mut Vec<Effect>,
    ) {
        effects.push(Effect::VerifyPfr(PfrRequest {
            request_id: pfr_request,
            snils: data.snils,
            surname: data.surname.clone(),
            name: data.name.clone(),
            patronymic: data.patronymic.clone(),
            birth_date: data.birth_date,
            gender: data.gender,
        }));
        effects.push(Effect::VerifyFms(FmsRequest {
            request_id: fms_request,
            series: data.passport.series,
            number: data.passport.number,
            surname: data.surname.clone(),
            name: data.name.clone(),
            patronymic: data.patronymic.clone(),
            birth_date: data.birth_date,
            issue_date: data.passport.issue_date,
        }));
    }

    /// Personal data submitted (`PUT /accounts/{oid}/personal-data`): validated, the documents
    /// bound to this account, and PFR and FMS asked in parallel.
    pub fn submit_personal_data(
        &mut self,
        now: SimTime,
        rng: &mut impl CryptoRng,
        oid: Oid,
        form: &PersonalDataForm,
        effects: &mut Vec<Effect>,
    ) -> Result<VerificationDispatched, RegistryError> {
        self.account(oid)?.state.can_submit_personal_data()?;
        let data = form.validate(self.today(now))?;
        self.documents_free(&data, Some(oid))?;
        self.has_room(Store::Requests, 2)?;
        let pfr_request = self.new_request(rng, now, Owner::Account(oid), AgencyKind::Pfr);
        let fms_request = self.new_request(rng, now, Owner::Account(oid), AgencyKind::Fms);
        // The transition first: nothing is bound or sent unless it succeeds.
        let moved = self
            .account_mut(oid)
            .and_then(|a| a.state.submit_personal_data(now, pfr_request, fms_request));
        if let Err(e) = moved {
            self.requests.remove(&pfr_request);
            self.requests.remove(&fms_request);
            return Err(e);
        }
        Self::verification_effects(&data, pfr_request, fms_request, effects);
        self.bind_documents(&data, oid);
        self.account_mut(oid)?.personal = Some(Box::new(data));
        self.deadlines
            .insert((self.deadline_of(now), Owner::Account(oid)));
        Ok(VerificationDispatched {
            oid,
            pfr_request,
            fms_request,
        })
    }

    /// Looks up a reply's request: `Err` with the reason to ignore it, else its owner; marks it
    /// answered.
    fn take_request(
        &mut self,
        now: SimTime,
        id: RequestId,
        agency: AgencyKind,
    ) -> Result<Owner, IgnoredReply> {
        let tombstone = now.saturating_add(self.config.reply_tombstone_ttl_ms);
        let r = self.requests.get_mut(&id).ok_or(IgnoredReply::Unknown)?;
        if r.agency != agency {
            return Err(IgnoredReply::WrongAgency);
        }
        if r.answered_until.is_some() {
            return Err(IgnoredReply::AlreadyApplied);
        }
        r.answered_until = Some(tombstone);
        Ok(r.owner)
    }

    /// PFR's reply to `request_id`. Unknown and repeated replies are ignored and said to be.
    pub fn apply_pfr(
        &mut self,
        now: SimTime,
        request_id: RequestId,
        verdict: PfrVerdict,
        effects: &mut Vec<Effect>,
    ) -> ReplyOutcome {
        self.apply_verdict(
            now,
            request_id,
            AgencyKind::Pfr,
            Verdict::Pfr(verdict),
            effects,
        )
    }

    /// FMS's reply to `request_id`.
    pub fn apply_fms(
        &mut self,
        now: SimTime,
        request_id: RequestId,
        verdict: FmsVerdict,
        effects: &mut Vec<Effect>,
    ) -> ReplyOutcome {
        self.apply_verdict(
            now,
            request_id,
            AgencyKind::Fms,
            Verdict::Fms(verdict),
            effects,
        )
    }

    /// PFR or FMS could not be reached for `request_id` (the stand gave up retrying): the
    /// verification fails with `pfr_unavailable` or `fms_unavailable`.
    pub fn apply_unavailable(
        &mut self,
        now: SimTime,
        request_id: RequestId,
        effects: &mut Vec<Effect>,
    ) -> ReplyOutcome {
        let agency = match self.requests.get(&request_id) {
            Some(r) if r.agency == AgencyKind::Pfr => AgencyKind::Pfr,
            Some(r) if r.agency == AgencyKind::Fms => AgencyKind::Fms,
            Some(_) => return ReplyOutcome::Ignored(IgnoredReply::WrongAgency),
            None => return ReplyOutcome::Ignored(IgnoredReply::Unknown),
        };
        self.apply_verdict(now, request_id, agency, Verdict::Unavailable, effects)
    }

    fn apply_verdict(
        &mut self,
        now: SimTime,
        request_id: RequestId,
        agency: AgencyKind,
        verdict: Verdict,
        effects: &mut Vec<Effect>,
    ) -> ReplyOutcome {
        let owner = match self.take_request(now, request_id, agency) {
            Ok(o) => o,
            Err(why) => return ReplyOutcome::Ignored(why),
        };
        let deadline = self.pending_deadline(owner);
        let outcome = self.apply_to_owner(now, owner, request_id, verdict, effects);
        if let Some(t) = deadline.filter(|t| self.pending_deadline(owner) != Some(*t)) {
            self.deadlines.remove(&(t, owner));
        }
        outcome
    }

    fn apply_to_owner(
        &mut self,
        now: SimTime,
        owner: Owner,
        request_id: RequestId,
        verdict: Verdict,
        effects: &mut Vec<Effect>,
    ) -> ReplyOutcome {
        match owner {
            Owner::Account(oid) => {
                let Ok(account) = self.account_mut(oid) else {
                    return ReplyOutcome::Ignored(IgnoredReply::Unknown);
                };
                let applied = match verdict {
                    Verdict::Pfr(v) => account.state.apply_pfr(now, request_id, v),
                    Verdict::Fms(v) => account.state.apply_fms(now, request_id, v),
                    Verdict::Unavailable => account.state.apply_unavailable(now, request_id),
                };
                self.account_verification_result(now, oid, applied, effects)
            }
            Owner::Partner(cid) => {
                let Some(p) = self.partners.get_mut(&cid) else {
                    return ReplyOutcome::Ignored(IgnoredReply::Unknown);
                };
                let applied = verdict.apply(&mut p.verification, now, request_id);
                self.partner_result(now, cid, applied, effects)
            }
        }
    }

    fn account_verification_result(
        &mut self,
        now: SimTime,
        oid: Oid,
        applied: ReplyApplied,
        effects: &mut Vec<Effect>,
    ) -> ReplyOutcome {
        match applied {
            ReplyApplied::Waiting | ReplyApplied::Late => ReplyOutcome::Recorded,
            ReplyApplied::Stale => ReplyOutcome::Ignored(IgnoredReply::Stale),
            ReplyApplied::Duplicate => ReplyOutcome::Ignored(IgnoredReply::AlreadyApplied),
            ReplyApplied::Passed => {
                if let Ok(a) = self.account(oid) {
                    Self::notify(
                        a,
                        Topic::VerificationPassed,
                        "Проверка данных завершена",
                        "Ваши данные проверены. Учётная запись стандартная. Госуслуги".to_owned(),
                        effects,
                    );
                }
                ReplyOutcome::VerificationPassed { oid }
            }
            ReplyApplied::Failed(reason) => {
                self.verification_failed(now, oid, reason, effects);
                ReplyOutcome::VerificationFailed { oid, reason }
            }
        }
    }

    fn verification_failed(
        &mut self,
        _now: SimTime,
        oid: Oid,
        reason: FailureReason,
        effects: &mut Vec<Effect>,
    ) {
        self.unbind_documents(oid);
        if let Ok(a) = self.account(oid) {
            Self::notify(
                a,
                Topic::VerificationFailed(reason),
                "Проверка данных не пройдена",
                format!(
                    "Данные не прошли проверку ({}). Проверьте их и отправьте снова. Госуслуги",
                    reason.as_str()
                ),
                effects,
            );
        }
    }

    // -----------------------------------------------------------------------------------------
    // Step 3: confirmed account

    /// Orders a post letter with a code (`POST /accounts/{oid}/confirmations {method: "post"}`),
    /// to `address` or the address of the personal data. Ordering again re-orders a lost letter:
    /// the new code replaces the old one.
    pub fn order_letter(
        &mut self,
        now: SimTime,
        rng: &mut impl CryptoRng,
        oid: Oid,
        address: Option<&Address>,
        effects: &mut Vec<Effect>,
    ) -> Result<LetterOrdered, RegistryError> {
        let policy = self.config.letter_code;
        let account = self.account(oid)?;
        account.state.can_order_letter(now, &policy)?;
        let personal = account
            .personal
            .as_deref()
            .ok_or(RegistryError::WrongTier {
                needed: Tier::Standard,
            })?;
        let address = match address {
            Some(a) => a.validate()?,
            None => personal.address.clone().ok_or_else(|| {
                RegistryError::invalid("address", FieldError::Rule("is needed to send a letter"))
            })?,
        };
        let recipient = full_name(personal);
        let value = code::draw(rng, &policy);
        let confirmation_id = ConfirmationId::random(rng);
        let account = self.account_mut(oid)?;
        let ordered = account
            .state
            .order_letter(now, confirmation_id, value, &policy)?;
        effects.push(Effect::OrderLetter {
            confirmation_id,
            oid,
            recipient,
            address,
            code: code::render(value, &policy),
        });
        Ok(LetterOrdered {
            oid,
            confirmation_id,
            expires_at: ordered.expires_at,
            reorder: ordered.reorder,
        })
    }

    /// The letter's code typed (`POST /accounts/{oid}/confirmations/code`): confirmed, with
    /// `no_fns_cabinet`.
    pub fn enter_letter_code(
        &mut self,
        now: SimTime,
        oid: Oid,
        typed: &str,
        effects: &mut Vec<Effect>,
    ) -> Result<Confirmed, RegistryError> {
        let policy = self.config.letter_code;
        let value = code::parse(typed, &policy).ok_or_else(|| {
            RegistryError::invalid("code", FieldError::Rule("must be the digits in the letter"))
        })?;
        let account = self.account_mut(oid)?;
        let was = account.state.tier();
        account.state.enter_letter_code(now, value)?;
        if was != Tier::Confirmed {
            Self::notify(
                account,
                Topic::Confirmed(ConfirmationMethod::PostLetter),
                "Учётная запись подтверждена",
                "Учётная запись подтверждена кодом из письма. Госуслуги".to_owned(),
                effects,
            );
        }
        Ok(Confirmed {
            oid,
            method: ConfirmationMethod::PostLetter,
        })
    }

    /// A confirmation signed with a qualified e-signature or a UEC card
    /// (`POST /accounts/{oid}/confirmations {method: "e_signature"}`): the CA is asked about the
    /// certificate; [`Registry::apply_certificate`] takes its verdict.
    pub fn sign(
        &mut self,
        now: SimTime,
        rng: &mut impl CryptoRng,
        oid: Oid,
        serial: &str,
        issuer: &str,
        effects: &mut Vec<Effect>,
    ) -> Result<RequestId, RegistryError> {
        let serial = serial.trim();
        let issuer = issuer.trim();
        if serial.is_empty()
            || serial.len() > 64
            || !serial.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(RegistryError::invalid(
                "certificate.serial",
                FieldError::Rule("must be 1 to 64 letters and digits"),
            ));
        }
        if issuer.is_empty() || issuer.chars().count() > 250 {
            return Err(RegistryError::invalid(
                "certificate.issuer",
                FieldError::Rule("must be 1 to 250 characters"),
            ));
        }
        let account = self.account(oid)?;
        account.state.can_sign()?;
        let snils = account
            .personal
            .as_ref()
            .map(|p| p.snils)
            .ok_or(RegistryError::WrongTier {
                needed: Tier::Standard,
            })?;
        self.has_room(Store::Requests, 1)?;
        let request_id = self.new_request(rng, now, Owner::Account(oid), AgencyKind::Ca);
        let moved = self
            .account_mut(oid)
            .and_then(|a| a.state.start_signature(request_id));
        if let Err(e) = moved {
            self.requests.remove(&request_id);
            return Err(e);
        }
        effects.push(Effect::CheckCertificate {
            request_id,
            serial: serial.to_owned(),
            issuer: issuer.to_owned(),
            snils,
        });
        Ok(request_id)
    }

    /// The CA's verdict on a certificate check.
    pub fn apply_certificate(
        &mut self,
        now: SimTime,
        request_id: RequestId,
        verdict: CaVerdict,
        effects: &mut Vec<Effect>,
    ) -> ReplyOutcome {
        let oid = match self.take_request(now, request_id, AgencyKind::Ca) {
            Ok(Owner::Account(oid)) => oid,
            Ok(Owner::Partner(_)) => return ReplyOutcome::Ignored(IgnoredReply::WrongAgency),
            Err(why) => return ReplyOutcome::Ignored(why),
        };
        let Ok(account) = self.account_mut(oid) else {
            return ReplyOutcome::Ignored(IgnoredReply::Unknown);
        };
        match account.state.apply_certificate(now, request_id, verdict) {
            SignatureApplied::Confirmed => {
                Self::notify(
                    account,
                    Topic::Confirmed(ConfirmationMethod::ESignature),
                    "Учётная запись подтверждена",
                    "Учётная запись подтверждена электронной подписью. Госуслуги".to_owned(),
                    effects,
                );
                ReplyOutcome::Confirmed {
                    oid,
                    method: ConfirmationMethod::ESignature,
                }
            }
            SignatureApplied::Refused(verdict) => ReplyOutcome::SignatureRefused { oid, verdict },
            SignatureApplied::Stale => ReplyOutcome::Ignored(IgnoredReply::Stale),
        }
    }

    /// The CA could not be reached about `request_id` (the stand gave up retrying): the check
    /// is dropped, so the account no longer shows `signature_pending` and may sign again.
    pub fn apply_certificate_unavailable(
        &mut self,
        now: SimTime,
        request_id: RequestId,
    ) -> ReplyOutcome {
        let oid = match self.take_request(now, request_id, AgencyKind::Ca) {
            Ok(Owner::Account(oid)) => oid,
            Ok(Owner::Partner(_)) => return ReplyOutcome::Ignored(IgnoredReply::WrongAgency),
            Err(why) => return ReplyOutcome::Ignored(why),
        };
        match self.account_mut(oid) {
            Ok(a) => {
                if a.state.abandon_signature(request_id) {
                    ReplyOutcome::Recorded
                } else {
                    ReplyOutcome::Ignored(IgnoredReply::Stale)
                }
            }
            Err(_) => ReplyOutcome::Ignored(IgnoredReply::Unknown),
        }
    }

    /// The service center `id` of the centers' directory
    /// ([`esia_mocks::agency::centers::directory`]).
    pub fn center(&self, id: &str) -> Result<&Center, RegistryError> {
        self.centers
            .iter()
            .find(|c| c.id == id)
            .ok_or(RegistryError::CenterNotFound)
    }

    /// The service center `id`, if its operators may register accounts (an MFC only: 004).
    pub fn registering_center(&self, id: &str) -> Result<&Center, RegistryError> {
        let center = self.center(id)?;
        if center.kind.can_register() {
            Ok(center)
        } else {
            Err(RegistryError::CannotRegister {
                kind: center.kind.as_str(),
            })
        }
    }

    /// An operator at service center `center_id` confirms identity
    /// (`POST /operator/confirmations`): the center must be in the directory, the SNILS must
    /// name a standard account and the passport shown must be that account's. (Opening hours
    /// are the counter's business: the centers' mock enforces them when asked to.)
    pub fn operator_confirm(
        &mut self,
        now: SimTime,
        center_id: &str,
        snils: &str,
        passport_series: &str,
        passport_number: &str,
        effects: &mut Vec<Effect>,
    ) -> Result<Confirmed, RegistryError> {
        self.center(center_id)?;
        let snils = Snils::parse(snils).map_err(|e| RegistryError::invalid("snils", e))?;
        let series = PassportSeries::parse(passport_series)
            .map_err(|e| RegistryError::invalid("passport.series", e))?;
        let number = parse_passport_number(passport_number)
            .map_err(|e| RegistryError::invalid("passport.number", e))?;
        let oid = *self.by_snils.get(&snils).ok_or(NOT_FOUND_ACCOUNT)?;
        let account = self.account_mut(oid)?;
        let bound = account.personal.as_ref().map(|p| p.passport.key());
        if bound != Some(PassportKey::new(series, number)) {
            return Err(RegistryError::DocumentsMismatch { field: "passport" });
        }
        account.state.confirm_in_person(now)?;
        Self::notify(
            account,
            Topic::Confirmed(ConfirmationMethod::ServiceCenter),
            "Учётная запись подтверждена",
            "Учётная запись подтверждена в центре обслуживания. Госуслуги".to_owned(),
            effects,
        );
        Ok(Confirmed {
            oid,
            method: ConfirmationMethod::ServiceCenter,
        })
    }

    /// An operator of MFC `center_id` registers a confirmed account from personal data and a
    /// phone (`POST /operator/registrations`); any other kind of center cannot. The caller made
    /// the one-time password and hashed it.
    pub fn mfc_register(
        &mut self,
        now: SimTime,
        center_id: &str,
        form: &PersonalDataForm,
        phone: &str,
        one_time_password: PasswordHash,
        effects: &mut Vec<Effect>,
    ) -> Result<MfcRegistered, RegistryError> {
        let data = form.validate(self.today(now))?;
        self.registering_center(center_id)?;
        let phone = parse_phone("phone", phone)?;
        self.documents_free(&data, None)?;
        if self.by_phone.contains_key(&phone) {
            return Err(RegistryError::ContactBound { field: "phone" });
        }
        self.has_room(Store::Accounts, 1)?;
        let oid = self.push_account(Account {
            oid: Oid(0),
            state: AccountState::mfc_registered(now),
            surname: data.surname.clone().into(),
            name: data.name.clone().into(),
            phone: Some(phone),
            email: None,
            password: Some(one_time_password),
            personal: None,
            created_at: now,
        });
        self.bind_documents(&data, oid);
        let account = self.account_mut(oid)?;
        account.personal = Some(Box::new(data));
        Self::notify(
            account,
            Topic::AccountCreated,
            "Учётная запись создана",
            "Для вас создана подтверждённая учётная запись. Войдите с паролем, выданным в МФЦ. Госуслуги"
                .to_owned(),
            effects,
        );
        Ok(MfcRegistered { oid, login: phone })
    }

    /// A partner bank asks to confirm its client (`POST /partners/{bank}/confirmations`): PFR and
    /// FMS are asked; once both agree, the account with this SNILS (or, failing that, with this
    /// phone and no documents) is confirmed, or a new confirmed account is made with `password`
    /// (`None`: no password; the citizen logs in after a recovery the registry does not model).
    #[allow(clippy::too_many_arguments)]
    pub fn bank_confirm(
        &mut self,
        now: SimTime,
        rng: &mut impl CryptoRng,
        bank: Bank,
        form: &PersonalDataForm,
        phone: &str,
        password: Option<PasswordHash>,
        effects: &mut Vec<Effect>,
    ) -> Result<PartnerCheckStarted, RegistryError> {
        let data = form.validate(self.today(now))?;
        let phone = parse_phone("phone", phone)?;
        let target = self.partner_target(&data, phone).map_err(|r| match r {
            PartnerRefusal::ContactBound => RegistryError::ContactBound { field: "phone" },
            _ => RegistryError::DocumentsBound { field: "passport" },
        })?;
        if let Some(oid) = target {
            self.account(oid)?.state.can_confirm_by_bank()?;
        }
        self.has_room(Store::PartnerConfirmations, 1)?;
        self.has_room(Store::Requests, 2)?;
        let cid = loop {
            let id = ConfirmationId::random(rng);
            if !self.partners.contains_key(&id) {
                break id;
            }
        };
        let pfr_request = self.new_request(rng, now, Owner::Partner(cid), AgencyKind::Pfr);
        let fms_request = self.new_request(rng, now, Owner::Partner(cid), AgencyKind::Fms);
        let mut verification = Verification::new();
        verification
            .submit(now, pfr_request, fms_request)
            .map_err(|_| RegistryError::VerificationPending)?;
        Self::verification_effects(&data, pfr_request, fms_request, effects);
        self.partners.insert(
            cid,
            PartnerConfirmation {
                bank,
                data: Some(Box::new(data)),
                phone,
                password,
                verification,
                status: PartnerStatus::Pending,
                created_at: now,
                decided_at: None,
            },
        );
        self.deadlines
            .insert((self.deadline_of(now), Owner::Partner(cid)));
        Ok(PartnerCheckStarted {
            confirmation_id: cid,
            pfr_request,
            fms_request,
        })
    }

    /// The account a partner's client data point at: the one holding the SNILS, else the one
    /// whose login is the phone and which holds no documents, else none (a new one is made).
    fn partner_target(
        &self,
        data: &PersonalData,
        phone: Phone,
    ) -> Result<Option<Oid>, PartnerRefusal> {
        if let Some(&oid) = self.by_snils.get(&data.snils) {
            if self
                .by_passport
                .get(&data.passport.key())
                .is_some_and(|o| *o != oid)
            {
                return Err(PartnerRefusal::DocumentsBound);
            }
            if self.by_phone.get(&phone).is_some_and(|o| *o != oid) {
                return Err(PartnerRefusal::ContactBound);
            }
            return Ok(Some(oid));
        }
        if self.by_passport.contains_key(&data.passport.key()) {
            return Err(PartnerRefusal::DocumentsBound);
        }
        match self.by_phone.get(&phone) {
            Some(&oid) => {
                let a = self
                    .account(oid)
                    .map_err(|_| PartnerRefusal::ContactBound)?;
                if a.binds_documents() {
                    Err(PartnerRefusal::ContactBound)
                } else {
                    Ok(Some(oid))
                }
            }
            None => Ok(None),
        }
    }

    /// Where a partner's confirmation stands.
    pub fn partner_status(&self, id: ConfirmationId) -> Result<PartnerStatus, RegistryError> {
        self.partners
            .get(&id)
            .map(|p| p.status)
            .ok_or(RegistryError::NotFound {
                what: "partner confirmation",
            })
    }

    fn partner_result(
        &mut self,
        now: SimTime,
        cid: ConfirmationId,
        applied: ReplyApplied,
        effects: &mut Vec<Effect>,
    ) -> ReplyOutcome {
        let status = match applied {
            ReplyApplied::Waiting | ReplyApplied::Late => return ReplyOutcome::Recorded,
            ReplyApplied::Stale => return ReplyOutcome::Ignored(IgnoredReply::Stale),
            ReplyApplied::Duplicate => return ReplyOutcome::Ignored(IgnoredReply::AlreadyApplied),
            ReplyApplied::Failed(reason) => {
                PartnerStatus::Refused(PartnerRefusal::Verification(reason))
            }
            ReplyApplied::Passed => self.complete_partner(now, cid, effects),
        };
        if let Some(p) = self.partners.get_mut(&cid) {
            p.status = status;
            p.decided_at = Some(now);
        }
        match status {
            PartnerStatus::Confirmed { oid, created } => ReplyOutcome::PartnerConfirmed {
                confirmation_id: cid,
                oid,
                created,
            },
            PartnerStatus::Refused(reason) => ReplyOutcome::PartnerRefused {
                confirmation_id: cid,
                reason,
            },
            PartnerStatus::Pending => ReplyOutcome::Recorded,
        }
    }

    /// PFR and FMS agreed on a partner's client: confirms or makes the account.
    fn complete_partner(
        &mut self,
        now: SimTime,
        cid: ConfirmationId,
        effects: &mut Vec<Effect>,
    ) -> PartnerStatus {
        let Some(p) = self.partners.get_mut(&cid) else {
            return PartnerStatus::Refused(PartnerRefusal::DocumentsBound);
        };
        let (bank, phone, verification) = (p.bank, p.phone, p.verification);
        let Some(data) = p.data.take() else {
            return PartnerStatus::Refused(PartnerRefusal::DocumentsBound);
        };
        let password = p.password.take();
        let target = match self.partner_target(&data, phone) {
            Ok(t) => t,
            Err(refusal) => return PartnerStatus::Refused(refusal),
        };
        let method = ConfirmationMethod::Bank(bank);
        let text = format!(
            "Учётная запись подтверждена через банк ({}). Госуслуги",
            bank.as_str()
        );
        match target {
            Some(oid) => {
                let Ok(account) = self.account(oid) else {
                    return PartnerStatus::Refused(PartnerRefusal::DocumentsBound);
                };
                let mut state = account.state;
                if state.confirm_by_bank(now, bank, verification).is_err() {
                    // Confirmed some other way meanwhile: nothing to do.
                    return PartnerStatus::Confirmed {
                        oid,
                        created: false,
                    };
                }
                self.unbind_documents(oid);
                self.bind_documents(&data, oid);
                let phone_free = !self.by_phone.contains_key(&phone);
                let account = match self.account_mut(oid) {
                    Ok(a) => a,
                    Err(_) => return PartnerStatus::Refused(PartnerRefusal::DocumentsBound),
                };
                account.state = state;
                account.personal = Some(data);
                if account.phone.is_none() && phone_free {
                    account.phone = Some(phone);
                    self.by_phone.insert(phone, oid);
                }
                let account = &self.accounts[(oid.0 - Oid::FIRST.0) as usize];
                Self::notify(
                    account,
                    Topic::Confirmed(method),
                    "Учётная запись подтверждена",
                    text,
                    effects,
                );
                PartnerStatus::Confirmed {
                    oid,
                    created: false,
                }
            }
            None => {
                if self.has_room(Store::Accounts, 1).is_err() {
                    // The partner sees a refusal it can retry later; the agencies' work is lost.
                    return PartnerStatus::Refused(PartnerRefusal::Verification(
                        FailureReason::Timeout,
                    ));
                }
                let Ok(state) = AccountState::bank_created(now, bank, verification) else {
                    return PartnerStatus::Refused(PartnerRefusal::Verification(
                        FailureReason::Timeout,
                    ));
                };
                let oid = self.push_account(Account {
                    oid: Oid(0),
                    state,
                    surname: data.surname.clone().into(),
                    name: data.name.clone().into(),
                    phone: Some(phone),
                    email: None,
                    password,
                    personal: None,
                    created_at: now,
                });
                self.bind_documents(&data, oid);
                let account = &mut self.accounts[(oid.0 - Oid::FIRST.0) as usize];
                account.personal = Some(data);
                Self::notify(
                    account,
                    Topic::AccountCreated,
                    "Учётная запись создана",
                    text,
                    effects,
                );
                PartnerStatus::Confirmed { oid, created: true }
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Housekeeping

    /// When a verification submitted at `submitted_at` times out: the first instant at which
    /// [`Registry::expire`] fails it.
    fn deadline_of(&self, submitted_at: SimTime) -> SimTime {
        submitted_at
            .saturating_add(self.config.verification_timeout_ms)
            .saturating_add(1)
    }

    /// The deadline of `owner`'s verification while it is pending.
    fn pending_deadline(&self, owner: Owner) -> Option<SimTime> {
        let v = match owner {
            Owner::Account(oid) => self.account(oid).ok()?.state.verification(),
            Owner::Partner(cid) => &self.partners.get(&cid)?.verification,
        };
        (v.status() == VerificationStatus::Pending).then(|| self.deadline_of(v.submitted_at()))
    }

    /// The first instant at or after `from` at which [`Registry::expire`] has a verification to
    /// time out (the world's advance steps the clock to it, so a timeout happens at its own
    /// time).
    pub fn next_deadline(&mut self, from: SimTime) -> Option<SimTime> {
        // Deadlines of verifications decided otherwise are dropped as they come first.
        while let Some(&(t, owner)) = self.deadlines.first() {
            if self.pending_deadline(owner) == Some(t) {
                break;
            }
            self.deadlines.pop_first();
        }
        let first_owner = Owner::Account(Oid(0));
        self.deadlines
            .range((from, first_owner)..)
            .next()
            .map(|(t, _)| *t)
    }

    /// Drops what has expired at `now`: registrations past their code's life and the grace,
    /// closed sessions, old reply tombstones and decided partner requests; fails verifications
    /// unanswered for longer than the timeout (notifying the citizen, in oid order).
    pub fn expire(&mut self, now: SimTime, effects: &mut Vec<Effect>) -> Expired {
        let mut out = Expired::default();
        let grace = self.config.registration_grace_ms;
        out.registrations = self
            .registrations
            .retain(|r| now.ms_since(r.code.expires_at()) <= grace);

        let before = self.sessions.len();
        self.sessions.retain(|_, s| now <= s.expires_at);
        out.sessions = before - self.sessions.len();

        let timeout = self.config.verification_timeout_ms;
        let keep_ms = timeout.saturating_add(self.config.reply_tombstone_ttl_ms);
        let before = self.requests.len();
        self.requests.retain(|_, r| match r.answered_until {
            Some(until) => now <= until,
            None => now.ms_since(r.issued_at) <= keep_ms,
        });
        out.requests = before - self.requests.len();

        // Accounts are in oid order, so the notifications are too.
        let mut timed_out = Vec::new();
        for a in &mut self.accounts {
            if a.state.time_out(now, timeout) {
                timed_out.push(a.oid);
            }
        }
        out.verifications_timed_out = timed_out.len();
        for oid in timed_out {
            self.verification_failed(now, oid, FailureReason::Timeout, effects);
        }
        // Every deadline up to now has been met (by the time-outs above and below).
        while self.deadlines.first().is_some_and(|(t, _)| *t <= now) {
            self.deadlines.pop_first();
        }

        let tomb = self.config.reply_tombstone_ttl_ms;
        let before = self.partners.len();
        for p in self.partners.values_mut() {
            if p.verification.time_out(now, timeout) {
                p.status =
                    PartnerStatus::Refused(PartnerRefusal::Verification(FailureReason::Timeout));
                p.decided_at = Some(now);
            }
        }
        self.partners.retain(|_, p| match p.decided_at {
            Some(at) => now.ms_since(at) <= tomb,
            None => now.ms_since(p.created_at) <= keep_ms,
        });
        out.partner_confirmations = before - self.partners.len();
        out
    }

    /// Checks the registry's invariants: each account's own (see [`AccountState`]), and that the
    /// document indexes hold exactly the documents of the accounts that bind them, so no two
    /// accounts share a SNILS or a passport. For tests; O(accounts).
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut snils = HashMap::new();
        let mut passports = HashMap::new();
        for a in &self.accounts {
            a.state
                .check_invariants()
                .map_err(|e| format!("account {}: {e}", a.oid))?;
            if !a.binds_documents() {
                continue;
            }
            let d = a.personal.as_deref().ok_or("binds without data")?;
            if let Some(other) = snils.insert(d.snils, a.oid) {
                return Err(format!("accounts {other} and {} share a SNILS", a.oid));
            }
            if let Some(other) = passports.insert(d.passport.key(), a.oid) {
                return Err(format!("accounts {other} and {} share a passport", a.oid));
            }
            if self.by_snils.get(&d.snils) != Some(&a.oid)
                || self.by_passport.get(&d.passport.key()) != Some(&a.oid)
            {
                return Err(format!(
                    "account {}'s documents are missing from the indexes",
                    a.oid
                ));
            }
        }
        if snils.len() != self.by_snils.len() || passports.len() != self.by_passport.len() {
            return Err("the document indexes hold documents no account binds".into());
        }
        for (p, oid) in &self.by_phone {
            if self.account(*oid).ok().and_then(|a| a.phone) != Some(*p) {
                return Err(format!(
                    "phone index points {p} at {oid}, which has another phone"
                ));
            }
        }
        Ok(())
    }
}

/// A verdict of either verification agency, or the absence of one.
#[derive(Clone, Copy, Debug)]
enum Verdict {
    Pfr(PfrVerdict),
    Fms(FmsVerdict),
    Unavailable,
}

impl Verdict {
    fn apply(self, v: &mut Verification, now: SimTime, request: RequestId) -> ReplyApplied {
        match self {
            Verdict::Pfr(x) => v.apply_pfr(now, request, x),
            Verdict::Fms(x) => v.apply_fms(now, request, x),
            Verdict::Unavailable => v.apply_unavailable(now, request),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::personal::tests::form;
    use esia_mocks::clock::MS_PER_DAY;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    struct T {
        reg: Registry,
        rng: ChaCha20Rng,
        fx: Vec<Effect>,
        now: SimTime,
    }

    impl T {
        fn new() -> Self {
            Self {
                reg: Registry::new(RegistryConfig::default()),
                rng: ChaCha20Rng::seed_from_u64(5),
                fx: Vec::new(),
                now: SimTime::from_secs(10),
            }
        }

        fn start(&mut self, phone: Option<&str>, email: Option<&str>) -> RegistrationId {
            let f = RegistrationForm {
                surname: "Иванов".into(),
                name: "Иван".into(),
                phone: phone.map(str::to_owned),
                email: email.map(str::to_owned),
                channel: None,
            };
            self.reg
                .start_registration(self.now, &mut self.rng, &f, &mut self.fx)
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
                &mut self.fx,
            )
        }

        fn last_mail_token(&self) -> String {
            let Some(Effect::SendMail { text, .. }) = self
                .fx
                .iter()
                .rev()
                .find(|e| matches!(e, Effect::SendMail { .. }))
            else {
                panic!("no e-mail sent")
            };
            text.rsplit("token=").next().unwrap().trim().to_owned()
        }

        fn submit(
            &mut self,
            oid: Oid,
            f: &PersonalDataForm,
        ) -> Result<VerificationDispatched, RegistryError> {
            self.reg
                .submit_personal_data(self.now, &mut self.rng, oid, f, &mut self.fx)
        }
    }

    #[test]
    fn login_finds_phone_email_and_snils() {
        let mut t = T::new();
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
    fn a_code_for_the_wrong_channel_or_a_confirmed_resend_is_refused() {
        let mut t = T::new();
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
            t.reg.resend_code(t.now, &mut t.rng, id, &mut t.fx),
            Err(RegistryError::AlreadyDone { .. })
        ));
    }

    #[test]
    fn the_first_registration_of_a_phone_to_finish_wins() {
        let mut t = T::new();
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
    fn failed_verification_frees_the_documents_for_their_owner() {
        let mut t = T::new();
        let typo = t.account("+79160000004");
        let owner = t.account("+79160000005");
        let d = t.submit(typo, &form()).unwrap();
        assert_eq!(
            t.submit(owner, &form()),
            Err(RegistryError::DocumentsBound { field: "snils" })
        );
        let out = t
            .reg
            .apply_pfr(t.now, d.pfr_request, PfrVerdict::Mismatch, &mut t.fx);
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
    fn reply_tombstones_expire_and_late_replays_become_unknown() {
        let mut t = T::new();
        let a = t.account("+79160000006");
        let d = t.submit(a, &form()).unwrap();
        t.reg
            .apply_pfr(t.now, d.pfr_request, PfrVerdict::Match, &mut t.fx);
        t.reg
            .apply_fms(t.now, d.fms_request, FmsVerdict::Valid, &mut t.fx);
        assert_eq!(
            t.reg
                .apply_pfr(t.now, d.pfr_request, PfrVerdict::Match, &mut t.fx),
            ReplyOutcome::Ignored(IgnoredReply::AlreadyApplied)
        );
        t.now = t.now.saturating_add(MS_PER_DAY + 1);
        let e = t.reg.expire(t.now, &mut t.fx);
        assert_eq!(e.requests, 2);
        assert_eq!(
            t.reg
                .apply_pfr(t.now, d.pfr_request, PfrVerdict::Match, &mut t.fx),
            ReplyOutcome::Ignored(IgnoredReply::Unknown)
        );
        assert_eq!(t.reg.account(a).unwrap().state().tier(), Tier::Standard);
    }

    #[test]
    fn a_bank_targets_the_snils_then_a_bare_phone_and_never_a_phone_with_other_documents() {
        let mut t = T::new();
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
    fn both_contacts_the_code_by_the_preferred_channel_then_the_other_after_the_password() {
        let mut t = T::new();
        // Both given: the SMS code by default; the e-mail waits.
        let id = t.start(Some("+79160000011"), Some("Both@Mail.ru"));
        assert!(matches!(t.fx.as_slice(), [Effect::SendSms { .. }]));
        let c = t.code(id);
        t.reg.confirm_code(t.now, id, &c).unwrap();
        t.fx.clear();
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
        t.fx.clear();
        let started = t
            .reg
            .start_registration(t.now, &mut t.rng, &f, &mut t.fx)
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
                .start_registration(t.now, &mut t.rng, &taken, &mut t.fx),
            Err(RegistryError::ContactBound { field: "email" })
        );
        t.reg.check_invariants().unwrap();
    }

    #[test]
    fn a_second_contact_taken_meanwhile_is_not_offered_and_not_bound() {
        let mut t = T::new();
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
    fn operators_work_at_centers_of_the_directory_and_only_an_mfc_registers() {
        let mut t = T::new();
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
                &mut t.fx,
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
                &mut t.fx
            ),
            Err(RegistryError::CenterNotFound)
        );
        assert_eq!(
            t.reg.center("rostelecom-1").map(|c| c.id.as_str()),
            Ok("rostelecom-1")
        );
    }

    #[test]
    fn the_next_deadline_is_the_first_pending_verification_s_timeout() {
        let mut t = T::new();
        let a = t.account("+79160000016");
        let b = t.account("+79160000017");
        assert_eq!(t.reg.next_deadline(SimTime::ZERO), None);
        let timeout = t.reg.config().verification_timeout_ms;
        let first = t.submit(a, &form()).unwrap();
        let mut other = form();
        other.snils = "123-456-789 64".into();
        other.passport.number = "111111".into();
        t.now = t.now.saturating_add(MS_PER_DAY);
        t.submit(b, &other).unwrap();
        let deadline_a = SimTime::from_secs(10).saturating_add(timeout + 1);
        let deadline_b = deadline_a.saturating_add(MS_PER_DAY);
        assert_eq!(t.reg.next_deadline(SimTime::ZERO), Some(deadline_a));
        assert_eq!(
            t.reg.next_deadline(deadline_a.saturating_add(1)),
            Some(deadline_b)
        );
        // A's verification decided: its deadline is gone.
        t.reg
            .apply_pfr(t.now, first.pfr_request, PfrVerdict::Match, &mut t.fx);
        t.reg
            .apply_fms(t.now, first.fms_request, FmsVerdict::Valid, &mut t.fx);
        assert_eq!(t.reg.next_deadline(SimTime::ZERO), Some(deadline_b));
        // B's times out exactly at its deadline, not a millisecond before.
        let before = deadline_b.saturating_sub(1);
        assert_eq!(t.reg.expire(before, &mut t.fx).verifications_timed_out, 0);
        assert_eq!(
            t.reg.expire(deadline_b, &mut t.fx).verifications_timed_out,
            1
        );
        assert_eq!(t.reg.next_deadline(SimTime::ZERO), None);
    }

    #[test]
    fn the_birth_date_rule_applies_to_a_password_change_once_personal_data_are_known() {
        use crate::registry::password::PasswordError;
        let mut t = T::new();
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
    fn expired_registrations_are_dropped_after_the_grace() {
        let mut t = T::new();
        let id = t.start(Some("+79160000009"), None);
        let grace = t.reg.config().registration_grace_ms;
        t.now = t.now.saturating_add(300_000 + grace);
        assert_eq!(t.reg.expire(t.now, &mut t.fx).registrations, 0);
        t.now = t.now.saturating_add(1);
        assert_eq!(t.reg.expire(t.now, &mut t.fx).registrations, 1);
        assert_eq!(
            t.reg.confirm_code(t.now, id, "000000"),
            Err(RegistryError::NotFound {
                what: "registration"
            })
        );
    }
}
