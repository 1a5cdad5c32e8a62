//! Rows of the engine's contract and flags of `esia-sim serve` that a user meets over HTTP and
//! no other test reaches: a letter code with no letter (409 `no_letter`); the e-mail link
//! within its 3 days and after them (410); `--code-seed` (the same seed, the same codes and
//! ids); `--time-scale` (the world runs faster by itself); a bank's request answered 202
//! `pending` while PFR and FMS have not answered, and read while pending; signing answered 202
//! `signature_pending` while the CA has not answered.
//!
//! Time moves by the clock's advance or by `--time-scale`, never by waiting on a wall-clock
//! margin: the 202s come from agencies held by their latency on the world's clock or by a
//! targeted fault, far past the stand's wait. The last two run the stand in process
//! ([`StandServer`]) to shorten that wait to 100 ms (`serve` waits 10 s).

mod support;

use esia_sim::mocks::service::{quiet_agencies, MockKind};
use esia_sim::mocks::wire::faults::{Failure, Fault};
use esia_sim::registry::HashProfile;
use esia_sim::stand::{StandConfig, StandServer};
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_letter_code_without_a_letter_is_409_no_letter() {
    let stand = Stand::start();
    let c = pick(30, |_| true);
    let (oid, token) = stand.standard(&c).await;
    let (s, b) = stand
        .call(
            "POST",
            &format!("/api/v1/accounts/{oid}/confirmations/code"),
            Some(json!({ "code": "12345678" })),
            Some(&token),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
    assert_eq!(b["error"]["code"], "no_letter", "{b}");
    assert_eq!(stand.account(oid, &token).await["tier"], "standard");
}

/// Registers citizen `c` by e-mail: the registration id and the link's path and query.
async fn register_by_email(stand: &Stand, c: &Value) -> (String, String) {
    let email = c["email"].as_str().unwrap();
    let (s, b) = stand
        .post(
            "/api/v1/registrations",
            json!({ "surname": c["surname"], "name": c["name"], "email": email }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["channel"], "email", "{b}");
    let id = b["registration_id"].as_str().unwrap().to_owned();
    let inbox = format!("/mocks/mail/inbox/{}", email.replace('@', "%40"));
    let text = eventually(|| async {
        let (_, b) = stand.get(&inbox).await;
        b["messages"][0]["text"].as_str().map(str::to_owned)
    })
    .await;
    let link = text
        .split_whitespace()
        .find(|w| w.starts_with(&stand.base))
        .unwrap_or_else(|| panic!("no link in {text}"));
    (id, link[stand.base.len()..].to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_e_mail_link_works_for_three_days_and_is_410_after() {
    let stand = Stand::start();
    let with_email = |c: &Value| c.get("email").is_some();
    let (late, early) = (pick(0, with_email), pick(1, with_email));
    let (_, late_link) = register_by_email(&stand, &late).await;
    let (early_id, early_link) = register_by_email(&stand, &early).await;
    // A minute before three days: the link confirms the e-mail.
    stand.advance(3 * 86_400 - 60).await;
    let (s, b) = stand.get(&early_link).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["confirmed"], true, "{b}");
    assert_eq!(b["registration_id"], early_id.as_str());
    // A minute after: gone.
    stand.advance(120).await;
    let (s, b) = stand.get(&late_link).await;
    assert_eq!(s, StatusCode::GONE, "{b}");
    assert_eq!(b["error"]["code"], "code_expired", "{b}");
}

/// The registration ids and SMS texts of two registrations on a fresh `serve` with `extra`.
async fn two_registrations(extra: &[&str]) -> Vec<(String, String)> {
    let stand = Stand::start_with(SCENARIO, extra);
    let mut out = Vec::new();
    for i in 0..2 {
        let c = pick(40 + i, |_| true);
        let id = stand.register_phone(&c).await;
        let text = stand.last_sms(c["phone"].as_str().unwrap(), 1).await;
        out.push((id, text));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_code_seed_gives_the_same_codes_and_ids() {
    let first = two_registrations(&["--code-seed", "5"]).await;
    let again = two_registrations(&["--code-seed", "5"]).await;
    let other = two_registrations(&["--code-seed", "6"]).await;
    assert_eq!(first, again);
    assert_ne!(first[0].1, first[1].1, "{first:?}");
    for (a, b) in first.iter().zip(&other) {
        assert_ne!(a.0, b.0, "ids of seeds 5 and 6");
        assert_ne!(a.1, b.1, "codes of seeds 5 and 6");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_scale_runs_the_world_faster_by_itself() {
    let stand = Stand::start_with(SCENARIO, &["--time-scale", "1000"]);
    let (_, clock) = stand.get("/mocks/admin/clock").await;
    assert_eq!(clock["scale"], 1000.0, "{clock}");
    let c = pick(50, |_| true);
    let (s, b) = stand
        .post(
            "/api/v1/registrations",
            json!({ "surname": c["surname"], "name": c["name"], "phone": c["phone"] }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let id = b["registration_id"].as_str().unwrap().to_owned();
    let expires = chrono::DateTime::parse_from_rfc3339(b["expires_at"].as_str().unwrap()).unwrap();
    let code = stand.code(c["phone"].as_str().unwrap(), 1).await;
    // Nobody moves the clock: at a thousand sim seconds a wall second, the code's five minutes
    // pass by themselves.
    let clock = eventually(|| async {
        let (_, clock) = stand.get("/mocks/admin/clock").await;
        let now = chrono::DateTime::parse_from_rfc3339(clock["now"].as_str().unwrap()).unwrap();
        (now > expires).then_some(clock)
    })
    .await;
    assert_eq!(clock["advanced_ms"], 0, "{clock}");
    let (s, b) = stand
        .post(
            &format!("/api/v1/registrations/{id}/code"),
            json!({ "code": code }),
        )
        .await;
    assert_eq!(s, StatusCode::GONE, "{b}");
    assert_eq!(b["error"]["code"], "code_expired", "{b}");
}

/// The stand in process with the shared population and tokens, agencies immediate and
/// faultless, and a wait of 100 ms (not 10 s) for an agency before answering 202.
async fn in_process() -> (StandServer, Stand2) {
    let server = StandServer::start_with(StandConfig {
        seed: SEED,
        population: POPULATION,
        agencies: quiet_agencies(),
        hash_profile: HashProfile::None,
        code_seed: Some(11),
        operator_token: OPERATOR.into(),
        partner_token: PARTNER.into(),
        partner_wait_ms: 100,
        ..StandConfig::default()
    })
    .await
    .unwrap();
    let client = Stand2 {
        base: server.base_url().to_owned(),
        http: reqwest::Client::new(),
    };
    (server, client)
}

/// HTTP to an in-process stand.
struct Stand2 {
    base: String,
    http: reqwest::Client,
}

impl Stand2 {
    async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// A standard account for citizen `c` by phone: (oid, session token).
    async fn standard(&self, c: &Value) -> (u64, String) {
        let phone = c["phone"].as_str().unwrap();
        let (s, b) = self
            .call(
                "POST",
                "/api/v1/registrations",
                Some(json!({ "surname": c["surname"], "name": c["name"], "phone": phone })),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let id = b["registration_id"].as_str().unwrap().to_owned();
        let inbox = format!("/mocks/sms/inbox/{}", &phone[1..]);
        let text = eventually(|| async {
            let (_, b) = self.call("GET", &inbox, None, None).await;
            b["messages"][0]["text"].as_str().map(str::to_owned)
        })
        .await;
        let code = digits_of_len(&text, 6);
        let (s, b) = self
            .call(
                "POST",
                &format!("/api/v1/registrations/{id}/code"),
                Some(json!({ "code": code })),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let (s, b) = self
            .call(
                "POST",
                &format!("/api/v1/registrations/{id}/password"),
                Some(json!({ "password": PASSWORD, "password_repeat": PASSWORD })),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let oid = b["oid"].as_u64().unwrap();
        let (s, b) = self
            .call(
                "POST",
                "/api/v1/sessions",
                Some(json!({ "login": phone, "password": PASSWORD })),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let token = b["token"].as_str().unwrap().to_owned();
        let (s, b) = self
            .call(
                "PUT",
                &format!("/api/v1/accounts/{oid}/personal-data"),
                Some(c.clone()),
                Some(&token),
            )
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{b}");
        self.until_tier(oid, &token, "standard").await;
        (oid, token)
    }

    /// Waits until account `oid` holds `tier`.
    async fn until_tier(&self, oid: u64, token: &str, tier: &str) -> Value {
        eventually(|| async {
            let (s, a) = self
                .call("GET", &format!("/api/v1/accounts/{oid}"), None, Some(token))
                .await;
            assert_eq!(s, StatusCode::OK, "{a}");
            (a["tier"] == tier).then_some(a)
        })
        .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bank_s_request_is_202_pending_until_pfr_and_fms_answer() {
    let (server, stand) = in_process().await;
    // PFR and FMS answer after ten minutes of the world's clock, which runs at wall speed.
    for kind in [MockKind::Pfr, MockKind::Fms] {
        server
            .mock(kind)
            .set_profile(json!({ "latency": { "kind": "fixed", "value": "10m" } }))
            .unwrap();
    }
    let c = pick(0, |c| c["bank"] == "sber");
    let (s, b) = stand
        .call(
            "POST",
            "/api/v1/partners/sber/confirmations",
            Some(c.clone()),
            Some(PARTNER),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    assert_eq!(b["status"], "pending", "{b}");
    let id = b["confirmation_id"].as_str().unwrap().to_owned();
    let status = format!("/api/v1/partners/sber/confirmations/{id}");
    let (s, b) = stand.call("GET", &status, None, Some(PARTNER)).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    assert_eq!(
        (&b["status"], &b["confirmation_id"]),
        (&json!("pending"), &json!(id))
    );
    // An id the engine never gave is not pending: 404.
    let (s, _) = stand
        .call(
            "GET",
            "/api/v1/partners/sber/confirmations/0000000000000000",
            None,
            Some(PARTNER),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Ten minutes later both have answered: confirmed, a new account.
    server.advance(std::time::Duration::from_secs(601)).await;
    let b = eventually(|| async {
        let (s, b) = stand.call("GET", &status, None, Some(PARTNER)).await;
        (s == StatusCode::OK).then_some(b)
    })
    .await;
    assert_eq!(b["status"], "confirmed", "{b}");
    assert_eq!(b["created"], true, "{b}");
    assert!(b["oid"].as_u64().is_some(), "{b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_is_202_signature_pending_while_the_ca_has_not_answered() {
    let (server, stand) = in_process().await;
    // Citizen 12 of seed 7 holds a valid qualified certificate.
    let c = citizen(12);
    let (oid, token) = stand.standard(&c).await;
    // The CA holds the next request past the engine's 2 s timeout (its retry is answered):
    // nothing can come back within the stand's 100 ms wait.
    server
        .mock(MockKind::Ca)
        .add_fault(Fault::FailNext {
            count: 1,
            failure: Failure::Timeout,
            path: None,
        })
        .unwrap();
    let sig = &c["signature"];
    let (s, b) = stand
        .call(
            "POST",
            &format!("/api/v1/accounts/{oid}/confirmations"),
            Some(json!({ "method": "e_signature",
                "certificate": { "serial": sig["serial"], "issuer": sig["issuer"] } })),
            Some(&token),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    assert_eq!(b["status"], "signature_pending", "{b}");
    assert!(b["request_id"].as_str().is_some(), "{b}");
    // The engine's next attempt is answered: the account shows the outcome.
    let a = stand.until_tier(oid, &token, "confirmed").await;
    assert_eq!(a["confirmation"]["method"], "e_signature", "{a}");
}
