//! The registry's errors: one enum of domain variants, each with a stable `code` string and,
//! when one input is at fault, the path of that field ([`RegistryError::code`],
//! [`RegistryError::field`]). Their HTTP statuses are the stand's
//! (`stand::error::registry_status`): the engine knows no HTTP.

use super::account::Tier;
use super::password::PasswordError;
use esia_mocks::ident::IdentError;
use std::fmt;

/// What is wrong with one field of a request.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    /// An identifier that fails its validator.
    #[error(transparent)]
    Ident(#[from] IdentError),
    /// A date that is not `YYYY-MM-DD`.
    #[error("is not a date YYYY-MM-DD")]
    NotDate,
    /// Any other rule, in words.
    #[error("{0}")]
    Rule(&'static str),
}

/// The stores of the registry, each with its own cap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Store {
    Registrations,
    Accounts,
    Sessions,
    Requests,
    PartnerConfirmations,
}

impl Store {
    /// The store's name in errors and metrics.
    pub fn name(self) -> &'static str {
        match self {
            Store::Registrations => "registrations",
            Store::Accounts => "accounts",
            Store::Sessions => "sessions",
            Store::Requests => "requests",
            Store::PartnerConfirmations => "partner_confirmations",
        }
    }
}

impl fmt::Display for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Every way a registry command can be refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// The registration, account, confirmation or request named does not exist (or has expired
    /// and been dropped).
    #[error("{what} not found")]
    NotFound { what: &'static str },
    /// A wrong code or link token.
    #[error("wrong code; {attempts_left} attempts left")]
    CodeWrong { attempts_left: u8 },
    /// The code or link is past its lifetime: ask for a new one.
    #[error("the code has expired; ask for a new one")]
    CodeExpired,
    /// Too many wrong codes: ask for a new one.
    #[error("too many wrong codes; ask for a new one")]
    CodeLocked,
    /// A new code was asked for before the cooldown passed.
    #[error("a new code can be sent in {retry_after_ms} ms")]
    ResendTooSoon { retry_after_ms: u64 },
    /// No more codes for this registration or letter.
    #[error("no more codes can be sent; start again")]
    ResendLimit,
    /// A password that breaks a rule.
    #[error("the password {0}")]
    WeakPassword(#[from] PasswordError),
    /// A field that fails validation; `field` is its path (`passport.series`).
    #[error("{field} {source}")]
    Invalid {
        field: &'static str,
        #[source]
        source: FieldError,
    },
    /// The SNILS or passport belongs to another account ("documents already uploaded").
    #[error("the {field} is already bound to another account")]
    DocumentsBound { field: &'static str },
    /// The phone or e-mail is already the login of another account.
    #[error("the {field} is already registered")]
    ContactBound { field: &'static str },
    /// The contact (code or link) has not been confirmed yet.
    #[error("the phone or e-mail has not been confirmed yet")]
    ContactNotConfirmed,
    /// A code for a registration whose contact is confirmed the other way (an SMS code for an
    /// e-mail link, or the reverse).
    #[error("this registration's contact is confirmed by {confirmed_by}")]
    WrongChannel { confirmed_by: &'static str },
    /// The step was already done (a second confirmation, a second letter...).
    #[error("{what}")]
    AlreadyDone { what: &'static str },
    /// The personal data are being verified; wait for the result.
    #[error("the personal data are being verified")]
    VerificationPending,
    /// The account's tier is too low for this step.
    #[error("the account must be {needed} first")]
    WrongTier { needed: Tier },
    /// The documents shown do not match the account's (service center).
    #[error("the {field} does not match the account's")]
    DocumentsMismatch { field: &'static str },
    /// No letter has been ordered, or its code was locked: order a new one.
    #[error("no letter code is in force; order a letter")]
    NoLetter,
    /// A store is at its cap: the stand is overloaded, not the request wrong.
    #[error("the {store} store is full")]
    StoreFull { store: Store },
    /// Wrong login or password, a missing or expired session, or a session of another account.
    #[error("not authorized")]
    Unauthorized,
    /// The account has no password (made by a bank without one): log in another way.
    #[error("the account has no password")]
    PasswordNotSet,
    /// No service center of the directory has this id.
    #[error("no service center has this id")]
    CenterNotFound,
    /// Only an MFC registers accounts (004); `kind` is the center's (`rostelecom`, ...).
    #[error("only an MFC registers accounts; this center is a {kind}")]
    CannotRegister { kind: &'static str },
}

impl RegistryError {
    /// The stable machine-readable code of this error (the `code` of the JSON error body).
    pub fn code(&self) -> &'static str {
        use RegistryError::*;
        match self {
            NotFound { .. } => "not_found",
            CodeWrong { .. } => "code_wrong",
            CodeExpired => "code_expired",
            CodeLocked => "code_locked",
            ResendTooSoon { .. } => "resend_too_soon",
            ResendLimit => "resend_limit",
            WeakPassword(_) => "weak_password",
            Invalid { .. } => "invalid",
            DocumentsBound { .. } => "documents_bound",
            ContactBound { .. } => "contact_bound",
            ContactNotConfirmed => "contact_not_confirmed",
            AlreadyDone { .. } => "already_done",
            VerificationPending => "verification_pending",
            WrongTier { .. } => "wrong_tier",
            DocumentsMismatch { .. } => "documents_mismatch",
            NoLetter => "no_letter",
            WrongChannel { .. } => "wrong_channel",
            StoreFull { .. } => "store_full",
            Unauthorized => "unauthorized",
            PasswordNotSet => "password_not_set",
            CenterNotFound => "center_not_found",
            CannotRegister { .. } => "cannot_register",
        }
    }

    /// The path of the input at fault, when one input is (`passport.series`, `code`, `password`).
    pub fn field(&self) -> Option<&'static str> {
        use RegistryError::*;
        match self {
            Invalid { field, .. }
            | DocumentsBound { field }
            | ContactBound { field }
            | DocumentsMismatch { field } => Some(field),
            CodeWrong { .. } | CodeExpired | CodeLocked => Some("code"),
            CenterNotFound | CannotRegister { .. } => Some("center_id"),
            WeakPassword(PasswordError::RepeatMismatch) => Some("password_repeat"),
            WeakPassword(_) => Some("password"),
            _ => None,
        }
    }

    /// An `Invalid` error for `field`.
    pub fn invalid(field: &'static str, source: impl Into<FieldError>) -> Self {
        RegistryError::Invalid {
            field,
            source: source.into(),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One error of each variant (the stand's test maps each to its status).
    pub(crate) fn every_variant() -> [RegistryError; 22] {
        [
            RegistryError::NotFound { what: "account" },
            RegistryError::CodeWrong { attempts_left: 2 },
            RegistryError::CodeExpired,
            RegistryError::CodeLocked,
            RegistryError::ResendTooSoon { retry_after_ms: 5 },
            RegistryError::ResendLimit,
            RegistryError::WeakPassword(PasswordError::TooShort),
            RegistryError::invalid("passport.series", IdentError::Empty),
            RegistryError::DocumentsBound { field: "snils" },
            RegistryError::ContactBound { field: "phone" },
            RegistryError::ContactNotConfirmed,
            RegistryError::AlreadyDone {
                what: "already confirmed",
            },
            RegistryError::VerificationPending,
            RegistryError::WrongTier {
                needed: Tier::Standard,
            },
            RegistryError::DocumentsMismatch { field: "passport" },
            RegistryError::NoLetter,
            RegistryError::StoreFull {
                store: Store::Accounts,
            },
            RegistryError::Unauthorized,
            RegistryError::PasswordNotSet,
            RegistryError::CenterNotFound,
            RegistryError::CannotRegister { kind: "post" },
            RegistryError::WrongChannel {
                confirmed_by: "the SMS code",
            },
        ]
    }

    #[test]
    fn every_variant_has_a_code() {
        let all = every_variant();
        let mut codes = std::collections::BTreeSet::new();
        for e in &all {
            assert!(codes.insert(e.code()), "duplicate code {}", e.code());
            assert!(!e.to_string().is_empty());
        }
        assert_eq!(all[7].field(), Some("passport.series"));
        assert_eq!(all[7].to_string(), "passport.series is empty");
        assert_eq!(all[19].field(), Some("center_id"));
        assert_eq!(all[20].code(), "cannot_register");
    }
}
