//! The e-mail mock: `POST /mocks/mail/messages` `{to, subject, text}` -> 202 `{message_id}`; the
//! letter shows in `GET /mocks/mail/inbox/{address}` (percent-encoded) once its delay has passed,
//! in the `inbox` or `spam` folder, or never if it was lost. Admin: the shared routes of
//! [`super::admin`] (profile, faults, journal, reset). With a `capacity` in the profile a
//! letter is delivered when its service at a server ends, and one beyond the queue or the quota
//! is refused (429 `queue_full` or `quota` with `Retry-After`).

use super::error::MockError;
use super::http::{Json, Path};
use super::inbox::{Gateway, GatewayProfile};
use crate::agency::mail::{self as model, MailProfile, MailVerdict};
use crate::ident::parse_email;
use crate::wire::mail::{Folder, MailInbox, MailView, SendMail};
use crate::wire::sms::Sent;
use crate::wire::Timestamp;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;

/// The longest subject accepted, in characters.
pub const SUBJECT_MAX_CHARS: usize = 200;
/// The longest text accepted, in characters.
pub const TEXT_MAX_CHARS: usize = 10_000;

/// The mail service.
pub type Mail = Gateway<MailProfile>;

/// The service's routes (the admin routes and layers are added by [`super::Mocks`]).
pub fn router(mail: Arc<Mail>) -> Router {
    Router::new()
        .route("/mocks/mail/messages", post(send))
        .route("/mocks/mail/inbox/{address}", get(inbox))
        .with_state(mail)
}

fn message_id(n: u64) -> String {
    super::inbox::message_id("mail", n)
}

fn text(field: &'static str, s: &str, max: usize) -> Result<(), MockError> {
    let chars = s.chars().count();
    if chars == 0 || chars > max {
        return Err(MockError::invalid(
            field,
            format!("must have 1 to {max} characters"),
        ));
    }
    Ok(())
}

async fn send(
    State(mail): State<Arc<Mail>>,
    Json(body): Json<SendMail>,
) -> Result<(StatusCode, Json<Sent>), MockError> {
    let to = parse_email(&body.to).map_err(|e| MockError::invalid("to", e))?;
    text("subject", &body.subject, SUBJECT_MAX_CHARS)?;
    text("text", &body.text, TEXT_MAX_CHARS)?;
    let now = mail.context.world.now();
    let (reply, capacity) = {
        let profile = mail.profile.get();
        let reply = mail.context.with_rng(|rng| model::send(&profile, now, rng));
        (reply, profile.capacity().cloned())
    };
    let (verdict, service_ms) = mail.context.answer("mail", reply).await?;
    let delay_ms = match mail
        .stations
        .offer(0, capacity.as_ref(), now, service_ms, |t| t)?
    {
        Some(admitted) => admitted.delay_ms(now),
        None => service_ms,
    };
    let folder = match verdict {
        MailVerdict::Inbox => Folder::Inbox,
        MailVerdict::Spam => Folder::Spam,
        MailVerdict::Lost => Folder::Lost,
    };
    let id = mail.inboxes().push(
        now,
        &to,
        Some(&body.subject),
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
    State(mail): State<Arc<Mail>>,
    Path(raw): Path<String>,
) -> Result<Json<MailInbox>, MockError> {
    let address = parse_email(&raw).map_err(|e| MockError::invalid("address", e))?;
    let world = &mail.context.world;
    let messages = mail.inboxes().delivered(&address, world.now());
    Ok(Json(MailInbox {
        address,
        messages: messages
            .into_iter()
            .map(|m| MailView {
                message_id: message_id(m.message_id),
                subject: m.subject.map(Into::into).unwrap_or_default(),
                text: m.text.into(),
                folder: m.folder,
                sent_at: Timestamp::at(world.epoch(), m.sent_at),
                delivered_at: Timestamp::at(world.epoch(), m.deliver_at),
            })
            .collect(),
    }))
}
