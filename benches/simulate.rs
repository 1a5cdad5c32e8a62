//! The simulator end to end: 100,000 baseline citizens through the event loop, on one thread
//! and on two; and the same with every agency given a capacity (one coupled event loop, the
//! arriving citizens drawn on the second thread). The world (population tables, scenario) is
//! built outside the timed closure.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use esia_mocks::agency::Capacity;
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
    let capacity = World::new(&with_capacities(), 1).expect("the scenario is valid");
    for threads in [1usize, 2] {
        group.bench_function(format!("capacity_100k/{threads}_threads"), |b| {
            b.iter(|| {
                let progress = Progress::new(threads);
                black_box(run(&capacity, CITIZENS, threads, &progress).expect("runs"))
            })
        });
    }
    group.finish();
}

/// The baseline with a capacity on every agency, ample enough that nobody waits long (what is
/// measured is the cost of the coupling, not of a different funnel).
fn with_capacities() -> Scenario {
    let mut s = Scenario::default();
    let a = &mut s.agencies;
    for (service, servers) in [
        (&mut a.pfr.service, 100_000),
        (&mut a.fms.service, 100_000),
        (&mut a.ca.service, 100),
        (&mut a.sms.service, 100),
        (&mut a.mail.service, 100),
        (&mut a.post.service, 200_000),
        (&mut a.banks.sber.service, 100),
        (&mut a.banks.tinkoff.service, 100),
        (&mut a.banks.pochta.service, 100),
        (&mut a.centers.service, 1_000),
    ] {
        service.capacity = Some(Capacity::servers(servers));
    }
    s
}

criterion_group!(benches, simulate);
criterion_main!(benches);
