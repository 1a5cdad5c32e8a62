//! The partner (bank) workflow: a bank asks to confirm its client; PFR and FMS are asked; once
//! they agree, the client's account (by SNILS, else a bare phone account) is confirmed or a new
//! confirmed account is made.

use super::account::AccountState;
use super::confirmation::ConfirmationMethod;
use super::effect::{Effect, Topic};
use super::error::{RegistryError, Store};
use super::expiry::Owner;
use super::ids::{ConfirmationId, Oid};
use super::password::PasswordHash;
use super::personal::{PersonalData, PersonalDataForm};
use super::registry::*;
use super::verification::{FailureReason, ReplyApplied, Verification};
use esia_mocks::agency::banks::Bank;
use esia_mocks::clock::SimTime;
use esia_mocks::ident::Phone;
use rand::CryptoRng;

/// A partner bank's request to confirm its client.
#[derive(Clone, Debug)]
pub(super) struct PartnerConfirmation {
    pub(super) bank: Bank,
    /// The client's data until the request is decided (then moved into the account).
    pub(super) data: Option<Box<PersonalData>>,
    pub(super) phone: Phone,
    pub(super) password: Option<PasswordHash>,
    pub(super) verification: Verification,
    pub(super) status: PartnerStatus,
    pub(super) created_at: SimTime,
    pub(super) decided_at: Option<SimTime>,
}

impl Registry {
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
        let (pfr_request, fms_request) =
            self.new_verification_requests(rng, now, Owner::Partner(cid));
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
        self.due
            .partners
            .insert(self.config.partner_due(now, None), cid);
        if let Some(t) = self.config.verification_due(&verification) {
            self.due.verifications.insert(t, Owner::Partner(cid));
        }
        Ok(PartnerCheckStarted {
            confirmation_id: cid,
            pfr_request,
            fms_request,
        })
    }

    /// The account a partner's client data point at: the one holding the SNILS, else the one
    /// whose login is the phone and which holds no documents, else none (a new one is made).
    pub(super) fn partner_target(
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

    pub(super) fn partner_result(
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
        self.update_partner(cid, |p| {
            p.status = status;
            p.decided_at = Some(now);
        });
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
    pub(super) fn complete_partner(
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
                let phone_taken = self.update_account(oid, |account| {
                    account.state = state;
                    account.personal = Some(data);
                    let take = account.phone.is_none() && phone_free;
                    if take {
                        account.phone = Some(phone);
                    }
                    Self::notify(
                        account,
                        Topic::Confirmed(method),
                        "Учётная запись подтверждена",
                        text,
                        effects,
                    );
                    take
                });
                match phone_taken {
                    Ok(true) => {
                        self.by_phone.insert(phone, oid);
                    }
                    Ok(false) => {}
                    Err(_) => return PartnerStatus::Refused(PartnerRefusal::DocumentsBound),
                }
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
                let _ = self.update_account(oid, |account| {
                    account.personal = Some(data);
                    Self::notify(
                        account,
                        Topic::AccountCreated,
                        "Учётная запись создана",
                        text,
                        effects,
                    );
                });
                PartnerStatus::Confirmed { oid, created: true }
            }
        }
    }
}
