//! Tests of the population: every record passes the validators, identifiers are unique, the
//! same seed gives the same people, and the mix looks like the configuration says.

use super::passport::milestone;
use super::*;
use crate::ident::{self, patronymic_gender};
use proptest::prelude::*;
use std::collections::HashSet;

/// Checks one record against every rule of DOMAIN.md, returning what is wrong.
pub(crate) fn check_record(c: &Citizen, epoch: NaiveDate) -> Result<(), String> {
    let ctx = |what: &str, e: &dyn std::fmt::Display| format!("citizen {}: {what} {e}", c.id);
    for (what, n) in [
        ("surname", &c.surname),
        ("name", &c.name),
        ("patronymic", &c.patronymic),
    ] {
        ident::validate_name(n).map_err(|e| ctx(what, &e))?;
    }
    if patronymic_gender(&c.patronymic) != Some(c.gender) {
        return Err(ctx("patronymic disagrees with gender:", &c.patronymic));
    }
    if c.gender == Gender::Female
        && super::naming::naming()
            .surnames
            .items
            .iter()
            .any(|m| *m == c.surname && names::feminine_surname(m) != *m)
    {
        return Err(ctx("female with a male surname:", &c.surname));
    }
    let snils = Snils::parse(&c.snils).map_err(|e| ctx("snils", &e))?;
    if snils.body() <= SNILS_UNCHECKED_MAX || snils.to_string() != c.snils {
        return Err(ctx(
            "snils outside the checked range or not in display form:",
            &c.snils,
        ));
    }
    Inn::parse(&c.inn).map_err(|e| ctx("inn", &e))?;
    let series = PassportSeries::parse(&c.passport.series).map_err(|e| ctx("series", &e))?;
    ident::parse_passport_number(&c.passport.number).map_err(|e| ctx("number", &e))?;
    let division =
        DivisionCode::parse(&c.passport.division_code).map_err(|e| ctx("division", &e))?;
    let region = crate::region::by_okato(series.okato).expect("parsed series has a region");
    if division.subject != region.subject || !c.inn.starts_with(&format!("{:02}", region.subject)) {
        return Err(ctx(
            "division code or INN region differs from the series region",
            &c.passport.division_code,
        ));
    }
    if region.name != c.address.region {
        return Err(ctx(
            "address region differs from the passport region",
            &c.address.region,
        ));
    }
    let age = age_at(c.birth_date, epoch);
    if !(passport::MIN_AGE..=passport::MAX_AGE).contains(&age) {
        return Err(ctx("age out of range:", &age));
    }
    let issue = c.passport.issue_date;
    let age_at_issue = age_at(c.birth_date, issue);
    if issue > epoch || age_at_issue < 14 {
        return Err(ctx("issue date impossible:", &issue));
    }
    let blank_year = 1900 + series.year2 as i32 + if series.year2 < 90 { 100 } else { 0 };
    if blank_year > issue.year()
        || blank_year < issue.year() - 2 && blank_year != 1997 && issue.year() > 2004
    {
        return Err(ctx(
            "blank year not within two years before the issue:",
            &c.passport.series,
        ));
    }
    if c.traits.passport_expired {
        // Holds the passport of the previous milestone: issued before the current one was due.
        if age < 20 || age_at_issue >= milestone(age) {
            return Err(ctx(
                "expired passport that is not expired, issued at",
                &age_at_issue,
            ));
        }
    } else if age_at_issue < milestone(age) {
        return Err(ctx(
            "current passport issued before its milestone, at",
            &age_at_issue,
        ));
    }
    if let Some(p) = &c.phone {
        let phone = Phone::parse(p).map_err(|e| ctx("phone", &e))?;
        if phone.to_string() != *p {
            return Err(ctx("phone not in +79XXXXXXXXX form", p));
        }
    }
    if let Some(e) = &c.email {
        ident::parse_email(e).map_err(|err| ctx("email", &err))?;
    }
    if c.phone.is_none() && c.email.is_none() {
        return Err(ctx("neither phone nor e-mail", &""));
    }
    if c.address.postcode.len() != 6 || !c.address.postcode.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ctx("postcode", &c.address.postcode));
    }
    if let Some(sig) = &c.signature {
        if sig.serial.len() != 40 || sig.valid_from >= sig.valid_to {
            return Err(ctx("signature", &sig.serial));
        }
        if sig.kind == CertKind::Uec
            && sig.valid_from >= NaiveDate::from_ymd_opt(2017, 1, 1).unwrap()
        {
            return Err(ctx("UEC issued after 2017-01-01:", &sig.valid_from));
        }
    }
    Ok(())
}

fn population(seed: u64) -> Population {
    Population::new(seed, PopulationConfig::default()).expect("default config is valid")
}

#[test]
fn every_citizen_passes_the_rules() {
    let pop = population(7);
    for c in pop.citizens(0..20_000) {
        if let Err(e) = check_record(&c, pop.config().epoch) {
            panic!("{e}\n{c:#?}");
        }
    }
}

/// Those named by a republic's people carry its names as the passport writes them: each
/// record passes the validators, its first name is one of the people's passport forms, and
/// names written from a national form (Гүзәл as Гузель) do reach the records.
#[test]
fn republics_names_reach_the_records_in_the_passports_spelling() {
    let pop = population(5);
    let naming = super::naming::naming();
    let (mut named, mut rewritten) = (0, 0);
    for i in 0..30_000 {
        let names = pop.names(i);
        let Some(p) = names.people else { continue };
        let people = &naming.peoples[p];
        let c = pop.citizen(i);
        assert_eq!(check_record(&c, pop.config().epoch), Ok(()));
        let listed = match c.gender {
            Gender::Male => people.male.items.iter().any(|m| m.name == c.name),
            Gender::Female => people.female.items.contains(&c.name.as_ref()),
        };
        assert!(listed, "{} {}: {}", people.key, c.id, c.name);
        let national = |s: &str| people.national.iter().any(|(n, _)| *n == s);
        assert!(!national(&c.name) && !national(&c.surname), "{c:?}");
        if people.national.iter().any(|(_, w)| *w == c.name) {
            rewritten += 1;
        }
        named += 1;
    }
    assert!(
        named > 300 && rewritten > 50,
        "{named} named, {rewritten} rewritten"
    );
}

#[test]
fn identifiers_are_unique() {
    let pop = population(1);
    let n = 100_000;
    let (mut snils, mut inn, mut passport, mut phone, mut email) = (
        HashSet::new(),
        HashSet::new(),
        HashSet::new(),
        HashSet::new(),
        HashSet::new(),
    );
    for i in 0..n {
        let s = pop.skeleton(i);
        assert!(snils.insert(s.snils), "SNILS {} twice", s.snils);
        assert!(inn.insert(s.inn), "INN {} twice", s.inn);
        assert!(
            passport.insert((s.passport_series, s.passport_number)),
            "passport twice at {i}"
        );
        if let Some(p) = s.phone {
            assert!(phone.insert(p), "phone {p} twice");
        }
        if let Some(t) = s.email_tag {
            assert!(email.insert(t), "e-mail tag {t} twice");
        }
    }
}

#[test]
fn same_seed_same_people_and_prefixes_agree() {
    let a: Vec<Citizen> = population(7).citizens(0..50).collect();
    let b: Vec<Citizen> = population(7).citizens(0..10).collect();
    assert_eq!(a[..10], b[..]);
    assert_eq!(population(7).citizen(49), a[49]);
    let other: Vec<Citizen> = population(8).citizens(0..50).collect();
    let same = a
        .iter()
        .zip(&other)
        .filter(|(x, y)| {
            x.snils == y.snils || x.surname == y.surname && x.birth_date == y.birth_date
        })
        .count();
    assert!(same < 5, "seeds 7 and 8 share {same} of 50 people");
}

#[test]
fn the_mix_follows_the_configuration() {
    let pop = population(3);
    let n = 40_000u64;
    let mut counts = std::collections::BTreeMap::<&str, u64>::new();
    let mut count = |k| *counts.entry(k).or_default() += 1;
    for i in 0..n {
        let s = pop.skeleton(i);
        if s.phone.is_some() {
            count("phone");
        }
        if s.traits.passport_expired {
            count("expired");
        }
        if s.region().okato == 45 {
            count("moscow");
        }
        if s.age < 20 {
            count("under 20");
        }
        if s.age >= 60 {
            count("60 and over");
        }
        if s.bank == Some(Bank::Sber) {
            count("sber");
        }
        if s.gender == Gender::Female {
            count("female");
        }
    }
    let share = |k: &str| counts.get(k).copied().unwrap_or(0) as f64 / n as f64;
    let near = |k: &str, want: f64, tol: f64| {
        assert!((share(k) - want).abs() < tol, "{k}: {} vs {want}", share(k));
    };
    near("phone", 0.95, 0.01);
    near("expired", 0.02, 0.005);
    near("sber", 0.5, 0.015);
    let total: f64 = crate::region::REGIONS.iter().map(|r| r.weight as f64).sum();
    near("moscow", 13010.0 / total, 0.01);
    // Census shares of the population aged 14 and over: 14-19 is about 7%, 60+ about 27%.
    near("under 20", 0.074, 0.015);
    near("60 and over", 0.27, 0.03);
    near("female", 0.54, 0.02);
}

#[test]
fn the_population_is_as_large_as_russia() {
    let pop = population(0);
    assert!(pop.max_citizens() >= 100_000_000, "{}", pop.max_citizens());
    assert!(pop.check_count(pop.max_citizens()).is_ok());
    assert!(matches!(
        pop.check_count(pop.max_citizens() + 1),
        Err(PopulationError::TooLarge { .. })
    ));
    // The last citizen exists and passes.
    let last = pop.citizen(pop.max_citizens() - 1);
    check_record(&last, pop.config().epoch).unwrap();
}

#[test]
fn bad_configurations_name_the_field() {
    let cfg = PopulationConfig {
        phone_share: 1.5,
        ..Default::default()
    };
    let err = Population::new(1, cfg).unwrap_err();
    assert!(err.to_string().contains("phone_share"), "{err}");
    let cfg = PopulationConfig {
        banks: BankShares {
            sber: 0.9,
            tinkoff: 0.2,
            pochta: 0.0,
        },
        ..Default::default()
    };
    assert!(Population::new(1, cfg)
        .unwrap_err()
        .to_string()
        .contains("banks"));
    let cfg = PopulationConfig {
        patience_days_median: f64::NAN,
        ..Default::default()
    };
    assert!(Population::new(1, cfg).is_err());
}

#[test]
fn epochs_shape_validity() {
    // In 2016 some UEC cards were still valid; in 2026 none is.
    let early = Population::new(
        5,
        PopulationConfig {
            epoch: NaiveDate::from_ymd_opt(2016, 1, 1).unwrap(),
            uec_share: 0.5,
            ukep_share: 0.0,
            ..Default::default()
        },
    )
    .unwrap();
    let valid_uec = (0..2000)
        .filter_map(|i| early.skeleton(i).signature)
        .filter(|s| s.valid_to > early.config().epoch)
        .count();
    assert!(valid_uec > 0);
    for i in 0..3000 {
        let c = early.citizen(i);
        check_record(&c, early.config().epoch).unwrap();
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn populations_of_any_seed_pass_and_stay_unique(seed in any::<u64>(), start in 0u64..99_000_000) {
        let pop = population(seed);
        let mut snils = HashSet::new();
        let mut passports = HashSet::new();
        let mut phones = HashSet::new();
        for c in pop.citizens(start..start + 300) {
            prop_assert!(check_record(&c, pop.config().epoch).is_ok(), "{:?}", check_record(&c, pop.config().epoch));
            prop_assert!(snils.insert(c.snils.clone()));
            prop_assert!(passports.insert((c.passport.series.clone(), c.passport.number.clone())));
            if let Some(p) = c.phone {
                prop_assert!(phones.insert(p));
            }
        }
    }
}

#[test]
fn agencies_hold_the_truth_of_each_citizen() {
    use crate::agency::{ca, fms, pfr};
    let pop = population(11);
    let epoch = crate::clock::Epoch::new(pop.config().epoch);
    let (mut unknown, mut invalid, mut signed) = (0, 0, 0);
    for c in pop.citizens(0..3000) {
        let query = pfr::PfrQuery {
            snils: &c.snils,
            surname: &c.surname,
            name: &c.name,
            patronymic: &c.patronymic,
            birth_date: c.birth_date,
            gender: c.gender,
        };
        let verdict = pfr::compare(&query, c.pfr_record().as_ref());
        if c.traits.snils_unknown_to_pfr {
            assert_eq!(verdict, pfr::PfrVerdict::NotFound);
            unknown += 1;
        } else {
            assert_eq!(verdict, pfr::PfrVerdict::Match);
        }
        let record = c.fms_record();
        let query = fms::FmsQuery {
            series: &c.passport.series,
            number: &c.passport.number,
            surname: &c.surname,
            name: &c.name,
            patronymic: &c.patronymic,
            birth_date: c.birth_date,
            issue_date: c.passport.issue_date,
        };
        let verdict = fms::compare(&query, Some(&record));
        if c.traits.passport_expired {
            assert_eq!(verdict, fms::FmsVerdict::Invalid);
            invalid += 1;
        } else {
            assert_eq!(verdict, fms::FmsVerdict::Valid);
        }
        if let Some(cert) = c.certificate() {
            cert.check().unwrap();
            let query = ca::CaQuery {
                serial: &cert.serial,
                issuer: Some(&cert.issuer),
                snils: &c.snils,
            };
            let verdict = ca::compare(&query, Some(&cert), epoch, crate::clock::SimTime::ZERO);
            let expected = if cert.revoked {
                ca::CaVerdict::Revoked
            } else if cert.valid_to < pop.config().epoch {
                ca::CaVerdict::Expired
            } else {
                ca::CaVerdict::Valid
            };
            assert_eq!(verdict, expected, "{cert:?}");
            signed += 1;
        }
    }
    assert!(
        unknown > 0 || invalid > 0,
        "the sample shows document problems"
    );
    assert!(signed > 50);
}
