//! The certification authority mock: `GET /mocks/ca/certificates/{serial}` -> the certificate
//! `{serial, issuer, owner_snils, kind: "ukep"/"uec", valid_from, valid_to, revoked}` or 404.
//! Its records are the population's certificates (valid, expired and revoked ones, UEC cards
//! among them) and those added with `POST /mocks/ca/admin/records` `{records: [...]}`; the
//! caller judges validity for the signer ([`crate::agency::ca::compare`]), as ESIA does with a
//! certificate it fetched. The answer comes after the CA profile's delay (immediate by default).
//! With a `capacity` in the profile the delay is the service time at a server: the answer comes
//! after the wait for a server plus the service, and a request beyond the queue or the quota
//! is refused at once (429 `queue_full` or `quota` with `Retry-After`).
//!
//! Targeted fault `{"kind": "mismatch", "snils": S}`: the certificates of S are shown as issued
//! to someone else.

use super::admin::{Admin, ProfileCell};
use super::error::MockError;
use super::faults::Faults;
use super::http::{Json, Path};
use super::journal::Journal;
use super::people::snils_key;
use super::station::Stations;
use super::{Context, MockKind};
use crate::agency::ca::{CaProfile, Certificate};
use crate::agency::profile::Outage;
use crate::clock::SimTime;
use crate::ident::Snils;
use crate::wire::ca::Records;
use crate::wire::faults::Fault;
use crate::wire::smev::RecordsAdded;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// The SNILS a mismatched certificate shows as its owner's (valid, and no citizen's).
pub const STRANGER_SNILS: &str = "001-001-999 01";

/// The CA.
#[derive(Debug)]
pub struct Ca {
    context: Arc<Context>,
    profile: ProfileCell<CaProfile>,
    population: HashMap<Box<str>, Certificate>,
    added: RwLock<HashMap<Box<str>, Certificate>>,
    records_max: usize,
    journal: Arc<Journal>,
    faults: Arc<Faults>,
    stations: Stations,
}

fn key(serial: &str) -> Box<str> {
    serial.trim().to_ascii_uppercase().into()
}

impl Ca {
    /// The CA holding `certificates` (malformed ones skipped with a warning), accepting up to
    /// `records_max` more through the admin API.
    pub fn new(
        context: Arc<Context>,
        profile: CaProfile,
        certificates: Vec<Certificate>,
        records_max: usize,
    ) -> Arc<Self> {
        let mut population = HashMap::with_capacity(certificates.len());
        for c in certificates {
            match c.check() {
                Ok(()) => {
                    population.insert(key(&c.serial), c);
                }
                Err(e) => tracing::warn!(error = %e, "malformed certificate skipped"),
            }
        }
        Arc::new(Self {
            stations: Stations::one("ca", context.world.clock().scale()),
            journal: context.journal(),
            faults: Faults::new(context.clone(), "ca"),
            context,
            profile: ProfileCell::new(profile),
            population,
            added: RwLock::new(HashMap::new()),
            records_max,
        })
    }

    /// The CA's station (its capacity at work).
    pub fn stations(&self) -> &Stations {
        &self.stations
    }

    /// The certificate with `serial`, as the CA shows it now (faults applied).
    pub fn certificate(&self, serial: &str) -> Option<Certificate> {
        let k = key(serial);
        let added = self
            .added
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&k)
            .cloned();
        let mut c = added.or_else(|| self.population.get(&k).cloned())?;
        let owner = Snils::parse(&c.owner_snils).map(Snils::value).ok();
        if owner.is_some_and(|o| self.faults.mismatch(o)) {
            c.owner_snils = STRANGER_SNILS.into();
        }
        Some(c)
    }

    /// Adds certificates (each checked; a bad one refuses them all). Returns (added, held).
    pub fn add(&self, records: Vec<Certificate>) -> Result<(usize, usize), MockError> {
        for (i, c) in records.iter().enumerate() {
            let field = format!("records[{i}]");
            if c.serial.trim().is_empty()
                || c.serial.len() > 64
                || !c.serial.trim().bytes().all(|b| b.is_ascii_alphanumeric())
            {
                return Err(MockError::Request(
                    super::http::RequestError::bad_parameter(
                        &format!("{field}.serial"),
                        "must be 1 to 64 letters and digits",
                    ),
                ));
            }
            let issuer = c.issuer.trim().chars().count();
            if issuer == 0 || issuer > 250 {
                return Err(MockError::Request(
                    super::http::RequestError::bad_parameter(
                        &format!("{field}.issuer"),
                        "must have 1 to 250 characters",
                    ),
                ));
            }
            if Snils::parse(&c.owner_snils).is_err() {
                return Err(MockError::Request(
                    super::http::RequestError::bad_parameter(
                        &format!("{field}.owner_snils"),
                        "is not a valid SNILS",
                    ),
                ));
            }
            c.check().map_err(|e| {
                MockError::Request(super::http::RequestError::bad_parameter(
                    &field,
                    e.to_string(),
                ))
            })?;
        }
        let mut added = self.added.write().unwrap_or_else(|e| e.into_inner());
        let new = records
            .iter()
            .filter(|c| !added.contains_key(&key(&c.serial)))
            .count();
        if added.len() + new > self.records_max {
            return Err(MockError::StoreFull {
                store: "agency records",
            });
        }
        let n = records.len();
        for c in records {
            added.insert(key(&c.serial), c);
        }
        Ok((n, added.len()))
    }
}

impl Admin for Ca {
    fn kind(&self) -> MockKind {
        MockKind::Ca
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
            Fault::Mismatch {
                snils: Some(s),
                passport: None,
            } => self.faults.add_mismatch(snils_key(s)?),
            Fault::Mismatch { .. } => Err(MockError::invalid(
                "snils",
                "is needed: a CA mismatch names the certificate owner's snils",
            )),
            other => Err(super::admin::unsupported(self.kind(), other)),
        }
    }
    fn reset_state(&self) {
        self.added
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.stations.clear();
        self.profile.restore();
    }
    fn now(&self) -> SimTime {
        self.context.world.now()
    }
}

/// The CA's routes (the admin routes and layers are added by [`super::Mocks`]).
pub fn router(ca: Arc<Ca>) -> Router {
    Router::new()
        .route("/mocks/ca/certificates/{serial}", get(certificate))
        .route("/mocks/ca/admin/records", post(add_records))
        .with_state(ca)
}

async fn certificate(
    State(ca): State<Arc<Ca>>,
    Path(serial): Path<String>,
) -> Result<Json<Certificate>, MockError> {
    if serial.len() > 64 {
        return Err(MockError::NotFound {
            what: "certificate",
        });
    }
    let now = ca.context.world.now();
    let fate = {
        let profile = ca.profile.get();
        let fate = ca.context.with_rng(|rng| profile.service.decide(now, rng));
        // With a capacity the answer waits for a server too, or is refused.
        let capacity = profile.service.capacity.as_ref();
        ca.stations.admit(0, capacity, now, fate, |t| t)?
    };
    let delay_ms = ca.context.delay_of("ca", fate).await?;
    let _work = ca.context.wait(delay_ms).await;
    ca.certificate(&serial)
        .map(Json)
        .ok_or(MockError::NotFound {
            what: "certificate",
        })
}

async fn add_records(
    State(ca): State<Arc<Ca>>,
    Json(body): Json<Records>,
) -> Result<(StatusCode, Json<RecordsAdded>), MockError> {
    let (added, held) = ca.add(body.records)?;
    Ok((StatusCode::CREATED, Json(RecordsAdded { added, held })))
}
