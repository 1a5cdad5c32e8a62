//! The stand: the registry engine behind its HTTP API v1, with the agencies' mocks on the same
//! address (`esia-sim serve`, DESIGN.md's HTTP contract).
//!
//! Modules:
//! - [`api`]: the engine's routes, one handler per row of the contract, plus health, metrics,
//!   the OpenAPI document and the agencies' callback route; bodies and answers are the types of
//!   [`crate::wire`].
//! - [`error`]: [`StandError`], the API's errors and their one HTTP mapping, the registry's
//!   refusals included (the engine has codes, not statuses).
//! - [`agencies`]: the engine's HTTP clients of the agencies: timeouts, retries with backoff and
//!   jitter.
//! - [`performer`]: performs the registry's effects through those clients and feeds the answers
//!   back (callbacks, polling), from a bounded queue into one lane per agency, each with its own
//!   bounded queue and calls in flight (bulkheads).
//! - [`lockout`]: the login lockout after wrong passwords and the throttle of failed logins per
//!   client address.
//! - [`metrics`]: `GET /metrics` in the Prometheus text format.
//! - [`openapi`]: `GET /openapi.json`, the OpenAPI 3 description of every route, its schemas
//!   derived from the wire types.
//! - [`server`]: [`StandServer`], the whole stand started on a free port by one call, for an
//!   integrator's Rust tests.
//!
//! A request's path: the handler validates the body (JSON errors name the field), reserves room
//! for the command's effects, runs the command on the [`Registry`] under a short lock with
//! `now` from the [`World`]'s clock and the stand's CSPRNG, and hands the effects to the
//! performer. Passwords are hashed and verified on blocking threads, outside the lock. A
//! housekeeping task calls `Registry::expire_some` every second and at every advance of the
//! clock, in batches that hold the lock briefly (deadline-indexed: no store is scanned).
//!
//! The world's advance (`POST /mocks/admin/clock/advance`) keeps the order of events across the
//! engine and the mocks: the stand is an [`Agenda`] whose due times are the registry's
//! verification deadlines ([`Registry::next_deadline`]), and every effect it queues, every poll
//! a callback asks for and every housekeeping pass is counted as the world's [`Work`] until
//! done. So an advance of 15 days applies each PFR and FMS answer at the time it was due, and
//! times out only what was still unanswered 14 days after its submission; an answer after its
//! request's drop is ignored whether housekeeping has dropped it yet or not.
//!
//! [`run`] serves the stand on a bound listener until a shutdown future fires ([`assemble_with`]
//! also serves chosen mocks on their own listeners); [`Stand::new`] and [`app`] build it in
//! process for tests; [`StandServer`] starts it on a free port.

pub mod agencies;
pub mod api;
pub mod error;
pub mod lockout;
pub mod metrics;
pub mod openapi;
pub mod performer;
pub mod server;

pub use agencies::{AgencyClient, AgencyError, CallFailed, RetryPolicy};
pub use error::StandError;
pub use lockout::LockoutConfig;
pub use performer::{AgencyUrls, PerformerConfig};
pub use server::StandServer;

use crate::registry::PasswordHash;
use crate::registry::{Effect, HashProfile, Registry, RegistryConfig, RegistryError, Tier};
use axum::Router;
use esia_mocks::agency::Agencies;
use esia_mocks::clock::{ClockError, SimTime};
use esia_mocks::population::{Population, PopulationConfig, PopulationError};
use esia_mocks::service::{
    Agenda, EngineLink, HttpLimits, MockKind, Mocks, MocksConfig, Truth, World,
};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// Where the agencies are, when not on the stand itself: each `None` is the stand's own mock.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UrlOverrides {
    pub sms: Option<String>,
    pub mail: Option<String>,
    pub pfr: Option<String>,
    pub fms: Option<String>,
    pub post: Option<String>,
    pub ca: Option<String>,
}

/// Everything `serve` needs, resolved. Defaults (written once, in `impl Default`): population
/// seed 1 with 1,000 citizens as the agencies' truth, time at scale 1, codes from the operating
/// system's CSPRNG, every agency's calibrated profile, the stand's own mocks, hashing
/// `realistic` with 4 hashes at once, the registry's default figures, a bank's request answered
/// within 10 s of wall time (else 202 and a status route), the lockout of
/// [`LockoutConfig::default`], the HTTP limits of [`HttpLimits::default`].
#[derive(Clone, Debug)]
pub struct StandConfig {
    /// The population whose first `population` citizens PFR and FMS hold.
    pub seed: u64,
    pub population: u64,
    /// Sim milliseconds per wall millisecond.
    pub time_scale: f64,
    /// Makes codes, ids and tokens reproducible (tests); `None`: the OS's CSPRNG.
    pub code_seed: Option<u64>,
    pub operator_token: String,
    pub partner_token: String,
    /// The agencies' profiles.
    pub agencies: Agencies,
    pub urls: UrlOverrides,
    pub hash_profile: HashProfile,
    /// Password hashes computed at once (each on a blocking thread).
    pub hashing_in_flight: usize,
    pub registry: RegistryConfig,
    /// The mocks' figures (their `agencies` are replaced by [`StandConfig::agencies`]).
    pub mocks: MocksConfig,
    pub performer: PerformerConfig,
    /// The most SMS per request to the SMS gateway; `None`: 100 to the stand's own SMS mock
    /// (which takes batches), 1 to a gateway given by URL (which may not).
    pub sms_batch: Option<usize>,
    pub retry: RetryPolicy,
    /// How long a partner's request waits for PFR and FMS before answering 202.
    pub partner_wait_ms: u64,
    /// The lockout after wrong passwords, and the throttle of failed logins per address.
    pub lockout: LockoutConfig,
    /// The HTTP server's limits (header-read timeout, header size, open connections).
    pub http: HttpLimits,
    /// Simplified accounts made before serving (`preload-{i}@esia-sim.invalid`, their password
    /// random and unknown), so that a measurement runs against a full registry.
    pub preload_accounts: u64,
}

impl Default for StandConfig {
    fn default() -> Self {
        Self {
            seed: 1,
            population: 1_000,
            time_scale: 1.0,
            code_seed: None,
            operator_token: String::new(),
            partner_token: String::new(),
            agencies: Agencies::default(),
            urls: UrlOverrides::default(),
            hash_profile: HashProfile::Realistic,
            hashing_in_flight: 4,
            registry: RegistryConfig::default(),
            mocks: MocksConfig::default(),
            performer: PerformerConfig::default(),
            sms_batch: None,
            retry: RetryPolicy::default(),
            partner_wait_ms: 10_000,
            lockout: LockoutConfig::default(),
            http: HttpLimits::default(),
            preload_accounts: 0,
        }
    }
}

/// The most SMS per request to the stand's own SMS mock, by default.
pub const SMS_BATCH_OWN: usize = 100;

/// The most citizens the agencies hold from a population (memory: about 1 KB each).
pub const POPULATION_MAX: u64 = 2_000_000;

/// Why the stand cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Population(#[from] PopulationError),
    #[error(transparent)]
    Clock(#[from] ClockError),
    #[error("--population {0} is more than the stand holds ({POPULATION_MAX})")]
    PopulationTooLarge(u64),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("cannot preload the accounts: {0}")]
    Preload(RegistryError),
}

/// Room reserved in the effects queue for a command's effects.
pub(crate) struct Room<'a>(Option<tokio::sync::mpsc::PermitIterator<'a, performer::Queued>>);

/// The registry with the CSPRNG its commands draw from, under one lock.
struct Core {
    registry: Registry,
    rng: ChaCha20Rng,
}

/// The engine as the stand runs it.
pub struct Stand {
    core: Mutex<Core>,
    pub world: Arc<World>,
    hash_profile: HashProfile,
    hashing: Semaphore,
    operator_token: String,
    partner_token: String,
    pub performer: performer::Performer,
    client: AgencyClient,
    pub metrics: Arc<metrics::Metrics>,
    partner_wait_ms: u64,
    /// Wrong passwords and failed logins counted, and refused past their limits.
    pub lockout: lockout::Lockout,
    /// The stand's own mocks, whose stations `/metrics` shows (set by [`app`]).
    mocks: std::sync::OnceLock<Mocks>,
}

impl std::fmt::Debug for Stand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stand").finish_non_exhaustive()
    }
}

/// A CSPRNG seeded from `seed`, or from the operating system.
fn csprng(seed: Option<u64>) -> ChaCha20Rng {
    match seed {
        Some(s) => ChaCha20Rng::seed_from_u64(s),
        None => ChaCha20Rng::try_from_rng(&mut rand::rngs::SysRng)
            .unwrap_or_else(|_| ChaCha20Rng::seed_from_u64(std::process::id().into())),
    }
}

/// A random token of 32 hex digits from the operating system's CSPRNG.
pub fn random_token() -> String {
    use rand::Rng;
    let mut rng = csprng(None);
    format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64())
}

impl Stand {
    /// The engine on `world`, calling the agencies at `urls`, reachable at `public_base`.
    /// Does not start its tasks: see [`Stand::start`].
    pub fn new(
        config: &StandConfig,
        world: Arc<World>,
        urls: AgencyUrls,
        public_base: &str,
    ) -> Arc<Self> {
        let mut registry_config = config.registry;
        registry_config.epoch = world.epoch();
        let jitter_seed = config.code_seed.unwrap_or(config.seed) ^ 0x6a69_7474_6572;
        Arc::new(Self {
            core: Mutex::new(Core {
                registry: Registry::new(registry_config),
                rng: csprng(config.code_seed),
            }),
            world,
            hash_profile: config.hash_profile,
            hashing: Semaphore::new(config.hashing_in_flight.max(1)),
            operator_token: config.operator_token.clone(),
            partner_token: config.partner_token.clone(),
            performer: performer::Performer::new(urls, public_base, config.performer),
            client: AgencyClient::new(config.retry, jitter_seed),
            metrics: Arc::new(metrics::Metrics::new()),
            partner_wait_ms: config.partner_wait_ms,
            lockout: lockout::Lockout::new(config.lockout),
            mocks: std::sync::OnceLock::new(),
        })
    }

    /// Starts the performer and the housekeeping, and puts the registry's deadlines on the
    /// world's agenda; the tasks stop when `cancel` fires. Call within a Tokio runtime.
    pub fn start(self: &Arc<Self>, cancel: CancellationToken) {
        performer::spawn(self, cancel.clone());
        tokio::spawn(housekeeping(self.clone(), cancel));
        let agenda: std::sync::Weak<Stand> = Arc::downgrade(self);
        self.world.add_agenda(agenda);
    }

    /// Makes `count` simplified accounts `preload-{i}@esia-sim.invalid` through the registry's
    /// commands (see [`Registry::register_by_email`]), taking the lock for 1,000 at a time.
    /// Their password is drawn from the CSPRNG, hashed once under the stand's profile and
    /// forgotten: nobody logs in to them.
    pub fn preload_accounts(&self, count: u64) -> Result<(), RegistryError> {
        const CHUNK: u64 = 1_000;
        let hash = {
            let mut core = self.lock();
            use rand::Rng;
            let password = format!("{:016x}{:016x}", core.rng.next_u64(), core.rng.next_u64());
            self.hash_profile.hash(&password, &mut core.rng)
        };
        let mut i = 0;
        while i < count {
            let now = self.world.now();
            let mut guard = self.lock();
            let core = &mut *guard;
            for j in i..(i + CHUNK).min(count) {
                core.registry.register_by_email(
                    now,
                    &mut core.rng,
                    "Тестов",
                    "Тест",
                    &format!("preload-{j}@esia-sim.invalid"),
                    hash.clone(),
                )?;
            }
            i += CHUNK;
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Core> {
        self.core.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs a command that makes no effects under the lock (one it makes anyway is queued if
    /// there is room, else dropped with a warning). A command with effects reserves their room
    /// first: [`Stand::room`], then [`Stand::command_in`].
    pub(crate) fn command<T>(
        &self,
        f: impl FnOnce(
            &mut Registry,
            SimTime,
            &mut ChaCha20Rng,
            &mut Vec<Effect>,
        ) -> Result<T, RegistryError>,
    ) -> Result<T, StandError> {
        self.command_in(Room(None), f)
    }

    /// Reserves room for `room` effects in the queue, waiting for it at most the performer's
    /// `room_wait_ms` (then 503): under overload a client is slowed down rather than refused at
    /// once, so the stand spends its time on work that succeeds.
    pub(crate) async fn room(&self, room: usize) -> Result<Room<'_>, StandError> {
        if room == 0 {
            return Ok(Room(None));
        }
        // Nearly always there is room now: no timer for that.
        if let Ok(permits) = self.performer.sender().try_reserve_many(room) {
            return Ok(Room(Some(permits)));
        }
        let wait = Duration::from_millis(self.performer.config().room_wait_ms);
        match tokio::time::timeout(wait, self.performer.sender().reserve_many(room)).await {
            Ok(Ok(permits)) => Ok(Room(Some(permits))),
            _ => Err(StandError::Busy {
                what: "effects queue",
            }),
        }
    }

    /// Runs a command in the room reserved for its effects (see [`Stand::room`]).
    pub(crate) fn command_in<T>(
        &self,
        room: Room<'_>,
        f: impl FnOnce(
            &mut Registry,
            SimTime,
            &mut ChaCha20Rng,
            &mut Vec<Effect>,
        ) -> Result<T, RegistryError>,
    ) -> Result<T, StandError> {
        let mut effects = Vec::new();
        let result = {
            let now = self.world.now();
            let mut core = self.lock();
            let Core { registry, rng } = &mut *core;
            f(registry, now, rng, &mut effects)
        };
        self.queue(effects, room);
        Ok(result?)
    }

    /// Reads the registry under the lock.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Registry, SimTime) -> T) -> T {
        let now = self.world.now();
        f(&self.lock().registry, now)
    }

    /// Applies something that needs no room reserved (an agency's answer, housekeeping); its
    /// effects (notifications) are queued if there is room.
    pub(crate) fn apply<T>(
        &self,
        f: impl FnOnce(&mut Registry, SimTime, &mut Vec<Effect>) -> T,
    ) -> T {
        let mut effects = Vec::new();
        let out = {
            let now = self.world.now();
            let mut core = self.lock();
            f(&mut core.registry, now, &mut effects)
        };
        self.queue(effects, Room(None));
        out
    }

    /// Queues effects made under the lock: each SMS straight into its batch (through the queue,
    /// the dispatch task would wake for every registration only to pass it on), anything else
    /// in the `room` reserved for it, else if there is room (dropped with a warning if not).
    fn queue(&self, effects: Vec<Effect>, room: Room<'_>) {
        let mut permits = room.0.into_iter().flatten();
        for effect in effects {
            let Some((effect, work)) = performer::batch_sms(self, effect, self.world.work()) else {
                continue;
            };
            match permits.next() {
                Some(p) => p.send(performer::Queued { effect, work }),
                None => self.performer.send_or_drop(effect, work),
            }
        }
    }

    /// The registry's verification timeout.
    pub(crate) fn verification_timeout_ms(&self) -> u64 {
        self.lock().registry.config().verification_timeout_ms
    }

    /// Hashes a password on a blocking thread, a bounded number at once.
    pub(crate) async fn hash(&self, password: String) -> Result<PasswordHash, StandError> {
        if self.hash_profile == HashProfile::None {
            return Ok(PasswordHash::unhashed());
        }
        let _permit = self
            .hashing
            .acquire()
            .await
            .map_err(|e| StandError::Internal(e.to_string()))?;
        let mut rng = {
            let mut core = self.lock();
            ChaCha20Rng::from_rng(&mut core.rng)
        };
        let profile = self.hash_profile;
        tokio::task::spawn_blocking(move || profile.hash(&password, &mut rng))
            .await
            .map_err(|e| StandError::Internal(e.to_string()))
    }

    /// Verifies a password against a stored hash on a blocking thread.
    pub(crate) async fn verify(&self, password: String, hash: PasswordHash) -> bool {
        if hash.is_unhashed() {
            return crate::registry::password::verify(&password, &hash);
        }
        let Ok(_permit) = self.hashing.acquire().await else {
            return false;
        };
        tokio::task::spawn_blocking(move || crate::registry::password::verify(&password, &hash))
            .await
            .unwrap_or(false)
    }

    /// Checks an operator (`partner == false`) or partner token, in constant time.
    pub(crate) fn check_token(&self, given: Option<&str>, partner: bool) -> Result<(), StandError> {
        use subtle::ConstantTimeEq;
        let (want, what) = if partner {
            (&self.partner_token, "partner token")
        } else {
            (&self.operator_token, "operator token")
        };
        let given = given.ok_or(StandError::TokenMissing { what })?;
        let same: bool = given.as_bytes().ct_eq(want.as_bytes()).into();
        if same && !want.is_empty() {
            Ok(())
        } else {
            Err(StandError::TokenWrong { what })
        }
    }

    /// What `/metrics` reads from the registry and the performer.
    pub(crate) fn snapshot(&self) -> metrics::Snapshot {
        // Counts kept by the registry as accounts change: no walk over the accounts.
        let (census, sizes) = self.read(|r, _| (r.census(), r.sizes()));
        let stores = sizes.iter().map(|(s, n)| (s.name(), *n as i64)).collect();
        metrics::Snapshot {
            accounts: Tier::ALL
                .iter()
                .map(|t| (t.as_str(), census.accounts(*t) as i64))
                .collect(),
            verifications_pending: census.verifications_pending as i64,
            stores,
            effects_queued: self.performer.queued() as i64,
            requests_waiting: self.performer.waiting() as i64,
            effects_deferred: self.performer.deferred_len() as i64,
            mocks: self.mocks.get().map(Mocks::loads).unwrap_or_default(),
        }
    }
}

impl Agenda for Stand {
    fn next_due(&self, from: SimTime) -> Option<SimTime> {
        self.lock().registry.next_deadline(from)
    }
}

/// The most items one batch of housekeeping expires under the registry's lock: with the
/// deadline index a batch costs O(batch log n) whatever the stores hold; with a million accounts
/// and a million registrations due, a batch of 64 took at most 160 µs of CPU in 4,000 (256: at
/// most 566 µs; benches/README.md), well under the 1 ms a hold may last.
const EXPIRE_BATCH: usize = 64;

/// How often the stand hands freed memory back to the system.
const TRIM_EVERY: Duration = Duration::from_secs(10);

/// Returns glibc's free pages to the system. glibc's malloc keeps what a burst freed (the
/// effects queued through an agency's outage, a flood of connections) in its arenas, so the
/// resident size of a long run climbs to its high-water mark and stays there; trimmed, it
/// follows what the stand holds (the fault drill's memory criterion, benches/README.md). The
/// `esia-sim` binary allocates with mimalloc, which returns freed pages by itself; this still
/// serves the library's other users (the tests) and glibc's own heap.
fn give_back_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointer and is thread-safe; it only releases free memory.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Calls `Registry::expire_some` every second of wall time and at every advance of the clock,
/// in batches (the lock is released between two), until nothing due is left.
async fn housekeeping(stand: Arc<Stand>, cancel: CancellationToken) {
    let mut advances = stand.world.advances();
    let mut trimmed = std::time::Instant::now();
    loop {
        if trimmed.elapsed() >= TRIM_EVERY {
            trimmed = std::time::Instant::now();
            tokio::task::spawn_blocking(give_back_memory);
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            changed = advances.changed() => {
                if changed.is_err() {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
            _ = cancel.cancelled() => return,
        }
        // Counted, so an advance waits for the deadlines due at its instant to be met.
        let _work = stand.world.work();
        let mut timed_out = 0;
        loop {
            let (expired, held, held_cpu) = stand.apply(|r, now, fx| {
                let (start, start_cpu) = (std::time::Instant::now(), metrics::thread_cpu());
                let e = r.expire_some(now, EXPIRE_BATCH, fx);
                let cpu = metrics::thread_cpu()
                    .zip(start_cpu)
                    .map(|(end, start)| end.saturating_sub(start));
                (e, start.elapsed(), cpu)
            });
            stand
                .metrics
                .housekeeping_hold(held.as_secs_f64(), held_cpu.map(|c| c.as_secs_f64()));
            timed_out += expired.verifications_timed_out;
            if !expired.more {
                break;
            }
            tokio::task::yield_now().await;
        }
        if timed_out > 0 {
            tracing::info!(count = timed_out, "verifications timed out");
        }
    }
}

/// The stand's routes: the engine's and, when given, the mocks', with the JSON fallback, and no
/// layer ([`app`] adds them).
pub fn routes(stand: Arc<Stand>, mocks: Option<&Mocks>) -> Router {
    if let Some(m) = mocks {
        let _ = stand.mocks.set(m.clone());
    }
    let mut router = api::router(stand);
    if let Some(m) = mocks {
        router = router.merge(m.router());
    }
    router.fallback(esia_mocks::service::http::no_route)
}

/// The whole application: [`routes`] under the one route layer (the mocks' journals and faults,
/// the request metrics) and the shared outer layers (JSON errors for every rejection, the body
/// limit, panics caught).
pub fn app(stand: Arc<Stand>, mocks: Option<&Mocks>) -> esia_mocks::service::App {
    let metrics = stand.metrics.clone();
    let watch = mocks.map_or_else(esia_mocks::service::Watch::default, |m| {
        m.watch(&MockKind::ALL)
    });
    let router = routes(stand, mocks).layer(watch.observed_by(metrics));
    esia_mocks::service::outer_layers(router)
}

/// A stand assembled around a bound listener.
pub struct Assembled {
    pub stand: Arc<Stand>,
    pub mocks: Mocks,
    pub router: esia_mocks::service::App,
    pub base_url: String,
    /// Mocks served on their own addresses too, with their base URLs
    /// (`http://ADDR/mocks/<agency>`); the engine calls them there.
    pub own: Vec<(MockKind, String)>,
    own_listeners: Vec<(MockKind, TcpListener)>,
    /// The HTTP server's limits.
    pub http: HttpLimits,
}

/// Builds the stand for `listener` (its world, mocks, engine and router) and starts its tasks.
pub fn assemble(
    listener: &TcpListener,
    config: &StandConfig,
    cancel: CancellationToken,
) -> Result<Assembled, ServeError> {
    assemble_with(listener, Vec::new(), config, cancel)
}

/// As [`assemble`], with some mocks also served on their own listeners (`own`): the engine
/// calls those agencies there. The mocks stay on the main address too.
pub fn assemble_with(
    listener: &TcpListener,
    own: Vec<(MockKind, TcpListener)>,
    config: &StandConfig,
    cancel: CancellationToken,
) -> Result<Assembled, ServeError> {
    if config.population > POPULATION_MAX {
        return Err(ServeError::PopulationTooLarge(config.population));
    }
    let base_url = format!("http://{}", listener.local_addr()?);
    let world = World::new(config.registry.epoch, SimTime::ZERO, config.time_scale)?;
    let population = Population::new(config.seed, PopulationConfig::default())?;
    population.check_count(config.population)?;
    let truth = Truth::of_population(&population, config.population);
    // The stand's bank and center mocks reach its own engine with its tokens.
    let mocks_config = MocksConfig {
        agencies: config.agencies.clone(),
        seed: config.seed,
        engine: Some(EngineLink {
            url: base_url.clone(),
            partner_token: config.partner_token.clone(),
            operator_token: config.operator_token.clone(),
        }),
        ..config.mocks.clone()
    };
    let mocks = Mocks::new(world.clone(), mocks_config, truth);
    let mut urls = AgencyUrls::on(&base_url);
    let o = &config.urls;
    for (url, over) in [
        (&mut urls.sms, &o.sms),
        (&mut urls.mail, &o.mail),
        (&mut urls.pfr, &o.pfr),
        (&mut urls.fms, &o.fms),
    ] {
        if let Some(u) = over {
            *url = u.trim_end_matches('/').to_owned();
        }
    }
    for (url, over) in [(&mut urls.post, &o.post), (&mut urls.ca, &o.ca)] {
        if let Some(u) = over {
            *url = Some(u.trim_end_matches('/').to_owned());
        }
    }
    let mut own_urls = Vec::with_capacity(own.len());
    for (kind, l) in &own {
        let url = format!("http://{}/mocks/{}", l.local_addr()?, kind.as_str());
        match kind {
            MockKind::Sms => urls.sms = url.clone(),
            MockKind::Mail => urls.mail = url.clone(),
            MockKind::Pfr => urls.pfr = url.clone(),
            MockKind::Fms => urls.fms = url.clone(),
            MockKind::Post => urls.post = Some(url.clone()),
            MockKind::Ca => urls.ca = Some(url.clone()),
            // The engine does not call banks and centers; they call it.
            MockKind::Banks | MockKind::Centers => {}
        }
        own_urls.push((*kind, url));
    }
    let mut config = config.clone();
    config.performer.sms_batch = config
        .sms_batch
        .unwrap_or(if o.sms.is_none() { SMS_BATCH_OWN } else { 1 })
        .max(1);
    let stand = Stand::new(&config, world, urls, &base_url);
    stand
        .preload_accounts(config.preload_accounts)
        .map_err(ServeError::Preload)?;
    stand.start(cancel);
    let router = app(stand.clone(), Some(&mocks));
    Ok(Assembled {
        stand,
        mocks,
        router,
        base_url,
        own: own_urls,
        own_listeners: own,
        http: config.http,
    })
}

/// Serves the stand on `listener` until `shutdown` fires; requests in flight finish first.
pub async fn run(
    listener: TcpListener,
    config: StandConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let cancel = CancellationToken::new();
    let assembled = assemble(&listener, &config, cancel.clone())?;
    serve(listener, assembled, cancel, shutdown).await
}

/// Serves an assembled stand until `shutdown` fires, then stops its tasks.
pub async fn serve(
    listener: TcpListener,
    assembled: Assembled,
    cancel: CancellationToken,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    tracing::info!(base_url = assembled.base_url, "stand ready");
    let limits = assembled.http;
    for (kind, l) in assembled.own_listeners {
        let router = esia_mocks::service::app_for(&assembled.mocks, &[kind]);
        let stop = cancel.clone();
        tokio::spawn(async move {
            let stopped = async move { stop.cancelled().await };
            let served = esia_mocks::service::serve_router_with(l, router, limits, stopped).await;
            if let Err(e) = served {
                tracing::error!(mock = kind.as_str(), error = %e, "a mock's own server stopped");
            }
        });
    }
    let served =
        esia_mocks::service::serve_router_with(listener, assembled.router, limits, shutdown).await;
    cancel.cancel();
    tracing::info!("stand stopped");
    Ok(served?)
}

/// A future that resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("Ctrl-C: shutting down"),
        _ = term => tracing::info!("SIGTERM: shutting down"),
    }
}
