//! The PFR mock: SNILS checks over SMEV ([`super::smev`]) against PFR's ground truth
//! ([`PfrRecord`]), judged by [`crate::agency::pfr::compare`]. `POST /mocks/pfr/requests`
//! `{request_id, snils, surname, name, patronymic, birth_date, gender, callback_url?}`; the
//! `result` is `match`, `mismatch` or `not_found`.

use super::error::MockError;
use super::smev::Check;
use super::MockKind;
use crate::agency::capacity::Capacity;
use crate::agency::pfr::{compare, PfrProfile, PfrQuery, PfrRecord, PfrVerdict};
use crate::agency::profile::Fate;
use crate::clock::SimTime;
use crate::ident::Snils;
use crate::wire::faults::Fault;
use crate::wire::pfr::PfrRequest;
use rand_chacha::ChaCha20Rng;

/// PFR as an asynchronous agency.
#[derive(Debug)]
pub struct Pfr;

impl Check for Pfr {
    const AGENCY: &'static str = "pfr";
    const KIND: MockKind = MockKind::Pfr;
    const MISMATCH: PfrVerdict = PfrVerdict::Mismatch;
    type Request = PfrRequest;
    type Record = PfrRecord;
    type Verdict = PfrVerdict;
    type Profile = PfrProfile;

    fn request_id(r: &PfrRequest) -> &str {
        &r.request_id
    }

    fn callback_url(r: &PfrRequest) -> Option<&str> {
        r.callback_url.as_deref()
    }

    fn key_of_request(r: &PfrRequest) -> Result<u64, MockError> {
        for (field, value) in [("surname", &r.surname), ("name", &r.name)] {
            if value.trim().is_empty() || value.chars().count() > 100 {
                return Err(MockError::invalid(field, "must have 1 to 100 characters"));
            }
        }
        Snils::parse(&r.snils)
            .map(Snils::value)
            .map_err(|e| MockError::invalid("snils", e))
    }

    fn key_of_record(r: &PfrRecord) -> Result<u64, &'static str> {
        Snils::parse(&r.snils)
            .map(Snils::value)
            .map_err(|_| "snils")
    }

    fn judge(r: &PfrRequest, truth: Option<&PfrRecord>) -> PfrVerdict {
        compare(
            &PfrQuery {
                snils: &r.snils,
                surname: &r.surname,
                name: &r.name,
                patronymic: &r.patronymic,
                birth_date: r.birth_date,
                gender: r.gender,
            },
            truth,
        )
    }

    fn decide(profile: &PfrProfile, now: SimTime, rng: &mut ChaCha20Rng) -> Fate {
        profile.service.decide(now, rng)
    }

    fn capacity(profile: &PfrProfile) -> Option<&Capacity> {
        profile.service.capacity.as_ref()
    }

    fn mismatch_key(fault: &Fault) -> Result<u64, MockError> {
        match fault {
            Fault::Mismatch {
                snils: Some(s),
                passport: None,
            } => super::people::snils_key(s),
            _ => Err(MockError::invalid(
                "snils",
                "is needed: a PFR mismatch names a snils (and no passport)",
            )),
        }
    }
}
