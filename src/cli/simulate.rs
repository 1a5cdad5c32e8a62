//! `esia-sim simulate`: the tier funnel of a scenario in virtual time, with progress on stderr,
//! a summary on stdout and the report files in the output folder; with `--sweep`, the same
//! scenario at each value of one or two keys (capacity planning: `sweep.csv`, `sweep.html`).

use anyhow::{Context, Result};
use esia_sim::funnel::Funnel;
use esia_sim::report::sweep::{self, Axis};
use esia_sim::report::{self, RunInfo};
use esia_sim::scenario::Scenario;
use esia_sim::sim::{self, Progress, World};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// The baseline, embedded: `esia-sim simulate` needs no file.
const BASELINE: &str = include_str!("../../scenarios/baseline.toml");

#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// The scenario file (TOML). Without one, the embedded baseline (scenarios/baseline.toml).
    #[arg(value_name = "SCENARIO")]
    pub scenario: Option<PathBuf>,
    /// Citizens per replicate (default: the scenario's `citizens`).
    #[arg(short = 'n', long, value_name = "N")]
    pub citizens: Option<u64>,
    /// The seed of the first replicate (default: the scenario's `seed`); replicate r uses
    /// seed + r.
    #[arg(short, long, value_name = "S")]
    pub seed: Option<u64>,
    /// Independent replicates (seeds S, S+1, ...): every conversion figure gets a 95%
    /// confidence interval.
    #[arg(short = 'k', long, default_value_t = 1, value_name = "K",
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub replicates: u32,
    /// Worker threads (default: the machine's cores). Results do not depend on it.
    #[arg(short = 'j', long, value_name = "T",
          value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// Override a scenario key, e.g. --set agencies.post.delivery.median=4d (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Run the scenario at each value of a key, e.g. --sweep
    /// agencies.centers.capacity.servers=2,4,8 (give it twice for a grid of two keys): writes
    /// sweep.csv and sweep.html with every headline figure against the value, with 95%
    /// intervals across the replicates.
    #[arg(long = "sweep", value_name = "KEY=V1,V2,...")]
    pub sweep: Vec<String>,
    /// The output folder (default: results/<scenario name>).
    #[arg(short, long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// No progress on stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

/// Runs the simulation the arguments describe.
pub fn run(args: SimulateArgs) -> Result<ExitCode> {
    let (scenario, file) = match &args.scenario {
        Some(path) => (
            Scenario::load(path, &args.set)?,
            Some(path.display().to_string()),
        ),
        None => (
            Scenario::parse(BASELINE, "the embedded baseline", &args.set)?,
            None,
        ),
    };
    let mut citizens = args.citizens.unwrap_or(scenario.citizens);
    // Monthly arrivals end with their last month: the run needs no more citizens than the
    // schedule brings (its expected total and 6 standard deviations of a Poisson count).
    let scheduled = sim::queue::Rate::of(&scenario.arrivals, scenario.population.epoch)
        .expected_total()
        .map(|e| (e + 6.0 * e.sqrt() + 10.0).ceil() as u64);
    if let Some(bound) = scheduled {
        citizens = citizens.min(bound);
    }
    let first_seed = args.seed.unwrap_or(scenario.seed);
    let seeds: Vec<u64> = (0..args.replicates as u64)
        .map(|r| first_seed.wrapping_add(r))
        .collect();
    let threads = args
        .threads
        .map(usize::from)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(&scenario.name));
    if !args.sweep.is_empty() {
        return run_sweep(&args, &scenario, file, citizens, &seeds, threads, &out);
    }

    let started = Instant::now();
    let worlds = seeds
        .iter()
        .map(|&seed| World::new(&scenario, seed))
        .collect::<Result<Vec<_>, _>>()?;
    let label = if seeds.len() > 1 {
        format!(
            "{} replicates (seeds {}..={})",
            seeds.len(),
            seeds[0],
            seeds[seeds.len() - 1]
        )
    } else {
        format!("seed {}", seeds[0])
    };
    let runs = run_with_progress(&worlds, citizens, threads, args.quiet, &label)?;
    let after_horizon: u64 = runs.iter().map(|r| r.after_horizon).sum();
    let arrived: u64 = runs.iter().map(|r| r.arrived).sum();
    let funnels: Vec<Funnel> = runs.into_iter().map(|r| r.funnel).collect();
    let elapsed = started.elapsed();
    // A monthly schedule brings its own number of citizens.
    let total = if scheduled.is_some() {
        arrived
    } else {
        citizens * seeds.len() as u64
    };

    let info = run_info(&scenario, file, &args.set, seeds, citizens);
    let written = report::write(&out, &info, &funnels)
        .with_context(|| format!("writing the report into {}", out.display()))?;
    print!("{}", report::summary(&info, &funnels));
    if after_horizon > 0 && scheduled.is_none() {
        println!(
            "note: {after_horizon} citizens would arrive only after the horizon and were not \
             simulated; raise `horizon` or `arrivals.per_day`"
        );
    }
    println!(
        "simulated {total} citizens in {:.2} s ({:.0} citizens/s, {threads} threads{})",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64().max(1e-9),
        if worlds[0].coupled() {
            "; agencies with a capacity: one event loop a run"
        } else {
            ""
        }
    );
    println!("report: {}", out.join(report::REPORT_HTML).display());
    for path in written {
        println!("  {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn run_info(
    scenario: &Scenario,
    file: Option<String>,
    overrides: &[String],
    seeds: Vec<u64>,
    citizens: u64,
) -> RunInfo {
    RunInfo {
        scenario_name: scenario.name.clone(),
        scenario_file: file,
        scenario: scenario.to_json(),
        overrides: overrides.to_vec(),
        seeds,
        citizens,
        horizon_days: scenario.horizon.div_ceil(esia_mocks::clock::MS_PER_DAY),
        epoch: scenario.population.epoch,
        baseline_checks: scenario.name == "baseline",
    }
}

/// Runs `worlds` (see [`sim::run_all`]) while showing progress, unless `quiet`.
fn run_with_progress(
    worlds: &[World],
    citizens: u64,
    threads: usize,
    quiet: bool,
    label: &str,
) -> Result<Vec<sim::Run>> {
    let progress = Progress::new(threads);
    let total = citizens * worlds.len() as u64;
    let epoch = worlds.first().map(|w| w.scenario.population.epoch);
    let runs = std::thread::scope(|scope| {
        let worker = scope.spawn(|| sim::run_all(worlds, citizens, threads, &progress));
        if !quiet {
            show_progress(&worker, &progress, 0, total, label, epoch);
        }
        worker.join().expect("the simulation thread panicked")
    })?;
    Ok(runs)
}

/// `--sweep`: the scenario at every point of the grid, `seeds.len()` replicates each.
fn run_sweep(
    args: &SimulateArgs,
    scenario: &Scenario,
    file: Option<String>,
    citizens: u64,
    seeds: &[u64],
    threads: usize,
    out: &std::path::Path,
) -> Result<ExitCode> {
    let axes = Axis::parse_all(&args.sweep)?;
    let started = Instant::now();
    let count = sweep::points(&axes);
    // Every point's scenario is read (and checked) before anything runs.
    let mut settings = Vec::with_capacity(count);
    for index in 0..count {
        let (sets, values) = sweep::point(&axes, index);
        let overrides: Vec<String> = args.set.iter().cloned().chain(sets).collect();
        let point = scenario
            .clone()
            .with_overrides(&overrides)
            .and_then(|s| s.validate().map(|()| s))
            .with_context(|| format!("sweep point {}", values.join(", ")))?;
        settings.push((point, overrides, values));
    }
    let mut worlds = Vec::with_capacity(count * seeds.len());
    for (point, _, _) in &settings {
        for &seed in seeds {
            worlds.push(World::new(point, seed)?);
        }
    }
    let label = format!("sweep of {count} points × {} replicate(s)", seeds.len());
    let runs = run_with_progress(&worlds, citizens, threads, args.quiet, &label)?;
    let mut funnels = runs.into_iter().map(|r| r.funnel);
    let mut points = Vec::with_capacity(count);
    for (point, overrides, values) in &settings {
        let replicate: Vec<Funnel> = funnels.by_ref().take(seeds.len()).collect();
        let info = run_info(point, file.clone(), overrides, seeds.to_vec(), citizens);
        points.push(sweep::Point {
            values: values.clone(),
            figures: sweep::headline(&info, &replicate)?,
        });
    }
    let written = sweep::write(out, &scenario.name, &axes, seeds.len(), &points)
        .with_context(|| format!("writing the sweep into {}", out.display()))?;
    print!("{}", sweep::summary(&axes, &points));
    let elapsed = started.elapsed();
    println!(
        "swept {count} points × {} replicate(s) × {citizens} citizens in {:.2} s ({threads} threads)",
        seeds.len(),
        elapsed.as_secs_f64()
    );
    println!("sweep: {}", out.join(sweep::SWEEP_HTML).display());
    for path in written {
        println!("  {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Shows progress until the worker finishes: a bar on a terminal, a line every two seconds
/// otherwise.
fn show_progress<T>(
    worker: &std::thread::ScopedJoinHandle<'_, T>,
    progress: &Progress,
    done_before: u64,
    total: u64,
    label: &str,
    epoch: Option<chrono::NaiveDate>,
) {
    let terminal = std::io::stderr().is_terminal();
    let bar = if terminal {
        indicatif::ProgressBar::new(total).with_style(
            indicatif::ProgressStyle::with_template(
                "{msg} {bar:30} {pos}/{len} citizens, {per_sec}, {eta} left",
            )
            .expect("a valid template"),
        )
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut last_line = Instant::now();
    while !worker.is_finished() {
        std::thread::sleep(Duration::from_millis(100));
        let done = done_before + progress.finished.load(Ordering::Relaxed);
        let day = progress.sim_day();
        // The simulated month, so a run over years shows where in its history it is.
        let month = epoch
            .and_then(|e| e.checked_add_days(chrono::Days::new(day)))
            .map_or(String::new(), |d| format!(" ({})", d.format("%Y-%m")));
        bar.set_position(done);
        bar.set_message(format!("{label}, sim day {day}{month}"));
        if !terminal && last_line.elapsed() >= Duration::from_secs(2) {
            eprintln!("simulate: {label}: {done}/{total} citizens, sim day {day}{month}");
            last_line = Instant::now();
        }
    }
    bar.finish_and_clear();
}
