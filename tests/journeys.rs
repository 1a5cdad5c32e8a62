//! Journeys of one citizen through every tier path of DOMAIN.md, and through every failure,
//! at the library level under a virtual clock: the test is the world around the registry. It
//! passes `now` by hand, performs the registry's effects itself (reads codes from SMS and
//! e-mails, answers PFR, FMS and the CA with the agencies' pure models against a table of
//! truth) and feeds the replies back, through the engine's test driver
//! (`esia_sim::registry::testkit`).

use chrono::NaiveDate;
use esia_mocks::agency::banks::Bank;
use esia_mocks::agency::ca::{CaVerdict, CertKind, Certificate};
use esia_mocks::agency::fms::{FmsRecord, FmsVerdict};
use esia_mocks::agency::pfr::{PfrRecord, PfrVerdict};
use esia_mocks::clock::{MS_PER_DAY, MS_PER_SEC};
use esia_mocks::ident::{Gender, Phone, Snils};
use esia_sim::registry::confirmation::ConfirmationMethod;
use esia_sim::registry::password::{self, HashProfile};
use esia_sim::registry::personal::PassportForm;
use esia_sim::registry::registry::{
    Channel, IgnoredReply, PartnerRefusal, PartnerStatus, RegistrationForm, ReplyOutcome,
};
use esia_sim::registry::testkit::Driver;
use esia_sim::registry::{
    Address, Effect, FailureReason, Oid, PasswordError, PersonalDataForm, RegistrationId,
    RegistryConfig, RegistryError, RequestId, Restrictions, Store, Tier, Topic, VerificationStatus,
};
use esia_sim::stand::error::registry_status;

const PASSWORD: &str = "Vx7kPz9m";

/// One synthetic citizen: what they type and what the agencies hold.
#[derive(Clone)]
struct Citizen {
    phone: Phone,
    email: String,
    form: PersonalDataForm,
    pfr: PfrRecord,
    fms: FmsRecord,
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn citizen(i: u32) -> Citizen {
    let snils = Snils::from_body(200_000_000 + i);
    let phone = Phone::from_national(9_160_000_000 + u64::from(i));
    let number = format!("{:06}", 100_000 + i);
    let form = PersonalDataForm {
        surname: "Смирнова".into(),
        name: "Анна".into(),
        patronymic: "Петровна".into(),
        gender: "female".into(),
        birth_date: "1988-04-21".into(),
        birth_place: "г. Казань".into(),
        citizenship: "RUS".into(),
        snils: snils.to_string(),
        passport: PassportForm {
            series: "9210".into(),
            number: number.clone(),
            issue_date: "2008-05-12".into(),
            issued_by: "УФМС России по Республике Татарстан".into(),
            division_code: "160-005".into(),
        },
        address: Some(Address {
            postcode: "420111".into(),
            region: "Республика Татарстан".into(),
            city: "Казань".into(),
            street: "ул. Баумана".into(),
            house: "12".into(),
            flat: Some("7".into()),
        }),
    };
    Citizen {
        phone,
        email: format!("anna.{i}@example.ru"),
        pfr: PfrRecord {
            snils: snils.to_string(),
            surname: "Смирнова".into(),
            name: "Анна".into(),
            patronymic: "Петровна".into(),
            birth_date: date("1988-04-21"),
            gender: Gender::Female,
        },
        fms: FmsRecord {
            series: "9210".into(),
            number,
            surname: "Смирнова".into(),
            name: "Анна".into(),
            patronymic: "Петровна".into(),
            birth_date: date("1988-04-21"),
            issue_date: date("2008-05-12"),
            expired: false,
            cancelled: false,
        },
        form,
    }
}

/// The registry and the world around it (the engine's shared test driver).
type World = Driver;

/// What the journeys do with one of their citizens.
trait Walk {
    fn know(&mut self, c: &Citizen);
    fn register_by_phone(&mut self, c: &Citizen) -> Oid;
    fn set_password(&mut self, id: RegistrationId) -> Oid;
    fn standard(&mut self, c: &Citizen) -> Oid;
}

impl Walk for World {
    /// Puts a citizen's records into PFR and FMS.
    fn know(&mut self, c: &Citizen) {
        self.know_records(&c.pfr, &c.fms);
    }

    /// Registration by phone up to the account, with a `load`-profile password.
    fn register_by_phone(&mut self, c: &Citizen) -> Oid {
        let started = self
            .reg
            .start_registration(
                self.now,
                &mut self.rng,
                &RegistrationForm {
                    surname: c.form.surname.clone(),
                    name: c.form.name.clone(),
                    phone: Some(c.phone.to_string()),
                    email: None,
                    channel: None,
                },
                &mut self.effects,
            )
            .unwrap();
        assert_eq!(started.channel, Channel::Sms);
        self.advance_ms(40 * MS_PER_SEC);
        let code = self.sms_code(c.phone);
        self.reg
            .confirm_code(self.now, started.registration_id, &code)
            .unwrap();
        self.set_password(started.registration_id)
    }

    fn set_password(&mut self, id: RegistrationId) -> Oid {
        self.reg.check_password(id, PASSWORD, PASSWORD).unwrap();
        let hash = HashProfile::Load.hash(PASSWORD, &mut self.rng);
        let done = self
            .reg
            .set_password(self.now, &mut self.rng, id, hash, &mut self.effects)
            .unwrap();
        assert_eq!(done.tier, Tier::Simplified);
        done.oid
    }

    /// A citizen registered by phone and made standard.
    fn standard(&mut self, c: &Citizen) -> Oid {
        self.know(c);
        let oid = self.register_by_phone(c);
        self.submit(oid, &c.form).unwrap();
        self.advance_ms(15 * 60 * MS_PER_SEC);
        let out = self.answer_verifications(false);
        assert_eq!(out[1], ReplyOutcome::VerificationPassed { oid });
        assert_eq!(self.tier(oid), Tier::Standard);
        oid
    }
}

// ---------------------------------------------------------------------------------------------
// The paths

#[test]
fn phone_registration_login_standard_and_service_center() {
    let mut w = World::new();
    let c = citizen(1);
    w.know(&c);
    let oid = w.register_by_phone(&c);
    assert_eq!(w.login(&c.phone.canonical(), PASSWORD), Ok(oid));
    assert_eq!(w.login("+7 916 000-00-01", PASSWORD), Ok(oid));
    assert_eq!(
        w.login(&c.phone.canonical(), "Vx7kPz9n"),
        Err(RegistryError::Unauthorized)
    );
    // No SNILS login before personal data.
    assert_eq!(
        w.login(&c.form.snils, PASSWORD),
        Err(RegistryError::Unauthorized)
    );

    let d = w.submit(oid, &c.form).unwrap();
    let (pfr_id, fms_id) = (d.pfr_request, d.fms_request);
    assert_ne!(pfr_id, fms_id);
    let view = w.reg.account_view(oid).unwrap();
    assert_eq!(view.verification.status, VerificationStatus::Pending);
    // Replies in either order: FMS first here.
    w.advance_ms(20 * 60 * MS_PER_SEC);
    let out = w.answer_verifications(true);
    assert_eq!(
        out,
        [
            ReplyOutcome::Recorded,
            ReplyOutcome::VerificationPassed { oid }
        ]
    );
    assert_eq!(w.tier(oid), Tier::Standard);
    assert!(w.effects.iter().any(|e| matches!(
        e,
        Effect::SendSms { to, topic: Topic::VerificationPassed, .. } if *to == c.phone
    )));
    assert_eq!(w.login(&c.form.snils, PASSWORD), Ok(oid));

    // A visit to an MFC a day later.
    w.advance_ms(MS_PER_DAY);
    let done = w
        .reg
        .operator_confirm(
            w.now,
            "mfc-1",
            &c.form.snils,
            "9210",
            &c.form.passport.number,
            &mut w.effects,
        )
        .unwrap();
    assert_eq!(done.method, ConfirmationMethod::ServiceCenter);
    let view = w.reg.account_view(oid).unwrap();
    assert_eq!(view.tier, Tier::Confirmed);
    assert!(view.trusted);
    assert!(view.restrictions.is_empty());
    let json = serde_json::to_value(&view).unwrap();
    assert_eq!(json["tier"], "confirmed");
    assert_eq!(json["verification"]["status"], "passed");
    assert_eq!(json["verification"]["pfr"], "match");
    assert_eq!(json["verification"]["fms"], "valid");
    assert_eq!(json["confirmation"]["method"], "service_center");
    w.check();
}

#[test]
fn email_registration_and_login_by_email() {
    let mut w = World::new();
    let c = citizen(2);
    let started = w
        .reg
        .start_registration(
            w.now,
            &mut w.rng,
            &RegistrationForm {
                surname: "Смирнова".into(),
                name: "Анна".into(),
                phone: None,
                email: Some(c.email.to_uppercase()),
                channel: None,
            },
            &mut w.effects,
        )
        .unwrap();
    assert_eq!(started.channel, Channel::Email);
    assert_eq!(started.expires_at, w.now.saturating_add(3 * MS_PER_DAY));
    // The letter sat in spam for two days.
    w.advance_ms(2 * MS_PER_DAY);
    let token = w.mail_token(&c.email);
    assert!(matches!(
        w.reg
            .follow_email_link(w.now, started.registration_id, "0000000000000000"),
        Err(RegistryError::CodeWrong { attempts_left: 2 })
    ));
    w.reg
        .follow_email_link(w.now, started.registration_id, &token)
        .unwrap();
    let oid = w.set_password(started.registration_id);
    assert_eq!(w.login(&c.email, PASSWORD), Ok(oid));
    assert_eq!(w.login(&c.email.to_uppercase(), PASSWORD), Ok(oid));
    // The e-mail is now taken.
    let again = w.reg.start_registration(
        w.now,
        &mut w.rng,
        &RegistrationForm {
            surname: "Смирнова".into(),
            name: "Анна".into(),
            phone: None,
            email: Some(c.email.clone()),
            channel: None,
        },
        &mut w.effects,
    );
    assert_eq!(again, Err(RegistryError::ContactBound { field: "email" }));
    // Notifications of an e-mail-only account go by mail.
    w.know(&c);
    w.submit(oid, &c.form).unwrap();
    w.answer_verifications(false);
    assert!(w.effects.iter().any(|e| matches!(
        e,
        Effect::SendMail { to, topic: Topic::VerificationPassed, .. } if *to == c.email
    )));
    w.check();
}

#[test]
fn post_letter_arrives_on_day_14_and_leaves_no_fns_cabinet() {
    let mut w = World::new();
    let c = citizen(3);
    let oid = w.standard(&c);
    let ordered = w
        .reg
        .order_letter(w.now, &mut w.rng, oid, None, &mut w.effects)
        .unwrap();
    assert!(!ordered.reorder);
    let Some(Effect::OrderLetter {
        recipient,
        address,
        code,
        ..
    }) = w.effects.last().cloned()
    else {
        panic!("no letter ordered")
    };
    assert_eq!(recipient, "Смирнова Анна Петровна");
    assert_eq!(address.postcode, "420111");
    assert_eq!(code.len(), 8);
    assert_eq!(
        w.reg.account_view(oid).unwrap().confirmation.status,
        "letter_ordered"
    );
    w.advance_ms(14 * MS_PER_DAY);
    w.reg
        .enter_letter_code(w.now, oid, &code, &mut w.effects)
        .unwrap();
    let view = w.reg.account_view(oid).unwrap();
    assert_eq!(view.tier, Tier::Confirmed);
    assert!(view.restrictions.contains(Restrictions::NO_FNS_CABINET));
    let json = serde_json::to_value(&view).unwrap();
    assert_eq!(json["restrictions"], serde_json::json!(["no_fns_cabinet"]));
    assert_eq!(json["confirmation"]["method"], "post_letter");
    w.check();
}

#[test]
fn a_lost_letter_is_reordered_and_only_the_new_code_works() {
    let mut w = World::new();
    let c = citizen(4);
    let oid = w.standard(&c);
    let first = w
        .reg
        .order_letter(w.now, &mut w.rng, oid, None, &mut w.effects)
        .unwrap();
    let old_code = w.letter_code(oid);
    // Re-ordering at once is refused: a day's cooldown.
    assert!(matches!(
        w.reg
            .order_letter(w.now, &mut w.rng, oid, None, &mut w.effects),
        Err(RegistryError::ResendTooSoon { .. })
    ));
    // Thirty days and no letter: re-order, to a corrected address.
    w.advance_ms(30 * MS_PER_DAY);
    let mut address = c.form.address.clone().unwrap();
    address.house = "12к2".into();
    let second = w
        .reg
        .order_letter(w.now, &mut w.rng, oid, Some(&address), &mut w.effects)
        .unwrap();
    assert!(second.reorder);
    assert_ne!(first.confirmation_id, second.confirmation_id);
    let new_code = w.letter_code(oid);
    assert_ne!(old_code, new_code);
    w.advance_ms(4 * MS_PER_DAY);
    assert!(matches!(
        w.reg
            .enter_letter_code(w.now, oid, &old_code, &mut w.effects),
        Err(RegistryError::CodeWrong { .. })
    ));
    w.reg
        .enter_letter_code(w.now, oid, &new_code, &mut w.effects)
        .unwrap();
    assert_eq!(w.tier(oid), Tier::Confirmed);
    w.check();
}

fn certificate(
    serial: &str,
    owner: &str,
    kind: CertKind,
    valid_to: &str,
    revoked: bool,
) -> Certificate {
    Certificate {
        serial: serial.into(),
        issuer: "УЦ Тест".into(),
        owner_snils: owner.into(),
        kind,
        valid_from: date("2015-03-01"),
        valid_to: date(valid_to),
        revoked,
    }
}

#[test]
fn e_signature_confirms_and_expired_uec_or_revoked_certificates_are_refused() {
    let mut w = World::new();
    let c = citizen(5);
    let oid = w.standard(&c);
    w.certs.insert(
        "UEC0001".into(),
        certificate("UEC0001", &c.pfr.snils, CertKind::Uec, "2020-03-01", false),
    );
    w.certs.insert(
        "R0002".into(),
        certificate("R0002", &c.pfr.snils, CertKind::Ukep, "2027-03-01", true),
    );
    w.certs.insert(
        "K0003".into(),
        certificate(
            "K0003",
            "123-456-789 64",
            CertKind::Ukep,
            "2027-03-01",
            false,
        ),
    );
    w.certs.insert(
        "K0004".into(),
        certificate("K0004", &c.pfr.snils, CertKind::Ukep, "2027-03-01", false),
    );
    for (serial, verdict) in [
        ("UEC0001", CaVerdict::Expired),
        ("R0002", CaVerdict::Revoked),
        ("K0003", CaVerdict::NotThisPerson),
        ("NOPE", CaVerdict::NotFound),
    ] {
        w.reg
            .sign(w.now, &mut w.rng, oid, serial, "УЦ Тест", &mut w.effects)
            .unwrap();
        assert_eq!(
            w.answer_certificate(),
            ReplyOutcome::SignatureRefused { oid, verdict },
            "{serial}"
        );
        assert_eq!(w.tier(oid), Tier::Standard);
    }
    let request = w
        .reg
        .sign(w.now, &mut w.rng, oid, "K0004", "УЦ Тест", &mut w.effects)
        .unwrap();
    assert_eq!(
        w.reg.account_view(oid).unwrap().confirmation.status,
        "signature_pending"
    );
    assert_eq!(
        w.answer_certificate(),
        ReplyOutcome::Confirmed {
            oid,
            method: ConfirmationMethod::ESignature
        }
    );
    assert_eq!(w.tier(oid), Tier::Confirmed);
    // The CA's answer retried: ignored.
    assert_eq!(
        w.reg
            .apply_certificate(w.now, request, CaVerdict::Valid, &mut w.effects),
        ReplyOutcome::Ignored(IgnoredReply::AlreadyApplied)
    );
    assert!(matches!(
        w.reg
            .sign(w.now, &mut w.rng, oid, "bad serial!", "x", &mut w.effects),
        Err(RegistryError::Invalid {
            field: "certificate.serial",
            ..
        })
    ));
    w.check();
}

#[test]
fn every_bank_confirms_an_existing_account_or_makes_a_new_one() {
    let mut w = World::new();
    for (k, bank) in Bank::ALL.into_iter().enumerate() {
        // An existing simplified account, matched by its phone.
        let c = citizen(100 + k as u32);
        w.know(&c);
        let oid = w.register_by_phone(&c);
        let started = w
            .reg
            .bank_confirm(
                w.now,
                &mut w.rng,
                bank,
                &c.form,
                &c.phone.to_string(),
                None,
                &mut w.effects,
            )
            .unwrap();
        assert_eq!(
            w.reg.partner_status(started.confirmation_id),
            Ok(PartnerStatus::Pending)
        );
        let out = w.answer_verifications(k % 2 == 0);
        assert_eq!(
            out[1],
            ReplyOutcome::PartnerConfirmed {
                confirmation_id: started.confirmation_id,
                oid,
                created: false
            }
        );
        let view = w.reg.account_view(oid).unwrap();
        assert_eq!(view.tier, Tier::Confirmed);
        assert_eq!(view.confirmation.bank, Some(bank));
        assert_eq!(view.verification.status, VerificationStatus::Passed);
        assert_eq!(w.login(&c.form.snils, PASSWORD), Ok(oid));

        // An existing standard account, matched by its SNILS.
        let c = citizen(200 + k as u32);
        let oid = w.standard(&c);
        w.reg
            .bank_confirm(
                w.now,
                &mut w.rng,
                bank,
                &c.form,
                &c.phone.canonical(),
                None,
                &mut w.effects,
            )
            .unwrap();
        assert!(matches!(
            w.answer_verifications(false)[1],
            ReplyOutcome::PartnerConfirmed { oid: o, created: false, .. } if o == oid
        ));
        assert_eq!(w.tier(oid), Tier::Confirmed);

        // No account yet: a new confirmed one, with the one-time password the bank passed on.
        let c = citizen(300 + k as u32);
        w.know(&c);
        let otp = password::one_time_password(&mut w.rng);
        let hash = HashProfile::Load.hash(&otp, &mut w.rng);
        let started = w
            .reg
            .bank_confirm(
                w.now,
                &mut w.rng,
                bank,
                &c.form,
                &c.phone.canonical(),
                Some(hash),
                &mut w.effects,
            )
            .unwrap();
        let out = w.answer_verifications(false);
        let ReplyOutcome::PartnerConfirmed {
            oid, created: true, ..
        } = out[1]
        else {
            panic!("{out:?}")
        };
        assert_eq!(
            w.reg.partner_status(started.confirmation_id),
            Ok(PartnerStatus::Confirmed { oid, created: true })
        );
        assert_eq!(w.tier(oid), Tier::Confirmed);
        assert_eq!(w.login(&c.phone.canonical(), &otp), Ok(oid));
        assert_eq!(w.login(&c.form.snils, &otp), Ok(oid));
    }
    w.check();
}

#[test]
fn a_bank_request_with_a_pfr_mismatch_is_refused() {
    let mut w = World::new();
    let c = citizen(400);
    w.know(&c);
    let mut form = c.form.clone();
    form.birth_date = "1988-04-12".into();
    let started = w
        .reg
        .bank_confirm(
            w.now,
            &mut w.rng,
            Bank::Sber,
            &form,
            &c.phone.canonical(),
            None,
            &mut w.effects,
        )
        .unwrap();
    let out = w.answer_verifications(false);
    assert_eq!(
        out[0],
        ReplyOutcome::PartnerRefused {
            confirmation_id: started.confirmation_id,
            reason: PartnerRefusal::Verification(FailureReason::PfrMismatch)
        }
    );
    assert_eq!(out[1], ReplyOutcome::Recorded);
    assert_eq!(w.reg.accounts().count(), 0);
    w.check();
}

#[test]
fn mfc_registration_makes_a_confirmed_account_with_a_one_time_password() {
    let mut w = World::new();
    let c = citizen(6);
    let otp = password::one_time_password(&mut w.rng);
    let hash = HashProfile::Load.hash(&otp, &mut w.rng);
    let done = w
        .reg
        .mfc_register(
            w.now,
            "mfc-2",
            &c.form,
            &c.phone.to_string(),
            hash.clone(),
            &mut w.effects,
        )
        .unwrap();
    assert_eq!(done.login, c.phone);
    let view = w.reg.account_view(done.oid).unwrap();
    assert_eq!(view.tier, Tier::Confirmed);
    assert_eq!(view.verification.status, VerificationStatus::NotStarted);
    assert_eq!(
        view.confirmation.method,
        Some(ConfirmationMethod::MfcRegistration)
    );
    assert_eq!(w.login(&c.phone.canonical(), &otp), Ok(done.oid));
    assert_eq!(w.login(&c.form.snils, &otp), Ok(done.oid));
    // The same documents a second time: refused.
    let mut other = c.form.clone();
    other.passport.number = "999999".into();
    assert_eq!(
        w.reg
            .mfc_register(w.now, "mfc-2", &other, "+79990000000", hash, &mut w.effects),
        Err(RegistryError::DocumentsBound { field: "snils" })
    );
    w.check();
}

// ---------------------------------------------------------------------------------------------
// The failures

fn start_by_phone(w: &mut World, c: &Citizen) -> RegistrationId {
    w.reg
        .start_registration(
            w.now,
            &mut w.rng,
            &RegistrationForm {
                surname: c.form.surname.clone(),
                name: c.form.name.clone(),
                phone: Some(c.phone.canonical()),
                email: None,
                channel: None,
            },
            &mut w.effects,
        )
        .unwrap()
        .registration_id
}

#[test]
fn a_code_is_accepted_at_300_s_and_refused_at_301_s() {
    let mut w = World::new();
    let c = citizen(7);
    let id = start_by_phone(&mut w, &c);
    let code = w.sms_code(c.phone);
    let issued = w.now;
    w.now = issued.saturating_add(301 * MS_PER_SEC);
    let err = w.reg.confirm_code(w.now, id, &code).unwrap_err();
    assert_eq!(err, RegistryError::CodeExpired);
    assert_eq!(registry_status(&err), 410);
    // At exactly 300 s it was still good (a new registration, same clock arithmetic).
    let c = citizen(8);
    let id = start_by_phone(&mut w, &c);
    let code = w.sms_code(c.phone);
    w.advance_ms(300 * MS_PER_SEC);
    w.reg.confirm_code(w.now, id, &code).unwrap();
    w.advance_ms(1);
    assert_eq!(
        w.reg.confirm_code(w.now, id, &code),
        Err(RegistryError::CodeExpired)
    );
    // A registration whose code expired can still get a new one.
    w.advance_ms(60 * MS_PER_SEC);
}

#[test]
fn three_wrong_codes_lock_and_a_resend_unlocks() {
    let mut w = World::new();
    let c = citizen(9);
    let id = start_by_phone(&mut w, &c);
    let code = w.sms_code(c.phone);
    let wrong = if code == "000000" { "000001" } else { "000000" };
    for left in [2, 1, 0] {
        let err = w.reg.confirm_code(w.now, id, wrong).unwrap_err();
        assert_eq!(
            err,
            RegistryError::CodeWrong {
                attempts_left: left
            }
        );
        assert_eq!(registry_status(&err), 422);
    }
    let err = w.reg.confirm_code(w.now, id, &code).unwrap_err();
    assert_eq!(err, RegistryError::CodeLocked);
    assert_eq!(registry_status(&err), 429);
    // Malformed input costs no attempt and names the field.
    let err = w.reg.confirm_code(w.now, id, "12 34").unwrap_err();
    assert_eq!(err.field(), Some("code"));
    // A new code after the cooldown.
    w.advance_ms(60 * MS_PER_SEC);
    w.reg
        .resend_code(w.now, &mut w.rng, id, &mut w.effects)
        .unwrap();
    let fresh = w.sms_code(c.phone);
    w.reg.confirm_code(w.now, id, &fresh).unwrap();
}

#[test]
fn a_resend_too_soon_is_refused_with_the_wait_and_resends_are_limited() {
    let mut w = World::new();
    let c = citizen(10);
    let id = start_by_phone(&mut w, &c);
    w.advance_ms(20 * MS_PER_SEC);
    let err = w
        .reg
        .resend_code(w.now, &mut w.rng, id, &mut w.effects)
        .unwrap_err();
    assert_eq!(
        err,
        RegistryError::ResendTooSoon {
            retry_after_ms: 40_000
        }
    );
    assert_eq!(registry_status(&err), 429);
    for _ in 0..5 {
        w.advance_ms(60 * MS_PER_SEC);
        w.reg
            .resend_code(w.now, &mut w.rng, id, &mut w.effects)
            .unwrap();
    }
    w.advance_ms(60 * MS_PER_SEC);
    assert_eq!(
        w.reg.resend_code(w.now, &mut w.rng, id, &mut w.effects),
        Err(RegistryError::ResendLimit)
    );
    let codes = w
        .effects
        .iter()
        .filter(|e| {
            matches!(
                e,
                Effect::SendSms {
                    topic: Topic::RegistrationCode { .. },
                    ..
                }
            )
        })
        .count();
    assert_eq!(codes, 6);
}

#[test]
fn weak_passwords_are_refused_one_rule_each() {
    let mut w = World::new();
    let c = citizen(11);
    let id = start_by_phone(&mut w, &c);
    assert_eq!(
        w.reg.check_password(id, PASSWORD, PASSWORD),
        Err(RegistryError::ContactNotConfirmed)
    );
    let code = w.sms_code(c.phone);
    w.reg.confirm_code(w.now, id, &code).unwrap();
    let phone_digits = &c.phone.canonical()[1..];
    let cases = [
        ("Vx7kPz9m", "Vx7kPz9M", PasswordError::RepeatMismatch),
        ("Vx7kPz9", "Vx7kPz9", PasswordError::TooShort),
        ("vx7kpz9m", "vx7kpz9m", PasswordError::NoUppercase),
        ("VX7KPZ9M", "VX7KPZ9M", PasswordError::NoLowercase),
        ("VxQkPzRm", "VxQkPzRm", PasswordError::NoDigit),
        ("Qwerty12", "Qwerty12", PasswordError::TrivialSequence),
        (
            "Пароль12Ab",
            "Пароль12Ab",
            PasswordError::ForbiddenCharacter,
        ),
    ];
    for (p, r, want) in cases {
        let err = w.reg.check_password(id, p, r).unwrap_err();
        assert_eq!(err, RegistryError::WeakPassword(want), "{p}");
        assert_eq!(registry_status(&err), 422);
    }
    let with_phone = format!("Xq{phone_digits}");
    assert!(matches!(
        w.reg.check_password(id, &with_phone, &with_phone),
        Err(RegistryError::WeakPassword(
            PasswordError::ContainsPhone | PasswordError::TrivialSequence
        ))
    ));
    assert_eq!(
        w.reg.check_password(id, "Smirnova7X", "Smirnova7X"),
        Err(RegistryError::WeakPassword(PasswordError::ContainsSurname))
    );
    w.reg.check_password(id, PASSWORD, PASSWORD).unwrap();
}

#[test]
fn documents_bound_to_another_account_are_refused() {
    let mut w = World::new();
    let a = citizen(12);
    let owner = w.standard(&a);
    let b = citizen(13);
    w.know(&b);
    let intruder = w.register_by_phone(&b);
    // B types A's SNILS.
    let mut form = b.form.clone();
    form.snils = a.form.snils.clone();
    let err = w.submit(intruder, &form).unwrap_err();
    assert_eq!(err, RegistryError::DocumentsBound { field: "snils" });
    assert_eq!(registry_status(&err), 409);
    // B types A's passport.
    let mut form = b.form.clone();
    form.passport.number = a.form.passport.number.clone();
    assert_eq!(
        w.submit(intruder, &form).unwrap_err(),
        RegistryError::DocumentsBound { field: "passport" }
    );
    // A bank cannot attach A's passport to B either.
    assert_eq!(
        w.reg
            .bank_confirm(
                w.now,
                &mut w.rng,
                Bank::Tinkoff,
                &form,
                &b.phone.canonical(),
                None,
                &mut w.effects
            )
            .unwrap_err(),
        RegistryError::DocumentsBound { field: "passport" }
    );
    assert_eq!(w.tier(owner), Tier::Standard);
    // B's own documents are fine.
    w.submit(intruder, &b.form).unwrap();
    w.check();
}

#[test]
fn a_pfr_mismatch_fails_then_corrected_data_pass() {
    let mut w = World::new();
    let c = citizen(14);
    w.know(&c);
    let oid = w.register_by_phone(&c);
    let mut typo = c.form.clone();
    typo.patronymic = "Петрович".into();
    w.submit(oid, &typo).unwrap();
    let out = w.answer_verifications(false);
    assert_eq!(
        out,
        [
            ReplyOutcome::VerificationFailed {
                oid,
                reason: FailureReason::PfrMismatch
            },
            // FMS also disagreed, but the result was already decided.
            ReplyOutcome::Recorded,
        ]
    );
    let view = w.reg.account_view(oid).unwrap();
    assert_eq!(view.tier, Tier::Simplified);
    assert_eq!(view.verification.status, VerificationStatus::Failed);
    assert_eq!(view.verification.reason, Some(FailureReason::PfrMismatch));
    assert_eq!(view.verification.pfr, Some(PfrVerdict::Mismatch));
    assert_eq!(
        serde_json::to_value(&view).unwrap()["verification"]["reason"],
        "pfr_mismatch"
    );
    assert!(w.effects.iter().any(|e| matches!(
        e,
        Effect::SendSms {
            topic: Topic::VerificationFailed(FailureReason::PfrMismatch),
            ..
        }
    )));
    // Confirmation is impossible meanwhile.
    assert_eq!(
        w.reg
            .order_letter(w.now, &mut w.rng, oid, None, &mut w.effects),
        Err(RegistryError::WrongTier {
            needed: Tier::Standard
        })
    );
    w.check();
    w.submit(oid, &c.form).unwrap();
    assert_eq!(
        w.answer_verifications(false)[1],
        ReplyOutcome::VerificationPassed { oid }
    );
    w.check();
}

#[test]
fn an_invalid_passport_fails_verification() {
    let mut w = World::new();
    let mut c = citizen(15);
    c.fms.expired = true;
    w.know(&c);
    let oid = w.register_by_phone(&c);
    w.submit(oid, &c.form).unwrap();
    let out = w.answer_verifications(true);
    assert_eq!(
        out[0],
        ReplyOutcome::VerificationFailed {
            oid,
            reason: FailureReason::FmsInvalid
        }
    );
    assert_eq!(
        w.reg.account(oid).unwrap().state().verification().fms(),
        Some(FmsVerdict::Invalid)
    );
    assert_eq!(w.tier(oid), Tier::Simplified);
    // The documents are free again: nobody is bound to a failed submission.
    assert_eq!(
        w.login(&c.form.snils, PASSWORD),
        Err(RegistryError::Unauthorized)
    );
    w.check();
}

#[test]
fn replayed_and_unknown_replies_are_ignored() {
    let mut w = World::new();
    let c = citizen(16);
    w.know(&c);
    let oid = w.register_by_phone(&c);
    let d = w.submit(oid, &c.form).unwrap();
    let (pfr_id, fms_id) = (d.pfr_request, d.fms_request);
    let mut e = Vec::new();
    assert_eq!(
        w.reg.apply_pfr(w.now, pfr_id, PfrVerdict::Match, &mut e),
        ReplyOutcome::Recorded
    );
    assert_eq!(
        w.reg.apply_pfr(w.now, pfr_id, PfrVerdict::Match, &mut e),
        ReplyOutcome::Ignored(IgnoredReply::AlreadyApplied)
    );
    assert_eq!(
        w.reg.apply_pfr(w.now, pfr_id, PfrVerdict::Mismatch, &mut e),
        ReplyOutcome::Ignored(IgnoredReply::AlreadyApplied)
    );
    assert_eq!(
        w.reg.apply_pfr(w.now, fms_id, PfrVerdict::Match, &mut e),
        ReplyOutcome::Ignored(IgnoredReply::WrongAgency)
    );
    assert_eq!(
        w.reg
            .apply_fms(w.now, RequestId(12345), FmsVerdict::Valid, &mut e),
        ReplyOutcome::Ignored(IgnoredReply::Unknown)
    );
    assert_eq!(
        w.reg.apply_fms(w.now, fms_id, FmsVerdict::Valid, &mut e),
        ReplyOutcome::VerificationPassed { oid }
    );
    assert_eq!(
        w.reg.apply_fms(w.now, fms_id, FmsVerdict::Valid, &mut e),
        ReplyOutcome::Ignored(IgnoredReply::AlreadyApplied)
    );
    assert_eq!(e.len(), 1, "one notification, not one per replay");
    assert_eq!(w.tier(oid), Tier::Standard);
    w.check();
}

#[test]
fn full_stores_refuse_with_503() {
    let mut w = World::with(RegistryConfig::with_caps(2));
    let c = citizen(17);
    start_by_phone(&mut w, &citizen(18));
    start_by_phone(&mut w, &citizen(19));
    let err = w
        .reg
        .start_registration(
            w.now,
            &mut w.rng,
            &RegistrationForm {
                surname: "Смирнова".into(),
                name: "Анна".into(),
                phone: Some(c.phone.canonical()),
                email: None,
                channel: None,
            },
            &mut w.effects,
        )
        .unwrap_err();
    assert_eq!(
        err,
        RegistryError::StoreFull {
            store: Store::Registrations
        }
    );
    assert_eq!(registry_status(&err), 503);
    // Expiry frees the store.
    w.advance_ms(2 * 3_600 * MS_PER_SEC);
    let expired = w.reg.expire(w.now, &mut w.effects);
    assert_eq!(expired.registrations, 2);
    let oid = w.register_by_phone(&c);
    // Two requests fit; a second submission would need two more.
    w.know(&c);
    w.submit(oid, &c.form).unwrap();
    w.answer_verifications(false);
    w.reg.open_session(w.now, &mut w.rng, oid).unwrap();
    w.reg.open_session(w.now, &mut w.rng, oid).unwrap();
    assert_eq!(
        w.reg.open_session(w.now, &mut w.rng, oid).unwrap_err(),
        RegistryError::StoreFull {
            store: Store::Sessions
        }
    );
    assert_eq!(
        w.reg
            .sign(w.now, &mut w.rng, oid, "K1", "УЦ", &mut w.effects)
            .unwrap_err(),
        RegistryError::StoreFull {
            store: Store::Requests
        }
    );
}

#[test]
fn sessions_expire_and_unanswered_verifications_time_out() {
    let mut w = World::new();
    let c = citizen(20);
    let oid = w.register_by_phone(&c);
    let s = w.reg.open_session(w.now, &mut w.rng, oid).unwrap();
    assert_eq!(w.reg.authorize(w.now, s.token, oid), Ok(()));
    assert_eq!(
        w.reg.authorize(w.now, s.token, Oid(oid.0 + 1)),
        Err(RegistryError::Unauthorized)
    );
    w.advance_ms(3_600 * MS_PER_SEC + 1);
    assert_eq!(
        w.reg.authenticate(w.now, s.token),
        Err(RegistryError::Unauthorized)
    );
    let pfr_id = w.submit(oid, &c.form).unwrap().pfr_request;
    w.effects.clear();
    w.advance_ms(15 * MS_PER_DAY);
    let expired = w.reg.expire(w.now, &mut w.effects);
    assert_eq!(expired.sessions, 1);
    assert_eq!(expired.verifications_timed_out, 1);
    let v = *w.reg.account(oid).unwrap().state().verification();
    assert_eq!(v.reason(), Some(FailureReason::Timeout));
    assert!(matches!(
        w.effects[..],
        [Effect::SendSms {
            topic: Topic::VerificationFailed(FailureReason::Timeout),
            ..
        }]
    ));
    // A reply arriving after the timeout is recorded against a decided verification: it
    // changes no outcome and sends nothing.
    let mut e = Vec::new();
    assert_eq!(
        w.reg.apply_pfr(w.now, pfr_id, PfrVerdict::Match, &mut e),
        ReplyOutcome::Recorded
    );
    assert!(e.is_empty(), "{e:?}");
    let v = *w.reg.account(oid).unwrap().state().verification();
    assert_eq!(v.status(), VerificationStatus::Failed);
    assert_eq!(v.reason(), Some(FailureReason::Timeout));
    assert_eq!(w.tier(oid), Tier::Simplified);
    w.check();
}

#[test]
fn errors_name_the_field_at_fault() {
    let mut w = World::new();
    let form = |phone: Option<&str>, email: Option<&str>| RegistrationForm {
        surname: "Смирнова".into(),
        name: "Анна".into(),
        phone: phone.map(str::to_owned),
        email: email.map(str::to_owned),
        channel: None,
    };
    for (f, field) in [
        (form(Some("+7 495 123-45-67"), None), "phone"),
        (form(None, Some("anna@")), "email"),
        (form(None, None), "phone"),
        (
            RegistrationForm {
                channel: Some(Channel::Email),
                ..form(Some("+79161234567"), None)
            },
            "channel",
        ),
        (
            RegistrationForm {
                channel: Some(Channel::Sms),
                ..form(None, Some("a@b.ru"))
            },
            "channel",
        ),
        (
            RegistrationForm {
                surname: "Smirnova1".into(),
                ..form(Some("+79161234567"), None)
            },
            "surname",
        ),
    ] {
        let err = w
            .reg
            .start_registration(w.now, &mut w.rng, &f, &mut w.effects)
            .unwrap_err();
        assert_eq!(err.field(), Some(field), "{err}");
        assert_eq!(registry_status(&err), 422);
    }
    let c = citizen(21);
    let oid = w.register_by_phone(&c);
    let mut bad = c.form.clone();
    bad.passport.series = "45 10".into();
    let err = w.submit(oid, &bad).unwrap_err();
    assert_eq!(err.field(), Some("passport.series"));
    assert_eq!(err.code(), "invalid");
    assert_eq!(
        w.reg.account_view(Oid(1)).unwrap_err(),
        RegistryError::NotFound { what: "account" }
    );
}
