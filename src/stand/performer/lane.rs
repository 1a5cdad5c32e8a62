//! The performer's bulkheads: one lane per agency (SMS, mail, PFR, FMS, post, CA), each with
//! its own bounded queue of new effects and its own share of calls in flight. A lane's worker
//! takes the next job only when one of its own permits is free, so an agency that fails, hangs
//! or is retried holds its own lane's permits and nobody else's: an SMS never waits behind a
//! PFR request.
//!
//! A job is a new effect (bounded per lane: past [`PerformerConfig::lane_queue`] the effect
//! fails at once, with its agency's reason), or work coming back to its lane: an effect or SMS
//! an agency refused for its capacity and whose time has come, a verification request sent
//! again, a poll. Those are bounded where they wait (the deferred set, the waiting requests),
//! so they always enter.

use super::{perform_with, poll, send_sms, Again, Refusals, Sms, Waiting};
use super::{PerformerConfig, Stand};
use crate::registry::Agency;
use crate::registry::{Effect, RequestId};
use esia_mocks::service::Work;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;

/// An agency the engine calls, and so a lane of the performer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lane {
    Sms,
    Mail,
    Pfr,
    Fms,
    Post,
    Ca,
}

impl Lane {
    /// Every lane, in the order of [`Lanes`]' array.
    pub const ALL: [Lane; 6] = [
        Lane::Sms,
        Lane::Mail,
        Lane::Pfr,
        Lane::Fms,
        Lane::Post,
        Lane::Ca,
    ];

    /// The lane's name, as logs and metrics show it.
    pub fn name(self) -> &'static str {
        match self {
            Lane::Sms => "sms",
            Lane::Mail => "mail",
            Lane::Pfr => "pfr",
            Lane::Fms => "fms",
            Lane::Post => "post",
            Lane::Ca => "ca",
        }
    }

    /// The lane of the agency that performs `effect`.
    pub fn of(effect: &Effect) -> Lane {
        match effect {
            Effect::SendSms { .. } => Lane::Sms,
            Effect::SendMail { .. } => Lane::Mail,
            Effect::VerifyPfr(_) => Lane::Pfr,
            Effect::VerifyFms(_) => Lane::Fms,
            Effect::CheckCertificate { .. } => Lane::Ca,
            Effect::OrderLetter { .. } => Lane::Post,
        }
    }

    /// The lane of a verifying agency.
    pub fn of_agency(agency: Agency) -> Lane {
        match agency {
            Agency::Pfr => Lane::Pfr,
            Agency::Fms => Lane::Fms,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// One piece of work for a lane.
#[derive(Debug)]
pub(crate) enum Job {
    /// An effect, counted as the world's `work` (when it came from a command) until performed.
    Effect {
        effect: Effect,
        refusals: Refusals,
        work: Option<Work>,
    },
    /// SMS sent together (again, after a refusal for capacity).
    Sms(Vec<Sms>, Refusals),
    /// A verification request sent (again).
    Ask {
        agency: Agency,
        id: RequestId,
        body: Arc<serde_json::Value>,
        resends: u32,
        refusals: Refusals,
    },
    /// A poll of a waiting request.
    Poll { id: RequestId, waiting: Waiting },
}

impl Job {
    /// The job of performing again what an agency refused for its capacity, and its lane.
    pub(crate) fn again(again: Again, refusals: Refusals) -> (Lane, Job) {
        match again {
            Again::Effect(effect) => (
                Lane::of(&effect),
                Job::Effect {
                    effect,
                    refusals,
                    work: None,
                },
            ),
            Again::Sms(sms) => (Lane::Sms, Job::Sms(sms, refusals)),
            Again::Ask {
                agency,
                id,
                body,
                resends,
            } => (
                Lane::of_agency(agency),
                Job::Ask {
                    agency,
                    id,
                    body,
                    resends,
                    refusals,
                },
            ),
        }
    }

    async fn run(self, stand: &Arc<Stand>) {
        match self {
            Job::Effect {
                effect,
                refusals,
                work,
            } => {
                perform_with(stand, effect, refusals).await;
                drop(work);
            }
            Job::Sms(sms, refusals) => send_sms(stand, sms, refusals).await,
            Job::Ask {
                agency,
                id,
                body,
                resends,
                refusals,
            } => super::ask(stand, agency, id, body, resends, refusals).await,
            Job::Poll { id, waiting } => poll(stand, id, waiting).await,
        }
    }
}

/// One lane: its jobs, the wake of its worker, its permits of calls in flight.
#[derive(Debug)]
struct LaneState {
    jobs: Mutex<VecDeque<Job>>,
    /// New effects waiting (jobs coming back are not counted against the bound).
    new_effects: std::sync::atomic::AtomicUsize,
    wake: Notify,
    in_flight: Arc<Semaphore>,
}

/// Every lane of the performer.
#[derive(Debug)]
pub(crate) struct Lanes {
    lanes: [LaneState; 6],
    queue_max: usize,
    in_flight_max: usize,
}

impl Lanes {
    /// Lanes of `config.in_flight` calls in flight and `config.lane_queue` new effects each.
    pub(crate) fn new(config: &PerformerConfig) -> Self {
        let lane = || LaneState {
            jobs: Mutex::new(VecDeque::new()),
            new_effects: std::sync::atomic::AtomicUsize::new(0),
            wake: Notify::new(),
            in_flight: Arc::new(Semaphore::new(config.in_flight.max(1))),
        };
        Self {
            lanes: [lane(), lane(), lane(), lane(), lane(), lane()],
            queue_max: config.lane_queue.max(1),
            in_flight_max: config.in_flight.max(1),
        }
    }

    fn lane(&self, lane: Lane) -> &LaneState {
        &self.lanes[lane.index()]
    }

    /// Queues a new effect in its lane; gives it back (its work done with) when the lane
    /// already holds its most.
    pub(crate) fn push_new(&self, effect: Effect, work: Work) -> Option<Effect> {
        use std::sync::atomic::Ordering;
        let l = self.lane(Lane::of(&effect));
        let mut jobs = l.jobs.lock().unwrap_or_else(|e| e.into_inner());
        if l.new_effects.load(Ordering::Relaxed) >= self.queue_max {
            drop(work);
            return Some(effect);
        }
        l.new_effects.fetch_add(1, Ordering::Relaxed);
        jobs.push_back(Job::Effect {
            effect,
            refusals: Refusals::default(),
            work: Some(work),
        });
        drop(jobs);
        l.wake.notify_one();
        None
    }

    /// Queues work coming back to `lane` (always room: it is bounded where it waited).
    pub(crate) fn push(&self, lane: Lane, job: Job) {
        let l = self.lane(lane);
        l.jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back(job);
        l.wake.notify_one();
    }

    /// Jobs waiting in every lane.
    pub(crate) fn queued(&self) -> usize {
        self.lanes
            .iter()
            .map(|l| l.jobs.lock().unwrap_or_else(|e| e.into_inner()).len())
            .sum()
    }

    /// Jobs waiting in `lane`, and its calls in flight.
    pub(crate) fn load(&self, lane: Lane) -> (usize, usize) {
        let l = self.lane(lane);
        let waiting = l.jobs.lock().unwrap_or_else(|e| e.into_inner()).len();
        let free = l.in_flight.available_permits();
        (waiting, self.in_flight_max.saturating_sub(free))
    }

    /// The next job of `lane`, if any.
    fn pop(&self, lane: Lane) -> Option<Job> {
        use std::sync::atomic::Ordering;
        let l = self.lane(lane);
        let job = l
            .jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop_front()?;
        if let Job::Effect { work: Some(_), .. } = &job {
            l.new_effects.fetch_sub(1, Ordering::Relaxed);
        }
        Some(job)
    }
}

/// Runs `lane`'s jobs, each once one of the lane's permits is free, until `cancel` fires.
pub(crate) async fn run(stand: Arc<Stand>, lane: Lane, cancel: CancellationToken) {
    let l = stand.performer.lanes.lane(lane);
    loop {
        let permit = tokio::select! {
            p = l.in_flight.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => return },
            _ = cancel.cancelled() => return,
        };
        let job = loop {
            // A wake stored by `notify_one` while nobody waited is kept, so a job pushed
            // between `pop` and `notified` is not missed.
            if let Some(job) = stand.performer.lanes.pop(lane) {
                break job;
            }
            tokio::select! {
                _ = l.wake.notified() => {}
                _ = cancel.cancelled() => return,
            }
        };
        let stand = stand.clone();
        tokio::spawn(async move {
            job.run(&stand).await;
            drop(permit);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::effect::PfrRequest;
    use crate::registry::HashProfile;
    use crate::stand::{AgencyUrls, RetryPolicy, StandConfig};
    use esia_mocks::clock::{Epoch, SimTime};
    use esia_mocks::ident::{Gender, Phone, Snils};
    use esia_mocks::service::World;
    use rand::SeedableRng;
    use std::time::Duration;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    /// PFR hangs on every request, holding each of its lane's permits; an SMS queued behind
    /// ten PFR requests still leaves while all of PFR's calls are in flight. With one shared
    /// pool of permits (the performer before its lanes) the SMS waited for a PFR call to end.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_sms_is_not_held_up_by_a_hanging_pfr() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/pfr/requests"))
            .respond_with(ResponseTemplate::new(503).set_delay(Duration::from_secs(120)))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/sms/messages"))
            .respond_with(
                ResponseTemplate::new(202).set_body_json(serde_json::json!({"message_id": "m1"})),
            )
            .mount(&server)
            .await;
        let config = StandConfig {
            hash_profile: HashProfile::None,
            code_seed: Some(3),
            retry: RetryPolicy {
                attempts: 1,
                timeout_ms: 120_000,
                ..RetryPolicy::default()
            },
            performer: PerformerConfig {
                in_flight: 4,
                ..PerformerConfig::default()
            },
            ..StandConfig::default()
        };
        let urls = AgencyUrls::flat(&server.uri());
        let world = World::new(Epoch::default(), SimTime::ZERO, 1.0).unwrap();
        let stand = Stand::new(&config, world.clone(), urls, "http://stand.test");
        let cancel = CancellationToken::new();
        stand.start(cancel.clone());
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        for _ in 0..10 {
            let effect = Effect::VerifyPfr(PfrRequest {
                request_id: RequestId::random(&mut rng),
                snils: Snils::from_body(112_233_445),
                surname: "Иванов".into(),
                name: "Иван".into(),
                patronymic: String::new(),
                birth_date: chrono::NaiveDate::from_ymd_opt(1990, 1, 1).unwrap(),
                gender: Gender::Male,
            });
            stand.performer.send_or_drop(effect, world.work());
        }
        // Bounded waits: a failure guard, not a figure.
        let mut pfr_calls = 0;
        for _ in 0..2_000 {
            pfr_calls = stand.performer.lane_load(Lane::Pfr).1;
            if pfr_calls == 4 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(pfr_calls, 4, "every PFR permit is held by a hanging call");
        let sms = Effect::SendSms {
            to: Phone::from_national(9_161_234_567),
            text: "Код подтверждения: 123456".into(),
            topic: crate::registry::Topic::AccountCreated,
        };
        stand.performer.send_or_drop(sms, world.work());
        let mut sent = false;
        for _ in 0..2_000 {
            let got = server.received_requests().await.unwrap_or_default();
            if got.iter().any(|r| r.url.path() == "/sms/messages") {
                sent = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(sent, "the SMS reached the gateway");
        assert_eq!(
            stand.performer.lane_load(Lane::Pfr),
            (6, 4),
            "PFR's calls were all still in flight, six more waiting, when the SMS left"
        );
        cancel.cancel();
    }
}
