//! Service centers: MFC "My Documents", Rostelecom offices, Russian Post branches and MVD units,
//! where an operator confirms a citizen's identity in person (and an MFC can register a
//! confirmed account directly). DOMAIN.md step 3: immediate at the visit; a visit 1–2 days
//! after registering is typical (003).
//!
//! A [`Center`] has weekly opening hours in its local time; [`visit`] judges a visit at `now`
//! (closed, refused, or served after the time at the counter), and
//! [`CentersProfile::sample_visit_delay_ms`] gives the simulator how long after the account
//! became standard a citizen comes. Public holidays are not modelled.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDateTime, NaiveTime, TimeDelta};
use rand::Rng;
use serde::de::MapAccess;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::latency::{happens, Latency};
use super::profile::{check_rate, deserialize_over, Fate, Profile, ProfileError, ProfileTable};
use crate::clock::{Epoch, SimTime, MS_PER_DAY, MS_PER_HOUR, MS_PER_MIN};

/// The kind of a service center. Wire names: `mfc`, `rostelecom`, `post`, `mvd`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CenterKind {
    /// A multifunctional center "My Documents".
    Mfc,
    Rostelecom,
    /// A Russian Post branch.
    Post,
    /// A unit of the Ministry of Internal Affairs.
    Mvd,
}

impl CenterKind {
    /// Whether an operator here can register a new, confirmed account (only an MFC: seed 004).
    pub fn can_register(self) -> bool {
        self == CenterKind::Mfc
    }

    /// The wire name: `mfc`, `rostelecom`, `post`, `mvd`.
    pub fn as_str(self) -> &'static str {
        match self {
            CenterKind::Mfc => "mfc",
            CenterKind::Rostelecom => "rostelecom",
            CenterKind::Post => "post",
            CenterKind::Mvd => "mvd",
        }
    }
}

/// Opening hours that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("opening hours `{text}`: {reason} (write e.g. \"Mo-Fr 09:00-20:00; Sa 10:00-17:00\")")]
pub struct HoursError {
    pub text: String,
    pub reason: String,
}

/// Weekly opening hours in local time: at most one window `[open, close)` a weekday.
///
/// Written as `Mo-Fr 09:00-20:00; Sa 10:00-17:00` (days `Mo Tu We Th Fr Sa Su`, ranges and
/// comma lists; a day not named is closed; `24:00` closes at midnight).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Hours {
    /// Monday first: minutes after local midnight of opening and of closing.
    days: [Option<(u16, u16)>; 7],
}

const DAY_NAMES: [&str; 7] = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"];

impl Hours {
    /// The window of a weekday (0 = Monday) as minutes after midnight, if open that day.
    pub fn window(&self, weekday: usize) -> Option<(u16, u16)> {
        self.days.get(weekday).copied().flatten()
    }

    /// Whether the center is open at a local date and time.
    pub fn is_open_at(&self, local: NaiveDateTime) -> bool {
        let minute = (local
            .time()
            .signed_duration_since(NaiveTime::MIN)
            .num_minutes()) as u16;
        let weekday = local.weekday().num_days_from_monday() as usize;
        self.window(weekday)
            .is_some_and(|(open, close)| open <= minute && minute < close)
    }

    fn parse_rules(text: &str) -> Result<Self, String> {
        let mut days = [None; 7];
        for rule in text.split(';').map(str::trim).filter(|r| !r.is_empty()) {
            let (day_list, span) = rule
                .split_once(char::is_whitespace)
                .ok_or_else(|| format!("`{rule}` needs days and a time span"))?;
            let window = parse_span(span.trim())?;
            for item in day_list.split(',') {
                let (first, last) = match item.split_once('-') {
                    Some((a, b)) => (parse_day(a)?, parse_day(b)?),
                    None => (parse_day(item)?, parse_day(item)?),
                };
                if last < first {
                    return Err(format!("day range `{item}` runs backwards"));
                }
                for day in &mut days[first..=last] {
                    if day.is_some() {
                        return Err(format!("`{rule}` names a day twice"));
                    }
                    *day = Some(window);
                }
            }
        }
        Ok(Self { days })
    }
}

fn parse_day(name: &str) -> Result<usize, String> {
    DAY_NAMES
        .iter()
        .position(|d| d.eq_ignore_ascii_case(name.trim()))
        .ok_or_else(|| format!("`{name}` is not a day (Mo Tu We Th Fr Sa Su)"))
}

fn parse_span(span: &str) -> Result<(u16, u16), String> {
    let (open, close) = span
        .split_once('-')
        .ok_or_else(|| format!("`{span}` is not a span like 09:00-20:00"))?;
    let (open, close) = (parse_clock(open)?, parse_clock(close)?);
    if close <= open {
        return Err(format!("`{span}` closes before it opens"));
    }
    Ok((open, close))
}

fn parse_clock(text: &str) -> Result<u16, String> {
    let bad = || format!("`{text}` is not a time like 09:00");
    let (h, m) = text.trim().split_once(':').ok_or_else(bad)?;
    let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if m >= 60 || h > 24 || (h == 24 && m > 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

impl FromStr for Hours {
    type Err = HoursError;
    fn from_str(text: &str) -> Result<Self, HoursError> {
        Hours::parse_rules(text).map_err(|reason| HoursError {
            text: text.to_owned(),
            reason,
        })
    }
}

impl fmt::Display for Hours {
    /// The canonical form: runs of consecutive days with the same window, `; `-separated.
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let mut first_rule = true;
        let mut day = 0;
        while day < 7 {
            let Some((open, close)) = self.days[day] else {
                day += 1;
                continue;
            };
            let mut last = day;
            while last + 1 < 7 && self.days[last + 1] == self.days[day] {
                last += 1;
            }
            if !first_rule {
                f.write_str("; ")?;
            }
            first_rule = false;
            f.write_str(DAY_NAMES[day])?;
            if last > day {
                write!(f, "-{}", DAY_NAMES[last])?;
            }
            write!(
                f,
                " {:02}:{:02}-{:02}:{:02}",
                open / 60,
                open % 60,
                close / 60,
                close % 60
            )?;
            day = last + 1;
        }
        Ok(())
    }
}

impl Serialize for Hours {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Hours {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// One service center (an entry of `GET /mocks/centers`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Center {
    /// `mfc-1`, `post-1`, ...
    #[schema(value_type = crate::wire::CenterId)]
    pub id: String,
    pub kind: CenterKind,
    /// The region's name as in an address (`Москва`).
    pub region: String,
    /// Local time minus UTC, in minutes (Moscow: 180).
    pub utc_offset_min: i32,
    /// Opening hours in local time.
    #[schema(value_type = String, example = "Mo-Su 08:00-20:00")]
    pub hours: Hours,
}

impl Center {
    /// The center's local date and time at sim time `now`.
    pub fn local_time(&self, epoch: Epoch, now: SimTime) -> NaiveDateTime {
        let utc = epoch.datetime_of(now);
        utc.checked_add_signed(TimeDelta::minutes(i64::from(self.utc_offset_min)))
            .unwrap_or(utc)
    }

    /// Whether the center is open at `now`.
    pub fn is_open(&self, epoch: Epoch, now: SimTime) -> bool {
        self.hours.is_open_at(self.local_time(epoch, now))
    }

    /// The first moment at or after `now` when the center is open (`None` if never).
    pub fn next_open(&self, epoch: Epoch, now: SimTime) -> Option<SimTime> {
        if self.is_open(epoch, now) {
            return Some(now);
        }
        let local = self.local_time(epoch, now);
        (0..=7).find_map(|ahead| {
            let date = local.date().checked_add_signed(TimeDelta::days(ahead))?;
            let weekday = date.weekday().num_days_from_monday() as usize;
            let (open, _) = self.hours.window(weekday)?;
            let opening = date.and_time(NaiveTime::MIN) + TimeDelta::minutes(i64::from(open));
            let utc = opening - TimeDelta::minutes(i64::from(self.utc_offset_min));
            (opening > local).then(|| epoch.time_at(utc))
        })
    }
}

impl Center {
    /// The moments in `[from, to)` when the center is open, as windows in time order (for a
    /// capacity's utilization: counters work only while the center is open).
    pub fn open_windows(
        &self,
        epoch: Epoch,
        from: SimTime,
        to: SimTime,
    ) -> Vec<(SimTime, SimTime)> {
        let mut windows = Vec::new();
        if to <= from {
            return windows;
        }
        let first = self.local_time(epoch, from).date();
        let last = self.local_time(epoch, to).date();
        let mut date = first.pred_opt().unwrap_or(first);
        while date <= last {
            let weekday = date.weekday().num_days_from_monday() as usize;
            if let Some((open, close)) = self.hours.window(weekday) {
                let local = |minute: u16| {
                    date.and_time(NaiveTime::MIN) + TimeDelta::minutes(i64::from(minute))
                        - TimeDelta::minutes(i64::from(self.utc_offset_min))
                };
                let (a, b) = (
                    epoch.time_at(local(open)).max(from),
                    epoch.time_at(local(close)).min(to),
                );
                if a < b {
                    windows.push((a, b));
                }
            }
            match date.succ_opt() {
                Some(next) => date = next,
                None => break,
            }
        }
        windows
    }
}

/// The default directory of service centers: `mfc-1` always exists, with a handful of others
/// in Moscow, Saint Petersburg, Tatarstan and Novosibirsk.
pub fn directory() -> Vec<Center> {
    let center = |id: &str, kind, region: &str, utc_offset_min, hours: &str| Center {
        id: id.to_owned(),
        kind,
        region: region.to_owned(),
        utc_offset_min,
        hours: hours.parse().expect("constant hours parse"),
    };
    vec![
        center("mfc-1", CenterKind::Mfc, "Москва", 180, "Mo-Su 08:00-20:00"),
        center(
            "mfc-2",
            CenterKind::Mfc,
            "Санкт-Петербург",
            180,
            "Mo-Su 09:00-21:00",
        ),
        center(
            "mfc-3",
            CenterKind::Mfc,
            "Республика Татарстан",
            180,
            "Mo-Fr 08:00-20:00; Sa 09:00-14:00",
        ),
        center(
            "mfc-4",
            CenterKind::Mfc,
            "Новосибирская область",
            420,
            "Mo-Fr 08:00-20:00; Sa 09:00-18:00",
        ),
        center(
            "rostelecom-1",
            CenterKind::Rostelecom,
            "Москва",
            180,
            "Mo-Fr 09:00-18:00",
        ),
        center(
            "post-1",
            CenterKind::Post,
            "Москва",
            180,
            "Mo-Fr 08:00-20:00; Sa 09:00-18:00",
        ),
        center(
            "mvd-1",
            CenterKind::Mvd,
            "Московская область",
            180,
            "Tu-Fr 09:00-18:00; Sa 09:00-13:00",
        ),
    ]
}

/// Why an open center turns a citizen away. Wire names: `queue`, `system_down`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// No slot today: the queue is too long ("come back tomorrow").
    Queue,
    /// The operator cannot reach the registry (an outage, an error or a timeout).
    SystemDown,
}

/// What happens at a visit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VisitOutcome {
    /// The operator serves the citizen; the confirmation is done `delay_ms` after arrival
    /// (the time at the counter, speedup applied).
    Served { delay_ms: u64 },
    /// The center is closed at that hour.
    Closed,
    /// Open, but the citizen is turned away.
    Refused(Refusal),
}

/// Judges a visit to `center` at `now`. A closed center decides without a draw; otherwise one
/// draw for the service's fate, the latency's draws, then one draw for a queue refusal.
pub fn visit<R: Rng + ?Sized>(
    center: &Center,
    epoch: Epoch,
    now: SimTime,
    profile: &CentersProfile,
    rng: &mut R,
) -> VisitOutcome {
    if !center.is_open(epoch, now) {
        return VisitOutcome::Closed;
    }
    let fate = profile.service.decide(now, rng);
    let queue = happens(rng, profile.refusal_rate);
    match fate {
        Fate::Answer { .. } if queue => VisitOutcome::Refused(Refusal::Queue),
        Fate::Answer { delay_ms } => VisitOutcome::Served { delay_ms },
        Fate::ServerError | Fate::Timeout | Fate::Outage => {
            VisitOutcome::Refused(Refusal::SystemDown)
        }
    }
}

/// Service centers as a service: the common keys (see [`Profile`]; `latency` is the time at
/// the counter), `visit_delay` and `refusal_rate`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CentersProfile {
    #[serde(flatten)]
    pub service: Profile,
    /// How long after the account became standard a citizen who chose a center comes (for the
    /// simulator; the citizen then waits for the center to open).
    pub visit_delay: Latency,
    /// Probability that an open center turns a citizen away for the queue.
    pub refusal_rate: f64,
}

impl CentersProfile {
    /// How long after the standard tier a citizen comes to a center, divided by `speedup`.
    pub fn sample_visit_delay_ms<R: Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        self.service.speed_up(self.visit_delay.sample_ms(rng))
    }
}

impl Default for CentersProfile {
    /// Latency (time at the counter) lognormal with median 20 min and p99 2 h, clamped to
    /// `[5m, 4h]`; `visit_delay` lognormal with median 12 h and p99 3 d, clamped to `[1h, 30d]`
    /// (fitted so that, after the form, the verification, opening hours and queues, the visit
    /// comes a median 1.5 days after registering in the baseline simulation: "1–2 days after
    /// registering", 003); `refusal_rate` 0.02; `error_rate` 0.002; no timeouts, no outages,
    /// speedup 1.
    fn default() -> Self {
        let latency = Latency::lognormal(20 * MS_PER_MIN, 2 * MS_PER_HOUR)
            .and_then(|l| l.clamped(Some(5 * MS_PER_MIN), Some(4 * MS_PER_HOUR)))
            .expect("constant lognormal and clamp are valid");
        let visit_delay = Latency::lognormal(12 * MS_PER_HOUR, 3 * MS_PER_DAY)
            .and_then(|l| l.clamped(Some(MS_PER_HOUR), Some(30 * MS_PER_DAY)))
            .expect("constant lognormal and clamp are valid");
        Self {
            service: Profile {
                latency,
                error_rate: 0.002,
                ..Profile::default()
            },
            visit_delay,
            refusal_rate: 0.02,
        }
    }
}

impl ProfileTable for CentersProfile {
    const KEYS: &'static [&'static str] = &[
        "latency",
        "error_rate",
        "timeout_rate",
        "outages",
        "speedup",
        "capacity",
        "visit_delay",
        "refusal_rate",
    ];
    fn service(&mut self) -> &mut Profile {
        &mut self.service
    }
    fn read_own<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
    ) -> Result<bool, A::Error> {
        match key {
            "visit_delay" => self.visit_delay = map.next_value()?,
            "refusal_rate" => self.refusal_rate = map.next_value()?,
            _ => return Ok(false),
        }
        Ok(true)
    }
    fn check_own(&self) -> Result<(), ProfileError> {
        check_rate("refusal_rate", self.refusal_rate)
    }
}

impl<'de> Deserialize<'de> for CentersProfile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_over(deserializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agency::latency::tests::{quantile_of, rng};
    use chrono::NaiveDate;

    fn mfc_1() -> Center {
        directory()
            .into_iter()
            .find(|c| c.id == "mfc-1")
            .expect("mfc-1 always exists")
    }

    /// Sim time of a Moscow (UTC+3) local date and time.
    fn moscow(epoch: Epoch, y: i32, m: u32, d: u32, h: u32, min: u32) -> SimTime {
        let local = NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|date| date.and_hms_opt(h, min, 0))
            .expect("valid test time");
        epoch.time_at(local - TimeDelta::hours(3))
    }

    #[test]
    fn hours_parse_and_print_canonically() {
        let hours: Hours = "Mo-Fr 09:00-20:00; Sa 10:00-17:00".parse().unwrap();
        assert_eq!(hours.to_string(), "Mo-Fr 09:00-20:00; Sa 10:00-17:00");
        assert_eq!(hours.window(5), Some((600, 1_020)));
        assert_eq!(hours.window(6), None);
        let listed: Hours = "Mo,We-Th 08:00-24:00".parse().unwrap();
        assert_eq!(listed.to_string(), "Mo 08:00-24:00; We-Th 08:00-24:00");
        assert_eq!(listed.to_string().parse::<Hours>().unwrap(), listed);
        for bad in [
            "Mo-Fr",
            "Xx 09:00-10:00",
            "Mo 10:00-09:00",
            "Mo 09:00-25:00",
            "Fr-Mo 09:00-10:00",
            "Mo 09:00-10:00; Mo 11:00-12:00",
        ] {
            let error = bad.parse::<Hours>().expect_err(bad).to_string();
            assert!(error.contains(bad), "{error}");
        }
    }

    #[test]
    fn centers_are_closed_at_night_and_open_by_day() {
        let epoch = Epoch::default();
        let mfc = mfc_1();
        // 2026-01-05 is a Monday.
        assert!(!mfc.is_open(epoch, moscow(epoch, 2026, 1, 5, 3, 0)));
        assert!(!mfc.is_open(epoch, moscow(epoch, 2026, 1, 5, 7, 59)));
        assert!(mfc.is_open(epoch, moscow(epoch, 2026, 1, 5, 8, 0)));
        assert!(mfc.is_open(epoch, moscow(epoch, 2026, 1, 5, 19, 59)));
        assert!(!mfc.is_open(epoch, moscow(epoch, 2026, 1, 5, 20, 0)));
        let mut r = rng(81);
        let night = moscow(epoch, 2026, 1, 5, 23, 0);
        let profile = CentersProfile::default();
        assert_eq!(
            visit(&mfc, epoch, night, &profile, &mut r),
            VisitOutcome::Closed
        );
        let rostelecom = directory()
            .into_iter()
            .find(|c| c.kind == CenterKind::Rostelecom)
            .unwrap();
        // 2026-01-10 is a Saturday.
        assert!(!rostelecom.is_open(epoch, moscow(epoch, 2026, 1, 10, 12, 0)));
    }

    #[test]
    fn next_open_finds_the_coming_opening() {
        let epoch = Epoch::default();
        let mfc = mfc_1();
        let noon = moscow(epoch, 2026, 1, 5, 12, 0);
        assert_eq!(mfc.next_open(epoch, noon), Some(noon));
        let evening = moscow(epoch, 2026, 1, 5, 21, 0);
        assert_eq!(
            mfc.next_open(epoch, evening),
            Some(moscow(epoch, 2026, 1, 6, 8, 0))
        );
        let rostelecom = directory()
            .into_iter()
            .find(|c| c.id == "rostelecom-1")
            .unwrap();
        let saturday = moscow(epoch, 2026, 1, 10, 12, 0);
        assert_eq!(
            rostelecom.next_open(epoch, saturday),
            Some(moscow(epoch, 2026, 1, 12, 9, 0))
        );
        let never = Center {
            hours: Hours::default(),
            ..mfc
        };
        assert_eq!(never.next_open(epoch, noon), None);
    }

    #[test]
    fn open_centers_serve_refuse_or_are_down() {
        let epoch = Epoch::default();
        let mfc = mfc_1();
        let noon = moscow(epoch, 2026, 1, 5, 12, 0);
        let mut r = rng(82);
        let profile = CentersProfile {
            refusal_rate: 0.25,
            ..CentersProfile::default()
        };
        let outcomes: Vec<_> = (0..4_000)
            .map(|_| visit(&mfc, epoch, noon, &profile, &mut r))
            .collect();
        let queue = outcomes
            .iter()
            .filter(|o| **o == VisitOutcome::Refused(Refusal::Queue))
            .count();
        assert!((1_000 - 110..=1_000 + 110).contains(&queue), "{queue}");
        assert!(outcomes.iter().any(|o| matches!(
            o,
            VisitOutcome::Served { delay_ms } if *delay_ms >= 5 * MS_PER_MIN
        )));
        let mut down = CentersProfile::default();
        down.service.outages =
            vec![crate::agency::profile::Outage::new(SimTime::ZERO, SimTime::MAX).unwrap()];
        assert_eq!(
            visit(&mfc, epoch, noon, &down, &mut r),
            VisitOutcome::Refused(Refusal::SystemDown)
        );
    }

    #[test]
    fn open_windows_follow_the_hours() {
        let epoch = Epoch::default();
        let mfc = mfc_1();
        // Monday 2026-01-05 00:00 to Wednesday 00:00 Moscow: two days of 08:00-20:00.
        let from = moscow(epoch, 2026, 1, 5, 0, 0);
        let to = moscow(epoch, 2026, 1, 7, 0, 0);
        let windows = mfc.open_windows(epoch, from, to);
        assert_eq!(
            windows,
            vec![
                (
                    moscow(epoch, 2026, 1, 5, 8, 0),
                    moscow(epoch, 2026, 1, 5, 20, 0)
                ),
                (
                    moscow(epoch, 2026, 1, 6, 8, 0),
                    moscow(epoch, 2026, 1, 6, 20, 0)
                ),
            ]
        );
        // Cut by the interval's ends.
        let noon = moscow(epoch, 2026, 1, 5, 12, 0);
        assert_eq!(
            mfc.open_windows(epoch, noon, moscow(epoch, 2026, 1, 5, 13, 0)),
            vec![(noon, moscow(epoch, 2026, 1, 5, 13, 0))]
        );
        assert!(mfc.open_windows(epoch, to, from).is_empty());
    }

    #[test]
    fn only_an_mfc_registers() {
        assert!(CenterKind::Mfc.can_register());
        assert!(!CenterKind::Post.can_register());
        assert!(directory().iter().any(|c| c.id == "mfc-1"));
    }

    #[test]
    fn a_visit_comes_hours_after_the_standard_tier() {
        // The 1-2 days after registering (003) are the simulation's output (the form, the
        // verification and opening hours come first): tests/simulate.rs judges them.
        let profile = CentersProfile::default();
        let mut r = rng(83);
        let mut draws: Vec<u64> = (0..10_000)
            .map(|_| profile.sample_visit_delay_ms(&mut r))
            .collect();
        draws.sort_unstable();
        let median = draws[5_000];
        assert!(
            (9 * MS_PER_HOUR..=16 * MS_PER_HOUR).contains(&median),
            "{median}"
        );
        let counter = quantile_of(&profile.service.latency, 10_000, 0.5, 84);
        assert!(
            (10 * MS_PER_MIN..=40 * MS_PER_MIN).contains(&counter),
            "{counter}"
        );
    }

    #[test]
    fn centers_serialize_for_the_listing() {
        let json = serde_json::to_value(mfc_1()).unwrap();
        assert_eq!(json["kind"], "mfc");
        assert_eq!(json["hours"], "Mo-Su 08:00-20:00");
        let back: Center = serde_json::from_value(json).unwrap();
        assert_eq!(back, mfc_1());
    }
}
