//! The effect performer: carries out what the registry asks ([`Effect`]) through the agencies'
//! HTTP APIs, and feeds their answers back into the registry.
//!
//! - Effects wait in a bounded queue (commands reserve their room before they run, so a full
//!   queue refuses the command with 503 instead of losing its effects), from which they go at
//!   once to their agency's lane ([`lane`]): each agency has its own bounded queue and its own
//!   share of calls in flight, so one agency's faults, slowness or retries never delay another's
//!   effects. An effect that finds its lane full fails at once, with its agency's reason.
//! - SMS and e-mail are sent with retries; one that still fails is logged and counted (the
//!   citizen asks for a new code, as with a real gateway).
//! - An agency at its capacity (429 with `Retry-After`: a full queue, a spent quota, SMEV's
//!   `QUOTE_LIMIT_EXCEEDED`) does not fail the effect: it is set aside, without holding a
//!   worker, and performed again after the agency's `Retry-After` plus the client's jittered
//!   backoff, as often as it is refused, for up to `refused_for_max_ms`. Only then, or when
//!   `deferred_max` effects are already set aside, does it fail as an agency that cannot be
//!   reached (a verification with `pfr_unavailable` / `fms_unavailable`, a letter refused with
//!   the reason, an SMS or e-mail logged and counted as failed). So an SMS, a letter or a
//!   verification is never lost: it is performed in the end, or fails with a reason.
//! - A PFR or FMS request is sent with retries until acknowledged; an agency that never
//!   acknowledges makes the verification fail with `pfr_unavailable` / `fms_unavailable`. An
//!   acknowledged request waits for its answer: the agency's callback (SMEV style) triggers a
//!   poll at once, and polls at growing intervals (2 s doubling to 60 s of wall time) are the
//!   fallback. A request the agency forgot (404) is sent again. So a verification is never lost:
//!   it is answered, or it fails with a reason, or the registry times it out.
//! - A letter goes to the post (`POST {post}/letters`, the confirmation id as its idempotent
//!   `reference`, the code in its text, the recipient's passport for the clerk); its tracking
//!   number, or the post's refusal, is kept in a bounded map that the order route and the
//!   account view read.
//! - A certificate check fetches the certificate from the CA (`GET {ca}/certificates/{serial}`)
//!   and judges it for the signer with the CA model's rules at the world's `now`; a CA that
//!   cannot be reached drops the check (the citizen may sign again). The outcome is kept in a
//!   bounded map that the signing route reads.
//! - Without a post or CA URL ([`AgencyUrls`]'s `None`), letters and checks are kept in a
//!   bounded list of held effects and logged.
//! - For the world's advance (which runs what is due in time order), each queued effect, each
//!   SMS waiting for its batch and each poll a callback asked for carries a [`Work`] until it
//!   is performed: the clock moves on only once the work an answer set off is done.

mod lane;

pub use lane::Lane;

use super::agencies::CallFailed;
use super::Stand;
use crate::registry::Agency;
use crate::registry::{ConfirmationId, Effect, ReplyOutcome, RequestId, Topic};
use esia_mocks::agency::ca::{self, CaQuery, CaVerdict, Certificate};
use esia_mocks::agency::{FmsVerdict, PfrVerdict};
use esia_mocks::clock::SimTime;
use esia_mocks::service::{Work, World};
use esia_mocks::wire::fms::FmsRequest;
use esia_mocks::wire::pfr::PfrRequest;
use esia_mocks::wire::smev::{RequestView, SmevStatus};
use serde::de::IgnoredAny;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, Notify, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// The figures of the performer. Defaults: 32 calls in flight to each agency, 65,536 effects
/// queued (a command waits up to 1 s for room, then 503) and 65,536 new effects waiting in each
/// agency's lane, polls from 2 s doubling to 60 s, a
/// forgotten request sent again at most 5 times, 1,000 held effects kept, the outcomes of the
/// last 100,000 letters and certificate checks kept, SMS sent one per request (`sms_batch` 1;
/// the stand sets 100 for its own SMS mock), up to 65,536 effects set aside after an agency
/// refused them for its capacity, each tried again for up to 10 minutes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PerformerConfig {
    /// Calls in flight to one agency at most (each agency has its own lane and share).
    pub in_flight: usize,
    pub queue: usize,
    /// New effects waiting in one agency's lane at most; past it an effect fails at once.
    pub lane_queue: usize,
    pub poll_first_ms: u64,
    pub poll_max_ms: u64,
    pub resends_max: u32,
    pub held_max: usize,
    pub outcomes_max: usize,
    pub room_wait_ms: u64,
    /// The most SMS sent in one request (`{"messages": [...]}`, as bulk gateways take them):
    /// SMS queued together while every call is in flight leave together. 1: one per request.
    pub sms_batch: usize,
    /// Effects set aside after an agency refused them for its capacity (429), at most; past
    /// it a refused effect fails at once.
    pub deferred_max: usize,
    /// How long (wall time, from its first refusal) a refused effect is tried again before it
    /// fails.
    pub refused_for_max_ms: u64,
}

impl Default for PerformerConfig {
    fn default() -> Self {
        Self {
            in_flight: 32,
            queue: 65_536,
            lane_queue: 65_536,
            poll_first_ms: 2_000,
            poll_max_ms: 60_000,
            resends_max: 5,
            held_max: 1_000,
            outcomes_max: 100_000,
            room_wait_ms: 1_000,
            sms_batch: 1,
            deferred_max: 65_536,
            refused_for_max_ms: 600_000,
        }
    }
}

/// The base URL of each agency the engine calls (`http://host:port/mocks/sms`...). Without a
/// `post` or `ca` URL, letters or certificate checks are held (logged, counted, not performed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgencyUrls {
    pub sms: String,
    pub mail: String,
    pub pfr: String,
    pub fms: String,
    pub post: Option<String>,
    pub ca: Option<String>,
}

impl AgencyUrls {
    /// Every agency on the stand at `base` (`http://127.0.0.1:PORT`).
    pub fn on(base: &str) -> Self {
        let mocks = format!("{}/mocks", base.trim_end_matches('/'));
        Self {
            post: Some(format!("{mocks}/post")),
            ca: Some(format!("{mocks}/ca")),
            ..Self::flat(&mocks)
        }
    }

    /// SMS, mail, PFR and FMS at `{base}/sms`... (a test double with one route prefix per
    /// agency, such as a wiremock server); no post or CA, so letters and certificate checks
    /// are held.
    pub fn flat(base: &str) -> Self {
        let base = base.trim_end_matches('/');
        Self {
            sms: format!("{base}/sms"),
            mail: format!("{base}/mail"),
            pfr: format!("{base}/pfr"),
            fms: format!("{base}/fms"),
            post: None,
            ca: None,
        }
    }
}

/// What became of a letter the engine ordered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LetterSent {
    /// The post accepted it.
    Accepted { tracking_number: String },
    /// The post could not be reached, or refused it, after every retry.
    Refused { reason: String },
}

/// What became of a certificate check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureChecked {
    /// Valid and the signer's: the account is confirmed.
    Confirmed,
    /// The CA's record says no (expired, revoked, someone else's, unknown).
    Refused(CaVerdict),
    /// The CA could not be reached after every retry: the check is dropped.
    Unavailable,
    /// The answer came for a check already replaced (signed again, or confirmed otherwise).
    Stale,
}

/// The outcomes of letters and certificate checks, the oldest forgotten past the cap.
#[derive(Debug, Default)]
struct Outcomes {
    letters: HashMap<ConfirmationId, LetterSent>,
    letters_order: VecDeque<ConfirmationId>,
    signatures: HashMap<RequestId, SignatureChecked>,
    signatures_order: VecDeque<RequestId>,
}

/// The body of `POST {sms,mail}/messages`.
#[derive(Serialize)]
struct Message<'a> {
    to: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<&'a str>,
    text: &'a str,
}

/// The answer of `POST {post}/letters`.
#[derive(Debug, serde::Deserialize)]
struct PostAccepted {
    tracking_number: String,
}

/// An effect the stand does not perform (no post or CA URL), as `GET /healthz` counts and the
/// log shows them.
#[derive(Clone, Debug, Serialize)]
pub struct Held {
    pub kind: &'static str,
    pub at: String,
    pub detail: String,
}

/// A request waiting for its answer.
#[derive(Debug)]
struct Waiting {
    agency: Agency,
    body: Arc<serde_json::Value>,
    issued_at: SimTime,
    interval_ms: u64,
    resends: u32,
    due: Instant,
    /// Held while a poll a callback asked for is due or in flight.
    work: Option<Work>,
}

#[derive(Debug, Default)]
struct Waits {
    by_id: HashMap<RequestId, Waiting>,
    order: BTreeSet<(Instant, RequestId)>,
    /// Callbacks that came before the acknowledgement was read (the agency answered at once):
    /// the request is polled as soon as it waits. A bounded ring.
    early: VecDeque<RequestId>,
}

/// An effect in the queue, counted as the world's work until performed.
#[derive(Debug)]
pub(crate) struct Queued {
    pub(crate) effect: Effect,
    pub(crate) work: Work,
}

/// Early callbacks remembered.
const EARLY_CALLBACKS_MAX: usize = 1_024;

/// What an agency refused for its capacity, to do again.
#[derive(Debug)]
enum Again {
    /// An effect, performed again as if it came from the queue.
    Effect(Effect),
    /// SMS (a batch, or the refused part of one), sent again together.
    Sms(Vec<Sms>),
    /// A verification request, sent again (after `resends` resends of a forgotten one).
    Ask {
        agency: Agency,
        id: RequestId,
        body: Arc<serde_json::Value>,
        resends: u32,
    },
}

/// The refusals for capacity of one effect so far: how many, and since when (wall time).
#[derive(Clone, Copy, Debug, Default)]
struct Refusals {
    count: u32,
    since: Option<Instant>,
}

/// Effects set aside until they are due again, by (due, sequence number).
#[derive(Debug, Default)]
struct Deferred {
    by_due: std::collections::BTreeMap<(Instant, u64), (Again, Refusals)>,
    next: u64,
}

/// The performer's state inside the [`Stand`].
#[derive(Debug)]
pub struct Performer {
    tx: mpsc::Sender<Queued>,
    rx: Mutex<Option<mpsc::Receiver<Queued>>>,
    waits: Mutex<Waits>,
    wake: Notify,
    lanes: lane::Lanes,
    urls: AgencyUrls,
    /// Where agencies call back: `{engine}/api/v1/callbacks`.
    callback_base: String,
    /// The engine's public base URL, for links in e-mails.
    public_base: String,
    config: PerformerConfig,
    held: Mutex<VecDeque<Held>>,
    outcomes: Mutex<Outcomes>,
    /// The SMS waiting to leave in batches (when `sms_batch` > 1), and its receiving end
    /// until the lane starts.
    sms: mpsc::Sender<Sms>,
    sms_rx: Mutex<Option<mpsc::Receiver<Sms>>>,
    /// Partner requests waiting for their verification, woken when it is decided.
    partners: Mutex<HashMap<ConfirmationId, Arc<Notify>>>,
    /// Effects an agency refused for its capacity, and the wake of their task.
    deferred: Mutex<Deferred>,
    deferred_wake: Notify,
}

/// A partner request's place among the waiting ones; dropping it leaves.
pub(crate) struct PartnerWait<'a> {
    performer: &'a Performer,
    id: ConfirmationId,
    pub(crate) settled: Arc<Notify>,
}

impl Drop for PartnerWait<'_> {
    fn drop(&mut self) {
        self.performer
            .partners
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.id);
    }
}

impl Performer {
    /// A performer calling `urls`; the engine is reached at `public_base`.
    pub fn new(urls: AgencyUrls, public_base: &str, config: PerformerConfig) -> Self {
        let (tx, rx) = mpsc::channel(config.queue.max(1));
        let (sms, sms_rx) = mpsc::channel(config.queue.max(1));
        let public_base = public_base.trim_end_matches('/').to_owned();
        Self {
            tx,
            rx: Mutex::new(Some(rx)),
            waits: Mutex::new(Waits::default()),
            wake: Notify::new(),
            lanes: lane::Lanes::new(&config),
            urls,
            callback_base: format!("{public_base}/api/v1/callbacks"),
            public_base,
            config,
            held: Mutex::new(VecDeque::new()),
            outcomes: Mutex::new(Outcomes::default()),
            sms,
            sms_rx: Mutex::new(Some(sms_rx)),
            partners: Mutex::new(HashMap::new()),
            deferred: Mutex::new(Deferred::default()),
            deferred_wake: Notify::new(),
        }
    }

    fn deferred(&self) -> std::sync::MutexGuard<'_, Deferred> {
        self.deferred.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Effects set aside after an agency refused them for its capacity.
    pub fn deferred_len(&self) -> usize {
        self.deferred().by_due.len()
    }

    fn outcomes(&self) -> std::sync::MutexGuard<'_, Outcomes> {
        self.outcomes.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether letters are sent (a post URL is known).
    pub fn sends_letters(&self) -> bool {
        self.urls.post.is_some()
    }

    /// Whether certificates are checked (a CA URL is known).
    pub fn checks_certificates(&self) -> bool {
        self.urls.ca.is_some()
    }

    /// What became of the letter of confirmation `id`, if known yet.
    pub fn letter(&self, id: ConfirmationId) -> Option<LetterSent> {
        self.outcomes().letters.get(&id).cloned()
    }

    /// What became of certificate check `id`, if known yet.
    pub fn signature(&self, id: RequestId) -> Option<SignatureChecked> {
        self.outcomes().signatures.get(&id).copied()
    }

    fn letter_sent(&self, id: ConfirmationId, sent: LetterSent) {
        let cap = self.config.outcomes_max.max(1);
        let mut o = self.outcomes();
        if o.letters.insert(id, sent).is_none() {
            o.letters_order.push_back(id);
            while o.letters_order.len() > cap {
                if let Some(old) = o.letters_order.pop_front() {
                    o.letters.remove(&old);
                }
            }
        }
    }

    fn signature_checked(&self, id: RequestId, checked: SignatureChecked) {
        let cap = self.config.outcomes_max.max(1);
        let mut o = self.outcomes();
        if o.signatures.insert(id, checked).is_none() {
            o.signatures_order.push_back(id);
            while o.signatures_order.len() > cap {
                if let Some(old) = o.signatures_order.pop_front() {
                    o.signatures.remove(&old);
                }
            }
        }
    }

    /// Waits for partner confirmation `id` to be decided: [`PartnerWait::settled`] is notified
    /// when an agency's answer decides it (register before reading the status, so that no
    /// decision falls in between).
    pub(crate) fn wait_partner(&self, id: ConfirmationId) -> PartnerWait<'_> {
        let settled = self
            .partners
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(id)
            .or_default()
            .clone();
        PartnerWait {
            performer: self,
            id,
            settled,
        }
    }

    fn partner_settled(&self, id: ConfirmationId) {
        let waiting = self
            .partners
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .cloned();
        if let Some(n) = waiting {
            n.notify_one();
        }
    }

    /// The performer's figures.
    pub fn config(&self) -> PerformerConfig {
        self.config
    }

    /// The queue's sender (commands reserve room in it).
    pub(crate) fn sender(&self) -> &mpsc::Sender<Queued> {
        &self.tx
    }

    /// Queues an effect made outside a command (a notification after a reply), counted as
    /// `work` until performed; a full queue drops it with a warning.
    pub(crate) fn send_or_drop(&self, effect: Effect, work: Work) {
        if let Err(e) = self.tx.try_send(Queued { effect, work }) {
            tracing::warn!(error = %e, "the effects queue is full; an effect is dropped");
        }
    }

    /// Requests waiting for an answer.
    pub fn waiting(&self) -> usize {
        self.waits
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .by_id
            .len()
    }

    /// Effects queued, not yet performed (SMS waiting for their batch included).
    pub fn queued(&self) -> usize {
        let effects = self.tx.max_capacity() - self.tx.capacity();
        effects + self.sms.max_capacity() - self.sms.capacity() + self.lanes.queued()
    }

    /// Jobs waiting in `lane` (new effects, polls, effects due again), and its calls in flight.
    pub fn lane_load(&self, lane: Lane) -> (usize, usize) {
        self.lanes.load(lane)
    }

    /// The effects held (no post or CA URL), oldest first.
    pub fn held(&self) -> Vec<Held> {
        self.held
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    /// An agency called back about `request_id`: poll it now, counted as `work` until the
    /// poll is done. A callback for a request not waiting (yet) is remembered a while, in case
    /// its acknowledgement is still on its way (the call that reads it is counted already).
    /// False if the callback names another agency than the request's.
    pub fn callback(&self, agency: Agency, request_id: RequestId, work: Work) -> bool {
        let mut w = self.waits.lock().unwrap_or_else(|e| e.into_inner());
        let Some(waiting) = w.by_id.get_mut(&request_id) else {
            if w.early.len() >= EARLY_CALLBACKS_MAX {
                w.early.pop_front();
            }
            w.early.push_back(request_id);
            return true;
        };
        if waiting.agency != agency {
            return false;
        }
        let old = waiting.due;
        let now = Instant::now();
        waiting.due = now;
        waiting.work = Some(work);
        w.order.remove(&(old, request_id));
        w.order.insert((now, request_id));
        drop(w);
        self.wake.notify_one();
        true
    }

    /// Schedules the next poll of `id` after its interval, and doubles the interval (up to the
    /// cap) for the one after; a poll an early callback asked for is due now, counted as the
    /// `world`'s work.
    fn wait_for(&self, id: RequestId, mut waiting: Waiting, world: &World) {
        let cap = self.config.poll_max_ms.max(1);
        let interval = waiting.interval_ms.clamp(1, cap);
        waiting.due = Instant::now() + Duration::from_millis(interval);
        waiting.interval_ms = interval.saturating_mul(2).min(cap);
        waiting.work = None;
        let mut w = self.waits.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = w.early.iter().position(|e| *e == id) {
            w.early.remove(i);
            waiting.due = Instant::now();
            waiting.work = Some(world.work());
        }
        if let Some(old) = w.by_id.get(&id) {
            let key = (old.due, id);
            w.order.remove(&key);
        }
        w.order.insert((waiting.due, id));
        w.by_id.insert(id, waiting);
        drop(w);
        self.wake.notify_one();
    }

    fn hold(&self, world_now: String, kind: &'static str, detail: String) {
        tracing::info!(
            kind,
            detail,
            "effect held: the stand has no URL of its agency"
        );
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if held.len() >= self.config.held_max.max(1) {
            held.pop_front();
        }
        held.push_back(Held {
            kind,
            at: world_now,
            detail,
        });
    }

    fn url_of(&self, agency: Agency) -> &str {
        match agency {
            Agency::Pfr => &self.urls.pfr,
            Agency::Fms => &self.urls.fms,
        }
    }
}

/// Starts the performer's tasks: the dispatcher of queued effects and the poller of waiting
/// requests. They stop when `cancel` fires.
pub(crate) fn spawn(stand: &Arc<Stand>, cancel: CancellationToken) {
    let rx = stand
        .performer
        .rx
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    if let Some(rx) = rx {
        tokio::spawn(dispatch(stand.clone(), rx, cancel.clone()));
    }
    let sms_rx = stand
        .performer
        .sms_rx
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    if let (Some(rx), true) = (sms_rx, stand.performer.config.sms_batch > 1) {
        tokio::spawn(sms_lane(stand.clone(), rx, cancel.clone()));
    }
    for l in Lane::ALL {
        tokio::spawn(lane::run(stand.clone(), l, cancel.clone()));
    }
    tokio::spawn(deferred_loop(stand.clone(), cancel.clone()));
    tokio::spawn(poll_loop(stand.clone(), cancel));
}

/// Puts an SMS into the batch lane when SMS leave in batches, and gives back any other effect
/// (or an SMS when they do not). Never waits: a full batch lane fails the SMS rather than hold
/// up the effects of other agencies, or the command that made it.
pub(crate) fn batch_sms(stand: &Stand, effect: Effect, work: Work) -> Option<(Effect, Work)> {
    match effect {
        Effect::SendSms { to, text, .. } if stand.performer.config.sms_batch > 1 => {
            let sms = Sms {
                to: to.canonical(),
                text,
                _work: Some(work),
            };
            match stand.performer.sms.try_send(sms) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => {
                    stand.metrics.effect("sms", false);
                    tracing::warn!("the SMS lane is full; an SMS is not sent");
                }
                // The stand is stopping.
                Err(mpsc::error::TrySendError::Closed(_)) => {}
            }
            None
        }
        other => Some((other, work)),
    }
}

async fn dispatch(stand: Arc<Stand>, mut rx: mpsc::Receiver<Queued>, cancel: CancellationToken) {
    loop {
        let Queued { effect, work } = tokio::select! {
            e = rx.recv() => match e { Some(e) => e, None => return },
            _ = cancel.cancelled() => return,
        };
        let Some((effect, work)) = batch_sms(&stand, effect, work) else {
            continue;
        };
        if let Some(effect) = stand.performer.lanes.push_new(effect, work) {
            lane_full(&stand, effect);
        }
    }
}

/// An effect whose agency's lane is full fails at once, with the agency's reason: a
/// verification as the agency unavailable, a certificate check dropped, a letter refused, an
/// SMS or e-mail logged and counted as not sent.
fn lane_full(stand: &Arc<Stand>, effect: Effect) {
    let lane = Lane::of(&effect);
    let why = format!("the {} lane is full", lane.name());
    tracing::warn!(
        lane = lane.name(),
        "an agency's lane is full; an effect fails"
    );
    match effect {
        Effect::SendSms { .. } => stand.metrics.effect("sms", false),
        Effect::SendMail { .. } => stand.metrics.effect("mail", false),
        Effect::VerifyPfr(r) => {
            stand.metrics.effect(Agency::Pfr.name(), false);
            unavailable(stand, Agency::Pfr, r.request_id, &why);
        }
        Effect::VerifyFms(r) => {
            stand.metrics.effect(Agency::Fms.name(), false);
            unavailable(stand, Agency::Fms, r.request_id, &why);
        }
        Effect::CheckCertificate { request_id, .. } => {
            stand.metrics.effect("certificate", false);
            stand.apply(|r, now, _| r.apply_certificate_unavailable(now, request_id));
            stand
                .performer
                .signature_checked(request_id, SignatureChecked::Unavailable);
        }
        Effect::OrderLetter {
            confirmation_id, ..
        } => {
            stand.metrics.effect("letter", false);
            stand
                .performer
                .letter_sent(confirmation_id, LetterSent::Refused { reason: why });
        }
    }
}

/// SMS batches in flight at once: while they are, the next SMS gather into the next batch.
const SMS_BATCHES_IN_FLIGHT: usize = 4;

/// An SMS to send: the canonical phone and the text (counted as work while it waits for its
/// batch).
#[derive(Debug)]
pub(crate) struct Sms {
    to: String,
    text: String,
    _work: Option<Work>,
}

/// Sends the waiting SMS in batches of up to `sms_batch`, [`SMS_BATCHES_IN_FLIGHT`] at once.
async fn sms_lane(stand: Arc<Stand>, mut rx: mpsc::Receiver<Sms>, cancel: CancellationToken) {
    let in_flight = Arc::new(Semaphore::new(SMS_BATCHES_IN_FLIGHT));
    let batch_max = stand.performer.config.sms_batch.max(1);
    loop {
        let permit = tokio::select! {
            p = in_flight.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => return },
            _ = cancel.cancelled() => return,
        };
        let mut batch = Vec::with_capacity(batch_max);
        tokio::select! {
            n = rx.recv_many(&mut batch, batch_max) => if n == 0 { return },
            _ = cancel.cancelled() => return,
        }
        let stand = stand.clone();
        tokio::spawn(async move {
            send_sms(&stand, batch, Refusals::default()).await;
            drop(permit);
        });
    }
}

/// The body of a batch of SMS.
#[derive(Serialize)]
struct Messages<'a> {
    messages: Vec<Message<'a>>,
}

/// Sends SMS in one request: the plain message when alone, else `{"messages": [...]}`. What
/// the gateway refused for its capacity (the request, or messages of a batch, whose entries are
/// then `{error}` instead of `{message_id}`) is set aside and sent again later.
async fn send_sms(stand: &Arc<Stand>, sms: Vec<Sms>, refusals: Refusals) {
    let url = format!("{}/messages", stand.performer.urls.sms);
    fn message(m: &Sms) -> Message<'_> {
        Message {
            to: &m.to,
            subject: None,
            text: &m.text,
        }
    }
    let r = match sms.as_slice() {
        [one] => stand
            .client
            .post::<_, IgnoredAny>(&url, &message(one))
            .await
            .map(|_| (Vec::new(), None)),
        many => {
            let body = Messages {
                messages: many.iter().map(message).collect(),
            };
            stand
                .client
                .post::<_, esia_mocks::wire::sms::SentBatch>(&url, &body)
                .await
                .map(|answer| refused_in_batch(&answer))
        }
    };
    let n = sms.len() as u64;
    let (refused, e) = match r {
        Ok((refused, _)) if refused.is_empty() => {
            stand.metrics.effects("sms", true, n);
            return;
        }
        Ok((refused, retry_after_ms)) => {
            stand.metrics.effects("sms", true, n - refused.len() as u64);
            let again: Vec<Sms> = sms
                .into_iter()
                .enumerate()
                .filter(|(i, _)| refused.contains(i))
                .map(|(_, m)| m)
                .collect();
            let e = CallFailed {
                attempts: 1,
                last: super::agencies::AgencyError::Busy { retry_after_ms },
            };
            (again, e)
        }
        Err(e) => (sms, e),
    };
    let count = refused.len();
    if !defer(
        stand,
        "sms",
        count as u64,
        Again::Sms(refused),
        refusals,
        &e,
    ) {
        tracing::warn!(error = %e, messages = count, "SMS could not be sent");
    }
}

/// The messages of a batch's answer that the gateway refused for its capacity (entries with
/// `error` and no `message_id`), and the longest `retry_after_s` among them, in ms.
fn refused_in_batch(answer: &esia_mocks::wire::sms::SentBatch) -> (Vec<usize>, Option<u64>) {
    let mut refused = Vec::new();
    let mut retry_after_ms = None;
    for (i, item) in answer.messages.iter().enumerate() {
        if let (None, Some(error)) = (&item.message_id, &item.error) {
            refused.push(i);
            retry_after_ms = retry_after_ms.max(Some(error.retry_after_s.saturating_mul(1_000)));
        }
    }
    (refused, retry_after_ms)
}

/// Performs one effect that agencies refused `refusals` times for their capacity so far.
async fn perform_with(stand: &Arc<Stand>, effect: Effect, refusals: Refusals) {
    let p = &stand.performer;
    let client = &stand.client;
    match effect {
        Effect::SendSms { to, text, .. } => {
            let sms = Sms {
                to: to.canonical(),
                text,
                _work: None,
            };
            send_sms(stand, vec![sms], refusals).await;
        }
        Effect::SendMail {
            to,
            subject,
            text,
            topic,
        } => {
            // The registry writes the link relative to the engine; the citizen needs it whole.
            let text = match topic {
                Topic::RegistrationLink {
                    registration_id,
                    token,
                } => {
                    let path = crate::registry::effect::link_path(registration_id, token);
                    text.replace(&path, &format!("{}{path}", p.public_base))
                }
                _ => text,
            };
            let url = format!("{}/messages", p.urls.mail);
            let body = Message {
                to: &to,
                subject: Some(&subject),
                text: &text,
            };
            let r = client.post::<_, IgnoredAny>(&url, &body).await;
            match r {
                Ok(_) => stand.metrics.effect("mail", true),
                Err(e) => {
                    // Sent again as it is (its link already whole).
                    let again = Again::Effect(Effect::SendMail {
                        to,
                        subject,
                        text,
                        topic,
                    });
                    if !defer(stand, "mail", 1, again, refusals, &e) {
                        tracing::warn!(error = %e, "an e-mail could not be sent");
                    }
                }
            }
        }
        Effect::VerifyPfr(r) => {
            let body = PfrRequest {
                request_id: r.request_id.to_string(),
                snils: r.snils.canonical(),
                surname: r.surname,
                name: r.name,
                patronymic: r.patronymic,
                birth_date: r.birth_date,
                gender: r.gender,
                callback_url: Some(format!("{}/pfr", p.callback_base)),
            };
            let body = serde_json::to_value(&body).unwrap_or_default();
            ask(
                stand,
                Agency::Pfr,
                r.request_id,
                Arc::new(body),
                0,
                refusals,
            )
            .await;
        }
        Effect::VerifyFms(r) => {
            let body = FmsRequest {
                request_id: r.request_id.to_string(),
                series: r.series.to_string(),
                number: format!("{:06}", r.number),
                surname: r.surname,
                name: r.name,
                patronymic: r.patronymic,
                birth_date: r.birth_date,
                issue_date: r.issue_date,
                callback_url: Some(format!("{}/fms", p.callback_base)),
            };
            let body = serde_json::to_value(&body).unwrap_or_default();
            ask(
                stand,
                Agency::Fms,
                r.request_id,
                Arc::new(body),
                0,
                refusals,
            )
            .await;
        }
        Effect::CheckCertificate {
            request_id,
            serial,
            issuer,
            snils,
        } => {
            let Some(base) = &p.urls.ca else {
                stand.metrics.effect("certificate", false);
                p.hold(
                    stand.world.rfc3339(stand.world.now()),
                    "check_certificate",
                    format!("request {request_id}: certificate {serial} of {issuer}"),
                );
                return;
            };
            // The registry checked the serial: letters and digits only.
            let url = format!("{base}/certificates/{serial}");
            let r = client.get::<Certificate>(&url).await;
            if r.is_ok() {
                stand.metrics.effect("certificate", true);
            }
            let checked = match r {
                Ok(certificate) => {
                    let snils = snils.canonical();
                    let query = CaQuery {
                        serial: &serial,
                        issuer: Some(&issuer),
                        snils: &snils,
                    };
                    let epoch = stand.world.epoch();
                    let outcome = stand.apply(|r, now, fx| {
                        let verdict = ca::compare(&query, certificate.as_ref(), epoch, now);
                        r.apply_certificate(now, request_id, verdict, fx)
                    });
                    tracing::info!(request_id = %request_id, outcome = ?outcome, "certificate checked");
                    match outcome {
                        ReplyOutcome::Confirmed { .. } => SignatureChecked::Confirmed,
                        ReplyOutcome::SignatureRefused { verdict, .. } => {
                            SignatureChecked::Refused(verdict)
                        }
                        _ => SignatureChecked::Stale,
                    }
                }
                Err(e) => {
                    let again = Again::Effect(Effect::CheckCertificate {
                        request_id,
                        serial,
                        issuer,
                        snils,
                    });
                    if defer(stand, "certificate", 1, again, refusals, &e) {
                        return;
                    }
                    tracing::warn!(request_id = %request_id, error = %e, "the CA is unreachable; the check is dropped");
                    stand.apply(|r, now, _| r.apply_certificate_unavailable(now, request_id));
                    SignatureChecked::Unavailable
                }
            };
            p.signature_checked(request_id, checked);
        }
        Effect::OrderLetter {
            confirmation_id,
            oid,
            recipient,
            address,
            code,
        } => {
            let Some(base) = &p.urls.post else {
                stand.metrics.effect("letter", false);
                p.hold(
                    stand.world.rfc3339(stand.world.now()),
                    "order_letter",
                    format!(
                        "confirmation {confirmation_id} of account {oid}: a letter to {recipient}, {}",
                        address.one_line()
                    ),
                );
                return;
            };
            // The clerk hands the letter over to the holder of the account's passport.
            let passport = stand.read(|r, _| {
                r.account(oid).ok().and_then(|a| {
                    a.personal().map(|d| {
                        (
                            d.passport.series.to_string(),
                            format!("{:06}", d.passport.number),
                        )
                    })
                })
            });
            let mut body = serde_json::json!({
                "recipient": recipient,
                "address": address.one_line(),
                "text": letter_text(&code),
                "reference": confirmation_id.to_string(),
            });
            if let Some((series, number)) = passport {
                body["passport_series"] = series.into();
                body["passport_number"] = number.into();
            }
            let url = format!("{base}/letters");
            let r = client.post::<_, PostAccepted>(&url, &body).await;
            let sent = match r {
                Ok(a) => {
                    stand.metrics.effect("letter", true);
                    tracing::info!(confirmation_id = %confirmation_id, tracking_number = a.tracking_number, "letter accepted by the post");
                    LetterSent::Accepted {
                        tracking_number: a.tracking_number,
                    }
                }
                Err(e) => {
                    let again = Again::Effect(Effect::OrderLetter {
                        confirmation_id,
                        oid,
                        recipient,
                        address,
                        code,
                    });
                    if defer(stand, "letter", 1, again, refusals, &e) {
                        return;
                    }
                    tracing::warn!(confirmation_id = %confirmation_id, error = %e, "the post did not accept a letter");
                    LetterSent::Refused {
                        reason: e.to_string(),
                    }
                }
            };
            p.letter_sent(confirmation_id, sent);
        }
    }
}

/// The text of a confirmation letter: the code the citizen types into the cabinet.
pub fn letter_text(code: &str) -> String {
    format!(
        "Госуслуги. Код подтверждения личности: {code}. Введите его в личном кабинете на \
         gosuslugi.ru. Никому не сообщайте этот код."
    )
}

/// Sends a verification request (again, after `resends` earlier sends) until acknowledged;
/// then handles the acknowledgement (which may already carry the answer). A request the
/// agency refused for its capacity (SMEV's `QUOTE_LIMIT_EXCEEDED`, 429) is set aside and
/// sent again later (`refusals` so far).
async fn ask(
    stand: &Arc<Stand>,
    agency: Agency,
    id: RequestId,
    body: Arc<serde_json::Value>,
    resends: u32,
    refusals: Refusals,
) {
    let url = format!("{}/requests", stand.performer.url_of(agency));
    let r = stand
        .client
        .post::<_, RequestView<serde_json::Value>>(&url, &*body)
        .await;
    match r {
        Ok(view) => {
            stand.metrics.effect(agency.name(), true);
            let issued_at = stand.world.now();
            let waiting = Waiting {
                agency,
                body,
                issued_at,
                interval_ms: stand.performer.config.poll_first_ms,
                resends,
                due: Instant::now(),
                work: None,
            };
            answer(stand, id, view, waiting);
        }
        Err(e) => {
            let again = Again::Ask {
                agency,
                id,
                body,
                resends,
            };
            if !defer(stand, agency.name(), 1, again, refusals, &e) {
                unavailable(stand, agency, id, &e);
            }
        }
    }
}

/// The agency could not be reached for good: the verification fails with the agency's
/// `*_unavailable` reason.
fn unavailable(stand: &Arc<Stand>, agency: Agency, id: RequestId, e: &dyn std::fmt::Display) {
    tracing::warn!(agency = agency.name(), request_id = %id, error = %e, "agency unreachable; the verification fails");
    let outcome =
        stand.apply(|registry, now, effects| registry.apply_unavailable(now, id, effects));
    settled(stand, agency, id, outcome);
}

/// Handles an agency's view of request `id`: applies an answer, or waits for it.
fn answer(
    stand: &Arc<Stand>,
    id: RequestId,
    view: RequestView<serde_json::Value>,
    waiting: Waiting,
) {
    let agency = waiting.agency;
    match (view.status, view.result) {
        (SmevStatus::ResponseIsDelivered, Some(result)) => {
            let outcome = match agency {
                Agency::Pfr => match serde_json::from_value::<PfrVerdict>(result) {
                    Ok(v) => stand.apply(|r, now, fx| r.apply_pfr(now, id, v, fx)),
                    Err(e) => return malformed(stand, id, waiting, &e),
                },
                Agency::Fms => match serde_json::from_value::<FmsVerdict>(result) {
                    Ok(v) => stand.apply(|r, now, fx| r.apply_fms(now, id, v, fx)),
                    Err(e) => return malformed(stand, id, waiting, &e),
                },
            };
            settled(stand, agency, id, outcome);
        }
        (SmevStatus::RequestIsRejectedBySmev, _) => {
            tracing::warn!(agency = agency.name(), request_id = %id, rejection = ?view.rejection, "request rejected by SMEV");
            let outcome = stand.apply(|r, now, fx| r.apply_unavailable(now, id, fx));
            settled(stand, agency, id, outcome);
        }
        _ => {
            let timeout = stand.verification_timeout_ms();
            if stand.world.now().ms_since(waiting.issued_at) > timeout {
                // The registry's own timeout fails the verification; stop asking.
                return;
            }
            stand.performer.wait_for(id, waiting, &stand.world);
        }
    }
}

fn malformed(stand: &Arc<Stand>, id: RequestId, waiting: Waiting, e: &serde_json::Error) {
    tracing::warn!(request_id = %id, error = %e, "an agency's result is not a verdict; polling again");
    stand.performer.wait_for(id, waiting, &stand.world);
}

/// An agency's answer applied: logged, and a partner request waiting for it woken.
fn settled(stand: &Arc<Stand>, agency: Agency, id: RequestId, outcome: ReplyOutcome) {
    if let ReplyOutcome::PartnerConfirmed {
        confirmation_id, ..
    }
    | ReplyOutcome::PartnerRefused {
        confirmation_id, ..
    } = outcome
    {
        stand.performer.partner_settled(confirmation_id);
    }
    tracing::info!(agency = agency.name(), request_id = %id, outcome = ?outcome, "agency answer applied");
}

async fn poll_loop(stand: Arc<Stand>, cancel: CancellationToken) {
    loop {
        let now = Instant::now();
        let (due, next) = {
            let mut w = stand
                .performer
                .waits
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let mut due = Vec::new();
            while let Some(&(at, id)) = w.order.first() {
                if at > now {
                    break;
                }
                w.order.pop_first();
                if let Some(waiting) = w.by_id.remove(&id) {
                    due.push((id, waiting));
                }
            }
            (due, w.order.first().map(|(at, _)| *at))
        };
        for (id, waiting) in due {
            let lane = Lane::of_agency(waiting.agency);
            stand
                .performer
                .lanes
                .push(lane, lane::Job::Poll { id, waiting });
        }
        let at = next.unwrap_or_else(|| Instant::now() + Duration::from_secs(60));
        tokio::select! {
            _ = tokio::time::sleep_until(at) => {}
            _ = stand.performer.wake.notified() => {}
            _ = cancel.cancelled() => return,
        }
    }
}

/// Polls one waiting request.
async fn poll(stand: &Arc<Stand>, id: RequestId, waiting: Waiting) {
    let agency = waiting.agency;
    let url = format!("{}/requests/{id}", stand.performer.url_of(agency));
    match stand
        .client
        .get::<RequestView<serde_json::Value>>(&url)
        .await
    {
        Ok(Some(view)) => answer(stand, id, view, waiting),
        Ok(None) => {
            // The agency forgot the request (a reset, a restart): send it again.
            if waiting.resends >= stand.performer.config.resends_max {
                let e = CallFailed {
                    attempts: waiting.resends + 1,
                    last: super::agencies::AgencyError::Refused {
                        status: 404,
                        body: "the agency keeps forgetting the request".into(),
                    },
                };
                unavailable(stand, agency, id, &e);
            } else {
                let refusals = Refusals::default();
                ask(
                    stand,
                    agency,
                    id,
                    waiting.body,
                    waiting.resends + 1,
                    refusals,
                )
                .await;
            }
        }
        Err(e) => {
            // Down for now: keep polling at the growing interval until the registry's timeout.
            tracing::debug!(agency = agency.name(), request_id = %id, error = %e, "poll failed");
            let view = RequestView {
                request_id: id.to_string(),
                agency: agency.name().into(),
                status: SmevStatus::UnderProcessing,
                result: None,
                rejection: None,
                accepted_at: stand.world.timestamp(stand.world.now()),
                answered_at: None,
            };
            answer(stand, id, view, waiting);
        }
    }
}

/// Sets `again` aside if `e` is an agency's refusal for capacity and it may still wait: due
/// after the agency's `Retry-After` plus the client's jittered backoff. False when it must fail
/// now (not a refusal, refused for too long, too many set aside); `n` effects of `kind` are
/// counted either way.
fn defer(
    stand: &Arc<Stand>,
    kind: &'static str,
    n: u64,
    again: Again,
    refusals: Refusals,
    e: &CallFailed,
) -> bool {
    let Some(retry_after_ms) = e.busy() else {
        stand.metrics.effects(kind, false, n);
        return false;
    };
    let p = &stand.performer;
    let now = Instant::now();
    let since = refusals.since.unwrap_or(now);
    let count = refusals.count.saturating_add(1);
    if now.duration_since(since) >= Duration::from_millis(p.config.refused_for_max_ms) {
        tracing::warn!(
            kind,
            refusals = count,
            "an agency refused an effect for too long; it fails"
        );
        stand.metrics.effects(kind, false, n);
        return false;
    }
    let wait = Duration::from_millis(retry_after_ms.unwrap_or(0)) + stand.client.backoff(count);
    {
        let mut d = p.deferred();
        if d.by_due.len() >= p.config.deferred_max.max(1) {
            drop(d);
            tracing::warn!(
                kind,
                "too many effects set aside for agencies at capacity; it fails"
            );
            stand.metrics.effects(kind, false, n);
            return false;
        }
        d.next += 1;
        let key = (now + wait, d.next);
        d.by_due.insert(
            key,
            (
                again,
                Refusals {
                    count,
                    since: Some(since),
                },
            ),
        );
    }
    p.deferred_wake.notify_one();
    stand.metrics.deferred(kind, n);
    tracing::debug!(
        kind,
        refusals = count,
        wait_ms = wait.as_millis() as u64,
        "agency at capacity; effect set aside"
    );
    true
}

/// Performs the effects set aside as they fall due, a bounded number at once.
async fn deferred_loop(stand: Arc<Stand>, cancel: CancellationToken) {
    loop {
        let now = Instant::now();
        let (due, next) = {
            let mut d = stand.performer.deferred();
            let mut due = Vec::new();
            while let Some(entry) = d.by_due.first_entry() {
                if entry.key().0 > now {
                    break;
                }
                due.push(entry.remove());
            }
            (due, d.by_due.keys().next().map(|(at, _)| *at))
        };
        for (again, refusals) in due {
            let (lane, job) = lane::Job::again(again, refusals);
            stand.performer.lanes.push(lane, job);
        }
        let at = next.unwrap_or_else(|| Instant::now() + Duration::from_secs(60));
        tokio::select! {
            _ = tokio::time::sleep_until(at) => {}
            _ = stand.performer.deferred_wake.notified() => {}
            _ = cancel.cancelled() => return,
        }
    }
}
