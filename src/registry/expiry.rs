//! Expiry by deadline, as quinn-proto's `poll_timeout` and mini-redis's
//! `BTreeSet<(Instant, key)>`: every registration, session, agency request and partner request
//! is indexed by the first instant at which it is dropped, and every pending verification by
//! the instant it times out. Housekeeping takes what is due from the front of each index, in
//! batches, instead of scanning the stores under the lock.
//!
//! The indexes are exact: one entry for each live item (each pending verification) and none
//! for anything else; the registry moves an entry whenever the deadline it indexes changes, and
//! `Registry::check_invariants` checks both directions.

use super::config::RegistryConfig;
use super::effect::Effect;
use super::ids::{ConfirmationId, Oid, RegistrationId, RequestId, SessionToken};
use super::registry::*;
use super::verification::FailureReason;
use super::verification::{Verification, VerificationStatus};
use esia_mocks::clock::SimTime;
use std::collections::BTreeSet;

/// Whose a verification (and so its timeout) is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Owner {
    Account(Oid),
    Partner(ConfirmationId),
}

impl Owner {
    /// The least owner, to start a range of the index at an instant.
    const LEAST: Owner = Owner::Account(Oid(0));
}

/// Keys of one kind ordered by their deadline.
#[derive(Clone, Debug)]
pub(crate) struct DeadlineIndex<K>(BTreeSet<(SimTime, K)>);

impl<K> Default for DeadlineIndex<K> {
    fn default() -> Self {
        Self(BTreeSet::new())
    }
}

impl<K: Ord + Copy> DeadlineIndex<K> {
    /// Indexes `key` at `at`.
    pub(crate) fn insert(&mut self, at: SimTime, key: K) {
        self.0.insert((at, key));
    }

    /// Forgets `key`'s entry at `at`.
    pub(crate) fn remove(&mut self, at: SimTime, key: K) {
        self.0.remove(&(at, key));
    }

    /// Moves `key` from deadline `from` to deadline `to` (`None`: not indexed).
    pub(crate) fn shift(&mut self, key: K, from: Option<SimTime>, to: Option<SimTime>) {
        if from != to {
            if let Some(t) = from {
                self.remove(t, key);
            }
            if let Some(t) = to {
                self.insert(t, key);
            }
        }
    }

    /// Takes the first entry due at `now` (its deadline at or before `now`) off the index.
    pub(crate) fn pop_due(&mut self, now: SimTime) -> Option<(SimTime, K)> {
        match self.0.first() {
            Some(&(t, _)) if t <= now => self.0.pop_first(),
            _ => None,
        }
    }

    /// True when `key` is indexed at `at`.
    pub(crate) fn contains(&self, at: SimTime, key: K) -> bool {
        self.0.contains(&(at, key))
    }

    /// Entries held.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// The earliest deadline.
    pub(crate) fn first(&self) -> Option<SimTime> {
        self.0.first().map(|(t, _)| *t)
    }
}

impl DeadlineIndex<Owner> {
    /// The first deadline at or after `from`.
    pub(crate) fn first_from(&self, from: SimTime) -> Option<SimTime> {
        self.0.range((from, Owner::LEAST)..).next().map(|(t, _)| *t)
    }
}

/// The indexes of every store with a deadline.
#[derive(Clone, Debug, Default)]
pub(crate) struct Deadlines {
    pub(crate) registrations: DeadlineIndex<RegistrationId>,
    pub(crate) sessions: DeadlineIndex<SessionToken>,
    pub(crate) requests: DeadlineIndex<RequestId>,
    pub(crate) partners: DeadlineIndex<ConfirmationId>,
    /// Pending verifications, of accounts and of partners' clients, by their timeout.
    pub(crate) verifications: DeadlineIndex<Owner>,
}

impl Deadlines {
    /// The earliest deadline of any kind: when housekeeping next has something to do.
    pub(crate) fn first(&self) -> Option<SimTime> {
        [
            self.registrations.first(),
            self.sessions.first(),
            self.requests.first(),
            self.partners.first(),
            self.verifications.first(),
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

/// The deadlines as the registry's figures set them: each is the first instant at which the
/// item is dropped (or the verification fails), one millisecond past its last valid instant.
impl RegistryConfig {
    /// A registration is dropped once its code or link has been expired for the grace.
    pub(crate) fn registration_due(&self, code_expires_at: SimTime) -> SimTime {
        code_expires_at
            .saturating_add(self.registration_grace_ms)
            .saturating_add(1)
    }

    /// A session is dropped once past its expiry.
    pub(crate) fn session_due(&self, expires_at: SimTime) -> SimTime {
        expires_at.saturating_add(1)
    }

    /// An agency request is dropped once its answer's tombstone is old, or, never answered,
    /// once the verification timeout and the tombstone's life have both passed.
    pub(crate) fn request_due(
        &self,
        issued_at: SimTime,
        answered_until: Option<SimTime>,
    ) -> SimTime {
        match answered_until {
            Some(until) => until.saturating_add(1),
            None => issued_at
                .saturating_add(self.verification_timeout_ms)
                .saturating_add(self.reply_tombstone_ttl_ms)
                .saturating_add(1),
        }
    }

    /// A partner's request is dropped a tombstone's life after it was decided, or, undecided,
    /// as an unanswered request is.
    pub(crate) fn partner_due(&self, created_at: SimTime, decided_at: Option<SimTime>) -> SimTime {
        match decided_at {
            Some(at) => at
                .saturating_add(self.reply_tombstone_ttl_ms)
                .saturating_add(1),
            None => self.request_due(created_at, None),
        }
    }

    /// When a verification times out, while it is pending.
    pub(crate) fn verification_due(&self, v: &Verification) -> Option<SimTime> {
        (v.status() == VerificationStatus::Pending).then(|| {
            v.submitted_at()
                .saturating_add(self.verification_timeout_ms)
                .saturating_add(1)
        })
    }
}

impl Registry {
    /// The first instant at or after `from` at which [`Registry::expire`] has a verification to
    /// time out (the world's advance steps the clock to it, so a timeout happens at its own
    /// time). Drops need no stop: a request past its drop is unknown to a reply whether it is
    /// dropped yet or not (`take_request`). O(log n): read from the deadline index.
    pub fn next_deadline(&self, from: SimTime) -> Option<SimTime> {
        self.due.verifications.first_from(from)
    }

    /// The earliest instant at which [`Registry::expire`] has anything to do (drop or time
    /// out), as quinn-proto's `poll_timeout`.
    pub fn next_expiry(&self) -> Option<SimTime> {
        self.due.first()
    }

    /// Drops what has expired at `now`: registrations past their code's life and the grace,
    /// closed sessions, old reply tombstones and decided partner requests; fails verifications
    /// unanswered for longer than the timeout (notifying the citizen, earliest deadline first,
    /// then in oid order). Everything due, in one call: the stand calls
    /// [`Registry::expire_some`] instead, to hold its lock for a bounded time.
    pub fn expire(&mut self, now: SimTime, effects: &mut Vec<Effect>) -> Expired {
        self.expire_some(now, usize::MAX, effects)
    }

    /// As [`Registry::expire`], but handles at most `limit` items: each taken from the front of
    /// a deadline index, so the cost is O(limit log n) whatever the stores hold. Verifications
    /// time out first (a partner's request so decided gets its tombstone's deadline), then each
    /// store drops its expired items. `more` says whether items due at `now` remain.
    pub fn expire_some(
        &mut self,
        now: SimTime,
        limit: usize,
        effects: &mut Vec<Effect>,
    ) -> Expired {
        let mut out = Expired::default();
        let mut left = limit;
        let timeout = self.config.verification_timeout_ms;
        while left > 0 {
            let Some((_, owner)) = self.due.verifications.pop_due(now) else {
                break;
            };
            left -= 1;
            match owner {
                Owner::Account(oid) => {
                    let timed_out = self
                        .update_account(oid, |a| a.state.time_out(now, timeout))
                        .unwrap_or(false);
                    if timed_out {
                        out.verifications_timed_out += 1;
                        self.verification_failed(now, oid, FailureReason::Timeout, effects);
                    }
                }
                Owner::Partner(cid) => {
                    self.update_partner(cid, |p| {
                        if p.verification.time_out(now, timeout) {
                            p.status = PartnerStatus::Refused(PartnerRefusal::Verification(
                                FailureReason::Timeout,
                            ));
                            p.decided_at = Some(now);
                        }
                    });
                }
            }
        }
        while left > 0 {
            let Some((_, id)) = self.due.registrations.pop_due(now) else {
                break;
            };
            left -= 1;
            out.registrations += usize::from(self.registrations.remove(id).is_some());
        }
        while left > 0 {
            let Some((_, token)) = self.due.sessions.pop_due(now) else {
                break;
            };
            left -= 1;
            out.sessions += usize::from(self.sessions.remove(&token).is_some());
        }
        while left > 0 {
            let Some((_, id)) = self.due.requests.pop_due(now) else {
                break;
            };
            left -= 1;
            out.requests += usize::from(self.requests.remove(&id).is_some());
        }
        while left > 0 {
            let Some((_, cid)) = self.due.partners.pop_due(now) else {
                break;
            };
            left -= 1;
            out.partner_confirmations += usize::from(self.partners.remove(&cid).is_some());
        }
        out.more = self.due.first().is_some_and(|t| t <= now);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_entries_leave_from_the_front_and_shifts_move_one_entry() {
        let mut ix = DeadlineIndex::default();
        let t = SimTime::from_millis;
        ix.insert(t(30), 3u64);
        ix.insert(t(10), 1);
        ix.insert(t(20), 2);
        ix.shift(2, Some(t(20)), Some(t(40)));
        ix.shift(1, Some(t(10)), Some(t(10)));
        assert_eq!(ix.len(), 3);
        assert!(ix.contains(t(40), 2) && !ix.contains(t(20), 2));
        assert_eq!(ix.pop_due(t(9)), None);
        assert_eq!(ix.pop_due(t(30)), Some((t(10), 1)));
        assert_eq!(ix.pop_due(t(30)), Some((t(30), 3)));
        assert_eq!(ix.pop_due(t(30)), None);
        ix.shift(2, Some(t(40)), None);
        assert_eq!((ix.len(), ix.first()), (0, None));
    }

    #[test]
    fn the_first_verification_deadline_from_an_instant() {
        let mut ix = DeadlineIndex::default();
        let t = SimTime::from_millis;
        ix.insert(t(5), Owner::Partner(ConfirmationId(9)));
        ix.insert(t(5), Owner::Account(Oid(7)));
        ix.insert(t(8), Owner::Account(Oid(1)));
        assert_eq!(ix.first_from(t(0)), Some(t(5)));
        assert_eq!(ix.first_from(t(5)), Some(t(5)));
        assert_eq!(ix.first_from(t(6)), Some(t(8)));
        assert_eq!(ix.first_from(t(9)), None);
    }
}
