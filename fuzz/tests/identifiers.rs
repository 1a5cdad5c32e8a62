//! Fuzz target: the identifiers' parsers (SNILS, INN, passport series and number, division code,
//! phone, e-mail, names). None panics on any text; a parsed SNILS or phone reads back the same
//! from its canonical form.

mod support;

use esia_sim::mocks::ident::{
    parse_email, parse_passport_number, validate_name, DivisionCode, Inn, PassportSeries, Phone,
    Snils,
};
use proptest::prelude::*;

proptest! {
    #![proptest_config(support::config())]

    #[test]
    fn identifiers(text in support::text_from(support::corpus("identifiers"))) {
        if let Ok(s) = Snils::parse(&text) {
            prop_assert_eq!(Snils::parse(&s.canonical()).ok(), Some(s));
        }
        if let Ok(p) = Phone::parse(&text) {
            prop_assert_eq!(Phone::parse(&p.canonical()).ok(), Some(p));
        }
        let _ = Inn::parse(&text);
        let _ = PassportSeries::parse(&text);
        let _ = parse_passport_number(&text);
        let _ = DivisionCode::parse(&text);
        let _ = parse_email(&text);
        let _ = validate_name(&text);
    }
}
