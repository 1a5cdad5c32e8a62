//! The run's figures beside DOMAIN.md's statements (with the seed files they come from), each
//! with a stated tolerance and a verdict: does a baseline scenario say what the sources say?

use super::figures::{round, Measure, TimeRow, ALL, TIME_DECIMALS};
use super::readable;
use serde::Serialize;

const MIN: u64 = 60;
const HOUR: u64 = 3_600;
const DAY: u64 = 86_400;

/// Whether a figure agrees with the sources within the stated tolerance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Consistent,
    Inconsistent,
    /// The run has no citizen on which to measure it.
    NoData,
    /// Shown for information: the funnel's figure is not what the statement measures.
    Info,
    /// The funnel does not record it (engine configuration, checked by the engine's tests).
    NotMeasured,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Consistent => "consistent",
            Verdict::Inconsistent => "inconsistent",
            Verdict::NoData => "no data",
            Verdict::Info => "for information",
            Verdict::NotMeasured => "not measured",
        }
    }
}

/// One comparison.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Check {
    /// What is measured, e.g. `verification time, median`.
    pub figure: &'static str,
    /// The figure in `unit` (hours for durations, a share for shares).
    pub value: Option<f64>,
    pub unit: &'static str,
    /// The figure as a person reads it (with the p99 and max where they matter).
    pub value_text: String,
    /// What DOMAIN.md says.
    pub domain: &'static str,
    /// The seed files DOMAIN.md cites for it.
    pub sources: &'static str,
    pub tolerance: &'static str,
    pub verdict: Verdict,
}

/// Which quantile of a time row a check reads.
#[derive(Clone, Copy)]
enum Stat {
    P50,
    P90,
    P99,
    Mean,
}

struct TimeCheck {
    figure: &'static str,
    measure: Measure,
    path: &'static str,
    stat: Stat,
    domain: &'static str,
    sources: &'static str,
    tolerance: &'static str,
    /// `None`: for information only.
    range_s: Option<(u64, u64)>,
}

const TIME_CHECKS: [TimeCheck; 12] = [
    TimeCheck {
        figure: "verification time, median",
        measure: Measure::Verification,
        path: ALL,
        stat: Stat::P50,
        domain: "about 15 minutes on average; 15-20 minutes; a few minutes",
        sources: "002, 003, 000",
        tolerance: "median between 3 minutes and 1 hour",
        range_s: Some((3 * MIN, HOUR)),
    },
    TimeCheck {
        figure: "verification time, mean",
        measure: Measure::Verification,
        path: ALL,
        stat: Stat::Mean,
        domain: "about 15 minutes on average",
        sources: "002",
        tolerance: "not judged: a tail of days (also in the sources) moves the mean",
        range_s: None,
    },
    TimeCheck {
        figure: "verification time, p90",
        measure: Measure::Verification,
        path: ALL,
        stat: Stat::P90,
        domain: "several hours; from a few minutes to 5 days",
        sources: "004, 003",
        tolerance: "p90 at most 5 days",
        range_s: Some((0, 5 * DAY)),
    },
    TimeCheck {
        figure: "verification time, p99",
        measure: Measure::Verification,
        path: ALL,
        stat: Stat::P99,
        domain: "up to 10 calendar days; rarely longer",
        sources: "004",
        tolerance: "p99 at most 10 days (the max may be longer)",
        range_s: Some((0, 10 * DAY)),
    },
    TimeCheck {
        figure: "arrival to standard, median (all paths)",
        measure: Measure::ToStandard,
        path: ALL,
        stat: Stat::P50,
        domain: "verification takes minutes to hours; it runs in the background",
        sources: "000, 002, 004",
        tolerance: "median between 1 minute and 1 day",
        range_s: Some((MIN, DAY)),
    },
    TimeCheck {
        figure: "post: letter delivery, median",
        measure: Measure::LetterDelivery,
        path: ALL,
        stat: Stat::P50,
        domain: "a registered letter takes about 2 weeks on average",
        sources: "001, 003, 004",
        tolerance: "median between 10 and 18 days",
        range_s: Some((10 * DAY, 18 * DAY)),
    },
    TimeCheck {
        figure: "post: letter delivery, p99",
        measure: Measure::LetterDelivery,
        path: ALL,
        stat: Stat::P99,
        domain: "up to 30 days, then re-request",
        sources: "004",
        tolerance: "p99 at most 30 days",
        range_s: Some((0, 30 * DAY)),
    },
    TimeCheck {
        figure: "post: standard to confirmed, median",
        measure: Measure::StandardToConfirmed,
        path: "post",
        stat: Stat::P50,
        domain: "order, about 2 weeks of delivery, then pickup with the notice and passport",
        sources: "001, 003, 004",
        tolerance: "not judged: adds the citizen's own delays (ordering, pickup) to delivery",
        range_s: None,
    },
    TimeCheck {
        figure: "service center: standard to confirmed, median",
        measure: Measure::StandardToConfirmed,
        path: "service_center",
        stat: Stat::P50,
        domain: "immediate at the visit; a visit 1-2 days after registering is typical",
        sources: "003",
        tolerance: "median between 12 hours and 3 days",
        range_s: Some((12 * HOUR, 3 * DAY)),
    },
    TimeCheck {
        figure: "bank: standard to confirmed, median",
        measure: Measure::StandardToConfirmed,
        path: "bank",
        stat: Stat::P50,
        domain: "after the check the account is confirmed at once",
        sources: "004",
        tolerance: "median at most 1 hour",
        range_s: Some((0, HOUR)),
    },
    TimeCheck {
        figure: "MFC registration: arrival to confirmed, median",
        measure: Measure::ToConfirmed,
        path: "mfc",
        stat: Stat::P50,
        domain: "confirmed from the start, at the visit",
        sources: "004",
        tolerance: "median at most 1 day (the same visit)",
        range_s: Some((0, DAY)),
    },
    TimeCheck {
        figure: "e-signature: standard to confirmed, median",
        measure: Measure::StandardToConfirmed,
        path: "e_signature",
        stat: Stat::P50,
        domain: "signing confirms immediately",
        sources: "004",
        tolerance: "not judged: the funnel's figure includes the time before the citizen signs",
        range_s: None,
    },
];

fn time_check(c: &TimeCheck, time: &[TimeRow]) -> Check {
    let row = time
        .iter()
        .find(|r| r.measure == c.measure.as_str() && r.path == c.path)
        .filter(|r| r.count > 0);
    let value_s: Option<f64> = row.and_then(|r| match c.stat {
        Stat::P50 => r.p50_s.map(|s| s as f64),
        Stat::P90 => r.p90_s.map(|s| s as f64),
        Stat::P99 => r.p99_s.map(|s| s as f64),
        Stat::Mean => r.mean_s,
    });
    let value_text = match (row, value_s) {
        (Some(r), Some(v)) => {
            let main = readable::duration_s(v.round() as u64);
            match c.stat {
                Stat::P99 => format!(
                    "{main} (max {}; n = {})",
                    readable::opt_duration_s(r.max_s),
                    readable::count(r.count)
                ),
                _ => format!(
                    "{main} (p99 {}; n = {})",
                    readable::opt_duration_s(r.p99_s),
                    readable::count(r.count)
                ),
            }
        }
        _ => "–".to_string(),
    };
    let verdict = match (value_s, c.range_s) {
        (None, _) => Verdict::NoData,
        (Some(_), None) => Verdict::Info,
        (Some(v), Some((lo, hi))) if v >= lo as f64 && v <= hi as f64 => Verdict::Consistent,
        (Some(_), Some(_)) => Verdict::Inconsistent,
    };
    Check {
        figure: c.figure,
        value: value_s.map(|s| round(s / 3_600.0, TIME_DECIMALS)),
        unit: "hours",
        value_text,
        domain: c.domain,
        sources: c.sources,
        tolerance: c.tolerance,
        verdict,
    }
}

/// The comparison table, from the pooled time rows.
pub fn checks(time: &[TimeRow]) -> Vec<Check> {
    let mut checks: Vec<Check> = TIME_CHECKS.iter().map(|c| time_check(c, time)).collect();

    // "arrived in 4 days": it happens, but it is not the typical letter.
    let post = time
        .iter()
        .find(|r| r.measure == Measure::LetterDelivery.as_str() && r.path == ALL)
        .filter(|r| r.count > 0);
    let within = post.and_then(|r| r.within_4_days);
    checks.insert(
        6,
        Check {
            figure: "post: share of letters delivered within 4 days",
            value: within,
            unit: "share",
            value_text: post.map_or("–".into(), |r| {
                format!(
                    "{} (n = {})",
                    readable::percent(r.within_4_days),
                    readable::count(r.count)
                )
            }),
            domain: "\"arrived in 4 days\"",
            sources: "003",
            tolerance: "some, but under half",
            verdict: match within {
                None => Verdict::NoData,
                Some(s) if s > 0.0 && s < 0.5 => Verdict::Consistent,
                Some(_) => Verdict::Inconsistent,
            },
        },
    );

    for (figure, domain, sources) in [
        ("SMS code lifetime", "valid for 5 minutes (300 s)", "004"),
        (
            "e-mail link lifetime",
            "must be followed within 3 days",
            "003",
        ),
    ] {
        checks.push(Check {
            figure,
            value: None,
            unit: "hours",
            value_text: "–".into(),
            domain,
            sources,
            tolerance: "engine configuration: the funnel records no code ages",
            verdict: Verdict::NotMeasured,
        });
    }
    checks
}
