//! The SMS gateway mock: `POST /mocks/sms/messages` `{to, text}` -> 202 `{message_id}`; the
//! message shows in `GET /mocks/sms/inbox/{phone}` once its delivery delay (drawn from the
//! profile) has passed, or never if it was lost. Admin: `GET /mocks/sms/admin/journal`,
//! `POST /mocks/sms/admin/reset`.

use super::error::MockError;
use super::http::{Json, Path, Query};
use super::inbox::{Folder, InboxCaps, Inboxes};
use super::journal::{self, Journal, JournalQuery, JournalView};
use super::Context;
use crate::agency::sms::{self as model, SmsProfile, SmsVerdict};
use crate::ident::Phone;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex, RwLock};

/// The longest SMS text accepted, in characters (a long message of several parts).
pub const TEXT_MAX_CHARS: usize = 1_000;

/// The SMS gateway.
#[derive(Debug)]
pub struct Sms {
    context: Arc<Context>,
    profile: RwLock<SmsProfile>,
    inboxes: Mutex<Inboxes>,
    journal: Arc<Journal>,
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
            context,
            profile: RwLock::new(profile),
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

/// The gateway's routes.
pub fn router(sms: Arc<Sms>) -> Router {
    let journal = sms.journal.clone();
    Router::new()
        .route("/mocks/sms/messages", post(send))
        .route("/mocks/sms/inbox/{phone}", get(inbox))
        .route("/mocks/sms/admin/journal", get(journal_view))
        .route("/mocks/sms/admin/reset", post(reset))
        .with_state(sms)
        .layer(axum::middleware::from_fn_with_state(
            journal,
            journal::record,
        ))
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
        let profile = sms.profile.read().unwrap_or_else(|e| e.into_inner());
        sms.context.with_rng(|rng| model::send(&profile, now, rng))
    };
    let (verdict, delay_ms) = sms.context.answer("sms", reply).await?;
    let folder = match verdict {
        SmsVerdict::Delivered => Folder::Inbox,
        SmsVerdict::Lost => Folder::Lost,
    };
    let id = sms
        .inboxes
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(
            now,
            &to.canonical(),
            None,
            &body.text,
            now.saturating_add(delay_ms),
            folder,
        )
        .map_err(|_| MockError::StoreFull {
            store: "sms inboxes",
        })?;
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

async fn journal_view(
    State(sms): State<Arc<Sms>>,
    Query(q): Query<JournalQuery>,
) -> Json<JournalView> {
    Json(JournalView {
        entries: sms.journal.last(q.limit),
    })
}

async fn reset(State(sms): State<Arc<Sms>>) -> StatusCode {
    sms.inboxes
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clear();
    sms.journal.clear();
    StatusCode::NO_CONTENT
}
