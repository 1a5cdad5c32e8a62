//! Step 1, the simplified account: the registration form, the code or link sent by the
//! preferred channel, resends, the password that makes the account, a second contact that
//! becomes a second login; password changes.

use super::account::{AccountState, Tier};
use super::code::{self, OneTimeCode, ResendRefused};
use super::config::CodePolicy;
use super::effect::{Effect, Topic};
use super::error::{FieldError, RegistryError, Store};
use super::ids::{Oid, RegistrationId};
use super::password::{self, PasswordContext, PasswordHash};
use super::personal::validate_contact_name;
use super::registrations::{Contact, Registration, RegistrationText};
use super::registry::*;
use esia_mocks::clock::SimTime;
use esia_mocks::ident::parse_email;
use rand::CryptoRng;
use serde::{Deserialize, Serialize};

/// How a registration's code travels: the population's preferred channel, one definition for
/// the citizens, the engine and the load journeys.
pub use esia_mocks::population::Channel;

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

impl Registry {
    pub(super) fn send_code(
        id: RegistrationId,
        reg: &Registration,
        policy: &CodePolicy,
        effects: &mut Vec<Effect>,
    ) {
        let written = code::Written::new(reg.code.value(), policy);
        match &reg.text.contact {
            Contact::Phone(to) => effects.push(Effect::SendSms {
                to: *to,
                text: format!(
                    "Код подтверждения: {written}. Никому не сообщайте его. Госуслуги"
                ),
                topic: Topic::RegistrationCode {
                    registration_id: id,
                    code: written,
                },
            }),
            Contact::Email(to) => effects.push(Effect::SendMail {
                to: to.to_string(),
                subject: "Подтверждение регистрации на Госуслугах".to_owned(),
                text: format!(
                    "Здравствуйте, {}! Чтобы подтвердить адрес, перейдите по ссылке в течение 3 дней: \
                     {}",
                    reg.text.name,
                    super::effect::link_path(id, written)
                ),
                topic: Topic::RegistrationLink {
                    registration_id: id,
                    token: written,
                },
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
        self.due
            .registrations
            .insert(self.config.registration_due(expires_at), id);
        if let Some(reg) = self.registrations.get(id) {
            Self::send_code(id, reg, &policy, effects);
        }
        Ok(RegistrationStarted {
            registration_id: id,
            channel,
            expires_at,
        })
    }

    /// Takes registration `id` out of the store and its deadline out of the index.
    pub(super) fn remove_registration(&mut self, id: RegistrationId) {
        if let Some(r) = self.registrations.remove(id) {
            let due = self.config.registration_due(r.code.expires_at());
            self.due.registrations.remove(due, id);
        }
    }

    pub(super) fn policy_of(&self, contact: &Contact) -> CodePolicy {
        match contact {
            Contact::Phone(_) => self.config.sms_code,
            Contact::Email(_) => self.config.email_link,
        }
    }

    pub(super) fn check_registration_code(
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
    pub(super) fn add_login(&mut self, oid: Oid, contact: &Contact) -> Result<(), RegistryError> {
        match contact {
            Contact::Phone(p) => {
                if self.by_phone.get(p).is_some_and(|o| *o != oid) {
                    return Err(RegistryError::ContactBound { field: "phone" });
                }
                self.update_account(oid, |account| match account.phone {
                    Some(q) if q != *p => Err(RegistryError::AlreadyDone {
                        what: "the account has another phone already",
                    }),
                    _ => {
                        account.phone = Some(*p);
                        Ok(())
                    }
                })??;
                self.by_phone.insert(*p, oid);
            }
            Contact::Email(e) => {
                if self.by_email.get(e).is_some_and(|o| *o != oid) {
                    return Err(RegistryError::ContactBound { field: "email" });
                }
                self.update_account(oid, |account| match &account.email {
                    Some(f) if f != e => Err(RegistryError::AlreadyDone {
                        what: "the account has another e-mail already",
                    }),
                    _ => {
                        account.email = Some(e.clone());
                        Ok(())
                    }
                })??;
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
        let was = reg.code.expires_at();
        let expires_at = reg
            .code
            .resend(now, value, &policy)
            .map_err(|_| RegistryError::ResendLimit)?;
        self.due.registrations.shift(
            id,
            Some(self.config.registration_due(was)),
            Some(self.config.registration_due(expires_at)),
        );
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
            self.remove_registration(id);
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
        let was = reg.code.expires_at();
        reg.code = OneTimeCode::issue(now, value, &policy);
        self.due.registrations.shift(
            id,
            Some(self.config.registration_due(was)),
            Some(self.config.registration_due(reg.code.expires_at())),
        );
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

    /// Makes a simplified account for `email` through the commands a citizen uses: the
    /// registration, the link followed (its token read from the registration, as the citizen
    /// reads it in the letter, which is not sent), the password (`hash`) set. For a stand that
    /// must hold many accounts before a measurement (`serve --preload-accounts`).
    pub fn register_by_email(
        &mut self,
        now: SimTime,
        rng: &mut impl CryptoRng,
        surname: &str,
        name: &str,
        email: &str,
        hash: PasswordHash,
    ) -> Result<Oid, RegistryError> {
        let form = RegistrationForm {
            surname: surname.to_owned(),
            name: name.to_owned(),
            email: Some(email.to_owned()),
            ..RegistrationForm::default()
        };
        let mut letter = Vec::new();
        let id = self
            .start_registration(now, rng, &form, &mut letter)?
            .registration_id;
        let value = self
            .registrations
            .get(id)
            .ok_or(NOT_FOUND_REGISTRATION)?
            .code
            .value();
        let token = code::render(value, &self.config.email_link);
        self.follow_email_link(now, id, &token)?;
        Ok(self.set_password(now, rng, id, hash, &mut letter)?.oid)
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
        self.update_account(oid, |a| a.password = Some(hash))
    }
}
