//! The FMS mock's request: `POST /mocks/fms/requests` (its answers are SMEV's, [`super::smev`]).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A passport check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FmsRequest {
    #[schema(value_type = crate::wire::RequestId)]
    pub request_id: String,
    /// Four digits.
    #[schema(value_type = crate::wire::SeriesDigits)]
    pub series: String,
    /// Six digits.
    #[schema(value_type = crate::wire::NumberDigits)]
    pub number: String,
    #[schema(value_type = crate::wire::AgencyName)]
    pub surname: String,
    #[schema(value_type = crate::wire::AgencyName)]
    pub name: String,
    #[serde(default)]
    pub patronymic: String,
    pub birth_date: NaiveDate,
    pub issue_date: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::wire::CallbackUrl>)]
    pub callback_url: Option<String>,
}
