//! What every target shares: the number of cases (`FUZZ_CASES`, default 10,000: the CI's short
//! run; fuzz/README.md gives the counts of the full runs) and the corpus of seeds.

use proptest::prelude::*;
use std::path::PathBuf;

/// Cases per target: `FUZZ_CASES`, else 10,000.
pub fn cases() -> u32 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

/// The proptest configuration of a target: [`cases`] cases, no failure persistence file (a
/// failure prints its minimal input; it goes into the corpus by hand).
pub fn config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// The seed inputs of `name` (fuzz/corpus/NAME, one a line).
pub fn corpus(name: &str) -> Vec<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(name);
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Text around the corpus: a seed, a seed with a mutation (a cut, a character inserted or
/// replaced), or any string.
pub fn text_from(seeds: Vec<String>) -> BoxedStrategy<String> {
    let seeds = if seeds.is_empty() {
        vec![String::new()]
    } else {
        seeds
    };
    let seed = proptest::sample::select(seeds);
    prop_oneof![
        2 => seed.clone(),
        4 => (seed.clone(), any::<prop::sample::Index>(), any::<char>(), 0..3u8).prop_map(
            |(s, at, c, how)| {
                let chars: Vec<char> = s.chars().collect();
                let i = if chars.is_empty() { 0 } else { at.index(chars.len() + 1) };
                let mut out: Vec<char> = chars.clone();
                match how {
                    0 => out.truncate(i),
                    1 => out.insert(i.min(out.len()), c),
                    _ => {
                        if i < out.len() {
                            out[i] = c;
                        }
                    }
                }
                out.into_iter().collect()
            }
        ),
        2 => ".{0,64}",
    ]
    .boxed()
}
