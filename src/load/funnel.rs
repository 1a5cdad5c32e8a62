//! The load run's funnel: journeys by path (started, completed, failed, in progress at the end),
//! the tier each reached, failures by step and reason, and HDR latency histograms per step (each
//! request, and the whole step), per journey and per tier reached. Every part merges exactly, so
//! `esia-sim merge` folds the `funnel.json` of several shards into the figures one machine would
//! have measured: histograms are written bucket by bucket, not as percentiles.

use super::config::Thresholds;
use super::path::LoadPath;
use crate::registry::Tier;
use hdrhistogram::Histogram;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::sync::LazyLock;
use std::time::Duration;

/// The `format` of a `funnel.json` this code writes and reads.
pub const FORMAT: &str = "esia-sim load funnel 1";

/// The tier a journey held at its end as `funnel.json` names it: the engine's tier, or `none`
/// before the first; the keys of `tier_reached`.
pub mod held {
    use crate::registry::Tier;
    use serde::de::Error;
    use serde::{Deserialize, Deserializer, Serializer};
    use std::collections::BTreeMap;

    const NAMES: &[&str] = &["none", "simplified", "standard", "confirmed"];

    /// `none`, or the tier's wire name.
    pub fn name(tier: Option<Tier>) -> &'static str {
        tier.map_or("none", Tier::as_str)
    }

    pub fn serialize<S: Serializer>(
        counts: &BTreeMap<Option<Tier>, u64>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_map(counts.iter().map(|(t, n)| (name(*t), n)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<Option<Tier>, u64>, D::Error> {
        let mut counts = BTreeMap::new();
        for (key, n) in BTreeMap::<String, u64>::deserialize(d)? {
            let tier = match Tier::ALL.into_iter().find(|t| t.as_str() == key) {
                Some(t) => Some(t),
                None if key == "none" => None,
                None => return Err(D::Error::unknown_variant(&key, NAMES)),
            };
            counts.insert(tier, n);
        }
        Ok(counts)
    }
}

/// The largest latency a histogram holds: one hour, in microseconds (larger values count as
/// one hour).
const LATENCY_MAX_US: u64 = 3_600_000_000;

/// Adds `n` to a count. Counts come from files too (`merge` reads them): past `u64::MAX` they
/// saturate instead of overflowing.
pub(crate) fn tally(count: &mut u64, n: u64) {
    *count = count.saturating_add(n);
}

/// The bucket arithmetic of every latency histogram: hdrhistogram's, 1 µs to 1 h at 3
/// significant digits (23,552 buckets). Only its mapping of values to buckets is used (its
/// counts stay empty): a [`Latency`] holds the buckets that were recorded, not all of them.
static BUCKETS: LazyLock<Histogram<u64>> = LazyLock::new(|| {
    Histogram::new_with_bounds(1, LATENCY_MAX_US, 3).expect("constant, valid bounds")
});

/// A latency histogram in microseconds (1 µs to 1 h, 3 significant digits), with hdrhistogram's
/// buckets, summary and quantiles, held sparse: the counts of the buckets recorded, keyed by
/// the highest value of the bucket (what `funnel.json` writes). A dense hdrhistogram holds
/// 23,552 buckets (184 kB) and walks them all for a mean, a quantile, a merge, a comparison or
/// a write; a run records a few hundred distinct buckets a histogram, and most of a funnel's
/// histograms hold none (tiers not reached, start lags in the closed model, steps not run).
/// Every figure is the one hdrhistogram gives for the same records (a test compares them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Latency {
    /// Count by bucket (highest value of the bucket, µs); no zero count.
    buckets: BTreeMap<u64, u64>,
    /// The sum of the counts: within a u64 (see [`Latency::merge`]).
    count: u64,
}

impl Latency {
    /// Records one latency.
    pub fn record(&mut self, d: Duration) {
        self.record_us(u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
    }

    /// Records one latency in microseconds (0 counts as 1 µs).
    pub fn record_us(&mut self, us: u64) {
        self.record_n(us, 1);
    }

    /// Records `n` (more than 0) latencies of `us` microseconds, clamped to the histogram's
    /// range; counts saturate, as hdrhistogram's `saturating_record_n` does.
    fn record_n(&mut self, us: u64, n: u64) {
        let bucket = BUCKETS.highest_equivalent(us.clamp(1, LATENCY_MAX_US));
        let c = self.buckets.entry(bucket).or_default();
        *c = c.saturating_add(n);
        self.count = self.count.saturating_add(n);
    }

    /// Adds `other`'s counts: exact, as both share the same buckets. The counts of a histogram
    /// must sum within a u64 (a quantile adds them up); past it, as for the funnel's counts,
    /// the sum saturates: `other`'s buckets are added from the lowest while there is room.
    pub fn merge(&mut self, other: &Latency) {
        let fits = self.count.checked_add(other.count).is_some();
        for (&bucket, &n) in &other.buckets {
            let room = u64::MAX - self.count;
            if room == 0 {
                break;
            }
            self.record_n(bucket, if fits { n } else { n.min(room) });
        }
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// hdrhistogram's `value_at_quantile`: the highest value of the first bucket whose
    /// cumulative count reaches `ceil(q × count)` (at least 1; `q` capped at 1), the lowest
    /// value of that bucket for `q` = 0; 0 when empty.
    fn value_at_quantile(&self, q: f64) -> u64 {
        let q = if q > 1.0 { 1.0 } else { q };
        let target = ((q * self.count as f64).ceil() as u64).max(1);
        let mut below = 0u64;
        for (&bucket, &n) in &self.buckets {
            below = below.saturating_add(n);
            if below >= target {
                return if q == 0.0 {
                    BUCKETS.lowest_equivalent(bucket)
                } else {
                    bucket
                };
            }
        }
        0
    }

    /// The latency at quantile `q` (0 to 1) in milliseconds, 0 when empty.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        self.value_at_quantile(q) as f64 / 1_000.0
    }

    /// hdrhistogram's `max`: the highest value of the highest bucket recorded, 0 when empty.
    fn max_us(&self) -> u64 {
        self.buckets.last_key_value().map_or(0, |(&b, _)| b)
    }

    /// hdrhistogram's `min`: the lowest value of the lowest bucket recorded, 0 when empty.
    fn min_us(&self) -> u64 {
        self.buckets
            .first_key_value()
            .map_or(0, |(&b, _)| BUCKETS.lowest_equivalent(b))
    }

    pub fn max_ms(&self) -> f64 {
        self.max_us() as f64 / 1_000.0
    }

    pub fn min_ms(&self) -> f64 {
        self.min_us() as f64 / 1_000.0
    }

    /// hdrhistogram's `mean`: each bucket's middle value weighted by its count, summed from the
    /// lowest bucket in the same order of operations (so to the same bit), 0 when empty.
    pub fn mean_ms(&self) -> f64 {
        self.mean_us() / 1_000.0
    }

    fn mean_us(&self) -> f64 {
        let total = self.count as f64;
        self.buckets.iter().fold(0.0_f64, |sum, (&bucket, &n)| {
            sum + BUCKETS.median_equivalent(bucket) as f64 * n as f64 / total
        })
    }

    /// What `funnel.json` writes: the summary and the buckets (each figure a walk over the
    /// buckets recorded, a few hundred at most).
    fn wire(&self) -> LatencyWire {
        let ms = |us: u64| round3(us as f64 / 1_000.0);
        LatencyWire {
            count: self.count,
            min_ms: ms(self.min_us()),
            mean_ms: round3(self.mean_us() / 1_000.0),
            p50_ms: ms(self.value_at_quantile(0.5)),
            p90_ms: ms(self.value_at_quantile(0.9)),
            p95_ms: ms(self.value_at_quantile(0.95)),
            p99_ms: ms(self.value_at_quantile(0.99)),
            max_ms: ms(self.max_us()),
            hdr: self.buckets.iter().map(|(&b, &n)| [b, n]).collect(),
        }
    }
}

/// How a histogram is written: a summary for people and the buckets for merging.
#[derive(Serialize, Deserialize)]
struct LatencyWire {
    #[serde(default)]
    count: u64,
    #[serde(default)]
    min_ms: f64,
    #[serde(default)]
    mean_ms: f64,
    #[serde(default)]
    p50_ms: f64,
    #[serde(default)]
    p90_ms: f64,
    #[serde(default)]
    p95_ms: f64,
    #[serde(default)]
    p99_ms: f64,
    #[serde(default)]
    max_ms: f64,
    /// `[value_us, count]` per recorded bucket.
    hdr: Vec<[u64; 2]>,
}

fn round3(x: f64) -> f64 {
    (x * 1_000.0).round() / 1_000.0
}

impl Serialize for Latency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.wire().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Latency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // The summary is recomputed from the buckets.
        let wire = LatencyWire::deserialize(d)?;
        let mut h = Latency::default();
        for [value, count] in wire.hdr.into_iter().filter(|[_, count]| *count > 0) {
            if h.count.checked_add(count).is_none() {
                return Err(serde::de::Error::custom(
                    "a histogram whose counts sum past 18446744073709551615",
                ));
            }
            h.record_n(value, count);
        }
        Ok(h)
    }
}

/// One step of one path.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StepTally {
    /// The goose transaction's name.
    pub name: String,
    /// Times the step ran to an answer (steps cut short by the end of the run are not counted).
    pub attempts: u64,
    /// Of those, the ones that failed: an answer the script did not expect, a message that
    /// never came, a transport error.
    pub failed: u64,
    /// Failures by reason (`422 code_wrong`, `code_not_received`, ...).
    pub reasons: BTreeMap<String, u64>,
    /// Each request the step made to the system under test (whole response, body read).
    pub requests: Latency,
    /// The whole step, waiting for messages and agencies included.
    pub step: Latency,
}

/// Every journey of one path.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PathTally {
    pub started: u64,
    /// Walked to the last step as scripted.
    pub completed: u64,
    pub failed: u64,
    /// Still in progress when the run ended: neither completed nor failed.
    pub in_progress: u64,
    /// Model mix: journeys that stopped where the simulator's citizen left, by its exit
    /// reason (`code_not_received`, `gave_up_waiting`, ...); neither completed nor failed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub exits: BTreeMap<String, u64>,
    /// Journeys by the highest tier they held when they ended (`none` before the first).
    #[serde(with = "held")]
    pub tier_reached: BTreeMap<Option<Tier>, u64>,
    pub steps: Vec<StepTally>,
    /// Start to last step, completed journeys (from the scheduled start in the open model).
    pub journey: Latency,
    /// Start to holding each tier.
    pub time_to_tier: BTreeMap<Tier, Latency>,
    /// Open model: how late journeys started after their scheduled instant.
    pub start_lag: Latency,
}

/// How one journey ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    Completed,
    Failed,
    /// Cut short by the end of the run (or, in the model mix, by the scenario's horizon).
    InProgress,
    /// Model mix: stopped where the simulator's citizen left, for this reason.
    Exited(&'static str),
}

/// What the run says about itself, echoed in reports (one per shard after a merge).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    pub scenario: String,
    /// `in-process stand` or `remote`.
    pub target_kind: String,
    /// The base URL measured.
    pub target: String,
    /// Where the journeys read codes, links and letters.
    pub mocks: String,
    pub shard: String,
    /// The citizens of the population this run could take: `[first, end)`.
    pub citizens: [u64; 2],
    /// Citizens taken (fitting a path or skipped).
    pub citizens_taken: u64,
    pub seed: u64,
    /// `closed` or `open`.
    pub model: String,
    /// Where the paths' mix came from: `fixed` (`[load.paths]`) or `model` (the simulator's
    /// citizens); absent from files written before it existed.
    #[serde(default)]
    pub mix: String,
    /// Journeys a second in the open model.
    pub arrival_rate: f64,
    /// Goose users by path.
    pub users: BTreeMap<LoadPath, usize>,
    pub speedup: f64,
    pub hash_profile: String,
    /// UTC, RFC 3339.
    pub started_at: String,
    /// Wall seconds from the first journey to the last answer.
    pub duration_s: f64,
    /// The goose arguments given after `--`.
    pub goose_args: Vec<String>,
    /// Paths left out and other remarks.
    pub notes: Vec<String>,
}

/// The whole run (or several runs merged).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoadFunnel {
    pub format: String,
    pub runs: Vec<RunInfo>,
    pub thresholds: Thresholds,
    pub paths: BTreeMap<LoadPath, PathTally>,
    /// The run over time (absent from files written before it existed).
    #[serde(default)]
    pub timeline: super::timeline::Timeline,
}

impl LoadFunnel {
    /// An empty funnel for `paths`, with each path's steps named.
    pub fn new(paths: &[LoadPath], thresholds: Thresholds) -> Self {
        let paths = paths
            .iter()
            .map(|&p| {
                let steps = p
                    .plan()
                    .unwrap_or_default()
                    .iter()
                    .map(|s| StepTally {
                        name: s.name.to_owned(),
                        ..StepTally::default()
                    })
                    .collect();
                (
                    p,
                    PathTally {
                        steps,
                        ..PathTally::default()
                    },
                )
            })
            .collect();
        Self {
            format: FORMAT.to_owned(),
            runs: Vec::new(),
            thresholds,
            paths,
            timeline: Default::default(),
        }
    }

    fn path(&mut self, path: LoadPath) -> &mut PathTally {
        self.paths.entry(path).or_default()
    }

    /// A journey of `path` started, `lag` after its scheduled instant (open model).
    pub fn started(&mut self, path: LoadPath, lag: Option<Duration>) {
        let p = self.path(path);
        p.started += 1;
        if let Some(lag) = lag {
            p.start_lag.record(lag);
        }
    }

    /// Step `index` of `path` ran: its requests' latencies, its own, and its failure if any.
    pub fn step(
        &mut self,
        path: LoadPath,
        index: usize,
        requests_us: &[u64],
        elapsed: Duration,
        failure: Option<&str>,
    ) {
        let p = self.path(path);
        if p.steps.len() <= index {
            p.steps.resize_with(index + 1, StepTally::default);
        }
        let s = &mut p.steps[index];
        s.attempts += 1;
        for &us in requests_us {
            s.requests.record_us(us);
        }
        s.step.record(elapsed);
        if let Some(reason) = failure {
            s.failed += 1;
            *s.reasons.entry(reason.to_owned()).or_default() += 1;
        }
    }

    /// A journey ended: how, the highest tier it held, when it reached each tier and, when it
    /// completed, its whole time.
    pub fn ended(
        &mut self,
        path: LoadPath,
        ending: Ending,
        tier: Option<Tier>,
        tiers: &[(Tier, Duration)],
        total: Duration,
    ) {
        let p = self.path(path);
        match ending {
            Ending::Completed => {
                p.completed += 1;
                p.journey.record(total);
            }
            Ending::Failed => p.failed += 1,
            Ending::InProgress => p.in_progress += 1,
            Ending::Exited(reason) => *p.exits.entry(reason.to_owned()).or_default() += 1,
        }
        *p.tier_reached.entry(tier).or_default() += 1;
        for &(t, d) in tiers {
            p.time_to_tier.entry(t).or_default().record(d);
        }
    }

    /// Adds `other` (another shard or run): counts add, histograms merge, runs are listed.
    pub fn merge(&mut self, other: &LoadFunnel) {
        self.runs.extend(other.runs.iter().cloned());
        self.timeline.merge(&other.timeline);
        for (path, o) in &other.paths {
            let p = self.path(*path);
            tally(&mut p.started, o.started);
            tally(&mut p.completed, o.completed);
            tally(&mut p.failed, o.failed);
            tally(&mut p.in_progress, o.in_progress);
            for (reason, n) in &o.exits {
                tally(p.exits.entry(reason.clone()).or_default(), *n);
            }
            for (t, n) in &o.tier_reached {
                tally(p.tier_reached.entry(*t).or_default(), *n);
            }
            for os in &o.steps {
                let s = match p.steps.iter_mut().position(|s| s.name == os.name) {
                    Some(i) => &mut p.steps[i],
                    None => {
                        p.steps.push(StepTally {
                            name: os.name.clone(),
                            ..StepTally::default()
                        });
                        p.steps.last_mut().expect("just pushed")
                    }
                };
                tally(&mut s.attempts, os.attempts);
                tally(&mut s.failed, os.failed);
                for (r, n) in &os.reasons {
                    tally(s.reasons.entry(r.clone()).or_default(), *n);
                }
                s.requests.merge(&os.requests);
                s.step.merge(&os.step);
            }
            p.journey.merge(&o.journey);
            for (t, h) in &o.time_to_tier {
                p.time_to_tier.entry(*t).or_default().merge(h);
            }
            p.start_lag.merge(&o.start_lag);
        }
    }

    /// The figures over every path.
    pub fn totals(&self) -> Totals {
        let mut t = Totals::default();
        for p in self.paths.values() {
            tally(&mut t.started, p.started);
            tally(&mut t.completed, p.completed);
            tally(&mut t.failed, p.failed);
            tally(&mut t.in_progress, p.in_progress);
            for (tier, n) in &p.tier_reached {
                tally(t.tier_reached.entry(*tier).or_default(), *n);
            }
            for s in &p.steps {
                tally(&mut t.steps, s.attempts);
                tally(&mut t.steps_failed, s.failed);
                t.requests.merge(&s.requests);
            }
        }
        // Shards run side by side: the run lasts as long as its longest shard.
        t.duration_s = self.runs.iter().map(|r| r.duration_s).fold(0.0, f64::max);
        t.error_rate = if t.steps == 0 {
            0.0
        } else {
            t.steps_failed as f64 / t.steps as f64
        };
        t.journeys_per_s = if t.duration_s > 0.0 {
            t.completed as f64 / t.duration_s
        } else {
            0.0
        };
        t.requests_per_s = if t.duration_s > 0.0 {
            t.requests.count() as f64 / t.duration_s
        } else {
            0.0
        };
        t
    }

    /// Judges the thresholds on these figures.
    pub fn judge(&self) -> Vec<Verdict> {
        let th = &self.thresholds;
        let totals = self.totals();
        let mut out = vec![Verdict {
            rule: format!("error rate <= {}%", round3(th.error_rate * 100.0)),
            observed: format!("{}%", round3(totals.error_rate * 100.0)),
            pass: totals.error_rate <= th.error_rate,
        }];
        let limit_of = |step: &str| {
            th.request_p95_by_step
                .get(step)
                .map_or(th.request_p95, |d| d.0) as f64
        };
        let mut worst: Option<(f64, f64, LoadPath, &str)> = None;
        for (path, p) in &self.paths {
            for s in &p.steps {
                if s.requests.count() == 0 {
                    continue;
                }
                let limit_ms = limit_of(&s.name);
                let p95 = s.requests.quantile_ms(0.95);
                if p95 > limit_ms {
                    out.push(Verdict {
                        rule: format!("p95 of requests <= {limit_ms} ms for {path} / {}", s.name),
                        observed: format!("{} ms", round3(p95)),
                        pass: false,
                    });
                }
                if worst.is_none_or(|(w, l, ..)| p95 / limit_ms > w / l) {
                    worst = Some((p95, limit_ms, *path, &s.name));
                }
            }
        }
        if let Some((p95, limit_ms, path, name)) = worst {
            if p95 <= limit_ms {
                let exceptions: Vec<String> = th
                    .request_p95_by_step
                    .iter()
                    .map(|(k, v)| format!("{k} {} ms", v.0))
                    .collect();
                let rule = if exceptions.is_empty() {
                    format!("p95 of requests <= {} ms for every step", th.request_p95)
                } else {
                    format!(
                        "p95 of requests <= {} ms for every step ({})",
                        th.request_p95,
                        exceptions.join(", ")
                    )
                };
                out.push(Verdict {
                    rule,
                    observed: format!("closest {} ms ({path} / {name})", round3(p95)),
                    pass: true,
                });
            }
        }
        if let Some(limit) = th.journey_p95 {
            let limit_ms = limit.0 as f64;
            for (path, p) in &self.paths {
                if p.journey.count() == 0 {
                    continue;
                }
                let p95 = p.journey.quantile_ms(0.95);
                out.push(Verdict {
                    rule: format!("p95 of whole journeys <= {limit_ms} ms for {path}"),
                    observed: format!("{} ms", round3(p95)),
                    pass: p95 <= limit_ms,
                });
            }
        }
        out
    }
}

/// Figures over every path of a funnel.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Totals {
    pub started: u64,
    pub completed: u64,
    pub failed: u64,
    pub in_progress: u64,
    #[serde(with = "held")]
    pub tier_reached: BTreeMap<Option<Tier>, u64>,
    pub steps: u64,
    pub steps_failed: u64,
    /// Failed steps over steps run.
    pub error_rate: f64,
    pub duration_s: f64,
    pub journeys_per_s: f64,
    pub requests_per_s: f64,
    /// Every request to the system under test.
    pub requests: Latency,
}

/// One threshold's judgement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub rule: String,
    pub observed: String,
    pub pass: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `tier_reached` as funnel.json has always written it: `none` first, then the tiers.
    #[test]
    fn tiers_held_read_and_write_with_none() {
        #[derive(Serialize, Deserialize)]
        struct Held(#[serde(with = "held")] BTreeMap<Option<Tier>, u64>);
        let old = r#"{"none":2,"simplified":5,"standard":3,"confirmed":1}"#;
        let read: Held = serde_json::from_str(old).unwrap();
        assert_eq!(read.0[&None], 2);
        assert_eq!(read.0[&Some(Tier::Confirmed)], 1);
        assert_eq!(serde_json::to_string(&read).unwrap(), old);
        let wrong = serde_json::from_str::<Held>(r#"{"gold":1}"#).err().unwrap();
        assert!(
            wrong.to_string().contains("unknown variant `gold`"),
            "{wrong}"
        );
    }

    fn sample(seed: u64, n: u64) -> Vec<u64> {
        // A spread of latencies from 50 µs to a few seconds, deterministic.
        let mut x = seed;
        (0..n)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                50 + (x >> 33) % 3_000_000 / (1 + (x >> 60))
            })
            .collect()
    }

    /// hdrhistogram's own histogram of `values`, recorded as `Latency` records them.
    fn dense(values: &[u64]) -> Histogram<u64> {
        let mut h = Histogram::new_with_bounds(1, LATENCY_MAX_US, 3).unwrap();
        for &v in values {
            h.saturating_record(v.clamp(1, LATENCY_MAX_US));
        }
        h
    }

    /// What `funnel.json` held for `h` when a `Latency` was a dense hdrhistogram: its own
    /// `len`, `min`, `mean`, `value_at_quantile`, `max` and `iter_recorded`.
    fn dense_wire(h: &Histogram<u64>) -> String {
        let ms = |us: u64| round3(us as f64 / 1_000.0);
        let empty = h.is_empty();
        let q = |q: f64| {
            if empty {
                0.0
            } else {
                ms(h.value_at_quantile(q))
            }
        };
        serde_json::to_string(&LatencyWire {
            count: h.len(),
            min_ms: if empty { 0.0 } else { ms(h.min()) },
            mean_ms: if empty {
                0.0
            } else {
                round3(h.mean() / 1_000.0)
            },
            p50_ms: q(0.5),
            p90_ms: q(0.9),
            p95_ms: q(0.95),
            p99_ms: q(0.99),
            max_ms: if empty { 0.0 } else { ms(h.max()) },
            hdr: h
                .iter_recorded()
                .map(|v| [v.value_iterated_to(), v.count_at_value()])
                .collect(),
        })
        .unwrap()
    }

    /// Every figure of a `Latency` is hdrhistogram's for the same records, to the bit: the
    /// quantiles (edge ones too), the mean, the extremes, the buckets, what `funnel.json`
    /// holds, and after a merge.
    fn assert_figures_are_hdrhistograms(l: &Latency, h: &Histogram<u64>) {
        let quantiles = [
            0.0,
            -0.0,
            -0.5,
            f64::NAN,
            1e-12,
            0.001,
            0.25,
            0.5,
            0.9,
            0.95,
            0.99,
            0.999,
            0.999_999,
            1.0 - f64::EPSILON,
            1.0,
            1.5,
        ];
        assert_eq!(l.count(), h.len());
        if !h.is_empty() {
            for q in quantiles {
                assert_eq!(l.value_at_quantile(q), h.value_at_quantile(q), "q {q}");
            }
            assert_eq!(l.min_us(), h.min());
            assert_eq!(l.max_us(), h.max());
            assert_eq!(l.mean_us().to_bits(), h.mean().to_bits());
        }
        let recorded: Vec<(u64, u64)> = h
            .iter_recorded()
            .map(|v| (v.value_iterated_to(), v.count_at_value()))
            .collect();
        let buckets: Vec<(u64, u64)> = l.buckets.iter().map(|(&b, &n)| (b, n)).collect();
        assert_eq!(buckets, recorded);
        let written = serde_json::to_string(l).unwrap();
        assert_eq!(written, dense_wire(h));
        let read: Latency = serde_json::from_str(&written).unwrap();
        assert_eq!(&read, l);
    }

    #[test]
    fn figures_are_hdrhistograms() {
        let mut sets: Vec<Vec<u64>> = vec![
            vec![],
            vec![0],
            vec![1],
            vec![1_234],
            vec![2_047, 2_048, 2_049],
            vec![LATENCY_MAX_US],
            vec![u64::MAX],
            vec![7_777; 1_000],
            vec![1, LATENCY_MAX_US, 5, 5, 5, u64::MAX, 0],
        ];
        for seed in 0..24 {
            sets.push(sample(seed, 1 + seed * seed * 40));
        }
        // Wide ranges: every magnitude of the histogram, past its top too.
        let mut x = 99u64;
        for n in [3u64, 30, 3_000] {
            sets.push(
                (0..n)
                    .map(|_| {
                        x = x
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        (x >> 32) >> (x % 33)
                    })
                    .collect(),
            );
        }
        for values in &sets {
            let mut l = Latency::default();
            values.iter().for_each(|&v| l.record_us(v));
            assert_figures_are_hdrhistograms(&l, &dense(values));
        }
        for pair in sets.windows(2) {
            let (mut l, mut h) = (Latency::default(), dense(&pair[0]));
            pair[0].iter().for_each(|&v| l.record_us(v));
            let mut other = Latency::default();
            pair[1].iter().for_each(|&v| other.record_us(v));
            l.merge(&other);
            h.add(dense(&pair[1])).unwrap();
            assert_figures_are_hdrhistograms(&l, &h);
        }
        let mut d = Latency::default();
        d.record(Duration::from_micros(1_500));
        d.record(Duration::MAX);
        assert_figures_are_hdrhistograms(&d, &dense(&[1_500, u64::MAX]));
    }

    #[test]
    fn histograms_survive_json_and_merge_exactly() {
        let (a, b) = (sample(1, 20_000), sample(2, 7_000));
        let mut ha = Latency::default();
        a.iter().for_each(|&v| ha.record_us(v));
        let mut hb = Latency::default();
        b.iter().for_each(|&v| hb.record_us(v));
        let mut whole = Latency::default();
        a.iter().chain(&b).for_each(|&v| whole.record_us(v));

        // Through JSON, as `esia-sim merge` reads shards.
        let ja: Latency = serde_json::from_str(&serde_json::to_string(&ha).unwrap()).unwrap();
        let jb: Latency = serde_json::from_str(&serde_json::to_string(&hb).unwrap()).unwrap();
        assert_eq!(ja, ha);
        let mut merged = ja.clone();
        merged.merge(&jb);
        assert_eq!(merged, whole);
        for q in [0.0, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0] {
            assert_eq!(merged.quantile_ms(q), whole.quantile_ms(q), "q{q}");
        }
        assert_eq!(merged.max_ms(), whole.max_ms());
        assert_eq!(merged.count(), 27_000);
        assert_eq!(
            serde_json::to_string(&merged).unwrap(),
            serde_json::to_string(&whole).unwrap()
        );
    }

    #[test]
    fn funnels_of_shards_fold_into_the_whole() {
        let paths = [LoadPath::SimplifiedPhone, LoadPath::Standard];
        let mut shard = [
            LoadFunnel::new(&paths, Thresholds::default()),
            LoadFunnel::new(&paths, Thresholds::default()),
        ];
        let mut whole = LoadFunnel::new(&paths, Thresholds::default());
        for (i, v) in sample(3, 400).into_iter().enumerate() {
            let path = paths[i % 2];
            let failure = (i % 37 == 0).then_some("422 code_wrong");
            let [first, second] = &mut shard;
            let part = if i < 200 { first } else { second };
            for f in [part, &mut whole] {
                f.started(path, None);
                f.step(path, 1, &[v, v / 2], Duration::from_micros(v * 3), failure);
                let ending = if failure.is_some() {
                    Ending::Failed
                } else {
                    Ending::Completed
                };
                f.ended(
                    path,
                    ending,
                    Some(Tier::Simplified),
                    &[(Tier::Simplified, Duration::from_micros(v))],
                    Duration::from_micros(v * 4),
                );
            }
        }
        let json = |f: &LoadFunnel| serde_json::to_string(f).unwrap();
        let a: LoadFunnel = serde_json::from_str(&json(&shard[0])).unwrap();
        let b: LoadFunnel = serde_json::from_str(&json(&shard[1])).unwrap();
        let mut merged = LoadFunnel::new(&[], Thresholds::default());
        merged.merge(&a);
        merged.merge(&b);
        assert_eq!(json(&merged), json(&whole));
        let t = merged.totals();
        assert_eq!(t.started, 400);
        assert_eq!(t.failed, 11);
        assert_eq!(t.steps_failed, 11);
        assert_eq!(
            merged.paths[&LoadPath::Standard].steps[1].name,
            "02 confirm code"
        );
    }

    #[test]
    fn thresholds_fail_on_errors_and_slow_steps() {
        let mut f = LoadFunnel::new(&[LoadPath::SimplifiedPhone], Thresholds::default());
        for i in 0..200 {
            let failure = (i < 3).then_some("timeout");
            f.step(
                LoadPath::SimplifiedPhone,
                0,
                &[1_000],
                Duration::from_millis(1),
                failure,
            );
        }
        let v = f.judge();
        assert!(!v[0].pass, "{v:?}");
        assert!(v[1..].iter().all(|v| v.pass), "{v:?}");
        let mut f = LoadFunnel::new(&[LoadPath::SimplifiedPhone], Thresholds::default());
        for _ in 0..100 {
            f.step(
                LoadPath::SimplifiedPhone,
                2,
                &[900_000],
                Duration::from_secs(1),
                None,
            );
        }
        let v = f.judge();
        assert!(v[0].pass);
        assert!(
            v.iter()
                .any(|v| !v.pass && v.rule.contains("03 set password")),
            "{v:?}"
        );
    }

    /// Counts read from files (`esia-sim merge`) may be anything a u64 holds: folding them
    /// saturates at u64::MAX instead of overflowing (a panic in a debug build).
    #[test]
    fn regression_merging_counts_past_u64_saturates() {
        let mut big = LoadFunnel::new(&[LoadPath::Standard], Thresholds::default());
        let p = big.paths.get_mut(&LoadPath::Standard).unwrap();
        p.started = u64::MAX;
        p.tier_reached.insert(Some(Tier::Standard), u64::MAX);
        p.steps[0].attempts = u64::MAX;
        p.steps[0].reasons.insert("422 code_wrong".into(), u64::MAX);
        let mut one = LoadFunnel::new(&[LoadPath::Standard], Thresholds::default());
        one.started(LoadPath::Standard, None);
        one.step(
            LoadPath::Standard,
            0,
            &[1_000],
            Duration::from_millis(1),
            Some("422 code_wrong"),
        );
        one.ended(
            LoadPath::Standard,
            Ending::Failed,
            Some(Tier::Standard),
            &[],
            Duration::ZERO,
        );
        big.merge(&one);
        big.merge(&big.clone());
        let p = &big.paths[&LoadPath::Standard];
        assert_eq!(p.started, u64::MAX);
        assert_eq!(p.failed, 2);
        assert_eq!(p.tier_reached[&Some(Tier::Standard)], u64::MAX);
        assert_eq!(p.steps[0].reasons["422 code_wrong"], u64::MAX);
        let totals = big.totals();
        assert_eq!((totals.started, totals.steps), (u64::MAX, u64::MAX));
    }

    /// The fuzz target `funnels` found it: a histogram read with two buckets of
    /// 18446744073709551615 made hdrhistogram's quantile overflow its sum of counts (a panic in
    /// a debug build). Such a histogram is refused on reading, and merges saturate the sum.
    #[test]
    fn regression_histogram_counts_sum_within_a_u64() {
        let over = r#"{"hdr": [[1000, 18446744073709551615], [2000, 1]]}"#;
        let message = serde_json::from_str::<Latency>(over)
            .unwrap_err()
            .to_string();
        assert!(message.contains("sum past"), "{message}");

        let full: Latency =
            serde_json::from_str(r#"{"hdr": [[1000, 18446744073709551614], [2000, 1]]}"#).unwrap();
        assert_eq!(full.count(), u64::MAX);
        let mut merged = full.clone();
        merged.merge(&full);
        assert_eq!(merged.count(), u64::MAX);
        assert!(merged.quantile_ms(0.99) > 0.0);
        let mut other = Latency::default();
        other.record_us(5_000);
        other.merge(&full);
        assert_eq!(other.count(), u64::MAX);
        assert!(other.quantile_ms(1.0) >= 5.0);
    }
}
