//! The people the bank and service-center mocks know, found by SNILS: citizens of the
//! population (an index from SNILS to citizen number; a record is rebuilt from (seed, i) when
//! asked for, so a large population costs 16 bytes a citizen here) and people added through the
//! admin API (`POST /mocks/{banks,centers}/admin/records`), which take precedence.
//!
//! A [`Person`] (a wire type, [`crate::wire::people`]) serializes as the engine's personal-data
//! form plus `phone`: the body of its partner and MFC-registration requests.

use super::error::MockError;
use crate::ident::Snils;
use crate::population::Population;
use crate::wire::people::Person;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

impl Person {
    /// The SNILS as a number (the key of the stores).
    pub fn snils_key(&self) -> Result<u64, MockError> {
        snils_key(&self.snils)
    }
}

/// A SNILS as a number; 422 naming `snils` if it is not one.
pub fn snils_key(text: &str) -> Result<u64, MockError> {
    Snils::parse(text)
        .map(Snils::value)
        .map_err(|e| MockError::invalid("snils", e))
}

/// The citizens of a population, found by SNILS.
#[derive(Clone, Default)]
pub struct Directory(Option<Arc<(Population, HashMap<u64, u64>)>>);

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Directory")
            .field("citizens", &self.len())
            .finish()
    }
}

impl PartialEq for Directory {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Directory {
    /// The directory of `population`'s citizens whose SNILS is in `snils` (value, index).
    pub fn new(population: Population, snils: impl IntoIterator<Item = (u64, u64)>) -> Self {
        Directory(Some(Arc::new((population, snils.into_iter().collect()))))
    }

    /// Citizens listed.
    pub fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |d| d.1.len())
    }

    /// True when no citizen is listed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The citizen with SNILS `key`, rebuilt from the population.
    pub fn get(&self, key: u64) -> Option<Person> {
        let d = self.0.as_ref()?;
        let i = *d.1.get(&key)?;
        Some(Person::from(d.0.citizen(i)))
    }
}

/// The people a mock knows: its directory and the records added to it.
#[derive(Debug, Default)]
pub struct People {
    directory: Directory,
    added: RwLock<HashMap<u64, Person>>,
    added_max: usize,
}

impl People {
    /// The people of `directory`, accepting up to `added_max` more through the admin API.
    pub fn new(directory: Directory, added_max: usize) -> Self {
        Self {
            directory,
            added: RwLock::new(HashMap::new()),
            added_max,
        }
    }

    /// The person with SNILS `key`: an added record first, else the directory's.
    pub fn get(&self, key: u64) -> Option<Person> {
        let added = self
            .added
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned();
        added.or_else(|| self.directory.get(key))
    }

    /// Adds records (each checked first: a bad one refuses them all, naming it); 503 when the
    /// store would grow past its cap. Returns (added, held).
    pub fn add(&self, records: Vec<Person>) -> Result<(usize, usize), MockError> {
        let mut keyed = Vec::with_capacity(records.len());
        for (i, p) in records.into_iter().enumerate() {
            let key = p.snils_key().map_err(|_| {
                MockError::Request(super::http::RequestError::bad_parameter(
                    &format!("records[{i}].snils"),
                    "is not a valid SNILS",
                ))
            })?;
            keyed.push((key, p));
        }
        let mut added = self.added.write().unwrap_or_else(|e| e.into_inner());
        let new = keyed.iter().filter(|(k, _)| !added.contains_key(k)).count();
        if added.len() + new > self.added_max {
            return Err(MockError::StoreFull {
                store: "added records",
            });
        }
        let n = keyed.len();
        added.extend(keyed);
        Ok((n, added.len()))
    }

    /// Forgets the added records.
    pub fn clear(&self) {
        self.added
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::population::PopulationConfig;

    #[test]
    fn people_are_found_by_snils_and_added_records_win() {
        let population = Population::new(7, PopulationConfig::default()).unwrap();
        let c0 = population.citizen(0);
        let key = snils_key(&c0.snils).unwrap();
        let people = People::new(Directory::new(population, [(key, 0)]), 1);
        let p = people.get(key).unwrap();
        assert_eq!(p.snils, c0.snils);
        assert_eq!(p.passport, c0.passport);
        let mut other = p.clone();
        other.surname = "Другова".into();
        assert_eq!(people.add(vec![other]).unwrap(), (1, 1));
        assert_eq!(people.get(key).unwrap().surname, "Другова");
        let mut second = p.clone();
        second.snils = "112-233-445 95".into();
        assert!(matches!(
            people.add(vec![second]),
            Err(MockError::StoreFull { .. })
        ));
        people.clear();
        assert_eq!(people.get(key).unwrap().surname, c0.surname);
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["gender"], serde_json::to_value(c0.gender).unwrap());
        assert!(json["passport"]["division_code"].is_string());
    }
}
