//! One-time codes: the SMS code, the e-mail link token and the post letter's code, as one
//! fixed-size `Copy` state machine whose rules come from a [`CodePolicy`].
//!
//! A code is an integer (six decimal digits for SMS, eight for a letter, 64 random bits for a
//! link); typed codes are compared in constant time. The registry keeps one per registration or
//! letter; the simulator keeps one per live citizen.

use super::config::CodePolicy;
use esia_mocks::clock::SimTime;
use rand::{CryptoRng, RngExt};
use subtle::ConstantTimeEq;

/// The answer to a typed code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeCheck {
    /// The code is right and still valid. Typing it again is accepted again (a retried request
    /// gets the same answer) until it expires.
    Accepted,
    /// The code is wrong; after `attempts_left` more wrong entries it is locked.
    Wrong { attempts_left: u8 },
    /// The code was right once but is past its lifetime: ask for a new one.
    Expired,
    /// Too many wrong entries: ask for a new one.
    Locked,
}

/// Why a code is not sent again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResendRefused {
    /// The cooldown since the last issue has not passed.
    TooSoon { retry_after_ms: u64 },
    /// The code has been sent again as many times as the policy allows.
    TooMany,
}

/// One code in force, with its lifetime, attempts and resends. 40 bytes, `Copy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OneTimeCode {
    value: u64,
    issued_at: SimTime,
    expires_at: SimTime,
    resend_after: SimTime,
    attempts_left: u8,
    resends: u8,
}

impl OneTimeCode {
    /// A code with `value` issued at `now` under `policy`.
    pub fn issue(now: SimTime, value: u64, policy: &CodePolicy) -> Self {
        Self {
            value,
            issued_at: now,
            expires_at: now.saturating_add(policy.ttl_ms),
            resend_after: now.saturating_add(policy.resend_cooldown_ms),
            attempts_left: policy.attempts,
            resends: 0,
        }
    }

    /// Checks a typed code at `now`. A wrong code uses up an attempt; nothing else changes state.
    /// A locked code stays locked and an expired one stays expired whatever is typed.
    pub fn check(&mut self, now: SimTime, typed: u64) -> CodeCheck {
        if self.attempts_left == 0 {
            return CodeCheck::Locked;
        }
        if now > self.expires_at {
            return CodeCheck::Expired;
        }
        if bool::from(self.value.ct_eq(&typed)) {
            CodeCheck::Accepted
        } else {
            self.attempts_left -= 1;
            CodeCheck::Wrong {
                attempts_left: self.attempts_left,
            }
        }
    }

    /// Whether a resend is allowed at `now`, without changing anything.
    pub fn can_resend(&self, now: SimTime, policy: &CodePolicy) -> Result<(), ResendRefused> {
        if self.resends >= policy.resends_max {
            return Err(ResendRefused::TooMany);
        }
        if now < self.resend_after {
            return Err(ResendRefused::TooSoon {
                retry_after_ms: self.resend_after.ms_since(now),
            });
        }
        Ok(())
    }

    /// Replaces the code by `new_value` issued at `now`: a fresh lifetime, the attempts reset,
    /// one resend more. Returns the new expiry.
    pub fn resend(
        &mut self,
        now: SimTime,
        new_value: u64,
        policy: &CodePolicy,
    ) -> Result<SimTime, ResendRefused> {
        self.can_resend(now, policy)?;
        let resends = self.resends + 1;
        *self = Self::issue(now, new_value, policy);
        self.resends = resends;
        Ok(self.expires_at)
    }

    /// The code's value (what is sent to the citizen).
    pub fn value(&self) -> u64 {
        self.value
    }
    /// When the code was issued (or last re-sent).
    pub fn issued_at(&self) -> SimTime {
        self.issued_at
    }
    /// The last moment the code is accepted.
    pub fn expires_at(&self) -> SimTime {
        self.expires_at
    }
    /// The first moment a resend is allowed.
    pub fn resend_after(&self) -> SimTime {
        self.resend_after
    }
    /// Wrong entries left before the lock.
    pub fn attempts_left(&self) -> u8 {
        self.attempts_left
    }
    /// Resends used.
    pub fn resends(&self) -> u8 {
        self.resends
    }
}

/// Draws a code value for `policy` from a CSPRNG: uniform over the `digits`-digit numbers
/// (leading zeros allowed), or 64 random non-zero bits for a link token.
pub fn draw(rng: &mut impl CryptoRng, policy: &CodePolicy) -> u64 {
    match policy.digits {
        0 => loop {
            let v = rng.next_u64();
            if v != 0 {
                return v;
            }
        },
        d => rng.random_range(0..10u64.pow(u32::from(d.min(19)))),
    }
}

/// The written form of a code: `digits` decimal digits, or 16 hex digits for a link token.
pub fn render(value: u64, policy: &CodePolicy) -> String {
    Written::new(value, policy).to_string()
}

/// A code as the citizen reads it, typed (`Copy`): its value and its policy's digits. Its
/// `Display` is [`render`]'s form; an effect carries it so that nobody reads it back from a
/// message's text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Written {
    value: u64,
    digits: u8,
}

impl Written {
    /// `value` written by `policy`.
    pub fn new(value: u64, policy: &CodePolicy) -> Self {
        Self {
            value,
            digits: policy.digits,
        }
    }

    /// The code's value.
    pub fn value(self) -> u64 {
        self.value
    }
}

impl std::fmt::Display for Written {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = esia_mocks::ident::Digits::new();
        match self.digits {
            0 => d.hex(u128::from(self.value), 16),
            n => d.num(self.value, usize::from(n)),
        };
        f.write_str(d.as_str())
    }
}

/// Reads a typed code in the form `render` writes (spaces around it ignored); `None` when it
/// cannot be a code of this policy at all (that costs no attempt).
pub fn parse(typed: &str, policy: &CodePolicy) -> Option<u64> {
    let t = typed.trim().as_bytes();
    match policy.digits {
        0 => {
            if t.len() != 16 || !t.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            Some(t.iter().fold(0u64, |n, &b| (n << 4) | hex_value(b)))
        }
        d => {
            if t.len() != usize::from(d) || !t.iter().all(u8::is_ascii_digit) {
                return None;
            }
            Some(t.iter().fold(0u64, |n, &b| n * 10 + u64::from(b - b'0')))
        }
    }
}

fn hex_value(b: u8) -> u64 {
    u64::from(match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        _ => b - b'A' + 10,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::config::RegistryConfig;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn sms() -> CodePolicy {
        RegistryConfig::default().sms_code
    }
    fn t(ms: u64) -> SimTime {
        SimTime::from_millis(ms)
    }

    #[test]
    fn accepted_until_300_s_refused_at_300_001() {
        let p = sms();
        let mut c = OneTimeCode::issue(t(1_000), 123_456, &p);
        assert_eq!(c.check(t(1_000 + 300_000), 123_456), CodeCheck::Accepted);
        assert_eq!(c.check(t(1_000 + 300_001), 123_456), CodeCheck::Expired);
        assert_eq!(c.expires_at(), t(301_000));
    }

    #[test]
    fn three_wrong_then_locked_and_a_resend_unlocks() {
        let p = sms();
        let mut c = OneTimeCode::issue(t(0), 111_111, &p);
        assert_eq!(c.check(t(1), 1), CodeCheck::Wrong { attempts_left: 2 });
        assert_eq!(c.check(t(2), 2), CodeCheck::Wrong { attempts_left: 1 });
        assert_eq!(c.check(t(3), 3), CodeCheck::Wrong { attempts_left: 0 });
        assert_eq!(c.check(t(4), 111_111), CodeCheck::Locked);
        assert_eq!(c.resend(t(60_000), 222_222, &p), Ok(t(360_000)));
        assert_eq!(c.attempts_left(), 3);
        assert_eq!(
            c.check(t(60_001), 111_111),
            CodeCheck::Wrong { attempts_left: 2 }
        );
        assert_eq!(c.check(t(60_002), 222_222), CodeCheck::Accepted);
        // Accepted again on a retry.
        assert_eq!(c.check(t(60_003), 222_222), CodeCheck::Accepted);
    }

    #[test]
    fn resend_cooldown_and_limit() {
        let p = sms();
        let mut c = OneTimeCode::issue(t(0), 1, &p);
        assert_eq!(
            c.resend(t(59_000), 2, &p),
            Err(ResendRefused::TooSoon {
                retry_after_ms: 1_000
            })
        );
        let mut now = 0;
        for i in 0..5 {
            now += 60_000;
            assert!(c.resend(t(now), 10 + i, &p).is_ok(), "resend {i}");
        }
        assert_eq!(c.resends(), 5);
        assert_eq!(
            c.resend(t(now + 60_000), 99, &p),
            Err(ResendRefused::TooMany)
        );
        assert_eq!(c.value(), 14);
    }

    #[test]
    fn draw_render_parse_round_trip() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let p = sms();
        for _ in 0..1000 {
            let v = draw(&mut rng, &p);
            assert!(v < 1_000_000);
            let s = render(v, &p);
            assert_eq!(s.len(), 6);
            assert_eq!(parse(&s, &p), Some(v));
        }
        assert_eq!(render(42, &p), "000042");
        let link = RegistryConfig::default().email_link;
        let v = draw(&mut rng, &link);
        let s = render(v, &link);
        assert_eq!(s.len(), 16);
        assert_eq!(parse(&s, &link), Some(v));
        assert_eq!(parse(&s.to_uppercase(), &link), Some(v));
        for bad in ["", "12345", "1234567", "12a456", "-12345", "١٢٣٤٥٦"] {
            assert_eq!(parse(bad, &p), None, "{bad}");
        }
        assert_eq!(parse(" 000042 ", &p), Some(42));
    }

    #[test]
    fn code_state_is_compact() {
        assert!(std::mem::size_of::<OneTimeCode>() <= 40);
    }
}
