//! `esia-sim compare A B`: two funnel files side by side (the library's
//! [`esia_sim::report::compare`]), the files written into `--out`, a summary on stdout, and
//! exit status 1 with `--fail-on-difference` when a figure is flagged.

use anyhow::Result;
use esia_sim::report::compare;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// The first funnel.json (A): of `esia-sim simulate`, `load` or `merge`.
    #[arg(value_name = "A")]
    pub a: PathBuf,
    /// The second funnel.json (B); differences are B − A.
    #[arg(value_name = "B")]
    pub b: PathBuf,
    /// Where compare.csv and compare.html go.
    #[arg(short, long, value_name = "DIR", default_value = "results/compare")]
    pub out: PathBuf,
    /// Exit with status 1 when any figure is flagged (beyond sampling error).
    #[arg(long)]
    pub fail_on_difference: bool,
}

/// Compares the two files.
pub fn run(args: CompareArgs) -> Result<ExitCode> {
    let c = compare::compare_files(&args.a, &args.b)?;
    let files = compare::write(&args.out, &c)?;
    print!("{}", compare::summary(&c));
    println!("files:");
    for f in &files {
        println!("  {}", f.display());
    }
    Ok(if args.fail_on_difference && c.flagged().next().is_some() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
