//! The open arrival model of `--arrival-rate N/s`: citizens start at fixed instants whatever the
//! response times. Goose has only a closed model (each user starts its next journey when the
//! last one ends), so each path gets a schedule of start instants, `rate × share` a second, and
//! a pool of goose users of that path claims them: a user takes the next unclaimed instant and
//! sleeps until it; when every user of the path is busy the instant passes unclaimed until one
//! is free, and the lateness is recorded (`start_lag`), so an undersized pool shows in the
//! report instead of silently lowering the rate. Schedules are per path so the mix holds: a
//! shared schedule would hand most instants to the paths whose journeys are short. The
//! schedules start once goose has started every user, so the ramp does not show as lateness.
//!
//! Why this and not a driver of our own: goose's users are what its metrics, reports and
//! thresholds count, so the journeys must run inside them.

use super::path::LoadPath;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Start instants `offset + k × interval` (k = 0, 1, ...) handed out once each.
#[derive(Debug)]
pub struct Schedule {
    interval_ns: u64,
    offset_ns: u64,
    next: AtomicU64,
}

impl Schedule {
    /// `rate` starts a second, the first after `phase` of an interval (0 <= phase < 1), or
    /// `None` for a rate that is not positive.
    pub fn new(rate: f64, phase: f64) -> Option<Self> {
        if !(rate.is_finite() && rate > 0.0) {
            return None;
        }
        let interval_ns = (1e9 / rate).round().max(1.0) as u64;
        let offset_ns = (interval_ns as f64 * phase.clamp(0.0, 0.999_999)) as u64;
        Some(Self {
            interval_ns,
            offset_ns,
            next: AtomicU64::new(0),
        })
    }

    /// The offset from the schedule's start of instant `k`.
    pub fn slot(&self, k: u64) -> Duration {
        Duration::from_nanos(
            self.offset_ns
                .saturating_add(k.saturating_mul(self.interval_ns)),
        )
    }

    /// Claims the next instant: its index and its offset from the start.
    pub fn claim(&self) -> (u64, Duration) {
        let k = self.next.fetch_add(1, Ordering::Relaxed);
        (k, self.slot(k))
    }

    /// Instants claimed so far.
    pub fn claimed(&self) -> u64 {
        self.next.load(Ordering::Relaxed)
    }
}

/// The schedules of every path of an open run, started together at the first claim.
#[derive(Debug)]
pub struct Arrivals {
    start: OnceLock<Instant>,
    schedules: BTreeMap<LoadPath, Schedule>,
}

impl Arrivals {
    /// One schedule per path of `rates` (journeys a second), their phases spread over an
    /// interval so the paths' instants do not coincide.
    pub fn new(rates: &[(LoadPath, f64)]) -> Self {
        let n = rates.len().max(1) as f64;
        let schedules = rates
            .iter()
            .enumerate()
            .filter_map(|(i, &(path, rate))| Some((path, Schedule::new(rate, i as f64 / n)?)))
            .collect();
        Self {
            start: OnceLock::new(),
            schedules,
        }
    }

    /// Starts the schedules at `at` (when every user is up), unless a claim started them.
    pub fn start_at(&self, at: Instant) {
        let _ = self.start.set(at);
    }

    /// The instant the next journey of `path` is due, or `None` when the path has no schedule.
    /// The schedules start at [`Arrivals::start_at`], or at the first claim.
    pub fn claim(&self, path: LoadPath) -> Option<Instant> {
        let schedule = self.schedules.get(&path)?;
        let start = *self.start.get_or_init(Instant::now);
        let (_, offset) = schedule.claim();
        Some(start + offset)
    }
}

/// Goose users for each path of an open run: enough to hold `rate × hold` journeys in flight
/// (Little's law) plus one, where `hold` is how long a journey of the path is expected to take
/// at most; `total` (when above 0) is shared in the same proportions instead, each path keeping
/// at least one user.
pub fn pool_sizes(paths: &[(LoadPath, f64, Duration)], total: usize) -> Vec<(LoadPath, usize)> {
    let need: Vec<f64> = paths
        .iter()
        .map(|(_, rate, hold)| rate * hold.as_secs_f64() + 1.0)
        .collect();
    if total == 0 {
        return paths
            .iter()
            .zip(&need)
            .map(|((p, ..), n)| (*p, n.ceil() as usize))
            .collect();
    }
    let sum: f64 = need.iter().sum();
    paths
        .iter()
        .zip(&need)
        .map(|((p, ..), n)| (*p, ((n / sum) * total as f64).round().max(1.0) as usize))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::sync::Arc;

    #[test]
    fn instants_are_evenly_spaced_at_the_rate() {
        let s = Schedule::new(10.0, 0.0).unwrap();
        assert_eq!(s.slot(0), Duration::ZERO);
        assert_eq!(s.slot(1), Duration::from_millis(100));
        assert_eq!(s.slot(25), Duration::from_millis(2_500));
        let s = Schedule::new(4.0, 0.5).unwrap();
        assert_eq!(s.slot(0), Duration::from_millis(125));
        assert_eq!(s.slot(2), Duration::from_millis(625));
        assert!(Schedule::new(0.0, 0.0).is_none());
        assert!(Schedule::new(f64::NAN, 0.0).is_none());
        // A very high rate still advances.
        let s = Schedule::new(1e12, 0.0).unwrap();
        assert!(s.slot(2) > s.slot(1));
    }

    #[test]
    fn each_instant_is_claimed_once_across_threads() {
        let s = Arc::new(Schedule::new(1_000.0, 0.0).unwrap());
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let s = s.clone();
                std::thread::spawn(move || (0..2_500).map(|_| s.claim().0).collect::<Vec<_>>())
            })
            .collect();
        let mut seen = HashSet::new();
        for h in handles {
            for k in h.join().unwrap() {
                assert!(seen.insert(k));
            }
        }
        assert_eq!(seen.len(), 10_000);
        assert_eq!(s.claimed(), 10_000);
        assert!((0..10_000).all(|k| seen.contains(&k)));
    }

    #[test]
    fn the_paths_share_one_start_and_keep_their_rates() {
        let a = Arrivals::new(&[(LoadPath::Standard, 2.0), (LoadPath::SimplifiedPhone, 8.0)]);
        let s0 = a.claim(LoadPath::Standard).unwrap();
        let s1 = a.claim(LoadPath::Standard).unwrap();
        assert_eq!(s1 - s0, Duration::from_millis(500));
        let p0 = a.claim(LoadPath::SimplifiedPhone).unwrap();
        let p1 = a.claim(LoadPath::SimplifiedPhone).unwrap();
        assert_eq!(p1 - p0, Duration::from_millis(125));
        // The second path's phase is half an interval.
        assert_eq!(p0 - s0, Duration::from_nanos(62_500_000));
        assert!(a.claim(LoadPath::Post).is_none());
    }

    #[test]
    fn pools_follow_littles_law() {
        let paths = [
            (LoadPath::SimplifiedPhone, 10.0, Duration::from_secs(2)),
            (LoadPath::Post, 1.0, Duration::from_secs(30)),
        ];
        assert_eq!(
            pool_sizes(&paths, 0),
            vec![(LoadPath::SimplifiedPhone, 21), (LoadPath::Post, 31)]
        );
        assert_eq!(
            pool_sizes(&paths, 104),
            vec![(LoadPath::SimplifiedPhone, 42), (LoadPath::Post, 62)]
        );
        assert_eq!(
            pool_sizes(&paths, 1),
            vec![(LoadPath::SimplifiedPhone, 1), (LoadPath::Post, 1)]
        );
    }
}
