//! The PFR mock's request: `POST /mocks/pfr/requests` (its answers are SMEV's, [`super::smev`]).

use crate::ident::Gender;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A SNILS check (SMEV's FamilyName, FirstName, Patronymic, Snils, Gender, BirthDate).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PfrRequest {
    #[schema(value_type = crate::wire::RequestId)]
    pub request_id: String,
    /// SNILS, `XXX-XXX-XXX YY` or 11 digits.
    #[schema(value_type = crate::wire::Snils)]
    pub snils: String,
    #[schema(value_type = crate::wire::AgencyName)]
    pub surname: String,
    #[schema(value_type = crate::wire::AgencyName)]
    pub name: String,
    #[serde(default)]
    pub patronymic: String,
    pub birth_date: NaiveDate,
    pub gender: Gender,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::wire::CallbackUrl>)]
    pub callback_url: Option<String>,
}
