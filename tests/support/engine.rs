//! What the tests of the sans-IO engine share (`tests/journeys.rs`, `tests/registry_props.rs`):
//! reading the effects the registry asked for as the world would, the registration code of the
//! last SMS to a phone, the token of the last link mailed to an address, the code of the last
//! letter ordered for an account.

use esia_mocks::ident::Phone;
use esia_sim::registry::{Effect, Oid, Topic};

/// The six-digit code of the last registration SMS sent to `phone`.
pub fn sms_code(effects: &[Effect], phone: Phone) -> Option<String> {
    effects.iter().rev().find_map(|e| match e {
        Effect::SendSms {
            to,
            topic: Topic::RegistrationCode { code, .. },
            ..
        } if *to == phone => Some(code.to_string()),
        _ => None,
    })
}

/// The token of the last registration link mailed to `to`.
pub fn mail_token(effects: &[Effect], to: &str) -> Option<String> {
    effects.iter().rev().find_map(|e| match e {
        Effect::SendMail {
            to: t,
            topic: Topic::RegistrationLink { token, .. },
            ..
        } if t == to => Some(token.to_string()),
        _ => None,
    })
}

/// The code of the last letter ordered for account `oid`.
pub fn letter_code(effects: &[Effect], oid: Oid) -> Option<String> {
    effects.iter().rev().find_map(|e| match e {
        Effect::OrderLetter { oid: o, code, .. } if *o == oid => Some(code.clone()),
        _ => None,
    })
}
