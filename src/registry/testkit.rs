//! The world around the registry as the engine's tests play it by hand (its unit tests,
//! `tests/journeys.rs`, `tests/registry_props.rs`): one [`Driver`] holds the registry, the
//! clock `now` (moved only by the test), one seeded RNG and the effects the registry asked for,
//! and performs those effects as the world would: reads codes from SMS, e-mails and letters,
//! answers PFR, FMS and the CA with the agencies' pure models against a table of truth, and
//! feeds the replies back. Compiled with the library so the integration tests can use it (a
//! cargo feature would have to be switched on for them); not part of the API, hidden from the
//! docs.

use super::effect::{Effect, Topic};
use super::error::RegistryError;
use super::ids::Oid;
use super::password;
use super::personal::PersonalDataForm;
use super::registry::{Registry, ReplyOutcome, VerificationDispatched};
use super::{RegistryConfig, Tier};
use esia_mocks::agency::ca::{self, CaQuery, Certificate};
use esia_mocks::agency::fms::{self, FmsQuery, FmsRecord};
use esia_mocks::agency::pfr::{self, PfrQuery, PfrRecord};
use esia_mocks::clock::SimTime;
use esia_mocks::ident::Phone;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::collections::HashMap;

/// The registry and the world around it.
pub struct Driver {
    pub reg: Registry,
    pub rng: ChaCha20Rng,
    pub now: SimTime,
    /// Every effect asked for so far, oldest first; a test takes what it performs.
    pub effects: Vec<Effect>,
    /// PFR's records by SNILS.
    pub pfr: HashMap<u64, PfrRecord>,
    /// FMS's records by passport series and number.
    pub fms: HashMap<(String, String), FmsRecord>,
    /// The CA's certificates by serial.
    pub certs: HashMap<String, Certificate>,
}

impl Driver {
    /// The default configuration, seed 20260101, one hour after the epoch.
    pub fn new() -> Self {
        Self::with(RegistryConfig::default())
    }

    /// `config`, seed 20260101, one hour after the epoch.
    pub fn with(config: RegistryConfig) -> Self {
        Self::seeded(config, 20_260_101, SimTime::from_secs(3_600))
    }

    /// `config`, the RNG seeded with `seed`, the clock at `now`; agencies that know nobody.
    pub fn seeded(config: RegistryConfig, seed: u64, now: SimTime) -> Self {
        Self {
            reg: Registry::new(config),
            rng: ChaCha20Rng::seed_from_u64(seed),
            now,
            effects: Vec::new(),
            pfr: HashMap::new(),
            fms: HashMap::new(),
            certs: HashMap::new(),
        }
    }

    pub fn advance_ms(&mut self, ms: u64) {
        self.now = self.now.saturating_add(ms);
    }

    /// Puts a person's records into PFR and FMS.
    pub fn know_records(&mut self, pfr: &PfrRecord, fms: &FmsRecord) {
        let snils = esia_mocks::ident::Snils::parse(&pfr.snils)
            .expect("a valid SNILS in PFR's record")
            .value();
        self.pfr.insert(snils, pfr.clone());
        self.fms
            .insert((fms.series.clone(), fms.number.clone()), fms.clone());
    }

    /// The code of the last registration SMS sent to `phone`.
    pub fn sms_code(&self, phone: Phone) -> String {
        sms_code(&self.effects, phone).expect("an SMS with a code")
    }

    /// The token of the last registration link mailed to `to`.
    pub fn mail_token(&self, to: &str) -> String {
        mail_token(&self.effects, to).expect("a mail with a link")
    }

    /// The code of the last letter ordered for account `oid`.
    pub fn letter_code(&self, oid: Oid) -> String {
        letter_code(&self.effects, oid).expect("a letter")
    }

    /// Submits personal data for `oid`.
    pub fn submit(
        &mut self,
        oid: Oid,
        form: &PersonalDataForm,
    ) -> Result<VerificationDispatched, RegistryError> {
        self.reg
            .submit_personal_data(self.now, &mut self.rng, oid, form, &mut self.effects)
    }

    /// Logs in the way the stand does: lookup, verify outside, open a session.
    pub fn login(&mut self, login: &str, password: &str) -> Result<Oid, RegistryError> {
        let candidate = self.reg.login_lookup(login)?;
        if !password::verify(password, &candidate.hash) {
            return Err(RegistryError::Unauthorized);
        }
        let s = self
            .reg
            .open_session(self.now, &mut self.rng, candidate.oid)?;
        assert_eq!(self.reg.authenticate(self.now, s.token), Ok(candidate.oid));
        Ok(s.oid)
    }

    /// Answers every PFR and FMS request among the effects with the agencies' models, FMS
    /// first when `fms_first`; returns the outcomes in order.
    pub fn answer_verifications(&mut self, fms_first: bool) -> Vec<ReplyOutcome> {
        let mut requests: Vec<Effect> = Vec::new();
        self.effects.retain(|e| {
            if matches!(e, Effect::VerifyPfr(_) | Effect::VerifyFms(_)) {
                requests.push(e.clone());
                false
            } else {
                true
            }
        });
        if fms_first {
            requests.reverse();
        }
        let mut out = Vec::new();
        for e in requests {
            let outcome = match e {
                Effect::VerifyPfr(r) => {
                    let q = PfrQuery {
                        snils: &r.snils.canonical(),
                        surname: &r.surname,
                        name: &r.name,
                        patronymic: &r.patronymic,
                        birth_date: r.birth_date,
                        gender: r.gender,
                    };
                    let v = pfr::compare(&q, self.pfr.get(&r.snils.value()));
                    self.reg
                        .apply_pfr(self.now, r.request_id, v, &mut self.effects)
                }
                Effect::VerifyFms(r) => {
                    let (series, number) = (r.series.to_string(), format!("{:06}", r.number));
                    let q = FmsQuery {
                        series: &series,
                        number: &number,
                        surname: &r.surname,
                        name: &r.name,
                        patronymic: &r.patronymic,
                        birth_date: r.birth_date,
                        issue_date: r.issue_date,
                    };
                    let v = fms::compare(&q, self.fms.get(&(series.clone(), number.clone())));
                    self.reg
                        .apply_fms(self.now, r.request_id, v, &mut self.effects)
                }
                _ => unreachable!("only verification requests were taken"),
            };
            out.push(outcome);
        }
        out
    }

    /// Answers the certificate check among the effects with the CA model.
    pub fn answer_certificate(&mut self) -> ReplyOutcome {
        let i = self
            .effects
            .iter()
            .position(|e| matches!(e, Effect::CheckCertificate { .. }))
            .expect("a certificate check");
        let Effect::CheckCertificate {
            request_id,
            serial,
            issuer,
            snils,
        } = self.effects.remove(i)
        else {
            unreachable!("the effect found above")
        };
        let q = CaQuery {
            serial: &serial,
            issuer: Some(&issuer),
            snils: &snils.canonical(),
        };
        let epoch = self.reg.config().epoch;
        let v = ca::compare(&q, self.certs.get(&serial), epoch, self.now);
        self.reg
            .apply_certificate(self.now, request_id, v, &mut self.effects)
    }

    /// The tier of account `oid`.
    pub fn tier(&self, oid: Oid) -> Tier {
        self.reg.account(oid).expect("an account").state().tier()
    }

    /// The registry's invariants hold.
    pub fn check(&self) {
        self.reg.check_invariants().unwrap();
    }
}

impl Default for Driver {
    fn default() -> Self {
        Self::new()
    }
}

/// The six-digit code of the last registration SMS sent to `phone`.
pub fn sms_code(effects: &[Effect], phone: Phone) -> Option<String> {
    effects.iter().rev().find_map(|e| match e {
        Effect::SendSms {
            to,
            topic: Topic::RegistrationCode { code, .. },
            ..
        } if *to == phone => Some(code.to_string()),
        _ => None,
    })
}

/// The token of the last registration link mailed to `to`.
pub fn mail_token(effects: &[Effect], to: &str) -> Option<String> {
    effects.iter().rev().find_map(|e| match e {
        Effect::SendMail {
            to: t,
            topic: Topic::RegistrationLink { token, .. },
            ..
        } if t == to => Some(token.to_string()),
        _ => None,
    })
}

/// The code of the last letter ordered for account `oid`.
pub fn letter_code(effects: &[Effect], oid: Oid) -> Option<String> {
    effects.iter().rev().find_map(|e| match e {
        Effect::OrderLetter { oid: o, code, .. } if *o == oid => Some(code.clone()),
        _ => None,
    })
}
