//! Contract tests of the engine's agency clients against `wiremock` servers: timeouts, 503s,
//! malformed JSON and slow answers give retries and clear final states; and the performer
//! turns an agency that never acknowledges into a verification failed with `pfr_unavailable`,
//! and an acknowledged request into an answer by polling when no callback comes.

mod support;

use esia_sim::stand::{AgencyClient, AgencyError, RetryPolicy};
use serde_json::{json, Value};
use std::time::Duration;
use support::in_process::{
    acknowledging, decided, policy, polled, sms_accepted, stand_on, standard_attempt,
};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pfr_never_acknowledging_fails_the_verification_with_a_reason() {
    let server = MockServer::start().await;
    sms_accepted(&server).await;
    Mock::given(method("POST"))
        .and(path("/pfr/requests"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    acknowledging(&server, "fms").await;
    polled("fms", "underProcessing", None).mount(&server).await;
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
    sms_accepted(&server).await;
    for agency in ["pfr", "fms"] {
        acknowledging(&server, agency).await;
    }
    // PFR: still processing on the first poll, then a mismatch; FMS: valid. No callback ever.
    polled("pfr", "underProcessing", None)
        .up_to_n_times(1)
        .mount(&server)
        .await;
    polled("pfr", "responseIsDelivered", Some("mismatch"))
        .mount(&server)
        .await;
    polled("fms", "responseIsDelivered", Some("valid"))
        .mount(&server)
        .await;
    let (app, cancel) = stand_on(&server);
    let (oid, token) = standard_attempt(&app, &server).await;
    let a = decided(&app, oid, &token).await;
    assert_eq!(a["verification"]["status"], "failed", "{a}");
    assert_eq!(a["verification"]["reason"], "pfr_mismatch");
    cancel.cancel();
}
