//! [`StandServer`]: the whole stand (the engine and every mock on one address) started by one
//! call on a free loopback port, for an integrator's Rust tests, as `wiremock` is used. The
//! agencies answer at once and never fail until told to ([`esia_mocks::service::quiet_agencies`]);
//! each mock's admin operations are methods ([`StandServer::mock`]); the world's clock is moved
//! with [`StandServer::advance`]. The stand stops when the value is dropped.
//!
//! ```
//! use esia_sim::stand::StandServer;
//! use serde_json::{json, Value};
//!
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let stand = StandServer::start().await?;
//! let citizen = stand.citizen(0);
//! let phone = citizen.phone.clone().expect("citizen 0 of seed 1 has a phone");
//! let http = reqwest::Client::new();
//!
//! // Step 1 of the funnel: the code comes by SMS to the mock gateway's inbox.
//! let started: Value = http
//!     .post(format!("{}/api/v1/registrations", stand.base_url()))
//!     .json(&json!({ "surname": citizen.surname, "name": citizen.name, "phone": phone }))
//!     .send()
//!     .await?
//!     .json()
//!     .await?;
//! let id = started["registration_id"].as_str().unwrap();
//! let inbox = format!("{}/mocks/sms/inbox/{}", stand.base_url(), &phone[1..]);
//! let code = loop {
//!     let v: Value = http.get(&inbox).send().await?.json().await?;
//!     if let Some(text) = v["messages"][0]["text"].as_str() {
//!         break text.split(|c: char| !c.is_ascii_digit()).find(|w| w.len() == 6).unwrap().to_owned();
//!     }
//!     tokio::time::sleep(std::time::Duration::from_millis(10)).await;
//! };
//! let r = http
//!     .post(format!("{}/api/v1/registrations/{id}/code", stand.base_url()))
//!     .json(&json!({ "code": code }))
//!     .send()
//!     .await?;
//! assert_eq!(r.status(), 200);
//!
//! // Five minutes later a code is expired: move the world instead of waiting.
//! stand.advance(std::time::Duration::from_secs(301)).await;
//! # Ok(())
//! # }
//! ```

use super::{assemble, serve, ServeError, StandConfig};
use crate::registry::HashProfile;
use esia_mocks::population::{Citizen, Population, PopulationConfig};
use esia_mocks::service::{quiet_agencies, AdminHandle, MockKind, Mocks};
use esia_mocks::wire::clock::ClockView;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// A running stand on a loopback port; it stops when dropped.
pub struct StandServer {
    base_url: String,
    operator_token: String,
    partner_token: String,
    mocks: Mocks,
    population: Population,
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for StandServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StandServer")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl Drop for StandServer {
    fn drop(&mut self) {
        self.cancel.cancel();
        self.task.abort();
    }
}

impl StandServer {
    /// The stand for a test: population seed 1 (its first 1,000 citizens are the agencies'
    /// truth), immediate and faultless agencies, cheap password hashing (`load`), random
    /// tokens. Call within a multi-threaded Tokio runtime.
    pub async fn start() -> Result<Self, ServeError> {
        let config = StandConfig {
            agencies: quiet_agencies(),
            hash_profile: HashProfile::Load,
            ..StandConfig::default()
        };
        Self::start_with(config).await
    }

    /// The stand with `config` (empty tokens are generated), on a free loopback port.
    pub async fn start_with(mut config: StandConfig) -> Result<Self, ServeError> {
        for token in [&mut config.operator_token, &mut config.partner_token] {
            if token.is_empty() {
                *token = super::random_token();
            }
        }
        let population = Population::new(config.seed, PopulationConfig::default())?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let cancel = CancellationToken::new();
        let assembled = assemble(&listener, &config, cancel.clone())?;
        let base_url = assembled.base_url.clone();
        let mocks = assembled.mocks.clone();
        let (tasks, stop) = (cancel.clone(), cancel.clone());
        let task = tokio::spawn(async move {
            let shutdown = async move { stop.cancelled().await };
            if let Err(e) = serve(listener, assembled, tasks, shutdown).await {
                tracing::error!(error = %e, "the stand stopped");
            }
        });
        Ok(Self {
            base_url,
            operator_token: config.operator_token,
            partner_token: config.partner_token,
            mocks,
            population,
            cancel,
            task,
        })
    }

    /// `http://127.0.0.1:PORT`: the engine's `/api/v1/...` and the mocks' `/mocks/...`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The operator API's bearer token.
    pub fn operator_token(&self) -> &str {
        &self.operator_token
    }

    /// The partner API's bearer token.
    pub fn partner_token(&self) -> &str {
        &self.partner_token
    }

    /// Citizen `i` of the population (the agencies know citizens `0..1000` by default).
    pub fn citizen(&self, i: u64) -> Citizen {
        self.population.citizen(i)
    }

    /// The admin operations of mock `kind` (profile, faults, journal, reset).
    pub fn mock(&self, kind: MockKind) -> AdminHandle {
        self.mocks.admin(kind)
    }

    /// Every mock's state, for what the methods do not cover.
    pub fn mocks(&self) -> &Mocks {
        &self.mocks
    }

    /// The world's clock.
    pub fn clock(&self) -> ClockView {
        self.mocks.clock()
    }

    /// Moves the world's clock forward for the engine and every mock alike: everything due in
    /// between (answers, callbacks, deadlines, visits) runs in time order, each at its own time
    /// (see [`esia_mocks::service::World::advance`]).
    pub async fn advance(&self, by: Duration) -> ClockView {
        self.mocks.advance(by).await
    }
}
