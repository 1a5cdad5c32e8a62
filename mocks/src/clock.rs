//! The world clock: sim time, the calendar date it counts from, and the clocks that tell it.
//!
//! Sim time ([`SimTime`]) is an integer count of milliseconds since the scenario's [`Epoch`], a
//! fixed calendar date, so "today" never depends on when a run happens (DESIGN.md, core idea 1).
//! Everything that needs `now` takes it from a [`Clock`]:
//! - [`VirtualClock`] is whatever its owner sets it to: the simulator moves it from event to
//!   event and tests move it by hand.
//! - [`WallClock`] follows the machine's monotonic clock at a scale, and can be advanced to move
//!   the whole world forward (`POST /mocks/admin/clock/advance`) or held still while an advance
//!   steps through the work due in the skipped interval. It is the only code in the crate that
//!   reads the system clock. Servers turn absolute sim deadlines into wall instants with
//!   [`WallClock::instant_at`] and sleep until them, never chaining relative sleeps (which round
//!   up to the timer tick and drift: core idea 6).

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Timelike};
use serde::{Deserialize, Serialize};

/// Milliseconds in a second.
pub const MS_PER_SEC: u64 = 1_000;
/// Milliseconds in a minute.
pub const MS_PER_MIN: u64 = 60 * MS_PER_SEC;
/// Milliseconds in an hour.
pub const MS_PER_HOUR: u64 = 60 * MS_PER_MIN;
/// Milliseconds in a day.
pub const MS_PER_DAY: u64 = 24 * MS_PER_HOUR;

/// What can go wrong when building a clock or reading a time.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClockError {
    /// A wall clock's scale must be a positive finite number.
    #[error("clock scale must be a positive finite number, got {0}")]
    InvalidScale(f64),
    /// A timestamp that is not RFC 3339 (`2026-01-01T00:05:00Z`).
    #[error("`{text}` is not an RFC 3339 timestamp: {reason}")]
    Unparsable { text: String, reason: String },
    /// A timestamp earlier than the epoch: sim time starts at 0.
    #[error("`{text}` is before the epoch {epoch}")]
    BeforeEpoch { text: String, epoch: NaiveDate },
}

/// A point in sim time: milliseconds since the scenario's epoch.
///
/// Serialized as a plain integer of milliseconds.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct SimTime(u64);

impl SimTime {
    /// The epoch itself.
    pub const ZERO: SimTime = SimTime(0);
    /// The end of time: a deadline that never comes.
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// The time `ms` milliseconds after the epoch.
    pub const fn from_millis(ms: u64) -> Self {
        SimTime(ms)
    }

    /// The time `secs` seconds after the epoch (saturating at [`SimTime::MAX`]).
    pub const fn from_secs(secs: u64) -> Self {
        SimTime(secs.saturating_mul(MS_PER_SEC))
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// Whole seconds since the epoch.
    pub const fn as_secs(self) -> u64 {
        self.0 / MS_PER_SEC
    }

    /// This time plus `ms` milliseconds, saturating at [`SimTime::MAX`].
    pub const fn saturating_add(self, ms: u64) -> Self {
        SimTime(self.0.saturating_add(ms))
    }

    /// This time minus `ms` milliseconds, saturating at the epoch.
    pub const fn saturating_sub(self, ms: u64) -> Self {
        SimTime(self.0.saturating_sub(ms))
    }

    /// Milliseconds from `earlier` to this time, 0 if `earlier` is later.
    pub const fn ms_since(self, earlier: SimTime) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

/// The calendar date at which sim time 0 falls, at midnight UTC. Default: 2026-01-01.
///
/// Serialized as an ISO date (`"2026-01-01"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Epoch(NaiveDate);

impl Default for Epoch {
    fn default() -> Self {
        Epoch(Self::DEFAULT_DATE)
    }
}

impl Epoch {
    /// The default epoch date, 2026-01-01.
    pub const DEFAULT_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2026, 1, 1) {
        Some(date) => date,
        None => panic!("2026-01-01 is a date"),
    };

    /// The epoch at midnight UTC of `date`.
    pub const fn new(date: NaiveDate) -> Self {
        Epoch(date)
    }

    /// The epoch's calendar date.
    pub const fn date(self) -> NaiveDate {
        self.0
    }

    /// The UTC date and time at sim time `t` (saturating at chrono's last representable moment).
    pub fn datetime_of(self, t: SimTime) -> NaiveDateTime {
        let midnight = self.0.and_time(NaiveTime::MIN);
        i64::try_from(t.as_millis())
            .ok()
            .and_then(TimeDelta::try_milliseconds)
            .and_then(|delta| midnight.checked_add_signed(delta))
            .unwrap_or(NaiveDateTime::MAX)
    }

    /// The UTC calendar date at sim time `t`.
    pub fn date_of(self, t: SimTime) -> NaiveDate {
        self.datetime_of(t).date()
    }

    /// Sim time at midnight UTC of `date`; dates before the epoch give [`SimTime::ZERO`].
    pub fn time_of(self, date: NaiveDate) -> SimTime {
        self.time_at(date.and_time(NaiveTime::MIN))
    }

    /// Sim time at a UTC date and time; moments before the epoch give [`SimTime::ZERO`].
    pub fn time_at(self, at: NaiveDateTime) -> SimTime {
        let ms = at
            .signed_duration_since(self.0.and_time(NaiveTime::MIN))
            .num_milliseconds();
        SimTime(u64::try_from(ms).unwrap_or(0))
    }

    /// Sim time `t` as an RFC 3339 UTC timestamp: `2026-01-01T00:05:00Z`, with milliseconds
    /// (`2026-01-01T00:05:00.250Z`) only when they are not zero.
    pub fn rfc3339(self, t: SimTime) -> String {
        let at = self.datetime_of(t);
        let year = at.year();
        if !(0..=9999).contains(&year) {
            return at.format("%Y-%m-%dT%H:%M:%S%.fZ").to_string();
        }
        // Written digit by digit: every answer carries a timestamp or two, and chrono's
        // `format` parses its pattern each time.
        fn digits(out: &mut [u8], mut v: u32) {
            for d in out.iter_mut().rev() {
                *d = b'0' + (v % 10) as u8;
                v /= 10;
            }
        }
        let mut b = *b"0000-00-00T00:00:00.000Z";
        digits(&mut b[0..4], year as u32);
        digits(&mut b[5..7], at.month());
        digits(&mut b[8..10], at.day());
        digits(&mut b[11..13], at.hour());
        digits(&mut b[14..16], at.minute());
        digits(&mut b[17..19], at.second());
        let ms = at.nanosecond() / 1_000_000;
        let text = if ms == 0 {
            b[19] = b'Z';
            &b[..20]
        } else {
            digits(&mut b[20..23], ms);
            &b[..]
        };
        // ASCII by construction: the check is a word at a time (the lossy form walks chunks).
        String::from_utf8(text.to_vec()).unwrap_or_default()
    }

    /// The sim time of an RFC 3339 timestamp with any offset (`Z`, `+03:00`).
    pub fn parse_rfc3339(self, text: &str) -> Result<SimTime, ClockError> {
        let at = DateTime::parse_from_rfc3339(text.trim()).map_err(|e| ClockError::Unparsable {
            text: text.to_owned(),
            reason: e.to_string(),
        })?;
        let ms = at
            .naive_utc()
            .signed_duration_since(self.0.and_time(NaiveTime::MIN))
            .num_milliseconds();
        u64::try_from(ms)
            .map(SimTime)
            .map_err(|_| ClockError::BeforeEpoch {
                text: text.to_owned(),
                epoch: self.0,
            })
    }
}

/// Something that tells sim time. Every component takes `now` from one of these (or as an
/// argument), never from the system clock.
pub trait Clock: Send + Sync {
    /// The current sim time.
    fn now(&self) -> SimTime;
}

impl<C: Clock + ?Sized> Clock for std::sync::Arc<C> {
    fn now(&self) -> SimTime {
        (**self).now()
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> SimTime {
        (**self).now()
    }
}

/// A clock that shows what its owner sets: the simulator's and the tests' clock.
#[derive(Debug, Default)]
pub struct VirtualClock {
    now_ms: AtomicU64,
}

impl VirtualClock {
    /// A virtual clock showing `start`.
    pub fn new(start: SimTime) -> Self {
        Self {
            now_ms: AtomicU64::new(start.as_millis()),
        }
    }

    /// Shows `t` from now on. The owner may move it backwards (a test resetting its world);
    /// the simulator only ever moves it forwards.
    pub fn set(&self, t: SimTime) {
        self.now_ms.store(t.as_millis(), Ordering::Release);
    }

    /// Moves the clock `ms` milliseconds forward (saturating) and returns the new time.
    pub fn advance(&self, ms: u64) -> SimTime {
        let previous = self
            .now_ms
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |now| {
                Some(now.saturating_add(ms))
            })
            .unwrap_or_else(|now| now);
        SimTime(previous.saturating_add(ms))
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> SimTime {
        SimTime(self.now_ms.load(Ordering::Acquire))
    }
}

/// Sim time that follows the machine's monotonic clock:
/// `now = base + scale × (wall time since start) + shift`, or a fixed time while held.
///
/// `scale` is 1.0 by default (a second of sim time per wall second). [`WallClock::advance`]
/// moves the whole world forward at once; [`WallClock::hold`] stops the clock at its current
/// time, [`WallClock::step_to`] moves the held clock forward and [`WallClock::release`] lets it
/// run again from the time it shows (the wall time spent held does not count): an advance holds
/// the clock while it runs the work due in the skipped interval in time order. Sim time is
/// truncated to whole milliseconds; it never goes backwards.
#[derive(Debug)]
pub struct WallClock {
    start: Instant,
    base: SimTime,
    scale: f64,
    /// Milliseconds added by advances (what `advanced_ms` reports).
    advanced_ms: AtomicU64,
    /// Added to `base + scale × elapsed`: advances, minus the wall time spent held.
    shift_ms: AtomicI64,
    /// The time shown while held; [`NOT_HELD`] while running.
    held_ms: AtomicU64,
}

/// `held_ms` of a running clock.
const NOT_HELD: u64 = u64::MAX;

impl Default for WallClock {
    /// A clock at the epoch now, at scale 1.
    fn default() -> Self {
        Self::new(SimTime::ZERO)
    }
}

impl WallClock {
    /// A clock showing `base` now and running at scale 1.
    pub fn new(base: SimTime) -> Self {
        Self {
            start: Instant::now(),
            base,
            scale: 1.0,
            advanced_ms: AtomicU64::new(0),
            shift_ms: AtomicI64::new(0),
            held_ms: AtomicU64::new(NOT_HELD),
        }
    }

    /// A clock showing `base` now and running `scale` times faster than the wall.
    pub fn with_scale(base: SimTime, scale: f64) -> Result<Self, ClockError> {
        Self::starting_at(Instant::now(), base, scale)
    }

    /// A clock that showed `base` at the wall instant `start` (tests inject `start` to check the
    /// arithmetic without sleeping).
    pub fn starting_at(start: Instant, base: SimTime, scale: f64) -> Result<Self, ClockError> {
        if !(scale.is_finite() && scale > 0.0) {
            return Err(ClockError::InvalidScale(scale));
        }
        Ok(Self {
            start,
            base,
            scale,
            advanced_ms: AtomicU64::new(0),
            shift_ms: AtomicI64::new(0),
            held_ms: AtomicU64::new(NOT_HELD),
        })
    }

    /// Sim milliseconds per wall millisecond.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// The sim time the clock showed at its start.
    pub fn base(&self) -> SimTime {
        self.base
    }

    /// Milliseconds added by [`WallClock::advance`] and [`WallClock::step_to`] so far.
    pub fn advanced_ms(&self) -> u64 {
        self.advanced_ms.load(Ordering::Acquire)
    }

    /// The time the clock is held at, `None` while it runs.
    pub fn held(&self) -> Option<SimTime> {
        match self.held_ms.load(Ordering::Acquire) {
            NOT_HELD => None,
            ms => Some(SimTime(ms)),
        }
    }

    /// Moves the whole world `ms` milliseconds forward at once and returns the new time (a held
    /// clock stays held, `ms` later).
    ///
    /// Deadlines already turned into wall instants fall earlier now: whoever sleeps until one
    /// must be woken (the world notifies its sleepers) and call `instant_at` again.
    pub fn advance(&self, ms: u64) -> SimTime {
        let ms_signed = i64::try_from(ms).unwrap_or(i64::MAX);
        // fetch_update cannot fail with a closure that always returns Some.
        let _ = self
            .advanced_ms
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |a| {
                Some(a.saturating_add(ms))
            });
        let _ = self
            .held_ms
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                (held != NOT_HELD).then(|| held.saturating_add(ms).min(NOT_HELD - 1))
            });
        let _ = self
            .shift_ms
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| {
                Some(s.saturating_add(ms_signed))
            });
        self.now()
    }

    /// Stops the clock at the time it shows now (already held: where it is held) and returns
    /// that time. Until [`WallClock::release`], `now` is that time or what
    /// [`WallClock::step_to`] sets.
    pub fn hold(&self) -> SimTime {
        if let Some(t) = self.held() {
            return t;
        }
        let now = self.running_at(Instant::now());
        self.held_ms
            .store(now.as_millis().min(NOT_HELD - 1), Ordering::Release);
        now
    }

    /// Moves a held clock forward to `t` (never back); returns the time it shows. A running
    /// clock is not changed. The step counts as advanced.
    pub fn step_to(&self, t: SimTime) -> SimTime {
        let before = self
            .held_ms
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                (held != NOT_HELD && t.0 > held).then(|| t.0.min(NOT_HELD - 1))
            });
        if let Ok(held) = before {
            let step = t.0.min(NOT_HELD - 1) - held;
            let _ = self
                .advanced_ms
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |a| {
                    Some(a.saturating_add(step))
                });
        }
        self.now()
    }

    /// Lets a held clock run again from the time it shows (the wall time it spent held does
    /// not count); returns that time.
    pub fn release(&self) -> SimTime {
        let Some(held) = self.held() else {
            return self.now();
        };
        let running = self.running_at(Instant::now());
        let moved = i128::from(held.0) - i128::from(running.0);
        let _ = self
            .shift_ms
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| {
                let shifted = i128::from(s) + moved;
                Some(shifted.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
            });
        // The shift is written before the clock runs again, so no reader sees the old one.
        self.held_ms.store(NOT_HELD, Ordering::Release);
        self.now()
    }

    /// The sim time at the wall instant `wall` (the start's time for instants before it); a
    /// held clock shows the time it is held at.
    pub fn now_at(&self, wall: Instant) -> SimTime {
        self.held().unwrap_or_else(|| self.running_at(wall))
    }

    /// The time a running clock shows at `wall`.
    fn running_at(&self, wall: Instant) -> SimTime {
        let elapsed = wall.saturating_duration_since(self.start);
        let scaled_ms = if self.scale == 1.0 {
            u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
        } else {
            // A float to integer cast saturates, and floors positive values.
            (elapsed.as_nanos() as f64 * self.scale / 1e6) as u64
        };
        let ms = (self.origin() + i128::from(scaled_ms)).clamp(0, i128::from(u64::MAX));
        SimTime(ms as u64)
    }

    /// The sim time a running clock showed at its start instant (negative when it spent longer
    /// held than it was advanced).
    fn origin(&self) -> i128 {
        i128::from(self.base.0) + i128::from(self.shift_ms.load(Ordering::Acquire))
    }

    /// The first wall instant at which the clock shows `deadline` or later.
    ///
    /// A deadline already passed gives an instant in the past (sleeping until it returns at
    /// once); a deadline too far away for the platform, or beyond the time a held clock shows,
    /// gives an instant a century ahead (a held clock moves only by a step, which wakes its
    /// sleepers).
    pub fn instant_at(&self, deadline: SimTime) -> Instant {
        let far = || self.start + Duration::from_secs(100 * 365 * 24 * 3600);
        if let Some(held) = self.held() {
            return if deadline <= held { self.start } else { far() };
        }
        let wait_ms = i128::from(deadline.0) - self.origin();
        if wait_ms <= 0 {
            return self.start;
        }
        let wait_ms = u64::try_from(wait_ms).unwrap_or(u64::MAX);
        let mut elapsed_ns: u128 = if self.scale == 1.0 {
            u128::from(wait_ms) * 1_000_000
        } else {
            (wait_ms as f64 * 1e6 / self.scale).ceil() as u128
        };
        let at = |ns: u128| {
            u64::try_from(ns)
                .ok()
                .and_then(|ns| self.start.checked_add(Duration::from_nanos(ns)))
        };
        // Float rounding may land a nanosecond short of the millisecond boundary: step up.
        for _ in 0..8 {
            match at(elapsed_ns) {
                Some(instant) if self.running_at(instant) >= deadline => return instant,
                Some(_) => elapsed_ns += 1 + elapsed_ns / 1_000_000_000_000,
                None => return far(),
            }
        }
        at(elapsed_ns).unwrap_or_else(far)
    }
}

impl Clock for WallClock {
    fn now(&self) -> SimTime {
        self.now_at(Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
    }

    #[test]
    fn sim_time_arithmetic_saturates() {
        assert_eq!(SimTime::from_secs(5).as_millis(), 5_000);
        assert_eq!(SimTime::from_secs(u64::MAX), SimTime::MAX);
        assert_eq!(SimTime::MAX.saturating_add(1), SimTime::MAX);
        assert_eq!(SimTime::from_millis(3).saturating_sub(5), SimTime::ZERO);
        assert_eq!(
            SimTime::from_millis(10).ms_since(SimTime::from_millis(4)),
            6
        );
        assert_eq!(
            SimTime::from_millis(4).ms_since(SimTime::from_millis(10)),
            0
        );
        assert_eq!(SimTime::from_millis(1_999).as_secs(), 1);
    }

    #[test]
    fn sim_time_serializes_as_plain_integer() {
        let json = serde_json::to_string(&SimTime::from_millis(1_500)).unwrap();
        assert_eq!(json, "1500");
        let back: SimTime = serde_json::from_str("1500").unwrap();
        assert_eq!(back, SimTime::from_millis(1_500));
    }

    #[test]
    fn epoch_defaults_to_2026_and_maps_dates_both_ways() {
        let epoch = Epoch::default();
        assert_eq!(epoch.date(), date(2026, 1, 1));
        assert_eq!(epoch.date_of(SimTime::ZERO), date(2026, 1, 1));
        assert_eq!(
            epoch.date_of(SimTime::from_millis(MS_PER_DAY - 1)),
            date(2026, 1, 1)
        );
        assert_eq!(
            epoch.date_of(SimTime::from_millis(MS_PER_DAY)),
            date(2026, 1, 2)
        );
        assert_eq!(
            epoch.time_of(date(2026, 3, 1)),
            SimTime::from_millis(59 * MS_PER_DAY)
        );
        assert_eq!(epoch.time_of(date(2025, 12, 31)), SimTime::ZERO);
        assert_eq!(epoch.date_of(SimTime::MAX), NaiveDateTime::MAX.date());
        let json = serde_json::to_string(&epoch).unwrap();
        assert_eq!(json, "\"2026-01-01\"");
    }

    #[test]
    fn rfc3339_is_utc_with_optional_millis_and_parses_back() {
        let epoch = Epoch::default();
        let five_min = SimTime::from_millis(5 * MS_PER_MIN);
        assert_eq!(epoch.rfc3339(five_min), "2026-01-01T00:05:00Z");
        assert_eq!(
            epoch.rfc3339(five_min.saturating_add(250)),
            "2026-01-01T00:05:00.250Z"
        );
        assert_eq!(epoch.parse_rfc3339("2026-01-01T00:05:00Z"), Ok(five_min));
        assert_eq!(
            epoch.parse_rfc3339("2026-01-01T03:05:00+03:00"),
            Ok(five_min)
        );
        assert!(matches!(
            epoch.parse_rfc3339("2025-12-31T23:59:59Z"),
            Err(ClockError::BeforeEpoch { .. })
        ));
        assert!(matches!(
            epoch.parse_rfc3339("yesterday"),
            Err(ClockError::Unparsable { .. })
        ));
        // Digit by digit, as chrono writes it, from the epoch to past the year 9999, and every
        // timestamp reads back to its time.
        let mut ms = 0u64;
        while ms < 9_000 * 366 * 86_400_000 {
            let t = SimTime::from_millis(ms);
            let chrono = epoch
                .datetime_of(t)
                .format("%Y-%m-%dT%H:%M:%S%.fZ")
                .to_string();
            assert_eq!(epoch.rfc3339(t), chrono, "at {ms} ms");
            if chrono.len() <= 24 {
                assert_eq!(epoch.parse_rfc3339(&chrono), Ok(t));
            }
            ms = ms * 3 / 2 + 7_919;
        }
    }

    #[test]
    fn virtual_clock_sets_and_advances() {
        let clock = VirtualClock::new(SimTime::from_secs(1));
        assert_eq!(clock.now(), SimTime::from_secs(1));
        assert_eq!(clock.advance(500), SimTime::from_millis(1_500));
        clock.set(SimTime::from_secs(10));
        assert_eq!(clock.now(), SimTime::from_secs(10));
        clock.set(SimTime::MAX);
        assert_eq!(clock.advance(1), SimTime::MAX);
        let shared: std::sync::Arc<dyn Clock> = std::sync::Arc::new(VirtualClock::default());
        assert_eq!(shared.now(), SimTime::ZERO);
    }

    #[test]
    fn wall_clock_scales_elapsed_time_from_injected_start() {
        let start = Instant::now();
        let clock = WallClock::starting_at(start, SimTime::from_secs(100), 1.0).unwrap();
        assert_eq!(clock.now_at(start), SimTime::from_secs(100));
        assert_eq!(
            clock.now_at(start + Duration::from_micros(2_999)),
            SimTime::from_millis(100_002)
        );
        let fast = WallClock::starting_at(start, SimTime::ZERO, 86_400.0).unwrap();
        // A wall second is a sim day at scale 86400.
        assert_eq!(
            fast.now_at(start + Duration::from_secs(1)),
            SimTime::from_millis(MS_PER_DAY)
        );
        let slow = WallClock::starting_at(start, SimTime::ZERO, 0.5).unwrap();
        assert_eq!(
            slow.now_at(start + Duration::from_secs(10)),
            SimTime::from_secs(5)
        );
        // Instants before the start show the start's time.
        let later =
            WallClock::starting_at(start + Duration::from_secs(5), SimTime::ZERO, 1.0).unwrap();
        assert_eq!(later.now_at(start), SimTime::ZERO);
    }

    #[test]
    fn wall_clock_rejects_bad_scales() {
        for scale in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                WallClock::with_scale(SimTime::ZERO, scale),
                Err(ClockError::InvalidScale(_))
            ));
        }
    }

    #[test]
    fn wall_clock_advance_moves_now_and_deadlines() {
        let start = Instant::now();
        let clock = WallClock::starting_at(start, SimTime::ZERO, 1.0).unwrap();
        let deadline = SimTime::from_secs(300);
        assert_eq!(clock.instant_at(deadline), start + Duration::from_secs(300));
        clock.advance(200_000);
        assert_eq!(clock.advanced_ms(), 200_000);
        assert_eq!(clock.now_at(start), SimTime::from_secs(200));
        assert_eq!(clock.instant_at(deadline), start + Duration::from_secs(100));
        clock.advance(200_000);
        // A passed deadline falls at or before the start: sleeping until it returns at once.
        assert!(clock.instant_at(deadline) <= start);
        assert!(clock.now() >= SimTime::from_secs(400));
    }

    #[test]
    fn instant_at_is_the_first_instant_showing_the_deadline() {
        let start = Instant::now();
        for scale in [1.0, 0.3, 3.0, 86_400.0, 1_000_000.0] {
            let clock = WallClock::starting_at(start, SimTime::from_secs(7), scale).unwrap();
            for ms in [
                7_001u64,
                7_002,
                8_000,
                123_457,
                86_400_000 * 14 + 1,
                10_u64.pow(12),
            ] {
                let deadline = SimTime::from_millis(ms);
                let at = clock.instant_at(deadline);
                assert!(clock.now_at(at) >= deadline, "scale {scale} ms {ms}");
                if scale <= 3.0 {
                    // A sim millisecond lasts at least 333 µs of wall time here: a microsecond
                    // earlier the deadline had not come.
                    let before = at - Duration::from_micros(1);
                    assert!(clock.now_at(before) < deadline, "scale {scale} ms {ms}");
                }
            }
        }
    }

    #[test]
    fn a_held_clock_shows_its_steps_and_runs_on_from_the_last_after_release() {
        let start = Instant::now();
        let clock = WallClock::starting_at(start, SimTime::from_secs(10), 1.0).unwrap();
        let held = clock.hold();
        assert!(held >= SimTime::from_secs(10));
        assert_eq!(clock.held(), Some(held));
        // Held: wall time does not move it, and every wall instant shows the held time.
        assert_eq!(clock.now_at(start + Duration::from_secs(3_600)), held);
        assert_eq!(clock.hold(), held, "holding again keeps the time");
        let later = held.saturating_add(MS_PER_DAY);
        assert_eq!(clock.step_to(later), later);
        assert_eq!(clock.step_to(held), later, "a step never goes back");
        assert_eq!(clock.advanced_ms(), MS_PER_DAY);
        // A deadline up to the held time has come; a later one waits for a step.
        assert!(clock.instant_at(later) <= start);
        assert!(clock.instant_at(later.saturating_add(1)) > start + Duration::from_secs(86_400));
        let released = clock.release();
        assert_eq!(clock.held(), None);
        assert!(
            released >= later && released.ms_since(later) < 1_000,
            "{released:?}"
        );
        let wall = Instant::now();
        let at = clock.instant_at(later.saturating_add(5_000));
        let waited = at.saturating_duration_since(wall);
        assert!(waited <= Duration::from_secs(5), "{waited:?}");
        assert!(waited >= Duration::from_secs(3), "{waited:?}");
    }

    #[test]
    fn releasing_after_a_long_hold_does_not_count_the_hold() {
        let start = Instant::now() - Duration::from_secs(1_000);
        let clock = WallClock::starting_at(start, SimTime::ZERO, 1.0).unwrap();
        // Held at 5 s although 1,000 s of wall time have passed since the start.
        clock.held_ms.store(5_000, Ordering::Release);
        let t = clock.release();
        assert!(
            t >= SimTime::from_secs(5) && t < SimTime::from_secs(6),
            "{t:?}"
        );
        // The origin is negative now; a deadline 10 s on is 10 s of wall time away.
        let wall = Instant::now();
        let wait = clock
            .instant_at(SimTime::from_secs(15))
            .saturating_duration_since(wall);
        assert!(
            wait > Duration::from_secs(9) && wait <= Duration::from_secs(10),
            "{wait:?}"
        );
        let before = clock.now();
        assert!(clock.advance(1_000).ms_since(before) >= 1_000);
    }

    #[test]
    fn wall_clock_is_monotonic() {
        let clock = WallClock::default();
        let mut last = clock.now();
        for _ in 0..1_000 {
            let now = clock.now();
            assert!(now >= last);
            last = now;
        }
    }
}
