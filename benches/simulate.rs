//! The simulator end to end: 100,000 baseline citizens through the event loop, on one thread
//! and on two. The world (population tables, scenario) is built outside the timed closure.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use esia_sim::scenario::Scenario;
use esia_sim::sim::{run, Progress, World};
use std::hint::black_box;

fn simulate(c: &mut Criterion) {
    const CITIZENS: u64 = 100_000;
    let world = World::new(&Scenario::default(), 1).expect("the baseline is valid");
    let mut group = c.benchmark_group("simulate");
    group.sample_size(10);
    group.throughput(Throughput::Elements(CITIZENS));
    for threads in [1usize, 2] {
        group.bench_function(format!("baseline_100k/{threads}_threads"), |b| {
            b.iter(|| {
                let progress = Progress::new(threads);
                black_box(run(&world, CITIZENS, threads, &progress).expect("runs"))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, simulate);
criterion_main!(benches);
