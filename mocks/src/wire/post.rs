//! The Russian Post mock's bodies: `POST /mocks/post/letters`, `GET /mocks/post/tracking/{n}`,
//! `POST /mocks/post/letters/{n}/pickup` and `POST /mocks/post/letters/{n}/deliver`.

use crate::agency::post::TrackingKind;
use crate::population::record::Address;
use crate::wire::Timestamp;
use serde::{Deserialize, Serialize};

/// An address as one line or as its parts.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum AddressIn {
    Line(String),
    Parts(Address),
}

impl AddressIn {
    /// The address as one line.
    pub fn one_line(&self) -> String {
        match self {
            AddressIn::Line(s) => s.trim().to_owned(),
            AddressIn::Parts(a) => {
                let mut line = format!(
                    "{}, {}, {}, {}, {}",
                    a.postcode, a.region, a.city, a.street, a.house
                );
                if let Some(flat) = &a.flat {
                    line.push_str(", кв. ");
                    line.push_str(flat);
                }
                line
            }
        }
    }
}

/// [`AddressIn`] as the document states it.
#[derive(utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum AddressInSchema {
    Line(crate::wire::AddressLine),
    Parts(Address),
}

/// `POST /mocks/post/letters`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = Letter)]
pub struct SendLetter {
    #[schema(min_length = 1, max_length = 300, pattern = "\\S")]
    pub recipient: String,
    #[schema(value_type = AddressInSchema)]
    pub address: AddressIn,
    #[schema(min_length = 1, max_length = 2000, pattern = "\\S")]
    pub text: String,
    /// With `passport_number`: only that passport picks the letter up.
    #[serde(default)]
    #[schema(value_type = Option<crate::wire::SeriesDigits>)]
    pub passport_series: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<crate::wire::NumberDigits>)]
    pub passport_number: Option<String>,
    /// The sender's id of the order: the same reference again answers the same letter.
    #[serde(default)]
    #[schema(value_type = Option<crate::wire::RequestId>)]
    pub reference: Option<String>,
}

/// A letter accepted.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = LetterAccepted)]
pub struct Accepted {
    #[schema(example = "10100000000017")]
    pub tracking_number: String,
    pub status: TrackingKind,
    pub accepted_at: Timestamp,
}

/// One tracking event.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EventView {
    pub kind: TrackingKind,
    pub at: Timestamp,
}

/// `GET /mocks/post/tracking/{n}`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = Tracking)]
pub struct TrackingView {
    pub tracking_number: String,
    /// The kind of the latest event.
    pub status: TrackingKind,
    pub events: Vec<EventView>,
}

/// `POST /mocks/post/letters/{n}/pickup`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Pickup {
    #[schema(value_type = crate::wire::SeriesDigits)]
    pub passport_series: String,
    #[schema(value_type = crate::wire::NumberDigits)]
    pub passport_number: String,
}

/// A letter handed over.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = LetterHandedOver)]
pub struct LetterView {
    pub tracking_number: String,
    pub recipient: String,
    pub address: String,
    pub text: String,
    pub handed_over_at: Timestamp,
}
