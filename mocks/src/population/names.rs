//! Russian streets, districts, mail domains and authorities (a `fake` generator for streets),
//! the female form of a surname and the Latin transliteration of e-mail addresses.
//!
//! The names themselves (surnames, first names, patronymics) are drawn by [`super::naming`]
//! from the data files. Surnames are stored in the male form; the female form follows the rule
//! of DOMAIN.md (-ов/-ев/-ин -> +а, -ский/-цкий -> -ская/-цкая, -ой/-ый/-ий -> -ая; -ко, -ук,
//! -их/-ых, -ич and foreign names do not change).

use fake::{Dummy, RngExt};

pub const STREETS: &[&str] = &[
    "ул. Ленина",
    "ул. Советская",
    "ул. Мира",
    "ул. Гагарина",
    "ул. Молодёжная",
    "ул. Школьная",
    "ул. Садовая",
    "ул. Лесная",
    "ул. Набережная",
    "ул. Центральная",
    "пр-т Победы",
    "ул. Пушкина",
    "ул. Кирова",
    "ул. Октябрьская",
    "ул. Комсомольская",
    "ул. Строителей",
    "ул. Первомайская",
    "ул. Зелёная",
    "ул. Заречная",
    "ул. Полевая",
    "ул. Чехова",
    "ул. Горького",
    "ул. Маяковского",
    "пр-т Ленина",
    "ул. Новая",
    "ул. Южная",
    "ул. Северная",
    "ул. Луговая",
    "ул. Победы",
    "бул. Энтузиастов",
    "ул. Космонавтов",
    "ул. Свободы",
    "ул. Дружбы",
    "пер. Почтовый",
    "ул. Юбилейная",
    "ул. Красноармейская",
];

pub const DISTRICTS: &[(&str, &str)] = &[
    // (adjective in the prepositional "в ... районе", in the dative "по ... району")
    ("Центральном", "Центральному"),
    ("Ленинском", "Ленинскому"),
    ("Октябрьском", "Октябрьскому"),
    ("Советском", "Советскому"),
    ("Кировском", "Кировскому"),
    ("Заводском", "Заводскому"),
    ("Железнодорожном", "Железнодорожному"),
    ("Фрунзенском", "Фрунзенскому"),
    ("Калининском", "Калининскому"),
    ("Московском", "Московскому"),
    ("Приморском", "Приморскому"),
];

pub const MAIL_DOMAINS: &[(&str, u32)] = &[
    ("mail.ru", 38),
    ("yandex.ru", 30),
    ("gmail.com", 18),
    ("bk.ru", 5),
    ("rambler.ru", 4),
    ("inbox.ru", 3),
    ("list.ru", 2),
];

pub const UKEP_ISSUERS: &[&str] = &[
    "АО «ПФ «СКБ Контур»",
    "ООО «Компания «Тензор»",
    "АО «Калуга Астрал»",
    "ООО «Такском»",
    "АО «Аналитический центр»",
];

pub const UEC_ISSUER: &str = "ОАО «Универсальная электронная карта»";

/// The female form of a surname given in the male form.
pub fn feminine_surname(male: &str) -> String {
    for (from, to) in [
        ("ский", "ская"),
        ("цкий", "цкая"),
        ("ской", "ская"),
        ("ой", "ая"),
        ("ый", "ая"),
        ("ий", "ая"),
    ] {
        if let Some(stem) = male.strip_suffix(from) {
            return format!("{stem}{to}");
        }
    }
    if ["ов", "ев", "ёв", "ин", "ын"]
        .iter()
        .any(|e| male.ends_with(e))
    {
        return format!("{male}а");
    }
    male.to_string()
}

/// Latin transliteration of a Cyrillic text, lower case, for e-mail addresses.
pub fn transliterate(s: &str, out: &mut String) {
    for c in s.chars() {
        // Cyrillic capitals are 32 code points below their small letters; Ё is apart.
        let c = match c {
            'А'..='Я' => char::from_u32(c as u32 + 32).unwrap_or(c),
            'Ё' => 'ё',
            c => c.to_ascii_lowercase(),
        };
        let latin = match c {
            'а' => "a",
            'б' => "b",
            'в' => "v",
            'г' => "g",
            'д' => "d",
            'е' | 'ё' | 'э' => "e",
            'ж' => "zh",
            'з' => "z",
            'и' => "i",
            'й' | 'ы' => "y",
            'к' => "k",
            'л' => "l",
            'м' => "m",
            'н' => "n",
            'о' => "o",
            'п' => "p",
            'р' => "r",
            'с' => "s",
            'т' => "t",
            'у' => "u",
            'ф' => "f",
            'х' => "kh",
            'ц' => "ts",
            'ч' => "ch",
            'ш' => "sh",
            'щ' => "shch",
            'ъ' | 'ь' => "",
            'ю' => "yu",
            'я' => "ya",
            c if c.is_ascii_alphanumeric() => {
                out.push(c);
                continue;
            }
            _ => "",
        };
        // One to four ASCII letters: pushed one by one, not by a `memcpy` call each.
        for b in latin.bytes() {
            out.push(b as char);
        }
    }
}

/// Picks one item of a non-empty slice.
pub(crate) fn pick<T: Copy, R: RngExt + ?Sized>(items: &[T], rng: &mut R) -> T {
    items[rng.random_range(0..items.len())]
}

/// A street of a Russian town, `ул. Ленина`.
pub struct Street;

impl Dummy<Street> for &'static str {
    fn dummy_with_rng<R: RngExt + ?Sized>(_: &Street, rng: &mut R) -> Self {
        pick(STREETS, rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn female_surnames_follow_the_rule() {
        for (m, f) in [
            ("Иванов", "Иванова"),
            ("Соловьёв", "Соловьёва"),
            ("Ильин", "Ильина"),
            ("Островский", "Островская"),
            ("Троицкий", "Троицкая"),
            ("Луговской", "Луговская"),
            ("Толстой", "Толстая"),
            ("Шевченко", "Шевченко"),
            ("Черных", "Черных"),
            ("Ким", "Ким"),
            ("Мельничук", "Мельничук"),
            ("Заболотный", "Заболотная"),
            ("Непомнящий", "Непомнящая"),
            ("Станкевич", "Станкевич"),
        ] {
            assert_eq!(feminine_surname(m), f);
        }
    }

    #[test]
    fn transliteration_is_plain_ascii() {
        let mut s = String::new();
        transliterate("Щербакова Юлия-Ёлкина", &mut s);
        assert_eq!(s, "shcherbakovayuliyaelkina");
    }
}
