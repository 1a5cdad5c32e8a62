//! Reports of a simulation: turns the funnels of a run's replicates into the files a researcher
//! opens (DESIGN.md core idea 7) and a short summary for the terminal.
//!
//! Data flows one way: [`figures`] computes every figure once from the funnels (pooled with
//! [`Funnel::merge`], plus 95% confidence intervals across replicates from [`confidence`]);
//! [`json`] writes them as `funnel.json`, [`csv`] as tidy tables, [`html`] as `report.html`
//! with [`plot`] charts (plotters, SVG backend) and [`flow`] diagrams (hand-drawn SVG);
//! [`baseline`] compares them with DOMAIN.md; [`history`] with a scenario's published
//! figures over the years; [`compare`] sets two funnel files (of `simulate`
//! or `load`) side by side. Outputs are deterministic: the same funnels give
//! the same bytes (ordered structures, rounded floats, no timestamps of the run itself).

pub mod baseline;
pub mod compare;
pub mod confidence;
pub mod csv;
pub mod figures;
pub mod flow;
pub mod history;
pub mod html;
pub mod json;
pub mod plot;
mod readable;
pub mod sweep;

use crate::funnel::Funnel;
use chrono::NaiveDate;
use std::path::{Path, PathBuf};

pub use figures::Figures;

/// What a report says about the run itself, echoed in every output.
#[derive(Clone, Debug, PartialEq)]
pub struct RunInfo {
    pub scenario_name: String,
    /// The scenario file's path as given.
    pub scenario_file: Option<String>,
    /// The resolved scenario, echoed.
    pub scenario: serde_json::Value,
    /// The `--set key=value` strings, in order.
    pub overrides: Vec<String>,
    /// One seed per replicate.
    pub seeds: Vec<u64>,
    /// Citizens per replicate.
    pub citizens: u64,
    pub horizon_days: u64,
    /// The calendar date of sim time 0 (day 0 of the daily series).
    pub epoch: NaiveDate,
    /// Include the comparison with DOMAIN.md's figures.
    pub baseline_checks: bool,
}

/// What can go wrong while writing a report; each I/O variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("a report needs at least one replicate's funnel")]
    NoReplicates,
    #[error("{seeds} seeds for {replicates} replicates: one seed per replicate")]
    SeedCount { seeds: usize, replicates: usize },
    #[error("replicates of different lengths ({first} and {other} days)")]
    DifferentLengths { first: usize, other: usize },
    #[error("cannot write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    Csv {
        path: PathBuf,
        #[source]
        source: ::csv::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot draw the plot `{plot}`: {message}")]
    Plot { plot: String, message: String },
}

/// The file with every figure; [`write()`] writes it first, then the tables of
/// [`csv::FILES`], then [`REPORT_HTML`].
pub const FUNNEL_JSON: &str = "funnel.json";
/// The page a person opens.
pub const REPORT_HTML: &str = "report.html";

/// Writes `funnel.json`, the CSV tables and `report.html` into `out_dir` (created if missing)
/// and returns the paths written. `replicates[k]` is the funnel of seed `info.seeds[k]`.
pub fn write(
    out_dir: &Path,
    info: &RunInfo,
    replicates: &[Funnel],
) -> Result<Vec<PathBuf>, ReportError> {
    let figures = Figures::compute(info, replicates)?;
    std::fs::create_dir_all(out_dir).map_err(|source| ReportError::Io {
        path: out_dir.to_path_buf(),
        source,
    })?;
    let mut written = vec![json::write(&out_dir.join(FUNNEL_JSON), &figures)?];
    written.extend(csv::write_all(out_dir, &figures)?);
    let html_path = out_dir.join(REPORT_HTML);
    let page = html::page(&figures)?;
    std::fs::write(&html_path, page).map_err(|source| ReportError::Io {
        path: html_path.clone(),
        source,
    })?;
    written.push(html_path);
    Ok(written)
}

/// A short plain-text summary for the terminal: citizens, tier counts and shares, median
/// times, top exit reasons. Empty funnels or mismatched seeds give a one-line explanation.
pub fn summary(info: &RunInfo, replicates: &[Funnel]) -> String {
    match Figures::compute(info, replicates) {
        Ok(figures) => summary_of(&figures),
        Err(e) => format!("no summary: {e}\n"),
    }
}

/// The summary of figures already computed.
pub fn summary_of(f: &Figures) -> String {
    use figures::Measure;
    use readable::{ci, count, opt_duration_s, percent};
    use std::fmt::Write;

    let mut s = String::new();
    let info = &f.info;
    let seeds: Vec<String> = info.seeds.iter().map(u64::to_string).collect();
    let _ = writeln!(
        s,
        "scenario {}{}: {} replicate(s), seed(s) {}, horizon {} days",
        info.scenario_name,
        info.scenario_file
            .as_deref()
            .map_or(String::new(), |p| format!(" ({p})")),
        info.replicates,
        seeds.join(","),
        info.horizon_days
    );
    let o = &f.overall;
    let _ = writeln!(
        s,
        "citizens {:>14}  completed {} {}  exited {}  censored {}",
        count(o.citizens),
        percent(o.completion),
        ci(&o.completion_ci),
        percent(share(o.exited, o.citizens)),
        percent(share(o.censored, o.citizens)),
    );
    for row in &o.steps[1..] {
        let _ = writeln!(
            s,
            "  {:<10} tier {:>12}  {:>6} {}",
            row.step,
            count(row.reached),
            percent(row.conversion_overall),
            ci(&row.conversion_overall_ci),
        );
    }
    for (measure, label) in [
        (Measure::ToStandard, "time to standard"),
        (Measure::ToConfirmed, "time to confirmed"),
        (Measure::Verification, "verification"),
    ] {
        if let Some(r) = f.time_of(measure, figures::ALL).filter(|r| r.count > 0) {
            let _ = writeln!(
                s,
                "{label:<18} median {:>9}  p90 {:>9}  p99 {:>9}  (n = {})",
                opt_duration_s(r.p50_s),
                opt_duration_s(r.p90_s),
                opt_duration_s(r.p99_s),
                count(r.count)
            );
        }
    }
    let by_method: Vec<String> = f
        .time
        .iter()
        .filter(|r| {
            r.measure == Measure::ToConfirmed.as_str() && r.path != figures::ALL && r.count > 0
        })
        .map(|r| format!("{} {}", r.path, opt_duration_s(r.p50_s)))
        .collect();
    if !by_method.is_empty() {
        let _ = writeln!(
            s,
            "  median to confirmed by method: {}",
            by_method.join(", ")
        );
    }
    let mut reasons: Vec<_> = f.exits_by_reason.iter().collect();
    reasons.sort_by_key(|r| std::cmp::Reverse(r.count));
    let top: Vec<String> = reasons
        .iter()
        .take(4)
        .map(|r| {
            format!(
                "{} {} ({})",
                r.reason,
                count(r.count),
                percent(Some(r.share_of_citizens))
            )
        })
        .collect();
    if !top.is_empty() {
        let _ = writeln!(s, "top exits: {}", top.join(", "));
    }
    if let Some(rows) = &f.history {
        let _ = writeln!(
            s,
            "history: the run against {} published figures",
            rows.len()
        );
        for r in rows {
            let value = |x: f64| match r.measure {
                history_measure::ConfirmedShare => format!("{:.1}%", 100.0 * x),
                _ => format!("{:.1} M", x / 1e6),
            };
            let _ = writeln!(
                s,
                "  {} {:<34} published {:>8}  model {:>8}  ({}{})",
                r.date,
                r.measure.as_str(),
                value(r.published),
                value(r.model),
                r.basis.as_str(),
                r.relative
                    .map_or(String::new(), |x| format!(", {:+.1}%", 100.0 * x)),
            );
        }
    }
    if let Some(checks) = &f.baseline_checks {
        let judged = checks
            .iter()
            .filter(|c| {
                matches!(
                    c.verdict,
                    baseline::Verdict::Consistent | baseline::Verdict::Inconsistent
                )
            })
            .count();
        let ok = checks
            .iter()
            .filter(|c| c.verdict == baseline::Verdict::Consistent)
            .count();
        let fitted = checks
            .iter()
            .filter(|c| c.basis == baseline::Basis::Fitted)
            .count();
        let _ = writeln!(
            s,
            "DOMAIN.md comparison: {ok} of {judged} predicted figures within DOMAIN.md's range \
             ({fitted} fitted figures shown apart, not judged)"
        );
    }
    s
}

fn share(n: u64, d: u64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

use crate::scenario::HistoryMeasure as history_measure;
