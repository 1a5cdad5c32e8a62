//! One verification round per citizen, in process: personal data accepted -> PFR and FMS
//! requests issued -> both replies applied -> tier changed to standard.
//!
//! - `dispatch/registry`: through `Registry` as the stand uses it (validation of the form,
//!   document indexes, effects with strings, idempotent request store, notification).
//! - `dispatch/account_state`: the compact `AccountState` alone, as the simulator uses it.
//!
//! Each iteration takes a fresh simplified account; the accounts are made outside the timed
//! loop (`iter_custom`). Target: under 2 µs per round. Figures in `benches/README.md`.

use criterion::{criterion_group, criterion_main, Criterion};
use esia_mocks::agency::fms::FmsVerdict;
use esia_mocks::agency::pfr::PfrVerdict;
use esia_mocks::clock::{SimTime, MS_PER_SEC};
use esia_mocks::ident::Snils;
use esia_sim::registry::personal::PassportForm;
use esia_sim::registry::registry::RegistrationForm;
use esia_sim::registry::{
    AccountState, Effect, Oid, PasswordHash, PersonalDataForm, Registry, RegistryConfig,
    ReplyOutcome, RequestId, Tier, Topic,
};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::hint::black_box;
use std::time::{Duration, Instant};

const T0: SimTime = SimTime::from_secs(1_000);

fn form(i: u32) -> PersonalDataForm {
    PersonalDataForm {
        surname: "Петров".into(),
        name: "Алексей".into(),
        patronymic: "Николаевич".into(),
        gender: "male".into(),
        birth_date: "1982-09-30".into(),
        birth_place: "г. Новосибирск".into(),
        citizenship: "RUS".into(),
        snils: Snils::from_body(400_000_000 + i).to_string(),
        passport: PassportForm {
            series: format!("50{:02}", i / 1_000_000 % 100),
            number: format!("{:06}", 1 + i % 999_999),
            issue_date: "2003-10-15".into(),
            issued_by: "УВД Центрального района г. Новосибирска".into(),
            division_code: "540-001".into(),
        },
        address: None,
    }
}

/// A registry with `n` simplified accounts (oids from `Oid::FIRST`), and a form for each.
fn accounts(n: usize) -> (Registry, Vec<PersonalDataForm>) {
    let mut config = RegistryConfig::default();
    config.caps.requests = 2 * n + 16;
    let mut reg = Registry::new(config);
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let mut effects = Vec::new();
    let mut forms = Vec::with_capacity(n);
    for i in 0..n as u32 {
        let started = reg
            .start_registration(
                T0,
                &mut rng,
                &RegistrationForm {
                    surname: "Петров".into(),
                    name: "Алексей".into(),
                    phone: Some(format!("+7{}", 9_000_000_000u64 + u64::from(i))),
                    email: None,
                    channel: None,
                },
                &mut effects,
            )
            .unwrap();
        let Some(Effect::SendSms {
            topic: Topic::RegistrationCode { code, .. },
            ..
        }) = effects.pop()
        else {
            panic!("no SMS")
        };
        let code = code.to_string();
        reg.confirm_code(T0, started.registration_id, &code)
            .unwrap();
        reg.set_password(
            T0,
            &mut rng,
            started.registration_id,
            PasswordHash::unhashed(),
            &mut effects,
        )
        .unwrap();
        forms.push(form(i));
    }
    (reg, forms)
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("dispatch");
    let now = T0.saturating_add(60 * MS_PER_SEC);
    let later = now.saturating_add(15 * 60 * MS_PER_SEC);

    group.bench_function("registry", |b| {
        b.iter_custom(|iters| {
            let (mut reg, forms) = accounts(iters as usize);
            let mut rng = ChaCha20Rng::seed_from_u64(3);
            let mut effects = Vec::with_capacity(4);
            let start = Instant::now();
            for (i, form) in forms.iter().enumerate() {
                let oid = Oid(Oid::FIRST.0 + i as u64);
                let d = reg
                    .submit_personal_data(now, &mut rng, oid, form, &mut effects)
                    .unwrap();
                effects.clear();
                let first = reg.apply_pfr(later, d.pfr_request, PfrVerdict::Match, &mut effects);
                let second = reg.apply_fms(later, d.fms_request, FmsVerdict::Valid, &mut effects);
                debug_assert_eq!(first, ReplyOutcome::Recorded);
                debug_assert_eq!(second, ReplyOutcome::VerificationPassed { oid });
                black_box(second);
                effects.clear();
            }
            let elapsed = start.elapsed();
            debug_assert!(reg.accounts().all(|a| a.state().tier() == Tier::Standard));
            drop(black_box(reg));
            elapsed
        })
    });

    group.bench_function("account_state", |b| {
        b.iter_custom(|iters| {
            let mut states = vec![AccountState::simplified(); iters as usize];
            let start = Instant::now();
            for (i, s) in states.iter_mut().enumerate() {
                let (p, f) = (RequestId(2 * i as u64 + 1), RequestId(2 * i as u64 + 2));
                s.submit_personal_data(now, p, f).unwrap();
                s.apply_pfr(later, p, PfrVerdict::Match);
                black_box(s.apply_fms(later, f, FmsVerdict::Valid));
            }
            let elapsed: Duration = start.elapsed();
            debug_assert!(states.iter().all(|s| s.tier() == Tier::Standard));
            elapsed
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
