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
        4 => (seed.clone(), any::<prop::sample::Index>(), any::<char>(), 0..3u8)
            .prop_map(|(s, at, c, how)| cut_or_splice(&s, &at, c, how)),
        2 => ".{0,64}",
    ]
    .boxed()
}

/// `text` cut at `at` (`how` 0), or `c` inserted there (1) or put in place of the character
/// there (2).
pub fn cut_or_splice(text: &str, at: &prop::sample::Index, c: char, how: u8) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let i = at.index(chars.len() + 1);
    match how {
        0 => chars.truncate(i),
        1 => chars.insert(i, c),
        _ => {
            if i < chars.len() {
                chars[i] = c;
            }
        }
    }
    chars.into_iter().collect()
}
