//! The FMS mock: passport checks over SMEV ([`super::smev`]) against FMS's ground truth
//! ([`FmsRecord`]), judged by [`crate::agency::fms::compare`]. `POST /mocks/fms/requests`
//! `{request_id, series, number, surname, name, patronymic, birth_date, issue_date,
//! callback_url?}`; the `result` is `valid`, `invalid`, `mismatch` or `not_found`.

use super::error::MockError;
use super::smev::Check;
use super::MockKind;
use crate::agency::capacity::Capacity;
use crate::agency::fms::{compare, FmsProfile, FmsQuery, FmsRecord, FmsVerdict};
use crate::agency::profile::Fate;
use crate::clock::SimTime;
use crate::wire::faults::Fault;
use crate::wire::fms::FmsRequest;
use rand_chacha::ChaCha20Rng;

/// FMS as an asynchronous agency.
#[derive(Debug)]
pub struct Fms;

/// The digits of `s` if it has exactly `n` of them and nothing but digits and spaces.
fn digits_of(s: &str, n: usize) -> Option<u64> {
    let s: String = s.chars().filter(|c| *c != ' ').collect();
    (s.len() == n && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// The key of a passport: its ten digits as one number.
pub fn passport_key(series: &str, number: &str) -> Result<u64, &'static str> {
    let s = digits_of(series, 4).ok_or("series")?;
    let n = digits_of(number, 6).ok_or("number")?;
    Ok(s * 1_000_000 + n)
}

impl Check for Fms {
    const AGENCY: &'static str = "fms";
    const KIND: MockKind = MockKind::Fms;
    const MISMATCH: FmsVerdict = FmsVerdict::Mismatch;
    type Request = FmsRequest;
    type Record = FmsRecord;
    type Verdict = FmsVerdict;
    type Profile = FmsProfile;

    fn request_id(r: &FmsRequest) -> &str {
        &r.request_id
    }

    fn callback_url(r: &FmsRequest) -> Option<&str> {
        r.callback_url.as_deref()
    }

    fn key_of_request(r: &FmsRequest) -> Result<u64, MockError> {
        for (field, value) in [("surname", &r.surname), ("name", &r.name)] {
            if value.trim().is_empty() || value.chars().count() > 100 {
                return Err(MockError::invalid(field, "must have 1 to 100 characters"));
            }
        }
        passport_key(&r.series, &r.number).map_err(|field| {
            MockError::invalid(
                field,
                if field == "series" {
                    "must have 4 digits"
                } else {
                    "must have 6 digits"
                },
            )
        })
    }

    fn key_of_record(r: &FmsRecord) -> Result<u64, &'static str> {
        passport_key(&r.series, &r.number)
    }

    fn judge(r: &FmsRequest, truth: Option<&FmsRecord>) -> FmsVerdict {
        compare(
            &FmsQuery {
                series: &r.series,
                number: &r.number,
                surname: &r.surname,
                name: &r.name,
                patronymic: &r.patronymic,
                birth_date: r.birth_date,
                issue_date: r.issue_date,
            },
            truth,
        )
    }

    fn decide(profile: &FmsProfile, now: SimTime, rng: &mut ChaCha20Rng) -> Fate {
        profile.service.decide(now, rng)
    }

    fn capacity(profile: &FmsProfile) -> Option<&Capacity> {
        profile.service.capacity.as_ref()
    }

    fn mismatch_key(fault: &Fault) -> Result<u64, MockError> {
        match fault {
            Fault::Mismatch {
                snils: None,
                passport: Some(p),
            } => passport_key(&p.series, &p.number)
                .map_err(|field| MockError::invalid(field, "is not a passport's")),
            _ => Err(MockError::invalid(
                "passport",
                "is needed: an FMS mismatch names a passport {series, number} (and no snils)",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passport_keys_take_digits_and_spaces_only() {
        assert_eq!(passport_key("45 12", "345678"), Ok(4512_345678));
        assert_eq!(passport_key("4512", "345678"), Ok(4512_345678));
        assert_eq!(passport_key("451", "345678"), Err("series"));
        assert_eq!(passport_key("4512", "34567x"), Err("number"));
    }
}
