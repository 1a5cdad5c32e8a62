//! The journeys a load run drives: each [`LoadPath`] is a scripted route through the engine's
//! API (one goose scenario), a list of named [`Step`]s (goose transactions `01 register`,
//! `02 confirm code`, ...) with the [`Action`] each performs, the citizens it can take and the
//! tier it ends at. A path is one arm of [`LoadPath::plan`]; a new kind of step is one variant
//! of [`Action`] and one function in `steps`.

use crate::registry::Tier;
use esia_mocks::population::Citizen;
use serde::{Deserialize, Serialize};

/// A journey through the funnel, happy or failing as its script says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadPath {
    /// Registers by phone, confirms the SMS code, sets a password: simplified.
    SimplifiedPhone,
    /// Registers by e-mail, follows the link in the letter, sets a password: simplified.
    SimplifiedEmail,
    /// Simplified by phone, then personal data verified by PFR and FMS: standard.
    Standard,
    /// Standard, then confirmed at a service center.
    ServiceCenter,
    /// Standard, then confirmed with the code of a Russian Post letter.
    Post,
    /// Standard, then confirmed with a qualified e-signature.
    ESignature,
    /// A Sber client confirmed through the bank.
    BankSber,
    /// A Tinkoff client confirmed through the bank.
    BankTinkoff,
    /// A Pochta Bank client confirmed through the bank.
    BankPochta,
    /// Registered, confirmed from the start, by an MFC operator.
    Mfc,
    /// A wrong code first (422), then the right one: simplified.
    WrongCode,
    /// The code typed after it expired (410), a new one asked for and typed: simplified.
    ExpiredCode,
    /// A weak password refused (422), then a strong one: simplified.
    WeakPassword,
    /// A second account submits the first one's documents: 409 `documents_bound`.
    DocumentsBound,
    /// Personal data PFR disagrees with: verification fails with `pfr_mismatch`.
    PfrMismatch,
    /// A post letter lost on the way, re-ordered, and its code entered: confirmed.
    LostLetter,
}

/// What one step does. Every request checks its answer; an answer a failure path expects
/// (a 409, a 410, a 422) is the step's success.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// `POST /api/v1/registrations` with the phone (SMS) or the e-mail (link): 201.
    Register(Channel),
    /// Reads the newest SMS code from the SMS mock and types it: 200.
    ConfirmCode,
    /// Types a code that is not the one sent: 422 `code_wrong` with attempts left.
    WrongCode,
    /// Waits until the code has expired, then types it: 410 `code_expired`.
    ExpiredCode,
    /// Asks for a new code once the cooldown allows: 200.
    Resend,
    /// Reads the link from the mail mock and follows it: 200.
    FollowLink,
    /// Offers a weak password: 422 `weak_password`.
    WeakPassword,
    /// Sets a strong password: 201, tier simplified.
    SetPassword,
    /// `POST /api/v1/sessions` with the registration's contact: 200 and a token.
    LogIn,
    /// `GET /api/v1/accounts/{oid}`: 200 with the tier reached so far.
    ReadAccount,
    /// `PUT .../personal-data` with the citizen's record: 202.
    PersonalData,
    /// The same with the gender changed (PFR compares it, FMS does not): 202.
    PersonalDataMismatched,
    /// The documents of the journey's first account from its second: 409 `documents_bound`.
    PersonalDataBound,
    /// Reads the account until PFR and FMS have answered: passed and standard.
    VerificationPassed,
    /// Reads the account until the verification fails with `pfr_mismatch`.
    VerificationFailed,
    /// A visit to the service center `mfc-1` (the centers mock asks the engine's operator
    /// API): 200, confirmed.
    VisitCenter,
    /// `POST .../confirmations` `{method: "post"}`: 202 with the letter's tracking number.
    OrderLetter,
    /// Loses the letter in the post (the mock's targeted fault) and is told so at the post
    /// office: 404 `letter_lost`.
    LoseLetter,
    /// Orders a new letter once the engine's cooldown allows: 202, `reorder`.
    ReorderLetter,
    /// Waits for the letter at the post office and picks it up with the passport.
    PickUpLetter,
    /// `POST .../confirmations/code` with the letter's code: 200, confirmed.
    EnterLetterCode,
    /// `POST .../confirmations` `{method: "e_signature"}` with the citizen's certificate: 200,
    /// confirmed.
    Sign,
    /// The bank sends its client to the engine's partner API (through the banks mock): 200
    /// confirmed, or 202 and its status read until confirmed.
    Bank(esia_mocks::agency::Bank),
    /// An MFC operator registers a confirmed account (the centers mock, `register`): 201 with a
    /// one-time password.
    MfcRegister,
}

/// How a registration's contact is confirmed: by an SMS code or an e-mail link.
pub use esia_mocks::population::Channel;

/// A named step of a path: a goose transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    /// The transaction's stable name, `NN verb`.
    pub name: &'static str,
    pub action: Action,
}

const fn step(name: &'static str, action: Action) -> Step {
    Step { name, action }
}

use Action::*;

/// The opening of every phone journey: registered, confirmed, password, logged in.
const SIMPLIFIED_PHONE: [Step; 5] = [
    step("01 register", Register(Channel::Sms)),
    step("02 confirm code", ConfirmCode),
    step("03 set password", SetPassword),
    step("04 log in", LogIn),
    step("05 read account", ReadAccount),
];

const SIMPLIFIED_EMAIL: [Step; 5] = [
    step("01 register", Register(Channel::Email)),
    step("02 follow link", FollowLink),
    step("03 set password", SetPassword),
    step("04 log in", LogIn),
    step("05 read account", ReadAccount),
];

const STANDARD: [Step; 6] = [
    step("01 register", Register(Channel::Sms)),
    step("02 confirm code", ConfirmCode),
    step("03 set password", SetPassword),
    step("04 log in", LogIn),
    step("05 personal data", PersonalData),
    step("06 verification", VerificationPassed),
];

const WRONG_CODE: [Step; 6] = [
    step("01 register", Register(Channel::Sms)),
    step("02 wrong code", WrongCode),
    step("03 confirm code", ConfirmCode),
    step("04 set password", SetPassword),
    step("05 log in", LogIn),
    step("06 read account", ReadAccount),
];

const EXPIRED_CODE: [Step; 7] = [
    step("01 register", Register(Channel::Sms)),
    step("02 expired code", ExpiredCode),
    step("03 resend code", Resend),
    step("04 confirm code", ConfirmCode),
    step("05 set password", SetPassword),
    step("06 log in", LogIn),
    step("07 read account", ReadAccount),
];

const WEAK_PASSWORD: [Step; 6] = [
    step("01 register", Register(Channel::Sms)),
    step("02 confirm code", ConfirmCode),
    step("03 weak password", WeakPassword),
    step("04 set password", SetPassword),
    step("05 log in", LogIn),
    step("06 read account", ReadAccount),
];

const DOCUMENTS_BOUND: [Step; 10] = [
    step("01 register", Register(Channel::Sms)),
    step("02 confirm code", ConfirmCode),
    step("03 set password", SetPassword),
    step("04 log in", LogIn),
    step("05 personal data", PersonalData),
    step("06 register again", Register(Channel::Email)),
    step("07 follow link", FollowLink),
    step("08 set password", SetPassword),
    step("09 log in", LogIn),
    step("10 documents bound", PersonalDataBound),
];

const PFR_MISMATCH: [Step; 6] = [
    step("01 register", Register(Channel::Sms)),
    step("02 confirm code", ConfirmCode),
    step("03 set password", SetPassword),
    step("04 log in", LogIn),
    step("05 personal data", PersonalDataMismatched),
    step("06 verification", VerificationFailed),
];

const SERVICE_CENTER: [Step; 8] = [
    step("01 register", Register(Channel::Sms)),
    step("02 confirm code", ConfirmCode),
    step("03 set password", SetPassword),
    step("04 log in", LogIn),
    step("05 personal data", PersonalData),
    step("06 verification", VerificationPassed),
    step("07 visit center", VisitCenter),
    step("08 read account", ReadAccount),
];

const POST: [Step; 9] = [
    step("01 register", Register(Channel::Sms)),
    step("02 confirm code", ConfirmCode),
    step("03 set password", SetPassword),
    step("04 log in", LogIn),
    step("05 personal data", PersonalData),
    step("06 verification", VerificationPassed),
    step("07 order letter", OrderLetter),
    step("08 pick up letter", PickUpLetter),
    step("09 enter letter code", EnterLetterCode),
];

const LOST_LETTER: [Step; 11] = [
    step("01 register", Register(Channel::Sms)),
    step("02 confirm code", ConfirmCode),
    step("03 set password", SetPassword),
    step("04 log in", LogIn),
    step("05 personal data", PersonalData),
    step("06 verification", VerificationPassed),
    step("07 order letter", OrderLetter),
    step("08 letter lost", LoseLetter),
    step("09 order again", ReorderLetter),
    step("10 pick up letter", PickUpLetter),
    step("11 enter letter code", EnterLetterCode),
];

const E_SIGNATURE: [Step; 8] = [
    step("01 register", Register(Channel::Sms)),
    step("02 confirm code", ConfirmCode),
    step("03 set password", SetPassword),
    step("04 log in", LogIn),
    step("05 personal data", PersonalData),
    step("06 verification", VerificationPassed),
    step("07 sign", Sign),
    step("08 read account", ReadAccount),
];

/// Simplified by phone, then confirmed through `bank` (which sends the personal data).
const fn bank(bank: esia_mocks::agency::Bank) -> [Step; 6] {
    [
        step("01 register", Register(Channel::Sms)),
        step("02 confirm code", ConfirmCode),
        step("03 set password", SetPassword),
        step("04 log in", LogIn),
        step("05 bank confirms", Bank(bank)),
        step("06 read account", ReadAccount),
    ]
}

const BANK_SBER: [Step; 6] = bank(esia_mocks::agency::Bank::Sber);
const BANK_TINKOFF: [Step; 6] = bank(esia_mocks::agency::Bank::Tinkoff);
const BANK_POCHTA: [Step; 6] = bank(esia_mocks::agency::Bank::Pochta);

const MFC: [Step; 3] = [
    step("01 register at MFC", MfcRegister),
    step("02 log in", LogIn),
    step("03 read account", ReadAccount),
];

impl LoadPath {
    pub const ALL: [LoadPath; 16] = [
        LoadPath::SimplifiedPhone,
        LoadPath::SimplifiedEmail,
        LoadPath::Standard,
        LoadPath::ServiceCenter,
        LoadPath::Post,
        LoadPath::ESignature,
        LoadPath::BankSber,
        LoadPath::BankTinkoff,
        LoadPath::BankPochta,
        LoadPath::Mfc,
        LoadPath::WrongCode,
        LoadPath::ExpiredCode,
        LoadPath::WeakPassword,
        LoadPath::DocumentsBound,
        LoadPath::PfrMismatch,
        LoadPath::LostLetter,
    ];

    /// The name in scenario files and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            LoadPath::SimplifiedPhone => "simplified_phone",
            LoadPath::SimplifiedEmail => "simplified_email",
            LoadPath::Standard => "standard",
            LoadPath::ServiceCenter => "service_center",
            LoadPath::Post => "post",
            LoadPath::ESignature => "e_signature",
            LoadPath::BankSber => "bank_sber",
            LoadPath::BankTinkoff => "bank_tinkoff",
            LoadPath::BankPochta => "bank_pochta",
            LoadPath::Mfc => "mfc",
            LoadPath::WrongCode => "wrong_code",
            LoadPath::ExpiredCode => "expired_code",
            LoadPath::WeakPassword => "weak_password",
            LoadPath::DocumentsBound => "documents_bound",
            LoadPath::PfrMismatch => "pfr_mismatch",
            LoadPath::LostLetter => "lost_letter",
        }
    }

    /// The path's steps, or `None` for a path the stand offers no endpoints for (none today;
    /// a run leaves such a path out with a note).
    pub fn plan(self) -> Option<&'static [Step]> {
        Some(match self {
            LoadPath::SimplifiedPhone => &SIMPLIFIED_PHONE,
            LoadPath::SimplifiedEmail => &SIMPLIFIED_EMAIL,
            LoadPath::Standard => &STANDARD,
            LoadPath::ServiceCenter => &SERVICE_CENTER,
            LoadPath::Post => &POST,
            LoadPath::ESignature => &E_SIGNATURE,
            LoadPath::BankSber => &BANK_SBER,
            LoadPath::BankTinkoff => &BANK_TINKOFF,
            LoadPath::BankPochta => &BANK_POCHTA,
            LoadPath::Mfc => &MFC,
            LoadPath::WrongCode => &WRONG_CODE,
            LoadPath::ExpiredCode => &EXPIRED_CODE,
            LoadPath::WeakPassword => &WEAK_PASSWORD,
            LoadPath::DocumentsBound => &DOCUMENTS_BOUND,
            LoadPath::PfrMismatch => &PFR_MISMATCH,
            LoadPath::LostLetter => &LOST_LETTER,
        })
    }

    /// The tier the journey holds at its last step when it goes as scripted.
    pub fn goal(self) -> Tier {
        match self {
            LoadPath::SimplifiedPhone
            | LoadPath::SimplifiedEmail
            | LoadPath::WrongCode
            | LoadPath::ExpiredCode
            | LoadPath::WeakPassword
            | LoadPath::DocumentsBound
            | LoadPath::PfrMismatch => Tier::Simplified,
            LoadPath::Standard => Tier::Standard,
            LoadPath::ServiceCenter
            | LoadPath::Post
            | LoadPath::ESignature
            | LoadPath::BankSber
            | LoadPath::BankTinkoff
            | LoadPath::BankPochta
            | LoadPath::Mfc
            | LoadPath::LostLetter => Tier::Confirmed,
        }
    }

    /// Whether `c` can walk this path as scripted: the contact it registers with, documents
    /// PFR and FMS accept where the path expects them to, the bank or signature it uses.
    pub fn fits(self, c: &Citizen) -> bool {
        let phone = c.phone.is_some();
        let sound = !c.traits.passport_expired && !c.traits.snils_unknown_to_pfr;
        match self {
            LoadPath::SimplifiedPhone
            | LoadPath::WrongCode
            | LoadPath::ExpiredCode
            | LoadPath::WeakPassword => phone,
            LoadPath::SimplifiedEmail => c.email.is_some(),
            LoadPath::Standard
            | LoadPath::ServiceCenter
            | LoadPath::Post
            | LoadPath::LostLetter
            | LoadPath::Mfc
            | LoadPath::PfrMismatch => phone && sound,
            LoadPath::DocumentsBound => phone && c.email.is_some() && sound,
            LoadPath::ESignature => {
                phone
                    && sound
                    && c.signature.as_ref().is_some_and(|s| {
                        // Valid on the stand's calendar, which starts at the epoch.
                        let epoch = esia_mocks::population::PopulationConfig::default().epoch;
                        !s.revoked
                            && s.kind == esia_mocks::agency::CertKind::Ukep
                            && s.valid_from <= epoch
                            && s.valid_to > epoch + chrono::Days::new(31)
                    })
            }
            LoadPath::BankSber => phone && sound && c.bank == Some(esia_mocks::agency::Bank::Sber),
            LoadPath::BankTinkoff => {
                phone && sound && c.bank == Some(esia_mocks::agency::Bank::Tinkoff)
            }
            LoadPath::BankPochta => {
                phone && sound && c.bank == Some(esia_mocks::agency::Bank::Pochta)
            }
        }
    }
}

impl std::fmt::Display for LoadPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_names_are_numbered_in_order_and_unique() {
        for path in LoadPath::ALL {
            let Some(plan) = path.plan() else { continue };
            for (i, s) in plan.iter().enumerate() {
                assert!(
                    s.name.starts_with(&format!("{:02} ", i + 1)),
                    "{path}: {}",
                    s.name
                );
            }
            assert!(
                matches!(plan[0].action, Action::Register(_) | Action::MfcRegister),
                "{path}"
            );
        }
    }

    #[test]
    fn every_path_finds_citizens_in_a_small_population() {
        use esia_mocks::population::{Population, PopulationConfig};
        let p = Population::new(3, PopulationConfig::default()).unwrap();
        let cs: Vec<_> = p.citizens(0..2_000).collect();
        for path in LoadPath::ALL {
            assert!(cs.iter().any(|c| path.fits(c)), "{path}");
        }
    }
}
