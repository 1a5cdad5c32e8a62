//! `GET /openapi.json`: an OpenAPI 3.0 document of every route of the stand, the engine's and
//! the mocks'. The schemas are derived from the types the handlers read and write
//! ([`crate::wire`]; the mocks' contract, [`esia_mocks::wire`]: its forms and each mock's
//! request and view types) with utoipa's `ToSchema`; [`ROUTES`] (one row per route) names each
//! route's body, answer and token, and [`errors`] its error answers. A test
//! (`tests/stand_api.rs`) checks that the document parses as OpenAPI 3, that every `$ref`
//! resolves, and that its routes and methods are exactly those the live router serves; CI runs
//! schemathesis against it (`.ci/run`).

use crate::wire;
use serde_json::{json, Map, Value};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

/// Who may call a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    None,
    /// A session token from `POST /api/v1/sessions`.
    Session,
    Operator,
    Partner,
}

/// One route of the stand.
#[derive(Clone, Copy, Debug)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    /// The request body's schema in `components.schemas`.
    pub body: Option<&'static str>,
    pub auth: Auth,
    /// The success status and the response's schema.
    pub ok: (u16, &'static str),
}

const fn route(
    method: &'static str,
    path: &'static str,
    tag: &'static str,
    summary: &'static str,
    body: Option<&'static str>,
    auth: Auth,
    ok: (u16, &'static str),
) -> Route {
    Route {
        method,
        path,
        tag,
        summary,
        body,
        auth,
        ok,
    }
}

/// Every route of `esia-sim serve`.
pub const ROUTES: &[Route] = &[
    route("post", "/api/v1/registrations", "registration", "Start a registration with a phone, an e-mail or both: an SMS code to the phone or a link to the e-mail, by the preferred `channel` (default: sms when a phone is given); the other contact's code or link comes once the password is set", Some("RegistrationForm"), Auth::None, (201, "RegistrationStarted")),
    route("post", "/api/v1/registrations/{id}/code", "registration", "Confirm the phone with the SMS code (wrong: 422 with attempts_left; expired: 410; locked: 429); after the password, the phone becomes the account's second login (`oid`)", Some("Code"), Auth::None, (200, "ContactConfirmed")),
    route("post", "/api/v1/registrations/{id}/resend", "registration", "Send a new code or link (too soon: 429 with Retry-After)", None, Auth::None, (200, "RegistrationStarted")),
    route("get", "/api/v1/registrations/{id}/email", "registration", "Follow the e-mail link (query `token`; expired: 410); after the password, the e-mail becomes the account's second login (`oid`)", None, Auth::None, (200, "ContactConfirmed")),
    route("post", "/api/v1/registrations/{id}/password", "registration", "Set the password: the simplified account, its login the confirmed contact (weak: 422; the birth date is not known yet, so that rule waits for a change); with a second contact, its code or link is sent now (`second_contact`)", Some("PasswordForm"), Auth::None, (201, "Registered")),
    route("post", "/api/v1/sessions", "session", "Log in by phone, e-mail or SNILS", Some("Login"), Auth::None, (200, "Session")),
    route("get", "/api/v1/accounts/{oid}", "account", "Read the account: tier, verification, confirmation, restrictions", None, Auth::Session, (200, "Account")),
    route("put", "/api/v1/accounts/{oid}/password", "account", "Change the password (an MFC's one-time password too): every rule, and once personal data are known not the birth date (weak: 422 weak_password; a wrong current password: 422 field current_password; no password: 409)", Some("PasswordChange"), Auth::Session, (204, "Empty")),
    route("put", "/api/v1/accounts/{oid}/personal-data", "account", "Submit personal data: PFR and FMS verify it (documents of another account: 409)", Some("PersonalData"), Auth::Session, (202, "VerificationDispatched")),
    route("post", "/api/v1/accounts/{oid}/confirmations", "confirmation", "Order a post letter (`method: post`: 202 with the tracking number; the post down: 503) or sign with a certificate (`method: e_signature`: 200 the confirmed account; refused: 422 certificate_refused with `verdict`; the CA slow: 202 signature_pending)", Some("ConfirmationRequest"), Auth::Session, (202, "ConfirmationAnswer")),
    route("post", "/api/v1/accounts/{oid}/confirmations/code", "confirmation", "Enter the letter's code: confirmed, with `no_fns_cabinet`", Some("Code"), Auth::Session, (200, "Account")),
    route("post", "/api/v1/operator/confirmations", "operator", "A service center of the directory (GET /mocks/centers) confirms identity (unknown center_id: 404 center_not_found)", Some("OperatorConfirmation"), Auth::Operator, (200, "OperatorConfirmed")),
    route("post", "/api/v1/operator/registrations", "operator", "An MFC of the directory registers a confirmed account with a one-time password (a center of another kind: 422 cannot_register; unknown center_id: 404 center_not_found)", Some("MfcRegistration"), Auth::Operator, (201, "MfcRegistered")),
    route("post", "/api/v1/partners/{bank}/confirmations", "partner", "A bank confirms (or creates) its client's account once PFR and FMS agree (200), or 202 while they have not answered", Some("PersonWithPhone"), Auth::Partner, (200, "PartnerConfirmation")),
    route("get", "/api/v1/partners/{bank}/confirmations/{id}", "partner", "Where a bank's confirmation stands", None, Auth::Partner, (200, "PartnerConfirmation")),
    route("post", "/api/v1/callbacks/{agency}", "agency", "An agency (pfr, fms) says a request's answer is ready (202); the engine fetches the answer from the agency itself", Some("Callback"), Auth::None, (202, "CallbackAccepted")),
    route("get", "/healthz", "stand", "Health", None, Auth::None, (200, "Health")),
    route("get", "/metrics", "stand", "Metrics in the Prometheus (OpenMetrics) text format; each mock's capacity at work: esia_mock_in_service{agency}, esia_mock_queued{agency} (a mock with a capacity), esia_mock_refused_total{agency, reason: queue_full, quota}; esia_effects_deferred (the engine's effects set aside after a 429)", None, Auth::None, (200, "MetricsText")),
    route("get", "/openapi.json", "stand", "This document", None, Auth::None, (200, "Object")),
    route("post", "/mocks/sms/messages", "mock sms", "Send an SMS, or a batch `{messages: [...]}` of up to 1,000 (all or none); 202; each shows in its inbox after its delivery delay", Some("SmsSend"), Auth::None, (202, "SmsSent")),
    route("get", "/mocks/sms/inbox/{phone}", "mock sms", "The SMS delivered to a phone (79XXXXXXXXX or +7 9XX ...)", None, Auth::None, (200, "SmsInbox")),
    route("post", "/mocks/mail/messages", "mock mail", "Send an e-mail: 202; it shows in its inbox (or spam) after its delivery delay, or is lost", Some("MailMessage"), Auth::None, (202, "MessageSent")),
    route("get", "/mocks/mail/inbox/{address}", "mock mail", "The letters delivered to an address (percent-encoded), inbox and spam", None, Auth::None, (200, "MailInbox")),
    route("post", "/mocks/pfr/requests", "mock pfr", "Ask PFR to check a SNILS: 202 requestIsQueued (the same request_id again: the first request's state); the answer by callback or poll", Some("PfrRequest"), Auth::None, (202, "SmevRequest")),
    route("get", "/mocks/pfr/requests/{id}", "mock pfr", "Poll a PFR request", None, Auth::None, (200, "SmevRequest")),
    route("post", "/mocks/pfr/requests/{id}/complete", "mock pfr", "Answer a PFR request now, and call back (optional body: another result or a rejection)", Some("PfrComplete"), Auth::None, (200, "SmevRequest")),
    route("post", "/mocks/pfr/admin/records", "mock pfr", "Add records to PFR's ground truth", Some("PfrRecords"), Auth::None, (201, "RecordsAdded")),
    route("post", "/mocks/fms/requests", "mock fms", "Ask FMS to check a passport: 202 requestIsQueued (the same request_id again: the first request's state); the answer by callback or poll", Some("FmsRequest"), Auth::None, (202, "SmevRequest")),
    route("get", "/mocks/fms/requests/{id}", "mock fms", "Poll an FMS request", None, Auth::None, (200, "SmevRequest")),
    route("post", "/mocks/fms/requests/{id}/complete", "mock fms", "Answer an FMS request now, and call back (optional body: another result or a rejection)", Some("FmsComplete"), Auth::None, (200, "SmevRequest")),
    route("post", "/mocks/fms/admin/records", "mock fms", "Add records to FMS's ground truth", Some("FmsRecords"), Auth::None, (201, "RecordsAdded")),
    route("post", "/mocks/post/letters", "mock post", "Send a registered letter: 201 with its tracking number; it arrives after the post's delay, or is lost", Some("Letter"), Auth::None, (201, "LetterAccepted")),
    route("get", "/mocks/post/tracking/{n}", "mock post", "A letter's tracking events (accepted, in_transit, arrived, handed_over)", None, Auth::None, (200, "Tracking")),
    route("post", "/mocks/post/letters/{n}/pickup", "mock post", "Pick a letter up with the recipient's passport (409 not_arrived, 404 letter_lost, 403 wrong_passport)", Some("Pickup"), Auth::None, (200, "LetterHandedOver")),
    route("post", "/mocks/post/letters/{n}/deliver", "mock post", "The letter arrives now (found, if lost)", None, Auth::None, (200, "Tracking")),
    route("get", "/mocks/ca/certificates/{serial}", "mock ca", "A certificate of the CA (the population's and added ones)", None, Auth::None, (200, "Certificate")),
    route("post", "/mocks/ca/admin/records", "mock ca", "Add certificates", Some("CertificateRecords"), Auth::None, (201, "RecordsAdded")),
    route("post", "/mocks/banks/{bank}/clients/{snils}/gosuslugi", "mock banks", "The bank sends its client's data to the engine's partner API and answers with the engine's answer (not a client: 404 not_a_client)", Some("BankForm"), Auth::None, (200, "PartnerConfirmation")),
    route("get", "/mocks/banks/{bank}/clients/{snils}", "mock banks", "The client as the bank holds them", None, Auth::None, (200, "Person")),
    route("get", "/mocks/banks/{bank}/confirmations/{id}", "mock banks", "The engine's status of a bank's confirmation, asked by the bank", None, Auth::None, (200, "PartnerConfirmation")),
    route("post", "/mocks/banks/admin/records", "mock banks", "Add clients (each with `bank`)", Some("PersonRecords"), Auth::None, (201, "RecordsAdded")),
    route("get", "/mocks/centers", "mock centers", "The service centers (mfc-1 always exists)", None, Auth::None, (200, "Centers")),
    route("get", "/mocks/centers/{id}", "mock centers", "One service center", None, Auth::None, (200, "Center")),
    route("post", "/mocks/centers/{id}/visits", "mock centers", "A visit: the operator confirms the identity, or with `register` (an MFC) registers a confirmed account, through the engine's operator API; the answer is the engine's (queue: 429; closed, with opening_hours: 409 with opens_at)", Some("Visit"), Auth::None, (200, "VisitAnswer")),
    route("post", "/mocks/centers/admin/records", "mock centers", "Add people an MFC can register", Some("PersonRecords"), Auth::None, (201, "RecordsAdded")),
    route("get", "/mocks/{mock}/admin/profile", "mock admin", "A mock's profile: the agency's keys (as in a scenario's [agencies] table) and the wire's (response_delay, reset_rate, malformed_rate)", None, Auth::None, (200, "Profile")),
    route("put", "/mocks/{mock}/admin/profile", "mock admin", "Set keys of a mock's profile; the others keep their values (a bad value: 422 naming it, nothing changes)", Some("Profile"), Auth::None, (200, "Profile")),
    route("get", "/mocks/{mock}/admin/faults", "mock admin", "The targeted faults a mock holds", None, Auth::None, (200, "FaultsView")),
    route("post", "/mocks/{mock}/admin/faults", "mock admin", "Add targeted faults (one or a list): fail_next, mismatch, lose_letter, outage", Some("Faults"), Auth::None, (201, "FaultsAdded")),
    route("delete", "/mocks/{mock}/admin/faults", "mock admin", "Forget the targeted faults", None, Auth::None, (204, "Empty")),
    route("get", "/mocks/{mock}/admin/journal", "mock admin", "The last requests a mock received (query path, since, until, limit)", None, Auth::None, (200, "Journal")),
    route("post", "/mocks/{mock}/admin/reset", "mock admin", "Forget a mock's stores, journal and faults; restore its starting profile", None, Auth::None, (204, "Empty")),
    route("get", "/mocks/admin/clock", "mock admin", "The world's clock", None, Auth::None, (200, "Clock")),
    route("post", "/mocks/admin/clock/advance", "mock admin", "Move the whole world forward: everything due in the skipped interval (agency answers and their callbacks, engine deadlines, waiting visits and banks) runs in time order, each at its own time; then the clock shows the target", Some("Advance"), Auth::None, (200, "Clock")),
];

/// The schemas of every request and answer, derived from the wire types (`ToSchema`) and
/// written as OpenAPI 3.0 ([`to_openapi_30`]).
fn schemas() -> Value {
    use esia_mocks::wire as m;
    let mut all: Vec<(String, RefOr<Schema>)> = Vec::new();
    macro_rules! add {
        ($($t:ty),* $(,)?) => {$(
            all.push((<$t as ToSchema>::name().into_owned(), <$t as PartialSchema>::schema()));
            <$t as ToSchema>::schemas(&mut all);
        )*};
    }
    add!(
        esia_mocks::wire::ErrorBody,
        wire::RegistrationFormSchema,
        wire::RegistrationStarted,
        wire::Code,
        wire::ContactConfirmed,
        wire::PasswordForm,
        wire::Registered,
        wire::Login,
        wire::Session,
        wire::Account,
        wire::PasswordChange,
        wire::PersonalDataForm,
        wire::VerificationDispatched,
        wire::ConfirmationRequest,
        wire::ConfirmationAnswer,
        wire::OperatorConfirmation,
        wire::OperatorConfirmed,
        wire::MfcRegistration,
        wire::MfcRegistered,
        wire::PersonWithPhone,
        wire::PartnerConfirmation,
        wire::Callback,
        wire::CallbackAccepted,
        wire::Health,
        m::sms::SmsSendSchema,
        m::sms::SmsSentSchema,
        m::sms::SmsInbox,
        m::mail::SendMail,
        m::mail::MailInbox,
        m::pfr::PfrRequest,
        m::fms::FmsRequest,
        m::smev::RequestViewSchema,
        m::smev::SmevRejection,
        m::smev::PfrCompleteSchema,
        m::smev::FmsCompleteSchema,
        m::smev::PfrRecordsSchema,
        m::smev::FmsRecordsSchema,
        m::smev::RecordsAdded,
        m::post::SendLetter,
        m::post::Accepted,
        m::post::TrackingView,
        m::post::Pickup,
        m::post::LetterView,
        esia_mocks::agency::ca::Certificate,
        m::ca::Records,
        m::banks::Form,
        m::banks::Records,
        m::people::Person,
        m::centers::Listing,
        esia_mocks::agency::centers::Center,
        m::centers::Visit,
        m::admin::ProfileSchema,
        m::faults::Fault,
        m::faults::FaultsView,
        m::admin::FaultsAdded,
        m::journal::JournalView,
        m::clock::ClockView,
        m::clock::AdvanceBody,
    );
    let mut out = Map::new();
    for (name, schema) in all {
        out.entry(name)
            .or_insert_with(|| serde_json::to_value(schema).unwrap_or(Value::Null));
    }
    out.insert("Object".into(), json!({ "type": "object" }));
    out.insert("MetricsText".into(), json!({ "type": "string" }));
    out.insert(
        "Faults".into(),
        json!({ "oneOf": [schema_ref("Fault"), { "type": "array", "items": schema_ref("Fault") }] }),
    );
    out.insert(
        "VisitAnswer".into(),
        json!({ "description": "The engine's answer to the operator: the confirmation, or with `register` the account made",
                "oneOf": [schema_ref("OperatorConfirmed"), schema_ref("MfcRegistered")] }),
    );
    let mut v = Value::Object(out);
    to_openapi_30(&mut v);
    v
}

/// Rewrites JSON Schema as utoipa writes it (OpenAPI 3.1) in OpenAPI 3.0's dialect, which the
/// document declares and more clients read: `type: [T, "null"]` and a `oneOf` with
/// `{type: null}` become `nullable`, `examples: [x]` becomes `example: x`, a numeric
/// `exclusiveMinimum` becomes `minimum` with `exclusiveMinimum: true`.
fn to_openapi_30(v: &mut Value) {
    match v {
        Value::Array(items) => items.iter_mut().for_each(to_openapi_30),
        Value::Object(m) => {
            if let Some(Value::Array(types)) = m.get("type").cloned() {
                let rest: Vec<Value> = types.into_iter().filter(|t| t != "null").collect();
                if let [one] = rest.as_slice() {
                    m.insert("type".into(), one.clone());
                    m.insert("nullable".into(), Value::Bool(true));
                }
            }
            for key in ["oneOf", "anyOf"] {
                if let Some(Value::Array(alts)) = m.get(key).cloned() {
                    let null = json!({ "type": "null" });
                    if alts.contains(&null) {
                        let rest: Vec<Value> = alts.into_iter().filter(|a| *a != null).collect();
                        m.remove(key);
                        if let [one] = rest.as_slice() {
                            m.insert("allOf".into(), json!([one]));
                        } else {
                            m.insert(key.into(), Value::Array(rest));
                        }
                        m.insert("nullable".into(), Value::Bool(true));
                    }
                }
            }
            if let Some(Value::Array(examples)) = m.remove("examples") {
                if let Some(first) = examples.into_iter().next() {
                    m.insert("example".into(), first);
                }
            }
            if let Some(min) = m.get("exclusiveMinimum").filter(|x| x.is_number()).cloned() {
                m.insert("minimum".into(), min);
                m.insert("exclusiveMinimum".into(), Value::Bool(true));
            }
            m.values_mut().for_each(to_openapi_30);
        }
        _ => {}
    }
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn operation(r: &Route) -> Value {
    let mut op = Map::new();
    op.insert("tags".into(), json!([r.tag]));
    op.insert("summary".into(), json!(r.summary));
    op.insert(
        "operationId".into(),
        json!(format!("{} {}", r.method, r.path)),
    );
    let mut params: Vec<Value> = r
        .path
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
        .collect();
    if r.path == "/api/v1/partners/{bank}/confirmations" && r.method == "post" {
        params.push(json!({ "name": "wait", "in": "query", "required": false, "schema": { "type": "boolean", "default": true },
            "description": "false: answer at once (202 while PFR and FMS have not answered) instead of waiting up to 10 s of wall time" }));
    }
    if r.path == "/api/v1/registrations/{id}/email" {
        params.push(json!({ "name": "token", "in": "query", "required": true, "schema": { "type": "string" } }));
    }
    if r.path.ends_with("/admin/journal") {
        params.push(json!({ "name": "limit", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 0, "default": 100 } }));
        for (name, what) in [
            ("path", "entries whose path starts with it"),
            (
                "since",
                "entries at or after (RFC 3339 or ms since the epoch)",
            ),
            (
                "until",
                "entries at or before (RFC 3339 or ms since the epoch)",
            ),
        ] {
            let schema = if name == "path" {
                json!({ "type": "string" })
            } else {
                json!({ "type": "string", "pattern": "^(?:[0-9]{1,15}|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\\.[0-9]{1,9})?(?:Z|[+-][0-9]{2}:[0-9]{2}))$" })
            };
            params.push(json!({ "name": name, "in": "query", "required": false, "description": what, "schema": schema }));
        }
    }
    for p in params.iter_mut().filter(|p| p["in"] == "path") {
        let schema = match p["name"].as_str().unwrap_or_default() {
            "mock" => json!({ "type": "string", "enum":
                ["sms", "mail", "pfr", "fms", "ca", "post", "banks", "centers"] }),
            "bank" => schema_ref("Bank"),
            "agency" => json!({ "type": "string", "enum": ["pfr", "fms"] }),
            "phone" => schema_ref("Phone"),
            "address" => schema_ref("Email"),
            "snils" => schema_ref("Snils"),
            "serial" => schema_ref("Serial"),
            "oid" => json!({ "type": "string", "pattern": "^[0-9]{1,19}$" }),
            "n" => {
                json!({ "type": "string", "pattern": "^[0-9]{14}$", "example": "10100000000017" })
            }
            _ => json!({ "type": "string", "minLength": 1 }),
        };
        p["schema"] = schema;
    }
    if !params.is_empty() {
        op.insert("parameters".into(), Value::Array(params));
    }
    if let Some(body) = r.body {
        op.insert(
            "requestBody".into(),
            json!({ "required": !matches!(body, "PfrComplete" | "FmsComplete" | "BankForm"),
                    "content": { "application/json": { "schema": schema_ref(body) } } }),
        );
    }
    let security = match r.auth {
        Auth::None => None,
        Auth::Session => Some("session"),
        Auth::Operator => Some("operator"),
        Auth::Partner => Some("partner"),
    };
    if let Some(s) = security {
        op.insert("security".into(), json!([{ s: [] }]));
    } else if esia_mocks::service::admin::is_admin_path(r.path) {
        // Open on loopback; off loopback the stand's admin token is required.
        op.insert("security".into(), json!([{}, { "admin": [] }]));
    }
    let (status, schema) = r.ok;
    let ok = if status == 204 {
        json!({ "description": "Done" })
    } else if schema == "MetricsText" {
        json!({ "description": "OK", "content": { "application/openmetrics-text": { "schema": schema_ref(schema) } } })
    } else {
        json!({ "description": "OK", "content": { "application/json": { "schema": schema_ref(schema) } } })
    };
    let error = |what: &str| {
        json!({ "description": what,
            "content": { "application/json": { "schema": schema_ref("Error") } } })
    };
    let mut responses = Map::new();
    responses.insert(status.to_string(), ok);
    for (code, what) in errors(r) {
        responses.insert(code.to_string(), error(what));
    }
    if let Some(refusal) = capacity_refusal(r) {
        responses.insert("429".into(), refusal);
    }
    if (r.method, r.path) == ("post", "/api/v1/sessions") {
        responses.insert("429".into(), json!({
            "description": "login_locked: 5 wrong passwords in a row lock the account for 1 minute of the stand's time, each further lockout twice as long (up to a day); every login is refused until it ends, the right password included. login_throttled: 100 failed logins a minute from this client address",
            "headers": { "Retry-After": { "description": "seconds until the lockout or the window ends", "schema": { "type": "integer" } } },
            "content": { "application/json": { "schema": schema_ref("Error") } } }));
    }
    if r.body.is_some() {
        responses.insert("413".into(), json!({
            "description": "body_too_large: the body is over 64 KiB; a declared Content-Length over it is refused from the header, before the body is read (no 100 Continue)",
            "content": { "application/json": { "schema": schema_ref("Error") } } }));
    }
    responses.insert(
        "default".into(),
        error("Any other error: `{\"error\": {\"code\", \"message\", \"field\"?}}`"),
    );
    op.insert("responses".into(), Value::Object(responses));
    Value::Object(op)
}

/// The error answers of a route: those of its body, parameters and token, and those of its
/// step (DESIGN.md's contract).
fn errors(r: &Route) -> Vec<(u16, &'static str)> {
    let mut e = Vec::new();
    if r.body.is_some() {
        e.push((400, "The body is not JSON, or a field has the wrong type"));
        e.push((413, "The body is larger than 64 KiB"));
        e.push((415, "A multipart form or XML instead of JSON"));
    }
    if r.body.is_some() || r.path.contains('{') || r.path.ends_with("/journal") {
        e.push((422, "A field or parameter breaks a rule (`field` names it)"));
    }
    if r.path.contains('{') {
        e.push((404, "No such object"));
    }
    if r.auth != Auth::None {
        e.push((401, "No `Authorization: Bearer` token"));
        e.push((403, "The token is not valid for this route"));
    }
    let step: &[(u16, &'static str)] = match (r.method, r.path) {
        ("post", "/api/v1/registrations") => &[
            (409, "The contact is another account's login"),
            (503, "The stand is busy or a store is full"),
        ],
        ("post", "/api/v1/registrations/{id}/code") => &[
            (
                409,
                "The registration confirms its contact by the e-mail link (wrong_channel)",
            ),
            (410, "The code expired"),
            (429, "Too many wrong codes: locked"),
        ],
        ("post", "/api/v1/registrations/{id}/resend") => &[(429, "Too soon (Retry-After)")],
        ("get", "/api/v1/registrations/{id}/email") => &[
            (
                409,
                "The registration confirms its contact by the SMS code (wrong_channel)",
            ),
            (410, "The link expired"),
        ],
        ("post", "/api/v1/sessions") => &[],
        ("put", "/api/v1/accounts/{oid}/password") => &[(409, "The account has no password")],
        ("put", "/api/v1/accounts/{oid}/personal-data") => &[
            (409, "The documents are bound to another account"),
            (503, "The stand is busy or a store is full"),
        ],
        ("post", "/api/v1/accounts/{oid}/confirmations") => &[
            (409, "Not allowed at this tier or state"),
            (503, "The post or the CA is unavailable"),
        ],
        ("post", "/api/v1/accounts/{oid}/confirmations/code") => &[
            (409, "No letter ordered"),
            (410, "The letter's code expired"),
            (429, "Too many wrong codes"),
        ],
        ("post", "/api/v1/operator/confirmations" | "/api/v1/operator/registrations") => &[
            (404, "No such center or person"),
            (409, "Not allowed for this account or center"),
        ],
        ("post", "/api/v1/partners/{bank}/confirmations") => &[
            (409, "The documents or the phone are another account's"),
            (503, "The stand is busy or a store is full"),
        ],
        ("post", "/mocks/post/letters/{n}/pickup") => &[
            (403, "The passport is not the recipient's"),
            (409, "The letter has not arrived"),
        ],
        ("post", "/mocks/centers/{id}/visits") => &[(409, "The center is closed (opens_at)")],
        _ => &[],
    };
    for &(code, what) in step {
        if let Some(i) = e.iter().position(|(c, _)| *c == code) {
            e[i] = (code, what);
        } else {
            e.push((code, what));
        }
    }
    e
}

/// The 429 of a mock route whose agency may have a capacity (its profile's `capacity`): SMEV's
/// rejection for PFR and FMS, the contract's error elsewhere, with `Retry-After`.
fn capacity_refusal(r: &Route) -> Option<Value> {
    let schema = match (r.method, r.path) {
        ("post", "/mocks/pfr/requests" | "/mocks/fms/requests") => "SmevRejection",
        ("post", "/mocks/sms/messages" | "/mocks/mail/messages" | "/mocks/post/letters")
        | ("post", "/mocks/banks/{bank}/clients/{snils}/gosuslugi")
        | ("post", "/mocks/centers/{id}/visits")
        | ("get", "/mocks/ca/certificates/{serial}") => "Error",
        _ => return None,
    };
    Some(json!({
        "description": "The agency is at its capacity: every server busy and the queue full (code queue_full), or its quota a second spent (quota); a center answers its code queue. Nothing is kept: send again after Retry-After",
        "headers": { "Retry-After": { "description": "wall seconds to wait", "schema": { "type": "integer" } } },
        "content": { "application/json": { "schema": schema_ref(schema) } } }))
}

/// The OpenAPI 3.0 document of the stand.
pub fn document() -> Value {
    let mut paths = Map::new();
    for r in ROUTES {
        let item = paths
            .entry(r.path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(m) = item {
            m.insert(r.method.to_owned(), operation(r));
        }
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "esia-sim stand",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The ESIA registry engine's HTTP API v1 and the mocks of its agencies (SMS, mail, PFR, FMS, CA, post, banks, service centers). Errors: {\"error\": {\"code\", \"message\", \"field\"?}}. Times are RFC 3339 UTC in sim time. Request bodies are at most 64 KiB (413 beyond).",
        },
        "paths": Value::Object(paths),
        "components": {
            "schemas": schemas(),
            "securitySchemes": {
                "session": { "type": "http", "scheme": "bearer", "description": "The token of POST /api/v1/sessions" },
                "admin": { "type": "http", "scheme": "bearer", "description": "The mocks' admin token (--admin-token, or the one `serve` prints when it listens off loopback); on loopback without --admin-token the admin routes are open" },
                "operator": { "type": "http", "scheme": "bearer", "description": "The operator token (--operator-token)" },
                "partner": { "type": "http", "scheme": "bearer", "description": "The partner token (--partner-token)" },
            },
        },
    })
}
