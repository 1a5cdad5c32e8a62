//! Fuzz target: scenario files (TOML) with `--set key=value` overrides, as `simulate`, `load`
//! and `serve --for-load` read them. The seeds are the project's own scenarios, mutated; the
//! overrides come from the corpus. None panics: a bad file or override is an error.

mod support;

use esia_sim::scenario::Scenario;
use proptest::prelude::*;

/// The project's scenario files, whole.
fn scenarios() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let mut texts: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                .collect()
        })
        .unwrap_or_default();
    texts.sort();
    texts
}

proptest! {
    #![proptest_config(support::config())]

    #[test]
    fn scenario_files(
        text in support::text_from(scenarios()),
        overrides in prop::collection::vec(support::text_from(support::corpus("overrides")), 0..3),
    ) {
        let _ = Scenario::parse(&text, "fuzz", &overrides);
    }
}
