//! The model's mix (`[load] mix = "model"`): each journey is a citizen of the population doing
//! what the simulator says that citizen does. The simulator runs each citizen of the slice
//! alone ([`crate::sim::story`]) — the same code as `esia-sim simulate`, no second copy of the
//! behaviour — and its story picks the scripted path the journey walks (by phone or by
//! e-mail, a wrong code typed, a code expired and sent again, a weak password, a letter lost
//! and ordered again, PFR's refusal of mistyped data), where it stops when the citizen left
//! (the exit reason is recorded), and the citizen's own pauses (filling in personal data,
//! starting a confirmation), divided by `load.speedup`. The paths' shares are the stories'.
//!
//! What a story decides and the system does not: a journey that stops at an exit the stand
//! would also decide (an unknown SNILS, an expired passport, a refused certificate) stops
//! before the request, so those exits are the model's; PFR's refusal of mistyped data is the
//! system's (the `pfr_mismatch` path sends the data with a mistake and expects the refusal).

use super::path::{Action, LoadPath};
use crate::funnel::{Ending, Exit, Path, Step as SimStep};
use crate::scenario::Scenario;
use crate::sim::citizen::Story;
use crate::sim::World;
use esia_mocks::agency::Bank;
use esia_mocks::clock::SimTime;
use esia_mocks::population::{Channel, PopulationConfig};
use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// How one citizen's journey goes.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub citizen: u64,
    /// Steps of the path to walk: all of them, or those before the citizen left.
    pub walk: usize,
    /// Why the citizen left after `walk` steps (none: completed, or censored).
    pub exit: Option<Exit>,
    /// The simulator's horizon came first: the journey ends in progress after `walk` steps.
    pub censored: bool,
    /// Registers by e-mail (follows the link) where the path registers by phone.
    pub email: bool,
    /// Pauses before steps: (step index, how long), the citizen's own waits sped up.
    pub pauses: Vec<(usize, Duration)>,
}

/// Whether a scripted step achieves the simulator's step `s`.
fn achieves(action: Action, s: SimStep) -> bool {
    use Action::*;
    match s {
        SimStep::Arrived => matches!(action, Register(_) | MfcRegister),
        SimStep::ContactConfirmed => matches!(action, ConfirmCode | FollowLink),
        SimStep::Simplified => matches!(action, SetPassword),
        SimStep::PersonalData => {
            matches!(action, PersonalData | PersonalDataMismatched | Bank(_))
        }
        SimStep::Standard => matches!(action, VerificationPassed | VerificationFailed),
        SimStep::ConfirmationStarted => matches!(action, OrderLetter),
        SimStep::Confirmed => false,
    }
}

/// Steps of `path` walked to reach the simulator's step `s` (the whole path for confirmed).
fn walk_to(path: LoadPath, s: SimStep) -> usize {
    let plan = path.plan().unwrap_or_default();
    if s == SimStep::Confirmed {
        return plan.len();
    }
    let mut walk = 0;
    for step in SimStep::ALL.iter().take_while(|x| **x <= s) {
        if let Some(i) = plan.iter().rposition(|p| achieves(p.action, *step)) {
            walk = walk.max(i + 1);
        }
    }
    walk
}

fn is_bank(path: LoadPath) -> bool {
    matches!(
        path,
        LoadPath::BankSber | LoadPath::BankTinkoff | LoadPath::BankPochta
    )
}

/// The scripted path a story walks.
fn path_of(story: &Story) -> LoadPath {
    let exit = match story.trace.ending {
        Ending::Exited(e) => Some(e),
        _ => None,
    };
    match story.trace.path {
        Path::Mfc => LoadPath::Mfc,
        Path::Bank => match story.bank.unwrap_or(Bank::Sber) {
            Bank::Sber => LoadPath::BankSber,
            Bank::Tinkoff => LoadPath::BankTinkoff,
            Bank::Pochta => LoadPath::BankPochta,
        },
        Path::Simplified if story.channel == Channel::Email => LoadPath::SimplifiedEmail,
        Path::Simplified if story.wrong_code => LoadPath::WrongCode,
        Path::Simplified if story.resent => LoadPath::ExpiredCode,
        Path::Simplified if story.weak_password => LoadPath::WeakPassword,
        Path::Simplified => LoadPath::SimplifiedPhone,
        // PFR refuses the mistyped data: the stand decides, on the scripted path.
        Path::Standard if exit == Some(Exit::PfrMismatch) => LoadPath::PfrMismatch,
        Path::Standard => LoadPath::Standard,
        Path::ServiceCenter => LoadPath::ServiceCenter,
        Path::Post if story.reordered || exit == Some(Exit::LetterLost) => LoadPath::LostLetter,
        Path::Post => LoadPath::Post,
        Path::ESignature => LoadPath::ESignature,
    }
}

/// The journey of citizen `k` whose story is `story`, its waits divided by `speedup`.
pub fn plan(k: u64, story: &Story, speedup: f64) -> (LoadPath, Plan) {
    let path = path_of(story);
    let full = path.plan().map_or(0, |p| p.len());
    let last = story.trace.last_step();
    let (walk, exit, censored) = match story.trace.ending {
        Ending::Completed => (full, None, false),
        // The scripted path ends in PFR's refusal: walked whole, the stand's verdict.
        Ending::Exited(Exit::PfrMismatch) if path == LoadPath::PfrMismatch => (full, None, false),
        Ending::Exited(e) => {
            let mut walk = walk_to(path, last);
            // The turn that made the citizen leave is walked too, when the path scripts it.
            if (e == Exit::WeakPassword && path == LoadPath::WeakPassword)
                || (e == Exit::LetterLost && path == LoadPath::LostLetter)
            {
                walk += 1;
            }
            if is_bank(path) {
                // The bank's step sends the data and awaits the verdict: a citizen who left
                // at or after the verification leaves before it (the model's exit).
                walk = walk.min(walk_to(path, SimStep::Simplified) + 1);
            }
            (walk.min(full), Some(e), false)
        }
        Ending::Censored => (walk_to(path, last).min(full), None, true),
    };
    let steps = path.plan().unwrap_or_default();
    let sped = |from: SimStep, to: SimStep| {
        let (a, b) = (story.trace.at(from)?, story.trace.at(to)?);
        Some(Duration::from_secs_f64(
            b.ms_since(a) as f64 / 1_000.0 / speedup.max(1.0),
        ))
    };
    let mut pauses = Vec::new();
    // Filling in personal data, and starting a confirmation: the citizen's own time.
    if let (Some(i), Some(d)) = (
        steps
            .iter()
            .position(|s| achieves(s.action, SimStep::PersonalData)),
        sped(SimStep::Simplified, SimStep::PersonalData),
    ) {
        pauses.push((i, d));
    }
    if let Some(i) = steps
        .iter()
        .rposition(|s| achieves(s.action, SimStep::Standard))
        .map(|i| i + 1)
        .filter(|i| *i < steps.len())
    {
        let started = sped(SimStep::Standard, SimStep::ConfirmationStarted)
            .or_else(|| sped(SimStep::Standard, SimStep::Confirmed));
        if let Some(d) = started {
            pauses.push((i, d));
        }
    }
    // A bank finds its client's account by phone; an MFC registers it: both keep the phone.
    let email = story.channel == Channel::Email
        && path != LoadPath::SimplifiedEmail
        && path != LoadPath::Mfc
        && !is_bank(path);
    (
        path,
        Plan {
            citizen: k,
            walk,
            exit,
            censored,
            email,
            pauses,
        },
    )
}

/// Every citizen of a slice with its journey, queued by path.
#[derive(Debug)]
pub struct ModelMix {
    queues: BTreeMap<LoadPath, (Vec<Plan>, AtomicUsize)>,
}

impl ModelMix {
    /// The stories of citizens `slice` of `scenario` (its seed; the stand's default
    /// population, as load uses) and their journeys.
    pub fn new(scenario: &Scenario, slice: Range<u64>) -> Result<Self, crate::sim::SimError> {
        let mut s = scenario.clone();
        s.population = PopulationConfig::default();
        let world = World::new(&s, scenario.seed)?;
        let mut scratch = crate::funnel::Funnel::new(world.days());
        let mut queues: BTreeMap<LoadPath, (Vec<Plan>, AtomicUsize)> = BTreeMap::new();
        for k in slice {
            let story = crate::sim::story::story(&world, k, SimTime::ZERO, &mut scratch);
            let (path, plan) = plan(k, &story, scenario.load.speedup);
            queues
                .entry(path)
                .or_insert_with(|| (Vec::new(), AtomicUsize::new(0)))
                .0
                .push(plan);
        }
        Ok(Self { queues })
    }

    /// Each path's share of the stories.
    pub fn weights(&self) -> Vec<(LoadPath, f64)> {
        self.queues
            .iter()
            .map(|(p, (plans, _))| (*p, plans.len() as f64))
            .collect()
    }

    /// The next citizen of `path` and its journey, none when the path's are used up.
    pub fn take(&self, path: LoadPath) -> Option<Plan> {
        let (plans, next) = self.queues.get(&path)?;
        plans.get(next.fetch_add(1, Ordering::Relaxed)).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_exit_stops_where_the_citizen_left() {
        use LoadPath::*;
        assert_eq!(walk_to(SimplifiedPhone, SimStep::Arrived), 1);
        assert_eq!(walk_to(WrongCode, SimStep::ContactConfirmed), 3);
        assert_eq!(walk_to(Standard, SimStep::PersonalData), 5);
        assert_eq!(walk_to(Post, SimStep::Standard), 6);
        assert_eq!(walk_to(LostLetter, SimStep::ConfirmationStarted), 7);
        // A center visit and a signature are started and finished in one step.
        assert_eq!(walk_to(ESignature, SimStep::ConfirmationStarted), 6);
        assert_eq!(walk_to(BankSber, SimStep::Standard), 5);
        assert_eq!(walk_to(Mfc, SimStep::Confirmed), 3);
    }

    /// The mix of a slice follows the simulator's stories: every story is queued once, the
    /// paths' shares are the stories', and a model exit stops a journey before its path ends.
    #[test]
    fn the_mix_is_the_stories() {
        let scenario = Scenario::default();
        let mix = ModelMix::new(&scenario, 0..3_000).unwrap();
        let total: f64 = mix.weights().iter().map(|(_, w)| w).sum();
        assert_eq!(total, 3_000.0);
        let world = World::new(&scenario, scenario.seed).unwrap();
        let mut scratch = crate::funnel::Funnel::new(world.days());
        let mut exits = 0;
        for (path, (plans, _)) in &mix.queues {
            for p in plans {
                let story =
                    crate::sim::story::story(&world, p.citizen, SimTime::ZERO, &mut scratch);
                assert_eq!(path_of(&story), *path);
                let full = path.plan().unwrap().len();
                if p.exit.is_some() {
                    exits += 1;
                    assert!(
                        p.walk < full || *path == LoadPath::LostLetter,
                        "{path:?} {p:?}"
                    );
                } else if !p.censored {
                    assert_eq!(p.walk, full);
                }
            }
        }
        assert!(exits > 0);
        assert!(mix.take(LoadPath::Standard).is_some());
    }
}
