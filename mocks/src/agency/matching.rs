//! How an agency matches what a citizen typed against the record it holds: names compared
//! without regard to case, `ё`/`е`, surrounding or repeated spaces and the kind of dash;
//! identifiers compared by their digits alone (`123-456-789 64` is `12345678964`).
//!
//! Both comparisons walk the strings without allocating.

/// Whether two names are the same once folded (trimmed, lower case, `ё` as `е`, runs of
/// spaces as one, every dash as `-`).
pub fn same_text(a: &str, b: &str) -> bool {
    folded(a).eq(folded(b))
}

/// Whether two identifiers have the same digits in the same order, ignoring every other
/// character. Two strings without digits are not the same identifier.
pub fn same_digits(a: &str, b: &str) -> bool {
    fn digits(s: &str) -> impl Iterator<Item = u8> + '_ {
        s.bytes().filter(u8::is_ascii_digit)
    }
    digits(a).next().is_some() && digits(a).eq(digits(b))
}

/// The characters of `s` in the folded form [`same_text`] compares.
fn folded(s: &str) -> impl Iterator<Item = char> + '_ {
    let mut in_space = false;
    s.trim()
        .chars()
        .flat_map(char::to_lowercase)
        .filter_map(move |c| {
            if c.is_whitespace() {
                let first = !in_space;
                in_space = true;
                first.then_some(' ')
            } else {
                in_space = false;
                Some(match c {
                    'ё' => 'е',
                    '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
                    other => other,
                })
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fold_case_yo_spaces_and_dashes() {
        assert!(same_text("Семёнов", "семенов"));
        assert!(same_text("  ПЁТР ", "Петр"));
        assert!(same_text("Римского  Корсакова", "римского корсакова"));
        assert!(same_text("Салтыков–Щедрин", "Салтыков-Щедрин"));
        assert!(same_text("O'Neil", "o'neil"));
        assert!(same_text("", "  "));
        assert!(!same_text("Иванов", "Иванова"));
        assert!(!same_text("Иван Ов", "Иванов"));
    }

    #[test]
    fn identifiers_compare_by_digits() {
        assert!(same_digits("123-456-789 64", "12345678964"));
        assert!(same_digits("45 12", "4512"));
        assert!(!same_digits("4512", "4513"));
        assert!(!same_digits("4512", "45120"));
        assert!(!same_digits("", ""));
        assert!(!same_digits("abc", "-"));
    }
}
