//! The registry's figures: code lifetimes, attempt and resend limits, session lifetime, and a
//! cap on every store. Defaults are written once, in `impl Default`, each documented beside it.

use esia_mocks::clock::{Epoch, MS_PER_DAY, MS_PER_HOUR, MS_PER_SEC};
use serde::{Deserialize, Serialize};

/// The rules of one kind of one-time code: how long it lives, how many wrong tries it takes,
/// how often and how many times it may be sent again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodePolicy {
    /// Decimal digits of the code; 0 for a link token (64 random bits written in hex).
    pub digits: u8,
    /// How long a code is accepted after it is issued; a code typed at exactly `ttl_ms` after
    /// issue is still accepted, one millisecond later it is expired.
    pub ttl_ms: u64,
    /// Wrong entries before the code is locked (a resend issues a fresh code and resets them).
    pub attempts: u8,
    /// Time after an issue before the next resend is allowed.
    pub resend_cooldown_ms: u64,
    /// How many times a code may be sent again after the first.
    pub resends_max: u8,
}

/// The caps on the registry's stores; a full store refuses with `StoreFull` (HTTP 503).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreCaps {
    /// Registrations in progress (step 1, before a password is set).
    pub registrations: usize,
    /// Accounts.
    pub accounts: usize,
    /// Open sessions.
    pub sessions: usize,
    /// Agency requests in flight, with the tombstones of recent replies.
    pub requests: usize,
    /// Partner (bank) confirmations waiting for PFR and FMS.
    pub partner_confirmations: usize,
}

impl Default for StoreCaps {
    fn default() -> Self {
        Self {
            // A day of the real portal's sign-ups (about 50,000) many times over.
            registrations: 2_000_000,
            // Sized for a stand or a load run, not the whole country (the simulator keeps its
            // own compact per-citizen state).
            accounts: 5_000_000,
            sessions: 2_000_000,
            requests: 4_000_000,
            partner_confirmations: 1_000_000,
        }
    }
}

/// Every figure the registry works with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryConfig {
    /// The calendar date of sim time 0: turns `now` into "today" for birth and issue dates.
    pub epoch: Epoch,
    /// The SMS registration code.
    pub sms_code: CodePolicy,
    /// The e-mail registration link.
    pub email_link: CodePolicy,
    /// The code in a post letter.
    pub letter_code: CodePolicy,
    /// How long after its code or link expires a registration is kept (to set the password
    /// after confirming, or to get a clear "expired" answer) before `expire` drops it.
    pub registration_grace_ms: u64,
    /// A session's lifetime from login.
    pub session_ttl_ms: u64,
    /// A verification (PFR and FMS) still unanswered after this long fails with `Timeout`.
    pub verification_timeout_ms: u64,
    /// How long a reply's tombstone is kept, so that a retried reply is reported as a replay.
    pub reply_tombstone_ttl_ms: u64,
    /// The caps on the stores.
    pub caps: StoreCaps,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        Self {
            epoch: Epoch::default(),
            sms_code: CodePolicy {
                // Six digits, valid 5 minutes (DOMAIN.md step 1, seed 004).
                digits: 6,
                ttl_ms: 300 * MS_PER_SEC,
                // Three wrong entries, then a new code must be requested.
                attempts: 3,
                // A new code once a minute, at most five times.
                resend_cooldown_ms: 60 * MS_PER_SEC,
                resends_max: 5,
            },
            email_link: CodePolicy {
                digits: 0,
                // The link must be followed within 3 days (DOMAIN.md step 1, seed 003).
                ttl_ms: 3 * MS_PER_DAY,
                attempts: 3,
                resend_cooldown_ms: 60 * MS_PER_SEC,
                resends_max: 5,
            },
            letter_code: CodePolicy {
                // Our choice: the seeds give no length for today's letter code.
                digits: 8,
                // Letters take up to 30 days (seed 004); the code outlives the slowest one.
                ttl_ms: 60 * MS_PER_DAY,
                attempts: 5,
                // A lost letter can be re-ordered (seed 001), once a day, up to four times.
                resend_cooldown_ms: MS_PER_DAY,
                resends_max: 4,
            },
            registration_grace_ms: MS_PER_HOUR,
            // Our choice: an hour of activity per login.
            session_ttl_ms: MS_PER_HOUR,
            // "up to 10 calendar days, rarely longer" (seed 004): give a margin past it.
            verification_timeout_ms: 14 * MS_PER_DAY,
            reply_tombstone_ttl_ms: MS_PER_DAY,
            caps: StoreCaps::default(),
        }
    }
}

impl RegistryConfig {
    /// A config whose every store holds at most `cap` entries (for tests of `StoreFull`).
    pub fn with_caps(cap: usize) -> Self {
        Self {
            caps: StoreCaps {
                registrations: cap,
                accounts: cap,
                sessions: cap,
                requests: cap,
                partner_confirmations: cap,
            },
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use esia_mocks::clock::MS_PER_MIN;

    #[test]
    fn defaults_follow_domain_figures() {
        let c = RegistryConfig::default();
        assert_eq!(c.sms_code.ttl_ms, 300_000);
        assert_eq!(c.sms_code.digits, 6);
        assert_eq!(c.sms_code.attempts, 3);
        assert_eq!(c.sms_code.resend_cooldown_ms, 60_000);
        assert_eq!(c.sms_code.resends_max, 5);
        assert_eq!(c.email_link.ttl_ms, 3 * 24 * 3_600_000);
        assert!(c.letter_code.ttl_ms > 30 * MS_PER_DAY);
        assert!(c.session_ttl_ms >= 10 * MS_PER_MIN);
    }
}
