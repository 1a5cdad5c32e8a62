//! The mocks at capacity, over a real socket (`esia_mocks::service::start`): a batch of SMS
//! past the gateway's quota is accepted in part and the rest refused message by message; the
//! post, the CA and a service center refuse beyond their queue in their own form, with
//! `Retry-After`; the journal marks each refusal as the stations count it.

use esia_mocks::agency::capacity::Capacity;
use esia_mocks::agency::latency::Latency;
use esia_mocks::agency::Profile;
use esia_mocks::clock::{MS_PER_DAY, MS_PER_HOUR};
use esia_mocks::service::{start, MocksConfig, Truth};
use serde_json::{json, Value};

/// A service of exactly `ms`, one server, no waiting place.
fn one_at_a_time(ms: u64) -> Profile {
    Profile {
        latency: Latency::fixed(ms),
        capacity: Some(Capacity {
            servers: 1,
            queue: Some(0),
            rate: None,
        }),
        ..Profile::default()
    }
}

fn config() -> MocksConfig {
    let mut c = MocksConfig::quiet();
    c.agencies.sms.service.capacity = Some(Capacity {
        servers: 100,
        queue: None,
        rate: Some(2.0),
    });
    c.agencies.post.service = one_at_a_time(3 * MS_PER_DAY);
    c.agencies.ca.service = one_at_a_time(MS_PER_HOUR);
    c.agencies.centers.service = one_at_a_time(MS_PER_HOUR);
    c
}

/// Waits (at most 20 s of wall time) until `agency` serves a request.
async fn in_service(running: &esia_mocks::service::Running, agency: &str) {
    for _ in 0..2_000 {
        let busy = running
            .mocks
            .loads()
            .iter()
            .any(|l| l.agency == agency && l.in_service == 1);
        if busy {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("{agency} never took the first request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_mock_refuses_beyond_its_capacity_in_its_own_form() {
    let running = start(config(), Truth::default()).await.unwrap();
    let base = running.base_url.clone();
    let http = reqwest::Client::new();

    // Five SMS in one batch, a quota of two a second: two sent, three refused.
    let batch: Vec<Value> = (0..5)
        .map(|i| json!({ "to": format!("+7999000000{i}"), "text": "code 123456" }))
        .collect();
    let r = http
        .post(format!("{base}/mocks/sms/messages"))
        .json(&json!({ "messages": batch }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    assert_eq!(r.headers()["retry-after"], "1");
    let body: Value = r.json().await.unwrap();
    let items = body["messages"].as_array().unwrap();
    assert_eq!(items.len(), 5);
    assert!(items[..2].iter().all(|m| m["message_id"].is_string()));
    for m in &items[2..] {
        assert_eq!(m["error"]["code"], "quota", "{m}");
        assert_eq!(m["error"]["retry_after_s"], 1);
    }
    // The next one alone: refused whole.
    let r = http
        .post(format!("{base}/mocks/sms/messages"))
        .json(&json!({ "to": "+79990000009", "text": "code 123456" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    let journal: Value = http
        .get(format!("{base}/mocks/sms/admin/journal"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let refused: Vec<(u64, u64)> = journal["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["status"].as_u64().unwrap(),
                e["refused"]["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(refused, vec![(202, 3), (429, 1)]);

    // The post: one letter at a time, three days each, nobody waiting.
    let letter = json!({ "recipient": "Иванов Иван", "address": "101000, Москва", "text": "код" });
    let first = http
        .post(format!("{base}/mocks/post/letters"))
        .json(&letter)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 201);
    let r = http
        .post(format!("{base}/mocks/post/letters"))
        .json(&letter)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    // Three days of the world's clock, at scale 1: whole wall seconds, rounded up.
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((259_000..=259_200).contains(&retry), "{retry}");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "queue_full", "{body}");

    // The CA holds its answer for the hour of service; the next asker is refused at once.
    let ca = tokio::spawn({
        let (http, base) = (http.clone(), base.clone());
        async move {
            http.get(format!("{base}/mocks/ca/certificates/NONE"))
                .send()
                .await
        }
    });
    in_service(&running, "ca").await;
    let r = http
        .get(format!("{base}/mocks/ca/certificates/OTHER"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "queue_full", "{body}");
    ca.abort();

    // A service center: one counter, nobody waiting; the second visitor is turned away with
    // the center's own `queue` and the wait for the counter.
    let visit = json!({ "snils": "112-233-445 95", "passport_series": "4512", "passport_number": "345678" });
    let first = tokio::spawn({
        let (http, base, visit) = (http.clone(), base.clone(), visit.clone());
        async move {
            http.post(format!("{base}/mocks/centers/mfc-1/visits"))
                .json(&visit)
                .send()
                .await
        }
    });
    in_service(&running, "centers").await;
    let r = http
        .post(format!("{base}/mocks/centers/mfc-1/visits"))
        .json(&visit)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((3_500..=3_600).contains(&retry), "{retry}");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "queue");
    first.abort();

    // The stations count what the journals show.
    let loads = running.mocks.loads();
    let of = |agency: &str| loads.iter().find(|l| l.agency == agency).unwrap().clone();
    assert_eq!(of("sms").refused_quota, 4);
    assert_eq!(of("post").refused_queue_full, 1);
    assert_eq!((of("post").limited, of("post").in_service), (true, 1));
    assert_eq!(of("ca").refused_queue_full, 1);
    assert_eq!(of("centers").refused_queue_full, 1);
    assert!(!of("pfr").limited);
    assert_eq!(
        loads.iter().map(|l| l.agency).collect::<Vec<_>>(),
        [
            "sms",
            "mail",
            "pfr",
            "fms",
            "ca",
            "post",
            "banks.sber",
            "banks.tinkoff",
            "banks.pochta",
            "centers"
        ]
    );
}
