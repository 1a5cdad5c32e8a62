//! The registry's invariants, checked after every command by the property tests: each
//! account's own, the document indexes, the census, the deadline indexes.

use super::census::{Census, Mark};
use super::expiry::Owner;
use super::registry::*;
use std::collections::HashMap;

impl Registry {
    /// Checks the registry's invariants: each account's own (see [`AccountState`]); that the
    /// document indexes hold exactly the documents of the accounts that bind them, so no two
    /// accounts share a SNILS or a passport; that the census counts what the accounts hold;
    /// and that each deadline index holds exactly the live items (pending verifications) at
    /// their deadlines. For tests; O(every store).
    pub fn check_invariants(&self) -> Result<(), String> {
        self.check_deadlines()?;
        let mut census = Census::default();
        for a in &self.accounts {
            census.add(Mark::of(&a.state));
        }
        if census != self.census {
            return Err(format!(
                "the census says {:?}, the accounts {census:?}",
                self.census
            ));
        }
        let mut snils = HashMap::new();
        let mut passports = HashMap::new();
        for a in &self.accounts {
            a.state
                .check_invariants()
                .map_err(|e| format!("account {}: {e}", a.oid))?;
            if !a.binds_documents() {
                continue;
            }
            let d = a.personal.as_deref().ok_or("binds without data")?;
            if let Some(other) = snils.insert(d.snils, a.oid) {
                return Err(format!("accounts {other} and {} share a SNILS", a.oid));
            }
            if let Some(other) = passports.insert(d.passport.key(), a.oid) {
                return Err(format!("accounts {other} and {} share a passport", a.oid));
            }
            if self.by_snils.get(&d.snils) != Some(&a.oid)
                || self.by_passport.get(&d.passport.key()) != Some(&a.oid)
            {
                return Err(format!(
                    "account {}'s documents are missing from the indexes",
                    a.oid
                ));
            }
        }
        if snils.len() != self.by_snils.len() || passports.len() != self.by_passport.len() {
            return Err("the document indexes hold documents no account binds".into());
        }
        for (p, oid) in &self.by_phone {
            if self.account(*oid).ok().and_then(|a| a.phone) != Some(*p) {
                return Err(format!(
                    "phone index points {p} at {oid}, which has another phone"
                ));
            }
        }
        Ok(())
    }
}

impl Registry {
    /// Every live item and pending verification is in its deadline index at its deadline, and
    /// each index holds nothing else (its length is the store's).
    pub(super) fn check_deadlines(&self) -> Result<(), String> {
        let c = &self.config;
        let (due, mut n) = (&self.due, 0);
        let missing = |what: &str| Err(format!("a {what} is missing from its deadline index"));
        for (id, r) in self.registrations.iter() {
            if !due
                .registrations
                .contains(c.registration_due(r.code.expires_at()), id)
            {
                return missing("registration");
            }
        }
        for (token, s) in &self.sessions {
            if !due.sessions.contains(c.session_due(s.expires_at), *token) {
                return missing("session");
            }
        }
        for (id, r) in &self.requests {
            if !due
                .requests
                .contains(c.request_due(r.issued_at, r.answered_until), *id)
            {
                return missing("request");
            }
        }
        for (cid, p) in &self.partners {
            if !due
                .partners
                .contains(c.partner_due(p.created_at, p.decided_at), *cid)
            {
                return missing("partner request");
            }
            if let Some(t) = c.verification_due(&p.verification) {
                n += 1;
                if !due.verifications.contains(t, Owner::Partner(*cid)) {
                    return missing("partner's pending verification");
                }
            }
        }
        for a in &self.accounts {
            if let Some(t) = c.verification_due(a.state.verification()) {
                n += 1;
                if !due.verifications.contains(t, Owner::Account(a.oid)) {
                    return missing("pending verification");
                }
            }
        }
        let sizes = [
            (
                due.registrations.len(),
                self.registrations.len(),
                "registrations",
            ),
            (due.sessions.len(), self.sessions.len(), "sessions"),
            (due.requests.len(), self.requests.len(), "requests"),
            (due.partners.len(), self.partners.len(), "partner requests"),
            (due.verifications.len(), n, "pending verifications"),
        ];
        for (indexed, held, what) in sizes {
            if indexed != held {
                return Err(format!(
                    "the deadline index of {what} holds {indexed} entries for {held} items"
                ));
            }
        }
        Ok(())
    }
}
