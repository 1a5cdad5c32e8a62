//! What the integration tests share, as ripgrep's `tests/util.rs`: each test file says
//! `mod support;` (a folder, so Cargo does not take it for a test of its own). For the
//! black-box tests of the stand: start `esia-sim serve` on `127.0.0.1:0` as an integrator
//! would, read `listening on http://ADDR`, and speak HTTP to it. Time moves by
//! `POST /mocks/admin/clock/advance`, never by waiting; `eventually` polls for at most 20 s of
//! wall time (a failure, not a measurement). [`run`] runs a CLI command to its end within a
//! bound and [`cli`] gives those tests the binary, scratch folders and their load scenario
//! (`tests/load.rs`, `tests/compare.rs`). The tests of the sans-IO engine share
//! `esia_sim::registry::testkit` instead, with the engine's unit tests. [`in_process`]: the
//! engine in process with a wiremock server as its agencies.
#![allow(dead_code)]

pub mod cli;
pub mod in_process;

use reqwest::StatusCode;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The population the stands and the tests share. Citizen 1245 of seed 7 holds a revoked
/// certificate, so the stand knows 1,300 citizens.
pub const SEED: u64 = 7;
pub const POPULATION: u64 = 1_300;
pub const PASSWORD: &str = "Vx7kPz9mQ";
pub const OPERATOR: &str = "op-secret";
pub const PARTNER: &str = "bank-secret";

/// Agencies that answer at once and never fail, except PFR and FMS (exactly 10 minutes) and
/// the post (exactly 4 days).
pub const SCENARIO: &str = r#"
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
[agencies.ca]
latency = { kind = "fixed", value = "0s" }
[agencies.post]
latency = { kind = "fixed", value = "4d" }
loss_rate = 0.0
error_rate = 0.0
[agencies.banks.sber]
latency = { kind = "fixed", value = "0s" }
error_rate = 0.0
timeout_rate = 0.0
[agencies.banks.tinkoff]
latency = { kind = "fixed", value = "0s" }
error_rate = 0.0
timeout_rate = 0.0
[agencies.banks.pochta]
latency = { kind = "fixed", value = "0s" }
error_rate = 0.0
timeout_rate = 0.0
[agencies.centers]
latency = { kind = "fixed", value = "0s" }
refusal_rate = 0.0
error_rate = 0.0
"#;

/// A running `esia-sim serve`, killed when dropped.
pub struct Stand {
    pub child: Child,
    pub base: String,
    pub http: reqwest::Client,
    pub stdout: Vec<String>,
}

impl Drop for Stand {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn scenario_file(text: &str) -> std::path::PathBuf {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("esia-harness-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("agencies-{n}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

impl Stand {
    /// `esia-sim serve` with [`SCENARIO`], both tokens, passwords unhashed.
    pub fn start() -> Stand {
        Self::start_with(SCENARIO, &[])
    }

    /// `esia-sim serve` with `scenario` and `extra` flags.
    pub fn start_with(scenario: &str, extra: &[&str]) -> Stand {
        Self::spawn(scenario, extra, true)
    }

    /// `esia-sim serve` with `scenario` and `extra` flags but no tokens: the binary generates
    /// both and prints them after its address (`stdout[1]` and `stdout[2]`).
    pub fn start_without_tokens(scenario: &str, extra: &[&str]) -> Stand {
        Self::spawn(scenario, extra, false)
    }

    fn spawn(scenario: &str, extra: &[&str], tokens: bool) -> Stand {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_esia-sim"));
        cmd.args(["serve", "--addr", "127.0.0.1:0"])
            .args(["--seed", &SEED.to_string()])
            .args(["--population", &POPULATION.to_string()])
            .args(["--log", "warn"]);
        if !extra.contains(&"--code-seed") {
            cmd.args(["--code-seed", "11"]);
        }
        if tokens {
            cmd.args(["--operator-token", OPERATOR, "--partner-token", PARTNER]);
        }
        if !extra.contains(&"--hash-profile") {
            cmd.args(["--hash-profile", "none"]);
        }
        cmd.args(extra)
            .arg("--scenario")
            .arg(scenario_file(scenario));
        // Lines after the first: the generated tokens, each mock's own address.
        let generated = if tokens { 0 } else { 2 };
        let extra_lines = extra.iter().filter(|a| **a == "--mock-addr").count() + generated;
        Self::launch(cmd, extra_lines)
    }

    /// `esia-sim serve` with exactly `args` after `serve` (and `--addr 127.0.0.1:0`), which
    /// prints `extra_lines` lines after its address.
    pub fn serve(args: &[&str], extra_lines: usize) -> Stand {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_esia-sim"));
        cmd.args(["serve", "--addr", "127.0.0.1:0"]).args(args);
        Self::launch(cmd, extra_lines)
    }

    fn launch(mut cmd: Command, extra_lines: usize) -> Stand {
        cmd.stdout(Stdio::piped()).stderr(Stdio::null());
        let mut child = cmd.spawn().expect("the binary starts");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("first line: {line:?}"))
            .to_owned();
        let mut stdout = vec![line.trim().to_owned()];
        for _ in 0..extra_lines {
            let mut l = String::new();
            out.read_line(&mut l).unwrap();
            stdout.push(l.trim().to_owned());
        }
        Stand {
            child,
            base,
            http: reqwest::Client::new(),
            stdout,
        }
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> (StatusCode, Value) {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        };
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

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call("POST", path, Some(body), None).await
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call("GET", path, None, None).await
    }

    /// Moves the world's clock.
    pub async fn advance(&self, seconds: u64) {
        let (s, b) = self
            .post("/mocks/admin/clock/advance", json!({ "seconds": seconds }))
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
    }

    /// The newest of at least `count` SMS of `phone` (waits for them to arrive).
    pub async fn last_sms(&self, phone: &str, count: usize) -> String {
        let path = format!("/mocks/sms/inbox/{}", phone.trim_start_matches('+'));
        eventually(|| async {
            let (_, b) = self.get(&path).await;
            let msgs = b["messages"].as_array().cloned().unwrap_or_default();
            (msgs.len() >= count).then(|| msgs[msgs.len() - 1]["text"].as_str().unwrap().to_owned())
        })
        .await
    }

    /// The SMS code in the newest of at least `count` SMS of `phone`.
    pub async fn code(&self, phone: &str, count: usize) -> String {
        digits_of_len(&self.last_sms(phone, count).await, 6)
    }

    /// Starts a registration by phone for citizen `c`: the registration id.
    pub async fn register_phone(&self, c: &Value) -> String {
        let (s, b) = self
            .post(
                "/api/v1/registrations",
                json!({ "surname": c["surname"], "name": c["name"], "phone": c["phone"] }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        assert_eq!(b["channel"], "sms", "{b}");
        b["registration_id"].as_str().unwrap().to_owned()
    }

    /// A simplified account by phone for citizen `c`: (oid, session token).
    pub async fn simplified(&self, c: &Value) -> (u64, String) {
        let phone = c["phone"].as_str().unwrap();
        let id = self.register_phone(c).await;
        let code = self.code(phone, 1).await;
        let (s, b) = self
            .post(
                &format!("/api/v1/registrations/{id}/code"),
                json!({ "code": code }),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let oid = self.create_password(&id).await;
        (oid, self.login(phone, PASSWORD).await)
    }

    /// Sets [`PASSWORD`] on registration `id`, whose contact is confirmed: the oid of the new
    /// simplified account.
    pub async fn create_password(&self, id: &str) -> u64 {
        let (s, b) = self
            .post(
                &format!("/api/v1/registrations/{id}/password"),
                json!({ "password": PASSWORD, "password_repeat": PASSWORD }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        assert_eq!(b["tier"], "simplified", "{b}");
        b["oid"].as_u64().unwrap()
    }

    pub async fn login(&self, login: &str, password: &str) -> String {
        let (s, b) = self
            .post(
                "/api/v1/sessions",
                json!({ "login": login, "password": password }),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{login}: {b}");
        b["token"].as_str().unwrap().to_owned()
    }

    pub async fn account(&self, oid: u64, token: &str) -> Value {
        let (s, b) = self
            .call("GET", &format!("/api/v1/accounts/{oid}"), None, Some(token))
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        b
    }

    /// Submits the personal data of `c` (202), without waiting for the agencies.
    pub async fn submit_only(&self, oid: u64, token: &str, c: &Value) -> Value {
        let (s, b) = self
            .call(
                "PUT",
                &format!("/api/v1/accounts/{oid}/personal-data"),
                Some(c.clone()),
                Some(token),
            )
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{b}");
        b
    }

    /// Submits the personal data of `c` and waits until both agencies hold the requests.
    pub async fn submit(&self, oid: u64, token: &str, c: &Value) -> (String, String) {
        let (s, b) = self
            .call(
                "PUT",
                &format!("/api/v1/accounts/{oid}/personal-data"),
                Some(c.clone()),
                Some(token),
            )
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{b}");
        let ids: Vec<String> = ["pfr_request_id", "fms_request_id"]
            .iter()
            .map(|k| b["verification"][k].as_str().unwrap().to_owned())
            .collect();
        for (agency, id) in [("pfr", &ids[0]), ("fms", &ids[1])] {
            let path = format!("/mocks/{agency}/requests/{id}");
            eventually(|| async { (self.get(&path).await.0 == StatusCode::OK).then_some(()) })
                .await;
        }
        (ids[0].clone(), ids[1].clone())
    }

    /// Waits until the account's verification is decided.
    pub async fn decided(&self, oid: u64, token: &str) -> Value {
        eventually(|| async {
            let a = self.account(oid, token).await;
            (a["verification"]["status"] != "pending").then_some(a)
        })
        .await
    }

    /// A standard account for citizen `c` (registered by phone, data verified by moving the
    /// clock past PFR's and FMS's 10 minutes): (oid, session token).
    pub async fn standard(&self, c: &Value) -> (u64, String) {
        let (oid, token) = self.simplified(c).await;
        self.submit(oid, &token, c).await;
        self.advance(601).await;
        let a = self.decided(oid, &token).await;
        assert_eq!(a["tier"], "standard", "{a}");
        // The session lasts an hour of sim time: log in again after moving the clock.
        let token = self.login(c["phone"].as_str().unwrap(), PASSWORD).await;
        (oid, token)
    }

    /// Orders a post letter for account `oid`: the answer.
    pub async fn order_letter(&self, oid: u64, token: &str) -> (StatusCode, Value) {
        self.call(
            "POST",
            &format!("/api/v1/accounts/{oid}/confirmations"),
            Some(json!({ "method": "post" })),
            Some(token),
        )
        .await
    }

    /// Picks up letter `n` with citizen `c`'s passport.
    pub async fn pickup(&self, n: &str, c: &Value) -> (StatusCode, Value) {
        self.post(
            &format!("/mocks/post/letters/{n}/pickup"),
            json!({ "passport_series": c["passport"]["series"], "passport_number": c["passport"]["number"] }),
        )
        .await
    }

    /// Adds targeted faults to mock `mock`.
    pub async fn fault(&self, mock: &str, fault: Value) {
        let (s, b) = self
            .post(&format!("/mocks/{mock}/admin/faults"), fault)
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
    }

    /// Sets keys of mock `mock`'s profile.
    pub async fn profile(&self, mock: &str, patch: Value) -> Value {
        let (s, b) = self
            .call(
                "PUT",
                &format!("/mocks/{mock}/admin/profile"),
                Some(patch),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        b
    }

    /// Mock `mock`'s journal entries of paths starting with `path`.
    pub async fn journal(&self, mock: &str, path: &str) -> Vec<Value> {
        let (s, b) = self
            .get(&format!("/mocks/{mock}/admin/journal?path={path}"))
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        b["entries"].as_array().cloned().unwrap_or_default()
    }
}

/// The first run of `len` digits in `text`.
pub fn digits_of_len(text: &str, len: usize) -> String {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == len)
        .unwrap_or_else(|| panic!("no {len}-digit code in {text:?}"))
        .to_owned()
}

/// Retries `f` every 20 ms until it gives a value (at most 20 s of wall time: a failure, not a
/// measurement).
pub async fn eventually<T, F, Fut>(mut f: F) -> T
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

/// Citizens `0..POPULATION` of the seed, as `esia-sim citizens` prints them (read once).
pub fn citizens() -> &'static [Value] {
    static CITIZENS: OnceLock<Vec<Value>> = OnceLock::new();
    CITIZENS.get_or_init(|| {
        let out = Command::new(env!("CARGO_BIN_EXE_esia-sim"))
            .args(["citizens", "--seed", &SEED.to_string()])
            .args(["--count", &POPULATION.to_string()])
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    })
}

/// Whether PFR and FMS will agree with citizen `c`, who has a phone.
pub fn is_ordinary(c: &Value) -> bool {
    c.get("phone").is_some()
        && c["traits"]["passport_expired"] == false
        && c["traits"]["snils_unknown_to_pfr"] == false
}

/// The `i`-th ordinary citizen passing `also`.
pub fn pick(i: usize, also: impl Fn(&Value) -> bool) -> Value {
    citizens()
        .iter()
        .filter(|c| is_ordinary(c) && also(c))
        .nth(i)
        .unwrap_or_else(|| panic!("no citizen {i} of the kind"))
        .clone()
}

/// Citizen number `id`.
pub fn citizen(id: usize) -> Value {
    citizens()[id].clone()
}

/// Runs `cmd` to its end, killing it after `limit` (a failure, not a measurement).
pub fn run(mut cmd: Command, limit: Duration) -> Output {
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
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    }
}
