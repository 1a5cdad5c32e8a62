//! The load run over time: per bucket of wall time (a second, coarser for long runs so that a
//! run keeps at most [`MAX_BUCKETS`]), requests by outcome, request latency per step, journeys
//! started, completed, failed and cut short (hence those in progress: the users busy), tiers
//! reached, and the peaks of the target's queue gauges scraped from its `/metrics`. Buckets are keyed by the Unix second they start at, so the
//! timelines of shards that ran side by side merge exactly ([`Timeline::merge`]); latencies are
//! kept in sparse log-scale histograms (buckets 2% wide) that merge exactly too. Written as
//! `timeline.csv`, tidy, beside `funnel.json` ([`Timeline::csv`]).

use super::funnel::tally;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The most buckets a timeline keeps: past it, buckets double in width.
pub const MAX_BUCKETS: usize = 1_000;
/// Relative width of a latency bucket.
const LOG_BASE: f64 = 1.02;

/// How a request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The 2xx the script expected.
    Success,
    /// The error answer the script expected (a 409, 410 or 422 of a failure path).
    ExpectedFailure,
    /// A 4xx the script did not expect.
    Unexpected4xx,
    /// A 5xx.
    ServerError,
    /// Another status the script did not expect (a 200 for a 201).
    UnexpectedOther,
    /// No answer: timeout, refused connection, broken transfer.
    TransportError,
}

impl Outcome {
    /// The outcome of an answer with `status`, when the script expected `expected` (or `or`).
    pub fn of_status(status: u16, expected: u16, or: Option<u16>) -> Outcome {
        if status == expected || Some(status) == or {
            if (200..300).contains(&status) {
                Outcome::Success
            } else {
                Outcome::ExpectedFailure
            }
        } else if (500..600).contains(&status) {
            Outcome::ServerError
        } else if (400..500).contains(&status) {
            Outcome::Unexpected4xx
        } else {
            Outcome::UnexpectedOther
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::ExpectedFailure => "expected_failure",
            Outcome::Unexpected4xx => "unexpected_4xx",
            Outcome::ServerError => "server_error",
            Outcome::UnexpectedOther => "unexpected_other",
            Outcome::TransportError => "transport_error",
        }
    }
}

/// A sparse latency histogram in microseconds, log-scale buckets [`LOG_BASE`] wide: bucket
/// index -> count.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LogHistogram(BTreeMap<u32, u64>);

impl LogHistogram {
    pub fn record_us(&mut self, us: u64) {
        let index = ((us.max(1) as f64).ln() / LOG_BASE.ln()).floor() as u32;
        *self.0.entry(index).or_default() += 1;
    }

    pub fn merge(&mut self, other: &LogHistogram) {
        for (i, n) in &other.0 {
            tally(self.0.entry(*i).or_default(), *n);
        }
    }

    pub fn count(&self) -> u64 {
        self.0.values().fold(0, |sum, n| sum.saturating_add(*n))
    }

    /// The latency at quantile `q` in milliseconds (the middle of its bucket), none when empty.
    pub fn quantile_ms(&self, q: f64) -> Option<f64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        for (i, n) in &self.0 {
            tally(&mut seen, *n);
            if seen >= rank {
                return Some(LOG_BASE.powf(f64::from(*i) + 0.5) / 1_000.0);
            }
        }
        None
    }
}

/// What happened in one bucket of time.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    #[serde(default)]
    pub requests: BTreeMap<Outcome, u64>,
    /// Request latency by step name (`01 register`, every path together).
    #[serde(default)]
    pub latency: BTreeMap<String, LogHistogram>,
    #[serde(default)]
    pub started: u64,
    #[serde(default)]
    pub completed: u64,
    #[serde(default)]
    pub failed: u64,
    /// Journeys ended neither completed nor failed: cut short by the run's end.
    #[serde(default)]
    pub cut: u64,
    /// Tiers reached by journeys, by tier name.
    #[serde(default)]
    pub tiers: BTreeMap<String, u64>,
    /// The target's gauges (`/metrics` series, e.g. `esia_effects_queued`), the highest value
    /// sampled in the bucket; shards scraping one target keep the higher of theirs.
    #[serde(default)]
    pub gauges: BTreeMap<String, f64>,
}

impl Bucket {
    fn merge(&mut self, other: &Bucket) {
        for (o, n) in &other.requests {
            tally(self.requests.entry(*o).or_default(), *n);
        }
        for (step, h) in &other.latency {
            self.latency.entry(step.clone()).or_default().merge(h);
        }
        tally(&mut self.started, other.started);
        tally(&mut self.completed, other.completed);
        tally(&mut self.failed, other.failed);
        tally(&mut self.cut, other.cut);
        for (tier, n) in &other.tiers {
            tally(self.tiers.entry(tier.clone()).or_default(), *n);
        }
        for (name, v) in &other.gauges {
            let g = self.gauges.entry(name.clone()).or_insert(*v);
            *g = g.max(*v);
        }
    }
}

/// The run bucket by bucket.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    /// Seconds a bucket spans: a power of two, so that any two timelines coarsen to a common
    /// width.
    pub bucket_s: u64,
    /// Buckets by the Unix second they start at (a multiple of `bucket_s`).
    pub buckets: BTreeMap<u64, Bucket>,
}

impl Default for Timeline {
    fn default() -> Self {
        Self {
            bucket_s: 1,
            buckets: BTreeMap::new(),
        }
    }
}

/// Now as a Unix second (the load harness's wall clock; the engine never reads it).
pub fn unix_now_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Timeline {
    fn bucket(&mut self, unix_s: u64) -> &mut Bucket {
        let width = self.bucket_s.max(1);
        if !self.buckets.contains_key(&(unix_s / width * width))
            && self.buckets.len() >= MAX_BUCKETS
        {
            self.coarsen(width.saturating_mul(2));
        }
        let width = self.bucket_s.max(1);
        self.buckets.entry(unix_s / width * width).or_default()
    }

    /// Widens the buckets to `bucket_s` (a power of two at least the current width).
    fn coarsen(&mut self, bucket_s: u64) {
        if bucket_s <= self.bucket_s {
            return;
        }
        let old = std::mem::take(&mut self.buckets);
        self.bucket_s = bucket_s;
        for (k, b) in old {
            self.buckets
                .entry(k / bucket_s * bucket_s)
                .or_default()
                .merge(&b);
        }
    }

    /// A journey started at `unix_s`.
    pub fn started(&mut self, unix_s: u64) {
        self.bucket(unix_s).started += 1;
    }

    /// A journey ended at `unix_s`: completed, failed, or neither (cut short by the run's end).
    pub fn ended(&mut self, unix_s: u64, completed: bool, failed: bool) {
        let b = self.bucket(unix_s);
        b.completed += u64::from(completed);
        b.failed += u64::from(failed);
        b.cut += u64::from(!completed && !failed);
    }

    /// A journey reached `tier` at `unix_s`.
    pub fn reached(&mut self, unix_s: u64, tier: &str) {
        *self
            .bucket(unix_s)
            .tiers
            .entry(tier.to_owned())
            .or_default() += 1;
    }

    /// The target's gauge `name` read `value` at `unix_s`.
    pub fn gauge(&mut self, unix_s: u64, name: &str, value: f64) {
        if !value.is_finite() {
            return;
        }
        let g = self
            .bucket(unix_s)
            .gauges
            .entry(name.to_owned())
            .or_insert(value);
        *g = g.max(value);
    }

    /// Journeys in progress (users busy walking one) at the end of each bucket: started so
    /// far less ended so far.
    pub fn in_progress(&self) -> Vec<(u64, u64)> {
        let mut walking: i128 = 0;
        self.buckets
            .iter()
            .map(|(k, b)| {
                walking += i128::from(b.started);
                walking -= i128::from(b.completed) + i128::from(b.failed) + i128::from(b.cut);
                (*k, u64::try_from(walking.max(0)).unwrap_or(u64::MAX))
            })
            .collect()
    }

    /// Step `step` ended at `unix_s` with these requests (latency, outcome).
    pub fn step(&mut self, unix_s: u64, step: &str, requests: &[(u64, Outcome)]) {
        if requests.is_empty() {
            return;
        }
        let b = self.bucket(unix_s);
        let h = b.latency.entry(step.to_owned()).or_default();
        for &(us, _) in requests {
            h.record_us(us);
        }
        for &(_, o) in requests {
            *b.requests.entry(o).or_default() += 1;
        }
    }

    /// Adds `other` (another shard): both widen to the wider bucket, then buckets add.
    pub fn merge(&mut self, other: &Timeline) {
        // A width read from a file may be no power of two (`load::report::read` refuses one),
        // or past the largest.
        let width = self
            .bucket_s
            .max(other.bucket_s)
            .max(1)
            .checked_next_power_of_two()
            .unwrap_or(1 << 63);
        self.coarsen(width);
        for (k, b) in &other.buckets {
            self.buckets.entry(k / width * width).or_default().merge(b);
        }
        while self.buckets.len() > MAX_BUCKETS {
            self.coarsen(self.bucket_s.saturating_mul(2));
        }
    }

    /// `timeline.csv`: `t_s,unix_s,bucket_s,series,label,value`, one row a figure of a bucket
    /// (`t_s` from the first bucket). Series: `requests` (count, label the outcome),
    /// `latency_p50_ms`, `latency_p95_ms`, `latency_p99_ms` (label the step), `journeys_started`,
    /// `journeys_completed`, `journeys_failed`, `journeys_cut` (counts), `journeys_in_progress`
    /// (at the bucket's end: the users busy), `tier_reached` (count, label the tier), `target`
    /// (label the `/metrics` series, value its peak in the bucket). Counts are per bucket, not
    /// per second.
    pub fn csv(&self) -> String {
        let mut s = String::from("t_s,unix_s,bucket_s,series,label,value\n");
        let first = self.buckets.keys().next().copied().unwrap_or(0);
        let quote = |x: &str| {
            if x.contains([',', '"', '\n']) {
                format!("\"{}\"", x.replace('"', "\"\""))
            } else {
                x.to_owned()
            }
        };
        let walking: BTreeMap<u64, u64> = self.in_progress().into_iter().collect();
        for (k, b) in &self.buckets {
            let mut row = |series: &str, label: &str, value: String| {
                let _ = writeln!(
                    s,
                    "{},{k},{},{series},{},{value}",
                    k - first,
                    self.bucket_s,
                    quote(label)
                );
            };
            for (o, n) in &b.requests {
                row("requests", o.as_str(), n.to_string());
            }
            for (step, h) in &b.latency {
                for (series, q) in [
                    ("latency_p50_ms", 0.5),
                    ("latency_p95_ms", 0.95),
                    ("latency_p99_ms", 0.99),
                ] {
                    if let Some(v) = h.quantile_ms(q) {
                        row(series, step, format!("{v:.3}"));
                    }
                }
            }
            row("journeys_started", "", b.started.to_string());
            row("journeys_completed", "", b.completed.to_string());
            row("journeys_failed", "", b.failed.to_string());
            row("journeys_cut", "", b.cut.to_string());
            row("journeys_in_progress", "", walking[k].to_string());
            for (tier, n) in &b.tiers {
                row("tier_reached", tier, n.to_string());
            }
            for (name, v) in &b.gauges {
                row("target", name, v.to_string());
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_follow_what_the_script_expected() {
        assert_eq!(Outcome::of_status(201, 201, None), Outcome::Success);
        assert_eq!(Outcome::of_status(422, 422, None), Outcome::ExpectedFailure);
        assert_eq!(Outcome::of_status(202, 200, Some(202)), Outcome::Success);
        assert_eq!(Outcome::of_status(404, 200, None), Outcome::Unexpected4xx);
        assert_eq!(Outcome::of_status(503, 200, None), Outcome::ServerError);
        assert_eq!(Outcome::of_status(200, 201, None), Outcome::UnexpectedOther);
    }

    #[test]
    fn quantiles_are_within_a_bucket_width() {
        let mut h = LogHistogram::default();
        for ms in 1..=100u64 {
            h.record_us(ms * 1_000);
        }
        let p50 = h.quantile_ms(0.5).unwrap();
        let p99 = h.quantile_ms(0.99).unwrap();
        assert!((p50 - 50.0).abs() / 50.0 < 0.02, "{p50}");
        assert!((p99 - 99.0).abs() / 99.0 < 0.02, "{p99}");
        assert_eq!(LogHistogram::default().quantile_ms(0.5), None);
    }

    #[test]
    fn a_long_run_keeps_at_most_max_buckets_and_loses_no_count() {
        let mut t = Timeline::default();
        for s in 0..5_000u64 {
            t.started(1_000_000 + s);
        }
        assert!(t.buckets.len() <= MAX_BUCKETS, "{}", t.buckets.len());
        assert_eq!(t.bucket_s, 8);
        assert_eq!(t.buckets.values().map(|b| b.started).sum::<u64>(), 5_000);
    }

    #[test]
    fn shards_merge_into_the_timeline_of_one_run() {
        let mut one = Timeline::default();
        let mut two = Timeline::default();
        let mut whole = Timeline::default();
        for s in 0..10u64 {
            let t = 2_000_000 + s;
            let (shard, other) = if s % 2 == 0 {
                (&mut one, 1)
            } else {
                (&mut two, 2)
            };
            shard.started(t);
            shard.step(t, "01 register", &[(1_000 * other, Outcome::Success)]);
            whole.started(t);
            whole.step(t, "01 register", &[(1_000 * other, Outcome::Success)]);
        }
        // Each shard scraped the one target: the merge keeps the higher sample.
        one.gauge(2_000_001, "esia_effects_queued", 3.0);
        two.gauge(2_000_001, "esia_effects_queued", 5.0);
        whole.gauge(2_000_001, "esia_effects_queued", 5.0);
        one.reached(2_000_002, "simplified");
        whole.reached(2_000_002, "simplified");
        one.ended(2_000_002, true, false);
        two.ended(2_000_003, false, false);
        whole.ended(2_000_002, true, false);
        whole.ended(2_000_003, false, false);
        one.merge(&two);
        assert_eq!(one, whole);
        let walking = one.in_progress();
        assert_eq!(walking[0], (2_000_000, 1));
        assert_eq!(walking[3], (2_000_003, 2), "{walking:?}");
        assert_eq!(walking.last(), Some(&(2_000_009, 8)));
        // A coarser shard widens the merge.
        let mut coarse = Timeline::default();
        coarse.coarsen(4);
        coarse.started(2_000_003);
        one.merge(&coarse);
        assert_eq!(one.bucket_s, 4);
        assert_eq!(one.buckets[&2_000_000].started, 5);
        let csv = one.csv();
        assert!(csv.starts_with("t_s,unix_s,bucket_s,series,label,value\n"));
        assert!(csv.contains("0,2000000,4,requests,success,4\n"), "{csv}");
        assert!(csv.contains(",latency_p50_ms,01 register,"), "{csv}");
        assert!(
            csv.contains("0,2000000,4,target,esia_effects_queued,5\n"),
            "{csv}"
        );
        assert!(
            csv.contains("0,2000000,4,tier_reached,simplified,1\n"),
            "{csv}"
        );
        assert!(
            csv.contains("0,2000000,4,journeys_in_progress,,3\n"),
            "{csv}"
        );
    }

    /// Timelines read from files (`esia-sim merge`) may carry any width and any counts:
    /// a width past the largest power of two (`next_power_of_two` overflowed) and counts past
    /// u64 (the bucket sums overflowed) merge without a panic, saturating.
    #[test]
    fn regression_a_timeline_of_any_width_and_counts_merges() {
        let full = Bucket {
            started: u64::MAX,
            completed: u64::MAX,
            failed: u64::MAX,
            requests: BTreeMap::from([(Outcome::Success, u64::MAX)]),
            latency: BTreeMap::from([(
                "01 register".into(),
                LogHistogram(BTreeMap::from([(1, u64::MAX), (2, u64::MAX)])),
            )]),
            ..Bucket::default()
        };
        let wide = Timeline {
            bucket_s: u64::MAX,
            buckets: BTreeMap::from([(0, full.clone()), (u64::MAX, full)]),
        };
        let mut t = Timeline::default();
        t.merge(&wide);
        t.merge(&wide);
        assert_eq!(t.bucket_s, 1 << 63);
        let b = &t.buckets[&(1 << 63)];
        assert_eq!(
            (b.started, b.requests[&Outcome::Success]),
            (u64::MAX, u64::MAX)
        );
        assert_eq!(b.latency["01 register"].count(), u64::MAX);
        assert!(b.latency["01 register"].quantile_ms(0.99).is_some());
        assert_eq!(t.in_progress(), vec![(0, 0), (1 << 63, 0)]);
        assert!(t.csv().lines().count() > 1);
    }
}
