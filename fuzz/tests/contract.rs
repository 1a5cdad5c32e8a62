//! Fuzz target: every JSON body of the contract, through the whole stand's router in process
//! (the engine's routes and the mocks', as `serve` answers them): mutated valid bodies and any
//! JSON, to every route that takes a body (but the clock's advance). No answer is a 500 (a
//! panic caught, or a bug), every answer comes within [`ANSWER_WITHIN`], and every refusal is
//! the contract's JSON error. (A 503 is allowed: the effects queue and the
//! stores fill up over a million requests, as they should.)

mod support;

use axum::body::Body;
use axum::http::Request;
use esia_sim::mocks::clock::{Epoch, SimTime};
use esia_sim::mocks::service::{quiet_agencies, Mocks, MocksConfig, Truth, World};
use esia_sim::registry::HashProfile;
use esia_sim::stand::{self, AgencyUrls, StandConfig};
use proptest::prelude::*;
use std::sync::OnceLock;
use tower::ServiceExt;

/// The routes that take a body: method and path (tokens added to the engine's operator and
/// partner routes).
const ROUTES: &[(&str, &str)] = &[
    ("POST", "/api/v1/registrations"),
    ("POST", "/api/v1/registrations/6902c9f9a3000000/code"),
    ("POST", "/api/v1/registrations/6902c9f9a3000000/password"),
    ("POST", "/api/v1/sessions"),
    ("PUT", "/api/v1/accounts/1000000001/personal-data"),
    ("PUT", "/api/v1/accounts/1000000001/password"),
    ("POST", "/api/v1/accounts/1000000001/confirmations"),
    ("POST", "/api/v1/accounts/1000000001/confirmations/code"),
    ("POST", "/api/v1/operator/confirmations"),
    ("POST", "/api/v1/operator/registrations"),
    // At once: the stand here performs no effects, so a bank's request would wait its 10 s.
    ("POST", "/api/v1/partners/sber/confirmations?wait=false"),
    ("POST", "/api/v1/callbacks/pfr"),
    ("POST", "/mocks/sms/messages"),
    ("POST", "/mocks/mail/messages"),
    ("POST", "/mocks/pfr/requests"),
    ("POST", "/mocks/fms/requests"),
    ("POST", "/mocks/post/letters"),
    ("POST", "/mocks/post/letters/10100000000011/pickup"),
    ("POST", "/mocks/centers/mfc-1/visits"),
    ("POST", "/mocks/banks/sber/clients/11223344595/gosuslugi"),
    ("PUT", "/mocks/sms/admin/profile"),
    ("PUT", "/mocks/banks/admin/profile"),
    ("POST", "/mocks/pfr/admin/faults"),
    ("POST", "/mocks/fms/admin/records"),
    ("POST", "/mocks/centers/admin/records"),
    // Not `POST /mocks/admin/clock/advance`: an advance waits for the effects the commands
    // queued, which this stand never performs (tests/hardening.rs and tests/time_control.rs
    // call it on a running stand).
];

/// Every route answers at once on this stand (its performer not started, a bank asked
/// `?wait=false`, each mock reset after its profile or faults are set): an answer later than
/// this is a hang, reported with its input.
const ANSWER_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);

/// The mock whose profile or faults `path` sets (`/mocks/pfr/admin/faults`: `pfr`). A profile
/// or a wire fault a case sets may delay every later request to that mock by as much as a u64
/// of milliseconds (the world's clock here runs at wall speed): the first 1,000,000-case run
/// hung after 11,550 cases at `POST /mocks/pfr/requests`, waiting out the `response_delay` of
/// an earlier case's wire faults (a harness fault: the delay is the fault asked for). The
/// case's answer is checked; its effect is undone, for the mock's later cases to answer at
/// once.
fn mock_configured(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/mocks/")?;
    let (mock, admin) = rest.split_once('/')?;
    matches!(admin, "admin/profile" | "admin/faults").then_some(mock)
}

/// `POST /mocks/MOCK/admin/reset`: the mock's profile as the stand started it, no faults.
async fn reset(app: &esia_sim::mocks::service::App, mock: &str) {
    let request = Request::builder()
        .method("POST")
        .uri(format!("/mocks/{mock}/admin/reset"))
        .body(Body::empty())
        .expect("a request");
    let r = app.clone().oneshot(request).await.expect("an answer");
    assert_eq!(r.status().as_u16(), 204, "reset of {mock}");
}

struct Harness {
    runtime: tokio::runtime::Runtime,
    app: esia_sim::mocks::service::App,
}

fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        let app = runtime.block_on(async {
            let config = StandConfig {
                operator_token: "op".into(),
                partner_token: "pa".into(),
                hash_profile: HashProfile::None,
                code_seed: Some(1),
                ..StandConfig::default()
            };
            let world = World::new(Epoch::default(), SimTime::ZERO, 1.0).expect("a world");
            let s = stand::Stand::new(
                &config,
                world.clone(),
                AgencyUrls::on("http://127.0.0.1:9"),
                "http://stand.test",
            );
            let mocks_config = MocksConfig {
                agencies: quiet_agencies(),
                ..MocksConfig::default()
            };
            let mocks = Mocks::new(world, mocks_config, Truth::default());
            stand::app(s, Some(&mocks))
        });
        Harness { runtime, app }
    })
}

/// Any JSON value, a few levels deep.
fn json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        ".{0,24}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn body() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => support::text_from(support::corpus("bodies")),
        1 => json().prop_map(|v| v.to_string()),
    ]
}

proptest! {
    #![proptest_config(support::config())]

    #[test]
    fn bodies(route in proptest::sample::select(ROUTES), body in body()) {
        let h = harness();
        let (method, path) = route;
        let token = if path.contains("/operator/") { "op" } else { "pa" };
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {token}"))
            .body(Body::from(body.clone()))
            .expect("a request");
        let answered = h.runtime.block_on(async {
            let answer = tokio::time::timeout(ANSWER_WITHIN, async {
                let r = h.app.clone().oneshot(request).await.expect("an answer");
                let status = r.status();
                let bytes = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap_or_default();
                (status, bytes)
            })
            .await;
            if let Some(mock) = mock_configured(path) {
                reset(&h.app, mock).await;
            }
            answer
        });
        let Ok((status, answer)) = answered else {
            return Err(TestCaseError::fail(format!(
                "no answer within {ANSWER_WITHIN:?}: {method} {path} {body}"
            )));
        };
        prop_assert_ne!(status.as_u16(), 500, "{} {} {}", method, path, body);
        if status.is_client_error() || status.is_server_error() {
            let v: serde_json::Value = serde_json::from_slice(&answer)
                .map_err(|e| TestCaseError::fail(format!("{status} not JSON: {e}")))?;
            prop_assert!(v["error"]["code"].is_string(), "{}", v);
        }
    }
}
