//! Counts kept as accounts change: accounts by tier and verifications pending, so `/metrics`
//! reads three numbers under the registry's lock instead of walking every account.
//! [`Registry`](super::Registry) moves an account's mark from its old to its new state after
//! every change ([`Census::moved`]); `check_invariants` recounts and compares.

use super::account::{AccountState, Tier};
use super::verification::VerificationStatus;

/// What the census counts of one account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Mark {
    pub(crate) tier: Tier,
    pub(crate) pending: bool,
}

impl Mark {
    /// The mark of an account in `state`.
    pub(crate) fn of(state: &AccountState) -> Self {
        Self {
            tier: state.tier(),
            pending: state.verification().status() == VerificationStatus::Pending,
        }
    }
}

/// Accounts by tier and verifications pending.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Census {
    /// Accounts by tier, in the order of [`Tier::ALL`].
    pub tiers: [usize; 3],
    /// Accounts whose verification is pending.
    pub verifications_pending: usize,
}

impl Census {
    /// An account counted for the first time.
    pub(crate) fn add(&mut self, m: Mark) {
        self.tiers[m.tier.index()] += 1;
        self.verifications_pending += usize::from(m.pending);
    }

    /// An account that moved from `before` to `after`.
    pub(crate) fn moved(&mut self, before: Mark, after: Mark) {
        if before != after {
            self.tiers[before.tier.index()] -= 1;
            self.verifications_pending -= usize::from(before.pending);
            self.add(after);
        }
    }

    /// Accounts of `tier`.
    pub fn accounts(&self, tier: Tier) -> usize {
        self.tiers[tier.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_move_shifts_one_account_between_counts() {
        let mut c = Census::default();
        let simplified = Mark {
            tier: Tier::Simplified,
            pending: false,
        };
        let pending = Mark {
            pending: true,
            ..simplified
        };
        let standard = Mark {
            tier: Tier::Standard,
            pending: false,
        };
        c.add(simplified);
        c.add(simplified);
        c.moved(simplified, pending);
        assert_eq!((c.tiers, c.verifications_pending), ([2, 0, 0], 1));
        c.moved(pending, standard);
        c.moved(standard, standard);
        assert_eq!((c.tiers, c.verifications_pending), ([1, 1, 0], 0));
        assert_eq!(c.accounts(Tier::Standard), 1);
    }
}
