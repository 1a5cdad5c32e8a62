//! `GET /openapi.json`: an OpenAPI 3.0 document of every route of the stand, the engine's and
//! the mocks', written by hand from [`ROUTES`] (one row per route) and the schemas below. A test
//! (`tests/stand_api.rs`) checks that the document parses as OpenAPI 3 and that its routes and
//! methods are exactly those the live router serves.

use serde_json::{json, Map, Value};

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
    route("post", "/api/v1/accounts/{oid}/confirmations", "confirmation", "Order a post letter (`method: post`: 202 with the tracking number; the post down: 503) or sign with a certificate (`method: e_signature`: 200 the confirmed account; refused: 422 certificate_refused with `verdict`; the CA slow: 202 signature_pending)", Some("ConfirmationRequest"), Auth::Session, (202, "Object")),
    route("post", "/api/v1/accounts/{oid}/confirmations/code", "confirmation", "Enter the letter's code: confirmed, with `no_fns_cabinet`", Some("Code"), Auth::Session, (200, "Account")),
    route("post", "/api/v1/operator/confirmations", "operator", "A service center of the directory (GET /mocks/centers) confirms identity (unknown center_id: 404 center_not_found)", Some("OperatorConfirmation"), Auth::Operator, (200, "Object")),
    route("post", "/api/v1/operator/registrations", "operator", "An MFC of the directory registers a confirmed account with a one-time password (a center of another kind: 422 cannot_register; unknown center_id: 404 center_not_found)", Some("MfcRegistration"), Auth::Operator, (201, "Object")),
    route("post", "/api/v1/partners/{bank}/confirmations", "partner", "A bank confirms (or creates) its client's account once PFR and FMS agree (200), or 202 while they have not answered", Some("PersonWithPhone"), Auth::Partner, (200, "PartnerConfirmation")),
    route("get", "/api/v1/partners/{bank}/confirmations/{id}", "partner", "Where a bank's confirmation stands", None, Auth::Partner, (200, "PartnerConfirmation")),
    route("post", "/api/v1/callbacks/{agency}", "agency", "An agency (pfr, fms) says a request's answer is ready (202); the engine fetches the answer from the agency itself", Some("Callback"), Auth::None, (202, "Object")),
    route("get", "/healthz", "stand", "Health", None, Auth::None, (200, "Object")),
    route("get", "/metrics", "stand", "Metrics in the Prometheus (OpenMetrics) text format; each mock's capacity at work: esia_mock_in_service{agency}, esia_mock_queued{agency} (a mock with a capacity), esia_mock_refused_total{agency, reason: queue_full, quota}; esia_effects_deferred (the engine's effects set aside after a 429)", None, Auth::None, (200, "Text")),
    route("get", "/openapi.json", "stand", "This document", None, Auth::None, (200, "Object")),
    route("post", "/mocks/sms/messages", "mock sms", "Send an SMS, or a batch `{messages: [...]}` of up to 1,000 (all or none); 202; each shows in its inbox after its delivery delay", Some("SmsSend"), Auth::None, (202, "SmsSent")),
    route("get", "/mocks/sms/inbox/{phone}", "mock sms", "The SMS delivered to a phone (79XXXXXXXXX or +7 9XX ...)", None, Auth::None, (200, "SmsInbox")),
    route("post", "/mocks/mail/messages", "mock mail", "Send an e-mail: 202; it shows in its inbox (or spam) after its delivery delay, or is lost", Some("MailMessage"), Auth::None, (202, "MessageSent")),
    route("get", "/mocks/mail/inbox/{address}", "mock mail", "The letters delivered to an address (percent-encoded), inbox and spam", None, Auth::None, (200, "MailInbox")),
    route("post", "/mocks/pfr/requests", "mock pfr", "Ask PFR to check a SNILS: 202 requestIsQueued (the same request_id again: the first request's state); the answer by callback or poll", Some("PfrRequest"), Auth::None, (202, "SmevRequest")),
    route("get", "/mocks/pfr/requests/{id}", "mock pfr", "Poll a PFR request", None, Auth::None, (200, "SmevRequest")),
    route("post", "/mocks/pfr/requests/{id}/complete", "mock pfr", "Answer a PFR request now, and call back (optional body: another result or a rejection)", Some("Complete"), Auth::None, (200, "SmevRequest")),
    route("post", "/mocks/pfr/admin/records", "mock pfr", "Add records to PFR's ground truth", Some("PfrRecords"), Auth::None, (201, "RecordsAdded")),
    route("post", "/mocks/fms/requests", "mock fms", "Ask FMS to check a passport: 202 requestIsQueued (the same request_id again: the first request's state); the answer by callback or poll", Some("FmsRequest"), Auth::None, (202, "SmevRequest")),
    route("get", "/mocks/fms/requests/{id}", "mock fms", "Poll an FMS request", None, Auth::None, (200, "SmevRequest")),
    route("post", "/mocks/fms/requests/{id}/complete", "mock fms", "Answer an FMS request now, and call back (optional body: another result or a rejection)", Some("Complete"), Auth::None, (200, "SmevRequest")),
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
    route("post", "/mocks/centers/{id}/visits", "mock centers", "A visit: the operator confirms the identity, or with `register` (an MFC) registers a confirmed account, through the engine's operator API; the answer is the engine's (queue: 429; closed, with opening_hours: 409 with opens_at)", Some("Visit"), Auth::None, (200, "Object")),
    route("post", "/mocks/centers/admin/records", "mock centers", "Add people an MFC can register", Some("PersonRecords"), Auth::None, (201, "RecordsAdded")),
    route("get", "/mocks/{mock}/admin/profile", "mock admin", "A mock's profile: the agency's keys (as in a scenario's [agencies] table) and the wire's (response_delay, reset_rate, malformed_rate)", None, Auth::None, (200, "Profile")),
    route("put", "/mocks/{mock}/admin/profile", "mock admin", "Set keys of a mock's profile; the others keep their values (a bad value: 422 naming it, nothing changes)", Some("Profile"), Auth::None, (200, "Profile")),
    route("get", "/mocks/{mock}/admin/faults", "mock admin", "The targeted faults a mock holds", None, Auth::None, (200, "FaultsView")),
    route("post", "/mocks/{mock}/admin/faults", "mock admin", "Add targeted faults (one or a list): fail_next, mismatch, lose_letter, outage", Some("Fault"), Auth::None, (201, "FaultsAdded")),
    route("delete", "/mocks/{mock}/admin/faults", "mock admin", "Forget the targeted faults", None, Auth::None, (204, "Empty")),
    route("get", "/mocks/{mock}/admin/journal", "mock admin", "The last requests a mock received (query path, since, until, limit)", None, Auth::None, (200, "Journal")),
    route("post", "/mocks/{mock}/admin/reset", "mock admin", "Forget a mock's stores, journal and faults; restore its starting profile", None, Auth::None, (204, "Empty")),
    route("get", "/mocks/admin/clock", "mock admin", "The world's clock", None, Auth::None, (200, "Clock")),
    route("post", "/mocks/admin/clock/advance", "mock admin", "Move the whole world forward: everything due in the skipped interval (agency answers and their callbacks, engine deadlines, waiting visits and banks) runs in time order, each at its own time; then the clock shows the target", Some("Advance"), Auth::None, (200, "Clock")),
];

fn string() -> Value {
    json!({ "type": "string" })
}

fn object(required: &[&str], properties: Value) -> Value {
    json!({ "type": "object", "required": required, "properties": properties })
}

fn schemas() -> Value {
    let date = json!({ "type": "string", "format": "date" });
    let time = json!({ "type": "string", "format": "date-time" });
    let passport = object(
        &[
            "series",
            "number",
            "issue_date",
            "issued_by",
            "division_code",
        ],
        json!({
            "series": { "type": "string", "example": "4512" },
            "number": { "type": "string", "example": "345678" },
            "issue_date": date, "issued_by": string(),
            "division_code": { "type": "string", "example": "770-001" },
        }),
    );
    let address = object(
        &["postcode", "region", "city", "street", "house"],
        json!({ "postcode": string(), "region": string(), "city": string(), "street": string(),
                "house": string(), "flat": string() }),
    );
    let person = json!({
        "surname": string(), "name": string(), "patronymic": string(),
        "gender": { "type": "string", "enum": ["male", "female"] },
        "birth_date": date, "birth_place": string(), "citizenship": string(),
        "snils": { "type": "string", "example": "112-233-445 95" },
        "passport": { "$ref": "#/components/schemas/Passport" },
        "address": { "$ref": "#/components/schemas/Address" },
    });
    let person_fields = [
        "surname",
        "name",
        "gender",
        "birth_date",
        "birth_place",
        "citizenship",
        "snils",
        "passport",
    ];
    let mut with_phone = person.clone();
    with_phone["phone"] = json!({ "type": "string", "example": "+79161234567" });
    let smev_status = json!({ "type": "string", "enum": ["requestIsQueued", "underProcessing",
        "responseIsDelivered", "requestIsRejectedBySmev"] });
    let journal_entry = object(
        &["seq", "at", "at_ms", "method", "path", "status"],
        json!({ "seq": { "type": "integer" }, "at": time, "at_ms": { "type": "integer" },
                "method": string(), "path": string(), "body": {}, "status": { "type": "integer" },
                "fault": { "type": "string", "enum": ["error", "outage", "timeout", "reset", "malformed"] },
                "refused": object(&["reason", "count"], json!({
                    "reason": { "type": "string", "enum": ["queue_full", "quota"] },
                    "count": { "type": "integer", "description": "requests (messages of a batch) refused" } })) }),
    );
    let kind = |kinds: &[&str]| json!({ "type": "string", "enum": kinds });
    let event = object(
        &["kind", "at"],
        json!({
        "kind": kind(&["accepted", "in_transit", "arrived", "handed_over"]), "at": time }),
    );
    let mut m = Map::new();
    m.insert("Error".into(), object(&["error"], json!({ "error": object(&["code", "message"], json!({
            "code": string(), "message": string(),
            "field": { "type": "string", "description": "The input at fault, as a path (passport.series)" },
            "attempts_left": { "type": "integer" },
            "retry_after_ms": { "type": "integer" },
            "retry_after_s": { "type": "integer", "description": "a mock at capacity (429): as its Retry-After" },
            "reason": string(),
            "verdict": string(),
            "agency": string(),
            "opens_at": time,
        })) })));
    m.insert("Object".into(), json!({ "type": "object" }));
    m.insert("Text".into(), json!({ "type": "string" }));
    m.insert("Empty".into(), json!({ "type": "object" }));
    m.insert(
        "RegistrationForm".into(),
        object(
            &["surname", "name"],
            json!({ "surname": string(), "name": string(),
            "phone": { "type": "string", "example": "+79161234567" },
            "email": { "type": "string", "format": "email" },
            "channel": { "type": "string", "enum": ["sms", "email"],
                "description": "Where the code goes first (default: sms when a phone is given, else email)" } }),
        ),
    );
    m.insert(
        "RegistrationStarted".into(),
        object(
            &["registration_id", "channel", "expires_at"],
            json!({
            "registration_id": string(),
            "channel": { "type": "string", "enum": ["sms", "email"] }, "expires_at": time }),
        ),
    );
    m.insert(
        "Code".into(),
        object(
            &["code"],
            json!({ "code": { "type": "string", "example": "123456" } }),
        ),
    );
    m.insert(
        "ContactConfirmed".into(),
        object(
            &["registration_id", "confirmed"],
            json!({
            "registration_id": string(), "confirmed": { "type": "boolean" },
            "oid": { "type": "integer", "description": "The account whose second login the contact became" } }),
        ),
    );
    m.insert(
        "PasswordForm".into(),
        object(
            &["password", "password_repeat"],
            json!({ "password": string(), "password_repeat": string() }),
        ),
    );
    m.insert(
        "Tier".into(),
        json!({ "type": "string", "enum": ["simplified", "standard", "confirmed"] }),
    );
    m.insert(
        "Registered".into(),
        object(
            &["oid", "tier"],
            json!({ "oid": { "type": "integer" }, "tier": { "$ref": "#/components/schemas/Tier" },
            "second_contact": { "$ref": "#/components/schemas/RegistrationStarted" } }),
        ),
    );
    m.insert(
        "PasswordChange".into(),
        object(
            &["current_password", "password", "password_repeat"],
            json!({ "current_password": string(), "password": string(), "password_repeat": string() }),
        ),
    );
    m.insert("Login".into(), object(&["login", "password"], json!({ "login": { "type": "string", "description": "phone, e-mail or SNILS" }, "password": string() })));
    m.insert(
        "Session".into(),
        object(
            &["token", "oid", "expires_at"],
            json!({ "token": string(), "oid": { "type": "integer" }, "expires_at": time }),
        ),
    );
    m.insert("Account".into(), object(&["oid", "tier", "trusted", "verification", "confirmation", "restrictions"], json!({
            "oid": { "type": "integer" }, "tier": { "$ref": "#/components/schemas/Tier" },
            "trusted": { "type": "boolean" }, "surname": string(), "name": string(),
            "phone": string(), "email": string(), "snils": string(),
            "verification": object(&["status"], json!({
                "status": { "type": "string", "enum": ["not_started", "pending", "passed", "failed"] },
                "pfr": { "type": "string", "nullable": true, "enum": ["match", "mismatch", "not_found", null] },
                "fms": { "type": "string", "nullable": true, "enum": ["valid", "invalid", "mismatch", "not_found", null] },
                "reason": string() })),
            "confirmation": { "type": "object" },
            "restrictions": { "type": "array", "items": { "type": "string", "enum": ["no_fns_cabinet"] } },
        })));
    m.insert("Passport".into(), passport);
    m.insert("Address".into(), address);
    m.insert("PersonalData".into(), object(&person_fields, person));
    m.insert(
        "PersonWithPhone".into(),
        object(
            &[&person_fields[..], &["phone"]].concat(),
            with_phone.clone(),
        ),
    );
    m.insert("VerificationDispatched".into(), object(&["oid", "verification"], json!({ "oid": { "type": "integer" },
            "verification": object(&["status"], json!({ "status": string(), "pfr_request_id": string(), "fms_request_id": string() })) })));
    m.insert("ConfirmationRequest".into(), object(&["method"], json!({
            "method": { "type": "string", "enum": ["post", "e_signature"] },
            "address": { "$ref": "#/components/schemas/Address" },
            "certificate": object(&["serial", "issuer"], json!({ "serial": string(), "issuer": string() })) })));
    let mut mfc = with_phone.clone();
    mfc["center_id"] = json!({ "type": "string", "example": "mfc-1" });
    m.insert(
        "MfcRegistration".into(),
        object(&[&person_fields[..], &["phone", "center_id"]].concat(), mfc),
    );
    m.insert("OperatorConfirmation".into(), object(&["center_id", "snils", "passport"], json!({ "center_id": { "type": "string", "example": "mfc-1" }, "snils": string(),
            "passport": object(&["series", "number"], json!({ "series": string(), "number": string() })) })));
    m.insert("PartnerConfirmation".into(), object(&["confirmation_id", "status"], json!({ "confirmation_id": string(), "bank": string(),
            "status": { "type": "string", "enum": ["pending", "confirmed"] }, "oid": { "type": "integer" }, "created": { "type": "boolean" } })));
    m.insert(
        "Callback".into(),
        object(
            &["request_id"],
            json!({ "request_id": string(), "status": smev_status }),
        ),
    );
    m.insert(
        "SmsMessage".into(),
        object(&["to", "text"], json!({ "to": string(), "text": string() })),
    );
    m.insert(
        "MailMessage".into(),
        object(
            &["to", "subject", "text"],
            json!({ "to": string(), "subject": string(), "text": string() }),
        ),
    );
    m.insert(
        "MessageSent".into(),
        object(&["message_id"], json!({ "message_id": string() })),
    );
    let sms_ref = json!({ "$ref": "#/components/schemas/SmsMessage" });
    let sent_ref = json!({ "$ref": "#/components/schemas/MessageSent" });
    m.insert(
        "SmsSend".into(),
        json!({ "oneOf": [sms_ref.clone(), object(&["messages"], json!({
            "messages": { "type": "array", "minItems": 1, "maxItems": 1000, "items": sms_ref } }))] }),
    );
    m.insert(
        "SmsSent".into(),
        json!({ "oneOf": [sent_ref.clone(), object(&["messages"], json!({
            "messages": { "type": "array", "items": { "oneOf": [sent_ref, object(&["error"], json!({
                "error": { "$ref": "#/components/schemas/ErrorDetail" } }))] } } }))] }),
    );
    m.insert(
        "ErrorDetail".into(),
        object(
            &["code", "message"],
            json!({
            "code": string(), "message": string(), "retry_after_s": { "type": "integer" } }),
        ),
    );
    m.insert(
        "SmevRejection".into(),
        object(
            &["request_id", "agency", "status", "rejection", "error"],
            json!({
            "request_id": string(), "agency": string(),
            "status": { "type": "string", "enum": ["requestIsRejectedBySmev"] },
            "rejection": { "type": "string", "enum": ["QUOTE_LIMIT_EXCEEDED"] },
            "error": { "$ref": "#/components/schemas/ErrorDetail" } }),
        ),
    );
    m.insert("SmsInbox".into(), object(&["phone", "messages"], json!({ "phone": string(), "messages": { "type": "array", "items":
            object(&["message_id", "text", "sent_at", "delivered_at"], json!({ "message_id": string(), "text": string(), "sent_at": time, "delivered_at": time })) } })));
    m.insert("MailInbox".into(), object(&["address", "messages"], json!({ "address": string(), "messages": { "type": "array", "items":
            object(&["message_id", "subject", "text", "folder", "sent_at", "delivered_at"], json!({ "message_id": string(), "subject": string(),
                "text": string(), "folder": { "type": "string", "enum": ["inbox", "spam"] }, "sent_at": time, "delivered_at": time })) } })));
    m.insert(
        "Journal".into(),
        object(
            &["entries"],
            json!({ "entries": { "type": "array", "items": journal_entry } }),
        ),
    );
    m.insert("PfrRequest".into(), object(&["request_id", "snils", "surname", "name", "birth_date", "gender"], json!({
            "request_id": string(), "snils": string(), "surname": string(), "name": string(), "patronymic": string(),
            "birth_date": date, "gender": { "type": "string", "enum": ["male", "female"] },
            "callback_url": { "type": "string", "format": "uri" } })));
    m.insert("FmsRequest".into(), object(&["request_id", "series", "number", "surname", "name", "birth_date", "issue_date"], json!({
            "request_id": string(), "series": string(), "number": string(), "surname": string(), "name": string(),
            "patronymic": string(), "birth_date": date, "issue_date": date,
            "callback_url": { "type": "string", "format": "uri" } })));
    m.insert("SmevRequest".into(), object(&["request_id", "agency", "status", "accepted_at"], json!({
            "request_id": string(), "agency": string(), "status": smev_status,
            "result": { "type": "string", "description": "pfr: match, mismatch, not_found; fms: valid, invalid, mismatch, not_found" },
            "rejection": { "type": "string", "enum": ["ACCESS_DENIED", "NO_DATA", "QUOTE_LIMIT_EXCEEDED"] },
            "accepted_at": time, "answered_at": time })));
    m.insert(
        "Complete".into(),
        json!({ "type": "object", "properties": { "result": string(),
            "rejection": { "type": "string", "enum": ["ACCESS_DENIED", "NO_DATA", "QUOTE_LIMIT_EXCEEDED"] } } }),
    );
    m.insert("PfrRecords".into(), object(&["records"], json!({ "records": { "type": "array", "items":
            object(&["snils", "surname", "name", "birth_date", "gender"], json!({ "snils": string(), "surname": string(),
                "name": string(), "patronymic": string(), "birth_date": date, "gender": string() })) } })));
    m.insert("FmsRecords".into(), object(&["records"], json!({ "records": { "type": "array", "items":
            object(&["series", "number", "surname", "name", "birth_date", "issue_date"], json!({ "series": string(),
                "number": string(), "surname": string(), "name": string(), "patronymic": string(), "birth_date": date,
                "issue_date": date, "expired": { "type": "boolean" }, "cancelled": { "type": "boolean" } })) } })));
    m.insert(
        "RecordsAdded".into(),
        object(
            &["added", "held"],
            json!({ "added": { "type": "integer" }, "held": { "type": "integer" } }),
        ),
    );
    m.insert("Letter".into(), object(&["recipient", "address", "text"], json!({
            "recipient": string(), "address": { "description": "one line, or an Address object" },
            "text": string(), "passport_series": string(), "passport_number": string(),
            "reference": { "type": "string", "description": "the sender's id: the same reference answers the same letter" } })));
    m.insert("LetterAccepted".into(), object(&["tracking_number", "status", "accepted_at"], json!({
            "tracking_number": { "type": "string", "example": "10100000000017" }, "status": string(), "accepted_at": time })));
    m.insert("Tracking".into(), object(&["tracking_number", "status", "events"], json!({
            "tracking_number": string(), "status": kind(&["accepted", "in_transit", "arrived", "handed_over"]),
            "events": { "type": "array", "items": event } })));
    m.insert(
        "Pickup".into(),
        object(
            &["passport_series", "passport_number"],
            json!({ "passport_series": string(), "passport_number": string() }),
        ),
    );
    m.insert("LetterHandedOver".into(), object(&["tracking_number", "recipient", "address", "text", "handed_over_at"], json!({
            "tracking_number": string(), "recipient": string(), "address": string(), "text": string(), "handed_over_at": time })));
    let certificate = object(
        &[
            "serial",
            "issuer",
            "owner_snils",
            "kind",
            "valid_from",
            "valid_to",
        ],
        json!({
            "serial": string(), "issuer": string(), "owner_snils": string(), "kind": kind(&["ukep", "uec"]),
            "valid_from": date, "valid_to": date, "revoked": { "type": "boolean" } }),
    );
    m.insert(
        "CertificateRecords".into(),
        object(
            &["records"],
            json!({ "records": { "type": "array", "items": certificate } }),
        ),
    );
    m.insert("Certificate".into(), certificate);
    m.insert(
        "BankForm".into(),
        json!({ "type": "object", "properties": { "phone": string() } }),
    );
    let mut person_record = with_phone.clone();
    person_record["bank"] = kind(&["sber", "tinkoff", "pochta"]);
    m.insert("PersonRecords".into(), object(&["records"], json!({ "records": { "type": "array", "items": object(&person_fields, person_record.clone()) } })));
    m.insert("Person".into(), object(&person_fields, person_record));
    let center = object(
        &["id", "kind", "region", "utc_offset_min", "hours"],
        json!({
            "id": { "type": "string", "example": "mfc-1" }, "kind": kind(&["mfc", "rostelecom", "post", "mvd"]),
            "region": string(), "utc_offset_min": { "type": "integer" },
            "hours": { "type": "string", "example": "Mo-Su 08:00-20:00" } }),
    );
    m.insert(
        "Centers".into(),
        object(
            &["centers"],
            json!({ "centers": { "type": "array", "items": center } }),
        ),
    );
    m.insert("Center".into(), center);
    m.insert(
        "Visit".into(),
        object(
            &["snils", "passport_series", "passport_number"],
            json!({
            "snils": string(), "passport_series": string(), "passport_number": string(),
            "register": { "type": "boolean" }, "phone": string() }),
        ),
    );
    m.insert("Profile".into(), json!({ "type": "object", "additionalProperties": true,
        "description": "The agency's keys (latency, error_rate, timeout_rate, outages, speedup, capacity and its own: loss_rate, spam_rate, refusal_rate, visit_delay; for banks one table per bank; for centers opening_hours) and the wire's: response_delay (a latency), reset_rate, malformed_rate. With a capacity, latency is the service time at a server; `\"capacity\": null` removes it",
        "properties": { "error_rate": { "type": "number" }, "timeout_rate": { "type": "number" },
            "reset_rate": { "type": "number" }, "malformed_rate": { "type": "number" },
            "latency": { "type": "object" }, "response_delay": { "type": "object" },
            "capacity": { "type": "object", "nullable": true, "required": ["servers"], "properties": {
                "servers": { "type": "integer", "minimum": 1, "description": "requests served at once" },
                "queue": { "type": "integer", "minimum": 0, "description": "requests that may wait beyond the servers (absent: unbounded; 0: none)" },
                "rate": { "type": "number", "description": "requests accepted a second (absent: no quota)" } } },
            "outages": { "type": "array", "items": object(&["from", "to"], json!({ "from": string(), "to": string() })) } } }));
    m.insert("Fault".into(), object(&["kind"], json!({
            "kind": kind(&["fail_next", "mismatch", "lose_letter", "outage"]),
            "count": { "type": "integer", "description": "fail_next" },
            "failure": kind(&["error", "outage", "timeout", "reset", "malformed"]),
            "path": { "type": "string", "description": "fail_next: only requests whose path starts with it" },
            "snils": { "type": "string", "description": "mismatch (pfr, ca, banks, centers)" },
            "passport": object(&["series", "number"], json!({ "series": string(), "number": string() })),
            "tracking_number": { "type": "string", "description": "lose_letter" },
            "duration": { "type": "string", "example": "2h", "description": "outage, from now" } })));
    let faults_view = object(
        &["fail_next", "mismatches"],
        json!({
            "fail_next": { "type": "array", "items": object(&["remaining", "failure"], json!({
                "remaining": { "type": "integer" }, "failure": string(), "path": string() })) },
            "mismatches": { "type": "integer" } }),
    );
    m.insert(
        "FaultsAdded".into(),
        object(
            &["applied", "faults"],
            json!({ "applied": { "type": "integer" }, "faults": faults_view.clone() }),
        ),
    );
    m.insert("FaultsView".into(), faults_view);
    m.insert(
        "Advance".into(),
        object(
            &["seconds"],
            json!({ "seconds": { "type": "number", "minimum": 0 } }),
        ),
    );
    m.insert(
        "Clock".into(),
        object(
            &["now", "now_ms", "scale", "epoch"],
            json!({ "now": time, "now_ms": { "type": "integer" },
            "scale": { "type": "number" }, "epoch": date, "advanced_ms": { "type": "integer" } }),
        ),
    );
    Value::Object(m)
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
        params.push(json!({ "name": "limit", "in": "query", "required": false, "schema": { "type": "integer", "default": 100 } }));
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
            params.push(json!({ "name": name, "in": "query", "required": false, "description": what, "schema": { "type": "string" } }));
        }
    }
    for p in &mut params {
        if p["name"] == "mock" {
            p["schema"] = json!({ "type": "string", "enum":
                ["sms", "mail", "pfr", "fms", "ca", "post", "banks", "centers"] });
        }
    }
    if !params.is_empty() {
        op.insert("parameters".into(), Value::Array(params));
    }
    if let Some(body) = r.body {
        op.insert(
            "requestBody".into(),
            json!({ "required": !matches!(body, "Complete" | "BankForm"),
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
    } else if schema == "Text" {
        json!({ "description": "OK", "content": { "application/openmetrics-text": { "schema": schema_ref(schema) } } })
    } else {
        json!({ "description": "OK", "content": { "application/json": { "schema": schema_ref(schema) } } })
    };
    let error = json!({ "description": "An error: `{\"error\": {\"code\", \"message\", \"field\"?}}`",
        "content": { "application/json": { "schema": schema_ref("Error") } } });
    let mut responses = Map::new();
    responses.insert(status.to_string(), ok);
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
    responses.insert("default".into(), error);
    op.insert("responses".into(), Value::Object(responses));
    Value::Object(op)
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
