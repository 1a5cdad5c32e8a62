//! `esia-sim load` and `esia-sim merge` as a performance engineer runs them: a ten-second version
//! of the smoke scenario against the in-process stand on loopback, its reports read back (every
//! path completed at least once, under 1% of steps failing, goose's reports, the funnel and the
//! /metrics snapshot written), then two copies of its funnel merged. The run is bounded by its
//! own run time and by a watchdog here; nothing leaves loopback.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_esia-sim"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("esia-load-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Runs `cmd` to its end, killing it after `limit` (a failure, not a measurement).
fn run(mut cmd: Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let started = Instant::now();
    // Drain the pipes on threads so a chatty child never blocks on a full pipe.
    let mut out = child.stdout.take().expect("piped");
    let mut err = child.stderr.take().expect("piped");
    let out = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut out, &mut v).ok();
        v
    });
    let err = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut err, &mut v).ok();
        v
    });
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the run did not stop within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    }
}

fn funnel(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("funnel.json")).expect("funnel.json");
    serde_json::from_str(&text).expect("funnel.json is JSON")
}

#[test]
fn ten_seconds_of_smoke_walk_every_path_and_write_the_reports() {
    let dir = scratch("smoke");
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/smoke.toml");
    let mut cmd = bin();
    cmd.arg("load")
        .arg(&scenario)
        .args(["--set", "load.run_time=8s", "--set", "load.ramp=1s"])
        // Ten times the smoke's compression: a post letter arrives within 3 s.
        .args([
            "--set",
            "load.speedup=864000",
            "--set",
            "load.population=20000",
        ])
        .args([
            "--arrival-rate",
            "40/s",
            "--set",
            "load.progress=3s",
            "--out",
        ])
        .arg(&dir)
        .args(["--", "--running-metrics", "5"]);
    let out = run(cmd, Duration::from_secs(180));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "status {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    // While running: our tier counts on stderr, goose's running metrics on stdout.
    assert!(stderr.contains("tiers reached: simplified"), "{stderr}");
    assert!(stdout.contains("PER TRANSACTION METRICS"), "{stdout}");

    let f = funnel(&dir);
    assert_eq!(f["passed"], true, "{}", f["thresholds"]);
    let error_rate = f["totals"]["error_rate"].as_f64().unwrap();
    assert!(error_rate < 0.01, "error rate {error_rate}");
    let paths = f["funnel"]["paths"].as_object().unwrap();
    assert_eq!(paths.len(), 16, "{:?}", paths.keys());
    for (name, p) in paths {
        assert!(
            p["completed"].as_u64().unwrap() >= 1,
            "{name} never completed: {p}"
        );
        let first = &p["steps"][0];
        assert!(first["name"].as_str().unwrap().starts_with("01 "), "{name}");
        assert!(first["requests"]["count"].as_u64().unwrap() >= 1, "{name}");
        assert!(!first["requests"]["hdr"].as_array().unwrap().is_empty());
    }
    let confirmed = f["totals"]["tier_reached"]["confirmed"].as_u64().unwrap();
    assert!(confirmed >= 1, "{}", f["totals"]);
    let info = &f["funnel"]["runs"][0];
    assert_eq!(info["target_kind"], "in-process stand");
    assert!(info["target"]
        .as_str()
        .unwrap()
        .starts_with("http://127.0.0.1:"));
    assert_eq!(info["hash_profile"], "load");

    // goose's own reports, at the explicit paths.
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

    // Two shards' worth: every count doubles, the thresholds are judged again.
    let merged = scratch("merged");
    let funnel_json = dir.join("funnel.json");
    let mut cmd = bin();
    cmd.arg("merge")
        .arg(&funnel_json)
        .arg(&funnel_json)
        .arg("--out")
        .arg(&merged);
    let out = run(cmd, Duration::from_secs(30));
    assert!(out.status.success(), "{out:?}");
    let m = funnel(&merged);
    for key in ["started", "completed", "steps"] {
        assert_eq!(
            m["totals"][key].as_u64().unwrap(),
            2 * f["totals"][key].as_u64().unwrap(),
            "{key}"
        );
    }
    assert_eq!(m["funnel"]["runs"].as_array().unwrap().len(), 2);
    assert_eq!(
        m["totals"]["requests"]["p95_ms"], f["totals"]["requests"]["p95_ms"],
        "doubling every count keeps every percentile"
    );
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&merged);
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
