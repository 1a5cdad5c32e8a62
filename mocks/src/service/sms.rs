//! The SMS gateway mock: `POST /mocks/sms/messages` `{to, text}` -> 202 `{message_id}`; the
//! message shows in `GET /mocks/sms/inbox/{phone}` once its delivery delay (drawn from the
//! profile) has passed, or never if it was lost. Admin: the shared routes of
//! [`super::admin`] (profile, faults, journal, reset).

use super::admin::{push_outage, Admin, ProfileCell};
use super::error::MockError;
use super::faults::Faults;
use super::http::{Json, Path};
use super::inbox::{Folder, InboxCaps, Inboxes};
use super::journal::Journal;
use super::{Context, MockKind};
use crate::agency::profile::Outage;
use crate::agency::sms::{self as model, SmsProfile, SmsVerdict};
use crate::clock::SimTime;
use crate::ident::Phone;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::sync::{Arc, Mutex};

/// The longest SMS text accepted, in characters (a long message of several parts).
pub const TEXT_MAX_CHARS: usize = 1_000;

/// The SMS gateway.
#[derive(Debug)]
pub struct Sms {
    context: Arc<Context>,
    profile: ProfileCell<SmsProfile>,
    inboxes: Mutex<Inboxes>,
    journal: Arc<Journal>,
    faults: Arc<Faults>,
}

/// `POST /mocks/sms/messages`.
#[derive(Debug, Deserialize)]
pub struct SendSms {
    pub to: String,
    pub text: String,
}

/// The acknowledgement of a message.
#[derive(Debug, Serialize, Deserialize)]
pub struct Sent {
    pub message_id: String,
}

/// One message of an inbox.
#[derive(Debug, Serialize, Deserialize)]
pub struct SmsView {
    pub message_id: String,
    pub text: String,
    pub sent_at: String,
    pub delivered_at: String,
}

/// `GET /mocks/sms/inbox/{phone}`.
#[derive(Debug, Serialize, Deserialize)]
pub struct SmsInbox {
    /// The phone, canonical (`79XXXXXXXXX`).
    pub phone: String,
    /// Delivered messages, oldest first.
    pub messages: Vec<SmsView>,
}

impl Sms {
    /// The gateway with `profile` and inboxes capped by `caps`.
    pub fn new(context: Arc<Context>, profile: SmsProfile, caps: InboxCaps) -> Arc<Self> {
        Arc::new(Self {
            journal: context.journal(),
            faults: Faults::new(context.clone(), "sms"),
            context,
            profile: ProfileCell::new(profile),
            inboxes: Mutex::new(Inboxes::new(caps)),
        })
    }

    /// Recipients and messages held.
    pub fn sizes(&self) -> (usize, usize) {
        self.inboxes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .sizes()
    }
}

impl Admin for Sms {
    fn kind(&self) -> MockKind {
        MockKind::Sms
    }
    fn journal(&self) -> &Arc<Journal> {
        &self.journal
    }
    fn faults(&self) -> &Arc<Faults> {
        &self.faults
    }
    fn profile_json(&self) -> Value {
        self.profile.json()
    }
    fn patch_profile(&self, patch: Map<String, Value>) -> Result<(), MockError> {
        self.profile.patch(patch)
    }
    fn add_outage(&self, outage: Outage) -> Result<(), MockError> {
        self.profile.update(|p| push_outage(&mut p.service, outage))
    }
    fn reset_state(&self) {
        self.inboxes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.profile.restore();
    }
    fn now(&self) -> SimTime {
        self.context.world.now()
    }
}

/// The gateway's routes (the admin routes and layers are added by [`super::Mocks`]).
pub fn router(sms: Arc<Sms>) -> Router {
    Router::new()
        .route("/mocks/sms/messages", post(send))
        .route("/mocks/sms/inbox/{phone}", get(inbox))
        .with_state(sms)
}

fn phone(field: &'static str, s: &str) -> Result<Phone, MockError> {
    Phone::parse(s).map_err(|e| MockError::invalid(field, e))
}

fn message_id(n: u64) -> String {
    format!("sms-{n:010}")
}

async fn send(
    State(sms): State<Arc<Sms>>,
    Json(body): Json<SendSms>,
) -> Result<(StatusCode, Json<Sent>), MockError> {
    let to = phone("to", &body.to)?;
    let chars = body.text.chars().count();
    if chars == 0 || chars > TEXT_MAX_CHARS {
        return Err(MockError::invalid(
            "text",
            format!("must have 1 to {TEXT_MAX_CHARS} characters"),
        ));
    }
    let now = sms.context.world.now();
    let reply = {
        let profile = sms.profile.get();
        sms.context.with_rng(|rng| model::send(&profile, now, rng))
    };
    let (verdict, delay_ms) = sms.context.answer("sms", reply).await?;
    let folder = match verdict {
        SmsVerdict::Delivered => Folder::Inbox,
        SmsVerdict::Lost => Folder::Lost,
    };
    let id = sms.inboxes.lock().unwrap_or_else(|e| e.into_inner()).push(
        now,
        &to.canonical(),
        None,
        &body.text,
        now.saturating_add(delay_ms),
        folder,
    );
    Ok((
        StatusCode::ACCEPTED,
        Json(Sent {
            message_id: message_id(id),
        }),
    ))
}

async fn inbox(
    State(sms): State<Arc<Sms>>,
    Path(raw): Path<String>,
) -> Result<Json<SmsInbox>, MockError> {
    let p = phone("phone", &raw)?.canonical();
    let world = &sms.context.world;
    let now = world.now();
    let messages = sms
        .inboxes
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .delivered(&p, now);
    Ok(Json(SmsInbox {
        phone: p,
        messages: messages
            .into_iter()
            .map(|m| SmsView {
                message_id: message_id(m.message_id),
                text: m.text.into(),
                sent_at: world.rfc3339(m.sent_at),
                delivered_at: world.rfc3339(m.deliver_at),
            })
            .collect(),
    }))
}
