//! Agencies at capacity on the stand (issue 12): a mock with `servers`, `queue` and `rate`
//! answers in waves and refuses the rest in its own form (SMEV's `requestIsRejectedBySmev`
//! with `QUOTE_LIMIT_EXCEEDED`, the gateways' 429 with `Retry-After`), the journal and
//! `/metrics` agree on what was refused; and the engine behind such agencies sets refused work
//! aside and performs it later, so no SMS and no verification is lost.
//!
//! Time moves by `POST /mocks/admin/clock/advance` on a world running at 1/1000 of the wall
//! (so the burst arrives within a few sim milliseconds whatever the machine's load); the only
//! wall-clock waits are bounded polls for what the engine does in real time.

mod support;

use esia_sim::mocks::service::quiet_agencies;
use esia_sim::registry::HashProfile;
use esia_sim::stand::StandServer;
use esia_sim::stand::{AgencyClient, AgencyError, StandConfig};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::in_process::{
    acknowledging, decided, policy, polled, sms_accepted, stand_on, standard_attempt,
};

/// PFR with 10 servers, 50 waiting places and exactly 1 s of service; every other agency as
/// the default (it is not called).
const PFR_AT_CAPACITY: &str = r#"
[agencies.pfr]
latency = { kind = "fixed", value = "1s" }
error_rate = 0.0
timeout_rate = 0.0
capacity = { servers = 10, queue = 50 }
"#;

/// `esia-sim serve` with `scenario`, the world at 1/1000 of the wall; killed when dropped.
struct Serve {
    child: Child,
    base: String,
    /// Its stdout, kept open: a closed pipe would fail the server's next line.
    _stdout: BufReader<std::process::ChildStdout>,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serve {
    fn start(scenario: &str) -> Serve {
        let file = std::env::temp_dir().join(format!(
            "esia-capacity-{}-{}.toml",
            std::process::id(),
            scenario.len()
        ));
        std::fs::write(&file, scenario).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_esia-sim"))
            .args(["serve", "--addr", "127.0.0.1:0", "--seed", "7"])
            .args(["--population", "200", "--time-scale", "0.001"])
            .args(["--hash-profile", "none", "--log", "warn"])
            .args(["--operator-token", "op", "--partner-token", "bank"])
            .arg("--scenario")
            .arg(&file)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the binary starts");
        let mut line = String::new();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        stdout.read_line(&mut line).unwrap();
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("first line: {line:?}"))
            .to_owned();
        Serve {
            child,
            base,
            _stdout: stdout,
        }
    }
}

/// The PFR requests about citizens `0..n` of seed 7, as the engine would send them.
fn pfr_requests(n: u64) -> Vec<Value> {
    let population = esia_sim::mocks::population::Population::new(
        7,
        esia_sim::mocks::population::PopulationConfig::default(),
    )
    .unwrap();
    (0..n)
        .map(|i| {
            let c = serde_json::to_value(population.citizen(i)).unwrap();
            json!({
                "request_id": format!("burst-{i}"),
                "snils": c["snils"], "surname": c["surname"], "name": c["name"],
                "patronymic": c["patronymic"], "birth_date": c["birth_date"],
                "gender": c["gender"],
            })
        })
        .collect()
}

/// Milliseconds between two RFC 3339 times.
fn ms_between(from: &str, to: &str) -> i64 {
    let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).unwrap();
    (parse(to) - parse(from)).num_milliseconds()
}

/// The value of the sample `name{labels}` in a Prometheus text exposition.
fn sample(metrics: &str, name_and_labels: &str) -> Option<f64> {
    metrics.lines().find_map(|l| {
        l.strip_prefix(name_and_labels)
            .and_then(|rest| rest.trim().split(' ').next())
            .and_then(|v| v.parse().ok())
    })
}

async fn advance(http: &reqwest::Client, base: &str, seconds: f64) {
    let r = http
        .post(format!("{base}/mocks/admin/clock/advance"))
        .json(&json!({ "seconds": seconds }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pfr_at_capacity_answers_in_waves_of_ten_and_refuses_forty_with_the_quota_reason() {
    let serve = Serve::start(PFR_AT_CAPACITY);
    let base = serve.base.clone();
    let http = reqwest::Client::new();

    // 100 requests at once, straight to the mock.
    let requests = pfr_requests(100);
    let mut burst = tokio::task::JoinSet::new();
    for (i, request) in requests.iter().cloned().enumerate() {
        let (http, base) = (http.clone(), base.clone());
        burst.spawn(async move {
            let r = http
                .post(format!("{base}/mocks/pfr/requests"))
                .json(&request)
                .send()
                .await
                .unwrap();
            let retry_after = r
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
            (i, r.status(), retry_after, r.json::<Value>().await.unwrap())
        });
    }
    let mut accepted = Vec::new();
    let mut refused = Vec::new();
    while let Some(sent) = burst.join_next().await {
        let (i, status, retry_after, body) = sent.unwrap();
        match status {
            StatusCode::ACCEPTED => {
                assert_eq!(body["status"], "requestIsQueued", "{body}");
                accepted.push(i);
            }
            StatusCode::TOO_MANY_REQUESTS => {
                assert_eq!(body["status"], "requestIsRejectedBySmev", "{body}");
                assert_eq!(body["rejection"], "QUOTE_LIMIT_EXCEEDED", "{body}");
                assert_eq!(body["error"]["code"], "queue_full", "{body}");
                assert_eq!(body["request_id"], format!("burst-{i}"));
                // The first waiting request starts in 1 s of the world (1000 s of the wall).
                let s: u64 = retry_after.expect("Retry-After").parse().unwrap();
                assert!((1..=1_000).contains(&s), "{s}");
                refused.push(i);
            }
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!((accepted.len(), refused.len()), (60, 40));

    // The journal and /metrics agree: 40 refused, 10 in service, 50 waiting.
    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let refused_total = r#"esia_mock_refused_total{agency="pfr",reason="queue_full"}"#;
    assert_eq!(sample(&metrics, refused_total), Some(40.0), "{metrics}");
    assert_eq!(
        sample(
            &metrics,
            r#"esia_mock_refused_total{agency="pfr",reason="quota"}"#
        ),
        Some(0.0)
    );
    assert_eq!(
        sample(&metrics, r#"esia_mock_in_service{agency="pfr"}"#),
        Some(10.0)
    );
    assert_eq!(
        sample(&metrics, r#"esia_mock_queued{agency="pfr"}"#),
        Some(50.0)
    );
    // FMS has no capacity: nothing in service or queued is shown for it.
    assert_eq!(sample(&metrics, r#"esia_mock_queued{agency="fms"}"#), None);
    let journal: Value = http
        .get(format!(
            "{base}/mocks/pfr/admin/journal?path=/mocks/pfr/requests&limit=1000"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entries = journal["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 100);
    let journal_refused: Vec<&Value> = entries
        .iter()
        .filter(|e| e["refused"]["reason"] == "queue_full")
        .collect();
    assert_eq!(journal_refused.len(), 40);
    assert!(journal_refused.iter().all(|e| e["status"] == 429));

    // The world moves a second at a time: ten more answers each second, each about k s after
    // its request (the burst arrived within a few sim milliseconds).
    advance(&http, &base, 0.5).await;
    let mut answered: BTreeMap<usize, i64> = BTreeMap::new();
    for k in 1..=6u64 {
        advance(&http, &base, 1.0).await;
        for &i in &accepted {
            if answered.contains_key(&i) {
                continue;
            }
            let v: Value = http
                .get(format!("{base}/mocks/pfr/requests/burst-{i}"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if v["status"] == "responseIsDelivered" {
                assert!(v["result"].is_string(), "{v}");
                let took = ms_between(
                    v["accepted_at"].as_str().unwrap(),
                    v["answered_at"].as_str().unwrap(),
                );
                assert!(
                    (k as i64 * 1_000..k as i64 * 1_000 + 100).contains(&took),
                    "wave {k}: answered {took} ms after its request"
                );
                answered.insert(i, took);
            } else if k == 1 {
                // Still waiting for a server, or being served (the second wave).
                assert!(
                    ["requestIsQueued", "underProcessing"].contains(&v["status"].as_str().unwrap()),
                    "{v}"
                );
            }
        }
        assert_eq!(answered.len() as u64, 10 * k, "after {k}.5 s");
        if k == 2 {
            let metrics = http
                .get(format!("{base}/metrics"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert_eq!(
                sample(&metrics, r#"esia_mock_in_service{agency="pfr"}"#),
                Some(10.0)
            );
            assert_eq!(
                sample(&metrics, r#"esia_mock_queued{agency="pfr"}"#),
                Some(30.0)
            );
        }
    }

    // A refused request was not kept: the same id is welcome once there is room.
    let r = http
        .get(format!("{base}/mocks/pfr/requests/burst-{}", refused[0]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = http
        .post(format!("{base}/mocks/pfr/requests"))
        .json(&requests[refused[0]])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
}

/// A stand in process (the world at scale 1) whose agencies answer at once.
async fn quiet_stand() -> StandServer {
    StandServer::start_with(StandConfig {
        agencies: quiet_agencies(),
        hash_profile: HashProfile::None,
        code_seed: Some(5),
        ..StandConfig::default()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_over_its_quota_answers_429_with_retry_after_and_the_engine_sends_later() {
    let stand = quiet_stand().await;
    let base = stand.base_url().to_owned();
    let http = reqwest::Client::new();
    // One SMS a second, set over HTTP as an integrator would.
    let r = http
        .put(format!("{base}/mocks/sms/admin/profile"))
        .json(&json!({ "capacity": { "servers": 1, "rate": 1.0 } }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let profile: Value = r.json().await.unwrap();
    assert_eq!(profile["capacity"], json!({ "servers": 1, "rate": 1.0 }));

    // Straight to the gateway: the first passes, the next is over the quota.
    let send = |to: &str| {
        http.post(format!("{base}/mocks/sms/messages"))
            .json(&json!({ "to": to, "text": "hello" }))
            .send()
    };
    assert_eq!(
        send("+79990000001").await.unwrap().status(),
        StatusCode::ACCEPTED
    );
    let r = send("+79990000002").await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "1");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "quota", "{body}");
    assert_eq!(body["error"]["retry_after_s"], 1);

    // The engine under the same quota: three registrations at once, each code arrives.
    let mut phones = Vec::new();
    for c in (0..100)
        .map(|i| stand.citizen(i))
        .filter(|c| c.phone.is_some())
        .take(3)
    {
        let phone = c.phone.clone().unwrap();
        let r = http
            .post(format!("{base}/api/v1/registrations"))
            .json(&json!({ "surname": c.surname, "name": c.name, "phone": phone }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        phones.push(phone);
    }
    for phone in &phones {
        let inbox = format!("{base}/mocks/sms/inbox/{}", &phone[1..]);
        let mut delivered = false;
        // The quota lets one SMS through a second: a bounded wait, not a measurement.
        for _ in 0..600 {
            let v: Value = http.get(&inbox).send().await.unwrap().json().await.unwrap();
            if v["messages"].as_array().is_some_and(|m| !m.is_empty()) {
                delivered = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(delivered, "the code to {phone} never arrived");
    }
    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let refused = sample(
        &metrics,
        r#"esia_mock_refused_total{agency="sms",reason="quota"}"#,
    );
    let deferred = sample(
        &metrics,
        r#"esia_effects_total{kind="sms",outcome="deferred"}"#,
    );
    // The refusal sent by hand, and the engine's (three SMS within a second of one another
    // under a quota of one a second), each set aside and sent again.
    let refused = refused.unwrap();
    assert!(refused >= 2.0, "{metrics}");
    assert_eq!(deferred.unwrap_or(0.0), refused - 1.0, "{metrics}");
    assert_eq!(
        sample(
            &metrics,
            r#"esia_effects_total{kind="sms",outcome="failed"}"#
        ),
        None
    );
    // The journal marks the same refusals.
    let journal: Value = http
        .get(format!("{base}/mocks/sms/admin/journal?limit=1000"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let marked: u64 = journal["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["refused"]["reason"] == "quota")
        .map(|e| e["refused"]["count"].as_u64().unwrap())
        .sum();
    assert_eq!(marked as f64, refused);

    // `"capacity": null` takes the capacity away.
    let r = http
        .put(format!("{base}/mocks/sms/admin/profile"))
        .json(&json!({ "capacity": null }))
        .send()
        .await
        .unwrap();
    let profile: Value = r.json().await.unwrap();
    assert!(profile.get("capacity").is_none(), "{profile}");
    for i in 0..5 {
        let to = format!("+7999000001{i}");
        assert_eq!(send(&to).await.unwrap().status(), StatusCode::ACCEPTED);
    }
}

#[tokio::test]
async fn a_429_ends_the_call_at_once_with_its_retry_after() {
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "3")
                .set_body_json(json!({ "error": { "code": "quota", "message": "x" } })),
        )
        .mount(&server)
        .await;
    let client = AgencyClient::new(policy(), 1);
    let e = client
        .post::<_, Value>(&format!("{}/sms/messages", server.uri()), &json!({}))
        .await
        .unwrap_err();
    assert_eq!(e.attempts, 1, "no retry while the agency asks to wait");
    assert_eq!(
        e.last,
        AgencyError::Busy {
            retry_after_ms: Some(3_000)
        }
    );
    assert_eq!(e.busy(), Some(Some(3_000)));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verification_rejected_for_smevs_quota_is_sent_again_and_answered() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    sms_accepted(&server).await;
    // PFR rejects twice for its quota (SMEV's form, Retry-After 1 s), then accepts.
    Mock::given(method("POST"))
        .and(path("/pfr/requests"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_json(json!({
                    "request_id": "x", "agency": "pfr", "status": "requestIsRejectedBySmev",
                    "rejection": "QUOTE_LIMIT_EXCEEDED",
                    "error": { "code": "quota", "message": "quota spent", "retry_after_s": 1 } })),
        )
        .up_to_n_times(2)
        .mount(&server)
        .await;
    for agency in ["pfr", "fms"] {
        acknowledging(&server, agency).await;
    }
    for (agency, result) in [("pfr", "match"), ("fms", "valid")] {
        polled(agency, "responseIsDelivered", Some(result))
            .mount(&server)
            .await;
    }
    let (app, cancel) = stand_on(&server);
    let (oid, token) = standard_attempt(&app, &server).await;
    // Two refusals of 1 s each, then the answer.
    let account = decided(&app, oid, &token).await;
    assert_eq!(account["verification"]["status"], "passed", "{account}");
    assert_eq!(account["tier"], "standard");
    let asked: Vec<_> = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == "/pfr/requests" && r.method.as_str() == "POST")
        .collect();
    assert_eq!(
        asked.len(),
        3,
        "two refusals, then the acknowledged request"
    );
    cancel.cancel();
}

#[test]
fn a_load_run_under_pfrs_quota_loses_no_verification() {
    // The shipped scenario made small: 10 journeys a second for a few seconds, each verifying
    // one (70%) asking PFR, whose quota is 3 a second; `--iterations 1` ends the run when every
    // journey has ended, so nothing is cut at a deadline.
    let dir = std::env::temp_dir().join(format!("esia-capacity-load-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let scenario =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/load_pfr_quota.toml");
    let mut child = Command::new(env!("CARGO_BIN_EXE_esia-sim"))
        .arg("load")
        .arg(&scenario)
        .args([
            "--set",
            "load.arrival_rate=10",
            "--set",
            "load.pool_time=1s",
        ])
        .args([
            "--set",
            "agencies.pfr.capacity.rate=3",
            "--set",
            "load.progress=0s",
        ])
        // Timing is not judged here (a loaded machine is slow, not wrong): only what is lost.
        .args(["--set", "load.thresholds.request_p95=10m"])
        .arg("--out")
        .arg(&dir)
        .args(["--", "--iterations", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    // A watchdog, not a measurement: the run takes about 10 s.
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > Duration::from_secs(240) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the load run did not end");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status:?}");
    let funnel: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("funnel.json")).unwrap()).unwrap();
    assert_eq!(funnel["passed"], true, "{}", funnel["thresholds"]);
    let paths = funnel["funnel"]["paths"].as_object().unwrap();
    let mut verifying = 0;
    for name in ["standard", "pfr_mismatch"] {
        let p = &paths[name];
        // Every journey ended, its verification decided as the path expects.
        assert_eq!(p["completed"], p["started"], "{name}: {p}");
        assert_eq!(
            (p["failed"].as_u64(), p["in_progress"].as_u64()),
            (Some(0), Some(0))
        );
        verifying += p["started"].as_u64().unwrap();
    }
    let metrics = std::fs::read_to_string(dir.join("metrics.txt")).unwrap();
    let value = |name: &str| sample(&metrics, name).unwrap_or(0.0);
    let refused = value(r#"esia_mock_refused_total{agency="pfr",reason="quota"}"#);
    assert!(refused >= 1.0, "the quota refused nothing:\n{metrics}");
    // Each refusal set aside and sent again; each verification acknowledged once, in the end.
    assert_eq!(
        value(r#"esia_effects_total{kind="pfr",outcome="deferred"}"#),
        refused
    );
    assert_eq!(
        value(r#"esia_effects_total{kind="pfr",outcome="ok"}"#),
        verifying as f64
    );
    assert_eq!(
        value(r#"esia_effects_total{kind="pfr",outcome="failed"}"#),
        0.0
    );
    assert_eq!(value("esia_verifications_pending "), 0.0, "{metrics}");
    assert_eq!(value("esia_effects_deferred "), 0.0);
    let _ = std::fs::remove_dir_all(&dir);
}
