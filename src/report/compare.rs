//! `esia-sim compare A B`: two funnel files side by side — each a `funnel.json` of `simulate`
//! (format [`FORMAT`](super::figures::FORMAT)) or of `load`/`merge` (format
//! [`crate::load::funnel::FORMAT`]), in any pairing — as shares of citizens with the difference,
//! its 95% interval and a two-proportion z-test, flagged with Holm–Bonferroni over all the
//! comparisons at a family-wise 5%.
//!
//! Data flows one way: [`read`] turns a file into [`Counts`] (each figure a count out of the
//! file's citizens; replicates pooled), [`compare`] pairs two of them into a [`Comparison`],
//! [`write`] leaves `compare.csv` and `compare.html`, [`summary`] is the terminal's few lines.
//!
//! The figures, each a share of every citizen (journey) of the file:
//! - `path.<path>`: took that path (a load journey counts under the simulator's path it scripts:
//!   `wrong_code` under `simplified`, `pfr_mismatch` and `documents_bound` under `standard`,
//!   `lost_letter` under `post`, the three banks under `bank`);
//! - `tier.<tier>`: held at least that tier at the end;
//! - `exit.<reason>`: left for that reason. A load run's scripted refusals count as the exit
//!   they script (`pfr_mismatch`, `documents_bound`), the model mix's citizens who left as
//!   the simulator's left under their reasons; its failed journeys as
//!   `exit.failed <step reason>` (a simulation has none, so any is a difference).

use crate::load::funnel::{tally, LoadFunnel, FORMAT as LOAD_FORMAT};
use crate::load::path::LoadPath;
use crate::registry::Tier;
use crate::report::html::esc as escape;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The family-wise error rate of the flags.
pub const ALPHA: f64 = 0.05;
/// z at 0.975: the half-width of the 95% intervals in standard errors.
const Z_975: f64 = 1.959_963_984_540_054;
/// The files [`write`] leaves.
pub const COMPARE_CSV: &str = "compare.csv";
pub const COMPARE_HTML: &str = "compare.html";

/// What can go wrong; each variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not JSON: {source}", path.display())]
    NotJson {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "{}: not a funnel.json of `esia-sim simulate` or `esia-sim load` (format {found:?}; \
         expected {:?} or {:?})",
        path.display(),
        super::figures::FORMAT,
        LOAD_FORMAT
    )]
    Foreign { path: PathBuf, found: String },
    #[error("{}: a {kind} funnel.json, but malformed: {source}", path.display())]
    Malformed {
        path: PathBuf,
        kind: Source,
        #[source]
        source: serde_json::Error,
    },
    #[error("{}: no citizens to compare", path.display())]
    Empty { path: PathBuf },
    #[error("cannot write {}: {source}", path.display())]
    Write {
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
}

/// Which command wrote a funnel file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Simulate,
    Load,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Source::Simulate => "simulate",
            Source::Load => "load",
        })
    }
}

/// One file's figures as counts out of its citizens.
#[derive(Clone, Debug, PartialEq)]
pub struct Counts {
    pub file: PathBuf,
    pub source: Source,
    /// The scenario's name (several, comma-separated, for a merge of different runs).
    pub scenario: String,
    /// Citizens (simulate, every replicate pooled) or journeys started (load).
    pub citizens: u64,
    /// Figure name -> count, in the order the report shows them.
    pub figures: Vec<(String, u64)>,
}

impl Counts {
    fn count(&self, figure: &str) -> Option<u64> {
        self.figures
            .iter()
            .find(|(f, _)| f == figure)
            .map(|(_, n)| *n)
    }
}

/// The part of a simulate `funnel.json` compared here.
#[derive(Deserialize)]
struct SimFile {
    info: SimInfo,
    overall: SimPath,
    paths: Vec<SimPath>,
    exits_by_reason: Vec<SimReason>,
}

#[derive(Deserialize)]
struct SimInfo {
    scenario_name: String,
}

#[derive(Deserialize)]
struct SimPath {
    path: String,
    citizens: u64,
    #[serde(default)]
    steps: Vec<SimStep>,
}

#[derive(Deserialize)]
struct SimStep {
    step: String,
    reached: u64,
}

#[derive(Deserialize)]
struct SimReason {
    reason: String,
    count: u64,
}

/// Reads a funnel file of either kind.
pub fn read(path: &Path) -> Result<Counts, CompareError> {
    let text = std::fs::read_to_string(path).map_err(|source| CompareError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let doc: serde_json::Value =
        serde_json::from_str(&text).map_err(|source| CompareError::NotJson {
            path: path.to_path_buf(),
            source,
        })?;
    let malformed = |kind| {
        move |source| CompareError::Malformed {
            path: path.to_path_buf(),
            kind,
            source,
        }
    };
    let counts = if doc["format"].as_str() == Some(super::figures::FORMAT) {
        let file: SimFile = serde_json::from_value(doc).map_err(malformed(Source::Simulate))?;
        of_simulate(path, file)
    } else if doc["funnel"]["format"].as_str() == Some(LOAD_FORMAT) {
        let funnel: LoadFunnel =
            serde_json::from_value(doc["funnel"].clone()).map_err(malformed(Source::Load))?;
        of_load(path, &funnel)
    } else {
        let found = doc["format"]
            .as_str()
            .or(doc["funnel"]["format"].as_str())
            .unwrap_or("none")
            .to_owned();
        return Err(CompareError::Foreign {
            path: path.to_path_buf(),
            found,
        });
    };
    if counts.citizens == 0 {
        return Err(CompareError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(counts)
}

fn of_simulate(path: &Path, f: SimFile) -> Counts {
    let mut figures: Vec<(String, u64)> = f
        .paths
        .iter()
        .map(|p| (format!("path.{}", p.path), p.citizens))
        .collect();
    // The simulator's funnel names the step of reaching a tier after the tier.
    for tier in Tier::ALL.map(Tier::as_str) {
        let reached = f
            .overall
            .steps
            .iter()
            .find(|s| s.step == tier)
            .map_or(0, |s| s.reached);
        figures.push((format!("tier.{tier}"), reached));
    }
    figures.extend(
        f.exits_by_reason
            .iter()
            .map(|r| (format!("exit.{}", r.reason), r.count)),
    );
    Counts {
        file: path.to_path_buf(),
        source: Source::Simulate,
        scenario: f.info.scenario_name,
        citizens: f.overall.citizens,
        figures,
    }
}

/// The simulator's path a load path scripts.
pub fn simulated_path(p: LoadPath) -> &'static str {
    use LoadPath::*;
    match p {
        SimplifiedPhone | SimplifiedEmail | WrongCode | ExpiredCode | WeakPassword => "simplified",
        Standard | DocumentsBound | PfrMismatch => "standard",
        ServiceCenter => "service_center",
        Post | LostLetter => "post",
        ESignature => "e_signature",
        BankSber | BankTinkoff | BankPochta => "bank",
        Mfc => "mfc",
    }
}

/// The exit a completed load path scripts, if it scripts one.
fn scripted_exit(p: LoadPath) -> Option<&'static str> {
    match p {
        LoadPath::PfrMismatch => Some("pfr_mismatch"),
        LoadPath::DocumentsBound => Some("documents_bound"),
        _ => None,
    }
}

/// The order of the simulator's paths (funnel::Path::ALL).
fn path_rank(name: &str) -> usize {
    crate::funnel::Path::ALL
        .iter()
        .position(|p| p.as_str() == name)
        .unwrap_or(usize::MAX)
}

fn of_load(path: &Path, f: &LoadFunnel) -> Counts {
    let mut paths: BTreeMap<(usize, &str), u64> = BTreeMap::new();
    let mut tiers = [0u64; 3];
    let mut exits: BTreeMap<String, u64> = BTreeMap::new();
    let mut citizens = 0;
    for (&p, t) in &f.paths {
        if t.started == 0 {
            continue;
        }
        tally(&mut citizens, t.started);
        let name = simulated_path(p);
        tally(paths.entry((path_rank(name), name)).or_default(), t.started);
        for (tier, n) in &t.tier_reached {
            // How many tiers it held: 0 for none, 3 for confirmed.
            let held = tier.map_or(0, |t| t.index() + 1);
            for slot in tiers.iter_mut().take(held) {
                tally(slot, *n);
            }
        }
        // The model mix's citizens who left where the simulator's left.
        for (reason, n) in &t.exits {
            tally(exits.entry(reason.clone()).or_default(), *n);
        }
        if let Some(reason) = scripted_exit(p) {
            if t.completed > 0 {
                tally(exits.entry(reason.to_owned()).or_default(), t.completed);
            }
        }
        for s in &t.steps {
            for (reason, n) in &s.reasons {
                tally(exits.entry(format!("failed {reason}")).or_default(), *n);
            }
        }
    }
    let mut figures: Vec<(String, u64)> = paths
        .into_iter()
        .map(|((_, name), n)| (format!("path.{name}"), n))
        .collect();
    for (tier, n) in Tier::ALL.map(Tier::as_str).iter().zip(tiers) {
        figures.push((format!("tier.{tier}"), n));
    }
    figures.extend(exits.into_iter().map(|(r, n)| (format!("exit.{r}"), n)));
    let mut scenarios: Vec<&str> = f.runs.iter().map(|r| r.scenario.as_str()).collect();
    scenarios.dedup();
    Counts {
        file: path.to_path_buf(),
        source: Source::Load,
        scenario: scenarios.join(","),
        citizens,
        figures,
    }
}

/// One figure of both files.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub figure: String,
    pub a_count: u64,
    pub b_count: u64,
    /// Shares of each file's citizens.
    pub a: f64,
    pub b: f64,
    /// b − a, with its 95% interval (normal, unpooled standard error).
    pub difference: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Two-sided p-value of the two-proportion z-test (pooled standard error).
    pub p_value: f64,
    /// Holm-adjusted p-value over every row.
    pub p_holm: f64,
    /// p_holm ≤ [`ALPHA`]: beyond sampling error at a family-wise 5%.
    pub flagged: bool,
}

/// Two files compared.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    pub a: Counts,
    pub b: Counts,
    /// Paths, then tiers, then exits; a figure that is zero in both files is left out.
    pub rows: Vec<Row>,
}

impl Comparison {
    pub fn flagged(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| r.flagged)
    }
}

/// The complementary error function (Numerical Recipes' `erfcc`, relative error < 1.2e-7).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// The two-proportion test of `xa/na` against `xb/nb`: (difference b − a, 95% interval,
/// two-sided p-value).
pub fn two_proportions(xa: u64, na: u64, xb: u64, nb: u64) -> (f64, f64, f64, f64) {
    let (na_f, nb_f) = (na as f64, nb as f64);
    let (pa, pb) = (xa as f64 / na_f, xb as f64 / nb_f);
    let d = pb - pa;
    let se = (pa * (1.0 - pa) / na_f + pb * (1.0 - pb) / nb_f).sqrt();
    // In floats: counts read from a file may sum past u64.
    let pooled = (xa as f64 + xb as f64) / (na_f + nb_f);
    let se0 = (pooled * (1.0 - pooled) * (1.0 / na_f + 1.0 / nb_f)).sqrt();
    let p = if se0 > 0.0 {
        erfc((d / se0).abs() / std::f64::consts::SQRT_2).min(1.0)
    } else {
        1.0
    };
    (d, d - Z_975 * se, d + Z_975 * se, p)
}

/// Holm's step-down adjustment: the adjusted p-value of each input, in input order.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&i, &j| p[i].total_cmp(&p[j]).then(i.cmp(&j)));
    let mut adjusted = vec![0.0; m];
    let mut running: f64 = 0.0;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(((m - rank) as f64 * p[i]).min(1.0));
        adjusted[i] = running;
    }
    adjusted
}

/// The figures of `a` and `b` side by side, tested and flagged.
pub fn compare(a: Counts, b: Counts) -> Comparison {
    // Paths, tiers, exits; within each kind a's order, then b's figures a lacks.
    let mut names: Vec<&str> = Vec::new();
    for kind in ["path.", "tier.", "exit."] {
        for (f, _) in a.figures.iter().chain(&b.figures) {
            if f.starts_with(kind) && !names.contains(&f.as_str()) {
                names.push(f);
            }
        }
    }
    let mut rows: Vec<Row> = names
        .into_iter()
        .filter_map(|figure| {
            let xa = a.count(figure).unwrap_or(0);
            let xb = b.count(figure).unwrap_or(0);
            if xa == 0 && xb == 0 {
                return None;
            }
            let (difference, ci_low, ci_high, p_value) =
                two_proportions(xa, a.citizens, xb, b.citizens);
            Some(Row {
                figure: figure.to_owned(),
                a_count: xa,
                b_count: xb,
                a: xa as f64 / a.citizens as f64,
                b: xb as f64 / b.citizens as f64,
                difference,
                ci_low,
                ci_high,
                p_value,
                p_holm: 1.0,
                flagged: false,
            })
        })
        .collect();
    let p: Vec<f64> = rows.iter().map(|r| r.p_value).collect();
    for (row, adjusted) in rows.iter_mut().zip(holm(&p)) {
        row.p_holm = adjusted;
        row.flagged = adjusted <= ALPHA;
    }
    Comparison { a, b, rows }
}

/// Reads both files and compares them.
pub fn compare_files(a: &Path, b: &Path) -> Result<Comparison, CompareError> {
    Ok(compare(read(a)?, read(b)?))
}

fn r6(x: f64) -> f64 {
    super::figures::round(x, 6)
}

/// A row of `compare.csv`.
#[derive(serde::Serialize)]
struct CsvRow<'a> {
    figure: &'a str,
    a: f64,
    b: f64,
    difference: f64,
    ci_low: f64,
    ci_high: f64,
    p_value: f64,
    flagged: bool,
    p_holm: f64,
    a_count: u64,
    a_citizens: u64,
    b_count: u64,
    b_citizens: u64,
}

/// `compare.csv` as text: one row a figure (shares rounded to 6 decimals, p-values unrounded).
pub fn csv_text(c: &Comparison) -> Result<String, ::csv::Error> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    for r in &c.rows {
        w.serialize(CsvRow {
            figure: &r.figure,
            a: r6(r.a),
            b: r6(r.b),
            difference: r6(r.difference),
            ci_low: r6(r.ci_low),
            ci_high: r6(r.ci_high),
            p_value: r.p_value,
            flagged: r.flagged,
            p_holm: r.p_holm,
            a_count: r.a_count,
            a_citizens: c.a.citizens,
            b_count: r.b_count,
            b_citizens: c.b.citizens,
        })?;
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8(bytes).expect("the csv writer writes the UTF-8 it is given"))
}

fn pct(x: f64) -> String {
    format!("{:.2}%", x * 100.0)
}

fn pp(x: f64) -> String {
    format!("{:+.2}", x * 100.0)
}

fn p_text(p: f64) -> String {
    if p < 1e-16 {
        "<1e-16".into()
    } else if p < 1e-4 {
        format!("{p:.1e}")
    } else {
        format!("{p:.4}")
    }
}

/// A forest plot: each figure's difference (percentage points) and its interval, a line at 0.
fn forest_svg(c: &Comparison) -> String {
    const LABEL_W: f64 = 260.0;
    const PLOT_W: f64 = 480.0;
    const ROW_H: f64 = 18.0;
    const TOP: f64 = 24.0;
    let reach = c
        .rows
        .iter()
        .map(|r| r.ci_low.abs().max(r.ci_high.abs()))
        .fold(0.0_f64, f64::max)
        .max(1e-4)
        * 1.1;
    let x = |d: f64| LABEL_W + PLOT_W / 2.0 + d / reach * PLOT_W / 2.0;
    let height = TOP + ROW_H * c.rows.len() as f64 + 10.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{height}" font-family="sans-serif" font-size="12">"#,
        w = LABEL_W + PLOT_W + 20.0
    );
    let _ = write!(
        s,
        r##"<line x1="{z}" y1="{TOP}" x2="{z}" y2="{bottom}" stroke="#888"/><text x="{z}" y="14" text-anchor="middle">0</text><text x="{l}" y="14">{lo} pp</text><text x="{r}" y="14" text-anchor="end">+{hi} pp</text>"##,
        z = x(0.0),
        bottom = height - 6.0,
        l = x(-reach),
        r = x(reach),
        lo = format_args!("{:.2}", -reach * 100.0),
        hi = format_args!("{:.2}", reach * 100.0),
    );
    for (i, r) in c.rows.iter().enumerate() {
        let y = TOP + ROW_H * i as f64 + ROW_H / 2.0;
        let color = if r.flagged { "#d62728" } else { "#1f77b4" };
        let _ = write!(
            s,
            r#"<text x="{tx}" y="{ty}" text-anchor="end">{label}</text><line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="{color}" stroke-width="2"/><circle cx="{cx}" cy="{y}" r="3.5" fill="{color}"/>"#,
            tx = LABEL_W - 8.0,
            ty = y + 4.0,
            label = escape(&r.figure),
            x1 = x(r.ci_low),
            x2 = x(r.ci_high),
            cx = x(r.difference),
        );
    }
    s.push_str("</svg>");
    s
}

/// `compare.html`: self-contained (no script, no external URL).
pub fn page(c: &Comparison) -> String {
    let mut h = String::new();
    let flagged = c.flagged().count();
    let _ = write!(
        h,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>esia-sim compare</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:70em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.2em .5em;text-align:right}}td:first-child,th:first-child{{text-align:left}}
tr.flagged td{{background:#fde0e0}}</style></head><body>
<h1>Comparison of two funnels</h1>
<table><tr><th></th><th>file</th><th>written by</th><th>scenario</th><th>citizens</th></tr>"#
    );
    for (label, side) in [("A", &c.a), ("B", &c.b)] {
        let _ = write!(
            h,
            "<tr><td>{label}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&side.file.display().to_string()),
            side.source,
            escape(&side.scenario),
            side.citizens
        );
    }
    let _ = write!(
        h,
        "</table>
<p>{} figures compared, <strong>{flagged} flagged</strong>. Each figure is a share of the file's
citizens (load: journeys started). The difference is B − A, in percentage points, with its 95%
interval (normal approximation, unpooled standard error); the p-value is the two-proportion
z-test's (pooled). A figure is flagged when its Holm-adjusted p-value is at most {ALPHA}: beyond
sampling error with the family-wise error rate over all {} comparisons held at 5%. An interval
that excludes 0 is not flagged when the multiplicity of comparisons explains it.</p>
<h2>Differences</h2>
{}
<h2>Figures</h2>
<table><tr><th>figure</th><th>A</th><th>B</th><th>B − A (pp)</th><th>95% interval (pp)</th>
<th>p-value</th><th>Holm p</th><th>flagged</th><th>A count</th><th>B count</th></tr>",
        c.rows.len(),
        c.rows.len(),
        forest_svg(c)
    );
    for r in &c.rows {
        let _ = writeln!(
            h,
            "<tr{}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} to {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            if r.flagged { r#" class="flagged""# } else { "" },
            escape(&r.figure),
            pct(r.a),
            pct(r.b),
            pp(r.difference),
            pp(r.ci_low),
            pp(r.ci_high),
            p_text(r.p_value),
            p_text(r.p_holm),
            if r.flagged { "yes" } else { "" },
            r.a_count,
            r.b_count
        );
    }
    h.push_str("</table></body></html>\n");
    h
}

/// Writes `compare.csv` and `compare.html` into `dir` (created if missing).
pub fn write(dir: &Path, c: &Comparison) -> Result<Vec<PathBuf>, CompareError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| CompareError::Write { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let csv_path = dir.join(COMPARE_CSV);
    let text = csv_text(c).map_err(|source| CompareError::Csv {
        path: csv_path.clone(),
        source,
    })?;
    std::fs::write(&csv_path, text).map_err(io(&csv_path))?;
    let html_path = dir.join(COMPARE_HTML);
    std::fs::write(&html_path, page(c)).map_err(io(&html_path))?;
    Ok(vec![csv_path, html_path])
}

/// A few lines for the terminal: the two files, how many figures were flagged, and which.
pub fn summary(c: &Comparison) -> String {
    let mut s = String::new();
    for (label, side) in [("A", &c.a), ("B", &c.b)] {
        let _ = writeln!(
            s,
            "{label}: {} ({}, scenario {}, {} citizens)",
            side.file.display(),
            side.source,
            side.scenario,
            side.citizens
        );
    }
    let flagged: Vec<&Row> = c.flagged().collect();
    let _ = writeln!(
        s,
        "{} figures compared, {} flagged (Holm-Bonferroni, family-wise {}%)",
        c.rows.len(),
        flagged.len(),
        ALPHA * 100.0
    );
    for r in flagged {
        let _ = writeln!(
            s,
            "  {:<32} A {:>8}  B {:>8}  B-A {} pp [{}, {}]  p {}",
            r.figure,
            pct(r.a),
            pct(r.b),
            pp(r.difference),
            pp(r.ci_low),
            pp(r.ci_high),
            p_text(r.p_value)
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erfc_matches_known_values() {
        // 2(1 − Φ(1.96)) = 0.0499958; 2(1 − Φ(3)) = 0.0026998.
        let two_sided = |z: f64| erfc(z / std::f64::consts::SQRT_2);
        assert!((two_sided(1.96) - 0.049_995_8).abs() < 1e-6);
        assert!((two_sided(3.0) - 0.002_699_8).abs() < 1e-6);
        assert!((erfc(0.0) - 1.0).abs() < 1e-7);
    }

    #[test]
    fn holm_steps_down_and_stays_monotone() {
        // m = 4: 0.01·4, 0.02·3, 0.03·2, 0.04·1 -> 0.04, 0.06, 0.06, 0.06 (monotone).
        let adjusted = holm(&[0.03, 0.01, 0.04, 0.02]);
        let expect = [0.06, 0.04, 0.06, 0.06];
        for (a, e) in adjusted.iter().zip(expect) {
            assert!((a - e).abs() < 1e-12, "{adjusted:?}");
        }
        // Capped at 1, and never below an earlier (smaller) p-value's adjustment.
        assert_eq!(holm(&[0.9, 0.8]), vec![1.0, 1.0]);
        assert_eq!(holm(&[0.5, 0.01]), vec![0.5, 0.02]);
    }

    #[test]
    fn equal_shares_are_not_different_and_distant_ones_are() {
        let (d, lo, hi, p) = two_proportions(500, 1000, 500, 1000);
        assert_eq!(d, 0.0);
        assert!(lo < 0.0 && hi > 0.0);
        assert!((p - 1.0).abs() < 1e-6);
        let (d, lo, _, p) = two_proportions(100, 1000, 200, 1000);
        assert!((d - 0.1).abs() < 1e-12);
        assert!(lo > 0.0);
        assert!(p < 1e-6);
        // Zero in both: nothing to test.
        assert_eq!(two_proportions(0, 10, 0, 20).3, 1.0);
    }

    fn counts(citizens: u64, figures: &[(&str, u64)]) -> Counts {
        Counts {
            file: PathBuf::from("x.json"),
            source: Source::Simulate,
            scenario: "s".into(),
            citizens,
            figures: figures.iter().map(|(f, n)| (f.to_string(), *n)).collect(),
        }
    }

    #[test]
    fn one_raw_p_under_5_percent_among_twenty_figures_is_not_flagged_but_a_real_gap_is() {
        let mut a: Vec<(String, u64)> = (0..20).map(|i| (format!("exit.r{i:02}"), 1_000)).collect();
        let mut b = a.clone();
        b[0].1 = 1_090; // z ≈ 2.2, raw p ≈ 0.03: sampling error among 20 comparisons
        b[1].1 = 1_500; // a real difference
        a.push(("path.x".into(), 5_000));
        b.push(("path.x".into(), 5_000));
        let c = compare(
            Counts {
                figures: a,
                ..counts(10_000, &[])
            },
            Counts {
                figures: b,
                ..counts(10_000, &[])
            },
        );
        let r0 = c.rows.iter().find(|r| r.figure == "exit.r00").unwrap();
        assert!(r0.p_value < 0.05, "{r0:?}");
        assert!(!r0.flagged, "{r0:?}");
        let flagged: Vec<&str> = c.flagged().map(|r| r.figure.as_str()).collect();
        assert_eq!(flagged, ["exit.r01"]);
    }

    #[test]
    fn a_figure_one_file_lacks_counts_as_zero_and_zero_in_both_is_left_out() {
        let a = counts(1000, &[("path.bank", 300), ("exit.gone", 0)]);
        let b = counts(1000, &[("path.post", 10)]);
        let c = compare(a, b);
        let names: Vec<&str> = c.rows.iter().map(|r| r.figure.as_str()).collect();
        assert_eq!(names, ["path.bank", "path.post"]);
        assert!(c.rows[0].flagged, "{:?}", c.rows[0]);
        assert_eq!(c.rows[0].b_count, 0);
    }

    /// The fuzz target `funnels` found it: a simulate funnel.json whose figure was
    /// 18446744073709551615, compared with itself, overflowed the pooled share's sum.
    #[test]
    fn regression_counts_near_u64_max_compare_without_overflow() {
        let (d, _, _, p) = two_proportions(u64::MAX, 1, u64::MAX, 1);
        assert_eq!(d, 0.0);
        assert_eq!(p, 1.0);
        let a = counts(1, &[("tier.standard", u64::MAX)]);
        let c = compare(a.clone(), a);
        assert_eq!(c.rows.len(), 1);
        assert!(!c.rows[0].flagged);
    }
}
