//! The service centers' mock (MFC "My Documents", Rostelecom, Post, MVD): a directory and
//! visits at the counter.
//!
//! - `GET /mocks/centers` -> `{centers: [{id, kind, region, utc_offset_min, hours}]}` (`mfc-1`
//!   always exists); `GET /mocks/centers/{id}`.
//! - `POST /mocks/centers/{id}/visits` `{snils, passport_series, passport_number, register?,
//!   phone?}`: the citizen is served after the time at the counter (the centers' profile, on
//!   the world's clock), or turned away (429 `queue` with `Retry-After`, 503 when the
//!   operator's system is down);
//!   then the operator confirms the identity through the engine's operator API
//!   (`POST /api/v1/operator/confirmations`), or with `register` (an MFC only) reads the
//!   passport and registers a confirmed account (`POST /api/v1/operator/registrations`), each
//!   naming the center (`center_id`); the answer is the engine's, with the one-time password
//!   of a new account.
//! - `POST /mocks/centers/admin/records` `{records: [person]}`: people an MFC can register
//!   besides the population.
//!
//! With a `capacity` in the profile each center has its own station of that capacity (its
//! counters, `servers`, and the waiting room, `queue`): a visitor waits for a free counter,
//! then the time at the counter, and is turned away beyond the queue or the quota (429 `queue`,
//! with the station's `Retry-After`). With `opening_hours` a queue carries over to the next
//! opening.
//!
//! Opening hours are shown in the directory; visits outside them are refused (409 `closed` with
//! `opens_at`) only when the profile's `opening_hours` is true (default false, so a test or a
//! load run at any hour of the world's clock is served). Targeted fault `{"kind": "mismatch",
//! "snils": S}`: the operator mistypes the passport number of S, so the engine refuses.

use super::admin::{overlay, Admin, ProfileCell};
use super::banks::engine_body;
use super::engine::{Api, Engine};
use super::error::MockError;
use super::faults::Faults;
use super::http::{Json, Path};
use super::journal::Journal;
use super::people::{snils_key, People};
use super::station::Stations;
use super::{Context, MockKind};
use crate::agency::centers::{self as model, Center, CentersProfile, Hours, Refusal, VisitOutcome};
use crate::agency::matching::same_digits;
use crate::agency::profile::Outage;
use crate::clock::SimTime;
use crate::wire::banks::RecordsAdded;
use crate::wire::centers::{Listing, Records, Visit};
use crate::wire::faults::Fault;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde_json::{Map, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The profile key, beside the model's, that makes visits respect opening hours.
pub const OPENING_HOURS_KEY: &str = "opening_hours";

/// The service centers.
#[derive(Debug)]
pub struct Centers {
    context: Arc<Context>,
    profile: ProfileCell<CentersProfile>,
    opening_hours: AtomicBool,
    opening_hours_initial: bool,
    directory: Vec<Center>,
    people: People,
    engine: Arc<Engine>,
    journal: Arc<Journal>,
    faults: Arc<Faults>,
    /// One station a center of the directory, in its order, all labelled `centers`.
    stations: Stations,
}

impl Centers {
    /// The centers of `directory` with `profile`; visits respect opening hours if
    /// `opening_hours`.
    pub fn new(
        context: Arc<Context>,
        profile: CentersProfile,
        opening_hours: bool,
        people: People,
        engine: Arc<Engine>,
    ) -> Arc<Self> {
        let directory = model::directory();
        Arc::new(Self {
            stations: Stations::labelled(
                "centers",
                context.world.clock().scale(),
                directory.iter().map(|_| "centers"),
            ),
            journal: context.journal(),
            faults: Faults::new(context.clone(), "centers"),
            context,
            profile: ProfileCell::new(profile),
            opening_hours: AtomicBool::new(opening_hours),
            opening_hours_initial: opening_hours,
            directory,
            people,
            engine,
        })
    }

    /// The centers' stations (their capacities at work).
    pub fn stations(&self) -> &Stations {
        &self.stations
    }

    fn center(&self, id: &str) -> Result<&Center, MockError> {
        self.directory
            .iter()
            .find(|c| c.id == id)
            .ok_or(MockError::NotFound { what: "center" })
    }
}

impl Admin for Centers {
    fn kind(&self) -> MockKind {
        MockKind::Centers
    }
    fn journal(&self) -> &Arc<Journal> {
        &self.journal
    }
    fn faults(&self) -> &Arc<Faults> {
        &self.faults
    }
    fn profile_json(&self) -> Value {
        let mut v = self.profile.json();
        if let Value::Object(m) = &mut v {
            m.insert(
                OPENING_HOURS_KEY.into(),
                Value::Bool(self.opening_hours.load(Ordering::Relaxed)),
            );
        }
        v
    }
    fn patch_profile(&self, mut patch: Map<String, Value>) -> Result<(), MockError> {
        let hours = match patch.remove(OPENING_HOURS_KEY) {
            None => None,
            Some(Value::Bool(b)) => Some(b),
            Some(_) => return Err(MockError::invalid("opening_hours", "must be true or false")),
        };
        if !patch.is_empty() {
            // Checked in full before anything changes.
            let next = overlay(&*self.profile.get(), patch)?;
            self.profile.update(|p| *p = next);
        }
        if let Some(b) = hours {
            self.opening_hours.store(b, Ordering::Relaxed);
        }
        Ok(())
    }
    fn add_outage(&self, outage: Outage) -> Result<(), MockError> {
        self.profile.add_outage(outage)
    }
    fn targeted(&self, fault: &Fault) -> Result<(), MockError> {
        match fault {
            Fault::Mismatch {
                snils: Some(s),
                passport: None,
            } => self.faults.add_mismatch(snils_key(s)?),
            Fault::Mismatch { .. } => Err(MockError::invalid(
                "snils",
                "is needed: a service-center mismatch names the visitor's snils",
            )),
            other => Err(super::admin::unsupported(self.kind(), other)),
        }
    }
    fn reset_state(&self) {
        self.people.clear();
        self.stations.clear();
        self.profile.restore();
        self.opening_hours
            .store(self.opening_hours_initial, Ordering::Relaxed);
    }
    fn now(&self) -> SimTime {
        self.context.world.now()
    }
}

/// The centers' routes (the admin routes and layers are added by [`super::Mocks`]).
pub fn router(c: Arc<Centers>) -> Router {
    Router::new()
        .route("/mocks/centers", get(list))
        .route("/mocks/centers/{id}", get(one))
        .route("/mocks/centers/{id}/visits", post(visit))
        .route("/mocks/centers/admin/records", post(add_records))
        .with_state(c)
}

async fn list(State(c): State<Arc<Centers>>) -> Json<Listing> {
    Json(Listing {
        centers: c.directory.clone(),
    })
}

async fn one(
    State(c): State<Arc<Centers>>,
    Path(id): Path<String>,
) -> Result<Json<Center>, MockError> {
    c.center(&id).cloned().map(Json)
}

/// A passport number with its last digit changed: the operator's typo.
fn mistyped(number: &str) -> String {
    let mut digits: Vec<u8> = number.bytes().filter(u8::is_ascii_digit).collect();
    if let Some(last) = digits.last_mut() {
        *last = if *last == b'9' { b'0' } else { *last + 1 };
    }
    String::from_utf8(digits).unwrap_or_default()
}

async fn visit(
    State(c): State<Arc<Centers>>,
    Path(id): Path<String>,
    Json(body): Json<Visit>,
) -> Result<Response, MockError> {
    let center = c.center(&id)?.clone();
    let key = snils_key(&body.snils)?;
    if body.register && !center.kind.can_register() {
        return Err(MockError::CannotRegister {
            kind: center.kind.as_str(),
        });
    }
    let world = c.context.world.clone();
    let now = world.now();
    let judged_at = if c.opening_hours.load(Ordering::Relaxed) {
        center.clone()
    } else {
        Center {
            hours: "Mo-Su 00:00-24:00"
                .parse::<Hours>()
                .expect("constant hours parse"),
            ..center.clone()
        }
    };
    let outcome = {
        let profile = c.profile.get();
        let outcome = c
            .context
            .with_rng(|rng| model::visit(&judged_at, world.epoch(), now, &profile, rng));
        // With a capacity the visitor also waits for a counter of this center (from its next
        // opening, with hours), or is turned away with the center's `queue` answer.
        match outcome {
            VisitOutcome::Served { delay_ms } => {
                let index = c.directory.iter().position(|x| x.id == center.id);
                let hours = c.opening_hours.load(Ordering::Relaxed);
                let opening = |t| {
                    if hours {
                        center.next_open(world.epoch(), t).unwrap_or(t)
                    } else {
                        t
                    }
                };
                let capacity = profile.service.capacity.as_ref();
                match c
                    .stations
                    .offer(index.unwrap_or(0), capacity, now, delay_ms, opening)
                {
                    Ok(Some(a)) => VisitOutcome::Served {
                        delay_ms: a.delay_ms(now),
                    },
                    Ok(None) => outcome,
                    Err(MockError::Busy {
                        reason,
                        retry_after_s,
                        ..
                    }) => {
                        return Err(MockError::Queue {
                            retry_after_s,
                            refused: Some(reason),
                        })
                    }
                    Err(e) => return Err(e),
                }
            }
            other => other,
        }
    };
    // An advance waits for the operator's call to the engine after the time at the counter.
    let _work = match outcome {
        VisitOutcome::Closed => {
            return Err(MockError::Closed {
                opens_at: center
                    .next_open(world.epoch(), now)
                    .map(|t| crate::wire::Timestamp::at(world.epoch(), t)),
            })
        }
        VisitOutcome::Refused(Refusal::Queue) => {
            return Err(MockError::Queue {
                retry_after_s: 3_600,
                refused: None,
            })
        }
        VisitOutcome::Refused(Refusal::SystemDown) => {
            return Err(MockError::AgencyError { agency: "centers" })
        }
        VisitOutcome::Served { delay_ms } => c.context.wait(delay_ms).await,
    };
    let typed_number = if c.faults.mismatch(key) {
        mistyped(&body.passport_number)
    } else {
        body.passport_number.clone()
    };
    if body.register {
        let person = c
            .people
            .get(key)
            .ok_or(MockError::NotFound { what: "person" })?;
        if !(same_digits(&person.passport.series, &body.passport_series)
            && same_digits(&person.passport.number, &body.passport_number))
        {
            return Err(MockError::invalid(
                "passport_number",
                "does not match this person's passport",
            ));
        }
        let phone = body
            .phone
            .clone()
            .or_else(|| person.phone.clone())
            .ok_or_else(|| MockError::invalid("phone", "is needed to register an account"))?;
        let mut person = person;
        person.passport.number = typed_number;
        let mut request = engine_body(&person, &phone);
        request["center_id"] = center.id.clone().into();
        return c
            .engine
            .post(Api::Operator, "/api/v1/operator/registrations", &request)
            .await;
    }
    let request = serde_json::json!({
        "center_id": center.id,
        "snils": body.snils,
        "passport": { "series": body.passport_series, "number": typed_number },
    });
    c.engine
        .post(Api::Operator, "/api/v1/operator/confirmations", &request)
        .await
}

async fn add_records(
    State(c): State<Arc<Centers>>,
    Json(body): Json<Records>,
) -> Result<(StatusCode, Json<RecordsAdded>), MockError> {
    let (added, held) = c.people.add(body.records)?;
    Ok((StatusCode::CREATED, Json(RecordsAdded { added, held })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_changes_the_last_digit() {
        assert_eq!(mistyped("345678"), "345679");
        assert_eq!(mistyped("345679"), "345670");
    }
}
