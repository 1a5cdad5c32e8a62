//! The `esia-sim` binary: parses arguments, runs one library entry point, maps errors to exit
//! codes (1 for a failed run, 2 for bad arguments, from clap; a reader of its output that
//! went away is not a failure).

mod alloc;
mod cli;

use clap::Parser;
use std::process::ExitCode;

/// mimalloc rather than glibc's malloc: a request to the stand makes about fifty allocations,
/// some past glibc's per-thread cache (a route's boxed future, hyper's read buffer), and with
/// glibc the allocator took a fifth of a request's instructions (benches/README.md).
#[global_allocator]
static GLOBAL: alloc::Mimalloc = alloc::Mimalloc;

fn main() -> ExitCode {
    quiet_on_closed_pipe();
    let cli = cli::Cli::parse();
    match cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("esia-sim: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `esia-sim simulate | head -3` closes the pipe early: Rust ignores SIGPIPE, so the next
/// `println!` panics. That is the reader's choice, not a failure: stop quietly with status 0,
/// as `esia-sim citizens` does when its reader stops (the report files are written before the
/// summary is printed). Sockets are untouched (the servers' writes get EPIPE as errors, as
/// before); every other panic goes to the default hook.
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.starts_with("failed printing to std") && message.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}
