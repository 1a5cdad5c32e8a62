//! esia-sim: a simulation and load-test harness for the Gosuslugi/ESIA registration funnel.
//!
//! Modules:
//! - [`export`]: writes a population (from [`esia_mocks::population`]) as JSON lines or CSV;
//!   behind `esia-sim citizens`.
//! - [`funnel`]: the tier funnel as a mergeable, integer-only aggregate (counts by path, step
//!   and exit; time-to-tier histograms; daily series; cohorts; censored conversion curves).
//! - [`load`]: `esia-sim load`: goose users as synthetic citizens walking every tier path over
//!   HTTP against the in-process stand or a system under test; per-step HDR latencies in a
//!   funnel that merges across shards; thresholds; reports.
//! - [`registry`]: the registry engine without I/O: registrations, passwords, sessions,
//!   verification by PFR and FMS, every confirmation method; commands take `now` and return
//!   outcomes plus effects (send an SMS, ask PFR...) for the stand or the simulator to perform.
//! - [`report`]: turns funnels into the files a researcher opens: `funnel.json`, tidy CSV
//!   tables and a self-contained `report.html` (tables, SVG plots, flows, confidence intervals
//!   across replicates, the comparison with DOMAIN.md or with a scenario's published
//!   figures over the years), plus a terminal summary.
//! - [`scenario`]: scenario files (TOML) and `--set key=value` overrides, resolved with the
//!   baseline's defaults.
//! - [`stand`]: the engine behind its HTTP API v1 with the agencies' mocks on one address
//!   (`esia-sim serve`): effects performed over HTTP with retries, callbacks and polling, one
//!   lane per agency; the login lockout; metrics, the OpenAPI document.
//! - [`wire`]: the engine's HTTP contract as serde types (every request and answer), shared by
//!   the stand's handlers, the load client and the OpenAPI document (derived with `ToSchema`).
//! - [`sim`]: the funnel in virtual time: a discrete-event loop over the engine's compact state
//!   machines and the agency models, sharded across threads.
//!
//! The agencies, the population and the world clock live in the `esia_mocks` crate, re-exported
//! here as [`mocks`]; dependencies point one way, from this crate to that one.

pub use esia_mocks as mocks;

pub mod export;
pub mod funnel;
pub mod load;
pub mod queueing;
pub mod registry;
pub mod report;
pub mod scenario;
pub mod sim;
pub mod stand;
pub mod wire;
