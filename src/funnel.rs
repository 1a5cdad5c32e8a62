//! The tier funnel as a mergeable aggregate: what a simulation (or a load run) measures.
//!
//! A [`Funnel`] holds only integers (counts, integer histograms, difference arrays), so shards
//! and replicates merge exactly and in any order: one thread and many give the same bytes.
//! Each citizen is recorded once, when it ends ([`Funnel::record`]), as a [`Trace`]: the path
//! it was heading for, the time it reached each step, and how it ended (completed, exited for
//! a reason, or still in progress at the horizon: censored, not lost).

use crate::queueing::QueueStats;
use esia_mocks::clock::{SimTime, MS_PER_DAY};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where a citizen is heading: the tier path of DOMAIN.md it follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Path {
    /// Stops at the simplified account.
    Simplified,
    /// Stops at the standard account.
    Standard,
    /// Confirmed in person at a service center (MFC, Rostelecom, Post, MVD).
    ServiceCenter,
    /// Confirmed with the code of a Russian Post registered letter.
    Post,
    /// Confirmed with a qualified e-signature or a UEC card.
    ESignature,
    /// Confirmed through an online bank (Sber, Tinkoff, Pochta Bank).
    Bank,
    /// Registered, confirmed from the start, by an MFC operator.
    Mfc,
}

impl Path {
    pub const ALL: [Path; 7] = [
        Path::Simplified,
        Path::Standard,
        Path::ServiceCenter,
        Path::Post,
        Path::ESignature,
        Path::Bank,
        Path::Mfc,
    ];
    pub const COUNT: usize = Self::ALL.len();

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Path::Simplified => "simplified",
            Path::Standard => "standard",
            Path::ServiceCenter => "service_center",
            Path::Post => "post",
            Path::ESignature => "e_signature",
            Path::Bank => "bank",
            Path::Mfc => "mfc",
        }
    }

    /// The last step of the path: reaching it completes the journey.
    pub fn goal(self) -> Step {
        match self {
            Path::Simplified => Step::Simplified,
            Path::Standard => Step::Standard,
            _ => Step::Confirmed,
        }
    }

    /// The steps a citizen on this path passes, in order.
    pub fn steps(self) -> &'static [Step] {
        use Step::*;
        match self {
            Path::Simplified => &[Arrived, ContactConfirmed, Simplified],
            Path::Standard => &[
                Arrived,
                ContactConfirmed,
                Simplified,
                PersonalData,
                Standard,
            ],
            Path::Bank => &[Arrived, PersonalData, Standard, Confirmed],
            Path::Mfc => &[Arrived, ConfirmationStarted, Confirmed],
            _ => &Step::ALL,
        }
    }
}

/// A step of the funnel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Started registration (or walked into an MFC, or opened the bank's form).
    Arrived,
    /// Confirmed the phone or e-mail with the code or link.
    ContactConfirmed,
    /// Set a password: the simplified account exists.
    Simplified,
    /// Submitted personal data for verification.
    PersonalData,
    /// PFR and FMS verified the data: standard account.
    Standard,
    /// Began a confirmation: ordered a letter, went to a center, signed, ...
    ConfirmationStarted,
    /// Confirmed account.
    Confirmed,
}

impl Step {
    pub const ALL: [Step; 7] = [
        Step::Arrived,
        Step::ContactConfirmed,
        Step::Simplified,
        Step::PersonalData,
        Step::Standard,
        Step::ConfirmationStarted,
        Step::Confirmed,
    ];
    pub const COUNT: usize = Self::ALL.len();

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Arrived => "arrived",
            Step::ContactConfirmed => "contact_confirmed",
            Step::Simplified => "simplified",
            Step::PersonalData => "personal_data",
            Step::Standard => "standard",
            Step::ConfirmationStarted => "confirmation_started",
            Step::Confirmed => "confirmed",
        }
    }
}

/// Why a citizen stopped before the goal of its path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Exit {
    /// The SMS code never arrived, after every resend.
    CodeNotReceived,
    /// The code expired before it was typed, and no new one was asked for.
    CodeExpired,
    /// Too many wrong codes, and no new one was asked for.
    CodeLocked,
    /// The e-mail link was never followed (lost, in spam, or expired).
    LinkNotFollowed,
    /// Gave up after passwords refused as weak.
    WeakPassword,
    /// PFR: the personal data differ from its record.
    PfrMismatch,
    /// PFR: the SNILS is unknown.
    PfrNotFound,
    /// FMS: the passport is expired or cancelled.
    FmsInvalid,
    /// FMS: the passport's holder differs.
    FmsMismatch,
    /// FMS: no such passport.
    FmsNotFound,
    /// No answer from PFR or FMS within the engine's timeout.
    VerificationTimeout,
    /// The letter was lost, and no new one was ordered.
    LetterLost,
    /// The letter's code expired before it was entered.
    LetterExpired,
    /// The e-signature's certificate has expired.
    SignatureExpired,
    /// The e-signature's certificate was revoked.
    SignatureRevoked,
    /// The CA refused the certificate for another reason.
    SignatureRefused,
    /// The service center could not serve the citizen, who gave up.
    CenterGaveUp,
    /// Waited longer than the citizen's patience, and left.
    GaveUpWaiting,
    /// Left a service center's queue when the citizen's patience ran out (a center with a
    /// capacity).
    GaveUpQueue,
}

impl Exit {
    pub const ALL: [Exit; 19] = [
        Exit::CodeNotReceived,
        Exit::CodeExpired,
        Exit::CodeLocked,
        Exit::LinkNotFollowed,
        Exit::WeakPassword,
        Exit::PfrMismatch,
        Exit::PfrNotFound,
        Exit::FmsInvalid,
        Exit::FmsMismatch,
        Exit::FmsNotFound,
        Exit::VerificationTimeout,
        Exit::LetterLost,
        Exit::LetterExpired,
        Exit::SignatureExpired,
        Exit::SignatureRevoked,
        Exit::SignatureRefused,
        Exit::CenterGaveUp,
        Exit::GaveUpWaiting,
        Exit::GaveUpQueue,
    ];
    pub const COUNT: usize = Self::ALL.len();

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Exit::CodeNotReceived => "code_not_received",
            Exit::CodeExpired => "code_expired",
            Exit::CodeLocked => "code_locked",
            Exit::LinkNotFollowed => "link_not_followed",
            Exit::WeakPassword => "weak_password",
            Exit::PfrMismatch => "pfr_mismatch",
            Exit::PfrNotFound => "pfr_not_found",
            Exit::FmsInvalid => "fms_invalid",
            Exit::FmsMismatch => "fms_mismatch",
            Exit::FmsNotFound => "fms_not_found",
            Exit::VerificationTimeout => "verification_timeout",
            Exit::LetterLost => "letter_lost",
            Exit::LetterExpired => "letter_expired",
            Exit::SignatureExpired => "signature_expired",
            Exit::SignatureRevoked => "signature_revoked",
            Exit::SignatureRefused => "signature_refused",
            Exit::CenterGaveUp => "center_gave_up",
            Exit::GaveUpWaiting => "gave_up_waiting",
            Exit::GaveUpQueue => "gave_up_queue",
        }
    }
}

/// How a citizen's journey ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Reached the goal of its path.
    Completed,
    /// Stopped for a reason, after the last step it reached.
    Exited(Exit),
    /// Still in progress at the horizon.
    Censored,
}

/// One citizen's journey, recorded when it ends. 64 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trace {
    pub path: Path,
    pub ending: Ending,
    /// When each step was reached, in ms ([`NOT_REACHED`] if not).
    reached: [u64; Step::COUNT],
}

/// The time of a step not reached.
const NOT_REACHED: u64 = u64::MAX;

impl Trace {
    /// A citizen who arrived at `now` heading for `path`.
    pub fn arrived(path: Path, now: SimTime) -> Self {
        let mut reached = [NOT_REACHED; Step::COUNT];
        reached[Step::Arrived as usize] = now.as_millis();
        Self {
            path,
            reached,
            ending: Ending::Censored,
        }
    }

    /// Marks `step` reached at `now` (the first time only).
    pub fn reach(&mut self, step: Step, now: SimTime) {
        let at = &mut self.reached[step as usize];
        if *at == NOT_REACHED {
            *at = now.as_millis();
        }
    }

    /// When `step` was reached.
    pub fn at(&self, step: Step) -> Option<SimTime> {
        let at = self.reached[step as usize];
        (at != NOT_REACHED).then(|| SimTime::from_millis(at))
    }

    /// The last step reached, in the path's order.
    pub fn last_step(&self) -> Step {
        self.path
            .steps()
            .iter()
            .rev()
            .copied()
            .find(|s| self.at(*s).is_some())
            .unwrap_or(Step::Arrived)
    }
}

/// Counts of one path.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PathCounts {
    /// Citizens heading for this path.
    pub citizens: u64,
    /// Citizens who reached each step.
    pub reached: [u64; Step::COUNT],
    /// Exits by the last step reached and the reason.
    pub exits: [[u64; Exit::COUNT]; Step::COUNT],
    /// Citizens in progress at the horizon, by the last step reached.
    pub censored: [u64; Step::COUNT],
    /// Citizens who reached the goal.
    pub completed: u64,
}

impl PathCounts {
    fn merge(&mut self, other: &PathCounts) {
        self.citizens += other.citizens;
        self.completed += other.completed;
        for s in 0..Step::COUNT {
            self.reached[s] += other.reached[s];
            self.censored[s] += other.censored[s];
            for e in 0..Exit::COUNT {
                self.exits[s][e] += other.exits[s][e];
            }
        }
    }
}

/// An integer series by day that counts intervals (something pending between two days):
/// a difference array, summed on reading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Intervals(Vec<i64>);

impl Intervals {
    fn new(days: usize) -> Self {
        Self(vec![0; days + 1])
    }

    /// Counts something open from day `from` to day `to` (exclusive), clipped to the series.
    pub fn add(&mut self, from: usize, to: usize) {
        let n = self.0.len() - 1;
        let (from, to) = (from.min(n), to.min(n));
        if from < to {
            self.0[from] += 1;
            self.0[to] -= 1;
        }
    }

    /// The count open on each day.
    pub fn values(&self) -> Vec<i64> {
        let mut acc = 0;
        self.0[..self.0.len() - 1]
            .iter()
            .map(|d| {
                acc += d;
                acc
            })
            .collect()
    }

    fn merge(&mut self, other: &Intervals) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a += b;
        }
    }
}

/// By day of the run: what happened and what was pending.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Daily {
    pub arrivals: Vec<u64>,
    /// Accounts reaching each tier that day.
    pub simplified: Vec<u64>,
    pub standard: Vec<u64>,
    pub confirmed: Vec<u64>,
    /// Accounts opened that day, whatever their first tier (a bank's or an MFC's account is
    /// confirmed from the start): the history's comparison counts them; not a report series.
    pub accounts: Vec<u64>,
    /// Verifications (PFR and FMS) pending at the end of each day.
    pub verifications_pending: Intervals,
    /// Post letters in transit or waiting at the office.
    pub letters_in_transit: Intervals,
}

/// One arrival week's cohort: how far its citizens got by the horizon.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Cohort {
    pub arrived: u64,
    pub simplified: u64,
    pub standard: u64,
    pub confirmed: u64,
}

/// Cumulative conversion by days since arrival, with censoring: on day `d`, only citizens
/// followed for at least `d` days count (cohort maturity), so those who arrived late are not
/// taken for lost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Maturity {
    /// Citizens followed for at least `d` days (difference array).
    followed: Intervals,
    /// Of those, converted by day `d`.
    converted: Intervals,
}

impl Maturity {
    fn new(days: usize) -> Self {
        Self {
            followed: Intervals::new(days),
            converted: Intervals::new(days),
        }
    }

    /// `(followed, converted)` by day since arrival.
    pub fn curve(&self) -> Vec<(u64, u64)> {
        self.followed
            .values()
            .into_iter()
            .zip(self.converted.values())
            .map(|(f, c)| (f as u64, c as u64))
            .collect()
    }
}

/// The histogram of times to a tier, in seconds (3 significant figures, up to a year).
pub type Durations = Histogram<u64>;

fn durations() -> Durations {
    Histogram::new_with_bounds(1, 400 * 86_400, 3).expect("valid histogram bounds")
}

/// The whole funnel of a run: mergeable, integer-only.
#[derive(Clone, Debug)]
pub struct Funnel {
    /// Days from the start to the horizon.
    pub days: usize,
    pub paths: [PathCounts; Path::COUNT],
    /// Time from arrival to standard, by path (paths that reach standard).
    pub to_standard: [Durations; Path::COUNT],
    /// Time from arrival to confirmed, by path (the confirmation method).
    pub to_confirmed: [Durations; Path::COUNT],
    /// Time from standard to confirmed, by path.
    pub standard_to_confirmed: [Durations; Path::COUNT],
    /// Each verification's duration, from submission to PFR's and FMS's decision (passed or
    /// failed); a citizen who submits twice is counted twice.
    pub verification: Durations,
    /// Each post letter's delivery, from the order to its arrival at the post office (lost
    /// letters are not counted).
    pub letter_delivery: Durations,
    pub daily: Daily,
    /// Cohorts by arrival week.
    pub cohorts: Vec<Cohort>,
    /// Cumulative conversion to each path's goal, by days since arrival.
    pub maturity: [Maturity; Path::COUNT],
    /// The queues of the agencies with a capacity, by the scenario's name of the agency.
    pub queues: BTreeMap<&'static str, QueueStats>,
}

impl Funnel {
    /// An empty funnel for a run of `days` days.
    pub fn new(days: usize) -> Self {
        let days = days.max(1);
        Self {
            days,
            paths: Default::default(),
            to_standard: std::array::from_fn(|_| durations()),
            to_confirmed: std::array::from_fn(|_| durations()),
            standard_to_confirmed: std::array::from_fn(|_| durations()),
            verification: durations(),
            letter_delivery: durations(),
            daily: Daily {
                arrivals: vec![0; days],
                simplified: vec![0; days],
                standard: vec![0; days],
                confirmed: vec![0; days],
                accounts: vec![0; days],
                verifications_pending: Intervals::new(days),
                letters_in_transit: Intervals::new(days),
            },
            cohorts: vec![Cohort::default(); days.div_ceil(7)],
            maturity: std::array::from_fn(|_| Maturity::new(days)),
            queues: BTreeMap::new(),
        }
    }

    fn day(&self, t: SimTime) -> usize {
        ((t.as_millis() / MS_PER_DAY) as usize).min(self.days - 1)
    }

    /// Records a citizen's journey, which ended or was cut at `horizon`.
    pub fn record(&mut self, trace: &Trace, horizon: SimTime) {
        let p = trace.path as usize;
        let counts = &mut self.paths[p];
        counts.citizens += 1;
        for step in trace.path.steps() {
            if trace.at(*step).is_some() {
                counts.reached[*step as usize] += 1;
            }
        }
        let last = trace.last_step() as usize;
        match trace.ending {
            Ending::Completed => counts.completed += 1,
            Ending::Exited(exit) => counts.exits[last][exit as usize] += 1,
            Ending::Censored => counts.censored[last] += 1,
        }

        let arrived = trace.at(Step::Arrived).unwrap_or(SimTime::ZERO);
        let secs = |from: SimTime, to: SimTime| (to.ms_since(from) / 1000).max(1);
        if let Some(t) = trace.at(Step::Standard) {
            record(&mut self.to_standard[p], secs(arrived, t));
        }
        if let Some(t) = trace.at(Step::Confirmed) {
            record(&mut self.to_confirmed[p], secs(arrived, t));
            if let Some(s) = trace.at(Step::Standard) {
                record(&mut self.standard_to_confirmed[p], secs(s, t));
            }
        }

        let day_of_arrival = self.day(arrived);
        self.daily.arrivals[day_of_arrival] += 1;
        let cohort = &mut self.cohorts[day_of_arrival / 7];
        cohort.arrived += 1;
        for (step, series, count) in [
            (
                Step::Simplified,
                &mut self.daily.simplified,
                &mut cohort.simplified,
            ),
            (
                Step::Standard,
                &mut self.daily.standard,
                &mut cohort.standard,
            ),
            (
                Step::Confirmed,
                &mut self.daily.confirmed,
                &mut cohort.confirmed,
            ),
        ] {
            if let Some(t) = trace.at(step) {
                series[((t.as_millis() / MS_PER_DAY) as usize).min(self.days - 1)] += 1;
                *count += 1;
            }
        }
        let opened = [Step::Simplified, Step::Standard, Step::Confirmed]
            .iter()
            .filter_map(|s| trace.at(*s))
            .min();
        if let Some(t) = opened {
            let day = self.day(t);
            self.daily.accounts[day] += 1;
        }
        // Maturity: followed from arrival to the horizon; converted from the goal on.
        let followed_days = (horizon.ms_since(arrived) / MS_PER_DAY) as usize;
        let maturity = &mut self.maturity[p];
        maturity.followed.add(0, followed_days + 1);
        if let Some(t) = trace.at(trace.path.goal()) {
            let day = (t.ms_since(arrived) / MS_PER_DAY) as usize;
            maturity.converted.add(day, followed_days + 1);
        }
    }

    /// Counts a verification pending from `from` to `to` (or to the horizon), and its duration
    /// when it was decided.
    pub fn verification_pending(&mut self, from: SimTime, to: Option<SimTime>) {
        if let Some(to) = to {
            record(&mut self.verification, (to.ms_since(from) / 1000).max(1));
        }
        let (a, b) = (self.day(from), to.map_or(self.days, |t| self.day(t)));
        self.daily.verifications_pending.add(a, b);
    }

    /// Records a letter ordered at `ordered` reaching the post office at `arrived`.
    pub fn letter_delivered(&mut self, ordered: SimTime, arrived: SimTime) {
        record(
            &mut self.letter_delivery,
            (arrived.ms_since(ordered) / 1000).max(1),
        );
    }

    /// Counts a letter in transit or at the office from `from` to `to` (or to the horizon).
    pub fn letter_in_transit(&mut self, from: SimTime, to: Option<SimTime>) {
        let (a, b) = (self.day(from), to.map_or(self.days, |t| self.day(t)));
        self.daily.letters_in_transit.add(a, b);
    }

    /// Adds another funnel of the same run length (another shard or thread).
    pub fn merge(&mut self, other: &Funnel) {
        assert_eq!(self.days, other.days, "funnels of different lengths");
        for p in 0..Path::COUNT {
            self.paths[p].merge(&other.paths[p]);
            self.to_standard[p]
                .add(&other.to_standard[p])
                .expect("same bounds");
            self.to_confirmed[p]
                .add(&other.to_confirmed[p])
                .expect("same bounds");
            self.standard_to_confirmed[p]
                .add(&other.standard_to_confirmed[p])
                .expect("same bounds");
            self.maturity[p].followed.merge(&other.maturity[p].followed);
            self.maturity[p]
                .converted
                .merge(&other.maturity[p].converted);
        }
        self.verification
            .add(&other.verification)
            .expect("same bounds");
        self.letter_delivery
            .add(&other.letter_delivery)
            .expect("same bounds");
        let d = &mut self.daily;
        let o = &other.daily;
        for (a, b) in [
            (&mut d.arrivals, &o.arrivals),
            (&mut d.simplified, &o.simplified),
            (&mut d.standard, &o.standard),
            (&mut d.confirmed, &o.confirmed),
            (&mut d.accounts, &o.accounts),
        ] {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
        d.verifications_pending.merge(&o.verifications_pending);
        d.letters_in_transit.merge(&o.letters_in_transit);
        for (name, stats) in &other.queues {
            match self.queues.get_mut(name) {
                Some(mine) => mine.merge(stats),
                None => {
                    self.queues.insert(name, stats.clone());
                }
            }
        }
        for (a, b) in self.cohorts.iter_mut().zip(&other.cohorts) {
            a.arrived += b.arrived;
            a.simplified += b.simplified;
            a.standard += b.standard;
            a.confirmed += b.confirmed;
        }
    }

    /// Citizens recorded.
    pub fn citizens(&self) -> u64 {
        self.paths.iter().map(|p| p.citizens).sum()
    }

    /// Citizens who reached `step`, over every path.
    pub fn reached(&self, step: Step) -> u64 {
        self.paths.iter().map(|p| p.reached[step as usize]).sum()
    }
}

fn record(h: &mut Durations, secs: u64) {
    h.saturating_record(secs);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(days: u64) -> SimTime {
        SimTime::from_millis(days * MS_PER_DAY)
    }

    #[test]
    fn a_trace_counts_once_and_merge_adds() {
        let mut a = Funnel::new(30);
        let mut trace = Trace::arrived(Path::Post, t(0));
        for (s, d) in [
            (Step::ContactConfirmed, 0),
            (Step::Simplified, 0),
            (Step::PersonalData, 1),
            (Step::Standard, 1),
            (Step::ConfirmationStarted, 2),
            (Step::Confirmed, 16),
        ] {
            trace.reach(s, t(d));
        }
        trace.ending = Ending::Completed;
        a.record(&trace, t(30));
        let mut late = Trace::arrived(Path::Post, t(25));
        late.reach(Step::ContactConfirmed, t(25));
        a.record(&late, t(30));
        assert_eq!(a.paths[Path::Post as usize].completed, 1);
        assert_eq!(
            a.paths[Path::Post as usize].censored[Step::ContactConfirmed as usize],
            1
        );
        assert_eq!(a.reached(Step::Arrived), 2);
        assert_eq!(a.to_confirmed[Path::Post as usize].len(), 1);

        // Maturity: on day 16 only the first citizen (followed 30 days) counts, and converted.
        let curve = a.maturity[Path::Post as usize].curve();
        assert_eq!(curve[0], (2, 0));
        assert_eq!(curve[16], (1, 1));
        assert_eq!(curve[15], (1, 0));

        let mut b = Funnel::new(30);
        b.merge(&a);
        b.merge(&a);
        assert_eq!(b.citizens(), 4);
        assert_eq!(b.maturity[Path::Post as usize].curve()[16], (2, 2));
        assert_eq!(b.daily.arrivals[25], 2);
        assert_eq!(b.cohorts[0].confirmed, 2);
    }

    #[test]
    fn intervals_count_what_is_open_each_day() {
        let mut f = Funnel::new(10);
        f.verification_pending(t(1), Some(t(3)));
        f.verification_pending(t(2), None);
        assert_eq!(
            f.daily.verifications_pending.values(),
            vec![0, 1, 2, 1, 1, 1, 1, 1, 1, 1]
        );
    }
}
