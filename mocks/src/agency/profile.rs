//! A service profile: how one agency behaves as a service (latency, errors, timeouts, outages,
//! speedup), and the decision of one request's fate from it.
//!
//! Faults are data (STYLE habit 7): injecting an outage or an error rate is setting a profile,
//! in a scenario's TOML, in a test and in a mock's admin API alike.
//!
//! Every agency's profile holds a [`Profile`] under the name `service` and is written in TOML as
//! one flat table: the common keys below beside the agency's own. A table is read *over the
//! agency's defaults*: a key it omits keeps the agency's calibrated value (a plain
//! `#[serde(default)]` on a nested struct would reset it to the generic default instead).

use std::fmt;
use std::marker::PhantomData;

use rand::Rng;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use super::capacity::Capacity;
use super::duration::DurationMs;
use super::latency::{unit, Latency};
use crate::clock::SimTime;

/// A profile whose values cannot describe a service.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProfileError {
    /// A probability outside 0..=1.
    #[error("`{key}` = {value} is not a probability between 0 and 1")]
    Rate { key: &'static str, value: f64 },
    /// Failure probabilities that add up to more than 1.
    #[error("`error_rate` + `timeout_rate` = {0}, more than 1")]
    RatesAboveOne(f64),
    /// A speedup that is not a positive finite number.
    #[error("`speedup` = {0} must be a positive finite number")]
    Speedup(f64),
    /// A capacity without servers, or with more than a station keeps.
    #[error("`capacity.servers` = {0} must be between 1 and 1000000")]
    Servers(u32),
    /// A quota that is not a positive finite number of requests a second.
    #[error("`capacity.rate` = {0} must be a positive finite number of requests a second")]
    QuotaRate(f64),
    /// An outage that ends before it starts.
    #[error("outage ends (`to` = {to} ms) before it starts (`from` = {from} ms)")]
    OutageBackwards { from: u64, to: u64 },
}

/// How an agency behaves as a service. `Default` is a perfect, instant service:
///
/// | key | default | meaning |
/// |---|---|---|
/// | `latency` | `{ kind = "fixed", value = "0s" }` | time to answer (see [`Latency`]) |
/// | `error_rate` | `0.0` | probability of an error answer (HTTP 5xx) |
/// | `timeout_rate` | `0.0` | probability of no answer at all |
/// | `outages` | `[]` | sim-time windows `{ from = "3d", to = "3d 2h" }` (offsets from the epoch) when the service is down |
/// | `speedup` | `1.0` | every delay is divided by it (a load run compresses agencies' time) |
/// | `capacity` | none (unlimited) | `{ servers, queue?, rate? }`: answers at once, waiting places, quota a second ([`Capacity`]); `latency` is then the service time at a server |
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Profile {
    /// The delay of an answer, before `speedup`.
    pub latency: Latency,
    /// Probability that a request gets an error answer (5xx).
    pub error_rate: f64,
    /// Probability that a request gets no answer.
    pub timeout_rate: f64,
    /// Windows of sim time when the service is down.
    pub outages: Vec<Outage>,
    /// Divides every delay; 86400 makes a two-week letter arrive in 14 s.
    pub speedup: f64,
    /// Servers, queue and quota; `None` is unlimited (every request answered after its
    /// latency alone, whatever the load).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity: Option<Capacity>,
}

impl Default for Profile {
    fn default() -> Self {
        Self {
            latency: Latency::default(),
            error_rate: 0.0,
            timeout_rate: 0.0,
            outages: Vec::new(),
            speedup: 1.0,
            capacity: None,
        }
    }
}

/// A window of sim time `[from, to)` when a service is down. Written in TOML as offsets from the
/// epoch: `{ from = "3d", to = "3d 2h" }` (or integer ms).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "OutageSpec", into = "OutageSpec")]
pub struct Outage {
    /// First moment of the outage.
    pub from: SimTime,
    /// First moment after it.
    pub to: SimTime,
}

impl Outage {
    /// The window `[from, to)`.
    pub fn new(from: SimTime, to: SimTime) -> Result<Self, ProfileError> {
        if to < from {
            return Err(ProfileError::OutageBackwards {
                from: from.as_millis(),
                to: to.as_millis(),
            });
        }
        Ok(Self { from, to })
    }

    /// Whether the service is down at `now`.
    #[inline]
    pub fn contains(&self, now: SimTime) -> bool {
        self.from <= now && now < self.to
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OutageSpec {
    from: DurationMs,
    to: DurationMs,
}

impl TryFrom<OutageSpec> for Outage {
    type Error = ProfileError;
    fn try_from(spec: OutageSpec) -> Result<Self, ProfileError> {
        Outage::new(
            SimTime::from_millis(spec.from.0),
            SimTime::from_millis(spec.to.0),
        )
    }
}

impl From<Outage> for OutageSpec {
    fn from(outage: Outage) -> Self {
        Self {
            from: DurationMs(outage.from.as_millis()),
            to: DurationMs(outage.to.as_millis()),
        }
    }
}

/// What happens to one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fate {
    /// The service answers after `delay_ms` (speedup applied).
    Answer { delay_ms: u64 },
    /// The service answers with an error (HTTP 5xx) at once.
    ServerError,
    /// The service never answers; the caller's own timeout decides when it gives up.
    Timeout,
    /// The service is down (an outage window): the request is refused at once.
    Outage,
}

impl Fate {
    /// This fate carrying `verdict` if it is an answer.
    pub fn with<V>(self, verdict: V) -> Reply<V> {
        match self {
            Fate::Answer { delay_ms } => Reply::Answer { verdict, delay_ms },
            Fate::ServerError => Reply::ServerError,
            Fate::Timeout => Reply::Timeout,
            Fate::Outage => Reply::Outage,
        }
    }
}

/// An agency's reply to one request: its verdict and when it comes, or the failure instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reply<V> {
    /// The verdict, `delay_ms` after the request (speedup applied).
    Answer { verdict: V, delay_ms: u64 },
    /// An error answer (HTTP 5xx) at once.
    ServerError,
    /// No answer.
    Timeout,
    /// The service is down.
    Outage,
}

impl<V> Reply<V> {
    /// The verdict, if the agency answered.
    pub fn verdict(&self) -> Option<&V> {
        match self {
            Reply::Answer { verdict, .. } => Some(verdict),
            _ => None,
        }
    }

    /// The delay of the answer, if the agency answered.
    pub fn delay_ms(&self) -> Option<u64> {
        match self {
            Reply::Answer { delay_ms, .. } => Some(*delay_ms),
            _ => None,
        }
    }

    /// The same reply with its verdict mapped.
    pub fn map<W>(self, f: impl FnOnce(V) -> W) -> Reply<W> {
        match self {
            Reply::Answer { verdict, delay_ms } => Reply::Answer {
                verdict: f(verdict),
                delay_ms,
            },
            Reply::ServerError => Reply::ServerError,
            Reply::Timeout => Reply::Timeout,
            Reply::Outage => Reply::Outage,
        }
    }
}

impl Profile {
    /// The fate of one request arriving at `now`.
    ///
    /// An outage window decides without a draw; otherwise one uniform draw decides timeout
    /// (probability `timeout_rate`), server error (`error_rate`) or answer, and an answer's
    /// delay is drawn from `latency` and divided by `speedup`.
    pub fn decide<R: Rng + ?Sized>(&self, now: SimTime, rng: &mut R) -> Fate {
        if self.in_outage(now) {
            return Fate::Outage;
        }
        let u = unit(rng);
        if u < self.timeout_rate {
            Fate::Timeout
        } else if u < self.timeout_rate + self.error_rate {
            Fate::ServerError
        } else {
            Fate::Answer {
                delay_ms: self.sample_delay_ms(rng),
            }
        }
    }

    /// Whether `now` falls in an outage window.
    #[inline]
    pub fn in_outage(&self, now: SimTime) -> bool {
        self.outages.iter().any(|o| o.contains(now))
    }

    /// One delay from `latency`, divided by `speedup`, with no failure draw.
    #[inline]
    pub fn sample_delay_ms<R: Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        self.speed_up(self.latency.sample_ms(rng))
    }

    /// `delay_ms` divided by `speedup`, rounded to the nearest millisecond.
    #[inline]
    pub fn speed_up(&self, delay_ms: u64) -> u64 {
        if self.speedup == 1.0 {
            delay_ms
        } else {
            (delay_ms as f64 / self.speedup).round() as u64
        }
    }

    /// Checks the values a table cannot check by type.
    pub fn check(&self) -> Result<(), ProfileError> {
        for (key, value) in [
            ("error_rate", self.error_rate),
            ("timeout_rate", self.timeout_rate),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(ProfileError::Rate { key, value });
            }
        }
        let failing = self.error_rate + self.timeout_rate;
        if failing > 1.0 + 1e-12 {
            return Err(ProfileError::RatesAboveOne(failing));
        }
        if !(self.speedup.is_finite() && self.speedup > 0.0) {
            return Err(ProfileError::Speedup(self.speedup));
        }
        if let Some(capacity) = &self.capacity {
            capacity.check()?;
        }
        Ok(())
    }
}

/// Checks that `value` is a probability, for agencies' own rates.
pub(crate) fn check_rate(key: &'static str, value: f64) -> Result<(), ProfileError> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(ProfileError::Rate { key, value })
    }
}

/// The common keys of every profile table.
pub(crate) const COMMON_KEYS: [&str; 6] = [
    "latency",
    "error_rate",
    "timeout_rate",
    "outages",
    "speedup",
    "capacity",
];

/// A profile table read over its defaults: the common keys go to [`ProfileTable::service`],
/// the agency's own keys to [`ProfileTable::read_own`].
pub trait ProfileTable: Default {
    /// Every key the table takes (the common ones and the agency's own), for error messages.
    const KEYS: &'static [&'static str];

    /// The common service profile inside.
    fn service(&mut self) -> &mut Profile;

    /// Reads the value of the agency's own `key`; `Ok(false)` if the key is not one of them.
    fn read_own<'de, A: MapAccess<'de>>(
        &mut self,
        _key: &str,
        _map: &mut A,
    ) -> Result<bool, A::Error> {
        Ok(false)
    }

    /// Checks the agency's own values once the table is read.
    fn check_own(&self) -> Result<(), ProfileError> {
        Ok(())
    }
}

/// Reads a [`ProfileTable`] over `T::default()`, rejecting unknown keys by name.
pub(crate) fn deserialize_over<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: ProfileTable,
{
    struct TableVisitor<T>(PhantomData<T>);

    impl<'de, T: ProfileTable> Visitor<'de> for TableVisitor<T> {
        type Value = T;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            write!(f, "a profile table with keys among {:?}", T::KEYS)
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
            let mut table = T::default();
            while let Some(key) = map.next_key::<String>()? {
                let service = table.service();
                match key.as_str() {
                    "latency" => service.latency = map.next_value()?,
                    "error_rate" => service.error_rate = map.next_value()?,
                    "timeout_rate" => service.timeout_rate = map.next_value()?,
                    "outages" => service.outages = map.next_value()?,
                    "speedup" => service.speedup = map.next_value()?,
                    "capacity" => service.capacity = map.next_value()?,
                    own => {
                        if !table.read_own(own, &mut map)? {
                            return Err(de::Error::unknown_field(own, T::KEYS));
                        }
                    }
                }
            }
            table.service().check().map_err(de::Error::custom)?;
            table.check_own().map_err(de::Error::custom)?;
            Ok(table)
        }
    }

    deserializer.deserialize_map(TableVisitor(PhantomData))
}

impl ProfileTable for Profile {
    const KEYS: &'static [&'static str] = &COMMON_KEYS;
    fn service(&mut self) -> &mut Profile {
        self
    }
}

impl<'de> Deserialize<'de> for Profile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_over(deserializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agency::latency::tests::rng;

    fn profile(toml_text: &str) -> Result<Profile, String> {
        toml::from_str(toml_text).map_err(|e| e.to_string())
    }

    #[test]
    fn default_is_a_perfect_instant_service() {
        let p = Profile::default();
        let mut r = rng(1);
        for t in 0..100 {
            assert_eq!(
                p.decide(SimTime::from_secs(t), &mut r),
                Fate::Answer { delay_ms: 0 }
            );
        }
        assert_eq!(profile("").unwrap(), p);
    }

    #[test]
    fn outage_windows_are_half_open() {
        let p = profile(
            r#"
            latency = { kind = "fixed", value = "1s" }
            outages = [{ from = "1h", to = "2h" }, { from = 10000000, to = 10000001 }]
            "#,
        )
        .unwrap();
        let mut r = rng(2);
        let at = |ms: u64| SimTime::from_millis(ms);
        assert_eq!(
            p.decide(at(3_599_999), &mut r),
            Fate::Answer { delay_ms: 1_000 }
        );
        assert_eq!(p.decide(at(3_600_000), &mut r), Fate::Outage);
        assert_eq!(p.decide(at(7_199_999), &mut r), Fate::Outage);
        assert_ne!(p.decide(at(7_200_000), &mut r), Fate::Outage);
        assert_eq!(p.decide(at(10_000_000), &mut r), Fate::Outage);
        assert_ne!(p.decide(at(10_000_001), &mut r), Fate::Outage);
    }

    #[test]
    fn error_and_timeout_rates_hold_statistically() {
        let p = profile("error_rate = 0.1\ntimeout_rate = 0.05").unwrap();
        let mut r = rng(3);
        let n = 5_000;
        let (mut errors, mut timeouts) = (0, 0);
        for _ in 0..n {
            match p.decide(SimTime::ZERO, &mut r) {
                Fate::ServerError => errors += 1,
                Fate::Timeout => timeouts += 1,
                Fate::Answer { .. } => {}
                Fate::Outage => unreachable!("no outage configured"),
            }
        }
        // Binomial standard deviations: 21 errors and 15 timeouts; allow four.
        assert!((500 - 85..=500 + 85).contains(&errors), "{errors}");
        assert!((250 - 60..=250 + 60).contains(&timeouts), "{timeouts}");
    }

    #[test]
    fn speedup_divides_delays() {
        let p =
            profile("speedup = 86400.0\nlatency = { kind = \"fixed\", value = \"14d\" }").unwrap();
        assert_eq!(
            p.decide(SimTime::ZERO, &mut rng(4)),
            Fate::Answer { delay_ms: 14_000 }
        );
        let slow =
            profile("speedup = 0.5\nlatency = { kind = \"fixed\", value = \"3s\" }").unwrap();
        assert_eq!(slow.sample_delay_ms(&mut rng(4)), 6_000);
    }

    #[test]
    fn bad_values_and_keys_are_errors_that_name_them() {
        let cases = [
            ("error_rate = 1.5", "`error_rate` = 1.5"),
            ("timeout_rate = -0.1", "`timeout_rate` = -0.1"),
            ("error_rate = 0.6\ntimeout_rate = 0.6", "more than 1"),
            ("speedup = 0.0", "`speedup` = 0"),
            (
                "outages = [{ from = \"2h\", to = \"1h\" }]",
                "before it starts",
            ),
            ("outages = [{ from = \"1h\", until = \"2h\" }]", "until"),
            ("eror_rate = 0.1", "eror_rate"),
        ];
        for (text, expected) in cases {
            let error = profile(text).expect_err(text);
            assert!(error.contains(expected), "{text}: {error}");
        }
    }

    #[test]
    fn replies_carry_verdicts_only_when_answered() {
        let answer = Fate::Answer { delay_ms: 5 }.with("match");
        assert_eq!(answer.verdict(), Some(&"match"));
        assert_eq!(answer.delay_ms(), Some(5));
        assert_eq!(
            answer.map(str::len),
            Reply::Answer {
                verdict: 5,
                delay_ms: 5
            }
        );
        assert_eq!(Fate::Outage.with(1).verdict(), None);
        assert_eq!(Fate::Timeout.with(1), Reply::Timeout);
        assert_eq!(Fate::ServerError.with(1).delay_ms(), None);
    }
}
