//! Login and sessions: the account a login names (phone, e-mail or SNILS), sessions opened
//! once the caller verified the password, bearer tokens checked.

use super::error::{RegistryError, Store};
use super::ids::{Oid, SessionToken};
use super::registry::*;
use esia_mocks::clock::SimTime;
use esia_mocks::ident::{parse_email, Phone, Snils};
use rand::CryptoRng;

impl Registry {
    pub(super) fn find_login(&self, login: &str) -> Option<Oid> {
        let login = login.trim();
        if login.contains('@') {
            let e = parse_email(login).ok()?;
            return self.by_email.get(e.as_str()).copied();
        }
        if let Ok(p) = Phone::parse(login) {
            if let Some(oid) = self.by_phone.get(&p) {
                return Some(*oid);
            }
        }
        let s = Snils::parse(login).ok()?;
        self.by_snils.get(&s).copied()
    }

    /// First step of a login (`POST /sessions`): finds the account by phone, e-mail or SNILS and
    /// returns its hash. The caller verifies the password outside any lock, then calls
    /// [`Registry::open_session`]. An unknown login is `Unauthorized`, like a wrong password.
    pub fn login_lookup(&self, login: &str) -> Result<LoginCandidate, RegistryError> {
        let oid = self.find_login(login).ok_or(RegistryError::Unauthorized)?;
        let account = self.account(oid)?;
        let hash = account
            .password
            .clone()
            .ok_or(RegistryError::PasswordNotSet)?;
        Ok(LoginCandidate { oid, hash })
    }

    /// Second step of a login: the password was right; opens a session.
    pub fn open_session(
        &mut self,
        now: SimTime,
        rng: &mut impl CryptoRng,
        oid: Oid,
    ) -> Result<Session, RegistryError> {
        self.account(oid)?;
        self.has_room(Store::Sessions, 1)?;
        let token = loop {
            let t = SessionToken::random(rng);
            if !self.sessions.contains_key(&t) {
                break t;
            }
        };
        let session = Session {
            token,
            oid,
            expires_at: now.saturating_add(self.config.session_ttl_ms),
        };
        self.sessions.insert(token, session);
        self.due
            .sessions
            .insert(self.config.session_due(session.expires_at), token);
        Ok(session)
    }

    /// The account a session token belongs to, if the session is open at `now`.
    pub fn authenticate(&self, now: SimTime, token: SessionToken) -> Result<Oid, RegistryError> {
        match self.sessions.get(&token) {
            Some(s) if now <= s.expires_at => Ok(s.oid),
            _ => Err(RegistryError::Unauthorized),
        }
    }

    /// Checks that `token` is an open session of account `oid`.
    pub fn authorize(
        &self,
        now: SimTime,
        token: SessionToken,
        oid: Oid,
    ) -> Result<(), RegistryError> {
        if self.authenticate(now, token)? == oid {
            Ok(())
        } else {
            Err(RegistryError::Unauthorized)
        }
    }

    /// Closes a session (logout). Closing an unknown session is not an error.
    pub fn close_session(&mut self, token: SessionToken) {
        if let Some(s) = self.sessions.remove(&token) {
            self.due
                .sessions
                .remove(self.config.session_due(s.expires_at), token);
        }
    }
}
