//! The mocks alone, over a real socket (`esia_mocks::service::start`): a PFR request is
//! acknowledged, answered by callback when the world's clock is advanced past its delay, polled,
//! repeated idempotently, journaled and reset; SMS messages appear in the inbox only once
//! delivered.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use esia_mocks::agency::latency::Latency;
use esia_mocks::agency::{PfrRecord, Profile};
use esia_mocks::clock::MS_PER_MIN;
use esia_mocks::ident::Gender;
use esia_mocks::service::{start, MocksConfig, Truth};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn fixed(ms: u64) -> Profile {
    Profile {
        latency: Latency::fixed(ms),
        ..Profile::default()
    }
}

fn config() -> MocksConfig {
    let mut c = MocksConfig::default();
    c.agencies.pfr.service = fixed(10 * MS_PER_MIN);
    c.agencies.sms.service = fixed(5_000);
    c.agencies.sms.loss_rate = 0.0;
    c
}

fn truth() -> Truth {
    Truth {
        pfr: vec![PfrRecord {
            snils: "112-233-445 95".into(),
            surname: "Семёнов".into(),
            name: "Пётр".into(),
            patronymic: "Ильич".into(),
            birth_date: chrono::NaiveDate::from_ymd_opt(1985, 4, 12).unwrap(),
            gender: Gender::Male,
        }],
        ..Truth::default()
    }
}

/// A server recording the callbacks it receives; its URL.
async fn receiver() -> (String, Arc<Mutex<Vec<Value>>>) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let app = Router::new()
        .route(
            "/cb",
            post(
                |State(got): State<Arc<Mutex<Vec<Value>>>>, Json(v): Json<Value>| async move {
                    got.lock().unwrap().push(v);
                    "ok"
                },
            ),
        )
        .with_state(got.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/cb", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got)
}

async fn until<T>(mut f: impl FnMut() -> Option<T>) -> T {
    for _ in 0..500 {
        if let Some(v) = f() {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("never happened");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pfr_request_is_answered_by_callback_when_the_clock_passes_its_delay() {
    let mocks = start(config(), truth()).await.unwrap();
    let base = mocks.base_url.clone();
    let (callback_url, got) = receiver().await;
    let http = reqwest::Client::new();
    let request = json!({
        "request_id": "req-1", "snils": "11223344595", "surname": "СЕМЕНОВ", "name": "пётр",
        "patronymic": "Ильич", "birth_date": "1985-04-12", "gender": "male",
        "callback_url": callback_url,
    });
    let r = http
        .post(format!("{base}/mocks/pfr/requests"))
        .json(&request)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "requestIsQueued");
    // The same id again: the same request, nothing re-drawn.
    let again: Value = http
        .post(format!("{base}/mocks/pfr/requests"))
        .json(&request)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["accepted_at"], v["accepted_at"]);

    let advance = |s: u64| {
        http.post(format!("{base}/mocks/admin/clock/advance"))
            .json(&json!({ "seconds": s }))
            .send()
    };
    advance(300).await.unwrap();
    let poll: Value = http
        .get(format!("{base}/mocks/pfr/requests/req-1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(poll["status"], "underProcessing");
    assert!(got.lock().unwrap().is_empty());
    advance(301).await.unwrap();
    let cb = until(|| got.lock().unwrap().first().cloned()).await;
    assert_eq!(cb["request_id"], "req-1");
    assert_eq!(cb["status"], "responseIsDelivered");
    assert_eq!(cb["result"], "match");
    let poll: Value = http
        .get(format!("{base}/mocks/pfr/requests/req-1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(poll["result"], "match");

    // An unknown SNILS, completed at once with another result by the admin API.
    let other = json!({
        "request_id": "req-2", "snils": "017-996-174 00", "surname": "А", "name": "Б",
        "birth_date": "1990-01-01", "gender": "female",
    });
    http.post(format!("{base}/mocks/pfr/requests"))
        .json(&other)
        .send()
        .await
        .unwrap();
    let done: Value = http
        .post(format!("{base}/mocks/pfr/requests/req-2/complete"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(done["result"], "not_found");
    let rejected: Value = http
        .post(format!("{base}/mocks/pfr/requests/req-2/complete"))
        .json(&json!({ "rejection": "ACCESS_DENIED" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rejected["status"], "requestIsRejectedBySmev");

    let journal: Value = http
        .get(format!("{base}/mocks/pfr/admin/journal"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entries = journal["entries"].as_array().unwrap();
    assert!(entries.len() >= 5, "{journal}");
    assert_eq!(entries[0]["body"]["request_id"], "req-1");
    let r = http
        .post(format!("{base}/mocks/pfr/admin/reset"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = http
        .get(format!("{base}/mocks/pfr/requests/req-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sms_shows_in_the_inbox_once_delivered() {
    let mocks = start(config(), Truth::default()).await.unwrap();
    let base = mocks.base_url;
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{base}/mocks/sms/messages"))
        .json(&json!({ "to": "+7 916 123-45-67", "text": "Код: 123456" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let inbox = || async {
        http.get(format!("{base}/mocks/sms/inbox/89161234567"))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    };
    assert_eq!(inbox().await["messages"], json!([]));
    http.post(format!("{base}/mocks/admin/clock/advance"))
        .json(&json!({ "seconds": 5 }))
        .send()
        .await
        .unwrap();
    let v = inbox().await;
    assert_eq!(v["phone"], "79161234567");
    assert_eq!(v["messages"][0]["text"], "Код: 123456");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_sms_reaches_every_inbox_and_a_bad_message_refuses_the_batch() {
    let mocks = start(config(), Truth::default()).await.unwrap();
    let base = mocks.base_url;
    let http = reqwest::Client::new();
    let send = |body: Value| {
        let http = http.clone();
        let url = format!("{base}/mocks/sms/messages");
        async move { http.post(url).json(&body).send().await.unwrap() }
    };
    let r = send(json!({ "messages": [
        { "to": "+79160000001", "text": "Код: 111111" },
        { "to": "+79160000002", "text": "Код: 222222" },
        { "to": "+79160000001", "text": "Код: 333333" },
    ] }))
    .await;
    assert_eq!(r.status(), 202);
    let sent: Value = r.json().await.unwrap();
    let ids: Vec<&str> = sent["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["message_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 3, "{sent}");
    assert!(
        ids[0] < ids[1] && ids[1] < ids[2],
        "ids in the batch's order: {sent}"
    );
    http.post(format!("{base}/mocks/admin/clock/advance"))
        .json(&json!({ "seconds": 600 }))
        .send()
        .await
        .unwrap();
    let inbox = |phone: &'static str| {
        let http = http.clone();
        let url = format!("{base}/mocks/sms/inbox/{phone}");
        async move {
            http.get(url)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let texts = |v: Value| -> Vec<String> {
        v["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["text"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        texts(inbox("79160000001").await),
        ["Код: 111111", "Код: 333333"]
    );
    assert_eq!(texts(inbox("79160000002").await), ["Код: 222222"]);

    // One bad phone: 422 naming the message, and nothing of the batch is kept.
    let r = send(json!({ "messages": [
        { "to": "+79160000003", "text": "Код: 444444" },
        { "to": "12", "text": "Код: 555555" },
    ] }))
    .await;
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["field"], "messages[].to", "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("message 1"),
        "{e}"
    );
    http.post(format!("{base}/mocks/admin/clock/advance"))
        .json(&json!({ "seconds": 600 }))
        .send()
        .await
        .unwrap();
    assert!(texts(inbox("79160000003").await).is_empty());

    // Empty, and both forms at once, are refused.
    for body in [
        json!({ "messages": [] }),
        json!({ "to": "+79160000004", "text": "x", "messages": [{ "to": "+79160000004", "text": "x" }] }),
    ] {
        let r = send(body).await;
        assert_eq!(r.status(), 422);
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"]["field"], "messages", "{e}");
    }
    let r = send(json!({ "text": "x" })).await;
    assert_eq!(r.status(), 422);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["field"], "to");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mock_server_for_an_integrators_test_post_and_ca() {
    use esia_mocks::population::{Population, PopulationConfig};
    use esia_mocks::service::{MockKind, MockServer};
    use esia_mocks::wire::faults::Fault;
    let post = MockServer::builder()
        .mocks(&[MockKind::Post, MockKind::Ca])
        .population(7, 20)
        .start()
        .await
        .unwrap();
    assert!(post.url().ends_with("/mocks/post"), "{}", post.url());
    let http = reqwest::Client::new();
    let letter = json!({ "recipient": "Иванов Иван", "address": "101000, Москва, ул. Мясницкая, 26",
        "text": "Код: 12345678", "passport_series": "4512", "passport_number": "345678" });
    let sent: Value = http
        .post(format!("{}/letters", post.url()))
        .json(&letter)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let n = sent["tracking_number"].as_str().unwrap().to_owned();
    // Immediate by default: at the office at once.
    let pickup = json!({ "passport_series": "4512", "passport_number": "345678" });
    let r = http
        .post(format!("{}/letters/{n}/pickup", post.url()))
        .json(&pickup)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // A second letter, lost through the admin methods.
    let sent: Value = http
        .post(format!("{}/letters", post.url()))
        .json(&letter)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let m = sent["tracking_number"].as_str().unwrap().to_owned();
    post.fault(Fault::LoseLetter {
        tracking_number: m.clone(),
    })
    .unwrap();
    let r = http
        .post(format!("{}/letters/{m}/pickup", post.url()))
        .json(&pickup)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(post.journal().len(), 4);

    // The CA holds the population's certificates.
    let population = Population::new(7, PopulationConfig::default()).unwrap();
    let holder = population
        .citizens(0..20)
        .find(|c| c.signature.is_some())
        .unwrap();
    let serial = &holder.signature.as_ref().unwrap().serial;
    let cert: Value = http
        .get(format!(
            "{}/certificates/{serial}",
            post.url_of(MockKind::Ca)
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cert["owner_snils"], holder.snils.as_str());
    post.reset();
    assert!(post.journal().is_empty());
    assert_eq!(
        post.admin(MockKind::Ca).journal(&Default::default()).len(),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_request_store_drops_the_oldest_answers_past_their_retention_and_no_other() {
    let mut c = config();
    c.requests_max = 2;
    c.requests_retention_ms = 2 * MS_PER_MIN;
    let mocks = start(c, truth()).await.unwrap();
    let base = mocks.base_url.clone();
    let http = reqwest::Client::new();
    let submit = |id: &str| {
        http.post(format!("{base}/mocks/pfr/requests"))
            .json(&json!({
                "request_id": id, "snils": "11223344595", "surname": "Семёнов", "name": "Пётр",
                "patronymic": "Ильич", "birth_date": "1985-04-12", "gender": "male",
            }))
            .send()
    };
    let advance = |s: u64| {
        http.post(format!("{base}/mocks/admin/clock/advance"))
            .json(&json!({ "seconds": s }))
            .send()
    };
    let status = |id: &str| {
        let url = format!("{base}/mocks/pfr/requests/{id}");
        let http = http.clone();
        async move { http.get(url).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(submit("a").await.unwrap().status(), 202);
    advance(60).await.unwrap();
    assert_eq!(submit("b").await.unwrap().status(), 202);
    // Full of requests not yet answered: refused, nothing dropped.
    let full = submit("c").await.unwrap();
    assert_eq!(full.status(), 503);
    let body: Value = full.json().await.unwrap();
    assert_eq!(body["error"]["code"], "store_full", "{body}");
    // "a" answered at 10 min, "b" at 11 min; at 11 min both are within their 2 minutes.
    advance(600).await.unwrap();
    assert_eq!(submit("c").await.unwrap().status(), 503);
    // At 12.5 min "a" is past its retention and goes; "b" stays.
    advance(90).await.unwrap();
    assert_eq!(submit("c").await.unwrap().status(), 202);
    assert_eq!(status("a").await, 404);
    assert_eq!(status("b").await, 200);
    assert_eq!(status("c").await, 200);
}
