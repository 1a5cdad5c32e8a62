//! Contract tests of the engine's agency clients against `wiremock` servers: timeouts, 503s,
//! malformed JSON and slow answers give retries and clear final states; and the performer
//! turns an agency that never acknowledges into a verification failed with `pfr_unavailable`,
//! and an acknowledged request into an answer by polling when no callback comes.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use esia_sim::mocks::clock::{Epoch, SimTime};
use esia_sim::mocks::population::{Population, PopulationConfig};
use esia_sim::mocks::service::World;
use esia_sim::registry::HashProfile;
use esia_sim::stand::{
    self, AgencyClient, AgencyError, AgencyUrls, PerformerConfig, RetryPolicy, StandConfig,
};
use serde_json::{json, Value};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Four attempts, short waits between them, and a timeout no answer of a loopback mock comes
/// near, even on a loaded machine: the counts below cannot depend on a slow answer timing out.
fn policy() -> RetryPolicy {
    RetryPolicy {
        attempts: 4,
        timeout_ms: 10_000,
        backoff_first_ms: 5,
        backoff_max_ms: 20,
    }
}

/// [`policy`] with a timeout of `timeout_ms`, for the tests of timeouts.
fn timing_out(timeout_ms: u64) -> RetryPolicy {
    RetryPolicy {
        timeout_ms,
        ..policy()
    }
}

/// How long a slow answer of the mock takes: a hundred times the timeout it must exceed.
const SLOW: Duration = Duration::from_secs(60);

async fn received(server: &MockServer) -> usize {
    server.received_requests().await.unwrap_or_default().len()
}

#[tokio::test]
async fn two_503s_then_an_answer() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/pfr/requests"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/pfr/requests"))
        .respond_with(
            ResponseTemplate::new(202).set_body_json(json!({ "status": "requestIsQueued" })),
        )
        .mount(&server)
        .await;
    let client = AgencyClient::new(policy(), 1);
    let url = format!("{}/pfr/requests", server.uri());
    let v: Value = client
        .post(&url, &json!({ "request_id": "r1" }))
        .await
        .unwrap();
    assert_eq!(v["status"], "requestIsQueued");
    assert_eq!(received(&server).await, 3);
}

#[tokio::test]
async fn always_503_fails_after_every_attempt() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let client = AgencyClient::new(policy(), 1);
    let e = client
        .post::<_, Value>(&format!("{}/sms/messages", server.uri()), &json!({}))
        .await
        .unwrap_err();
    assert_eq!(e.attempts, 4);
    assert_eq!(e.last, AgencyError::Unavailable { status: 503 });
    assert_eq!(received(&server).await, 4);
}

#[tokio::test]
async fn a_slow_answer_times_out_and_is_retried() {
    let server = MockServer::start().await;
    // Far slower than the attempt's timeout, every time.
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "status": "underProcessing" }))
                .set_delay(SLOW),
        )
        .mount(&server)
        .await;
    let client = AgencyClient::new(timing_out(300), 1);
    let e = client
        .get::<Value>(&format!("{}/fms/requests/r1", server.uri()))
        .await
        .unwrap_err();
    assert_eq!(e.attempts, 4);
    assert_eq!(e.last, AgencyError::Timeout { timeout_ms: 300 });
}

#[tokio::test]
async fn a_slow_answer_once_then_a_fast_one() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "n": 1 }))
                .set_delay(SLOW),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "n": 2 })))
        .mount(&server)
        .await;
    // The slow answer is abandoned at its timeout and the next attempt's answer taken (a fast
    // answer gets 2 s, thirty times what it takes).
    let client = AgencyClient::new(timing_out(2_000), 1);
    let v = client
        .get::<Value>(&format!("{}/x", server.uri()))
        .await
        .unwrap();
    assert_eq!(v, Some(json!({ "n": 2 })));
    assert!(
        received(&server).await >= 2,
        "the slow attempt, then another"
    );
}

#[tokio::test]
async fn malformed_json_is_retried_then_reported() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(202).set_body_string("{\"status\": requestIsQueued"))
        .mount(&server)
        .await;
    let client = AgencyClient::new(policy(), 1);
    let e = client
        .post::<_, Value>(&format!("{}/fms/requests", server.uri()), &json!({}))
        .await
        .unwrap_err();
    assert_eq!(e.attempts, 4);
    assert!(matches!(e.last, AgencyError::Malformed(_)), "{e}");
}

#[tokio::test]
async fn a_4xx_is_not_retried_and_a_404_poll_is_none() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(422).set_body_json(json!({ "error": { "code": "invalid" } })),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    let client = AgencyClient::new(policy(), 1);
    let e = client
        .post::<_, Value>(&format!("{}/pfr/requests", server.uri()), &json!({}))
        .await
        .unwrap_err();
    assert_eq!(e.attempts, 1);
    assert!(
        matches!(e.last, AgencyError::Refused { status: 422, .. }),
        "{e}"
    );
    let none = client
        .get::<Value>(&format!("{}/pfr/requests/r9", server.uri()))
        .await
        .unwrap();
    assert_eq!(none, None);
}

#[tokio::test]
async fn a_refused_connection_is_retried_then_reported() {
    let client = AgencyClient::new(policy(), 1);
    // Port 9 (discard) on loopback: nothing listens.
    let e = client
        .get::<Value>("http://127.0.0.1:9/x")
        .await
        .unwrap_err();
    assert_eq!(e.attempts, 4);
    assert!(matches!(e.last, AgencyError::Connect(_)), "{e}");
}

/// A stand in process whose agencies are `server`'s mocks, with its performer running.
fn stand_on(server: &MockServer) -> (axum::Router, CancellationToken) {
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
    let base = server.uri();
    let urls = AgencyUrls {
        sms: format!("{base}/sms"),
        mail: format!("{base}/mail"),
        pfr: format!("{base}/pfr"),
        fms: format!("{base}/fms"),
        post: None,
        ca: None,
    };
    let s = stand::Stand::new(&config, world, urls, "http://stand.test");
    let cancel = CancellationToken::new();
    s.start(cancel.clone());
    (stand::app(s, None), cancel)
}

async fn call(
    app: &axum::Router,
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
async fn standard_attempt(app: &axum::Router, server: &MockServer) -> (u64, String) {
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
            let text = body["text"].as_str().unwrap().to_owned();
            code = text
                .split(|ch: char| !ch.is_ascii_digit())
                .find(|w| w.len() == 6)
                .map(str::to_owned);
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

async fn decided(app: &axum::Router, oid: u64, token: &str) -> Value {
    for _ in 0..500 {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pfr_never_acknowledging_fails_the_verification_with_a_reason() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/sms/messages"))
        .respond_with(ResponseTemplate::new(202).set_body_json(json!({ "message_id": "sms-1" })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/pfr/requests"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/fms/requests"))
        .respond_with(ResponseTemplate::new(202).set_body_json(json!({
            "request_id": "x", "agency": "fms", "status": "requestIsQueued", "accepted_at": "2026-01-01T00:00:00Z" })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex("^/fms/requests/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "request_id": "x", "agency": "fms", "status": "underProcessing", "accepted_at": "2026-01-01T00:00:00Z" })))
        .mount(&server)
        .await;
    let (app, cancel) = stand_on(&server);
    let (oid, token) = standard_attempt(&app, &server).await;
    let a = decided(&app, oid, &token).await;
    assert_eq!(a["verification"]["status"], "failed", "{a}");
    assert_eq!(a["verification"]["reason"], "pfr_unavailable");
    assert_eq!(a["tier"], "simplified");
    let pfr_calls = server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path() == "/pfr/requests")
        .count();
    assert_eq!(
        pfr_calls, 4,
        "every attempt of the policy, then the final state"
    );
    cancel.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_callbacks_polling_collects_the_answers() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/sms/messages"))
        .respond_with(ResponseTemplate::new(202).set_body_json(json!({ "message_id": "sms-1" })))
        .mount(&server)
        .await;
    for agency in ["pfr", "fms"] {
        Mock::given(method("POST"))
            .and(path(format!("/{agency}/requests")))
            .respond_with(ResponseTemplate::new(202).set_body_json(json!({
                "request_id": "x", "agency": agency, "status": "requestIsQueued", "accepted_at": "2026-01-01T00:00:00Z" })))
            .mount(&server)
            .await;
    }
    // PFR: still processing on the first poll, then a mismatch; FMS: valid. No callback ever.
    Mock::given(method("GET"))
        .and(path_regex("^/pfr/requests/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "request_id": "x", "agency": "pfr", "status": "underProcessing", "accepted_at": "2026-01-01T00:00:00Z" })))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex("^/pfr/requests/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "request_id": "x", "agency": "pfr", "status": "responseIsDelivered", "result": "mismatch",
            "accepted_at": "2026-01-01T00:00:00Z", "answered_at": "2026-01-01T00:10:00Z" })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex("^/fms/requests/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "request_id": "x", "agency": "fms", "status": "responseIsDelivered", "result": "valid",
            "accepted_at": "2026-01-01T00:00:00Z", "answered_at": "2026-01-01T00:10:00Z" })))
        .mount(&server)
        .await;
    let (app, cancel) = stand_on(&server);
    let (oid, token) = standard_attempt(&app, &server).await;
    let a = decided(&app, oid, &token).await;
    assert_eq!(a["verification"]["status"], "failed", "{a}");
    assert_eq!(a["verification"]["reason"], "pfr_mismatch");
    cancel.cancel();
}
