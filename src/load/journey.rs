//! A goose user walking journeys: each transaction is one [`Step`] of a [`LoadPath`]; the
//! journey's state (citizen, registration, account, session) lives in the user's session data
//! between transactions. Steps send their requests through goose (so goose's metrics, reports
//! and thresholds see them) and read codes, links and letters from the mocks with a client of
//! their own (the mocks are the harness, not the system under test).
//!
//! A step that gets an answer its script does not expect fails the goose transaction with the
//! reason (`409 contact_bound`, `code_not_received`, ...) and ends the journey; the path's later
//! steps then do nothing until the next journey starts. A journey still waiting when the run
//! ends is counted as in progress, not failed.

use super::arrival::Arrivals;
use super::citizens::{CitizenCursor, NoCitizen};
use super::funnel::held;
use super::funnel::{Ending, LoadFunnel};
use super::path::{Action, Channel, LoadPath, Step};
use super::timeline::{unix_now_s, Outcome};
use crate::registry::Tier;
use crate::wire;
use esia_mocks::population::{Citizen, Population};
use esia_mocks::wire::{
    centers::Visit,
    faults::Fault,
    post::{LetterView, Pickup},
    ErrorBody,
};
use goose::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The password every journey sets: strong by the engine's rules, unrelated to any citizen.
const PASSWORD: &str = "Vx7kPz9mQ4";
/// A password the engine refuses (no upper-case letter).
const WEAK_PASSWORD: &str = "qwerty12";
/// Waits re-read at most this often, however long they last.
const POLL_MAX: Duration = Duration::from_millis(500);
/// Citizens tried for one journey before giving up on the path.
const FIT_TRIES: u32 = 10_000;

/// How long journeys wait, and what they assume of the engine's code rules.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    /// The first pause of a wait; later pauses grow by half up to [`POLL_MAX`].
    pub poll: Duration,
    /// The longest wait for a message, a verification or a letter.
    pub wait: Duration,
    /// How long an SMS code lives.
    pub code_ttl: Duration,
    /// How long after a code another may be asked for.
    pub resend_cooldown: Duration,
    /// How long after a letter another may be ordered.
    pub letter_reorder_cooldown: Duration,
}

/// Counts the progress line reads while the run goes.
#[derive(Debug, Default)]
pub struct Live {
    pub started: AtomicU64,
    pub completed: AtomicU64,
    pub failed: AtomicU64,
    pub in_progress: AtomicU64,
    /// Journeys holding each tier (simplified, standard, confirmed), counted when reached.
    pub tiers: [AtomicU64; 3],
}

/// What every goose user shares.
pub struct Harness {
    pub population: Population,
    pub cursor: CitizenCursor,
    pub arrivals: Option<Arrivals>,
    pub mocks: MocksReader,
    pub funnel: Mutex<LoadFunnel>,
    pub live: Live,
    pub timing: Timing,
    /// The model's mix: each path's citizens and their journeys (none: fixed shares).
    pub model: Option<super::model::ModelMix>,
    /// Set when the run is ending: no journey starts, waits give up (in progress).
    ending: AtomicBool,
    /// When goose ran its test-start hook, just before it starts the users.
    pub attack_started: OnceLock<Instant>,
    /// How long goose takes to start the users.
    pub ramp: Duration,
    /// The instant everything below counts from.
    base: Instant,
    first_start: OnceLock<Instant>,
    ended_at: OnceLock<Instant>,
    /// Nanoseconds from `base` to the last answer.
    last_answer_ns: AtomicU64,
    notes: Mutex<Vec<String>>,
}

impl std::fmt::Debug for Harness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harness").finish_non_exhaustive()
    }
}

impl Harness {
    pub fn new(
        population: Population,
        cursor: CitizenCursor,
        arrivals: Option<Arrivals>,
        mocks: MocksReader,
        funnel: LoadFunnel,
        timing: Timing,
        ramp: Duration,
    ) -> Self {
        Self {
            population,
            cursor,
            arrivals,
            mocks,
            funnel: Mutex::new(funnel),
            live: Live::default(),
            timing,
            model: None,
            ending: AtomicBool::new(false),
            attack_started: OnceLock::new(),
            ramp,
            base: Instant::now(),
            first_start: OnceLock::new(),
            ended_at: OnceLock::new(),
            last_answer_ns: AtomicU64::new(0),
            notes: Mutex::new(Vec::new()),
        }
    }

    /// The model's mix: journeys as the simulator's citizens walk them.
    pub fn with_model(mut self, model: Option<super::model::ModelMix>) -> Self {
        self.model = model;
        self
    }

    /// Whether the run is ending (the deadline passed, or goose's killswitch fired).
    pub fn ending(&self) -> bool {
        self.ending.load(Ordering::Relaxed) || goose::is_killswitch_triggered()
    }

    /// Marks the run as ending.
    pub fn end(&self) {
        let _ = self.ended_at.set(Instant::now());
        self.ending.store(true, Ordering::Relaxed);
    }

    /// The measured window: from the first journey's start to the last answer, or to the end
    /// of the run if answers kept coming after it (a request hanging to its timeout).
    pub fn duration(&self) -> Duration {
        match self.first_start.get() {
            Some(first) => {
                let last =
                    self.base + Duration::from_nanos(self.last_answer_ns.load(Ordering::Relaxed));
                let last = self.ended_at.get().map_or(last, |e| last.min(*e));
                last.saturating_duration_since(*first)
            }
            None => Duration::ZERO,
        }
    }

    /// Adds a remark for the report, once.
    pub fn note(&self, text: String) {
        let mut notes = self.notes.lock().unwrap_or_else(|e| e.into_inner());
        if !notes.contains(&text) {
            tracing::warn!("{text}");
            notes.push(text);
        }
    }

    pub fn notes(&self) -> Vec<String> {
        self.notes.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(crate) fn funnel(&self) -> std::sync::MutexGuard<'_, LoadFunnel> {
        self.funnel.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn answered(&self) {
        let ns = u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.last_answer_ns.fetch_max(ns, Ordering::Relaxed);
    }
}

/// Reads the mocks' inboxes with a client of its own.
#[derive(Clone, Debug)]
pub struct MocksReader {
    http: reqwest::Client,
    /// `http://host:port`.
    pub base: String,
}

impl MocksReader {
    /// The mocks at `base` (`http://host:port`, the mocks under `/mocks/...`).
    pub fn new(base: &str, timeout: Duration) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(timeout)
                .build()
                .unwrap_or_default(),
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    /// The texts of the messages in an inbox, oldest first.
    async fn texts(&self, path: &str) -> Result<Vec<String>, String> {
        let url = format!("{}{path}", self.base);
        let r = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| format!("mocks_unreachable: {}", transport_reason(&e)))?;
        if !r.status().is_success() {
            return Err(format!("mocks_answered_{}", r.status().as_u16()));
        }
        let inbox: Inbox = r.json().await.map_err(|_| "mocks_bad_body".to_owned())?;
        Ok(inbox.messages.into_iter().map(|m| m.text).collect())
    }

    /// `POST {base}{path}` with a JSON body: the status and the body.
    async fn post(&self, path: &str, body: &impl Serialize) -> Result<(u16, Body), String> {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .map_err(|e| format!("mocks_unreachable: {}", transport_reason(&e)))?;
        let status = r.status().as_u16();
        Ok((status, Body(r.text().await.unwrap_or_default())))
    }

    async fn sms(&self, phone: &str) -> Result<Vec<String>, String> {
        self.texts(&format!(
            "/mocks/sms/inbox/{}",
            phone.trim_start_matches('+')
        ))
        .await
    }

    async fn mail(&self, address: &str) -> Result<Vec<String>, String> {
        self.texts(&format!("/mocks/mail/inbox/{}", percent_encode(address)))
            .await
    }
}

/// The messages of an SMS or mail inbox, as far as a journey reads them (the mocks'
/// `SmsInbox` and `MailInbox` share this shape).
#[derive(serde::Deserialize)]
struct Inbox {
    messages: Vec<InboxMessage>,
}

#[derive(serde::Deserialize)]
struct InboxMessage {
    text: String,
}

/// RFC 3986's unreserved characters: all that a path segment keeps as they are.
const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn percent_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, UNRESERVED).to_string()
}

fn transport_reason(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect_error"
    } else {
        "transport_error"
    }
}

/// A goose user's state between transactions.
#[derive(Clone, Debug, Default)]
pub struct Walker {
    journey: Option<Journey>,
}

/// One citizen's walk along a path.
#[derive(Clone, Debug)]
struct Journey {
    path: LoadPath,
    /// The scheduled start (open model) or the actual one.
    origin: Instant,
    citizen: Arc<Citizen>,
    registration: String,
    registered_at: Instant,
    /// The login: the contact the current registration was made with.
    login: String,
    /// The password the journey logs in with (an MFC gives a one-time one).
    password: String,
    oid: u64,
    token: String,
    /// The current post letter and when it was ordered.
    tracking: String,
    ordered_at: Instant,
    /// The code of the letter picked up.
    letter_code: String,
    /// Messages the journey has caused so far, to know which one is new.
    sms_expected: usize,
    mail_expected: usize,
    /// The highest tier held so far.
    tier: Option<Tier>,
    tiers: Vec<(Tier, Duration)>,
    /// Latencies of the current step's requests.
    requests_us: Vec<u64>,
    /// How each of them ended (for the timeline).
    outcomes: Vec<(u64, Outcome)>,
    /// The model's plan for this citizen (model mix only).
    plan: Option<super::model::Plan>,
}

impl Journey {
    fn reach(&mut self, tier: Tier, live: &Live) {
        if Some(tier) > self.tier {
            self.tier = Some(tier);
            self.tiers.push((tier, self.origin.elapsed()));
            live.tiers[tier.index()].fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Why a step stopped.
enum Stop {
    /// An answer or a silence the script does not expect.
    Failed(String),
    /// The run is ending.
    Ended,
}

type StepResult<T = ()> = Result<T, Stop>;

fn failed<T>(reason: impl Into<String>) -> StepResult<T> {
    Err(Stop::Failed(reason.into()))
}

/// The goose transaction of step `index` of `path`.
pub fn transaction(harness: Arc<Harness>, path: LoadPath, index: usize, step: Step) -> Transaction {
    let f: TransactionFunction = Arc::new(move |user: &mut GooseUser| {
        let h = harness.clone();
        Box::pin(async move { run_step(user, &h, path, index, step).await })
    });
    Transaction::new(f).set_name(step.name)
}

/// The goose test-start hook: notes when the users start.
pub fn test_start(harness: Arc<Harness>) -> Transaction {
    let f: TransactionFunction = Arc::new(move |_user: &mut GooseUser| {
        let now = Instant::now();
        let _ = harness.attack_started.set(now);
        if let Some(a) = &harness.arrivals {
            a.start_at(now.checked_add(harness.ramp).unwrap_or(now));
        }
        Box::pin(async { Ok(()) })
    });
    Transaction::new(f).set_name("test start")
}

/// The goose transaction that counts a journey cut short when its user stops.
pub fn on_stop(harness: Arc<Harness>) -> Transaction {
    let f: TransactionFunction = Arc::new(move |user: &mut GooseUser| {
        let h = harness.clone();
        Box::pin(async move {
            if let Some(w) = user.get_session_data_mut::<Walker>() {
                if let Some(j) = w.journey.take() {
                    finish(&h, j, Ending::InProgress);
                }
            }
            Ok(())
        })
    });
    Transaction::new(f).set_name("end of run").set_on_stop()
}

async fn run_step(
    user: &mut GooseUser,
    h: &Harness,
    path: LoadPath,
    index: usize,
    step: Step,
) -> TransactionResult {
    let mut walker = user
        .get_session_data_mut::<Walker>()
        .map(std::mem::take)
        .unwrap_or_default();
    if index == 0 {
        // A journey left over (only if goose skipped ahead) is counted, never lost.
        if let Some(j) = walker.journey.take() {
            finish(h, j, Ending::InProgress);
        }
        walker.journey = begin(h, path).await;
    }
    let Some(mut journey) = walker.journey.take() else {
        user.set_session_data(walker);
        return Ok(());
    };
    let mut action = step.action;
    if let Some(plan) = &journey.plan {
        if plan.walk <= index {
            // The citizen left before this step (only a journey that walks no step at all).
            let ending = model_ending(plan);
            finish(h, journey, ending);
            user.set_session_data(walker);
            return Ok(());
        }
        if let Some((_, pause)) = plan.pauses.iter().find(|(i, _)| *i == index) {
            if sleep_until(h, Instant::now() + *pause).await.is_err() {
                finish(h, journey, Ending::InProgress);
                user.set_session_data(walker);
                return Ok(());
            }
        }
        if plan.email {
            // A citizen who registers by e-mail: the link, where the path types a code.
            action = match action {
                Action::Register(Channel::Sms) => Action::Register(Channel::Email),
                Action::ConfirmCode => Action::FollowLink,
                other => other,
            };
        }
    }
    let started = Instant::now();
    journey.requests_us.clear();
    journey.outcomes.clear();
    let outcome = act(user, h, &mut journey, action).await;
    h.answered();
    h.funnel()
        .timeline
        .step(unix_now_s(), step.name, &journey.outcomes);
    let result = match outcome {
        Ok(()) => {
            h.funnel()
                .step(path, index, &journey.requests_us, started.elapsed(), None);
            let last = path.plan().is_some_and(|p| index + 1 == p.len());
            match &journey.plan {
                // The model's citizen leaves (or its horizon comes) after this step.
                Some(plan) if plan.walk == index + 1 && !last => {
                    let ending = model_ending(plan);
                    finish(h, journey, ending);
                }
                _ if last => finish(h, journey, Ending::Completed),
                _ => walker.journey = Some(journey),
            }
            Ok(())
        }
        Err(Stop::Failed(reason)) => {
            h.funnel().step(
                path,
                index,
                &journey.requests_us,
                started.elapsed(),
                Some(&reason),
            );
            finish(h, journey, Ending::Failed);
            Err(Box::new(TransactionError::Custom(reason)))
        }
        Err(Stop::Ended) => {
            finish(h, journey, Ending::InProgress);
            Ok(())
        }
    };
    user.set_session_data(walker);
    result
}

/// How a model journey that stops before its path's end ends: the citizen's exit, or in
/// progress when the simulator's horizon came first.
fn model_ending(plan: &super::model::Plan) -> Ending {
    match plan.exit {
        Some(exit) if !plan.censored => Ending::Exited(exit.as_str()),
        _ => Ending::InProgress,
    }
}

/// Starts a journey: waits for its instant (open model), takes a citizen.
async fn begin(h: &Harness, path: LoadPath) -> Option<Journey> {
    if h.ending() {
        // Goose runs the remaining steps at once: do not spin while it stops the users.
        tokio::time::sleep(Duration::from_millis(50)).await;
        return None;
    }
    let (origin, lag) = match h.arrivals.as_ref().and_then(|a| a.claim(path)) {
        Some(due) => {
            if sleep_until(h, due).await.is_err() {
                return None;
            }
            (due, Some(Instant::now().saturating_duration_since(due)))
        }
        None => (Instant::now(), None),
    };
    let mut plan = None;
    let taken = match &h.model {
        Some(model) => match model.take(path) {
            Some(p) => {
                let c = h.population.citizen(p.citizen);
                plan = Some(p);
                Ok(c)
            }
            None => Err(NoCitizen::Exhausted),
        },
        None => h.cursor.take(&h.population, FIT_TRIES, |c| path.fits(c)),
    };
    let citizen = match taken {
        Ok(c) => c,
        Err(NoCitizen::Exhausted) if h.model.is_some() => {
            h.note(format!(
                "{path}: the citizens of the population slice whose story takes this path are \
                 used up: the run stopped early; raise load.population"
            ));
            h.end();
            goose::trigger_killswitch("the population slice is used up");
            return None;
        }
        Err(NoCitizen::Exhausted) => {
            h.note(format!(
                "the population slice ({} citizens) is used up: the run stopped early; raise \
                 load.population",
                h.cursor.range().end - h.cursor.range().start
            ));
            h.end();
            goose::trigger_killswitch("the population slice is used up");
            return None;
        }
        Err(NoCitizen::NoneFits { tries }) => {
            h.note(format!("{path}: no citizen in {tries} fits the path"));
            tokio::time::sleep(Duration::from_millis(100)).await;
            return None;
        }
    };
    let _ = h.first_start.set(Instant::now());
    h.live.started.fetch_add(1, Ordering::Relaxed);
    {
        let mut f = h.funnel();
        f.started(path, lag);
        f.timeline.started(unix_now_s());
    }
    Some(Journey {
        path,
        origin,
        citizen: Arc::new(citizen),
        registration: String::new(),
        registered_at: Instant::now(),
        login: String::new(),
        password: PASSWORD.to_owned(),
        oid: 0,
        token: String::new(),
        tracking: String::new(),
        ordered_at: Instant::now(),
        letter_code: String::new(),
        sms_expected: 0,
        mail_expected: 0,
        tier: None,
        tiers: Vec::new(),
        requests_us: Vec::new(),
        outcomes: Vec::new(),
        plan,
    })
}

fn finish(h: &Harness, j: Journey, ending: Ending) {
    let counter = match ending {
        Ending::Completed => &h.live.completed,
        Ending::Failed => &h.live.failed,
        Ending::InProgress | Ending::Exited(_) => &h.live.in_progress,
    };
    counter.fetch_add(1, Ordering::Relaxed);
    let mut f = h.funnel();
    let now_s = unix_now_s();
    let walked = j.origin.elapsed();
    for (tier, at) in &j.tiers {
        let ago = walked.saturating_sub(*at).as_secs();
        f.timeline.reached(now_s.saturating_sub(ago), tier.as_str());
    }
    f.timeline
        .ended(now_s, ending == Ending::Completed, ending == Ending::Failed);
    f.ended(j.path, ending, j.tier, &j.tiers, j.origin.elapsed());
}

/// Sleeps until `at`, waking to notice the end of the run.
async fn sleep_until(h: &Harness, at: Instant) -> StepResult {
    loop {
        if h.ending() {
            return Err(Stop::Ended);
        }
        let now = Instant::now();
        if now >= at {
            return Ok(());
        }
        tokio::time::sleep((at - now).min(Duration::from_millis(100))).await;
    }
}

/// Waits before reading again: pauses grow by half from `timing.poll` up to [`POLL_MAX`];
/// gives up with `what` after `timing.wait`.
struct Wait {
    deadline: Instant,
    pause: Duration,
    what: &'static str,
}

impl Wait {
    fn new(h: &Harness, what: &'static str) -> Self {
        Self {
            deadline: Instant::now() + h.timing.wait,
            pause: h.timing.poll,
            what,
        }
    }

    async fn again(&mut self, h: &Harness) -> StepResult {
        if Instant::now() >= self.deadline {
            return failed(self.what);
        }
        let at = (Instant::now() + self.pause).min(self.deadline);
        self.pause = (self.pause * 3 / 2).min(POLL_MAX);
        sleep_until(h, at).await
    }
}

/// One request to the system under test (or through a mock to it: a bank, a center).
struct Call<'a> {
    method: GooseMethod,
    /// The route, as goose's reports name it (after the method).
    name: &'a str,
    /// A path on the target, or a whole URL (the mocks).
    path: &'a str,
    /// The request's body, serialised (JSON).
    body: Option<Vec<u8>>,
    token: Option<&'a str>,
    /// The status the script expects.
    expect: u16,
    /// Another status the script accepts (a 202 where a 200 may also come).
    or: Option<u16>,
    /// For an error answer: the `error.code` the script expects.
    code: Option<&'a str>,
}

impl<'a> Call<'a> {
    fn new(method: GooseMethod, name: &'a str, path: &'a str, expect: u16) -> Self {
        Self {
            method,
            name,
            path,
            body: None,
            token: None,
            expect,
            or: None,
            code: None,
        }
    }

    /// The request's body: one of the contract's wire types.
    fn body(mut self, body: &impl Serialize) -> Self {
        self.body = serde_json::to_vec(body).ok();
        self
    }

    fn token(mut self, token: &'a str) -> Self {
        self.token = Some(token);
        self
    }

    fn code(mut self, code: &'a str) -> Self {
        self.code = Some(code);
        self
    }

    fn or(mut self, status: u16) -> Self {
        self.or = Some(status);
        self
    }
}

/// Sends `c` through goose, times it (whole response), and checks the status and, for an
/// expected error, its code. The reason of a failure is `STATUS error_code`. Returns the
/// status and the body.
async fn call_status(
    user: &mut GooseUser,
    j: &mut Journey,
    c: Call<'_>,
) -> StepResult<(u16, Body)> {
    let builder = user
        .get_request_builder(&c.method, c.path)
        .map_err(|e| Stop::Failed(format!("bad_request: {e}")))?;
    let builder = match c.body {
        Some(b) => builder
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(b),
        None => builder,
    };
    let builder = match c.token {
        Some(t) => builder.bearer_auth(t),
        None => builder,
    };
    let mut request = GooseRequest::builder()
        .method(c.method)
        .path(c.path)
        .name(c.name)
        .set_request_builder(builder);
    // Goose counts any 2xx as a success; an expected error answer must be named to count.
    if !(200..300).contains(&c.expect) {
        request = request.expect_status_code(c.expect);
    }
    let started = Instant::now();
    let mut goose = user
        .request(request.build())
        .await
        .map_err(|e| Stop::Failed(format!("request_not_sent: {e}")))?;
    let (status, text) = match goose.response {
        Ok(r) => {
            let status = r.status().as_u16();
            (status, r.text().await.unwrap_or_default())
        }
        Err(e) => {
            let us = micros(started.elapsed());
            j.requests_us.push(us);
            j.outcomes.push((us, Outcome::TransportError));
            return failed(transport_reason(&e));
        }
    };
    let us = micros(started.elapsed());
    j.requests_us.push(us);
    j.outcomes
        .push((us, Outcome::of_status(status, c.expect, c.or)));
    let body = Body(text);
    if status != c.expect && Some(status) != c.or {
        let reason = format!("{status} {}", body.error_code().unwrap_or_default())
            .trim_end()
            .to_owned();
        // A 2xx goose took for a success is not the one expected.
        if (200..300).contains(&status) {
            let _ = user.set_failure(&reason, &mut goose.request, None, Some(&body.0));
        }
        return failed(reason);
    }
    if let Some(code) = c.code {
        let got = body.error_code().unwrap_or_default();
        if got != code {
            let reason = format!("{status} {got} (expected {code})");
            let _ = user.set_failure(&reason, &mut goose.request, None, Some(&body.0));
            return failed(reason);
        }
    }
    Ok((status, body))
}

/// [`call_status`] for the body alone.
async fn call(user: &mut GooseUser, j: &mut Journey, c: Call<'_>) -> StepResult<Body> {
    call_status(user, j, c).await.map(|(_, b)| b)
}

/// An answer's body as it came: read as one of the contract's types where a step needs it
/// ([`typed`]), its error code where it is an error. Nothing is parsed that no step reads.
struct Body(String);

impl Body {
    /// The `error.code` of the contract's error body, if the body is one.
    fn error_code(&self) -> Option<String> {
        serde_json::from_str::<ErrorBody>(&self.0)
            .ok()
            .map(|b| b.error.code)
    }
}

/// An answer read as its wire type; a body of another shape fails the step.
fn typed<T: DeserializeOwned>(body: Body) -> StepResult<T> {
    serde_json::from_str(&body.0).map_err(|e| wrong_body(&format!("bad_body: {e}")))
}

/// A step that fails on an answer's content.
fn wrong_body(reason: &str) -> Stop {
    Stop::Failed(reason.to_owned())
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// The six-digit code in an SMS.
fn code_in(text: &str) -> Option<&str> {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
}

/// The path and query of the first link in a letter.
fn link_in(text: &str) -> Option<String> {
    let url = text
        .split_whitespace()
        .find(|w| w.starts_with("http://") || w.starts_with("https://"))?;
    let rest = url.split_once("://")?.1;
    let at = rest.find('/')?;
    Some(rest[at..].to_owned())
}

async fn act(user: &mut GooseUser, h: &Harness, j: &mut Journey, action: Action) -> StepResult {
    match action {
        Action::Register(channel) => register(user, j, channel).await,
        Action::ConfirmCode => {
            let code = read_code(h, j).await?;
            confirm(user, j, &code, 200, None).await.map(|_| ())
        }
        Action::WrongCode => {
            let right = read_code(h, j).await?;
            let wrong = if right == "000000" {
                "111111"
            } else {
                "000000"
            };
            confirm(user, j, wrong, 422, Some("code_wrong")).await?;
            Ok(())
        }
        Action::ExpiredCode => {
            let code = read_code(h, j).await?;
            // A code typed exactly at its lifetime is still accepted: a margin past it.
            sleep_until(
                h,
                j.registered_at + h.timing.code_ttl + Duration::from_millis(250),
            )
            .await?;
            confirm(user, j, &code, 410, Some("code_expired"))
                .await
                .map(|_| ())
        }
        Action::Resend => {
            sleep_until(
                h,
                j.registered_at + h.timing.resend_cooldown + Duration::from_millis(100),
            )
            .await?;
            let path = format!("/api/v1/registrations/{}/resend", j.registration);
            call(
                user,
                j,
                Call::new(
                    GooseMethod::Post,
                    "/api/v1/registrations/{id}/resend",
                    &path,
                    200,
                ),
            )
            .await?;
            j.sms_expected += 1;
            Ok(())
        }
        Action::FollowLink => follow_link(user, h, j).await,
        Action::WeakPassword => set_password(user, j, WEAK_PASSWORD, 422, Some("weak_password"))
            .await
            .map(|_| ()),
        Action::SetPassword => {
            let b: wire::Registered = typed(set_password(user, j, PASSWORD, 201, None).await?)?;
            j.oid = b.oid;
            if b.tier != Tier::Simplified {
                return failed(format!("tier_{}", b.tier.as_str()));
            }
            j.reach(Tier::Simplified, &h.live);
            Ok(())
        }
        Action::LogIn => {
            let body = wire::Login {
                login: j.login.clone(),
                password: j.password.clone(),
            };
            let b: wire::Session = typed(
                call(
                    user,
                    j,
                    Call::new(
                        GooseMethod::Post,
                        "/api/v1/sessions",
                        "/api/v1/sessions",
                        200,
                    )
                    .body(&body),
                )
                .await?,
            )?;
            j.token = b.token;
            Ok(())
        }
        Action::ReadAccount => {
            let b = read_account(user, j).await?;
            let expected = held::name(j.tier);
            if b.tier.as_str() != expected {
                return failed(format!("tier_{}_not_{expected}", b.tier.as_str()));
            }
            Ok(())
        }
        Action::PersonalData => personal_data(user, j, false, 202, None).await,
        Action::PersonalDataMismatched => personal_data(user, j, true, 202, None).await,
        Action::PersonalDataBound => {
            personal_data(user, j, false, 409, Some("documents_bound")).await
        }
        Action::VerificationPassed => {
            let b = verification(user, h, j).await?;
            let v = &b.verification;
            if v.status != wire::VerificationStatus::Passed {
                return failed(format!(
                    "verification_{}_{}",
                    as_wire(&v.status),
                    v.reason.map_or("none", |r| r.as_str())
                ));
            }
            if b.tier != Tier::Standard {
                return failed(format!("tier_{}_not_standard", b.tier.as_str()));
            }
            j.reach(Tier::Standard, &h.live);
            Ok(())
        }
        Action::VisitCenter => visit_center(user, h, j, false).await,
        Action::MfcRegister => visit_center(user, h, j, true).await,
        Action::OrderLetter => order_letter(user, j, false).await,
        Action::ReorderLetter => {
            sleep_until(
                h,
                j.ordered_at + h.timing.letter_reorder_cooldown + Duration::from_millis(100),
            )
            .await?;
            order_letter(user, j, true).await
        }
        Action::LoseLetter => lose_letter(h, j).await,
        Action::PickUpLetter => pick_up_letter(h, j).await,
        Action::EnterLetterCode => {
            let body = wire::Code {
                code: j.letter_code.clone(),
            };
            let b: wire::Account = account_post(user, j, "/confirmations/code", &body, 200).await?;
            confirmed(h, j, b.tier)
        }
        Action::Sign => {
            let sig = j
                .citizen
                .signature
                .clone()
                .ok_or_else(|| wrong_body("citizen_without_signature"))?;
            let body = wire::ConfirmationRequest {
                method: wire::OnlineMethod::ESignature,
                address: None,
                certificate: Some(wire::CertificateRef {
                    serial: sig.serial,
                    issuer: sig.issuer.into_owned(),
                }),
            };
            let b: wire::Account = account_post(user, j, "/confirmations", &body, 200).await?;
            confirmed(h, j, b.tier)
        }
        Action::Bank(bank) => through_bank(user, h, j, bank).await,
        Action::VerificationFailed => {
            let b = verification(user, h, j).await?;
            let v = &b.verification;
            if (v.status, v.reason)
                != (
                    wire::VerificationStatus::Failed,
                    Some(wire::FailureReason::PfrMismatch),
                )
            {
                return failed(format!(
                    "verification_{}_{}_not_pfr_mismatch",
                    as_wire(&v.status),
                    v.reason.map_or("none", |r| r.as_str())
                ));
            }
            Ok(())
        }
    }
}

async fn register(user: &mut GooseUser, j: &mut Journey, channel: Channel) -> StepResult {
    let c = j.citizen.clone();
    let (contact, body) = match channel {
        Channel::Sms => {
            let phone = c
                .phone
                .clone()
                .ok_or_else(|| wrong_body("citizen_without_phone"))?;
            let body = wire::RegistrationForm {
                surname: c.surname.to_string(),
                name: c.name.to_string(),
                phone: Some(phone.clone()),
                ..Default::default()
            };
            (phone, body)
        }
        Channel::Email => {
            let email = c
                .email
                .clone()
                .ok_or_else(|| wrong_body("citizen_without_email"))?;
            let body = wire::RegistrationForm {
                surname: c.surname.to_string(),
                name: c.name.to_string(),
                email: Some(email.clone()),
                ..Default::default()
            };
            (email, body)
        }
    };
    let b: wire::RegistrationStarted = typed(
        call(
            user,
            j,
            Call::new(
                GooseMethod::Post,
                "/api/v1/registrations",
                "/api/v1/registrations",
                201,
            )
            .body(&body),
        )
        .await?,
    )?;
    j.registration = b.registration_id;
    j.registered_at = Instant::now();
    j.login = contact;
    j.oid = 0;
    j.token.clear();
    match channel {
        Channel::Sms => j.sms_expected += 1,
        Channel::Email => j.mail_expected += 1,
    }
    Ok(())
}

/// Waits for the journey's newest SMS and reads its code.
async fn read_code(h: &Harness, j: &Journey) -> StepResult<String> {
    let phone = j.citizen.phone.as_deref().unwrap_or_default();
    let mut wait = Wait::new(h, "code_not_received");
    loop {
        let texts = h.mocks.sms(phone).await.map_err(Stop::Failed)?;
        if let Some(text) = j.sms_expected.checked_sub(1).and_then(|i| texts.get(i)) {
            return code_in(text)
                .map(str::to_owned)
                .ok_or_else(|| wrong_body("sms_without_code"));
        }
        wait.again(h).await?;
    }
}

async fn confirm(
    user: &mut GooseUser,
    j: &mut Journey,
    code: &str,
    expect: u16,
    error: Option<&str>,
) -> StepResult<Body> {
    let path = format!("/api/v1/registrations/{}/code", j.registration);
    let body = wire::Code {
        code: code.to_owned(),
    };
    let mut c = Call::new(
        GooseMethod::Post,
        "/api/v1/registrations/{id}/code",
        &path,
        expect,
    )
    .body(&body);
    if let Some(e) = error {
        c = c.code(e);
    }
    call(user, j, c).await
}

async fn follow_link(user: &mut GooseUser, h: &Harness, j: &mut Journey) -> StepResult {
    let email = j.citizen.email.clone().unwrap_or_default();
    let mut wait = Wait::new(h, "link_not_received");
    let link = loop {
        let texts = h.mocks.mail(&email).await.map_err(Stop::Failed)?;
        if let Some(text) = j.mail_expected.checked_sub(1).and_then(|i| texts.get(i)) {
            break link_in(text).ok_or_else(|| wrong_body("letter_without_link"))?;
        }
        wait.again(h).await?;
    };
    call(
        user,
        j,
        Call::new(
            GooseMethod::Get,
            "/api/v1/registrations/{id}/email",
            &link,
            200,
        ),
    )
    .await
    .map(|_| ())
}

async fn set_password(
    user: &mut GooseUser,
    j: &mut Journey,
    password: &str,
    expect: u16,
    error: Option<&str>,
) -> StepResult<Body> {
    let path = format!("/api/v1/registrations/{}/password", j.registration);
    let body = wire::PasswordForm {
        password: password.to_owned(),
        password_repeat: password.to_owned(),
    };
    let mut c = Call::new(
        GooseMethod::Post,
        "/api/v1/registrations/{id}/password",
        &path,
        expect,
    )
    .body(&body);
    if let Some(e) = error {
        c = c.code(e);
    }
    call(user, j, c).await
}

async fn read_account(user: &mut GooseUser, j: &mut Journey) -> StepResult<wire::Account> {
    let path = format!("/api/v1/accounts/{}", j.oid);
    let token = j.token.clone();
    typed(
        call(
            user,
            j,
            Call::new(GooseMethod::Get, "/api/v1/accounts/{oid}", &path, 200).token(&token),
        )
        .await?,
    )
}

/// `POST /api/v1/accounts/{oid}{suffix}` with the session's token, expecting `expect`: the
/// answer as its wire type.
async fn account_post<T: DeserializeOwned>(
    user: &mut GooseUser,
    j: &mut Journey,
    suffix: &str,
    body: &impl Serialize,
    expect: u16,
) -> StepResult<T> {
    let name = format!("/api/v1/accounts/{{oid}}{suffix}");
    let path = format!("/api/v1/accounts/{}{suffix}", j.oid);
    let token = j.token.clone();
    let c = Call::new(GooseMethod::Post, &name, &path, expect)
        .body(body)
        .token(&token);
    typed(call(user, j, c).await?)
}

/// An enum's wire name (its serde form).
fn as_wire(v: &impl Serialize) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => "missing".into(),
    }
}

async fn personal_data(
    user: &mut GooseUser,
    j: &mut Journey,
    mismatched: bool,
    expect: u16,
    error: Option<&str>,
) -> StepResult {
    let mut body: wire::PersonalDataForm = serde_json::to_value(&*j.citizen)
        .and_then(serde_json::from_value)
        .map_err(|e| Stop::Failed(e.to_string()))?;
    if mismatched {
        // PFR compares the gender; FMS does not: only PFR disagrees.
        let flipped = if body.gender == "male" {
            "female"
        } else {
            "male"
        };
        body.gender = flipped.to_owned();
    }
    let path = format!("/api/v1/accounts/{}/personal-data", j.oid);
    let token = j.token.clone();
    let mut c = Call::new(
        GooseMethod::Put,
        "/api/v1/accounts/{oid}/personal-data",
        &path,
        expect,
    )
    .body(&body)
    .token(&token);
    if let Some(e) = error {
        c = c.code(e);
    }
    call(user, j, c).await.map(|_| ())
}

/// Checks that an answer shows the account confirmed, and notes the tier.
fn confirmed(h: &Harness, j: &mut Journey, tier: wire::Tier) -> StepResult {
    if tier != Tier::Confirmed {
        return failed(format!("tier_{}_not_confirmed", tier.as_str()));
    }
    j.reach(Tier::Confirmed, &h.live);
    Ok(())
}

/// A visit to the MFC `mfc-1` through the centers mock: the operator confirms the standard
/// account, or (`register`) registers a confirmed one and hands over a one-time password.
async fn visit_center(
    user: &mut GooseUser,
    h: &Harness,
    j: &mut Journey,
    register: bool,
) -> StepResult {
    let c = j.citizen.clone();
    let body = Visit {
        snils: c.snils.clone(),
        passport_series: c.passport.series.clone(),
        passport_number: c.passport.number.clone(),
        register,
        phone: None,
    };
    let url = format!("{}/mocks/centers/mfc-1/visits", h.mocks.base);
    let expect = if register { 201 } else { 200 };
    let b = call(
        user,
        j,
        Call::new(
            GooseMethod::Post,
            "/mocks/centers/{id}/visits",
            &url,
            expect,
        )
        .body(&body),
    )
    .await?;
    let tier = if register {
        let b: wire::MfcRegistered = typed(b)?;
        j.oid = b.oid;
        j.password = b.one_time_password;
        j.login = c
            .phone
            .clone()
            .ok_or_else(|| wrong_body("citizen_without_phone"))?;
        b.tier
    } else {
        typed::<wire::OperatorConfirmed>(b)?.tier
    };
    confirmed(h, j, tier)
}

/// Orders a post letter (again, for `reorder`): 202 with its tracking number.
async fn order_letter(user: &mut GooseUser, j: &mut Journey, reorder: bool) -> StepResult {
    let body = wire::ConfirmationRequest {
        method: wire::OnlineMethod::Post,
        address: None,
        certificate: None,
    };
    let b: wire::LetterOrdered = account_post(user, j, "/confirmations", &body, 202).await?;
    if b.reorder != reorder {
        return failed(format!("reorder_not_{reorder}"));
    }
    j.tracking = b
        .tracking_number
        .ok_or_else(|| wrong_body("no_tracking_number"))?;
    j.ordered_at = Instant::now();
    Ok(())
}

/// Loses the journey's letter in the post (a targeted fault of the mock), and is told so at
/// the post office.
async fn lose_letter(h: &Harness, j: &mut Journey) -> StepResult {
    let fault = Fault::LoseLetter {
        tracking_number: j.tracking.clone(),
    };
    let (status, _) = h
        .mocks
        .post("/mocks/post/admin/faults", &fault)
        .await
        .map_err(Stop::Failed)?;
    if status != 201 {
        return failed(format!("lose_letter_fault_{status}"));
    }
    let (status, b) = pickup(h, j).await?;
    match (status, b.error_code()) {
        (404, Some(code)) if code == "letter_lost" => Ok(()),
        (s, code) => failed(format!(
            "pickup_{s}_{}_not_letter_lost",
            code.unwrap_or_default()
        )),
    }
}

async fn pickup(h: &Harness, j: &Journey) -> StepResult<(u16, Body)> {
    let body = Pickup {
        passport_series: j.citizen.passport.series.clone(),
        passport_number: j.citizen.passport.number.clone(),
    };
    h.mocks
        .post(&format!("/mocks/post/letters/{}/pickup", j.tracking), &body)
        .await
        .map_err(Stop::Failed)
}

/// Waits for the letter at the post office and reads its code.
async fn pick_up_letter(h: &Harness, j: &mut Journey) -> StepResult {
    let mut wait = Wait::new(h, "letter_not_arrived");
    loop {
        let (status, b) = pickup(h, j).await?;
        match status {
            200 => {
                let letter: LetterView = typed(b)?;
                j.letter_code = letter
                    .text
                    .split(|c: char| !c.is_ascii_digit())
                    .find(|w| w.len() == 8)
                    .ok_or_else(|| wrong_body("letter_without_code"))?
                    .to_owned();
                return Ok(());
            }
            409 => wait.again(h).await?,
            s => {
                let code = b.error_code().unwrap_or_default();
                return failed(format!("pickup_{s} {code}").trim_end().to_owned());
            }
        }
    }
}

/// The bank sends its client to the engine (through the banks mock); a 202 is followed
/// through the bank until the engine has decided.
async fn through_bank(
    user: &mut GooseUser,
    h: &Harness,
    j: &mut Journey,
    bank: esia_mocks::agency::Bank,
) -> StepResult {
    let snils: String = j
        .citizen
        .snils
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let name = bank.as_str();
    let url = format!(
        "{}/mocks/banks/{name}/clients/{snils}/gosuslugi",
        h.mocks.base
    );
    let (status, b) = call_status(
        user,
        j,
        Call::new(
            GooseMethod::Post,
            "/mocks/banks/{bank}/clients/{snils}/gosuslugi",
            &url,
            200,
        )
        .or(202),
    )
    .await?;
    let mut b: wire::PartnerConfirmation = typed(b)?;
    if status == 202 {
        let id = b.confirmation_id.clone();
        let url = format!("{}/mocks/banks/{name}/confirmations/{id}", h.mocks.base);
        let mut wait = Wait::new(h, "bank_not_decided");
        loop {
            wait.again(h).await?;
            b = typed(
                call(
                    user,
                    j,
                    Call::new(
                        GooseMethod::Get,
                        "/mocks/banks/{bank}/confirmations/{id}",
                        &url,
                        200,
                    ),
                )
                .await?,
            )?;
            if b.status != wire::PartnerState::Pending {
                break;
            }
        }
    }
    if b.status != wire::PartnerState::Confirmed {
        return failed(format!("bank_{}", as_wire(&b.status)));
    }
    if b.oid != Some(j.oid) {
        return failed("bank_confirmed_another_account");
    }
    j.reach(Tier::Confirmed, &h.live);
    Ok(())
}

/// Reads the account until its verification is no longer pending.
async fn verification(
    user: &mut GooseUser,
    h: &Harness,
    j: &mut Journey,
) -> StepResult<wire::Account> {
    let mut wait = Wait::new(h, "verification_not_decided");
    loop {
        let b = read_account(user, j).await?;
        if b.verification.status != wire::VerificationStatus::Pending {
            return Ok(b);
        }
        wait.again(h).await?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_links_are_found_in_messages() {
        assert_eq!(
            code_in("Код подтверждения: 514049. Никому не сообщайте"),
            Some("514049")
        );
        assert_eq!(code_in("no code 12345 here"), None);
        assert_eq!(
            link_in("Подтвердите адрес: http://127.0.0.1:8080/api/v1/registrations/ab12/email?token=f00 спасибо")
                .as_deref(),
            Some("/api/v1/registrations/ab12/email?token=f00")
        );
        assert_eq!(link_in("nothing"), None);
        assert_eq!(percent_encode("a.b+c@x.ru"), "a.b%2Bc%40x.ru");
    }
}
