//! A mock's capacity at runtime: the [`Station`]s of its profile's `capacity` (one for most
//! mocks, one per bank, one per service center), offered each request at the world's `now`
//! with its sampled latency (speedup applied) as the service time, and the refusals counted for
//! `/metrics`.
//!
//! The station follows the profile: when a request finds the profile's capacity changed (a `PUT
//! .../admin/profile`, a reset), its station is rebuilt empty, so requests admitted before keep
//! the times they were given and the new figures apply from the next one. An agency without a
//! capacity has no station: [`Stations::offer`] says so and the mock answers after the latency
//! alone, as it always did.
//!
//! A refusal is [`MockError::Busy`] (429 with `Retry-After`); the SMEV mocks wrap it in
//! SMEV's `requestIsRejectedBySmev` and the centers in their `queue` answer. The response
//! carries a [`Refused`] mark, so the journal shows the refusal as the metrics count it.

use super::error::MockError;
use crate::agency::capacity::{Admission, Capacity, Refusal, Station};
use crate::agency::profile::Fate;
use crate::clock::SimTime;
use serde::Serialize;
use std::sync::{Mutex, MutexGuard};

/// The stations of one mock.
#[derive(Debug)]
pub struct Stations {
    agency: &'static str,
    /// The world clock's scale (sim ms per wall ms), to give `Retry-After` in wall seconds.
    scale: f64,
    slots: Mutex<Vec<Slot>>,
}

#[derive(Debug)]
struct Slot {
    /// The `agency` label of `/metrics` (`banks.sber`; the centers all count as `centers`).
    label: &'static str,
    station: Option<Station>,
    /// Refusals since the start, `[queue_full, quota]`.
    refused: [u64; 2],
}

/// Where a request stands once offered to a station with a capacity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Admitted {
    /// When its service starts (it waits until then).
    pub start: SimTime,
    /// When its service ends: the answer's time.
    pub done: SimTime,
}

impl Admitted {
    /// Wait plus service from `now`: the delay of the answer.
    pub fn delay_ms(&self, now: SimTime) -> u64 {
        self.done.ms_since(now)
    }
}

/// What one label's stations hold and refused, as `/metrics` shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StationLoad {
    /// `pfr`, `sms`, `banks.sber`, `centers`...
    pub agency: &'static str,
    /// Whether the agency has a capacity now (without one, nothing is counted in service or
    /// queued).
    pub limited: bool,
    /// Requests being served.
    pub in_service: u64,
    /// Requests waiting for a server.
    pub queued: u64,
    /// Requests refused because every server was busy and the queue full, since the start.
    pub refused_queue_full: u64,
    /// Requests refused because the quota (`rate`) was spent, since the start.
    pub refused_quota: u64,
}

/// The mark on a response whose request a station refused, for the journal: the reason and how
/// many requests (messages of a batch) it refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refused {
    pub reason: Refusal,
    pub count: u32,
}

impl Stations {
    /// One station for `agency` on a world clock of `scale`.
    pub fn one(agency: &'static str, scale: f64) -> Self {
        Self::labelled(agency, scale, [agency])
    }

    /// One station a label of `labels` (the metrics add up the stations of one label).
    pub fn labelled(
        agency: &'static str,
        scale: f64,
        labels: impl IntoIterator<Item = &'static str>,
    ) -> Self {
        let slots = labels
            .into_iter()
            .map(|label| Slot {
                label,
                station: None,
                refused: [0; 2],
            })
            .collect();
        Self {
            agency,
            scale,
            slots: Mutex::new(slots),
        }
    }

    fn slots(&self) -> MutexGuard<'_, Vec<Slot>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Offers a request arriving at `now` that needs `service_ms` at a server of station
    /// `index` (0 for a mock with one), whose profile's capacity is `capacity`; `opening` maps
    /// a moment to the first at or after it when the agency serves. `Ok(None)`: no capacity,
    /// answer after `service_ms` as without one. A refusal is counted and returned as
    /// [`MockError::Busy`].
    pub fn offer(
        &self,
        index: usize,
        capacity: Option<&Capacity>,
        now: SimTime,
        service_ms: u64,
        opening: impl Fn(SimTime) -> SimTime,
    ) -> Result<Option<Admitted>, MockError> {
        let mut slots = self.slots();
        let Some(slot) = slots.get_mut(index) else {
            return Ok(None);
        };
        let Some(capacity) = capacity else {
            slot.station = None;
            return Ok(None);
        };
        let station = match &mut slot.station {
            Some(s) if s.capacity() == capacity => s,
            other => other.insert(Station::new(capacity.clone())),
        };
        // No patience: a caller that stops waiting closes its connection or times out.
        match station.offer(now, service_ms, None, opening) {
            Admission::Served { start, done } => Ok(Some(Admitted { start, done })),
            Admission::Refused {
                reason,
                retry_after_ms,
            } => {
                slot.refused[reason as usize] += 1;
                Err(self.busy(reason, retry_after_ms, 1))
            }
            Admission::GivesUp { at } => {
                // Cannot happen without a patience; counted as a full queue if it ever does.
                slot.refused[Refusal::QueueFull as usize] += 1;
                Err(self.busy(Refusal::QueueFull, at.ms_since(now), 1))
            }
        }
    }

    /// [`Stations::offer`] for a request whose fate is drawn: an answer's delay becomes the
    /// wait plus the service; a failure (error, outage, no answer) never reaches a server and
    /// passes unchanged.
    pub fn admit(
        &self,
        index: usize,
        capacity: Option<&Capacity>,
        now: SimTime,
        fate: Fate,
        opening: impl Fn(SimTime) -> SimTime,
    ) -> Result<Fate, MockError> {
        match fate {
            Fate::Answer { delay_ms } => {
                let admitted = self.offer(index, capacity, now, delay_ms, opening)?;
                Ok(Fate::Answer {
                    delay_ms: admitted.map_or(delay_ms, |a| a.delay_ms(now)),
                })
            }
            other => Ok(other),
        }
    }

    /// The refusal of `count` requests for `reason`, to ask again after `retry_after_ms` of
    /// the world's clock.
    pub fn busy(&self, reason: Refusal, retry_after_ms: u64, count: u32) -> MockError {
        MockError::Busy {
            agency: self.agency,
            reason,
            retry_after_s: retry_after_s(retry_after_ms, self.scale),
            count,
        }
    }

    /// Counts `count` more requests refused for `reason` at station `index` without offering
    /// them (the rest of a batch once one message was refused: they would be too).
    pub fn count_refused(&self, index: usize, reason: Refusal, count: u64) {
        if let Some(slot) = self.slots().get_mut(index) {
            slot.refused[reason as usize] += count;
        }
    }

    /// What each label's stations hold at `now` and refused so far, in the order of the labels.
    pub fn loads(&self, now: SimTime) -> Vec<StationLoad> {
        let mut out: Vec<StationLoad> = Vec::new();
        for slot in self.slots().iter_mut() {
            let i = match out.iter().position(|l| l.agency == slot.label) {
                Some(i) => i,
                None => {
                    out.push(StationLoad {
                        agency: slot.label,
                        ..StationLoad::default()
                    });
                    out.len() - 1
                }
            };
            let load = &mut out[i];
            if let Some(station) = &mut slot.station {
                let o = station.occupancy(now);
                load.limited = true;
                load.in_service += o.in_service;
                load.queued += o.queued;
            }
            load.refused_queue_full += slot.refused[Refusal::QueueFull as usize];
            load.refused_quota += slot.refused[Refusal::Quota as usize];
        }
        out
    }

    /// Empties every station (a reset); the refusal counts stay, as counters do.
    pub fn clear(&self) {
        for slot in self.slots().iter_mut() {
            slot.station = None;
        }
    }
}

/// The `Retry-After` of a refusal: whole seconds of wall time, rounded up, at least 1, for a
/// wait of `retry_after_ms` on a world clock running `scale` times the wall.
pub fn retry_after_s(retry_after_ms: u64, scale: f64) -> u64 {
    let wall_ms = if scale > 0.0 && scale.is_finite() {
        (retry_after_ms as f64 / scale).ceil()
    } else {
        retry_after_ms as f64
    };
    ((wall_ms / 1_000.0).ceil() as u64).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> SimTime {
        SimTime::from_millis(ms)
    }

    #[test]
    fn no_capacity_no_station() {
        let s = Stations::one("pfr", 1.0);
        assert_eq!(s.offer(0, None, at(0), 10, |t| t).unwrap(), None);
        assert_eq!(
            s.loads(at(0)),
            vec![StationLoad {
                agency: "pfr",
                ..StationLoad::default()
            }]
        );
    }

    #[test]
    fn a_station_queues_refuses_counts_and_follows_the_profile() {
        let s = Stations::one("pfr", 1.0);
        let c = Capacity {
            servers: 1,
            queue: Some(1),
            rate: None,
        };
        let first = s.offer(0, Some(&c), at(0), 1_000, |t| t).unwrap().unwrap();
        assert_eq!((first.start, first.done), (at(0), at(1_000)));
        let second = s.offer(0, Some(&c), at(0), 1_000, |t| t).unwrap().unwrap();
        assert_eq!(second.delay_ms(at(0)), 2_000);
        let refused = s.offer(0, Some(&c), at(0), 1_000, |t| t).unwrap_err();
        assert_eq!(
            refused,
            MockError::Busy {
                agency: "pfr",
                reason: Refusal::QueueFull,
                retry_after_s: 1,
                count: 1
            }
        );
        let load = &s.loads(at(500))[0];
        assert_eq!((load.limited, load.in_service, load.queued), (true, 1, 1));
        assert_eq!((load.refused_queue_full, load.refused_quota), (1, 0));
        // Another capacity: a new, empty station; the count stays.
        let more = Capacity::servers(5);
        let again = s
            .offer(0, Some(&more), at(600), 1_000, |t| t)
            .unwrap()
            .unwrap();
        assert_eq!(again.start, at(600));
        assert_eq!(s.loads(at(600))[0].refused_queue_full, 1);
        s.count_refused(0, Refusal::Quota, 3);
        assert_eq!(s.loads(at(600))[0].refused_quota, 3);
        s.clear();
        assert!(!s.loads(at(600))[0].limited);
    }

    #[test]
    fn labels_add_up() {
        let s = Stations::labelled("centers", 1.0, ["centers", "centers", "other"]);
        let c = Capacity::servers(1);
        for i in 0..3 {
            s.offer(i, Some(&c), at(0), 100, |t| t).unwrap();
        }
        let loads = s.loads(at(10));
        assert_eq!(loads.len(), 2);
        assert_eq!((loads[0].agency, loads[0].in_service), ("centers", 2));
        assert_eq!((loads[1].agency, loads[1].in_service), ("other", 1));
    }

    #[test]
    fn retry_after_rounds_up_to_wall_seconds() {
        assert_eq!(retry_after_s(1, 1.0), 1);
        assert_eq!(retry_after_s(1_000, 1.0), 1);
        assert_eq!(retry_after_s(1_001, 1.0), 2);
        assert_eq!(retry_after_s(60_000, 60.0), 1);
        assert_eq!(retry_after_s(1_000, 0.5), 2);
    }
}
