//! The simulator's event queue and arrival process.
//!
//! Events are ordered by time, and events at one time in the order they were scheduled, so a
//! shard's run is deterministic. The [`ArrivalClock`] yields a shard's arrivals on demand; only
//! the current batch's arrivals are queued, so memory holds only that batch's citizens.

use super::citizen::Kind;
use esia_mocks::chance::{mix64, Chance};
use esia_mocks::clock::{SimTime, MS_PER_DAY};

/// One scheduled event of one live citizen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    pub time: SimTime,
    seq: u64,
    /// The citizen's slot in the shard's table.
    pub slot: u32,
    /// The slot's generation when the event was scheduled (a later citizen in the same slot
    /// ignores it).
    pub generation: u32,
    pub kind: Kind,
}

/// A min-queue of events in (time, scheduling order): a radix heap over times.
///
/// Events are popped in nondecreasing time and pushed at or after the last popped time (a
/// simulation never schedules into the past), which is what a radix heap needs. An event goes
/// into the bucket of the highest bit where its time differs from the last time popped, and
/// moves to lower buckets only when its bucket is emptied, so each event moves a few times
/// through contiguous vectors instead of sifting through a binary heap of every live citizen's
/// events (which measured more than half of the simulator's time). Buckets keep scheduling
/// order (pushes append; a bucket is redistributed, in order, only into empty lower buckets),
/// and bucket 0 (events at the last time) is read first in, first out, so events at one time
/// come out in the order they were scheduled.
#[derive(Debug)]
pub struct Queue {
    buckets: Vec<Vec<Event>>,
    /// Bit b set: bucket b is not empty.
    occupied: u128,
    /// Events of bucket 0 already given out.
    head: usize,
    last: u64,
    len: usize,
    seq: u64,
}

impl Default for Queue {
    fn default() -> Self {
        Self {
            buckets: (0..=64).map(|_| Vec::new()).collect(),
            occupied: 0,
            head: 0,
            last: 0,
            len: 0,
            seq: 0,
        }
    }
}

impl Queue {
    #[inline]
    fn bucket(&self, time_ms: u64) -> usize {
        (64 - (time_ms ^ self.last).leading_zeros()) as usize
    }

    #[inline]
    fn put(&mut self, event: Event) {
        let b = self.bucket(event.time.as_millis());
        self.buckets[b].push(event);
        self.occupied |= 1 << b;
    }

    /// Schedules `kind` for the citizen in `slot` at `time` (not before the last popped time).
    pub fn push(&mut self, time: SimTime, slot: u32, generation: u32, kind: Kind) {
        debug_assert!(
            time.as_millis() >= self.last,
            "an event scheduled in the past"
        );
        self.seq += 1;
        self.put(Event {
            time,
            seq: self.seq,
            slot,
            generation,
            kind,
        });
        self.len += 1;
    }

    /// The next event.
    pub fn pop(&mut self) -> Option<Event> {
        if self.head == self.buckets[0].len() {
            self.buckets[0].clear();
            self.head = 0;
            self.occupied &= !1;
            if self.occupied == 0 {
                return None;
            }
            // The lowest non-empty bucket holds the next time: make it the last time and
            // spread the bucket below it.
            let i = self.occupied.trailing_zeros() as usize;
            let mut items = std::mem::take(&mut self.buckets[i]);
            self.occupied &= !(1 << i);
            self.last = items
                .iter()
                .map(|e| e.time.as_millis())
                .min()
                .expect("an occupied bucket");
            for event in items.drain(..) {
                self.put(event);
            }
            // Give the emptied bucket its allocation back.
            if self.buckets[i].is_empty() {
                self.buckets[i] = items;
            }
        }
        let event = self.buckets[0][self.head];
        self.head += 1;
        self.len -= 1;
        Some(event)
    }

    /// Events waiting.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no event waits.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The arrival process's rate.
#[derive(Clone, Debug, PartialEq)]
pub enum Rate {
    /// Everyone at time 0.
    Cohort,
    /// A Poisson process: one arrival every `mean_spacing_ms` on average.
    Constant { mean_spacing_ms: f64 },
    /// A Poisson process whose rate is constant within each segment (a month), none after the
    /// last: arrivals are a unit-rate process's times mapped through the cumulative rate.
    Piecewise(Vec<Segment>),
}

/// One segment of a piecewise-constant rate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Segment {
    pub start_ms: f64,
    pub end_ms: f64,
    /// Expected arrivals before the segment.
    pub before: f64,
    /// Expected arrivals in the segment.
    pub expected: f64,
}

impl Rate {
    /// The rate of a scenario's arrivals, the epoch being `epoch`.
    pub fn of(arrivals: &crate::scenario::Arrivals, epoch: chrono::NaiveDate) -> Rate {
        use crate::scenario::{monthly_schedule, Arrivals};
        match arrivals {
            Arrivals::Poisson { per_day } => Rate::Constant {
                mean_spacing_ms: MS_PER_DAY as f64 / per_day,
            },
            Arrivals::Cohort => Rate::Cohort,
            Arrivals::Monthly { per_month, scale } => {
                let months = monthly_schedule(per_month, *scale);
                let ms_of =
                    |d: chrono::NaiveDate| (d - epoch).num_days() as f64 * MS_PER_DAY as f64;
                let mut before = 0.0;
                let mut segments = Vec::with_capacity(months.len());
                for (first, expected) in months {
                    let next = first
                        .checked_add_months(chrono::Months::new(1))
                        .unwrap_or(first);
                    segments.push(Segment {
                        start_ms: ms_of(first).max(0.0),
                        end_ms: ms_of(next).max(0.0),
                        before,
                        expected,
                    });
                    before += expected;
                }
                Rate::Piecewise(segments)
            }
        }
    }

    /// The expected number of arrivals (None: unbounded, the run's citizens decide).
    pub fn expected_total(&self) -> Option<f64> {
        match self {
            Rate::Piecewise(segments) => segments.last().map(|s| s.before + s.expected),
            _ => None,
        }
    }
}

/// Arrival times of one shard's citizens, in order.
///
/// Poisson arrivals at `per_day`: citizen `k` arrives at the sum of `k + 1` exponential
/// spacings, each drawn from a hash of (seed, j), so every shard computes the same times for
/// the same citizens (each walks all spacings and keeps its own). A cohort arrives at time 0.
/// A piecewise rate maps the same unit-rate sums through its cumulative rate (the inverse of
/// the expected arrivals by time); arrivals end when the sum passes the last segment's.
#[derive(Debug)]
pub struct ArrivalClock {
    key: u64,
    rate: Rate,
    /// The segment of a piecewise rate the last arrival fell in.
    segment: usize,
    citizens: u64,
    shard: u64,
    shards: u64,
    /// The next citizen index to consider, and the arrival time of the one before it.
    next: u64,
    elapsed_ms: f64,
    peeked: Option<(SimTime, u64)>,
}

impl ArrivalClock {
    pub fn new(chance: &Chance, rate: Rate, citizens: u64, shard: u64, shards: u64) -> Self {
        let mut clock = Self {
            key: chance.subkey(0xA771_7A15),
            rate,
            segment: 0,
            citizens,
            shard,
            shards,
            next: 0,
            elapsed_ms: 0.0,
            peeked: None,
        };
        clock.peeked = clock.advance();
        clock
    }

    fn advance(&mut self) -> Option<(SimTime, u64)> {
        loop {
            if self.next >= self.citizens {
                return None;
            }
            let k = self.next;
            self.next += 1;
            // 53-bit uniform in (0, 1]; the logarithm stays finite.
            let spacing = || -(((mix64(self.key ^ k) >> 11) + 1) as f64 / (1u64 << 53) as f64).ln();
            let time_ms = match &self.rate {
                Rate::Cohort => 0.0,
                Rate::Constant { mean_spacing_ms } => {
                    self.elapsed_ms += spacing() * mean_spacing_ms;
                    self.elapsed_ms
                }
                Rate::Piecewise(segments) => {
                    // `elapsed_ms` counts expected arrivals here (the unit-rate process).
                    self.elapsed_ms += spacing();
                    let unit = self.elapsed_ms;
                    while segments
                        .get(self.segment)
                        .is_some_and(|s| unit >= s.before + s.expected)
                    {
                        self.segment += 1;
                    }
                    let Some(s) = segments.get(self.segment) else {
                        self.next = self.citizens; // past the last month: no more arrivals
                        return None;
                    };
                    s.start_ms + (unit - s.before) / s.expected * (s.end_ms - s.start_ms)
                }
            };
            if k % self.shards == self.shard {
                return Some((SimTime::from_millis(time_ms as u64), k));
            }
        }
    }

    /// The next arrival (time, citizen index) of this shard.
    pub fn peek(&self) -> Option<(SimTime, u64)> {
        self.peeked
    }
}

impl Iterator for ArrivalClock {
    type Item = (SimTime, u64);

    fn next(&mut self) -> Option<(SimTime, u64)> {
        let current = self.peeked;
        self.peeked = self.advance();
        current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_share_one_arrival_sequence() {
        let chance = Chance::new(3);
        let rate = Rate::Constant {
            mean_spacing_ms: MS_PER_DAY as f64 / 1000.0,
        };
        let all: Vec<_> = ArrivalClock::new(&chance, rate.clone(), 50, 0, 1).collect();
        let mut merged: Vec<_> = (0..3)
            .flat_map(|s| ArrivalClock::new(&chance, rate.clone(), 50, s, 3).collect::<Vec<_>>())
            .collect();
        merged.sort_by_key(|a| a.1);
        assert_eq!(all, merged);
        assert!(all.windows(2).all(|w| w[0].0 <= w[1].0));
        // 1000 a day: 50 citizens in about 72 minutes.
        let last_min = all.last().unwrap().0.as_millis() / 60_000;
        assert!((30..150).contains(&last_min), "{last_min}");
    }

    /// Monthly arrivals follow the months' counts (within sampling error) and end with the
    /// last month, whatever the shard count.
    #[test]
    fn monthly_arrivals_follow_each_months_count() {
        use crate::scenario::Arrivals;
        let epoch = chrono::NaiveDate::from_ymd_opt(2017, 1, 1).unwrap();
        let per_month = [("2017".to_string(), vec![3000.0, 0.0, 9000.0])].into();
        let rate = Rate::of(
            &Arrivals::Monthly {
                per_month,
                scale: 1.0,
            },
            epoch,
        );
        assert_eq!(rate.expected_total(), Some(12_000.0));
        let chance = Chance::new(5);
        let all: Vec<_> = ArrivalClock::new(&chance, rate.clone(), 100_000, 0, 1).collect();
        let day = |m: u32| {
            (chrono::NaiveDate::from_ymd_opt(2017, m, 1).unwrap() - epoch).num_days() as u64
        };
        let in_month = |m: u32| {
            all.iter()
                .filter(|a| (day(m)..day(m + 1)).contains(&(a.0.as_millis() / MS_PER_DAY)))
                .count() as f64
        };
        // Poisson counts: 4 standard deviations.
        assert!(
            (in_month(1) - 3000.0).abs() < 4.0 * 3000f64.sqrt(),
            "{}",
            in_month(1)
        );
        assert_eq!(in_month(2), 0.0);
        assert!(
            (in_month(3) - 9000.0).abs() < 4.0 * 9000f64.sqrt(),
            "{}",
            in_month(3)
        );
        assert!(all.iter().all(|a| a.0.as_millis() / MS_PER_DAY < day(4)));
        assert!(all.windows(2).all(|w| w[0].0 <= w[1].0));
        let mut merged: Vec<_> = (0..2)
            .flat_map(|s| {
                ArrivalClock::new(&chance, rate.clone(), 100_000, s, 2).collect::<Vec<_>>()
            })
            .collect();
        merged.sort_by_key(|a| a.1);
        assert_eq!(all, merged);
    }

    #[test]
    fn events_come_out_in_time_then_schedule_order() {
        let mut q = Queue::default();
        q.push(SimTime::from_millis(5), 1, 0, Kind::Visit);
        q.push(SimTime::from_millis(3), 2, 0, Kind::Visit);
        q.push(SimTime::from_millis(5), 3, 0, Kind::Visit);
        let order: Vec<u32> = std::iter::from_fn(|| q.pop()).map(|e| e.slot).collect();
        assert_eq!(order, vec![2, 1, 3]);
    }

    #[test]
    fn the_radix_heap_agrees_with_sorting() {
        use esia_mocks::chance::{Event as Stream, QuickRng};
        use rand::RngExt;
        let mut rng: QuickRng = Chance::new(1).quick(0, Stream::Other, 0);
        let mut q = Queue::default();
        let mut now = 0u64;
        let mut popped = Vec::new();
        let mut expected = Vec::new();
        for round in 0..20_000u32 {
            // Push a few events at or after now, with times that often tie.
            for _ in 0..rng.random_range(0..3) {
                let t = now + [0, 1, 5, 1000, 86_400_000][rng.random_range(0..5)];
                q.push(SimTime::from_millis(t), round, 0, Kind::Visit);
                expected.push((t, q.seq));
            }
            if let Some(e) = q.pop() {
                now = e.time.as_millis();
                popped.push((now, e.seq));
            }
        }
        while let Some(e) = q.pop() {
            popped.push((e.time.as_millis(), e.seq));
        }
        expected.sort();
        assert_eq!(popped, expected);
        assert!(q.is_empty());
    }
}
