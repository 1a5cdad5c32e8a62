//! The run against published figures over the years (`[history]` of a scenario, such as
//! `scenarios/history.toml`): accounts, confirmed accounts and their share of the population
//! at each date that has a figure, each with its source, the model's value and the difference.
//!
//! The model's counts are the accounts the run opened and confirmed up to the end of the date
//! (a bank's or an MFC's account counts from its confirmation), divided by the arrivals'
//! `scale` and the replicates, plus the accounts the scenario says existed at the epoch.
//! Figures the scenario's inputs were set to meet are marked `fitted`; only the `predicted`
//! ones test the model.

use crate::funnel::Funnel;
use crate::scenario::{Arrivals, History, HistoryBasis, HistoryMeasure, Scenario};
use chrono::NaiveDate;
use serde::Serialize;

/// One published figure beside the run's value.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HistoryRow {
    pub date: NaiveDate,
    pub measure: HistoryMeasure,
    pub basis: HistoryBasis,
    pub published: f64,
    pub model: f64,
    /// model - published.
    pub difference: f64,
    /// (model - published) / published.
    pub relative: Option<f64>,
    pub source: String,
}

/// The comparison, when the scenario (as echoed in the report) has a `[history]`.
pub fn rows(
    scenario: &serde_json::Value,
    pooled: &Funnel,
    replicates: usize,
    epoch: NaiveDate,
) -> Option<Vec<HistoryRow>> {
    let scenario: Scenario = serde_json::from_value(scenario.clone()).ok()?;
    let history: History = scenario.history?;
    let scale = match scenario.arrivals {
        Arrivals::Monthly { scale, .. } => scale,
        _ => 1.0,
    };
    let per = scale * replicates.max(1) as f64;
    let cumulative = |series: &[u64], date: NaiveDate| -> f64 {
        let day = (date - epoch).num_days();
        if day < 0 {
            return 0.0;
        }
        let last = (day as usize).min(series.len().saturating_sub(1));
        series[..=last].iter().sum::<u64>() as f64 / per
    };
    let d = &pooled.daily;
    Some(
        history
            .figures
            .iter()
            .map(|f| {
                let accounts = history.accounts_at_start as f64 + cumulative(&d.accounts, f.date);
                let confirmed =
                    history.confirmed_at_start as f64 + cumulative(&d.confirmed, f.date);
                let model = match f.measure {
                    HistoryMeasure::Accounts => accounts,
                    HistoryMeasure::Confirmed => confirmed,
                    HistoryMeasure::ConfirmedShare => confirmed / history.population as f64,
                };
                HistoryRow {
                    date: f.date,
                    measure: f.measure,
                    basis: f.basis,
                    published: f.value,
                    model: round6(model),
                    difference: round6(model - f.value),
                    relative: (f.value > 0.0).then(|| round6((model - f.value) / f.value)),
                    source: f.source.clone(),
                }
            })
            .collect(),
    )
}

/// Six significant decimals, so the JSON's bytes do not depend on float noise.
fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

impl HistoryMeasure {
    pub fn as_str(self) -> &'static str {
        match self {
            HistoryMeasure::Accounts => "accounts",
            HistoryMeasure::Confirmed => "confirmed accounts",
            HistoryMeasure::ConfirmedShare => "confirmed share of the population",
        }
    }
}

impl HistoryBasis {
    pub fn as_str(self) -> &'static str {
        match self {
            HistoryBasis::Fitted => "fitted",
            HistoryBasis::Predicted => "predicted",
        }
    }
}
