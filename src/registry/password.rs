//! Passwords: DOMAIN.md's rules as a pure function, and argon2 hashing under named cost profiles.
//!
//! The rules that forbid personal facts (phone, birth date, surname) use what the registry knows
//! when the password is set: at registration the phone (or nothing) and the surname given, since
//! no birth date is known before the personal data; at a change (`PUT /accounts/{oid}/password`)
//! the phone, and the birth date and surname of the personal data once submitted.
//!
//! Hashing and verifying happen outside the registry (and outside any lock around it): the
//! caller checks the rules, hashes with [`HashProfile::hash`], hands the PHC string to
//! `Registry::set_password`, and after `Registry::login_lookup` verifies with [`verify`].

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{Datelike, NaiveDate};
use esia_mocks::ident::Phone;
use rand::CryptoRng;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The shortest password accepted (DOMAIN.md, step 1).
pub const PASSWORD_MIN_CHARS: usize = 8;
/// The longest password accepted: bounds the work a hash does on one request.
pub const PASSWORD_MAX_CHARS: usize = 128;
/// Runs of this many sequential or repeated characters make a password trivial.
const TRIVIAL_RUN: usize = 4;

/// Why a password is refused; each rule of DOMAIN.md is its own variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("differs from password_repeat")]
    RepeatMismatch,
    #[error("must have at least {PASSWORD_MIN_CHARS} characters")]
    TooShort,
    #[error("must have at most {PASSWORD_MAX_CHARS} characters")]
    TooLong,
    #[error("may contain only Latin letters, digits and the signs on a keyboard, no spaces")]
    ForbiddenCharacter,
    #[error("must contain an upper-case Latin letter")]
    NoUppercase,
    #[error("must contain a lower-case Latin letter")]
    NoLowercase,
    #[error("must contain a digit")]
    NoDigit,
    #[error("is a trivial sequence (like 1234, abcd, qwerty or aaaa)")]
    TrivialSequence,
    #[error("must not contain the phone number")]
    ContainsPhone,
    #[error("must not contain the birth date")]
    ContainsBirthDate,
    #[error("must not contain the surname")]
    ContainsSurname,
}

impl PasswordError {
    /// A stable machine-readable name (the HTTP error's `code` is `weak_password`; this is its
    /// detail).
    pub fn rule(self) -> &'static str {
        match self {
            PasswordError::RepeatMismatch => "repeat_mismatch",
            PasswordError::TooShort => "too_short",
            PasswordError::TooLong => "too_long",
            PasswordError::ForbiddenCharacter => "forbidden_character",
            PasswordError::NoUppercase => "no_uppercase",
            PasswordError::NoLowercase => "no_lowercase",
            PasswordError::NoDigit => "no_digit",
            PasswordError::TrivialSequence => "trivial_sequence",
            PasswordError::ContainsPhone => "contains_phone",
            PasswordError::ContainsBirthDate => "contains_birth_date",
            PasswordError::ContainsSurname => "contains_surname",
        }
    }
}

/// What the registry knows about the person, for the rules that forbid personal facts.
#[derive(Clone, Copy, Debug, Default)]
pub struct PasswordContext<'a> {
    pub phone: Option<Phone>,
    pub birth_date: Option<NaiveDate>,
    pub surname: Option<&'a str>,
}

/// Keyboard rows and common words: four characters of any of them in a row make a password
/// trivial (`qwer`, `asdf`, `йцук` typed in the Latin layout...).
const TRIVIAL_SOURCES: [&str; 6] = [
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "password",
    "gosuslugi",
    "letmein",
];

/// Checks a password against DOMAIN.md's rules; the first rule broken is reported.
pub fn check(password: &str, repeat: &str, ctx: &PasswordContext<'_>) -> Result<(), PasswordError> {
    if password != repeat {
        return Err(PasswordError::RepeatMismatch);
    }
    let chars = password.chars().count();
    if chars < PASSWORD_MIN_CHARS {
        return Err(PasswordError::TooShort);
    }
    if chars > PASSWORD_MAX_CHARS {
        return Err(PasswordError::TooLong);
    }
    if !password.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(PasswordError::ForbiddenCharacter);
    }
    let b = password.as_bytes();
    if !b.iter().any(u8::is_ascii_uppercase) {
        return Err(PasswordError::NoUppercase);
    }
    if !b.iter().any(u8::is_ascii_lowercase) {
        return Err(PasswordError::NoLowercase);
    }
    if !b.iter().any(u8::is_ascii_digit) {
        return Err(PasswordError::NoDigit);
    }
    let lower = password.to_ascii_lowercase();
    if is_trivial(&lower) {
        return Err(PasswordError::TrivialSequence);
    }
    if let Some(phone) = ctx.phone {
        // The ten digits after +7: typing 8 or 7 before them still contains them.
        let canonical = phone.canonical();
        if lower.contains(&canonical[1..]) {
            return Err(PasswordError::ContainsPhone);
        }
    }
    if let Some(d) = ctx.birth_date {
        let (y, m, day) = (d.year(), d.month(), d.day());
        let forms = [
            format!("{day:02}{m:02}{y:04}"),
            format!("{y:04}{m:02}{day:02}"),
            format!("{day:02}{m:02}{:02}", y.rem_euclid(100)),
            format!("{day:02}.{m:02}.{y:04}"),
            format!("{y:04}-{m:02}-{day:02}"),
        ];
        if forms.iter().any(|f| lower.contains(f.as_str())) {
            return Err(PasswordError::ContainsBirthDate);
        }
    }
    if let Some(surname) = ctx.surname {
        let s = surname.trim().to_lowercase();
        if s.chars().count() >= 3 {
            let found = lower.contains(&s)
                || TRANSLIT
                    .iter()
                    .any(|table| lower.contains(&transliterate(&s, table)));
            if found {
                return Err(PasswordError::ContainsSurname);
            }
        }
    }
    Ok(())
}

/// True when `lower` holds a run of [`TRIVIAL_RUN`] repeated, ascending or descending
/// characters, or that many characters of a keyboard row or common word.
fn is_trivial(lower: &str) -> bool {
    let b = lower.as_bytes();
    for w in b.windows(TRIVIAL_RUN) {
        let steps = w.windows(2).map(|p| p[1] as i16 - p[0] as i16);
        let first = w[1] as i16 - w[0] as i16;
        if matches!(first, -1..=1) && steps.clone().all(|s| s == first) {
            return true;
        }
        let w = std::str::from_utf8(w).unwrap_or("");
        if TRIVIAL_SOURCES.iter().any(|src| src.contains(w)) {
            return true;
        }
    }
    false
}

/// Two common transliterations of Cyrillic (the passport's and the everyday one), so that a
/// surname typed in Latin letters is caught too.
const TRANSLIT: [&[(char, &str)]; 2] = [&TRANSLIT_PASSPORT, &TRANSLIT_COMMON];

const TRANSLIT_PASSPORT: [(char, &str); 33] = [
    ('а', "a"),
    ('б', "b"),
    ('в', "v"),
    ('г', "g"),
    ('д', "d"),
    ('е', "e"),
    ('ё', "e"),
    ('ж', "zh"),
    ('з', "z"),
    ('и', "i"),
    ('й', "i"),
    ('к', "k"),
    ('л', "l"),
    ('м', "m"),
    ('н', "n"),
    ('о', "o"),
    ('п', "p"),
    ('р', "r"),
    ('с', "s"),
    ('т', "t"),
    ('у', "u"),
    ('ф', "f"),
    ('х', "kh"),
    ('ц', "ts"),
    ('ч', "ch"),
    ('ш', "sh"),
    ('щ', "shch"),
    ('ъ', "ie"),
    ('ы', "y"),
    ('ь', ""),
    ('э', "e"),
    ('ю', "iu"),
    ('я', "ia"),
];

const TRANSLIT_COMMON: [(char, &str); 33] = [
    ('а', "a"),
    ('б', "b"),
    ('в', "v"),
    ('г', "g"),
    ('д', "d"),
    ('е', "e"),
    ('ё', "yo"),
    ('ж', "zh"),
    ('з', "z"),
    ('и', "i"),
    ('й', "y"),
    ('к', "k"),
    ('л', "l"),
    ('м', "m"),
    ('н', "n"),
    ('о', "o"),
    ('п', "p"),
    ('р', "r"),
    ('с', "s"),
    ('т', "t"),
    ('у', "u"),
    ('ф', "f"),
    ('х', "h"),
    ('ц', "c"),
    ('ч', "ch"),
    ('ш', "sh"),
    ('щ', "sch"),
    ('ъ', ""),
    ('ы', "y"),
    ('ь', ""),
    ('э', "e"),
    ('ю', "yu"),
    ('я', "ya"),
];

fn transliterate(lower: &str, table: &[(char, &str)]) -> String {
    let mut out = String::with_capacity(lower.len());
    for c in lower.chars() {
        match table.iter().find(|(k, _)| *k == c) {
            Some((_, v)) => out.push_str(v),
            None => out.push(c),
        }
    }
    out
}

/// A one-time password for an account made at an MFC or by a bank: 12 characters that pass
/// [`check`] for anyone (upper, lower, digit; letters that cannot be confused are used).
pub fn one_time_password(rng: &mut impl CryptoRng) -> String {
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const LOWER: &[u8] = b"abcdefghijkmnpqrstuvwxyz";
    const DIGIT: &[u8] = b"23456789";
    loop {
        let mut out = String::with_capacity(12);
        for i in 0..12 {
            let set = match i % 3 {
                0 => UPPER,
                1 => LOWER,
                _ => DIGIT,
            };
            out.push(set[(rng.next_u32() as usize) % set.len()] as char);
        }
        if check(&out, &out, &PasswordContext::default()).is_ok() {
            return out;
        }
    }
}

/// How much work a password hash costs. The registry never hashes; the caller picks a profile.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HashProfile {
    /// argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane): what a real portal pays.
    #[default]
    Realistic,
    /// argon2id with 256 KiB and 1 pass: real hashing, cheap enough for load runs on 2 cores.
    Load,
    /// No hashing at all, for the simulator: a marker is stored, never the password, and
    /// [`verify`] accepts any password against it. Never for a stand reachable by others.
    None,
}

impl HashProfile {
    /// Every profile's name, as in scenario files and flags.
    pub const NAMES: [&'static str; 3] = ["realistic", "load", "none"];

    /// The profile's name.
    pub fn name(self) -> &'static str {
        match self {
            HashProfile::Realistic => "realistic",
            HashProfile::Load => "load",
            HashProfile::None => "none",
        }
    }

    fn params(self) -> Option<Params> {
        let (m_kib, t, p) = match self {
            HashProfile::Realistic => (19 * 1024, 2, 1),
            HashProfile::Load => (256, 1, 1),
            HashProfile::None => return None,
        };
        Some(Params::new(m_kib, t, p, None).expect("argon2 parameters of a built-in profile"))
    }

    /// Hashes `password` with a 16-byte salt from `rng`.
    pub fn hash(self, password: &str, rng: &mut impl CryptoRng) -> PasswordHash {
        let Some(params) = self.params() else {
            return PasswordHash(NO_HASH.into());
        };
        let mut salt = [0u8; 16];
        rng.fill_bytes(&mut salt);
        let hash = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_with_salt(password.as_bytes(), &salt)
            .expect("argon2 accepts a 16-byte salt and the built-in parameters");
        PasswordHash(hash.to_string().into())
    }
}

impl FromStr for HashProfile {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "realistic" => Ok(HashProfile::Realistic),
            "load" => Ok(HashProfile::Load),
            "none" => Ok(HashProfile::None),
            other => Err(format!(
                "unknown hash profile {other:?}; expected one of {}",
                Self::NAMES.join(", ")
            )),
        }
    }
}

impl fmt::Display for HashProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The marker stored under the `none` profile.
const NO_HASH: &str = "$none$";

/// A stored password: an argon2 PHC string, or the `none` profile's marker.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(Box<str>);

impl PasswordHash {
    /// The marker of the `none` profile.
    pub fn unhashed() -> Self {
        PasswordHash(NO_HASH.into())
    }

    /// The PHC string (or the marker).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True for the `none` profile's marker.
    pub fn is_unhashed(&self) -> bool {
        &*self.0 == NO_HASH
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The salt and hash are not secrets in the usual sense, but they have no place in logs.
        let alg = self.0.split('$').nth(1).unwrap_or("");
        write!(f, "PasswordHash(${alg}$…)")
    }
}

/// Checks `password` against a stored hash, in constant time in the password (argon2's own
/// comparison). The `none` marker accepts anything.
pub fn verify(password: &str, stored: &PasswordHash) -> bool {
    if stored.is_unhashed() {
        return true;
    }
    Argon2::default()
        .verify_password(password.as_bytes(), stored.as_str())
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn ok(p: &str) -> Result<(), PasswordError> {
        check(p, p, &PasswordContext::default())
    }

    #[test]
    fn each_rule_has_its_own_error() {
        assert_eq!(ok("Vx7kPz9m"), Ok(()));
        assert_eq!(ok("Vx7k!z9m#"), Ok(()));
        assert_eq!(
            check("Vx7kPz9m", "Vx7kPz9n", &PasswordContext::default()),
            Err(PasswordError::RepeatMismatch)
        );
        assert_eq!(ok("Vx7kPz9"), Err(PasswordError::TooShort));
        assert_eq!(ok(&"Vx7kPz9m".repeat(17)), Err(PasswordError::TooLong));
        assert_eq!(ok("Vx7k Pz9m"), Err(PasswordError::ForbiddenCharacter));
        assert_eq!(ok("Пароль7kPz9m"), Err(PasswordError::ForbiddenCharacter));
        assert_eq!(ok("vx7kpz9m"), Err(PasswordError::NoUppercase));
        assert_eq!(ok("VX7KPZ9M"), Err(PasswordError::NoLowercase));
        assert_eq!(ok("VxykPzqm"), Err(PasswordError::NoDigit));
    }

    #[test]
    fn trivial_sequences_are_refused() {
        for p in [
            "Aa123456",
            "Qwerty12",
            "Abcdz7Xq",
            "Xy9aaaaT",
            "Zyxw5Lmq",
            "Password1",
            "Asdf77Kl",
            "Gosuslugi1",
        ] {
            assert_eq!(ok(p), Err(PasswordError::TrivialSequence), "{p}");
        }
        // Three in a row is not a run.
        assert_eq!(ok("Abc7Xq9m"), Ok(()));
    }

    #[test]
    fn personal_facts_are_refused() {
        let phone = Phone::parse("+7 916 382-95-71").unwrap();
        let birth = NaiveDate::from_ymd_opt(1987, 3, 9).unwrap();
        let ctx = PasswordContext {
            phone: Some(phone),
            birth_date: Some(birth),
            surname: Some("Щукина"),
        };
        let c = |p: &str| check(p, p, &ctx);
        assert_eq!(c("X9163829571a"), Err(PasswordError::ContainsPhone));
        assert_eq!(c("Xy09031987"), Err(PasswordError::ContainsBirthDate));
        assert_eq!(c("Xy19870309"), Err(PasswordError::ContainsBirthDate));
        assert_eq!(c("Xy090387q"), Err(PasswordError::ContainsBirthDate));
        assert_eq!(c("Xy09.03.1987"), Err(PasswordError::ContainsBirthDate));
        assert_eq!(c("Xy1987-03-09"), Err(PasswordError::ContainsBirthDate));
        assert_eq!(c("Shchukina7X"), Err(PasswordError::ContainsSurname));
        assert_eq!(c("Schukina7X"), Err(PasswordError::ContainsSurname));
        assert_eq!(c("Vx7kPz9m"), Ok(()));
    }

    #[test]
    fn one_time_passwords_pass_the_rules() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        for _ in 0..200 {
            let p = one_time_password(&mut rng);
            assert_eq!(ok(&p), Ok(()), "{p}");
        }
    }

    #[test]
    fn load_profile_hashes_and_verifies() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let h = HashProfile::Load.hash("Vx7kPz9m", &mut rng);
        assert!(
            h.as_str().starts_with("$argon2id$v=19$m=256,t=1,p=1$"),
            "{}",
            h.as_str()
        );
        assert!(verify("Vx7kPz9m", &h));
        assert!(!verify("Vx7kPz9M", &h));
        assert!(!format!("{h:?}").contains("Vx7k"));
        let none = HashProfile::None.hash("Vx7kPz9m", &mut rng);
        assert!(none.is_unhashed());
        assert!(!none.as_str().contains("Vx7k"));
        assert_eq!("load".parse::<HashProfile>(), Ok(HashProfile::Load));
        assert!("fast".parse::<HashProfile>().is_err());
    }
}
