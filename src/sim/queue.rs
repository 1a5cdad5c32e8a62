//! The simulator's event queue and arrival process.
//!
//! Events are ordered by (time, sequence number): the sequence breaks ties in the order events
//! were scheduled, so a shard's run is deterministic. Arrivals are not queued in advance: the
//! [`ArrivalClock`] yields the next arrival on demand, so memory holds only live citizens.

use super::citizen::Kind;
use esia_mocks::chance::{mix64, Chance};
use esia_mocks::clock::{SimTime, MS_PER_DAY};
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

/// One scheduled event of one live citizen.
#[derive(Clone, Copy, Debug)]
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

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.seq) == (other.time, other.seq)
    }
}
impl Eq for Event {}
impl PartialOrd for Event {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Event {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.time, self.seq).cmp(&(other.time, other.seq))
    }
}

/// A min-queue of events.
#[derive(Debug, Default)]
pub struct Queue {
    heap: BinaryHeap<Reverse<Event>>,
    seq: u64,
}

impl Queue {
    /// Schedules `kind` for the citizen in `slot` at `time`.
    pub fn push(&mut self, time: SimTime, slot: u32, generation: u32, kind: Kind) {
        self.seq += 1;
        self.heap.push(Reverse(Event {
            time,
            seq: self.seq,
            slot,
            generation,
            kind,
        }));
    }

    /// The time of the next event.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|e| e.0.time)
    }

    /// The next event.
    pub fn pop(&mut self) -> Option<Event> {
        self.heap.pop().map(|e| e.0)
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
}
