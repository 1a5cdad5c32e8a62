//! The SMS gateway mock: `POST /mocks/sms/messages` `{to, text}` -> 202 `{message_id}`, or a
//! batch as bulk gateways take it, `{messages: [{to, text}, ...]}` (1 to [`BATCH_MAX`]) -> 202
//! `{messages: [{message_id}, ...]}` in the same order (all or none: one bad message refuses the
//! batch; a fault or server error fails the whole request, as one request). Each message in `GET /mocks/sms/inbox/{phone}` once its delivery delay (drawn from the
//! profile) has passed, or never if it was lost. Admin: the shared routes of
//! [`super::admin`] (profile, faults, journal, reset).

use super::error::MockError;
use super::http::{Json, Path};
use super::inbox::{Folder, Gateway};
use crate::agency::sms::{self as model, SmsProfile, SmsVerdict};
use crate::ident::Phone;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The longest SMS text accepted, in characters (a long message of several parts).
pub const TEXT_MAX_CHARS: usize = 1_000;

/// The SMS gateway.
pub type Sms = Gateway<SmsProfile>;

/// The most messages in one batch.
pub const BATCH_MAX: usize = 1_000;

/// One message of `POST /mocks/sms/messages`.
#[derive(Debug, Deserialize, Serialize)]
pub struct SendSms {
    pub to: String,
    pub text: String,
}

/// The body of `POST /mocks/sms/messages`: one message, or `messages`.
#[derive(Debug, Deserialize)]
pub struct SendBody {
    to: Option<String>,
    text: Option<String>,
    messages: Option<Vec<SendSms>>,
}

/// The acknowledgement of a message.
#[derive(Debug, Serialize, Deserialize)]
pub struct Sent {
    pub message_id: String,
}

/// The acknowledgement of a batch, one per message in order.
#[derive(Debug, Serialize, Deserialize)]
pub struct SentBatch {
    pub messages: Vec<Sent>,
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

/// A message checked: the canonical phone and the text.
fn checked<'a>(to: &str, text: &'a str, batch: bool) -> Result<(String, &'a str), MockError> {
    let (to_field, text_field) = if batch {
        ("messages[].to", "messages[].text")
    } else {
        ("to", "text")
    };
    let to = phone(to_field, to)?.canonical();
    let chars = text.chars().count();
    if chars == 0 || chars > TEXT_MAX_CHARS {
        return Err(MockError::invalid(
            text_field,
            format!("must have 1 to {TEXT_MAX_CHARS} characters"),
        ));
    }
    Ok((to, text))
}

async fn send(
    State(sms): State<Arc<Sms>>,
    Json(body): Json<SendBody>,
) -> Result<axum::response::Response, MockError> {
    use axum::response::IntoResponse;
    let (batch, messages) = match body {
        SendBody {
            to: None,
            text: None,
            messages: Some(m),
        } => {
            if m.is_empty() || m.len() > BATCH_MAX {
                return Err(MockError::invalid(
                    "messages",
                    format!("must hold 1 to {BATCH_MAX} messages"),
                ));
            }
            (true, m)
        }
        SendBody {
            to: Some(to),
            text: Some(text),
            messages: None,
        } => (false, vec![SendSms { to, text }]),
        SendBody {
            messages: Some(_), ..
        } => {
            return Err(MockError::invalid(
                "messages",
                "either one message (`to`, `text`) or `messages`, not both",
            ))
        }
        SendBody { to: None, .. } => return Err(MockError::invalid("to", "missing field `to`")),
        SendBody { .. } => return Err(MockError::invalid("text", "missing field `text`")),
    };
    let mut ready = Vec::with_capacity(messages.len());
    for (i, m) in messages.iter().enumerate() {
        let (to, text) = checked(&m.to, &m.text, batch).map_err(|e| match e {
            MockError::Invalid { field, message } if batch => MockError::Invalid {
                field,
                message: format!("message {i} (from 0): {message}"),
            },
            e => e,
        })?;
        ready.push((to, text));
    }
    let now = sms.context.world.now();
    // The request's fate (failure, or the first message's delay), then each further message's.
    let (reply, rest) = {
        let profile = sms.profile.get();
        sms.context.with_rng(|rng| {
            let reply = model::send(&profile, now, rng);
            let rest: Vec<_> = (1..ready.len())
                .map(|_| model::deliver(&profile, rng))
                .collect();
            (reply, rest)
        })
    };
    let first = sms.context.answer("sms", reply).await?;
    let mut ids = Vec::with_capacity(ready.len());
    {
        let mut inboxes = sms.inboxes();
        for ((to, text), (verdict, delay_ms)) in
            ready.iter().zip(std::iter::once(first).chain(rest))
        {
            let folder = match verdict {
                SmsVerdict::Delivered => Folder::Inbox,
                SmsVerdict::Lost => Folder::Lost,
            };
            ids.push(inboxes.push(now, to, None, text, now.saturating_add(delay_ms), folder));
        }
    }
    let mut sent: Vec<Sent> = ids
        .into_iter()
        .map(|id| Sent {
            message_id: message_id(id),
        })
        .collect();
    // The single form has exactly one message: it is answered as itself.
    Ok(match sent.pop() {
        Some(one) if !batch => (StatusCode::ACCEPTED, Json(one)).into_response(),
        last => {
            sent.extend(last);
            (StatusCode::ACCEPTED, Json(SentBatch { messages: sent })).into_response()
        }
    })
}

async fn inbox(
    State(sms): State<Arc<Sms>>,
    Path(raw): Path<String>,
) -> Result<Json<SmsInbox>, MockError> {
    let p = phone("phone", &raw)?.canonical();
    let world = &sms.context.world;
    let now = world.now();
    let messages = sms.inboxes().delivered(&p, now);
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
