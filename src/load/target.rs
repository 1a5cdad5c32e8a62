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

/// The target's gauges worth charting: its queues and backlogs (ours by name, a foreign
/// system's by the words its names use).
fn charted(name: &str) -> bool {
    const WORDS: [&str; 7] = [
        "queue",
        "pending",
        "waiting",
        "in_flight",
        "in_service",
        "deferred",
        "backlog",
    ];
    WORDS.iter().any(|w| name.contains(w))
}

/// The charted gauges of a Prometheus text exposition: `(series, value)`, the series with its
/// labels as written (`esia_mock_queued{agency="pfr"}`). Lines that do not parse are skipped.
pub fn gauges(text: &str) -> Vec<(String, f64)> {
    let mut gauge_names = std::collections::HashSet::new();
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split_whitespace();
            if let (Some(name), Some("gauge")) = (parts.next(), parts.next()) {
                gauge_names.insert(name.to_owned());
            }
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // `name{labels} value [timestamp]`; label values may hold spaces.
        let (series, rest) = match line.find('{') {
            Some(open) => match line[open..].find('}') {
                Some(close) => line.split_at(open + close + 1),
                None => continue,
            },
            None => match line.split_once(char::is_whitespace) {
                Some(pair) => pair,
                None => continue,
            },
        };
        let name = series.split('{').next().unwrap_or(series);
        if !gauge_names.contains(name) || !charted(name) {
            continue;
        }
        if let Some(Ok(v)) = rest.split_whitespace().next().map(str::parse::<f64>) {
            out.push((series.to_owned(), v));
        }
    }
    out
}

/// Reads `url` (Prometheus text) every `every` until aborted, and puts the target's queue
/// gauges into the timeline. A failed read is noted once and retried at the next tick.
pub async fn scrape(h: std::sync::Arc<super::journey::Harness>, url: String, every: Duration) {
    let client = match reqwest::Client::builder()
        .timeout(every.max(Duration::from_secs(1)))
        .build()
    {
        Ok(c) => c,
        Err(_) => return,
    };
    let mut noted = false;
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        let read = async {
            let chain = |e: reqwest::Error| crate::stand::agencies::chain(&e);
            let r = client.get(&url).send().await.map_err(chain)?;
            if !r.status().is_success() {
                return Err(format!("{}", r.status()));
            }
            r.text().await.map_err(chain)
        };
        match read.await {
            Ok(text) => {
                let now = super::timeline::unix_now_s();
                let gauges = gauges(&text);
                let mut f = h.funnel();
                for (series, v) in gauges {
                    f.timeline.gauge(now, &series, v);
                }
            }
            Err(e) if !noted => {
                noted = true;
                h.note(format!(
                    "the target's metrics at {url} could not be read: {e}"
                ));
            }
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod scrape_tests {
    use super::gauges;

    #[test]
    fn only_the_queue_gauges_are_kept_with_their_labels() {
        let text = "# HELP esia_effects_queued Effects waiting.\n\
                    # TYPE esia_effects_queued gauge\n\
                    esia_effects_queued 12\n\
                    # TYPE esia_mock_queued gauge\n\
                    esia_mock_queued{agency=\"pfr\",note=\"a b\"} 3 1700000000\n\
                    # TYPE esia_accounts gauge\n\
                    esia_accounts{tier=\"simplified\"} 40\n\
                    # TYPE esia_requests_pending_total counter\n\
                    esia_requests_pending_total 9\n\
                    esia_verifications_pending 4\n\
                    garbage{ 1\n";
        assert_eq!(
            gauges(text),
            vec![
                ("esia_effects_queued".to_owned(), 12.0),
                (
                    "esia_mock_queued{agency=\"pfr\",note=\"a b\"}".to_owned(),
                    3.0
                ),
            ]
        );
    }
}
