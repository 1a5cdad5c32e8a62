//! The e-mail mock's bodies: `POST /mocks/mail/messages` (answered with
//! [`super::sms::Sent`]) and `GET /mocks/mail/inbox/{address}`.

use crate::wire::Timestamp;
use serde::{Deserialize, Serialize};

/// `POST /mocks/mail/messages`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = MailMessage)]
pub struct SendMail {
    #[schema(value_type = crate::wire::Email)]
    pub to: String,
    #[schema(min_length = 1, max_length = 200)]
    pub subject: String,
    #[schema(min_length = 1, max_length = 10000)]
    pub text: String,
}

/// One letter of a mailbox.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MailView {
    pub message_id: String,
    pub subject: String,
    pub text: String,
    /// `inbox` or `spam`.
    pub folder: Folder,
    pub sent_at: Timestamp,
    pub delivered_at: Timestamp,
}

/// `GET /mocks/mail/inbox/{address}`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MailInbox {
    /// The address, in lower case.
    pub address: String,
    /// Delivered letters, oldest first, from both folders.
    pub messages: Vec<MailView>,
}

/// Where a message ends up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Folder {
    Inbox,
    Spam,
    /// Never delivered (the gateway accepted it, then lost it).
    Lost,
}
