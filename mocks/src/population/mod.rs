//! Synthetic citizens: a reproducible population that passes real validators.
//!
//! A [`Population`] is a seed plus a [`PopulationConfig`]. Citizen `i` depends only on
//! (seed, i): its draws come from its own counter-based streams ([`crate::chance`]), and its
//! identifiers from keyed permutations of `i`, so every SNILS, INN, passport, phone and e-mail is
//! unique across the population however large, with no lookup table, and `count 10` is the
//! prefix of `count 100000`.
//!
//! Two layers, so that a simulator pays only for what it uses:
//! - [`Population::skeleton`]: the numeric citizen (gender, dates, region, identifiers as numbers,
//!   flags, traits), fixed-size and `Copy`;
//! - [`Population::citizen`]: the full [`Citizen`] record with its texts (names, addresses,
//!   authorities), built from the skeleton plus a second stream, in the format of DESIGN.md.
//!
//! Modules: [`naming`] (surnames by frequency, first names by birth decade, patronymics from
//! the father's cohort, the republics' own naming: tables in `data/` with their sources),
//! [`spelling`] (the republics' names from their national letters into the passport's Russian
//! ones, by each people's rule table),
//! [`names`] (streets, authorities, the female surname rule, transliteration), [`passport`]
//! (the layout that makes passports unique and consistent with age), [`record`] (the record
//! and its builder), [`stats`] (the names' frequencies in a population against their sources:
//! `esia-sim citizens --stats`).

pub mod names;
pub mod naming;
pub mod passport;
pub mod record;
pub mod spelling;
pub mod stats;

pub use record::{Address, Citizen, Passport, Signature, Traits};

use crate::agency::banks::Bank;
use crate::agency::ca::CertKind;
use crate::chance::{mix64, Chance, Event, Permutation, StreamRng};
use crate::ident::{DivisionCode, Gender, Inn, PassportSeries, Phone, Snils, SNILS_UNCHECKED_MAX};
use crate::region::{Region, REGIONS};
use chrono::{Datelike, Duration, NaiveDate};
use fake::RngExt;
use passport::{Holding, LayoutError, PassportTable};
use serde::{Deserialize, Serialize};

/// The shape of a population. Every share is a probability in 0..=1.
///
/// Defaults (calibrated to DOMAIN.md and public figures, documented beside each field):
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PopulationConfig {
    /// The fixed calendar date ages and validity are judged against (default 2026-01-01).
    pub epoch: NaiveDate,
    /// Citizens with a mobile phone (default 0.95; the rest register by e-mail).
    pub phone_share: f64,
    /// Citizens with an e-mail address (default 0.6; everyone without a phone has one).
    pub email_share: f64,
    /// Of those with both, who prefer the SMS channel (default 0.85).
    pub prefer_sms_share: f64,
    /// Citizens holding an unreplaced passport past 20 or 45 (default 0.02).
    pub expired_passport_share: f64,
    /// Citizens whose SNILS PFR does not know (default 0.005).
    pub snils_unknown_share: f64,
    /// Citizens with a qualified e-signature (УКЭП) (default 0.04).
    pub ukep_share: f64,
    /// Citizens with a UEC card (default 0.005; none issued after 2017-01-01).
    pub uec_share: f64,
    /// Of the e-signatures, those already expired at the epoch (default 0.2).
    pub expired_signature_share: f64,
    /// Of the e-signatures, those revoked (default 0.02).
    pub revoked_signature_share: f64,
    /// Clients of each bank's online banking (defaults: Sber 0.5, Tinkoff 0.15, Pochta 0.05).
    pub banks: BankShares,
    /// Median days a citizen waits for something before giving up (default 7).
    pub patience_days_median: f64,
    /// Citizens who are careless when typing (default 0.3); their typo rate is 2-15% a field,
    /// the others' 0-1%.
    pub careless_share: f64,
}

/// Shares of clients of each partner bank (a citizen is a client of at most one).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BankShares {
    pub sber: f64,
    pub tinkoff: f64,
    pub pochta: f64,
}

impl Default for BankShares {
    fn default() -> Self {
        Self {
            sber: 0.5,
            tinkoff: 0.15,
            pochta: 0.05,
        }
    }
}

impl Default for PopulationConfig {
    fn default() -> Self {
        Self {
            epoch: NaiveDate::from_ymd_opt(2026, 1, 1).expect("valid date"),
            phone_share: 0.95,
            email_share: 0.6,
            prefer_sms_share: 0.85,
            expired_passport_share: 0.02,
            snils_unknown_share: 0.005,
            ukep_share: 0.04,
            uec_share: 0.005,
            expired_signature_share: 0.2,
            revoked_signature_share: 0.02,
            banks: BankShares::default(),
            patience_days_median: 7.0,
            careless_share: 0.3,
        }
    }
}

/// Why a population cannot be made.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum PopulationError {
    #[error("population.{field} must be between 0 and 1, got {value}")]
    Share { field: &'static str, value: f64 },
    #[error("population.{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error(transparent)]
    Layout(#[from] LayoutError),
    #[error(
        "a population holds at most {max} citizens with unique identifiers; {requested} asked"
    )]
    TooLarge { requested: u64, max: u64 },
}

impl PopulationConfig {
    /// Checks every field; the error names the offending one.
    pub fn validate(&self) -> Result<(), PopulationError> {
        let shares = [
            ("phone_share", self.phone_share),
            ("email_share", self.email_share),
            ("prefer_sms_share", self.prefer_sms_share),
            ("expired_passport_share", self.expired_passport_share),
            ("snils_unknown_share", self.snils_unknown_share),
            ("ukep_share", self.ukep_share),
            ("uec_share", self.uec_share),
            ("expired_signature_share", self.expired_signature_share),
            ("revoked_signature_share", self.revoked_signature_share),
            ("banks.sber", self.banks.sber),
            ("banks.tinkoff", self.banks.tinkoff),
            ("banks.pochta", self.banks.pochta),
            ("careless_share", self.careless_share),
        ];
        for (field, value) in shares {
            if !(0.0..=1.0).contains(&value) {
                return Err(PopulationError::Share { field, value });
            }
        }
        let invalid = |field, message: &str| {
            Err(PopulationError::Invalid {
                field,
                message: message.into(),
            })
        };
        if self.ukep_share + self.uec_share > 1.0 {
            return invalid("uec_share", "ukep_share + uec_share must not exceed 1");
        }
        if self.banks.sber + self.banks.tinkoff + self.banks.pochta > 1.0 {
            return invalid("banks", "the bank shares must not add up to more than 1");
        }
        if self.expired_passport_share > 0.5 {
            return invalid("expired_passport_share", "must be at most 0.5");
        }
        if !(self.patience_days_median > 0.0 && self.patience_days_median.is_finite()) {
            return invalid("patience_days_median", "must be a positive number of days");
        }
        Ok(())
    }
}

/// The preferred channel for codes and notifications; on the wire, how a registration's code
/// travels: an SMS code or an e-mail link.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Sms,
    Email,
}

/// The numeric citizen: everything but texts. Fixed-size, for simulators and indexes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Skeleton {
    pub id: u64,
    pub gender: Gender,
    pub birth_date: NaiveDate,
    pub age: u32,
    /// Index into [`REGIONS`] of the region of residence and of the passport.
    pub region: u8,
    /// Index into [`REGIONS`] of the region of birth.
    pub birth_region: u8,
    pub snils: Snils,
    pub inn: Inn,
    pub passport_series: PassportSeries,
    pub passport_number: u32,
    pub passport_issue_date: NaiveDate,
    pub division_code: DivisionCode,
    pub phone: Option<Phone>,
    /// The unique number in the citizen's e-mail address, if the citizen has one.
    pub email_tag: Option<u32>,
    pub signature: Option<SignatureSkeleton>,
    pub bank: Option<Bank>,
    pub traits: Traits,
}

/// A qualified e-signature or UEC card, without its texts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignatureSkeleton {
    pub kind: CertKind,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    pub revoked: bool,
    pub issuer: u8,
}

impl Skeleton {
    /// The region of residence.
    pub fn region(&self) -> &'static Region {
        &REGIONS[self.region as usize]
    }
}

/// A reproducible population: a seed, a configuration and the layouts derived from them.
#[derive(Clone, Debug)]
pub struct Population {
    config: PopulationConfig,
    chance: Chance,
    passports: PassportTable,
    slots: Permutation,
    snils: Permutation,
    inn: Permutation,
    phone: Permutation,
    email: Permutation,
    serial: Permutation,
}

/// SNILS bodies above the unchecked range: 001-001-999 ..= 999-999-999.
const SNILS_BODIES: u64 = 999_999_999 - SNILS_UNCHECKED_MAX as u64;
/// INN digits 3 to 10 (tax office and serial) below the region code.
const INN_SERIALS: u64 = 100_000_000;
/// Mobile numbers +7 9XX XXX XX XX.
const PHONES: u64 = 1_000_000_000;
/// E-mail tags and signature serial prefixes.
const TAGS: u64 = 1 << 32;

impl Population {
    /// The population of `seed` shaped by `config`.
    pub fn new(seed: u64, config: PopulationConfig) -> Result<Self, PopulationError> {
        config.validate()?;
        let chance = Chance::new(seed);
        let passports = PassportTable::new(
            config.epoch,
            config.expired_passport_share,
            chance.subkey(1),
        )?;
        let perm = |label, domain| Permutation::new(chance.subkey(label), domain);
        Ok(Self {
            slots: perm(2, passports.capacity()),
            snils: perm(3, SNILS_BODIES),
            inn: perm(4, INN_SERIALS),
            phone: perm(5, PHONES),
            email: perm(6, TAGS),
            serial: perm(7, TAGS),
            passports,
            chance,
            config,
        })
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.chance.seed()
    }

    /// The configuration.
    pub fn config(&self) -> &PopulationConfig {
        &self.config
    }

    /// The most citizens this population can hold with every identifier unique
    /// (about 10^8: Russia's adult population).
    pub fn max_citizens(&self) -> u64 {
        self.passports.capacity().min(INN_SERIALS)
    }

    /// Checks that citizens `0..count` all exist.
    pub fn check_count(&self, count: u64) -> Result<(), PopulationError> {
        if count > self.max_citizens() {
            return Err(PopulationError::TooLarge {
                requested: count,
                max: self.max_citizens(),
            });
        }
        Ok(())
    }

    /// The numeric citizen `i` (`i < max_citizens()`).
    pub fn skeleton(&self, i: u64) -> Skeleton {
        let cfg = &self.config;
        let mut rng = self.chance.stream(i, Event::Skeleton, 0);
        let u: [f64; 3] = [rng.random(), rng.random(), rng.random()];
        let draw = self.passports.draw(self.slots.apply(i), cfg.epoch, u);
        let region = &REGIONS[draw.region as usize];

        let female_share = match draw.age {
            0..=39 => 0.5,
            40..=59 => 0.54,
            _ => 0.63,
        };
        let gender = if rng.random_bool(female_share) {
            Gender::Female
        } else {
            Gender::Male
        };
        let birth_region = if rng.random_bool(0.8) {
            draw.region
        } else {
            weighted_region(&mut rng)
        };

        let division_code = DivisionCode {
            subject: region.subject,
            level: [0, 1, 1, 2, 2, 2, 3][rng.random_range(0..7)],
            unit: rng.random_range(1..=120),
        };
        let snils = Snils::from_body(SNILS_UNCHECKED_MAX + 1 + self.snils.apply(i) as u32);
        let inn = Inn::from_first10(region.subject as u64 * INN_SERIALS + self.inn.apply(i));

        let has_phone = rng.random_bool(cfg.phone_share);
        let has_email = !has_phone || rng.random_bool(cfg.email_share);
        let phone = has_phone.then(|| Phone::from_national(9_000_000_000 + self.phone.apply(i)));
        let email_tag = has_email.then(|| self.email.apply(i) as u32);

        let signature = self.signature(&mut rng);
        let bank = {
            let b = &cfg.banks;
            let x: f64 = rng.random();
            if x < b.sber {
                Some(Bank::Sber)
            } else if x < b.sber + b.tinkoff {
                Some(Bank::Tinkoff)
            } else if x < b.sber + b.tinkoff + b.pochta {
                Some(Bank::Pochta)
            } else {
                None
            }
        };

        let channel = match (has_phone, has_email) {
            (true, true) if !rng.random_bool(cfg.prefer_sms_share) => Channel::Email,
            (true, _) => Channel::Sms,
            (false, _) => Channel::Email,
        };
        let normal: f64 = standard_normal(&mut rng);
        let patience_days = (cfg.patience_days_median.ln() + 0.8 * normal).exp() as f32;
        let typo_rate = if rng.random_bool(cfg.careless_share) {
            rng.random_range(0.02..0.15)
        } else {
            rng.random_range(0.0..0.01)
        };
        let traits = Traits {
            channel,
            patience_days,
            typo_rate,
            passport_expired: draw.holding == Holding::Expired,
            snils_unknown_to_pfr: rng.random_bool(cfg.snils_unknown_share),
        };

        Skeleton {
            id: i,
            gender,
            birth_date: draw.birth_date,
            age: draw.age,
            region: draw.region,
            birth_region,
            snils,
            inn,
            passport_series: PassportSeries {
                okato: region.okato,
                year2: (draw.blank_year % 100) as u8,
            },
            passport_number: draw.number,
            passport_issue_date: draw.issue_date,
            division_code,
            phone,
            email_tag,
            signature,
            bank,
            traits,
        }
    }

    fn signature(&self, rng: &mut StreamRng) -> Option<SignatureSkeleton> {
        let cfg = &self.config;
        let x: f64 = rng.random();
        let epoch = cfg.epoch;
        let (kind, valid_from, valid_to) = if x < cfg.ukep_share {
            // A qualified certificate is valid for a year (15 months at most).
            let valid_to = if rng.random_bool(cfg.expired_signature_share) {
                epoch - Duration::days(rng.random_range(1..=730))
            } else {
                epoch + Duration::days(rng.random_range(1..=365))
            };
            (CertKind::Ukep, valid_to - Duration::days(365), valid_to)
        } else if x < cfg.ukep_share + cfg.uec_share {
            // UEC cards: issued 2013-2016, valid five years (DOMAIN.md: none after 2017-01-01).
            let from = NaiveDate::from_ymd_opt(2013, 1, 1).expect("valid date")
                + Duration::days(rng.random_range(0..4 * 365));
            let to = from + Duration::days(5 * 365);
            (CertKind::Uec, from, to)
        } else {
            return None;
        };
        Some(SignatureSkeleton {
            kind,
            valid_from,
            valid_to,
            revoked: rng.random_bool(cfg.revoked_signature_share),
            issuer: rng.random_range(0..names::UKEP_ISSUERS.len() as u8),
        })
    }

    /// The full record of citizen `i` (`i < max_citizens()`).
    pub fn citizen(&self, i: u64) -> Citizen {
        let skeleton = self.skeleton(i);
        let mut rng = self.chance.stream(i, Event::Texts, 0);
        record::build(&skeleton, || self.serial_of(i), &mut rng)
    }

    /// The names of citizen `i`: the same draws [`Population::citizen`] makes first, without
    /// the rest of the record.
    pub fn names(&self, i: u64) -> naming::Names {
        let skeleton = self.skeleton(i);
        let mut rng = self.chance.stream(i, Event::Texts, 0);
        naming::naming().draw(&skeleton, &mut rng)
    }

    /// The unique 40-hex-digit serial of citizen `i`'s certificate.
    fn serial_of(&self, i: u64) -> String {
        let key = self.chance.subkey(8);
        format!(
            "{:08x}{:016x}{:016x}",
            self.serial.apply(i),
            mix64(key ^ i),
            mix64(key.rotate_left(17) ^ i)
        )
    }

    /// Citizens `range` in order, as full records.
    pub fn citizens(&self, range: std::ops::Range<u64>) -> impl Iterator<Item = Citizen> + '_ {
        range.map(move |i| self.citizen(i))
    }
}

/// A region drawn by population weight.
fn weighted_region<R: RngExt + ?Sized>(rng: &mut R) -> u8 {
    const TOTAL: u32 = {
        let mut total = 0;
        let mut k = 0;
        while k < REGIONS.len() {
            total += REGIONS[k].weight;
            k += 1;
        }
        total
    };
    let mut x = rng.random_range(0..TOTAL);
    for (k, r) in REGIONS.iter().enumerate() {
        if x < r.weight {
            return k as u8;
        }
        x -= r.weight;
    }
    0
}

/// A standard normal draw (Box–Muller).
fn standard_normal<R: RngExt + ?Sized>(rng: &mut R) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// The age in full years at `epoch` of someone born on `birth`. Someone born on 29 February
/// has a birthday on 28 February in other years (the last day of the month, as Russian law
/// counts a term ending on a date the month lacks), the same rule the population uses to date
/// a passport issued on a birthday.
pub fn age_at(birth: NaiveDate, epoch: NaiveDate) -> u32 {
    let mut age = (epoch.year() - birth.year()).max(0) as u32;
    while age > 0
        && birth
            .checked_add_months(chrono::Months::new(12 * age))
            .is_none_or(|birthday| birthday > epoch)
    {
        age -= 1;
    }
    age
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod age_tests {
    use super::age_at;
    use chrono::NaiveDate;

    #[test]
    fn ages_count_full_years_and_leap_day_birthdays_fall_on_28_february() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(age_at(d(2000, 6, 15), d(2026, 6, 14)), 25);
        assert_eq!(age_at(d(2000, 6, 15), d(2026, 6, 15)), 26);
        assert_eq!(age_at(d(1960, 2, 29), d(2005, 2, 27)), 44);
        assert_eq!(age_at(d(1960, 2, 29), d(2005, 2, 28)), 45);
        assert_eq!(age_at(d(1960, 2, 29), d(2004, 2, 29)), 44);
        assert_eq!(age_at(d(2026, 1, 1), d(2025, 1, 1)), 0);
    }
}
