//! The service centers' mock's bodies: `GET /mocks/centers`, `POST /mocks/centers/{id}/visits`
//! and `POST /mocks/centers/admin/records` (answered with [`super::banks::RecordsAdded`]).
//! `GET /mocks/centers/{id}` answers the agency's [`crate::agency::centers::Center`]; a visit,
//! the engine's answer.

use crate::agency::centers::Center;
use crate::wire::people::Person;
use serde::{Deserialize, Serialize};

/// `POST /mocks/centers/{id}/visits`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Visit {
    #[schema(value_type = crate::wire::Snils)]
    pub snils: String,
    #[schema(value_type = crate::wire::PassportSeries)]
    pub passport_series: String,
    #[schema(value_type = crate::wire::PassportNumber)]
    pub passport_number: String,
    /// Register a confirmed account (an MFC only) instead of confirming an existing one.
    #[serde(default)]
    pub register: bool,
    /// The phone of the new account (default: the one on the person's record).
    #[serde(default)]
    #[schema(value_type = Option<crate::wire::Phone>)]
    pub phone: Option<String>,
}

/// `GET /mocks/centers`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = Centers)]
pub struct Listing {
    pub centers: Vec<Center>,
}

/// `POST /mocks/centers/admin/records`.
#[derive(Debug, Deserialize)]
pub struct Records {
    pub records: Vec<Person>,
}
