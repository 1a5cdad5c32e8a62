//! The admin API every mock shares, under `/mocks/<agency>/admin/`:
//!
//! - `GET .../profile`: the agency's profile (the scenario's `[agencies.<agency>]` keys) and
//!   the wire's ([`Wire`]: `response_delay`, `reset_rate`, `malformed_rate`), as one object.
//! - `PUT .../profile` `{key: value, ...}`: the keys given replace the current values; the
//!   others keep theirs. Bad values are 422 naming the key; nothing changes then.
//! - `GET .../faults`, `POST .../faults` (one [`Fault`] or a list), `DELETE .../faults`.
//! - `GET .../journal?path=P&since=T&until=T&limit=N`.
//! - `POST .../reset`: the mock's stores, journal and faults forgotten, its starting profile
//!   restored.
//!
//! [`Admin`] is what a mock implements; [`AdminHandle`] gives the same operations as methods
//! (the library's way, for an integrator's Rust tests), and [`router`] serves them.
//!
//! With an admin token ([`super::MocksConfig::admin_token`], which `serve` and `mocks` require
//! on an address other than loopback), every admin route ([`is_admin_path`]: the clock's, each
//! mock's `.../admin/...`, a letter's `deliver`, a verification's `complete`) needs
//! `Authorization: Bearer <token>`: without it 401 `token_missing`, with another 403
//! `token_wrong` ([`guarded`]).

use super::error::MockError;
use super::faults::{parse_faults, Faults, Wire};
use super::http::{Json, Query};
use super::journal::{Filter, Journal};
use super::MockKind;
use crate::agency::profile::{Outage, Profile, ProfileTable};
use crate::clock::SimTime;
use crate::wire::admin::FaultsAdded;
use crate::wire::faults::{Fault, FaultsView};
use crate::wire::journal::{Entry, JournalQuery, JournalView};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};
use std::sync::{Arc, RwLock, RwLockReadGuard};

/// Outage windows a profile holds at most (each fault of kind `outage` adds one).
pub const OUTAGES_MAX: usize = 1_000;

/// What a mock gives the admin API.
pub trait Admin: Send + Sync + 'static {
    /// Which mock this is.
    fn kind(&self) -> MockKind;
    /// Its journal.
    fn journal(&self) -> &Arc<Journal>;
    /// Its faults.
    fn faults(&self) -> &Arc<Faults>;
    /// The agency model's profile as a JSON object.
    fn profile_json(&self) -> Value;
    /// Puts `patch` (model keys only) over the current profile.
    fn patch_profile(&self, patch: Map<String, Value>) -> Result<(), MockError>;
    /// Adds an outage window to the profile (every bank's, for the banks).
    fn add_outage(&self, outage: Outage) -> Result<(), MockError>;
    /// Applies a targeted fault of the mock's own (`mismatch`, `lose_letter`).
    fn targeted(&self, fault: &Fault) -> Result<(), MockError> {
        Err(unsupported(self.kind(), fault))
    }
    /// Forgets the mock's stores and restores its starting profile (the journal and the faults
    /// are cleared by the caller).
    fn reset_state(&self);
    /// The sim time now.
    fn now(&self) -> SimTime;
}

/// The error for a targeted fault a mock does not take.
pub fn unsupported(kind: MockKind, fault: &Fault) -> MockError {
    let name = match fault {
        Fault::FailNext { .. } => "fail_next",
        Fault::Mismatch { .. } => "mismatch",
        Fault::LoseLetter { .. } => "lose_letter",
        Fault::Outage { .. } => "outage",
    };
    MockError::invalid(
        "kind",
        format!("`{name}` is not a fault the {} mock takes", kind.as_str()),
    )
}

/// An agency model's profile with the one the mock started with.
#[derive(Debug)]
pub struct ProfileCell<P> {
    current: RwLock<P>,
    initial: P,
}

impl<P: Clone + Serialize + DeserializeOwned> ProfileCell<P> {
    /// A cell starting with `profile`.
    pub fn new(profile: P) -> Self {
        Self {
            current: RwLock::new(profile.clone()),
            initial: profile,
        }
    }

    /// The current profile (briefly read-locked).
    pub fn get(&self) -> RwLockReadGuard<'_, P> {
        self.current.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The current profile as JSON.
    pub fn json(&self) -> Value {
        serde_json::to_value(&*self.get()).unwrap_or(Value::Null)
    }

    /// Puts `patch` over the current profile: each key given replaces the current value.
    pub fn patch(&self, patch: Map<String, Value>) -> Result<(), MockError> {
        let mut guard = self.current.write().unwrap_or_else(|e| e.into_inner());
        let next = overlay(&*guard, patch)?;
        *guard = next;
        Ok(())
    }

    /// Changes the current profile in place.
    pub fn update<T>(&self, f: impl FnOnce(&mut P) -> T) -> T {
        let mut guard = self.current.write().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    }

    /// Adds an outage window to the profile's common keys.
    pub fn add_outage(&self, outage: Outage) -> Result<(), MockError>
    where
        P: ProfileTable,
    {
        self.update(|p| push_outage(p.service(), outage))
    }

    /// Restores the starting profile.
    pub fn restore(&self) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = self.initial.clone();
    }
}

/// `current` with the keys of `patch` replaced, read back (so every check of the profile
/// type runs); a bad value is 422 naming its key.
pub fn overlay<P: Serialize + DeserializeOwned>(
    current: &P,
    patch: Map<String, Value>,
) -> Result<P, MockError> {
    let mut object = match serde_json::to_value(current) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let first_key = patch.keys().next().cloned();
    for (k, v) in patch {
        object.insert(k, v);
    }
    let result = serde_path_to_error::deserialize::<_, P>(serde_json::Value::Object(object));
    result.map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        let field = if path == "." || path.is_empty() {
            first_key.unwrap_or_else(|| "profile".into())
        } else {
            path
        };
        MockError::Request(super::http::RequestError::WrongShape {
            field: Some(field),
            message,
        })
    })
}

/// Adds `outage` to `profile`, refusing more than [`OUTAGES_MAX`] windows.
pub fn push_outage(profile: &mut Profile, outage: Outage) -> Result<(), MockError> {
    if profile.outages.len() >= OUTAGES_MAX {
        return Err(MockError::StoreFull { store: "outages" });
    }
    profile.outages.push(outage);
    Ok(())
}

/// A mock's admin operations as methods.
#[derive(Clone)]
pub struct AdminHandle(pub Arc<dyn Admin>);

impl std::fmt::Debug for AdminHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("AdminHandle")
            .field(&self.0.kind().as_str())
            .finish()
    }
}

impl AdminHandle {
    /// Which mock this is.
    pub fn kind(&self) -> MockKind {
        self.0.kind()
    }

    /// The agency's profile with the wire's keys.
    pub fn profile(&self) -> Value {
        let mut object = match self.0.profile_json() {
            Value::Object(m) => m,
            other => {
                let mut m = Map::new();
                m.insert("profile".into(), other);
                m
            }
        };
        if let Ok(Value::Object(wire)) = serde_json::to_value(self.0.faults().wire()) {
            object.extend(wire);
        }
        Value::Object(object)
    }

    /// Sets the keys of `patch` (a JSON object of the agency's keys and the wire's); the
    /// others keep their values. Returns the whole profile.
    pub fn set_profile(&self, patch: Value) -> Result<Value, MockError> {
        let Value::Object(patch) = patch else {
            return Err(MockError::invalid(
                "profile",
                "must be a JSON object of profile keys",
            ));
        };
        let (wire_keys, model_keys): (Map<String, Value>, Map<String, Value>) = patch
            .into_iter()
            .partition(|(k, _)| Wire::KEYS.contains(&k.as_str()));
        let wire = if wire_keys.is_empty() {
            None
        } else {
            let w: Wire = overlay(&self.0.faults().wire(), wire_keys)?;
            w.check()?;
            Some(w)
        };
        if !model_keys.is_empty() {
            self.0.patch_profile(model_keys)?;
        }
        if let Some(w) = wire {
            self.0.faults().set_wire(w)?;
        }
        tracing::info!(mock = self.0.kind().as_str(), "profile changed");
        Ok(self.profile())
    }

    /// Applies targeted faults in order (the first that fails stops the rest).
    pub fn add_faults(&self, faults: Vec<Fault>) -> Result<FaultsAdded, MockError> {
        let mut applied = 0;
        for fault in &faults {
            match fault {
                Fault::FailNext {
                    count,
                    failure,
                    path,
                } => self.0.faults().fail_next(*count, *failure, path.clone())?,
                Fault::Outage { duration } => {
                    let from = self.0.now();
                    let outage = Outage::new(from, from.saturating_add(duration.0))
                        .map_err(|e| MockError::invalid("duration", e))?;
                    self.0.add_outage(outage)?;
                }
                other => self.0.targeted(other)?,
            }
            applied += 1;
        }
        tracing::info!(
            mock = self.0.kind().as_str(),
            applied,
            "targeted faults added"
        );
        Ok(FaultsAdded {
            applied,
            faults: self.0.faults().view(),
        })
    }

    /// Applies one targeted fault.
    pub fn add_fault(&self, fault: Fault) -> Result<FaultsAdded, MockError> {
        self.add_faults(vec![fault])
    }

    /// The targeted faults held.
    pub fn faults(&self) -> FaultsView {
        self.0.faults().view()
    }

    /// Forgets the targeted faults (the profile and the wire stay).
    pub fn clear_faults(&self) {
        self.0.faults().clear_targeted();
    }

    /// The journal's entries that pass `filter`, oldest first.
    pub fn journal(&self, filter: &Filter) -> Vec<Entry> {
        self.0.journal().select(filter)
    }

    /// Forgets the mock's stores, journal and faults and restores its starting profile.
    pub fn reset(&self) {
        self.0.reset_state();
        self.0.journal().clear();
        self.0.faults().clear();
        tracing::info!(mock = self.0.kind().as_str(), "reset");
    }
}

/// Whether `path` is an admin route of the mocks: `/mocks/admin/...` (the clock),
/// `/mocks/<agency>/admin/...` ([`is_admin_api`]), `/mocks/post/letters/{n}/deliver`,
/// `/mocks/{pfr,fms}/requests/{id}/complete`. No fault applies to these, and the admin token
/// guards them.
pub fn is_admin_path(path: &str) -> bool {
    let Some(mut segments) = mock_segments(path) else {
        return false;
    };
    let (first, second) = (segments.next(), segments.next());
    if first == Some("admin") || second == Some("admin") {
        return true;
    }
    // Further segments are read only for the two routes that have them.
    let mut rest = || (segments.next(), segments.next(), segments.next());
    match (first, second) {
        (Some("post"), Some("letters")) => {
            matches!(rest(), (Some(_), Some("deliver"), None))
        }
        (Some("pfr" | "fms"), Some("requests")) => {
            matches!(rest(), (Some(_), Some("complete"), None))
        }
        _ => false,
    }
}

/// Whether `path` is under a mock's admin API (`/mocks/admin/...`, `/mocks/<agency>/admin/...`):
/// the requests a mock's journal does not record.
pub fn is_admin_api(path: &str) -> bool {
    mock_segments(path).is_some_and(|mut segments| {
        segments.next() == Some("admin") || segments.next() == Some("admin")
    })
}

/// The segments of `path` after `/mocks/`, read lazily and without allocating: both tests above
/// run on every request to a mock, and most paths are told by their first two segments.
fn mock_segments(path: &str) -> Option<std::str::Split<'_, char>> {
    Some(path.strip_prefix("/mocks/")?.split('/'))
}

/// `router` with its admin routes behind `token` (see the module's doc).
pub fn guarded(router: Router, token: Arc<str>) -> Router {
    router.layer(axum::middleware::from_fn_with_state(token, require_token))
}

async fn require_token(
    State(token): State<Arc<str>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use subtle::ConstantTimeEq;
    if !is_admin_path(req.uri().path()) {
        return next.run(req).await;
    }
    let given = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let refusal = match given {
        None => (
            StatusCode::UNAUTHORIZED,
            "token_missing",
            "this route needs an `Authorization: Bearer` admin token",
        ),
        Some(g) if bool::from(g.trim().as_bytes().ct_eq(token.as_bytes())) => {
            return next.run(req).await
        }
        Some(_) => (
            StatusCode::FORBIDDEN,
            "token_wrong",
            "the admin token is not valid",
        ),
    };
    let (status, code, message) = refusal;
    let mut response = super::http::error_response(status, code, message, None);
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            axum::http::header::WWW_AUTHENTICATE,
            axum::http::HeaderValue::from_static("Bearer"),
        );
    }
    response
}

/// The admin routes of one mock.
pub fn router(admin: Arc<dyn Admin>) -> Router {
    let a = admin.kind().as_str();
    Router::new()
        .route(
            &format!("/mocks/{a}/admin/profile"),
            get(profile).put(set_profile),
        )
        .route(
            &format!("/mocks/{a}/admin/faults"),
            get(faults).post(add_faults).delete(clear_faults),
        )
        .route(&format!("/mocks/{a}/admin/journal"), get(journal))
        .route(&format!("/mocks/{a}/admin/reset"), post(reset))
        .with_state(AdminHandle(admin))
}

async fn profile(State(a): State<AdminHandle>) -> Json<Value> {
    Json(a.profile())
}

async fn set_profile(
    State(a): State<AdminHandle>,
    Json(patch): Json<Value>,
) -> Result<Json<Value>, MockError> {
    a.set_profile(patch).map(Json)
}

async fn faults(State(a): State<AdminHandle>) -> Json<FaultsView> {
    Json(a.faults())
}

async fn add_faults(
    State(a): State<AdminHandle>,
    body: Bytes,
) -> Result<(StatusCode, Json<FaultsAdded>), MockError> {
    let faults = parse_faults(&body)?;
    a.add_faults(faults)
        .map(|added| (StatusCode::CREATED, Json(added)))
}

async fn clear_faults(State(a): State<AdminHandle>) -> StatusCode {
    a.clear_faults();
    StatusCode::NO_CONTENT
}

async fn journal(
    State(a): State<AdminHandle>,
    Query(q): Query<JournalQuery>,
) -> Result<Json<JournalView>, MockError> {
    let filter = q.resolve(a.0.journal().world())?;
    Ok(Json(JournalView {
        entries: a.journal(&filter),
    }))
}

async fn reset(State(a): State<AdminHandle>) -> StatusCode {
    a.reset();
    StatusCode::NO_CONTENT
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The admin API, and the two control routes besides it, by their segments: not by a
    /// word inside another segment, not outside `/mocks/`.
    #[test]
    fn admin_paths_are_told_by_their_segments() {
        for path in [
            "/mocks/admin",
            "/mocks/admin/clock",
            "/mocks/admin/clock/advance",
            "/mocks/fms/admin",
            "/mocks/sms/admin/journal",
            "/mocks/banks/admin/records",
        ] {
            assert!(is_admin_api(path), "{path}");
            assert!(is_admin_path(path), "{path}");
        }
        for path in [
            "/mocks/post/letters/7/deliver",
            "/mocks/pfr/requests/ab12/complete",
            "/mocks/fms/requests/ab12/complete",
        ] {
            assert!(!is_admin_api(path), "{path}");
            assert!(is_admin_path(path), "{path}");
        }
        for path in [
            "/mocks/sms/messages",
            "/mocks/sms/administrator",
            "/mocks/post/letters",
            "/mocks/post/letters/7/deliver/again",
            "/mocks/sms/requests/ab12/complete",
            "/mocks/pfr/requests/ab12/complete/",
            "/mocks/post/letters//deliver/x",
            "/mocks/",
            "/mocks",
            "/api/v1/admin/x",
            "/admin/",
            "",
        ] {
            assert!(!is_admin_api(path), "{path}");
            assert!(!is_admin_path(path), "{path}");
        }
    }
}
