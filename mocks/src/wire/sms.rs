//! The SMS gateway's bodies: `POST /mocks/sms/messages` (one message or a batch, and their
//! acknowledgements) and `GET /mocks/sms/inbox/{phone}`.

use crate::wire::Timestamp;
use serde::{Deserialize, Serialize};

/// One message of `POST /mocks/sms/messages`.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[schema(as = SmsMessage)]
pub struct SendSms {
    #[schema(value_type = crate::wire::Phone)]
    pub to: String,
    #[schema(min_length = 1, max_length = 1000)]
    pub text: String,
}

/// A batch of `POST /mocks/sms/messages` (schema only: the body is read as [`SendBody`]).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SmsBatch {
    #[schema(min_items = 1, max_items = 1000)]
    messages: Vec<SendSms>,
}

/// The body of `POST /mocks/sms/messages`, as the document states it: one message or a batch.
#[derive(utoipa::ToSchema)]
#[serde(untagged)]
#[schema(as = SmsSend)]
#[allow(dead_code)]
pub enum SmsSendSchema {
    One(SendSms),
    Batch(SmsBatch),
}

/// The answer of `POST /mocks/sms/messages`: one id, or one entry per message of a batch.
#[derive(utoipa::ToSchema)]
#[serde(untagged)]
#[schema(as = SmsSent)]
#[allow(dead_code)]
pub enum SmsSentSchema {
    One(Sent),
    Batch(SentBatch),
}

/// The body of `POST /mocks/sms/messages`: one message, or `messages`.
#[derive(Debug, Deserialize)]
pub struct SendBody {
    pub(crate) to: Option<String>,
    pub(crate) text: Option<String>,
    pub(crate) messages: Option<Vec<SendSms>>,
}

/// The acknowledgement of a message.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = MessageSent)]
pub struct Sent {
    pub message_id: String,
}

/// The acknowledgement of a batch, one per message in order.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SentBatch {
    pub messages: Vec<BatchItem>,
}

/// One message of a batch's acknowledgement: its id, or the refusal of the gateway's capacity.
#[derive(Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BatchItem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ItemRefused>,
}

/// Why a message of a batch was refused: `code` `queue_full` or `quota`, and when to send it
/// again.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ItemRefused {
    pub code: String,
    pub message: String,
    pub retry_after_s: u64,
}

/// One message of an inbox.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SmsView {
    pub message_id: String,
    pub text: String,
    pub sent_at: Timestamp,
    pub delivered_at: Timestamp,
}

/// `GET /mocks/sms/inbox/{phone}`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SmsInbox {
    /// The phone, canonical (`79XXXXXXXXX`).
    pub phone: String,
    /// Delivered messages, oldest first.
    pub messages: Vec<SmsView>,
}
