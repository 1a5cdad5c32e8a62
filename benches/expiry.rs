//! Housekeeping with a million accounts held (`Registry::expire_some`, what the stand calls under
//! its lock): a tick with nothing due, and one batch of 256 registrations dropped out of about a
//! million due at once (the due set topped up outside the timed part). Then, outside criterion,
//! 4,000 batches of 64 and of 256 in a row timed one by one: quantiles, the longest and the
//! count over the stand's limit of 1 ms for one hold of the lock, in wall time (on a busy
//! machine the longest include the thread descheduled) and in the thread's CPU time. The registries are built outside the timed closures.
//!
//! Figures and the command are in `benches/README.md`.

use criterion::{criterion_group, criterion_main, Criterion};
use esia_mocks::clock::{SimTime, MS_PER_HOUR, MS_PER_SEC};
use esia_sim::registry::registry::RegistrationForm;
use esia_sim::registry::{PasswordHash, Registry, RegistryConfig};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// The thread's CPU time (not the time it waited for a core).
fn thread_cpu() -> std::time::Duration {
    esia_sim::stand::metrics::thread_cpu().expect("the thread's CPU clock (Linux with glibc)")
}

/// Quantiles of `d` (sorted here), the longest, and how many are over 1 ms.
fn summary(d: &mut [Duration]) -> String {
    d.sort();
    let at = |q: f64| d[((d.len() - 1) as f64 * q) as usize];
    let over = d.iter().filter(|h| **h > Duration::from_millis(1)).count();
    format!(
        "p50 {:?}, p90 {:?}, p99 {:?}, p99.9 {:?}, longest {:?}, {over} over 1 ms",
        at(0.5),
        at(0.9),
        at(0.99),
        at(0.999),
        d[d.len() - 1]
    )
}

const ACCOUNTS: u64 = 1_000_000;
const DUE: u64 = 1_000_000;
const BATCH: usize = 256;
const T0: SimTime = SimTime::from_secs(1_000);

/// Registrations by phone made at `T0`; the next unused phone number is `*next`.
fn register(reg: &mut Registry, rng: &mut ChaCha20Rng, next: &mut u64, count: u64) {
    let mut form = RegistrationForm {
        surname: "Иванова".into(),
        name: "Мария".into(),
        ..RegistrationForm::default()
    };
    let mut effects = Vec::with_capacity(1);
    for _ in 0..count {
        form.phone = Some(format!("+7{}", 9_000_000_000 + *next));
        *next += 1;
        reg.start_registration(T0, rng, &form, &mut effects)
            .expect("room for the registrations");
        effects.clear();
    }
}

/// A registry holding `ACCOUNTS` simplified accounts and `DUE` registrations left unconfirmed.
fn build() -> (Registry, ChaCha20Rng, u64) {
    let mut config = RegistryConfig::default();
    config.caps.registrations = 4 * DUE as usize;
    let mut reg = Registry::new(config);
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    for i in 0..ACCOUNTS {
        reg.register_by_email(
            T0,
            &mut rng,
            "Петров",
            "Пётр",
            &format!("a{i}@example.ru"),
            PasswordHash::unhashed(),
        )
        .expect("room for a million accounts");
    }
    let mut next = 0;
    register(&mut reg, &mut rng, &mut next, DUE);
    (reg, rng, next)
}

fn bench(c: &mut Criterion) {
    let (mut reg, mut rng, mut next) = build();
    let mut effects = Vec::new();
    // Past the code's 300 s and the hour of grace: every registration is due.
    let late = T0.saturating_add(300 * MS_PER_SEC + MS_PER_HOUR + 1);
    let mut group = c.benchmark_group("expiry");
    group.bench_function("nothing_due_1m_accounts", |b| {
        b.iter(|| black_box(reg.expire_some(T0.saturating_add(MS_PER_SEC), BATCH, &mut effects)))
    });
    group.bench_function("batch_of_256_due_1m_accounts", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let e = reg.expire_some(late, BATCH, &mut effects);
                total += start.elapsed();
                debug_assert_eq!(e.registrations, BATCH);
                register(&mut reg, &mut rng, &mut next, BATCH as u64);
            }
            total
        })
    });
    group.finish();

    // The longest hold: 4,000 batches in a row of each size, each timed (the due set topped up
    // between two, outside the timing).
    for batch in [64, BATCH] {
        let (mut wall, mut cpu) = (Vec::new(), Vec::new());
        for _ in 0..4_000 {
            let (start, start_cpu) = (Instant::now(), thread_cpu());
            let e = reg.expire_some(late, batch, &mut effects);
            cpu.push(thread_cpu() - start_cpu);
            wall.push(start.elapsed());
            assert_eq!(e.registrations, batch);
            register(&mut reg, &mut rng, &mut next, batch as u64);
        }
        println!(
            "expiry/4000_batches_of_{batch} ({} accounts, {} registrations held)\n  wall: {}\n  cpu:  {}",
            reg.census().tiers.iter().sum::<usize>(),
            reg.sizes()[0].1,
            summary(&mut wall),
            summary(&mut cpu),
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
