//! Password guessing, refused: the login lockout and the throttle of failed logins per client
//! address, between `POST /api/v1/sessions` and the password check.
//!
//! - After [`LockoutConfig::failures_max`] wrong passwords in a row for one account, the
//!   account's logins are locked for [`LockoutConfig::lock_first_ms`]; each further lockout of
//!   the same account doubles the time, up to [`LockoutConfig::lock_max_ms`]. While locked,
//!   every login is answered 429 `login_locked` with `Retry-After`, the right password
//!   included, and no password is checked (so a guess costs the stand no hash). A right
//!   password after the lockout ends forgets the account's failures and lockouts.
//! - Guesses sent at once cannot overshoot: an attempt reserves its place before the password
//!   is checked, and one that could make the failures pass the limit waits for the others
//!   (429 `login_locked`, retry after a second).
//! - From one client address, at most [`LockoutConfig::address_failures_max`] failed logins
//!   (wrong password or unknown login) per [`LockoutConfig::address_window_ms`]; past it, 429
//!   `login_throttled` until the window ends. Spraying one password over many logins is slowed
//!   so.
//!
//! Time is the world's (the stand's clock), so `POST /mocks/admin/clock/advance` ends a
//! lockout. The accounts and addresses tracked are bounded; the stale ones are forgotten first.

use super::error::StandError;
use crate::registry::{Oid, RegistryError};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use esia_mocks::clock::SimTime;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;

/// The figures of the lockout. Defaults: 5 wrong passwords lock an account for 1 minute, each
/// further lockout doubles it up to 1 day; an account's failures are forgotten a day after its
/// last one; 100 failed logins per client address per minute; 100,000 accounts and addresses
/// tracked each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockoutConfig {
    /// Wrong passwords in a row that lock an account.
    pub failures_max: u32,
    /// The first lockout, in ms of the world's time.
    pub lock_first_ms: u64,
    /// The longest lockout.
    pub lock_max_ms: u64,
    /// An account's failures and lockouts are forgotten this long after its last failure (or
    /// the end of its lockout).
    pub forget_after_ms: u64,
    /// Failed logins from one client address per window.
    pub address_failures_max: u32,
    /// The window of [`LockoutConfig::address_failures_max`].
    pub address_window_ms: u64,
    /// Accounts, and client addresses, tracked at most.
    pub tracked_max: usize,
}

impl Default for LockoutConfig {
    fn default() -> Self {
        Self {
            failures_max: 5,
            lock_first_ms: 60_000,
            lock_max_ms: 86_400_000,
            forget_after_ms: 86_400_000,
            address_failures_max: 100,
            address_window_ms: 60_000,
            tracked_max: 100_000,
        }
    }
}

/// The client's address (from the connection), when the server knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Peer(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Peer(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// One account's record of failures.
#[derive(Clone, Copy, Debug, Default)]
struct Account {
    /// Wrong passwords since the last lockout (or success).
    failures: u32,
    /// Lockouts so far: the next lasts `lock_first_ms × 2^lockouts`.
    lockouts: u32,
    locked_until: Option<SimTime>,
    /// Attempts whose password is being checked.
    in_flight: u32,
    /// The last failure, or the end of the last lockout.
    last: SimTime,
}

/// One address's failed logins in its current window.
#[derive(Clone, Copy, Debug)]
struct Address {
    window_start: SimTime,
    failures: u32,
}

#[derive(Debug, Default)]
struct State {
    accounts: HashMap<Oid, Account>,
    addresses: HashMap<IpAddr, Address>,
}

/// The lockout's state inside the stand.
#[derive(Debug)]
pub struct Lockout {
    config: LockoutConfig,
    state: Mutex<State>,
}

/// A login from one client address, past the address's throttle.
#[must_use]
pub struct Gate<'a> {
    lockout: &'a Lockout,
    peer: Peer,
    now: SimTime,
}

/// A login attempt on one account whose password is being checked; it must end with
/// [`Attempt::failed`] or [`Attempt::succeeded`] (dropped otherwise: not counted).
#[must_use]
pub struct Attempt<'a> {
    gate: Gate<'a>,
    oid: Oid,
}

impl Lockout {
    /// A lockout with `config`'s figures.
    pub fn new(config: LockoutConfig) -> Self {
        Self {
            config,
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Lets a login from `peer` at `now` through, unless the address has failed too often in
    /// its window (429 `login_throttled`).
    pub fn gate(&self, peer: Peer, now: SimTime) -> Result<Gate<'_>, StandError> {
        if let Some(ip) = peer.0 {
            let st = self.state();
            if let Some(a) = st.addresses.get(&ip) {
                let ends = a.window_start.saturating_add(self.config.address_window_ms);
                if now < ends && a.failures >= self.config.address_failures_max {
                    return Err(StandError::LoginThrottled {
                        retry_after_ms: ends.ms_since(now).max(1),
                    });
                }
            }
        }
        Ok(Gate {
            lockout: self,
            peer,
            now,
        })
    }

    /// The time of the lockout after `lockouts` earlier ones.
    fn lock_ms(&self, lockouts: u32) -> u64 {
        self.config
            .lock_first_ms
            .saturating_mul(1u64 << lockouts.min(40))
            .min(self.config.lock_max_ms)
    }

    fn failed_from(&self, st: &mut State, peer: Peer, now: SimTime) {
        let Some(ip) = peer.0 else { return };
        let window = self.config.address_window_ms;
        if !st.addresses.contains_key(&ip) && st.addresses.len() >= self.config.tracked_max {
            st.addresses
                .retain(|_, a| now < a.window_start.saturating_add(window));
            if st.addresses.len() >= self.config.tracked_max {
                // Every tracked address is in its window: forget the oldest window.
                if let Some(oldest) = st
                    .addresses
                    .iter()
                    .min_by_key(|(_, a)| a.window_start)
                    .map(|(ip, _)| *ip)
                {
                    st.addresses.remove(&oldest);
                }
            }
        }
        let a = st.addresses.entry(ip).or_insert(Address {
            window_start: now,
            failures: 0,
        });
        if now >= a.window_start.saturating_add(window) {
            *a = Address {
                window_start: now,
                failures: 0,
            };
        }
        a.failures = a.failures.saturating_add(1);
    }

    /// Makes room for one more account, forgetting stale ones first.
    fn room_for_account(&self, st: &mut State, now: SimTime) {
        if st.accounts.len() < self.config.tracked_max {
            return;
        }
        let forget = self.config.forget_after_ms;
        st.accounts.retain(|_, a| {
            a.in_flight > 0
                || a.locked_until.is_some_and(|t| now < t)
                || now.ms_since(a.last) < forget
        });
        if st.accounts.len() >= self.config.tracked_max {
            if let Some(oldest) = st
                .accounts
                .iter()
                .filter(|(_, a)| a.in_flight == 0)
                .min_by_key(|(_, a)| a.last)
                .map(|(oid, _)| *oid)
            {
                st.accounts.remove(&oldest);
            }
        }
    }
}

impl<'a> Gate<'a> {
    /// The registry's answer to the login's lookup; a login that names no account counts as a
    /// failure of the address.
    pub fn lookup<T>(&self, found: Result<T, RegistryError>) -> Result<T, StandError> {
        if let Err(RegistryError::Unauthorized) = &found {
            let mut st = self.lockout.state();
            self.lockout.failed_from(&mut st, self.peer, self.now);
        }
        Ok(found?)
    }

    /// Starts an attempt on `oid`'s password: 429 `login_locked` while the account is locked,
    /// or while attempts already being checked could use up its remaining failures.
    pub fn begin(self, oid: Oid) -> Result<Attempt<'a>, StandError> {
        let lockout = self.lockout;
        let config = &lockout.config;
        let now = self.now;
        let mut st = lockout.state();
        if !st.accounts.contains_key(&oid) {
            lockout.room_for_account(&mut st, now);
        }
        let a = st.accounts.entry(oid).or_insert(Account {
            last: now,
            ..Account::default()
        });
        if let Some(until) = a.locked_until {
            if now < until {
                return Err(StandError::LoginLocked {
                    retry_after_ms: until.ms_since(now).max(1),
                });
            }
            a.locked_until = None;
            a.failures = 0;
        }
        if now.ms_since(a.last) >= config.forget_after_ms {
            *a = Account {
                last: now,
                in_flight: a.in_flight,
                ..Account::default()
            };
        }
        if a.failures.saturating_add(a.in_flight) >= config.failures_max.max(1) {
            return Err(StandError::LoginLocked {
                retry_after_ms: 1_000,
            });
        }
        a.in_flight += 1;
        drop(st);
        Ok(Attempt { gate: self, oid })
    }
}

impl Attempt<'_> {
    /// The password was wrong: counted for the account (locking it at the limit) and the
    /// address. The error to answer with.
    pub fn failed(self, now: SimTime) -> StandError {
        let lockout = self.gate.lockout;
        let config = &lockout.config;
        let mut st = lockout.state();
        if let Some(a) = st.accounts.get_mut(&self.oid) {
            a.failures = a.failures.saturating_add(1);
            a.last = now;
            if a.failures >= config.failures_max.max(1) {
                let lock_ms = lockout.lock_ms(a.lockouts);
                let until = now.saturating_add(lock_ms);
                a.locked_until = Some(until);
                a.lockouts = a.lockouts.saturating_add(1);
                a.failures = 0;
                a.last = until;
                tracing::info!(oid = %self.oid, lock_ms, lockouts = a.lockouts, "login locked after wrong passwords");
            }
        }
        lockout.failed_from(&mut st, self.gate.peer, now);
        RegistryError::Unauthorized.into()
    }

    /// The password was right: the account's failures and lockouts are forgotten.
    pub fn succeeded(self) {
        let mut st = self.gate.lockout.state();
        if let Some(a) = st.accounts.get_mut(&self.oid) {
            *a = Account {
                in_flight: a.in_flight,
                last: a.last,
                ..Account::default()
            };
        }
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        let mut st = self.gate.lockout.state();
        if let Some(a) = st.accounts.get_mut(&self.oid) {
            a.in_flight = a.in_flight.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> LockoutConfig {
        LockoutConfig {
            failures_max: 3,
            lock_first_ms: 1_000,
            lock_max_ms: 5_000,
            address_failures_max: 10,
            address_window_ms: 60_000,
            ..LockoutConfig::default()
        }
    }

    fn at(ms: u64) -> SimTime {
        SimTime::from_millis(ms)
    }

    const NOBODY: Peer = Peer(None);

    fn wrong(l: &Lockout, oid: Oid, ms: u64) -> Result<(), StandError> {
        let attempt = l.gate(NOBODY, at(ms))?.begin(oid)?;
        Err(attempt.failed(at(ms)))
    }

    fn locked_for(e: StandError) -> u64 {
        match e {
            StandError::LoginLocked { retry_after_ms } => retry_after_ms,
            other => panic!("not locked: {other}"),
        }
    }

    #[test]
    fn lockouts_grow_and_a_success_forgets_them() {
        let l = Lockout::new(config());
        let oid = Oid(7);
        for _ in 0..3 {
            assert!(matches!(
                wrong(&l, oid, 0),
                Err(StandError::Registry(RegistryError::Unauthorized))
            ));
        }
        assert_eq!(locked_for(wrong(&l, oid, 0).unwrap_err()), 1_000);
        assert_eq!(locked_for(wrong(&l, oid, 400).unwrap_err()), 600);
        // Ended: three more, and the next lockout is twice as long, then four times, capped.
        for (start, lock) in [(1_000, 2_000), (10_000, 4_000), (20_000, 5_000)] {
            for _ in 0..3 {
                let _ = wrong(&l, oid, start);
            }
            assert_eq!(locked_for(wrong(&l, oid, start).unwrap_err()), lock);
        }
        // After it, a right password opens, and the count starts again from the first lock.
        l.gate(NOBODY, at(30_000))
            .unwrap()
            .begin(oid)
            .unwrap()
            .succeeded();
        for _ in 0..3 {
            let _ = wrong(&l, oid, 30_000);
        }
        assert_eq!(locked_for(wrong(&l, oid, 30_000).unwrap_err()), 1_000);
    }

    #[test]
    fn attempts_in_flight_cannot_overshoot() {
        let l = Lockout::new(config());
        let oid = Oid(1);
        let a = l.gate(NOBODY, at(0)).unwrap().begin(oid).unwrap();
        let b = l.gate(NOBODY, at(0)).unwrap().begin(oid).unwrap();
        let c = l.gate(NOBODY, at(0)).unwrap().begin(oid).unwrap();
        assert!(l.gate(NOBODY, at(0)).unwrap().begin(oid).is_err());
        let _ = (a.failed(at(0)), b.failed(at(0)));
        drop(c);
        // One failure left: one attempt at a time.
        let d = l.gate(NOBODY, at(0)).unwrap().begin(oid).unwrap();
        assert!(l.gate(NOBODY, at(0)).unwrap().begin(oid).is_err());
        let _ = d.failed(at(0));
        assert_eq!(locked_for(wrong(&l, oid, 0).unwrap_err()), 1_000);
    }

    #[test]
    fn an_address_is_throttled_across_logins_until_its_window_ends() {
        let l = Lockout::new(config());
        let peer = Peer(Some(IpAddr::from([192, 0, 2, 1])));
        let other = Peer(Some(IpAddr::from([192, 0, 2, 2])));
        for i in 0..10u64 {
            let gate = l.gate(peer, at(i)).unwrap();
            if i % 2 == 0 {
                let _ = gate.lookup::<()>(Err(RegistryError::Unauthorized));
            } else {
                let _ = gate.begin(Oid(100 + i)).unwrap().failed(at(i));
            }
        }
        match l.gate(peer, at(10)) {
            Err(StandError::LoginThrottled { retry_after_ms }) => {
                assert_eq!(retry_after_ms, 59_990)
            }
            _ => panic!("the address is throttled"),
        }
        assert!(l.gate(other, at(10)).is_ok(), "another address is not");
        assert!(l.gate(peer, at(60_000)).is_ok(), "the window ended");
    }

    #[test]
    fn the_tracked_accounts_are_bounded() {
        let l = Lockout::new(LockoutConfig {
            tracked_max: 10,
            ..config()
        });
        for i in 0..1_000u64 {
            let _ = wrong(&l, Oid(i), i);
        }
        assert!(l.state().accounts.len() <= 10);
    }
}
