//! esia-mocks: the world of the ESIA funnel outside the registry engine.
//!
//! Modules:
//! - [`chance`]: counter-based random streams keyed by (seed, citizen, event, attempt) and keyed
//!   permutations; every draw in the project starts here.
//! - [`region`]: the regions of Russia with their two numberings (OKATO, federal subject),
//!   postcodes and population weights.
//! - [`ident`]: identifiers and their validators (SNILS, INN, passport, division code, phone,
//!   e-mail, names), written from DOMAIN.md's rules; the engine reuses them.
//! - [`population`]: synthetic citizens; citizen i depends only on (seed, i). The agencies hold
//!   this population as their ground truth.
//!
//! Data flows one way: a seed and a [`population::PopulationConfig`] give a
//! [`population::Population`], which gives [`population::Citizen`] records on demand.

pub mod chance;
pub mod ident;
pub mod population;
pub mod region;
