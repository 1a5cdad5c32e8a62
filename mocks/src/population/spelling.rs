//! The passport's spelling of the republics' names: a name in its people's own letters (Tatar
//! and Bashkir ә ө ү җ ң һ ғ ҡ ҙ ҫ, Chechen and Avar Ӏ, Yakut ҕ ҥ һ ү) rewritten into the
//! Russian Cyrillic the internal passport writes, by the people's rule table in
//! `data/regional.txt` (the file names where the rules come from).
//!
//! A table holds letter classes, ordered rules `from to context` and exceptions. A word is read
//! left to right; at each letter the first rule whose `from` stands there and whose context
//! holds (in the national form) writes its `to`, and reading goes on after `from`; a letter no
//! rule takes is copied. The first letter of each word is then a capital. An exception is a
//! name whose passport form the registry offices settled otherwise than the rules give.

use std::collections::HashMap;

/// One position of a rule's context.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    /// The start (before `_`) or the end (after it) of the word.
    Edge,
    Letter(char),
    /// Index into [`Spelling::classes`].
    Class(usize),
}

#[derive(Clone, Debug)]
struct Rule {
    from: Vec<char>,
    to: String,
    /// The letters just before `from`, in reading order.
    before: Vec<Token>,
    /// The letters just after `from`, in reading order.
    after: Vec<Token>,
}

/// A people's rules for writing its names in the passport's Russian letters.
#[derive(Clone, Debug, Default)]
pub struct Spelling {
    /// (class name, its letters).
    classes: Vec<(char, Vec<char>)>,
    rules: Vec<Rule>,
    /// National form -> passport form, where the registry offices depart from the rules.
    exceptions: HashMap<&'static str, &'static str>,
}

/// The letters a rule may write: the Russian alphabet, small.
fn is_russian_small(c: char) -> bool {
    matches!(c, 'а'..='я' | 'ё')
}

impl Spelling {
    /// Reads a table: `class X letters` (X a Latin capital), `exception NATIONAL PASSPORT`, and
    /// rules `from to [before_after]` (`to` is `-` for nothing; in the context `^` and `$` are
    /// the word's edges, a Latin capital a class, anything else a letter). Rules write only
    /// small Russian letters.
    pub fn parse(lines: &[&'static str]) -> Result<Self, String> {
        let mut table = Self::default();
        for line in lines {
            let words: Vec<&'static str> = line.split_whitespace().collect();
            match words[..] {
                ["class", name, letters] => {
                    let mut chars = name.chars();
                    let (Some(name), None) = (chars.next(), chars.next()) else {
                        return Err(format!("`{line}`: a class is one Latin capital"));
                    };
                    if !name.is_ascii_uppercase() {
                        return Err(format!("`{line}`: a class is one Latin capital"));
                    }
                    table.classes.push((name, letters.chars().collect()));
                }
                ["exception", national, passport] => {
                    table.exceptions.insert(national, passport);
                }
                [from, to, ref context @ ..] if context.len() <= 1 => {
                    let to = if to == "-" { "" } else { to };
                    if let Some(c) = to.chars().find(|c| !is_russian_small(*c)) {
                        return Err(format!("`{line}`: writes {c}, not a small Russian letter"));
                    }
                    let (before, after) = match context.first() {
                        None => (Vec::new(), Vec::new()),
                        Some(context) => {
                            let (b, a) = context
                                .split_once('_')
                                .ok_or_else(|| format!("`{line}`: the context lacks `_`"))?;
                            (table.tokens(b, line)?, table.tokens(a, line)?)
                        }
                    };
                    if before.iter().skip(1).any(|t| *t == Token::Edge)
                        || after.iter().rev().skip(1).any(|t| *t == Token::Edge)
                    {
                        return Err(format!("`{line}`: an edge inside the context"));
                    }
                    table.rules.push(Rule {
                        from: from.chars().flat_map(char::to_lowercase).collect(),
                        to: to.to_string(),
                        before,
                        after,
                    });
                }
                _ => return Err(format!("`{line}`: not a class, an exception or a rule")),
            }
        }
        Ok(table)
    }

    fn tokens(&self, context: &str, line: &str) -> Result<Vec<Token>, String> {
        context
            .chars()
            .map(|c| match c {
                '^' | '$' => Ok(Token::Edge),
                c if c.is_ascii_uppercase() => self
                    .classes
                    .iter()
                    .position(|(name, _)| *name == c)
                    .map(Token::Class)
                    .ok_or_else(|| format!("`{line}`: no class {c}")),
                c => Ok(Token::Letter(c)),
            })
            .collect()
    }

    /// The name as the passport writes it: the exception if there is one, else the rules'.
    pub fn passport(&self, national: &str) -> String {
        match self.exceptions.get(national) {
            Some(passport) => passport.to_string(),
            None => self.by_rule(national),
        }
    }

    /// The exceptions, (national form, passport form).
    pub fn exceptions(&self) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
        self.exceptions.iter().map(|(n, p)| (*n, *p))
    }

    /// The name as the rules write it, exceptions aside.
    pub fn by_rule(&self, national: &str) -> String {
        let word: Vec<char> = national.chars().flat_map(char::to_lowercase).collect();
        let mut out = String::with_capacity(national.len());
        let mut i = 0;
        while i < word.len() {
            match self.rules.iter().find(|r| self.applies(r, &word, i)) {
                Some(rule) => {
                    out.push_str(&rule.to);
                    i += rule.from.len();
                }
                None => {
                    out.push(word[i]);
                    i += 1;
                }
            }
        }
        capitalize_words(&out)
    }

    fn applies(&self, rule: &Rule, word: &[char], at: usize) -> bool {
        let end = at + rule.from.len();
        if end > word.len() || word[at..end] != rule.from[..] {
            return false;
        }
        // Before: walk left from `at`; after: walk right from `end`.
        let mut pos = at;
        for token in rule.before.iter().rev() {
            let prev = pos.checked_sub(1).map(|p| word[p]);
            if !self.matches(token, prev) {
                return false;
            }
            pos = pos.saturating_sub(1);
        }
        rule.after
            .iter()
            .zip(end..)
            .all(|(token, pos)| self.matches(token, word.get(pos).copied()))
    }

    /// Whether the letter `c` (`None` past the word, or a hyphen or space) fits `token`.
    fn matches(&self, token: &Token, c: Option<char>) -> bool {
        let c = c.filter(|c| c.is_alphabetic());
        match (token, c) {
            (Token::Edge, c) => c.is_none(),
            (Token::Letter(l), Some(c)) => *l == c,
            (Token::Class(k), Some(c)) => self.classes[*k].1.contains(&c),
            (_, None) => false,
        }
    }
}

/// Each word's first letter a capital (after the start, a hyphen or a space).
fn capitalize_words(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut start = true;
    for c in s.chars() {
        if start && c.is_alphabetic() {
            out.extend(c.to_uppercase());
            start = false;
        } else {
            out.push(c);
            start = !c.is_alphabetic();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ident::validate_name;
    use crate::population::naming::naming;

    fn people(key: &str) -> &'static Spelling {
        &naming()
            .peoples
            .iter()
            .find(|p| p.key == key)
            .unwrap_or_else(|| panic!("no people {key}"))
            .spelling
    }

    /// Known pairs of national and passport forms, most from «Словарь личных имён народов
    /// РСФСР» (1979) and Саттаров's «Словарь татарских имён» (1981), which print the Russian
    /// form beside the national one; not all of them are in the lists.
    #[test]
    fn known_names_are_written_as_the_passport_writes_them() {
        let cases: &[(&str, &[(&str, &str)])] = &[
            (
                "tatar",
                &[
                    ("Гүзәл", "Гузель"),
                    ("Рәсим", "Расим"),
                    ("Җәлил", "Джалиль"),
                    ("Әлфия", "Альфия"),
                    ("Ләйсән", "Ляйсан"),
                    ("Миләүшә", "Миляуша"),
                    ("Гөлнара", "Гульнара"),
                    ("Айгөл", "Айгуль"),
                    ("Илдар", "Ильдар"),
                    ("Рамил", "Рамиль"),
                    ("Рөстәм", "Рустам"),
                    ("Таһир", "Тагир"),
                    ("Һади", "Хади"),
                    ("Энҗе", "Эндже"),
                    ("Миңнулла", "Миннулла"),
                    ("Булат", "Булат"),
                    ("Алсу", "Алсу"),
                    ("Чулпан", "Чулпан"),
                    ("Хәбибуллин", "Хабибуллин"),
                    ("Ләйлә", "Лейла"),
                ],
            ),
            (
                "bashkir",
                &[
                    ("Салауат", "Салават"),
                    ("Алһыу", "Алсу"),
                    ("Айһылыу", "Айсылу"),
                    ("Әлфиә", "Альфия"),
                    ("Зөлфиә", "Зульфия"),
                    ("Рәүшәниә", "Раушания"),
                    ("Ҡаһарманов", "Кагарманов"),
                    ("Сағитов", "Сагитов"),
                    ("Фәтҡуллин", "Фаткуллин"),
                    ("Ғәлин", "Галин"),
                    ("Гүзәл", "Гузель"),
                    ("Ләйсән", "Лейсан"),
                    ("Шаура", "Шаура"),
                ],
            ),
            (
                "chechen",
                &[
                    ("Хьава", "Хава"),
                    ("Хьасан", "Хасан"),
                    ("Ахьмад", "Ахмад"),
                    ("СаӀид", "Саид"),
                    ("Ӏайшат", "Айшат"),
                    ("Ӏумар", "Умар"),
                    ("Къадыров", "Кадыров"),
                ],
            ),
            (
                "dagestani",
                &[
                    ("ГӀали", "Али"),
                    ("СагӀид", "Саид"),
                    ("ХӀасан", "Гасан"),
                    ("ХӀусейн", "Гусейн"),
                    ("ПатӀимат", "Патимат"),
                    ("ГӀабдуллаев", "Абдуллаев"),
                ],
            ),
            (
                "yakut",
                &[
                    ("Күннэй", "Кюннэй"),
                    ("Ньургуһун", "Ньургусун"),
                    ("Сардаана", "Сардаана"),
                ],
            ),
        ];
        for (key, pairs) in cases {
            let spelling = people(key);
            for (national, passport) in *pairs {
                assert_eq!(spelling.passport(national), *passport, "{key} {national}");
                assert_eq!(validate_name(passport), Ok(()), "{passport}");
            }
        }
    }

    /// An exception is one: the rules alone would write the name otherwise.
    #[test]
    fn exceptions_differ_from_the_rules() {
        for p in &naming().peoples {
            for (national, passport) in p.spelling.exceptions() {
                assert_ne!(p.spelling.by_rule(national), passport, "{}", p.key);
            }
        }
    }

    #[test]
    fn contexts_edges_classes_and_capitals() {
        let table = Spelling::parse(&[
            "class V аеиоуә",
            "ә я л_",
            "ә е _л$",
            "ә а",
            "л ль V_$",
            "ӏ -",
            "һ г V_V",
            "һ х",
        ])
        .unwrap();
        assert_eq!(table.by_rule("Ләлә"), "Ляля");
        assert_eq!(table.by_rule("Гәл"), "Гель");
        assert_eq!(table.by_rule("Әлә-Һәл"), "Аля-Хель");
        assert_eq!(table.by_rule("ӀӀаһа"), "Ага");
        assert_eq!(table.by_rule("Лал Лал"), "Лаль Лаль");
        assert!(Spelling::parse(&["ә A"]).is_err());
        assert!(Spelling::parse(&["ә а Q_"]).is_err());
        assert!(Spelling::parse(&["ә а л"]).is_err());
        assert!(Spelling::parse(&["ә а ^л^_"]).is_err());
        assert!(Spelling::parse(&["ә"]).is_err());
    }
}
