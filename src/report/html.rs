//! `report.html`: one self-contained page (inline CSS and SVG, no scripts, no network) with the
//! run's header, the tables and the plots, in the order a researcher reads a funnel.

use super::baseline::{Basis, Verdict};
use super::confidence::Ci;
use super::figures::{date_after, short_duration, Measure, PathFigures, ALL};
use super::plot::{Chart, Legend, Line};
use super::readable::{axis_unit, ci, count, duration_s, opt_duration_s, percent, signed};
use super::{csv, flow, Figures, ReportError, FUNNEL_JSON};
use crate::funnel::Path;
use std::fmt::Write;

pub(crate) const CSS: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0 auto;max-width:1180px;padding:1em 1.5em 3em;color:#222;line-height:1.4}
h1{margin-bottom:.2em}h2{margin-top:2em;border-bottom:1px solid #ddd;padding-bottom:.2em}h3{margin-top:1.4em}
table{border-collapse:collapse;margin:.6em 0 1em;font-size:14px}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f4f6f8}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.group td{border-top:2px solid #999}
.note{color:#555;font-size:14px;max-width:60em}
.ci{color:#666;font-size:12px}
.ok{color:#1a7f37;font-weight:600}.bad{color:#c62828;font-weight:600}.muted{color:#777}
figure{margin:1em 0}figcaption{font-size:14px;color:#444;margin-bottom:.3em}
svg{max-width:100%;height:auto}
.flow{overflow-x:auto}
.key span{display:inline-block;width:.9em;height:.9em;margin:0 .3em 0 1em;vertical-align:middle}
pre{background:#f6f8fa;padding:.8em;overflow-x:auto;font-size:12px}
nav a{margin-right:1em}
";

pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A percent with its interval below it, for a table cell.
fn pct_ci(share: Option<f64>, c: &Option<Ci>) -> String {
    let interval = ci(c);
    if interval.is_empty() {
        percent(share)
    } else {
        format!(
            "{}<br><span class=\"ci\">{}</span>",
            percent(share),
            interval
        )
    }
}

/// An HTML page being written, with the table and figure markup every page shares.
pub(crate) struct Page {
    pub(crate) html: String,
}

impl Page {
    pub(crate) fn push(&mut self, s: &str) {
        self.html.push_str(s);
    }

    pub(crate) fn table(&mut self, header: &[&str], rows: &[Vec<String>], numeric_from: usize) {
        self.push("<table><thead><tr>");
        for (i, h) in header.iter().enumerate() {
            let class = if i >= numeric_from {
                " class=\"n\""
            } else {
                ""
            };
            let _ = write!(self.html, "<th{class}>{}</th>", esc(h));
        }
        self.push("</tr></thead><tbody>\n");
        for row in rows {
            self.push("<tr>");
            for (i, cell) in row.iter().enumerate() {
                let class = if i >= numeric_from {
                    " class=\"n\""
                } else {
                    ""
                };
                // Cells are built by this module: escaped where they hold names.
                let _ = write!(self.html, "<td{class}>{cell}</td>");
            }
            self.push("</tr>\n");
        }
        self.push("</tbody></table>\n");
    }

    pub(crate) fn figure(&mut self, caption: &str, svg: &str) {
        let _ = write!(
            self.html,
            "<figure><figcaption>{}</figcaption>\n{svg}</figure>\n",
            esc(caption)
        );
    }
}

/// The color index of a path in the plots (its place in [`Path::ALL`]).
fn path_color(name: &str) -> usize {
    Path::ALL
        .iter()
        .position(|p| p.as_str() == name)
        .unwrap_or(Path::COUNT)
}

/// The page as HTML text.
pub fn page(f: &Figures) -> Result<String, ReportError> {
    let mut p = Page {
        html: String::with_capacity(256 * 1024),
    };
    let info = &f.info;
    let _ = write!(
        p.html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Funnel: {}</title><style>{CSS}</style></head><body>\n",
        esc(&info.scenario_name)
    );
    header(&mut p, f);
    tiers(&mut p, f);
    flows(&mut p, f);
    paths(&mut p, f);
    exits(&mut p, f);
    times(&mut p, f)?;
    maturity(&mut p, f)?;
    daily(&mut p, f)?;
    agencies(&mut p, f)?;
    cohorts(&mut p, f);
    if f.baseline_checks.is_some() {
        baseline(&mut p, f);
    }
    history(&mut p, f);
    scenario(&mut p, f);
    p.push("</body></html>\n");
    Ok(p.html)
}

fn header(p: &mut Page, f: &Figures) {
    let info = &f.info;
    let _ = writeln!(
        p.html,
        "<h1>Funnel report: {}</h1>",
        esc(&info.scenario_name)
    );
    let seeds: Vec<String> = info.seeds.iter().map(u64::to_string).collect();
    let overrides = if info.overrides.is_empty() {
        "none".to_string()
    } else {
        info.overrides
            .iter()
            .map(|o| format!("<code>{}</code>", esc(o)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let rows = vec![
        vec![
            "scenario file".into(),
            info.scenario_file
                .as_deref()
                .map_or("–".into(), |s| format!("<code>{}</code>", esc(s))),
        ],
        vec!["seeds".into(), esc(&seeds.join(", "))],
        vec![
            "citizens".into(),
            format!(
                "{} per replicate × {} replicate(s); {} recorded",
                count(info.citizens_per_replicate),
                info.replicates,
                count(info.citizens_recorded)
            ),
        ],
        vec![
            "horizon".into(),
            format!("{} days from {} (epoch)", info.horizon_days, info.epoch),
        ],
        vec!["overrides".into(), overrides],
    ];
    p.table(&["run", ""], &rows, 9);
    let ci_note = if info.replicates >= 2 {
        format!(
            "Figures are pooled over the {} replicates (counts are sums); each conversion \
             share has a 95% confidence interval across replicates (mean ± t·sd/√K, clamped \
             to 0–100%) shown under it in grey.",
            info.replicates
        )
    } else {
        "One replicate: no confidence intervals (run with more replicates for them).".into()
    };
    let _ = write!(
        p.html,
        "<p class=\"note\">{ci_note} Citizens still in progress at the horizon are \
         <b>censored</b>, not lost: they are counted apart from exits. The figures are also in \
         <code>{FUNNEL_JSON}</code> and the CSV tables beside this page.</p>\n\
         <nav><a href=\"#tiers\">tiers</a><a href=\"#flow\">flow</a><a href=\"#paths\">paths</a>\
         <a href=\"#exits\">exits</a><a href=\"#time\">time to tier</a>\
         <a href=\"#maturity\">conversion curves</a><a href=\"#daily\">daily</a>{}\
         <a href=\"#cohorts\">cohorts</a>{}<a href=\"#scenario\">scenario</a></nav>\n",
        if f.agencies.is_empty() {
            ""
        } else {
            "<a href=\"#agencies\">agencies</a>"
        },
        if f.baseline_checks.is_some() {
            "<a href=\"#baseline\">DOMAIN.md</a>"
        } else if f.history.is_some() {
            "<a href=\"#history\">published figures</a>"
        } else {
            ""
        }
    );
}

/// A funnel's steps; the "at goal" column only where someone stops at a goal midway (the
/// overall tier funnel).
fn step_table(p: &mut Page, pf: &PathFigures, first_col: &str) {
    let at_goal = pf.steps.iter().any(|s| s.stopped_at_goal > 0);
    let rows: Vec<Vec<String>> = pf
        .steps
        .iter()
        .map(|s| {
            let mut row = vec![
                esc(s.step),
                count(s.reached),
                pct_ci(s.conversion_overall, &s.conversion_overall_ci),
                pct_ci(s.conversion_from_previous, &s.conversion_from_previous_ci),
                count(s.dropped),
                count(s.dropped_exited),
                count(s.dropped_censored),
            ];
            if at_goal {
                row.push(count(s.stopped_at_goal));
            }
            row
        })
        .collect();
    let mut header = vec![
        first_col,
        "reached",
        "of arrived",
        "of previous",
        "dropped",
        "exited",
        "censored",
    ];
    if at_goal {
        header.push("at goal");
    }
    p.table(&header, &rows, 1);
}

fn tiers(p: &mut Page, f: &Figures) {
    let o = &f.overall;
    p.push("<h2 id=\"tiers\">Tiers</h2>\n");
    let _ = writeln!(
        p.html,
        "<p>{} citizens: <b>{}</b> reached the goal of their path {}, {} exited ({}), \
         {} still in progress at the horizon ({}).</p>",
        count(o.citizens),
        percent(o.completion),
        ci(&o.completion_ci),
        count(o.exited),
        percent(share(o.exited, o.citizens)),
        count(o.censored),
        percent(share(o.censored, o.citizens)),
    );
    step_table(p, o, "tier");
    p.push(
        "<p class=\"note\">A tier counts every citizen who holds it, whatever the path: a bank \
         client who reached standard holds the standard tier without a simplified step. \
         <i>dropped</i> = reached the previous tier but not this one; of them <i>exited</i> \
         for a reason, <i>censored</i> (still in progress) or <i>at goal</i> (their path \
         stops at the previous tier by choice).</p>\n",
    );
}

fn flows(p: &mut Page, f: &Figures) {
    p.push("<h2 id=\"flow\">Flow</h2>\n<p class=\"key note\">");
    for (color, label) in [
        ("#6f8fb3", "went on"),
        ("#2ca02c", "goal reached"),
        ("#d62728", "exited (reason)"),
        ("#e6a100", "censored: in progress at the horizon"),
    ] {
        let _ = write!(p.html, "<span style=\"background:{color}\"></span>{label}");
    }
    p.push(" — hover a band for its count.</p>\n");
    let _ = write!(
        p.html,
        "<figure class=\"flow\"><figcaption>All paths, by tier held</figcaption>\n{}</figure>\n",
        flow::svg(&f.overall)
    );
    for pf in &f.paths {
        let _ = write!(
            p.html,
            "<figure class=\"flow\"><figcaption>Path <b>{}</b>: {} citizens</figcaption>\n{}</figure>\n",
            esc(pf.path),
            count(pf.citizens),
            flow::svg(pf)
        );
    }
}

fn paths(p: &mut Page, f: &Figures) {
    p.push("<h2 id=\"paths\">Paths</h2>\n");
    let rows: Vec<Vec<String>> = f
        .paths
        .iter()
        .map(|pf| {
            vec![
                esc(pf.path),
                count(pf.citizens),
                count(pf.completed),
                pct_ci(pf.completion, &pf.completion_ci),
                count(pf.exited),
                count(pf.censored),
            ]
        })
        .collect();
    p.table(
        &[
            "path",
            "citizens",
            "completed",
            "completion",
            "exited",
            "censored",
        ],
        &rows,
        1,
    );
    for pf in &f.paths {
        let _ = writeln!(p.html, "<h3>Path {}</h3>", esc(pf.path));
        step_table(p, pf, "step");
    }
}

fn exits(p: &mut Page, f: &Figures) {
    p.push("<h2 id=\"exits\">Exits and censored</h2>\n<h3>Exits by reason, all paths</h3>\n");
    let rows: Vec<Vec<String>> = f
        .exits_by_reason
        .iter()
        .map(|r| {
            vec![
                esc(r.reason),
                count(r.count),
                percent(Some(r.share_of_citizens)),
            ]
        })
        .collect();
    if rows.is_empty() {
        p.push("<p>No exits.</p>\n");
    } else {
        p.table(&["reason", "citizens", "of all citizens"], &rows, 1);
    }
    p.push("<h3>Exits by path, last step and reason</h3>\n");
    let mut rows = Vec::new();
    for pf in &f.paths {
        for r in &pf.exits {
            rows.push(vec![
                esc(pf.path),
                esc(r.step),
                esc(r.reason.unwrap_or("")),
                count(r.count),
                percent(Some(r.share_of_path)),
            ]);
        }
    }
    if rows.is_empty() {
        p.push("<p>No exits.</p>\n");
    } else {
        p.table(
            &["path", "last step", "reason", "citizens", "of path"],
            &rows,
            3,
        );
    }
    p.push(
        "<h3>Censored: still in progress at the horizon</h3>\n<p class=\"note\">Not lost: \
         they may still finish; the conversion curves below account for them.</p>\n",
    );
    let mut rows = Vec::new();
    for pf in &f.paths {
        for r in &pf.censored_by_step {
            rows.push(vec![
                esc(pf.path),
                esc(r.step),
                count(r.count),
                percent(Some(r.share_of_path)),
            ]);
        }
    }
    if rows.is_empty() {
        p.push("<p>Nobody was in progress at the horizon.</p>\n");
    } else {
        p.table(&["path", "last step", "citizens", "of path"], &rows, 2);
    }
}

fn times(p: &mut Page, f: &Figures) -> Result<(), ReportError> {
    p.push(
        "<h2 id=\"time\">Time to tier</h2>\n<p class=\"note\">Among the citizens who got there; \
         by path, which for the confirmed tier is the confirmation method. From histograms \
         with 3 significant digits.</p>\n",
    );
    let rows: Vec<Vec<String>> = f
        .time
        .iter()
        .map(|r| {
            let measure = Measure::ALL
                .into_iter()
                .find(|m| m.as_str() == r.measure)
                .map_or(r.measure, |m| m.title());
            let class = if r.path == ALL { "<b>all</b>" } else { r.path };
            vec![
                esc(measure),
                if r.path == ALL {
                    class.to_string()
                } else {
                    esc(class)
                },
                count(r.count),
                opt_duration_s(r.p50_s),
                opt_duration_s(r.p90_s),
                opt_duration_s(r.p99_s),
                opt_duration_s(r.max_s),
                r.mean_s
                    .map_or("–".into(), |m| duration_s(m.round() as u64)),
            ]
        })
        .collect();
    p.table(
        &[
            "from – to",
            "path",
            "citizens",
            "median",
            "p90",
            "p99",
            "max",
            "mean",
        ],
        &rows,
        2,
    );

    let bins = &f.time_bins;
    let edge_label = |x: f64| {
        let i = x.round();
        if (x - i).abs() > 1e-9 || i < 0.0 {
            return String::new();
        }
        bins.get(i as usize)
            .map_or(String::new(), |b| short_duration(b.lower_s))
    };
    for measure in Measure::ALL {
        let rows: Vec<_> = f
            .time
            .iter()
            .filter(|r| r.measure == measure.as_str() && r.count > 0)
            .collect();
        let per_path = rows.iter().filter(|r| r.path != ALL).count();
        let lines: Vec<Line> = rows
            .iter()
            .filter(|r| r.path != ALL || per_path == 0)
            .map(|r| Line {
                name: r.path.to_string(),
                color: path_color(r.path),
                points: r
                    .histogram
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (i as f64 + 0.5, *c as f64 / r.count as f64))
                    .collect(),
                bars: Vec::new(),
            })
            .collect();
        if lines.is_empty() {
            continue;
        }
        let title = format!("Time {}: share per bin", measure.title());
        let svg = Chart {
            title: &title,
            x_desc: "time (bins from 1 minute to 180 days; bin widths differ)",
            y_desc: "share of the path's citizens",
            x: 0.0..bins.len() as f64,
            y_min_top: 0.05,
            y_percent: true,
            x_label: Some(&edge_label),
            x_ticks: 24,
            legend: Legend::UpperRight,
            lines,
        }
        .to_svg()?;
        p.figure(&format!("Histogram: {}", measure.title()), &svg);
    }
    Ok(())
}

/// Days at which the conversion curves are tabulated.
const CURVE_DAYS: [usize; 9] = [0, 1, 3, 7, 14, 21, 30, 60, 90];

fn maturity(p: &mut Page, f: &Figures) -> Result<(), ReportError> {
    p.push(
        "<h2 id=\"maturity\">Cumulative conversion</h2>\n<p class=\"note\">Share of each \
         path's citizens at their goal by days since arrival, counting on day <i>d</i> only \
         those followed for at least <i>d</i> days (cohort maturity): late arrivals are not \
         taken for lost.</p>\n",
    );
    let max_day = f
        .maturity
        .iter()
        .flat_map(|c| c.points.last().map(|p| p.day))
        .max()
        .unwrap_or(0);
    let lines: Vec<Line> = f
        .maturity
        .iter()
        .filter(|c| !c.points.is_empty())
        .map(|c| Line {
            name: format!("{} (to {})", c.path, c.goal),
            color: path_color(c.path),
            points: c.points.iter().map(|p| (p.day as f64, p.share)).collect(),
            bars: Vec::new(),
        })
        .collect();
    if !lines.is_empty() {
        let svg = Chart {
            title: "Cumulative conversion by path",
            x_desc: "days since arrival",
            y_desc: "share at the path's goal",
            x: 0.0..(max_day.max(1) as f64),
            y_min_top: 1.0,
            y_percent: true,
            x_label: None,
            x_ticks: 10,
            legend: Legend::LowerRight,
            lines,
        }
        .to_svg()?;
        p.figure("Cumulative conversion by path", &svg);
    }
    let days: Vec<usize> = CURVE_DAYS.into_iter().filter(|d| *d <= max_day).collect();
    let mut header = vec!["path".to_string()];
    header.extend(days.iter().map(|d| format!("day {d}")));
    let rows: Vec<Vec<String>> = f
        .maturity
        .iter()
        .map(|c| {
            let mut row = vec![esc(c.path)];
            for d in &days {
                row.push(
                    c.points
                        .iter()
                        .find(|p| p.day == *d)
                        .map_or("–".into(), |pt| pct_ci(Some(pt.share), &pt.ci)),
                );
            }
            row
        })
        .collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    p.table(&header, &rows, 1);
    Ok(())
}

/// The agencies with a capacity: their queues over the run and day by day.
fn agencies(p: &mut Page, f: &Figures) -> Result<(), ReportError> {
    if f.agencies.is_empty() {
        return Ok(());
    }
    p.push("<h2 id=\"agencies\">Agencies</h2>\n");
    p.push(
        "<p class=\"note\">Agencies with a capacity (servers, a queue, a quota). Waits are of \
         the requests served, from arrival to the start of service; refused requests are asked \
         again after the engine's backoff and count again; utilization is busy server time over \
         server time available (a center's while it is open). The figures are in \
         <code>funnel.json</code> under <code>agencies.&lt;name&gt;.queue</code>, the days in \
         <code>daily.csv</code>.</p>\n",
    );
    let secs = |s: Option<f64>| s.map_or("–".to_string(), |s| duration_s(s.round() as u64));
    let rows: Vec<Vec<String>> = f
        .agencies
        .iter()
        .map(|(name, a)| {
            let q = &a.queue;
            vec![
                esc(name),
                count(q.servers),
                count(q.arrivals),
                count(q.served),
                format!(
                    "{} ({} full, {} quota)",
                    count(q.refused),
                    count(q.refused_queue_full),
                    count(q.refused_quota)
                ),
                count(q.reneged),
                secs(q.wait_mean_s),
                secs(q.wait_p50_s),
                secs(q.wait_p90_s),
                secs(q.wait_p99_s),
                percent(q.utilization),
                count(q.max_queue),
            ]
        })
        .collect();
    p.table(
        &[
            "agency",
            "servers",
            "requests",
            "served",
            "refused",
            "gave up",
            "wait mean",
            "p50",
            "p90",
            "p99",
            "utilization",
            "longest queue",
        ],
        &rows,
        1,
    );
    let d = &f.daily;
    let x = 0.0..(d.days.saturating_sub(1).max(1) as f64);
    // Waits in the unit that suits the longest.
    let longest_wait_s = d
        .queues
        .iter()
        .filter(|s| s.series.ends_with(".wait_mean_s"))
        .flat_map(|s| s.values.iter().flatten().copied())
        .fold(0.0, f64::max);
    let (wait_scale, wait_unit) = axis_unit(longest_wait_s);
    for (figure, title, y_desc, y_percent, scale) in [
        (
            "queue_mean",
            "Queue found by arrivals, mean per day",
            "requests waiting",
            false,
            1.0,
        ),
        (
            "wait_mean_s",
            "Wait of the requests served, mean per day",
            wait_unit,
            false,
            wait_scale,
        ),
        (
            "utilization",
            "Utilization per day",
            "busy share of server time",
            true,
            1.0,
        ),
    ] {
        let lines: Vec<Line> = d
            .queues
            .iter()
            .filter_map(|s| {
                let (agency, fig) = s.series.rsplit_once('.')?;
                (fig == figure).then_some((agency, s))
            })
            .enumerate()
            .map(|(i, (agency, s))| Line {
                name: agency.to_string(),
                color: i,
                points: s
                    .values
                    .iter()
                    .enumerate()
                    .filter_map(|(day, v)| v.map(|v| (day as f64, v / scale)))
                    .collect(),
                bars: Vec::new(),
            })
            .collect();
        let svg = Chart {
            title,
            x_desc: "day of the run",
            y_desc,
            x: x.clone(),
            y_min_top: if y_percent { 0.01 } else { 1.0 },
            y_percent,
            x_label: None,
            x_ticks: 10,
            legend: Legend::UpperRight,
            lines,
        }
        .to_svg()?;
        p.figure(title, &svg);
    }
    Ok(())
}

fn daily(p: &mut Page, f: &Figures) -> Result<(), ReportError> {
    let d = &f.daily;
    p.push("<h2 id=\"daily\">Day by day</h2>\n");
    let _ = writeln!(
        p.html,
        "<p class=\"note\">Day 0 is {}. The table is in <code>daily.csv</code>.</p>",
        d.start
    );
    let series = |names: &[&str]| -> Vec<Line> {
        d.series
            .iter()
            .enumerate()
            .filter(|(_, s)| names.contains(&s.series))
            .map(|(i, s)| Line {
                name: s.series.to_string(),
                color: i,
                points: s
                    .values
                    .iter()
                    .enumerate()
                    .map(|(day, v)| (day as f64, *v as f64))
                    .collect(),
                bars: Vec::new(),
            })
            .collect()
    };
    let x = 0.0..(d.days.saturating_sub(1).max(1) as f64);
    for (title, names, y_desc) in [
        (
            "Arrivals and tier upgrades per day",
            &["arrivals", "simplified", "standard", "confirmed"][..],
            "citizens per day",
        ),
        (
            "Pending at the end of each day",
            &["verifications_pending", "letters_in_transit"][..],
            "open at the end of the day",
        ),
    ] {
        let svg = Chart {
            title,
            x_desc: "day of the run",
            y_desc,
            x: x.clone(),
            y_min_top: 1.0,
            y_percent: false,
            x_label: None,
            x_ticks: 10,
            legend: Legend::UpperRight,
            lines: series(names),
        }
        .to_svg()?;
        p.figure(title, &svg);
    }
    let totals: Vec<Vec<String>> = d
        .series
        .iter()
        .enumerate()
        .map(|(i, s)| {
            // The first four count events; the others are open at the end of a day.
            let total = if i < 4 {
                signed(s.values.iter().sum())
            } else {
                "–".to_string()
            };
            let peak = s.values.iter().copied().max().unwrap_or(0);
            let peak_day = s.values.iter().position(|v| *v == peak).unwrap_or(0);
            vec![
                esc(s.series),
                total,
                signed(peak),
                format!("{peak_day} ({})", date_after(d.start, peak_day)),
            ]
        })
        .collect();
    p.table(&["series", "total", "peak", "on day"], &totals, 1);
    Ok(())
}

fn cohorts(p: &mut Page, f: &Figures) {
    p.push(
        "<h2 id=\"cohorts\">Cohorts by arrival week</h2>\n<p class=\"note\">How far each \
         week's arrivals got by the horizon (the steps as recorded: bank and MFC journeys skip \
         the simplified step). Late weeks had less time.</p>\n",
    );
    let rows: Vec<Vec<String>> = f
        .cohorts
        .iter()
        .filter(|c| c.arrived > 0)
        .map(|c| {
            vec![
                c.week.to_string(),
                c.start.to_string(),
                count(c.arrived),
                format!(
                    "{} · {}",
                    count(c.simplified),
                    pct_ci(c.simplified_share, &c.simplified_share_ci)
                ),
                format!(
                    "{} · {}",
                    count(c.standard),
                    pct_ci(c.standard_share, &c.standard_share_ci)
                ),
                format!(
                    "{} · {}",
                    count(c.confirmed),
                    pct_ci(c.confirmed_share, &c.confirmed_share_ci)
                ),
            ]
        })
        .collect();
    p.table(
        &[
            "week",
            "from",
            "arrived",
            "simplified",
            "standard",
            "confirmed",
        ],
        &rows,
        2,
    );
}

fn baseline(p: &mut Page, f: &Figures) {
    let Some(checks) = &f.baseline_checks else {
        return;
    };
    p.push(
        "<h2 id=\"baseline\">Comparison with DOMAIN.md</h2>\n<p class=\"note\">The run's \
         figures beside what the source documents say (seed file numbers in brackets). \
         <b>Predicted</b> figures are outputs the scenario's inputs do not fix; each is judged \
         against the range DOMAIN.md itself states.</p>\n",
    );
    let rows = |keep: &dyn Fn(Basis) -> bool| -> Vec<Vec<String>> {
        checks
            .iter()
            .filter(|c| keep(c.basis))
            .map(|c| {
                let class = match c.verdict {
                    Verdict::Consistent => "ok",
                    Verdict::Inconsistent => "bad",
                    _ => "muted",
                };
                vec![
                    esc(c.figure),
                    esc(&c.value_text),
                    format!("{} ({})", esc(c.domain), esc(c.sources)),
                    esc(c.tolerance),
                    format!("<span class=\"{class}\">{}</span>", c.verdict.as_str()),
                ]
            })
            .collect()
    };
    p.table(
        &[
            "predicted figure",
            "this run",
            "DOMAIN.md (seeds)",
            "judged against",
            "verdict",
        ],
        &rows(&|b| b == Basis::Predicted),
        9,
    );
    p.push(
        "<p class=\"note\">Listed apart, not judged: <b>fitted</b> figures (an input, a \
         clamp of an input, or true by construction: agreeing proves nothing), and figures \
         shown for information or that the funnel does not record.</p>\n",
    );
    p.table(
        &[
            "figure",
            "this run",
            "DOMAIN.md (seeds)",
            "why not judged",
            "verdict",
        ],
        &rows(&|b| b != Basis::Predicted),
        9,
    );
}

/// The run against the scenario's published figures: fitted and predicted apart.
fn history(p: &mut Page, f: &Figures) {
    let Some(rows) = &f.history else {
        return;
    };
    p.push(
        "<h2 id=\"history\">Comparison with published figures</h2>\n<p class=\"note\">Each \
         figure the scenario quotes, with its source, beside the run's value at the end of \
         that date (the accounts held at the epoch plus those the run opened, divided by the \
         arrivals' scale). <b>Fitted</b> figures are what the inputs (the monthly inflow) were \
         set to meet: agreeing proves little. <b>Predicted</b> figures (confirmed accounts and \
         their share) follow from the funnel's paths, methods and their opening dates.</p>\n",
    );
    let value = |m: crate::scenario::HistoryMeasure, x: f64| match m {
        crate::scenario::HistoryMeasure::ConfirmedShare => format!("{:.1}%", 100.0 * x),
        _ => format!("{:.2} M", x / 1e6),
    };
    for basis in [
        crate::scenario::HistoryBasis::Predicted,
        crate::scenario::HistoryBasis::Fitted,
    ] {
        let body: Vec<Vec<String>> = rows
            .iter()
            .filter(|r| r.basis == basis)
            .map(|r| {
                vec![
                    r.date.to_string(),
                    esc(r.measure.as_str()),
                    esc(&r.source),
                    value(r.measure, r.published),
                    value(r.measure, r.model),
                    r.relative
                        .map_or("—".into(), |x| format!("{:+.1}%", 100.0 * x)),
                ]
            })
            .collect();
        if body.is_empty() {
            continue;
        }
        let _ = writeln!(p.html, "<h3>{}</h3>", basis.as_str());
        p.table(
            &[
                "date",
                "figure",
                "source",
                "published",
                "this run",
                "difference",
            ],
            &body,
            3,
        );
    }
}

fn scenario(p: &mut Page, f: &Figures) {
    p.push("<h2 id=\"scenario\">Scenario and files</h2>\n");
    let json = serde_json::to_string_pretty(&f.info.scenario).unwrap_or_default();
    let _ = write!(
        p.html,
        "<details><summary>The resolved scenario</summary><pre>{}</pre></details>\n<p>Files \
         beside this page: <a href=\"{FUNNEL_JSON}\"><code>{FUNNEL_JSON}</code></a>",
        esc(&json)
    );
    let baseline = f.baseline_checks.as_ref().map(|_| csv::BASELINE_FILE);
    for file in csv::FILES.into_iter().chain(baseline) {
        let _ = write!(p.html, ", <a href=\"{file}\"><code>{file}</code></a>");
    }
    p.push(".</p>\n");
}

fn share(n: u64, d: u64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}
