//! The engine sends SMS that queue up together in one request to its own SMS mock
//! (`{"messages": [...]}`), and every code still reaches its own inbox.

use esia_sim::mocks::service::journal::Filter;
use esia_sim::mocks::service::MockKind;
use esia_sim::stand::StandServer;
use serde_json::{json, Value};
use std::time::Duration;

const CITIZENS: usize = 100;

fn phone(i: usize) -> String {
    format!("+7916{i:07}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sms_queued_together_leave_in_batches_and_every_code_arrives() {
    let stand = StandServer::start().await.unwrap();
    // The gateway answers after 200 ms: while the first batches are in flight, the other
    // registrations' SMS queue up behind them.
    stand
        .mock(MockKind::Sms)
        .set_profile(json!({ "response_delay": { "kind": "fixed", "value": "200ms" } }))
        .unwrap();
    let http = reqwest::Client::new();
    let url = format!("{}/api/v1/registrations", stand.base_url());
    let mut started = Vec::new();
    for i in 0..CITIZENS {
        let (http, url) = (http.clone(), url.clone());
        started.push(tokio::spawn(async move {
            http.post(url)
                .json(&json!({ "surname": "Иванов", "name": "Иван", "phone": phone(i) }))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for s in started {
        assert_eq!(s.await.unwrap(), 201);
    }
    // The delay holds every answer of the mock, inboxes too: lifted for reading them.
    stand
        .mock(MockKind::Sms)
        .set_profile(json!({ "response_delay": { "kind": "fixed", "value": "0s" } }))
        .unwrap();
    // Every citizen gets a message (each to its own inbox, with its own code).
    let mut codes = std::collections::HashSet::new();
    for i in 0..CITIZENS {
        let inbox = format!("{}/mocks/sms/inbox/{}", stand.base_url(), &phone(i)[1..]);
        let mut text = None;
        for _ in 0..500 {
            let v: Value = http.get(&inbox).send().await.unwrap().json().await.unwrap();
            if let Some(t) = v["messages"][0]["text"].as_str() {
                assert_eq!(v["messages"].as_array().unwrap().len(), 1, "{v}");
                text = Some(t.to_owned());
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let text = text.unwrap_or_else(|| panic!("no SMS for citizen {i}"));
        codes.insert(text);
    }
    assert_eq!(codes.len(), CITIZENS, "each citizen its own code");
    // Fewer requests than SMS, and some carried several messages (a long body is cut in the
    // journal, so its start is read as text).
    let filter = Filter {
        path: Some("/mocks/sms/messages".into()),
        ..Filter::default()
    };
    let requests = stand.mock(MockKind::Sms).journal(&filter);
    let batches = requests
        .iter()
        .filter(|e| match e.body.as_ref() {
            Some(Value::Object(o)) => o.contains_key("messages"),
            Some(Value::String(s)) => s.starts_with(r#"{"messages":"#),
            _ => false,
        })
        .count();
    assert!(batches >= 1, "{requests:?}");
    assert!(
        requests.len() < CITIZENS / 2,
        "{} requests for {CITIZENS} SMS",
        requests.len()
    );
    let metrics = http
        .get(format!("{}/metrics", stand.base_url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(&format!(
            r#"esia_effects_total{{kind="sms",outcome="ok"}} {CITIZENS}"#
        )),
        "{metrics}"
    );
}
