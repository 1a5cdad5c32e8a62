//! `esia-sim load` and `esia-sim merge`: a goose load test of the funnel with its reports, and
//! the folding of several runs' (shards') `funnel.json` into one.

use anyhow::{Context, Result};
use esia_sim::load::{self, report, Shard};
use esia_sim::scenario::Scenario;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

/// The smoke scenario, embedded: `esia-sim load` needs no file.
const SMOKE: &str = include_str!("../../scenarios/smoke.toml");

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Goose's own options go after `--`, e.g. `esia-sim load scenarios/smoke.toml \
    -- -u 32 -t 2m --threshold \"p95<50ms\"`; `esia-sim load -- --help` lists them. \
    Our defaults for them come from the scenario's [load] table."
)]
pub struct LoadArgs {
    /// The scenario file (TOML); its [load] table shapes the run. Without one, the embedded
    /// smoke scenario (scenarios/smoke.toml).
    #[arg(value_name = "SCENARIO")]
    pub scenario: Option<PathBuf>,
    /// A system under test implementing the engine's API (default: the in-process stand on
    /// loopback). The mocks still run here, unless --mocks-url names running ones.
    #[arg(long, value_name = "URL")]
    pub host: Option<String>,
    /// Mocks already running (e.g. `esia-sim serve` or `esia-sim mocks`), with --host.
    #[arg(long, value_name = "URL", requires = "host")]
    pub mocks_url: Option<String>,
    /// The target's Prometheus metrics, read every `load.scrape_interval` for the queue
    /// gauges of the timeline (default: the target's own `/metrics`).
    #[arg(long, value_name = "URL")]
    pub metrics_url: Option<String>,
    /// Where the mocks listen, with --host and without --mocks-url.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub mocks_addr: String,
    /// The target's operator token (service centers, MFC); generated for the in-process stand.
    #[arg(long, value_name = "T")]
    pub operator_token: Option<String>,
    /// The target's partner token (banks); generated for the in-process stand.
    #[arg(long, value_name = "T")]
    pub partner_token: Option<String>,
    /// Start citizens at this fixed rate whatever the response times (open model), e.g. 50/s;
    /// overrides load.arrival_rate.
    #[arg(long, value_name = "N/s", value_parser = parse_rate)]
    pub arrival_rate: Option<f64>,
    /// Where the journeys' mix comes from: `fixed` (the shares of [load.paths]) or `model`
    /// (each journey a citizen doing what the simulator says); overrides load.mix.
    #[arg(long, value_name = "MIX")]
    pub mix: Option<esia_sim::load::config::Mix>,
    /// This machine's slice of the population, i of n (1-based), e.g. 2/4.
    #[arg(long, value_name = "i/n", default_value = "1/1")]
    pub shard: Shard,
    /// The population's seed (default: the scenario's `seed`).
    #[arg(short, long, value_name = "S")]
    pub seed: Option<u64>,
    /// Override a scenario key, e.g. --set load.users=32 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// The run's folder (default: results/load/<scenario>-<UTC time>[-shard-i-of-n]).
    #[arg(short, long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// No progress lines on stderr (goose's own output stays).
    #[arg(short, long)]
    pub quiet: bool,
    /// Log filter for stderr (tracing's syntax), e.g. `info`.
    #[arg(long, default_value = "warn", value_name = "FILTER")]
    pub log: String,
    /// Goose's own arguments.
    #[arg(last = true, value_name = "GOOSE")]
    pub goose: Vec<String>,
}

/// `50/s`, `50` or `2.5/s`.
fn parse_rate(s: &str) -> Result<f64, String> {
    let n = s.trim().strip_suffix("/s").unwrap_or(s.trim());
    match n.trim().parse::<f64>() {
        Ok(r) if r.is_finite() && r >= 0.0 => Ok(r),
        _ => Err(format!("{s:?} is not a rate such as 50/s")),
    }
}

#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The `funnel.json` of each run (or shard) to fold.
    #[arg(value_name = "FUNNEL.json", required = true)]
    pub funnels: Vec<PathBuf>,
    /// Where the merged funnel.json and funnel.html go.
    #[arg(short, long, value_name = "DIR")]
    pub out: PathBuf,
}

fn logging(filter: &str) -> Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .with_context(|| format!("--log {filter:?} is not a log filter"))?;
    let subscriber = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(filter)
        .finish();
    // Not `init()`: that would also claim the `log` crate's logger, which goose sets up.
    let _ = tracing::subscriber::set_global_default(subscriber);
    Ok(())
}

/// Runs a load test.
pub fn run(args: LoadArgs) -> Result<ExitCode> {
    if args.goose.iter().any(|a| a == "-h" || a == "--help") {
        use clap::CommandFactory;
        use std::io::Write;
        let mut goose = goose::config::GooseConfiguration::command()
            .name("esia-sim load --")
            .bin_name("esia-sim load [OPTIONS] --");
        let help = goose.render_long_help().to_string();
        // A closed pipe (`| head`) is not an error.
        let _ = writeln!(
            std::io::stdout().lock(),
            "{help}\n(-H/--host excepted: esia-sim load's own --host names the target.)"
        );
        return Ok(ExitCode::SUCCESS);
    }
    logging(&args.log)?;
    let mut scenario = match &args.scenario {
        Some(path) => Scenario::load(path, &args.set)?,
        None => Scenario::parse(SMOKE, "the embedded smoke scenario", &args.set)?,
    };
    if let Some(seed) = args.seed {
        scenario.seed = seed;
    }
    if let Some(mix) = args.mix {
        scenario.load.mix = mix;
    }
    let out = args.out.clone().unwrap_or_else(|| {
        let time = chrono::Utc::now().format("%Y%m%d-%H%M%S");
        let shard = if args.shard == Shard::WHOLE {
            String::new()
        } else {
            format!("-shard-{}", args.shard.label().replace('/', "-of-"))
        };
        PathBuf::from("results")
            .join("load")
            .join(format!("{}-{time}{shard}", scenario.name))
    });
    eprintln!(
        "esia-sim load: scenario {} against {}; reports in {}",
        scenario.name,
        args.host.as_deref().unwrap_or("the in-process stand"),
        out.display()
    );
    let outcome = load::run(load::Options {
        scenario,
        host: args.host,
        mocks_url: args.mocks_url,
        metrics_url: args.metrics_url,
        mocks_addr: args.mocks_addr,
        operator_token: args.operator_token,
        partner_token: args.partner_token,
        arrival_rate: args.arrival_rate,
        shard: args.shard,
        out: out.clone(),
        goose_args: args.goose,
        quiet: args.quiet,
    })?;
    println!();
    print!("{}", report::summary(&outcome.funnel));
    if let Some(g) = &outcome.goose_failure {
        println!("goose: {g}");
    }
    println!("files:");
    for f in &outcome.files {
        println!("  {}", f.display());
    }
    Ok(if outcome.passed() {
        ExitCode::SUCCESS
    } else {
        println!("a threshold failed");
        ExitCode::FAILURE
    })
}

/// Folds several runs' funnels into one.
pub fn merge(args: MergeArgs) -> Result<ExitCode> {
    let mut merged: Option<load::LoadFunnel> = None;
    for path in &args.funnels {
        let f = report::read(path)?;
        match &mut merged {
            None => {
                let mut m = load::LoadFunnel::new(&[], f.thresholds.clone());
                m.merge(&f);
                merged = Some(m);
            }
            Some(m) => m.merge(&f),
        }
    }
    let merged = merged.context("no funnel to merge")?;
    let files = report::write(&args.out, &merged)
        .with_context(|| format!("writing into {}", args.out.display()))?;
    print!("{}", report::summary(&merged));
    println!("files:");
    for f in &files {
        println!("  {}", f.display());
    }
    Ok(if merged.judge().iter().all(|v| v.pass) {
        ExitCode::SUCCESS
    } else {
        println!("a threshold failed");
        ExitCode::FAILURE
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates() {
        assert_eq!(parse_rate("50/s"), Ok(50.0));
        assert_eq!(parse_rate("2.5"), Ok(2.5));
        assert!(parse_rate("-1/s").is_err());
        assert!(parse_rate("fast").is_err());
        assert!(parse_rate("inf").is_err());
    }

    #[test]
    fn the_embedded_smoke_scenario_parses() {
        let s = Scenario::parse(SMOKE, "smoke", &[]).unwrap();
        assert_eq!(s.name, "smoke");
        assert_eq!(s.load.arrival_rate, 100.0);
    }
}
