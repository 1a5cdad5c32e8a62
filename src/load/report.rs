//! The files a load run (or a merge of runs) leaves: `funnel.json` (every figure, histograms
//! bucket by bucket so runs merge exactly, the timeline), `timeline.csv` (the run over time,
//! tidy), `funnel.html` (the same as tables a person reads, self-contained, with charts of the
//! timeline as inline SVG), and the summary printed at the end.

use super::funnel::held;
use super::funnel::{Latency, LoadFunnel, PathTally, Verdict};
use super::timeline::{Bucket, LogHistogram, Outcome, Timeline};
use crate::registry::Tier;
use crate::report::html::esc;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The file names in a run's folder.
pub const FUNNEL_JSON: &str = "funnel.json";
pub const FUNNEL_HTML: &str = "funnel.html";
pub const GOOSE_HTML: &str = "goose-report.html";
pub const GOOSE_JSON: &str = "goose-report.json";
pub const METRICS: &str = "metrics.txt";
pub const TIMELINE_CSV: &str = "timeline.csv";

/// A report that cannot be written or read.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a load funnel: {message}")]
    Parse { path: String, message: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ReportError + '_ {
    move |source| ReportError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Writes `funnel.json`, `funnel.html` and `timeline.csv` into `dir` (created if needed).
pub fn write(dir: &Path, funnel: &LoadFunnel) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let json = dir.join(FUNNEL_JSON);
    let mut text =
        serde_json::to_string_pretty(&Document::of(funnel)).map_err(|e| ReportError::Parse {
            path: json.display().to_string(),
            message: e.to_string(),
        })?;
    text.push('\n');
    std::fs::write(&json, text).map_err(io(&json))?;
    let html = dir.join(FUNNEL_HTML);
    std::fs::write(&html, page(funnel)).map_err(io(&html))?;
    let timeline = dir.join(TIMELINE_CSV);
    std::fs::write(&timeline, funnel.timeline.csv()).map_err(io(&timeline))?;
    Ok(vec![json, html, timeline])
}

/// Reads a `funnel.json`.
pub fn read(path: &Path) -> Result<LoadFunnel, ReportError> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    let parse = |message: String| ReportError::Parse {
        path: path.display().to_string(),
        message,
    };
    let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| parse(e.to_string()))?;
    let format = doc["funnel"]["format"].as_str().unwrap_or_default();
    if format != super::funnel::FORMAT {
        return Err(parse(format!(
            "format {format:?}, expected {:?}",
            super::funnel::FORMAT
        )));
    }
    let funnel: LoadFunnel =
        serde_json::from_value(doc["funnel"].clone()).map_err(|e| parse(e.to_string()))?;
    // Timelines merge exactly only at widths that are powers of two.
    let bucket_s = funnel.timeline.bucket_s;
    if !bucket_s.is_power_of_two() {
        return Err(parse(format!(
            "timeline: buckets of {bucket_s} s, not a power of two"
        )));
    }
    Ok(funnel)
}

/// `funnel.json`: the funnel with its totals and verdicts beside it (these are recomputed
/// from the funnel when read back).
#[derive(serde::Serialize)]
struct Document<'a> {
    totals: super::funnel::Totals,
    thresholds: Vec<Verdict>,
    passed: bool,
    funnel: &'a LoadFunnel,
}

impl<'a> Document<'a> {
    fn of(funnel: &'a LoadFunnel) -> Self {
        let thresholds = funnel.judge();
        Self {
            totals: funnel.totals(),
            passed: thresholds.iter().all(|v| v.pass),
            thresholds,
            funnel,
        }
    }
}

fn ms(x: f64) -> String {
    if x >= 10_000.0 {
        format!("{:.1} s", x / 1_000.0)
    } else if x >= 100.0 {
        format!("{x:.0} ms")
    } else {
        format!("{x:.2} ms")
    }
}

fn pct(n: u64, of: u64) -> String {
    if of == 0 {
        "–".into()
    } else {
        format!("{:.1}%", n as f64 * 100.0 / of as f64)
    }
}

/// The summary printed at the end of a run or a merge.
pub fn summary(funnel: &LoadFunnel) -> String {
    let t = funnel.totals();
    let mut s = String::new();
    for r in &funnel.runs {
        let _ = writeln!(
            s,
            "run: {} against {} ({}), shard {}, {} model{}{}, speedup {}, hash {}",
            r.scenario,
            r.target,
            r.target_kind,
            r.shard,
            r.model,
            if r.model == "open" {
                format!(" at {}/s", r.arrival_rate)
            } else {
                String::new()
            },
            if r.mix == "model" {
                ", the simulator's mix"
            } else {
                ""
            },
            r.speedup,
            r.hash_profile
        );
    }
    let _ = writeln!(
        s,
        "journeys: {} started, {} completed, {} failed, {} in progress at the end; {:.1} completed/s over {:.1} s",
        t.started, t.completed, t.failed, t.in_progress, t.journeys_per_s, t.duration_s
    );
    let tiers: Vec<String> = Tier::ALL
        .iter()
        .map(|tier| {
            format!(
                "{} {}",
                tier.as_str(),
                t.tier_reached.get(&Some(*tier)).copied().unwrap_or(0)
            )
        })
        .collect();
    let _ = writeln!(s, "tier held at the end: {}", tiers.join(", "));
    let _ = writeln!(
        s,
        "steps: {} run, {} failed ({:.3}%); requests: {} ({:.1}/s), p50 {} p95 {} p99 {} max {}",
        t.steps,
        t.steps_failed,
        t.error_rate * 100.0,
        t.requests.count(),
        t.requests_per_s,
        ms(t.requests.quantile_ms(0.5)),
        ms(t.requests.quantile_ms(0.95)),
        ms(t.requests.quantile_ms(0.99)),
        ms(t.requests.max_ms())
    );
    let _ = writeln!(
        s,
        "{:<18} {:>8} {:>9} {:>7} {:>8} {:>10} {:>10}",
        "path", "started", "completed", "failed", "running", "journey p50", "p95"
    );
    for (path, p) in &funnel.paths {
        let _ = writeln!(
            s,
            "{:<18} {:>8} {:>9} {:>7} {:>8} {:>10} {:>10}",
            path.as_str(),
            p.started,
            p.completed,
            p.failed,
            p.in_progress,
            ms(p.journey.quantile_ms(0.5)),
            ms(p.journey.quantile_ms(0.95))
        );
    }
    for (path, p) in &funnel.paths {
        for st in &p.steps {
            for (reason, n) in &st.reasons {
                let _ = writeln!(s, "failure: {path} / {}: {reason} ×{n}", st.name);
            }
        }
    }
    for v in funnel.judge() {
        let _ = writeln!(
            s,
            "threshold {}: {} (observed {})",
            if v.pass { "passed" } else { "FAILED" },
            v.rule,
            v.observed
        );
    }
    for r in &funnel.runs {
        for n in &r.notes {
            let _ = writeln!(s, "note: {n}");
        }
    }
    s
}

fn latency_cells(h: &Latency) -> String {
    if h.count() == 0 {
        return "<td></td>".repeat(5);
    }
    [0.5, 0.9, 0.95, 0.99]
        .iter()
        .map(|q| format!("<td>{}</td>", ms(h.quantile_ms(*q))))
        .chain(std::iter::once(format!("<td>{}</td>", ms(h.max_ms()))))
        .collect()
}

const LATENCY_HEAD: &str = "<th>p50</th><th>p90</th><th>p95</th><th>p99</th><th>max</th>";

fn path_section(out: &mut String, name: &str, p: &PathTally) {
    let _ = writeln!(
        out,
        "<h3>{}</h3>\n<p>{} started, {} completed ({}), {} failed, {} in progress at the end. \
         Tier held at the end: {}.</p>",
        esc(name),
        p.started,
        p.completed,
        pct(p.completed, p.started),
        p.failed,
        p.in_progress,
        p.tier_reached
            .iter()
            .map(|(t, n)| format!("{} {n}", held::name(*t)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    out.push_str("<table><tr><th>step</th><th>runs</th><th>failed</th><th>requests</th>");
    let _ = writeln!(
        out,
        "{}<th>step p50</th><th>step p95</th></tr>",
        LATENCY_HEAD.replace("<th>", "<th>request ")
    );
    for s in &p.steps {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td>{}<td>{}</td><td>{}</td></tr>",
            esc(&s.name),
            s.attempts,
            s.failed,
            s.requests.count(),
            latency_cells(&s.requests),
            ms(s.step.quantile_ms(0.5)),
            ms(s.step.quantile_ms(0.95))
        );
    }
    out.push_str("</table>\n<table><tr><th>measure</th><th>count</th>");
    out.push_str(LATENCY_HEAD);
    out.push_str("</tr>\n");
    let mut row = |label: &str, h: &Latency| {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td>{}</tr>",
            esc(label),
            h.count(),
            latency_cells(h)
        );
    };
    row("whole journey (completed)", &p.journey);
    for (t, h) in &p.time_to_tier {
        row(&format!("time to {}", t.as_str()), h);
    }
    if p.start_lag.count() > 0 {
        row("start lag (open model)", &p.start_lag);
    }
    out.push_str("</table>\n");
}

/// `funnel.html`: self-contained tables.
pub fn page(funnel: &LoadFunnel) -> String {
    let t = funnel.totals();
    let verdicts = funnel.judge();
    let mut out = String::from(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>esia-sim load: funnel</title>\n<style>\
         body{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:80em}\
         table{border-collapse:collapse;margin:.5em 0 1.5em}\
         td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}\
         td:first-child,th:first-child{text-align:left}th{background:#f3f3f3}\
         .fail{color:#b00;font-weight:bold}.pass{color:#070}\
         </style></head><body>\n<h1>esia-sim load: the funnel under load</h1>\n",
    );
    out.push_str(
        "<h2>Runs</h2>\n<table><tr><th>scenario</th><th>target</th><th>mocks</th>\
                  <th>shard</th><th>citizens</th><th>model</th><th>users</th><th>speedup</th>\
                  <th>hash</th><th>started</th><th>seconds</th></tr>\n",
    );
    for r in &funnel.runs {
        let mut model = if r.model == "open" {
            format!("open, {}/s", r.arrival_rate)
        } else {
            "closed".to_owned()
        };
        if r.mix == "model" {
            model.push_str(", the simulator's mix");
        }
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{} ({})</td><td>{}</td><td>{}</td><td>{}..{} ({} taken)</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td></tr>",
            esc(&r.scenario),
            esc(&r.target),
            esc(&r.target_kind),
            esc(&r.mocks),
            esc(&r.shard),
            r.citizens[0],
            r.citizens[1],
            r.citizens_taken,
            esc(&model),
            // Saturating: the counts come from the files `merge` reads.
            r.users
                .values()
                .fold(0usize, |sum, n| sum.saturating_add(*n)),
            r.speedup,
            esc(&r.hash_profile),
            esc(&r.started_at),
            r.duration_s
        );
    }
    out.push_str("</table>\n");
    for r in &funnel.runs {
        for n in &r.notes {
            let _ = writeln!(out, "<p>Note: {}</p>", esc(n));
        }
    }
    out.push_str(
        "<h2>Thresholds</h2>\n<table><tr><th>rule</th><th>observed</th><th>verdict</th></tr>\n",
    );
    for v in &verdicts {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td class=\"{}\">{}</td></tr>",
            esc(&v.rule),
            esc(&v.observed),
            if v.pass { "pass" } else { "fail" },
            if v.pass { "passed" } else { "FAILED" }
        );
    }
    out.push_str("</table>\n<h2>Totals</h2>\n");
    let _ = writeln!(
        out,
        "<p>{} journeys started, {} completed ({:.2} a second over {:.1} s), {} failed, {} in \
         progress at the end. {} steps, {} failed ({:.3}%). {} requests ({:.1} a second).</p>",
        t.started,
        t.completed,
        t.journeys_per_s,
        t.duration_s,
        t.failed,
        t.in_progress,
        t.steps,
        t.steps_failed,
        t.error_rate * 100.0,
        t.requests.count(),
        t.requests_per_s
    );
    out.push_str("<table><tr><th>measure</th><th>count</th>");
    out.push_str(LATENCY_HEAD);
    let _ = writeln!(
        out,
        "</tr>\n<tr><td>every request</td><td>{}</td>{}</tr>\n</table>",
        t.requests.count(),
        latency_cells(&t.requests)
    );
    out.push_str(
        "<table><tr><th>path</th><th>started</th><th>completed</th><th>failed</th>\
                  <th>in progress</th><th>simplified</th><th>standard</th><th>confirmed</th>\
                  <th>journey p50</th><th>journey p95</th></tr>\n",
    );
    for (path, p) in &funnel.paths {
        let tier = |t: Tier| p.tier_reached.get(&Some(t)).copied().unwrap_or(0);
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td></tr>",
            path.as_str(),
            p.started,
            p.completed,
            p.failed,
            p.in_progress,
            tier(Tier::Simplified),
            tier(Tier::Standard),
            tier(Tier::Confirmed),
            ms(p.journey.quantile_ms(0.5)),
            ms(p.journey.quantile_ms(0.95))
        );
    }
    out.push_str("</table>\n<h2>Failures by step and reason</h2>\n");
    let mut any = false;
    out.push_str("<table><tr><th>path</th><th>step</th><th>reason</th><th>count</th></tr>\n");
    for (path, p) in &funnel.paths {
        for s in &p.steps {
            for (reason, n) in &s.reasons {
                any = true;
                let _ = writeln!(
                    out,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{n}</td></tr>",
                    path.as_str(),
                    esc(&s.name),
                    esc(reason)
                );
            }
        }
    }
    out.push_str("</table>\n");
    if !any {
        out.push_str("<p>None.</p>\n");
    }
    out.push_str(
        "<h2>Paths, step by step</h2>\n<p>Request times are whole responses (body \
                  read) of the requests each step made to the system under test; step times \
                  include waiting for messages, agencies and letters. Journeys and times to a \
                  tier count from the journey's start (its scheduled instant in the open model).\
                  </p>\n",
    );
    for (path, p) in &funnel.paths {
        path_section(&mut out, path.as_str(), p);
    }
    over_time(&mut out, &funnel.timeline);
    out.push_str("</body></html>\n");
    out
}

/// Up to eight series, those with the highest values first: `(name, peak)` samples in, each
/// chosen name's points from `points`.
fn top_series<'a>(
    samples: impl Iterator<Item = (&'a str, f64)>,
    points: impl Fn(&str) -> Vec<(f64, f64)>,
) -> Vec<crate::report::plot::Line> {
    let mut peak: BTreeMap<&str, f64> = BTreeMap::new();
    for (name, v) in samples {
        let p = peak.entry(name).or_insert(v);
        *p = p.max(v);
    }
    let mut names: Vec<(&str, f64)> = peak.into_iter().collect();
    names.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    names
        .into_iter()
        .take(8)
        .enumerate()
        .map(|(i, (name, _))| crate::report::plot::Line {
            name: name.to_owned(),
            color: i,
            points: points(name),
            bars: Vec::new(),
        })
        .collect()
}

/// Charts of the timeline (inline SVG, nothing fetched): requests a second by outcome, request
/// latency of every step together and of the slowest steps, journeys a second and in
/// progress, tiers reached a second, and the target's queues scraped from its `/metrics`.
fn over_time(out: &mut String, t: &Timeline) {
    use crate::report::plot::{Chart, Legend, Line};
    let Some(&first) = t.buckets.keys().next() else {
        return;
    };
    let width = t.bucket_s.max(1) as f64;
    let last = t.buckets.keys().next_back().copied().unwrap_or(first);
    let x = |k: u64| (k - first) as f64;
    let span = (x(last) + width).max(1.0);
    let _ = writeln!(
        out,
        "<h2>Over time</h2>\n<p>Buckets of {} s (the data: <code>timeline.csv</code>); \
         a step's requests count where the step ended.</p>",
        t.bucket_s
    );
    let per_s = |n: u64| n as f64 / width;
    let mut outcomes: Vec<Outcome> = t
        .buckets
        .values()
        .flat_map(|b| b.requests.keys().copied())
        .collect();
    outcomes.sort();
    outcomes.dedup();
    // A line of per-second counts, one point a bucket.
    let rate = |name: &str, color: usize, count: &dyn Fn(&Bucket) -> u64| Line {
        name: name.to_owned(),
        color,
        points: t
            .buckets
            .iter()
            .map(|(k, b)| (x(*k), per_s(count(b))))
            .collect(),
        bars: Vec::new(),
    };
    let requests: Vec<Line> = outcomes
        .iter()
        .enumerate()
        .map(|(i, o)| rate(o.as_str(), i, &|b| b.requests.get(o).copied().unwrap_or(0)))
        .collect();
    let pooled: Vec<(u64, LogHistogram)> = t
        .buckets
        .iter()
        .map(|(k, b)| {
            let mut h = LogHistogram::default();
            for step in b.latency.values() {
                h.merge(step);
            }
            (*k, h)
        })
        .collect();
    let latency: Vec<Line> = [("p50", 0.5), ("p95", 0.95), ("p99", 0.99)]
        .iter()
        .enumerate()
        .map(|(i, (name, q))| Line {
            name: (*name).to_owned(),
            color: i,
            points: pooled
                .iter()
                .filter_map(|(k, h)| h.quantile_ms(*q).map(|v| (x(*k), v)))
                .collect(),
            bars: Vec::new(),
        })
        .collect();
    let journeys: Vec<Line> = vec![
        rate("started", 0, &|b| b.started),
        rate("completed", 2, &|b| b.completed),
        rate("failed", 3, &|b| b.failed),
    ];
    let walking = Line {
        name: "in progress".to_owned(),
        color: 0,
        points: t
            .in_progress()
            .into_iter()
            .map(|(k, n)| (x(k), n as f64))
            .collect(),
        bars: Vec::new(),
    };
    let tiers: Vec<Line> = Tier::ALL
        .iter()
        .enumerate()
        .map(|(i, tier)| {
            rate(tier.as_str(), i, &|b| {
                b.tiers.get(tier.as_str()).copied().unwrap_or(0)
            })
        })
        .collect();
    let by_step = top_series(
        t.buckets.values().flat_map(|b| {
            b.latency
                .iter()
                .filter_map(|(step, h)| h.quantile_ms(0.95).map(|v| (step.as_str(), v)))
        }),
        |name| {
            t.buckets
                .iter()
                .filter_map(|(k, b)| {
                    b.latency
                        .get(name)
                        .and_then(|h| h.quantile_ms(0.95))
                        .map(|v| (x(*k), v))
                })
                .collect()
        },
    );
    let queues = top_series(
        t.buckets
            .values()
            .flat_map(|b| b.gauges.iter().map(|(n, v)| (n.as_str(), *v))),
        |name| {
            t.buckets
                .iter()
                .filter_map(|(k, b)| b.gauges.get(name).map(|v| (x(*k), *v)))
                .collect()
        },
    );
    let mut charts = vec![
        ("Requests a second by outcome", "requests/s", requests),
        ("Request latency, every step", "ms", latency),
        ("Request latency p95 by step (the slowest 8)", "ms", by_step),
        ("Journeys a second", "journeys/s", journeys),
        (
            "Journeys in progress (users busy)",
            "journeys",
            vec![walking],
        ),
        ("Tiers reached a second", "tiers/s", tiers),
    ];
    if queues.is_empty() {
        out.push_str(
            "<p>No queue gauges were read from the target's <code>/metrics</code> (see the \
             notes; <code>--metrics-url</code> names another endpoint).</p>\n",
        );
    } else {
        charts.push((
            "Target queues (peak in each bucket, from /metrics)",
            "items",
            queues,
        ));
    }
    for (title, y_desc, lines) in charts {
        let chart = Chart {
            title,
            x_desc: "seconds since the first bucket",
            y_desc,
            x: 0.0..span,
            y_min_top: 1.0,
            y_percent: false,
            x_label: None,
            x_ticks: 10,
            legend: Legend::UpperRight,
            lines,
        };
        match chart.to_svg() {
            Ok(svg) => {
                out.push_str(&svg);
                out.push('\n');
            }
            Err(e) => {
                let _ = writeln!(out, "<p>{}</p>", esc(&e.to_string()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::config::Thresholds;

    /// The fuzz target `funnels` found it: a run's users summed past a usize on the page
    /// `merge` writes (a panic with overflow checks). The sum saturates.
    #[test]
    fn regression_users_past_usize_are_shown_saturated() {
        let mut funnel = LoadFunnel::new(&[], Thresholds::default());
        let users = BTreeMap::from([
            (crate::load::LoadPath::Mfc, usize::MAX),
            (crate::load::LoadPath::Post, 1),
        ]);
        funnel.runs.push(super::super::funnel::RunInfo {
            users,
            ..Default::default()
        });
        assert!(page(&funnel).contains(&usize::MAX.to_string()));
    }

    /// A timeline's buckets merge exactly only at widths that are powers of two: a funnel.json
    /// with another width is refused with its reason, one with a power of two reads back.
    #[test]
    fn a_timeline_width_not_a_power_of_two_is_refused() {
        let dir = std::env::temp_dir().join(format!("esia-report-width-{}", std::process::id()));
        let mut funnel = LoadFunnel::new(&[], Thresholds::default());
        for (bucket_s, readable) in [(0, false), (3, false), (u64::MAX, false), (1 << 63, true)] {
            funnel.timeline.bucket_s = bucket_s;
            write(&dir, &funnel).unwrap();
            match read(&dir.join(FUNNEL_JSON)) {
                Ok(back) => assert!(readable && back == funnel, "{bucket_s}"),
                Err(ReportError::Parse { message, .. }) => {
                    assert!(!readable, "{bucket_s}: {message}");
                    assert!(message.contains("not a power of two"), "{message}");
                }
                Err(e) => panic!("{e}"),
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
