//! The command line: raw arguments (clap) first, resolved into library calls second.
//!
//! Each subcommand has an `Args` struct here and a `run` that checks what clap cannot (ranges
//! that depend on the population, paths) and calls one library entry point.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use esia_mocks::population::{Population, PopulationConfig};
use esia_sim::export::{self, Format};
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

mod compare;
mod load;
mod mocks;
mod simulate;

/// Simulation and load-test harness for the Gosuslugi/ESIA registration funnel.
#[derive(Debug, Parser)]
#[command(name = "esia-sim", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print a reproducible population of synthetic citizens (test data that passes real
    /// validators; the same seed gives the same bytes).
    Citizens(CitizensArgs),
    /// Serve the registry engine's HTTP API v1 and the mocks of its agencies (SMS, mail, PFR,
    /// FMS, CA, post, banks, service centers) on one address; prints `listening on
    /// http://ADDR` first, then any generated token.
    Serve(Box<ServeArgs>),
    /// Serve the agencies' mocks alone, for a system under test with its own engine; the banks
    /// and service centers call --engine-url with the tokens given.
    Mocks(Box<mocks::MocksArgs>),
    /// Simulate the tier funnel in virtual time (millions of citizens in seconds) and write
    /// funnel.json, CSV tables and report.html.
    Simulate(simulate::SimulateArgs),
    /// Load-test the funnel with goose: synthetic citizens walk every tier path over HTTP
    /// against the in-process stand or --host; writes goose's reports, funnel.json/html and a
    /// /metrics snapshot; exits 1 when a threshold fails. Goose's options go after `--`.
    Load(Box<load::LoadArgs>),
    /// Fold the funnel.json of several load runs (shards) into one, exactly.
    Merge(load::MergeArgs),
    /// Set two funnel.json files (of `simulate`, `load` or `merge`, in any pairing) side by
    /// side: path shares, tier conversions and exit reasons with their differences, 95%
    /// intervals and Holm-flagged tests; writes compare.csv and compare.html.
    Compare(compare::CompareArgs),
}

#[derive(Debug, clap::Args)]
pub struct CitizensArgs {
    /// How many citizens to print.
    #[arg(short = 'n', long, default_value_t = 10, value_name = "N")]
    pub count: u64,
    /// The population's seed: citizen i depends only on (seed, i).
    #[arg(short, long, default_value_t = 1, value_name = "S")]
    pub seed: u64,
    /// The index of the first citizen printed (to split a population into slices).
    #[arg(long, default_value_t = 0, value_name = "I")]
    pub from: u64,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Format::Jsonl)]
    pub format: Format,
    /// Write to this file instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// No progress bar.
    #[arg(short, long)]
    pub quiet: bool,
    /// Print the names' frequencies instead of the records: the ten commonest surnames, the
    /// ten commonest first names by birth decade and the republics' naming shares, each beside
    /// its source's share (e.g. `--stats --count 1000000`).
    #[arg(long)]
    pub stats: bool,
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Citizens(args) => citizens(args),
        Command::Serve(args) => serve(*args),
        Command::Mocks(args) => mocks::run(*args),
        Command::Simulate(args) => simulate::run(args),
        Command::Load(args) => load::run(*args),
        Command::Merge(args) => load::merge(args),
        Command::Compare(args) => compare::run(args),
    }
}

fn citizens(args: CitizensArgs) -> Result<ExitCode> {
    let population = Population::new(args.seed, PopulationConfig::default())?;
    let end = args
        .from
        .checked_add(args.count)
        .context("--from plus --count overflows")?;
    population.check_count(end)?;
    if args.stats {
        return citizen_stats(&population, args.from..end, args.out.as_deref());
    }

    let out: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        ),
        None => Box::new(io::stdout().lock()),
    };
    let out = BufWriter::with_capacity(1 << 16, out);

    let bar = if args.quiet || !io::stderr().is_terminal() || args.count < 1_000_000 {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(args.count).with_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} citizens, {per_sec}, {eta} left",
            )
            .expect("valid template"),
        )
    };
    let result = export::write(&population, args.from, args.count, args.format, out, |n| {
        bar.set_position(n)
    });
    bar.finish_and_clear();
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // The reader stopped reading (`| head`): what it read is complete.
        Err(e) if e.is_broken_pipe() => Ok(ExitCode::SUCCESS),
        Err(e) => match &args.out {
            Some(path) => Err(e).with_context(|| format!("writing {}", path.display())),
            None => Err(e.into()),
        },
    }
}

/// `citizens --stats`: counts the names of `range` on every core (slices merged in order)
/// and prints the tables.
fn citizen_stats(
    population: &Population,
    range: std::ops::Range<u64>,
    out: Option<&std::path::Path>,
) -> Result<ExitCode> {
    use esia_mocks::population::stats::NameStats;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let len = range.end - range.start;
    let parts: Vec<NameStats> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let from = range.start + len * t / threads;
                let to = range.start + len * (t + 1) / threads;
                scope.spawn(move || NameStats::collect(population, from..to))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a stats thread panicked"))
            .collect()
    });
    let mut stats = NameStats::default();
    for part in &parts {
        stats.merge(part);
    }
    let text = stats.render(population.seed());
    match out {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            let mut stdout = io::stdout().lock();
            if let Err(e) = stdout.write_all(text.as_bytes()) {
                if e.kind() != io::ErrorKind::BrokenPipe {
                    return Err(e.into());
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The address to listen on (port 0: any free port, printed on the first line).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub addr: String,
    /// The population's seed: its first --population citizens are PFR's and FMS's truth
    /// (default 1; with --for-load the scenario's `seed`).
    #[arg(short, long, value_name = "S")]
    pub seed: Option<u64>,
    /// How many citizens of the population the agencies know (`esia-sim citizens --seed S
    /// --count N` prints the same ones; default 1000; with --for-load the scenario's
    /// `load.population`).
    #[arg(short = 'n', long, value_name = "N")]
    pub population: Option<u64>,
    /// Sim seconds per wall second (86400: a day a second).
    #[arg(long, default_value_t = 1.0, value_name = "X")]
    pub time_scale: f64,
    /// Makes SMS codes, links and ids reproducible (tests); by default they come from the
    /// operating system's CSPRNG.
    #[arg(long, value_name = "SEED")]
    pub code_seed: Option<u64>,
    /// The token of the operator API (service centers, MFC); generated and printed if absent.
    #[arg(long, value_name = "T")]
    pub operator_token: Option<String>,
    /// The token of the partner API (banks); generated and printed if absent.
    #[arg(long, value_name = "T")]
    pub partner_token: Option<String>,
    /// The token the mocks' admin routes require (`Authorization: Bearer T`); on an address
    /// other than loopback, generated and printed if absent; on loopback the admin routes are
    /// open without it.
    #[arg(long, value_name = "T")]
    pub admin_token: Option<String>,
    /// A scenario file whose `[agencies]` table sets the agencies' profiles (other tables are
    /// ignored here, unless --for-load).
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// Serve the scenario as `esia-sim load` serves it in process, for load runs from other
    /// processes (`load --host URL --mocks-url URL --shard i/n`): the agencies' delays divided
    /// by `[load] speedup`, the engine's code lifetimes, cooldowns and store lifetimes from
    /// `[load.engine]`, the seed, `load.population` and `load.hash_profile` of the scenario.
    #[arg(long, requires = "scenario")]
    pub for_load: bool,
    /// Override a key of the --scenario file, e.g. --set load.speedup=864000 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE", requires = "scenario")]
    pub set: Vec<String>,
    /// The SMS gateway's base URL (default: the stand's own mock, .../mocks/sms).
    #[arg(long, value_name = "URL", value_parser = mocks::parse_agency_url)]
    pub sms_url: Option<String>,
    /// The mail service's base URL (default: .../mocks/mail).
    #[arg(long, value_name = "URL", value_parser = mocks::parse_agency_url)]
    pub mail_url: Option<String>,
    /// PFR's base URL (default: .../mocks/pfr).
    #[arg(long, value_name = "URL", value_parser = mocks::parse_agency_url)]
    pub pfr_url: Option<String>,
    /// FMS's base URL (default: .../mocks/fms).
    #[arg(long, value_name = "URL", value_parser = mocks::parse_agency_url)]
    pub fms_url: Option<String>,
    /// The post's base URL (default: .../mocks/post).
    #[arg(long, value_name = "URL", value_parser = mocks::parse_agency_url)]
    pub post_url: Option<String>,
    /// The certification authority's base URL (default: .../mocks/ca).
    #[arg(long, value_name = "URL", value_parser = mocks::parse_agency_url)]
    pub ca_url: Option<String>,
    /// The most SMS the engine sends in one request (`{"messages": [...]}`, up to 300 to stay
    /// within the mocks' 64 KiB body limit): SMS queued together under load leave together.
    /// Default: 100 to the stand's own SMS mock, 1 to a gateway given with --sms-url (which may
    /// not take batches).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=300))]
    pub sms_batch: Option<u16>,
    /// Serve a mock on its own address too, e.g. `post=127.0.0.1:9001` (repeatable): the engine
    /// calls it there; printed after the tokens as `mock KIND listening on URL`.
    #[arg(long = "mock-addr", value_name = "KIND=ADDR", value_parser = mocks::parse_mock_addr)]
    pub mock_addr: Vec<(esia_mocks::service::MockKind, String)>,
    /// Password hashing cost: realistic (argon2id, 19 MiB), load (256 KiB), none (tests only);
    /// default realistic, with --for-load the scenario's `load.hash_profile`.
    #[arg(long, value_name = "PROFILE")]
    pub hash_profile: Option<esia_sim::registry::HashProfile>,
    /// Log filter for stderr (tracing's RUST_LOG syntax), e.g. `info` or `esia_sim=debug`.
    #[arg(long, default_value = "info", value_name = "FILTER")]
    pub log: String,
    #[command(flatten)]
    pub keep: mocks::KeepArgs,
    /// Simplified accounts the registry holds before serving (`preload-{i}@esia-sim.invalid`,
    /// their password unknown): to measure against a full registry.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub preload_accounts: u64,
}

fn serve(args: ServeArgs) -> Result<ExitCode> {
    use esia_sim::stand::{self, StandConfig, UrlOverrides};
    let filter = tracing_subscriber::EnvFilter::try_new(&args.log)
        .with_context(|| format!("--log {:?} is not a log filter", args.log))?;
    tracing_subscriber::fmt()
        .with_writer(io::stderr)
        .with_ansi(io::stderr().is_terminal())
        .with_env_filter(filter)
        .init();
    if !(args.time_scale.is_finite() && args.time_scale > 0.0) {
        anyhow::bail!("--time-scale must be a positive number");
    }
    let scenario = match &args.scenario {
        Some(path) if args.for_load => Some(esia_sim::scenario::Scenario::load(path, &args.set)?),
        // Only the [agencies] table: the other tables belong to other subcommands.
        Some(path) => {
            let agencies = mocks::agencies_of(Some(path))?;
            if let Some(other) = args.set.iter().find(|s| !s.starts_with("agencies.")) {
                anyhow::bail!(
                    "--set {other}: without --for-load only the agencies' keys (agencies.*) apply"
                );
            }
            let scenario = esia_sim::scenario::Scenario {
                agencies,
                ..Default::default()
            };
            Some(scenario.with_overrides(&args.set)?)
        }
        None => None,
    };
    let mut registry = esia_sim::registry::RegistryConfig::default();
    let mut seed = 1;
    let mut population = 1_000;
    let mut hash_profile = esia_sim::registry::HashProfile::Realistic;
    let agencies = match &scenario {
        Some(s) if args.for_load => {
            s.load.validate()?;
            let timing = esia_sim::load::stand_timing(s);
            registry = timing.registry;
            seed = s.seed;
            population = s.load.population;
            hash_profile = s.load.hash_profile;
            timing.agencies
        }
        Some(s) => s.agencies.clone(),
        None => Default::default(),
    };
    let seed = args.seed.unwrap_or(seed);
    let population = args.population.unwrap_or(population);
    let hash_profile = args.hash_profile.unwrap_or(hash_profile);
    if let (Some(s), true) = (&scenario, args.for_load) {
        tracing::info!(
            "for load runs of scenario {}: agencies sped up {}x, seed {seed}, population \
             {population}, hash profile {}",
            s.name,
            s.load.speedup,
            hash_profile.name()
        );
    }
    if hash_profile == esia_sim::registry::HashProfile::None {
        tracing::warn!(
            "--hash-profile none: passwords are not kept and any password logs in; for tests only"
        );
    }
    let mut printed = Vec::new();
    let mut token = |given: Option<String>, name: &str| {
        given.unwrap_or_else(|| {
            let t = stand::random_token();
            printed.push(format!("{name}: {t}"));
            t
        })
    };
    let mut config = StandConfig {
        seed,
        population,
        time_scale: args.time_scale,
        code_seed: args.code_seed,
        operator_token: token(args.operator_token, "operator token"),
        partner_token: token(args.partner_token, "partner token"),
        agencies,
        urls: UrlOverrides {
            sms: args.sms_url,
            mail: args.mail_url,
            pfr: args.pfr_url,
            fms: args.fms_url,
            post: args.post_url,
            ca: args.ca_url,
        },
        hash_profile,
        registry,
        sms_batch: args.sms_batch.map(usize::from),
        preload_accounts: args.preload_accounts,
        ..StandConfig::default()
    };
    args.keep.apply(&mut config.mocks);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&args.addr)
            .await
            .with_context(|| format!("cannot listen on {}", args.addr))?;
        let own = mocks::bind_own(&args.mock_addr).await?;
        let own_lines = mocks::own_lines(&own)?;
        let all: Vec<_> = std::iter::once(&listener)
            .chain(own.iter().map(|(_, l)| l))
            .collect();
        let (admin, admin_line) = mocks::admin_token(args.admin_token.clone(), &all)?;
        config.mocks.admin_token = admin;
        printed.extend(admin_line);
        let cancel = tokio_util::sync::CancellationToken::new();
        let assembled = stand::assemble_with(&listener, own, &config, cancel.clone())?;
        // stdout carries only these lines; logs go to stderr.
        println!("listening on {}", assembled.base_url);
        for line in printed.iter().chain(&own_lines) {
            println!("{line}");
        }
        stand::serve(listener, assembled, cancel, stand::shutdown_signal()).await?;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}
