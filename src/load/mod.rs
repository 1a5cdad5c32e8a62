//! `esia-sim load`: goose users as synthetic citizens walking the funnel's tier paths over HTTP,
//! against the in-process stand or a system under test (DESIGN.md, the performance engineer).
//!
//! Modules:
//! - [`config`]: the scenario's `[load]` table (run shape, journey mix, thresholds).
//! - [`model`]: the model's mix: each journey a citizen doing what the simulator says.
//! - [`path`]: the journeys: each [`LoadPath`] a list of named steps with their actions.
//! - [`journey`]: the steps as goose transactions, the shared [`journey::Harness`] and the
//!   reading of codes and links from the mocks.
//! - [`citizens`]: `--shard i/n` and the cursor that hands each citizen out once.
//! - [`arrival`]: the open model of `--arrival-rate`: per-path schedules of start instants.
//! - [`attack`]: goose embedded: its arguments after `--`, our defaults, the scenarios.
//! - [`target`]: the in-process stand, or the mocks for a remote target, on their own runtime.
//! - [`funnel`]: the run's mergeable aggregate with HDR histograms; thresholds. Tiers are the
//!   engine's [`crate::registry::Tier`]; a journey that held none is `none` in `funnel.json`.
//! - [`timeline`]: the run over time in buckets of a second (requests by outcome, latency per
//!   step, journeys), mergeable; `timeline.csv`.
//! - [`report`]: `funnel.json`, `funnel.html`, `timeline.csv` and the summary.
//!
//! A run ([`run`]): resolve the scenario's `[load]` table with the flags; start the target on
//! its own runtime (engine and citizens in real time, the agencies' delays divided by
//! `speedup`); share users out over the paths (closed model) or size each path's pool for its
//! rate (open model); run goose on a second runtime while a monitor prints tier counts and ends
//! the journeys at the run's deadline; then snapshot the target's `/metrics` and write every
//! report into the run's folder. Goose users never move the world's clock.

pub mod arrival;
pub mod attack;
pub mod citizens;
pub mod config;
pub mod funnel;
pub mod journey;
pub mod model;
pub mod path;
pub mod report;
pub mod target;
pub mod timeline;

pub use citizens::Shard;
pub use config::LoadConfig;
pub use funnel::{LoadFunnel, Verdict};
pub use path::LoadPath;

use crate::registry::RegistryConfig;
use crate::scenario::Scenario;
use crate::stand::{self, StandConfig};
use esia_mocks::agency::{Agencies, Latency};
use esia_mocks::population::{Population, PopulationConfig};
use esia_mocks::service::MocksConfig;
use rand::SeedableRng;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Why a load run could not run (a failed threshold is not an error: see [`Outcome`]).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Config(#[from] config::LoadConfigError),
    #[error(transparent)]
    Attack(#[from] attack::AttackError),
    #[error(transparent)]
    Target(#[from] target::TargetError),
    #[error(transparent)]
    Report(#[from] report::ReportError),
    #[error(transparent)]
    Population(#[from] esia_mocks::population::PopulationError),
    #[error("shard {shard} of {population} citizens is empty")]
    EmptyShard { shard: String, population: u64 },
    #[error("no path can run: {0}")]
    NoPath(String),
    #[error("cannot start the load generator's runtime: {0}")]
    Runtime(std::io::Error),
    #[error("the model mix: {0}")]
    Model(crate::sim::SimError),
}

/// Everything a run needs besides the scenario's `[load]` table.
#[derive(Clone, Debug)]
pub struct Options {
    pub scenario: Scenario,
    /// The system under test; `None`: the in-process stand.
    pub host: Option<String>,
    /// Mocks already running (with `host`); `None`: served here on `mocks_addr`.
    pub mocks_url: Option<String>,
    pub mocks_addr: String,
    /// Tokens of the target's operator and partner APIs (generated for the in-process stand).
    pub operator_token: Option<String>,
    pub partner_token: Option<String>,
    /// Journeys a second (open model); overrides `load.arrival_rate`.
    pub arrival_rate: Option<f64>,
    pub shard: Shard,
    /// The run's folder.
    pub out: PathBuf,
    /// Goose's own arguments (after `--`).
    pub goose_args: Vec<String>,
    /// No progress lines.
    pub quiet: bool,
    /// Where the target's Prometheus metrics are read during the run (default: its
    /// `/metrics`).
    pub metrics_url: Option<String>,
}

/// What a run leaves.
#[derive(Debug)]
pub struct Outcome {
    pub funnel: LoadFunnel,
    pub verdicts: Vec<Verdict>,
    /// Goose's own verdict when it failed (its `--threshold` rules).
    pub goose_failure: Option<String>,
    pub files: Vec<PathBuf>,
}

impl Outcome {
    /// Whether every threshold, ours and goose's, passed.
    pub fn passed(&self) -> bool {
        self.goose_failure.is_none() && self.verdicts.iter().all(|v| v.pass)
    }
}

/// The agencies of the scenario with `speedup` (validated >= 1 with the `[load]` table)
/// applied to each whose own is unset (1).
pub fn sped_up(agencies: &Agencies, speedup: f64) -> Agencies {
    let mut a = agencies.clone();
    for s in a.services_mut() {
        if s.speedup == 1.0 {
            s.speedup = speedup;
        }
    }
    a
}

/// What a stand needs to serve a load run of a scenario: the agencies with `[load] speedup`
/// applied, and the engine's figures with `[load.engine]`'s. The in-process stand of `load`
/// and `esia-sim serve --scenario FILE --for-load` both take them from here, so shards run
/// against a separately started stand meet the same stand as one run against its own.
#[derive(Clone, Debug)]
pub struct StandTiming {
    pub agencies: Agencies,
    pub registry: RegistryConfig,
}

/// The stand's timing for a load run of `scenario` (its `[load]` table validated first).
pub fn stand_timing(scenario: &Scenario) -> StandTiming {
    let load = &scenario.load;
    let mut registry = RegistryConfig::default();
    if let Some(t) = load.engine.sms_code_ttl {
        registry.sms_code.ttl_ms = t.0;
    }
    if let Some(t) = load.engine.sms_resend_cooldown {
        registry.sms_code.resend_cooldown_ms = t.0;
    }
    if let Some(t) = load.engine.letter_reorder_cooldown {
        registry.letter_code.resend_cooldown_ms = t.0;
    }
    if let Some(t) = load.engine.session_ttl {
        registry.session_ttl_ms = t.0;
    }
    if let Some(t) = load.engine.registration_grace {
        registry.registration_grace_ms = t.0;
    }
    if let Some(t) = load.engine.reply_tombstone_ttl {
        registry.reply_tombstone_ttl_ms = t.0;
    }
    StandTiming {
        agencies: sped_up(&scenario.agencies, load.speedup),
        registry,
    }
}

/// The 99th percentile of a delay law divided by its speedup: how long a journey may wait.
fn p99(latency: &Latency, speedup: f64) -> Duration {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(99);
    let mut draws: Vec<u64> = (0..2_000).map(|_| latency.sample_ms(&mut rng)).collect();
    draws.sort_unstable();
    Duration::from_secs_f64(draws[draws.len() * 99 / 100] as f64 / 1_000.0 / speedup.max(1e-9))
}

/// How long a journey of `path` may hold its user: `base` plus the p99 waits of the agencies
/// it waits for (and the code lifetime the expired-code path sits out).
fn hold(path: LoadPath, a: &Agencies, base: Duration, code_ttl: Duration) -> Duration {
    let w = |p: &esia_mocks::agency::Profile| p99(&p.latency, p.speedup);
    let sms = w(&a.sms.service);
    let verify = w(&a.pfr.service).max(w(&a.fms.service));
    let waits = match path {
        LoadPath::SimplifiedPhone | LoadPath::WrongCode | LoadPath::WeakPassword => sms,
        LoadPath::ExpiredCode => sms * 2 + code_ttl,
        LoadPath::SimplifiedEmail => w(&a.mail.service),
        LoadPath::DocumentsBound => sms + w(&a.mail.service),
        LoadPath::Standard | LoadPath::PfrMismatch => sms + verify,
        LoadPath::Post => sms + verify + w(&a.post.service),
        LoadPath::LostLetter => sms + verify + w(&a.post.service) * 2,
        LoadPath::ESignature => sms + verify + w(&a.ca.service),
        LoadPath::ServiceCenter => sms + verify + w(&a.centers.service),
        LoadPath::Mfc => w(&a.centers.service) + verify,
        LoadPath::BankSber => verify + w(&a.banks.sber.service),
        LoadPath::BankTinkoff => verify + w(&a.banks.tinkoff.service),
        LoadPath::BankPochta => verify + w(&a.banks.pochta.service),
    };
    base + waits
}

/// Runs a load test and writes its reports into `options.out`.
pub fn run(options: Options) -> Result<Outcome, LoadError> {
    let scenario = &options.scenario;
    let load = &scenario.load;
    load.validate()?;
    let arrival_rate = options.arrival_rate.unwrap_or(load.arrival_rate);
    if !(arrival_rate.is_finite() && (0.0..=config::ARRIVAL_RATE_MAX).contains(&arrival_rate)) {
        return Err(config::LoadConfigError {
            key: "arrival_rate".into(),
            message: format!(
                "must be between 0 and {}, got {arrival_rate}",
                config::ARRIVAL_RATE_MAX
            ),
        }
        .into());
    }
    let goose_args = attack::parse(&options.goose_args)?;
    let slice = options.shard.slice(load.population);
    if slice.is_empty() {
        return Err(LoadError::EmptyShard {
            shard: options.shard.label(),
            population: load.population,
        });
    }

    // The paths that run, and those left out; in the model mix, the stories' shares.
    let mut notes = Vec::new();
    let mut weights = Vec::new();
    let model = match load.mix {
        config::Mix::Fixed => None,
        config::Mix::Model => {
            if !options.quiet {
                eprintln!(
                    "esia-sim load: the simulator tells the stories of citizens {}..{}",
                    slice.start, slice.end
                );
            }
            let mix = model::ModelMix::new(scenario, slice.clone()).map_err(LoadError::Model)?;
            notes.push(format!(
                "model mix: each journey is a citizen of {}..{} doing what the simulator says \
                 (its paths' shares, typos, resends, resubmissions, lost letters and exits), \
                 its own waits divided by {}",
                slice.start, slice.end, load.speedup
            ));
            Some(mix)
        }
    };
    let model_weights: BTreeMap<LoadPath, f64> = model.iter().flat_map(|m| m.weights()).collect();
    for path in LoadPath::ALL {
        let share = match &model {
            Some(_) => model_weights.get(&path).copied().unwrap_or(0.0),
            None => load.paths.share(path),
        };
        if share <= 0.0 {
            continue;
        }
        if path.plan().is_none() {
            notes.push(format!(
                "path {path} (share {share}) left out: the stand offers no endpoints for it yet"
            ));
            continue;
        }
        weights.push((path, share));
    }
    if weights.is_empty() {
        return Err(LoadError::NoPath(notes.join("; ")));
    }
    if scenario.population != PopulationConfig::default() {
        notes.push(
            "[population] is ignored by load: the stand's agencies hold the default mix".into(),
        );
    }

    // Time: engine and citizens real, agencies compressed.
    let StandTiming { agencies, registry } = stand_timing(scenario);
    let timing = journey::Timing {
        poll: Duration::from_millis(load.poll_interval),
        wait: Duration::from_millis(load.wait_timeout),
        code_ttl: Duration::from_millis(registry.sms_code.ttl_ms),
        resend_cooldown: Duration::from_millis(registry.sms_code.resend_cooldown_ms),
        letter_reorder_cooldown: Duration::from_millis(registry.letter_code.resend_cooldown_ms),
    };

    // Users: shares of users (closed) or pools sized for each path's rate (open).
    let total_users = goose_args.config.users.unwrap_or(load.users);
    let share_sum: f64 = weights.iter().map(|(_, w)| w).sum();
    let (users, rates) = if arrival_rate > 0.0 {
        let per_path: Vec<(LoadPath, f64, Duration)> = weights
            .iter()
            .map(|&(p, w)| {
                let rate = arrival_rate * w / share_sum;
                let base = Duration::from_millis(load.pool_time);
                (p, rate, hold(p, &agencies, base, timing.code_ttl))
            })
            .collect();
        let users = arrival::pool_sizes(&per_path, total_users);
        let rates: Vec<(LoadPath, f64)> = per_path.iter().map(|(p, r, _)| (*p, *r)).collect();
        (users, Some(rates))
    } else {
        (attack::allocate(&weights, total_users), None)
    };
    let user_total: usize = users.iter().map(|(_, n)| n).sum();
    if user_total > config::USERS_MAX {
        return Err(config::LoadConfigError {
            key: "users".into(),
            message: format!(
                "{user_total} goose users needed (more than {}): lower the arrival rate, \
                 load.pool_time, or give -u after --",
                config::USERS_MAX
            ),
        }
        .into());
    }
    let shape = attack::shape(
        &goose_args,
        users.clone(),
        Duration::from_millis(load.ramp),
        Duration::from_millis(load.run_time),
    );

    // The target, on its own runtime.
    let seed = scenario.seed;
    let mut target = match (&options.host, &options.mocks_url) {
        (None, _) => target::Target::stand(
            StandConfig {
                seed,
                population: slice.end,
                operator_token: options
                    .operator_token
                    .clone()
                    .unwrap_or_else(stand::random_token),
                partner_token: options
                    .partner_token
                    .clone()
                    .unwrap_or_else(stand::random_token),
                agencies: agencies.clone(),
                hash_profile: load.hash_profile,
                registry,
                ..StandConfig::default()
            },
            load.stand_threads,
        )?,
        (Some(host), Some(mocks)) => target::Target::remote(host, mocks),
        (Some(host), None) => target::Target::remote_with_mocks(
            host,
            &options.mocks_addr,
            MocksConfig {
                agencies: agencies.clone(),
                seed,
                // The bank and center mocks reach the system under test's partner and
                // operator APIs with its tokens.
                engine: Some(esia_mocks::service::EngineLink {
                    url: host.trim_end_matches('/').to_owned(),
                    partner_token: options.partner_token.clone().unwrap_or_default(),
                    operator_token: options.operator_token.clone().unwrap_or_default(),
                }),
                ..MocksConfig::default()
            },
            seed,
            slice.end,
            load.stand_threads,
        )?,
    };
    if target.kind == "remote" {
        notes.push(format!(
            "measured the system at {}; its agencies must be the mocks at {}",
            target.host, target.mocks
        ));
        if options.mocks_url.is_none() {
            eprintln!(
                "mocks listening on {} (point the system under test's agencies here)",
                target.mocks
            );
        }
    }

    let population = Population::new(seed, PopulationConfig::default())?;
    let active: Vec<LoadPath> = users.iter().map(|(p, _)| *p).collect();
    let funnel = LoadFunnel::new(&active, load.thresholds.clone());
    let harness = Arc::new(
        journey::Harness::new(
            population,
            citizens::CitizenCursor::new(slice.clone()),
            rates.as_deref().map(arrival::Arrivals::new),
            journey::MocksReader::new(&target.mocks, Duration::from_millis(load.request_timeout)),
            funnel,
            timing,
            shape.ramp,
        )
        .with_model(model),
    );

    std::fs::create_dir_all(&options.out).map_err(|source| report::ReportError::Io {
        path: options.out.display().to_string(),
        source,
    })?;
    let reports = [
        options.out.join(report::GOOSE_HTML).display().to_string(),
        options.out.join(report::GOOSE_JSON).display().to_string(),
    ];
    let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    if load.load_threads > 0 {
        rt.worker_threads(load.load_threads);
    }
    let rt = rt
        .thread_name("load")
        .enable_all()
        .build()
        .map_err(LoadError::Runtime)?;
    let defaults = attack::Defaults {
        running_metrics_s: (load.running_metrics / 1_000) as usize,
        request_timeout: Duration::from_millis(load.request_timeout),
    };
    let progress =
        (!options.quiet && load.progress > 0).then(|| Duration::from_millis(load.progress));
    let (goose, metrics_text) = rt.block_on(async {
        let monitor = tokio::spawn(monitor(harness.clone(), shape.clone(), progress));
        let scraper = (load.scrape_interval > 0).then(|| {
            let url = options
                .metrics_url
                .clone()
                .unwrap_or_else(|| format!("{}/metrics", target.host.trim_end_matches('/')));
            let every = Duration::from_millis(load.scrape_interval);
            tokio::spawn(target::scrape(harness.clone(), url, every))
        });
        let result = attack::execute(
            goose_args,
            harness.clone(),
            &shape,
            &target.host,
            reports.clone(),
            defaults,
        )
        .await;
        harness.end();
        monitor.abort();
        if let Some(s) = scraper {
            s.abort();
        }
        let metrics = target::metrics_snapshot(&target.host).await;
        (result, metrics)
    });
    drop(rt);
    target.stop();
    let goose = goose?;
    if goose::is_killswitch_triggered() {
        notes.push("the run was stopped before its time (Ctrl-C, or a note below)".into());
    }

    let mut files = Vec::new();
    match metrics_text {
        Ok(text) => {
            let path = options.out.join(report::METRICS);
            std::fs::write(&path, text).map_err(|source| report::ReportError::Io {
                path: path.display().to_string(),
                source,
            })?;
            files.push(path);
        }
        Err(e) => notes.push(format!("no /metrics snapshot of {}: {e}", target.host)),
    }
    notes.extend(harness.notes());
    let mut funnel = harness
        .funnel
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    funnel.runs.push(funnel::RunInfo {
        scenario: scenario.name.clone(),
        target_kind: target.kind.to_owned(),
        target: target.host.clone(),
        mocks: target.mocks.clone(),
        shard: options.shard.label(),
        citizens: [slice.start, slice.end],
        citizens_taken: harness.cursor.taken(),
        seed,
        model: if rates.is_some() { "open" } else { "closed" }.to_owned(),
        mix: match load.mix {
            config::Mix::Fixed => "fixed",
            config::Mix::Model => "model",
        }
        .to_owned(),
        arrival_rate,
        users: users.iter().copied().collect::<BTreeMap<_, _>>(),
        speedup: load.speedup,
        hash_profile: if target.kind == "remote" {
            "the target's own".to_owned()
        } else {
            load.hash_profile.name().to_owned()
        },
        started_at,
        duration_s: (harness.duration().as_secs_f64() * 1_000.0).round() / 1_000.0,
        goose_args: options.goose_args.clone(),
        notes,
    });
    files.extend(report::write(&options.out, &funnel)?);
    for r in reports {
        let p = PathBuf::from(r);
        if p.exists() {
            files.push(p);
        }
    }
    let verdicts = funnel.judge();
    Ok(Outcome {
        funnel,
        verdicts,
        goose_failure: goose.err(),
        files,
    })
}

/// Ends the journeys at the run's deadline (the users' start plus the run time, from the first
/// journey) or at goose's killswitch, and prints a line of tier counts every `progress`.
async fn monitor(h: Arc<journey::Harness>, shape: attack::Shape, progress: Option<Duration>) {
    let t0 = Instant::now();
    let deadline = shape.run_time.map(|r| shape.ramp.saturating_add(r));
    let mut next_line = progress.map(|p| t0 + p);
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if let Some(d) = deadline {
            let from = h.attack_started.get().copied().unwrap_or(t0);
            if from.elapsed() >= d {
                h.end();
            }
        }
        if let (Some(at), Some(every)) = (next_line, progress) {
            if Instant::now() >= at {
                next_line = Some(at + every);
                let l = &h.live;
                let get = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
                let started = get(&l.started);
                let done = get(&l.completed) + get(&l.failed) + get(&l.in_progress);
                let secs = t0.elapsed().as_secs_f64();
                eprintln!(
                    "[{secs:>5.0}s] journeys: {started} started, {} completed, {} failed, {} \
                     walking | tiers reached: simplified {}, standard {}, confirmed {} | {:.1} \
                     completed/s",
                    get(&l.completed),
                    get(&l.failed),
                    started.saturating_sub(done),
                    get(&l.tiers[0]),
                    get(&l.tiers[1]),
                    get(&l.tiers[2]),
                    get(&l.completed) as f64 / secs.max(0.001)
                );
            }
        }
    }
}
