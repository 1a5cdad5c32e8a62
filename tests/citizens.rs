//! `esia-sim citizens` as a user runs it: reproducible bytes, prefixes, formats, and clear
//! errors for bad arguments.

use std::process::{Command, Output};

fn esia_sim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_esia-sim"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stdout_of(args: &[&str]) -> String {
    let out = esia_sim(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

#[test]
fn same_seed_same_bytes_and_smaller_counts_are_prefixes() {
    let big = stdout_of(&["citizens", "--count", "300", "--seed", "7"]);
    let again = stdout_of(&["citizens", "--count", "300", "--seed", "7"]);
    assert_eq!(big, again);
    let small = stdout_of(&["citizens", "--count", "10", "--seed", "7"]);
    assert!(big.starts_with(&small));
    assert_eq!(big.lines().count(), 300);
    let slice = stdout_of(&["citizens", "--from", "5", "--count", "5", "--seed", "7"]);
    let lines: Vec<&str> = big.lines().collect();
    assert_eq!(slice, lines[5..10].join("\n") + "\n");
    let other = stdout_of(&["citizens", "--count", "10", "--seed", "8"]);
    assert_ne!(small, other);
}

#[test]
fn jsonl_records_carry_the_design_fields() {
    let out = stdout_of(&[
        "citizens", "--count", "200", "--seed", "3", "--format", "jsonl",
    ]);
    let mut with_signature = 0;
    for (i, line) in out.lines().enumerate() {
        let v: serde_json::Value = serde_json::from_str(line).expect("each line is JSON");
        assert_eq!(v["id"], i as u64);
        for key in [
            "surname",
            "name",
            "patronymic",
            "gender",
            "birth_date",
            "birth_place",
            "citizenship",
            "snils",
            "inn",
            "passport",
            "address",
            "traits",
        ] {
            assert!(!v[key].is_null(), "record {i} lacks {key}: {line}");
        }
        for key in [
            "series",
            "number",
            "issue_date",
            "issued_by",
            "division_code",
        ] {
            assert!(
                v["passport"][key].is_string(),
                "record {i} passport lacks {key}"
            );
        }
        assert!(
            v["phone"].is_string() || v["email"].is_string(),
            "record {i} has no contact"
        );
        if let Some(sig) = v.get("signature") {
            with_signature += 1;
            assert!(["ukep", "uec"].contains(&sig["kind"].as_str().unwrap()));
        }
        let snils = v["snils"].as_str().unwrap();
        assert!(
            esia_sim::mocks::ident::Snils::parse(snils).is_ok(),
            "{snils}"
        );
    }
    assert!(with_signature > 0, "some citizens hold e-signatures");
}

#[test]
fn csv_has_one_header_and_a_row_per_citizen() {
    let out = stdout_of(&["citizens", "-n", "50", "--format", "csv"]);
    let mut reader = csv::Reader::from_reader(out.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert!(headers.iter().any(|h| h == "passport_series"));
    assert!(headers.iter().any(|h| h == "traits_channel"));
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 50);
    assert!(rows.iter().all(|r| r.len() == headers.len()));
}

#[test]
fn writes_to_a_file() {
    let dir = std::env::temp_dir().join(format!("esia-sim-citizens-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("people.jsonl");
    let out = esia_sim(&["citizens", "-n", "20", "--out", path.to_str().unwrap()]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    let written = std::fs::read_to_string(&path).unwrap();
    assert_eq!(written, stdout_of(&["citizens", "-n", "20"]));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_arguments_get_a_message_and_a_nonzero_exit() {
    let cases: &[(&[&str], &str)] = &[
        (&["citizens", "--count", "many"], "--count"),
        (&["citizens", "--count", "-5"], "-5"),
        (&["citizens", "--format", "xml"], "xml"),
        (
            &["citizens", "--out", "/nonexistent-dir/x.jsonl"],
            "cannot create /nonexistent-dir/x.jsonl",
        ),
        (&["citizens", "--count", "1000000000000"], "at most"),
        (
            &["citizens", "--from", "18446744073709551615", "--count", "2"],
            "overflows",
        ),
        (&["no-such-command"], "no-such-command"),
    ];
    for (args, needle) in cases {
        let out = esia_sim(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(
            stderr.contains(needle),
            "{args:?}: stderr does not mention {needle:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    }
}

#[test]
fn a_reader_that_stops_early_ends_the_run_quietly() {
    // `esia-sim simulate | head -0`: the pipe is closed before the summary is printed.
    let dir = std::env::temp_dir().join(format!("esia-pipe-{}", std::process::id()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_esia-sim"))
        .args(["simulate", "--citizens", "20000", "--quiet", "--out"])
        .arg(&dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("esia-sim starts");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("esia-sim ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.status.success(), "{:?} {stderr}", out.status);
    assert!(
        dir.join("funnel.json").exists(),
        "the report is written first"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--stats` prints the three tables with their sources' shares, the same bytes on every run
/// (the slices of every core merge exactly).
#[test]
fn stats_print_surnames_first_names_by_decade_and_regional_shares() {
    let args = ["citizens", "--stats", "--count", "20000", "--seed", "2"];
    let out = stdout_of(&args);
    assert_eq!(out, stdout_of(&args));
    assert!(
        out.starts_with("Names of 20000 citizens of seed 2"),
        "{out}"
    );
    for section in [
        "Surnames, the ten commonest",
        "First names of men",
        "First names of women",
        "Regional naming",
        "Республика Татарстан",
        "1960s",
    ] {
        assert!(out.contains(section), "{section} missing:\n{out}");
    }
    // The commonest surname of the source (Zhuravlev's first rank) leads at this size.
    let first_row = out
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("rank"))
        .nth(1)
        .unwrap_or_default();
    assert!(first_row.contains("Смирнов"), "{first_row}");
}
