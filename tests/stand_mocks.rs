//! Black-box tests of the mocks on their own: `esia-sim mocks` in front of an engine it is
//! told about (`--engine-url` and the tokens), and `esia-sim serve --mock-addr KIND=ADDR`
//! serving a mock on its own address, which the engine then calls.

mod support;

use reqwest::StatusCode;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use support::*;

/// `esia-sim mocks` with `args`; (the process, its stdout lines: the first and `extra` more).
fn mocks_process(args: &[&str], extra: usize) -> (Child, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_esia-sim"))
        .args(["mocks", "--addr", "127.0.0.1:0", "--log", "warn"])
        .args(["--seed", &SEED.to_string()])
        .args(["--population", &POPULATION.to_string()])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    for _ in 0..=extra {
        let mut l = String::new();
        out.read_line(&mut l).unwrap();
        lines.push(l.trim().to_owned());
    }
    (child, lines)
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esia_sim_mocks_sends_bank_clients_and_visitors_to_the_engine_it_is_given() {
    let engine = Stand::start();
    // PFR and FMS of the engine's stand answer at once here.
    for agency in ["pfr", "fms"] {
        engine
            .profile(
                agency,
                json!({ "latency": { "kind": "fixed", "value": "0s" } }),
            )
            .await;
    }
    let scenario = std::env::temp_dir().join(format!("esia-mocks-{}.toml", std::process::id()));
    std::fs::write(&scenario, SCENARIO).unwrap();
    let (child, lines) = mocks_process(
        &[
            "--engine-url",
            &engine.base,
            "--partner-token",
            PARTNER,
            "--operator-token",
            OPERATOR,
            "--only",
            "banks,centers",
            "--mock-addr",
            "banks=127.0.0.1:0",
            "--scenario",
            scenario.to_str().unwrap(),
        ],
        1,
    );
    let _child = Killed(child);
    let base = lines[0].strip_prefix("listening on ").unwrap().to_owned();
    let banks = lines[1]
        .strip_prefix("mock banks listening on ")
        .unwrap_or_else(|| panic!("{lines:?}"))
        .to_owned();
    assert!(banks.ends_with("/mocks/banks"), "{banks}");
    let http = reqwest::Client::new();

    // A bank client, through the bank's own address: a new confirmed account at the engine.
    let c = pick(2, |c| c["bank"] == "tinkoff");
    let snils: String = c["snils"]
        .as_str()
        .unwrap()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let r = http
        .post(format!("{banks}/tinkoff/clients/{snils}/gosuslugi"))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let b: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{b}");
    assert_eq!(b["status"], "confirmed");
    assert_eq!(b["created"], true);

    // A visitor at an MFC of the mocks process: registered at the engine.
    let d = pick(3, |_| true);
    let r = http
        .post(format!("{base}/mocks/centers/mfc-1/visits"))
        .json(
            &json!({ "snils": d["snils"], "passport_series": d["passport"]["series"],
            "passport_number": d["passport"]["number"], "register": true }),
        )
        .send()
        .await
        .unwrap();
    let status = r.status();
    let b: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{b}");
    assert!(b["one_time_password"].is_string());

    // Only the mocks asked for are served.
    let r = http
        .get(format!("{base}/mocks/sms/inbox/79990000000"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // The journal of the bank shows the request, on either address.
    let j: Value = http
        .get(format!("{base}/mocks/banks/admin/journal"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(j["entries"].as_array().unwrap().len(), 1, "{j}");
    // Wrong tokens: the engine refuses and the mock passes its answer on.
    let (child, lines) = mocks_process(
        &[
            "--engine-url",
            &engine.base,
            "--partner-token",
            "wrong",
            "--only",
            "banks",
            "--scenario",
            scenario.to_str().unwrap(),
        ],
        0,
    );
    let _other = Killed(child);
    let other = lines[0].strip_prefix("listening on ").unwrap();
    let e = pick(4, |c| c["bank"] == "sber");
    let snils: String = e["snils"]
        .as_str()
        .unwrap()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let r = http
        .post(format!(
            "{other}/mocks/banks/sber/clients/{snils}/gosuslugi"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_engine_the_bank_says_so() {
    let scenario =
        std::env::temp_dir().join(format!("esia-mocks-alone-{}.toml", std::process::id()));
    std::fs::write(&scenario, SCENARIO).unwrap();
    let (child, lines) = mocks_process(
        &["--only", "banks", "--scenario", scenario.to_str().unwrap()],
        0,
    );
    let _child = Killed(child);
    let base = lines[0].strip_prefix("listening on ").unwrap();
    let c = pick(0, |c| c["bank"] == "sber");
    let snils: String = c["snils"]
        .as_str()
        .unwrap()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{base}/mocks/banks/sber/clients/{snils}/gosuslugi"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["error"]["code"], "no_engine");
    // The bank still shows what it holds about its client.
    let r = http
        .get(format!("{base}/mocks/banks/sber/clients/{snils}"))
        .send()
        .await
        .unwrap();
    let client: Value = r.json().await.unwrap();
    assert_eq!(client["passport"], c["passport"]);
    assert_eq!(client["bank"], "sber");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mock_on_its_own_address_is_the_one_the_engine_calls() {
    let stand = Stand::start_with(SCENARIO, &["--mock-addr", "post=127.0.0.1:0"]);
    let post = stand.stdout[1]
        .strip_prefix("mock post listening on ")
        .unwrap_or_else(|| panic!("{:?}", stand.stdout))
        .to_owned();
    assert!(!post.starts_with(&stand.base), "{post}");
    let c = pick(0, |_| true);
    let (oid, token) = stand.standard(&c).await;
    let (s, b) = stand.order_letter(oid, &token).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    let n = b["tracking_number"].as_str().unwrap();
    // The same post on both addresses; the order came in on the post's own.
    let (s, t) = stand.get(&format!("{post}/tracking/{n}")).await;
    assert_eq!((s, &t["status"]), (StatusCode::OK, &json!("accepted")));
    let (s, t) = stand.get(&format!("/mocks/post/tracking/{n}")).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    let (_, j) = stand.get(&format!("{post}/admin/journal")).await;
    assert_eq!(j["entries"][0]["path"], "/mocks/post/letters");
}

#[test]
fn serve_refuses_agency_urls_it_cannot_call_and_batches_out_of_range() {
    for (args, says) in [
        (
            &["--sms-url", "https://sms.example/api"][..],
            "plain http://",
        ),
        (&["--pfr-url", "pfr.example:9000"][..], "http://"),
        (&["--post-url", "http:// bad"][..], "not a URL"),
        (&["--sms-batch", "0"][..], "--sms-batch"),
        (&["--sms-batch", "301"][..], "--sms-batch"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_esia-sim"))
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}
