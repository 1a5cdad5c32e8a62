//! Asynchronous checks as on SMEV 3, shared by the PFR and FMS mocks: a request is acknowledged
//! at once (202 `requestIsQueued`), judged against the agency's ground truth, and answered when
//! sim time reaches its delivery time, drawn from the agency's profile. The answer is pushed to
//! the request's `callback_url` (retried with backoff, a bounded number in flight) and can always
//! be polled. Statuses follow SMEV 3: `requestIsQueued`, `underProcessing`,
//! `responseIsDelivered`, `requestIsRejectedBySmev`.
//!
//! Routes, for an agency `A` (`pfr`, `fms`):
//! - `POST /mocks/A/requests`: a check; the same `request_id` again is idempotent (the first
//!   request's state is answered, nothing is re-drawn).
//! - `GET /mocks/A/requests/{request_id}`: poll.
//! - `POST /mocks/A/requests/{request_id}/complete` (admin; optional body `{result?,
//!   rejection?}`): answer now, with the judged result or the one given; the route answers
//!   once the callback's first attempt is done (see [`super::World::settle`]).
//! - `POST /mocks/A/admin/records` `{records: [...]}`, and the shared admin routes of
//!   [`super::admin`] (profile, faults, journal, reset). Targeted fault `{"kind": "mismatch",
//!   "snils": S}` (PFR) or `{"kind": "mismatch", "passport": {series, number}}` (FMS): every
//!   answer about it is `mismatch`.
//!
//! With a `capacity` in the agency's profile, the latency drawn is the service time at a server:
//! the request stays `requestIsQueued` while it waits for a server, `underProcessing` while
//! served, and is answered (and called back) when its service ends. A request beyond the queue
//! or the quota is refused at once, and not kept: HTTP 429 with `Retry-After` (wall seconds)
//! and `{request_id, agency, status: "requestIsRejectedBySmev", rejection:
//! "QUOTE_LIMIT_EXCEEDED", error: {code: "queue_full"|"quota", message, retry_after_s}}`; the
//! same `request_id` may be sent again later.
//!
//! Answer timers are one task per agency keeping a queue ordered by absolute sim deadline; it
//! sleeps until the first with [`World`](super::World)'s clock and re-arms whenever the queue
//! changes or the clock is advanced. The queue is the agency's [`Agenda`]: an advance steps the
//! clock to each answer's time and waits for its callback's first attempt (and whatever the
//! caller does with it) before moving on.

use super::admin::{Admin, ProfileCell};
use super::error::MockError;
use super::faults::Faults;
use super::http::{parse_object, Json, Path};
use super::journal::Journal;
use super::world::{Agenda, Work};
use super::{CallbackPolicy, Context, MockKind, MocksConfig};
use crate::agency::profile::{Fate, Outage, ProfileTable};
use crate::clock::SimTime;
use crate::wire::faults::Fault;
use crate::wire::smev::{Complete, Records, RecordsAdded, Rejection, RequestView, SmevStatus};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use rand_chacha::ChaCha20Rng;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::{Notify, Semaphore};

/// The longest `request_id` accepted.
pub const REQUEST_ID_MAX_CHARS: usize = 64;

/// One agency's part: its names, request and record types, and how it judges.
pub trait Check: Send + Sync + Sized + 'static {
    /// The agency's path segment: `pfr`, `fms`.
    const AGENCY: &'static str;
    /// The mock it is.
    const KIND: MockKind;
    /// The verdict of a request a `mismatch` fault names.
    const MISMATCH: Self::Verdict;
    /// The request body.
    type Request: DeserializeOwned + Send + 'static;
    /// A ground-truth record.
    type Record: DeserializeOwned + Clone + Send + Sync + 'static;
    /// The answer.
    type Verdict: Serialize + DeserializeOwned + Copy + Send + Sync + fmt::Debug + 'static;
    /// The agency's profile.
    type Profile: ProfileTable
        + Clone
        + Serialize
        + DeserializeOwned
        + fmt::Debug
        + Send
        + Sync
        + 'static;

    /// The request's idempotency key.
    fn request_id(r: &Self::Request) -> &str;
    /// Where to push the answer.
    fn callback_url(r: &Self::Request) -> Option<&str>;
    /// Checks the request's fields; the key of the record it asks about.
    fn key_of_request(r: &Self::Request) -> Result<u64, MockError>;
    /// The key of a record (`None`: the record is malformed, with the field's name in `Err`).
    fn key_of_record(r: &Self::Record) -> Result<u64, &'static str>;
    /// The verdict on `r` given the record held for its key.
    fn judge(r: &Self::Request, truth: Option<&Self::Record>) -> Self::Verdict;
    /// The fate of a request arriving at `now`.
    fn decide(profile: &Self::Profile, now: SimTime, rng: &mut ChaCha20Rng) -> Fate;
    /// The agency's capacity, if its profile has one.
    fn capacity(profile: &Self::Profile) -> Option<&crate::agency::capacity::Capacity>;
    /// The key of the record a `mismatch` fault names (422 if it names it the wrong way).
    fn mismatch_key(fault: &Fault) -> Result<u64, MockError>;
}

#[derive(Debug)]
struct Stored<V> {
    accepted_at: SimTime,
    /// When a server takes it up (its acceptance, without a capacity).
    started_at: SimTime,
    answer_at: SimTime,
    verdict: V,
    rejection: Option<Rejection>,
    callback_url: Option<Box<str>>,
}

struct Store<C: Check> {
    /// Records added through the admin API; they take precedence over the population's.
    records: HashMap<u64, C::Record>,
    requests: HashMap<Box<str>, Stored<C::Verdict>>,
    /// Answers not yet pushed: (deadline, request id).
    due: BTreeSet<(SimTime, Box<str>)>,
    /// Answers given, in the order they were given: (answer time, request id). A full store
    /// drops the oldest past their retention from the front, without a scan.
    answered: VecDeque<(SimTime, Box<str>)>,
}

/// One asynchronous agency: its truth, requests and timers.
pub struct Smev<C: Check> {
    context: Arc<Context>,
    profile: ProfileCell<C::Profile>,
    faults: Arc<Faults>,
    population: HashMap<u64, C::Record>,
    store: Mutex<Store<C>>,
    wake: Notify,
    journal: Arc<Journal>,
    client: reqwest::Client,
    callbacks: Arc<Semaphore>,
    policy: CallbackPolicy,
    requests_max: usize,
    retention_ms: u64,
    records_max: usize,
    stations: super::station::Stations,
}

impl<C: Check> fmt::Debug for Smev<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Smev").field("agency", &C::AGENCY).finish()
    }
}

impl<C: Check> Smev<C> {
    /// The agency holding `truth`, with its answer timer started (call within a Tokio runtime).
    /// Records that are malformed are skipped with a warning.
    pub fn start(
        context: Arc<Context>,
        profile: C::Profile,
        truth: Vec<C::Record>,
        config: &MocksConfig,
        client: reqwest::Client,
    ) -> Arc<Self> {
        let mut population = HashMap::with_capacity(truth.len());
        for record in truth {
            match C::key_of_record(&record) {
                Ok(key) => {
                    population.insert(key, record);
                }
                Err(field) => tracing::warn!(agency = C::AGENCY, field, "malformed record skipped"),
            }
        }
        let smev = Arc::new(Self {
            stations: super::station::Stations::one(C::AGENCY, context.world.clock().scale()),
            journal: context.journal(),
            faults: Faults::new(context.clone(), C::AGENCY),
            context,
            profile: ProfileCell::new(profile),
            population,
            store: Mutex::new(Store {
                records: HashMap::new(),
                requests: HashMap::new(),
                due: BTreeSet::new(),
                answered: VecDeque::new(),
            }),
            wake: Notify::new(),
            client,
            callbacks: Arc::new(Semaphore::new(config.callback.in_flight.max(1))),
            policy: config.callback,
            requests_max: config.requests_max.max(1),
            retention_ms: config.requests_retention_ms,
            records_max: config.records_max,
        });
        let agenda: Weak<Smev<C>> = Arc::downgrade(&smev);
        smev.context.world.add_agenda(agenda);
        tokio::spawn(run_timers(Arc::downgrade(&smev)));
        smev
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store<C>> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Requests held.
    pub fn requests_held(&self) -> usize {
        self.store().requests.len()
    }

    /// The agency's station (its capacity at work).
    pub fn stations(&self) -> &super::station::Stations {
        &self.stations
    }

    fn view(&self, id: &str, s: &Stored<C::Verdict>, now: SimTime) -> RequestView<C::Verdict> {
        let world = &self.context.world;
        let answered = now >= s.answer_at;
        let status = match (answered, s.rejection) {
            (true, Some(_)) => SmevStatus::RequestIsRejectedBySmev,
            (true, None) => SmevStatus::ResponseIsDelivered,
            (false, _) if now > s.accepted_at && now >= s.started_at => SmevStatus::UnderProcessing,
            (false, _) => SmevStatus::RequestIsQueued,
        };
        RequestView {
            request_id: id.to_owned(),
            agency: C::AGENCY.to_owned(),
            status,
            result: (answered && s.rejection.is_none()).then_some(s.verdict),
            rejection: s.rejection.filter(|_| answered),
            accepted_at: world.timestamp(s.accepted_at),
            answered_at: answered.then(|| world.timestamp(s.answer_at)),
        }
    }

    /// Drops answered requests past the retention (when the store is full).
    /// Drops the answered requests older than `retention_ms`, oldest first: O(dropped).
    fn sweep(store: &mut Store<C>, now: SimTime, retention_ms: u64) {
        while let Some((t, _)) = store.answered.front() {
            if now.ms_since(*t) <= retention_ms {
                break;
            }
            if let Some((_, id)) = store.answered.pop_front() {
                store.requests.remove(&id);
            }
        }
    }

    fn lookup(&self, store: &Store<C>, key: u64) -> Option<C::Record> {
        store
            .records
            .get(&key)
            .or_else(|| self.population.get(&key))
            .cloned()
    }

    /// Pushes one answer to its callback URL, retrying with a doubling backoff. `work` is held
    /// through the first attempt (an advance waits for it, not for the retries).
    fn call_back(self: &Arc<Self>, url: String, view: RequestView<C::Verdict>, work: Work) {
        let client = self.client.clone();
        let permits = self.callbacks.clone();
        let policy = self.policy;
        tokio::spawn(async move {
            let mut work = Some(work);
            let Ok(_permit) = permits.acquire_owned().await else {
                return;
            };
            let mut backoff = Duration::from_millis(policy.backoff_ms);
            for attempt in 1..=policy.attempts.max(1) {
                match client.post(&url).json(&view).send().await {
                    Ok(r) if r.status().is_success() => return,
                    Ok(r) if r.status().is_client_error() => {
                        tracing::warn!(agency = C::AGENCY, url, status = %r.status(), "callback refused");
                        return;
                    }
                    Ok(r) => {
                        tracing::debug!(agency = C::AGENCY, attempt, status = %r.status(), "callback failed")
                    }
                    Err(e) => {
                        tracing::debug!(agency = C::AGENCY, attempt, error = %e, "callback failed")
                    }
                }
                drop(work.take());
                tokio::time::sleep(backoff).await;
                backoff = backoff.saturating_mul(2);
            }
            tracing::warn!(
                agency = C::AGENCY,
                request_id = view.request_id,
                "callback given up; the caller must poll"
            );
        });
    }
}

/// The answer timer: pushes every answer whose deadline has come, then sleeps until the next
/// deadline (or a change of the queue, or an advance of the clock).
async fn run_timers<C: Check>(weak: Weak<Smev<C>>) {
    let mut advances = match weak.upgrade() {
        Some(s) => s.context.world.advances(),
        None => return,
    };
    loop {
        let Some(smev) = weak.upgrade() else { return };
        let world = smev.context.world.clone();
        // Due answers leave the queue counted as work: an advance waits for them.
        let pass = world.work();
        let now = world.now();
        let (fire, next) = {
            let mut store = smev.store();
            let mut fire = Vec::new();
            while let Some((t, _)) = store.due.first() {
                if *t > now {
                    break;
                }
                let Some((t, id)) = store.due.pop_first() else {
                    break;
                };
                if let Some(s) = store.requests.get(&id) {
                    if let Some(url) = &s.callback_url {
                        fire.push((url.to_string(), smev.view(&id, s, now), world.work()));
                    }
                    store.answered.push_back((t, id));
                }
            }
            (fire, store.due.first().map(|(t, _)| *t))
        };
        for (url, view, work) in fire {
            smev.call_back(url, view, work);
        }
        drop(pass);
        // Wake at the next deadline, at a change, or after a while to notice being dropped.
        let wall_cap = tokio::time::Instant::now() + Duration::from_secs(30);
        let at = next
            .map(|t| tokio::time::Instant::from_std(world.clock().instant_at(t)).min(wall_cap))
            .unwrap_or(wall_cap);
        let notified = smev.wake.notified();
        tokio::select! {
            _ = notified => {}
            changed = advances.changed() => {
                if changed.is_err() {
                    tokio::time::sleep_until(at).await;
                }
            }
            _ = tokio::time::sleep_until(at) => {}
        }
    }
}

impl<C: Check> Agenda for Smev<C> {
    fn next_due(&self, from: SimTime) -> Option<SimTime> {
        let store = self.store();
        let first = store.due.range((from, Box::<str>::from(""))..).next();
        first.map(|(t, _)| *t)
    }
}

impl<C: Check> Admin for Smev<C> {
    fn kind(&self) -> MockKind {
        C::KIND
    }
    fn journal(&self) -> &Arc<Journal> {
        &self.journal
    }
    fn faults(&self) -> &Arc<Faults> {
        &self.faults
    }
    fn profile_json(&self) -> Value {
        self.profile.json()
    }
    fn patch_profile(&self, patch: Map<String, Value>) -> Result<(), MockError> {
        self.profile.patch(patch)
    }
    fn add_outage(&self, outage: Outage) -> Result<(), MockError> {
        self.profile.add_outage(outage)
    }
    fn targeted(&self, fault: &Fault) -> Result<(), MockError> {
        match fault {
            Fault::Mismatch { .. } => self.faults.add_mismatch(C::mismatch_key(fault)?),
            other => Err(super::admin::unsupported(C::KIND, other)),
        }
    }
    fn reset_state(&self) {
        {
            let mut store = self.store();
            store.records.clear();
            store.requests.clear();
            store.due.clear();
            store.answered.clear();
        }
        self.stations.clear();
        self.profile.restore();
        self.wake.notify_one();
    }
    fn now(&self) -> SimTime {
        self.context.world.now()
    }
}

/// The agency's routes (the admin routes and layers are added by [`super::Mocks`]).
pub fn router<C: Check>(smev: Arc<Smev<C>>) -> Router {
    let a = C::AGENCY;
    Router::new()
        .route(&format!("/mocks/{a}/requests"), post(request::<C>))
        .route(&format!("/mocks/{a}/requests/{{id}}"), get(poll::<C>))
        .route(
            &format!("/mocks/{a}/requests/{{id}}/complete"),
            post(complete::<C>),
        )
        .route(&format!("/mocks/{a}/admin/records"), post(add_records::<C>))
        .with_state(smev)
}

/// Checks a request id: 1 to 64 letters, digits, `-`, `_` or `.`.
pub fn check_request_id(id: &str) -> Result<(), MockError> {
    let ok = !id.is_empty()
        && id.len() <= REQUEST_ID_MAX_CHARS
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(MockError::invalid(
            "request_id",
            "must be 1 to 64 letters, digits, '-', '_' or '.'",
        ))
    }
}

/// Checks a callback URL: `http://` or `https://` with a host.
pub fn check_callback_url(url: &str) -> Result<(), MockError> {
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        _ => Err(MockError::invalid(
            "callback_url",
            "must be an http:// or https:// URL",
        )),
    }
}

async fn request<C: Check>(
    State(smev): State<Arc<Smev<C>>>,
    Json(body): Json<C::Request>,
) -> Result<Response, MockError> {
    let id = C::request_id(&body);
    check_request_id(id)?;
    if let Some(url) = C::callback_url(&body) {
        check_callback_url(url)?;
    }
    let key = C::key_of_request(&body)?;
    let world = smev.context.world.clone();
    let now = world.now();
    {
        let store = smev.store();
        if let Some(s) = store.requests.get(id) {
            return Ok((StatusCode::ACCEPTED, Json(smev.view(id, s, now))).into_response());
        }
    }
    let (fate, capacity) = {
        let profile = smev.profile.get();
        let fate = smev.context.with_rng(|rng| C::decide(&profile, now, rng));
        (fate, C::capacity(&profile).cloned())
    };
    let delay_ms = smev.context.delay_of(C::AGENCY, fate).await?;
    let mut store = smev.store();
    if let Some(s) = store.requests.get(id) {
        // The same request raced in meanwhile.
        return Ok((StatusCode::ACCEPTED, Json(smev.view(id, s, now))).into_response());
    }
    if store.requests.len() >= smev.requests_max {
        Smev::<C>::sweep(&mut store, now, smev.retention_ms);
        if store.requests.len() >= smev.requests_max {
            return Err(MockError::StoreFull {
                store: "agency requests",
            });
        }
    }
    // The wait for a server, or a refusal (nothing kept: the same id may come again).
    let (started_at, answer_at) =
        match smev
            .stations
            .offer(0, capacity.as_ref(), now, delay_ms, |t| t)
        {
            Ok(None) => (now, now.saturating_add(delay_ms)),
            Ok(Some(admitted)) => (admitted.start, admitted.done),
            Err(busy) => return Ok(rejected::<C>(id, busy)),
        };
    let truth = smev.lookup(&store, key);
    let verdict = if smev.faults.mismatch(key) {
        C::MISMATCH
    } else {
        C::judge(&body, truth.as_ref())
    };
    let stored = Stored {
        accepted_at: now,
        started_at,
        answer_at,
        verdict,
        rejection: None,
        callback_url: C::callback_url(&body).map(Into::into),
    };
    let view = smev.view(id, &stored, now);
    store.due.insert((stored.answer_at, id.into()));
    store.requests.insert(id.into(), stored);
    drop(store);
    smev.wake.notify_one();
    Ok((StatusCode::ACCEPTED, Json(view)).into_response())
}

/// SMEV's answer to request `id` refused by the agency's capacity (`busy`): 429 with
/// `Retry-After`, the SMEV status and rejection beside the contract's error.
fn rejected<C: Check>(id: &str, busy: MockError) -> Response {
    let retry_after_s = match &busy {
        MockError::Busy { retry_after_s, .. } => *retry_after_s,
        _ => 1,
    };
    let body = serde_json::json!({
        "request_id": id,
        "agency": C::AGENCY,
        "status": SmevStatus::RequestIsRejectedBySmev,
        "rejection": Rejection::QuoteLimitExceeded,
        "error": { "code": busy.code(), "message": busy.to_string(), "retry_after_s": retry_after_s },
    });
    let mut response = busy.into_response();
    *response.body_mut() = axum::body::Body::from(body.to_string());
    response
}

async fn poll<C: Check>(
    State(smev): State<Arc<Smev<C>>>,
    Path(id): Path<String>,
) -> Result<Json<RequestView<C::Verdict>>, MockError> {
    let now = smev.context.world.now();
    let store = smev.store();
    let s = store
        .requests
        .get(id.as_str())
        .ok_or(MockError::NotFound { what: "request" })?;
    Ok(Json(smev.view(&id, s, now)))
}

async fn complete<C: Check>(
    State(smev): State<Arc<Smev<C>>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<RequestView<C::Verdict>>, MockError> {
    let change: Complete<C::Verdict> = if body.iter().all(u8::is_ascii_whitespace) {
        Complete {
            result: None,
            rejection: None,
        }
    } else {
        parse_object(&body)?
    };
    let now = smev.context.world.now();
    let view = {
        let mut store = smev.store();
        let Some(s) = store.requests.get_mut(id.as_str()) else {
            return Err(MockError::NotFound { what: "request" });
        };
        let old = s.answer_at;
        s.answer_at = s.answer_at.min(now);
        s.started_at = s.started_at.min(now);
        if let Some(v) = change.result {
            s.verdict = v;
            s.rejection = None;
        }
        if change.rejection.is_some() {
            s.rejection = change.rejection;
        }
        let view = smev.view(&id, s, now);
        let key: Box<str> = id.as_str().into();
        store.due.remove(&(old, key.clone()));
        store.due.insert((now, key));
        view
    };
    smev.wake.notify_one();
    tracing::info!(
        agency = C::AGENCY,
        request_id = id,
        "request completed by the admin API"
    );
    // Answer once the callback and what the caller did with it are done.
    smev.context.world.settle().await;
    Ok(Json(view))
}

async fn add_records<C: Check>(
    State(smev): State<Arc<Smev<C>>>,
    Json(body): Json<Records<C::Record>>,
) -> Result<(StatusCode, Json<RecordsAdded>), MockError> {
    let mut keyed = Vec::with_capacity(body.records.len());
    for (i, record) in body.records.into_iter().enumerate() {
        let key = C::key_of_record(&record).map_err(|field| {
            MockError::Request(super::http::RequestError::bad_parameter(
                &format!("records[{i}].{field}"),
                "is not valid",
            ))
        })?;
        keyed.push((key, record));
    }
    let mut store = smev.store();
    let new = keyed
        .iter()
        .filter(|(k, _)| !store.records.contains_key(k))
        .count();
    if store.records.len() + new > smev.records_max {
        return Err(MockError::StoreFull {
            store: "agency records",
        });
    }
    let added = keyed.len();
    store.records.extend(keyed);
    Ok((
        StatusCode::CREATED,
        Json(RecordsAdded {
            added,
            held: store.records.len(),
        }),
    ))
}
