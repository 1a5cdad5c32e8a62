//! The certification authority: looks a certificate up by serial and judges it at `now` for the
//! person who signs with it. Kinds are a qualified e-signature (УКЭП) and the universal
//! electronic card (UEC), which stopped being issued on 2017-01-01 but works until it expires
//! (DOMAIN.md step 3, seed 004). Immediate by default.

use chrono::NaiveDate;
use rand::Rng;
use serde::{Deserialize, Deserializer, Serialize};

use super::matching::{same_digits, same_text};
use super::profile::{deserialize_over, Profile, ProfileTable, Reply, COMMON_KEYS};
use crate::clock::{Epoch, SimTime};

/// The first day on which no UEC card was issued any more.
pub const UEC_ISSUE_ENDED: NaiveDate = match NaiveDate::from_ymd_opt(2017, 1, 1) {
    Some(date) => date,
    None => panic!("2017-01-01 is a date"),
};

/// A certificate record that cannot exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    /// Validity that ends before it starts.
    #[error("certificate {serial}: `valid_to` {valid_to} is before `valid_from` {valid_from}")]
    Backwards {
        serial: String,
        valid_from: NaiveDate,
        valid_to: NaiveDate,
    },
    /// A UEC card issued after the cards stopped being issued.
    #[error("certificate {serial}: UEC cards were not issued after 2016-12-31, but valid_from is {valid_from}")]
    UecTooLate {
        serial: String,
        valid_from: NaiveDate,
    },
}

/// The kind of key carrier. Wire names: `ukep`, `uec`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CertKind {
    /// A qualified e-signature on a token, used with CryptoPro.
    Ukep,
    /// The universal electronic card (issued until 2016-12-31).
    Uec,
}

/// A certificate the CA issued (the body of `GET /mocks/ca/certificates/{serial}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Certificate {
    #[schema(value_type = crate::wire::Serial)]
    pub serial: String,
    #[schema(min_length = 1, max_length = 250, pattern = "\\S")]
    pub issuer: String,
    /// The SNILS of the person the certificate was issued to.
    #[schema(value_type = crate::wire::Snils)]
    pub owner_snils: String,
    pub kind: CertKind,
    /// First day of validity (from midnight UTC).
    pub valid_from: NaiveDate,
    /// Last day of validity (to the end of the day UTC).
    pub valid_to: NaiveDate,
    #[serde(default)]
    pub revoked: bool,
}

impl Certificate {
    /// Checks that the record could exist: validity in order, a UEC issued before 2017.
    pub fn check(&self) -> Result<(), CertificateError> {
        if self.valid_to < self.valid_from {
            return Err(CertificateError::Backwards {
                serial: self.serial.clone(),
                valid_from: self.valid_from,
                valid_to: self.valid_to,
            });
        }
        if self.kind == CertKind::Uec && self.valid_from >= UEC_ISSUE_ENDED {
            return Err(CertificateError::UecTooLate {
                serial: self.serial.clone(),
                valid_from: self.valid_from,
            });
        }
        Ok(())
    }
}

/// A signature to judge: the certificate's serial (and issuer, when the signer names it) and
/// the SNILS of the account being confirmed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CaQuery<'a> {
    pub serial: &'a str,
    /// `None` to match any issuer.
    pub issuer: Option<&'a str>,
    pub snils: &'a str,
}

/// The CA's judgement. Wire names: `valid`, `expired`, `not_yet_valid`, `revoked`,
/// `not_this_person`, `not_found`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaVerdict {
    /// Valid today and issued to this person.
    Valid,
    /// Past its last day of validity.
    Expired,
    /// Before its first day of validity.
    NotYetValid,
    /// Revoked by the CA.
    Revoked,
    /// Valid, but issued to someone else.
    NotThisPerson,
    /// No certificate with this serial (from this issuer).
    NotFound,
}

/// Judges `query` at `now` against the certificate the CA holds under its serial (`None` if it
/// holds none). Validity is by whole UTC days of the `epoch`'s calendar: a certificate is valid
/// from the first moment of `valid_from` to the last moment of `valid_to`.
///
/// Checks in order: found, revoked, validity dates, owner.
pub fn compare(
    query: &CaQuery<'_>,
    truth: Option<&Certificate>,
    epoch: Epoch,
    now: SimTime,
) -> CaVerdict {
    let found = truth.filter(|c| {
        c.serial.trim().eq_ignore_ascii_case(query.serial.trim())
            && query
                .issuer
                .is_none_or(|issuer| same_text(issuer, &c.issuer))
    });
    let Some(certificate) = found else {
        return CaVerdict::NotFound;
    };
    let today = epoch.date_of(now);
    if certificate.revoked {
        CaVerdict::Revoked
    } else if today > certificate.valid_to {
        CaVerdict::Expired
    } else if today < certificate.valid_from {
        CaVerdict::NotYetValid
    } else if !same_digits(&certificate.owner_snils, query.snils) {
        CaVerdict::NotThisPerson
    } else {
        CaVerdict::Valid
    }
}

/// When and whether the CA delivers `verdict` for a request made at `now`.
pub fn respond<R: Rng + ?Sized>(
    verdict: CaVerdict,
    profile: &CaProfile,
    now: SimTime,
    rng: &mut R,
) -> Reply<CaVerdict> {
    profile.service.decide(now, rng).with(verdict)
}

/// The CA as a service: only the common keys (see [`Profile`]).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CaProfile {
    #[serde(flatten)]
    pub service: Profile,
}

impl Default for CaProfile {
    /// Immediate and faultless (the signature check is immediate: seed 004):
    /// [`Profile::default`].
    fn default() -> Self {
        Self {
            service: Profile::default(),
        }
    }
}

impl ProfileTable for CaProfile {
    const KEYS: &'static [&'static str] = &COMMON_KEYS;
    fn service(&mut self) -> &mut Profile {
        &mut self.service
    }
}

impl<'de> Deserialize<'de> for CaProfile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_over(deserializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agency::latency::tests::rng;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
    }

    fn certificate() -> Certificate {
        Certificate {
            serial: "01AB23CD".into(),
            issuer: "УЦ Тест".into(),
            owner_snils: "112-233-445 95".into(),
            kind: CertKind::Ukep,
            valid_from: date(2025, 6, 1),
            valid_to: date(2026, 5, 31),
            revoked: false,
        }
    }

    const QUERY: CaQuery<'static> = CaQuery {
        serial: "01ab23cd",
        issuer: None,
        snils: "11223344595",
    };

    #[test]
    fn compare_gives_each_verdict() {
        let epoch = Epoch::default();
        let now = epoch.time_of(date(2026, 2, 1));
        let c = certificate();
        assert_eq!(compare(&QUERY, Some(&c), epoch, now), CaVerdict::Valid);
        assert_eq!(compare(&QUERY, None, epoch, now), CaVerdict::NotFound);
        let other_issuer = CaQuery {
            issuer: Some("Другой УЦ"),
            ..QUERY
        };
        assert_eq!(
            compare(&other_issuer, Some(&c), epoch, now),
            CaVerdict::NotFound
        );
        let same_issuer = CaQuery {
            issuer: Some("уц тест"),
            ..QUERY
        };
        assert_eq!(
            compare(&same_issuer, Some(&c), epoch, now),
            CaVerdict::Valid
        );
        let someone_else = CaQuery {
            snils: "112-233-445 96",
            ..QUERY
        };
        assert_eq!(
            compare(&someone_else, Some(&c), epoch, now),
            CaVerdict::NotThisPerson
        );
        let revoked = Certificate {
            revoked: true,
            ..certificate()
        };
        assert_eq!(
            compare(&QUERY, Some(&revoked), epoch, now),
            CaVerdict::Revoked
        );
        let future = Certificate {
            valid_from: date(2026, 3, 1),
            valid_to: date(2027, 3, 1),
            ..certificate()
        };
        assert_eq!(
            compare(&QUERY, Some(&future), epoch, now),
            CaVerdict::NotYetValid
        );
    }

    #[test]
    fn expiry_falls_at_the_end_of_the_last_day() {
        let epoch = Epoch::default();
        let c = certificate();
        let first_day_after = epoch.time_of(date(2026, 6, 1));
        let last_moment = first_day_after.saturating_sub(1);
        assert_eq!(
            compare(&QUERY, Some(&c), epoch, last_moment),
            CaVerdict::Valid
        );
        assert_eq!(
            compare(&QUERY, Some(&c), epoch, first_day_after),
            CaVerdict::Expired
        );
    }

    #[test]
    fn uec_cards_work_until_they_expire_but_were_not_issued_after_2016() {
        let epoch = Epoch::default();
        let uec = Certificate {
            kind: CertKind::Uec,
            valid_from: date(2016, 12, 31),
            valid_to: date(2026, 12, 31),
            ..certificate()
        };
        assert_eq!(uec.check(), Ok(()));
        assert_eq!(
            compare(&QUERY, Some(&uec), epoch, SimTime::ZERO),
            CaVerdict::Valid
        );
        let late = Certificate {
            valid_from: UEC_ISSUE_ENDED,
            ..uec.clone()
        };
        assert!(matches!(
            late.check(),
            Err(CertificateError::UecTooLate { .. })
        ));
        let backwards = Certificate {
            valid_to: date(2020, 1, 1),
            valid_from: date(2021, 1, 1),
            ..certificate()
        };
        assert!(matches!(
            backwards.check(),
            Err(CertificateError::Backwards { .. })
        ));
    }

    #[test]
    fn default_is_immediate() {
        let p = CaProfile::default();
        let reply = respond(CaVerdict::Valid, &p, SimTime::ZERO, &mut rng(31));
        assert_eq!(
            reply,
            Reply::Answer {
                verdict: CaVerdict::Valid,
                delay_ms: 0
            }
        );
        let json = serde_json::to_string(&certificate().kind).unwrap();
        assert_eq!(json, "\"ukep\"");
    }
}
