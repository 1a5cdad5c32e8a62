//! The world's shared clock on a server: a [`WallClock`] that every mock and the engine read,
//! with the agenda of everything scheduled on it, and the advance that runs that agenda in
//! time order (`POST /mocks/admin/clock/advance`).
//!
//! Timers are absolute sim deadlines: [`World::sleep_until`] converts one to a wall instant with
//! [`WallClock::instant_at`] and sleeps until it, and converts again whenever the clock moves
//! by an advance (DESIGN.md core idea 6: never a chain of relative sleeps).
//!
//! An advance keeps the order of events. It holds the clock, then steps it to each instant at
//! which something is due inside the skipped interval, in time order: a sleeper's deadline
//! ([`World::sleep_until`]), or the next due time a part of the stand reports through
//! [`Agenda`] (PFR's and FMS's answers, the engine's verification deadlines). At each instant it
//! waits until the world has settled: nothing due at or before it is left on any agenda and no
//! [`Work`] is alive. Work is whatever was set off by the clock or by a client and is not done
//! yet: a callback in flight, an effect the engine queued, a poll a callback asked for. A part
//! that takes work off its agenda counts it (takes a [`Work`]) first, and work that hands on to
//! other work counts the next before it drops its own, so the world never looks settled in
//! between. Each thing due thus runs at its own time, seeing what was due before it done; only
//! then does the clock show the target and run again. A part that never settles (a callback to
//! an engine that does not answer) delays one step by at most [`SETTLE_WAIT_MAX`] of wall time.

use crate::clock::{Clock, ClockError, Epoch, SimTime, WallClock};
use crate::wire::clock::ClockView;
use crate::wire::Timestamp;
use std::collections::BTreeSet;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// The longest an advance waits, in wall time, for the work due at one instant to be done.
pub const SETTLE_WAIT_MAX: Duration = Duration::from_secs(10);

/// A part of the stand with work scheduled at sim times of its own (not through
/// [`World::sleep_until`]): it reports the earliest, and takes due work off its agenda only
/// after counting it with [`World::work`].
pub trait Agenda: Send + Sync {
    /// The earliest sim time at or after `from` at which this part has work scheduled.
    fn next_due(&self, from: SimTime) -> Option<SimTime>;
}

/// Work in progress that an advance waits for: counted while this value lives.
#[must_use = "the work is counted only while the value lives"]
pub struct Work(Arc<Busy>);

impl fmt::Debug for Work {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Work")
    }
}

impl Drop for Work {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

/// The count of work alive, and a signal when it falls to zero.
#[derive(Debug, Default)]
struct Busy {
    count: AtomicUsize,
    idle: Notify,
}

/// What is scheduled on the world's clock.
#[derive(Default)]
struct Schedule {
    /// Sleepers of [`World::sleep_until`]: (deadline, sleeper number).
    sleepers: BTreeSet<(SimTime, u64)>,
    next_sleeper: u64,
    parts: Vec<Weak<dyn Agenda>>,
}

/// The clock of a running stand, shared by the engine and every mock.
pub struct World {
    clock: WallClock,
    epoch: Epoch,
    /// Counts moves of the clock by an advance; sleepers watch it to re-arm their timers.
    advances: watch::Sender<u64>,
    busy: Arc<Busy>,
    schedule: Mutex<Schedule>,
    /// One advance at a time.
    advancing: tokio::sync::Mutex<()>,
}

impl fmt::Debug for World {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("World")
            .field("clock", &self.clock)
            .field("epoch", &self.epoch)
            .finish_non_exhaustive()
    }
}

/// The clock held by an advance; released (and sleepers told) when the advance ends or is
/// dropped.
struct Held<'a>(&'a World);

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.0.clock.release();
        self.0.moved();
    }
}

/// A sleeper's place on the schedule; leaving (woken or dropped) takes it off.
struct Sleeper<'a> {
    world: &'a World,
    key: (SimTime, u64),
}

impl Drop for Sleeper<'_> {
    fn drop(&mut self) {
        self.world.schedule().sleepers.remove(&self.key);
        // An advance waiting for this deadline looks again (the sleeper may have been dropped
        // without taking work).
        self.world.busy.idle.notify_waiters();
    }
}

impl World {
    /// A world at `start` running `scale` times faster than the wall.
    pub fn new(epoch: Epoch, start: SimTime, scale: f64) -> Result<Arc<Self>, ClockError> {
        Ok(Arc::new(Self {
            clock: WallClock::with_scale(start, scale)?,
            epoch,
            advances: watch::Sender::new(0),
            busy: Arc::default(),
            schedule: Mutex::default(),
            advancing: tokio::sync::Mutex::new(()),
        }))
    }

    fn schedule(&self) -> std::sync::MutexGuard<'_, Schedule> {
        self.schedule.lock().unwrap_or_else(|e| e.into_inner())
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

    /// True while an advance holds the clock (it runs the work due in its interval).
    pub fn is_held(&self) -> bool {
        self.clock.held().is_some()
    }

    /// `t` as an RFC 3339 UTC timestamp.
    pub fn rfc3339(&self, t: SimTime) -> String {
        self.epoch.rfc3339(t)
    }

    /// Sim time `t` as the wire writes it.
    pub fn timestamp(&self, t: SimTime) -> Timestamp {
        Timestamp::at(self.epoch, t)
    }

    /// Counts a piece of work until the value is dropped (see the module's doc).
    pub fn work(&self) -> Work {
        self.busy.count.fetch_add(1, Ordering::SeqCst);
        Work(self.busy.clone())
    }

    /// Adds a part whose scheduled work an advance runs in order (kept while it lives).
    pub fn add_agenda(&self, part: Weak<dyn Agenda>) {
        let mut s = self.schedule();
        s.parts.retain(|p| p.strong_count() > 0);
        s.parts.push(part);
    }

    /// A receiver that changes whenever an advance moves the clock.
    pub fn advances(&self) -> watch::Receiver<u64> {
        self.advances.subscribe()
    }

    fn moved(&self) {
        self.advances.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// The earliest time at or after `from` at which anything is scheduled.
    fn next_due(&self, from: SimTime) -> Option<SimTime> {
        let (sleeper, parts) = {
            let s = self.schedule();
            let sleeper = s.sleepers.range((from, 0)..).next().map(|(t, _)| *t);
            (sleeper, s.parts.clone())
        };
        // The parts are asked outside the schedule's lock: they take locks of their own.
        parts
            .iter()
            .filter_map(Weak::upgrade)
            .filter_map(|p| p.next_due(from))
            .chain(sleeper)
            .min()
    }

    /// Whether everything due by `now` is done: nothing due on any agenda, no work alive.
    fn settled(&self, now: SimTime) -> bool {
        // Agendas first, then the count: a part counts work before it takes it off its agenda.
        if self.next_due(SimTime::ZERO).is_some_and(|t| t <= now) {
            return false;
        }
        self.busy.count.load(Ordering::SeqCst) == 0
    }

    /// Waits until everything due by now is done (at most [`SETTLE_WAIT_MAX`] of wall time);
    /// false if it gave up waiting.
    pub async fn settle(&self) -> bool {
        let give_up = tokio::time::Instant::now() + SETTLE_WAIT_MAX;
        loop {
            let idle = self.busy.idle.notified();
            tokio::pin!(idle);
            idle.as_mut().enable();
            if self.settled(self.now()) {
                return true;
            }
            // The last work ending wakes us (a part takes due work off its agenda under a
            // [`Work`], so that counts too), and so does a sleeper leaving the schedule.
            let gave_up = tokio::select! {
                _ = &mut idle => false,
                _ = tokio::time::sleep_until(give_up) => true,
            };
            if gave_up {
                let settled = self.settled(self.now());
                if !settled {
                    tracing::warn!(
                        busy = self.busy.count.load(Ordering::SeqCst),
                        "the world did not settle; the clock moves on"
                    );
                }
                return settled;
            }
        }
    }

    /// Moves the whole world `ms` forward, running everything due in between in time order
    /// (see the module's doc); returns the new time. Dropped before it ends, it lets the clock
    /// run again from the step it reached (the HTTP route runs it in a task of its own, so a
    /// client that hangs up does not cut it short).
    pub async fn advance(&self, ms: u64) -> SimTime {
        let _one = self.advancing.lock().await;
        let held = Held(self);
        let from = self.clock.hold();
        let target = from.saturating_add(ms);
        let mut steps = 0u64;
        loop {
            self.settle().await;
            let now = self.now();
            match self.next_due(now.saturating_add(1)) {
                Some(t) if t <= target => {
                    self.clock.step_to(t);
                    self.moved();
                    steps += 1;
                }
                _ => break,
            }
        }
        if self.now() < target {
            self.clock.step_to(target);
            self.moved();
            self.settle().await;
        }
        drop(held);
        tracing::debug!(ms, steps, "advanced through the due instants");
        self.now()
    }

    /// The clock as the admin API shows it.
    pub fn view(&self) -> ClockView {
        let now = self.now();
        ClockView {
            now: self.timestamp(now),
            now_ms: now.as_millis(),
            scale: self.clock.scale(),
            epoch: self.epoch,
            advanced_ms: self.clock.advanced_ms(),
        }
    }

    /// Sleeps until sim time reaches `deadline`, re-arming when the clock is advanced; an
    /// advance steps the clock to the deadline and waits for the work the sleeper goes on to do:
    /// the [`Work`] returned, which the caller keeps until that work is done. The deadline is on
    /// the schedule from this call, before the future is first polled, so work in progress can
    /// schedule its follow-up before it ends (`let next = world.sleep_until(t); drop(work);`).
    pub fn sleep_until(&self, deadline: SimTime) -> impl std::future::Future<Output = Work> + '_ {
        let key = {
            let mut s = self.schedule();
            s.next_sleeper += 1;
            let key = (deadline, s.next_sleeper);
            s.sleepers.insert(key);
            key
        };
        let place = Sleeper { world: self, key };
        async move {
            let mut advances = self.advances();
            loop {
                if self.now() >= deadline {
                    // Counted before it leaves the schedule.
                    let work = self.work();
                    drop(place);
                    return work;
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
}

impl Clock for World {
    fn now(&self) -> SimTime {
        self.clock.now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{MS_PER_DAY, MS_PER_HOUR};

    #[tokio::test]
    async fn advancing_wakes_a_sleeper_at_its_deadline() {
        let world = World::new(Epoch::default(), SimTime::ZERO, 1.0).unwrap();
        let w = world.clone();
        let deadline = SimTime::from_millis(3 * MS_PER_DAY);
        let sleeper = tokio::spawn(async move {
            let _work = w.sleep_until(deadline).await;
            w.now()
        });
        while world.next_due(SimTime::ZERO).is_none() {
            tokio::task::yield_now().await;
        }
        world.advance(4 * MS_PER_DAY).await;
        let woke_at = tokio::time::timeout(Duration::from_secs(5), sleeper)
            .await
            .expect("the sleeper woke")
            .unwrap();
        assert_eq!(woke_at, deadline, "woken with the clock at its deadline");
        let view = world.view();
        assert_eq!(view.advanced_ms, 4 * MS_PER_DAY);
        assert!(view.now.starts_with("2026-01-05T00:00:0"), "{}", view.now);
    }

    /// A chain of sleepers, each starting the next when it wakes (as an agency's answer sets
    /// off a callback that sets off a notification): every link runs at its own time.
    async fn chain(world: Arc<World>, start: SimTime, links: u64, gap_ms: u64) -> Vec<SimTime> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (w, s) = (world.clone(), seen.clone());
        let links_task = tokio::spawn(async move {
            let mut at = start.saturating_add(gap_ms);
            let mut next = Box::pin(w.sleep_until(at));
            for link in 1..=links {
                let work = next.await;
                s.lock().unwrap().push(w.now());
                at = at.saturating_add(gap_ms);
                // The next link is scheduled before this one's work ends.
                next = Box::pin(w.sleep_until(if link < links { at } else { SimTime::MAX }));
                drop(work);
            }
        });
        while world.next_due(SimTime::ZERO).is_none() {
            tokio::task::yield_now().await;
        }
        world.advance(links * gap_ms + 1).await;
        links_task.await.unwrap();
        let seen = seen.lock().unwrap().clone();
        seen
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn work_set_off_by_due_work_runs_in_the_same_advance_in_order() {
        let world = World::new(Epoch::default(), SimTime::ZERO, 1.0).unwrap();
        let start = world.now();
        let seen = chain(world.clone(), start, 5, MS_PER_HOUR).await;
        let want: Vec<SimTime> = (1..=5)
            .map(|i| start.saturating_add(i * MS_PER_HOUR))
            .collect();
        assert_eq!(seen, want);
        assert!(world.now() >= start.saturating_add(5 * MS_PER_HOUR + 1));
        assert!(!world.is_held());
    }

    /// An agenda of fixed instants, each noted with the clock's time when its part runs it.
    struct Timetable {
        world: Arc<World>,
        due: Mutex<BTreeSet<SimTime>>,
        ran: Mutex<Vec<(SimTime, SimTime)>>,
    }

    impl Agenda for Timetable {
        fn next_due(&self, from: SimTime) -> Option<SimTime> {
            self.due.lock().unwrap().range(from..).next().copied()
        }
    }

    async fn run_timetable(t: Arc<Timetable>) {
        let mut advances = t.world.advances();
        loop {
            {
                let _pass = t.world.work();
                let now = t.world.now();
                let mut due = t.due.lock().unwrap();
                while let Some(first) = due.first().copied().filter(|d| *d <= now) {
                    due.remove(&first);
                    t.ran.lock().unwrap().push((first, now));
                }
            }
            if advances.changed().await.is_err() {
                return;
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_agenda_runs_at_each_of_its_instants_and_small_steps_equal_one_big() {
        let mut runs = Vec::new();
        for split in [1u64, 24] {
            let world = World::new(Epoch::default(), SimTime::ZERO, 1.0).unwrap();
            let base = world.now();
            let instants = [5, 17, 17, 40, 71].map(|h| base.saturating_add(h * MS_PER_HOUR));
            let t = Arc::new(Timetable {
                world: world.clone(),
                due: Mutex::new(instants.into_iter().collect()),
                ran: Mutex::new(Vec::new()),
            });
            let weak: Weak<Timetable> = Arc::downgrade(&t);
            world.add_agenda(weak);
            tokio::spawn(run_timetable(t.clone()));
            tokio::task::yield_now().await;
            for _ in 0..split {
                world.advance(72 * MS_PER_HOUR / split).await;
            }
            let ran: Vec<(u64, u64)> = t
                .ran
                .lock()
                .unwrap()
                .iter()
                .map(|(due, at)| (due.ms_since(base), at.ms_since(base)))
                .collect();
            // Each instant ran with the clock at that instant.
            assert!(ran.iter().all(|(due, at)| due == at), "{ran:?}");
            runs.push(ran);
        }
        assert_eq!(runs[0].len(), 4);
        assert_eq!(runs[0], runs[1]);
    }
}
