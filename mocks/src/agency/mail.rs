//! E-mail: delivers registration links and notifications after seconds to minutes; some letters
//! land in spam (DOMAIN.md step 1, seed 003) and a few are lost.

use rand::Rng;
use serde::de::MapAccess;
use serde::{Deserialize, Deserializer, Serialize};

use super::latency::{unit, Latency};
use super::profile::{check_rate, deserialize_over, Profile, ProfileError, ProfileTable, Reply};
use crate::clock::{SimTime, MS_PER_HOUR, MS_PER_MIN, MS_PER_SEC};

/// Where one accepted letter ends up. Wire names: `inbox`, `spam`, `lost`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailVerdict {
    /// In the inbox after the reply's delay.
    Inbox,
    /// In the spam folder after the reply's delay: the citizen finds it only if they look.
    Spam,
    /// Never delivered.
    Lost,
}

/// The fate of one letter sent at `now`. One draw for the fate, the latency's draws, then one
/// draw for where the letter lands.
pub fn send<R: Rng + ?Sized>(
    profile: &MailProfile,
    now: SimTime,
    rng: &mut R,
) -> Reply<MailVerdict> {
    let fate = profile.service.decide(now, rng);
    let u = unit(rng);
    let verdict = if u < profile.loss_rate {
        MailVerdict::Lost
    } else if u < profile.loss_rate + profile.spam_rate {
        MailVerdict::Spam
    } else {
        MailVerdict::Inbox
    };
    fate.with(verdict)
}

/// E-mail as a service: the common keys (see [`Profile`]), `spam_rate` and `loss_rate`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MailProfile {
    #[serde(flatten)]
    pub service: Profile,
    /// Probability that a letter lands in spam.
    pub spam_rate: f64,
    /// Probability that a letter is never delivered.
    pub loss_rate: f64,
}

impl Default for MailProfile {
    /// Latency lognormal with median 20 s and p99 10 min, clamped to `[1s, 2h]`; `spam_rate`
    /// 0.05; `loss_rate` 0.002; `error_rate` 0.001; no timeouts, no outages, speedup 1.
    fn default() -> Self {
        let latency = Latency::lognormal(20 * MS_PER_SEC, 10 * MS_PER_MIN)
            .and_then(|l| l.clamped(Some(MS_PER_SEC), Some(2 * MS_PER_HOUR)))
            .expect("constant lognormal and clamp are valid");
        Self {
            service: Profile {
                latency,
                error_rate: 0.001,
                ..Profile::default()
            },
            spam_rate: 0.05,
            loss_rate: 0.002,
        }
    }
}

impl ProfileTable for MailProfile {
    const KEYS: &'static [&'static str] = &[
        "latency",
        "error_rate",
        "timeout_rate",
        "outages",
        "speedup",
        "capacity",
        "spam_rate",
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
            "spam_rate" => self.spam_rate = map.next_value()?,
            "loss_rate" => self.loss_rate = map.next_value()?,
            _ => return Ok(false),
        }
        Ok(true)
    }
    fn check_own(&self) -> Result<(), ProfileError> {
        check_rate("spam_rate", self.spam_rate)?;
        check_rate("loss_rate", self.loss_rate)?;
        check_rate("spam_rate + loss_rate", self.spam_rate + self.loss_rate)
    }
}

impl<'de> Deserialize<'de> for MailProfile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_over(deserializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agency::latency::tests::{quantile_of, rng};

    #[test]
    fn default_delay_is_seconds_to_minutes() {
        let latency = MailProfile::default().service.latency;
        let median = quantile_of(&latency, 10_000, 0.5, 51);
        assert!((10 * MS_PER_SEC..=MS_PER_MIN).contains(&median), "{median}");
        let p99 = quantile_of(&latency, 10_000, 0.99, 51);
        assert!((3 * MS_PER_MIN..=20 * MS_PER_MIN).contains(&p99), "{p99}");
    }

    #[test]
    fn spam_and_loss_rates_hold_statistically() {
        let profile = MailProfile {
            spam_rate: 0.2,
            loss_rate: 0.05,
            service: Profile::default(),
        };
        let mut r = rng(52);
        let (mut spam, mut lost) = (0, 0);
        for _ in 0..5_000 {
            match send(&profile, SimTime::ZERO, &mut r).verdict() {
                Some(MailVerdict::Spam) => spam += 1,
                Some(MailVerdict::Lost) => lost += 1,
                _ => {}
            }
        }
        // Binomial sds: 28 and 15; allow four.
        assert!((1_000 - 115..=1_000 + 115).contains(&spam), "{spam}");
        assert!((250 - 62..=250 + 62).contains(&lost), "{lost}");
    }

    #[test]
    fn rates_above_one_together_are_rejected() {
        let error = toml::from_str::<MailProfile>("spam_rate = 0.7\nloss_rate = 0.6")
            .unwrap_err()
            .to_string();
        assert!(error.contains("spam_rate + loss_rate"), "{error}");
    }
}
