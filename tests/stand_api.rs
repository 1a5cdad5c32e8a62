//! The stand's router in process (`tower::ServiceExt::oneshot`): every bad input gets a 4xx in
//! the contract's JSON format, with `field` where one input is at fault, never a 5xx; full
//! stores answer 503; `/openapi.json` is valid OpenAPI 3 and describes exactly the routes the router
//! serves, each with the methods it answers.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use esia_mocks::service::App;
use esia_sim::mocks::clock::{Epoch, SimTime};
use esia_sim::mocks::service::{Mocks, MocksConfig, Truth, World};
use esia_sim::registry::{HashProfile, RegistryConfig};
use esia_sim::stand::{self, AgencyUrls, PerformerConfig, StandConfig};
use serde_json::Value;
use tower::ServiceExt;

fn config() -> StandConfig {
    StandConfig {
        operator_token: "op-secret".into(),
        partner_token: "bank-secret".into(),
        hash_profile: HashProfile::None,
        code_seed: Some(1),
        ..StandConfig::default()
    }
}

/// The whole app, its performer not started (effects just queue).
fn app_with(config: StandConfig) -> App {
    let (s, mocks) = stand_with(config);
    stand::app(s, Some(&mocks))
}

fn stand_with(config: StandConfig) -> (std::sync::Arc<stand::Stand>, Mocks) {
    let world = World::new(Epoch::default(), SimTime::ZERO, 1.0).unwrap();
    let s = stand::Stand::new(
        &config,
        world.clone(),
        AgencyUrls::on("http://127.0.0.1:9"),
        "http://stand.test",
    );
    (
        s,
        Mocks::new(world, MocksConfig::default(), Truth::default()),
    )
}

async fn send(
    app: &App,
    method: &str,
    path: &str,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> (StatusCode, Value, Option<String>) {
    let mut req = Request::builder().method(method).uri(path);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req
        .body(
            body.map(|b| Body::from(b.to_owned()))
                .unwrap_or_else(Body::empty),
        )
        .unwrap();
    let response = app.clone().oneshot(req).await.unwrap();
    let status = response.status();
    let ct = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, value, ct)
}

/// One bad request and what it must get.
struct Case {
    method: &'static str,
    path: &'static str,
    body: Option<&'static str>,
    headers: &'static [(&'static str, &'static str)],
    status: u16,
    code: &'static str,
    field: Option<&'static str>,
}

const fn case(
    method: &'static str,
    path: &'static str,
    body: Option<&'static str>,
    status: u16,
    code: &'static str,
    field: Option<&'static str>,
) -> Case {
    Case {
        method,
        path,
        body,
        headers: &[],
        status,
        code,
        field,
    }
}

const REG: &str = "/api/v1/registrations";

#[tokio::test]
async fn every_bad_input_gets_a_json_4xx_naming_its_field() {
    let app = app_with(config());
    let cases = [
        case("POST", REG, Some("{"), 400, "malformed_json", None),
        case("POST", REG, Some(""), 400, "malformed_json", None),
        // An array is not read as the form's fields in order.
        case("POST", REG, Some("[]"), 422, "invalid", None),
        case(
            "POST",
            REG,
            Some(r#"["Иванов", "Иван"]"#),
            422,
            "invalid",
            None,
        ),
        case(
            "POST",
            REG,
            Some(r#"{"surname": 5, "name": "Иван"}"#),
            422,
            "invalid",
            Some("surname"),
        ),
        case(
            "POST",
            REG,
            Some(r#"{"surname": "Иванов", "name": "Иван"}"#),
            422,
            "invalid",
            Some("phone"),
        ),
        case(
            "POST",
            REG,
            Some(r#"{"surname": "Ив4нов", "name": "Иван", "phone": "+79161234567"}"#),
            422,
            "invalid",
            Some("surname"),
        ),
        case(
            "POST",
            REG,
            Some(r#"{"surname": "Иванов", "name": "Иван", "phone": "123"}"#),
            422,
            "invalid",
            Some("phone"),
        ),
        case(
            "POST",
            REG,
            Some(r#"{"surname": "Иванов", "name": "Иван", "email": "x@"}"#),
            422,
            "invalid",
            Some("email"),
        ),
        case(
            "POST",
            REG,
            Some(r#"{"surname": "Иванов", "name": "Иван", "email": "a@b.ru", "channel": "sms"}"#),
            422,
            "invalid",
            Some("channel"),
        ),
        case("GET", REG, None, 405, "method_not_allowed", None),
        case(
            "DELETE",
            "/api/v1/sessions",
            None,
            405,
            "method_not_allowed",
            None,
        ),
        case("GET", "/api/v2/anything", None, 404, "no_route", None),
        case(
            "POST",
            "/api/v1/registrations/zzz/code",
            Some(r#"{"code": "123456"}"#),
            404,
            "not_found",
            None,
        ),
        case(
            "POST",
            "/api/v1/registrations/00000000000000ab/code",
            Some(r#"{}"#),
            422,
            "invalid",
            Some("code"),
        ),
        case(
            "POST",
            "/api/v1/registrations/00000000000000ab/code",
            Some(r#"{"code": 123456}"#),
            422,
            "invalid",
            Some("code"),
        ),
        case(
            "GET",
            "/api/v1/registrations/00000000000000ab/email",
            None,
            422,
            "invalid",
            Some("token"),
        ),
        case(
            "POST",
            "/api/v1/registrations/00000000000000ab/password",
            Some(r#"{"password": "Vx7kPz9mQ"}"#),
            422,
            "invalid",
            Some("password_repeat"),
        ),
        case(
            "POST",
            "/api/v1/sessions",
            Some(r#"{"login": "+79161234567"}"#),
            422,
            "invalid",
            Some("password"),
        ),
        case(
            "POST",
            "/api/v1/sessions",
            Some(r#"{"login": "+79161234567", "password": "Vx7kPz9mQ"}"#),
            401,
            "unauthorized",
            None,
        ),
        case(
            "GET",
            "/api/v1/accounts/1000000001",
            None,
            401,
            "token_missing",
            None,
        ),
        case("GET", "/api/v1/accounts/abc", None, 404, "not_found", None),
        case(
            "PUT",
            "/api/v1/accounts/1000000001/personal-data",
            Some("{}"),
            401,
            "token_missing",
            None,
        ),
        case(
            "POST",
            "/api/v1/operator/confirmations",
            Some("{}"),
            401,
            "token_missing",
            None,
        ),
        case(
            "POST",
            "/api/v1/operator/registrations",
            Some("{}"),
            401,
            "token_missing",
            None,
        ),
        case(
            "POST",
            "/api/v1/partners/sber/confirmations",
            Some("{}"),
            401,
            "token_missing",
            None,
        ),
        case(
            "POST",
            "/api/v1/partners/vtb/confirmations",
            Some("{}"),
            404,
            "not_found",
            None,
        ),
        case(
            "POST",
            "/api/v1/callbacks/xyz",
            Some(r#"{"request_id": "00000000000000ab"}"#),
            404,
            "not_found",
            None,
        ),
        case(
            "POST",
            "/api/v1/callbacks/pfr",
            Some(r#"{"request_id": "zz"}"#),
            404,
            "not_found",
            None,
        ),
        case(
            "POST",
            "/api/v1/callbacks/pfr",
            Some(r#"{}"#),
            422,
            "invalid",
            Some("request_id"),
        ),
        case(
            "POST",
            "/mocks/admin/clock/advance",
            Some(r#"{"seconds": -1}"#),
            422,
            "invalid",
            Some("seconds"),
        ),
        case(
            "POST",
            "/mocks/admin/clock/advance",
            Some(r#"{"seconds": "soon"}"#),
            422,
            "invalid",
            Some("seconds"),
        ),
        case(
            "POST",
            "/mocks/sms/messages",
            Some(r#"{"to": "123", "text": "x"}"#),
            422,
            "invalid",
            Some("to"),
        ),
        case(
            "POST",
            "/mocks/sms/messages",
            Some(r#"{"to": "+79161234567", "text": ""}"#),
            422,
            "invalid",
            Some("text"),
        ),
        case(
            "DELETE",
            "/mocks/sms/messages",
            None,
            405,
            "method_not_allowed",
            None,
        ),
        case(
            "GET",
            "/mocks/sms/inbox/abc",
            None,
            422,
            "invalid",
            Some("phone"),
        ),
        case(
            "GET",
            "/mocks/sms/admin/journal?limit=many",
            None,
            422,
            "invalid",
            Some("query"),
        ),
        case(
            "GET",
            "/mocks/mail/inbox/not-an-address",
            None,
            422,
            "invalid",
            Some("address"),
        ),
        case(
            "POST",
            "/mocks/mail/messages",
            Some(r#"{"to": "a@b.ru", "text": "x"}"#),
            422,
            "invalid",
            Some("subject"),
        ),
        case(
            "POST",
            "/mocks/pfr/requests",
            Some(
                r#"{"request_id": "r1", "snils": "1", "surname": "А", "name": "Б", "birth_date": "1990-01-01", "gender": "male"}"#,
            ),
            422,
            "invalid",
            Some("snils"),
        ),
        case(
            "POST",
            "/mocks/pfr/requests",
            Some(
                r#"{"request_id": "r1", "snils": "112-233-445 95", "surname": "А", "name": "Б", "gender": "male"}"#,
            ),
            422,
            "invalid",
            Some("birth_date"),
        ),
        case(
            "POST",
            "/mocks/pfr/requests",
            Some(
                r#"{"request_id": "r1", "snils": "112-233-445 95", "surname": "А", "name": "Б", "birth_date": "1990-01-01", "gender": "m"}"#,
            ),
            422,
            "invalid",
            Some("gender"),
        ),
        case(
            "POST",
            "/mocks/pfr/requests",
            Some(
                r#"{"request_id": "r 1", "snils": "112-233-445 95", "surname": "А", "name": "Б", "birth_date": "1990-01-01", "gender": "male"}"#,
            ),
            422,
            "invalid",
            Some("request_id"),
        ),
        case(
            "POST",
            "/mocks/pfr/requests",
            Some(
                r#"{"request_id": "r1", "snils": "112-233-445 95", "surname": "А", "name": "Б", "birth_date": "1990-01-01", "gender": "male", "callback_url": "ftp://x"}"#,
            ),
            422,
            "invalid",
            Some("callback_url"),
        ),
        case(
            "GET",
            "/mocks/pfr/requests/unknown",
            None,
            404,
            "not_found",
            None,
        ),
        case(
            "POST",
            "/mocks/pfr/requests/unknown/complete",
            None,
            404,
            "not_found",
            None,
        ),
        case(
            "POST",
            "/mocks/pfr/admin/records",
            Some(
                r#"{"records": [{"snils": "1", "surname": "А", "name": "Б", "birth_date": "1990-01-01", "gender": "male"}]}"#,
            ),
            422,
            "invalid",
            Some("records[0].snils"),
        ),
        case(
            "POST",
            "/mocks/fms/requests",
            Some(
                r#"{"request_id": "r1", "series": "45", "number": "123456", "surname": "А", "name": "Б", "birth_date": "1990-01-01", "issue_date": "2010-01-01"}"#,
            ),
            422,
            "invalid",
            Some("series"),
        ),
        case(
            "POST",
            "/mocks/fms/requests",
            Some(
                r#"{"request_id": "r1", "series": "4512", "number": "123456", "surname": "А", "name": "Б", "birth_date": "01.01.1990", "issue_date": "2010-01-01"}"#,
            ),
            422,
            "invalid",
            Some("birth_date"),
        ),
    ];
    for c in &cases {
        let (status, body, ct) = send(&app, c.method, c.path, c.body, c.headers).await;
        let what = format!("{} {} {:?}: {status} {body}", c.method, c.path, c.body);
        assert_eq!(status.as_u16(), c.status, "{what}");
        assert!(
            ct.unwrap_or_default().starts_with("application/json"),
            "{what}"
        );
        assert_eq!(body["error"]["code"], c.code, "{what}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{what}"
        );
        assert_eq!(body["error"]["field"].as_str(), c.field, "{what}");
    }
}

#[tokio::test]
async fn tokens_bodies_and_media_types() {
    let app = app_with(config());
    let big = format!(
        r#"{{"surname": "{}", "name": "Иван"}}"#,
        "a".repeat(esia_sim::mocks::service::BODY_LIMIT_BYTES)
    );
    for path in [REG, "/mocks/sms/messages", "/mocks/pfr/requests"] {
        let (s, b, _) = send(&app, "POST", path, Some(&big), &[]).await;
        assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{path}: {b}");
        assert_eq!(b["error"]["code"], "body_too_large");
    }
    let xml = [("content-type", "application/xml")];
    let (s, b, _) = send(&app, "POST", REG, Some("<a/>"), &xml).await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{b}");
    // curl -d declares a form; the body is JSON all the same.
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let body = r#"{"surname": "Иванов", "name": "Иван", "phone": "+79161234567"}"#;
    let (s, b, _) = send(&app, "POST", REG, Some(body), &form).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (s, b, _) = send(&app, "POST", REG, Some(body), &[]).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");

    let op = "/api/v1/operator/confirmations";
    let shown = r#"{"center_id": "mfc-1", "snils": "112-233-445 95", "passport": {"series": "4512", "number": "345678"}}"#;
    for (auth, status, code) in [
        ("Bearer nope", 403, "token_wrong"),
        ("Bearer bank-secret", 403, "token_wrong"),
        ("Basic op-secret", 401, "token_missing"),
        ("Bearer op-secret", 404, "not_found"),
    ] {
        let (s, b, _) = send(&app, "POST", op, Some(shown), &[("authorization", auth)]).await;
        assert_eq!(s.as_u16(), status, "{auth}: {b}");
        assert_eq!(b["error"]["code"], code, "{auth}");
    }
    let bad_center = r#"{"center_id": "", "snils": "112-233-445 95", "passport": {"series": "4512", "number": "345678"}}"#;
    let auth = [("authorization", "Bearer op-secret")];
    let (s, b, _) = send(&app, "POST", op, Some(bad_center), &auth).await;
    assert_eq!(
        (s.as_u16(), b["error"]["field"].as_str()),
        (422, Some("center_id")),
        "{b}"
    );
    let (s, b, _) = send(&app, "POST", op, Some(r#"{"center_id": "mfc-1", "snils": "1", "passport": {"series": "4512", "number": "345678"}}"#), &auth).await;
    assert_eq!(
        (s.as_u16(), b["error"]["field"].as_str()),
        (422, Some("snils")),
        "{b}"
    );
    let (s, b, _) = send(
        &app,
        "POST",
        "/api/v1/operator/registrations",
        Some(r#"{"surname": "Иванов"}"#),
        &auth,
    )
    .await;
    assert_eq!(
        (s.as_u16(), b["error"]["field"].as_str()),
        (422, Some("name")),
        "{b}"
    );
    let sessions = [("authorization", "Bearer 0123")];
    let (s, b, _) = send(&app, "GET", "/api/v1/accounts/1000000001", None, &sessions).await;
    assert_eq!(
        (s.as_u16(), b["error"]["code"].as_str()),
        (401, Some("unauthorized")),
        "{b}"
    );
}

#[tokio::test]
async fn full_stores_and_queues_answer_503() {
    let one =
        |phone: &str| format!(r#"{{"surname": "Иванов", "name": "Иван", "phone": "{phone}"}}"#);
    let app = app_with(StandConfig {
        registry: RegistryConfig::with_caps(1),
        ..config()
    });
    let (s, _, _) = send(&app, "POST", REG, Some(&one("+79161234567")), &[]).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, b, _) = send(&app, "POST", REG, Some(&one("+79161234568")), &[]).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{b}");
    assert_eq!(b["error"]["code"], "store_full");

    // The performer is not running here: one queued effect fills a queue of one.
    let app = app_with(StandConfig {
        performer: PerformerConfig {
            queue: 1,
            ..PerformerConfig::default()
        },
        ..config()
    });
    let (s, _, _) = send(&app, "POST", REG, Some(&one("+79161234567")), &[]).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, b, _) = send(&app, "POST", REG, Some(&one("+79161234568")), &[]).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{b}");
    assert_eq!(b["error"]["code"], "busy");
}

/// The router's own paths, read from its `Debug` form: axum lists every route's path there
/// (`RouteId(n): "/path"`) and offers no other way to walk them. The fallback's catch-all is
/// not a route.
fn router_paths(app: &Router) -> Vec<String> {
    let debug = format!("{app:?}");
    let routes = debug.split("fallback_router").next().expect("a Debug form");
    let mut paths: Vec<String> = routes
        .split("RouteId(")
        .skip(1)
        .filter_map(|s| {
            let (_, rest) = s.split_once(')')?;
            let path = rest.strip_prefix(": \"")?;
            Some(path.split('"').next()?.to_owned())
        })
        .collect();
    paths.sort();
    paths.dedup();
    assert!(
        paths.len() > 40,
        "axum's Debug form of a router changed; read the paths another way: {paths:?}"
    );
    paths
}

/// Whether the document's path template `doc` (with its path parameters' enums) covers the
/// router's path `route`: a parameter covers a parameter or, within its enum, a literal.
fn covers(doc: &str, item: &Value, route: &str) -> bool {
    let (d, r): (Vec<&str>, Vec<&str>) = (doc.split('/').collect(), route.split('/').collect());
    d.len() == r.len()
        && d.iter().zip(&r).all(|(d, r)| {
            let Some(name) = d.strip_prefix('{').and_then(|n| n.strip_suffix('}')) else {
                return d == r;
            };
            if r.starts_with('{') {
                return true;
            }
            let allowed: Vec<&Value> = item
                .as_object()
                .into_iter()
                .flat_map(|ops| ops.values())
                .flat_map(|op| op["parameters"].as_array().into_iter().flatten())
                .filter(|p| p["name"] == name && p["in"] == "path")
                .filter_map(|p| p["schema"]["enum"].as_array())
                .flatten()
                .collect();
            allowed.is_empty() || allowed.iter().any(|v| v.as_str() == Some(r))
        })
}

/// `path` with every path parameter given a value its handler can parse.
fn concrete(path: &str) -> String {
    path.replace("{id}", "x")
        .replace("{oid}", "1")
        .replace("{bank}", "sber")
        .replace("{agency}", "pfr")
        .replace("{phone}", "79161234567")
        .replace("{address}", "a%40b.ru")
        .replace("{mock}", "post")
        .replace("{n}", "10100000000011")
        .replace("{serial}", "00")
        .replace("{snils}", "11223344595")
}

#[tokio::test]
async fn openapi_describes_exactly_the_routes_of_the_router() {
    let app = app_with(config());
    let (s, doc, _) = send(&app, "GET", "/openapi.json", None, &[]).await;
    assert_eq!(s, StatusCode::OK);
    let _: openapiv3::OpenAPI =
        serde_json::from_value(doc.clone()).expect("the document is OpenAPI 3");
    // Every $ref points at a schema that exists.
    let text = doc.to_string();
    for part in text.split("#/components/schemas/").skip(1) {
        let name = part.split('"').next().unwrap();
        assert!(doc["components"]["schemas"].get(name).is_some(), "{name}");
    }
    let documented = doc["paths"].as_object().unwrap();
    // The routes before their layers: the layered app is one service to axum's `Debug`.
    let (s, mocks) = stand_with(config());
    let routes = router_paths(&stand::routes(s, Some(&mocks)));

    // Every route of the router is documented, with exactly the methods it answers.
    for route in &routes {
        let Some((template, item)) = documented
            .iter()
            .find(|(template, item)| covers(template, item, route))
        else {
            panic!("{route} is served but missing from /openapi.json");
        };
        let path = concrete(route);
        let mut answered = Vec::new();
        for method in ["get", "post", "put", "delete", "patch"] {
            let (s, b, _) = send(&app, &method.to_uppercase(), &path, Some("{}"), &[]).await;
            assert_ne!(b["error"]["code"], "no_route", "{method} {path}: {b}");
            if s != StatusCode::METHOD_NOT_ALLOWED {
                answered.push(method);
            }
        }
        let mut methods: Vec<&str> = item
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        methods.sort();
        answered.sort();
        assert_eq!(answered, methods, "{route} (documented as {template})");
    }

    // Every documented route is served: each template covers a route of the router, and
    // answers its methods with neither 404 no_route, 405 nor a 5xx.
    for (template, item) in documented {
        assert!(
            routes.iter().any(|r| covers(template, item, r)),
            "{template} is documented but not served"
        );
        for method in item.as_object().unwrap().keys() {
            let path = concrete(template);
            let (s, b, _) = send(&app, &method.to_uppercase(), &path, Some("{}"), &[]).await;
            assert_ne!(b["error"]["code"], "no_route", "{method} {template}");
            assert_ne!(s, StatusCode::METHOD_NOT_ALLOWED, "{method} {template}");
            // The bank asks the engine it was given; this in-process stand gave it none.
            let no_engine = b["error"]["code"] == "no_engine";
            assert!(
                s.as_u16() < 500 || no_engine,
                "{method} {template}: {s} {b}"
            );
        }
    }
}
