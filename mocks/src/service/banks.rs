//! The banks' mock (Sber, Tinkoff, Pochta Bank): each bank's client registry and its
//! "register on Gosuslugi" form.
//!
//! - `POST /mocks/banks/{bank}/clients/{snils}/gosuslugi` (optional body `{phone?}`): the bank
//!   sends its client's personal data and phone to the engine's partner API
//!   (`POST /api/v1/partners/{bank}/confirmations`, partner token) after the bank's own delay
//!   (its profile, on the world's clock), and answers with the engine's status and body. 404
//!   `not_a_client` when the SNILS is not this bank's client; 422 naming `phone` when the bank
//!   has no phone of the client and the body gives none.
//!   With a `capacity` in the bank's profile the delay is the service time at one of the
//!   bank's servers: the bank calls the engine after the wait plus the service, and refuses a
//!   client beyond its queue or quota at once (429 `queue_full` or `quota` with
//!   `Retry-After`); each bank has its own station.
//! - `GET /mocks/banks/{bank}/clients/{snils}`: the client as the bank holds them.
//! - `GET /mocks/banks/{bank}/confirmations/{id}`: the engine's status of a confirmation
//!   (the bank asks the engine's partner API).
//! - `POST /mocks/banks/admin/records` `{records: [person with "bank"]}`.
//!
//! Clients come from the population (a citizen's `bank`) and from added records. Targeted fault
//! `{"kind": "mismatch", "snils": S}`: the bank's record of S carries a wrong birth date, so PFR
//! disagrees and the engine refuses.

use super::admin::{overlay, push_outage, Admin, ProfileCell};
use super::engine::{Api, Engine};
use super::error::MockError;
use super::faults::Faults;
use super::http::{parse_json, Json, Path};
use super::journal::Journal;
use super::people::{snils_key, People};
use super::station::Stations;
use super::{Context, MockKind};
use crate::agency::banks::{Bank, BanksProfile};
use crate::agency::profile::Outage;
use crate::clock::SimTime;
use crate::ident::Snils;
use crate::wire::banks::{Form, Records, RecordsAdded};
use crate::wire::faults::Fault;
use crate::wire::people::Person;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde_json::{Map, Value};
use std::sync::Arc;

/// The banks.
#[derive(Debug)]
pub struct Banks {
    context: Arc<Context>,
    profile: ProfileCell<BanksProfile>,
    people: People,
    engine: Arc<Engine>,
    journal: Arc<Journal>,
    faults: Arc<Faults>,
    /// One station a bank, in the order of [`Bank::ALL`].
    stations: Stations,
}

/// The `agency` label of a bank's station in `/metrics`: its table in a scenario.
fn bank_label(bank: Bank) -> &'static str {
    match bank {
        Bank::Sber => "banks.sber",
        Bank::Tinkoff => "banks.tinkoff",
        Bank::Pochta => "banks.pochta",
    }
}

fn bank(raw: &str) -> Result<Bank, MockError> {
    raw.parse::<Bank>()
        .map_err(|_| MockError::NotFound { what: "bank" })
}

/// The body the engine's partner and MFC APIs take: a person's data and a phone.
pub fn engine_body(person: &Person, phone: &str) -> Value {
    let mut v = serde_json::to_value(person).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.remove("bank");
        m.insert("phone".into(), Value::String(phone.to_owned()));
    }
    v
}

impl Banks {
    /// The banks with `profile`, knowing `people`, reaching the engine with `engine`.
    pub fn new(
        context: Arc<Context>,
        profile: BanksProfile,
        people: People,
        engine: Arc<Engine>,
    ) -> Arc<Self> {
        Arc::new(Self {
            stations: Stations::labelled(
                "banks",
                context.world.clock().scale(),
                Bank::ALL.map(bank_label),
            ),
            journal: context.journal(),
            faults: Faults::new(context.clone(), "banks"),
            context,
            profile: ProfileCell::new(profile),
            people,
            engine,
        })
    }

    /// The banks' stations (their capacities at work), labelled `banks.sber`...
    pub fn stations(&self) -> &Stations {
        &self.stations
    }

    /// The client of `bank` with SNILS `snils`, as the bank holds them now (faults applied).
    pub fn client(&self, bank: Bank, snils: &str) -> Result<Person, MockError> {
        let key = snils_key(snils)?;
        let mut person = self
            .people
            .get(key)
            .filter(|p| p.bank == Some(bank))
            .ok_or(MockError::NotAClient {
                bank: bank.as_str(),
            })?;
        if self.faults.mismatch(key) {
            person.birth_date = person.birth_date.succ_opt().unwrap_or(person.birth_date);
        }
        Ok(person)
    }
}

impl Admin for Banks {
    fn kind(&self) -> MockKind {
        MockKind::Banks
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
    /// Each bank's table is put over that bank's current one: `{"tinkoff": {"error_rate": 1}}`
    /// changes Tinkoff's error rate only.
    fn patch_profile(&self, patch: Map<String, Value>) -> Result<(), MockError> {
        self.profile.update(|current| {
            let mut next = current.clone();
            for (name, table) in patch {
                let b = name.parse::<Bank>().map_err(|e| {
                    let keys = "a bank's keys go in its own table, {\"sber\": {\"error_rate\": 1}}";
                    MockError::invalid(
                        "bank",
                        format!("`{}` is not sber, tinkoff or pochta ({keys})", e.0),
                    )
                })?;
                let Value::Object(table) = table else {
                    return Err(MockError::invalid(
                        "bank",
                        "must map each bank to an object of its profile's keys",
                    ));
                };
                *next.get_mut(b) = overlay(next.get(b), table)?;
            }
            *current = next;
            Ok(())
        })
    }
    fn add_outage(&self, outage: Outage) -> Result<(), MockError> {
        self.profile.update(|p| {
            for b in Bank::ALL {
                push_outage(&mut p.get_mut(b).service, outage)?;
            }
            Ok(())
        })
    }
    fn targeted(&self, fault: &Fault) -> Result<(), MockError> {
        match fault {
            Fault::Mismatch {
                snils: Some(s),
                passport: None,
            } => self.faults.add_mismatch(snils_key(s)?),
            Fault::Mismatch { .. } => Err(MockError::invalid(
                "snils",
                "is needed: a bank mismatch names the client's snils",
            )),
            other => Err(super::admin::unsupported(self.kind(), other)),
        }
    }
    fn reset_state(&self) {
        self.people.clear();
        self.stations.clear();
        self.profile.restore();
    }
    fn now(&self) -> SimTime {
        self.context.world.now()
    }
}

/// The banks' routes (the admin routes and layers are added by [`super::Mocks`]).
pub fn router(b: Arc<Banks>) -> Router {
    Router::new()
        .route(
            "/mocks/banks/{bank}/clients/{snils}/gosuslugi",
            post(gosuslugi),
        )
        .route("/mocks/banks/{bank}/clients/{snils}", get(client))
        .route("/mocks/banks/{bank}/confirmations/{id}", get(status))
        .route("/mocks/banks/admin/records", post(add_records))
        .with_state(b)
}

async fn gosuslugi(
    State(b): State<Arc<Banks>>,
    Path((raw_bank, snils)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, MockError> {
    let bank = bank(&raw_bank)?;
    let form: Form = if body.iter().all(u8::is_ascii_whitespace) {
        Form::default()
    } else {
        parse_json(&body)?
    };
    let person = b.client(bank, &snils)?;
    let phone = form.phone.or_else(|| person.phone.clone()).ok_or_else(|| {
        MockError::invalid(
            "phone",
            "is needed: the bank has no phone of this client (give one in the body, {\"phone\": ...})",
        )
    })?;
    let now = b.context.world.now();
    let fate = {
        let profile = b.profile.get();
        let service = &profile.get(bank).service;
        let fate = b.context.with_rng(|rng| service.decide(now, rng));
        // With a capacity the bank's answer waits for one of its servers too, or is refused.
        let index = Bank::ALL.iter().position(|x| *x == bank).unwrap_or(0);
        b.stations
            .admit(index, service.capacity.as_ref(), now, fate, |t| t)?
    };
    let delay_ms = b.context.delay_of(bank.as_str(), fate).await?;
    // Woken by an advance's step, the call is the world's work: the advance waits for the
    // engine's answer, so the engine must not wait for PFR and FMS (`wait=false`: 202 at once;
    // they answer as the advance goes on). Otherwise nothing waits for the call, and the engine
    // may wait for PFR and FMS while the clock moves.
    let work = b.context.wait(delay_ms).await;
    let held = b.context.world.is_held();
    let _work = held.then_some(work);
    let path = format!(
        "/api/v1/partners/{}/confirmations{}",
        bank.as_str(),
        if held { "?wait=false" } else { "" }
    );
    let answer = b
        .engine
        .post(Api::Partner, &path, &engine_body(&person, &phone))
        .await?;
    tracing::info!(bank = bank.as_str(), status = %answer.status(), "a client registered on Gosuslugi through the bank");
    Ok(answer)
}

async fn client(
    State(b): State<Arc<Banks>>,
    Path((raw_bank, snils)): Path<(String, String)>,
) -> Result<Json<Person>, MockError> {
    let bank = bank(&raw_bank)?;
    b.client(bank, &snils).map(Json)
}

async fn status(
    State(b): State<Arc<Banks>>,
    Path((raw_bank, id)): Path<(String, String)>,
) -> Result<Response, MockError> {
    let bank = bank(&raw_bank)?;
    if id.is_empty() || id.len() > 32 || !id.bytes().all(|c| c.is_ascii_alphanumeric()) {
        return Err(MockError::NotFound {
            what: "confirmation",
        });
    }
    let path = format!("/api/v1/partners/{}/confirmations/{id}", bank.as_str());
    b.engine.get(Api::Partner, &path).await
}

async fn add_records(
    State(b): State<Arc<Banks>>,
    Json(body): Json<Records>,
) -> Result<(StatusCode, Json<RecordsAdded>), MockError> {
    for (i, p) in body.records.iter().enumerate() {
        if p.bank.is_none() {
            return Err(MockError::Request(
                super::http::RequestError::bad_parameter(
                    &format!("records[{i}].bank"),
                    "is needed: sber, tinkoff or pochta",
                ),
            ));
        }
        if Snils::parse(&p.snils).is_err() {
            return Err(MockError::Request(
                super::http::RequestError::bad_parameter(
                    &format!("records[{i}].snils"),
                    "is not a valid SNILS",
                ),
            ));
        }
    }
    let (added, held) = b.people.add(body.records)?;
    Ok((StatusCode::CREATED, Json(RecordsAdded { added, held })))
}
