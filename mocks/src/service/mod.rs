//! The agencies as HTTP services: each mock is the pure model of [`crate::agency`] inside a
//! server, with a store of ground-truth records, a bounded journal of requests, faults and an
//! admin API (DESIGN.md core idea 3). Every mock lives under `/mocks/<agency>` and can serve
//! alone.
//!
//! The mocks' request and answer types (bodies, answers, query strings) are not here but in
//! their contract, [`crate::wire`], one submodule a mock ([`crate::wire::sms`],
//! [`crate::wire::smev`], ...); they derive `ToSchema`, so the stand's OpenAPI document states
//! them with the forms of [`crate::wire`]. Here is how they are read, judged, stored and
//! answered.
//!
//! Modules:
//! - [`http`]: the contract's JSON error body ([`crate::wire::ErrorBody`]), a JSON extractor
//!   naming the field at fault (a body must be an object), the fallback and the layer that make
//!   every 4xx JSON (shared with the engine's API).
//! - [`error`]: [`MockError`], the mocks' errors with their HTTP mapping.
//! - [`world`]: [`World`], the scaled wall clock every mock and the engine read, timers on
//!   absolute sim deadlines, and the advance that runs everything due in the skipped interval
//!   in time order.
//! - [`journal`]: the bounded journal of what each mock received, filterable by path and time.
//! - [`faults`]: faults as data: the wire's (response delay, resets, malformed bodies) and
//!   targeted ones (fail the next N requests, mismatch about a person, lose a letter, outage).
//! - [`admin`]: the admin API every mock shares (profile, faults, journal, reset), as routes and
//!   as methods ([`AdminHandle`]).
//! - [`inbox`]: the bounded inboxes of the SMS and mail mocks.
//! - [`sms`], [`mail`]: `POST .../messages`, `GET .../inbox/{recipient}`.
//! - [`smev`]: the asynchronous request, acknowledgement, callback and poll of SMEV 3, shared
//!   by [`pfr`] (SNILS checks) and [`fms`] (passport checks).
//! - [`ca`]: certificates of the population (valid, expired, revoked).
//! - [`post`](mod@post): registered letters, tracking, pickup with a passport, loss.
//! - [`people`]: the people banks and service centers know, by SNILS.
//! - [`engine`]: how the bank and service-center mocks reach the engine (URL and tokens).
//! - [`banks`]: Sber, Tinkoff and Pochta Bank send their clients to the engine's partner API.
//! - [`centers`]: the directory of service centers; a visit confirms or registers through the
//!   engine's operator API.
//! - [`connections`]: the HTTP/1.1 server loop and its limits against slow and greedy clients
//!   (header-read timeout, header size, open connections).
//! - [`server`]: [`MockServer`], one call that starts mocks on a free port for a test.
//! - [`station`]: a mock's capacity at runtime (servers, queue, quota of its profile): the
//!   stations that decide each request's wait or refusal, and their figures for `/metrics`.
//! - [`watch`]: the one layer on every route of a server: the mocks' journals and faults, and
//!   the stand's request metrics ([`Observe`]).
//!
//! A request's path through a mock: in the one route layer ([`watch`]) the journal records it and the faults may
//! delay it, fail it, cut its connection or garble its answer; the handler validates it, draws its
//! fate from the agency's profile (answer after a delay, error, outage, no answer) with the mock's
//! seeded RNG; with a `capacity` in the profile the delay is the service time at a server, and
//! the agency's station adds the wait for a server or refuses the request (429 with
//! `Retry-After`, see [`station`]); the mock stores it; the answer becomes visible when sim time reaches its delivery time
//! (inboxes, polling, a letter's arrival) and a PFR or FMS answer is also pushed to the caller's
//! `callback_url` by a timer on that absolute deadline.
//!
//! [`Mocks::router`] gives every mock with the clock's admin routes, [`Mocks::admin`] one
//! mock's admin operations and [`Mocks::advance`] the world's advance; [`start`] and
//! [`MockServer`] serve them on a free loopback port and return the base URL (the stand's
//! `StandServer` wraps the same [`Mocks`]).

pub mod admin;
pub mod banks;
pub mod ca;
pub mod centers;
pub mod connections;
pub mod engine;
pub mod error;
pub mod faults;
pub mod fms;
pub mod http;
pub mod inbox;
pub mod journal;
pub mod mail;
pub mod people;
pub mod pfr;
pub mod post;
pub mod server;
pub mod smev;
pub mod sms;
pub mod station;
pub mod watch;
pub mod world;

pub use admin::AdminHandle;
pub use connections::{serve_router, serve_router_with, HttpLimits};
pub use engine::EngineLink;
pub use error::MockError;
pub use faults::Wire;
pub use http::{Json, RequestError, BODY_LIMIT_BYTES};
pub use inbox::InboxCaps;
pub use journal::Filter;
pub use server::MockServer;
pub use watch::{Observe, Watch};
pub use world::{Agenda, Work, World};

use crate::agency::profile::Fate;
use crate::agency::{Agencies, Certificate, FmsRecord, PfrRecord};
use crate::clock::{Epoch, SimTime, MS_PER_DAY};
use crate::population::Population;
use crate::wire::clock::{AdvanceBody, ClockView};
use axum::extract::{DefaultBodyLimit, State};
use axum::routing::{get, post};
use axum::Router;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The figures of the mocks. Defaults (written once, in `impl Default`): every agency's
/// calibrated profile, seed 1, inboxes per [`InboxCaps::default`], journals of 1,000 entries,
/// 1,000,000 PFR or FMS requests kept each, 100,000 records added by the admin API each,
/// 100,000 letters, a request the profile drew as "no answer" held 30 s, callbacks per
/// [`CallbackPolicy`], no engine (the bank and center mocks answer 503 `no_engine`), a call to
/// the engine given 30 s, visits to service centers at any hour.
#[derive(Clone, Debug, PartialEq)]
pub struct MocksConfig {
    /// Every agency's profile (a scenario's `[agencies]` table).
    pub agencies: Agencies,
    /// Seeds the mocks' draws of delays and failures.
    pub seed: u64,
    /// Caps of the SMS and mail inboxes.
    pub inbox: InboxCaps,
    /// Entries each mock's journal keeps.
    pub journal_entries: usize,
    /// PFR or FMS requests kept (answered ones are dropped after `requests_retention_ms` when
    /// the store is full).
    pub requests_max: usize,
    /// How long an answered request is kept for polling once the store is full.
    pub requests_retention_ms: u64,
    /// Records each of PFR and FMS accepts through `POST .../admin/records`.
    pub records_max: usize,
    /// How long a request drawn as "no answer" is held before a 504, in wall milliseconds.
    pub hang_ms: u64,
    /// How PFR and FMS deliver callbacks.
    pub callback: CallbackPolicy,
    /// Letters the post holds (handed-over and 60-day-old ones are dropped when full).
    pub letters_max: usize,
    /// Where the bank and service-center mocks reach the engine.
    pub engine: Option<EngineLink>,
    /// How long a call to the engine may take, in wall milliseconds.
    pub engine_timeout_ms: u64,
    /// Whether service centers refuse visits outside their opening hours.
    pub opening_hours: bool,
    /// The token every admin route requires (`None`: the admin routes are open, as on
    /// loopback); see [`admin::guarded`].
    pub admin_token: Option<String>,
}

impl Default for MocksConfig {
    fn default() -> Self {
        Self {
            agencies: Agencies::default(),
            seed: 1,
            inbox: InboxCaps::default(),
            journal_entries: journal::JOURNAL_ENTRIES_DEFAULT,
            requests_max: 1_000_000,
            requests_retention_ms: MS_PER_DAY,
            records_max: 100_000,
            hang_ms: 30_000,
            callback: CallbackPolicy::default(),
            letters_max: 100_000,
            engine: None,
            engine_timeout_ms: 30_000,
            opening_hours: false,
            admin_token: None,
        }
    }
}

impl MocksConfig {
    /// Mocks for a test: every agency answers at once and never fails or loses anything
    /// ([`quiet_agencies`]); the rest as [`MocksConfig::default`].
    pub fn quiet() -> Self {
        Self {
            agencies: quiet_agencies(),
            ..Self::default()
        }
    }
}

/// Every agency immediate and faultless: zero latency, no errors, timeouts, losses, spam or
/// refusals. Faults are then added on purpose, by profile or targeted.
pub fn quiet_agencies() -> Agencies {
    let mut a = Agencies::default();
    for service in a.services_mut() {
        *service = crate::agency::Profile::default();
    }
    a.sms.loss_rate = 0.0;
    a.mail.loss_rate = 0.0;
    a.mail.spam_rate = 0.0;
    a.post.loss_rate = 0.0;
    a.centers.refusal_rate = 0.0;
    a
}

/// The mocks, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MockKind {
    Sms,
    Mail,
    Pfr,
    Fms,
    Ca,
    Post,
    Banks,
    Centers,
}

impl MockKind {
    /// Every mock.
    pub const ALL: [MockKind; 8] = [
        MockKind::Sms,
        MockKind::Mail,
        MockKind::Pfr,
        MockKind::Fms,
        MockKind::Ca,
        MockKind::Post,
        MockKind::Banks,
        MockKind::Centers,
    ];

    /// The path segment: `/mocks/<name>`.
    pub fn as_str(self) -> &'static str {
        match self {
            MockKind::Sms => "sms",
            MockKind::Mail => "mail",
            MockKind::Pfr => "pfr",
            MockKind::Fms => "fms",
            MockKind::Ca => "ca",
            MockKind::Post => "post",
            MockKind::Banks => "banks",
            MockKind::Centers => "centers",
        }
    }
}

impl std::fmt::Display for MockKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a mock's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown mock `{0}` (expected sms, mail, pfr, fms, ca, post, banks or centers)")]
pub struct UnknownMock(pub String);

impl std::str::FromStr for MockKind {
    type Err = UnknownMock;
    fn from_str(s: &str) -> Result<Self, UnknownMock> {
        MockKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownMock(s.to_owned()))
    }
}

/// How a PFR or FMS answer is pushed to the caller's `callback_url`: each attempt with a
/// timeout, failed attempts retried with a doubling backoff, a bounded number in flight. A
/// callback that fails every attempt is dropped: the caller polls. Defaults: 2 s timeout, 5
/// attempts, 200 ms first backoff, 64 in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackPolicy {
    pub timeout_ms: u64,
    pub attempts: u32,
    pub backoff_ms: u64,
    pub in_flight: usize,
}

impl Default for CallbackPolicy {
    fn default() -> Self {
        Self {
            timeout_ms: 2_000,
            attempts: 5,
            backoff_ms: 200,
            in_flight: 64,
        }
    }
}

/// The ground truth of the agencies: what PFR, FMS and the CA hold, and the people banks and
/// service centers know.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Truth {
    pub pfr: Vec<PfrRecord>,
    pub fms: Vec<FmsRecord>,
    pub certificates: Vec<Certificate>,
    pub people: people::Directory,
}

impl Truth {
    /// The records of citizens `0..count` of `population` (the ones `esia-sim citizens` prints).
    pub fn of_population(population: &Population, count: u64) -> Self {
        let mut truth = Truth::default();
        let mut snils = Vec::with_capacity(count.min(1 << 20) as usize);
        for citizen in population.citizens(0..count) {
            if let Some(r) = citizen.pfr_record() {
                truth.pfr.push(r);
            }
            truth.fms.push(citizen.fms_record());
            if let Some(c) = citizen.certificate() {
                truth.certificates.push(c);
            }
            if let Ok(key) = people::snils_key(&citizen.snils) {
                snils.push((key, citizen.id));
            }
        }
        truth.people = people::Directory::new(population.clone(), snils);
        truth
    }
}

/// What every mock shares: the world's clock, the seeded RNG of draws, the hang time.
#[derive(Debug)]
pub struct Context {
    pub world: Arc<World>,
    rng: Mutex<ChaCha20Rng>,
    hang_ms: u64,
    journal_entries: usize,
}

impl Context {
    /// A context on `world`, drawing from `seed`.
    pub fn new(world: Arc<World>, config: &MocksConfig) -> Arc<Self> {
        Arc::new(Self {
            world,
            rng: Mutex::new(ChaCha20Rng::seed_from_u64(config.seed)),
            hang_ms: config.hang_ms,
            journal_entries: config.journal_entries,
        })
    }

    /// Runs `f` with the mocks' RNG (briefly locked).
    pub fn with_rng<T>(&self, f: impl FnOnce(&mut ChaCha20Rng) -> T) -> T {
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut rng)
    }

    /// The delay of an answer, or the failure the fate stands for. "No answer" holds the
    /// request for the hang time first (a client's timeout usually gives up before).
    pub async fn delay_of(&self, agency: &'static str, fate: Fate) -> Result<u64, MockError> {
        match fate {
            Fate::Answer { delay_ms } => Ok(delay_ms),
            Fate::ServerError => Err(MockError::AgencyError { agency }),
            Fate::Outage => Err(MockError::Outage { agency }),
            Fate::Timeout => {
                tokio::time::sleep(Duration::from_millis(self.hang_ms)).await;
                Err(MockError::Timeout { agency })
            }
        }
    }

    /// The verdict and delay of a reply, or the failure it stands for (see [`Context::delay_of`]).
    pub async fn answer<V>(
        &self,
        agency: &'static str,
        reply: crate::agency::Reply<V>,
    ) -> Result<(V, u64), MockError> {
        use crate::agency::Reply;
        let fate = match reply {
            Reply::Answer { verdict, delay_ms } => return Ok((verdict, delay_ms)),
            Reply::ServerError => Fate::ServerError,
            Reply::Outage => Fate::Outage,
            Reply::Timeout => Fate::Timeout,
        };
        Err(self
            .delay_of(agency, fate)
            .await
            .err()
            .unwrap_or(MockError::Timeout { agency }))
    }

    /// A new journal on this world.
    pub fn journal(&self) -> Arc<journal::Journal> {
        journal::Journal::new(self.world.clone(), self.journal_entries)
    }

    /// Waits `delay_ms` of sim time on the world's clock (an advance steps the clock to its
    /// end). The [`Work`] returned keeps an advance waiting until the caller has done what
    /// comes next (called the engine, answered).
    pub async fn wait(&self, delay_ms: u64) -> Work {
        let deadline = self.world.now().saturating_add(delay_ms);
        self.world.sleep_until(deadline).await
    }
}

/// Every mock of the stand and the clock's admin API, sharing one world.
#[derive(Clone)]
pub struct Mocks {
    pub context: Arc<Context>,
    pub sms: Arc<sms::Sms>,
    pub mail: Arc<mail::Mail>,
    pub pfr: Arc<smev::Smev<pfr::Pfr>>,
    pub fms: Arc<smev::Smev<fms::Fms>>,
    pub ca: Arc<ca::Ca>,
    pub post: Arc<post::Post>,
    pub banks: Arc<banks::Banks>,
    pub centers: Arc<centers::Centers>,
    /// The token of the admin routes, if they are closed.
    admin_token: Option<Arc<str>>,
}

impl Mocks {
    /// The mocks on `world`, holding `truth`. Starts the PFR and FMS answer timers: call
    /// within a Tokio runtime.
    pub fn new(world: Arc<World>, config: MocksConfig, truth: Truth) -> Self {
        let context = Context::new(world, &config);
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(config.callback.timeout_ms))
            .build()
            .unwrap_or_default();
        let engine = Arc::new(engine::Engine::new(
            config.engine.clone(),
            config.engine_timeout_ms,
        ));
        let people = || people::People::new(truth.people.clone(), config.records_max);
        Self {
            sms: sms::Sms::new(
                MockKind::Sms,
                context.clone(),
                config.agencies.sms.clone(),
                config.inbox,
            ),
            mail: mail::Mail::new(
                MockKind::Mail,
                context.clone(),
                config.agencies.mail.clone(),
                config.inbox,
            ),
            pfr: smev::Smev::start(
                context.clone(),
                config.agencies.pfr.clone(),
                truth.pfr,
                &config,
                client.clone(),
            ),
            fms: smev::Smev::start(
                context.clone(),
                config.agencies.fms.clone(),
                truth.fms,
                &config,
                client,
            ),
            ca: ca::Ca::new(
                context.clone(),
                config.agencies.ca.clone(),
                truth.certificates,
                config.records_max,
            ),
            post: post::Post::new(
                context.clone(),
                config.agencies.post.clone(),
                config.letters_max,
            ),
            banks: banks::Banks::new(
                context.clone(),
                config.agencies.banks.clone(),
                people(),
                engine.clone(),
            ),
            centers: centers::Centers::new(
                context.clone(),
                config.agencies.centers.clone(),
                config.opening_hours,
                people(),
                engine,
            ),
            admin_token: config.admin_token.as_deref().map(Arc::from),
            context,
        }
    }

    /// What each mock's stations hold now and refused so far, by the `agency` label of
    /// `/metrics`: `sms`, `mail`, `pfr`, `fms`, `ca`, `post`, `banks.sber`, `banks.tinkoff`,
    /// `banks.pochta`, `centers` (every center's station added up).
    pub fn loads(&self) -> Vec<station::StationLoad> {
        let now = self.context.world.now();
        [
            self.sms.stations(),
            self.mail.stations(),
            self.pfr.stations(),
            self.fms.stations(),
            self.ca.stations(),
            self.post.stations(),
            self.banks.stations(),
            self.centers.stations(),
        ]
        .into_iter()
        .flat_map(|s| s.loads(now))
        .collect()
    }

    /// The world's clock.
    pub fn clock(&self) -> ClockView {
        self.context.world.view()
    }

    /// Moves the world's clock forward: everything due by then (deliveries, answers, letters,
    /// and whatever else shares the world, such as an engine's deadlines) happens in time
    /// order, each at its own time (see [`World::advance`]).
    pub async fn advance(&self, by: Duration) -> ClockView {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.context.world.advance(ms).await;
        self.clock()
    }

    /// The admin operations of one mock.
    pub fn admin(&self, kind: MockKind) -> AdminHandle {
        let a: Arc<dyn admin::Admin> = match kind {
            MockKind::Sms => self.sms.clone(),
            MockKind::Mail => self.mail.clone(),
            MockKind::Pfr => self.pfr.clone(),
            MockKind::Fms => self.fms.clone(),
            MockKind::Ca => self.ca.clone(),
            MockKind::Post => self.post.clone(),
            MockKind::Banks => self.banks.clone(),
            MockKind::Centers => self.centers.clone(),
        };
        AdminHandle(a)
    }

    /// One mock's routes with its admin routes. No fallback and no layers: [`Mocks::watch`]
    /// gives the layer of its journal and faults.
    pub fn router_of(&self, kind: MockKind) -> Router {
        let routes = match kind {
            MockKind::Sms => sms::router(self.sms.clone()),
            MockKind::Mail => mail::router(self.mail.clone()),
            MockKind::Pfr => smev::router(self.pfr.clone()),
            MockKind::Fms => smev::router(self.fms.clone()),
            MockKind::Ca => ca::router(self.ca.clone()),
            MockKind::Post => post::router(self.post.clone()),
            MockKind::Banks => banks::router(self.banks.clone()),
            MockKind::Centers => centers::router(self.centers.clone()),
        };
        routes.merge(admin::router(self.admin(kind).0))
    }

    /// The layer of the journals and faults of the mocks `kinds` ([`watch::Watch`]): a
    /// server applies it once, to its whole router.
    pub fn watch(&self, kinds: &[MockKind]) -> Watch {
        Watch::new(kinds.iter().map(|k| {
            let a = self.admin(*k).0;
            (*k, a.journal().clone(), a.faults().clone())
        }))
    }

    /// The routes of `kinds` with the clock's admin routes. No fallback and no outer layers:
    /// [`app`] adds them, and the engine's stand merges this router into its own.
    pub fn router_for(&self, kinds: &[MockKind]) -> Router {
        let router = kinds
            .iter()
            .fold(clock_router(self.context.world.clone()), |r, k| {
                r.merge(self.router_of(*k))
            });
        match &self.admin_token {
            Some(token) => admin::guarded(router, token.clone()),
            None => router,
        }
    }

    /// Every mock's routes under `/mocks`, with the clock's admin routes.
    pub fn router(&self) -> Router {
        self.router_for(&MockKind::ALL)
    }
}

/// The clock's admin routes: `GET /mocks/admin/clock`, `POST /mocks/admin/clock/advance`.
pub fn clock_router(world: Arc<World>) -> Router {
    Router::new()
        .route("/mocks/admin/clock", get(clock))
        .route("/mocks/admin/clock/advance", post(advance))
        .with_state(world)
}

async fn clock(State(world): State<Arc<World>>) -> Json<ClockView> {
    Json(world.view())
}

/// The longest single advance: ten years.
const ADVANCE_MAX_SECONDS: f64 = 10.0 * 366.0 * 86_400.0;

/// `POST /mocks/admin/clock/advance`: everything due in the skipped interval happens in time
/// order before the answer ([`World::advance`]).
async fn advance(
    State(world): State<Arc<World>>,
    Json(body): Json<AdvanceBody>,
) -> Result<Json<ClockView>, MockError> {
    if !(body.seconds.is_finite() && (0.0..=ADVANCE_MAX_SECONDS).contains(&body.seconds)) {
        return Err(MockError::invalid(
            "seconds",
            "must be a number of seconds from 0 to ten years",
        ));
    }
    let ms = (body.seconds * 1_000.0).round() as u64;
    // In a task of its own: a client that hangs up does not stop it half-way.
    let w = world.clone();
    let _ = tokio::spawn(async move { w.advance(ms).await }).await;
    tracing::info!(seconds = body.seconds, "the world's clock advanced");
    Ok(Json(world.view()))
}

/// A whole server as one service: the routed router inside the outer layers (see
/// [`outer_layers`]). Cloned for each connection and each request: its clone is a few
/// reference counts.
pub type App = http::JsonErrorsService<<DefaultBodyLimit as tower::Layer<Router>>::Service>;

/// A whole mocks server: the routes of [`Mocks::router`] under their journals and faults, with
/// the JSON fallback, the body limit, panic catching and JSON errors for every rejection.
pub fn app(mocks: &Mocks) -> App {
    app_for(mocks, &MockKind::ALL)
}

/// A server of the mocks `kinds` only (and the clock's admin routes), as [`app`].
pub fn app_for(mocks: &Mocks, kinds: &[MockKind]) -> App {
    finish(mocks.router_for(kinds), mocks.watch(kinds))
}

/// Adds the JSON fallback, `watch` on every route, and the outer layers to `router`.
pub fn finish(router: Router, watch: Watch) -> App {
    outer_layers(router.fallback(http::no_route).layer(watch))
}

/// The outer layers every service of the stand shares: the body limit, and every non-JSON
/// error answer (axum's 405, a 413) turned into the contract's JSON, panics caught as JSON 500s
/// ([`http::JsonErrors`]).
///
/// They wrap the routed `router` once, as one service, rather than each of its routes
/// (`Router::layer`): a route calls its service through a clone of it, and a route layered
/// five times was cloned box within box, about twenty allocations a request.
pub fn outer_layers(router: Router) -> App {
    tower::ServiceBuilder::new()
        .layer(http::JsonErrors)
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .service(router)
}

/// Serves the mocks `kinds` (with the clock's admin routes) on `listener`, and each mock of
/// `own` on its own listener as well, until `shutdown` fires; requests in flight finish first.
pub async fn serve(
    listener: tokio::net::TcpListener,
    mocks: &Mocks,
    kinds: &[MockKind],
    own: Vec<(MockKind, tokio::net::TcpListener)>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    for (kind, l) in own {
        let router = app_for(mocks, &[kind]);
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            let served = serve_router(l, router, async move {
                let _ = stopped.wait_for(|s| *s).await;
            })
            .await;
            if let Err(e) = served {
                tracing::error!(mock = kind.as_str(), error = %e, "a mock's own server stopped");
            }
        });
    }
    let served = serve_router(listener, app_for(mocks, kinds), shutdown).await;
    let _ = stop.send(true);
    served
}

/// A running mocks server.
pub struct Running {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    pub mocks: Mocks,
    pub task: tokio::task::JoinHandle<()>,
}

/// Serves the mocks of `config` on a free loopback port (a world at the default epoch, scale
/// 1). Call within a Tokio runtime.
pub async fn start(config: MocksConfig, truth: Truth) -> std::io::Result<Running> {
    let world = World::new(Epoch::default(), SimTime::ZERO, 1.0)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let mocks = Mocks::new(world, config, truth);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base_url = format!("http://{}", listener.local_addr()?);
    let router = app(&mocks);
    let task = tokio::spawn(async move {
        if let Err(e) = serve_router(listener, router, std::future::pending()).await {
            tracing::error!(error = %e, "the mocks server stopped");
        }
    });
    Ok(Running {
        base_url,
        mocks,
        task,
    })
}
