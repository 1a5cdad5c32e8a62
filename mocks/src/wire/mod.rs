//! The shapes every route of the stand shares, stated once: the one type times are written in
//! ([`Timestamp`]) and the forms of the identifiers and texts the routes take (phone, e-mail,
//! SNILS, INN, passport series and number, division code, names, codes, free text), as JSON
//! Schema for the OpenAPI document. Each form is the exact set [`crate::ident`]'s validator
//! accepts where a pattern can say it; what a pattern cannot say (a SNILS's check number, a date
//! in the future) is in the form's description, and the server answers it with 422.
//!
//! A request type names a form on a `String` field with `#[schema(value_type = wire::Snils)]`;
//! the document then refers to `#/components/schemas/Snils`.
//!
//! The mocks' contract, one submodule a mock: the request bodies, answers and query strings of
//! the routes under `/mocks` (serde, and `ToSchema` for the OpenAPI document; a body the
//! document states otherwise, as an untagged union or with generic verdicts, is read as its
//! own type and stated by a `...Schema` type beside it). The handlers and stores that read and
//! write them are in [`crate::service`].
//!
//! - [`sms`]: `POST /mocks/sms/messages` (one message or a batch), `GET /mocks/sms/inbox/{phone}`.
//! - [`mail`]: `POST /mocks/mail/messages`, `GET /mocks/mail/inbox/{address}`, the folders.
//! - [`smev`]: what PFR and FMS share as SMEV 3: a request's state (poll and callback), its 429,
//!   `.../complete`, `.../admin/records` and their answer; [`pfr`] and [`fms`]: the requests.
//! - [`ca`]: the CA's records.
//! - [`post`]: letters, tracking, pickup.
//! - [`people`]: the people banks and service centers know; [`banks`]: the Gosuslugi form and
//!   the banks' records; [`centers`]: the directory, a visit, the centers' records.
//! - [`admin`]: a mock's profile and the answer of its faults route; [`faults`]: targeted
//!   faults; [`journal`]: the journal, its query and entries.
//! - [`clock`]: the world's clock and its advance (`/mocks/admin/clock`).

pub mod admin;
pub mod banks;
pub mod ca;
pub mod centers;
pub mod clock;
pub mod faults;
pub mod fms;
pub mod journal;
pub mod mail;
pub mod people;
pub mod pfr;
pub mod post;
pub mod smev;
pub mod sms;

use crate::clock::{Epoch, SimTime};
use crate::region::REGIONS;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

/// A moment in sim time as the wire writes it: RFC 3339 in UTC (`2026-01-01T00:05:00Z`, with
/// milliseconds when there are any). Every time in every body is one.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(String);

impl Timestamp {
    /// Sim time `t` of the world whose epoch is `epoch`.
    pub fn at(epoch: Epoch, t: SimTime) -> Self {
        Timestamp(epoch.rfc3339(t))
    }

    /// The text, as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The sim time it names, in the world of `epoch`.
    pub fn sim_time(&self, epoch: Epoch) -> Option<SimTime> {
        epoch.parse_rfc3339(&self.0).ok()
    }
}

impl std::ops::Deref for Timestamp {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialSchema for Timestamp {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .description(Some("RFC 3339 in UTC, in sim time"))
            .examples([serde_json::json!("2026-01-01T00:05:00Z")])
            .into()
    }
}

impl ToSchema for Timestamp {}

/// The error body of every route: `{"error": {...}}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong: a stable `code`, a message for people, the input at fault, and what a
/// client acts on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    /// The input at fault, as a path (`passport.series`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// A wrong code: the attempts left before the code locks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts_left: Option<u32>,
    /// When the same request may succeed (the engine), as `Retry-After`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
    /// When to send again (a mock at capacity, 429), as its `Retry-After`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_s: Option<u64>,
    /// Why a partner's confirmation failed verification (`pfr_mismatch`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The CA's verdict on a refused certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<crate::agency::ca::CaVerdict>,
    /// The agency that could not be reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    /// A closed service center: when it opens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opens_at: Option<Timestamp>,
}

impl ErrorDetail {
    /// An error with its code and message.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        ErrorDetail {
            code: code.to_owned(),
            message: message.into(),
            ..Default::default()
        }
    }
}

/// A string form: a pattern, lengths, an example and what the pattern cannot say.
struct Form {
    pattern: Option<String>,
    min_chars: Option<usize>,
    max_chars: Option<usize>,
    example: &'static str,
    description: &'static str,
}

impl Form {
    fn schema(self) -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(self.pattern)
            .min_length(self.min_chars)
            .max_length(self.max_chars)
            .description(Some(self.description))
            .examples([serde_json::json!(self.example)])
            .into()
    }
}

/// Declares a schema-only type for a string form.
macro_rules! forms {
    ($($(#[$doc:meta])* $name:ident => $form:expr;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug)]
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                $form.schema()
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    )*};
}

/// The regions' codes in one numbering, as a regex alternation (`45|40|...`).
fn region_codes(code: impl Fn(&crate::region::Region) -> u8) -> String {
    let mut codes: Vec<u8> = REGIONS.iter().map(code).collect();
    codes.sort_unstable();
    codes.dedup();
    codes
        .iter()
        .map(|c| format!("{c:02}"))
        .collect::<Vec<_>>()
        .join("|")
}

/// One name (surname, first name, patronymic): letters of one script with a hyphen, space or
/// apostrophe between letters ([`crate::ident::validate_name`]).
pub const NAME_PATTERN: &str = "^(?:[А-яЁё]+(?:[-' ’][А-яЁё]+)*|[A-Za-z]+(?:[-' ’][A-Za-z]+)*)$";

/// The characters Rust's `trim` removes (Unicode White_Space), which the validators ignore
/// around a value.
const WS: &str =
    "[\\t\\n\\x0b\\x0c\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";

/// Free text (birth place, issuing authority, address parts): something besides spaces, no
/// control characters.
pub const TEXT_PATTERN: &str =
    "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$";

forms! {
    /// A Russian mobile number ([`crate::ident::Phone::parse`]).
    Phone => Form {
        pattern: Some(format!(
            "^{WS}*\\+?[ ()-]*[78][ ()-]*9(?:[ ()-]*[0-9]){{9}}[ ()-]*{WS}*$"
        )),
        min_chars: Some(11),
        max_chars: None,
        example: "+79161234567",
        description: "A Russian mobile number, +7 9XX XXX-XX-XX: 11 digits, the first 7 or 8, \
            the second 9; spaces, hyphens and parentheses between digits are ignored. \
            Canonical (in paths and answers): 79XXXXXXXXX",
    };
    /// An e-mail address ([`crate::ident::parse_email`]).
    Email => Form {
        pattern: Some("^\\s*[!-?A-~]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+\\s*$".into()),
        min_chars: Some(5),
        max_chars: Some(254),
        example: "ivanov@example.ru",
        description: "An e-mail address: 1 to 64 printable ASCII characters before the @, a \
            domain of two labels or more of ASCII letters, digits and inner hyphens; spaces \
            around it are ignored; compared in lower case",
    };
    /// A SNILS ([`crate::ident::Snils::parse`]).
    Snils => Form {
        pattern: Some("^[ -]*(?:[0-9][ -]*){11}$".into()),
        min_chars: Some(11),
        max_chars: None,
        example: "112-233-445 95",
        description: "A SNILS, XXX-XXX-XXX YY or 11 digits (spaces and hyphens ignored). The \
            last two digits must be the check number of the first nine (DOMAIN.md), which a \
            pattern cannot state: a wrong one is refused with 422; the first nine not all zero",
    };
    /// A person's INN ([`crate::ident::Inn::parse`]).
    Inn => Form {
        pattern: Some("^[0-9]{12}$".into()),
        min_chars: Some(12),
        max_chars: Some(12),
        example: "500100732259",
        description: "A person's INN: 12 digits, the last two check digits (DOMAIN.md)",
    };
    /// A passport series: a known OKATO region and two digits of a year.
    PassportSeries => Form {
        pattern: Some(format!("^(?:{})[0-9]{{2}}$", region_codes(|r| r.okato))),
        min_chars: Some(4),
        max_chars: Some(4),
        example: "4512",
        description: "A passport series: 4 digits, no spaces; the first two the region's \
            OKATO code, the last two the year the blank was printed",
    };
    /// A passport number.
    PassportNumber => Form {
        pattern: Some("^0*[1-9][0-9]*$".into()),
        min_chars: Some(6),
        max_chars: Some(6),
        example: "345678",
        description: "A passport number: 6 digits, no spaces, not all zeros",
    };
    /// An issuing division's code.
    DivisionCode => Form {
        pattern: Some(format!("^(?:{})[0-3]-?[0-9]{{3}}$", region_codes(|r| r.subject))),
        min_chars: Some(6),
        max_chars: Some(7),
        example: "770-001",
        description: "The issuing division's code XXX-XXX (or 6 digits): the federal \
            subject's code, the unit's level (0 to 3), the unit's number",
    };
    /// A surname or first name.
    Name => Form {
        pattern: Some(NAME_PATTERN.into()),
        min_chars: Some(1),
        max_chars: Some(crate::ident::NAME_MAX_CHARS),
        example: "Иванов",
        description: "As in the passport: Cyrillic or Latin letters (not both), with a hyphen, \
            space or apostrophe between letters",
    };
    /// A patronymic: a name, or empty for a person without one.
    Patronymic => Form {
        pattern: Some(format!("^(?:{})?$", &NAME_PATTERN[1..NAME_PATTERN.len() - 1])),
        min_chars: Some(0),
        max_chars: Some(crate::ident::NAME_MAX_CHARS),
        example: "Иванович",
        description: "As in the passport, or empty for a person without one",
    };
    /// Free text of at most 250 characters (birth place, issuing authority).
    Text => Form {
        pattern: Some(TEXT_PATTERN.into()),
        min_chars: Some(1),
        max_chars: Some(250),
        example: "гор. Москва",
        description: "Free text: not blank, no control characters",
    };
    /// An address on one line (the post's letters).
    AddressLine => Form {
        pattern: Some("\\S".into()),
        min_chars: Some(1),
        max_chars: Some(500),
        example: "101000, Москва, ул. Тверская, д. 1",
        description: "An address on one line, not blank",
    };
    /// A part of an address (and a citizenship), at most 120 characters.
    ShortText => Form {
        pattern: Some(TEXT_PATTERN.into()),
        min_chars: Some(1),
        max_chars: Some(120),
        example: "Москва",
        description: "Free text: not blank, no control characters",
    };
    /// A postcode.
    Postcode => Form {
        pattern: Some("^[0-9]{6}$".into()),
        min_chars: Some(6),
        max_chars: Some(6),
        example: "101000",
        description: "Six digits",
    };
    /// A code typed by the citizen (the SMS code, the letter's code).
    CodeDigits => Form {
        pattern: Some("^[0-9]+$".into()),
        min_chars: Some(1),
        max_chars: Some(32),
        example: "123456",
        description: "Digits: the code as sent (SMS: 6 digits; letter: the code printed in \
            it). A wrong code is 422 with attempts_left",
    };
    /// A request's id at PFR or FMS (and a letter's reference at the post).
    RequestId => Form {
        pattern: Some("^[A-Za-z0-9._-]+$".into()),
        min_chars: Some(1),
        max_chars: Some(64),
        example: "req-0001",
        description: "1 to 64 letters, digits, '-', '_' or '.'",
    };
    /// Where an agency calls back.
    CallbackUrl => Form {
        pattern: Some(
            "^https?://(?:(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(?:\\.(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}|(?:[A-Za-z0-9]+\\.)*[A-Za-z]+)(?::[0-9]{1,4})?(?:/[A-Za-z0-9._~/-]*)?$"
                .into(),
        ),
        min_chars: Some(8),
        max_chars: Some(2_000),
        example: "http://127.0.0.1:8080/api/v1/callbacks/pfr",
        description: "An http:// or https:// URL with a host (the server takes any URL its \
            parser takes; the pattern states a plain subset)",
    };
    /// A name as an agency's request carries it (PFR and FMS compare, they do not validate).
    AgencyName => Form {
        pattern: Some("\\S".into()),
        min_chars: Some(1),
        max_chars: Some(100),
        example: "Иванов",
        description: "1 to 100 characters, not blank",
    };
    /// Four digits as an agency takes them (spaces ignored).
    SeriesDigits => Form {
        pattern: Some("^ *(?:[0-9] *){4}$".into()),
        min_chars: Some(4),
        max_chars: None,
        example: "4512",
        description: "A passport series: 4 digits (spaces ignored)",
    };
    /// Six digits as an agency takes them (spaces ignored).
    NumberDigits => Form {
        pattern: Some("^ *(?:[0-9] *){6}$".into()),
        min_chars: Some(6),
        max_chars: None,
        example: "345678",
        description: "A passport number: 6 digits (spaces ignored)",
    };
    /// A certificate's serial.
    Serial => Form {
        pattern: Some("^[A-Za-z0-9]+$".into()),
        min_chars: Some(1),
        max_chars: Some(64),
        example: "01AB23CD",
        description: "1 to 64 letters and digits (compared in upper case)",
    };
    /// A service center's id.
    CenterId => Form {
        pattern: Some("^[A-Za-z0-9_-]+$".into()),
        min_chars: Some(1),
        max_chars: Some(64),
        example: "mfc-1",
        description: "A service center of the directory (GET /mocks/centers): 1 to 64 \
            letters, digits, '-' or '_'",
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_written_by_the_epoch() {
        let epoch = Epoch::default();
        let t = Timestamp::at(epoch, SimTime::from_millis(300_000));
        assert_eq!(t.as_str(), "2026-01-01T00:05:00Z");
        assert_eq!(t.sim_time(epoch), Some(SimTime::from_millis(300_000)));
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            "\"2026-01-01T00:05:00Z\""
        );
    }

    #[test]
    fn forms_name_their_regions() {
        let series = serde_json::to_value(PassportSeries::schema()).unwrap();
        let pattern = series["pattern"].as_str().unwrap();
        assert!(pattern.contains("|45|"), "{pattern}");
        let patronymic = serde_json::to_value(Patronymic::schema()).unwrap();
        assert!(patronymic["pattern"].as_str().unwrap().ends_with(")?$"));
    }
}
