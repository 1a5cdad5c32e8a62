//! esia-mocks: the world of the ESIA funnel outside the registry engine.
//!
//! Modules:
//! - [`chance`]: counter-based random streams keyed by (seed, citizen, event, attempt) and keyed
//!   permutations; every draw in the project starts here.
//! - [`region`]: the regions of Russia with their two numberings (OKATO, federal subject),
//!   postcodes and population weights.
//! - [`ident`]: identifiers and their validators (SNILS, INN, passport, division code, phone,
//!   e-mail, names), written from DOMAIN.md's rules; the engine reuses them.
//! - [`population`]: synthetic citizens (names by frequency, birth decade and region from the
//!   tables in `population/data/`); citizen i depends only on (seed, i). The agencies hold
//!   this population as their ground truth.
//! - [`agency`]: the agencies as pure models (PFR, FMS, CA, SMS, e-mail, Russian Post, banks,
//!   service centers): request + profile + RNG -> verdict and delay; the scenario's `[agencies]`.
//! - [`clock`]: sim time (milliseconds since a fixed calendar epoch), the virtual clock of the
//!   simulator and tests, and the scaled, advanceable wall clock of the stand.
//! - [`service`]: the agencies as HTTP services (SMS, mail, PFR, FMS): each model in a server
//!   with ground-truth records, a bounded journal and an admin API; the world's shared clock;
//!   the HTTP plumbing (JSON errors, the server loop and its limits against slow and greedy
//!   clients, the admin token) the engine's API shares.
//! - [`wire`]: the mocks' HTTP contract in one place: what every route shares (the one time
//!   type, [`wire::Timestamp`], the error body, and the forms of identifiers and texts, stated
//!   once as JSON Schema for the OpenAPI document) and, one submodule a mock
//!   ([`wire::sms`], [`wire::smev`], [`wire::post`], ...), the request bodies, answers and
//!   queries of the routes under `/mocks`.
//!
//! Data flows one way: a seed and a [`population::PopulationConfig`] give a
//! [`population::Population`], which gives [`population::Citizen`] records on demand.

pub mod agency;
pub mod chance;
pub mod clock;
pub mod ident;
pub mod population;
pub mod region;
pub mod service;
pub mod wire;
