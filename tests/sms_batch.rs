//! SMS batches as the engine sends them, and `--sms-batch`'s defaults: to the stand's own SMS
//! mock, SMS that queue up while four batches are in flight leave together in one request
//! (`{"messages": [...]}`), and each code reaches its own inbox and confirms its own
//! registration; to a gateway given by URL (`--sms-url`), one SMS a request.
//!
//! What a test sees never depends on a delay: a gate in front of the stand holds the engine's
//! requests to the SMS mock until the test has queued every SMS behind them, then lets them go.
//! The stand is assembled on the gate's address (so the engine takes the gate for its own
//! address and its own mock) and served on another one behind it.

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::Method;
use axum::response::Response;
use esia_sim::mocks::service::quiet_agencies;
use esia_sim::registry::HashProfile;
use esia_sim::stand::{self, RetryPolicy, StandConfig, UrlOverrides};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// What the gate holds and has seen.
struct Gate {
    /// The stand's own address, behind the gate.
    upstream: String,
    open: watch::Sender<bool>,
    /// SMS requests waiting at the gate, and the messages they carry.
    held: AtomicUsize,
    held_messages: AtomicUsize,
    /// The messages each SMS request carried, in the order they came.
    sizes: Mutex<Vec<usize>>,
    http: reqwest::Client,
}

/// Passes every request on to the stand; a `POST /mocks/sms/messages` waits for the gate to
/// open first.
async fn pass(State(g): State<Arc<Gate>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = to_bytes(body, 1 << 20).await.unwrap();
    if parts.method == Method::POST && parts.uri.path() == "/mocks/sms/messages" {
        let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let n = v["messages"].as_array().map_or(1, Vec::len);
        g.sizes.lock().unwrap().push(n);
        g.held_messages.fetch_add(n, Ordering::SeqCst);
        g.held.fetch_add(1, Ordering::SeqCst);
        let _ = g.open.subscribe().wait_for(|open| *open).await;
        g.held.fetch_sub(1, Ordering::SeqCst);
        g.held_messages.fetch_sub(n, Ordering::SeqCst);
    }
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut r = g
        .http
        .request(parts.method, format!("{}{path}", g.upstream))
        .body(bytes);
    for h in [CONTENT_TYPE, AUTHORIZATION] {
        if let Some(v) = parts.headers.get(&h) {
            r = r.header(h, v);
        }
    }
    let answer = r.send().await.unwrap();
    let mut out = Response::builder().status(answer.status());
    if let Some(ct) = answer.headers().get(CONTENT_TYPE) {
        out = out.header(CONTENT_TYPE, ct);
    }
    out.body(Body::from(answer.bytes().await.unwrap())).unwrap()
}

/// A stand behind a gate.
struct Gated {
    /// The gate's address: the one to call, and the one the engine takes for its own.
    base: String,
    gate: Arc<Gate>,
    http: reqwest::Client,
    cancel: CancellationToken,
}

impl Drop for Gated {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

impl Gated {
    /// The stand with its default `sms_batch`; its SMS gateway is its own mock, or, with
    /// `by_url`, the same mock given by URL (as `--sms-url` gives one).
    async fn start(by_url: bool) -> Gated {
        let front = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let back = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", front.local_addr().unwrap());
        let config = StandConfig {
            agencies: quiet_agencies(),
            hash_profile: HashProfile::None,
            code_seed: Some(18),
            // Held requests never time out, so none is sent twice.
            retry: RetryPolicy {
                timeout_ms: 120_000,
                ..RetryPolicy::default()
            },
            urls: UrlOverrides {
                sms: by_url.then(|| format!("{base}/mocks/sms")),
                ..UrlOverrides::default()
            },
            ..StandConfig::default()
        };
        let cancel = CancellationToken::new();
        let assembled = stand::assemble(&front, &config, cancel.clone()).unwrap();
        let upstream = format!("http://{}", back.local_addr().unwrap());
        let stop = cancel.clone();
        tokio::spawn(stand::serve(back, assembled, cancel.clone(), async move {
            stop.cancelled().await
        }));
        let gate = Arc::new(Gate {
            upstream,
            open: watch::channel(false).0,
            held: AtomicUsize::new(0),
            held_messages: AtomicUsize::new(0),
            sizes: Mutex::new(Vec::new()),
            http: reqwest::Client::new(),
        });
        let router = axum::Router::new().fallback(pass).with_state(gate.clone());
        let stop = cancel.clone();
        tokio::spawn(async move {
            axum::serve(front, router)
                .with_graceful_shutdown(async move { stop.cancelled().await })
                .await
        });
        Gated {
            base,
            gate,
            http: reqwest::Client::new(),
            cancel,
        }
    }

    fn held(&self) -> (usize, usize) {
        (
            self.gate.held.load(Ordering::SeqCst),
            self.gate.held_messages.load(Ordering::SeqCst),
        )
    }

    fn open(&self) {
        self.gate.open.send_replace(true);
    }

    fn sizes(&self) -> Vec<usize> {
        self.gate.sizes.lock().unwrap().clone()
    }

    async fn register(&self, i: usize) -> String {
        register(&self.http, &self.base, i).await
    }

    /// SMS the engine holds queued, not yet sent (`/healthz`).
    async fn queued(&self) -> u64 {
        let v: Value = self
            .http
            .get(format!("{}/healthz", self.gate.upstream))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["effects_queued"].as_u64().unwrap()
    }

    /// Waits for citizen `i`'s one SMS and confirms registration `id` with its code.
    async fn confirm_with_its_sms(&self, i: usize, id: &str) {
        let inbox = format!("{}/mocks/sms/inbox/{}", self.base, &phone(i)[1..]);
        let text = eventually("an SMS for each citizen", || async {
            let v: Value = self
                .http
                .get(&inbox)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let msgs = v["messages"].as_array().cloned().unwrap_or_default();
            assert!(msgs.len() <= 1, "citizen {i}: {v}");
            msgs.first().map(|m| m["text"].as_str().unwrap().to_owned())
        })
        .await;
        let code = text
            .split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 6)
            .unwrap_or_else(|| panic!("no code in {text:?}"));
        let r = self
            .http
            .post(format!("{}/api/v1/registrations/{id}/code", self.base))
            .json(&json!({ "code": code }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "citizen {i}: {}", r.text().await.unwrap());
    }

    async fn metrics(&self) -> String {
        self.http
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}

/// Starts the registration of citizen `i` at `base`: its id.
async fn register(http: &reqwest::Client, base: &str, i: usize) -> String {
    let r = http
        .post(format!("{base}/api/v1/registrations"))
        .json(&json!({ "surname": "Иванов", "name": "Иван", "phone": phone(i) }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    v["registration_id"].as_str().unwrap().to_owned()
}

fn phone(i: usize) -> String {
    format!("+7916{i:07}")
}

/// Retries `f` every 10 ms until it gives a value (at most 20 s of wall time: a failure, not a
/// measurement).
async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..2_000 {
        if let Some(v) = f().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("never: {what}");
}

const CITIZENS: usize = 100;
/// The engine's SMS batches in flight at once (`src/stand/performer.rs`).
const IN_FLIGHT: usize = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sms_queued_behind_four_batches_leave_together_and_every_code_confirms() {
    let g = Gated::start(false).await;
    let mut ids = Vec::new();
    // The first four SMS leave one by one, each a batch held at the gate...
    for i in 0..IN_FLIGHT {
        ids.push(g.register(i).await);
        eventually("one more batch held", || async {
            (g.held() == (i + 1, i + 1)).then_some(())
        })
        .await;
    }
    // ...and the others queue behind them.
    let mut started = Vec::new();
    for i in IN_FLIGHT..CITIZENS {
        let (http, base) = (g.http.clone(), g.base.clone());
        started.push(tokio::spawn(async move { register(&http, &base, i).await }));
    }
    for s in started {
        ids.push(s.await.unwrap());
    }
    let behind = (CITIZENS - IN_FLIGHT) as u64;
    eventually("the other SMS queued", || async {
        (g.queued().await == behind).then_some(())
    })
    .await;
    assert_eq!(g.held(), (IN_FLIGHT, IN_FLIGHT), "nothing else left");
    g.open();
    for (i, id) in ids.iter().enumerate() {
        g.confirm_with_its_sms(i, id).await;
    }
    // Four single SMS, then everything queued behind them in one request.
    let mut expected = vec![1; IN_FLIGHT];
    expected.push(CITIZENS - IN_FLIGHT);
    assert_eq!(g.sizes(), expected);
    let metrics = g.metrics().await;
    assert!(
        metrics.contains(&format!(
            r#"esia_effects_total{{kind="sms",outcome="ok"}} {CITIZENS}"#
        )),
        "{metrics}"
    );
    // The stand's own mock took the batch whole (its journal cuts a long body short).
    let v: Value = g
        .http
        .get(format!(
            "{}/mocks/sms/admin/journal?path=/mocks/sms/messages",
            g.base
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entries = v["entries"].as_array().unwrap();
    assert_eq!(entries.len(), IN_FLIGHT + 1, "{v}");
    assert!(entries.iter().all(|e| e["status"] == 202), "{v}");
    // The four held requests and the batch leave the gate together: the batch is any one of
    // the five entries (the journal's order is the mock's order of arrival).
    let batches = entries
        .iter()
        .filter(|e| {
            let body = &e["body"];
            body.get("messages").is_some()
                || body
                    .as_str()
                    .is_some_and(|s| s.starts_with(r#"{"messages":"#))
        })
        .count();
    assert_eq!(batches, 1, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn to_a_gateway_given_by_url_each_sms_is_a_request_of_its_own() {
    let g = Gated::start(true).await;
    let count = 2 * IN_FLIGHT;
    let mut ids = Vec::new();
    for i in 0..count {
        ids.push(g.register(i).await);
    }
    // Every SMS in flight at once, one a request: no batch lane holds them back.
    eventually("every SMS held at once", || async {
        (g.held() == (count, count)).then_some(())
    })
    .await;
    g.open();
    for (i, id) in ids.iter().enumerate() {
        g.confirm_with_its_sms(i, id).await;
    }
    assert_eq!(g.sizes(), vec![1; count]);
}
