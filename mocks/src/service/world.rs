//! The world's shared clock on a server: a [`WallClock`] that every mock and the engine read,
//! advanced for all at once by `POST /mocks/admin/clock/advance`, with a signal that wakes every
//! sleeper so it re-arms its timer.
//!
//! Timers are absolute sim deadlines: [`World::sleep_until`] converts one to a wall instant with
//! [`WallClock::instant_at`] and sleeps until it, and converts again whenever the clock is
//! advanced (DESIGN.md core idea 6: never a chain of relative sleeps).

use crate::clock::{Clock, ClockError, Epoch, SimTime, WallClock};
use serde::Serialize;
use std::sync::Arc;
use tokio::sync::watch;

/// The clock of a running stand, shared by the engine and every mock.
#[derive(Debug)]
pub struct World {
    clock: WallClock,
    epoch: Epoch,
    /// Counts advances; sleepers watch it to re-arm their timers.
    advances: watch::Sender<u64>,
}

/// The clock as `GET /mocks/admin/clock` shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClockView {
    /// Sim time now, RFC 3339 UTC.
    pub now: String,
    /// Sim time now, milliseconds since the epoch.
    pub now_ms: u64,
    /// Sim milliseconds per wall millisecond.
    pub scale: f64,
    /// The calendar date of sim time 0.
    pub epoch: Epoch,
    /// Milliseconds added by advances so far.
    pub advanced_ms: u64,
}

impl World {
    /// A world at `start` running `scale` times faster than the wall.
    pub fn new(epoch: Epoch, start: SimTime, scale: f64) -> Result<Arc<Self>, ClockError> {
        Ok(Arc::new(Self {
            clock: WallClock::with_scale(start, scale)?,
            epoch,
            advances: watch::Sender::new(0),
        }))
    }

    /// Sim time now.
    pub fn now(&self) -> SimTime {
        self.clock.now()
    }

    /// The calendar date of sim time 0.
    pub fn epoch(&self) -> Epoch {
        self.epoch
    }

    /// The clock underneath.
    pub fn clock(&self) -> &WallClock {
        &self.clock
    }

    /// `t` as an RFC 3339 UTC timestamp.
    pub fn rfc3339(&self, t: SimTime) -> String {
        self.epoch.rfc3339(t)
    }

    /// Moves the whole world `ms` forward and wakes every sleeper; returns the new time.
    pub fn advance(&self, ms: u64) -> SimTime {
        let now = self.clock.advance(ms);
        self.advances.send_modify(|n| *n = n.wrapping_add(1));
        now
    }

    /// A receiver that changes on every advance.
    pub fn advances(&self) -> watch::Receiver<u64> {
        self.advances.subscribe()
    }

    /// The clock as the admin API shows it.
    pub fn view(&self) -> ClockView {
        let now = self.now();
        ClockView {
            now: self.rfc3339(now),
            now_ms: now.as_millis(),
            scale: self.clock.scale(),
            epoch: self.epoch,
            advanced_ms: self.clock.advanced_ms(),
        }
    }

    /// Sleeps until sim time reaches `deadline`, re-arming when the clock is advanced.
    pub async fn sleep_until(&self, deadline: SimTime) {
        let mut advances = self.advances();
        loop {
            if self.now() >= deadline {
                return;
            }
            let at = tokio::time::Instant::from_std(self.clock.instant_at(deadline));
            tokio::select! {
                _ = tokio::time::sleep_until(at) => {}
                changed = advances.changed() => {
                    if changed.is_err() {
                        // The world is gone: only the wall timer is left.
                        tokio::time::sleep_until(at).await;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::MS_PER_DAY;

    #[tokio::test]
    async fn advancing_wakes_a_sleeper_at_once() {
        let world = World::new(Epoch::default(), SimTime::ZERO, 1.0).unwrap();
        let w = world.clone();
        let sleeper = tokio::spawn(async move {
            w.sleep_until(SimTime::from_millis(3 * MS_PER_DAY)).await;
            w.now()
        });
        tokio::task::yield_now().await;
        world.advance(3 * MS_PER_DAY);
        let woke_at = tokio::time::timeout(std::time::Duration::from_secs(5), sleeper)
            .await
            .expect("the sleeper woke")
            .unwrap();
        assert!(woke_at >= SimTime::from_millis(3 * MS_PER_DAY));
        let view = world.view();
        assert_eq!(view.advanced_ms, 3 * MS_PER_DAY);
        assert!(view.now.starts_with("2026-01-04T"), "{}", view.now);
    }
}
