//! Step 3, the confirmed account, by the citizen or an operator: the post letter and its code,
//! the qualified e-signature and the CA's verdict, a service center's operator, an MFC's
//! registration.

use super::account::{AccountState, SignatureApplied, Tier};
use super::code::{self};
use super::confirmation::ConfirmationMethod;
use super::effect::{Effect, Topic};
use super::error::{FieldError, RegistryError, Store};
use super::expiry::Owner;
use super::ids::{ConfirmationId, Oid, RequestId};
use super::password::PasswordHash;
use super::personal::{Address, PassportKey, PersonalDataForm};
use super::registry::*;
use esia_mocks::agency::ca::CaVerdict;
use esia_mocks::agency::centers::Center;
use esia_mocks::clock::SimTime;
use esia_mocks::ident::{parse_passport_number, PassportSeries, Snils};
use rand::CryptoRng;

impl Registry {
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
        let ordered = self.update_account(oid, |a| {
            a.state.order_letter(now, confirmation_id, value, &policy)
        })??;
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
        self.update_account(oid, |account| {
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
            Ok::<(), RegistryError>(())
        })??;
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
            .update_account(oid, |a| a.state.start_signature(request_id))
            .and_then(|r| r);
        if let Err(e) = moved {
            self.withdraw_request(request_id);
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
        let outcome = self.update_account(oid, |account| {
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
                SignatureApplied::Refused(verdict) => {
                    ReplyOutcome::SignatureRefused { oid, verdict }
                }
                SignatureApplied::Stale => ReplyOutcome::Ignored(IgnoredReply::Stale),
            }
        });
        outcome.unwrap_or(ReplyOutcome::Ignored(IgnoredReply::Unknown))
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
        match self.update_account(oid, |a| a.state.abandon_signature(request_id)) {
            Ok(true) => ReplyOutcome::Recorded,
            Ok(false) => ReplyOutcome::Ignored(IgnoredReply::Stale),
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
        self.update_account(oid, |account| {
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
            Ok(())
        })??;
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
        self.update_account(oid, |account| {
            account.personal = Some(Box::new(data));
            Self::notify(
                account,
                Topic::AccountCreated,
                "Учётная запись создана",
                "Для вас создана подтверждённая учётная запись. Войдите с паролем, выданным в МФЦ. Госуслуги"
                    .to_owned(),
                effects,
            );
        })?;
        Ok(MfcRegistered { oid, login: phone })
    }
}
