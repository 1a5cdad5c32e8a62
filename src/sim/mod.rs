//! The funnel in virtual time: `esia-sim simulate`.
//!
//! A discrete-event loop with its own event queue runs the registry engine's compact state
//! machines ([`crate::registry`]'s `OneTimeCode` and `AccountState`) for each citizen, and turns
//! the engine's effects into scheduled events through the agency models of `esia_mocks`. No
//! rule of the engine is written twice: the simulator decides what citizens do (from their
//! traits and the scenario's behaviour), the engine decides what that does to their accounts,
//! the agency models decide how the world answers and when.
//!
//! Citizens are independent (agencies have unlimited capacity; a backlog is a slower latency
//! profile), and every draw comes from a stream keyed by (seed, citizen, event, attempt), so the
//! simulator shards citizens across threads by index and merges the integer-only [`Funnel`]s:
//! one thread and many give byte-identical reports. Memory holds only live citizens (fixed-size
//! state, no strings); a finished citizen folds into its shard's funnel at once.
//!
//! Modules: [`citizen`] (one citizen's state and the handling of its events), [`queue`] (the
//! event queue and the arrival process).

pub mod citizen;
pub mod queue;

use crate::funnel::Funnel;
use crate::registry::RegistryConfig;
use crate::scenario::{Arrivals, Scenario};
use citizen::{Kind, Live, Outcome};
use esia_mocks::agency::centers::{directory, Center, CenterKind};
use esia_mocks::chance::Chance;
use esia_mocks::clock::{Epoch, SimTime, MS_PER_DAY};
use esia_mocks::population::{Population, PopulationError};
use queue::{ArrivalClock, Queue};
use std::sync::atomic::{AtomicU64, Ordering};

/// Why a simulation cannot run.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error(transparent)]
    Population(#[from] PopulationError),
    #[error("--threads must be at least 1")]
    NoThreads,
}

/// Everything the citizens of one run share, read-only.
pub struct World {
    pub scenario: Scenario,
    pub population: Population,
    pub chance: Chance,
    pub registry: RegistryConfig,
    pub epoch: Epoch,
    pub horizon: SimTime,
    /// Every service center, and the MFCs among them.
    pub centers: Vec<Center>,
    pub mfcs: Vec<Center>,
}

impl World {
    /// The world of `scenario` with `seed`.
    pub fn new(scenario: &Scenario, seed: u64) -> Result<Self, SimError> {
        let population = Population::new(seed, scenario.population.clone())?;
        let epoch = Epoch::new(scenario.population.epoch);
        let registry = RegistryConfig {
            epoch,
            ..RegistryConfig::default()
        };
        let centers = directory();
        let mfcs = centers
            .iter()
            .filter(|c| c.kind == CenterKind::Mfc)
            .cloned()
            .collect();
        Ok(Self {
            scenario: scenario.clone(),
            population,
            chance: Chance::new(seed),
            registry,
            epoch,
            horizon: SimTime::from_millis(scenario.horizon),
            centers,
            mfcs,
        })
    }

    /// Days from the start to the horizon.
    pub fn days(&self) -> usize {
        self.horizon.as_millis().div_ceil(MS_PER_DAY) as usize
    }
}

/// What the progress display reads while shards run.
#[derive(Debug, Default)]
pub struct Progress {
    /// Citizens finished (completed, exited or cut at the horizon).
    pub finished: AtomicU64,
    /// The sim time reached by the slowest shard, in ms.
    shard_times: Vec<AtomicU64>,
}

impl Progress {
    pub fn new(shards: usize) -> Self {
        Self {
            finished: AtomicU64::new(0),
            shard_times: (0..shards).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Shard `shard` has reached sim time `ms` (ignored for a shard the progress does not
    /// know, so a progress made for fewer threads only shows less).
    fn reached(&self, shard: usize, ms: u64) {
        if let Some(t) = self.shard_times.get(shard) {
            t.store(ms, Ordering::Relaxed);
        }
    }

    /// The sim day the slowest shard has reached.
    pub fn sim_day(&self) -> u64 {
        self.shard_times
            .iter()
            .map(|t| t.load(Ordering::Relaxed))
            .min()
            .unwrap_or(0)
            / MS_PER_DAY
    }
}

/// The result of one run: the funnel, and citizens who would arrive only after the horizon.
#[derive(Debug)]
pub struct Run {
    pub funnel: Funnel,
    pub arrived: u64,
    pub after_horizon: u64,
}

/// Simulates `citizens` citizens of `world` on `threads` threads, updating `progress`.
pub fn run(
    world: &World,
    citizens: u64,
    threads: usize,
    progress: &Progress,
) -> Result<Run, SimError> {
    if threads == 0 {
        return Err(SimError::NoThreads);
    }
    world.population.check_count(citizens)?;
    let results: Vec<(Funnel, u64)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|shard| scope.spawn(move || run_shard(world, citizens, shard, threads, progress)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a simulation shard panicked"))
            .collect()
    });
    // Merge in shard order; the funnel is integer-only, so any order gives the same figures.
    let mut funnel = Funnel::new(world.days());
    let mut arrived = 0;
    for (f, a) in &results {
        funnel.merge(f);
        arrived += a;
    }
    Ok(Run {
        funnel,
        arrived,
        after_horizon: citizens - arrived,
    })
}

/// Citizens a shard runs through the event loop together. Citizens are independent, so a
/// shard may run its citizens in batches, each from its first arrival to the horizon, with the
/// same results; a small batch keeps the live citizens' state in the core's cache (a batch of
/// the whole shard measured about twice as slow, every event a cache miss).
pub const BATCH: usize = 1024;

/// One shard: citizens `shard, shard + shards, ...`, in arrival order, in batches through the
/// event loop.
fn run_shard(
    world: &World,
    citizens: u64,
    shard: usize,
    shards: usize,
    progress: &Progress,
) -> (Funnel, u64) {
    let mut funnel = Funnel::new(world.days());
    let mut arrivals = ArrivalClock::new(
        &world.chance,
        match world.scenario.arrivals {
            Arrivals::Poisson { per_day } => Some(per_day),
            Arrivals::Cohort => None,
        },
        citizens,
        shard as u64,
        shards as u64,
    );
    let horizon = world.horizon;
    let mut arrived = 0u64;
    let mut batch: Vec<(SimTime, u64)> = Vec::with_capacity(BATCH);
    let mut lives: Vec<Live> = Vec::with_capacity(BATCH);
    let mut free: Vec<u32> = Vec::new();
    let mut queue = Queue::default();
    loop {
        batch.clear();
        batch.extend(arrivals.by_ref().take_while(|a| a.0 <= horizon).take(BATCH));
        if batch.is_empty() {
            break;
        }
        arrived += batch.len() as u64;
        lives.clear();
        free.clear();
        run_batch(
            world,
            &batch,
            &mut lives,
            &mut free,
            &mut queue,
            &mut funnel,
        );
        progress
            .finished
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        let last_arrival = batch.last().map_or(0, |a| a.0.as_millis());
        progress.reached(shard, last_arrival);
        if batch.len() < BATCH {
            break;
        }
    }
    progress.reached(shard, horizon.as_millis());
    (funnel, arrived)
}

/// The event loop over one batch of arrivals (in time order), from the first to the horizon.
fn run_batch(
    world: &World,
    batch: &[(SimTime, u64)],
    lives: &mut Vec<Live>,
    free: &mut Vec<u32>,
    queue: &mut Queue,
    funnel: &mut Funnel,
) {
    let horizon = world.horizon;
    *queue = Queue::default();
    // Arrivals are events too: the batch's are queued first (the queue only takes events at or
    // after the last one it gave out), carrying their index in the batch in place of a slot.
    for (index, (t, _)) in batch.iter().enumerate() {
        queue.push(*t, index as u32, 0, Kind::Arrive);
    }
    while let Some(event) = queue.pop() {
        if event.time > horizon {
            break;
        }
        if event.kind == Kind::Arrive {
            let (t, k) = batch[event.slot as usize];
            let live = Live::arrive(world, k, t);
            let slot = match free.pop() {
                Some(slot) => {
                    // Keep the slot's generation: events of its earlier citizen stay void.
                    let generation = lives[slot as usize].generation;
                    lives[slot as usize] = live;
                    lives[slot as usize].generation = generation;
                    slot
                }
                None => {
                    lives.push(live);
                    (lives.len() - 1) as u32
                }
            };
            lives[slot as usize].start(world, t, slot, queue);
            continue;
        }
        let live = &mut lives[event.slot as usize];
        if live.generation != event.generation {
            continue; // the slot's earlier citizen left; its events are void
        }
        if let Outcome::Done = live.handle(world, event, queue, funnel) {
            live.finish(funnel, horizon);
            live.generation = live.generation.wrapping_add(1);
            free.push(event.slot);
        }
    }
    // Everyone still live at the horizon is censored: in progress, not lost.
    let vacant: std::collections::HashSet<u32> = free.iter().copied().collect();
    for (slot, live) in lives.iter_mut().enumerate() {
        if !vacant.contains(&(slot as u32)) {
            live.finish(funnel, horizon);
        }
    }
}
