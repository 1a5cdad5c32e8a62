//! `esia-sim mocks`: the agencies' mocks alone, for a system under test that brings its own
//! engine: `--engine-url` and the tokens are where the bank and service-center mocks send
//! their clients and visitors. Also the `--mock-addr KIND=ADDR` flag `serve` shares.

use anyhow::{Context, Result};
use esia_mocks::population::{Population, PopulationConfig};
use esia_mocks::service::{self, EngineLink, MockKind, Mocks, MocksConfig, Truth, World};
use std::io::{self, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct MocksArgs {
    /// The address to listen on (port 0: any free port, printed on the first line).
    #[arg(long, default_value = "127.0.0.1:8081", value_name = "ADDR")]
    pub addr: String,
    /// The engine's base URL, where the bank and service-center mocks send their requests
    /// (without it they answer 503 `no_engine`).
    #[arg(long, value_name = "URL")]
    pub engine_url: Option<String>,
    /// The token the banks show the engine's partner API.
    #[arg(long, value_name = "T", default_value = "")]
    pub partner_token: String,
    /// The token the service centers show the engine's operator API.
    #[arg(long, value_name = "T", default_value = "")]
    pub operator_token: String,
    /// The population's seed: its first --population citizens are the agencies' truth.
    #[arg(short, long, default_value_t = 1, value_name = "S")]
    pub seed: u64,
    /// How many citizens of the population the agencies know.
    #[arg(short = 'n', long, default_value_t = 1_000, value_name = "N")]
    pub population: u64,
    /// Sim seconds per wall second.
    #[arg(long, default_value_t = 1.0, value_name = "X")]
    pub time_scale: f64,
    /// A scenario file whose `[agencies]` table sets the agencies' profiles.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// Serve only these mocks (comma-separated: sms, mail, pfr, fms, ca, post, banks,
    /// centers); default all.
    #[arg(long, value_delimiter = ',', value_name = "KINDS")]
    pub only: Vec<MockKind>,
    /// Serve a mock on its own address too, e.g. `post=127.0.0.1:9001` (repeatable); printed
    /// after the first line as `mock KIND listening on URL`.
    #[arg(long = "mock-addr", value_name = "KIND=ADDR", value_parser = parse_mock_addr)]
    pub mock_addr: Vec<(MockKind, String)>,
    /// Service centers refuse visits outside their opening hours.
    #[arg(long)]
    pub opening_hours: bool,
    /// The token the admin routes require (`Authorization: Bearer T`); on an address other
    /// than loopback, generated and printed if absent; on loopback the admin routes are open
    /// without it.
    #[arg(long, value_name = "T")]
    pub admin_token: Option<String>,
    #[command(flatten)]
    pub keep: KeepArgs,
    /// Log filter for stderr (tracing's RUST_LOG syntax).
    #[arg(long, default_value = "info", value_name = "FILTER")]
    pub log: String,
}

/// What the mocks' stores keep (`serve` and `mocks`): the bounds on their memory in a long run.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct KeepArgs {
    /// SMS (and, apart, e-mail) messages kept in all (default 200,000): past it the least
    /// recently used recipients' inboxes are dropped.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub keep_messages: Option<u64>,
    /// PFR (and, apart, FMS) requests kept (default 1,000,000): once full, the answered ones
    /// older than --keep-answered are dropped, oldest first; if none is, a new request is
    /// refused (503 store_full).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub keep_requests: Option<u64>,
    /// How long an answered PFR or FMS request stays to be polled once the store is full, on
    /// the world's clock (default 1d), e.g. 10m.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_ms)]
    pub keep_answered: Option<u64>,
}

impl KeepArgs {
    /// Sets the caps given on `config`.
    pub fn apply(&self, config: &mut MocksConfig) {
        if let Some(n) = self.keep_messages {
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            config.inbox.messages = n;
            config.inbox.recipients = config.inbox.recipients.min(n);
        }
        if let Some(n) = self.keep_requests {
            config.requests_max = usize::try_from(n).unwrap_or(usize::MAX);
        }
        if let Some(ms) = self.keep_answered {
            config.requests_retention_ms = ms;
        }
    }
}

/// Reads a duration (`90s`, `10m`, `1d`) in milliseconds.
fn parse_duration_ms(text: &str) -> Result<u64, String> {
    esia_mocks::agency::duration::parse_ms(text).map_err(|e| e.to_string())
}

/// Reads `KIND=ADDR`.
pub fn parse_mock_addr(text: &str) -> Result<(MockKind, String), String> {
    let (kind, addr) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not KIND=ADDR (e.g. post=127.0.0.1:9001)"))?;
    let kind = kind.trim().parse::<MockKind>().map_err(|e| e.to_string())?;
    Ok((kind, addr.trim().to_owned()))
}

/// An agency's base URL for the engine: `http://HOST[:PORT][/PATH]` (the engine's client
/// speaks plain HTTP/1.1).
pub fn parse_agency_url(text: &str) -> Result<String, String> {
    let uri: hyper::Uri = text
        .parse()
        .map_err(|e| format!("`{text}` is not a URL: {e}"))?;
    match (uri.scheme_str(), uri.host()) {
        (Some("http"), Some(_)) => Ok(text.trim_end_matches('/').to_owned()),
        (Some(other), _) if other != "http" => Err(format!(
            "`{text}`: the engine calls agencies over plain http:// only, not {other}://"
        )),
        _ => Err(format!(
            "`{text}` is not an http:// URL with a host (e.g. http://127.0.0.1:9000/mocks/sms)"
        )),
    }
}

/// Binds each `KIND=ADDR`.
pub async fn bind_own(
    wanted: &[(MockKind, String)],
) -> Result<Vec<(MockKind, tokio::net::TcpListener)>> {
    let mut own = Vec::with_capacity(wanted.len());
    for (kind, addr) in wanted {
        let l = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr} for the {kind} mock"))?;
        own.push((*kind, l));
    }
    Ok(own)
}

/// The admin token for a server on `listeners`: the one given; else, when any listener is not
/// on loopback, a generated one and the line that prints it; else none (the admin routes stay
/// open on loopback).
pub fn admin_token(
    given: Option<String>,
    listeners: &[&tokio::net::TcpListener],
) -> Result<(Option<String>, Option<String>)> {
    if let Some(t) = given {
        if t.trim().is_empty() {
            anyhow::bail!("--admin-token must not be empty");
        }
        return Ok((Some(t), None));
    }
    let mut loopback = true;
    for l in listeners {
        loopback &= l.local_addr()?.ip().is_loopback();
    }
    if loopback {
        return Ok((None, None));
    }
    let t = esia_sim::stand::random_token();
    let line = format!("admin token: {t}");
    Ok((Some(t), Some(line)))
}

/// The `mock KIND listening on URL` lines of the own listeners.
pub fn own_lines(own: &[(MockKind, tokio::net::TcpListener)]) -> Result<Vec<String>> {
    own.iter()
        .map(|(kind, l)| {
            Ok(format!(
                "mock {kind} listening on http://{}/mocks/{kind}",
                l.local_addr()?
            ))
        })
        .collect()
}

/// The `[agencies]` table of a scenario file, or the calibrated defaults.
pub fn agencies_of(scenario: Option<&PathBuf>) -> Result<esia_mocks::agency::Agencies> {
    #[derive(serde::Deserialize)]
    struct ScenarioAgencies {
        #[serde(default)]
        agencies: esia_mocks::agency::Agencies,
    }
    match scenario {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Ok(toml::from_str::<ScenarioAgencies>(&text)
                .with_context(|| format!("{}: the [agencies] table", path.display()))?
                .agencies)
        }
        None => Ok(Default::default()),
    }
}

pub fn run(args: MocksArgs) -> Result<ExitCode> {
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
    if args.population > esia_sim::stand::POPULATION_MAX {
        anyhow::bail!(
            "--population {} is more than the mocks hold ({})",
            args.population,
            esia_sim::stand::POPULATION_MAX
        );
    }
    let engine = match &args.engine_url {
        Some(url) => {
            let parsed = reqwest::Url::parse(url)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"));
            if parsed.is_none() {
                anyhow::bail!("--engine-url {url:?} is not an http:// or https:// URL");
            }
            Some(EngineLink {
                url: url.clone(),
                partner_token: args.partner_token.clone(),
                operator_token: args.operator_token.clone(),
            })
        }
        None => None,
    };
    let mut config = MocksConfig {
        agencies: agencies_of(args.scenario.as_ref())?,
        seed: args.seed,
        engine,
        opening_hours: args.opening_hours,
        ..MocksConfig::default()
    };
    args.keep.apply(&mut config);
    let population = Population::new(args.seed, PopulationConfig::default())?;
    population.check_count(args.population)?;
    let kinds = if args.only.is_empty() {
        MockKind::ALL.to_vec()
    } else {
        args.only.clone()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&args.addr)
            .await
            .with_context(|| format!("cannot listen on {}", args.addr))?;
        let own = bind_own(&args.mock_addr).await?;
        let all: Vec<_> = std::iter::once(&listener)
            .chain(own.iter().map(|(_, l)| l))
            .collect();
        let (admin, admin_line) = admin_token(args.admin_token.clone(), &all)?;
        config.admin_token = admin;
        let truth = Truth::of_population(&population, args.population);
        let world = World::new(
            esia_mocks::clock::Epoch::default(),
            esia_mocks::clock::SimTime::ZERO,
            args.time_scale,
        )?;
        let mocks = Mocks::new(world, config, truth);
        // stdout carries only these lines; logs go to stderr.
        println!("listening on http://{}", listener.local_addr()?);
        for line in admin_line.into_iter().chain(own_lines(&own)?) {
            println!("{line}");
        }
        service::serve(
            listener,
            &mocks,
            &kinds,
            own,
            esia_sim::stand::shutdown_signal(),
        )
        .await?;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}
