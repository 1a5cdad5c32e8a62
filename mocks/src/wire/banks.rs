//! The banks' mock's bodies: `POST /mocks/banks/{bank}/clients/{snils}/gosuslugi` and
//! `POST /mocks/banks/admin/records`. Its records and the answer of
//! `GET /mocks/banks/{bank}/clients/{snils}` are [`super::people::Person`]s; the other answers
//! are the engine's.

use crate::wire::people::Person;
use serde::{Deserialize, Serialize};

/// The optional body of the Gosuslugi form.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = BankForm)]
pub struct Form {
    /// The phone to register, when the bank has none of the client (or another one).
    #[serde(default)]
    #[schema(value_type = Option<crate::wire::Phone>)]
    pub phone: Option<String>,
}

/// `POST /mocks/banks/admin/records` (and the centers'): people, each with `bank` for a bank.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = PersonRecords)]
pub struct Records {
    pub records: Vec<Person>,
}

/// The answer of `POST .../admin/records`.
#[derive(Debug, Serialize, Deserialize)]
pub struct RecordsAdded {
    pub added: usize,
    pub held: usize,
}
