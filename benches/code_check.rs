//! Checking a typed SMS code among 1,000,000 active registrations (`Registry::confirm_code`),
//! one random registration per iteration, drawn across the whole set: right, wrong, expired and
//! locked codes as separate benchmark ids. The registries are built outside the timed closures.
//!
//! Target: median under 200 ns. Figures and the command are in `benches/README.md`.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use esia_mocks::clock::{SimTime, MS_PER_SEC};
use esia_sim::registry::registry::RegistrationForm;
use esia_sim::registry::{Effect, RegistrationId, Registry, RegistryConfig, RegistryError, Topic};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::hint::black_box;

const REGISTRATIONS: usize = 1_000_000;
const T0: SimTime = SimTime::from_secs(1_000);

/// A registration and the code its SMS carried (six ASCII digits).
struct Entry {
    id: RegistrationId,
    code: [u8; 6],
}

impl Entry {
    fn code(&self) -> &str {
        std::str::from_utf8(&self.code).unwrap()
    }
    /// A code that is certainly wrong for this registration.
    fn wrong(&self) -> [u8; 6] {
        let mut w = self.code;
        w[5] = if w[5] == b'9' { b'0' } else { w[5] + 1 };
        w
    }
}

/// A registry with `REGISTRATIONS` registrations by phone, all issued at `T0`.
fn build(config: RegistryConfig) -> (Registry, Vec<Entry>) {
    let mut reg = Registry::new(config);
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let mut effects = Vec::with_capacity(1);
    let mut entries = Vec::with_capacity(REGISTRATIONS);
    let mut form = RegistrationForm {
        surname: "Иванова".into(),
        name: "Мария".into(),
        phone: None,
        email: None,
        channel: None,
    };
    for i in 0..REGISTRATIONS as u64 {
        form.phone = Some(format!("+7{}", 9_000_000_000 + i));
        let started = reg
            .start_registration(T0, &mut rng, &form, &mut effects)
            .expect("room for a million registrations");
        let Some(Effect::SendSms {
            topic: Topic::RegistrationCode { code, .. },
            ..
        }) = effects.pop()
        else {
            panic!("no SMS")
        };
        let digits = code.to_string();
        entries.push(Entry {
            id: started.registration_id,
            code: digits.as_bytes().try_into().unwrap(),
        });
    }
    (reg, entries)
}

/// A cheap generator of indexes across the whole set (xorshift, multiply-shift to the range).
struct Draw(u64);

impl Draw {
    #[inline]
    fn next(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        ((u128::from(self.0) * n as u128) >> 64) as usize
    }
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("code_check");
    let mut config = RegistryConfig::default();
    config.caps.registrations = REGISTRATIONS;
    let now = T0.saturating_add(30 * MS_PER_SEC);
    let mut draw = Draw(0x9E37_79B9_7F4A_7C15);

    // Right, expired and wrong codes on a registry whose codes take 255 wrong entries, so that
    // millions of wrong iterations do not turn the set into locked codes while it is measured;
    // the path is the same as under the default 3.
    {
        let mut lenient = config;
        lenient.sms_code.attempts = u8::MAX;
        let (mut reg, entries) = build(lenient);
        // What the loop costs without the registry: drawing a registration and reading its id
        // and code (a random access into 16 MB). Subtract it to see the registry's own share.
        group.bench_function("harness_only", |b| {
            b.iter(|| {
                let e = &entries[draw.next(REGISTRATIONS)];
                black_box((e.id, e.code()))
            })
        });
        group.bench_function("right", |b| {
            b.iter(|| {
                let e = &entries[draw.next(REGISTRATIONS)];
                let r = reg.confirm_code(now, e.id, e.code());
                debug_assert!(r.is_ok());
                black_box(r)
            })
        });
        // One millisecond past the 300 s of life.
        let late = T0.saturating_add(300 * MS_PER_SEC + 1);
        group.bench_function("expired", |b| {
            b.iter(|| {
                let e = &entries[draw.next(REGISTRATIONS)];
                let r = reg.confirm_code(late, e.id, e.code());
                debug_assert_eq!(r, Err(RegistryError::CodeExpired));
                black_box(r)
            })
        });
        group.bench_function("wrong", |b| {
            b.iter(|| {
                let e = &entries[draw.next(REGISTRATIONS)];
                let wrong = e.wrong();
                let r = reg.confirm_code(now, e.id, std::str::from_utf8(&wrong).unwrap());
                debug_assert!(matches!(r, Err(RegistryError::CodeWrong { .. })));
                black_box(r)
            })
        });
    }

    // Locked codes: the default 3 attempts, every registration locked by three wrong codes
    // outside the timed closure.
    {
        let (mut reg, entries) = build(config);
        for e in &entries {
            let wrong = e.wrong();
            for _ in 0..3 {
                let _ = reg.confirm_code(now, e.id, std::str::from_utf8(&wrong).unwrap());
            }
        }
        group.bench_function("locked", |b| {
            b.iter(|| {
                let e = &entries[draw.next(REGISTRATIONS)];
                let r = reg.confirm_code(now, e.id, e.code());
                debug_assert_eq!(r, Err(RegistryError::CodeLocked));
                black_box(r)
            })
        });
    }

    // The state machine alone, without the store: the simulator's per-citizen cost.
    let policy = config.sms_code;
    group.bench_function("one_time_code_only", |b| {
        b.iter_batched_ref(
            || esia_sim::registry::OneTimeCode::issue(T0, 123_456, &policy),
            |code| black_box(code.check(now, black_box(123_456))),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
