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
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Citizens(args) => citizens(args),
    }
}

fn citizens(args: CitizensArgs) -> Result<ExitCode> {
    let population = Population::new(args.seed, PopulationConfig::default())?;
    let end = args
        .from
        .checked_add(args.count)
        .context("--from plus --count overflows")?;
    population.check_count(end)?;

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
