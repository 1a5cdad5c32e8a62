//! Russian Post: carries a registered letter with a confirmation code to the citizen's address,
//! where it waits at the post office to be picked up with the recipient's passport.
//!
//! Delivery takes about two weeks (001, 003, 004), "arrived in 4 days" (003), up to 30 days
//! (004); a letter can be lost and re-requested (001). [`send`] decides a letter's delivery time
//! and loss; a [`Letter`] holds its state, [`pickup`] judges a visit to the office, and
//! [`Letter::tracking`] derives its tracking events at `now`.

use rand::Rng;
use serde::de::MapAccess;
use serde::{Deserialize, Deserializer, Serialize};

use super::latency::{happens, Latency};
use super::matching::same_digits;
use super::profile::{check_rate, deserialize_over, Profile, ProfileError, ProfileTable, Reply};
use crate::clock::{SimTime, MS_PER_DAY, MS_PER_HOUR};

/// What becomes of one letter the post accepted. Wire names: `delivered`, `lost`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PostVerdict {
    /// At the post office after the reply's delay.
    Delivered,
    /// Never arrives.
    Lost,
}

/// The fate of one letter ordered at `now`: the post's failure to accept it, or its delivery
/// (or loss) after the reply's delay. One draw for the fate, the latency's draws, then one draw
/// for the loss.
pub fn send<R: Rng + ?Sized>(
    profile: &PostProfile,
    now: SimTime,
    rng: &mut R,
) -> Reply<PostVerdict> {
    let fate = profile.service.decide(now, rng);
    let verdict = if happens(rng, profile.loss_rate) {
        PostVerdict::Lost
    } else {
        PostVerdict::Delivered
    };
    fate.with(verdict)
}

/// One registered letter and its recipient's passport.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Letter {
    /// When the post accepted it.
    pub accepted_at: SimTime,
    /// When it arrives (or would have arrived, if lost) at the recipient's post office.
    pub arrives_at: SimTime,
    /// Lost on the way: it never arrives.
    pub lost: bool,
    /// The recipient's passport, which the clerk checks at pickup.
    pub passport_series: String,
    pub passport_number: String,
    /// When the recipient picked it up (set by whoever holds the letter).
    #[serde(default)]
    pub picked_up_at: Option<SimTime>,
}

/// Why a clerk does not hand a letter over. HTTP: `NotArrived` 409, `Lost` 404,
/// `WrongPassport` 403.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum PickupRefusal {
    /// The letter is still on its way.
    #[error("the letter has not arrived yet")]
    NotArrived,
    /// The letter was lost on the way; order a new one.
    #[error("the letter was lost")]
    Lost,
    /// The passport shown is not the recipient's.
    #[error("the passport is not the recipient's")]
    WrongPassport,
}

/// A tracking event's kind. Wire names: `accepted`, `in_transit`, `arrived`, `handed_over`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrackingKind {
    /// Accepted at the sender's office.
    Accepted,
    /// Left the sorting centre.
    InTransit,
    /// Arrived at the recipient's office; a notice goes to the mailbox.
    Arrived,
    /// Handed over to the recipient.
    HandedOver,
}

/// One line of a letter's tracking.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TrackingEvent {
    pub kind: TrackingKind,
    pub at: SimTime,
}

/// A letter shows "in transit" this long after acceptance, or halfway through a shorter trip.
const IN_TRANSIT_AFTER_MS: u64 = 6 * MS_PER_HOUR;

impl Letter {
    /// A letter accepted at `accepted_at` that travels `travel_ms` (and is `lost` or not).
    pub fn new(
        accepted_at: SimTime,
        travel_ms: u64,
        lost: bool,
        passport_series: impl Into<String>,
        passport_number: impl Into<String>,
    ) -> Self {
        Self {
            accepted_at,
            arrives_at: accepted_at.saturating_add(travel_ms),
            lost,
            passport_series: passport_series.into(),
            passport_number: passport_number.into(),
            picked_up_at: None,
        }
    }

    /// Whether the letter waits at the office at `now` (or was picked up).
    pub fn has_arrived(&self, now: SimTime) -> bool {
        !self.lost && now >= self.arrives_at
    }

    /// Makes the letter arrive at `now` (the admin's "deliver this letter now"), found if lost.
    pub fn deliver_now(&mut self, now: SimTime) {
        self.lost = false;
        self.arrives_at = self.arrives_at.min(now);
    }

    /// The tracking events that have happened by `now`, oldest first.
    pub fn tracking(&self, now: SimTime) -> Vec<TrackingEvent> {
        let travel_ms = self.arrives_at.ms_since(self.accepted_at);
        let in_transit_at = self
            .accepted_at
            .saturating_add(IN_TRANSIT_AFTER_MS.min(travel_ms / 2));
        let mut events = vec![TrackingEvent {
            kind: TrackingKind::Accepted,
            at: self.accepted_at,
        }];
        if now >= in_transit_at {
            events.push(TrackingEvent {
                kind: TrackingKind::InTransit,
                at: in_transit_at,
            });
        }
        if self.has_arrived(now) {
            events.push(TrackingEvent {
                kind: TrackingKind::Arrived,
                at: self.arrives_at,
            });
        }
        if let Some(at) = self.picked_up_at.filter(|&at| at <= now) {
            events.push(TrackingEvent {
                kind: TrackingKind::HandedOver,
                at,
            });
        }
        events
    }
}

/// Judges a visit to the post office at `now` with a passport: the letter is handed over only
/// once it has arrived and to its recipient. A lost letter is refused as lost whatever the
/// passport; the passport is checked only once the letter is there.
pub fn pickup(
    letter: &Letter,
    now: SimTime,
    passport_series: &str,
    passport_number: &str,
) -> Result<(), PickupRefusal> {
    if letter.lost {
        Err(PickupRefusal::Lost)
    } else if now < letter.arrives_at {
        Err(PickupRefusal::NotArrived)
    } else if !(same_digits(passport_series, &letter.passport_series)
        && same_digits(passport_number, &letter.passport_number))
    {
        Err(PickupRefusal::WrongPassport)
    } else {
        Ok(())
    }
}

/// Russian Post as a service: the common keys (see [`Profile`]; `latency` is the delivery time)
/// and `loss_rate`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PostProfile {
    #[serde(flatten)]
    pub service: Profile,
    /// Probability that a letter is lost.
    pub loss_rate: f64,
}

impl Default for PostProfile {
    /// Latency [`delivery_latency`]; `loss_rate` 0.03; `error_rate` 0.001; no timeouts, no
    /// outages, speedup 1.
    fn default() -> Self {
        Self {
            service: Profile {
                latency: delivery_latency(),
                error_rate: 0.001,
                ..Profile::default()
            },
            loss_rate: 0.03,
        }
    }
}

/// The delivery time of a registered letter, as the seeds give it: an empirical inverse CDF
/// through (quantile, days) = (0, 3), (0.03, 4), (0.10, 7), (0.30, 11), (0.50, 14), (0.70, 17),
/// (0.90, 22), (0.97, 27), (1, 30). Median 14 days and mean about 14.5: "about 2 weeks on
/// average" (001, 003, 004); 3 % within 4 days: "arrived in 4 days" (003); p99 29 days and
/// nothing beyond 30: "up to 30 days, then re-request" (004).
pub fn delivery_latency() -> Latency {
    let points: Vec<(f64, u64)> = [
        (0.0, 3),
        (0.03, 4),
        (0.10, 7),
        (0.30, 11),
        (0.50, 14),
        (0.70, 17),
        (0.90, 22),
        (0.97, 27),
        (1.0, 30),
    ]
    .iter()
    .map(|&(q, days)| (q, days * MS_PER_DAY))
    .collect();
    Latency::empirical(&points).expect("constant points form an inverse CDF")
}

impl ProfileTable for PostProfile {
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

impl<'de> Deserialize<'de> for PostProfile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_over(deserializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agency::latency::tests::{quantile_of, rng};

    fn letter() -> Letter {
        Letter::new(
            SimTime::from_secs(100),
            14 * MS_PER_DAY,
            false,
            "4512",
            "345678",
        )
    }

    #[test]
    fn default_delivery_is_two_weeks_with_a_tail_to_thirty_days() {
        let latency = PostProfile::default().service.latency;
        let median = quantile_of(&latency, 10_000, 0.5, 61);
        assert!(
            (10 * MS_PER_DAY..=18 * MS_PER_DAY).contains(&median),
            "{median}"
        );
        let p99 = quantile_of(&latency, 10_000, 0.99, 61);
        assert!(p99 <= 30 * MS_PER_DAY, "{p99}");
        let p02 = quantile_of(&latency, 10_000, 0.02, 61);
        assert!(p02 <= 4 * MS_PER_DAY, "some arrive in 4 days: p2 {p02}");
        assert!(quantile_of(&latency, 10_000, 0.0, 61) >= 3 * MS_PER_DAY);
    }

    #[test]
    fn pickup_refuses_early_lost_and_wrong_passport() {
        let l = letter();
        let before = l.arrives_at.saturating_sub(1);
        assert_eq!(
            pickup(&l, before, "4512", "345678"),
            Err(PickupRefusal::NotArrived)
        );
        assert_eq!(pickup(&l, l.arrives_at, "45 12", "345678"), Ok(()));
        assert_eq!(
            pickup(&l, l.arrives_at, "4512", "345679"),
            Err(PickupRefusal::WrongPassport)
        );
        assert_eq!(
            pickup(&l, l.arrives_at, "4513", "345678"),
            Err(PickupRefusal::WrongPassport)
        );
        let lost = Letter {
            lost: true,
            ..letter()
        };
        assert_eq!(
            pickup(&lost, SimTime::MAX, "4512", "345678"),
            Err(PickupRefusal::Lost)
        );
        assert_eq!(
            pickup(&lost, SimTime::ZERO, "0000", "000000"),
            Err(PickupRefusal::Lost)
        );
    }

    #[test]
    fn deliver_now_makes_a_letter_arrive() {
        let mut lost = Letter {
            lost: true,
            ..letter()
        };
        let now = SimTime::from_secs(200);
        lost.deliver_now(now);
        assert_eq!(pickup(&lost, now, "4512", "345678"), Ok(()));
        assert!(lost.has_arrived(now));
    }

    #[test]
    fn tracking_follows_the_letter() {
        let mut l = letter();
        let kinds = |l: &Letter, now: SimTime| -> Vec<TrackingKind> {
            l.tracking(now).iter().map(|e| e.kind).collect()
        };
        assert_eq!(kinds(&l, l.accepted_at), [TrackingKind::Accepted]);
        let day_one = l.accepted_at.saturating_add(MS_PER_DAY);
        assert_eq!(
            kinds(&l, day_one),
            [TrackingKind::Accepted, TrackingKind::InTransit]
        );
        assert_eq!(
            kinds(&l, l.arrives_at),
            [
                TrackingKind::Accepted,
                TrackingKind::InTransit,
                TrackingKind::Arrived
            ]
        );
        l.picked_up_at = Some(l.arrives_at.saturating_add(MS_PER_HOUR));
        assert_eq!(
            kinds(&l, SimTime::MAX).last(),
            Some(&TrackingKind::HandedOver)
        );
        let lost = Letter {
            lost: true,
            ..letter()
        };
        assert_eq!(
            kinds(&lost, SimTime::MAX),
            [TrackingKind::Accepted, TrackingKind::InTransit]
        );
        let events = l.tracking(SimTime::MAX);
        assert!(events.windows(2).all(|w| w[0].at <= w[1].at));
    }

    #[test]
    fn loss_rate_holds_statistically() {
        let profile = PostProfile::default();
        let mut r = rng(62);
        let lost = (0..5_000)
            .filter(|_| send(&profile, SimTime::ZERO, &mut r).verdict() == Some(&PostVerdict::Lost))
            .count();
        // 3 % of 5000 is 150, binomial sd 12; allow four.
        assert!((150 - 48..=150 + 48).contains(&lost), "{lost}");
    }

    #[test]
    fn speedup_compresses_two_weeks_into_seconds() {
        let profile: PostProfile =
            toml::from_str("speedup = 86400.0\nerror_rate = 0.0\nloss_rate = 0.0").unwrap();
        let mut r = rng(63);
        for _ in 0..100 {
            let delay_ms = send(&profile, SimTime::ZERO, &mut r).delay_ms().unwrap();
            assert!((3_000..=30_000).contains(&delay_ms), "{delay_ms}");
        }
    }
}
