//! FMS (the migration service, now MVD): checks a passport (series, number) against its
//! holder's names, birth date and issue date, and answers `valid`, `invalid` (genuine but
//! expired or cancelled), `mismatch` or `not_found`, with the same delays as PFR.
//!
//! [`compare`] judges a query against the record FMS holds (the HTTP mock); [`respond`] gives
//! the delay and any injected failure of a verdict (the simulator and the HTTP mock alike).

use chrono::NaiveDate;
use rand::Rng;
use serde::{Deserialize, Deserializer, Serialize};

use super::matching::{same_digits, same_text};
use super::pfr::verification_latency;
use super::profile::{deserialize_over, Profile, ProfileTable, Reply, COMMON_KEYS};
use crate::clock::SimTime;

/// What FMS holds about one passport.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FmsRecord {
    /// Four digits, spaces allowed (`45 12`).
    #[schema(value_type = crate::wire::SeriesDigits)]
    pub series: String,
    /// Six digits.
    #[schema(value_type = crate::wire::NumberDigits)]
    pub number: String,
    pub surname: String,
    pub name: String,
    /// Empty when the holder has none.
    #[serde(default)]
    pub patronymic: String,
    pub birth_date: NaiveDate,
    pub issue_date: NaiveDate,
    /// Past its validity (the holder turned 20 or 45 and did not replace it).
    #[serde(default)]
    pub expired: bool,
    /// Declared lost, stolen or replaced.
    #[serde(default)]
    pub cancelled: bool,
}

/// A passport check as the engine sends it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FmsQuery<'a> {
    pub series: &'a str,
    pub number: &'a str,
    pub surname: &'a str,
    pub name: &'a str,
    pub patronymic: &'a str,
    pub birth_date: NaiveDate,
    pub issue_date: NaiveDate,
}

/// FMS's answer. Wire names: `valid`, `invalid`, `mismatch`, `not_found`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FmsVerdict {
    /// A valid passport of this person.
    Valid,
    /// A genuine passport that is expired or cancelled (whoever presents it).
    Invalid,
    /// A valid passport whose holder's data differ from the query.
    Mismatch,
    /// No passport with this series and number.
    NotFound,
}

/// Judges `query` against the record FMS holds for its series and number (`None` if none).
///
/// An expired or cancelled passport is `invalid` before any name is compared, as on the public
/// check, which asks for series and number alone.
pub fn compare(query: &FmsQuery<'_>, truth: Option<&FmsRecord>) -> FmsVerdict {
    let Some(record) = truth
        .filter(|r| same_digits(&r.series, query.series) && same_digits(&r.number, query.number))
    else {
        return FmsVerdict::NotFound;
    };
    if record.expired || record.cancelled {
        return FmsVerdict::Invalid;
    }
    let same = same_text(query.surname, &record.surname)
        && same_text(query.name, &record.name)
        && same_text(query.patronymic, &record.patronymic)
        && query.birth_date == record.birth_date
        && query.issue_date == record.issue_date;
    if same {
        FmsVerdict::Valid
    } else {
        FmsVerdict::Mismatch
    }
}

/// When and whether FMS delivers `verdict` for a request made at `now`.
pub fn respond<R: Rng + ?Sized>(
    verdict: FmsVerdict,
    profile: &FmsProfile,
    now: SimTime,
    rng: &mut R,
) -> Reply<FmsVerdict> {
    profile.service.decide(now, rng).with(verdict)
}

/// FMS as a service: only the common keys (see [`Profile`]).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FmsProfile {
    #[serde(flatten)]
    pub service: Profile,
}

impl Default for FmsProfile {
    /// As PFR: latency [`verification_latency`], `error_rate` 0.002, `timeout_rate` 0.001.
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

impl ProfileTable for FmsProfile {
    const KEYS: &'static [&'static str] = &COMMON_KEYS;
    fn service(&mut self) -> &mut Profile {
        &mut self.service
    }
}

impl<'de> Deserialize<'de> for FmsProfile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_over(deserializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agency::latency::tests::rng;
    use crate::clock::MS_PER_MIN;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
    }

    fn record() -> FmsRecord {
        FmsRecord {
            series: "4512".into(),
            number: "345678".into(),
            surname: "Алёшина".into(),
            name: "Анна".into(),
            patronymic: "Сергеевна".into(),
            birth_date: date(1990, 2, 3),
            issue_date: date(2010, 3, 1),
            expired: false,
            cancelled: false,
        }
    }

    fn query() -> FmsQuery<'static> {
        FmsQuery {
            series: "45 12",
            number: "345678",
            surname: "алешина",
            name: "АННА",
            patronymic: "сергеевна",
            birth_date: date(1990, 2, 3),
            issue_date: date(2010, 3, 1),
        }
    }

    #[test]
    fn compare_gives_each_verdict() {
        let truth = record();
        assert_eq!(compare(&query(), Some(&truth)), FmsVerdict::Valid);
        assert_eq!(compare(&query(), None), FmsVerdict::NotFound);
        let wrong_number = FmsQuery {
            number: "345679",
            ..query()
        };
        assert_eq!(compare(&wrong_number, Some(&truth)), FmsVerdict::NotFound);
        let wrong_issue = FmsQuery {
            issue_date: date(2010, 3, 2),
            ..query()
        };
        assert_eq!(compare(&wrong_issue, Some(&truth)), FmsVerdict::Mismatch);
        let wrong_name = FmsQuery {
            name: "Анастасия",
            ..query()
        };
        assert_eq!(compare(&wrong_name, Some(&truth)), FmsVerdict::Mismatch);
        let expired = FmsRecord {
            expired: true,
            ..record()
        };
        assert_eq!(compare(&query(), Some(&expired)), FmsVerdict::Invalid);
        let cancelled = FmsRecord {
            cancelled: true,
            ..record()
        };
        // Invalid whoever presents it: the names are not even compared.
        assert_eq!(compare(&wrong_name, Some(&cancelled)), FmsVerdict::Invalid);
    }

    #[test]
    fn verdicts_use_contract_wire_names() {
        let all = [
            FmsVerdict::Valid,
            FmsVerdict::Invalid,
            FmsVerdict::Mismatch,
            FmsVerdict::NotFound,
        ];
        let names: Vec<String> = all
            .iter()
            .map(|v| serde_json::to_string(v).unwrap())
            .collect();
        assert_eq!(
            names,
            ["\"valid\"", "\"invalid\"", "\"mismatch\"", "\"not_found\""]
        );
    }

    #[test]
    fn records_read_with_default_flags() {
        let json = r#"{"series":"4512","number":"345678","surname":"Алёшина","name":"Анна",
            "birth_date":"1990-02-03","issue_date":"2010-03-01"}"#;
        let r: FmsRecord = serde_json::from_str(json).unwrap();
        assert!(!r.expired && !r.cancelled && r.patronymic.is_empty());
    }

    #[test]
    fn respond_draws_independent_delays() {
        let profile = FmsProfile {
            service: Profile {
                error_rate: 0.0,
                timeout_rate: 0.0,
                ..FmsProfile::default().service
            },
        };
        let mut r = rng(21);
        let delays: Vec<u64> = (0..50)
            .filter_map(|_| respond(FmsVerdict::Valid, &profile, SimTime::ZERO, &mut r).delay_ms())
            .collect();
        assert_eq!(delays.len(), 50);
        assert!(delays.iter().all(|&d| d >= MS_PER_MIN));
        assert!(delays.windows(2).any(|w| w[0] != w[1]));
    }
}
