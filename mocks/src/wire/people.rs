//! The people the bank and service-center mocks know, as their routes show and take them:
//! `GET /mocks/banks/{bank}/clients/{snils}` and the records of `POST /mocks/banks/admin/records`
//! and `POST /mocks/centers/admin/records`.

use crate::agency::banks::Bank;
use crate::ident::Gender;
use crate::population::record::{Address, Passport};
use crate::population::Citizen;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A person as a bank or an MFC operator knows them. The mocks check only the SNILS (their
/// key); the engine checks the rest when the bank or the MFC sends the person to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Person {
    pub surname: String,
    pub name: String,
    #[serde(default)]
    pub patronymic: String,
    pub gender: Gender,
    pub birth_date: NaiveDate,
    pub birth_place: String,
    /// Absent: `RUS`.
    #[serde(default = "russia")]
    #[schema(required = false)]
    pub citizenship: String,
    /// `XXX-XXX-XXX YY` or 11 digits.
    #[schema(value_type = crate::wire::Snils)]
    pub snils: String,
    pub passport: Passport,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    /// `+79XXXXXXXXX`; the bank's or the MFC's contact of the person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// The bank whose client the person is (banks only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank: Option<Bank>,
}

fn russia() -> String {
    "RUS".into()
}

impl From<Citizen> for Person {
    fn from(c: Citizen) -> Self {
        Self {
            surname: c.surname.into_owned(),
            name: c.name.into_owned(),
            patronymic: c.patronymic.into_owned(),
            gender: c.gender,
            birth_date: c.birth_date,
            birth_place: c.birth_place.into_owned(),
            citizenship: c.citizenship.into_owned(),
            snils: c.snils,
            passport: c.passport,
            address: Some(c.address),
            phone: c.phone,
            bank: c.bank,
        }
    }
}
