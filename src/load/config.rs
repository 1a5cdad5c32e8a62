//! The `[load]` table of a scenario: the shape of an `esia-sim load` run (population, speedup
//! of the agencies, users, run time, ramp, open arrival rate), its mix of journeys, its
//! thresholds and, for the in-process stand only, the engine's figures a short run may shorten.
//! Defaults are written once, in the `impl Default` of each struct, and documented beside it.

use super::path::LoadPath;
use crate::registry::HashProfile;
use esia_mocks::agency::duration::{format_ms, ms as duration_ms, DurationMs};
use esia_mocks::clock::{MS_PER_HOUR, MS_PER_SEC};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The `[load]` table. Every key is optional:
///
/// | key | default | meaning |
/// |---|---|---|
/// | `population` | 100000 | citizens `0..population` of the scenario's seed are the agencies' truth; `--shard i/n` takes the i-th slice of them |
/// | `speedup` | 86400 | every agency delay is divided by it (a two-week letter in 14 s); an agency whose own `speedup` is set keeps it |
/// | `users` | 0 | goose users; 0: one per path in the closed model (at least the number of paths), sized from the rate in the open one |
/// | `run_time` | `60s` | how long goose runs once every user has started |
/// | `ramp` | `2s` | how long goose takes to start every user |
/// | `arrival_rate` | 0 | journeys started per second (open model); 0: closed model, each user walks its path again at once |
/// | `pool_time` | `5s` | open model: each path's pool of users is sized for journeys this long plus its agencies' waits |
/// | `hash_profile` | `load` | argon2 cost of the in-process stand's passwords (`realistic`, `load`, `none`) |
/// | `poll_interval` | `20ms` | how often an inbox, a letter or an account is read again while waiting |
/// | `wait_timeout` | `60s` | the longest wait for a code, a link, a verification or a letter before the step fails |
/// | `request_timeout` | `30s` | goose's timeout of one request (goose's `--timeout` wins) |
/// | `running_metrics` | `15s` | goose prints its running metrics this often (goose's `--running-metrics` wins); 0: never |
/// | `progress` | `5s` | a line with tier counts this often on stderr; 0: never |
/// | `scrape_interval` | `2s` | the target's `/metrics` (or `--metrics-url`) is read this often for its queue gauges in the timeline; 0: never |
/// | `stand_threads` | 0 | worker threads of the in-process stand's runtime; 0: one per core |
/// | `load_threads` | 0 | worker threads of goose's runtime; 0: one per core |
/// | `mix` | `fixed` | `fixed`: the paths' shares of `[load.paths]`; `model`: each journey is a citizen doing what the simulator says it does (path, typos, resends, weak passwords, resubmissions, lost letters, leaving), its own waits divided by `speedup` (`src/load/model.rs`) |
/// | `[load.paths]` | see [`LoadPaths`] | shares of journeys by path |
/// | `[load.thresholds]` | see [`Thresholds`] | what makes the run fail (exit status 1) |
/// | `[load.engine]` | see [`EngineFigures`] | code lifetimes and cooldowns of the in-process engine |
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoadConfig {
    pub population: u64,
    pub speedup: f64,
    pub users: usize,
    #[serde(with = "duration_ms")]
    pub run_time: u64,
    #[serde(with = "duration_ms")]
    pub ramp: u64,
    pub arrival_rate: f64,
    #[serde(with = "duration_ms")]
    pub pool_time: u64,
    pub hash_profile: HashProfile,
    #[serde(with = "duration_ms")]
    pub poll_interval: u64,
    #[serde(with = "duration_ms")]
    pub wait_timeout: u64,
    #[serde(with = "duration_ms")]
    pub request_timeout: u64,
    #[serde(with = "duration_ms")]
    pub running_metrics: u64,
    #[serde(with = "duration_ms")]
    pub progress: u64,
    #[serde(with = "duration_ms")]
    pub scrape_interval: u64,
    pub stand_threads: usize,
    pub load_threads: usize,
    pub mix: Mix,
    pub paths: LoadPaths,
    pub thresholds: Thresholds,
    pub engine: EngineFigures,
}

impl Default for LoadConfig {
    fn default() -> Self {
        Self {
            population: 100_000,
            speedup: 86_400.0,
            users: 0,
            run_time: 60 * MS_PER_SEC,
            ramp: 2 * MS_PER_SEC,
            arrival_rate: 0.0,
            pool_time: 5 * MS_PER_SEC,
            hash_profile: HashProfile::Load,
            poll_interval: 20,
            wait_timeout: 60 * MS_PER_SEC,
            request_timeout: 30 * MS_PER_SEC,
            running_metrics: 15 * MS_PER_SEC,
            progress: 5 * MS_PER_SEC,
            scrape_interval: 2 * MS_PER_SEC,
            stand_threads: 0,
            load_threads: 0,
            mix: Mix::Fixed,
            paths: LoadPaths::default(),
            thresholds: Thresholds::default(),
            engine: EngineFigures::default(),
        }
    }
}

/// Where the journeys' mix comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Mix {
    /// The shares of `[load.paths]`.
    Fixed,
    /// The simulator's behaviour model, citizen by citizen.
    Model,
}

/// Shares of journeys by path (`[load.paths]`), normalised over the paths that run. A path
/// whose endpoints the stand does not offer yet is left out, with a note in the report. In the
/// closed model the shares are shares of users (each user walks its path again and again); with
/// `arrival_rate` they are shares of journeys started. Defaults: the baseline's tier mix
/// (`[paths]`: simplified 0.15 split 0.10 phone / 0.05 e-mail, standard 0.15, service center
/// 0.30, post 0.08, e-signature 0.05, banks 0.25 split 0.15 / 0.07 / 0.03 as their clients,
/// MFC 0.02) and 0.01 for each failure path.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoadPaths {
    pub simplified_phone: f64,
    pub simplified_email: f64,
    pub standard: f64,
    pub service_center: f64,
    pub post: f64,
    pub e_signature: f64,
    pub bank_sber: f64,
    pub bank_tinkoff: f64,
    pub bank_pochta: f64,
    pub mfc: f64,
    pub wrong_code: f64,
    pub expired_code: f64,
    pub weak_password: f64,
    pub documents_bound: f64,
    pub pfr_mismatch: f64,
    pub lost_letter: f64,
}

impl Default for LoadPaths {
    fn default() -> Self {
        Self {
            simplified_phone: 0.10,
            simplified_email: 0.05,
            standard: 0.15,
            service_center: 0.30,
            post: 0.08,
            e_signature: 0.05,
            bank_sber: 0.15,
            bank_tinkoff: 0.07,
            bank_pochta: 0.03,
            mfc: 0.02,
            wrong_code: 0.01,
            expired_code: 0.01,
            weak_password: 0.01,
            documents_bound: 0.01,
            pfr_mismatch: 0.01,
            lost_letter: 0.01,
        }
    }
}

impl LoadPaths {
    /// The share of `path`.
    pub fn share(&self, path: LoadPath) -> f64 {
        match path {
            LoadPath::SimplifiedPhone => self.simplified_phone,
            LoadPath::SimplifiedEmail => self.simplified_email,
            LoadPath::Standard => self.standard,
            LoadPath::ServiceCenter => self.service_center,
            LoadPath::Post => self.post,
            LoadPath::ESignature => self.e_signature,
            LoadPath::BankSber => self.bank_sber,
            LoadPath::BankTinkoff => self.bank_tinkoff,
            LoadPath::BankPochta => self.bank_pochta,
            LoadPath::Mfc => self.mfc,
            LoadPath::WrongCode => self.wrong_code,
            LoadPath::ExpiredCode => self.expired_code,
            LoadPath::WeakPassword => self.weak_password,
            LoadPath::DocumentsBound => self.documents_bound,
            LoadPath::PfrMismatch => self.pfr_mismatch,
            LoadPath::LostLetter => self.lost_letter,
        }
    }
}

/// What fails a run (`[load.thresholds]`), judged on the run's own funnel at the end (goose's
/// own `--threshold` rules, after `--`, are judged by goose). Defaults: at most 1% of steps
/// failing for an unexpected answer or a missing message, and each step's requests at p95
/// under 500 ms, except the bank's request, which by the contract waits for PFR and FMS (up to
/// 10 s) and gets 5 s; no limit on whole journeys.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// The most failed steps, as a share of steps run.
    pub error_rate: f64,
    /// The highest p95 of the requests of any one step.
    #[serde(with = "duration_ms")]
    pub request_p95: u64,
    /// Limits of particular steps by name (every path's step of that name), instead of
    /// `request_p95`: `{ "05 bank confirms" = "5s" }`.
    pub request_p95_by_step: BTreeMap<String, DurationMs>,
    /// The highest p95 of a whole journey of any path (start to goal), when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journey_p95: Option<DurationMs>,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            error_rate: 0.01,
            request_p95: 500,
            request_p95_by_step: BTreeMap::from([("05 bank confirms".into(), DurationMs(5_000))]),
            journey_p95: None,
        }
    }
}

/// The in-process engine's figures a short run may shorten (`[load.engine]`); unset keys keep
/// the engine's own (a code lives 300 s, a resend waits 60 s, a lost letter is re-ordered a day
/// later, a session lives an hour, an expired registration is kept an hour, an answered agency
/// request remembered a day). With `--host` the target keeps its own figures: these then only tell the journeys
/// how long to wait for a code to expire.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineFigures {
    /// How long an SMS code is accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms_code_ttl: Option<DurationMs>,
    /// Time after an SMS before another may be asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms_resend_cooldown: Option<DurationMs>,
    /// Time after a letter is ordered before another may be.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub letter_reorder_cooldown: Option<DurationMs>,
    /// A session's lifetime (the engine's: 1 hour).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_ttl: Option<DurationMs>,
    /// How long a registration is kept after its code expires (the engine's: 1 hour).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_grace: Option<DurationMs>,
    /// How long an answered agency request is remembered, to know a replayed answer (the
    /// engine's: 1 day). Short in a long run at full speed, so the stores reach their steady
    /// state within minutes (the fault drill).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_tombstone_ttl: Option<DurationMs>,
}

/// A key of `[load]` that is out of range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("load.{key}: {message}")]
pub struct LoadConfigError {
    pub key: String,
    pub message: String,
}

impl LoadConfig {
    /// Checks what the types cannot.
    pub fn validate(&self) -> Result<(), LoadConfigError> {
        let bad = |key: &str, message: String| {
            Err(LoadConfigError {
                key: key.to_string(),
                message,
            })
        };
        if self.population == 0 || self.population > crate::stand::POPULATION_MAX {
            return bad(
                "population",
                format!(
                    "must be between 1 and {}, got {}",
                    crate::stand::POPULATION_MAX,
                    self.population
                ),
            );
        }
        if !(self.speedup.is_finite() && self.speedup >= 1.0) {
            return bad(
                "speedup",
                format!("must be a number >= 1, got {}", self.speedup),
            );
        }
        if self.users > USERS_MAX {
            return bad("users", format!("at most {USERS_MAX}, got {}", self.users));
        }
        if self.run_time == 0 || self.run_time > 7 * 24 * MS_PER_HOUR {
            return bad(
                "run_time",
                format!(
                    "must be between 1ms and 7 days, got {}",
                    format_ms(self.run_time)
                ),
            );
        }
        if self.ramp > MS_PER_HOUR {
            return bad("ramp", format!("at most 1h, got {}", format_ms(self.ramp)));
        }
        if !(self.arrival_rate.is_finite() && (0.0..=ARRIVAL_RATE_MAX).contains(&self.arrival_rate))
        {
            return bad(
                "arrival_rate",
                format!(
                    "must be between 0 and {ARRIVAL_RATE_MAX} journeys a second, got {}",
                    self.arrival_rate
                ),
            );
        }
        for (key, value, min, max) in [
            ("poll_interval", self.poll_interval, 1, 60 * MS_PER_SEC),
            ("wait_timeout", self.wait_timeout, 1, 24 * MS_PER_HOUR),
            ("request_timeout", self.request_timeout, 1, MS_PER_HOUR),
            ("pool_time", self.pool_time, 0, 24 * MS_PER_HOUR),
        ] {
            if !(min..=max).contains(&value) {
                return bad(
                    key,
                    format!(
                        "must be between {} and {}, got {}",
                        format_ms(min),
                        format_ms(max),
                        format_ms(value)
                    ),
                );
            }
        }
        for (key, value) in [
            ("stand_threads", self.stand_threads),
            ("load_threads", self.load_threads),
        ] {
            if value > 1024 {
                return bad(key, format!("at most 1024, got {value}"));
            }
        }
        let mut total = 0.0;
        for path in LoadPath::ALL {
            let share = self.paths.share(path);
            if !(share.is_finite() && share >= 0.0) {
                return bad(
                    &format!("paths.{}", path.as_str()),
                    format!("must be >= 0, got {share}"),
                );
            }
            total += share;
        }
        if total <= 0.0 {
            return bad("paths", "at least one path needs a share above 0".into());
        }
        let t = &self.thresholds;
        if !(0.0..=1.0).contains(&t.error_rate) {
            return bad(
                "thresholds.error_rate",
                format!("must be between 0 and 1, got {}", t.error_rate),
            );
        }
        let e = &self.engine;
        for (key, value, min) in [
            ("engine.sms_code_ttl", e.sms_code_ttl, 100),
            ("engine.sms_resend_cooldown", e.sms_resend_cooldown, 0),
            (
                "engine.letter_reorder_cooldown",
                e.letter_reorder_cooldown,
                0,
            ),
            ("engine.session_ttl", e.session_ttl, 1_000),
            ("engine.registration_grace", e.registration_grace, 0),
            ("engine.reply_tombstone_ttl", e.reply_tombstone_ttl, 0),
        ] {
            if let Some(DurationMs(ms)) = value {
                if !(min..=60 * 24 * MS_PER_HOUR).contains(&ms) {
                    return bad(
                        key,
                        format!(
                            "must be between {} and 60 days, got {}",
                            format_ms(min),
                            format_ms(ms)
                        ),
                    );
                }
            }
        }
        Ok(())
    }
}

/// The most goose users a run starts.
pub const USERS_MAX: usize = 100_000;
/// The highest open arrival rate, journeys a second.
pub const ARRIVAL_RATE_MAX: f64 = 100_000.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_round_trip() {
        let c = LoadConfig::default();
        c.validate().unwrap();
        let text = toml::to_string(&c).unwrap();
        let back: LoadConfig = toml::from_str(&text).unwrap();
        assert_eq!(back, c, "{text}");
    }

    #[test]
    fn out_of_range_keys_are_named() {
        let cases: [(&str, &str); 7] = [
            ("speedup = 0.5", "load.speedup"),
            ("arrival_rate = -1.0", "load.arrival_rate"),
            ("population = 0", "load.population"),
            ("[paths]\nstandard = -0.1", "load.paths.standard"),
            ("poll_interval = \"0s\"", "load.poll_interval"),
            (
                "[engine]\nsms_code_ttl = \"99999d\"",
                "load.engine.sms_code_ttl",
            ),
            (
                "[engine]\nsession_ttl = \"10ms\"",
                "load.engine.session_ttl",
            ),
        ];
        for (text, key) in cases {
            let c: LoadConfig = toml::from_str(text).unwrap();
            let e = c.validate().unwrap_err().to_string();
            assert!(e.starts_with(key), "{text}: {e}");
        }
    }

    #[test]
    fn the_engine_figures_reach_the_stand_s_registry() {
        let mut s = crate::scenario::Scenario::default();
        s.load.engine = toml::from_str(
            "session_ttl = \"1m\"\nregistration_grace = \"30s\"\nreply_tombstone_ttl = \"2m\"",
        )
        .unwrap();
        s.load.validate().unwrap();
        let r = crate::load::stand_timing(&s).registry;
        assert_eq!(r.session_ttl_ms, 60_000);
        assert_eq!(r.registration_grace_ms, 30_000);
        assert_eq!(r.reply_tombstone_ttl_ms, 120_000);
        // Unset keys keep the engine's own.
        let own = crate::registry::RegistryConfig::default();
        assert_eq!(r.sms_code, own.sms_code);
        assert_eq!(r.verification_timeout_ms, own.verification_timeout_ms);
    }
}
