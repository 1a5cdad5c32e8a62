//! The SMS gateway mock: `POST /mocks/sms/messages` `{to, text}` -> 202 `{message_id}`, or a
//! batch as bulk gateways take it, `{messages: [{to, text}, ...]}` (1 to [`BATCH_MAX`]) -> 202
//! `{messages: [{message_id}, ...]}` in the same order (all or none: one bad message refuses the
//! batch; a fault or server error fails the whole request, as one request). Each message in `GET /mocks/sms/inbox/{phone}` once its delivery delay (drawn from the
//! profile) has passed, or never if it was lost. Admin: the shared routes of
//! [`super::admin`] (profile, faults, journal, reset).
//!
//! With a `capacity` in the profile each message is one request to the gateway's station: it
//! is delivered when its service ends, and a message beyond the queue or the quota is refused
//! (429 `queue_full` or `quota` with `Retry-After`). In a batch the messages are offered in
//! order; once one is refused so are the ones after it: if the first was, the whole request is
//! refused (429); otherwise the answer is 202 with `Retry-After`, and each refused message's
//! entry is `{error: {code, message, retry_after_s}}` instead of `{message_id}`.

use super::error::MockError;
use super::http::{Json, Path};
use super::inbox::{Gateway, GatewayProfile};
use crate::agency::sms::{self as model, SmsProfile, SmsVerdict};
use crate::ident::Phone;
use crate::wire::mail::Folder;
use crate::wire::sms::{
    BatchItem, ItemRefused, SendBody, SendSms, Sent, SentBatch, SmsInbox, SmsView,
};
use crate::wire::Timestamp;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;

/// The longest SMS text accepted, in characters (a long message of several parts).
pub const TEXT_MAX_CHARS: usize = 1_000;

/// The SMS gateway.
pub type Sms = Gateway<SmsProfile>;

/// The most messages in one batch.
pub const BATCH_MAX: usize = 1_000;

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
    super::inbox::message_id("sms", n)
}

/// A message checked: the canonical phone and the text.
fn checked<'a>(to: &str, text: &'a str, batch: bool) -> Result<(String, &'a str), MockError> {
    let (to_field, text_field) = if batch {
        ("messages[].to", "messages[].text")
    } else {
        ("to", "text")
    };
    let to = phone(to_field, to)?.canonical();
    // A text of no more bytes than the limit has no more characters either: only a longer
    // one is counted.
    if text.is_empty() || (text.len() > TEXT_MAX_CHARS && text.chars().count() > TEXT_MAX_CHARS) {
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
                "cannot come with `to` and `text`: send one message or a list, not both",
            ))
        }
        SendBody { to: None, .. } => return Err(MockError::invalid("to", "is missing")),
        SendBody { .. } => return Err(MockError::invalid("text", "is missing")),
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
    let (reply, rest, capacity) = {
        let profile = sms.profile.get();
        let (reply, rest) = sms.context.with_rng(|rng| {
            let reply = model::send(&profile, now, rng);
            let rest: Vec<_> = (1..ready.len())
                .map(|_| model::deliver(&profile, rng))
                .collect();
            (reply, rest)
        });
        (reply, rest, profile.capacity().cloned())
    };
    let first = sms.context.answer("sms", reply).await?;
    // Each message at the gateway's station, in order, until one is refused.
    let mut admitted = Vec::with_capacity(ready.len());
    let mut refused = None;
    for (verdict, delay_ms) in std::iter::once(first).chain(rest) {
        match sms
            .stations
            .offer(0, capacity.as_ref(), now, delay_ms, |t| t)
        {
            Ok(None) => admitted.push((verdict, delay_ms)),
            Ok(Some(a)) => admitted.push((verdict, a.delay_ms(now))),
            Err(busy) => {
                refused = Some(busy);
                break;
            }
        }
    }
    if let Some(mut busy) = refused {
        let after = (ready.len() - admitted.len() - 1) as u64;
        if let MockError::Busy { reason, count, .. } = &mut busy {
            sms.stations.count_refused(0, *reason, after);
            *count = (after + 1) as u32;
        }
        if admitted.is_empty() {
            return Err(busy);
        }
        refused = Some(busy);
    }
    let mut ids = Vec::with_capacity(admitted.len());
    {
        let mut inboxes = sms.inboxes();
        for ((to, text), (verdict, delay_ms)) in ready.iter().zip(admitted) {
            let folder = match verdict {
                SmsVerdict::Delivered => Folder::Inbox,
                SmsVerdict::Lost => Folder::Lost,
            };
            ids.push(inboxes.push(now, to, None, text, now.saturating_add(delay_ms), folder));
        }
    }
    if !batch {
        // The single form has exactly one message, admitted: it is answered as itself.
        let one = Sent {
            message_id: ids.first().map(|id| message_id(*id)).unwrap_or_default(),
        };
        return Ok((StatusCode::ACCEPTED, Json(one)).into_response());
    }
    let mut messages: Vec<BatchItem> = ids
        .into_iter()
        .map(|id| BatchItem {
            message_id: Some(message_id(id)),
            error: None,
        })
        .collect();
    let Some(busy) = refused else {
        return Ok((StatusCode::ACCEPTED, Json(SentBatch { messages })).into_response());
    };
    // Part of the batch refused: 202 for the rest, with the refusal's Retry-After and mark.
    let refusal = busy.clone().into_response();
    if let MockError::Busy { retry_after_s, .. } = &busy {
        while messages.len() < ready.len() {
            messages.push(BatchItem {
                message_id: None,
                error: Some(ItemRefused {
                    code: busy.code().to_owned(),
                    message: busy.to_string(),
                    retry_after_s: *retry_after_s,
                }),
            });
        }
    }
    let mut response = (StatusCode::ACCEPTED, Json(SentBatch { messages })).into_response();
    if let Some(retry) = refusal.headers().get(axum::http::header::RETRY_AFTER) {
        response
            .headers_mut()
            .insert(axum::http::header::RETRY_AFTER, retry.clone());
    }
    if let Some(mark) = refusal.extensions().get::<super::station::Refused>() {
        response.extensions_mut().insert(*mark);
    }
    Ok(response)
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
                sent_at: Timestamp::at(world.epoch(), m.sent_at),
                delivered_at: Timestamp::at(world.epoch(), m.deliver_at),
            })
            .collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The limit is on characters, not bytes: a Cyrillic text of the limit takes twice as many.
    #[test]
    fn texts_are_held_to_their_length_in_characters() {
        let ok = |text: &str| checked("+79161234567", text, false).is_ok();
        assert!(ok("Код: 123456"));
        assert!(ok(&"я".repeat(TEXT_MAX_CHARS)));
        assert!(ok(&"z".repeat(TEXT_MAX_CHARS)));
        assert!(!ok(&"я".repeat(TEXT_MAX_CHARS + 1)));
        assert!(!ok(&"z".repeat(TEXT_MAX_CHARS + 1)));
        assert!(!ok(""));
        let e = checked("+79161234567", "", true).unwrap_err();
        assert!(
            matches!(&e, MockError::Invalid { field, .. } if *field == "messages[].text"),
            "{e:?}"
        );
    }
}
