//! Which citizens a load run takes: `--shard i/n` cuts the population into n disjoint slices,
//! and an atomic cursor hands this machine's slice out one citizen at a time, so no two goose
//! users ever walk with the same citizen (a citizen that does not fit a path is skipped, never
//! handed out twice).

use esia_mocks::population::{Citizen, Population};
use std::ops::Range;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

/// Slice `index` (0-based) of `count`: written `i/n` with i from 1 to n.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    index: u64,
    count: u64,
}

/// A `--shard` that is not `i/n` with 1 <= i <= n.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--shard {0:?}: expected i/n with 1 <= i <= n, e.g. 2/4")]
pub struct ShardError(pub String);

impl Shard {
    /// The whole population, one machine.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Slice `i` (1-based) of `n`.
    pub fn new(i: u64, n: u64) -> Result<Self, ShardError> {
        if n == 0 || i == 0 || i > n {
            return Err(ShardError(format!("{i}/{n}")));
        }
        Ok(Self {
            index: i - 1,
            count: n,
        })
    }

    /// The citizens `0..population` this shard takes: consecutive, disjoint from every other
    /// shard's, together covering the population.
    pub fn slice(&self, population: u64) -> Range<u64> {
        let at = |k: u64| (u128::from(population) * u128::from(k) / u128::from(self.count)) as u64;
        at(self.index)..at(self.index + 1)
    }

    /// `i/n`, 1-based as written.
    pub fn label(&self) -> String {
        format!("{}/{}", self.index + 1, self.count)
    }
}

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ShardError(s.to_owned());
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let i = i.trim().parse().map_err(|_| bad())?;
        let n = n.trim().parse().map_err(|_| bad())?;
        Shard::new(i, n).map_err(|_| bad())
    }
}

/// Hands out the citizens of a slice, each at most once, across threads.
#[derive(Debug)]
pub struct CitizenCursor {
    range: Range<u64>,
    next: AtomicU64,
}

/// Why no citizen was handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoCitizen {
    /// Every citizen of the slice has been taken.
    Exhausted,
    /// `tries` citizens in a row did not fit (they are used up all the same).
    NoneFits { tries: u32 },
}

impl CitizenCursor {
    pub fn new(range: Range<u64>) -> Self {
        Self {
            next: AtomicU64::new(range.start),
            range,
        }
    }

    /// The next citizen index, once each.
    pub fn next_index(&self) -> Option<u64> {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        // Past the end the counter keeps growing harmlessly; u64 does not wrap in practice.
        (i < self.range.end).then_some(i)
    }

    /// The next citizen that `fits`, trying at most `tries` of them.
    pub fn take(
        &self,
        population: &Population,
        tries: u32,
        fits: impl Fn(&Citizen) -> bool,
    ) -> Result<Citizen, NoCitizen> {
        for _ in 0..tries {
            let i = self.next_index().ok_or(NoCitizen::Exhausted)?;
            let c = population.citizen(i);
            if fits(&c) {
                return Ok(c);
            }
        }
        Err(NoCitizen::NoneFits { tries })
    }

    /// Citizens taken so far (fitting or not).
    pub fn taken(&self) -> u64 {
        self.next
            .load(Ordering::Relaxed)
            .min(self.range.end)
            .saturating_sub(self.range.start)
    }

    pub fn range(&self) -> Range<u64> {
        self.range.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::sync::Arc;

    #[test]
    fn shards_are_disjoint_and_cover_the_population() {
        for population in [0u64, 1, 7, 1000, 100_003] {
            for n in 1..=7 {
                let mut next = 0;
                for i in 1..=n {
                    let s = Shard::new(i, n).unwrap().slice(population);
                    assert_eq!(s.start, next, "{population} {i}/{n}");
                    assert!(s.end >= s.start);
                    // Sizes differ by at most one.
                    assert!(s.end - s.start <= population / n + 1);
                    next = s.end;
                }
                assert_eq!(next, population);
            }
        }
    }

    #[test]
    fn shard_syntax() {
        assert_eq!("2/4".parse::<Shard>().unwrap().label(), "2/4");
        assert_eq!("1/1".parse::<Shard>().unwrap(), Shard::WHOLE);
        for bad in ["0/4", "5/4", "1/0", "2", "a/b", "-1/2", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        assert_eq!(Shard::new(3, 3).unwrap().slice(10), 6..10);
    }

    #[test]
    fn the_cursor_hands_each_citizen_out_once_across_threads() {
        let cursor = Arc::new(CitizenCursor::new(100..10_100));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let c = cursor.clone();
                std::thread::spawn(move || {
                    let mut got = Vec::new();
                    while let Some(i) = c.next_index() {
                        got.push(i);
                    }
                    got
                })
            })
            .collect();
        let mut all = HashSet::new();
        for h in handles {
            for i in h.join().unwrap() {
                assert!(all.insert(i), "{i} twice");
            }
        }
        assert_eq!(all.len(), 10_000);
        assert!(all.iter().all(|i| (100..10_100).contains(i)));
        assert_eq!(cursor.taken(), 10_000);
    }

    #[test]
    fn take_skips_citizens_that_do_not_fit() {
        let p = Population::new(1, Default::default()).unwrap();
        let cursor = CitizenCursor::new(0..50);
        let c = cursor.take(&p, 50, |c| c.id % 7 == 3).unwrap();
        assert_eq!(c.id, 3);
        assert_eq!(
            cursor.take(&p, 2, |_| false),
            Err(NoCitizen::NoneFits { tries: 2 })
        );
        let cursor = CitizenCursor::new(0..1);
        cursor.take(&p, 1, |_| true).unwrap();
        assert_eq!(cursor.take(&p, 1, |_| true), Err(NoCitizen::Exhausted));
    }
}
