//! Capacity planning: `esia-sim simulate --sweep KEY=V1,V2,...` runs a scenario at each value
//! (one key, or two for a grid) and this module turns the runs into `sweep.csv` and a
//! self-contained `sweep.html`: every headline figure against the swept value, with 95%
//! confidence intervals across the replicates.
//!
//! Headline figures ([`headline`]): conversion to each tier (share of arrivals), time to
//! standard and to confirmed (p50, p90), and for each agency with a capacity its mean and p90
//! wait and its utilization.

use super::confidence::Ci;
use super::figures::{Figures, Measure, ALL};
use super::html::{esc, Page, CSS};
use super::plot::{Chart, Legend, Line};
use super::readable::{axis_unit, duration_s, percent};
use super::{ReportError, RunInfo};
use crate::funnel::Funnel;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// The CSV of every point and figure.
pub const SWEEP_CSV: &str = "sweep.csv";
/// The page a person opens.
pub const SWEEP_HTML: &str = "sweep.html";

/// A swept key and its values, as written after `--sweep`.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    pub key: String,
    pub values: Vec<String>,
}

/// Why a `--sweep` cannot be read.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum SweepError {
    #[error(
        "--sweep {0}: expected KEY=V1,V2,..., e.g. --sweep agencies.centers.capacity.servers=2,4,8"
    )]
    Syntax(String),
    #[error("--sweep {0}: give at least one value")]
    NoValues(String),
    #[error("--sweep {0}: at most 100 values on an axis")]
    TooManyValues(String),
    #[error("--sweep is given {0} times: one key, or two for a grid")]
    TooManyAxes(usize),
    #[error("--sweep {0} names the same key twice")]
    SameKey(String),
}

impl Axis {
    /// Reads `KEY=V1,V2,...`; commas inside brackets, braces or quotes belong to a value.
    pub fn parse(text: &str) -> Result<Axis, SweepError> {
        let (key, values) = text
            .split_once('=')
            .filter(|(k, _)| !k.trim().is_empty())
            .ok_or_else(|| SweepError::Syntax(text.to_string()))?;
        let values = split_top_level(values);
        if values.is_empty() {
            return Err(SweepError::NoValues(text.to_string()));
        }
        if values.len() > 100 {
            return Err(SweepError::TooManyValues(text.to_string()));
        }
        Ok(Axis {
            key: key.trim().to_string(),
            values,
        })
    }

    /// The axes of `--sweep` arguments: one or two, different keys.
    pub fn parse_all(texts: &[String]) -> Result<Vec<Axis>, SweepError> {
        if texts.len() > 2 {
            return Err(SweepError::TooManyAxes(texts.len()));
        }
        let axes: Vec<Axis> = texts
            .iter()
            .map(|t| Axis::parse(t))
            .collect::<Result<_, _>>()?;
        if axes.len() == 2 && axes[0].key == axes[1].key {
            return Err(SweepError::SameKey(axes[0].key.clone()));
        }
        Ok(axes)
    }

    /// The values as numbers, if every one is a number.
    fn numbers(&self) -> Option<Vec<f64>> {
        self.values
            .iter()
            .map(|v| v.trim().parse::<f64>().ok())
            .collect()
    }
}

fn split_top_level(text: &str) -> Vec<String> {
    let (mut values, mut current, mut depth, mut quote) = (Vec::new(), String::new(), 0i32, None);
    for c in text.chars() {
        match (c, quote) {
            ('"' | '\'', None) => quote = Some(c),
            (q, Some(open)) if q == open => quote = None,
            ('[' | '{', None) => depth += 1,
            (']' | '}', None) => depth -= 1,
            (',', None) if depth == 0 => {
                values.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    values.push(current);
    values
        .into_iter()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect()
}

/// The `--set` overrides of grid point `index` (row-major: the last axis varies fastest), and
/// its values, one per axis.
pub fn point(axes: &[Axis], index: usize) -> (Vec<String>, Vec<String>) {
    let mut rest = index;
    let mut values = vec![String::new(); axes.len()];
    for (i, axis) in axes.iter().enumerate().rev() {
        values[i] = axis.values[rest % axis.values.len()].clone();
        rest /= axis.values.len();
    }
    let sets = axes
        .iter()
        .zip(&values)
        .map(|(a, v)| format!("{}={v}", a.key))
        .collect();
    (sets, values)
}

/// Points of the grid.
pub fn points(axes: &[Axis]) -> usize {
    axes.iter().map(|a| a.values.len()).product()
}

/// What a figure measures, for its unit on the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Share,
    Seconds,
}

/// One headline figure at one point: pooled over the replicates, with its interval.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    pub name: String,
    pub unit: Unit,
    pub value: Option<f64>,
    pub ci: Option<Ci>,
}

fn values_of(f: &Figures) -> Vec<(String, Unit, Option<f64>)> {
    let mut out = Vec::new();
    for step in ["simplified", "standard", "confirmed"] {
        let v = f
            .overall
            .steps
            .iter()
            .find(|r| r.step == step)
            .and_then(|r| r.conversion_overall);
        out.push((format!("conversion_{step}"), Unit::Share, v));
    }
    for (measure, label) in [
        (Measure::ToStandard, "to_standard"),
        (Measure::ToConfirmed, "to_confirmed"),
    ] {
        let row = f.time_of(measure, ALL).filter(|r| r.count > 0);
        for (q, v) in [
            ("p50", row.and_then(|r| r.p50_s)),
            ("p90", row.and_then(|r| r.p90_s)),
        ] {
            out.push((format!("{label}_{q}_s"), Unit::Seconds, v.map(|s| s as f64)));
        }
    }
    for (name, a) in &f.agencies {
        let q = &a.queue;
        out.push((format!("{name}.wait_mean_s"), Unit::Seconds, q.wait_mean_s));
        out.push((format!("{name}.wait_p90_s"), Unit::Seconds, q.wait_p90_s));
        out.push((format!("{name}.utilization"), Unit::Share, q.utilization));
    }
    out
}

/// The headline figures of one point's replicates (`funnels[k]` of `info.seeds[k]`).
pub fn headline(info: &RunInfo, funnels: &[Funnel]) -> Result<Vec<Figure>, ReportError> {
    let pooled = values_of(&Figures::compute(info, funnels)?);
    let mut each = Vec::with_capacity(funnels.len());
    for (f, seed) in funnels.iter().zip(&info.seeds) {
        let one = RunInfo {
            seeds: vec![*seed],
            baseline_checks: false,
            ..info.clone()
        };
        each.push(values_of(&Figures::compute(&one, std::slice::from_ref(f))?));
    }
    Ok(pooled
        .into_iter()
        .map(|(name, unit, value)| {
            let reps = each
                .iter()
                .filter_map(|r| r.iter().find(|(n, _, _)| *n == name).and_then(|x| x.2));
            let ci = match unit {
                Unit::Share => Ci::of(reps),
                Unit::Seconds => Ci::of_measure(reps),
            };
            Figure {
                name,
                unit,
                value,
                ci,
            }
        })
        .collect())
}

/// One point of a sweep: its value on each axis and its figures.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    pub values: Vec<String>,
    pub figures: Vec<Figure>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ReportError + '_ {
    move |source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `sweep.csv` and `sweep.html` into `out_dir` and returns their paths.
pub fn write(
    out_dir: &Path,
    title: &str,
    axes: &[Axis],
    replicates: usize,
    points: &[Point],
) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(out_dir).map_err(io(out_dir))?;
    let csv_path = out_dir.join(SWEEP_CSV);
    std::fs::write(&csv_path, csv(axes, points)).map_err(io(&csv_path))?;
    let html_path = out_dir.join(SWEEP_HTML);
    let page = html(title, axes, replicates, points)?;
    std::fs::write(&html_path, page).map_err(io(&html_path))?;
    Ok(vec![csv_path, html_path])
}

fn num(x: Option<f64>) -> String {
    x.map_or(String::new(), |v| format!("{v}"))
}

/// `sweep.csv`: one row per point and figure.
pub fn csv(axes: &[Axis], points: &[Point]) -> String {
    let mut out = String::new();
    for a in axes {
        let _ = write!(out, "{},", csv_field(&a.key));
    }
    out.push_str("figure,value,ci_low,ci_high,replicates\n");
    for p in points {
        for f in &p.figures {
            for v in &p.values {
                let _ = write!(out, "{},", csv_field(v));
            }
            let _ = writeln!(
                out,
                "{},{},{},{},{}",
                f.name,
                num(f.value),
                num(f.ci.map(|c| c.low)),
                num(f.ci.map(|c| c.high)),
                f.ci.map_or(1, |c| c.replicates)
            );
        }
    }
    out
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn shown(unit: Unit, v: Option<f64>) -> String {
    match (unit, v) {
        (_, None) => "–".into(),
        (Unit::Share, v) => percent(v),
        (Unit::Seconds, Some(s)) => duration_s(s.round() as u64),
    }
}

/// The figures' names in the order of the first point that has them.
fn figure_names(points: &[Point]) -> Vec<(String, Unit)> {
    let mut names: Vec<(String, Unit)> = Vec::new();
    for p in points {
        for f in &p.figures {
            if !names.iter().any(|(n, _)| *n == f.name) {
                names.push((f.name.clone(), f.unit));
            }
        }
    }
    names
}

/// A plain-text table of the sweep for the terminal.
pub fn summary(axes: &[Axis], points: &[Point]) -> String {
    let mut s = String::new();
    let names = figure_names(points);
    for p in points {
        let at: Vec<String> = axes
            .iter()
            .zip(&p.values)
            .map(|(a, v)| format!("{}={v}", a.key))
            .collect();
        let _ = writeln!(s, "{}", at.join(" "));
        for (name, unit) in &names {
            if let Some(f) = p.figures.iter().find(|f| f.name == *name) {
                let ci = f.ci.map_or(String::new(), |c| match unit {
                    Unit::Share => {
                        format!(" [{}, {}]", percent(Some(c.low)), percent(Some(c.high)))
                    }
                    Unit::Seconds => format!(
                        " [{}, {}]",
                        duration_s(c.low.round() as u64),
                        duration_s(c.high.round() as u64)
                    ),
                });
                let _ = writeln!(s, "  {name:<34} {:>10}{ci}", shown(*unit, f.value));
            }
        }
    }
    s
}

fn html(
    title: &str,
    axes: &[Axis],
    replicates: usize,
    points: &[Point],
) -> Result<String, ReportError> {
    let mut page = Page {
        html: String::with_capacity(64 * 1024),
    };
    let keys: Vec<String> = axes.iter().map(|a| a.key.clone()).collect();
    let _ = write!(
        page.html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Sweep: {}</title><style>{CSS}</style></head><body>\n\
         <h1>Sweep of {}: {}</h1>\n<p class=\"note\">{} point(s), {replicates} replicate(s) each; \
         every figure pooled over the replicates, with its 95% confidence interval across \
         them (error bars; none with one replicate). The numbers are in <code>{SWEEP_CSV}</code>.</p>\n",
        esc(title),
        esc(title),
        esc(&keys.join(" × ")),
        points.len(),
    );
    let x_axis = &axes[0];
    let numeric = x_axis.numbers();
    let xs: Vec<f64> = numeric
        .clone()
        .unwrap_or_else(|| (0..x_axis.values.len()).map(|i| i as f64).collect());
    let (lo, hi) = xs
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(*x), b.max(*x))
        });
    let pad = ((hi - lo) * 0.05).max(0.5);
    let labels = x_axis.values.clone();
    let label = move |x: f64| -> String {
        let i = x.round();
        if i >= 0.0 && (i - x).abs() < 1e-9 && (i as usize) < labels.len() {
            labels[i as usize].clone()
        } else {
            String::new()
        }
    };
    let label_ref: &dyn Fn(f64) -> String = &label;
    for (name, unit) in figure_names(points) {
        let (scale, y_desc) = match unit {
            Unit::Share => (1.0, "share of arrivals"),
            Unit::Seconds => {
                let top = points
                    .iter()
                    .filter_map(|p| p.figures.iter().find(|f| f.name == name)?.value)
                    .fold(0.0, f64::max);
                axis_unit(top)
            }
        };
        let y_desc = if name.ends_with("utilization") {
            "busy share of server time"
        } else {
            y_desc
        };
        // One line per value of the second axis (or one line).
        let groups = axes.get(1).map_or(1, |a| a.values.len());
        let lines: Vec<Line> = (0..groups)
            .map(|g| {
                let mut line = Line {
                    name: axes
                        .get(1)
                        .map_or(name.clone(), |a| format!("{}={}", a.key, a.values[g])),
                    color: g,
                    points: Vec::new(),
                    bars: Vec::new(),
                };
                for (xi, x) in xs.iter().enumerate() {
                    let p = &points[xi * groups + g];
                    if let Some(f) = p.figures.iter().find(|f| f.name == name) {
                        if let Some(v) = f.value {
                            line.points.push((*x, v / scale));
                        }
                        if let Some(c) = f.ci {
                            line.bars.push((*x, c.low / scale, c.high / scale));
                        }
                    }
                }
                line
            })
            .collect();
        let svg = Chart {
            title: &name,
            x_desc: &x_axis.key,
            y_desc,
            x: (lo - pad)..(hi + pad),
            y_min_top: if unit == Unit::Share { 0.01 } else { 1.0 },
            y_percent: unit == Unit::Share,
            x_label: if numeric.is_some() {
                None
            } else {
                Some(label_ref)
            },
            x_ticks: xs.len().clamp(2, 12),
            legend: Legend::UpperRight,
            lines,
        }
        .to_svg()?;
        page.figure(&name, &svg);
    }
    // The table of every point.
    let names = figure_names(points);
    page.push("<h2>Every point</h2>\n");
    let header: Vec<&str> = keys
        .iter()
        .map(String::as_str)
        .chain(names.iter().map(|(n, _)| n.as_str()))
        .collect();
    let rows: Vec<Vec<String>> = points
        .iter()
        .map(|p| {
            let values = p.values.iter().map(|v| esc(v));
            let cells = names.iter().map(|(n, unit)| {
                p.figures
                    .iter()
                    .find(|f| f.name == *n)
                    .map_or("–".into(), |f| {
                        let ci = f.ci.map_or(String::new(), |c| {
                            format!(
                                " <span class=\"ci\">[{}, {}]</span>",
                                shown(*unit, Some(c.low)),
                                shown(*unit, Some(c.high))
                            )
                        });
                        format!("{}{ci}", shown(*unit, f.value))
                    })
            });
            values.chain(cells).collect()
        })
        .collect();
    page.table(&header, &rows, keys.len());
    page.push("</body></html>\n");
    Ok(page.html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_split_values_at_top_level_commas() {
        let a = Axis::parse("agencies.centers.capacity.servers=2, 4,8").unwrap();
        assert_eq!(a.key, "agencies.centers.capacity.servers");
        assert_eq!(a.values, vec!["2", "4", "8"]);
        let b =
            Axis::parse(r#"agencies.pfr.latency={ kind = "fixed", value = "1s" },"a,b""#).unwrap();
        assert_eq!(
            b.values,
            vec![r#"{ kind = "fixed", value = "1s" }"#, r#""a,b""#]
        );
        assert_eq!(
            Axis::parse("servers"),
            Err(SweepError::Syntax("servers".into()))
        );
        assert!(matches!(Axis::parse("k= ,"), Err(SweepError::NoValues(_))));
        let three = vec!["a=1".to_string(), "b=2".into(), "c=3".into()];
        assert_eq!(Axis::parse_all(&three), Err(SweepError::TooManyAxes(3)));
        let same = vec!["a=1".to_string(), "a=2".into()];
        assert!(matches!(
            Axis::parse_all(&same),
            Err(SweepError::SameKey(_))
        ));
    }

    #[test]
    fn grid_points_run_the_last_axis_fastest() {
        let axes = Axis::parse_all(&["a=1,2".into(), "b=x,y,z".into()]).unwrap();
        assert_eq!(points(&axes), 6);
        let (sets, values) = point(&axes, 4);
        assert_eq!(values, vec!["2", "y"]);
        assert_eq!(sets, vec!["a=2", "b=y"]);
    }
}
