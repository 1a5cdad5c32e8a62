//! The funnel in virtual time: `esia-sim simulate`.
//!
//! A discrete-event loop with its own event queue runs the registry engine's compact state
//! machines ([`crate::registry`]'s `OneTimeCode` and `AccountState`) for each citizen, and turns
//! the engine's effects into scheduled events through the agency models of `esia_mocks`. No
//! rule of the engine is written twice: the simulator decides what citizens do (from their
//! traits and the scenario's behaviour), the engine decides what that does to their accounts,
//! the agency models decide how the world answers and when.
//!
//! Every draw comes from a stream keyed by (seed, citizen, event, attempt), so a citizen's
//! story depends on the seed, its index and the agencies it meets, never on scheduling.
//!
//! **Independent citizens** (no agency has a capacity: a backlog is a slower latency profile):
//! the simulator shards citizens across threads by index, runs each shard in batches, and
//! merges the integer-only [`Funnel`]s: one thread and many give byte-identical reports.
//!
//! **Coupled citizens** (some agency has a `capacity`: servers, a queue, a quota): the citizens
//! who use that agency wait for one another, so who arrives first at a station decides who
//! waits. Determinism then rests on one order of every request: all citizens run in **one
//! event loop** in (time, scheduling order), with arrivals fed into it one at a time, and every
//! [`stations::Stations`] offer happens at its event's time. The thread count does not enter
//! that order, so `--threads 1` and `--threads N` give the same bytes; a coupled run uses one
//! core, and `--replicates` and `--sweep` spread their runs over the threads instead (each run
//! whole on one thread, merged in seed order). A station decides a request's whole fate when
//! it arrives (FIFO: the start depends only on the requests before it), so the coupling costs
//! a few heap operations a request, not extra events.
//!
//! Memory holds only live citizens (fixed-size state, no strings); a finished citizen folds
//! into the funnel at once.
//!
//! Modules: [`citizen`] (one citizen's state and the handling of its events), [`queue`] (the
//! event queue and the arrival process), [`stations`] (the agencies with a capacity), [`story`]
//! (one citizen alone, for `load`'s model mix).

pub mod citizen;
pub mod queue;
pub mod stations;
pub mod story;

use crate::funnel::Funnel;
use crate::registry::RegistryConfig;
use crate::scenario::{Scenario, PATH_NAMES};
use citizen::{Kind, Live, Outcome};
use esia_mocks::agency::centers::{directory, Center, CenterKind};
use esia_mocks::chance::Chance;
use esia_mocks::clock::{Epoch, SimTime, MS_PER_DAY};
use esia_mocks::population::{Population, PopulationError};
use queue::{ArrivalClock, Queue, Rate};
use stations::{Office, Stations};
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
    /// Each MFC's index in `centers`.
    pub mfc_index: Vec<usize>,
    /// The arrival process.
    pub rate: Rate,
    /// When each path is open, by [`crate::funnel::Path::ALL`]: `[from, to)` in sim ms.
    pub windows: [(u64, u64); 7],
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
        let mfc_index: Vec<usize> = centers
            .iter()
            .enumerate()
            .filter(|(_, c)| c.kind == CenterKind::Mfc)
            .map(|(i, _)| i)
            .collect();
        let mfcs = mfc_index.iter().map(|&i| centers[i].clone()).collect();
        let date = scenario.population.epoch;
        let ms_of = |d: chrono::NaiveDate| ((d - date).num_days().max(0) as u64) * MS_PER_DAY;
        let mut windows = [(0, u64::MAX); 7];
        for (k, name) in PATH_NAMES.iter().enumerate() {
            if let Some(w) = scenario.windows.get(*name) {
                windows[k] = (w.from.map_or(0, ms_of), w.to.map_or(u64::MAX, ms_of));
            }
        }
        Ok(Self {
            rate: Rate::of(&scenario.arrivals, date),
            windows,
            scenario: scenario.clone(),
            population,
            chance: Chance::new(seed),
            registry,
            epoch,
            horizon: SimTime::from_millis(scenario.horizon),
            centers,
            mfcs,
            mfc_index,
        })
    }

    /// Whether some agency has a capacity: citizens then wait for one another.
    pub fn coupled(&self) -> bool {
        Office::ALL
            .iter()
            .any(|o| o.profile(&self.scenario.agencies).capacity.is_some())
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

    /// Every shard has reached `ms` (a coupled run is one loop for all).
    fn reached_all(&self, ms: u64) {
        for t in &self.shard_times {
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
    if world.coupled() {
        let (funnel, arrived) = run_coupled(world, citizens, threads, progress);
        return Ok(Run {
            funnel,
            arrived,
            after_horizon: citizens - arrived,
        });
    }
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

/// Runs every world of `worlds` (replicates, points of a sweep) with `citizens` citizens each
/// and returns their runs in the same order. Worlds of independent citizens run one after
/// another, each sharded over `threads`; coupled worlds (one event loop each) run side by side,
/// up to `threads` at once. Either way the runs do not depend on `threads`.
pub fn run_all(
    worlds: &[World],
    citizens: u64,
    threads: usize,
    progress: &Progress,
) -> Result<Vec<Run>, SimError> {
    if threads == 0 {
        return Err(SimError::NoThreads);
    }
    if !worlds.iter().all(World::coupled) || threads == 1 || worlds.len() == 1 {
        return worlds
            .iter()
            .map(|w| run(w, citizens, threads, progress))
            .collect();
    }
    let next = AtomicU64::new(0);
    let mut runs: Vec<(usize, Result<Run, SimError>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads.min(worlds.len()))
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                        let Some(world) = worlds.get(i) else { break };
                        mine.push((i, run(world, citizens, 1, progress)));
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a simulation thread panicked"))
            .collect()
    });
    runs.sort_by_key(|(i, _)| *i);
    runs.into_iter().map(|(_, run)| run).collect()
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
        world.rate.clone(),
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
    let mut stations = Stations::none();
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
            &mut stations,
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
    stations: &mut Stations,
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
            admit(
                world,
                Live::arrive(world, k, t),
                t,
                lives,
                free,
                queue,
                stations,
            );
            continue;
        }
        step(world, event, lives, free, queue, funnel, stations);
    }
    censor(lives, free, funnel, horizon);
}

/// A citizen who arrived at `t` takes a free slot (or a new one) and schedules its first event.
fn admit(
    world: &World,
    live: Live,
    t: SimTime,
    lives: &mut Vec<Live>,
    free: &mut Vec<u32>,
    queue: &mut Queue,
    stations: &Stations,
) {
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
    lives[slot as usize].start(world, t, slot, queue, stations);
}

/// Handles one citizen's event; a citizen who is done folds into the funnel and frees its
/// slot. Returns whether a citizen finished.
fn step(
    world: &World,
    event: queue::Event,
    lives: &mut [Live],
    free: &mut Vec<u32>,
    queue: &mut Queue,
    funnel: &mut Funnel,
    stations: &mut Stations,
) -> bool {
    let live = &mut lives[event.slot as usize];
    if live.generation != event.generation {
        return false; // the slot's earlier citizen left; its events are void
    }
    if let Outcome::Done = live.handle(world, event, queue, funnel, stations) {
        live.finish(funnel, world.horizon);
        live.generation = live.generation.wrapping_add(1);
        free.push(event.slot);
        return true;
    }
    false
}

/// Everyone still live at the horizon is censored: in progress, not lost.
fn censor(lives: &mut [Live], free: &[u32], funnel: &mut Funnel, horizon: SimTime) {
    let vacant: std::collections::HashSet<u32> = free.iter().copied().collect();
    for (slot, live) in lives.iter_mut().enumerate() {
        if !vacant.contains(&(slot as u32)) {
            live.finish(funnel, horizon);
        }
    }
}

/// A run with agencies at capacity: every citizen in one event loop, in (time, scheduling
/// order), so the stations see one order of requests whatever the thread count (module doc).
/// With two threads or more, a second thread draws the arriving citizens (their population
/// record and persona) ahead of the loop; they depend only on (seed, index), so this changes
/// nothing but the speed.
fn run_coupled(world: &World, citizens: u64, threads: usize, progress: &Progress) -> (Funnel, u64) {
    let horizon = world.horizon;
    let arrivals = ArrivalClock::new(&world.chance, world.rate.clone(), citizens, 0, 1)
        .take_while(move |a| a.0 <= horizon);
    if threads < 2 {
        let lives = arrivals.map(|(t, k)| (t, Live::arrive(world, k, t)));
        return coupled_loop(world, lives, progress);
    }
    const CHUNK: usize = 1024;
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<(SimTime, Live)>>(16);
        scope.spawn(move || {
            let mut chunk = Vec::with_capacity(CHUNK);
            for (t, k) in arrivals {
                chunk.push((t, Live::arrive(world, k, t)));
                if chunk.len() == CHUNK {
                    let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
                    if tx.send(full).is_err() {
                        return; // the loop stopped at the horizon
                    }
                }
            }
            if !chunk.is_empty() {
                let _ = tx.send(chunk);
            }
        });
        coupled_loop(world, rx.into_iter().flatten(), progress)
    })
}

/// The event loop of a coupled run over `arrivals` (in time order). Arrivals enter the loop
/// one at a time: the next arrival is always the one `Arrive` event in the queue.
fn coupled_loop(
    world: &World,
    mut arrivals: impl Iterator<Item = (SimTime, Live)>,
    progress: &Progress,
) -> (Funnel, u64) {
    let mut funnel = Funnel::new(world.days());
    let mut stations = Stations::new(world);
    let horizon = world.horizon;
    let mut lives: Vec<Live> = Vec::new();
    let mut free: Vec<u32> = Vec::new();
    let mut queue = Queue::default();
    let mut next = arrivals.next();
    if let Some((t, _)) = &next {
        queue.push(*t, 0, 0, Kind::Arrive);
    }
    let (mut arrived, mut finished, mut flushed, mut events) = (0u64, 0u64, 0u64, 0u64);
    while let Some(event) = queue.pop() {
        if event.time > horizon {
            break;
        }
        events += 1;
        if events % 65_536 == 0 {
            progress.finished.fetch_add(finished, Ordering::Relaxed);
            flushed += finished;
            finished = 0;
            progress.reached_all(event.time.as_millis());
        }
        if event.kind == Kind::Arrive {
            if let Some((t, live)) = next.take() {
                arrived += 1;
                admit(world, live, t, &mut lives, &mut free, &mut queue, &stations);
                next = arrivals.next();
                if let Some((t, _)) = &next {
                    queue.push(*t, 0, 0, Kind::Arrive);
                }
            }
            continue;
        }
        if step(
            world,
            event,
            &mut lives,
            &mut free,
            &mut queue,
            &mut funnel,
            &mut stations,
        ) {
            finished += 1;
        }
    }
    censor(&mut lives, &free, &mut funnel, horizon);
    // The censored finish at the horizon.
    progress
        .finished
        .fetch_add(arrived.saturating_sub(flushed), Ordering::Relaxed);
    progress.reached_all(horizon.as_millis());
    funnel.queues = stations.into_stats();
    (funnel, arrived)
}
