//! Verification of personal data by PFR (SNILS) and FMS (passport): a fixed-size `Copy` state
//! machine. Submitting issues two request ids; the replies come back in any order; both passing
//! makes the verification pass, either failing makes it fail with a reason; a failed
//! verification may be submitted again with new request ids, and a reply to a superseded
//! request is recognised as stale.

use super::ids::RequestId;
use esia_mocks::agency::fms::FmsVerdict;
use esia_mocks::agency::pfr::PfrVerdict;
use esia_mocks::clock::SimTime;
use serde::{Deserialize, Serialize};

/// Where a verification stands (`verification.status` in the HTTP contract).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum VerificationStatus {
    NotStarted,
    Pending,
    Passed,
    Failed,
}

/// Why a verification failed.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FailureReason {
    /// PFR holds this SNILS for a different name, birth date or gender.
    PfrMismatch,
    /// PFR has no such SNILS.
    PfrNotFound,
    /// FMS says the passport is invalid (expired, replaced or cancelled).
    FmsInvalid,
    /// FMS holds this passport for someone else.
    FmsMismatch,
    /// FMS has no such passport.
    FmsNotFound,
    /// PFR did not answer (errors or outage after the stand's retries).
    PfrUnavailable,
    /// FMS did not answer.
    FmsUnavailable,
    /// No answer within the registry's verification timeout.
    Timeout,
}

impl FailureReason {
    /// The wire name (`pfr_mismatch`...).
    pub fn as_str(self) -> &'static str {
        match self {
            FailureReason::PfrMismatch => "pfr_mismatch",
            FailureReason::PfrNotFound => "pfr_not_found",
            FailureReason::FmsInvalid => "fms_invalid",
            FailureReason::FmsMismatch => "fms_mismatch",
            FailureReason::FmsNotFound => "fms_not_found",
            FailureReason::PfrUnavailable => "pfr_unavailable",
            FailureReason::FmsUnavailable => "fms_unavailable",
            FailureReason::Timeout => "timeout",
        }
    }

    /// The reason of a PFR verdict, `None` for a match.
    pub fn of_pfr(v: PfrVerdict) -> Option<Self> {
        match v {
            PfrVerdict::Match => None,
            PfrVerdict::Mismatch => Some(FailureReason::PfrMismatch),
            PfrVerdict::NotFound => Some(FailureReason::PfrNotFound),
        }
    }

    /// The reason of an FMS verdict, `None` for a valid passport.
    pub fn of_fms(v: FmsVerdict) -> Option<Self> {
        match v {
            FmsVerdict::Valid => None,
            FmsVerdict::Invalid => Some(FailureReason::FmsInvalid),
            FmsVerdict::Mismatch => Some(FailureReason::FmsMismatch),
            FmsVerdict::NotFound => Some(FailureReason::FmsNotFound),
        }
    }
}

/// The two agencies that verify personal data: the simulator's, the stand's (its lanes and the
/// callback route `/api/v1/callbacks/{agency}`) and the registry's requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Agency {
    Pfr,
    Fms,
}

impl Agency {
    /// The wire name (as serde writes it).
    pub fn name(self) -> &'static str {
        match self {
            Agency::Pfr => "pfr",
            Agency::Fms => "fms",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pfr" => Some(Agency::Pfr),
            "fms" => Some(Agency::Fms),
            _ => None,
        }
    }
}

/// What applying one agency's reply did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyApplied {
    /// Recorded; the other agency has not answered yet.
    Waiting,
    /// Recorded; both agencies agree: the verification passed.
    Passed,
    /// Recorded; the verification failed for this reason.
    Failed(FailureReason),
    /// Recorded, but the verification had already been decided by the other agency's reply.
    Late,
    /// Ignored: the request is not the one in force (a newer submission superseded it).
    Stale,
    /// Ignored: this agency has already answered this request.
    Duplicate,
}

/// Why a submission is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubmitRefused {
    /// The previous submission is still being verified.
    Pending,
    /// The data have been verified already.
    AlreadyPassed,
}

/// One account's (or one partner request's) verification. 64 bytes, `Copy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verification {
    pfr_request: Option<RequestId>,
    fms_request: Option<RequestId>,
    submitted_at: SimTime,
    decided_at: Option<SimTime>,
    status: VerificationStatus,
    pfr: Option<PfrVerdict>,
    fms: Option<FmsVerdict>,
    reason: Option<FailureReason>,
    submissions: u8,
}

impl Default for Verification {
    fn default() -> Self {
        Self::new()
    }
}

impl Verification {
    /// Nothing submitted yet.
    pub const fn new() -> Self {
        Self {
            pfr_request: None,
            fms_request: None,
            submitted_at: SimTime::ZERO,
            decided_at: None,
            status: VerificationStatus::NotStarted,
            pfr: None,
            fms: None,
            reason: None,
            submissions: 0,
        }
    }

    /// Whether a submission would be accepted now.
    pub fn can_submit(&self) -> Result<(), SubmitRefused> {
        match self.status {
            VerificationStatus::Pending => Err(SubmitRefused::Pending),
            VerificationStatus::Passed => Err(SubmitRefused::AlreadyPassed),
            VerificationStatus::NotStarted | VerificationStatus::Failed => Ok(()),
        }
    }

    /// Personal data submitted at `now`; the requests to PFR and FMS carry these ids. Replies to
    /// any earlier request become stale.
    pub fn submit(
        &mut self,
        now: SimTime,
        pfr_request: RequestId,
        fms_request: RequestId,
    ) -> Result<(), SubmitRefused> {
        self.can_submit()?;
        *self = Self {
            pfr_request: Some(pfr_request),
            fms_request: Some(fms_request),
            submitted_at: now,
            decided_at: None,
            status: VerificationStatus::Pending,
            pfr: None,
            fms: None,
            reason: None,
            submissions: self.submissions.saturating_add(1),
        };
        Ok(())
    }

    /// Applies PFR's verdict on request `request`.
    pub fn apply_pfr(
        &mut self,
        now: SimTime,
        request: RequestId,
        verdict: PfrVerdict,
    ) -> ReplyApplied {
        if self.pfr_request != Some(request) {
            return ReplyApplied::Stale;
        }
        if self.pfr.is_some() || self.reason == Some(FailureReason::PfrUnavailable) {
            return ReplyApplied::Duplicate;
        }
        self.pfr = Some(verdict);
        self.decide(now, FailureReason::of_pfr(verdict))
    }

    /// Applies FMS's verdict on request `request`.
    pub fn apply_fms(
        &mut self,
        now: SimTime,
        request: RequestId,
        verdict: FmsVerdict,
    ) -> ReplyApplied {
        if self.fms_request != Some(request) {
            return ReplyApplied::Stale;
        }
        if self.fms.is_some() || self.reason == Some(FailureReason::FmsUnavailable) {
            return ReplyApplied::Duplicate;
        }
        self.fms = Some(verdict);
        self.decide(now, FailureReason::of_fms(verdict))
    }

    /// The agency behind `request` could not be reached (after the caller's retries).
    pub fn apply_unavailable(&mut self, now: SimTime, request: RequestId) -> ReplyApplied {
        let (answered, reason) = if self.pfr_request == Some(request) {
            (self.pfr.is_some(), FailureReason::PfrUnavailable)
        } else if self.fms_request == Some(request) {
            (self.fms.is_some(), FailureReason::FmsUnavailable)
        } else {
            return ReplyApplied::Stale;
        };
        if answered || self.reason == Some(reason) {
            return ReplyApplied::Duplicate;
        }
        self.decide(now, Some(reason))
    }

    /// Fails a pending verification with `Timeout` if it was submitted more than `timeout_ms`
    /// before `now`. True when it did.
    pub fn time_out(&mut self, now: SimTime, timeout_ms: u64) -> bool {
        if self.status == VerificationStatus::Pending
            && now.ms_since(self.submitted_at) > timeout_ms
        {
            self.status = VerificationStatus::Failed;
            self.reason = Some(FailureReason::Timeout);
            self.decided_at = Some(now);
            true
        } else {
            false
        }
    }

    fn decide(&mut self, now: SimTime, failure: Option<FailureReason>) -> ReplyApplied {
        if self.status != VerificationStatus::Pending {
            return ReplyApplied::Late;
        }
        if let Some(reason) = failure {
            self.status = VerificationStatus::Failed;
            self.reason = Some(reason);
            self.decided_at = Some(now);
            return ReplyApplied::Failed(reason);
        }
        if self.pfr == Some(PfrVerdict::Match) && self.fms == Some(FmsVerdict::Valid) {
            self.status = VerificationStatus::Passed;
            self.decided_at = Some(now);
            ReplyApplied::Passed
        } else {
            ReplyApplied::Waiting
        }
    }

    /// Where the verification stands.
    pub fn status(&self) -> VerificationStatus {
        self.status
    }
    /// PFR's verdict, once it answered.
    pub fn pfr(&self) -> Option<PfrVerdict> {
        self.pfr
    }
    /// FMS's verdict, once it answered.
    pub fn fms(&self) -> Option<FmsVerdict> {
        self.fms
    }
    /// Why it failed.
    pub fn reason(&self) -> Option<FailureReason> {
        self.reason
    }
    /// The request ids of the submission in force.
    pub fn requests(&self) -> (Option<RequestId>, Option<RequestId>) {
        (self.pfr_request, self.fms_request)
    }
    /// When the submission in force was made.
    pub fn submitted_at(&self) -> SimTime {
        self.submitted_at
    }
    /// When the verification passed or failed.
    pub fn decided_at(&self) -> Option<SimTime> {
        self.decided_at
    }
    /// How many times data were submitted.
    pub fn submissions(&self) -> u8 {
        self.submissions
    }
    /// True once both agencies agreed.
    pub fn passed(&self) -> bool {
        self.status == VerificationStatus::Passed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: u64) -> SimTime {
        SimTime::from_millis(ms)
    }
    const P: RequestId = RequestId(11);
    const F: RequestId = RequestId(22);

    fn submitted() -> Verification {
        let mut v = Verification::new();
        v.submit(t(0), P, F).unwrap();
        v
    }

    #[test]
    fn both_pass_in_either_order() {
        let mut v = submitted();
        assert_eq!(
            v.apply_pfr(t(1), P, PfrVerdict::Match),
            ReplyApplied::Waiting
        );
        assert_eq!(
            v.apply_fms(t(2), F, FmsVerdict::Valid),
            ReplyApplied::Passed
        );
        assert_eq!(v.decided_at(), Some(t(2)));
        let mut v = submitted();
        assert_eq!(
            v.apply_fms(t(1), F, FmsVerdict::Valid),
            ReplyApplied::Waiting
        );
        assert_eq!(
            v.apply_pfr(t(2), P, PfrVerdict::Match),
            ReplyApplied::Passed
        );
        assert_eq!(v.can_submit(), Err(SubmitRefused::AlreadyPassed));
    }

    #[test]
    fn failure_has_a_reason_and_allows_resubmission() {
        let mut v = submitted();
        assert_eq!(v.can_submit(), Err(SubmitRefused::Pending));
        assert_eq!(
            v.apply_pfr(t(1), P, PfrVerdict::Mismatch),
            ReplyApplied::Failed(FailureReason::PfrMismatch)
        );
        assert_eq!(v.apply_fms(t(2), F, FmsVerdict::Valid), ReplyApplied::Late);
        assert_eq!(v.status(), VerificationStatus::Failed);
        assert_eq!(v.reason(), Some(FailureReason::PfrMismatch));
        v.submit(t(3), RequestId(33), RequestId(44)).unwrap();
        assert_eq!(v.status(), VerificationStatus::Pending);
        assert_eq!(v.reason(), None);
        assert_eq!(v.submissions(), 2);
        assert_eq!(v.apply_pfr(t(4), P, PfrVerdict::Match), ReplyApplied::Stale);
    }

    #[test]
    fn every_fms_verdict_maps_to_its_reason() {
        for (verdict, reason) in [
            (FmsVerdict::Invalid, FailureReason::FmsInvalid),
            (FmsVerdict::Mismatch, FailureReason::FmsMismatch),
            (FmsVerdict::NotFound, FailureReason::FmsNotFound),
        ] {
            let mut v = submitted();
            assert_eq!(v.apply_fms(t(1), F, verdict), ReplyApplied::Failed(reason));
        }
        let mut v = submitted();
        assert_eq!(
            v.apply_pfr(t(1), P, PfrVerdict::NotFound),
            ReplyApplied::Failed(FailureReason::PfrNotFound)
        );
    }

    #[test]
    fn duplicates_and_wrong_ids_are_ignored() {
        let mut v = submitted();
        assert_eq!(
            v.apply_pfr(t(1), P, PfrVerdict::Match),
            ReplyApplied::Waiting
        );
        assert_eq!(
            v.apply_pfr(t(2), P, PfrVerdict::Mismatch),
            ReplyApplied::Duplicate
        );
        assert_eq!(v.apply_pfr(t(2), F, PfrVerdict::Match), ReplyApplied::Stale);
        assert_eq!(v.apply_fms(t(2), P, FmsVerdict::Valid), ReplyApplied::Stale);
        assert_eq!(v.status(), VerificationStatus::Pending);
    }

    #[test]
    fn unavailable_agency_and_timeout_fail_it() {
        let mut v = submitted();
        assert_eq!(
            v.apply_unavailable(t(1), F),
            ReplyApplied::Failed(FailureReason::FmsUnavailable)
        );
        assert_eq!(v.apply_unavailable(t(1), F), ReplyApplied::Duplicate);
        let mut v = submitted();
        assert!(!v.time_out(t(1_000), 1_000));
        assert!(v.time_out(t(1_001), 1_000));
        assert_eq!(v.reason(), Some(FailureReason::Timeout));
        assert!(!v.time_out(t(5_000), 1_000));
    }

    #[test]
    fn state_is_compact() {
        assert!(
            std::mem::size_of::<Verification>() <= 72,
            "{}",
            std::mem::size_of::<Verification>()
        );
    }
}
