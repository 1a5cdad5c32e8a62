//! The read model of an account (`GET /accounts/{oid}`).

use super::account::Tier;
use super::confirmation::{ConfirmationMethod, Restrictions};
use super::error::RegistryError;
use super::ids::{ConfirmationId, Oid};
use super::registry::*;
use super::verification::{FailureReason, VerificationStatus};
use esia_mocks::agency::banks::Bank;
use esia_mocks::agency::ca::CaVerdict;
use esia_mocks::agency::fms::FmsVerdict;
use esia_mocks::agency::pfr::PfrVerdict;
use esia_mocks::clock::SimTime;
use serde::Serialize;

/// The read model of an account (`GET /accounts/{oid}`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AccountView {
    pub oid: Oid,
    pub tier: Tier,
    pub trusted: bool,
    pub surname: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snils: Option<String>,
    pub verification: VerificationView,
    pub confirmation: ConfirmationView,
    pub restrictions: Restrictions,
}

/// `verification` of [`AccountView`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VerificationView {
    pub status: VerificationStatus,
    pub pfr: Option<PfrVerdict>,
    pub fms: Option<FmsVerdict>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<FailureReason>,
}

/// `confirmation` of [`AccountView`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConfirmationView {
    /// `none`, `letter_ordered`, `signature_pending` or `confirmed`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<ConfirmationMethod>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bank: Option<Bank>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmed_at: Option<SimTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub letter_confirmation_id: Option<ConfirmationId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub letter_expires_at: Option<SimTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_refusal: Option<CaVerdict>,
}

impl Registry {
    /// The read model of account `oid` (`GET /accounts/{oid}`).
    pub fn account_view(&self, oid: Oid) -> Result<AccountView, RegistryError> {
        let a = self.account(oid)?;
        let s = &a.state;
        let v = s.verification();
        let c = s.confirmation();
        let status = if s.trusted() {
            "confirmed"
        } else if c.signature_request().is_some() {
            "signature_pending"
        } else if c.letter().is_some() {
            "letter_ordered"
        } else {
            "none"
        };
        Ok(AccountView {
            oid,
            tier: s.tier(),
            trusted: s.trusted(),
            surname: a.surname.to_string(),
            name: a.name.to_string(),
            phone: a.phone.map(|p| p.canonical()),
            email: a.email.as_deref().map(str::to_owned),
            snils: a
                .binds_documents()
                .then(|| a.personal.as_ref().map(|p| p.snils.canonical()))
                .flatten(),
            verification: VerificationView {
                status: v.status(),
                pfr: v.pfr(),
                fms: v.fms(),
                reason: v.reason(),
            },
            confirmation: ConfirmationView {
                status,
                method: c.method(),
                bank: c.method().and_then(ConfirmationMethod::bank),
                confirmed_at: c.confirmed_at(),
                letter_confirmation_id: c.letter().map(|l| l.confirmation_id),
                letter_expires_at: c.letter().map(|l| l.code.expires_at()),
                last_refusal: c.last_refusal(),
            },
            restrictions: s.restrictions(),
        })
    }
}
