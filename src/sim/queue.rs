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

/// Arrival times of one shard's citizens, in order.
///
/// Poisson arrivals at `per_day`: citizen `k` arrives at the sum of `k + 1` exponential
/// spacings, each drawn from a hash of (seed, j), so every shard computes the same times for
/// the same citizens (each walks all spacings and keeps its own). A cohort arrives at time 0.
#[derive(Debug)]
pub struct ArrivalClock {
    key: u64,
    mean_spacing_ms: Option<f64>,
    citizens: u64,
    shard: u64,
    shards: u64,
    /// The next citizen index to consider, and the arrival time of the one before it.
    next: u64,
    elapsed_ms: f64,
    peeked: Option<(SimTime, u64)>,
}

impl ArrivalClock {
    pub fn new(
        chance: &Chance,
        per_day: Option<f64>,
        citizens: u64,
        shard: u64,
        shards: u64,
    ) -> Self {
        let mut clock = Self {
            key: chance.subkey(0xA771_7A15),
            mean_spacing_ms: per_day.map(|r| MS_PER_DAY as f64 / r),
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
            if let Some(mean) = self.mean_spacing_ms {
                // 53-bit uniform in (0, 1]; the logarithm stays finite.
                let u = ((mix64(self.key ^ k) >> 11) + 1) as f64 / (1u64 << 53) as f64;
                self.elapsed_ms += -u.ln() * mean;
            }
            if k % self.shards == self.shard {
                return Some((SimTime::from_millis(self.elapsed_ms as u64), k));
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
        let all: Vec<_> = ArrivalClock::new(&chance, Some(1000.0), 50, 0, 1).collect();
        let mut merged: Vec<_> = (0..3)
            .flat_map(|s| ArrivalClock::new(&chance, Some(1000.0), 50, s, 3).collect::<Vec<_>>())
            .collect();
        merged.sort_by_key(|a| a.1);
        assert_eq!(all, merged);
        assert!(all.windows(2).all(|w| w[0].0 <= w[1].0));
        // 1000 a day: 50 citizens in about 72 minutes.
        let last_min = all.last().unwrap().0.as_millis() / 60_000;
        assert!((30..150).contains(&last_min), "{last_min}");
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
