//! Generating citizens: one full record, one numeric skeleton, and the check digits of SNILS
//! and INN. The population's tables are built outside the timed closures. Throughput is one
//! citizen an iteration; `population/citizen_cpu` times the same work in the thread's CPU time
//! (not the time it waited for a core), which a shared machine disturbs less than wall time.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use esia_mocks::ident::{inn_checks, snils_check};
use esia_mocks::population::{Population, PopulationConfig};
use std::hint::black_box;

/// The thread's CPU time (not the time it waited for a core).
fn thread_cpu() -> std::time::Duration {
    esia_sim::stand::metrics::thread_cpu().expect("the thread's CPU clock (Linux with glibc)")
}

fn citizens(c: &mut Criterion) {
    let population = Population::new(7, PopulationConfig::default()).expect("default config");
    let max = population.max_citizens();
    // Indices scattered over the whole population, not one cached citizen.
    let mut i = 0u64;
    let mut next = move || {
        i = (i + 0x9E37_79B9) % max;
        i
    };
    // The naming tables are parsed on first use: once, here, not in a timed closure.
    black_box(population.citizen(next()));
    let mut group = c.benchmark_group("population");
    group.throughput(Throughput::Elements(1));
    group.bench_function("citizen", |b| {
        b.iter(|| black_box(population.citizen(next())))
    });
    group.bench_function("citizen_cpu", |b| {
        b.iter_custom(|iters| {
            let start = thread_cpu();
            for _ in 0..iters {
                black_box(population.citizen(next()));
            }
            thread_cpu() - start
        })
    });
    group.bench_function("skeleton", |b| {
        b.iter(|| black_box(population.skeleton(next())))
    });
    group.finish();

    let mut group = c.benchmark_group("check_digits");
    let mut body = 123_456_789u32;
    group.bench_function("snils", |b| {
        b.iter(|| {
            body = body.wrapping_add(7919) % 999_999_999;
            black_box(snils_check(black_box(body)))
        })
    });
    let mut first10 = 5_001_007_322u64;
    group.bench_function("inn", |b| {
        b.iter(|| {
            first10 = (first10 + 7919) % 10_000_000_000;
            black_box(inn_checks(black_box(first10)))
        })
    });
    group.finish();
}

criterion_group!(benches, citizens);
criterion_main!(benches);
