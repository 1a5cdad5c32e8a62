//! Tidy CSV tables of the figures: one observation a row, a header on each file. Rows of the
//! pooled funnel carry `replicate = all`; with two or more replicates, each replicate's rows
//! follow, and the pooled rows carry the confidence interval columns (empty otherwise).
//! Floats are written with fixed decimals (shares 6, hours and days 4).

use super::figures::{PathFigures, StepRow, ALL};
use super::{Figures, ReportError};
use std::path::{Path, PathBuf};

/// The tables, in the order they are written.
pub const FILES: [&str; 9] = [
    "steps.csv",
    "paths.csv",
    "exits.csv",
    "replicates.csv",
    "time_to_tier.csv",
    "time_histogram.csv",
    "maturity.csv",
    "daily.csv",
    "cohorts.csv",
];
/// Written when the run asks for the comparison with DOMAIN.md.
pub const BASELINE_FILE: &str = "baseline.csv";

fn f6(x: Option<f64>) -> String {
    x.map_or(String::new(), |x| format!("{x:.6}"))
}

fn f4(x: Option<f64>) -> String {
    x.map_or(String::new(), |x| format!("{x:.4}"))
}

fn hours(s: Option<u64>) -> String {
    f4(s.map(|s| s as f64 / 3_600.0))
}

fn days(s: Option<u64>) -> String {
    f4(s.map(|s| s as f64 / 86_400.0))
}

/// A table being written, remembering its path for errors.
struct Table {
    path: PathBuf,
    writer: ::csv::Writer<std::fs::File>,
}

impl Table {
    fn create(dir: &Path, name: &str, header: &[&str]) -> Result<Self, ReportError> {
        let path = dir.join(name);
        let writer = ::csv::Writer::from_path(&path).map_err(|source| ReportError::Csv {
            path: path.clone(),
            source,
        })?;
        let mut table = Table { path, writer };
        table.row(header.iter().map(|h| h.to_string()))?;
        Ok(table)
    }

    fn row(&mut self, fields: impl IntoIterator<Item = String>) -> Result<(), ReportError> {
        let fields: Vec<String> = fields.into_iter().collect();
        self.writer
            .write_record(&fields)
            .map_err(|source| ReportError::Csv {
                path: self.path.clone(),
                source,
            })
    }

    fn finish(mut self) -> Result<PathBuf, ReportError> {
        self.writer.flush().map_err(|source| ReportError::Io {
            path: self.path.clone(),
            source,
        })?;
        Ok(self.path)
    }
}

/// `(replicate label, overall, paths)` of the pooled funnel, then of each replicate when there
/// are two or more.
fn funnels(f: &Figures) -> Vec<(String, &PathFigures, &[PathFigures])> {
    let mut out = vec![(ALL.to_string(), &f.overall, f.paths.as_slice())];
    if f.replicates.len() >= 2 {
        for r in &f.replicates {
            out.push((r.replicate.to_string(), &r.overall, r.paths.as_slice()));
        }
    }
    out
}

fn step_fields(replicate: &str, path: &str, s: &StepRow) -> Vec<String> {
    vec![
        replicate.to_string(),
        path.to_string(),
        s.step.to_string(),
        s.reached.to_string(),
        f6(s.conversion_from_previous),
        f6(s.conversion_overall),
        s.dropped.to_string(),
        s.dropped_exited.to_string(),
        s.dropped_censored.to_string(),
        s.stopped_at_goal.to_string(),
        f6(s.conversion_from_previous_ci.map(|c| c.low)),
        f6(s.conversion_from_previous_ci.map(|c| c.high)),
        f6(s.conversion_overall_ci.map(|c| c.low)),
        f6(s.conversion_overall_ci.map(|c| c.high)),
    ]
}

/// Writes every table into `dir` and returns their paths.
pub fn write_all(dir: &Path, f: &Figures) -> Result<Vec<PathBuf>, ReportError> {
    let mut written = Vec::new();
    let funnels = funnels(f);

    let mut t = Table::create(
        dir,
        FILES[0],
        &[
            "replicate",
            "path",
            "step",
            "reached",
            "conversion_from_previous",
            "conversion_overall",
            "dropped",
            "dropped_exited",
            "dropped_censored",
            "stopped_at_goal",
            "conversion_from_previous_ci_low",
            "conversion_from_previous_ci_high",
            "conversion_overall_ci_low",
            "conversion_overall_ci_high",
        ],
    )?;
    for (rep, overall, paths) in &funnels {
        for pf in std::iter::once(*overall).chain(paths.iter()) {
            for s in &pf.steps {
                t.row(step_fields(rep, pf.path, s))?;
            }
        }
    }
    written.push(t.finish()?);

    let mut t = Table::create(
        dir,
        FILES[1],
        &[
            "replicate",
            "path",
            "citizens",
            "completed",
            "exited",
            "censored",
            "completion",
            "completion_ci_low",
            "completion_ci_high",
        ],
    )?;
    for (rep, overall, paths) in &funnels {
        for pf in std::iter::once(*overall).chain(paths.iter()) {
            t.row([
                rep.clone(),
                pf.path.to_string(),
                pf.citizens.to_string(),
                pf.completed.to_string(),
                pf.exited.to_string(),
                pf.censored.to_string(),
                f6(pf.completion),
                f6(pf.completion_ci.map(|c| c.low)),
                f6(pf.completion_ci.map(|c| c.high)),
            ])?;
        }
    }
    written.push(t.finish()?);

    let mut t = Table::create(
        dir,
        FILES[2],
        &[
            "replicate",
            "path",
            "step",
            "outcome",
            "reason",
            "count",
            "share_of_path",
        ],
    )?;
    for (rep, overall, paths) in &funnels {
        for pf in std::iter::once(*overall).chain(paths.iter()) {
            for (outcome, rows) in [("exit", &pf.exits), ("censored", &pf.censored_by_step)] {
                for r in rows {
                    t.row([
                        rep.clone(),
                        pf.path.to_string(),
                        r.step.to_string(),
                        outcome.to_string(),
                        r.reason.unwrap_or("").to_string(),
                        r.count.to_string(),
                        f6(Some(r.share_of_path)),
                    ])?;
                }
            }
        }
    }
    written.push(t.finish()?);

    let mut t = Table::create(
        dir,
        FILES[3],
        &[
            "replicate",
            "seed",
            "citizens",
            "completed",
            "exited",
            "censored",
        ],
    )?;
    for r in &f.replicates {
        t.row([
            r.replicate.to_string(),
            r.seed.to_string(),
            r.overall.citizens.to_string(),
            r.overall.completed.to_string(),
            r.overall.exited.to_string(),
            r.overall.censored.to_string(),
        ])?;
    }
    written.push(t.finish()?);

    let mut t = Table::create(
        dir,
        FILES[4],
        &[
            "measure",
            "path",
            "count",
            "p50_hours",
            "p90_hours",
            "p99_hours",
            "max_hours",
            "mean_hours",
            "p50_days",
            "p90_days",
            "p99_days",
            "max_days",
        ],
    )?;
    for r in &f.time {
        t.row([
            r.measure.to_string(),
            r.path.to_string(),
            r.count.to_string(),
            hours(r.p50_s),
            hours(r.p90_s),
            hours(r.p99_s),
            hours(r.max_s),
            f4(r.mean_s.map(|s| s / 3_600.0)),
            days(r.p50_s),
            days(r.p90_s),
            days(r.p99_s),
            days(r.max_s),
        ])?;
    }
    written.push(t.finish()?);

    let mut t = Table::create(
        dir,
        FILES[5],
        &[
            "measure",
            "path",
            "bin",
            "lower_hours",
            "upper_hours",
            "count",
        ],
    )?;
    for r in &f.time {
        for (bin, count) in f.time_bins.iter().zip(&r.histogram) {
            t.row([
                r.measure.to_string(),
                r.path.to_string(),
                bin.label.clone(),
                hours(Some(bin.lower_s)),
                hours(bin.upper_s),
                count.to_string(),
            ])?;
        }
    }
    written.push(t.finish()?);

    let mut t = Table::create(
        dir,
        FILES[6],
        &[
            "path",
            "day",
            "followed",
            "converted",
            "share",
            "ci_low",
            "ci_high",
        ],
    )?;
    for curve in &f.maturity {
        for p in &curve.points {
            t.row([
                curve.path.to_string(),
                p.day.to_string(),
                p.followed.to_string(),
                p.converted.to_string(),
                f6(Some(p.share)),
                f6(p.ci.map(|c| c.low)),
                f6(p.ci.map(|c| c.high)),
            ])?;
        }
    }
    written.push(t.finish()?);

    let mut t = Table::create(dir, FILES[7], &["day", "date", "series", "value"])?;
    for day in 0..f.daily.days {
        let date = super::figures::date_after(f.daily.start, day).to_string();
        for s in &f.daily.series {
            t.row([
                day.to_string(),
                date.clone(),
                s.series.to_string(),
                s.values.get(day).copied().unwrap_or(0).to_string(),
            ])?;
        }
        // Agencies with a capacity: `<agency>.<figure>`, empty on a day without a value.
        for s in &f.daily.queues {
            t.row([
                day.to_string(),
                date.clone(),
                s.series.clone(),
                s.values
                    .get(day)
                    .copied()
                    .flatten()
                    .map_or(String::new(), |v| v.to_string()),
            ])?;
        }
    }
    written.push(t.finish()?);

    let mut t = Table::create(
        dir,
        FILES[8],
        &[
            "week",
            "week_start",
            "arrived",
            "simplified",
            "standard",
            "confirmed",
            "simplified_share",
            "standard_share",
            "confirmed_share",
            "simplified_share_ci_low",
            "simplified_share_ci_high",
            "standard_share_ci_low",
            "standard_share_ci_high",
            "confirmed_share_ci_low",
            "confirmed_share_ci_high",
        ],
    )?;
    for c in &f.cohorts {
        t.row([
            c.week.to_string(),
            c.start.to_string(),
            c.arrived.to_string(),
            c.simplified.to_string(),
            c.standard.to_string(),
            c.confirmed.to_string(),
            f6(c.simplified_share),
            f6(c.standard_share),
            f6(c.confirmed_share),
            f6(c.simplified_share_ci.map(|c| c.low)),
            f6(c.simplified_share_ci.map(|c| c.high)),
            f6(c.standard_share_ci.map(|c| c.low)),
            f6(c.standard_share_ci.map(|c| c.high)),
            f6(c.confirmed_share_ci.map(|c| c.low)),
            f6(c.confirmed_share_ci.map(|c| c.high)),
        ])?;
    }
    written.push(t.finish()?);

    if let Some(checks) = &f.baseline_checks {
        let mut t = Table::create(
            dir,
            BASELINE_FILE,
            &[
                "figure",
                "value",
                "unit",
                "value_text",
                "domain",
                "sources",
                "basis",
                "tolerance",
                "verdict",
            ],
        )?;
        for c in checks {
            t.row([
                c.figure.to_string(),
                f6(c.value),
                c.unit.to_string(),
                c.value_text.clone(),
                c.domain.to_string(),
                c.sources.to_string(),
                c.basis.as_str().to_string(),
                c.tolerance.to_string(),
                c.verdict.as_str().to_string(),
            ])?;
        }
        written.push(t.finish()?);
    }
    Ok(written)
}
