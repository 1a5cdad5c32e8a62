//! Fuzz target: the `funnel.json` readers of `merge` (`load::report::read`) and `compare`
//! (`report::compare::read`), and what those subcommands do with what they read. A load run's
//! funnel.json is megabytes, so the seeds are small funnels built here through the funnel's own
//! recording API (`LoadFunnel::started`, `step`, `ended`, the timeline's events) and written by
//! the real writer, small simulate funnels, and the corpus (`corpus/funnels`, one document a
//! line); then mutated (a node dropped, given a wrong type or another number; the text cut, a
//! character inserted or replaced), or any JSON.
//!
//! Properties: no panic; a refusal is the reader's typed error with a message naming the file;
//! a valid funnel reads back to what was written, merges (as `esia-sim merge` does) into itself
//! alone, into the sum of two, and into a file that reads back; two funnels compare (as
//! `esia-sim compare` does) to a table that is written.

mod support;

use esia_sim::load::config::Thresholds;
use esia_sim::load::funnel::{Ending, LoadFunnel, RunInfo, Verdict};
use esia_sim::load::path::LoadPath;
use esia_sim::load::report::{self as load_report, ReportError, FUNNEL_JSON};
use esia_sim::load::timeline::Outcome;
use esia_sim::mocks::agency::duration::DurationMs;
use esia_sim::registry::Tier;
use esia_sim::report::compare::{self, CompareError, Counts, Source};
use proptest::prelude::*;
use proptest::sample::{select, Index};
use proptest::strategy::ValueTree;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A Unix second in the runs' range: the timelines' buckets are keyed by it.
const UNIX_S: u64 = 1_765_000_000;
const REASONS: &[&str] = &[
    "422 code_wrong",
    "code_not_received",
    "transport: operation timed out",
    "500 «внутренняя ошибка», \"quoted\"",
];
const EXITS: &[&str] = &["code_not_received", "gave_up_waiting", "documents_bound"];
const STEP_NAMES: &[&str] = &["01 register", "05 bank confirms", "03 confirm code", ""];
const GAUGES: &[&str] = &["esia_effects_queued", "esia_registry_accounts"];
/// The tier a journey held at its end (none, or one of the engine's).
const HELD: &[Option<Tier>] = &[
    None,
    Some(Tier::Simplified),
    Some(Tier::Standard),
    Some(Tier::Confirmed),
];
const OUTCOMES: &[Outcome] = &[
    Outcome::Success,
    Outcome::ExpectedFailure,
    Outcome::Unexpected4xx,
    Outcome::ServerError,
    Outcome::UnexpectedOther,
    Outcome::TransportError,
];

/// A float serde_json writes and reads back exactly (few decimal digits).
fn decimal(scale: f64) -> impl Strategy<Value = f64> {
    (0..100_000u32).prop_map(move |k| f64::from(k) / scale)
}

fn thresholds() -> impl Strategy<Value = Thresholds> {
    (
        decimal(10_000.0),
        prop_oneof![4 => 0..100_000u64, 1 => any::<u64>()],
        prop::collection::btree_map(
            select(STEP_NAMES).prop_map(str::to_owned),
            (0..10_000_000u64).prop_map(DurationMs),
            0..3,
        ),
        prop::option::of((0..100_000_000u64).prop_map(DurationMs)),
    )
        .prop_map(
            |(error_rate, request_p95, request_p95_by_step, journey_p95)| Thresholds {
                error_rate,
                request_p95,
                request_p95_by_step,
                journey_p95,
            },
        )
}

fn run_info() -> impl Strategy<Value = RunInfo> {
    (
        select(vec!["smoke", "base", "peak, «пик»"]),
        (
            select(vec!["closed", "open"]),
            select(vec!["fixed", "model", ""]),
        ),
        (0..1_000_000u64, 0..100_000u64, any::<u64>()),
        (decimal(100.0), decimal(10.0), decimal(1_000.0)),
        prop::collection::btree_map(select(LoadPath::ALL.to_vec()), 0..64usize, 0..3),
        prop::collection::vec(select(vec!["-t", "3s", "--users", "\"x\""]), 0..3),
    )
        .prop_map(
            |(scenario, (model, mix), (first, taken, seed), (rate, speedup, dur), users, args)| {
                RunInfo {
                    scenario: scenario.to_owned(),
                    target_kind: "in-process stand".to_owned(),
                    target: "http://127.0.0.1:8080".to_owned(),
                    mocks: "http://127.0.0.1:8080/mocks".to_owned(),
                    shard: "0/1".to_owned(),
                    citizens: [first, first + taken],
                    citizens_taken: taken,
                    seed,
                    model: model.to_owned(),
                    mix: mix.to_owned(),
                    arrival_rate: rate,
                    users,
                    speedup,
                    hash_profile: "fast".to_owned(),
                    started_at: "2026-12-07T09:00:00Z".to_owned(),
                    duration_s: dur,
                    goose_args: args.into_iter().map(str::to_owned).collect(),
                    notes: vec!["a note".to_owned()],
                }
            },
        )
}

/// One journey event: which path, what happened (0 started, 1 a step, 2 the end), and its
/// figures.
type Event = (
    Index,
    u8,
    Index,
    Vec<u64>,
    u64,
    Option<&'static str>,
    (u8, &'static str, Option<Tier>),
    Vec<(Tier, u64)>,
    Option<u64>,
);

fn event() -> impl Strategy<Value = Event> {
    (
        any::<Index>(),
        0..3u8,
        any::<Index>(),
        prop::collection::vec(0..5_000_000u64, 0..3),
        0..600_000u64,
        prop::option::of(select(REASONS)),
        (0..4u8, select(EXITS), select(HELD)),
        prop::collection::vec((select(Tier::ALL.to_vec()), 0..600_000u64), 0..2),
        prop::option::of(0..10_000u64),
    )
}

/// One timeline event: seconds after [`UNIX_S`], what (0 started, 1 ended, 2 tier reached,
/// 3 gauge, 4 step), and its figures.
type Tick = (
    u64,
    u8,
    (bool, bool),
    &'static str,
    f64,
    Vec<(u64, Outcome)>,
);

fn tick() -> impl Strategy<Value = Tick> {
    (
        prop_oneof![4 => 0..200u64, 1 => 0..4_000u64],
        0..5u8,
        any::<(bool, bool)>(),
        select(STEP_NAMES),
        decimal(100.0),
        prop::collection::vec((0..5_000_000u64, select(OUTCOMES)), 0..3),
    )
}

/// A small load funnel, recorded as a run records one.
fn load_funnel() -> impl Strategy<Value = LoadFunnel> {
    load_funnel_with(prop::collection::vec(tick(), 0..12))
}

/// A small load funnel whose timeline has events one time in four. A funnel.html draws six or
/// seven SVG charts of a timeline that has any (plotters: most of what writing a funnel costs),
/// so `valid_funnels_round_trip_merge_and_compare`, which writes four funnels a case, draws
/// its funnels from this.
fn load_funnel_timeline_one_in_four() -> impl Strategy<Value = LoadFunnel> {
    load_funnel_with(prop_oneof![
        3 => Just(Vec::new()),
        1 => prop::collection::vec(tick(), 1..12),
    ])
}

/// A small load funnel, recorded as a run records one, with the timeline events of `ticks`.
fn load_funnel_with(ticks: impl Strategy<Value = Vec<Tick>>) -> impl Strategy<Value = LoadFunnel> {
    (
        // One path, sometimes two.
        (
            select(LoadPath::ALL.to_vec()),
            prop::option::weighted(0.2, select(LoadPath::ALL.to_vec())),
        ),
        thresholds(),
        prop::collection::vec(run_info(), 0..3),
        prop::collection::vec(event(), 0..16),
        ticks,
    )
        .prop_map(|((path, second), thresholds, runs, events, ticks)| {
            let mut paths = vec![path];
            paths.extend(second.filter(|&p| p != path));
            let mut f = LoadFunnel::new(&paths, thresholds);
            f.runs = runs;
            for (at, kind, index, requests, ms, failure, (how, exit, tier), tiers, lag) in events {
                let path = paths[at.index(paths.len())];
                match kind {
                    0 => f.started(path, lag.map(Duration::from_millis)),
                    1 => {
                        let steps = f.paths[&path].steps.len();
                        if steps > 0 {
                            let d = Duration::from_millis(ms);
                            f.step(path, index.index(steps), &requests, d, failure);
                        }
                    }
                    _ => {
                        let ending = match how {
                            0 => Ending::Completed,
                            1 => Ending::Failed,
                            2 => Ending::InProgress,
                            _ => Ending::Exited(exit),
                        };
                        let tiers: Vec<(Tier, Duration)> = tiers
                            .into_iter()
                            .map(|(t, ms)| (t, Duration::from_millis(ms)))
                            .collect();
                        f.ended(path, ending, tier, &tiers, Duration::from_millis(ms));
                    }
                }
            }
            for (dt, kind, (completed, failed), name, value, requests) in ticks {
                let t = UNIX_S + dt;
                match kind {
                    0 => f.timeline.started(t),
                    1 => f.timeline.ended(t, completed, failed),
                    2 => f.timeline.reached(t, Tier::ALL[dt as usize % 3].as_str()),
                    3 => f.timeline.gauge(t, GAUGES[dt as usize % 2], value),
                    _ => f.timeline.step(t, name, &requests),
                }
            }
            f
        })
}

/// A small `funnel.json` of `esia-sim simulate` (the part `compare` reads, and one more key).
fn simulate_funnel() -> impl Strategy<Value = Value> {
    let paths: Vec<&'static str> = esia_sim::funnel::Path::ALL
        .iter()
        .map(|p| p.as_str())
        .collect();
    (
        select(vec!["base", "peak"]),
        0..100_000u64,
        prop::collection::vec((select(paths), 0..100_000u64), 0..4),
        [0..100_000u64, 0..100_000u64, 0..100_000u64],
        prop::collection::vec((select(EXITS), 0..1_000u64), 0..3),
    )
        .prop_map(|(name, citizens, paths, [s, t, c], exits)| {
            json!({
                "format": esia_sim::report::figures::FORMAT,
                "info": { "scenario_name": name, "seed": 7 },
                "overall": {
                    "path": "all",
                    "citizens": citizens,
                    "steps": [
                        { "step": "simplified", "reached": s },
                        { "step": "standard", "reached": t },
                        { "step": "confirmed", "reached": c },
                    ],
                },
                "paths": paths
                    .iter()
                    .map(|(p, n)| json!({ "path": p, "citizens": n }))
                    .collect::<Vec<_>>(),
                "exits_by_reason": exits
                    .iter()
                    .map(|(r, n)| json!({ "reason": r, "count": n }))
                    .collect::<Vec<_>>(),
            })
        })
}

/// The document `load::report::write` leaves, as a value: the funnel with its totals and
/// verdicts beside it.
fn document(f: &LoadFunnel) -> Value {
    let thresholds: Vec<Verdict> = f.judge();
    json!({
        "totals": f.totals(),
        "passed": thresholds.iter().all(|v| v.pass),
        "thresholds": thresholds,
        "funnel": f,
    })
}

/// A change to one node of a document.
#[derive(Clone, Debug)]
enum Mutation {
    /// Drop a key of an object or an element of an array.
    Drop(Index),
    /// Put another value (often of another type) in its place.
    Replace(Value),
    /// Another number: `n + 1`, `n - 1`, `2n`, `-n`.
    Nudge(u8),
}

fn awkward_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        select(vec![
            Value::Null,
            json!(true),
            json!(""),
            json!("x"),
            json!("1h 30m"),
            json!("esia-sim load funnel 1"),
            json!(0),
            json!(1),
            json!(-1),
            json!(1.5),
            json!(-0.0),
            json!(1e300),
            json!(u64::MAX),
            json!(u64::MAX - 1),
            json!(1u64 << 63),
            json!((1u64 << 63) + 1),
            json!(i64::MIN),
            json!(u32::MAX),
            json!([]),
            json!({}),
            json!([[1, 1]]),
            json!([[u64::MAX, u64::MAX]]),
        ]),
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
    ]
}

fn mutation() -> impl Strategy<Value = (Index, Mutation)> {
    (
        any::<Index>(),
        prop_oneof![
            1 => any::<Index>().prop_map(Mutation::Drop),
            2 => awkward_value().prop_map(Mutation::Replace),
            1 => (0..4u8).prop_map(Mutation::Nudge),
        ],
    )
}

fn count_nodes(v: &Value) -> usize {
    1 + match v {
        Value::Array(a) => a.iter().map(count_nodes).sum(),
        Value::Object(o) => o.values().map(count_nodes).sum(),
        _ => 0,
    }
}

/// The node at `*left` (preorder), counting down.
fn node_mut<'a>(v: &'a mut Value, left: &mut usize) -> Option<&'a mut Value> {
    if *left == 0 {
        return Some(v);
    }
    *left -= 1;
    match v {
        Value::Array(a) => a.iter_mut().find_map(|c| node_mut(c, left)),
        Value::Object(o) => o.values_mut().find_map(|c| node_mut(c, left)),
        _ => None,
    }
}

fn apply(doc: &mut Value, at: &Index, how: &Mutation) {
    let mut left = at.index(count_nodes(doc));
    let Some(node) = node_mut(doc, &mut left) else {
        return;
    };
    match how {
        Mutation::Drop(i) => match node {
            Value::Array(a) if !a.is_empty() => {
                a.remove(i.index(a.len()));
            }
            Value::Object(o) if !o.is_empty() => {
                let key = o.keys().nth(i.index(o.len())).cloned();
                if let Some(key) = key {
                    o.remove(&key);
                }
            }
            _ => *node = Value::Null,
        },
        Mutation::Replace(v) => *node = v.clone(),
        Mutation::Nudge(k) => {
            if let Some(n) = node.as_u64() {
                *node = match k {
                    0 => json!(n.wrapping_add(1)),
                    1 => json!(n.wrapping_sub(1)),
                    2 => json!(n.wrapping_mul(2)),
                    _ => json!(-i64::try_from(n).unwrap_or(i64::MAX)),
                };
            } else if let Some(x) = node.as_f64() {
                *node = json!(match k {
                    0 => x + 1.0,
                    1 => x - 1.0,
                    2 => x * 2.0,
                    _ => -x,
                });
            }
        }
    }
}

/// `n` values of `strategy`, the same every run: drawn once, not for each case, as a valid
/// funnel costs milliseconds to build and to write (`valid_funnels_round_trip_merge_and_compare`
/// draws a new one each case).
fn pool<S: Strategy>(strategy: S, n: usize) -> Vec<S::Value> {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    (0..n)
        .map(|_| strategy.new_tree(&mut runner).expect("a value").current())
        .collect()
}

/// A document to mutate: one of 48 small load funnels as written, one of 16 simulate funnels,
/// or a corpus line.
fn base_document() -> BoxedStrategy<Value> {
    let mut documents: Vec<Value> = pool(load_funnel(), 48).iter().map(document).collect();
    documents.extend(pool(simulate_funnel(), 16));
    documents.extend(
        support::corpus("funnels")
            .iter()
            .filter_map(|line| serde_json::from_str(line).ok()),
    );
    select(documents).boxed()
}

/// Any JSON, small, with the readers' key names, often under a load or simulate format.
fn any_json() -> impl Strategy<Value = Value> {
    let keys = select(vec![
        "funnel",
        "format",
        "paths",
        "runs",
        "thresholds",
        "timeline",
        "bucket_s",
        "buckets",
        "hdr",
        "started",
        "steps",
        "info",
        "overall",
        "citizens",
    ]);
    let leaf = prop_oneof![
        awkward_value(),
        ".{0,8}".prop_map(Value::from),
        any::<f64>().prop_map(|x| json!(x)),
    ];
    let tree = leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(keys.clone(), inner, 0..6).prop_map(|m| Value::Object(
                m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
            )),
        ]
    });
    (tree, 0..3u8).prop_map(|(v, wrap)| match wrap {
        0 => v,
        1 => json!({ "funnel": { "format": esia_sim::load::funnel::FORMAT, "paths": v } }),
        _ => json!({ "format": esia_sim::report::figures::FORMAT, "overall": v }),
    })
}

/// The text of a `funnel.json` given to the readers: a base document with one to three
/// mutations of its nodes, or its text cut or spliced, or any JSON, or a corpus line cut or
/// spliced, or any text.
fn input() -> impl Strategy<Value = String> {
    let text = |v: &Value, pretty: bool| {
        if pretty {
            serde_json::to_string_pretty(v).expect("a Value serializes")
        } else {
            v.to_string()
        }
    };
    let base = base_document();
    prop_oneof![
        4 => (base.clone(), prop::collection::vec(mutation(), 1..4), any::<bool>()).prop_map(
            move |(mut doc, mutations, pretty)| {
                for (at, how) in &mutations {
                    apply(&mut doc, at, how);
                }
                text(&doc, pretty)
            }
        ),
        3 => (base, any::<Index>(), any::<char>(), 0..3u8, any::<bool>()).prop_map(
            move |(doc, at, c, how, pretty)| support::cut_or_splice(&text(&doc, pretty), &at, c, how)
        ),
        2 => any_json().prop_map(|v| v.to_string()),
        1 => support::text_from(support::corpus("funnels")),
    ]
}

/// A folder of its own for each test (they run side by side in one process), new for each
/// case and removed at its end ([`clear`]): files written again in place case after case cost
/// disk writes on ext4 (a file truncated and written again is flushed when closed), and a run
/// in /tmp waited on the disk four times as long as it computed; new files that are removed
/// before they are flushed cost none.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("esia-fuzz-funnels-{}-{test}", std::process::id()));
    if let Err(e) = std::fs::remove_dir_all(&dir) {
        assert_eq!(e.kind(), std::io::ErrorKind::NotFound, "{e}");
    }
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    dir
}

/// Removes a case's folder (a failed case leaves its own, for the next case to remove).
fn clear(dir: &Path) {
    std::fs::remove_dir_all(dir).expect("the scratch folder is removed");
}

/// What `esia-sim merge` does with the funnels it read (cli/load.rs `merge`): fold them into
/// an empty funnel with the first one's thresholds, judge, print the summary, write the files.
fn merge_as_the_cli(funnels: &[&LoadFunnel], out: &Path) -> LoadFunnel {
    let mut merged: Option<LoadFunnel> = None;
    for f in funnels {
        match &mut merged {
            None => {
                let mut m = LoadFunnel::new(&[], f.thresholds.clone());
                m.merge(f);
                merged = Some(m);
            }
            Some(m) => m.merge(f),
        }
    }
    let merged = merged.expect("at least one funnel");
    let files = load_report::write(out, &merged).expect("a merged funnel is written");
    assert_eq!(files.len(), 3);
    assert!(!load_report::summary(&merged).is_empty());
    let _ = merged.judge();
    merged
}

/// What `esia-sim compare` does with the two files it read (cli/compare.rs `run`).
fn compare_as_the_cli(a: Counts, b: Counts, out: &Path) {
    let c = compare::compare(a, b);
    for row in &c.rows {
        assert!(row.a_count > 0 || row.b_count > 0, "{row:?}");
    }
    compare::write(out, &c).expect("a comparison is written");
    assert!(!compare::summary(&c).is_empty());
}

/// `load::report::read` of `file`: the funnel, or its typed error with a message naming the
/// file.
fn read_load(file: &Path) -> Option<LoadFunnel> {
    match load_report::read(file) {
        Ok(f) => Some(f),
        Err(e) => {
            let name = file.display().to_string();
            match &e {
                ReportError::Parse { path, message } => {
                    assert_eq!(path, &name);
                    assert!(!message.is_empty(), "{e:?}");
                }
                ReportError::Io { path, .. } => assert_eq!(path, &name),
            }
            assert!(e.to_string().starts_with(&name), "{e}");
            None
        }
    }
}

/// `report::compare::read` of `file`: its counts, or its typed error naming the file.
fn read_compare(file: &Path) -> Option<Counts> {
    match compare::read(file) {
        Ok(c) => {
            assert!(c.citizens > 0, "{c:?}");
            Some(c)
        }
        Err(e) => {
            match &e {
                CompareError::Read { path, .. }
                | CompareError::NotJson { path, .. }
                | CompareError::Foreign { path, .. }
                | CompareError::Malformed { path, .. }
                | CompareError::Empty { path } => assert_eq!(path, file),
                other => panic!("a reader's error that is not a reading one: {other:?}"),
            }
            assert!(e.to_string().contains(&file.display().to_string()), "{e}");
            None
        }
    }
}

fn write_json(dir: &Path, name: &str, v: &Value) -> PathBuf {
    let file = dir.join(name);
    std::fs::write(&file, v.to_string()).expect("written");
    file
}

proptest! {
    #![proptest_config(support::config())]

    /// Valid funnels: what `load` writes reads back the same, through either reader; `merge`
    /// of one is that one, of two is their sum, and what it writes reads back; `compare` of
    /// any two (load or simulate) is written.
    #[test]
    fn valid_funnels_round_trip_merge_and_compare(
        a in load_funnel_timeline_one_in_four(),
        b in load_funnel_timeline_one_in_four(),
        sim in simulate_funnel(),
    ) {
        let dir = scratch("valid");
        let (dir_a, dir_b, merged_dir) = (dir.join("a"), dir.join("b"), dir.join("merged"));
        load_report::write(&dir_a, &a).expect("written");
        load_report::write(&dir_b, &b).expect("written");
        let (file_a, file_b) = (dir_a.join(FUNNEL_JSON), dir_b.join(FUNNEL_JSON));
        let read_a = load_report::read(&file_a).expect("a written funnel reads back");
        prop_assert_eq!(&read_a, &a);
        let read_b = load_report::read(&file_b).expect("a written funnel reads back");
        prop_assert_eq!(&read_b, &b);

        prop_assert_eq!(&merge_as_the_cli(&[&read_a], &merged_dir), &a);
        let merged = merge_as_the_cli(&[&read_a, &read_b], &merged_dir);
        let (ta, tb, tm) = (a.totals(), b.totals(), merged.totals());
        prop_assert_eq!(tm.started, ta.started + tb.started);
        prop_assert_eq!(tm.steps, ta.steps + tb.steps);
        prop_assert_eq!(tm.requests.count(), ta.requests.count() + tb.requests.count());
        prop_assert_eq!(merged.runs.len(), a.runs.len() + b.runs.len());
        let again = load_report::read(&merged_dir.join(FUNNEL_JSON)).expect("merged reads back");
        prop_assert_eq!(&again, &merged);

        let sim_file = write_json(&dir, "simulate.json", &sim);
        let counts: Vec<Option<Counts>> =
            [&file_a, &file_b, &sim_file].iter().map(|f| read_compare(f)).collect();
        for (c, started) in counts.iter().zip([ta.started, tb.started]) {
            prop_assert_eq!(c.as_ref().map_or(0, |c| c.citizens), started);
            if let Some(c) = c {
                prop_assert_eq!(c.source, Source::Load);
            }
        }
        prop_assert_eq!(
            counts[2].as_ref().map(|c| c.citizens),
            sim["overall"]["citizens"].as_u64().filter(|&n| n > 0)
        );
        let present: Vec<Counts> = counts.into_iter().flatten().collect();
        for (i, x) in present.iter().enumerate() {
            let y = &present[(i + 1) % present.len()];
            compare_as_the_cli(x.clone(), y.clone(), &dir.join("compare"));
        }
        clear(&dir);
    }

}

proptest! {
    #![proptest_config(support::config())]

    /// Any input: both readers read it or refuse it with their typed error; what they read,
    /// `merge` folds with a valid funnel and writes, and `compare` compares with one.
    #[test]
    fn any_funnel_json_is_read_or_refused(
        text in input(),
        valid in select(pool(load_funnel(), 16)),
    ) {
        let dir = scratch("any");
        let file = dir.join(FUNNEL_JSON);
        std::fs::write(&file, &text).expect("written");
        if let Some(f) = read_load(&file) {
            let merged = merge_as_the_cli(&[&f, &valid], &dir.join("merged"));
            let again = read_load(&dir.join("merged").join(FUNNEL_JSON));
            let again = again.expect("what merge writes, merge reads");
            prop_assert_eq!(again.totals().started, merged.totals().started);
        }
        if let Some(c) = read_compare(&file) {
            compare_as_the_cli(c.clone(), c.clone(), &dir.join("compare"));
            let mut valid = valid;
            valid.started(LoadPath::Standard, None);
            load_report::write(&dir.join("valid"), &valid).expect("written");
            let v = read_compare(&dir.join("valid").join(FUNNEL_JSON)).expect("a valid funnel");
            compare_as_the_cli(c, v, &dir.join("compare"));
        }
        clear(&dir);
    }
}
