//! [`MockServer`]: the mocks in an integrator's Rust tests, used as `wiremock` is: one call
//! starts a mock on a free loopback port and gives its base URL; the admin operations (profile,
//! faults, journal, reset, the clock) are methods. The server stops when the value is dropped.
//!
//! ```
//! use esia_mocks::service::{MockKind, MockServer};
//! use esia_mocks::wire::faults::Failure;
//! use serde_json::json;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // An SMS gateway that answers at once and never fails, until told to.
//! let sms = MockServer::start(MockKind::Sms).await?;
//! let http = reqwest::Client::new();
//! let send = || {
//!     http.post(format!("{}/messages", sms.url()))
//!         .json(&json!({ "to": "+79161234567", "text": "Код: 123456" }))
//!         .send()
//! };
//! assert_eq!(send().await?.status(), 202);
//!
//! // The next request fails with a 503, as a real gateway sometimes does.
//! sms.fail_next(1, Failure::Error)?;
//! assert_eq!(send().await?.status(), 503);
//! assert_eq!(send().await?.status(), 202);
//!
//! // What the code under test sent, and what it got.
//! let journal = sms.journal();
//! assert_eq!(journal.len(), 3);
//! assert_eq!(journal[1].fault, Some("error"));
//! let inbox: serde_json::Value = http
//!     .get(format!("{}/inbox/79161234567", sms.url()))
//!     .send()
//!     .await?
//!     .json()
//!     .await?;
//! assert_eq!(inbox["messages"].as_array().map(Vec::len), Some(2));
//!
//! // Slow delivery, then move the world's clock instead of waiting.
//! sms.set_profile(json!({ "latency": { "kind": "fixed", "value": "10m" } }))?;
//! send().await?;
//! sms.advance(std::time::Duration::from_secs(600)).await;
//! # Ok(())
//! # }
//! ```

use super::admin::AdminHandle;
use super::journal::Filter;
use super::World;
use super::{app_for, EngineLink, MockError, MockKind, Mocks, MocksConfig, Truth};
use crate::clock::{Epoch, SimTime};
use crate::population::{Population, PopulationConfig};
use crate::wire::clock::ClockView;
use crate::wire::faults::{Failure, Fault};
use crate::wire::journal::Entry;
use std::time::Duration;

/// Running mocks on a loopback port; they stop when this is dropped.
pub struct MockServer {
    base_url: String,
    kinds: Vec<MockKind>,
    mocks: Mocks,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for MockServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockServer")
            .field("base_url", &self.base_url)
            .field("kinds", &self.kinds)
            .finish()
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// How to start a [`MockServer`]. Defaults: every mock, [`MocksConfig::quiet`] (immediate,
/// faultless agencies), no ground truth, no engine, the world at the default epoch at scale 1,
/// `127.0.0.1:0`.
#[derive(Debug)]
pub struct MockServerBuilder {
    kinds: Vec<MockKind>,
    config: MocksConfig,
    truth: Truth,
    population: Option<(u64, u64)>,
    epoch: Epoch,
    time_scale: f64,
    addr: String,
}

impl Default for MockServerBuilder {
    fn default() -> Self {
        Self {
            kinds: MockKind::ALL.to_vec(),
            config: MocksConfig::quiet(),
            truth: Truth::default(),
            population: None,
            epoch: Epoch::default(),
            time_scale: 1.0,
            addr: "127.0.0.1:0".into(),
        }
    }
}

fn invalid(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string())
}

impl MockServerBuilder {
    /// Serve only these mocks (and the clock's admin routes).
    pub fn mocks(mut self, kinds: &[MockKind]) -> Self {
        self.kinds = kinds.to_vec();
        self
    }

    /// The mocks' figures and profiles (default [`MocksConfig::quiet`]).
    pub fn config(mut self, config: MocksConfig) -> Self {
        self.config = config;
        self
    }

    /// The ground truth the agencies hold.
    pub fn truth(mut self, truth: Truth) -> Self {
        self.truth = truth;
        self
    }

    /// Citizens `0..count` of population `seed` are the agencies' truth (the ones
    /// `esia-sim citizens --seed S --count N` prints).
    pub fn population(mut self, seed: u64, count: u64) -> Self {
        self.population = Some((seed, count));
        self
    }

    /// Where the bank and service-center mocks reach the engine.
    pub fn engine(mut self, link: EngineLink) -> Self {
        self.config.engine = Some(link);
        self
    }

    /// Sim milliseconds per wall millisecond (default 1).
    pub fn time_scale(mut self, scale: f64) -> Self {
        self.time_scale = scale;
        self
    }

    /// The address to listen on (default `127.0.0.1:0`, a free port).
    pub fn addr(mut self, addr: impl Into<String>) -> Self {
        self.addr = addr.into();
        self
    }

    /// Starts the server. Call within a Tokio runtime.
    pub async fn start(self) -> std::io::Result<MockServer> {
        let mut truth = self.truth;
        if let Some((seed, count)) = self.population {
            let population = Population::new(seed, PopulationConfig::default()).map_err(invalid)?;
            population.check_count(count).map_err(invalid)?;
            truth = Truth::of_population(&population, count);
        }
        let world = World::new(self.epoch, SimTime::ZERO, self.time_scale).map_err(invalid)?;
        let mocks = Mocks::new(world, self.config, truth);
        let listener = tokio::net::TcpListener::bind(&self.addr).await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let router = app_for(&mocks, &self.kinds);
        let task = tokio::spawn(async move {
            if let Err(e) = super::serve_router(listener, router, std::future::pending()).await {
                tracing::error!(error = %e, "the mock server stopped");
            }
        });
        Ok(MockServer {
            base_url,
            kinds: self.kinds,
            mocks,
            task,
        })
    }
}

impl MockServer {
    /// Starts one mock, immediate and faultless, on a free loopback port.
    pub async fn start(kind: MockKind) -> std::io::Result<Self> {
        Self::builder().mocks(&[kind]).start().await
    }

    /// How to start mocks with other settings.
    pub fn builder() -> MockServerBuilder {
        MockServerBuilder::default()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The base URL of the first mock served (`http://127.0.0.1:PORT/mocks/sms`): what the
    /// code under test is given as the agency's URL.
    pub fn url(&self) -> String {
        self.url_of(self.kinds.first().copied().unwrap_or(MockKind::Sms))
    }

    /// The base URL of mock `kind`.
    pub fn url_of(&self, kind: MockKind) -> String {
        format!("{}/mocks/{}", self.base_url, kind.as_str())
    }

    /// Every mock's state, for what the methods do not cover.
    pub fn mocks(&self) -> &Mocks {
        &self.mocks
    }

    /// The admin operations of mock `kind`.
    pub fn admin(&self, kind: MockKind) -> AdminHandle {
        self.mocks.admin(kind)
    }

    fn first(&self) -> AdminHandle {
        self.admin(self.kinds.first().copied().unwrap_or(MockKind::Sms))
    }

    /// The first mock's profile (the agency's keys and the wire's).
    pub fn profile(&self) -> serde_json::Value {
        self.first().profile()
    }

    /// Sets keys of the first mock's profile (see [`AdminHandle::set_profile`]).
    pub fn set_profile(&self, patch: serde_json::Value) -> Result<serde_json::Value, MockError> {
        self.first().set_profile(patch)
    }

    /// Adds a targeted fault to the first mock.
    pub fn fault(&self, fault: Fault) -> Result<(), MockError> {
        self.first().add_fault(fault).map(|_| ())
    }

    /// The first mock's next `count` requests fail as `failure` says.
    pub fn fail_next(&self, count: u32, failure: Failure) -> Result<(), MockError> {
        self.fault(Fault::FailNext {
            count,
            failure,
            path: None,
        })
    }

    /// The first mock's journal (the last 100 requests), oldest first.
    pub fn journal(&self) -> Vec<Entry> {
        self.first().journal(&Filter::default())
    }

    /// The first mock's journal entries that pass `filter`.
    pub fn journal_where(&self, filter: &Filter) -> Vec<Entry> {
        self.first().journal(filter)
    }

    /// Forgets every served mock's state, journal and faults and restores their profiles.
    pub fn reset(&self) {
        for k in &self.kinds {
            self.admin(*k).reset();
        }
    }

    /// The world's clock.
    pub fn clock(&self) -> ClockView {
        self.mocks.clock()
    }

    /// Moves the world's clock forward: deliveries, answers and letters due by then happen,
    /// in time order, each at its own time (see [`World::advance`]).
    pub async fn advance(&self, by: Duration) -> ClockView {
        self.mocks.advance(by).await
    }
}
