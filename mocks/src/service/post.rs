//! The Russian Post mock: registered letters with tracking and pickup at the post office.
//!
//! - `POST /mocks/post/letters` `{recipient, address, text, passport_series?, passport_number?,
//!   reference?}` -> 201 `{tracking_number, status, accepted_at}`. The letter arrives after the
//!   post model's delay (speedup applied, on the world's clock) or is lost; `reference` makes
//!   the order idempotent (the same reference answers the same letter). Without a passport the
//!   clerk hands the letter to anyone.
//! - `GET /mocks/post/tracking/{n}` -> `{tracking_number, status, events: [{kind, at}]}`
//!   (`accepted`, `in_transit`, `arrived`, `handed_over`; a lost letter stays `in_transit`).
//! - `POST /mocks/post/letters/{n}/pickup` `{passport_series, passport_number}` -> the letter
//!   with its text once it has arrived: 409 `not_arrived` before, 404 `letter_lost` when lost,
//!   403 `wrong_passport`.
//! - `POST /mocks/post/letters/{n}/deliver` (control): the letter arrives now, found if lost.
//! - Targeted fault `{"kind": "lose_letter", "tracking_number": N}`.
//!
//! With a `capacity` in the profile the latency drawn (the delivery time) is the service time
//! at a server: a letter arrives when its service ends, and one beyond the queue or the quota
//! is refused (429 `queue_full` or `quota` with `Retry-After`).
//!
//! Tracking numbers are 14 digits: the sending office's postcode (101000), a sequence number
//! and a check digit (weights 3 and 1, as in EAN).

use super::admin::{Admin, ProfileCell};
use super::error::MockError;
use super::faults::Faults;
use super::http::{Json, Path};
use super::journal::Journal;
use super::station::Stations;
use super::{Context, MockKind};
use crate::agency::post::{self as model, Letter, PickupRefusal, PostProfile, PostVerdict};
use crate::agency::post::{TrackingEvent, TrackingKind};
use crate::agency::profile::Outage;
use crate::clock::{SimTime, MS_PER_DAY};
use crate::wire::faults::Fault;
use crate::wire::post::{Accepted, EventView, LetterView, Pickup, SendLetter, TrackingView};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The sending office's postcode, the first six digits of every tracking number.
const OFFICE: u64 = 101_000;
/// Letters handed over, or accepted this long ago, are dropped when the store is full.
const RETENTION_MS: u64 = 60 * MS_PER_DAY;

/// The post.
#[derive(Debug)]
pub struct Post {
    context: Arc<Context>,
    profile: ProfileCell<PostProfile>,
    letters: Mutex<Letters>,
    journal: Arc<Journal>,
    faults: Arc<Faults>,
    letters_max: usize,
    stations: Stations,
}

#[derive(Debug, Default)]
struct Letters {
    by_number: HashMap<u64, Held>,
    by_reference: HashMap<Box<str>, u64>,
    next: u64,
}

#[derive(Debug)]
struct Held {
    letter: Letter,
    recipient: Box<str>,
    address: Box<str>,
    text: Box<str>,
    reference: Option<Box<str>>,
}

/// A tracking number of sequence number `seq`.
pub fn tracking_number(seq: u64) -> String {
    let body = format!("{OFFICE:06}{:07}", seq % 10_000_000);
    format!("{body}{}", check_digit(&body))
}

fn check_digit(digits: &str) -> u32 {
    let sum: u32 = digits
        .bytes()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    (10 - sum % 10) % 10
}

/// The sequence number of a tracking number, if it is one of this office's.
pub fn parse_tracking_number(text: &str) -> Option<u64> {
    let t = text.trim();
    if t.len() != 14 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (body, check) = t.split_at(13);
    if check_digit(body) != u32::from(check.as_bytes()[0] - b'0') || !body.starts_with("101000") {
        return None;
    }
    body[6..].parse().ok()
}

fn length(field: &'static str, s: &str, max: usize) -> Result<(), MockError> {
    let n = s.trim().chars().count();
    if n == 0 || n > max {
        return Err(MockError::invalid(
            field,
            format!("must have 1 to {max} characters"),
        ));
    }
    Ok(())
}

fn digits(field: &'static str, s: &str, n: usize) -> Result<String, MockError> {
    let d: String = s.chars().filter(|c| *c != ' ').collect();
    if d.len() == n && d.bytes().all(|b| b.is_ascii_digit()) {
        Ok(d)
    } else {
        Err(MockError::invalid(field, format!("must have {n} digits")))
    }
}

impl Post {
    /// The post with `profile`, holding at most `letters_max` letters.
    pub fn new(context: Arc<Context>, profile: PostProfile, letters_max: usize) -> Arc<Self> {
        Arc::new(Self {
            stations: Stations::one("post", context.world.clock().scale()),
            journal: context.journal(),
            faults: Faults::new(context.clone(), "post"),
            context,
            profile: ProfileCell::new(profile),
            letters: Mutex::new(Letters::default()),
            letters_max: letters_max.max(1),
        })
    }

    fn letters(&self) -> std::sync::MutexGuard<'_, Letters> {
        self.letters.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Letters held.
    pub fn letters_held(&self) -> usize {
        self.letters().by_number.len()
    }

    /// The post's station (its capacity at work).
    pub fn stations(&self) -> &Stations {
        &self.stations
    }

    fn tracking(&self, seq: u64, held: &Held, now: SimTime) -> TrackingView {
        let world = &self.context.world;
        let events: Vec<TrackingEvent> = held.letter.tracking(now);
        TrackingView {
            tracking_number: tracking_number(seq),
            status: events.last().map_or(TrackingKind::Accepted, |e| e.kind),
            events: events
                .into_iter()
                .map(|e| EventView {
                    kind: e.kind,
                    at: world.timestamp(e.at),
                })
                .collect(),
        }
    }

    /// Marks the letter `number` lost (a targeted fault).
    pub fn lose(&self, number: &str) -> Result<(), MockError> {
        let seq = parse_tracking_number(number).ok_or(MockError::NotFound { what: "letter" })?;
        let mut letters = self.letters();
        let held = letters
            .by_number
            .get_mut(&seq)
            .ok_or(MockError::NotFound { what: "letter" })?;
        if held.letter.picked_up_at.is_none() {
            held.letter.lost = true;
        }
        tracing::info!(tracking_number = number, "letter lost by the admin API");
        Ok(())
    }
}

impl Admin for Post {
    fn kind(&self) -> MockKind {
        MockKind::Post
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
            Fault::LoseLetter { tracking_number } => self.lose(tracking_number),
            other => Err(super::admin::unsupported(self.kind(), other)),
        }
    }
    fn reset_state(&self) {
        *self.letters() = Letters::default();
        self.stations.clear();
        self.profile.restore();
    }
    fn now(&self) -> SimTime {
        self.context.world.now()
    }
}

/// The post's routes (the admin routes and layers are added by [`super::Mocks`]).
pub fn router(p: Arc<Post>) -> Router {
    Router::new()
        .route("/mocks/post/letters", post(send))
        .route("/mocks/post/tracking/{n}", get(track))
        .route("/mocks/post/letters/{n}/pickup", post(pickup))
        .route("/mocks/post/letters/{n}/deliver", post(deliver))
        .with_state(p)
}

async fn send(
    State(p): State<Arc<Post>>,
    Json(body): Json<SendLetter>,
) -> Result<(StatusCode, Json<Accepted>), MockError> {
    length("recipient", &body.recipient, 300)?;
    let address = body.address.one_line();
    length("address", &address, 500)?;
    length("text", &body.text, 2_000)?;
    let passport = match (&body.passport_series, &body.passport_number) {
        (Some(s), Some(n)) => Some((
            digits("passport_series", s, 4)?,
            digits("passport_number", n, 6)?,
        )),
        (None, None) => None,
        (None, Some(_)) => {
            return Err(MockError::invalid(
                "passport_series",
                "is needed with passport_number",
            ))
        }
        (Some(_), None) => {
            return Err(MockError::invalid(
                "passport_number",
                "is needed with passport_series",
            ))
        }
    };
    if let Some(r) = &body.reference {
        super::smev::check_request_id(r).map_err(|_| {
            MockError::invalid(
                "reference",
                "must be 1 to 64 letters, digits, '-', '_' or '.'",
            )
        })?;
    }
    let world = &p.context.world;
    let now = world.now();
    let accepted = |seq: u64, held: &Held| Accepted {
        tracking_number: tracking_number(seq),
        status: TrackingKind::Accepted,
        accepted_at: world.timestamp(held.letter.accepted_at),
    };
    if let Some(r) = &body.reference {
        let letters = p.letters();
        if let Some(seq) = letters.by_reference.get(r.as_str()) {
            if let Some(held) = letters.by_number.get(seq) {
                return Ok((StatusCode::CREATED, Json(accepted(*seq, held))));
            }
        }
    }
    let (reply, capacity) = {
        let profile = p.profile.get();
        let reply = p.context.with_rng(|rng| model::send(&profile, now, rng));
        (reply, profile.service.capacity.clone())
    };
    let (verdict, service_ms) = p.context.answer("post", reply).await?;
    let (series, number) = passport.unwrap_or_default();
    let held = Held {
        letter: Letter::new(
            now,
            service_ms,
            verdict == PostVerdict::Lost,
            series,
            number,
        ),
        recipient: body.recipient.trim().into(),
        address: address.into(),
        text: body.text.into(),
        reference: body.reference.map(Into::into),
    };
    let mut letters = p.letters();
    if let Some(r) = &held.reference {
        if let Some(seq) = letters.by_reference.get(r) {
            if let Some(first) = letters.by_number.get(seq) {
                // The same order raced in meanwhile.
                return Ok((StatusCode::CREATED, Json(accepted(*seq, first))));
            }
        }
    }
    if letters.by_number.len() >= p.letters_max {
        let Letters {
            by_number,
            by_reference,
            ..
        } = &mut *letters;
        by_number.retain(|_, h| {
            let keep = h.letter.picked_up_at.is_none()
                && now.ms_since(h.letter.accepted_at) <= RETENTION_MS;
            if !keep {
                if let Some(r) = &h.reference {
                    by_reference.remove(r);
                }
            }
            keep
        });
        if letters.by_number.len() >= p.letters_max {
            return Err(MockError::StoreFull { store: "letters" });
        }
    }
    // The wait for a server (under the letters' lock: offers in the order of arrival).
    let delay_ms = match p
        .stations
        .offer(0, capacity.as_ref(), now, service_ms, |t| t)?
    {
        Some(admitted) => admitted.delay_ms(now),
        None => service_ms,
    };
    let mut held = held;
    held.letter.arrives_at = now.saturating_add(delay_ms);
    letters.next += 1;
    let seq = letters.next;
    let view = accepted(seq, &held);
    if let Some(r) = &held.reference {
        letters.by_reference.insert(r.clone(), seq);
    }
    letters.by_number.insert(seq, held);
    Ok((StatusCode::CREATED, Json(view)))
}

fn seq_of(n: &str) -> Result<u64, MockError> {
    parse_tracking_number(n).ok_or(MockError::NotFound { what: "letter" })
}

async fn track(
    State(p): State<Arc<Post>>,
    Path(n): Path<String>,
) -> Result<Json<TrackingView>, MockError> {
    let seq = seq_of(&n)?;
    let now = p.context.world.now();
    let letters = p.letters();
    let held = letters
        .by_number
        .get(&seq)
        .ok_or(MockError::NotFound { what: "letter" })?;
    Ok(Json(p.tracking(seq, held, now)))
}

async fn pickup(
    State(p): State<Arc<Post>>,
    Path(n): Path<String>,
    Json(body): Json<Pickup>,
) -> Result<Json<LetterView>, MockError> {
    let seq = seq_of(&n)?;
    let world = &p.context.world;
    let now = world.now();
    let mut letters = p.letters();
    let held = letters
        .by_number
        .get_mut(&seq)
        .ok_or(MockError::NotFound { what: "letter" })?;
    let letter = &held.letter;
    let judged = if letter.passport_series.is_empty() {
        // No passport on the order: the clerk checks only that the letter is there.
        if letter.lost {
            Err(PickupRefusal::Lost)
        } else if now < letter.arrives_at {
            Err(PickupRefusal::NotArrived)
        } else {
            Ok(())
        }
    } else {
        model::pickup(letter, now, &body.passport_series, &body.passport_number)
    };
    judged.map_err(|r| match r {
        PickupRefusal::NotArrived => MockError::NotArrived,
        PickupRefusal::Lost => MockError::LetterLost,
        PickupRefusal::WrongPassport => MockError::WrongPassport,
    })?;
    let at = *held.letter.picked_up_at.get_or_insert(now);
    Ok(Json(LetterView {
        tracking_number: tracking_number(seq),
        recipient: held.recipient.to_string(),
        address: held.address.to_string(),
        text: held.text.to_string(),
        handed_over_at: world.timestamp(at),
    }))
}

async fn deliver(
    State(p): State<Arc<Post>>,
    Path(n): Path<String>,
) -> Result<Json<TrackingView>, MockError> {
    let seq = seq_of(&n)?;
    let now = p.context.world.now();
    let view = {
        let mut letters = p.letters();
        let held = letters
            .by_number
            .get_mut(&seq)
            .ok_or(MockError::NotFound { what: "letter" })?;
        if held.letter.picked_up_at.is_none() {
            held.letter.deliver_now(now);
        }
        p.tracking(seq, held, now)
    };
    tracing::info!(tracking_number = n, "letter delivered by the admin API");
    Ok(Json(view))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracking_numbers_carry_a_check_digit() {
        for seq in [1, 42, 9_999_999] {
            let n = tracking_number(seq);
            assert_eq!(n.len(), 14, "{n}");
            assert!(n.starts_with("101000"));
            assert_eq!(parse_tracking_number(&n), Some(seq));
            let mut wrong = n.clone().into_bytes();
            wrong[10] = if wrong[10] == b'9' {
                b'0'
            } else {
                wrong[10] + 1
            };
            assert_eq!(
                parse_tracking_number(&String::from_utf8(wrong).unwrap()),
                None
            );
        }
        assert_eq!(parse_tracking_number("RA123456789RU"), None);
    }
}
