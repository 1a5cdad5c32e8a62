//! The SMS gateway: delivers registration codes and notifications to phones after a few seconds,
//! and loses a few messages. A code is valid for 5 minutes (DOMAIN.md step 1, seed 004), so the
//! tail of the delay matters: a late code may arrive expired.

use rand::Rng;
use serde::de::MapAccess;
use serde::{Deserialize, Deserializer, Serialize};

use super::latency::{happens, Latency};
use super::profile::{check_rate, deserialize_over, Profile, ProfileError, ProfileTable, Reply};
use crate::clock::{SimTime, MS_PER_MIN, MS_PER_SEC};

/// What became of one message the gateway accepted. Wire names: `delivered`, `lost`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmsVerdict {
    /// In the phone's inbox after the reply's delay.
    Delivered,
    /// Accepted by the gateway but never delivered.
    Lost,
}

/// The fate of one message sent at `now`: the gateway's failure, or delivery (or loss) after
/// the delay. One draw for the fate, the latency's draws, then one draw for the loss.
pub fn send<R: Rng + ?Sized>(profile: &SmsProfile, now: SimTime, rng: &mut R) -> Reply<SmsVerdict> {
    let fate = profile.service.decide(now, rng);
    let verdict = if happens(rng, profile.loss_rate) {
        SmsVerdict::Lost
    } else {
        SmsVerdict::Delivered
    };
    fate.with(verdict)
}

/// The fate of one more message of a batch the gateway accepted (the request's own fate was
/// [`send`]'s): its delay (one latency draw) and its loss (one draw).
pub fn deliver<R: Rng + ?Sized>(profile: &SmsProfile, rng: &mut R) -> (SmsVerdict, u64) {
    let delay_ms = profile.service.sample_delay_ms(rng);
    let verdict = if happens(rng, profile.loss_rate) {
        SmsVerdict::Lost
    } else {
        SmsVerdict::Delivered
    };
    (verdict, delay_ms)
}

/// The SMS gateway as a service: the common keys (see [`Profile`]) and `loss_rate`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SmsProfile {
    #[serde(flatten)]
    pub service: Profile,
    /// Probability that an accepted message never arrives.
    pub loss_rate: f64,
}

impl Default for SmsProfile {
    /// Latency lognormal with median 4 s and p99 1 min, clamped to `[1s, 10m]`; `loss_rate`
    /// 0.005; `error_rate` 0.001; no timeouts, no outages, speedup 1.
    fn default() -> Self {
        let latency = Latency::lognormal(4 * MS_PER_SEC, MS_PER_MIN)
            .and_then(|l| l.clamped(Some(MS_PER_SEC), Some(10 * MS_PER_MIN)))
            .expect("constant lognormal and clamp are valid");
        Self {
            service: Profile {
                latency,
                error_rate: 0.001,
                ..Profile::default()
            },
            loss_rate: 0.005,
        }
    }
}

impl ProfileTable for SmsProfile {
    const KEYS: &'static [&'static str] = &[
        "latency",
        "error_rate",
        "timeout_rate",
        "outages",
        "speedup",
        "capacity",
        "loss_rate",
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
            "loss_rate" => self.loss_rate = map.next_value()?,
            _ => return Ok(false),
        }
        Ok(true)
    }
    fn check_own(&self) -> Result<(), ProfileError> {
        check_rate("loss_rate", self.loss_rate)
    }
}

impl<'de> Deserialize<'de> for SmsProfile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_over(deserializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agency::latency::tests::{quantile_of, rng};

    #[test]
    fn default_delay_is_seconds_with_a_tail_of_a_minute() {
        let latency = SmsProfile::default().service.latency;
        let median = quantile_of(&latency, 10_000, 0.5, 41);
        assert!(
            (2 * MS_PER_SEC..=8 * MS_PER_SEC).contains(&median),
            "{median}"
        );
        let p99 = quantile_of(&latency, 10_000, 0.99, 41);
        assert!((30 * MS_PER_SEC..=2 * MS_PER_MIN).contains(&p99), "{p99}");
    }

    #[test]
    fn loss_rate_holds_statistically() {
        let profile = SmsProfile {
            loss_rate: 0.1,
            ..SmsProfile::default()
        };
        let mut r = rng(42);
        let replies: Vec<_> = (0..5_000)
            .map(|_| send(&profile, SimTime::ZERO, &mut r))
            .collect();
        let lost = replies
            .iter()
            .filter(|r| r.verdict() == Some(&SmsVerdict::Lost))
            .count();
        // Binomial sd is 21; allow four.
        assert!((500 - 85..=500 + 85).contains(&lost), "{lost}");
        let errors = replies.iter().filter(|r| **r == Reply::ServerError).count();
        assert!(errors <= 20, "{errors}");
    }

    #[test]
    fn table_reads_own_keys_and_rejects_bad_ones() {
        let p: SmsProfile = toml::from_str("loss_rate = 0.2").unwrap();
        assert_eq!(p.loss_rate, 0.2);
        assert_eq!(p.service, SmsProfile::default().service);
        let bad = toml::from_str::<SmsProfile>("loss_rate = 2.0")
            .unwrap_err()
            .to_string();
        assert!(bad.contains("loss_rate"), "{bad}");
        let typo = toml::from_str::<SmsProfile>("los_rate = 0.1")
            .unwrap_err()
            .to_string();
        assert!(
            typo.contains("los_rate") && typo.contains("loss_rate"),
            "{typo}"
        );
    }
}
