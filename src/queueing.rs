//! What agencies with a capacity did: arrivals, refusals, waits, utilization, queue lengths, as
//! a mergeable integer aggregate beside the [`crate::funnel::Funnel`] (one per agency, keyed
//! by the scenario's table name: `pfr`, `sms`, `banks.sber`, `centers`, ...).
//!
//! Requests that arrive before the scenario's `warmup` are served as any other but not
//! counted, so that a run's figures describe the steady state (queueing theory's oracle);
//! busy time is counted inside `[warmup, horizon)`.

use esia_mocks::agency::capacity::{Admission, Refusal};
use esia_mocks::clock::{SimTime, MS_PER_DAY};
use hdrhistogram::Histogram;

/// Waits in ms, from 1 ms to 400 days at 3 significant digits (0 is recorded too).
fn waits() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 400 * MS_PER_DAY, 3).expect("valid histogram bounds")
}

/// One agency's queue over a run. Integer-only: merges exactly.
#[derive(Clone, Debug)]
pub struct QueueStats {
    /// Servers of the agency (of all its stations: every center's counters).
    pub servers: u64,
    /// Requests offered (retries count again).
    pub arrivals: u64,
    pub served: u64,
    /// Refused because the queue was full, and because the quota was spent.
    pub refused_full: u64,
    pub refused_quota: u64,
    /// Gave up waiting (patience).
    pub reneged: u64,
    /// Sum of the waits of the requests served, in ms.
    pub wait_ms_sum: u64,
    /// The waits of the requests served, in ms.
    pub waits: Histogram<u64>,
    /// Server time spent serving, and server time available (servers × open time).
    pub busy_ms: u64,
    pub available_ms: u64,
    /// The longest queue an arrival found.
    pub max_queue: u64,
    /// By day of arrival (busy and available time: by the day they fall in).
    pub daily: QueueDaily,
}

/// An agency's queue day by day.
#[derive(Clone, Debug, Default)]
pub struct QueueDaily {
    pub arrivals: Vec<u64>,
    pub served: Vec<u64>,
    pub refused: Vec<u64>,
    pub wait_ms_sum: Vec<u64>,
    /// The queue lengths that arrivals found, summed (mean: divided by arrivals).
    pub queue_seen_sum: Vec<u64>,
    pub busy_ms: Vec<u64>,
    pub available_ms: Vec<u64>,
}

impl QueueStats {
    /// Empty statistics of `servers` servers over `days` days.
    pub fn new(servers: u64, days: usize) -> Self {
        let zeros = vec![0; days.max(1)];
        Self {
            servers,
            arrivals: 0,
            served: 0,
            refused_full: 0,
            refused_quota: 0,
            reneged: 0,
            wait_ms_sum: 0,
            waits: waits(),
            busy_ms: 0,
            available_ms: 0,
            max_queue: 0,
            daily: QueueDaily {
                arrivals: zeros.clone(),
                served: zeros.clone(),
                refused: zeros.clone(),
                wait_ms_sum: zeros.clone(),
                queue_seen_sum: zeros.clone(),
                busy_ms: zeros.clone(),
                available_ms: zeros,
            },
        }
    }

    fn day(&self, t: SimTime) -> usize {
        ((t.as_millis() / MS_PER_DAY) as usize).min(self.daily.arrivals.len() - 1)
    }

    /// Counts one request that arrived at `now`, found `queued` waiting, and got `admission`.
    pub fn record(&mut self, now: SimTime, queued: u64, admission: &Admission) {
        let d = self.day(now);
        self.arrivals += 1;
        self.daily.arrivals[d] += 1;
        self.daily.queue_seen_sum[d] += queued;
        self.max_queue = self.max_queue.max(queued);
        match *admission {
            Admission::Served { start, .. } => {
                let wait = start.ms_since(now);
                self.served += 1;
                self.wait_ms_sum += wait;
                self.waits.saturating_record(wait);
                self.daily.served[d] += 1;
                self.daily.wait_ms_sum[d] += wait;
            }
            Admission::GivesUp { .. } => self.reneged += 1,
            Admission::Refused { reason, .. } => {
                self.daily.refused[d] += 1;
                match reason {
                    Refusal::QueueFull => self.refused_full += 1,
                    Refusal::Quota => self.refused_quota += 1,
                }
            }
        }
    }

    /// Adds `servers` × the time `[from, to)` (clipped to `window`, the run's
    /// `[warmup, horizon)`) as busy, or as available when `busy` is false, to the totals and to
    /// the days it falls in.
    pub fn add_time(
        &mut self,
        from: SimTime,
        to: SimTime,
        window: (SimTime, SimTime),
        busy: bool,
        servers: u64,
    ) {
        let (a, b) = (from.max(window.0).as_millis(), to.min(window.1).as_millis());
        if a >= b {
            return;
        }
        let last_day = self.daily.busy_ms.len() - 1;
        let mut t = a;
        while t < b {
            let d = ((t / MS_PER_DAY) as usize).min(last_day);
            let day_end = if d == last_day {
                b
            } else {
                ((t / MS_PER_DAY) + 1) * MS_PER_DAY
            };
            let end = day_end.min(b);
            let (total, daily) = if busy {
                (&mut self.busy_ms, &mut self.daily.busy_ms)
            } else {
                (&mut self.available_ms, &mut self.daily.available_ms)
            };
            *total += (end - t) * servers;
            daily[d] += (end - t) * servers;
            t = end;
        }
    }

    /// Requests refused, for either reason.
    pub fn refused(&self) -> u64 {
        self.refused_full + self.refused_quota
    }

    /// Adds another run's statistics of the same agency and length.
    pub fn merge(&mut self, other: &QueueStats) {
        self.servers = self.servers.max(other.servers);
        self.arrivals += other.arrivals;
        self.served += other.served;
        self.refused_full += other.refused_full;
        self.refused_quota += other.refused_quota;
        self.reneged += other.reneged;
        self.wait_ms_sum += other.wait_ms_sum;
        self.waits.add(&other.waits).expect("same bounds");
        self.busy_ms += other.busy_ms;
        self.available_ms += other.available_ms;
        self.max_queue = self.max_queue.max(other.max_queue);
        let d = &mut self.daily;
        let o = &other.daily;
        for (a, b) in [
            (&mut d.arrivals, &o.arrivals),
            (&mut d.served, &o.served),
            (&mut d.refused, &o.refused),
            (&mut d.wait_ms_sum, &o.wait_ms_sum),
            (&mut d.queue_seen_sum, &o.queue_seen_sum),
            (&mut d.busy_ms, &o.busy_ms),
            (&mut d.available_ms, &o.available_ms),
        ] {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
    }

    /// Mean wait of the requests served, in seconds.
    pub fn wait_mean_s(&self) -> Option<f64> {
        (self.served > 0).then(|| self.wait_ms_sum as f64 / self.served as f64 / 1000.0)
    }

    /// The `q` quantile of the waits of the requests served, in seconds.
    pub fn wait_quantile_s(&self, q: f64) -> Option<f64> {
        (self.served > 0).then(|| self.waits.value_at_quantile(q) as f64 / 1000.0)
    }

    /// Busy server time over available server time.
    pub fn utilization(&self) -> Option<f64> {
        (self.available_ms > 0).then(|| self.busy_ms as f64 / self.available_ms as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> SimTime {
        SimTime::from_millis(ms)
    }

    #[test]
    fn records_and_merges_exactly() {
        let mut a = QueueStats::new(2, 3);
        let served = Admission::Served {
            start: at(1_500),
            done: at(2_500),
        };
        a.record(at(1_000), 3, &served);
        a.record(
            at(MS_PER_DAY + 5),
            0,
            &Admission::Refused {
                reason: Refusal::Quota,
                retry_after_ms: 10,
            },
        );
        a.record(at(5), 1, &Admission::GivesUp { at: at(100) });
        assert_eq!((a.arrivals, a.served, a.refused(), a.reneged), (3, 1, 1, 1));
        assert_eq!(a.wait_mean_s(), Some(0.5));
        assert_eq!(a.max_queue, 3);
        assert_eq!(a.daily.refused, vec![0, 1, 0]);
        let mut b = a.clone();
        b.merge(&a);
        assert_eq!(b.arrivals, 6);
        assert_eq!(b.daily.queue_seen_sum, vec![8, 0, 0]);
        assert_eq!(b.wait_mean_s(), Some(0.5));
    }

    #[test]
    fn time_is_cut_to_the_window_and_split_by_day() {
        let mut s = QueueStats::new(1, 3);
        let window = (at(1_000), at(3 * MS_PER_DAY));
        s.add_time(at(0), at(3 * MS_PER_DAY), window, false, 1);
        s.add_time(
            at(MS_PER_DAY - 500),
            at(MS_PER_DAY + 1_500),
            window,
            true,
            1,
        );
        assert_eq!(s.available_ms, 3 * MS_PER_DAY - 1_000);
        assert_eq!(
            s.daily.available_ms,
            vec![MS_PER_DAY - 1_000, MS_PER_DAY, MS_PER_DAY]
        );
        assert_eq!(s.daily.busy_ms, vec![500, 1_500, 0]);
        let u = s.utilization().unwrap();
        assert!((u - 2_000.0 / (3 * MS_PER_DAY - 1_000) as f64).abs() < 1e-15);
    }
}
