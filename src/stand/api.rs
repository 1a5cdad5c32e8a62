//! The engine's HTTP API v1: one handler per row of DESIGN.md's contract, plus
//! `POST /api/v1/callbacks/{pfr,fms}` (where the agencies call back), `GET /healthz`,
//! `GET /metrics` and `GET /openapi.json`.
//!
//! Authorization: the account routes take the session token from `POST /api/v1/sessions` as
//! `Authorization: Bearer T`; the operator routes the operator token, the partner routes the
//! partner token, the same way. Identifiers in paths are canonical (oid in decimal, ids in hex);
//! times in bodies are RFC 3339 UTC in sim time.

use super::error::StandError;
use super::performer::{LetterSent, SignatureChecked};
use super::Stand;
use crate::registry::registry::{AccountView, PartnerStatus, RegistrationStarted};
use crate::registry::Agency;
use crate::registry::{
    password, ConfirmationId, ConfirmationMethod, Oid, RegistrationId, RegistryError, RequestId,
    SessionToken, Tier, VerificationStatus,
};
use crate::wire::{self, OnlineMethod, RegistrationForm};
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use esia_mocks::agency::banks::Bank;
use esia_mocks::service::http::{Json, Path, Query};
use esia_mocks::wire::Timestamp;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

/// The engine's routes.
pub fn router(stand: Arc<Stand>) -> Router {
    Router::new()
        .route("/api/v1/registrations", post(start_registration))
        .route("/api/v1/registrations/{id}/code", post(confirm_code))
        .route("/api/v1/registrations/{id}/resend", post(resend_code))
        .route("/api/v1/registrations/{id}/email", get(follow_link))
        .route("/api/v1/registrations/{id}/password", post(set_password))
        .route("/api/v1/sessions", post(log_in))
        .route("/api/v1/accounts/{oid}", get(read_account))
        .route("/api/v1/accounts/{oid}/password", put(change_password))
        .route("/api/v1/accounts/{oid}/personal-data", put(personal_data))
        .route("/api/v1/accounts/{oid}/confirmations", post(confirm))
        .route(
            "/api/v1/accounts/{oid}/confirmations/code",
            post(letter_code),
        )
        .route("/api/v1/operator/confirmations", post(operator_confirm))
        .route("/api/v1/operator/registrations", post(mfc_register))
        .route(
            "/api/v1/partners/{bank}/confirmations",
            post(partner_confirm),
        )
        .route(
            "/api/v1/partners/{bank}/confirmations/{id}",
            get(partner_status),
        )
        .route("/api/v1/callbacks/{agency}", post(callback))
        .route("/healthz", get(health))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .with_state(stand)
}

type Api<T> = Result<T, StandError>;

fn registration_id(s: &str) -> Result<RegistrationId, StandError> {
    RegistrationId::parse(s).ok_or(StandError::Registry(RegistryError::NotFound {
        what: "registration",
    }))
}

fn oid(s: &str) -> Result<Oid, StandError> {
    Oid::parse(s).ok_or(StandError::Registry(RegistryError::NotFound {
        what: "account",
    }))
}

/// The token of an `Authorization: Bearer T` header.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// Checks that the request carries an open session of account `oid`.
fn session(stand: &Stand, headers: &HeaderMap, oid: Oid) -> Api<()> {
    let token = bearer(headers).ok_or(StandError::TokenMissing {
        what: "session token",
    })?;
    let token = SessionToken::parse(token).ok_or(RegistryError::Unauthorized)?;
    stand.read(|r, now| r.authorize(now, token, oid))?;
    Ok(())
}

/// The account of an `/accounts/{oid}/...` route whose session the request carries. An
/// extractor, so the session is checked before the body is read.
struct SessionOf(Oid);

impl FromRequestParts<Arc<Stand>> for SessionOf {
    type Rejection = StandError;

    async fn from_request_parts(parts: &mut Parts, s: &Arc<Stand>) -> Result<Self, StandError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, s).await?;
        let oid = oid(&raw)?;
        session(s, &parts.headers, oid)?;
        Ok(SessionOf(oid))
    }
}

/// A request carrying the operator token (checked before the body is read).
struct Operator;

impl FromRequestParts<Arc<Stand>> for Operator {
    type Rejection = StandError;

    async fn from_request_parts(parts: &mut Parts, s: &Arc<Stand>) -> Result<Self, StandError> {
        s.check_token(bearer(&parts.headers), false)?;
        Ok(Operator)
    }
}

/// A request of a partner bank named in the path, carrying the partner token.
struct Partner(Bank);

impl FromRequestParts<Arc<Stand>> for Partner {
    type Rejection = StandError;

    async fn from_request_parts(parts: &mut Parts, s: &Arc<Stand>) -> Result<Self, StandError> {
        let raw = parts
            .uri
            .path()
            .split('/')
            .nth(4)
            .unwrap_or_default()
            .to_owned();
        let bank = bank(&raw)?;
        s.check_token(bearer(&parts.headers), true)?;
        Ok(Partner(bank))
    }
}

// ---------------------------------------------------------------------------------------------
// Step 1: simplified account

/// A time of the stand's world as the wire writes it.
fn at(s: &Stand, t: esia_mocks::clock::SimTime) -> Timestamp {
    Timestamp::at(s.world.epoch(), t)
}

fn started(s: &Stand, started: RegistrationStarted) -> wire::RegistrationStarted {
    wire::RegistrationStarted {
        registration_id: started.registration_id.to_string(),
        channel: started.channel,
        expires_at: at(s, started.expires_at),
    }
}

async fn start_registration(
    State(s): State<Arc<Stand>>,
    Json(form): Json<RegistrationForm>,
) -> Api<(StatusCode, Json<wire::RegistrationStarted>)> {
    let done = s.command_in(s.room(1).await?, |r, now, rng, fx| {
        r.start_registration(now, rng, &form, fx)
    })?;
    Ok((StatusCode::CREATED, Json(started(&s, done))))
}

fn contact_confirmed(id: RegistrationId, oid: Option<Oid>) -> Json<wire::ContactConfirmed> {
    Json(wire::ContactConfirmed {
        registration_id: id.to_string(),
        confirmed: true,
        oid: oid.map(|o| o.0),
    })
}

async fn confirm_code(
    State(s): State<Arc<Stand>>,
    Path(id): Path<String>,
    Json(body): Json<wire::Code>,
) -> Api<Json<wire::ContactConfirmed>> {
    let id = registration_id(&id)?;
    let oid = s.command(|r, now, _, _| r.confirm_code(now, id, &body.code))?;
    Ok(contact_confirmed(id, oid))
}

async fn resend_code(
    State(s): State<Arc<Stand>>,
    Path(id): Path<String>,
) -> Api<Json<wire::RegistrationStarted>> {
    let id = registration_id(&id)?;
    let done = s.command_in(s.room(1).await?, |r, now, rng, fx| {
        r.resend_code(now, rng, id, fx)
    })?;
    Ok(Json(started(&s, done)))
}

#[derive(Deserialize)]
struct TokenQuery {
    token: String,
}

async fn follow_link(
    State(s): State<Arc<Stand>>,
    Path(id): Path<String>,
    Query(q): Query<TokenQuery>,
) -> Api<Json<wire::ContactConfirmed>> {
    let id = registration_id(&id)?;
    let oid = s.command(|r, now, _, _| r.follow_email_link(now, id, &q.token))?;
    Ok(contact_confirmed(id, oid))
}

async fn set_password(
    State(s): State<Arc<Stand>>,
    Path(id): Path<String>,
    Json(body): Json<wire::PasswordForm>,
) -> Api<(StatusCode, Json<wire::Registered>)> {
    let id = registration_id(&id)?;
    s.read(|r, _| r.check_password(id, &body.password, &body.password_repeat))?;
    let hash = s.hash(body.password).await?;
    let done = s.command_in(s.room(1).await?, |r, now, rng, fx| {
        r.set_password(now, rng, id, hash, fx)
    })?;
    Ok((
        StatusCode::CREATED,
        Json(wire::Registered {
            oid: done.oid.0,
            tier: done.tier,
            second_contact: done.second_contact.map(|c| started(&s, c)),
        }),
    ))
}

// ---------------------------------------------------------------------------------------------
// Login and accounts

async fn log_in(
    State(s): State<Arc<Stand>>,
    peer: super::lockout::Peer,
    Json(body): Json<wire::Login>,
) -> Api<Json<wire::Session>> {
    if body.password.chars().count() > password::PASSWORD_MAX_CHARS {
        return Err(RegistryError::Unauthorized.into());
    }
    let gate = s.lockout.gate(peer, s.world.now())?;
    let candidate = gate.lookup(s.read(|r, _| r.login_lookup(&body.login)))?;
    let attempt = gate.begin(candidate.oid)?;
    if !s.verify(body.password, candidate.hash).await {
        return Err(attempt.failed(s.world.now()));
    }
    attempt.succeeded();
    let session = s.command(|r, now, rng, _| r.open_session(now, rng, candidate.oid))?;
    Ok(Json(wire::Session {
        token: session.token.to_string(),
        oid: session.oid.0,
        expires_at: at(&s, session.expires_at),
    }))
}

/// The wire's account of the registry's view, with the letter's tracking number once the
/// post has given one.
fn account(s: &Stand, view: AccountView) -> wire::Account {
    let c = view.confirmation;
    let tracking_number = c
        .letter_confirmation_id
        .and_then(|id| match s.performer.letter(id) {
            Some(LetterSent::Accepted { tracking_number }) => Some(tracking_number),
            _ => None,
        });
    let status = match c.status {
        "letter_ordered" => wire::ConfirmationStatus::LetterOrdered,
        "signature_pending" => wire::ConfirmationStatus::SignaturePending,
        "confirmed" => wire::ConfirmationStatus::Confirmed,
        _ => wire::ConfirmationStatus::None,
    };
    wire::Account {
        oid: view.oid.0,
        tier: view.tier,
        trusted: view.trusted,
        surname: view.surname,
        name: view.name,
        phone: view.phone,
        email: view.email,
        snils: view.snils,
        verification: wire::Verification {
            status: view.verification.status,
            pfr: view.verification.pfr,
            fms: view.verification.fms,
            reason: view.verification.reason,
        },
        confirmation: wire::Confirmation {
            status,
            method: c.method.map(|m| m.as_str().to_owned()),
            bank: c.bank,
            confirmed_at: c.confirmed_at.map(|t| at(s, t)),
            letter_confirmation_id: c.letter_confirmation_id.map(|id| id.to_string()),
            tracking_number,
            letter_expires_at: c.letter_expires_at.map(|t| at(s, t)),
            last_refusal: c.last_refusal,
        },
        restrictions: view
            .restrictions
            .names()
            .into_iter()
            .map(str::to_owned)
            .collect(),
    }
}

/// The account as `GET /accounts/{oid}` shows it.
fn account_of(s: &Stand, oid: Oid) -> Api<wire::Account> {
    let view = s.read(|r, _| r.account_view(oid))?;
    Ok(account(s, view))
}

/// Waits (at most the stand's wait, polling every 10 ms) for `f` to give a value.
async fn wait_for<T>(s: &Stand, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = tokio::time::Instant::now() + Duration::from_millis(s.partner_wait_ms);
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn read_account(
    State(s): State<Arc<Stand>>,
    SessionOf(oid): SessionOf,
) -> Api<Json<wire::Account>> {
    Ok(Json(account_of(&s, oid)?))
}

/// `PUT /accounts/{oid}/password`: every rule, the birth date's too once personal data are
/// known; the current password verified, the new one hashed, outside the lock.
async fn change_password(
    State(s): State<Arc<Stand>>,
    SessionOf(oid): SessionOf,
    Json(body): Json<wire::PasswordChange>,
) -> Api<StatusCode> {
    let wrong_current = || {
        StandError::from(RegistryError::invalid(
            "current_password",
            crate::registry::FieldError::Rule("is not the account's password"),
        ))
    };
    if body.current_password.chars().count() > password::PASSWORD_MAX_CHARS {
        return Err(wrong_current());
    }
    let current =
        s.read(|r, _| r.check_new_password(oid, &body.password, &body.password_repeat))?;
    if !s.verify(body.current_password, current).await {
        return Err(wrong_current());
    }
    let hash = s.hash(body.password).await?;
    s.command(|r, _, _, _| r.change_password(oid, hash))?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------------
// Step 2: standard account

async fn personal_data(
    State(s): State<Arc<Stand>>,
    SessionOf(oid): SessionOf,
    Json(form): Json<wire::PersonalDataForm>,
) -> Api<(StatusCode, Json<wire::VerificationDispatched>)> {
    let d = s.command_in(s.room(2).await?, |r, now, rng, fx| {
        r.submit_personal_data(now, rng, oid, &form, fx)
    })?;
    Ok((
        StatusCode::ACCEPTED,
        Json(wire::VerificationDispatched {
            oid: d.oid.0,
            verification: wire::Dispatched {
                status: VerificationStatus::Pending,
                pfr_request_id: d.pfr_request.to_string(),
                fms_request_id: d.fms_request.to_string(),
            },
        }),
    ))
}

// ---------------------------------------------------------------------------------------------
// Step 3: confirmed account

async fn confirm(
    State(s): State<Arc<Stand>>,
    SessionOf(oid): SessionOf,
    Json(body): Json<wire::ConfirmationRequest>,
) -> Api<(StatusCode, Json<wire::ConfirmationAnswer>)> {
    match body.method {
        OnlineMethod::Post => {
            let ordered = s.command_in(s.room(1).await?, |r, now, rng, fx| {
                r.order_letter(now, rng, oid, body.address.as_ref(), fx)
            })?;
            let id = ordered.confirmation_id;
            // The post answers in milliseconds; a post that is down is retried for a while.
            let sent = if s.performer.sends_letters() {
                wait_for(&s, || s.performer.letter(id)).await
            } else {
                None
            };
            let tracking_number = match sent {
                Some(LetterSent::Accepted { tracking_number }) => Some(tracking_number),
                Some(LetterSent::Refused { reason }) => {
                    return Err(StandError::AgencyUnavailable {
                        agency: "post",
                        message: format!(
                            "the letter was not accepted ({reason}); the order stands: order \
                             again once re-ordering is allowed"
                        ),
                    })
                }
                // Still being sent (or no post URL): the account view shows it later.
                None => None,
            };
            Ok((
                StatusCode::ACCEPTED,
                Json(wire::ConfirmationAnswer::Letter(wire::LetterOrdered {
                    confirmation_id: id.to_string(),
                    tracking_number,
                    expires_at: at(&s, ordered.expires_at),
                    reorder: ordered.reorder,
                })),
            ))
        }
        OnlineMethod::ESignature => {
            let cert = body.certificate.ok_or_else(|| {
                RegistryError::invalid(
                    "certificate",
                    crate::registry::FieldError::Rule("is needed: {serial, issuer}"),
                )
            })?;
            let request = s.command_in(s.room(1).await?, |r, now, rng, fx| {
                r.sign(now, rng, oid, &cert.serial, &cert.issuer, fx)
            })?;
            let checked = if s.performer.checks_certificates() {
                wait_for(&s, || s.performer.signature(request)).await
            } else {
                None
            };
            let confirmed = |s: &Stand| -> Api<(StatusCode, Json<wire::ConfirmationAnswer>)> {
                let account = Box::new(account_of(s, oid)?);
                Ok((
                    StatusCode::OK,
                    Json(wire::ConfirmationAnswer::Account(account)),
                ))
            };
            match checked {
                Some(SignatureChecked::Confirmed) | Some(SignatureChecked::Stale) => confirmed(&s),
                Some(SignatureChecked::Refused(verdict)) => {
                    Err(StandError::CertificateRefused(verdict))
                }
                Some(SignatureChecked::Unavailable) => Err(StandError::AgencyUnavailable {
                    agency: "ca",
                    message: "the certificate could not be checked; sign again later".into(),
                }),
                // The CA is slow (or there is no CA URL): the account shows the outcome later.
                None => Ok((
                    StatusCode::ACCEPTED,
                    Json(wire::ConfirmationAnswer::Pending(wire::SignaturePending {
                        request_id: request.to_string(),
                        status: wire::ConfirmationStatus::SignaturePending,
                    })),
                )),
            }
        }
    }
}

async fn letter_code(
    State(s): State<Arc<Stand>>,
    SessionOf(oid): SessionOf,
    Json(body): Json<wire::Code>,
) -> Api<Json<wire::Account>> {
    s.command_in(s.room(1).await?, |r, now, _, fx| {
        r.enter_letter_code(now, oid, &body.code, fx)
    })?;
    Ok(Json(account_of(&s, oid)?))
}

/// Checks a service center's id: 1 to 64 letters, digits, `-` or `_`.
fn center_id(id: &str) -> Api<()> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(RegistryError::invalid(
            "center_id",
            crate::registry::FieldError::Rule("must be 1 to 64 letters, digits, '-' or '_'"),
        )
        .into())
    }
}

async fn operator_confirm(
    State(s): State<Arc<Stand>>,
    _: Operator,
    Json(body): Json<wire::OperatorConfirmation>,
) -> Api<Json<wire::OperatorConfirmed>> {
    center_id(&body.center_id)?;
    let done = s.command_in(s.room(1).await?, |r, now, _, fx| {
        r.operator_confirm(
            now,
            &body.center_id,
            &body.snils,
            &body.passport.series,
            &body.passport.number,
            fx,
        )
    })?;
    Ok(Json(wire::OperatorConfirmed {
        oid: done.oid.0,
        tier: Tier::Confirmed,
        method: done.method.as_str().to_owned(),
        center_id: body.center_id,
    }))
}

async fn mfc_register(
    State(s): State<Arc<Stand>>,
    _: Operator,
    Json(body): Json<wire::MfcRegistration>,
) -> Api<(StatusCode, Json<wire::MfcRegistered>)> {
    let wire::PersonWithPhone {
        person: form,
        phone,
    } = body.person;
    // Validate before paying for a hash.
    s.read(|r, now| form.validate(r.config().epoch.date_of(now)).map(|_| ()))?;
    let center = body.center_id.ok_or_else(|| {
        RegistryError::invalid(
            "center_id",
            crate::registry::FieldError::Rule("is needed: the MFC that registers the account"),
        )
    })?;
    center_id(&center)?;
    s.read(|r, _| r.registering_center(&center).map(|_| ()))?;
    let otp = s.command(|_, _, rng, _| Ok(password::one_time_password(rng)))?;
    let hash = s.hash(otp.clone()).await?;
    let done = s.command_in(s.room(1).await?, |r, now, _, fx| {
        r.mfc_register(now, &center, &form, &phone, hash, fx)
    })?;
    Ok((
        StatusCode::CREATED,
        Json(wire::MfcRegistered {
            oid: done.oid.0,
            login: done.login.canonical(),
            one_time_password: otp,
            tier: Tier::Confirmed,
            center_id: center,
        }),
    ))
}

fn bank(s: &str) -> Api<Bank> {
    s.parse::<Bank>().map_err(|_| {
        StandError::Registry(RegistryError::NotFound {
            what: "partner bank",
        })
    })
}

fn partner_json(
    id: ConfirmationId,
    bank: Bank,
    status: PartnerStatus,
) -> Api<(StatusCode, Json<wire::PartnerConfirmation>)> {
    let pending = wire::PartnerConfirmation {
        confirmation_id: id.to_string(),
        bank,
        status: wire::PartnerState::Pending,
        oid: None,
        created: None,
        tier: None,
        method: None,
    };
    match status {
        PartnerStatus::Pending => Ok((StatusCode::ACCEPTED, Json(pending))),
        PartnerStatus::Confirmed { oid, created } => Ok((
            StatusCode::OK,
            Json(wire::PartnerConfirmation {
                status: wire::PartnerState::Confirmed,
                oid: Some(oid.0),
                created: Some(created),
                tier: Some(Tier::Confirmed),
                method: Some(ConfirmationMethod::Bank(bank).as_str().to_owned()),
                ..pending
            }),
        )),
        PartnerStatus::Refused(reason) => Err(StandError::PartnerRefused(reason)),
    }
}

/// The query of `POST /partners/{bank}/confirmations`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct PartnerQuery {
    /// `false`: answer at once, 202 while PFR and FMS have not answered.
    wait: Option<bool>,
}

async fn partner_confirm(
    State(s): State<Arc<Stand>>,
    Partner(bank): Partner,
    Query(query): Query<PartnerQuery>,
    Json(body): Json<wire::PersonWithPhone>,
) -> Api<(StatusCode, Json<wire::PartnerConfirmation>)> {
    let wire::PersonWithPhone {
        person: form,
        phone,
    } = body;
    let started = s.command_in(s.room(2).await?, |r, now, rng, fx| {
        r.bank_confirm(now, rng, bank, &form, &phone, None, fx)
    })?;
    let id = started.confirmation_id;
    // PFR and FMS answer in minutes to days of sim time: wait a little, then answer 202. The
    // answer that decides it wakes this request; a look every 250 ms covers the decisions
    // made otherwise (the registry's own timeout). `?wait=false` answers at once (the stand's
    // bank mock asks so while an advance holds the clock and waits for its call).
    let at_once = query.wait == Some(false);
    let wait = s.performer.wait_partner(id);
    let deadline = tokio::time::Instant::now() + Duration::from_millis(s.partner_wait_ms);
    loop {
        let status = s.read(|r, _| r.partner_status(id))?;
        let now = tokio::time::Instant::now();
        if status != PartnerStatus::Pending || now >= deadline || at_once {
            return partner_json(id, bank, status);
        }
        let look = (now + Duration::from_millis(250)).min(deadline);
        tokio::select! {
            _ = wait.settled.notified() => {}
            _ = tokio::time::sleep_until(look) => {}
        }
    }
}

async fn partner_status(
    State(s): State<Arc<Stand>>,
    Partner(bank): Partner,
    Path((_, raw_id)): Path<(String, String)>,
) -> Api<(StatusCode, Json<wire::PartnerConfirmation>)> {
    let id = ConfirmationId::parse(&raw_id).ok_or(RegistryError::NotFound {
        what: "partner confirmation",
    })?;
    let status = s.read(|r, _| r.partner_status(id))?;
    partner_json(id, bank, status)
}

// ---------------------------------------------------------------------------------------------
// Agencies' callbacks and the stand's own routes

async fn callback(
    State(s): State<Arc<Stand>>,
    Path(raw): Path<String>,
    Json(body): Json<wire::Callback>,
) -> Api<(StatusCode, Json<wire::CallbackAccepted>)> {
    let agency = Agency::parse(&raw).ok_or(RegistryError::NotFound { what: "agency" })?;
    let id =
        RequestId::parse(&body.request_id).ok_or(RegistryError::NotFound { what: "request" })?;
    // The callback only says "ready": the answer is fetched from the agency itself, so a
    // forged callback cannot decide a verification.
    if s.performer.callback(agency, id, s.world.work()) {
        Ok((
            StatusCode::ACCEPTED,
            Json(wire::CallbackAccepted { accepted: true }),
        ))
    } else {
        Err(RegistryError::NotFound { what: "request" }.into())
    }
}

async fn health(State(s): State<Arc<Stand>>) -> Json<wire::Health> {
    Json(wire::Health {
        status: "ok".into(),
        now: at(&s, s.world.now()),
        effects_queued: s.performer.queued() as u64,
        held_effects: s.performer.held().len() as u64,
    })
}

async fn metrics(State(s): State<Arc<Stand>>) -> Response {
    let text = s.metrics.encode(&s.snapshot());
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

async fn openapi() -> Json<serde_json::Value> {
    Json(super::openapi::document())
}
