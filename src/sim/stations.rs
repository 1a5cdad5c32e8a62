//! The agencies with a capacity in a simulation: one [`Station`] per agency (one per center for
//! the service centers), shared by every citizen of the run, and their [`QueueStats`].
//!
//! A station must be offered requests in time order, and which request comes first among those
//! at one millisecond decides who waits: the simulator's single event loop (see the module doc
//! of [`crate::sim`]) offers them in the order of (time, scheduling order), the same whatever
//! `--threads` says.

use super::World;
use crate::queueing::QueueStats;
use esia_mocks::agency::capacity::{Admission, Station};
use esia_mocks::agency::{Agencies, Profile};
use esia_mocks::clock::SimTime;
use std::collections::BTreeMap;

/// An agency as the simulator queues at it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Office {
    Pfr,
    Fms,
    Ca,
    Sms,
    Mail,
    Post,
    Sber,
    Tinkoff,
    Pochta,
    Centers,
}

impl Office {
    pub const ALL: [Office; 10] = [
        Office::Pfr,
        Office::Fms,
        Office::Ca,
        Office::Sms,
        Office::Mail,
        Office::Post,
        Office::Sber,
        Office::Tinkoff,
        Office::Pochta,
        Office::Centers,
    ];

    /// The scenario's name of the agency's table (`banks.sber` for a bank).
    pub fn name(self) -> &'static str {
        match self {
            Office::Pfr => "pfr",
            Office::Fms => "fms",
            Office::Ca => "ca",
            Office::Sms => "sms",
            Office::Mail => "mail",
            Office::Post => "post",
            Office::Sber => "banks.sber",
            Office::Tinkoff => "banks.tinkoff",
            Office::Pochta => "banks.pochta",
            Office::Centers => "centers",
        }
    }

    /// The agency's service profile.
    pub fn profile(self, a: &Agencies) -> &Profile {
        match self {
            Office::Pfr => &a.pfr.service,
            Office::Fms => &a.fms.service,
            Office::Ca => &a.ca.service,
            Office::Sms => &a.sms.service,
            Office::Mail => &a.mail.service,
            Office::Post => &a.post.service,
            Office::Sber => &a.banks.sber.service,
            Office::Tinkoff => &a.banks.tinkoff.service,
            Office::Pochta => &a.banks.pochta.service,
            Office::Centers => &a.centers.service,
        }
    }
}

struct Desk {
    stations: Vec<Station>,
    stats: QueueStats,
}

/// Every agency's station in a run (none for an agency without a capacity).
pub struct Stations {
    desks: [Option<Desk>; Office::ALL.len()],
    /// `[warmup, horizon)`: the requests and the time the statistics count.
    window: (SimTime, SimTime),
}

impl Stations {
    /// No station: every agency unlimited.
    pub fn none() -> Self {
        Self {
            desks: Default::default(),
            window: (SimTime::ZERO, SimTime::ZERO),
        }
    }

    /// The stations of `world`'s agencies that have a capacity.
    pub fn new(world: &World) -> Self {
        let window = (
            SimTime::from_millis(world.scenario.warmup.min(world.horizon.as_millis())),
            world.horizon,
        );
        let days = world.days();
        let desks = Office::ALL.map(|office| {
            let capacity = office.profile(&world.scenario.agencies).capacity.clone()?;
            let servers = u64::from(capacity.servers);
            Some(if office == Office::Centers {
                let mut stats = QueueStats::new(servers * world.centers.len() as u64, days);
                for center in &world.centers {
                    for (from, to) in center.open_windows(world.epoch, window.0, window.1) {
                        stats.add_time(from, to, window, false, servers);
                    }
                }
                Desk {
                    stations: world
                        .centers
                        .iter()
                        .map(|_| Station::new(capacity.clone()))
                        .collect(),
                    stats,
                }
            } else {
                let mut stats = QueueStats::new(servers, days);
                stats.add_time(window.0, window.1, window, false, servers);
                Desk {
                    stations: vec![Station::new(capacity)],
                    stats,
                }
            })
        });
        Self { desks, window }
    }

    /// Whether any agency has a capacity.
    pub fn any(&self) -> bool {
        self.desks.iter().any(Option::is_some)
    }

    /// Whether `office` has a capacity.
    #[inline]
    pub fn has(&self, office: Office) -> bool {
        self.desks[office as usize].is_some()
    }

    /// Offers a request arriving at `now` to `office` (station `index`: the center's index in
    /// the directory, else 0); `None` when the office has no capacity. See [`Station::offer`].
    pub fn offer(
        &mut self,
        office: Office,
        index: usize,
        now: SimTime,
        service_ms: u64,
        patience_ms: Option<u64>,
        opening: impl Fn(SimTime) -> SimTime,
    ) -> Option<Admission> {
        let window = self.window;
        let desk = self.desks[office as usize].as_mut()?;
        let station = &mut desk.stations[index];
        let admission = station.offer(now, service_ms, patience_ms, opening);
        if now >= window.0 {
            desk.stats.record(now, station.found_queued(), &admission);
        }
        if let Admission::Served { start, done } = admission {
            desk.stats.add_time(start, done, window, true, 1);
        }
        Some(admission)
    }

    /// The statistics of every agency with a capacity, by name.
    pub fn into_stats(self) -> BTreeMap<&'static str, QueueStats> {
        Office::ALL
            .into_iter()
            .zip(self.desks)
            .filter_map(|(office, desk)| Some((office.name(), desk?.stats)))
            .collect()
    }
}
