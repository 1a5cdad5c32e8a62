//! The `esia-sim` binary: parses arguments, runs one library entry point, maps errors to exit
//! codes (1 for a failed run, 2 for bad arguments, from clap).

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("esia-sim: {e:#}");
            ExitCode::FAILURE
        }
    }
}
