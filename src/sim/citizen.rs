//! One simulated citizen: fixed-size state and the handling of its events.
//!
//! The citizen's choices (which path, when to act, typos, giving up) come from its traits and
//! the scenario's behaviour; what a choice does to the account comes from the engine's state
//! machines (`OneTimeCode`, `AccountState`); how agencies answer comes from their models.
//! Every draw is from `Chance::quick(seed, citizen, Behaviour, n)`, `n` counting the citizen's
//! draws, so a citizen's story depends on nothing but the seed and its index.

use super::queue::{Event as Scheduled, Queue};
use super::stations::{Office, Stations};
use super::World;
use crate::funnel::{Ending, Exit, Funnel, Path, Step, Trace};
use crate::registry::verification::{Agency, ReplyApplied};
use crate::registry::{AccountState, CodeCheck, CodePolicy, FailureReason, OneTimeCode, RequestId};
use crate::registry::{ConfirmationId, RegistryError, VerificationStatus};
use esia_mocks::agency::banks::{self, Bank, BankVerdict};
use esia_mocks::agency::ca::CaVerdict;
use esia_mocks::agency::centers::{self, Refusal, VisitOutcome};
use esia_mocks::agency::fms::FmsVerdict;
use esia_mocks::agency::pfr::PfrVerdict;
use esia_mocks::agency::post::PostVerdict;
use esia_mocks::agency::{
    ca, fms, mail, pfr, post, sms, Admission, MailVerdict, Reply, SmsVerdict,
};
use esia_mocks::chance::{Event, QuickRng};
use esia_mocks::clock::{SimTime, MS_PER_DAY, MS_PER_MIN, MS_PER_SEC};
use esia_mocks::population::Channel;
use rand::RngExt;

/// What happens to a citizen next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A citizen of the batch arrives (handled by the event loop, not by a live citizen).
    Arrive,
    /// Start registration: the engine issues a code and sends it.
    Register,
    /// The code (SMS) or link (e-mail) reaches the citizen.
    CodeArrives,
    /// The citizen types the code or follows the link.
    TypeCode,
    /// The citizen asks for a new code.
    Resend,
    /// The citizen chooses a password.
    SetPassword,
    /// The citizen submits personal data (or the bank sends its client's).
    SubmitData,
    /// PFR's and FMS's answers, and asking again after an error.
    PfrAnswer(PfrVerdict),
    FmsAnswer(FmsVerdict),
    PfrRetry,
    FmsRetry,
    /// The engine gives up waiting for a verification.
    VerificationTimeout,
    /// The citizen starts a confirmation (orders a letter, signs).
    StartConfirmation,
    /// The letter reaches the post office.
    LetterArrives,
    /// The citizen takes the letter for lost.
    LetterLostNoticed,
    /// The citizen picks the letter up, then types its code.
    Pickup,
    EnterLetterCode,
    /// The citizen comes to a service center (or an MFC to register).
    Visit,
    /// The operator finishes at the counter.
    Served,
    /// The CA's answer, and asking again after an error.
    CaAnswer(CaVerdict),
    CaRetry,
    /// The engine sends the code again after the gateway refused it (capacity).
    SendRetry,
    /// The engine hands the letter to the post again after a refusal (capacity).
    LetterRetry,
    /// The bank's relay reaches the bank (only when the bank has a capacity).
    BankRelay,
    /// The citizen's patience runs out in a center's queue.
    GiveUpQueue,
}

/// When and what comes of a request to an agency: its answer after the delay, or, after an
/// error, a timeout or in an outage, asking again after a backoff (the stand retries until the
/// agency answers).
fn fate<V>(reply: Reply<V>, answer: impl FnOnce(V) -> Kind, retry: Kind) -> (u64, Kind) {
    match reply {
        Reply::Answer { verdict, delay_ms } => (delay_ms, answer(verdict)),
        Reply::ServerError => (RETRY_AFTER_ERROR_MS, retry),
        Reply::Timeout => (RETRY_AFTER_TIMEOUT_MS, retry),
        Reply::Outage => (RETRY_IN_OUTAGE_MS, retry),
    }
}

/// An answer as a station lets it through: the reply with the wait added to its delay, or the
/// agency's refusal (the time after which asking again has a chance). An agency without a
/// capacity lets every reply through unchanged; failures never reach a server.
fn through<V>(
    stations: &mut Stations,
    office: Office,
    now: SimTime,
    reply: Reply<V>,
) -> Result<Reply<V>, u64> {
    match reply {
        Reply::Answer { verdict, delay_ms } if stations.has(office) => {
            match stations.offer(office, 0, now, delay_ms, None, |t| t) {
                Some(Admission::Served { done, .. }) => Ok(Reply::Answer {
                    verdict,
                    delay_ms: done.ms_since(now),
                }),
                Some(Admission::Refused { retry_after_ms, .. }) => Err(retry_after_ms),
                // No patience was given: nobody gives up.
                Some(Admission::GivesUp { .. }) | None => Ok(Reply::Answer { verdict, delay_ms }),
            }
        }
        other => Ok(other),
    }
}

/// Whether the citizen goes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Continue,
    Done,
}

/// What a citizen brings from the population, in a few bytes.
#[derive(Clone, Copy, Debug)]
struct Persona {
    channel: Channel,
    typo_rate: f64,
    patience_ms: u64,
    passport_expired: bool,
    snils_unknown: bool,
    /// The signature's last valid moment and whether it was revoked.
    signature: Option<(SimTime, bool)>,
    bank: Option<Bank>,
}

/// Backoff after an agency error, timeout or outage before asking again.
const RETRY_AFTER_ERROR_MS: u64 = 30 * MS_PER_SEC;
const RETRY_AFTER_TIMEOUT_MS: u64 = 60 * MS_PER_SEC;
const RETRY_IN_OUTAGE_MS: u64 = 5 * MS_PER_MIN;
/// The engine's backoff after an agency refused a request for capacity: doubling from 1 s to
/// 5 min, never sooner than the agency's `Retry-After`, with up to 50% jitter so that the
/// refused do not all come back at once.
const REFUSED_BACKOFF_MS: u64 = MS_PER_SEC;
const REFUSED_BACKOFF_MAX_MS: u64 = 5 * MS_PER_MIN;
/// Submissions of personal data a citizen makes before giving up on corrections.
const MAX_SUBMISSIONS: u8 = 3;
/// A citizen retypes a wrong code after this long.
const RETYPE_MS: u64 = 15 * MS_PER_SEC;

/// One live citizen. Fixed size, no strings.
#[derive(Clone, Debug)]
pub struct Live {
    /// Bumped when the slot is reused, so the previous citizen's events are void.
    pub generation: u32,
    slot: u32,
    k: u64,
    draws: u32,
    persona: Persona,
    trace: Trace,
    account: AccountState,
    code: OneTimeCode,
    /// The answers the agencies will give to the submission in force.
    pfr_truth: PfrVerdict,
    fms_truth: FmsVerdict,
    letter_ordered_at: Option<SimTime>,
    letter_lost: bool,
    /// The code in force reached the citizen.
    delivered: bool,
    passwords: u8,
    visits: u8,
    /// Refusals in a row by an agency at capacity (for the backoff).
    refusals: u8,
    /// What the citizen went through on the way ([`Story`] flags), for `load`'s model mix.
    story: u8,
    requests: u64,
}

/// What one citizen went through, beyond its trace: the turns a load journey replays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Story {
    /// Path, steps reached and ending.
    pub trace: Trace,
    pub channel: Channel,
    pub bank: Option<Bank>,
    /// Typed a wrong code at least once.
    pub wrong_code: bool,
    /// Asked for a new code (the one in force expired or was locked).
    pub resent: bool,
    /// Offered a password refused as weak.
    pub weak_password: bool,
    /// Corrected and resubmitted personal data PFR or FMS refused.
    pub resubmitted: bool,
    /// Ordered a letter again after losing one.
    pub reordered: bool,
}

const STORY_WRONG_CODE: u8 = 1;
const STORY_RESENT: u8 = 2;
const STORY_WEAK_PASSWORD: u8 = 4;
const STORY_RESUBMITTED: u8 = 8;
const STORY_REORDERED: u8 = 16;

impl Live {
    /// Citizen `k` arrives at `now`: its persona and path are drawn.
    pub fn arrive(world: &World, k: u64, now: SimTime) -> Live {
        let s = world.population.skeleton(k);
        let epoch = world.epoch;
        let persona = Persona {
            channel: s.traits.channel,
            typo_rate: s.traits.typo_rate as f64,
            patience_ms: (s.traits.patience_days as f64 * MS_PER_DAY as f64) as u64,
            passport_expired: s.traits.passport_expired,
            snils_unknown: s.traits.snils_unknown_to_pfr,
            signature: s.signature.map(|sig| {
                let last = epoch.time_of(sig.valid_to).saturating_add(MS_PER_DAY - 1);
                (last, sig.revoked)
            }),
            bank: if s.phone.is_some() { s.bank } else { None },
        };
        let mut live = Live {
            generation: 0,
            slot: 0,
            k,
            draws: 0,
            persona,
            trace: Trace::arrived(Path::Simplified, now),
            account: AccountState::simplified(),
            code: OneTimeCode::issue(now, 0, &world.registry.sms_code),
            pfr_truth: PfrVerdict::Match,
            fms_truth: FmsVerdict::Valid,
            letter_ordered_at: None,
            letter_lost: false,
            delivered: false,
            passwords: 0,
            visits: 0,
            refusals: 0,
            story: 0,
            requests: 0,
        };
        let has_phone = s.phone.is_some();
        let path = live.choose_path(world, has_phone, now);
        live.trace = Trace::arrived(path, now);
        live
    }

    fn rng(&mut self, world: &World) -> QuickRng {
        self.draws += 1;
        world.chance.quick(self.k, Event::Behaviour, self.draws)
    }

    fn choose_path(&mut self, world: &World, has_phone: bool, now: SimTime) -> Path {
        let weights = world.scenario.paths.as_array();
        let persona = self.persona;
        let open = |p: Path| {
            let (from, to) = world.windows[p as usize];
            let in_window = (from..to).contains(&now.as_millis());
            in_window
                && match p {
                    Path::ESignature => persona.signature.is_some(),
                    Path::Bank => persona.bank.is_some(),
                    Path::Mfc => has_phone,
                    _ => true,
                }
        };
        let total: f64 = Path::ALL
            .iter()
            .zip(weights)
            .filter(|(p, _)| open(**p))
            .map(|(_, w)| w)
            .sum();
        let mut x = self.rng(world).random::<f64>() * total;
        for (p, w) in Path::ALL.iter().zip(weights) {
            if !open(*p) || w <= 0.0 {
                continue;
            }
            if x < w {
                return *p;
            }
            x -= w;
        }
        Path::Simplified
    }

    fn at(&self, queue: &mut Queue, time: SimTime, kind: Kind) {
        queue.push(time, self.slot, self.generation, kind);
    }

    fn after(&self, queue: &mut Queue, now: SimTime, delay_ms: u64, kind: Kind) {
        self.at(queue, now.saturating_add(delay_ms), kind);
    }

    fn exit(&mut self, exit: Exit) -> Outcome {
        self.trace.ending = Ending::Exited(exit);
        Outcome::Done
    }

    fn complete(&mut self) -> Outcome {
        self.trace.ending = Ending::Completed;
        Outcome::Done
    }

    fn policy<'w>(&self, world: &'w World) -> &'w CodePolicy {
        match self.persona.channel {
            Channel::Sms => &world.registry.sms_code,
            Channel::Email => &world.registry.email_link,
        }
    }

    /// Schedules the citizen's first event in `slot`.
    pub fn start(
        &mut self,
        world: &World,
        now: SimTime,
        slot: u32,
        queue: &mut Queue,
        stations: &Stations,
    ) {
        self.slot = slot;
        match self.trace.path {
            Path::Mfc => self.at(queue, now, Kind::Visit),
            Path::Bank if stations.has(self.bank_office()) => {
                // The bank's queue is met when the form reaches it.
                let fill = world
                    .scenario
                    .behaviour
                    .set_password
                    .sample_ms(&mut self.rng(world));
                self.after(queue, now, fill, Kind::BankRelay);
            }
            Path::Bank => {
                // The client fills the bank's form; the bank relays it to the engine.
                let mut rng = self.rng(world);
                let fill = world.scenario.behaviour.set_password.sample_ms(&mut rng);
                let bank = self.persona.bank.unwrap_or(Bank::Sber);
                let reply = banks::respond(
                    bank,
                    BankVerdict::Client,
                    &world.scenario.agencies.banks,
                    now,
                    &mut rng,
                );
                // A failed relay is sent again after the backoff: either way the data arrive.
                let (relay, _) = fate(reply, |_| Kind::SubmitData, Kind::SubmitData);
                self.after(queue, now, fill + relay, Kind::SubmitData);
            }
            _ => self.at(queue, now, Kind::Register),
        }
    }

    fn bank_office(&self) -> Office {
        match self.persona.bank.unwrap_or(Bank::Sber) {
            Bank::Sber => Office::Sber,
            Bank::Tinkoff => Office::Tinkoff,
            Bank::Pochta => Office::Pochta,
        }
    }

    /// The reply an agency let through, or `None` when it refused: then `retry` is scheduled
    /// after the engine's backoff.
    fn admitted<V>(
        &mut self,
        world: &World,
        now: SimTime,
        queue: &mut Queue,
        queued: Result<Reply<V>, u64>,
        retry: Kind,
    ) -> Option<Reply<V>> {
        match queued {
            Ok(reply) => {
                self.refusals = 0;
                Some(reply)
            }
            Err(retry_after_ms) => {
                let wait = self.refused_backoff(world, retry_after_ms);
                self.after(queue, now, wait, retry);
                None
            }
        }
    }

    /// The delay before asking again an agency that refused for capacity.
    fn refused_backoff(&mut self, world: &World, retry_after_ms: u64) -> u64 {
        let doubling = REFUSED_BACKOFF_MS << u32::from(self.refusals.min(16));
        self.refusals = self.refusals.saturating_add(1);
        let base = doubling.min(REFUSED_BACKOFF_MAX_MS).max(retry_after_ms);
        let jitter = self.rng(world).random_range(0..=base / 2);
        base + jitter
    }

    /// Handles one event.
    pub fn handle(
        &mut self,
        world: &World,
        event: Scheduled,
        queue: &mut Queue,
        funnel: &mut Funnel,
        stations: &mut Stations,
    ) -> Outcome {
        let now = event.time;
        match event.kind {
            Kind::Arrive => Outcome::Continue,
            Kind::Register => {
                let value = self.rng(world).random_range(0..1_000_000u64);
                self.code = OneTimeCode::issue(now, value, self.policy(world));
                self.send_code(world, now, queue, stations)
            }
            Kind::SendRetry => self.send_code(world, now, queue, stations),
            Kind::CodeArrives => {
                self.delivered = true;
                let behaviour = &world.scenario.behaviour;
                let delay = match self.persona.channel {
                    Channel::Sms => behaviour.type_code.sample_ms(&mut self.rng(world)),
                    Channel::Email => behaviour.follow_link.sample_ms(&mut self.rng(world)),
                };
                self.after(queue, now, delay, Kind::TypeCode);
                Outcome::Continue
            }
            Kind::TypeCode => self.type_code(world, now, queue),
            Kind::Resend => {
                let value = self.rng(world).random_range(0..1_000_000u64);
                let policy = *self.policy(world);
                match self.code.resend(now, value, &policy) {
                    Ok(_) => {
                        self.story |= STORY_RESENT;
                        self.send_code(world, now, queue, stations)
                    }
                    Err(crate::registry::ResendRefused::TooSoon { retry_after_ms }) => {
                        self.after(queue, now, retry_after_ms, Kind::Resend);
                        Outcome::Continue
                    }
                    Err(crate::registry::ResendRefused::TooMany) => {
                        self.exit(match self.persona.channel {
                            Channel::Email => Exit::LinkNotFollowed,
                            Channel::Sms if !self.delivered => Exit::CodeNotReceived,
                            Channel::Sms if self.code.attempts_left() == 0 => Exit::CodeLocked,
                            Channel::Sms => Exit::CodeExpired,
                        })
                    }
                }
            }
            Kind::SetPassword => {
                let behaviour = &world.scenario.behaviour;
                let (weak, quit) = (
                    behaviour.weak_password_share,
                    behaviour.quit_on_weak_password_share,
                );
                let mut rng = self.rng(world);
                // Each try is less likely weak: the refusal says which rule was broken.
                let weak_now = rng.random_bool(weak / (1 + self.passwords as u32) as f64);
                self.passwords += 1;
                if weak_now {
                    self.story |= STORY_WEAK_PASSWORD;
                    if rng.random_bool(quit) {
                        return self.exit(Exit::WeakPassword);
                    }
                    self.after(queue, now, RETYPE_MS * 2, Kind::SetPassword);
                    return Outcome::Continue;
                }
                self.trace.reach(Step::Simplified, now);
                if self.trace.path == Path::Simplified {
                    return self.complete();
                }
                let delay = behaviour.fill_personal_data.sample_ms(&mut self.rng(world));
                self.after(queue, now, delay, Kind::SubmitData);
                Outcome::Continue
            }
            Kind::SubmitData => self.submit(world, now, queue, stations),
            Kind::PfrRetry => {
                self.ask(world, now, queue, Agency::Pfr, stations);
                Outcome::Continue
            }
            Kind::FmsRetry => {
                self.ask(world, now, queue, Agency::Fms, stations);
                Outcome::Continue
            }
            Kind::BankRelay => {
                let bank = self.persona.bank.unwrap_or(Bank::Sber);
                let reply = banks::respond(
                    bank,
                    BankVerdict::Client,
                    &world.scenario.agencies.banks,
                    now,
                    &mut self.rng(world),
                );
                let queued = through(stations, self.bank_office(), now, reply);
                if let Some(reply) = self.admitted(world, now, queue, queued, Kind::BankRelay) {
                    // A failed relay is sent again after the backoff: either way the data
                    // arrive.
                    let (relay, _) = fate(reply, |_| Kind::SubmitData, Kind::SubmitData);
                    self.after(queue, now, relay, Kind::SubmitData);
                }
                Outcome::Continue
            }
            Kind::PfrAnswer(verdict) => {
                let (request, _) = self.account.verification().requests();
                let applied = match request {
                    Some(r) => self.account.apply_pfr(now, r, verdict),
                    None => ReplyApplied::Stale,
                };
                self.after_reply(world, now, applied, queue, funnel)
            }
            Kind::FmsAnswer(verdict) => {
                let (_, request) = self.account.verification().requests();
                let applied = match request {
                    Some(r) => self.account.apply_fms(now, r, verdict),
                    None => ReplyApplied::Stale,
                };
                self.after_reply(world, now, applied, queue, funnel)
            }
            Kind::VerificationTimeout => {
                let submitted = self.account.verification().submitted_at();
                if self.account.verification().status() == VerificationStatus::Pending
                    && self
                        .account
                        .time_out(now, world.registry.verification_timeout_ms)
                {
                    funnel.verification_pending(submitted, Some(now));
                    return self.exit(Exit::VerificationTimeout);
                }
                Outcome::Continue
            }
            Kind::StartConfirmation => self.start_confirmation(world, now, queue, stations),
            Kind::LetterRetry => self.send_letter(world, now, queue, stations),
            Kind::LetterArrives => {
                if let Some(ordered) = self.letter_ordered_at {
                    funnel.letter_delivered(ordered, now);
                }
                let delay = world
                    .scenario
                    .behaviour
                    .pickup
                    .sample_ms(&mut self.rng(world));
                self.after(queue, now, delay, Kind::Pickup);
                Outcome::Continue
            }
            Kind::Pickup => {
                if let Some(ordered) = self.letter_ordered_at.take() {
                    funnel.letter_in_transit(ordered, Some(now));
                }
                let delay = world
                    .scenario
                    .behaviour
                    .enter_letter_code
                    .sample_ms(&mut self.rng(world));
                self.after(queue, now, delay, Kind::EnterLetterCode);
                Outcome::Continue
            }
            Kind::LetterLostNoticed => {
                if !self.letter_lost {
                    return Outcome::Continue; // it came after all
                }
                if let Some(ordered) = self.letter_ordered_at.take() {
                    funnel.letter_in_transit(ordered, Some(now));
                }
                let share = world.scenario.behaviour.reorder_lost_letter_share;
                if self.rng(world).random_bool(share) {
                    self.story |= STORY_REORDERED;
                    self.order_letter(world, now, queue, stations)
                } else {
                    self.exit(Exit::LetterLost)
                }
            }
            Kind::EnterLetterCode => {
                let value = self.account.confirmation().letter.map(|l| l.code.value());
                let typo = self.rng(world).random_bool(self.persona.typo_rate);
                let typed = value.map_or(0, |v| if typo { v ^ 1 } else { v });
                match self.account.enter_letter_code(now, typed) {
                    Ok(()) => {
                        self.trace.reach(Step::Confirmed, now);
                        self.complete()
                    }
                    Err(RegistryError::CodeWrong { .. }) => {
                        self.after(queue, now, RETYPE_MS, Kind::EnterLetterCode);
                        Outcome::Continue
                    }
                    Err(_) => self.exit(Exit::LetterExpired),
                }
            }
            Kind::Visit => self.visit(world, now, queue, stations),
            Kind::GiveUpQueue => self.exit(Exit::GaveUpQueue),
            Kind::Served => {
                if self.trace.path == Path::Mfc {
                    self.account = AccountState::mfc_registered(now);
                    self.trace.reach(Step::Confirmed, now);
                    return self.complete();
                }
                match self.account.confirm_in_person(now) {
                    Ok(()) => {
                        self.trace.reach(Step::Confirmed, now);
                        self.complete()
                    }
                    Err(_) => self.exit(Exit::CenterGaveUp),
                }
            }
            Kind::CaRetry => {
                self.ask_ca(world, now, queue, stations);
                Outcome::Continue
            }
            Kind::CaAnswer(verdict) => {
                let request = RequestId(self.requests);
                match self.account.apply_certificate(now, request, verdict) {
                    crate::registry::account::SignatureApplied::Confirmed => {
                        self.trace.reach(Step::Confirmed, now);
                        self.complete()
                    }
                    crate::registry::account::SignatureApplied::Refused(v) => self.exit(match v {
                        CaVerdict::Expired => Exit::SignatureExpired,
                        CaVerdict::Revoked => Exit::SignatureRevoked,
                        _ => Exit::SignatureRefused,
                    }),
                    crate::registry::account::SignatureApplied::Stale => Outcome::Continue,
                }
            }
        }
    }

    fn send_code(
        &mut self,
        world: &World,
        now: SimTime,
        queue: &mut Queue,
        stations: &mut Stations,
    ) -> Outcome {
        self.delivered = false;
        let agencies = &world.scenario.agencies;
        let behaviour = &world.scenario.behaviour;
        let mut rng = self.rng(world);
        let queued = match self.persona.channel {
            Channel::Sms => through(
                stations,
                Office::Sms,
                now,
                sms::send(&agencies.sms, now, &mut rng).map(Ok),
            ),
            Channel::Email => through(
                stations,
                Office::Mail,
                now,
                mail::send(&agencies.mail, now, &mut rng).map(Err),
            ),
        };
        // A refused code is sent again later, the same code.
        let Some(reply) = self.admitted(world, now, queue, queued, Kind::SendRetry) else {
            return Outcome::Continue;
        };
        let arrives = match self.persona.channel {
            Channel::Sms => match reply.map(|v| v.ok()) {
                Reply::Answer {
                    verdict: Some(SmsVerdict::Delivered),
                    delay_ms,
                } => Some(delay_ms),
                _ => None,
            },
            Channel::Email => match reply.map(|v| v.err()) {
                Reply::Answer {
                    verdict: Some(MailVerdict::Inbox),
                    delay_ms,
                } => Some(delay_ms),
                Reply::Answer {
                    verdict: Some(MailVerdict::Spam),
                    delay_ms,
                } if rng.random_bool(behaviour.find_in_spam_share) => Some(delay_ms),
                _ => None,
            },
        };
        match arrives {
            Some(delay) => self.after(queue, now, delay, Kind::CodeArrives),
            None => {
                // Nothing comes: the citizen waits, then asks for a new one.
                let wait = match self.persona.channel {
                    Channel::Sms => behaviour.resend_after.sample_ms(&mut rng),
                    Channel::Email => behaviour.follow_link.sample_ms(&mut rng),
                };
                self.after(queue, now, wait, Kind::Resend);
            }
        }
        Outcome::Continue
    }

    fn type_code(&mut self, world: &World, now: SimTime, queue: &mut Queue) -> Outcome {
        let value = self.code.value();
        // A link is followed, not typed: no typos by e-mail.
        let typo = self.persona.channel == Channel::Sms
            && self.rng(world).random_bool(self.persona.typo_rate);
        let typed = if typo { (value + 1) % 1_000_000 } else { value };
        match self.code.check(now, typed) {
            CodeCheck::Accepted => {
                self.trace.reach(Step::ContactConfirmed, now);
                let delay = world
                    .scenario
                    .behaviour
                    .set_password
                    .sample_ms(&mut self.rng(world));
                self.after(queue, now, delay, Kind::SetPassword);
            }
            CodeCheck::Wrong { .. } => {
                self.story |= STORY_WRONG_CODE;
                self.after(queue, now, RETYPE_MS, Kind::TypeCode)
            }
            // Expired or locked: ask for a new code (the engine refuses once resends run out).
            CodeCheck::Expired | CodeCheck::Locked => self.at(queue, now, Kind::Resend),
        }
        Outcome::Continue
    }

    /// Plans what PFR and FMS will answer to this submission: the truth, and the typos.
    fn plan_answers(&mut self, world: &World) {
        let p = if self.trace.path == Path::Bank {
            0.0 // the bank sends the data it verified itself
        } else {
            self.persona.typo_rate
        };
        let mut rng = self.rng(world);
        // Surname, name, patronymic, birth date: both agencies compare them.
        let names_typo = (0..4).any(|_| rng.random_bool(p));
        // A typo in the SNILS fails its check number nine times in ten (the engine refuses the
        // form and the citizen retypes); the rest is another person's number.
        let snils_typo = rng.random_bool(p * 0.1);
        let passport_typo = rng.random_bool(p);
        let issue_typo = rng.random_bool(p);
        self.pfr_truth = if self.persona.snils_unknown || snils_typo {
            PfrVerdict::NotFound
        } else if names_typo {
            PfrVerdict::Mismatch
        } else {
            PfrVerdict::Match
        };
        self.fms_truth = if passport_typo {
            FmsVerdict::NotFound
        } else if self.persona.passport_expired {
            FmsVerdict::Invalid
        } else if names_typo || issue_typo {
            FmsVerdict::Mismatch
        } else {
            FmsVerdict::Valid
        };
    }

    fn submit(
        &mut self,
        world: &World,
        now: SimTime,
        queue: &mut Queue,
        stations: &mut Stations,
    ) -> Outcome {
        self.plan_answers(world);
        self.requests += 2;
        let (pfr_request, fms_request) = (RequestId(self.requests - 1), RequestId(self.requests));
        if self
            .account
            .submit_personal_data(now, pfr_request, fms_request)
            .is_err()
        {
            return Outcome::Continue; // a verification is already running
        }
        self.trace.reach(Step::PersonalData, now);
        self.ask(world, now, queue, Agency::Pfr, stations);
        self.ask(world, now, queue, Agency::Fms, stations);
        Outcome::Continue
    }

    /// Asks PFR or FMS about the submission in force; past the engine's verification timeout
    /// the answer no longer matters, so the timeout is scheduled instead (no citizen keeps a
    /// far-off timeout in the queue just in case).
    fn ask(
        &mut self,
        world: &World,
        now: SimTime,
        queue: &mut Queue,
        agency: Agency,
        stations: &mut Stations,
    ) {
        let agencies = &world.scenario.agencies;
        let mut rng = self.rng(world);
        let (office, reply, retry) = match agency {
            Agency::Pfr => (
                Office::Pfr,
                pfr::respond(self.pfr_truth, &agencies.pfr, now, &mut rng).map(Kind::PfrAnswer),
                Kind::PfrRetry,
            ),
            Agency::Fms => (
                Office::Fms,
                fms::respond(self.fms_truth, &agencies.fms, now, &mut rng).map(Kind::FmsAnswer),
                Kind::FmsRetry,
            ),
        };
        let queued = through(stations, office, now, reply)
            .map(|reply| fate(reply, |kind| kind, retry))
            .map_err(|retry_after| (retry_after, retry));
        // SMEV refused for its quota or queue: the engine asks again after its backoff.
        let (delay_ms, kind) = match queued {
            Ok(next) => next,
            Err((retry_after_ms, retry)) => (self.refused_backoff(world, retry_after_ms), retry),
        };
        let at = now.saturating_add(delay_ms);
        let deadline = self
            .account
            .verification()
            .submitted_at()
            .saturating_add(world.registry.verification_timeout_ms + 1);
        if at > deadline {
            self.at(queue, deadline, Kind::VerificationTimeout);
        } else {
            self.at(queue, at, kind);
        }
    }

    fn ask_ca(&mut self, world: &World, now: SimTime, queue: &mut Queue, stations: &mut Stations) {
        let verdict = match self.persona.signature {
            Some((_, true)) => CaVerdict::Revoked,
            Some((last, false)) if now > last => CaVerdict::Expired,
            Some(_) => CaVerdict::Valid,
            None => CaVerdict::NotFound,
        };
        let reply = ca::respond(
            verdict,
            &world.scenario.agencies.ca,
            now,
            &mut self.rng(world),
        );
        let (delay_ms, kind) = match through(stations, Office::Ca, now, reply) {
            Ok(reply) => fate(reply, Kind::CaAnswer, Kind::CaRetry),
            Err(retry_after_ms) => (self.refused_backoff(world, retry_after_ms), Kind::CaRetry),
        };
        self.after(queue, now, delay_ms, kind);
    }

    fn after_reply(
        &mut self,
        world: &World,
        now: SimTime,
        applied: ReplyApplied,
        queue: &mut Queue,
        funnel: &mut Funnel,
    ) -> Outcome {
        let submitted = self.account.verification().submitted_at();
        match applied {
            ReplyApplied::Passed => {
                funnel.verification_pending(submitted, Some(now));
                self.trace.reach(Step::Standard, now);
                if self.trace.path == Path::Bank {
                    let bank = self.persona.bank.unwrap_or(Bank::Sber);
                    let verified = *self.account.verification();
                    return match self.account.confirm_by_bank(now, bank, verified) {
                        Ok(()) => {
                            self.trace.reach(Step::Confirmed, now);
                            self.complete()
                        }
                        Err(_) => self.exit(Exit::GaveUpWaiting),
                    };
                }
                if self.trace.path == Path::Standard {
                    return self.complete();
                }
                if now.ms_since(submitted) > self.persona.patience_ms {
                    // The answer came after the citizen stopped waiting for it.
                    return self.exit(Exit::GaveUpWaiting);
                }
                let delay = match self.trace.path {
                    Path::ServiceCenter => world
                        .scenario
                        .agencies
                        .centers
                        .sample_visit_delay_ms(&mut self.rng(world)),
                    _ => world
                        .scenario
                        .behaviour
                        .start_confirmation
                        .sample_ms(&mut self.rng(world)),
                };
                let next = if self.trace.path == Path::ServiceCenter {
                    Kind::Visit
                } else {
                    Kind::StartConfirmation
                };
                self.after(queue, now, delay, next);
                Outcome::Continue
            }
            ReplyApplied::Failed(reason) => {
                funnel.verification_pending(submitted, Some(now));
                // A typo can be corrected; an unknown SNILS or an expired passport cannot.
                let fixable = match reason {
                    FailureReason::PfrNotFound => !self.persona.snils_unknown,
                    FailureReason::FmsInvalid => false,
                    _ => true,
                };
                let share = world.scenario.behaviour.resubmit_share;
                let tries_left = self.account.verification().submissions() < MAX_SUBMISSIONS;
                if fixable
                    && tries_left
                    && self.trace.path != Path::Bank
                    && self.rng(world).random_bool(share)
                {
                    self.story |= STORY_RESUBMITTED;
                    let delay = world
                        .scenario
                        .behaviour
                        .resubmit_after
                        .sample_ms(&mut self.rng(world));
                    self.after(queue, now, delay, Kind::SubmitData);
                    return Outcome::Continue;
                }
                self.exit(match reason {
                    FailureReason::PfrMismatch => Exit::PfrMismatch,
                    FailureReason::PfrNotFound => Exit::PfrNotFound,
                    FailureReason::FmsInvalid => Exit::FmsInvalid,
                    FailureReason::FmsMismatch => Exit::FmsMismatch,
                    FailureReason::FmsNotFound => Exit::FmsNotFound,
                    _ => Exit::VerificationTimeout,
                })
            }
            ReplyApplied::Waiting
            | ReplyApplied::Late
            | ReplyApplied::Stale
            | ReplyApplied::Duplicate => Outcome::Continue,
        }
    }

    fn start_confirmation(
        &mut self,
        world: &World,
        now: SimTime,
        queue: &mut Queue,
        stations: &mut Stations,
    ) -> Outcome {
        self.trace.reach(Step::ConfirmationStarted, now);
        match self.trace.path {
            Path::Post => self.order_letter(world, now, queue, stations),
            Path::ESignature => {
                self.requests += 1;
                if self
                    .account
                    .start_signature(RequestId(self.requests))
                    .is_err()
                {
                    return self.exit(Exit::SignatureRefused);
                }
                self.ask_ca(world, now, queue, stations);
                Outcome::Continue
            }
            _ => Outcome::Continue,
        }
    }

    fn order_letter(
        &mut self,
        world: &World,
        now: SimTime,
        queue: &mut Queue,
        stations: &mut Stations,
    ) -> Outcome {
        let value = self.rng(world).random_range(0..100_000_000u64);
        self.requests += 1;
        let id = ConfirmationId(self.requests);
        if self
            .account
            .order_letter(now, id, value, &world.registry.letter_code)
            .is_err()
        {
            return self.exit(Exit::LetterLost); // no more re-orders
        }
        self.letter_ordered_at = Some(now);
        self.send_letter(world, now, queue, stations)
    }

    /// Hands the letter in force to the post.
    fn send_letter(
        &mut self,
        world: &World,
        now: SimTime,
        queue: &mut Queue,
        stations: &mut Stations,
    ) -> Outcome {
        let reply = post::send(&world.scenario.agencies.post, now, &mut self.rng(world));
        let queued = through(stations, Office::Post, now, reply);
        let Some(reply) = self.admitted(world, now, queue, queued, Kind::LetterRetry) else {
            return Outcome::Continue;
        };
        match reply {
            Reply::Answer {
                verdict: PostVerdict::Delivered,
                delay_ms,
            } => {
                self.letter_lost = false;
                self.after(queue, now, delay_ms, Kind::LetterArrives);
            }
            // Lost, or never accepted: the citizen finds out only by waiting.
            _ => {
                self.letter_lost = true;
                let wait = world.scenario.behaviour.letter_lost_after;
                self.after(queue, now, wait, Kind::LetterLostNoticed);
            }
        }
        Outcome::Continue
    }

    fn visit(
        &mut self,
        world: &World,
        now: SimTime,
        queue: &mut Queue,
        stations: &mut Stations,
    ) -> Outcome {
        let centers = if self.trace.path == Path::Mfc {
            &world.mfcs
        } else {
            &world.centers
        };
        let pick = self.rng(world).random_range(0..centers.len());
        let center = &centers[pick];
        let index = if self.trace.path == Path::Mfc {
            world.mfc_index[pick]
        } else {
            pick
        };
        // Citizens come while the center is open: at opening or later that day.
        let open = center.next_open(world.epoch, now).unwrap_or(now);
        if open > now {
            let offset = self.rng(world).random_range(0..3 * 60 * MS_PER_MIN);
            self.at(queue, open.saturating_add(offset), Kind::Visit);
            return Outcome::Continue;
        }
        self.visits += 1;
        self.trace.reach(Step::ConfirmationStarted, now);
        let outcome = centers::visit(
            center,
            world.epoch,
            now,
            &world.scenario.agencies.centers,
            &mut self.rng(world),
        );
        let outcome = match outcome {
            VisitOutcome::Served { delay_ms } if stations.has(Office::Centers) => {
                let epoch = world.epoch;
                let opening = |t: SimTime| center.next_open(epoch, t).unwrap_or(t);
                let patience = Some(self.persona.patience_ms);
                match stations.offer(Office::Centers, index, now, delay_ms, patience, opening) {
                    Some(Admission::Served { done, .. }) => VisitOutcome::Served {
                        delay_ms: done.ms_since(now),
                    },
                    Some(Admission::GivesUp { at }) => {
                        self.at(queue, at, Kind::GiveUpQueue);
                        return Outcome::Continue;
                    }
                    Some(Admission::Refused { .. }) => VisitOutcome::Refused(Refusal::Queue),
                    None => outcome,
                }
            }
            other => other,
        };
        match outcome {
            VisitOutcome::Served { delay_ms } => {
                self.after(queue, now, delay_ms, Kind::Served);
                Outcome::Continue
            }
            VisitOutcome::Closed | VisitOutcome::Refused(_) => {
                let behaviour = &world.scenario.behaviour;
                if self.visits < 5 && self.rng(world).random_bool(behaviour.revisit_share) {
                    let delay = behaviour.revisit_after.sample_ms(&mut self.rng(world));
                    self.after(queue, now, delay, Kind::Visit);
                    Outcome::Continue
                } else {
                    self.exit(Exit::CenterGaveUp)
                }
            }
        }
    }

    /// Folds the citizen into the funnel: completed, exited, or censored at `horizon`.
    /// The citizen's story so far.
    pub fn story(&self) -> Story {
        let has = |flag: u8| self.story & flag != 0;
        Story {
            trace: self.trace,
            channel: self.persona.channel,
            bank: self.persona.bank,
            wrong_code: has(STORY_WRONG_CODE),
            resent: has(STORY_RESENT),
            weak_password: has(STORY_WEAK_PASSWORD),
            resubmitted: has(STORY_RESUBMITTED),
            reordered: has(STORY_REORDERED),
        }
    }

    pub fn finish(&mut self, funnel: &mut Funnel, horizon: SimTime) {
        if self.trace.ending == Ending::Censored {
            if self.account.verification().status() == VerificationStatus::Pending {
                funnel.verification_pending(self.account.verification().submitted_at(), None);
            }
            if let Some(ordered) = self.letter_ordered_at.take() {
                funnel.letter_in_transit(ordered, None);
            }
        }
        funnel.record(&self.trace, horizon);
    }
}
