//! The citizen record of DESIGN.md and how a skeleton's texts are written.
//!
//! `esia-sim citizens --format jsonl` prints one [`Citizen`] a line; the agencies' ground truth
//! is built from the same records.

use super::names::{self, pick, Street, DISTRICTS};
use super::naming::naming;
use super::passport;
use super::{Channel, Skeleton};
use crate::agency::banks::{Bank, BankClient};
use crate::agency::ca::{CertKind, Certificate};
use crate::agency::fms::FmsRecord;
use crate::agency::pfr::PfrRecord;
use crate::chance::StreamRng;
use crate::ident::{Digits, Gender};
use crate::region::REGIONS;
use chrono::NaiveDate;
use fake::{Fake, RngExt};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::sync::OnceLock;

/// A text of the record: most are borrowed from the population's tables (names, regions,
/// streets, issuers), the rest written for the citizen. Borrowing them saves a record half of
/// its allocations (benches/README.md, `population/citizen`); it reads as a `&str`, and
/// `into_owned` or `to_string` gives a `String`.
pub type Text = Cow<'static, str>;

/// A synthetic citizen, as `esia-sim citizens` prints it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Citizen {
    pub id: u64,
    pub surname: Text,
    pub name: Text,
    pub patronymic: Text,
    pub gender: Gender,
    pub birth_date: NaiveDate,
    pub birth_place: Text,
    pub citizenship: Text,
    /// `XXX-XXX-XXX YY`.
    pub snils: String,
    pub inn: String,
    pub passport: Passport,
    /// `+79XXXXXXXXX`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub address: Address,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<Signature>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank: Option<Bank>,
    pub traits: Traits,
}

/// The passport of a Russian citizen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = PersonPassport)]
pub struct Passport {
    /// Four digits: the region's OKATO code and the year the blank was printed.
    pub series: String,
    /// Six digits.
    pub number: String,
    pub issue_date: NaiveDate,
    pub issued_by: String,
    /// `XXX-XXX`.
    pub division_code: String,
}

/// A registration address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = PersonAddress)]
pub struct Address {
    pub postcode: String,
    #[schema(value_type = String)]
    pub region: Text,
    #[schema(value_type = String)]
    pub city: Text,
    #[schema(value_type = String)]
    pub street: Text,
    pub house: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flat: Option<String>,
}

/// A qualified e-signature certificate or UEC card the citizen holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    pub kind: CertKind,
    /// 40 hexadecimal digits.
    pub serial: String,
    pub issuer: Text,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    /// Revoked by its certification authority (the CA mock answers `revoked`).
    pub revoked: bool,
}

/// What drives a citizen's behaviour in simulations and load runs.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Traits {
    /// Where codes and notifications go by preference.
    pub channel: Channel,
    /// How long the citizen waits for something before giving up, in days.
    pub patience_days: f32,
    /// The chance of a typo in each field typed.
    pub typo_rate: f32,
    /// Holds an unreplaced passport past 20 or 45: FMS answers `invalid`.
    pub passport_expired: bool,
    /// PFR does not know the SNILS: PFR answers `not_found`.
    pub snils_unknown_to_pfr: bool,
}

impl Citizen {
    /// What PFR holds about this citizen: `None` when PFR does not know the SNILS.
    pub fn pfr_record(&self) -> Option<PfrRecord> {
        (!self.traits.snils_unknown_to_pfr).then(|| PfrRecord {
            snils: self.snils.clone(),
            surname: self.surname.to_string(),
            name: self.name.to_string(),
            patronymic: self.patronymic.to_string(),
            birth_date: self.birth_date,
            gender: self.gender,
        })
    }

    /// What FMS holds about this citizen's passport.
    pub fn fms_record(&self) -> FmsRecord {
        FmsRecord {
            series: self.passport.series.clone(),
            number: self.passport.number.clone(),
            surname: self.surname.to_string(),
            name: self.name.to_string(),
            patronymic: self.patronymic.to_string(),
            birth_date: self.birth_date,
            issue_date: self.passport.issue_date,
            expired: self.traits.passport_expired,
            cancelled: false,
        }
    }

    /// The certificate a CA issued to this citizen, if any.
    pub fn certificate(&self) -> Option<Certificate> {
        self.signature.as_ref().map(|s| Certificate {
            serial: s.serial.clone(),
            issuer: s.issuer.to_string(),
            owner_snils: self.snils.clone(),
            kind: s.kind,
            valid_from: s.valid_from,
            valid_to: s.valid_to,
            revoked: s.revoked,
        })
    }

    /// The citizen as a client of a partner bank, if any.
    pub fn bank_client(&self) -> Option<BankClient> {
        self.bank.map(|bank| BankClient {
            bank,
            snils: self.snils.clone(),
        })
    }
}

/// Writes the texts of a skeleton, drawing from the citizen's text stream.
pub(super) fn build(s: &Skeleton, serial: impl FnOnce() -> String, rng: &mut StreamRng) -> Citizen {
    let region = &REGIONS[s.region as usize];
    // The names first: `Population::names` draws the same ones from the same stream.
    let drawn = naming().draw(s, rng);
    let surname: Text = match s.gender {
        Gender::Male => drawn.surname.into(),
        Gender::Female => names::feminine_surname(drawn.surname).into(),
    };
    let name = drawn.name;
    let patronymic = drawn.patronymic;

    // Texts are joined with `push_str` and numbers written by `Digits`, not `format!`: the
    // formatting machinery was a fifth of a record's time (benches/README.md).
    let birth_place = birth_place(s.birth_region as usize);

    let email = s.email_tag.map(|tag| {
        let mut address = String::with_capacity(48);
        let initial = name.chars().next().map_or("", |c| &name[..c.len_utf8()]);
        names::transliterate(initial, &mut address);
        address.push('.');
        names::transliterate(&surname, &mut address);
        address.push('.');
        address.push_str(Digits::new().num(tag as u64, 1).as_str());
        address.push('@');
        address.push_str(weighted_domain(rng));
        address
    });

    let (district_in, district_to) = pick(DISTRICTS, rng);
    let issued_by = issuing_authority(s, district_in, district_to);

    let street: &str = Street.fake_with_rng(rng);
    let address = Address {
        postcode: Digits::new()
            .num(region.postcode_prefix as u64, 3)
            .num(rng.random_range(0..1000i32) as u64, 3)
            .as_str()
            .to_string(),
        region: region.name.into(),
        city: region.city.into(),
        street: street.into(),
        house: decimal(rng.random_range(1..=150i32)),
        flat: rng
            .random_bool(0.85)
            .then(|| decimal(rng.random_range(1..=300i32))),
    };

    let signature = s.signature.map(|sig| Signature {
        kind: sig.kind,
        serial: serial(),
        issuer: match sig.kind {
            CertKind::Ukep => names::UKEP_ISSUERS[sig.issuer as usize].into(),
            CertKind::Uec => names::UEC_ISSUER.into(),
        },
        valid_from: sig.valid_from,
        valid_to: sig.valid_to,
        revoked: sig.revoked,
    });

    Citizen {
        id: s.id,
        surname,
        name: name.into(),
        patronymic: patronymic.into(),
        gender: s.gender,
        birth_date: s.birth_date,
        birth_place: birth_place.into(),
        citizenship: "RUS".into(),
        snils: s.snils.digits().into_string(),
        inn: s.inn.digits().into_string(),
        passport: Passport {
            series: s.passport_series.digits().into_string(),
            number: Digits::new()
                .num(s.passport_number as u64, 6)
                .as_str()
                .to_owned(),
            issue_date: s.passport_issue_date,
            issued_by,
            division_code: s.division_code.digits().into_string(),
        },
        phone: s.phone.map(|p| p.digits().into_string()),
        email,
        address,
        signature,
        bank: s.bank,
        traits: s.traits,
    }
}

/// `г. <city>` of each region, written once.
fn birth_place(region: usize) -> &'static str {
    static PLACES: OnceLock<Vec<String>> = OnceLock::new();
    let places = PLACES.get_or_init(|| REGIONS.iter().map(|r| ["г. ", r.city].concat()).collect());
    &places[region]
}

/// Who issued a passport on that date: the militia before 2005, the FMS until its abolition in
/// 2016, the MVD since.
fn issuing_authority(s: &Skeleton, district_in: &str, district_to: &str) -> String {
    let region = &REGIONS[s.region as usize];
    let date = s.passport_issue_date;
    const MILITIA_UNTIL: NaiveDate = passport::date(2005, 1, 1);
    const FMS_UNTIL: NaiveDate = passport::date(2016, 6, 1);
    if date < MILITIA_UNTIL {
        let (stem, ending) = genitive_district(district_in);
        ["ОВД ", stem, ending, " района г. ", region.city].concat()
    } else if date < FMS_UNTIL {
        [
            "Отделом УФМС России по ",
            region.dative,
            " в ",
            district_in,
            " районе г. ",
            region.city,
        ]
        .concat()
    } else if s.division_code.level == 0 {
        ["ГУ МВД России по ", region.dative].concat()
    } else {
        [
            "ОВМ ОМВД России по ",
            district_to,
            " району г. ",
            region.city,
        ]
        .concat()
    }
}

/// `Центральном` -> (`Центральн`, `ого`).
fn genitive_district(prepositional: &str) -> (&str, &'static str) {
    match prepositional.strip_suffix("ом") {
        Some(stem) => (stem, "ого"),
        None => (prepositional, ""),
    }
}

/// A number in decimal (the draws are `i32`, as they were when `to_string` wrote them, so the
/// stream is unchanged).
fn decimal(n: i32) -> String {
    let mut d = Digits::new();
    if n < 0 {
        d.text("-");
    }
    d.num(n.unsigned_abs() as u64, 1).as_str().to_string()
}

fn weighted_domain(rng: &mut StreamRng) -> &'static str {
    let total: u32 = names::MAIL_DOMAINS.iter().map(|d| d.1).sum();
    let mut x = rng.random_range(0..total);
    for (domain, w) in names::MAIL_DOMAINS {
        if x < *w {
            return domain;
        }
        x -= w;
    }
    names::MAIL_DOMAINS[0].0
}
