//! PFR (the Pension Fund, now SFR): checks a SNILS against surname, name, patronymic, birth date
//! and gender, and answers `match`, `mismatch` or `not_found` after a delay of minutes to days.
//!
//! [`compare`] judges a query against the record PFR holds (the HTTP mock); [`respond`] gives
//! the delay and any injected failure of a verdict (the simulator, which computes verdicts
//! without strings, and the HTTP mock alike).

use chrono::NaiveDate;
use rand::Rng;
use serde::{Deserialize, Deserializer, Serialize};

use super::latency::Latency;
use super::matching::{same_digits, same_text};
use super::profile::{deserialize_over, Profile, ProfileTable, Reply, COMMON_KEYS};
use crate::clock::{SimTime, MS_PER_DAY, MS_PER_HOUR, MS_PER_MIN};
use crate::ident::Gender;

/// What PFR holds about one insured person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PfrRecord {
    /// SNILS in any layout (`123-456-789 64` or `12345678964`).
    #[schema(value_type = crate::wire::Snils)]
    pub snils: String,
    pub surname: String,
    pub name: String,
    /// Empty when the person has none.
    #[serde(default)]
    pub patronymic: String,
    pub birth_date: NaiveDate,
    pub gender: Gender,
}

/// A SNILS check as the engine sends it (SMEV's FamilyName, FirstName, Patronymic, Snils,
/// Gender, BirthDate).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PfrQuery<'a> {
    pub snils: &'a str,
    pub surname: &'a str,
    pub name: &'a str,
    pub patronymic: &'a str,
    pub birth_date: NaiveDate,
    pub gender: Gender,
}

/// PFR's answer. Wire names: `match`, `mismatch`, `not_found`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PfrVerdict {
    /// The SNILS belongs to this person.
    Match,
    /// The SNILS exists but some personal data differ.
    Mismatch,
    /// No insured person has this SNILS.
    NotFound,
}

/// Judges `query` against the record PFR holds for its SNILS (`None` if it holds none).
pub fn compare(query: &PfrQuery<'_>, truth: Option<&PfrRecord>) -> PfrVerdict {
    let Some(record) = truth.filter(|r| same_digits(&r.snils, query.snils)) else {
        return PfrVerdict::NotFound;
    };
    let same = same_text(query.surname, &record.surname)
        && same_text(query.name, &record.name)
        && same_text(query.patronymic, &record.patronymic)
        && query.birth_date == record.birth_date
        && query.gender == record.gender;
    if same {
        PfrVerdict::Match
    } else {
        PfrVerdict::Mismatch
    }
}

/// When and whether PFR delivers `verdict` for a request made at `now`.
pub fn respond<R: Rng + ?Sized>(
    verdict: PfrVerdict,
    profile: &PfrProfile,
    now: SimTime,
    rng: &mut R,
) -> Reply<PfrVerdict> {
    profile.service.decide(now, rng).with(verdict)
}

/// PFR as a service: only the common keys (see [`Profile`]).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PfrProfile {
    #[serde(flatten)]
    pub service: Profile,
}

impl Default for PfrProfile {
    /// Latency [`verification_latency`], `error_rate` 0.002, `timeout_rate` 0.001, no outages,
    /// speedup 1.
    fn default() -> Self {
        Self {
            service: Profile {
                latency: verification_latency(),
                error_rate: 0.002,
                timeout_rate: 0.001,
                ..Profile::default()
            },
        }
    }
}

/// The time of one agency's automatic check of personal data (DOMAIN.md step 2). PFR and FMS
/// share it, with independent draws; what a citizen sees is the slower of the two (a failure:
/// the first to refuse), so the law is fitted for that: the seeds' "about 15 minutes on average"
/// (002) and "15–20 minutes" (003) describe the verification, not one agency.
///
/// A mixture, clamped to `[1m, 10d]`:
/// - 85 %: lognormal, median 9 min, p99 1 h: "a few minutes" (000);
/// - 12 %: lognormal, median 5 h, p99 2 d: "several hours" (004);
/// - 3 %: lognormal, median 2 d, p99 8 d: "from a few minutes to 5 days" (003, 004), "up to 10
///   calendar days" (004), the clamp.
///
/// One agency: p10 about 3.4 min, median 11 min, p90 about 4 h, p99 about 2.7 d. The slower of
/// two: median about 20 min, p90 about 12 h, p99 about 3.6 d; in the baseline simulation, where
/// a refusal ends a verification at once, the verification's median is 17 min (within 15–20
/// min), its p90 10 h. The mean is hours (the seeds' "on average" is read as the typical case,
/// the median).
pub fn verification_latency() -> Latency {
    let part = |weight: f64, median_ms: u64, p99_ms: u64| {
        (
            weight,
            Latency::lognormal(median_ms, p99_ms).expect("constant p99 is above its median"),
        )
    };
    Latency::mixture(vec![
        part(0.85, 9 * MS_PER_MIN, MS_PER_HOUR),
        part(0.12, 5 * MS_PER_HOUR, 2 * MS_PER_DAY),
        part(0.03, 2 * MS_PER_DAY, 8 * MS_PER_DAY),
    ])
    .and_then(|mixture| mixture.clamped(Some(MS_PER_MIN), Some(10 * MS_PER_DAY)))
    .expect("constant weights are positive and the clamp is ordered")
}

impl ProfileTable for PfrProfile {
    const KEYS: &'static [&'static str] = &COMMON_KEYS;
    fn service(&mut self) -> &mut Profile {
        &mut self.service
    }
}

impl<'de> Deserialize<'de> for PfrProfile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_over(deserializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agency::latency::tests::{quantile_of, rng};
    use crate::agency::profile::Fate;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
    }

    fn record() -> PfrRecord {
        PfrRecord {
            snils: "112-233-445 95".into(),
            surname: "Семёнов".into(),
            name: "Пётр".into(),
            patronymic: "Ильич".into(),
            birth_date: date(1985, 4, 12),
            gender: Gender::Male,
        }
    }

    fn query() -> PfrQuery<'static> {
        PfrQuery {
            snils: "11223344595",
            surname: " СЕМЕНОВ",
            name: "петр",
            patronymic: "Ильич ",
            birth_date: date(1985, 4, 12),
            gender: Gender::Male,
        }
    }

    #[test]
    fn compare_gives_each_verdict() {
        let truth = record();
        assert_eq!(compare(&query(), Some(&truth)), PfrVerdict::Match);
        assert_eq!(compare(&query(), None), PfrVerdict::NotFound);
        let other_snils = PfrQuery {
            snils: "112-233-445 96",
            ..query()
        };
        assert_eq!(compare(&other_snils, Some(&truth)), PfrVerdict::NotFound);
        let mismatches = [
            PfrQuery {
                surname: "Семенова",
                ..query()
            },
            PfrQuery {
                name: "Павел",
                ..query()
            },
            PfrQuery {
                patronymic: "",
                ..query()
            },
            PfrQuery {
                birth_date: date(1985, 4, 13),
                ..query()
            },
            PfrQuery {
                gender: Gender::Female,
                ..query()
            },
        ];
        for q in mismatches {
            assert_eq!(compare(&q, Some(&truth)), PfrVerdict::Mismatch, "{q:?}");
        }
    }

    #[test]
    fn verdicts_use_contract_wire_names() {
        let names: Vec<String> = [
            PfrVerdict::Match,
            PfrVerdict::Mismatch,
            PfrVerdict::NotFound,
        ]
        .iter()
        .map(|v| serde_json::to_string(v).unwrap())
        .collect();
        assert_eq!(names, ["\"match\"", "\"mismatch\"", "\"not_found\""]);
    }

    #[test]
    fn default_latency_is_calibrated_to_the_seeds() {
        let latency = PfrProfile::default().service.latency;
        let median = quantile_of(&latency, 10_000, 0.5, 11);
        assert!(
            (5 * MS_PER_MIN..=15 * MS_PER_MIN).contains(&median),
            "median {median} ms"
        );
        // The citizen waits for the slower of PFR and FMS: "15-20 minutes" (003), give or
        // take the draws (analytically 19.7 min).
        let mut r = rng(13);
        let mut slower: Vec<u64> = (0..20_000)
            .map(|_| latency.sample_ms(&mut r).max(latency.sample_ms(&mut r)))
            .collect();
        slower.sort_unstable();
        let slower_median = slower[10_000];
        assert!(
            (15 * MS_PER_MIN..=22 * MS_PER_MIN).contains(&slower_median),
            "the slower of two: median {slower_median} ms"
        );
        let p999 = quantile_of(&latency, 10_000, 0.999, 11);
        assert!(p999 <= 10 * MS_PER_DAY, "p99.9 {p999} ms");
        assert!(
            p999 >= 12 * MS_PER_HOUR,
            "a tail of days exists: p99.9 {p999} ms"
        );
        assert!(quantile_of(&latency, 10_000, 0.0, 11) >= MS_PER_MIN);
    }

    #[test]
    fn respond_carries_the_verdict_or_the_failure() {
        let mut profile = PfrProfile::default();
        let mut r = rng(12);
        match respond(PfrVerdict::Mismatch, &profile, SimTime::ZERO, &mut r) {
            Reply::Answer { verdict, delay_ms } => {
                assert_eq!(verdict, PfrVerdict::Mismatch);
                assert!(delay_ms >= MS_PER_MIN);
            }
            other => panic!("expected an answer, got {other:?}"),
        }
        profile.service.error_rate = 1.0;
        assert_eq!(
            respond(PfrVerdict::Match, &profile, SimTime::ZERO, &mut r),
            Reply::ServerError
        );
        assert_eq!(
            profile.service.decide(SimTime::ZERO, &mut r),
            Fate::ServerError
        );
    }

    #[test]
    fn a_table_overrides_only_the_keys_it_names() {
        let p: PfrProfile = toml::from_str("error_rate = 0.5").unwrap();
        assert_eq!(p.service.error_rate, 0.5);
        assert_eq!(p.service.latency, verification_latency());
        assert_eq!(p.service.timeout_rate, 0.001);
        let typo = toml::from_str::<PfrProfile>("latncy = 1")
            .unwrap_err()
            .to_string();
        assert!(typo.contains("latncy"), "{typo}");
    }
}
