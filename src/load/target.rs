//! What a load run measures: the in-process stand (engine and mocks on one loopback address),
//! or a system under test at `--host URL` with the mocks served here (or at `--mocks-url`).
//! Whatever is served here runs on a Tokio runtime of its own, on threads of its own, so the
//! load generator's runtime never steals them; it stops when the [`Target`] is dropped or
//! [`Target::stop`]ped.

use crate::stand::{self, StandConfig};
use esia_mocks::clock::{Epoch, SimTime};
use esia_mocks::population::{Population, PopulationConfig};
use esia_mocks::service::{Mocks, MocksConfig, Truth, World};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::oneshot;

/// Why a target cannot start.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("cannot start the {what}'s runtime: {source}")]
    Runtime {
        what: &'static str,
        source: std::io::Error,
    },
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Stand(#[from] stand::ServeError),
    #[error(transparent)]
    Population(#[from] esia_mocks::population::PopulationError),
    #[error("the {0} stopped before it was ready")]
    Gone(&'static str),
}

/// A server running on its own runtime thread.
struct Served {
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Served {
    fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The system measured and the mocks its journeys read.
pub struct Target {
    /// `in-process stand` or `remote`.
    pub kind: &'static str,
    /// The engine's base URL.
    pub host: String,
    /// The mocks' base URL.
    pub mocks: String,
    served: Option<Served>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("kind", &self.kind)
            .field("host", &self.host)
            .field("mocks", &self.mocks)
            .finish()
    }
}

fn runtime(what: &'static str, threads: usize) -> Result<tokio::runtime::Runtime, TargetError> {
    let mut b = tokio::runtime::Builder::new_multi_thread();
    if threads > 0 {
        b.worker_threads(threads);
    }
    b.thread_name(what)
        .enable_all()
        .build()
        .map_err(|source| TargetError::Runtime { what, source })
}

impl Target {
    /// Starts the whole stand on a free loopback port, with `threads` runtime workers (0: one
    /// per core).
    pub fn stand(config: StandConfig, threads: usize) -> Result<Self, TargetError> {
        let rt = runtime("stand", threads)?;
        let (ready_tx, ready_rx) = mpsc::channel();
        let (shutdown, shutdown_rx) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("stand".into())
            .spawn(move || {
                rt.block_on(async move {
                    let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
                        Ok(l) => l,
                        Err(source) => {
                            let _ = ready_tx.send(Err(TargetError::Listen {
                                addr: "127.0.0.1:0".into(),
                                source,
                            }));
                            return;
                        }
                    };
                    let cancel = tokio_util::sync::CancellationToken::new();
                    let assembled = match stand::assemble(&listener, &config, cancel.clone()) {
                        Ok(a) => a,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e.into()));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(assembled.base_url.clone()));
                    let stop = async {
                        let _ = shutdown_rx.await;
                    };
                    if let Err(e) = stand::serve(listener, assembled, cancel, stop).await {
                        tracing::error!(error = %e, "the in-process stand stopped");
                    }
                });
                // Blocking tasks (password hashes) get a moment, not forever.
                rt.shutdown_timeout(Duration::from_secs(2));
            })
            .map_err(|source| TargetError::Runtime {
                what: "stand",
                source,
            })?;
        let served = Served {
            shutdown: Some(shutdown),
            thread: Some(thread),
        };
        let base = ready_rx.recv().map_err(|_| TargetError::Gone("stand"))??;
        Ok(Self {
            kind: "in-process stand",
            host: base.clone(),
            mocks: base,
            served: Some(served),
        })
    }

    /// A system under test at `host`, with the mocks served here on `mocks_addr`, holding
    /// citizens `0..population` of `seed` as their truth.
    pub fn remote_with_mocks(
        host: &str,
        mocks_addr: &str,
        config: MocksConfig,
        seed: u64,
        population: u64,
        threads: usize,
    ) -> Result<Self, TargetError> {
        let people = Population::new(seed, PopulationConfig::default())?;
        people.check_count(population)?;
        let truth = Truth::of_population(&people, population);
        let rt = runtime("mocks", threads)?;
        let (ready_tx, ready_rx) = mpsc::channel();
        let (shutdown, shutdown_rx) = oneshot::channel::<()>();
        let addr = mocks_addr.to_owned();
        let thread = std::thread::Builder::new()
            .name("mocks".into())
            .spawn(move || {
                rt.block_on(async move {
                    let listener = match tokio::net::TcpListener::bind(&addr).await {
                        Ok(l) => l,
                        Err(source) => {
                            let _ = ready_tx.send(Err(TargetError::Listen { addr, source }));
                            return;
                        }
                    };
                    let base = match listener.local_addr() {
                        Ok(a) => format!("http://{a}"),
                        Err(source) => {
                            let _ = ready_tx.send(Err(TargetError::Listen { addr, source }));
                            return;
                        }
                    };
                    let world = match World::new(Epoch::default(), SimTime::ZERO, 1.0) {
                        Ok(w) => w,
                        Err(e) => {
                            tracing::error!(error = %e, "the mocks' clock");
                            return;
                        }
                    };
                    let mocks = Mocks::new(world, config, truth);
                    let app = esia_mocks::service::app(&mocks);
                    let _ = ready_tx.send(Ok(base));
                    let stop = async {
                        let _ = shutdown_rx.await;
                    };
                    if let Err(e) = esia_mocks::service::serve_router(listener, app, stop).await {
                        tracing::error!(error = %e, "the mocks stopped");
                    }
                });
                rt.shutdown_timeout(Duration::from_secs(2));
            })
            .map_err(|source| TargetError::Runtime {
                what: "mocks",
                source,
            })?;
        let served = Served {
            shutdown: Some(shutdown),
            thread: Some(thread),
        };
        let base = ready_rx.recv().map_err(|_| TargetError::Gone("mocks"))??;
        Ok(Self {
            kind: "remote",
            host: host.trim_end_matches('/').to_owned(),
            mocks: base,
            served: Some(served),
        })
    }

    /// A system under test at `host` whose mocks run at `mocks` already.
    pub fn remote(host: &str, mocks: &str) -> Self {
        Self {
            kind: "remote",
            host: host.trim_end_matches('/').to_owned(),
            mocks: mocks.trim_end_matches('/').to_owned(),
            served: None,
        }
    }

    /// Stops whatever is served here.
    pub fn stop(&mut self) {
        if let Some(mut s) = self.served.take() {
            s.stop();
        }
    }
}

/// `GET {host}/metrics` as text, or why not.
pub async fn metrics_snapshot(host: &str) -> Result<String, String> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    let r = client
        .get(format!("{host}/metrics"))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = r.status();
    let text = r.text().await.map_err(|e| e.to_string())?;
    if status.is_success() {
        Ok(text)
    } else {
        Err(format!(
            "{status}: {}",
            text.chars().take(200).collect::<String>()
        ))
    }
}
