//! `esia-sim compare A B` as a researcher and a performance engineer run it, through the binary:
//! - two `simulate` runs that differ only in their seed: nothing flagged, exit 0 even with
//!   `--fail-on-difference`;
//! - the baseline against `scenarios/no_banks.toml`: the bank path flagged, exit 1 with
//!   `--fail-on-difference` (0 without);
//! - a `load` run's funnel against a `simulate` run's: read, its journeys counted under the
//!   simulator's paths, tiers and scripted exits;
//! - a file that is not JSON, or not a funnel, is refused with an error naming it.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

mod support;
use support::cli::{bin, forget, scenario, scratch, show};
use support::run;

const LIMIT: Duration = Duration::from_secs(180);

/// `esia-sim simulate [SCENARIO] --citizens 20000 --seed S --out DIR`: its funnel.json.
fn simulate(scenario: Option<&str>, seed: u64, dir: &Path) -> PathBuf {
    let mut cmd = bin();
    cmd.arg("simulate");
    if let Some(s) = scenario {
        cmd.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join(s));
    }
    cmd.args(["--citizens", "20000", "--seed", &seed.to_string(), "--out"])
        .arg(dir);
    let out = run(cmd, LIMIT);
    assert!(out.status.success(), "{}", show(&out));
    dir.join("funnel.json")
}

/// `esia-sim compare A B --out DIR [extra]`.
fn compare(a: &Path, b: &Path, dir: &Path, extra: &[&str]) -> Output {
    let mut cmd = bin();
    cmd.arg("compare")
        .arg(a)
        .arg(b)
        .arg("--out")
        .arg(dir)
        .args(extra);
    run(cmd, LIMIT)
}

/// compare.csv's rows by figure.
fn rows(dir: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(dir.join("compare.csv")).expect("compare.csv");
    reader
        .deserialize::<BTreeMap<String, String>>()
        .map(|r| {
            let r = r.expect("a CSV row");
            (r["figure"].clone(), r)
        })
        .collect()
}

fn flagged(rows: &BTreeMap<String, BTreeMap<String, String>>) -> Vec<&str> {
    rows.iter()
        .filter(|(_, r)| r["flagged"] == "true")
        .map(|(f, _)| f.as_str())
        .collect()
}

#[test]
fn two_simulations_differing_only_in_seed_flag_nothing() {
    let dir = scratch("seeds");
    let a = simulate(None, 1, &dir.join("a"));
    let b = simulate(None, 2, &dir.join("b"));
    let out = compare(&a, &b, &dir.join("c"), &["--fail-on-difference"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let rows = rows(&dir.join("c"));
    assert_eq!(flagged(&rows), Vec::<&str>::new());
    // Every kind of figure is there, with both shares and an interval around the difference.
    for figure in [
        "path.simplified",
        "path.bank",
        "tier.simplified",
        "tier.standard",
        "tier.confirmed",
        "exit.pfr_mismatch",
    ] {
        let r = rows
            .get(figure)
            .unwrap_or_else(|| panic!("{figure}: {rows:?}"));
        let num = |k: &str| r[k].parse::<f64>().unwrap();
        assert!(
            (num("b") - num("a") - num("difference")).abs() < 1e-5,
            "{r:?}"
        );
        assert!(num("ci_low") <= num("difference") && num("difference") <= num("ci_high"));
        assert_eq!(r["a_citizens"], "20000");
    }
    // Every p-value is a probability, and Holm's never below the raw one.
    for r in rows.values() {
        let (p, holm) = (
            r["p_value"].parse::<f64>().unwrap(),
            r["p_holm"].parse::<f64>().unwrap(),
        );
        assert!((0.0..=1.0).contains(&p) && holm >= p, "{r:?}");
    }
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("0 flagged"), "{summary}");
    let html = std::fs::read_to_string(dir.join("c/compare.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("path.bank"));
    // Self-contained: nothing fetched, nothing run.
    for fetch in ["<script", "src=", "href=", "<link"] {
        assert!(!html.contains(fetch), "{fetch}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn no_banks_against_the_baseline_flags_the_bank_path() {
    let dir = scratch("no-banks");
    let a = simulate(None, 1, &dir.join("a"));
    let b = simulate(Some("scenarios/no_banks.toml"), 2, &dir.join("b"));
    let out = compare(&a, &b, &dir.join("c"), &["--fail-on-difference"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let rows = rows(&dir.join("c"));
    let bank = &rows["path.bank"];
    assert_eq!(bank["flagged"], "true", "{bank:?}");
    assert_eq!(bank["b_count"], "0");
    assert!(bank["ci_high"].parse::<f64>().unwrap() < 0.0, "{bank:?}");
    // The bank's share went to the post.
    assert_eq!(rows["path.post"]["flagged"], "true");
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("path.bank"), "{summary}");
    // Without --fail-on-difference the same comparison exits 0.
    let out = compare(&a, &b, &dir.join("c2"), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_load_funnel_is_read_against_a_simulated_one() {
    let dir = scratch("load");
    std::fs::create_dir_all(&dir).unwrap();
    let scenario = scenario(
        "compare-load",
        &[
            ("simplified_phone", 1.0),
            ("standard", 1.0),
            ("bank_sber", 1.0),
            ("pfr_mismatch", 1.0),
        ],
    );
    let mut cmd = bin();
    cmd.arg("load")
        .arg(&scenario)
        .arg("--out")
        .arg(dir.join("load"))
        .args(["--set", "load.users=4", "--", "--iterations", "2"]);
    let out = run(cmd, LIMIT);
    assert!(out.status.success(), "{}", show(&out));
    let load = dir.join("load/funnel.json");
    let f: Value = serde_json::from_str(&std::fs::read_to_string(&load).unwrap()).unwrap();
    let started = |p: &str| f["funnel"]["paths"][p]["started"].as_u64().unwrap_or(0);
    let total: u64 = ["simplified_phone", "standard", "bank_sber", "pfr_mismatch"]
        .iter()
        .map(|p| started(p))
        .sum();
    assert_eq!(total, 8, "{}", f["funnel"]["paths"]);

    let sim = simulate(None, 1, &dir.join("sim"));
    let out = compare(&sim, &load, &dir.join("c"), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(
        summary.contains("(load, scenario compare-load, 8 citizens)"),
        "{summary}"
    );
    let rows = rows(&dir.join("c"));
    let b = |figure: &str| rows[figure]["b_count"].parse::<u64>().unwrap();
    assert_eq!(rows["path.simplified"]["b_citizens"], "8");
    assert_eq!(b("path.simplified"), started("simplified_phone"));
    // A PFR mismatch is a standard journey that exits for that reason.
    assert_eq!(
        b("path.standard"),
        started("standard") + started("pfr_mismatch")
    );
    assert_eq!(b("path.bank"), started("bank_sber"));
    assert_eq!(b("exit.pfr_mismatch"), started("pfr_mismatch"));
    // Every journey walked to its end: all simplified; the standard and bank ones standard;
    // the bank's confirmed.
    assert_eq!(b("tier.simplified"), 8);
    assert_eq!(
        b("tier.standard"),
        started("standard") + started("bank_sber")
    );
    assert_eq!(b("tier.confirmed"), started("bank_sber"));

    // The same run against itself: nothing differs.
    let out = compare(&load, &load, &dir.join("same"), &["--fail-on-difference"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    forget(&[&dir, &scenario]);
}

#[test]
fn a_file_that_is_not_a_funnel_is_refused_by_name() {
    let dir = scratch("foreign");
    std::fs::create_dir_all(&dir).unwrap();
    let broken = dir.join("broken.json");
    std::fs::write(&broken, "{\"format\": ").unwrap();
    let foreign = dir.join("goose-report.json");
    std::fs::write(&foreign, "{\"format\": \"something else\"}").unwrap();
    let missing = dir.join("missing.json");
    for (a, b, says) in [
        (&broken, &foreign, "not JSON"),
        (&foreign, &broken, "not a funnel.json"),
        (&missing, &foreign, "cannot read"),
    ] {
        let out = compare(a, b, &dir.join("c"), &[]);
        assert_eq!(out.status.code(), Some(1), "{}", show(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&a.display().to_string()) && err.contains(says),
            "{err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
    // A simulate funnel.json with a figure of the wrong type: malformed, named.
    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        r#"{"format": "esia-sim funnel report 1", "info": {"scenario_name": 3}}"#,
    )
    .unwrap();
    let out = compare(&bad, &bad, &dir.join("c"), &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        err.contains("bad.json") && err.contains("a simulate funnel.json, but malformed"),
        "{err}"
    );
    assert!(!dir.join("c").join("compare.csv").exists());
    let _ = std::fs::remove_dir_all(&dir);
}
