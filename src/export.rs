//! Writing a population out: one citizen a line as JSON (`jsonl`) or a flat CSV table.
//!
//! Used by `esia-sim citizens`. Records come from [`esia_mocks::population`] in index order, so
//! the output for `--count 10` is the prefix of the output for `--count 100000`.

use esia_mocks::population::{Citizen, Population};
use serde::Serialize;
use std::io::{self, Write};

/// An output format of `esia-sim citizens`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON object a line, in the record format of DESIGN.md.
    Jsonl,
    /// A header and one row a citizen; nested fields flattened (`passport_series`, ...).
    Csv,
}

/// Why writing a population failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot write the output: {0}")]
    Io(#[from] io::Error),
    #[error("cannot write CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("cannot write JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl ExportError {
    /// The reader went away (`esia-sim citizens | head`): not a failure of ours.
    pub fn is_broken_pipe(&self) -> bool {
        let kind = match self {
            ExportError::Io(e) => Some(e.kind()),
            ExportError::Csv(e) => match e.kind() {
                csv::ErrorKind::Io(e) => Some(e.kind()),
                _ => None,
            },
            ExportError::Json(e) => e.io_error_kind(),
        };
        kind == Some(io::ErrorKind::BrokenPipe)
    }
}

/// A citizen as one CSV row: every nested field flattened, absent values empty.
#[derive(Serialize)]
struct Row<'a> {
    id: u64,
    surname: &'a str,
    name: &'a str,
    patronymic: &'a str,
    gender: &'a str,
    birth_date: String,
    birth_place: &'a str,
    citizenship: &'a str,
    snils: &'a str,
    inn: &'a str,
    passport_series: &'a str,
    passport_number: &'a str,
    passport_issue_date: String,
    passport_issued_by: &'a str,
    passport_division_code: &'a str,
    phone: &'a str,
    email: &'a str,
    address_postcode: &'a str,
    address_region: &'a str,
    address_city: &'a str,
    address_street: &'a str,
    address_house: &'a str,
    address_flat: &'a str,
    signature_kind: &'a str,
    signature_serial: &'a str,
    signature_issuer: &'a str,
    signature_valid_from: String,
    signature_valid_to: String,
    signature_revoked: &'a str,
    bank: &'a str,
    traits_channel: &'a str,
    traits_patience_days: f32,
    traits_typo_rate: f32,
    traits_passport_expired: bool,
    traits_snils_unknown_to_pfr: bool,
}

impl<'a> Row<'a> {
    fn of(c: &'a Citizen) -> Self {
        let sig = c.signature.as_ref();
        let text = |v: Option<&'a String>| v.map_or("", String::as_str);
        Row {
            id: c.id,
            surname: &c.surname,
            name: &c.name,
            patronymic: &c.patronymic,
            gender: c.gender.as_str(),
            birth_date: c.birth_date.to_string(),
            birth_place: &c.birth_place,
            citizenship: &c.citizenship,
            snils: &c.snils,
            inn: &c.inn,
            passport_series: &c.passport.series,
            passport_number: &c.passport.number,
            passport_issue_date: c.passport.issue_date.to_string(),
            passport_issued_by: &c.passport.issued_by,
            passport_division_code: &c.passport.division_code,
            phone: text(c.phone.as_ref()),
            email: text(c.email.as_ref()),
            address_postcode: &c.address.postcode,
            address_region: &c.address.region,
            address_city: &c.address.city,
            address_street: &c.address.street,
            address_house: &c.address.house,
            address_flat: text(c.address.flat.as_ref()),
            signature_kind: sig.map_or("", |s| match s.kind {
                esia_mocks::agency::ca::CertKind::Ukep => "ukep",
                esia_mocks::agency::ca::CertKind::Uec => "uec",
            }),
            signature_serial: sig.map_or("", |s| &s.serial),
            signature_issuer: sig.map_or("", |s| &s.issuer),
            signature_valid_from: sig.map_or(String::new(), |s| s.valid_from.to_string()),
            signature_valid_to: sig.map_or(String::new(), |s| s.valid_to.to_string()),
            signature_revoked: sig.map_or("", |s| if s.revoked { "true" } else { "false" }),
            bank: c.bank.map_or("", |b| b.as_str()),
            traits_channel: match c.traits.channel {
                esia_mocks::population::Channel::Sms => "sms",
                esia_mocks::population::Channel::Email => "email",
            },
            traits_patience_days: c.traits.patience_days,
            traits_typo_rate: c.traits.typo_rate,
            traits_passport_expired: c.traits.passport_expired,
            traits_snils_unknown_to_pfr: c.traits.snils_unknown_to_pfr,
        }
    }
}

/// Writes citizens `from..from + count` of `population` to `out`, calling `progress` with the
/// number written every 65,536 citizens.
pub fn write(
    population: &Population,
    from: u64,
    count: u64,
    format: Format,
    out: impl Write,
    mut progress: impl FnMut(u64),
) -> Result<(), ExportError> {
    const TICK: u64 = 1 << 16;
    match format {
        Format::Jsonl => {
            let mut out = out;
            for (k, c) in population.citizens(from..from + count).enumerate() {
                serde_json::to_writer(&mut out, &c)?;
                out.write_all(b"\n")?;
                if (k as u64 + 1) % TICK == 0 {
                    progress(k as u64 + 1);
                }
            }
            out.flush()?;
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            for (k, c) in population.citizens(from..from + count).enumerate() {
                w.serialize(Row::of(&c))?;
                if (k as u64 + 1) % TICK == 0 {
                    progress(k as u64 + 1);
                }
            }
            w.flush()?;
        }
    }
    progress(count);
    Ok(())
}
