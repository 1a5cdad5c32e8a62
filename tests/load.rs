//! `esia-sim load` and `esia-sim merge` as a performance engineer runs them, each run ended by
//! its own count of journeys (goose's `--iterations`, closed model), never by a clock, and no
//! latency threshold judged (timing belongs in benches/README.md):
//! - the shipped smoke scenario walks every path to its end against the in-process stand;
//! - a target that answers a step wrongly fails that step with its reason (and its timeline
//!   counts the answers as unexpected), fails the error-rate threshold and exits 1 (and so does
//!   `merge` of that run); a failed goose `--threshold` exits 1 too;
//! - two shards (`--shard 1/2`, `--shard 2/2`) merge into the counts of one run of both, their
//!   `timeline.csv` too;
//! - two shards at once against one `esia-sim serve --for-load`, merged: every path completed;
//! - `--host` with `--mocks-url` (an `esia-sim serve` and its own mocks) and with
//!   `--mocks-addr` (a stand whose agencies are the mocks `load` serves there).
//!
//! Everything stays on loopback; every process is bounded by a watchdog here.

mod support;

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use support::cli::{bin, forget, scenario, scratch, show, PATHS};
use support::run;

/// The longest a load run of these tests may take.
const LIMIT: Duration = Duration::from_secs(180);

/// [`run`] on a blocking thread, for the tests that hold a Tokio runtime.
async fn run_async(cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || run(cmd, LIMIT))
        .await
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn funnel(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("funnel.json")).expect("funnel.json");
    serde_json::from_str(&text).expect("funnel.json is JSON")
}

/// The same as `--set` overrides, for the shipped scenario.
fn faultless_overrides(cmd: &mut Command) {
    for agency in ["pfr", "fms", "banks.sber", "banks.tinkoff", "banks.pochta"] {
        cmd.args(["--set", &format!("agencies.{agency}.error_rate=0")])
            .args(["--set", &format!("agencies.{agency}.timeout_rate=0")]);
    }
    for agency in ["sms", "mail", "post", "centers"] {
        cmd.args(["--set", &format!("agencies.{agency}.error_rate=0")]);
    }
}

/// `esia-sim load SCENARIO --out DIR ARGS -- --iterations N`: each goose user walks its path
/// `iterations` times, then the run ends.
fn load(scenario: &Path, out: &Path, args: &[&str], iterations: u32) -> Command {
    let mut cmd = bin();
    cmd.arg("load")
        .arg(scenario)
        .args(["--out"])
        .arg(out)
        .args(args)
        .args(["--", "--iterations", &iterations.to_string()]);
    cmd
}

/// The counts of `timeline.csv` in `dir` summed over its buckets, by series (`requests` over
/// every outcome), and `latency_rows`: how many latency percentiles it has.
fn timeline_sums(dir: &Path) -> std::collections::BTreeMap<String, u64> {
    let text = std::fs::read_to_string(dir.join("timeline.csv")).expect("timeline.csv");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("t_s,unix_s,bucket_s,series,label,value"));
    let mut sums: std::collections::BTreeMap<String, u64> = [
        "journeys_started",
        "journeys_completed",
        "journeys_failed",
        "requests",
        "latency_rows",
    ]
    .into_iter()
    .map(|k| (k.to_owned(), 0))
    .collect();
    for line in lines {
        let cols: Vec<&str> = line.split(',').collect();
        let (series, value) = (cols[3], cols[cols.len() - 1]);
        if series.starts_with("latency_") {
            *sums.entry("latency_rows".to_owned()).or_default() += 1;
        } else if series == "target" {
            *sums.entry("target_rows".to_owned()).or_default() += 1;
        } else if series == "journeys_in_progress" {
            // A level, not a count: the last bucket's.
            sums.insert("in_progress_at_end".to_owned(), value.parse().unwrap());
        } else {
            *sums.entry(series.to_owned()).or_default() += value.parse::<u64>().unwrap();
        }
    }
    sums
}

/// Runs `commands` at once (shards side by side), each to its end within [`LIMIT`]; all must
/// succeed.
fn all_succeed(commands: Vec<Command>) {
    let handles: Vec<_> = commands
        .into_iter()
        .map(|cmd| std::thread::spawn(move || run(cmd, LIMIT)))
        .collect();
    for h in handles {
        let out = h.join().unwrap();
        assert!(out.status.success(), "{}", show(&out));
    }
}

/// `esia-sim merge` of the runs in `dirs` into a new scratch folder `name`, which it returns.
fn merge_into(name: &str, dirs: &[&PathBuf]) -> PathBuf {
    let merged = scratch(name);
    let mut cmd = bin();
    cmd.arg("merge");
    for dir in dirs {
        cmd.arg(dir.join("funnel.json"));
    }
    cmd.arg("--out").arg(&merged);
    let out = run(cmd, Duration::from_secs(30));
    assert!(out.status.success(), "{}", show(&out));
    merged
}

/// A path's tally in a funnel.
fn path<'a>(f: &'a Value, name: &str) -> &'a Value {
    &f["funnel"]["paths"][name]
}

/// The shipped smoke scenario, closed model, each user walking its path once: ten times the
/// smoke's compression (a post letter arrives within 3 s), no random faults, no latency
/// threshold (timing belongs in benches); `extra` after. Must succeed.
fn smoke_once(dir: &Path, extra: &[&str]) -> Output {
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/smoke.toml");
    let mut cmd = bin();
    cmd.arg("load")
        .arg(&scenario)
        .args(["--arrival-rate", "0", "--set", "load.speedup=864000"])
        .args(["--set", "load.thresholds.request_p95=1h"])
        .args(["--set", "load.thresholds.request_p95_by_step={}"])
        .args(extra)
        .arg("--out")
        .arg(dir);
    faultless_overrides(&mut cmd);
    cmd.args(["--", "--iterations", "1"]);
    let out = run(cmd, LIMIT);
    assert!(out.status.success(), "{}", show(&out));
    out
}

#[test]
fn the_smoke_scenario_walks_every_path_to_its_end() {
    let dir = scratch("smoke");
    let out = smoke_once(
        &dir,
        &["--set", "load.users=16", "--set", "load.population=20000"],
    );
    assert!(text(&out.stdout).contains("PER TRANSACTION METRICS"));

    let f = funnel(&dir);
    assert_eq!(f["passed"], true, "{}", f["thresholds"]);
    let info = &f["funnel"]["runs"][0];
    assert_eq!(info["model"], "closed");
    assert_eq!(info["target_kind"], "in-process stand");
    assert!(info["target"]
        .as_str()
        .unwrap()
        .starts_with("http://127.0.0.1:"));
    assert_eq!(info["hash_profile"], "load");
    let users = info["users"].as_object().unwrap();
    assert_eq!(users.len(), 16, "{users:?}");
    for name in PATHS {
        let p = path(&f, name);
        let n = users[name].as_u64().unwrap();
        assert!(n >= 1, "{name}");
        // One journey per user, each walked to its last step.
        assert_eq!(p["started"], n, "{name}: {p}");
        assert_eq!(p["completed"], n, "{name}: {p}");
        let steps = p["steps"].as_array().unwrap();
        assert!(
            steps[0]["name"].as_str().unwrap().starts_with("01 "),
            "{name}"
        );
        assert_eq!(
            steps[0]["requests"]["count"], n,
            "{name}: one request a journey"
        );
        for s in steps {
            assert_eq!(s["attempts"], n, "{name}: {s}");
            assert_eq!(s["failed"], 0, "{name}: {s}");
        }
    }
    // Each path ends at its tier.
    for (name, tier) in [
        ("simplified_phone", "simplified"),
        ("standard", "standard"),
        ("post", "confirmed"),
        ("bank_sber", "confirmed"),
        ("lost_letter", "confirmed"),
        ("pfr_mismatch", "simplified"),
    ] {
        let reached = path(&f, name)["tier_reached"].as_object().unwrap();
        assert_eq!(reached.keys().collect::<Vec<_>>(), [tier], "{name}");
    }

    // goose's own reports, at the explicit paths; ours; the target's /metrics.
    let html = std::fs::read_to_string(dir.join("goose-report.html")).unwrap();
    assert!(html.contains("<html"), "goose-report.html");
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("goose-report.json")).unwrap())
            .expect("goose-report.json is JSON");
    assert!(json.is_object());
    let page = std::fs::read_to_string(dir.join("funnel.html")).unwrap();
    assert!(page.contains("01 register") && page.contains("bank_sber"));
    let metrics = std::fs::read_to_string(dir.join("metrics.txt")).unwrap();
    assert!(metrics.contains("esia_http_requests_total"), "{metrics}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A system under test that answers `POST /api/v1/registrations` with 200 and a plausible body
/// where the contract says 201, and 404 to everything else: its URL and the registrations it
/// got. It lives as long as the test process.
fn wrong_target() -> (String, Arc<AtomicUsize>) {
    let got = Arc::new(AtomicUsize::new(0));
    let counter = got.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(format!("http://{}", listener.local_addr().unwrap()))
                .unwrap();
            let app = axum::Router::new().route(
                "/api/v1/registrations",
                axum::routing::post(move || {
                    let counter = counter.clone();
                    async move {
                        counter.fetch_add(1, Ordering::SeqCst);
                        axum::Json(json!({ "registration_id": "0000000000000001",
                            "channel": "sms", "expires_at": "2026-01-01T00:05:00Z" }))
                    }
                }),
            );
            axum::serve(listener, app).await.unwrap();
        });
    });
    (rx.recv().unwrap(), got)
}

#[test]
fn a_step_answered_wrongly_fails_with_its_reason_and_the_run_exits_1() {
    let (target, got) = wrong_target();
    let dir = scratch("wrong");
    let scenario = scenario("wrong", &[("simplified_phone", 1.0)]);
    let cmd = load(
        &scenario,
        &dir,
        &["--host", &target, "--set", "load.users=2"],
        1,
    );
    let out = run(cmd, LIMIT);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        text(&out.stdout).contains("a threshold failed"),
        "{}",
        show(&out)
    );
    // The mocks ran here, on a free port (--mocks-addr's default), and the report says so.
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("mocks listening on http://127.0.0.1:"),
        "{stderr}"
    );
    assert_eq!(got.load(Ordering::SeqCst), 2, "one registration a journey");

    let f = funnel(&dir);
    assert_eq!(f["passed"], false);
    let rate = &f["thresholds"][0];
    assert!(
        rate["rule"].as_str().unwrap().starts_with("error rate"),
        "{rate}"
    );
    assert_eq!(rate["pass"], false, "{rate}");
    let p = path(&f, "simplified_phone");
    assert_eq!(
        (&p["started"], &p["failed"], &p["completed"]),
        (&json!(2), &json!(2), &json!(0))
    );
    // The journey stopped at the step answered wrongly, which names what it got.
    let register = &p["steps"][0];
    assert_eq!(register["name"], "01 register");
    assert_eq!(register["failed"], 2, "{register}");
    assert_eq!(register["reasons"], json!({ "200": 2 }), "{register}");
    assert_eq!(p["steps"][1]["attempts"], 0, "{p}");
    // The timeline counts both registrations as a status the script did not expect.
    let sums = timeline_sums(&dir);
    assert_eq!(sums["requests"], 2);
    let csv = std::fs::read_to_string(dir.join("timeline.csv")).unwrap();
    let unexpected: u64 = csv
        .lines()
        .filter(|l| l.contains(",requests,unexpected_other,"))
        .map(|l| l.rsplit(',').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(unexpected, 2, "{csv}");
    let info = &f["funnel"]["runs"][0];
    assert_eq!(info["target_kind"], "remote");
    assert_eq!(info["target"], target.as_str());
    assert_eq!(info["hash_profile"], "the target's own");

    // Merged, the failing run still fails: merge judges the thresholds again.
    let merged = scratch("wrong-merged");
    let mut cmd = bin();
    cmd.arg("merge")
        .arg(dir.join("funnel.json"))
        .arg("--out")
        .arg(&merged);
    let out = run(cmd, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        text(&out.stdout).contains("a threshold failed"),
        "{}",
        show(&out)
    );
    assert_eq!(funnel(&merged)["passed"], false);
    forget(&[&dir, &merged, &scenario]);
}

#[test]
fn a_failed_goose_threshold_fails_the_run() {
    let (target, _) = wrong_target();
    let dir = scratch("goose-threshold");
    let scenario = scenario("goose-threshold", &[("simplified_phone", 1.0)]);
    let mut cmd = bin();
    // Our error-rate threshold tolerates every failure; goose's rule does not.
    cmd.arg("load")
        .arg(&scenario)
        .args(["--host", &target, "--set", "load.users=2"])
        .args(["--set", "load.thresholds.error_rate=1"])
        .arg("--out")
        .arg(&dir)
        .args(["--", "--iterations", "1", "--threshold", "error-rate<50%"]);
    let out = run(cmd, LIMIT);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("goose: "), "{stdout}");
    assert!(stdout.contains("a threshold failed"), "{stdout}");
    let f = funnel(&dir);
    assert_eq!(f["passed"], true, "ours passed: {}", f["thresholds"]);
    assert_eq!(f["totals"]["steps_failed"], 2);
    forget(&[&dir, &scenario]);
}

#[test]
fn two_shards_merge_into_the_counts_of_one_run() {
    let scenario = scenario("shards", &[("simplified_phone", 1.0), ("standard", 1.0)]);
    let (one, two, whole) = (scratch("shard-1"), scratch("shard-2"), scratch("whole"));
    // Two machines' worth, one user per path each, and one run with both machines' users.
    let runs = [
        (&one, vec!["--shard", "1/2", "--set", "load.users=2"]),
        (&two, vec!["--shard", "2/2", "--set", "load.users=2"]),
        (&whole, vec!["--set", "load.users=4"]),
    ];
    all_succeed(
        runs.into_iter()
            .map(|(dir, args)| load(&scenario, dir, &args, 2))
            .collect(),
    );
    let merged = merge_into("merged", &[&one, &two]);
    let (a, b, m, w) = (funnel(&one), funnel(&two), funnel(&merged), funnel(&whole));

    // The shards took disjoint halves of the population.
    let runs = m["funnel"]["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(
        (&runs[0]["shard"], &runs[1]["shard"]),
        (&json!("1/2"), &json!("2/2"))
    );
    assert_eq!(runs[0]["citizens"], json!([0, 1000]));
    assert_eq!(runs[1]["citizens"], json!([1000, 2000]));
    // Every count of the merge is the sum of the shards' and the count of the one run.
    for name in ["simplified_phone", "standard"] {
        let (pa, pb, pm, pw) = (
            path(&a, name),
            path(&b, name),
            path(&m, name),
            path(&w, name),
        );
        for key in ["started", "completed", "failed", "in_progress"] {
            let sum = pa[key].as_u64().unwrap() + pb[key].as_u64().unwrap();
            assert_eq!(pm[key].as_u64().unwrap(), sum, "{name} {key}");
            assert_eq!(pm[key], pw[key], "{name} {key}");
        }
        assert_eq!(pm["completed"], 4, "{name}: {pm}");
        assert_eq!(pm["tier_reached"], pw["tier_reached"], "{name}");
        let steps = pm["steps"].as_array().unwrap();
        for (i, s) in steps.iter().enumerate() {
            assert_eq!(s["name"], pw["steps"][i]["name"]);
            for key in ["attempts", "failed"] {
                assert_eq!(s[key], pw["steps"][i][key], "{name} {} {key}", s["name"]);
            }
            // A step's requests vary with how often it polls; each run of it counts once.
            for h in ["requests", "step"] {
                let count = |f: &Value| f["steps"][i][h]["count"].as_u64().unwrap();
                assert_eq!(count(pm), count(pa) + count(pb), "{name} {} {h}", s["name"]);
            }
            assert_eq!(s["step"]["count"], pw["steps"][i]["step"]["count"]);
        }
    }
    for key in ["started", "completed", "steps", "steps_failed"] {
        assert_eq!(m["totals"][key], w["totals"][key], "{key}");
    }
    // The histograms merged bucket by bucket: the merge's extremes are the shards', and its
    // percentiles lie between theirs.
    let r = |f: &Value, k: &str| f["totals"]["requests"][k].as_f64().unwrap();
    assert_eq!(
        r(&m, "count"),
        r(&a, "count") + r(&b, "count"),
        "requests counted"
    );
    assert_eq!(r(&m, "max_ms"), r(&a, "max_ms").max(r(&b, "max_ms")));
    assert_eq!(r(&m, "min_ms"), r(&a, "min_ms").min(r(&b, "min_ms")));
    for q in ["p50_ms", "p95_ms"] {
        let (lo, hi) = (r(&a, q).min(r(&b, q)), r(&a, q).max(r(&b, q)));
        assert!(
            (lo..=hi).contains(&r(&m, q)),
            "{q}: {} not in {lo}..{hi}",
            r(&m, q)
        );
    }
    assert_eq!(m["passed"], true, "{}", m["thresholds"]);
    // timeline.csv beside each funnel.json: every journey and request of the run in some
    // bucket, and the merge's the sum of the shards'.
    for (dir, f) in [(&one, &a), (&two, &b), (&merged, &m), (&whole, &w)] {
        let sums = timeline_sums(dir);
        assert_eq!(
            sums["journeys_started"],
            f["totals"]["started"].as_u64().unwrap()
        );
        assert_eq!(
            sums["journeys_completed"],
            f["totals"]["completed"].as_u64().unwrap()
        );
        assert_eq!(
            sums["requests"],
            f["totals"]["requests"]["count"].as_u64().unwrap()
        );
        assert!(sums["latency_rows"] > 0, "{}", dir.display());
    }
    // funnel.html charts the merged timeline inline, nothing fetched: requests, latency (all
    // steps and by step), journeys a second and in progress, tiers, and the stands' queues
    // read from their /metrics.
    let page = std::fs::read_to_string(merged.join("funnel.html")).unwrap();
    let over_time = &page[page
        .find("<h2>Over time</h2>")
        .expect("an Over time section")..];
    assert_eq!(over_time.matches("<svg").count(), 7, "{over_time}");
    for title in [
        "Request latency p95 by step",
        "Journeys in progress (users busy)",
        "Tiers reached a second",
        "Target queues",
    ] {
        assert!(over_time.contains(title), "{title}");
    }
    for fetch in ["<script", "src=", "href=", "<link"] {
        assert!(!page.contains(fetch), "{fetch}");
    }
    let (sa, sb, sm) = (
        timeline_sums(&one),
        timeline_sums(&two),
        timeline_sums(&merged),
    );
    for key in [
        "journeys_started",
        "journeys_completed",
        "requests",
        "tier_reached",
    ] {
        assert_eq!(sm[key], sa[key] + sb[key], "{key}");
    }
    // Every journey ended (each user walked twice): none in progress at the end; the stands'
    // gauges were read during the runs.
    for sums in [&sa, &sb, &sm] {
        assert_eq!(sums["in_progress_at_end"], 0);
        assert!(sums["target_rows"] > 0, "{sums:?}");
    }
    let tiers = |f: &Value| -> u64 {
        ["simplified_phone", "standard"]
            .iter()
            .flat_map(|n| path(f, n)["tier_reached"].as_object().unwrap().values())
            .map(|v| v.as_u64().unwrap())
            .sum()
    };
    // The standard path passes through simplified: two tiers a journey.
    assert_eq!(
        sm["tier_reached"],
        tiers(&m) + path(&m, "standard")["completed"].as_u64().unwrap()
    );
    forget(&[&one, &two, &whole, &merged, &scenario]);
}

/// The README's recipe for shards against one stand: `esia-sim serve --scenario FILE
/// --for-load` (the agencies' delays divided by the scenario's speedup, its engine figures,
/// seed and population), and two `load --host --mocks-url --shard i/2` runs of the same
/// scenario at once against it, then `merge`: every path walked to its end in each shard, the
/// merge the sum of both.
#[test]
fn two_shards_against_one_stand_served_for_load_complete_every_path() {
    let smoke = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/smoke.toml");
    let smoke = smoke.to_str().unwrap();
    // Both sides read the same scenario with the same overrides: ten times the smoke's
    // compression (as the smoke test above), no random faults.
    let mut shared = vec![
        "--set".to_owned(),
        "load.speedup=864000".to_owned(),
        "--set".to_owned(),
        "load.population=20000".to_owned(),
    ];
    let mut faultless = bin();
    faultless_overrides(&mut faultless);
    shared.extend(faultless.get_args().map(|a| a.to_str().unwrap().to_owned()));
    let mut serve_args = vec!["--scenario", smoke, "--for-load", "--log", "warn"];
    serve_args.extend(["--operator-token", support::OPERATOR]);
    serve_args.extend(["--partner-token", support::PARTNER]);
    serve_args.extend(shared.iter().map(String::as_str));
    let stand = support::Stand::serve(&serve_args, 0);

    let dirs = [scratch("stand-shard-1"), scratch("stand-shard-2")];
    let commands = dirs
        .iter()
        .enumerate()
        .map(|(i, dir)| {
            let mut cmd = bin();
            cmd.args([
                "load",
                smoke,
                "--host",
                &stand.base,
                "--mocks-url",
                &stand.base,
            ])
            .args(["--operator-token", support::OPERATOR])
            .args(["--partner-token", support::PARTNER])
            .args(["--shard", &format!("{}/2", i + 1), "--quiet"])
            .args(["--arrival-rate", "0", "--set", "load.users=16"])
            .args(["--set", "load.thresholds.request_p95=1h"])
            .args(["--set", "load.thresholds.request_p95_by_step={}"])
            .args(&shared)
            .arg("--out")
            .arg(dir)
            .args(["--", "--iterations", "1"]);
            cmd
        })
        .collect();
    all_succeed(commands);
    let merged = merge_into("stand-merged", &[&dirs[0], &dirs[1]]);
    let (a, b, m) = (funnel(&dirs[0]), funnel(&dirs[1]), funnel(&merged));
    let runs = m["funnel"]["runs"].as_array().unwrap();
    assert_eq!(
        (&runs[0]["citizens"], &runs[1]["citizens"]),
        (&json!([0, 10000]), &json!([10000, 20000]))
    );
    for name in PATHS {
        let mut sum = 0;
        for f in [&a, &b] {
            // Each user walked its path once, to its end.
            let users = f["funnel"]["runs"][0]["users"][name].as_u64().unwrap();
            let p = path(f, name);
            assert!(users >= 1, "{name}");
            assert_eq!(p["started"], users, "{name}: {p}");
            assert_eq!(p["completed"], users, "{name}: {p}");
            assert_eq!(p["failed"], 0, "{name}: {p}");
            sum += users;
        }
        let pm = path(&m, name);
        assert_eq!(
            (&pm["started"], &pm["completed"]),
            (&json!(sum), &json!(sum))
        );
    }
    for key in ["started", "completed", "steps", "steps_failed"] {
        let sum = a["totals"][key].as_u64().unwrap() + b["totals"][key].as_u64().unwrap();
        assert_eq!(m["totals"][key].as_u64().unwrap(), sum, "{key}");
    }
    assert_eq!(m["totals"]["steps_failed"], 0);
    assert_eq!(m["passed"], true, "{}", m["thresholds"]);
    forget(&[&dirs[0], &dirs[1], &merged]);
}

/// `--mix model`: the journeys are the simulator's citizens of the slice, each path's share
/// theirs; a citizen who left in the model stops there with its reason; nothing fails.
#[test]
fn the_model_mix_walks_the_simulator_s_citizens() {
    let dir = scratch("model-mix");
    let out = smoke_once(
        &dir,
        &[
            "--mix",
            "model",
            "--set",
            "load.users=40",
            "--set",
            "load.population=3000",
        ],
    );
    let f = funnel(&dir);
    let info = &f["funnel"]["runs"][0];
    assert_eq!(info["mix"], "model");
    let users = info["users"].as_object().unwrap();
    // The fixed shares' failure paths are not stories: no documents bound here.
    assert!(!users.contains_key("documents_bound"), "{users:?}");
    assert!(users.contains_key("service_center") && users.contains_key("bank_sber"));
    for (name, n) in users {
        let p = path(&f, name);
        let left: u64 = p["exits"]
            .as_object()
            .map_or(0, |e| e.values().map(|v| v.as_u64().unwrap()).sum());
        assert_eq!(p["started"], *n, "{name}: {p}");
        assert_eq!(p["failed"], 0, "{name}: {p}");
        let ended = p["completed"].as_u64().unwrap() + left + p["in_progress"].as_u64().unwrap();
        assert_eq!(ended, n.as_u64().unwrap(), "{name}: {p}");
    }
    assert!(
        text(&out.stdout).contains("the simulator's mix"),
        "{}",
        show(&out)
    );
    forget(&[&dir]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn against_esia_sim_serve_reading_its_own_mocks() {
    let stand = support::Stand::start();
    let dir = scratch("serve");
    let scenario = scenario(
        "serve",
        &[
            ("simplified_phone", 1.0),
            ("simplified_email", 1.0),
            ("wrong_code", 1.0),
        ],
    );
    let cmd = load(
        &scenario,
        &dir,
        &[
            "--host",
            &stand.base,
            "--mocks-url",
            &stand.base,
            "--set",
            "load.users=3",
        ],
        1,
    );
    let out = run_async(cmd).await;
    assert!(out.status.success(), "{}", show(&out));
    let f = funnel(&dir);
    for name in ["simplified_phone", "simplified_email", "wrong_code"] {
        assert_eq!(path(&f, name)["completed"], 1, "{name}: {}", path(&f, name));
    }
    let info = &f["funnel"]["runs"][0];
    assert_eq!(
        (&info["target"], &info["mocks"]),
        (&json!(stand.base), &json!(stand.base))
    );
    // The codes came from the stand's own SMS mock (two SMS, alone or in one batch), and the
    // target's /metrics were kept.
    let sent: usize = stand
        .journal("sms", "/mocks/sms/messages")
        .await
        .iter()
        .map(|e| e["body"]["messages"].as_array().map_or(1, Vec::len))
        .sum();
    assert_eq!(sent, 2);
    let metrics = std::fs::read_to_string(dir.join("metrics.txt")).unwrap();
    assert!(metrics.contains("esia_accounts"), "{metrics}");
    forget(&[&dir, &scenario]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn against_a_system_whose_agencies_are_the_mocks_load_serves() {
    // A free port for load's mocks, known before the system under test starts.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mocks = format!("http://127.0.0.1:{port}");
    let urls: Vec<String> = ["sms", "mail", "pfr", "fms", "post", "ca"]
        .iter()
        .map(|a| format!("{mocks}/mocks/{a}"))
        .collect();
    let stand = support::Stand::start_with(
        support::SCENARIO,
        &[
            "--sms-url",
            &urls[0],
            "--mail-url",
            &urls[1],
            "--pfr-url",
            &urls[2],
            "--fms-url",
            &urls[3],
            "--post-url",
            &urls[4],
            "--ca-url",
            &urls[5],
        ],
    );
    let dir = scratch("mocks-addr");
    let scenario = scenario(
        "mocks-addr",
        &[
            ("simplified_phone", 1.0),
            ("standard", 1.0),
            ("bank_sber", 1.0),
        ],
    );
    let addr = format!("127.0.0.1:{port}");
    let cmd = load(
        &scenario,
        &dir,
        &[
            "--host",
            &stand.base,
            "--mocks-addr",
            &addr,
            "--partner-token",
            support::PARTNER,
            "--operator-token",
            support::OPERATOR,
            "--set",
            "load.users=3",
        ],
        1,
    );
    let out = run_async(cmd).await;
    assert!(out.status.success(), "{}", show(&out));
    assert!(
        text(&out.stderr).contains(&format!("mocks listening on {mocks}")),
        "{}",
        show(&out)
    );
    let f = funnel(&dir);
    for (name, tier) in [
        ("simplified_phone", "simplified"),
        ("standard", "standard"),
        ("bank_sber", "confirmed"),
    ] {
        let p = path(&f, name);
        assert_eq!(p["completed"], 1, "{name}: {p}");
        assert_eq!(p["tier_reached"], json!({ tier: 1 }), "{name}: {p}");
    }
    assert_eq!(f["funnel"]["runs"][0]["mocks"], mocks.as_str());
    // The system's own mocks were never called: its agencies were load's.
    assert!(stand.journal("sms", "/mocks/sms/messages").await.is_empty());
    assert!(stand.journal("pfr", "/mocks/pfr/requests").await.is_empty());
    forget(&[&dir, &scenario]);
}

#[test]
fn goose_s_host_flag_and_a_bad_shard_are_refused() {
    let mut cmd = bin();
    cmd.args(["load", "--", "-H", "http://127.0.0.1:9"]);
    let out = run(cmd, Duration::from_secs(30));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("esia-sim's own --host"), "{err}");

    let mut cmd = bin();
    cmd.args(["load", "--shard", "3/2"]);
    let out = run(cmd, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(2), "{out:?}");

    let mut cmd = bin();
    cmd.args(["merge", "--out"])
        .arg(scratch("nothing"))
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"));
    let out = run(cmd, Duration::from_secs(30));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a load funnel"));
}
