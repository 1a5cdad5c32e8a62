//! The engine in process with a `wiremock` server as its agencies (`tests/agency_clients.rs`,
//! `tests/stand_capacity.rs`): the stand's router called with `tower::ServiceExt::oneshot`,
//! its performer running, SMS, mail, PFR and FMS at `{server}/sms`... (no post or CA); a
//! citizen taken to a submitted verification, and its decision awaited; the gateway and SMEV's
//! answers the tests mount.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use esia_sim::mocks::clock::{Epoch, SimTime};
use esia_sim::mocks::population::{Population, PopulationConfig};
use esia_sim::mocks::service::World;
use esia_sim::registry::HashProfile;
use esia_sim::stand::{self, AgencyUrls, PerformerConfig, RetryPolicy, StandConfig};
use serde_json::{json, Value};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Four attempts, short waits between them, and a timeout no answer of a loopback mock comes
/// near, even on a loaded machine: the counts below cannot depend on a slow answer timing out.
pub fn policy() -> RetryPolicy {
    RetryPolicy {
        attempts: 4,
        timeout_ms: 10_000,
        backoff_first_ms: 5,
        backoff_max_ms: 20,
    }
}

/// A stand in process whose agencies are `server`'s mocks, with its performer running.
pub fn stand_on(server: &MockServer) -> (esia_mocks::service::App, CancellationToken) {
    let world = World::new(Epoch::default(), SimTime::ZERO, 1.0).unwrap();
    let config = StandConfig {
        hash_profile: HashProfile::None,
        code_seed: Some(3),
        retry: policy(),
        performer: PerformerConfig {
            poll_first_ms: 20,
            poll_max_ms: 50,
            ..PerformerConfig::default()
        },
        ..StandConfig::default()
    };
    let urls = AgencyUrls::flat(&server.uri());
    let s = stand::Stand::new(&config, world, urls, "http://stand.test");
    let cancel = CancellationToken::new();
    s.start(cancel.clone());
    (stand::app(s, None), cancel)
}

/// One request to `app`, with a JSON body and a bearer token; the status and the JSON answer
/// (`null` when it is not JSON).
pub async fn call(
    app: &esia_mocks::service::App,
    m: &str,
    p: &str,
    body: Value,
    token: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = Request::builder()
        .method(m)
        .uri(p)
        .header("content-type", "application/json");
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let r = app
        .clone()
        .oneshot(req.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap();
    let status = r.status();
    let bytes = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Registers citizen 0 of seed 7 by phone through `app`, reading the code from what the SMS
/// mock received, and submits the citizen's personal data; the (oid, token).
pub async fn standard_attempt(
    app: &esia_mocks::service::App,
    server: &MockServer,
) -> (u64, String) {
    let c = serde_json::to_value(
        Population::new(7, PopulationConfig::default())
            .unwrap()
            .citizen(0),
    )
    .unwrap();
    let (s, b) = call(
        app,
        "POST",
        "/api/v1/registrations",
        json!({ "surname": c["surname"], "name": c["name"], "phone": c["phone"] }),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let id = b["registration_id"].as_str().unwrap().to_owned();
    let mut code = None;
    for _ in 0..500 {
        let sms = server.received_requests().await.unwrap_or_default();
        if let Some(r) = sms.iter().find(|r| r.url.path() == "/sms/messages") {
            let body: Value = serde_json::from_slice(&r.body).unwrap();
            code = Some(super::digits_of_len(body["text"].as_str().unwrap(), 6));
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let code = code.expect("the SMS reached the gateway");
    let (s, b) = call(
        app,
        "POST",
        &format!("/api/v1/registrations/{id}/code"),
        json!({ "code": code }),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let pw = "Vx7kPz9mQ";
    let (s, b) = call(
        app,
        "POST",
        &format!("/api/v1/registrations/{id}/password"),
        json!({ "password": pw, "password_repeat": pw }),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let oid = b["oid"].as_u64().unwrap();
    let (s, b) = call(
        app,
        "POST",
        "/api/v1/sessions",
        json!({ "login": c["phone"], "password": pw }),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let token = b["token"].as_str().unwrap().to_owned();
    let (s, b) = call(
        app,
        "PUT",
        &format!("/api/v1/accounts/{oid}/personal-data"),
        c,
        Some(&token),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    (oid, token)
}

/// Account `oid` once its verification is no longer pending. Waits at most 15 s of wall time
/// (a failure guard, not a measurement: a PFR that refuses twice for its quota answers after
/// about 2 s).
pub async fn decided(app: &esia_mocks::service::App, oid: u64, token: &str) -> Value {
    for _ in 0..1_500 {
        let (_, a) = call(
            app,
            "GET",
            &format!("/api/v1/accounts/{oid}"),
            Value::Null,
            Some(token),
        )
        .await;
        if a["verification"]["status"] != "pending" {
            return a;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the verification was never decided");
}

/// The SMS gateway accepts every message.
pub async fn sms_accepted(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/sms/messages"))
        .respond_with(ResponseTemplate::new(202).set_body_json(json!({ "message_id": "sms-1" })))
        .mount(server)
        .await;
}

/// `agency` (`pfr` or `fms`) acknowledges every request: SMEV's `requestIsQueued`.
pub async fn acknowledging(server: &MockServer, agency: &str) {
    Mock::given(method("POST"))
        .and(path(format!("/{agency}/requests")))
        .respond_with(ResponseTemplate::new(202).set_body_json(json!({
            "request_id": "x", "agency": agency, "status": "requestIsQueued",
            "accepted_at": "2026-01-01T00:00:00Z" })))
        .mount(server)
        .await;
}

/// A poll of `agency`'s requests (`GET /{agency}/requests/...`), answered with SMEV's `status`
/// and, once delivered, the `result`; mount it with [`Mock::mount`] (after `up_to_n_times`
/// where it answers only so often).
pub fn polled(agency: &str, status: &str, result: Option<&str>) -> Mock {
    let mut body = json!({
        "request_id": "x", "agency": agency, "status": status,
        "accepted_at": "2026-01-01T00:00:00Z" });
    if let Some(result) = result {
        body["result"] = json!(result);
        body["answered_at"] = json!("2026-01-01T00:10:00Z");
    }
    Mock::given(method("GET"))
        .and(path_regex(format!("^/{agency}/requests/")))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
}
