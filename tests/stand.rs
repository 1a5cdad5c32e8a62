//! Black-box tests of `esia-sim serve`, as an integrator would write them: start the binary on
//! a free port, read `listening on http://ADDR`, register citizens of the population by phone
//! and by e-mail reading codes and links from the mock inboxes, log in, submit personal data and
//! reach `standard` (advancing the world's clock, or completing the PFR and FMS requests); and
//! every failure of these tiers. Time moves by `POST /mocks/admin/clock/advance`, never by
//! waiting; no test asserts a wall-clock duration.

use reqwest::StatusCode;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The population the stand and the tests share.
const SEED: u64 = 7;
const POPULATION: u64 = 200;
/// Citizen 73 of seed 7 holds an expired passport (FMS answers `invalid`).
const EXPIRED_PASSPORT: usize = 73;
const PASSWORD: &str = "Vx7kPz9mQ";

/// Agencies that answer at once (messages) or after exactly 10 minutes (PFR, FMS), never fail.
const SCENARIO: &str = r#"
[agencies.sms]
latency = { kind = "fixed", value = "0s" }
loss_rate = 0.0
error_rate = 0.0
[agencies.mail]
latency = { kind = "fixed", value = "0s" }
loss_rate = 0.0
spam_rate = 0.0
error_rate = 0.0
[agencies.pfr]
latency = { kind = "fixed", value = "10m" }
error_rate = 0.0
timeout_rate = 0.0
[agencies.fms]
latency = { kind = "fixed", value = "10m" }
error_rate = 0.0
timeout_rate = 0.0

[population]
ignored = "tables other than [agencies] belong to other subcommands"
"#;

struct Stand {
    child: Child,
    base: String,
    http: reqwest::Client,
    stdout: Vec<String>,
}

impl Drop for Stand {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn scenario_file() -> std::path::PathBuf {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("esia-stand-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("agencies-{n}.toml"));
    std::fs::write(&path, SCENARIO).unwrap();
    path
}

impl Stand {
    /// Starts the binary with test flags; `tokens` passes both tokens instead of generating.
    fn start(tokens: bool) -> Stand {
        Self::start_with(tokens, "none")
    }

    /// Starts the binary hashing passwords with `hash_profile`.
    fn start_with(tokens: bool, hash_profile: &str) -> Stand {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_esia-sim"));
        cmd.args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--hash-profile",
            hash_profile,
        ])
        .args([
            "--seed",
            &SEED.to_string(),
            "--population",
            &POPULATION.to_string(),
        ])
        .args(["--code-seed", "11", "--log", "warn"])
        .arg("--scenario")
        .arg(scenario_file())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
        if tokens {
            cmd.args([
                "--operator-token",
                "op-secret",
                "--partner-token",
                "bank-secret",
            ]);
        }
        let mut child = cmd.spawn().expect("the binary starts");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut lines = Vec::new();
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("first line: {line:?}"))
            .to_owned();
        lines.push(line.trim().to_owned());
        if !tokens {
            for _ in 0..2 {
                let mut l = String::new();
                out.read_line(&mut l).unwrap();
                lines.push(l.trim().to_owned());
            }
        }
        Stand {
            child,
            base,
            http: reqwest::Client::new(),
            stdout: lines,
        }
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> (StatusCode, Value) {
        let url = format!("{}{path}", self.base);
        let mut req = self.http.request(method.parse().unwrap(), &url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call("POST", path, Some(body), None).await
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call("GET", path, None, None).await
    }

    async fn advance(&self, seconds: u64) {
        let (s, _) = self
            .post("/mocks/admin/clock/advance", json!({ "seconds": seconds }))
            .await;
        assert_eq!(s, StatusCode::OK);
    }

    /// Starts a registration by phone; the registration id.
    async fn register_phone(&self, c: &Value) -> String {
        let (s, b) = self
            .post(
                "/api/v1/registrations",
                json!({ "surname": c["surname"], "name": c["name"], "phone": c["phone"] }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        assert_eq!(b["channel"], "sms");
        b["registration_id"].as_str().unwrap().to_owned()
    }

    /// The newest SMS of `phone` (waits for it to arrive).
    async fn last_sms(&self, phone: &str, count: usize) -> String {
        let path = format!("/mocks/sms/inbox/{}", phone.trim_start_matches('+'));
        eventually(|| async {
            let (_, b) = self.get(&path).await;
            let msgs = b["messages"].as_array().cloned().unwrap_or_default();
            (msgs.len() >= count).then(|| msgs[msgs.len() - 1]["text"].as_str().unwrap().to_owned())
        })
        .await
    }

    /// The SMS code in the newest of `count` messages.
    async fn code(&self, phone: &str, count: usize) -> String {
        let text = self.last_sms(phone, count).await;
        text.split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 6)
            .unwrap_or_else(|| panic!("no code in {text:?}"))
            .to_owned()
    }

    /// A simplified account by phone for citizen `c`: (oid, session token).
    async fn account_by_phone(&self, c: &Value) -> (u64, String) {
        let id = self.register_phone(c).await;
        let phone = c["phone"].as_str().unwrap();
        let code = self.code(phone, 1).await;
        let (s, b) = self
            .post(
                &format!("/api/v1/registrations/{id}/code"),
                json!({ "code": code }),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let (s, b) = self
            .post(
                &format!("/api/v1/registrations/{id}/password"),
                json!({ "password": PASSWORD, "password_repeat": PASSWORD }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        assert_eq!(b["tier"], "simplified");
        let oid = b["oid"].as_u64().unwrap();
        let token = self.login(phone).await;
        (oid, token)
    }

    async fn login(&self, login: &str) -> String {
        let (s, b) = self
            .post(
                "/api/v1/sessions",
                json!({ "login": login, "password": PASSWORD }),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{login}: {b}");
        b["token"].as_str().unwrap().to_owned()
    }

    async fn account(&self, oid: u64, token: &str) -> Value {
        let (s, b) = self
            .call("GET", &format!("/api/v1/accounts/{oid}"), None, Some(token))
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        b
    }

    /// Submits `data` and waits until both agencies hold the requests; their ids.
    async fn submit(&self, oid: u64, token: &str, data: &Value) -> (String, String) {
        let (s, b) = self
            .call(
                "PUT",
                &format!("/api/v1/accounts/{oid}/personal-data"),
                Some(data.clone()),
                Some(token),
            )
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{b}");
        let pfr = b["verification"]["pfr_request_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let fms = b["verification"]["fms_request_id"]
            .as_str()
            .unwrap()
            .to_owned();
        for (agency, id) in [("pfr", &pfr), ("fms", &fms)] {
            let path = format!("/mocks/{agency}/requests/{id}");
            eventually(|| async { (self.get(&path).await.0 == StatusCode::OK).then_some(()) })
                .await;
        }
        (pfr, fms)
    }

    /// Waits until the account's verification is decided.
    async fn decided(&self, oid: u64, token: &str) -> Value {
        eventually(|| async {
            let a = self.account(oid, token).await;
            (a["verification"]["status"] != "pending").then_some(a)
        })
        .await
    }
}

/// Retries `f` every 20 ms until it gives a value (at most 20 s of wall time: a failure, not a
/// measurement).
async fn eventually<T, F, Fut>(mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..1_000 {
        if let Some(v) = f().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the condition never held");
}

/// Citizens `0..POPULATION` of the seed, as `esia-sim citizens` prints them.
fn citizens() -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_esia-sim"))
        .args([
            "citizens",
            "--seed",
            &SEED.to_string(),
            "--count",
            &POPULATION.to_string(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The `i`-th citizen with a phone, a known SNILS and a valid passport.
fn ordinary(cs: &[Value], i: usize) -> Value {
    cs.iter()
        .filter(|c| {
            c.get("phone").is_some()
                && c["traits"]["passport_expired"] == false
                && c["traits"]["snils_unknown_to_pfr"] == false
        })
        .nth(i)
        .unwrap()
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_phone_to_standard_by_advancing_the_clock() {
    let stand = Stand::start(false);
    assert!(
        stand.stdout[1].starts_with("operator token: "),
        "{:?}",
        stand.stdout
    );
    assert!(
        stand.stdout[2].starts_with("partner token: "),
        "{:?}",
        stand.stdout
    );
    let cs = citizens();
    let c = ordinary(&cs, 0);
    let (oid, token) = stand.account_by_phone(&c).await;
    let a = stand.account(oid, &token).await;
    assert_eq!(a["tier"], "simplified");
    assert_eq!(a["verification"]["status"], "not_started");

    stand.submit(oid, &token, &c).await;
    let a = stand.account(oid, &token).await;
    assert_eq!(a["verification"]["status"], "pending");
    // PFR and FMS answer 10 minutes later: move the world.
    stand.advance(601).await;
    let a = stand.decided(oid, &token).await;
    assert_eq!(a["verification"]["status"], "passed", "{a}");
    assert_eq!(a["tier"], "standard");
    assert_eq!(a["verification"]["pfr"], "match");
    assert_eq!(a["verification"]["fms"], "valid");
    assert_eq!(a["trusted"], false);
    // The result comes by SMS, and SNILS is now a login.
    let notice = stand.last_sms(c["phone"].as_str().unwrap(), 2).await;
    assert!(notice.contains("стандартная"), "{notice}");
    let snils = c["snils"].as_str().unwrap();
    stand.login(snils).await;
    stand.login(&snils.replace(['-', ' '], "")).await;

    let (s, m) = stand.get("/metrics").await;
    assert_eq!(s, StatusCode::OK);
    let m = m.as_str().unwrap().to_owned();
    assert!(m.contains("esia_accounts{tier=\"standard\"} 1"), "{m}");
    assert!(m.contains("esia_http_requests_total{"), "{m}");
    assert!(
        m.contains("esia_http_request_duration_seconds_bucket{"),
        "{m}"
    );
    assert!(m.contains("esia_verifications_pending 0"), "{m}");
    let (s, h) = stand.get("/healthz").await;
    assert_eq!((s, h["status"].as_str()), (StatusCode::OK, Some("ok")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_email_to_standard_by_completing_the_requests() {
    let stand = Stand::start(true);
    let cs = citizens();
    let c = cs
        .iter()
        .find(|c| c.get("email").is_some() && c["traits"]["passport_expired"] == false)
        .unwrap()
        .clone();
    let email = c["email"].as_str().unwrap();
    let (s, b) = stand
        .post(
            "/api/v1/registrations",
            json!({ "surname": c["surname"], "name": c["name"], "email": email.to_uppercase() }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["channel"], "email");
    let id = b["registration_id"].as_str().unwrap().to_owned();
    // The mailbox path takes the address percent-encoded.
    let path = format!("/mocks/mail/inbox/{}", email.replace('@', "%40"));
    let letter = eventually(|| async {
        let (_, b) = stand.get(&path).await;
        b["messages"].as_array().and_then(|m| m.first()).cloned()
    })
    .await;
    assert_eq!(letter["folder"], "inbox");
    let text = letter["text"].as_str().unwrap();
    let link = text
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no link in {text}"));
    assert!(link.starts_with(&stand.base), "{link}");
    let (s, b) = stand.get(&link[stand.base.len()..]).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["confirmed"], true);
    let (s, b) = stand
        .post(
            &format!("/api/v1/registrations/{id}/password"),
            json!({ "password": PASSWORD, "password_repeat": PASSWORD }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let oid = b["oid"].as_u64().unwrap();
    let token = stand.login(email).await;

    let (pfr, fms) = stand.submit(oid, &token, &c).await;
    let (s, v) = stand.get(&format!("/mocks/pfr/requests/{pfr}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        ["requestIsQueued", "underProcessing"].contains(&v["status"].as_str().unwrap()),
        "{v}"
    );
    for (agency, id) in [("pfr", &pfr), ("fms", &fms)] {
        let (s, v) = stand
            .post(
                &format!("/mocks/{agency}/requests/{id}/complete"),
                json!({}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["status"], "responseIsDelivered");
    }
    let a = stand.decided(oid, &token).await;
    assert_eq!(a["tier"], "standard", "{a}");
    // The notice goes to the e-mail, the only contact.
    eventually(|| async {
        let (_, b) = stand.get(&path).await;
        (b["messages"].as_array().map(Vec::len) == Some(2)).then_some(())
    })
    .await;
    stand.login(c["snils"].as_str().unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_locked_and_expired_codes() {
    let stand = Stand::start(true);
    let cs = citizens();
    let c = ordinary(&cs, 1);
    let phone = c["phone"].as_str().unwrap();
    let id = stand.register_phone(&c).await;
    let right = stand.code(phone, 1).await;
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    let path = format!("/api/v1/registrations/{id}/code");
    for left in [2, 1, 0] {
        let (s, b) = stand.post(&path, json!({ "code": wrong })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert_eq!(b["error"]["code"], "code_wrong");
        assert_eq!(b["error"]["field"], "code");
        assert_eq!(b["error"]["attempts_left"], left);
    }
    let (s, b) = stand.post(&path, json!({ "code": right })).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{b}");
    assert_eq!(b["error"]["code"], "code_locked");

    // Expired: the right code 301 s after it was sent.
    let c2 = ordinary(&cs, 2);
    let id2 = stand.register_phone(&c2).await;
    let code2 = stand.code(c2["phone"].as_str().unwrap(), 1).await;
    stand.advance(301).await;
    let (s, b) = stand
        .post(
            &format!("/api/v1/registrations/{id2}/code"),
            json!({ "code": code2 }),
        )
        .await;
    assert_eq!(s, StatusCode::GONE, "{b}");
    assert_eq!(b["error"]["code"], "code_expired");
    // Not a code at all: 422 naming the field, no attempt spent.
    let (s, b) = stand
        .post(
            &format!("/api/v1/registrations/{id2}/code"),
            json!({ "code": "12ab" }),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["error"]["field"], "code");
    // An unknown registration.
    let (s, b) = stand
        .post(
            "/api/v1/registrations/00000000000000ff/code",
            json!({ "code": "123456" }),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resend_waits_for_its_cooldown() {
    let stand = Stand::start(true);
    let c = ordinary(&citizens(), 3);
    let phone = c["phone"].as_str().unwrap();
    let id = stand.register_phone(&c).await;
    let first = stand.code(phone, 1).await;
    let path = format!("/api/v1/registrations/{id}/resend");
    let r = stand
        .http
        .post(format!("{}{path}", stand.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().get("retry-after").is_some());
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["error"]["code"], "resend_too_soon");
    assert!(b["error"]["retry_after_ms"].as_u64().unwrap() <= 60_000);

    stand.advance(60).await;
    let (s, b) = stand.call("POST", &path, None, None).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let second = stand.code(phone, 2).await;
    let code = format!("/api/v1/registrations/{id}/code");
    if first != second {
        let (s, _) = stand.post(&code, json!({ "code": first })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let (s, b) = stand.post(&code, json!({ "code": second })).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    // Confirmed: no more resends.
    let (s, b) = stand.call("POST", &path, None, None).await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weak_passwords_are_refused_with_the_rule() {
    let stand = Stand::start(true);
    let c = ordinary(&citizens(), 4);
    let phone = c["phone"].as_str().unwrap();
    let id = stand.register_phone(&c).await;
    let path = format!("/api/v1/registrations/{id}/password");
    // Before the phone is confirmed: refused.
    let (s, b) = stand
        .post(
            &path,
            json!({ "password": PASSWORD, "password_repeat": PASSWORD }),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
    assert_eq!(b["error"]["code"], "contact_not_confirmed");
    let code = stand.code(phone, 1).await;
    stand
        .post(
            &format!("/api/v1/registrations/{id}/code"),
            json!({ "code": code }),
        )
        .await;
    let national = &phone.trim_start_matches('+')[1..];
    let with_phone = format!("Ab{national}");
    let cases = [
        ("Ab1", "Ab1", "password"),
        ("abcdefg7", "abcdefg7", "password"),
        ("Vx7kPz9mQ", "Vx7kPz9mQ!", "password_repeat"),
        ("Qwerty123", "Qwerty123", "password"),
        ("Vxykpzqmm", "Vxykpzqmm", "password"),
        (with_phone.as_str(), with_phone.as_str(), "password"),
    ];
    for (p, r, field) in cases {
        let (s, b) = stand
            .post(&path, json!({ "password": p, "password_repeat": r }))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}: {b}");
        assert_eq!(b["error"]["code"], "weak_password", "{p}");
        assert_eq!(b["error"]["field"], field, "{p}");
    }
    // A missing field names itself.
    let (s, b) = stand.post(&path, json!({ "password": PASSWORD })).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["error"]["field"], "password_repeat");
    let (s, b) = stand
        .post(
            &path,
            json!({ "password": PASSWORD, "password_repeat": PASSWORD }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_does_not_log_in() {
    // Real argon2 hashes (the `load` profile): `none` accepts any password by design.
    let stand = Stand::start_with(true, "load");
    let c = ordinary(&citizens(), 8);
    let phone = c["phone"].as_str().unwrap();
    stand.account_by_phone(&c).await;
    for login in [phone, "+79000000000", "nobody@example.ru"] {
        let (s, b) = stand
            .post(
                "/api/v1/sessions",
                json!({ "login": login, "password": "Wr0ngPassw" }),
            )
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{b}");
        assert_eq!(b["error"]["code"], "unauthorized");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_of_another_account_are_refused() {
    let stand = Stand::start(true);
    let cs = citizens();
    let owner = ordinary(&cs, 5);
    let other = ordinary(&cs, 6);
    let (oid1, t1) = stand.account_by_phone(&owner).await;
    let (oid2, t2) = stand.account_by_phone(&other).await;
    stand.submit(oid1, &t1, &owner).await;
    let (s, b) = stand
        .call(
            "PUT",
            &format!("/api/v1/accounts/{oid2}/personal-data"),
            Some(owner.clone()),
            Some(&t2),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
    assert_eq!(b["error"]["code"], "documents_bound");
    assert_eq!(b["error"]["field"], "snils");
    // Another account's session does not open this one.
    let (s, _) = stand
        .call("GET", &format!("/api/v1/accounts/{oid1}"), None, Some(&t2))
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // Bad personal data names the field.
    let mut bad = other.clone();
    bad["passport"]["series"] = json!("12345");
    let (s, b) = stand
        .call(
            "PUT",
            &format!("/api/v1/accounts/{oid2}/personal-data"),
            Some(bad),
            Some(&t2),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["error"]["field"], "passport.series");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pfr_mismatch_and_fms_invalid_fail_the_verification() {
    let stand = Stand::start(true);
    let cs = citizens();
    // PFR compares the gender; FMS does not: only PFR disagrees.
    let mut c = ordinary(&cs, 7);
    let flipped = if c["gender"] == "male" {
        "female"
    } else {
        "male"
    };
    c["gender"] = json!(flipped);
    let (oid, token) = stand.account_by_phone(&c).await;
    stand.submit(oid, &token, &c).await;
    let expired = cs[EXPIRED_PASSPORT].clone();
    assert_eq!(expired["traits"]["passport_expired"], true);
    let (oid2, token2) = if expired.get("phone").is_some() {
        stand.account_by_phone(&expired).await
    } else {
        stand.account_by_phone(&json!({ "surname": expired["surname"], "name": expired["name"], "phone": "+79990001122" })).await
    };
    stand.submit(oid2, &token2, &expired).await;
    stand.advance(601).await;

    let a = stand.decided(oid, &token).await;
    assert_eq!(a["verification"]["status"], "failed", "{a}");
    assert_eq!(a["verification"]["reason"], "pfr_mismatch");
    assert_eq!(a["verification"]["pfr"], "mismatch");
    assert_eq!(a["tier"], "simplified");
    let a = stand.decided(oid2, &token2).await;
    assert_eq!(a["verification"]["status"], "failed", "{a}");
    assert_eq!(a["verification"]["reason"], "fms_invalid");
    assert_eq!(a["tier"], "simplified");
    // A failed verification frees the documents: corrected data pass.
    let good = ordinary(&cs, 7);
    stand.submit(oid, &token, &good).await;
    stand.advance(601).await;
    let a = stand.decided(oid, &token).await;
    assert_eq!(a["tier"], "standard", "{a}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_and_partner_routes_check_their_tokens() {
    let stand = Stand::start(true);
    let body = json!({ "center_id": "mfc-1", "snils": "112-233-445 95", "passport": { "series": "4512", "number": "345678" } });
    let (s, b) = stand
        .call(
            "POST",
            "/api/v1/operator/confirmations",
            Some(body.clone()),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{b}");
    assert_eq!(b["error"]["code"], "token_missing");
    let (s, b) = stand
        .call(
            "POST",
            "/api/v1/operator/confirmations",
            Some(body.clone()),
            Some("bank-secret"),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
    let (s, b) = stand
        .call(
            "POST",
            "/api/v1/operator/confirmations",
            Some(body),
            Some("op-secret"),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
    let (s, b) = stand
        .call(
            "POST",
            "/api/v1/partners/sber/confirmations",
            Some(json!({})),
            Some("op-secret"),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
    let (s, b) = stand
        .call(
            "POST",
            "/api/v1/partners/vtb/confirmations",
            Some(json!({})),
            Some("bank-secret"),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_stand_cleanly() {
    let mut stand = Stand::start(true);
    let (s, _) = stand.get("/healthz").await;
    assert_eq!(s, StatusCode::OK);
    let pid = stand.child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    for _ in 0..1_000 {
        if let Some(status) = stand.child.try_wait().unwrap() {
            assert!(status.success(), "{status:?}");
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the stand did not stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mfc_service_center_and_bank_confirm_without_part_2() {
    let stand = Stand::start_with(true, "load");
    let cs = citizens();
    let op = Some("op-secret");

    // An MFC registers a confirmed account; its one-time password logs in.
    let a = ordinary(&cs, 9);
    let (s, b) = stand
        .call(
            "POST",
            "/api/v1/operator/registrations",
            Some(a.clone()),
            op,
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["tier"], "confirmed");
    let otp = b["one_time_password"].as_str().unwrap().to_owned();
    let oid = b["oid"].as_u64().unwrap();
    let (s, session) = stand
        .post(
            "/api/v1/sessions",
            json!({ "login": a["phone"], "password": otp }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{session}");
    let acc = stand.account(oid, session["token"].as_str().unwrap()).await;
    assert_eq!(acc["trusted"], true);
    assert_eq!(acc["confirmation"]["method"], "mfc_registration");
    // The same documents again: 409.
    let (s, b) = stand
        .call("POST", "/api/v1/operator/registrations", Some(a), op)
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");

    // A service center confirms a standard account.
    let c = ordinary(&cs, 10);
    let (oid, token) = stand.account_by_phone(&c).await;
    stand.submit(oid, &token, &c).await;
    stand.advance(601).await;
    assert_eq!(stand.decided(oid, &token).await["tier"], "standard");
    let shown = json!({ "center_id": "mfc-1", "snils": c["snils"],
        "passport": { "series": c["passport"]["series"], "number": "000001" } });
    let (s, b) = stand
        .call("POST", "/api/v1/operator/confirmations", Some(shown), op)
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["error"]["code"], "documents_mismatch");
    let shown = json!({ "center_id": "mfc-1", "snils": c["snils"],
        "passport": { "series": c["passport"]["series"], "number": c["passport"]["number"] } });
    let (s, b) = stand
        .call("POST", "/api/v1/operator/confirmations", Some(shown), op)
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let acc = stand.account(oid, &token).await;
    assert_eq!(acc["tier"], "confirmed");
    assert_eq!(acc["confirmation"]["method"], "service_center");

    // A bank's client gets a new confirmed account once PFR and FMS agree.
    let d = ordinary(&cs, 11);
    let bank_call = {
        let base = stand.base.clone();
        let http = stand.http.clone();
        let d = d.clone();
        tokio::spawn(async move {
            let r = http
                .post(format!("{base}/api/v1/partners/tinkoff/confirmations"))
                .bearer_auth("bank-secret")
                .json(&d)
                .send()
                .await
                .unwrap();
            (r.status(), r.json::<Value>().await.unwrap())
        })
    };
    // The agencies answer 10 minutes after they are asked: move the world until they have.
    while !bank_call.is_finished() {
        stand.advance(601).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (s, b) = bank_call.await.unwrap();
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["status"], "confirmed");
    assert_eq!(b["created"], true);
    let id = b["confirmation_id"].as_str().unwrap();
    let (s, again) = stand
        .call(
            "GET",
            &format!("/api/v1/partners/tinkoff/confirmations/{id}"),
            None,
            Some("bank-secret"),
        )
        .await;
    assert_eq!((s, &again["oid"]), (StatusCode::OK, &b["oid"]));
}
