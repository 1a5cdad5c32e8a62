//! Goose, embedded: the arguments after `--` parsed as goose's own (never the process's), our
//! defaults from the scenario filled in where the user gave none, one goose scenario per path
//! with its steps as transactions, one shared HTTP client, no telnet or WebSocket controller,
//! and the HTML and JSON reports written to explicit paths in the run's folder.

use super::journey::{self, Harness};
use super::path::LoadPath;
use goose::client::GooseClientBuilder;
use goose::config::GooseConfiguration;
use goose::prelude::*;
use std::sync::Arc;
use std::time::Duration;

/// Why goose could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum AttackError {
    #[error("goose arguments after `--`: {0}")]
    Arguments(String),
    #[error("goose: {0}")]
    Goose(#[from] GooseError),
}

/// What goose will run, resolved from the scenario and the arguments after `--`.
#[derive(Clone, Debug)]
pub struct Shape {
    /// Users by path, in registration order.
    pub users: Vec<(LoadPath, usize)>,
    /// How long the users take to start.
    pub ramp: Duration,
    /// How long goose runs once they have: `None` with a test plan or iterations, which end
    /// the run their own way.
    pub run_time: Option<Duration>,
}

/// The user's goose arguments: parsed, checked against ours, with our fixed settings applied.
#[derive(Debug)]
pub struct GooseArgs {
    pub config: GooseConfiguration,
    /// Whether the user set the run's shape themselves (`--test-plan`, `--iterations`).
    pub own_plan: bool,
    pub own_iterations: bool,
}

/// Parses the arguments after `--` with goose's parser.
pub fn parse(args: &[String]) -> Result<GooseArgs, AttackError> {
    let config = GooseConfiguration::parse_args_default(args).map_err(|e| match e {
        GooseError::InvalidOption {
            option,
            value,
            detail,
        } => AttackError::Arguments(format!("{option} {value}: {detail}")),
        other => AttackError::Goose(other),
    })?;
    if config.host.is_some() {
        return Err(AttackError::Arguments(
            "-H/--host: give the target with esia-sim's own --host (before `--`)".into(),
        ));
    }
    let given = |flag: &str| {
        args.iter()
            .any(|a| a == flag || a.starts_with(&format!("{flag}=")))
    };
    Ok(GooseArgs {
        own_plan: given("--test-plan"),
        own_iterations: given("--iterations"),
        config,
    })
}

/// Shares users out by weight: largest remainders of `total × weight`, each path at least one.
pub fn allocate(weights: &[(LoadPath, f64)], total: usize) -> Vec<(LoadPath, usize)> {
    let sum: f64 = weights.iter().map(|(_, w)| w).sum();
    if weights.is_empty() || sum <= 0.0 {
        return Vec::new();
    }
    let total = total.max(weights.len());
    let exact: Vec<f64> = weights
        .iter()
        .map(|(_, w)| w / sum * total as f64)
        .collect();
    let mut alloc: Vec<usize> = exact.iter().map(|x| (x.floor() as usize).max(1)).collect();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    // Largest remainder first; ties to the earlier path.
    order.sort_by(|&a, &b| {
        let ra = exact[a] - exact[a].floor();
        let rb = exact[b] - exact[b].floor();
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    let mut given: usize = alloc.iter().sum();
    for &i in order.iter().cycle().take(weights.len() * 2) {
        if given >= total {
            break;
        }
        if exact[i] > alloc[i] as f64 {
            alloc[i] += 1;
            given += 1;
        }
    }
    weights
        .iter()
        .zip(alloc)
        .map(|((p, _), n)| (*p, n))
        .collect()
}

/// Runs goose with the harness's journeys. Returns goose's metrics, or its error (a failed
/// goose `--threshold` among them) as text after the reports are written.
pub async fn execute(
    mut args: GooseArgs,
    harness: Arc<Harness>,
    shape: &Shape,
    host: &str,
    reports: [String; 2],
    timing: Defaults,
) -> Result<Result<GooseMetrics, String>, AttackError> {
    let total: usize = shape.users.iter().map(|(_, n)| n).sum();
    let c = &mut args.config;
    c.host = Some(host.to_owned());
    c.no_telnet = true;
    c.websocket = false;
    c.report_file.extend(reports);
    if !args.own_plan {
        c.users = Some(total);
    }
    let mut attack = GooseAttack::initialize_with_config(args.config)?
        .set_client_builder_without_cookies(GooseClientBuilder::new().without_cookies())?
        .test_start(journey::test_start(harness.clone()));
    for (path, users) in &shape.users {
        let Some(plan) = path.plan() else { continue };
        let mut scenario = Scenario::new(path.as_str()).set_weight(*users)?;
        for (i, step) in plan.iter().enumerate() {
            scenario = scenario.register_transaction(journey::transaction(
                harness.clone(),
                *path,
                i,
                *step,
            ));
        }
        scenario = scenario.register_transaction(journey::on_stop(harness.clone()));
        attack = attack.register_scenario(scenario);
    }
    if !args.own_plan {
        let ramp_s = shape.ramp.as_secs_f64().max(0.001);
        let rate = (total as f64 / ramp_s).max(1.0);
        attack = *attack.set_default(GooseDefault::IncreaseRate, format!("{rate:.3}").as_str())?;
        if !args.own_iterations {
            let secs = shape.run_time.map_or(60, |d| d.as_secs().max(1));
            attack = *attack.set_default(GooseDefault::RunTime, secs as usize)?;
        }
    }
    if timing.running_metrics_s > 0 {
        attack = *attack.set_default(GooseDefault::RunningMetrics, timing.running_metrics_s)?;
    }
    attack = *attack.set_default(
        GooseDefault::Timeout,
        format!("{:.3}", timing.request_timeout.as_secs_f64()).as_str(),
    )?;
    // Goose's per-user launch messages are info; warnings and the metrics tables remain.
    attack = *attack.set_default(GooseDefault::Quiet, 1)?;
    goose::reset_killswitch();
    match attack.execute().await {
        Ok(metrics) => Ok(Ok(metrics)),
        Err(e @ GooseError::ThresholdsFailed { .. }) => Ok(Err(e.to_string())),
        Err(e) => Err(e.into()),
    }
}

/// Goose defaults that come from the scenario's `[load]` table.
#[derive(Clone, Copy, Debug)]
pub struct Defaults {
    pub running_metrics_s: usize,
    pub request_timeout: Duration,
}

/// The run's shape as goose will resolve it: the users' start and the run time, from the
/// user's arguments where given, else ours.
pub fn shape(
    args: &GooseArgs,
    users: Vec<(LoadPath, usize)>,
    ramp: Duration,
    run_time: Duration,
) -> Shape {
    let c = &args.config;
    let total: usize = users.iter().map(|(_, n)| n).sum();
    let ramp = if let Some(t) = c
        .increase_time
        .as_deref()
        .and_then(goose::util::parse_timespan)
    {
        Duration::from_secs(t as u64)
    } else if let Some(rate) = c
        .increase_rate
        .as_deref()
        .and_then(|r| r.parse::<f64>().ok())
        .filter(|r| *r > 0.0)
    {
        // Goose refuses rates below one user a day; a week caps the wait either way.
        Duration::try_from_secs_f64(total as f64 / rate)
            .unwrap_or(Duration::MAX)
            .min(Duration::from_secs(7 * 86_400))
    } else {
        ramp
    };
    let run_time = if args.own_plan || args.own_iterations {
        None
    } else {
        Some(
            c.run_time
                .as_deref()
                .and_then(goose::util::parse_timespan)
                .map_or(run_time, |s| Duration::from_secs(s as u64)),
        )
    };
    Shape {
        users,
        ramp,
        run_time,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_follow_the_shares_and_every_path_gets_one() {
        let w = [
            (LoadPath::SimplifiedPhone, 0.5),
            (LoadPath::Standard, 0.3),
            (LoadPath::WrongCode, 0.2),
        ];
        assert_eq!(
            allocate(&w, 10),
            vec![
                (LoadPath::SimplifiedPhone, 5),
                (LoadPath::Standard, 3),
                (LoadPath::WrongCode, 2)
            ]
        );
        let small = allocate(&w, 1);
        assert!(small.iter().all(|(_, n)| *n == 1), "{small:?}");
        let w = [
            (LoadPath::SimplifiedPhone, 0.98),
            (LoadPath::Standard, 0.01),
            (LoadPath::WrongCode, 0.01),
        ];
        let a = allocate(&w, 100);
        assert_eq!(a.iter().map(|(_, n)| n).sum::<usize>(), 100, "{a:?}");
        assert_eq!(a[1].1, 1);
        assert!(allocate(&[], 5).is_empty());
    }

    #[test]
    fn goose_arguments_are_goose_s_and_host_is_ours() {
        let a = parse(&["-u".into(), "7".into(), "-t".into(), "30s".into()]).unwrap();
        assert_eq!(a.config.users, Some(7));
        let s = shape(
            &a,
            vec![(LoadPath::Standard, 7)],
            Duration::from_secs(2),
            Duration::from_secs(60),
        );
        assert_eq!(s.run_time, Some(Duration::from_secs(30)));
        assert_eq!(s.ramp, Duration::from_secs(2));
        let e = parse(&["-H".into(), "http://x".into()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("--host"), "{e}");
        let e = parse(&["--bogus".into()]).unwrap_err().to_string();
        assert!(e.contains("bogus"), "{e}");
        let a = parse(&["--iterations".into(), "3".into()]).unwrap();
        assert!(a.own_iterations);
        let s = shape(&a, vec![], Duration::ZERO, Duration::from_secs(60));
        assert_eq!(s.run_time, None);
    }
}
