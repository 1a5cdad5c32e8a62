//! Step 2, the standard account: personal data submitted, the documents bound, PFR and FMS
//! asked; their replies (in any order, repeats ignored) pass or fail the verification.

use super::effect::{Effect, FmsRequest, PfrRequest, Topic};
use super::error::{RegistryError, Store};
use super::expiry::Owner;
use super::ids::{Oid, RequestId};
use super::personal::{PersonalData, PersonalDataForm};
use super::registry::*;
use super::verification::{Agency, FailureReason, ReplyApplied, Verification};
use esia_mocks::agency::fms::FmsVerdict;
use esia_mocks::agency::pfr::PfrVerdict;
use esia_mocks::clock::SimTime;
use rand::CryptoRng;

impl Registry {
    /// Refuses documents bound to an account other than `owner` (`None`: to any account).
    pub(super) fn documents_free(
        &self,
        data: &PersonalData,
        owner: Option<Oid>,
    ) -> Result<(), RegistryError> {
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

    pub(super) fn bind_documents(&mut self, data: &PersonalData, oid: Oid) {
        self.by_snils.insert(data.snils, oid);
        self.by_passport.insert(data.passport.key(), oid);
    }

    pub(super) fn unbind_documents(&mut self, oid: Oid) {
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

    pub(super) fn verification_effects(
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
        let (pfr_request, fms_request) =
            self.new_verification_requests(rng, now, Owner::Account(oid));
        // The transition first: nothing is bound or sent unless it succeeds.
        let moved = self
            .update_account(oid, |a| {
                a.state.submit_personal_data(now, pfr_request, fms_request)
            })
            .and_then(|r| r);
        if let Err(e) = moved {
            self.withdraw_request(pfr_request);
            self.withdraw_request(fms_request);
            return Err(e);
        }
        Self::verification_effects(&data, pfr_request, fms_request, effects);
        self.bind_documents(&data, oid);
        self.update_account(oid, |a| a.personal = Some(Box::new(data)))?;
        Ok(VerificationDispatched {
            oid,
            pfr_request,
            fms_request,
        })
    }

    /// Looks up a reply's request: `Err` with the reason to ignore it, else its owner; marks it
    /// answered.
    pub(super) fn take_request(
        &mut self,
        now: SimTime,
        id: RequestId,
        agency: AgencyKind,
    ) -> Result<Owner, IgnoredReply> {
        let tombstone = now.saturating_add(self.config.reply_tombstone_ttl_ms);
        let r = self.requests.get_mut(&id).ok_or(IgnoredReply::Unknown)?;
        // Past its drop, a request is unknown whether housekeeping has dropped it yet or not:
        // a late answer is taken the same however the world's clock was advanced.
        if now >= self.config.request_due(r.issued_at, r.answered_until) {
            return Err(IgnoredReply::Unknown);
        }
        if r.agency != agency {
            return Err(IgnoredReply::WrongAgency);
        }
        if r.answered_until.is_some() {
            return Err(IgnoredReply::AlreadyApplied);
        }
        r.answered_until = Some(tombstone);
        let (owner, issued_at) = (r.owner, r.issued_at);
        self.due.requests.shift(
            id,
            Some(self.config.request_due(issued_at, None)),
            Some(self.config.request_due(issued_at, Some(tombstone))),
        );
        Ok(owner)
    }

    /// PFR's reply to `request_id`. Unknown and repeated replies are ignored and said to be.
    pub fn apply_pfr(
        &mut self,
        now: SimTime,
        request_id: RequestId,
        verdict: PfrVerdict,
        effects: &mut Vec<Effect>,
    ) -> ReplyOutcome {
        self.apply_verdict(now, request_id, Verdict::Pfr(verdict), effects)
    }

    /// FMS's reply to `request_id`.
    pub fn apply_fms(
        &mut self,
        now: SimTime,
        request_id: RequestId,
        verdict: FmsVerdict,
        effects: &mut Vec<Effect>,
    ) -> ReplyOutcome {
        self.apply_verdict(now, request_id, Verdict::Fms(verdict), effects)
    }

    /// PFR or FMS could not be reached for `request_id` (the stand gave up retrying): the
    /// verification fails with `pfr_unavailable` or `fms_unavailable`.
    pub fn apply_unavailable(
        &mut self,
        now: SimTime,
        request_id: RequestId,
        effects: &mut Vec<Effect>,
    ) -> ReplyOutcome {
        self.apply_verdict(now, request_id, Verdict::Unavailable, effects)
    }

    /// A verdict about `request_id`, from the agency it names; the absence of one is about
    /// whichever verifying agency the request went to.
    pub(super) fn apply_verdict(
        &mut self,
        now: SimTime,
        request_id: RequestId,
        verdict: Verdict,
        effects: &mut Vec<Effect>,
    ) -> ReplyOutcome {
        let agency = match verdict {
            Verdict::Pfr(_) => Agency::Pfr,
            Verdict::Fms(_) => Agency::Fms,
            Verdict::Unavailable => match self.requests.get(&request_id).map(|r| r.agency) {
                Some(AgencyKind::Verifier(a)) => a,
                Some(AgencyKind::Ca) => return ReplyOutcome::Ignored(IgnoredReply::WrongAgency),
                None => return ReplyOutcome::Ignored(IgnoredReply::Unknown),
            },
        };
        let owner = match self.take_request(now, request_id, AgencyKind::Verifier(agency)) {
            Ok(o) => o,
            Err(why) => return ReplyOutcome::Ignored(why),
        };
        self.apply_to_owner(now, owner, request_id, verdict, effects)
    }

    pub(super) fn apply_to_owner(
        &mut self,
        now: SimTime,
        owner: Owner,
        request_id: RequestId,
        verdict: Verdict,
        effects: &mut Vec<Effect>,
    ) -> ReplyOutcome {
        match owner {
            Owner::Account(oid) => {
                let applied = self.update_account(oid, |account| match verdict {
                    Verdict::Pfr(v) => account.state.apply_pfr(now, request_id, v),
                    Verdict::Fms(v) => account.state.apply_fms(now, request_id, v),
                    Verdict::Unavailable => account.state.apply_unavailable(now, request_id),
                });
                let Ok(applied) = applied else {
                    return ReplyOutcome::Ignored(IgnoredReply::Unknown);
                };
                self.account_verification_result(now, oid, applied, effects)
            }
            Owner::Partner(cid) => {
                let applied = self
                    .update_partner(cid, |p| verdict.apply(&mut p.verification, now, request_id));
                let Some(applied) = applied else {
                    return ReplyOutcome::Ignored(IgnoredReply::Unknown);
                };
                self.partner_result(now, cid, applied, effects)
            }
        }
    }

    pub(super) fn account_verification_result(
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

    pub(super) fn verification_failed(
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
}

/// A verdict of either verification agency, or the absence of one.
#[derive(Clone, Copy, Debug)]
pub(super) enum Verdict {
    Pfr(PfrVerdict),
    Fms(FmsVerdict),
    Unavailable,
}

impl Verdict {
    pub(super) fn apply(
        self,
        v: &mut Verification,
        now: SimTime,
        request: RequestId,
    ) -> ReplyApplied {
        match self {
            Verdict::Pfr(x) => v.apply_pfr(now, request, x),
            Verdict::Fms(x) => v.apply_fms(now, request, x),
            Verdict::Unavailable => v.apply_unavailable(now, request),
        }
    }
}
