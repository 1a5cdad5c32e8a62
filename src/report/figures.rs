//! Every figure of a report, computed once from the funnels: `funnel.json` is these structs
//! serialized; the CSV tables, the HTML page and the terminal summary read them.
//!
//! Pooled figures come from all replicates merged with [`Funnel::merge`]; each conversion
//! figure also gets a 95% confidence interval across replicates when there are two or more.
//! Figures are rounded once, here (shares to 6 decimals, hours and days to 4), so the same
//! funnels give the same bytes.

use super::baseline::{self, Check};
use super::confidence::Ci;
use super::{ReportError, RunInfo};
use crate::funnel::{Durations, Exit, Funnel, Path, PathCounts, Step};
use chrono::{Days, NaiveDate};
use serde::Serialize;
use std::collections::BTreeMap;

/// The `format` field of `funnel.json`: bumped when its shape changes.
pub const FORMAT: &str = "esia-sim funnel report 1";
/// Decimals kept in shares and their intervals.
pub const SHARE_DECIMALS: i32 = 6;
/// Decimals kept in hours and days.
pub const TIME_DECIMALS: i32 = 4;

/// `x` rounded to `decimals` places (and never `-0`).
pub fn round(x: f64, decimals: i32) -> f64 {
    let m = 10f64.powi(decimals);
    let r = (x * m).round() / m;
    if r == 0.0 {
        0.0
    } else {
        r
    }
}

fn share(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| round(num as f64 / den as f64, SHARE_DECIMALS))
}

/// The overall funnel's rows: every citizen arrives, then the three tiers.
pub const TIERS: [Step; 4] = [
    Step::Arrived,
    Step::Simplified,
    Step::Standard,
    Step::Confirmed,
];

/// The path name of the pooled rows (every path together).
pub const ALL: &str = "all";

/// Tier rank of a step: 1 simplified, 2 standard, 3 confirmed, 0 for the steps between.
fn rank(step: Step) -> usize {
    match step {
        Step::Simplified => 1,
        Step::Standard => 2,
        Step::Confirmed => 3,
        _ => 0,
    }
}

/// The tier a citizen of `path` holds once `step` is its last: the highest tier step up to it.
/// A bank client who reached `standard` holds the standard tier without a simplified step.
fn level(path: Path, step: Step) -> usize {
    path.steps()
        .iter()
        .take_while(|s| **s <= step)
        .map(|s| rank(*s))
        .max()
        .unwrap_or(0)
}

/// Citizens of `path` who hold at least tier `k` (0: arrived): those who reached the first
/// tier step of rank `k` or above on the path.
fn reached_level(counts: &PathCounts, path: Path, k: usize) -> u64 {
    if k == 0 {
        return counts.reached[Step::Arrived as usize];
    }
    path.steps()
        .iter()
        .find(|s| rank(**s) >= k)
        .map_or(0, |s| counts.reached[*s as usize])
}

/// One row of a funnel: a step (or tier), how many reached it, and who fell away before it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StepRow {
    pub step: &'static str,
    pub reached: u64,
    /// Reached this step / reached the previous one (none on the first row).
    pub conversion_from_previous: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversion_from_previous_ci: Option<Ci>,
    /// Reached this step / arrived.
    pub conversion_overall: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversion_overall_ci: Option<Ci>,
    /// Reached the previous step but not this one.
    pub dropped: u64,
    /// Of those, exited for a reason ...
    pub dropped_exited: u64,
    /// ... were still in progress at the horizon (censored, not lost) ...
    pub dropped_censored: u64,
    /// ... or had reached their path's goal (overall funnel only: a simplified-path citizen
    /// stops at the simplified tier by choice).
    pub stopped_at_goal: u64,
}

/// Citizens who stopped after a step: for a reason, or censored (`reason` absent).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OutcomeRow {
    /// The last step reached (for the overall funnel: the tier held).
    pub step: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    pub count: u64,
    pub share_of_path: f64,
}

/// The funnel of one path, or of every path together (`path: "all"`, steps = tiers).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PathFigures {
    pub path: &'static str,
    pub citizens: u64,
    /// Reached the path's goal.
    pub completed: u64,
    pub exited: u64,
    /// Still in progress at the horizon.
    pub censored: u64,
    /// completed / citizens.
    pub completion: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completion_ci: Option<Ci>,
    pub steps: Vec<StepRow>,
    /// Exits by last step and reason (non-zero rows, in step then reason order).
    pub exits: Vec<OutcomeRow>,
    /// Censored citizens by last step (non-zero rows).
    pub censored_by_step: Vec<OutcomeRow>,
}

/// Exits of every path by reason.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReasonRow {
    pub reason: &'static str,
    pub count: u64,
    pub share_of_citizens: f64,
}

/// What a time-to-tier row measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    ToStandard,
    ToConfirmed,
    StandardToConfirmed,
    Verification,
    LetterDelivery,
}

impl Measure {
    pub const ALL: [Measure; 5] = [
        Measure::ToStandard,
        Measure::ToConfirmed,
        Measure::StandardToConfirmed,
        Measure::Verification,
        Measure::LetterDelivery,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Measure::ToStandard => "to_standard",
            Measure::ToConfirmed => "to_confirmed",
            Measure::StandardToConfirmed => "standard_to_confirmed",
            Measure::Verification => "verification",
            Measure::LetterDelivery => "letter_delivery",
        }
    }

    /// A caption for tables and plots.
    pub fn title(self) -> &'static str {
        match self {
            Measure::ToStandard => "arrival to standard",
            Measure::ToConfirmed => "arrival to confirmed",
            Measure::StandardToConfirmed => "standard to confirmed",
            Measure::Verification => "verification (submission to PFR and FMS decision)",
            Measure::LetterDelivery => "post letter delivery (order to arrival at the office)",
        }
    }

    /// The histogram of `path`, where the path has one (verification is pooled only).
    fn histogram(self, f: &Funnel, path: Path) -> Option<&Durations> {
        let steps = path.steps();
        let p = path as usize;
        match self {
            Measure::ToStandard => steps.contains(&Step::Standard).then(|| &f.to_standard[p]),
            Measure::ToConfirmed => steps.contains(&Step::Confirmed).then(|| &f.to_confirmed[p]),
            Measure::StandardToConfirmed => (steps.contains(&Step::Standard)
                && steps.contains(&Step::Confirmed))
            .then(|| &f.standard_to_confirmed[p]),
            Measure::Verification | Measure::LetterDelivery => None,
        }
    }
}

/// Upper edges of the duration histograms' bins, in seconds; the last bin is open.
const BIN_EDGES_S: [u64; 23] = [
    60,
    5 * 60,
    15 * 60,
    30 * 60,
    3_600,
    2 * 3_600,
    4 * 3_600,
    8 * 3_600,
    12 * 3_600,
    86_400,
    2 * 86_400,
    3 * 86_400,
    4 * 86_400,
    5 * 86_400,
    7 * 86_400,
    10 * 86_400,
    14 * 86_400,
    21 * 86_400,
    30 * 86_400,
    45 * 86_400,
    60 * 86_400,
    90 * 86_400,
    180 * 86_400,
];

/// A bin of the duration histograms: `[lower_s, upper_s)`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TimeBin {
    pub label: String,
    pub lower_s: u64,
    /// None: open-ended.
    pub upper_s: Option<u64>,
}

/// `0`, `5m`, `2h`, `14d`: a bin edge as a short label.
pub fn short_duration(secs: u64) -> String {
    match secs {
        0 => "0".into(),
        s if s < 3_600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3_600),
        s => format!("{}d", s / 86_400),
    }
}

fn time_bins() -> Vec<TimeBin> {
    let mut lower = 0;
    let mut bins = Vec::with_capacity(BIN_EDGES_S.len() + 1);
    for upper in BIN_EDGES_S {
        bins.push(TimeBin {
            label: format!("{}-{}", short_duration(lower), short_duration(upper)),
            lower_s: lower,
            upper_s: Some(upper),
        });
        lower = upper;
    }
    bins.push(TimeBin {
        label: format!(">={}", short_duration(lower)),
        lower_s: lower,
        upper_s: None,
    });
    bins
}

/// Time to a tier (or between two) for one path, from its histogram in seconds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TimeRow {
    pub measure: &'static str,
    pub path: &'static str,
    /// Citizens measured (those who got there; the censored are in the maturity curves).
    pub count: u64,
    pub p50_s: Option<u64>,
    pub p90_s: Option<u64>,
    pub p99_s: Option<u64>,
    pub max_s: Option<u64>,
    pub mean_s: Option<f64>,
    pub p50_hours: Option<f64>,
    pub p90_hours: Option<f64>,
    pub p99_hours: Option<f64>,
    pub max_hours: Option<f64>,
    pub p50_days: Option<f64>,
    pub p90_days: Option<f64>,
    pub p99_days: Option<f64>,
    pub max_days: Option<f64>,
    /// Counts in the bins of `time_bins`.
    pub histogram: Vec<u64>,
    /// Share of within 4 days (used by the post comparison).
    pub within_4_days: Option<f64>,
}

impl TimeRow {
    fn new(measure: Measure, path: &'static str, h: &Durations) -> Self {
        let count = h.len();
        let q = |q: f64| (count > 0).then(|| h.value_at_quantile(q));
        let (p50, p90, p99) = (q(0.5), q(0.9), q(0.99));
        let max = (count > 0).then(|| h.max());
        let hours = |s: Option<u64>| s.map(|s| round(s as f64 / 3_600.0, TIME_DECIMALS));
        let days = |s: Option<u64>| s.map(|s| round(s as f64 / 86_400.0, TIME_DECIMALS));
        let mut histogram = vec![0u64; BIN_EDGES_S.len() + 1];
        let mut within_4_days = 0;
        for v in h.iter_recorded() {
            let value = v.value_iterated_to();
            let bin = BIN_EDGES_S.partition_point(|edge| *edge <= value);
            histogram[bin] += v.count_at_value();
            if value <= 4 * 86_400 {
                within_4_days += v.count_at_value();
            }
        }
        TimeRow {
            measure: measure.as_str(),
            path,
            count,
            p50_s: p50,
            p90_s: p90,
            p99_s: p99,
            max_s: max,
            mean_s: (count > 0).then(|| round(h.mean(), 1)),
            p50_hours: hours(p50),
            p90_hours: hours(p90),
            p99_hours: hours(p99),
            max_hours: hours(max),
            p50_days: days(p50),
            p90_days: days(p90),
            p99_days: days(p99),
            max_days: days(max),
            histogram,
            within_4_days: share(within_4_days, count),
        }
    }
}

/// One day of a cumulative conversion curve.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MaturityPoint {
    /// Days since arrival.
    pub day: usize,
    /// Citizens followed at least this long.
    pub followed: u64,
    /// Of those, at their path's goal by this day.
    pub converted: u64,
    pub share: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ci: Option<Ci>,
}

/// A path's cumulative conversion to its goal by days since arrival (censoring-aware).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MaturityCurve {
    pub path: &'static str,
    pub goal: &'static str,
    /// Days where someone was followed.
    pub points: Vec<MaturityPoint>,
}

/// A daily series.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Series {
    pub series: &'static str,
    pub values: Vec<i64>,
}

/// The run day by day, from the epoch.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DailyFigures {
    /// The date of day 0.
    pub start: NaiveDate,
    pub days: usize,
    /// arrivals, simplified, standard, confirmed (events that day); verifications_pending and
    /// letters_in_transit (open at the end of the day).
    pub series: Vec<Series>,
    /// The queues of agencies with a capacity, day by day (see [`QUEUE_SERIES`]); absent
    /// without one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub queues: Vec<QueueSeries>,
}

/// One agency's queue figure day by day: `<agency>.<figure>`, a value a day (none on a day
/// without the requests it needs).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QueueSeries {
    pub series: String,
    pub values: Vec<Option<f64>>,
}

/// The daily queue figures of each agency with a capacity: requests offered, refused, the mean
/// queue length they found, the mean wait of those served, and the share of server time busy.
pub const QUEUE_SERIES: [&str; 5] = [
    "arrivals",
    "refused",
    "queue_mean",
    "wait_mean_s",
    "utilization",
];

/// One agency's queue over the run (an agency with a capacity): funnel.json's
/// `agencies.<name>.queue`. Waits are of the requests served; counts include retries.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QueueFigures {
    /// Servers (for the centers, of every center together).
    pub servers: u64,
    pub arrivals: u64,
    pub served: u64,
    /// Refused for either reason, then by reason.
    pub refused: u64,
    pub refused_queue_full: u64,
    pub refused_quota: u64,
    /// Left the queue when their patience ran out.
    pub reneged: u64,
    pub wait_mean_s: Option<f64>,
    pub wait_p50_s: Option<f64>,
    pub wait_p90_s: Option<f64>,
    pub wait_p99_s: Option<f64>,
    /// Busy server time over available server time (for centers: while open).
    pub utilization: Option<f64>,
    /// The longest queue an arrival found.
    pub max_queue: u64,
    /// 95% intervals across replicates (with two or more).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait_mean_s_ci: Option<Ci>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utilization_ci: Option<Ci>,
}

/// What funnel.json says of one agency.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AgencyFigures {
    pub queue: QueueFigures,
}

/// An arrival week and how far its citizens got by the horizon.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CohortRow {
    pub week: usize,
    pub start: NaiveDate,
    pub arrived: u64,
    pub simplified: u64,
    pub standard: u64,
    pub confirmed: u64,
    pub simplified_share: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub simplified_share_ci: Option<Ci>,
    pub standard_share: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub standard_share_ci: Option<Ci>,
    pub confirmed_share: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmed_share_ci: Option<Ci>,
}

/// The run as given, echoed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InfoFigures {
    pub scenario_name: String,
    pub scenario_file: Option<String>,
    pub overrides: Vec<String>,
    pub seeds: Vec<u64>,
    pub replicates: usize,
    pub citizens_per_replicate: u64,
    /// Citizens in the pooled funnel.
    pub citizens_recorded: u64,
    pub horizon_days: u64,
    pub epoch: NaiveDate,
    /// Days of the funnel's daily series.
    pub funnel_days: usize,
    pub scenario: serde_json::Value,
}

/// One replicate's conversion figures.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReplicateFigures {
    pub replicate: usize,
    pub seed: u64,
    pub overall: PathFigures,
    pub paths: Vec<PathFigures>,
}

/// Every figure of a report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Figures {
    pub format: &'static str,
    pub info: InfoFigures,
    /// The tier funnel of every path together (`path: "all"`).
    pub overall: PathFigures,
    /// Each path with citizens, in the order of [`Path::ALL`].
    pub paths: Vec<PathFigures>,
    pub exits_by_reason: Vec<ReasonRow>,
    pub time_bins: Vec<TimeBin>,
    pub time: Vec<TimeRow>,
    pub maturity: Vec<MaturityCurve>,
    pub daily: DailyFigures,
    pub cohorts: Vec<CohortRow>,
    /// Agencies with a capacity, by the scenario's name (`pfr`, `banks.sber`, `centers`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub agencies: BTreeMap<String, AgencyFigures>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_checks: Option<Vec<Check>>,
    /// The run against the scenario's published figures (`[history]`), if it has any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<super::history::HistoryRow>>,
    pub replicates: Vec<ReplicateFigures>,
}

impl Figures {
    /// Computes every figure; `replicates[k]` is the funnel of `info.seeds[k]`.
    pub fn compute(info: &RunInfo, replicates: &[Funnel]) -> Result<Figures, ReportError> {
        let first = replicates.first().ok_or(ReportError::NoReplicates)?;
        if info.seeds.len() != replicates.len() {
            return Err(ReportError::SeedCount {
                seeds: info.seeds.len(),
                replicates: replicates.len(),
            });
        }
        if let Some(f) = replicates.iter().find(|f| f.days != first.days) {
            return Err(ReportError::DifferentLengths {
                first: first.days,
                other: f.days,
            });
        }
        let mut pooled = first.clone();
        for f in &replicates[1..] {
            pooled.merge(f);
        }

        let present: Vec<Path> = Path::ALL
            .into_iter()
            .filter(|p| pooled.paths[*p as usize].citizens > 0)
            .collect();
        let mut overall = overall_figures(&pooled);
        let mut paths: Vec<PathFigures> =
            present.iter().map(|p| path_figures(&pooled, *p)).collect();
        let reps: Vec<ReplicateFigures> = replicates
            .iter()
            .zip(&info.seeds)
            .enumerate()
            .map(|(k, (f, seed))| ReplicateFigures {
                replicate: k,
                seed: *seed,
                overall: overall_figures(f),
                paths: present.iter().map(|p| path_figures(f, *p)).collect(),
            })
            .collect();
        attach_ci(&mut overall, reps.iter().map(|r| &r.overall));
        for (i, pf) in paths.iter_mut().enumerate() {
            attach_ci(pf, reps.iter().map(|r| &r.paths[i]));
        }

        let time = time_rows(&pooled, &present);
        let maturity = present
            .iter()
            .map(|p| maturity_curve(&pooled, replicates, *p))
            .collect();
        let epoch = info.epoch;
        let baseline_checks = info.baseline_checks.then(|| baseline::checks(&time));
        let history = super::history::rows(&info.scenario, &pooled, replicates.len(), epoch);
        Ok(Figures {
            format: FORMAT,
            info: InfoFigures {
                scenario_name: info.scenario_name.clone(),
                scenario_file: info.scenario_file.clone(),
                overrides: info.overrides.clone(),
                seeds: info.seeds.clone(),
                replicates: replicates.len(),
                citizens_per_replicate: info.citizens,
                citizens_recorded: pooled.citizens(),
                horizon_days: info.horizon_days,
                epoch,
                funnel_days: pooled.days,
                scenario: info.scenario.clone(),
            },
            exits_by_reason: exits_by_reason(&pooled),
            overall,
            paths,
            time_bins: time_bins(),
            time,
            maturity,
            daily: daily(&pooled, epoch),
            cohorts: cohorts(&pooled, replicates, epoch),
            agencies: agencies(&pooled, replicates),
            baseline_checks,
            history,
            replicates: reps,
        })
    }

    /// The time row of `measure` for `path` (a path name or `"all"`).
    pub fn time_of(&self, measure: Measure, path: &str) -> Option<&TimeRow> {
        self.time
            .iter()
            .find(|r| r.measure == measure.as_str() && r.path == path)
    }
}

/// Rows of a funnel from per-position counts: `exited[i]`, `censored[i]` and `at_goal[i]` are
/// the citizens who stopped at position `i`.
fn step_rows(
    steps: &[Step],
    reached: &[u64],
    exited: &[u64],
    censored: &[u64],
    at_goal: &[u64],
) -> Vec<StepRow> {
    let arrived = reached[0];
    (0..steps.len())
        .map(|i| {
            let prev = i.checked_sub(1);
            StepRow {
                step: steps[i].as_str(),
                reached: reached[i],
                conversion_from_previous: prev.and_then(|p| share(reached[i], reached[p])),
                conversion_from_previous_ci: None,
                conversion_overall: share(reached[i], arrived),
                conversion_overall_ci: None,
                dropped: prev.map_or(0, |p| reached[p].saturating_sub(reached[i])),
                dropped_exited: prev.map_or(0, |p| exited[p]),
                dropped_censored: prev.map_or(0, |p| censored[p]),
                stopped_at_goal: prev.map_or(0, |p| at_goal[p]),
            }
        })
        .collect()
}

fn outcome_rows(
    citizens: u64,
    steps: &[Step],
    exits: &[[u64; Exit::COUNT]],
    censored: &[u64],
) -> (Vec<OutcomeRow>, Vec<OutcomeRow>) {
    let of_path = |n: u64| share(n, citizens).unwrap_or(0.0);
    let mut exit_rows = Vec::new();
    let mut censored_rows = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        for exit in Exit::ALL {
            let count = exits[i][exit as usize];
            if count > 0 {
                exit_rows.push(OutcomeRow {
                    step: step.as_str(),
                    reason: Some(exit.as_str()),
                    count,
                    share_of_path: of_path(count),
                });
            }
        }
        if censored[i] > 0 {
            censored_rows.push(OutcomeRow {
                step: step.as_str(),
                reason: None,
                count: censored[i],
                share_of_path: of_path(censored[i]),
            });
        }
    }
    (exit_rows, censored_rows)
}

fn path_figures(f: &Funnel, path: Path) -> PathFigures {
    let c = &f.paths[path as usize];
    let steps = path.steps();
    let reached: Vec<u64> = steps.iter().map(|s| c.reached[*s as usize]).collect();
    let exits: Vec<[u64; Exit::COUNT]> = steps.iter().map(|s| c.exits[*s as usize]).collect();
    let exited: Vec<u64> = exits.iter().map(|e| e.iter().sum()).collect();
    let censored: Vec<u64> = steps.iter().map(|s| c.censored[*s as usize]).collect();
    let (exit_rows, censored_rows) = outcome_rows(c.citizens, steps, &exits, &censored);
    PathFigures {
        path: path.as_str(),
        citizens: c.citizens,
        completed: c.completed,
        exited: exited.iter().sum(),
        censored: censored.iter().sum(),
        completion: share(c.completed, c.citizens),
        completion_ci: None,
        steps: step_rows(steps, &reached, &exited, &censored, &vec![0; steps.len()]),
        exits: exit_rows,
        censored_by_step: censored_rows,
    }
}

/// The tier funnel of every path together; a citizen's "step" is the tier it holds.
fn overall_figures(f: &Funnel) -> PathFigures {
    let mut reached = [0u64; TIERS.len()];
    let mut exits = [[0u64; Exit::COUNT]; TIERS.len()];
    let mut censored = [0u64; TIERS.len()];
    let mut at_goal = [0u64; TIERS.len()];
    for path in Path::ALL {
        let c = &f.paths[path as usize];
        for (k, r) in reached.iter_mut().enumerate() {
            *r += reached_level(c, path, k);
        }
        for step in path.steps() {
            let k = level(path, *step);
            for (sum, n) in exits[k].iter_mut().zip(&c.exits[*step as usize]) {
                *sum += n;
            }
            censored[k] += c.censored[*step as usize];
        }
        at_goal[rank(path.goal())] += c.completed;
    }
    let citizens = f.citizens();
    let exited: Vec<u64> = exits.iter().map(|e| e.iter().sum()).collect();
    let (exit_rows, censored_rows) = outcome_rows(citizens, &TIERS, &exits, &censored);
    let completed = at_goal.iter().sum();
    PathFigures {
        path: ALL,
        citizens,
        completed,
        exited: exited.iter().sum(),
        censored: censored.iter().sum(),
        completion: share(completed, citizens),
        completion_ci: None,
        steps: step_rows(&TIERS, &reached, &exited, &censored, &at_goal),
        exits: exit_rows,
        censored_by_step: censored_rows,
    }
}

fn attach_ci<'a>(pooled: &mut PathFigures, reps: impl Iterator<Item = &'a PathFigures> + Clone) {
    pooled.completion_ci = Ci::of_some(reps.clone().map(|r| &r.completion));
    for (i, row) in pooled.steps.iter_mut().enumerate() {
        row.conversion_from_previous_ci =
            Ci::of_some(reps.clone().map(|r| &r.steps[i].conversion_from_previous));
        row.conversion_overall_ci =
            Ci::of_some(reps.clone().map(|r| &r.steps[i].conversion_overall));
    }
}

fn exits_by_reason(f: &Funnel) -> Vec<ReasonRow> {
    let citizens = f.citizens();
    Exit::ALL
        .into_iter()
        .filter_map(|exit| {
            let count: u64 = f
                .paths
                .iter()
                .map(|c| c.exits.iter().map(|e| e[exit as usize]).sum::<u64>())
                .sum();
            (count > 0).then(|| ReasonRow {
                reason: exit.as_str(),
                count,
                share_of_citizens: share(count, citizens).unwrap_or(0.0),
            })
        })
        .collect()
}

fn empty_durations(f: &Funnel) -> Durations {
    let mut h = f.verification.clone();
    h.reset();
    h
}

fn time_rows(f: &Funnel, present: &[Path]) -> Vec<TimeRow> {
    let mut rows = Vec::new();
    for measure in Measure::ALL {
        // Pooled only: a verification or a letter is the same whatever the path.
        if measure == Measure::Verification {
            rows.push(TimeRow::new(measure, ALL, &f.verification));
            continue;
        }
        if measure == Measure::LetterDelivery {
            rows.push(TimeRow::new(measure, ALL, &f.letter_delivery));
            continue;
        }
        let mut all = empty_durations(f);
        let mut paths = 0;
        for path in present {
            if let Some(h) = measure.histogram(f, *path) {
                rows.push(TimeRow::new(measure, path.as_str(), h));
                all.add(h).expect("the funnel's histograms share bounds");
                paths += 1;
            }
        }
        if paths > 0 {
            rows.push(TimeRow::new(measure, ALL, &all));
        }
    }
    rows
}

fn maturity_curve(pooled: &Funnel, replicates: &[Funnel], path: Path) -> MaturityCurve {
    let p = path as usize;
    let reps: Vec<Vec<(u64, u64)>> = replicates.iter().map(|f| f.maturity[p].curve()).collect();
    let points = pooled.maturity[p]
        .curve()
        .into_iter()
        .enumerate()
        .filter(|(_, (followed, _))| *followed > 0)
        .map(|(day, (followed, converted))| MaturityPoint {
            day,
            followed,
            converted,
            share: share(converted, followed).unwrap_or(0.0),
            ci: Ci::of(
                reps.iter()
                    .filter_map(|c| c.get(day).and_then(|(f, c)| share(*c, *f))),
            ),
        })
        .collect();
    MaturityCurve {
        path: path.as_str(),
        goal: path.goal().as_str(),
        points,
    }
}

/// The daily series' names, in the order of [`DailyFigures::series`].
pub const DAILY_SERIES: [&str; 6] = [
    "arrivals",
    "simplified",
    "standard",
    "confirmed",
    "verifications_pending",
    "letters_in_transit",
];

fn daily(f: &Funnel, start: NaiveDate) -> DailyFigures {
    let d = &f.daily;
    let counts = |v: &[u64]| v.iter().map(|x| *x as i64).collect::<Vec<i64>>();
    let values = [
        counts(&d.arrivals),
        counts(&d.simplified),
        counts(&d.standard),
        counts(&d.confirmed),
        d.verifications_pending.values(),
        d.letters_in_transit.values(),
    ];
    DailyFigures {
        start,
        days: f.days,
        series: DAILY_SERIES
            .into_iter()
            .zip(values)
            .map(|(series, values)| Series { series, values })
            .collect(),
        queues: queue_series(f),
    }
}

fn queue_series(f: &Funnel) -> Vec<QueueSeries> {
    let ratio = |a: &[u64], b: &[u64], scale: f64, decimals: i32| -> Vec<Option<f64>> {
        a.iter()
            .zip(b)
            .map(|(x, y)| (*y > 0).then(|| round(*x as f64 / *y as f64 / scale, decimals)))
            .collect()
    };
    let counts = |v: &[u64]| v.iter().map(|x| Some(*x as f64)).collect::<Vec<_>>();
    let mut out = Vec::new();
    for (name, q) in &f.queues {
        let d = &q.daily;
        let values = [
            counts(&d.arrivals),
            counts(&d.refused),
            ratio(&d.queue_seen_sum, &d.arrivals, 1.0, 3),
            ratio(&d.wait_ms_sum, &d.served, 1000.0, 3),
            ratio(&d.busy_ms, &d.available_ms, 1.0, 4),
        ];
        for (figure, values) in QUEUE_SERIES.iter().zip(values) {
            out.push(QueueSeries {
                series: format!("{name}.{figure}"),
                values,
            });
        }
    }
    out
}

fn agencies(pooled: &Funnel, replicates: &[Funnel]) -> BTreeMap<String, AgencyFigures> {
    let r3 = |x: Option<f64>| x.map(|x| round(x, 3));
    pooled
        .queues
        .iter()
        .map(|(name, q)| {
            let reps = || replicates.iter().filter_map(|f| f.queues.get(name));
            let queue = QueueFigures {
                servers: q.servers,
                arrivals: q.arrivals,
                served: q.served,
                refused: q.refused(),
                refused_queue_full: q.refused_full,
                refused_quota: q.refused_quota,
                reneged: q.reneged,
                wait_mean_s: r3(q.wait_mean_s()),
                wait_p50_s: r3(q.wait_quantile_s(0.5)),
                wait_p90_s: r3(q.wait_quantile_s(0.9)),
                wait_p99_s: r3(q.wait_quantile_s(0.99)),
                utilization: q.utilization().map(|u| round(u, 4)),
                max_queue: q.max_queue,
                wait_mean_s_ci: Ci::of_measure(reps().filter_map(|r| r.wait_mean_s())),
                utilization_ci: Ci::of_measure(reps().filter_map(|r| r.utilization())),
            };
            (name.to_string(), AgencyFigures { queue })
        })
        .collect()
}

/// The date `days` after `start` (saturating at the calendar's end).
pub fn date_after(start: NaiveDate, days: usize) -> NaiveDate {
    start
        .checked_add_days(Days::new(days as u64))
        .unwrap_or(NaiveDate::MAX)
}

fn cohorts(pooled: &Funnel, replicates: &[Funnel], epoch: NaiveDate) -> Vec<CohortRow> {
    pooled
        .cohorts
        .iter()
        .enumerate()
        .map(|(week, c)| {
            let ci = |tier: fn(&crate::funnel::Cohort) -> u64| {
                Ci::of(
                    replicates
                        .iter()
                        .filter_map(|f| f.cohorts.get(week))
                        .filter_map(|r| share(tier(r), r.arrived)),
                )
            };
            CohortRow {
                week,
                start: date_after(epoch, week * 7),
                arrived: c.arrived,
                simplified: c.simplified,
                standard: c.standard,
                confirmed: c.confirmed,
                simplified_share: share(c.simplified, c.arrived),
                simplified_share_ci: ci(|r| r.simplified),
                standard_share: share(c.standard, c.arrived),
                standard_share_ci: ci(|r| r.standard),
                confirmed_share: share(c.confirmed, c.arrived),
                confirmed_share_ci: ci(|r| r.confirmed),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tier_levels_follow_the_path() {
        assert_eq!(level(Path::Bank, Step::PersonalData), 0);
        assert_eq!(level(Path::Bank, Step::Standard), 2);
        assert_eq!(level(Path::Standard, Step::PersonalData), 1);
        assert_eq!(level(Path::Mfc, Step::ConfirmationStarted), 0);
        assert_eq!(level(Path::Post, Step::ConfirmationStarted), 2);
    }

    #[test]
    fn bins_cover_every_duration() {
        let bins = time_bins();
        assert_eq!(bins[0].label, "0-1m");
        assert_eq!(bins.last().unwrap().label, ">=180d");
        assert_eq!(BIN_EDGES_S.partition_point(|e| *e <= 59), 0);
        assert_eq!(BIN_EDGES_S.partition_point(|e| *e <= 60), 1);
        assert!(BIN_EDGES_S.windows(2).all(|w| w[0] < w[1]));
    }
}
