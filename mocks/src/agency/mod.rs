//! The agencies as pure models: request + profile + RNG -> outcome and delay (DESIGN.md, core
//! idea 3). No I/O, no async, no clock reading: `now` and the RNG come in.
//!
//! Modules:
//! - [`duration`]: durations written as humantime strings (`"15m"`, `"2d"`) or integer ms.
//! - [`latency`]: delay distributions (fixed, uniform, lognormal, empirical, mixture).
//! - [`profile`]: the common service profile (latency, error and timeout rates, outages,
//!   speedup), the [`Fate`] of one request and the [`Reply`] that carries a verdict.
//! - [`capacity`]: servers, queue and quota of an agency, and the [`Station`] that serves
//!   requests first come, first served (shared by the simulator and the mocks), with queueing
//!   theory's formulas as the oracle of its tests.
//! - [`matching`]: how typed names and identifiers are compared with the truth.
//! - one module per agency, each with its profile, its truth record and two layers:
//!   `compare(query, truth) -> verdict` (strings, for the HTTP mocks) and
//!   `respond(verdict, &profile, now, rng) -> Reply` (for the simulator, which computes verdicts
//!   itself, and the mocks); deliveries (`sms`, `mail`, `post`) have `send(&profile, now, rng)`
//!   instead: [`pfr`], [`fms`], [`ca`], [`sms`], [`mail`], [`post`], [`banks`], [`centers`].
//!
//! A scenario's `[agencies]` table reads into [`Agencies`]; every key is optional and an
//! unknown key is an error naming it. Each agency's table is read over that agency's defaults,
//! so `error_rate = 0.1` alone keeps its calibrated latency. The common keys of every agency
//! table (and of each bank's) are `latency`, `error_rate`, `timeout_rate`, `outages`
//! (`[{ from = "3d", to = "3d 2h" }]`, offsets from the epoch) and `speedup` (divides every
//! delay). Defaults:
//!
//! | table | key | default |
//! |---|---|---|
//! | `pfr`, `fms` | `latency` | mixture clamped to [1m, 10d]: 85 % lognormal(median 9m, p99 1h), 12 % lognormal(5h, 2d), 3 % lognormal(2d, 8d); median ≈ 11 min, the slower of the two ≈ 20 min ([`pfr::verification_latency`]) |
//! | `pfr`, `fms` | `error_rate`, `timeout_rate` | 0.002, 0.001 |
//! | `ca` | `latency`, rates | fixed 0s, 0, 0 (immediate) |
//! | `sms` | `latency` | lognormal(median 4s, p99 1m) clamped to [1s, 10m] |
//! | `sms` | `loss_rate`, `error_rate`, `timeout_rate` | 0.005, 0.001, 0 |
//! | `mail` | `latency` | lognormal(median 20s, p99 10m) clamped to [1s, 2h] |
//! | `mail` | `spam_rate`, `loss_rate`, `error_rate`, `timeout_rate` | 0.05, 0.002, 0.001, 0 |
//! | `post` | `latency` (delivery time) | empirical: 3d at q0, 4d at q0.03, 7d at q0.10, 11d at q0.30, 14d at q0.50, 17d at q0.70, 22d at q0.90, 27d at q0.97, 30d at q1 ([`post::delivery_latency`]) |
//! | `post` | `loss_rate`, `error_rate`, `timeout_rate` | 0.03, 0.001, 0 |
//! | `banks.sber`, `banks.tinkoff`, `banks.pochta` | `latency` | lognormal(median 2s, p99 15s) |
//! | `banks.*` | `error_rate`, `timeout_rate` | 0.002, 0.001 |
//! | `centers` | `latency` (time at the counter) | lognormal(median 20m, p99 2h) clamped to [5m, 4h] |
//! | `centers` | `visit_delay` (standard tier to visit) | lognormal(median 12h, p99 3d) clamped to [1h, 30d] |
//! | `centers` | `refusal_rate`, `error_rate`, `timeout_rate` | 0.02, 0.002, 0 |
//! | every table | `outages`, `speedup` | `[]`, 1.0 |
//! | every table | `capacity` | none: unlimited (see [`capacity`]; `latency` is then the service time) |
//!
//! ```toml
//! [agencies.pfr]
//! latency = { kind = "lognormal", median = "15m", p99 = "2d" }
//! outages = [{ from = "2d", to = "2d 3h" }]
//!
//! [agencies.post]
//! loss_rate = 0.05
//! speedup = 86400.0
//!
//! [agencies.banks.tinkoff]
//! error_rate = 0.1
//! ```

pub mod banks;
pub mod ca;
pub mod capacity;
pub mod centers;
pub mod duration;
pub mod fms;
pub mod latency;
pub mod mail;
pub mod matching;
pub mod pfr;
pub mod post;
pub mod profile;
pub mod sms;

use serde::{Deserialize, Serialize};

pub use banks::{Bank, BankClient, BankProfile, BankVerdict, BanksProfile};
pub use ca::{CaProfile, CaQuery, CaVerdict, CertKind, Certificate};
pub use capacity::{Admission, Capacity, Occupancy, Station};
pub use centers::{Center, CenterKind, CentersProfile, Hours, Refusal, VisitOutcome};
pub use duration::{DurationError, DurationMs};
pub use fms::{FmsProfile, FmsQuery, FmsRecord, FmsVerdict};
pub use latency::{Latency, LatencyError};
pub use mail::{MailProfile, MailVerdict};
pub use pfr::{PfrProfile, PfrQuery, PfrRecord, PfrVerdict};
pub use post::{Letter, PickupRefusal, PostProfile, PostVerdict, TrackingEvent, TrackingKind};
pub use profile::{Fate, Outage, Profile, ProfileError, Reply};
pub use sms::{SmsProfile, SmsVerdict};

/// Every agency's profile: a scenario's `[agencies]` table. See the module doc for the keys and
/// their defaults.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Agencies {
    pub pfr: PfrProfile,
    pub fms: FmsProfile,
    pub ca: CaProfile,
    pub sms: SmsProfile,
    pub mail: MailProfile,
    pub post: PostProfile,
    pub banks: BanksProfile,
    pub centers: CentersProfile,
}

impl Agencies {
    /// Every agency's service profile, each bank's included, to change them all at once.
    pub fn services_mut(&mut self) -> [&mut Profile; 10] {
        [
            &mut self.pfr.service,
            &mut self.fms.service,
            &mut self.ca.service,
            &mut self.sms.service,
            &mut self.mail.service,
            &mut self.post.service,
            &mut self.banks.sber.service,
            &mut self.banks.tinkoff.service,
            &mut self.banks.pochta.service,
            &mut self.centers.service,
        ]
    }

    /// Sets every agency's `speedup` (a load run compresses all agencies' time alike).
    pub fn set_speedup(&mut self, speedup: f64) -> Result<(), ProfileError> {
        if !(speedup.is_finite() && speedup > 0.0) {
            return Err(ProfileError::Speedup(speedup));
        }
        for service in self.services_mut() {
            service.speedup = speedup;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::MS_PER_DAY;

    #[derive(Debug, Deserialize, Serialize, PartialEq)]
    struct Scenario {
        #[serde(default)]
        agencies: Agencies,
    }

    #[test]
    fn an_empty_table_gives_the_defaults() {
        let s: Scenario = toml::from_str("[agencies]").unwrap();
        assert_eq!(s.agencies, Agencies::default());
        let s: Scenario = toml::from_str("").unwrap();
        assert_eq!(s.agencies, Agencies::default());
    }

    #[test]
    fn a_scenario_table_overrides_what_it_names() {
        let text = r#"
            [agencies.pfr]
            latency = { kind = "lognormal", median = "15m", p99 = "2d" }
            outages = [{ from = "2d", to = "2d 3h" }]

            [agencies.post]
            loss_rate = 0.05
            speedup = 86400.0

            [agencies.banks.tinkoff]
            error_rate = 0.1

            [agencies.centers]
            visit_delay = { kind = "fixed", value = "1d" }
        "#;
        let a = toml::from_str::<Scenario>(text).unwrap().agencies;
        let defaults = Agencies::default();
        assert_ne!(a.pfr.service.latency, defaults.pfr.service.latency);
        assert_eq!(a.pfr.service.outages.len(), 1);
        assert_eq!(a.pfr.service.error_rate, defaults.pfr.service.error_rate);
        assert_eq!(a.post.loss_rate, 0.05);
        assert_eq!(a.post.service.latency, defaults.post.service.latency);
        assert_eq!(a.banks.tinkoff.service.error_rate, 0.1);
        assert_eq!(a.banks.sber, defaults.banks.sber);
        assert_eq!(a.centers.visit_delay, Latency::fixed(MS_PER_DAY));
        assert_eq!(a.fms, defaults.fms);
    }

    #[test]
    fn agencies_round_trip_through_toml() {
        let mut a = Agencies::default();
        a.set_speedup(1_440.0).unwrap();
        a.sms.loss_rate = 0.01;
        a.pfr.service.outages = vec![Outage::new(
            crate::clock::SimTime::from_millis(MS_PER_DAY),
            crate::clock::SimTime::from_millis(2 * MS_PER_DAY),
        )
        .unwrap()];
        let scenario = Scenario { agencies: a };
        let text = toml::to_string(&scenario).unwrap();
        let back: Scenario = toml::from_str(&text).unwrap();
        assert_eq!(back, scenario, "{text}");
        let json = serde_json::to_string(&scenario).unwrap();
        assert_eq!(serde_json::from_str::<Scenario>(&json).unwrap(), scenario);
    }

    #[test]
    fn typos_are_errors_naming_the_key() {
        let cases = [
            ("[agencies.pfrr]\nerror_rate = 0.1", "pfrr"),
            ("[agencies.pfr]\nerror_rat = 0.1", "error_rat"),
            (
                "[agencies.banks.sber]\nlatency = { kind = \"fixed\", valeu = \"1s\" }",
                "valeu",
            ),
            ("[agencies.centers]\nrefusal = 0.1", "refusal"),
        ];
        for (text, key) in cases {
            let error = toml::from_str::<Scenario>(text)
                .expect_err(text)
                .to_string();
            assert!(error.contains(key), "{text}: {error}");
        }
    }

    #[test]
    fn set_speedup_reaches_every_agency_and_rejects_nonsense() {
        let mut a = Agencies::default();
        a.set_speedup(86_400.0).unwrap();
        assert!(a.services_mut().iter().all(|s| s.speedup == 86_400.0));
        assert!(a.set_speedup(0.0).is_err());
        assert!(a.set_speedup(f64::NAN).is_err());
    }
}
