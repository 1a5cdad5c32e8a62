//! The engine's HTTP contract (`/api/v1/...`) as types: every request body and every answer,
//! serde both ways, so the handlers ([`crate::stand`]) write them, the load client
//! ([`crate::load`]) reads them, and the OpenAPI document derives its schemas from them
//! (`ToSchema`). Forms of identifiers and the time type are the mocks' ([`esia_mocks::wire`]),
//! stated once for both. The registry's own forms ([`RegistrationForm`],
//! [`PersonalDataForm`]) are the request bodies as typed; their schemas are stated here.

use crate::registry::confirmation::Restrictions;
use crate::registry::registry::Channel;
use crate::registry::ConfirmationMethod;
use esia_mocks::agency::banks::Bank;
use esia_mocks::agency::ca::CaVerdict;
use esia_mocks::agency::fms::FmsVerdict;
use esia_mocks::agency::pfr::PfrVerdict;
use esia_mocks::wire::smev::SmevStatus;
use esia_mocks::wire::{self as forms, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

pub use crate::registry::personal::{Address, PassportForm, PersonalDataForm};
pub use crate::registry::registry::RegistrationForm;
pub use crate::registry::{FailureReason, Tier, VerificationStatus};

/// A string schema of fixed values.
fn one_of(values: &[&str], description: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().copied()))
        .description(Some(description))
        .into()
}

impl PartialSchema for ConfirmationMethod {
    fn schema() -> RefOr<Schema> {
        let all = [
            ConfirmationMethod::ServiceCenter,
            ConfirmationMethod::PostLetter,
            ConfirmationMethod::ESignature,
            ConfirmationMethod::Bank(Bank::Sber),
            ConfirmationMethod::MfcRegistration,
        ];
        one_of(
            &all.map(ConfirmationMethod::as_str),
            "How the account's identity was confirmed",
        )
    }
}

impl ToSchema for ConfirmationMethod {}

/// An account's restriction (`no_fns_cabinet`: no entry to the FNS taxpayer cabinet).
#[derive(Clone, Copy, Debug)]
pub struct Restriction;

impl PartialSchema for Restriction {
    fn schema() -> RefOr<Schema> {
        one_of(
            &Restrictions::NO_FNS_CABINET.names(),
            "What the account may not do",
        )
    }
}

impl ToSchema for Restriction {}

/// `POST /registrations`: names and a phone, an e-mail or both (the schema of the registry's
/// [`RegistrationForm`], whose fields are all strings so that a bad one is named by the error).
#[derive(ToSchema)]
#[schema(as = RegistrationForm)]
#[allow(dead_code)]
pub struct RegistrationFormSchema {
    #[schema(value_type = forms::Name)]
    surname: String,
    #[schema(value_type = forms::Name)]
    name: String,
    /// A phone, an e-mail or both: at least one.
    #[schema(value_type = Option<forms::Phone>)]
    phone: Option<String>,
    #[schema(value_type = Option<forms::Email>)]
    email: Option<String>,
    /// Where the code goes first (default: sms when a phone is given, else email); the
    /// contact must be given.
    channel: Option<Channel>,
}

/// `POST /registrations/{id}/code` and `POST /accounts/{oid}/confirmations/code`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Code {
    #[schema(value_type = forms::CodeDigits)]
    pub code: String,
}

/// `POST /registrations/{id}/password`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PasswordForm {
    /// 8 to 128 characters: letters in upper and lower case and digits; not a trivial
    /// sequence, not the phone, the surname or (once known) the birth date. A weak one is 422
    /// `weak_password`.
    #[schema(min_length = 1, max_length = 128)]
    pub password: String,
    /// The same again.
    pub password_repeat: String,
}

/// `POST /sessions`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Login {
    /// A phone, an e-mail or a SNILS: one of the account's logins.
    #[schema(min_length = 1, max_length = 254)]
    pub login: String,
    #[schema(max_length = 128)]
    pub password: String,
}

/// `PUT /accounts/{oid}/password`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PasswordChange {
    #[schema(max_length = 128)]
    pub current_password: String,
    /// As [`PasswordForm::password`], and not the birth date once personal data are known.
    #[schema(min_length = 1, max_length = 128)]
    pub password: String,
    pub password_repeat: String,
}

/// How a citizen confirms identity online.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnlineMethod {
    /// A registered letter with a code, to the account's address or `address`.
    Post,
    /// A qualified e-signature (or a UEC card) checked with the CA.
    ESignature,
}

/// A certificate, as the citizen's key carrier names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CertificateRef {
    #[schema(min_length = 1, max_length = 128)]
    pub serial: String,
    #[schema(min_length = 1, max_length = 250)]
    pub issuer: String,
}

/// `POST /accounts/{oid}/confirmations`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ConfirmationRequest {
    pub method: OnlineMethod,
    /// `post`: another address than the one of the personal data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    /// `e_signature`: needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<CertificateRef>,
}

/// A passport as shown at a service center.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ShownPassport {
    #[schema(value_type = forms::PassportSeries)]
    pub series: String,
    #[schema(value_type = forms::PassportNumber)]
    pub number: String,
}

/// `POST /operator/confirmations`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OperatorConfirmation {
    #[schema(value_type = forms::CenterId)]
    pub center_id: String,
    #[schema(value_type = forms::Snils)]
    pub snils: String,
    pub passport: ShownPassport,
}

/// Personal data and a phone: the body of the bank requests (and, with `center_id`, of the
/// MFC's).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PersonWithPhone {
    #[serde(flatten)]
    pub person: PersonalDataForm,
    #[serde(default)]
    #[schema(value_type = forms::Phone, required = true)]
    pub phone: String,
}

/// `POST /operator/registrations`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MfcRegistration {
    /// The MFC that registers the account.
    #[serde(default)]
    #[schema(value_type = forms::CenterId, required = true)]
    pub center_id: Option<String>,
    #[serde(flatten)]
    pub person: PersonWithPhone,
}

/// `POST /callbacks/{agency}`: an agency says a request's answer is ready.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Callback {
    #[schema(min_length = 1)]
    pub request_id: String,
    /// The request's status, as the agency sends it (the engine asks the agency itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<SmevStatus>,
}

// ---------------------------------------------------------------------------------------------
// Answers

/// A registration's code or link sent: `POST /registrations` (201), `.../resend`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RegistrationStarted {
    pub registration_id: String,
    pub channel: Channel,
    /// When the code or link expires.
    pub expires_at: Timestamp,
}

/// A contact confirmed: `POST .../code`, `GET .../email`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ContactConfirmed {
    pub registration_id: String,
    pub confirmed: bool,
    /// The account whose second login the contact became.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oid: Option<u64>,
}

/// The simplified account made: `POST .../password` (201).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Registered {
    pub oid: u64,
    pub tier: Tier,
    /// The second contact's code or link, sent now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second_contact: Option<RegistrationStarted>,
}

/// A session opened: `POST /sessions`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Session {
    /// The Bearer token of the account routes.
    pub token: String,
    pub oid: u64,
    pub expires_at: Timestamp,
}

/// `verification` of an [`Account`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Verification {
    pub status: VerificationStatus,
    /// PFR's answer, once given.
    pub pfr: Option<PfrVerdict>,
    /// FMS's answer, once given.
    pub fms: Option<FmsVerdict>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<FailureReason>,
}

/// Where an account's identity confirmation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConfirmationStatus {
    None,
    LetterOrdered,
    SignaturePending,
    Confirmed,
}

/// `confirmation` of an [`Account`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Confirmation {
    pub status: ConfirmationStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<ConfirmationMethod>)]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank: Option<Bank>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmed_at: Option<Timestamp>,
    /// The latest letter's order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub letter_confirmation_id: Option<String>,
    /// The latest letter's tracking number, once the post has given one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub letter_expires_at: Option<Timestamp>,
    /// Why the CA refused the latest signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_refusal: Option<CaVerdict>,
}

/// `GET /accounts/{oid}`, and the account after a confirmation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Account {
    pub oid: u64,
    pub tier: Tier,
    /// The identity is confirmed.
    pub trusted: bool,
    pub surname: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snils: Option<String>,
    pub verification: Verification,
    pub confirmation: Confirmation,
    #[schema(value_type = Vec<Restriction>)]
    pub restrictions: Vec<String>,
}

/// `verification` of [`VerificationDispatched`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Dispatched {
    pub status: VerificationStatus,
    pub pfr_request_id: String,
    pub fms_request_id: String,
}

/// `PUT /accounts/{oid}/personal-data` (202): PFR and FMS asked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VerificationDispatched {
    pub oid: u64,
    pub verification: Dispatched,
}

/// A post letter ordered: `POST /accounts/{oid}/confirmations` `{method: post}` (202).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LetterOrdered {
    pub confirmation_id: String,
    /// The post's tracking number; null while the letter is still being sent (the account
    /// shows it later).
    pub tracking_number: Option<String>,
    /// When the letter's code expires.
    pub expires_at: Timestamp,
    /// Another letter after a lost or expired one.
    pub reorder: bool,
}

/// A signature's check still running at the CA (202).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SignaturePending {
    pub request_id: String,
    pub status: ConfirmationStatus,
}

/// The answer of `POST /accounts/{oid}/confirmations`: by method and by how far it got.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ConfirmationAnswer {
    /// `post` (202).
    Letter(LetterOrdered),
    /// `e_signature`, confirmed (200).
    Account(Box<Account>),
    /// `e_signature`, the CA slow (202).
    Pending(SignaturePending),
}

/// `POST /operator/confirmations`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OperatorConfirmed {
    pub oid: u64,
    pub tier: Tier,
    #[schema(value_type = ConfirmationMethod)]
    pub method: String,
    pub center_id: String,
}

/// `POST /operator/registrations` (201): a confirmed account and its one-time password.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MfcRegistered {
    pub oid: u64,
    /// The account's login (the phone, canonical).
    pub login: String,
    /// To be changed at the first login (`PUT /accounts/{oid}/password`).
    pub one_time_password: String,
    pub tier: Tier,
    pub center_id: String,
}

/// Where a bank's confirmation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PartnerState {
    Pending,
    Confirmed,
}

/// `POST /partners/{bank}/confirmations` (200 confirmed, 202 pending) and its status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PartnerConfirmation {
    pub confirmation_id: String,
    pub bank: Bank,
    pub status: PartnerState,
    /// Confirmed: the account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oid: Option<u64>,
    /// Confirmed: the account was made now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<Tier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<ConfirmationMethod>)]
    pub method: Option<String>,
}

/// `POST /callbacks/{agency}` (202).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CallbackAccepted {
    pub accepted: bool,
}

/// `GET /healthz`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
    pub now: Timestamp,
    /// Effects waiting for the performer.
    pub effects_queued: u64,
    /// Effects set aside (an agency at capacity).
    pub held_effects: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-stated schema of the registry's form names exactly the keys the form has.
    #[test]
    fn registration_form_schema_matches_the_form() {
        let form = serde_json::to_value(RegistrationForm::default()).unwrap();
        let schema = serde_json::to_value(RegistrationFormSchema::schema()).unwrap();
        let mut keys: Vec<&String> = form.as_object().unwrap().keys().collect();
        let mut props: Vec<&String> = schema["properties"].as_object().unwrap().keys().collect();
        keys.sort();
        props.sort();
        assert_eq!(keys, props);
        assert_eq!(schema["required"], serde_json::json!(["surname", "name"]));
    }

    #[test]
    fn enums_state_their_wire_names() {
        let m = serde_json::to_value(ConfirmationMethod::schema()).unwrap();
        assert!(m["enum"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("bank")));
        let c = serde_json::to_value(Channel::schema()).unwrap();
        assert_eq!(c["enum"], serde_json::json!(["sms", "email"]));
    }
}
