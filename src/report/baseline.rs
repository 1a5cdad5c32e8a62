//! The run's figures beside DOMAIN.md's statements (with the seed files they come from), each
//! marked by what it can prove:
//! - **predicted**: an output the scenario's inputs do not fix (the slower of two agencies'
//!   answers, a visit after registering, verifying and waiting for opening hours); judged
//!   against the range DOMAIN.md itself states, never a wider one;
//! - **fitted**: an input, a clamp of an input, or true by the model's construction (the letter's
//!   delivery law has median 14 days, so the run's median is 14 days); shown, not judged;
//! - **info**: not what DOMAIN.md's statement measures, or a figure it does not state;
//! - **configuration**: engine figures the funnel does not record (checked by the engine's
//!   tests).

use super::figures::{round, Measure, TimeRow, ALL, TIME_DECIMALS};
use super::readable;
use serde::Serialize;

const MIN: u64 = 60;
const DAY: u64 = 86_400;

/// What a figure can prove about the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// An output the inputs do not fix: judged.
    Predicted,
    /// An input, a clamp or true by construction: shown, not judged.
    Fitted,
    /// Not what the statement measures, or a figure DOMAIN.md does not state.
    Info,
    /// An engine figure the funnel does not record.
    Configuration,
}

impl Basis {
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Predicted => "predicted",
            Basis::Fitted => "fitted",
            Basis::Info => "info",
            Basis::Configuration => "configuration",
        }
    }
}

/// Whether a figure agrees with the sources within the stated tolerance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Consistent,
    Inconsistent,
    /// The run has no citizen on which to measure it.
    NoData,
    /// A fitted figure: an input fixes it, so agreeing proves nothing; shown, not judged.
    Fitted,
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
            Verdict::Fitted => "fitted: not judged",
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
    /// What the figure can prove: predicted figures are judged, the others shown.
    pub basis: Basis,
    /// A predicted figure's range (DOMAIN.md's own); for the others, why it is not judged.
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

/// How a time check is read.
#[derive(Clone, Copy)]
enum Judged {
    /// Predicted: consistent when within `[lo, hi]` seconds.
    Range(u64, u64),
    /// Fitted: shown, not judged.
    Fitted,
    /// For information.
    Info,
}

struct TimeCheck {
    figure: &'static str,
    measure: Measure,
    path: &'static str,
    stat: Stat,
    domain: &'static str,
    sources: &'static str,
    tolerance: &'static str,
    judged: Judged,
}

const TIME_CHECKS: [TimeCheck; 12] = [
    TimeCheck {
        figure: "verification time, median",
        measure: Measure::Verification,
        path: ALL,
        stat: Stat::P50,
        domain: "about 15 minutes on average; 15-20 minutes",
        sources: "002, 003",
        tolerance: "between 15 and 20 minutes: the slower of PFR's and FMS's answers, each \
                    drawn from its own law",
        judged: Judged::Range(15 * MIN, 20 * MIN),
    },
    TimeCheck {
        figure: "verification time, p90",
        measure: Measure::Verification,
        path: ALL,
        stat: Stat::P90,
        domain: "several hours; from a few minutes to 5 days",
        sources: "004, 003",
        tolerance: "between 3 minutes and 5 days (\"a few minutes to 5 days\")",
        judged: Judged::Range(3 * MIN, 5 * DAY),
    },
    TimeCheck {
        figure: "service center: arrival to confirmed, median",
        measure: Measure::ToConfirmed,
        path: "service_center",
        stat: Stat::P50,
        domain: "immediate at the visit; a visit 1-2 days after registering is typical",
        sources: "003",
        tolerance: "between 1 and 2 days from registering (arrival: the code and password \
                    take minutes): the form, the verification, the visit delay after it, \
                    opening hours and queues together",
        judged: Judged::Range(DAY, 2 * DAY),
    },
    TimeCheck {
        figure: "verification time, p99",
        measure: Measure::Verification,
        path: ALL,
        stat: Stat::P99,
        domain: "up to 10 calendar days; rarely longer",
        sources: "004",
        tolerance: "fitted: PFR's and FMS's laws are clamped at 10 days",
        judged: Judged::Fitted,
    },
    TimeCheck {
        figure: "post: letter delivery, median",
        measure: Measure::LetterDelivery,
        path: ALL,
        stat: Stat::P50,
        domain: "a registered letter takes about 2 weeks on average",
        sources: "001, 003, 004",
        tolerance: "fitted: the post's delivery law has median 14 days",
        judged: Judged::Fitted,
    },
    TimeCheck {
        figure: "post: letter delivery, p99",
        measure: Measure::LetterDelivery,
        path: ALL,
        stat: Stat::P99,
        domain: "up to 30 days, then re-request",
        sources: "004",
        tolerance: "fitted: the post's delivery law ends at 30 days",
        judged: Judged::Fitted,
    },
    TimeCheck {
        figure: "bank: standard to confirmed, median",
        measure: Measure::StandardToConfirmed,
        path: "bank",
        stat: Stat::P50,
        domain: "after the check the account is confirmed at once",
        sources: "004",
        tolerance: "fitted: zero by construction (the agencies' answer confirms)",
        judged: Judged::Fitted,
    },
    TimeCheck {
        figure: "MFC registration: arrival to confirmed, median",
        measure: Measure::ToConfirmed,
        path: "mfc",
        stat: Stat::P50,
        domain: "confirmed from the start, at the visit",
        sources: "004",
        tolerance: "fitted: by construction the citizen arrives at the MFC (waiting only for \
                    it to open)",
        judged: Judged::Fitted,
    },
    TimeCheck {
        figure: "verification time, mean",
        measure: Measure::Verification,
        path: ALL,
        stat: Stat::Mean,
        domain: "about 15 minutes on average",
        sources: "002",
        tolerance: "not judged: the seeds' \"on average\" is read as the typical case (the \
                    median); a tail of days (also in the sources) moves the mean",
        judged: Judged::Info,
    },
    TimeCheck {
        figure: "arrival to standard, median (all paths)",
        measure: Measure::ToStandard,
        path: ALL,
        stat: Stat::P50,
        domain: "verification takes minutes to hours; it runs in the background",
        sources: "000, 002, 004",
        tolerance: "not judged: DOMAIN.md states no figure for it (it adds the citizen's own \
                    time to fill the form, an assumption, to the verification)",
        judged: Judged::Info,
    },
    TimeCheck {
        figure: "post: standard to confirmed, median",
        measure: Measure::StandardToConfirmed,
        path: "post",
        stat: Stat::P50,
        domain: "order, about 2 weeks of delivery, then pickup with the notice and passport",
        sources: "001, 003, 004",
        tolerance: "not judged: adds the citizen's own delays (ordering, pickup) to delivery",
        judged: Judged::Info,
    },
    TimeCheck {
        figure: "e-signature: standard to confirmed, median",
        measure: Measure::StandardToConfirmed,
        path: "e_signature",
        stat: Stat::P50,
        domain: "signing confirms immediately",
        sources: "004",
        tolerance: "not judged: the funnel's figure includes the time before the citizen signs",
        judged: Judged::Info,
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
    let (basis, verdict) = match (value_s, c.judged) {
        (None, Judged::Range(..)) => (Basis::Predicted, Verdict::NoData),
        (Some(v), Judged::Range(lo, hi)) => (
            Basis::Predicted,
            if v >= lo as f64 && v <= hi as f64 {
                Verdict::Consistent
            } else {
                Verdict::Inconsistent
            },
        ),
        (None, Judged::Fitted) => (Basis::Fitted, Verdict::NoData),
        (Some(_), Judged::Fitted) => (Basis::Fitted, Verdict::Fitted),
        (None, Judged::Info) => (Basis::Info, Verdict::NoData),
        (Some(_), Judged::Info) => (Basis::Info, Verdict::Info),
    };
    Check {
        figure: c.figure,
        value: value_s.map(|s| round(s / 3_600.0, TIME_DECIMALS)),
        unit: "hours",
        value_text,
        domain: c.domain,
        sources: c.sources,
        basis,
        tolerance: c.tolerance,
        verdict,
    }
}

/// The comparison table, from the pooled time rows: the predicted figures first, then the
/// fitted ones, then the rest.
pub fn checks(time: &[TimeRow]) -> Vec<Check> {
    let mut checks: Vec<Check> = TIME_CHECKS.iter().map(|c| time_check(c, time)).collect();

    // "arrived in 4 days": the delivery law puts 3% there.
    let post = time
        .iter()
        .find(|r| r.measure == Measure::LetterDelivery.as_str() && r.path == ALL)
        .filter(|r| r.count > 0);
    let within = post.and_then(|r| r.within_4_days);
    checks.push(Check {
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
        basis: Basis::Fitted,
        tolerance: "fitted: the post's delivery law puts 3% within 4 days",
        verdict: if within.is_some() {
            Verdict::Fitted
        } else {
            Verdict::NoData
        },
    });

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
            basis: Basis::Configuration,
            tolerance: "engine configuration: the funnel records no code ages",
            verdict: Verdict::NotMeasured,
        });
    }
    let order = |b: Basis| match b {
        Basis::Predicted => 0,
        Basis::Fitted => 1,
        Basis::Info => 2,
        Basis::Configuration => 3,
    };
    checks.sort_by_key(|c| order(c.basis));
    checks
}
