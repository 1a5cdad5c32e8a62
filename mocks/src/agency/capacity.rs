//! Capacity: an agency that serves a few requests at once, queues the next ones, and refuses
//! beyond its queue or its quota. One model for the simulator and the mocks (issue: SimPy's
//! `Resource`, SMEV's quota per information system, an MFC's counters, an SMS gateway's limit).
//!
//! A [`Capacity`] is written in a scenario as `[agencies.<name>.capacity]`:
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `servers` | required, at least 1 | answers in progress at once (counters, workers) |
//! | `queue` | absent: unbounded | requests that may wait beyond the servers; 0 refuses as soon as every server is busy |
//! | `rate` | absent: no quota | requests accepted per second of the agency's clock (a token bucket holding one second's worth, at least one token) |
//!
//! With a capacity, the agency's latency law is the **service time at a server**, and the
//! answer comes after the wait plus the service.
//!
//! A [`Station`] is that capacity in motion: requests are offered in the order they arrive
//! (nondecreasing time), and served first come, first served by the earliest free server.
//! Under FIFO a request's start depends only on the requests before it, so the station decides
//! everything when the request arrives: when it starts and ends, or that it gives up first
//! (patience), or that it is refused. Nothing is simulated afterwards, which makes the station
//! as cheap in the simulator (a few heap operations a request) as on a mock's hot path.
//! Opening hours (service centers) shift a start to the next opening: a queue carries over.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use serde::{Deserialize, Serialize};

use super::profile::ProfileError;
use crate::clock::{SimTime, MS_PER_SEC};

/// The most servers a capacity may have (a station keeps one entry a server).
pub const MAX_SERVERS: u32 = 1_000_000;

/// How much an agency can do at once. See the module doc for the keys.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capacity {
    /// Requests served at once (at least 1).
    pub servers: u32,
    /// Requests that may wait beyond the servers; `None` is unbounded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<u32>,
    /// Requests accepted per second; `None` is no quota.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
}

impl Capacity {
    /// `servers` at once, an unbounded queue, no quota.
    pub fn servers(servers: u32) -> Self {
        Self {
            servers,
            queue: None,
            rate: None,
        }
    }

    /// Checks what the types cannot.
    pub fn check(&self) -> Result<(), ProfileError> {
        if !(1..=MAX_SERVERS).contains(&self.servers) {
            return Err(ProfileError::Servers(self.servers));
        }
        if let Some(rate) = self.rate {
            if !(rate.is_finite() && rate > 0.0) {
                return Err(ProfileError::QuotaRate(rate));
            }
        }
        Ok(())
    }
}

/// Why a station refuses a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// Every server is busy and the queue is full.
    QueueFull,
    /// The quota (`rate`) is spent for now.
    Quota,
}

impl Refusal {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::QueueFull => "queue_full",
            Refusal::Quota => "quota",
        }
    }
}

/// What a station does with one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Served: its service starts at `start` (after a wait of `start - now`) and ends at `done`.
    Served { start: SimTime, done: SimTime },
    /// It waits and, not served by `at` (its arrival plus its patience), gives up then.
    GivesUp { at: SimTime },
    /// Refused at once; asking again after `retry_after_ms` has a chance.
    Refused {
        reason: Refusal,
        retry_after_ms: u64,
    },
}

/// A token bucket: `rate` tokens a second, holding at most `burst`.
#[derive(Clone, Debug)]
struct Bucket {
    per_ms: f64,
    burst: f64,
    tokens: f64,
    at_ms: u64,
}

impl Bucket {
    fn new(rate: f64) -> Self {
        let burst = rate.max(1.0);
        Self {
            per_ms: rate / MS_PER_SEC as f64,
            burst,
            tokens: burst,
            at_ms: 0,
        }
    }

    fn refill(&mut self, now_ms: u64) {
        if now_ms > self.at_ms {
            let gained = (now_ms - self.at_ms) as f64 * self.per_ms;
            self.tokens = (self.tokens + gained).min(self.burst);
            self.at_ms = now_ms;
        }
    }

    /// Milliseconds until a token is there (0 if one is).
    fn wait_ms(&self) -> u64 {
        if self.tokens >= 1.0 {
            0
        } else {
            ((1.0 - self.tokens) / self.per_ms).ceil() as u64
        }
    }
}

/// A capacity in motion: the servers' and the queue's state. Requests must be offered in
/// nondecreasing time (a request offered earlier than the one before it is treated as
/// arriving with it).
#[derive(Clone, Debug)]
pub struct Station {
    capacity: Capacity,
    /// When each taken server is next free (entries in the past are dropped); fewer entries
    /// than servers means some are idle.
    free_at: BinaryHeap<Reverse<u64>>,
    /// Starts of admitted requests that have not started yet.
    starts: BinaryHeap<Reverse<u64>>,
    /// When each request that will give up leaves the queue.
    leaves: BinaryHeap<Reverse<u64>>,
    bucket: Option<Bucket>,
    last_ms: u64,
    /// The queue the last request offered found.
    found_queued: u64,
}

/// What a station holds at one moment (for `/metrics` and the reports).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Occupancy {
    /// Servers taken: serving a request (for an agency with opening hours, also a server kept
    /// for a request that starts at the next opening).
    pub in_service: u64,
    /// Requests waiting for a server.
    pub queued: u64,
}

impl Station {
    /// An idle station of `capacity` (checked: see [`Capacity::check`]).
    pub fn new(capacity: Capacity) -> Self {
        let bucket = capacity.rate.map(Bucket::new);
        Self {
            free_at: BinaryHeap::with_capacity(capacity.servers.min(4_096) as usize),
            capacity,
            starts: BinaryHeap::new(),
            leaves: BinaryHeap::new(),
            bucket,
            last_ms: 0,
            found_queued: 0,
        }
    }

    /// The capacity it runs.
    pub fn capacity(&self) -> &Capacity {
        &self.capacity
    }

    /// Drops what is over by `now_ms` (a server free by then is as good as idle).
    fn settle(&mut self, now_ms: u64) {
        for heap in [&mut self.free_at, &mut self.starts, &mut self.leaves] {
            while heap.peek().is_some_and(|Reverse(t)| *t <= now_ms) {
                heap.pop();
            }
        }
    }

    /// What the station holds at `now` (not before the last request offered).
    pub fn occupancy(&mut self, now: SimTime) -> Occupancy {
        let now_ms = now.as_millis().max(self.last_ms);
        self.settle(now_ms);
        Occupancy {
            // FIFO hands out servers in time order, so a server whose last request ends after
            // `now` is busy now (without opening hours).
            in_service: self.free_at.len() as u64,
            queued: (self.starts.len() + self.leaves.len()) as u64,
        }
    }

    /// Offers a request arriving at `now` that needs `service_ms` at a server, whose sender
    /// waits at most `patience_ms` for its service to start (`None`: forever). `opening` maps a
    /// moment to the first moment at or after it when the agency serves (identity for an
    /// agency without hours).
    pub fn offer(
        &mut self,
        now: SimTime,
        service_ms: u64,
        patience_ms: Option<u64>,
        opening: impl Fn(SimTime) -> SimTime,
    ) -> Admission {
        let now_ms = now.as_millis().max(self.last_ms);
        self.last_ms = now_ms;
        self.settle(now_ms);
        let servers = self.capacity.servers as usize;
        self.found_queued = (self.starts.len() + self.leaves.len()) as u64;
        // FIFO: the earliest free server takes the request, once everyone before it started.
        let free_ms = if self.free_at.len() < servers {
            now_ms
        } else {
            self.free_at
                .peek()
                .map_or(now_ms, |Reverse(t)| (*t).max(now_ms))
        };
        let start_ms = opening(SimTime::from_millis(free_ms))
            .as_millis()
            .max(free_ms);
        let waits = start_ms > now_ms;
        if waits {
            let queued = self.starts.len() + self.leaves.len();
            if let Some(limit) = self.capacity.queue {
                if queued >= limit as usize {
                    // A place opens when the first waiting request leaves the queue.
                    let first = [self.starts.peek(), self.leaves.peek()]
                        .into_iter()
                        .flatten()
                        .map(|Reverse(t)| *t)
                        .min()
                        .unwrap_or(start_ms);
                    return Admission::Refused {
                        reason: Refusal::QueueFull,
                        retry_after_ms: first.saturating_sub(now_ms).max(1),
                    };
                }
            }
        }
        if let Some(bucket) = &mut self.bucket {
            bucket.refill(now_ms);
            if bucket.tokens < 1.0 {
                return Admission::Refused {
                    reason: Refusal::Quota,
                    retry_after_ms: bucket.wait_ms().max(1),
                };
            }
            bucket.tokens -= 1.0;
        }
        if let Some(patience) = patience_ms {
            let gives_up = now_ms.saturating_add(patience);
            if start_ms > gives_up {
                self.leaves.push(Reverse(gives_up));
                return Admission::GivesUp {
                    at: SimTime::from_millis(gives_up),
                };
            }
        }
        let done_ms = start_ms.saturating_add(service_ms);
        if self.free_at.len() >= servers {
            self.free_at.pop();
        }
        self.free_at.push(Reverse(done_ms));
        if waits {
            self.starts.push(Reverse(start_ms));
        }
        Admission::Served {
            start: SimTime::from_millis(start_ms),
            done: SimTime::from_millis(done_ms),
        }
    }

    /// How many requests were waiting when the last request was offered.
    pub fn found_queued(&self) -> u64 {
        self.found_queued
    }

    /// [`Station::offer`] for an agency without opening hours.
    pub fn offer_always_open(
        &mut self,
        now: SimTime,
        service_ms: u64,
        patience_ms: Option<u64>,
    ) -> Admission {
        self.offer(now, service_ms, patience_ms, |t| t)
    }
}

/// Queueing theory's answers, the oracle of the tests: the mean wait in queue of M/M/c
/// (Erlang C), M/M/1 and M/D/1 (Pollaczek-Khinchine).
pub mod theory {
    /// Erlang C: the probability that an arrival waits, for `c` servers at offered load
    /// `a = λ/μ` (in erlangs, `a < c`).
    pub fn erlang_c(c: u32, a: f64) -> f64 {
        // Erlang B by its stable recursion, then C from B.
        let mut b = 1.0;
        for k in 1..=c {
            b = a * b / (f64::from(k) + a * b);
        }
        let rho = a / f64::from(c);
        b / (1.0 - rho + rho * b)
    }

    /// Mean wait in queue of M/M/c with arrival rate `lambda` and mean service `mean_service`
    /// (same time unit).
    pub fn mmc_wait(c: u32, lambda: f64, mean_service: f64) -> f64 {
        let a = lambda * mean_service;
        erlang_c(c, a) * mean_service / (f64::from(c) - a)
    }

    /// Mean wait in queue of M/D/1 (Pollaczek-Khinchine with a deterministic service).
    pub fn md1_wait(lambda: f64, service: f64) -> f64 {
        let rho = lambda * service;
        rho * service / (2.0 * (1.0 - rho))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agency::latency::tests::rng;
    use crate::agency::Latency;
    use crate::clock::MS_PER_HOUR;
    use rand::Rng;

    fn at(ms: u64) -> SimTime {
        SimTime::from_millis(ms)
    }

    /// Mean wait of `n` Poisson arrivals at `lambda_per_s` to a station of `c` servers whose
    /// service is drawn from `service`, discarding the first `warmup` arrivals.
    fn mean_wait_s(c: u32, lambda_per_s: f64, service: &Latency, n: usize, seed: u64) -> f64 {
        let mut station = Station::new(Capacity::servers(c));
        let mut r = rng(seed);
        let warmup = n / 20;
        let (mut now_us, mut total_ms, mut counted) = (0f64, 0u128, 0u64);
        for i in 0..n + warmup {
            let u = 1.0 - (r.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            now_us += -u.ln() / lambda_per_s * 1e6;
            // Arrivals in whole ms, as the simulator's clock has them.
            let now = at((now_us / 1000.0) as u64);
            match station.offer_always_open(now, service.sample_ms(&mut r), None) {
                Admission::Served { start, .. } if i >= warmup => {
                    total_ms += u128::from(start.ms_since(now));
                    counted += 1;
                }
                Admission::Served { .. } => {}
                other => panic!("an unbounded station refused: {other:?}"),
            }
        }
        total_ms as f64 / counted as f64 / 1000.0
    }

    #[test]
    fn erlang_c_formula_matches_known_values() {
        // c = 1: P(wait) = rho.
        assert!((theory::erlang_c(1, 0.8) - 0.8).abs() < 1e-12);
        // A table value: c = 4, a = 3.2 erlangs gives P(wait) = 0.5964.
        assert!((theory::erlang_c(4, 3.2) - 0.5964).abs() < 5e-4);
        // M/M/1: W_q = rho / (mu - lambda).
        let w = theory::mmc_wait(1, 0.8, 1.0);
        assert!((w - 4.0).abs() < 1e-9, "{w}");
        assert!((theory::md1_wait(0.8, 1.0) - 2.0).abs() < 1e-9);
    }

    #[test]
    fn mmc_mean_wait_is_erlang_c() {
        // rho = 0.8, c = 4: lambda = 0.8 * 4 / 10 s.
        let (c, service_s) = (4, 10.0);
        let lambda = 0.8 * f64::from(c) / service_s;
        let measured = mean_wait_s(c, lambda, &Latency::exponential(10_000), 1_000_000, 1);
        let expected = theory::mmc_wait(c, lambda, service_s);
        let error = (measured - expected).abs() / expected;
        assert!(error < 0.03, "M/M/4: {measured} s against {expected} s");
    }

    #[test]
    fn mm1_and_md1_mean_waits_are_the_textbooks() {
        let lambda = 0.7 / 10.0;
        let mm1 = mean_wait_s(1, lambda, &Latency::exponential(10_000), 1_000_000, 2);
        let expected = theory::mmc_wait(1, lambda, 10.0);
        assert!(
            (mm1 - expected).abs() / expected < 0.03,
            "M/M/1 {mm1} {expected}"
        );
        let md1 = mean_wait_s(1, lambda, &Latency::fixed(10_000), 1_000_000, 3);
        let expected = theory::md1_wait(lambda, 10.0);
        assert!(
            (md1 - expected).abs() / expected < 0.03,
            "M/D/1 {md1} {expected}"
        );
    }

    #[test]
    fn a_burst_is_served_in_waves_and_the_rest_refused() {
        // 10 servers, 50 waiting places, 1 s of service; 100 requests at once.
        let mut station = Station::new(Capacity {
            servers: 10,
            queue: Some(50),
            rate: None,
        });
        let mut waves = std::collections::BTreeMap::<u64, u32>::new();
        let mut refused = 0;
        for _ in 0..100 {
            match station.offer_always_open(at(0), 1_000, None) {
                Admission::Served { start, done } => {
                    assert_eq!(done.ms_since(start), 1_000);
                    *waves.entry(done.as_millis()).or_default() += 1;
                }
                Admission::Refused {
                    reason: Refusal::QueueFull,
                    retry_after_ms,
                } => {
                    assert_eq!(retry_after_ms, 1_000, "the first waiting one starts at 1 s");
                    refused += 1;
                }
                other => panic!("{other:?}"),
            }
        }
        let expected: std::collections::BTreeMap<u64, u32> =
            (1..=6).map(|k| (k * 1_000, 10)).collect();
        assert_eq!(waves, expected);
        assert_eq!(refused, 40);
        assert_eq!(
            station.occupancy(at(0)),
            Occupancy {
                in_service: 10,
                queued: 50
            }
        );
        assert_eq!(
            station.occupancy(at(2_500)),
            Occupancy {
                in_service: 10,
                queued: 30
            }
        );
        assert_eq!(station.occupancy(at(6_000)), Occupancy::default());
    }

    #[test]
    fn no_queue_refuses_when_every_server_is_busy() {
        let mut station = Station::new(Capacity {
            servers: 2,
            queue: Some(0),
            rate: None,
        });
        assert!(matches!(
            station.offer_always_open(at(0), 500, None),
            Admission::Served { .. }
        ));
        assert!(matches!(
            station.offer_always_open(at(10), 500, None),
            Admission::Served { .. }
        ));
        assert_eq!(
            station.offer_always_open(at(20), 500, None),
            Admission::Refused {
                reason: Refusal::QueueFull,
                retry_after_ms: 480
            }
        );
        // Once a server is free the next one is served at once.
        assert_eq!(
            station.offer_always_open(at(500), 500, None),
            Admission::Served {
                start: at(500),
                done: at(1_000)
            }
        );
    }

    #[test]
    fn a_quota_accepts_its_rate_and_refuses_the_rest() {
        let mut station = Station::new(Capacity {
            servers: 1_000,
            queue: None,
            rate: Some(20.0),
        });
        // 100 requests a second for 10 s: the bucket's 20 at the start, then 20 a second.
        let mut accepted = 0;
        let mut quota = 0;
        for i in 0..1_000u64 {
            match station.offer_always_open(at(i * 10), 0, None) {
                Admission::Served { .. } => accepted += 1,
                Admission::Refused {
                    reason: Refusal::Quota,
                    retry_after_ms,
                } => {
                    assert!((1..=50).contains(&retry_after_ms), "{retry_after_ms}");
                    quota += 1;
                }
                other => panic!("{other:?}"),
            }
        }
        assert!((215..=221).contains(&accepted), "{accepted}");
        assert_eq!(accepted + quota, 1_000);
    }

    #[test]
    fn impatient_requests_give_up_and_free_their_place() {
        let mut station = Station::new(Capacity {
            servers: 1,
            queue: Some(1),
            rate: None,
        });
        let serve = |s: &mut Station, t, patience| s.offer_always_open(at(t), 1_000, patience);
        assert!(matches!(
            serve(&mut station, 0, None),
            Admission::Served { .. }
        ));
        // Would start at 1 s; waits at most 300 ms.
        assert_eq!(
            serve(&mut station, 100, Some(300)),
            Admission::GivesUp { at: at(400) }
        );
        // Its place is taken until it leaves.
        assert!(matches!(
            serve(&mut station, 200, None),
            Admission::Refused {
                reason: Refusal::QueueFull,
                retry_after_ms: 200
            }
        ));
        // Once it left, the next one queues and is served when the server frees: the one who
        // gave up never took the server.
        assert_eq!(
            serve(&mut station, 450, None),
            Admission::Served {
                start: at(1_000),
                done: at(2_000)
            }
        );
    }

    #[test]
    fn a_closed_agency_carries_its_queue_to_the_opening() {
        // Open in the first 8 hours of every 24 (toy hours).
        let day = 24 * MS_PER_HOUR;
        let opening = |t: SimTime| {
            let ms = t.as_millis();
            if ms % day < 8 * MS_PER_HOUR {
                t
            } else {
                at((ms / day + 1) * day)
            }
        };
        let mut station = Station::new(Capacity::servers(1));
        let hour = MS_PER_HOUR;
        let mut starts = Vec::new();
        for _ in 0..10 {
            match station.offer(at(6 * hour), hour, None, opening) {
                Admission::Served { start, .. } => starts.push(start.as_millis() / hour),
                other => panic!("{other:?}"),
            }
        }
        // Two served before closing, the rest from the next morning.
        assert_eq!(starts, vec![6, 7, 24, 25, 26, 27, 28, 29, 30, 31]);
    }

    #[test]
    fn capacity_reads_from_toml_and_checks_its_values() {
        let c: Capacity = toml::from_str("servers = 4\nqueue = 0\nrate = 2.5").unwrap();
        assert_eq!(
            c,
            Capacity {
                servers: 4,
                queue: Some(0),
                rate: Some(2.5)
            }
        );
        assert!(c.check().is_ok());
        assert!(toml::from_str::<Capacity>("queue = 3").is_err());
        assert!(toml::from_str::<Capacity>("servers = 1\nserver = 2").is_err());
        assert!(Capacity::servers(0).check().is_err());
        let no_rate = Capacity {
            rate: Some(0.0),
            ..Capacity::servers(1)
        };
        assert!(no_rate.check().is_err());
    }
}
