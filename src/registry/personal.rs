//! Personal data (DOMAIN.md step 2): the form as typed (strings, so that every bad field gets an
//! error naming its path) and the validated record the registry keeps, checked with the same
//! validators the population generates with.

use super::error::{FieldError, RegistryError};
use chrono::{Datelike, NaiveDate};
use esia_mocks::ident::{
    parse_passport_number, validate_name, DivisionCode, Gender, PassportSeries, Snils,
};
use serde::{Deserialize, Serialize};

/// The longest free-text field accepted (birth place, issuing authority), in characters.
pub const TEXT_MAX_CHARS: usize = 250;
/// The longest address part accepted, in characters.
pub const ADDRESS_PART_MAX_CHARS: usize = 120;
/// The age at which a passport is first issued.
pub const PASSPORT_AGE_YEARS: i32 = 14;

/// The passport part of the form, as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
#[schema(as = Passport)]
pub struct PassportForm {
    #[schema(value_type = esia_mocks::wire::PassportSeries, required = true)]
    pub series: String,
    #[schema(value_type = esia_mocks::wire::PassportNumber, required = true)]
    pub number: String,
    /// Not in the future, not before the 14th birthday.
    #[schema(value_type = chrono::NaiveDate, required = true)]
    pub issue_date: String,
    #[schema(value_type = esia_mocks::wire::Text, required = true)]
    pub issued_by: String,
    #[schema(value_type = esia_mocks::wire::DivisionCode, required = true)]
    pub division_code: String,
}

/// A postal address, as typed and as kept.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct Address {
    #[schema(value_type = esia_mocks::wire::Postcode, required = true)]
    pub postcode: String,
    #[schema(value_type = esia_mocks::wire::ShortText, required = true)]
    pub region: String,
    #[schema(value_type = esia_mocks::wire::ShortText, required = true)]
    pub city: String,
    #[schema(value_type = esia_mocks::wire::ShortText, required = true)]
    pub street: String,
    #[schema(value_type = esia_mocks::wire::ShortText, required = true)]
    pub house: String,
    /// Blank counts as absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 120)]
    pub flat: Option<String>,
}

/// The personal-data form (`PUT /accounts/{oid}/personal-data`, and the body of the MFC and
/// bank requests): the fields of a citizen record, every one a string so that a missing or
/// malformed field is reported by its path.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
#[schema(as = PersonalData)]
pub struct PersonalDataForm {
    #[schema(value_type = esia_mocks::wire::Name, required = true)]
    pub surname: String,
    #[schema(value_type = esia_mocks::wire::Name, required = true)]
    pub name: String,
    #[schema(value_type = esia_mocks::wire::Patronymic)]
    pub patronymic: String,
    #[schema(value_type = esia_mocks::ident::Gender, required = true)]
    pub gender: String,
    /// From 1900, at least 14 years before today (a passport is issued from 14).
    #[schema(value_type = chrono::NaiveDate, required = true)]
    pub birth_date: String,
    #[schema(value_type = esia_mocks::wire::Text, required = true)]
    pub birth_place: String,
    #[schema(value_type = esia_mocks::wire::ShortText, required = true)]
    pub citizenship: String,
    #[schema(value_type = esia_mocks::wire::Snils, required = true)]
    pub snils: String,
    #[schema(required = true)]
    pub passport: PassportForm,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
}

/// A validated passport of a Russian citizen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Passport {
    pub series: PassportSeries,
    pub number: u32,
    pub issue_date: NaiveDate,
    pub issued_by: String,
    pub division_code: DivisionCode,
}

/// A passport's series and number packed in one integer: the key of the passport index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PassportKey(pub u64);

impl PassportKey {
    /// The key of series `series` and number `number`.
    pub fn new(series: PassportSeries, number: u32) -> Self {
        let s = u64::from(series.okato) * 100 + u64::from(series.year2);
        PassportKey(s * 1_000_000 + u64::from(number))
    }
}

impl Passport {
    /// The key of the passport index.
    pub fn key(&self) -> PassportKey {
        PassportKey::new(self.series, self.number)
    }
}

/// Validated personal data, as the registry keeps them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonalData {
    pub surname: String,
    pub name: String,
    /// Empty for a person without one.
    pub patronymic: String,
    pub gender: Gender,
    pub birth_date: NaiveDate,
    pub birth_place: String,
    pub citizenship: String,
    pub snils: Snils,
    pub passport: Passport,
    pub address: Option<Address>,
}

fn name(field: &'static str, s: &str) -> Result<String, RegistryError> {
    validate_name(s).map_err(|e| RegistryError::invalid(field, e))?;
    Ok(s.trim().to_owned())
}

fn text(field: &'static str, s: &str, max: usize) -> Result<String, RegistryError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(RegistryError::invalid(field, FieldError::Rule("is empty")));
    }
    if s.chars().count() > max || s.chars().any(char::is_control) {
        return Err(RegistryError::invalid(
            field,
            FieldError::Rule("is too long or holds control characters"),
        ));
    }
    Ok(s.to_owned())
}

fn date(field: &'static str, s: &str) -> Result<NaiveDate, RegistryError> {
    let s = s.trim();
    if s.len() != 10 {
        return Err(RegistryError::invalid(field, FieldError::NotDate));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| RegistryError::invalid(field, FieldError::NotDate))
}

/// The date `years` years after `d` (29 February falls on 28 February in a common year).
fn years_after(d: NaiveDate, years: i32) -> NaiveDate {
    d.with_year(d.year() + years)
        .or_else(|| NaiveDate::from_ymd_opt(d.year() + years, 2, 28))
        .unwrap_or(NaiveDate::MAX)
}

/// Checks a validated-or-not surname or name for the registration form.
pub fn validate_contact_name(field: &'static str, s: &str) -> Result<String, RegistryError> {
    name(field, s)
}

impl Address {
    /// Checks an address: a six-digit postcode and the non-empty parts.
    /// Field paths are `address.*`: an address appears under that name in personal data and in
    /// a letter's order.
    pub fn validate(&self) -> Result<Address, RegistryError> {
        let pc = self.postcode.trim();
        if pc.len() != 6 || !pc.bytes().all(|b| b.is_ascii_digit()) {
            return Err(RegistryError::invalid(
                "address.postcode",
                FieldError::Rule("must have 6 digits"),
            ));
        }
        let flat = match &self.flat {
            Some(f) if !f.trim().is_empty() => {
                Some(text("address.flat", f, ADDRESS_PART_MAX_CHARS)?)
            }
            _ => None,
        };
        Ok(Address {
            postcode: pc.to_owned(),
            region: text("address.region", &self.region, ADDRESS_PART_MAX_CHARS)?,
            city: text("address.city", &self.city, ADDRESS_PART_MAX_CHARS)?,
            street: text("address.street", &self.street, ADDRESS_PART_MAX_CHARS)?,
            house: text("address.house", &self.house, ADDRESS_PART_MAX_CHARS)?,
            flat,
        })
    }

    /// The address as one line, for a letter's envelope.
    pub fn one_line(&self) -> String {
        let mut s = format!(
            "{}, {}, {}, {}, {}",
            self.postcode, self.region, self.city, self.street, self.house
        );
        if let Some(flat) = &self.flat {
            s.push_str(", ");
            s.push_str(flat);
        }
        s
    }
}

impl PersonalDataForm {
    /// Validates every field against `today`; the first field at fault is reported by its path.
    pub fn validate(&self, today: NaiveDate) -> Result<PersonalData, RegistryError> {
        let surname = name("surname", &self.surname)?;
        let first = name("name", &self.name)?;
        let patronymic = if self.patronymic.trim().is_empty() {
            String::new()
        } else {
            name("patronymic", &self.patronymic)?
        };
        let gender = match self.gender.trim() {
            "male" => Gender::Male,
            "female" => Gender::Female,
            _ => {
                return Err(RegistryError::invalid(
                    "gender",
                    FieldError::Rule("must be male or female"),
                ))
            }
        };
        let birth_date = date("birth_date", &self.birth_date)?;
        if birth_date > today {
            return Err(RegistryError::invalid(
                "birth_date",
                FieldError::Rule("is in the future"),
            ));
        }
        if years_after(birth_date, PASSPORT_AGE_YEARS) > today {
            return Err(RegistryError::invalid(
                "birth_date",
                FieldError::Rule(
                    "is less than 14 years before today: a passport is issued from the age of 14",
                ),
            ));
        }
        if birth_date.year() < 1900 {
            return Err(RegistryError::invalid(
                "birth_date",
                FieldError::Rule("is before 1900"),
            ));
        }
        let birth_place = text("birth_place", &self.birth_place, TEXT_MAX_CHARS)?;
        let citizenship = text("citizenship", &self.citizenship, ADDRESS_PART_MAX_CHARS)?;
        let snils = Snils::parse(&self.snils).map_err(|e| RegistryError::invalid("snils", e))?;
        let p = &self.passport;
        let series = PassportSeries::parse(&p.series)
            .map_err(|e| RegistryError::invalid("passport.series", e))?;
        let number = parse_passport_number(&p.number)
            .map_err(|e| RegistryError::invalid("passport.number", e))?;
        let issue_date = date("passport.issue_date", &p.issue_date)?;
        if issue_date > today {
            return Err(RegistryError::invalid(
                "passport.issue_date",
                FieldError::Rule("is in the future"),
            ));
        }
        if issue_date < years_after(birth_date, PASSPORT_AGE_YEARS) {
            return Err(RegistryError::invalid(
                "passport.issue_date",
                FieldError::Rule("is before the holder's 14th birthday"),
            ));
        }
        let issued_by = text("passport.issued_by", &p.issued_by, TEXT_MAX_CHARS)?;
        let division_code = DivisionCode::parse(&p.division_code)
            .map_err(|e| RegistryError::invalid("passport.division_code", e))?;
        let address = match &self.address {
            Some(a) => Some(a.validate()?),
            None => None,
        };
        Ok(PersonalData {
            surname,
            name: first,
            patronymic,
            gender,
            birth_date,
            birth_place,
            citizenship,
            snils,
            passport: Passport {
                series,
                number,
                issue_date,
                issued_by,
                division_code,
            },
            address,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A valid form of a made-up citizen, for tests here and in the registry.
    pub(crate) fn form() -> PersonalDataForm {
        PersonalDataForm {
            surname: "Иванов".into(),
            name: "Иван".into(),
            patronymic: "Сергеевич".into(),
            gender: "male".into(),
            birth_date: "1985-06-15".into(),
            birth_place: "г. Москва".into(),
            citizenship: "RUS".into(),
            snils: "112-233-445 95".into(),
            passport: PassportForm {
                series: "4512".into(),
                number: "345678".into(),
                issue_date: "2012-07-01".into(),
                issued_by: "ОВД Тверской г. Москвы".into(),
                division_code: "770-001".into(),
            },
            address: None,
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
    }

    #[test]
    fn a_valid_form_validates() {
        let d = form().validate(today()).unwrap();
        assert_eq!(d.snils.canonical(), "11223344595");
        assert_eq!(d.passport.key(), PassportKey(4512_345678));
        assert_eq!(d.gender, Gender::Male);
    }

    type Change = Box<dyn Fn(&mut PersonalDataForm)>;

    #[test]
    fn each_bad_field_is_named_by_its_path() {
        let cases: Vec<(&str, Change)> = vec![
            ("surname", Box::new(|f| f.surname = "Ив4нов".into())),
            ("name", Box::new(|f| f.name.clear())),
            ("patronymic", Box::new(|f| f.patronymic = "S3".into())),
            ("gender", Box::new(|f| f.gender = "m".into())),
            (
                "birth_date",
                Box::new(|f| f.birth_date = "15.06.1985".into()),
            ),
            (
                "birth_date",
                Box::new(|f| f.birth_date = "2020-01-01".into()),
            ),
            (
                "birth_date",
                Box::new(|f| f.birth_date = "2030-01-01".into()),
            ),
            ("birth_place", Box::new(|f| f.birth_place = " ".into())),
            ("citizenship", Box::new(|f| f.citizenship.clear())),
            ("snils", Box::new(|f| f.snils = "112-233-445 96".into())),
            (
                "passport.series",
                Box::new(|f| f.passport.series = "0012".into()),
            ),
            (
                "passport.number",
                Box::new(|f| f.passport.number = "34567".into()),
            ),
            (
                "passport.issue_date",
                Box::new(|f| f.passport.issue_date = "1990-01-01".into()),
            ),
            (
                "passport.issue_date",
                Box::new(|f| f.passport.issue_date = "2027-01-01".into()),
            ),
            (
                "passport.issued_by",
                Box::new(|f| f.passport.issued_by = "x".repeat(251)),
            ),
            (
                "passport.division_code",
                Box::new(|f| f.passport.division_code = "775-001".into()),
            ),
            (
                "address.postcode",
                Box::new(|f| {
                    f.address = Some(Address {
                        postcode: "12345".into(),
                        ..Address::default()
                    })
                }),
            ),
        ];
        for (field, change) in cases {
            let mut f = form();
            change(&mut f);
            let err = f.validate(today()).unwrap_err();
            assert_eq!(err.field(), Some(field), "{err}");
            assert_eq!(crate::stand::error::registry_status(&err), 422);
        }
    }

    #[test]
    fn no_patronymic_and_leap_birthdays() {
        let mut f = form();
        f.patronymic.clear();
        f.birth_date = "2008-02-29".into();
        f.passport.issue_date = "2022-02-28".into();
        assert!(f.validate(today()).is_ok());
        f.passport.issue_date = "2022-02-27".into();
        assert!(f.validate(today()).is_err());
    }
}
