//! `GET /metrics` in the Prometheus text format (with `prometheus-client`, the Prometheus
//! project's own Rust client): requests by route, method and status; latency histograms by
//! route; accounts by tier, verifications pending, registry store sizes, effects performed and
//! the performer's queue, the last group read from the registry at each scrape; and each mock's
//! capacity at work (`esia_mock_in_service`, `esia_mock_queued` for a mock with a capacity,
//! `esia_mock_refused_total{agency, reason}` for every mock), read from its stations at each
//! scrape; and how long each batch of housekeeping held the registry's lock.

use esia_mocks::service::station::StationLoad;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::time::Duration;

// Labels of every request: static strings, so counting a request allocates nothing.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: &'static str,
}

/// A method's index in [`METHODS`]; the rare non-standard method is `OTHER`.
fn method_index(m: &axum::http::Method) -> usize {
    use axum::http::Method;
    match *m {
        Method::GET => 0,
        Method::POST => 1,
        Method::PUT => 2,
        Method::DELETE => 3,
        Method::HEAD => 4,
        Method::OPTIONS => 5,
        Method::PATCH => 6,
        _ => 7,
    }
}

/// The methods a request's series are kept apart for, in [`method_index`]'s order (a label set
/// must stay small: any other method is `OTHER`).
const METHODS: [&str; 8] = [
    "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "OTHER",
];

/// `template`, kept for the process's life and once however many stands it runs: the
/// router's routes are a fixed, small set (a template, not a path, so a client cannot grow it).
fn interned(template: &str) -> &'static str {
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock};
    static TEMPLATES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut seen = TEMPLATES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(t) = seen.get(template) {
        return t;
    }
    let leaked: &'static str = Box::leak(template.to_owned().into_boxed_str());
    seen.insert(leaked);
    leaked
}

/// One route's series, found by its template once and then kept: counting a request looks the
/// template up in a small table instead of hashing three label sets (prometheus-client's
/// families hash with SipHash under a lock; the three lookups were about 1,400 of the SMS
/// mock's 36,500 instructions a request).
#[derive(Debug)]
struct RouteSeries {
    /// The template ([`interned`]).
    route: &'static str,
    /// The latency histogram of each method ([`METHODS`]), made when first used.
    latency: [std::sync::OnceLock<Histogram>; METHODS.len()],
    /// The request counters made so far: method (index into [`METHODS`]), status, counter.
    counts: std::sync::RwLock<Vec<(u8, u16, Counter)>>,
}

/// A hasher for route templates: a few dozen bytes of the router's own, not a client's (a
/// path is never a key), so no defence against chosen collisions is needed.
#[derive(Default)]
struct TemplateHasher(u64);

impl std::hash::Hasher for TemplateHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type RouteTable = std::collections::HashMap<
    &'static str,
    std::sync::Arc<RouteSeries>,
    std::hash::BuildHasherDefault<TemplateHasher>,
>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TierLabels {
    tier: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StoreLabels {
    store: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AgencyLabels {
    agency: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RefusedLabels {
    agency: &'static str,
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EffectLabels {
    kind: String,
    outcome: String,
}

/// The stand's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    accounts: Family<TierLabels, Gauge>,
    verifications_pending: Gauge,
    store_entries: Family<StoreLabels, Gauge>,
    effects: Family<EffectLabels, Counter>,
    effects_queued: Gauge,
    requests_waiting: Gauge,
    effects_deferred: Gauge,
    mock_in_service: Family<AgencyLabels, Gauge>,
    mock_queued: Family<AgencyLabels, Gauge>,
    mock_refused: Family<RefusedLabels, Counter>,
    housekeeping_hold: Histogram,
    housekeeping_hold_cpu: Histogram,
    /// Each route's request series, by template.
    routes: std::sync::RwLock<RouteTable>,
    /// One scrape at a time: the mocks' refusal counts are caught up by difference.
    scrape: std::sync::Mutex<()>,
}

/// Latency buckets, in seconds: 0.5 ms to 10 s.
const LATENCY_BUCKETS_S: [f64; 14] = [
    0.000_5, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0,
];

/// Buckets of housekeeping's hold of the registry's lock, in seconds: 10 µs to 10 ms.
const HOLD_BUCKETS_S: [f64; 9] = [
    0.000_01, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002, 0.005, 0.01,
];

/// What a scrape reads from the registry and the performer.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// Accounts by tier name.
    pub accounts: Vec<(&'static str, i64)>,
    pub verifications_pending: i64,
    /// Entries by store name.
    pub stores: Vec<(&'static str, i64)>,
    pub effects_queued: i64,
    pub requests_waiting: i64,
    /// Effects an agency refused for its capacity, waiting to be tried again.
    pub effects_deferred: i64,
    /// Each mock's stations (empty when the stand serves no mocks).
    pub mocks: Vec<StationLoad>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Every metric, registered.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("esia");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route, method and status",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(LATENCY_BUCKETS_S)
        });
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by route and method",
            latency.clone(),
        );
        let accounts = Family::<TierLabels, Gauge>::default();
        registry.register("accounts", "Accounts by tier", accounts.clone());
        let verifications_pending = Gauge::default();
        registry.register(
            "verifications_pending",
            "Accounts whose personal data PFR and FMS are verifying",
            verifications_pending.clone(),
        );
        let store_entries = Family::<StoreLabels, Gauge>::default();
        registry.register(
            "store_entries",
            "Entries in each of the registry's capped stores",
            store_entries.clone(),
        );
        let effects = Family::<EffectLabels, Counter>::default();
        registry.register(
            "effects",
            "Effects performed against the agencies, by kind and outcome (ok, failed, deferred: refused for the agency's capacity, to be tried again)",
            effects.clone(),
        );
        let effects_queued = Gauge::default();
        registry.register(
            "effects_queued",
            "Effects waiting in the performer's queue",
            effects_queued.clone(),
        );
        let requests_waiting = Gauge::default();
        registry.register(
            "agency_requests_waiting",
            "PFR and FMS requests acknowledged and waiting for their answer",
            requests_waiting.clone(),
        );
        let effects_deferred = Gauge::default();
        registry.register(
            "effects_deferred",
            "Effects an agency refused for its capacity (429, SMEV's quota), to be tried again",
            effects_deferred.clone(),
        );
        let mock_in_service = Family::<AgencyLabels, Gauge>::default();
        registry.register(
            "mock_in_service",
            "Requests a mock with a capacity is serving now, by agency",
            mock_in_service.clone(),
        );
        let mock_queued = Family::<AgencyLabels, Gauge>::default();
        registry.register(
            "mock_queued",
            "Requests waiting for a server of a mock with a capacity, by agency",
            mock_queued.clone(),
        );
        let mock_refused = Family::<RefusedLabels, Counter>::default();
        registry.register(
            "mock_refused",
            "Requests a mock refused for its capacity, by agency and reason (queue_full, quota)",
            mock_refused.clone(),
        );
        let housekeeping_hold = Histogram::new(HOLD_BUCKETS_S);
        registry.register(
            "housekeeping_lock_hold_seconds",
            "Time housekeeping held the registry's lock, one observation per batch of expiries",
            housekeeping_hold.clone(),
        );
        let housekeeping_hold_cpu = Histogram::new(HOLD_BUCKETS_S);
        registry.register(
            "housekeeping_lock_hold_cpu_seconds",
            "CPU time housekeeping's thread used while it held the registry's lock, per batch \
             (the hold's wall time less the time the thread spent off its core)",
            housekeeping_hold_cpu.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            accounts,
            verifications_pending,
            store_entries,
            effects,
            effects_queued,
            requests_waiting,
            effects_deferred,
            mock_in_service,
            mock_queued,
            mock_refused,
            housekeeping_hold,
            housekeeping_hold_cpu,
            routes: Default::default(),
            scrape: std::sync::Mutex::new(()),
        }
    }

    /// One batch of housekeeping held the registry's lock for `seconds` of wall time, of which
    /// its thread ran `cpu_seconds` (where the platform tells it).
    pub fn housekeeping_hold(&self, seconds: f64, cpu_seconds: Option<f64>) {
        self.housekeeping_hold.observe(seconds);
        if let Some(cpu) = cpu_seconds {
            self.housekeeping_hold_cpu.observe(cpu);
        }
    }

    /// Counts an effect performed (`ok`) or not.
    pub fn effect(&self, kind: &str, ok: bool) {
        self.effects(kind, ok, 1);
    }

    /// `n` effects of `kind` performed together (a batch of SMS).
    pub fn effects(&self, kind: &str, ok: bool, n: u64) {
        self.effects_outcome(kind, if ok { "ok" } else { "failed" }, n);
    }

    /// `n` effects of `kind` an agency refused for its capacity, set aside to be tried again
    /// (outcome `deferred`: each refusal counts once).
    pub fn deferred(&self, kind: &str, n: u64) {
        self.effects_outcome(kind, "deferred", n);
    }

    fn effects_outcome(&self, kind: &str, outcome: &str, n: u64) {
        if n == 0 {
            return;
        }
        self.effects
            .get_or_create(&EffectLabels {
                kind: kind.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc_by(n);
    }

    /// The text exposition, with the gauges set from `snapshot`.
    pub fn encode(&self, snapshot: &Snapshot) -> String {
        let _one = self.scrape.lock().unwrap_or_else(|e| e.into_inner());
        for (tier, n) in &snapshot.accounts {
            self.accounts
                .get_or_create(&TierLabels {
                    tier: (*tier).to_owned(),
                })
                .set(*n);
        }
        self.verifications_pending
            .set(snapshot.verifications_pending);
        for (store, n) in &snapshot.stores {
            self.store_entries
                .get_or_create(&StoreLabels {
                    store: (*store).to_owned(),
                })
                .set(*n);
        }
        self.effects_queued.set(snapshot.effects_queued);
        self.requests_waiting.set(snapshot.requests_waiting);
        self.effects_deferred.set(snapshot.effects_deferred);
        for load in &snapshot.mocks {
            let agency = AgencyLabels {
                agency: load.agency,
            };
            if load.limited {
                self.mock_in_service
                    .get_or_create(&agency)
                    .set(load.in_service as i64);
                self.mock_queued
                    .get_or_create(&agency)
                    .set(load.queued as i64);
            } else {
                self.mock_in_service.remove(&agency);
                self.mock_queued.remove(&agency);
            }
            for (reason, total) in [
                ("queue_full", load.refused_queue_full),
                ("quota", load.refused_quota),
            ] {
                // The mocks count since their start; the counter catches up.
                let counter = self.mock_refused.get_or_create(&RefusedLabels {
                    agency: load.agency,
                    reason,
                });
                counter.inc_by(total.saturating_sub(counter.get()));
            }
        }
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

/// Each request counted and timed, labelled by its route template (so ids in paths do not
/// multiply the series), told by the stand's one route layer ([`esia_mocks::service::Watch`]).
impl esia_mocks::service::Observe for Metrics {
    fn observe(
        &self,
        route: Option<&str>,
        method: &axum::http::Method,
        status: axum::http::StatusCode,
        took: Duration,
    ) {
        let series = self.route_series(route.unwrap_or("unmatched"));
        let m = method_index(method);
        let method_label = METHODS[m];
        series.latency[m]
            .get_or_init(|| {
                self.latency
                    .get_or_create(&RouteLabels {
                        method: method_label,
                        route: series.route,
                    })
                    .clone()
            })
            .observe(took.as_secs_f64());
        let status = status.as_u16();
        let m = m as u8;
        let read = |c: &[(u8, u16, Counter)]| {
            c.iter()
                .find(|(cm, cs, _)| *cm == m && *cs == status)
                .map(|(_, _, counter)| counter.inc())
        };
        let counts = &series.counts;
        if read(&counts.read().unwrap_or_else(|e| e.into_inner())).is_some() {
            return;
        }
        let mut w = counts.write().unwrap_or_else(|e| e.into_inner());
        if read(&w).is_none() {
            let counter = self
                .requests
                .get_or_create(&RequestLabels {
                    method: method_label,
                    route: series.route,
                    status,
                })
                .clone();
            counter.inc();
            w.push((m, status, counter));
        }
    }
}

impl Metrics {
    /// The series of the route `template`, made when first seen.
    fn route_series(&self, template: &str) -> std::sync::Arc<RouteSeries> {
        if let Some(s) = self
            .routes
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(template)
        {
            return s.clone();
        }
        let mut w = self.routes.write().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = w.get(template) {
            return s.clone();
        }
        let route = interned(template);
        let series = std::sync::Arc::new(RouteSeries {
            route,
            latency: Default::default(),
            counts: Default::default(),
        });
        w.insert(route, series.clone());
        series
    }
}

/// The CPU time the calling thread has used, where the platform tells it (Linux with glibc):
/// beside a wall time, it tells work from the time a thread spent off its core (another
/// process, or in a virtual machine the host, holding the core).
pub fn thread_cpu() -> Option<Duration> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let mut t = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `t` is a valid timespec for the call to fill.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
        let secs = u64::try_from(t.tv_sec).ok()?;
        let nanos = u32::try_from(t.tv_nsec).ok()?;
        (rc == 0).then(|| Duration::new(secs, nanos))
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{Method, StatusCode};
    use esia_mocks::service::Observe;

    fn line<'a>(text: &'a str, start: &str) -> Option<&'a str> {
        text.lines().find(|l| l.starts_with(start))
    }

    /// Each request is counted under its own route, method and status, and timed under its
    /// route and method, however many series the route already has.
    #[test]
    fn requests_are_counted_by_route_method_and_status() {
        let m = Metrics::new();
        let ms = Duration::from_millis(3);
        m.observe(Some("/a/{id}"), &Method::POST, StatusCode::CREATED, ms);
        m.observe(Some("/a/{id}"), &Method::POST, StatusCode::CREATED, ms);
        m.observe(
            Some("/a/{id}"),
            &Method::POST,
            StatusCode::UNPROCESSABLE_ENTITY,
            ms,
        );
        m.observe(Some("/a/{id}"), &Method::GET, StatusCode::CREATED, ms);
        m.observe(Some("/b"), &Method::POST, StatusCode::CREATED, ms);
        m.observe(
            None,
            &Method::from_bytes(b"BREW").unwrap(),
            StatusCode::NOT_FOUND,
            ms,
        );
        let text = m.encode(&Snapshot::default());
        let count = |labels: &str| {
            line(&text, &format!("esia_http_requests_total{{{labels}}} "))
                .and_then(|l| l.rsplit(' ').next())
                .map(str::to_owned)
        };
        assert_eq!(
            count(r#"method="POST",route="/a/{id}",status="201""#).as_deref(),
            Some("2")
        );
        assert_eq!(
            count(r#"method="POST",route="/a/{id}",status="422""#).as_deref(),
            Some("1")
        );
        assert_eq!(
            count(r#"method="GET",route="/a/{id}",status="201""#).as_deref(),
            Some("1")
        );
        assert_eq!(
            count(r#"method="POST",route="/b",status="201""#).as_deref(),
            Some("1")
        );
        assert_eq!(
            count(r#"method="OTHER",route="unmatched",status="404""#).as_deref(),
            Some("1")
        );
        assert_eq!(count(r#"method="GET",route="/b",status="201""#), None);
        let timed = line(
            &text,
            r#"esia_http_request_duration_seconds_count{method="POST",route="/a/{id}"} "#,
        );
        assert!(timed.is_some_and(|l| l.ends_with(" 3")), "{text}");
        let le5ms = line(
            &text,
            r#"esia_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/a/{id}"} "#,
        );
        assert!(le5ms.is_some_and(|l| l.ends_with(" 1")), "{text}");
    }
}
