//! Scenario files: a study as data (DESIGN.md, core idea 8).
//!
//! A scenario is a TOML file whose tables set the population mix (`[population]`), where
//! citizens are heading (`[paths]`), how they behave (`[behaviour]`), how agencies answer
//! (`[agencies]`), how they arrive (`[arrivals]`) and the run's shape (`seed`, `citizens`,
//! `horizon`). Every key is optional: the defaults are the baseline calibrated to DOMAIN.md.
//! `--set key=value` overrides any key, including keys the file leaves at their default: the
//! file is read, completed with the defaults, the overrides applied, and the result read again.
//! Errors name the key (and, for the file, the line).

use chrono::{Datelike, NaiveDate};
use esia_mocks::agency::duration::{format_ms, ms as duration_ms};
use esia_mocks::agency::{Agencies, Latency};
use esia_mocks::clock::{MS_PER_DAY, MS_PER_HOUR, MS_PER_MIN, MS_PER_SEC};
use esia_mocks::population::PopulationConfig;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// A whole study. Defaults: the baseline (see each field).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scenario {
    /// A short name for reports (default `baseline`).
    pub name: String,
    /// What the study is about.
    pub description: String,
    /// The seed of the population and of every draw (default 1; `--seed` overrides).
    pub seed: u64,
    /// Citizens simulated (default 100,000; `--citizens` overrides).
    pub citizens: u64,
    /// How long the run follows citizens, from the epoch (default 180 days).
    #[serde(with = "duration_ms")]
    pub horizon: u64,
    /// The queue statistics of agencies with a capacity count only the requests that arrive
    /// from this moment on (default 0: all of them), so that they describe the steady state.
    #[serde(with = "duration_ms", skip_serializing_if = "is_zero")]
    pub warmup: u64,
    pub population: PopulationConfig,
    pub arrivals: Arrivals,
    pub paths: PathWeights,
    pub behaviour: Behaviour,
    pub agencies: Agencies,
    /// When each path is open (`[windows]`: `bank = { from = "2018-07-01" }`): a citizen who
    /// arrives while a path is closed leaves it out of the choice, as one who cannot take it.
    /// Absent: every path is open throughout (the default).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub windows: BTreeMap<String, Window>,
    /// Published figures the run is compared with (`[history]`; see [`History`]). Absent: no
    /// comparison.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<History>,
    /// The shape of an `esia-sim load` run (see [`crate::load::LoadConfig`]); the simulator
    /// ignores it.
    pub load: crate::load::LoadConfig,
}

impl Default for Scenario {
    fn default() -> Self {
        Self {
            name: "baseline".into(),
            description: String::new(),
            seed: 1,
            citizens: 100_000,
            horizon: 180 * MS_PER_DAY,
            warmup: 0,
            population: PopulationConfig::default(),
            arrivals: Arrivals::default(),
            paths: PathWeights::default(),
            behaviour: Behaviour::default(),
            agencies: Agencies::default(),
            windows: BTreeMap::new(),
            history: None,
            load: crate::load::LoadConfig::default(),
        }
    }
}

/// How citizens arrive.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Arrivals {
    /// A Poisson process of `per_day` citizens a day from the epoch (default 50,000 a day:
    /// the ministry's 1.4-1.5 million new users a month).
    Poisson { per_day: f64 },
    /// Everyone at time zero (a cohort study).
    Cohort,
    /// Month by month, from the epoch's month: `per_month` gives each calendar year (a key
    /// `"2017"`) its months' arrivals (up to 12 numbers, January first), a Poisson process at a
    /// constant rate within each month; `scale` multiplies every count (0.01: a sample of one
    /// citizen in a hundred). Arrivals end with the last month given.
    Monthly {
        per_month: BTreeMap<String, Vec<f64>>,
        #[serde(default = "one")]
        scale: f64,
    },
}

fn one() -> f64 {
    1.0
}

/// A path's opening window: open from `from` (inclusive) to `to` (exclusive), calendar dates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<NaiveDate>,
    /// Where the dates come from.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
}

/// The published figures a historical run is compared with (the report's section "History").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct History {
    /// The country's population, for shares.
    pub population: u64,
    /// Where the population comes from.
    pub population_source: String,
    /// Accounts (of any tier) and confirmed accounts already held at the epoch: the run's
    /// citizens are the new ones, added to these.
    pub accounts_at_start: u64,
    pub confirmed_at_start: u64,
    /// Where the figures at the start come from.
    pub start_source: String,
    /// Each published figure.
    pub figures: Vec<PublishedFigure>,
}

/// One published figure: on `date`, `value` of `measure`, from `source`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishedFigure {
    pub date: NaiveDate,
    /// `accounts` (registered users, every tier), `confirmed` (confirmed accounts) or
    /// `confirmed_share` (confirmed accounts over the population).
    pub measure: HistoryMeasure,
    pub value: f64,
    pub source: String,
    /// `fitted` when the scenario's inputs were set to meet it (the inflow), `predicted` when
    /// the model gives it (the confirmed share): only predicted figures test the model.
    pub basis: HistoryBasis,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HistoryMeasure {
    Accounts,
    Confirmed,
    ConfirmedShare,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HistoryBasis {
    Fitted,
    Predicted,
}

/// The first day of each month of a monthly schedule and its count (already scaled), from the
/// epoch's month on: checked by [`Scenario::validate`].
pub fn monthly_schedule(
    per_month: &BTreeMap<String, Vec<f64>>,
    scale: f64,
) -> Vec<(NaiveDate, f64)> {
    let mut out = Vec::new();
    for (year, counts) in per_month {
        let Ok(y) = year.parse::<i32>() else { continue };
        for (m, c) in counts.iter().enumerate() {
            if let Some(d) = NaiveDate::from_ymd_opt(y, m as u32 + 1, 1) {
                out.push((d, c * scale));
            }
        }
    }
    out
}

impl Default for Arrivals {
    fn default() -> Self {
        Arrivals::Poisson { per_day: 50_000.0 }
    }
}

/// Shares of journeys by the tier path a citizen heads for. A citizen for whom a path is not
/// open (no e-signature, no bank, no phone for a bank or an MFC registration) chooses among the
/// others by the same weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PathWeights {
    /// Stop at the simplified account (default 0.15).
    pub simplified: f64,
    /// Stop at the standard account (default 0.15).
    pub standard: f64,
    /// Confirm at a service center (default 0.30).
    pub service_center: f64,
    /// Confirm by a Russian Post letter (default 0.08).
    pub post: f64,
    /// Confirm with an e-signature (default 0.05; only holders).
    pub e_signature: f64,
    /// Confirm through an online bank (default 0.25; only clients).
    pub bank: f64,
    /// Registered and confirmed by an MFC operator (default 0.02).
    pub mfc: f64,
}

impl Default for PathWeights {
    fn default() -> Self {
        Self {
            simplified: 0.15,
            standard: 0.15,
            service_center: 0.30,
            post: 0.08,
            e_signature: 0.05,
            bank: 0.25,
            mfc: 0.02,
        }
    }
}

impl PathWeights {
    /// The weights in the order of [`crate::funnel::Path::ALL`].
    pub fn as_array(&self) -> [f64; 7] {
        [
            self.simplified,
            self.standard,
            self.service_center,
            self.post,
            self.e_signature,
            self.bank,
            self.mfc,
        ]
    }
}

/// How citizens act between the engine's answers. Times are delay laws (see `Latency`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Behaviour {
    /// From an SMS code's arrival to typing it (default lognormal, median 30s, p99 4m).
    pub type_code: Latency,
    /// From an e-mail's arrival to following its link (default lognormal, median 20m, p99 2d).
    pub follow_link: Latency,
    /// Of letters in spam, the share found there (default 0.5).
    pub find_in_spam_share: f64,
    /// Waiting for a code that does not come before asking again (default uniform 1m..5m).
    pub resend_after: Latency,
    /// From a confirmed contact to a password (default lognormal, median 1m, p99 10m).
    pub set_password: Latency,
    /// Share of first passwords refused as weak (default 0.2); a refused citizen tries again.
    pub weak_password_share: f64,
    /// Share who give up after a weak-password refusal (default 0.05).
    pub quit_on_weak_password_share: f64,
    /// From the simplified account to submitting personal data (default lognormal, median 2h,
    /// p99 14d).
    pub fill_personal_data: Latency,
    /// Share who correct their data and submit again after a refusal (default 0.6).
    pub resubmit_share: f64,
    /// From a refusal to submitting again (default lognormal, median 1d, p99 10d).
    pub resubmit_after: Latency,
    /// From the standard account to ordering a letter, signing, or opening the bank's form
    /// (default lognormal, median 1d, p99 20d). Service centers use `agencies.centers.visit_delay`.
    pub start_confirmation: Latency,
    /// From a letter's arrival at the office to its pickup (default lognormal, median 3d, p99 20d).
    pub pickup: Latency,
    /// From the pickup to entering the letter's code (default lognormal, median 30m, p99 3d).
    pub enter_letter_code: Latency,
    /// After this long without a letter the citizen takes it for lost (default 30d, seed 004).
    #[serde(with = "duration_ms")]
    pub letter_lost_after: u64,
    /// Share who order a new letter when one is lost (default 0.7, seed 001).
    pub reorder_lost_letter_share: f64,
    /// Share who come back another day when a center is closed or turns them away (default 0.8).
    pub revisit_share: f64,
    /// From a closed or refused visit to the next (default lognormal, median 1d, p99 7d).
    pub revisit_after: Latency,
}

fn lognormal(median_ms: u64, p99_ms: u64) -> Latency {
    Latency::lognormal(median_ms, p99_ms).expect("a valid constant law")
}

impl Default for Behaviour {
    fn default() -> Self {
        Self {
            type_code: lognormal(30 * MS_PER_SEC, 4 * MS_PER_MIN),
            follow_link: lognormal(20 * MS_PER_MIN, 2 * MS_PER_DAY),
            find_in_spam_share: 0.5,
            resend_after: Latency::uniform(MS_PER_MIN, 5 * MS_PER_MIN).expect("valid bounds"),
            set_password: lognormal(MS_PER_MIN, 10 * MS_PER_MIN),
            weak_password_share: 0.2,
            quit_on_weak_password_share: 0.05,
            fill_personal_data: lognormal(2 * MS_PER_HOUR, 14 * MS_PER_DAY),
            resubmit_share: 0.6,
            resubmit_after: lognormal(MS_PER_DAY, 10 * MS_PER_DAY),
            start_confirmation: lognormal(MS_PER_DAY, 20 * MS_PER_DAY),
            pickup: lognormal(3 * MS_PER_DAY, 20 * MS_PER_DAY),
            enter_letter_code: lognormal(30 * MS_PER_MIN, 3 * MS_PER_DAY),
            letter_lost_after: 30 * MS_PER_DAY,
            reorder_lost_letter_share: 0.7,
            revisit_share: 0.8,
            revisit_after: lognormal(MS_PER_DAY, 7 * MS_PER_DAY),
        }
    }
}

/// What is wrong with a scenario.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error("--set {setting}: expected key=value, e.g. --set agencies.post.latency.median=4d")]
    SetSyntax { setting: String },
    #[error("--set {key}: {message}")]
    Set { key: String, message: String },
    #[error("{key}: {message}")]
    Invalid { key: String, message: String },
}

/// Names a user may write for a key that has another name in the file.
const ALIASES: &[(&str, &str)] = &[("agencies.post.delivery", "agencies.post.latency")];

impl Scenario {
    /// Reads a scenario file and applies `--set` overrides in order.
    pub fn load(path: &Path, overrides: &[String]) -> Result<Self, ScenarioError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: shown.clone(),
            source,
        })?;
        Self::parse(&text, &shown, overrides)
    }

    /// Parses scenario text (`origin` names it in errors) and applies overrides.
    pub fn parse(text: &str, origin: &str, overrides: &[String]) -> Result<Self, ScenarioError> {
        // toml's messages carry the line, the column and the key.
        let scenario: Scenario = toml::from_str(text).map_err(|e| ScenarioError::File {
            path: origin.to_string(),
            message: e.to_string().trim_end().to_string(),
        })?;
        let scenario = scenario.with_overrides(overrides)?;
        scenario.validate()?;
        Ok(scenario)
    }

    /// Applies `key=value` overrides to the scenario completed with its defaults.
    pub fn with_overrides(self, overrides: &[String]) -> Result<Self, ScenarioError> {
        if overrides.is_empty() {
            return Ok(self);
        }
        let mut table = toml::Table::try_from(&self).map_err(|e| ScenarioError::Invalid {
            key: "scenario".into(),
            message: e.to_string(),
        })?;
        let mut last_key = String::new();
        for setting in overrides {
            let (key, value) = setting
                .split_once('=')
                .filter(|(k, _)| !k.trim().is_empty())
                .ok_or_else(|| ScenarioError::SetSyntax {
                    setting: setting.clone(),
                })?;
            let key = resolve_alias(key.trim());
            set_path(&mut table, &key, parse_value(value.trim())).map_err(|message| {
                ScenarioError::Set {
                    key: key.clone(),
                    message,
                }
            })?;
            last_key = key;
        }
        let de = toml::Value::Table(table);
        serde_path_to_error::deserialize::<_, Scenario>(de).map_err(|e| {
            let path = e.path().to_string();
            ScenarioError::Set {
                key: if path == "." { last_key } else { path },
                message: e.into_inner().to_string().trim_end().to_string(),
            }
        })
    }

    /// Checks what the types cannot.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        let invalid = |key: &str, message: String| {
            Err(ScenarioError::Invalid {
                key: key.to_string(),
                message,
            })
        };
        self.population
            .validate()
            .map_err(|e| ScenarioError::Invalid {
                key: "population".into(),
                message: e.to_string(),
            })?;
        if self.horizon < MS_PER_DAY || self.horizon > HORIZON_MAX_DAYS * MS_PER_DAY {
            return invalid(
                "horizon",
                format!(
                    "must be between 1d and 10 years ({HORIZON_MAX_DAYS}d), got {}",
                    format_ms(self.horizon)
                ),
            );
        }
        if self.warmup >= self.horizon {
            return invalid(
                "warmup",
                format!(
                    "must end before the horizon ({}), got {}",
                    format_ms(self.horizon),
                    format_ms(self.warmup)
                ),
            );
        }
        if let Arrivals::Poisson { per_day } = self.arrivals {
            if !(per_day.is_finite() && per_day > 0.0) {
                return invalid(
                    "arrivals.per_day",
                    format!("must be a positive number, got {per_day}"),
                );
            }
        }
        let epoch = self.population.epoch;
        let end = epoch + chrono::Duration::milliseconds(self.horizon as i64);
        if let Arrivals::Monthly { per_month, scale } = &self.arrivals {
            if !(scale.is_finite() && *scale > 0.0) {
                return invalid(
                    "arrivals.scale",
                    format!("must be a positive number, got {scale}"),
                );
            }
            if per_month.is_empty() {
                return invalid("arrivals.per_month", "gives no month".into());
            }
            for (expected, (year, counts)) in (epoch.year()..).zip(per_month) {
                let key = format!("arrivals.per_month.{year}");
                let Ok(y) = year.parse::<i32>() else {
                    return invalid(&key, "must be a calendar year such as \"2017\"".into());
                };
                if y != expected {
                    return invalid(
                        &key,
                        format!("years must follow one another from the epoch's ({expected})"),
                    );
                }
                let last = per_month.keys().next_back() == Some(year);
                if counts.is_empty() || counts.len() > 12 || (!last && counts.len() != 12) {
                    return invalid(
                        &key,
                        format!(
                            "must give 12 months (the last year: 1 to 12), got {}",
                            counts.len()
                        ),
                    );
                }
                if let Some(c) = counts.iter().find(|c| !(c.is_finite() && **c >= 0.0)) {
                    return invalid(&key, format!("counts must be >= 0, got {c}"));
                }
            }
            if epoch.day() != 1 {
                return invalid(
                    "population.epoch",
                    format!("monthly arrivals start on a month's first day, got {epoch}"),
                );
            }
        }
        for (path, window) in &self.windows {
            let key = format!("windows.{path}");
            if !PATH_NAMES.contains(&path.as_str()) {
                return invalid(
                    &key,
                    format!("unknown path; expected one of {}", PATH_NAMES.join(", ")),
                );
            }
            if matches!(path.as_str(), "simplified" | "standard") {
                return invalid(
                    &key,
                    "the simplified and standard accounts are always open".into(),
                );
            }
            if let (Some(from), Some(to)) = (window.from, window.to) {
                if to <= from {
                    return invalid(&key, format!("`to` ({to}) must come after `from` ({from})"));
                }
            }
        }
        if let Some(h) = &self.history {
            if h.population == 0 {
                return invalid("history.population", "must be above 0".into());
            }
            if h.confirmed_at_start > h.accounts_at_start {
                return invalid(
                    "history.confirmed_at_start",
                    "cannot exceed accounts_at_start".into(),
                );
            }
            for (k, f) in h.figures.iter().enumerate() {
                let key = format!("history.figures[{k}]");
                if f.date < epoch || f.date > end {
                    return invalid(
                        &format!("{key}.date"),
                        format!("{} lies outside the run ({epoch} to {end})", f.date),
                    );
                }
                let share = f.measure == HistoryMeasure::ConfirmedShare;
                if !(f.value.is_finite() && f.value >= 0.0) || (share && f.value > 1.0) {
                    return invalid(
                        &format!("{key}.value"),
                        format!(
                            "must be {}, got {}",
                            if share { "between 0 and 1" } else { ">= 0" },
                            f.value
                        ),
                    );
                }
                if f.source.trim().is_empty() {
                    return invalid(&format!("{key}.source"), "names no source".into());
                }
            }
        }
        let names = PATH_NAMES;
        let weights = self.paths.as_array();
        for (name, w) in names.iter().zip(weights) {
            if !(w.is_finite() && w >= 0.0) {
                return invalid(&format!("paths.{name}"), format!("must be >= 0, got {w}"));
            }
        }
        if weights[0] + weights[1] + weights[2] + weights[3] <= 0.0 {
            return invalid(
                "paths",
                "simplified, standard, service_center and post (open to everyone) cannot all be 0"
                    .into(),
            );
        }
        let b = &self.behaviour;
        for (key, share) in [
            ("behaviour.find_in_spam_share", b.find_in_spam_share),
            ("behaviour.weak_password_share", b.weak_password_share),
            (
                "behaviour.quit_on_weak_password_share",
                b.quit_on_weak_password_share,
            ),
            ("behaviour.resubmit_share", b.resubmit_share),
            (
                "behaviour.reorder_lost_letter_share",
                b.reorder_lost_letter_share,
            ),
            ("behaviour.revisit_share", b.revisit_share),
        ] {
            if !(0.0..=1.0).contains(&share) {
                return invalid(key, format!("must be between 0 and 1, got {share}"));
            }
        }
        if b.letter_lost_after == 0 {
            return invalid("behaviour.letter_lost_after", "must be above 0".into());
        }
        self.load.validate().map_err(|e| ScenarioError::Invalid {
            key: format!("load.{}", e.key),
            message: e.message,
        })?;
        Ok(())
    }

    /// The scenario as JSON, for reports.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// The longest horizon (days): ten years, a historical run's 2017-2025 with room.
pub const HORIZON_MAX_DAYS: u64 = 3653;

/// The paths' names in scenario keys, in the order of [`crate::funnel::Path::ALL`].
pub const PATH_NAMES: [&str; 7] = [
    "simplified",
    "standard",
    "service_center",
    "post",
    "e_signature",
    "bank",
    "mfc",
];

fn is_zero(ms: &u64) -> bool {
    *ms == 0
}

fn resolve_alias(key: &str) -> String {
    for (alias, real) in ALIASES {
        if let Some(rest) = key.strip_prefix(alias) {
            if rest.is_empty() || rest.starts_with('.') {
                return format!("{real}{rest}");
            }
        }
    }
    key.to_string()
}

/// A value as TOML (`0.5`, `true`, `"text"`, `[1, 2]`, `{ kind = "fixed", value = "1s" }`), or
/// else as a bare string (`4d`).
fn parse_value(text: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("v = {text}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(text.to_string()))
}

fn set_path(table: &mut toml::Table, key: &str, value: toml::Value) -> Result<(), String> {
    let parts: Vec<&str> = key.split('.').map(str::trim).collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err("a key is names joined by dots, e.g. agencies.pfr.error_rate".into());
    }
    let (last, parents) = parts.split_last().expect("split gives at least one part");
    let mut current = table;
    let mut walked = String::new();
    for part in parents {
        if !walked.is_empty() {
            walked.push('.');
        }
        walked.push_str(part);
        let entry = current
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        current = entry
            .as_table_mut()
            .ok_or_else(|| format!("{walked} is a value, not a table"))?;
    }
    current.insert(last.to_string(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_file_is_the_baseline() {
        let s = Scenario::parse("", "empty.toml", &[]).unwrap();
        assert_eq!(s, Scenario::default());
    }

    #[test]
    fn overrides_reach_keys_the_file_leaves_at_default() {
        let s = Scenario::parse(
            "name = \"x\"\n",
            "x.toml",
            &[
                "agencies.post.delivery.median=4d".into(),
                "paths.bank=0".into(),
                "arrivals={ kind = \"cohort\" }".into(),
                "horizon=60d".into(),
            ],
        )
        .unwrap();
        assert_eq!(s.paths.bank, 0.0);
        assert_eq!(s.arrivals, Arrivals::Cohort);
        assert_eq!(s.horizon, 60 * MS_PER_DAY);
        assert_ne!(s.agencies.post, Scenario::default().agencies.post);
    }

    #[test]
    fn monthly_arrivals_windows_and_history_are_checked_by_key() {
        let bad = |text: &str| match Scenario::parse(text, "test", &[]) {
            Err(ScenarioError::Invalid { key, .. }) => key,
            other => panic!("{text}: {other:?}"),
        };
        let monthly = "[population]\nepoch = \"2017-01-01\"\n[arrivals]\nkind = \"monthly\"\n";
        assert_eq!(
            bad(&format!(
                "{monthly}[arrivals.per_month]\n2017 = [1.0, 2.0]\n2018 = [1.0]\n"
            )),
            "arrivals.per_month.2017"
        );
        assert_eq!(
            bad(&format!("{monthly}[arrivals.per_month]\n2018 = [1.0]\n")),
            "arrivals.per_month.2018"
        );
        assert_eq!(
            bad(&format!("{monthly}[arrivals.per_month]\n2017 = [-1.0]\n")),
            "arrivals.per_month.2017"
        );
        assert_eq!(
            bad(&format!(
                "{monthly}scale = 0.0\n[arrivals.per_month]\n2017 = [1.0]\n"
            )),
            "arrivals.scale"
        );
        assert_eq!(
            bad("[windows.banks]\nfrom = \"2018-01-01\"\n"),
            "windows.banks"
        );
        assert_eq!(
            bad("[windows.standard]\nfrom = \"2018-01-01\"\n"),
            "windows.standard"
        );
        assert_eq!(
            bad("[windows.bank]\nfrom = \"2018-01-01\"\nto = \"2017-01-01\"\n"),
            "windows.bank"
        );
        let history = "[history]\npopulation = 100\npopulation_source = \"x\"\n\
                       accounts_at_start = 0\nconfirmed_at_start = 0\nstart_source = \"x\"\n";
        let figure = |date: &str, value: &str, source: &str| {
            format!(
                "{history}[[history.figures]]\ndate = \"{date}\"\nmeasure = \"confirmed_share\"\n\
                 value = {value}\nsource = \"{source}\"\nbasis = \"predicted\"\n"
            )
        };
        assert_eq!(
            bad(&figure("2030-01-01", "0.5", "s")),
            "history.figures[0].date"
        );
        assert_eq!(
            bad(&figure("2026-02-01", "1.5", "s")),
            "history.figures[0].value"
        );
        assert_eq!(
            bad(&figure("2026-02-01", "0.5", " ")),
            "history.figures[0].source"
        );
        let ok = Scenario::parse(&figure("2026-02-01", "0.5", "s"), "test", &[]).unwrap();
        assert_eq!(ok.history.unwrap().figures.len(), 1);
        let ok = Scenario::parse(
            &format!("{monthly}[arrivals.per_month]\n2017 = [1.0]\n"),
            "test",
            &[],
        )
        .unwrap();
        assert!(matches!(ok.arrivals, Arrivals::Monthly { scale, .. } if scale == 1.0));
    }

    #[test]
    fn errors_name_the_key_and_line() {
        let err = Scenario::parse("name = \"x\"\n\n[paths]\nbnak = 0.3\n", "s.toml", &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("s.toml") && err.contains("line 4") && err.contains("bnak"),
            "{err}"
        );

        let err = Scenario::parse("", "s.toml", &["paths.bank=lots".into()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("paths.bank"), "{err}");

        let err = Scenario::parse("", "s.toml", &["agencies.pfr.eror_rate=0.1".into()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("eror_rate"), "{err}");

        let err = Scenario::parse("", "s.toml", &["novalue".into()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("key=value"), "{err}");

        let err = Scenario::parse("", "s.toml", &["paths.post=-1".into()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("paths.post"), "{err}");

        let err = Scenario::parse("", "s.toml", &["seed.x=1".into()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("seed is a value"), "{err}");
    }
}
