//! The names' frequencies in a population, set against the shares their sources give:
//! `esia-sim citizens --stats` prints them, and the tests hold them within sampling error.
//!
//! Surnames and first names are counted among the citizens named by the Russian lists (the
//! republics' peoples draw from their own), surnames in the male form; first names by birth
//! decade; the regional naming as the share of each republic's births named by each people,
//! against the census share in `data/regional.txt`.

use super::naming::{naming, DECADES, FIRST_DECADE};
use super::Population;
use crate::ident::Gender;
use crate::region::REGIONS;
use std::collections::HashMap;
use std::fmt::Write;

/// Counts of the names of citizens `range` of a population. Counts merge exactly.
#[derive(Clone, Debug, Default)]
pub struct NameStats {
    pub citizens: u64,
    /// Citizens named by the Russian lists.
    pub russian_named: u64,
    /// Surnames (male form) of the Russian-named.
    pub surnames: HashMap<&'static str, u64>,
    /// First names of the Russian-named by gender (0 male, 1 female) and decade.
    pub first: [Vec<HashMap<&'static str, u64>>; 2],
    /// Births by region (index into [`REGIONS`]), and of them those named by each people.
    pub births: Vec<u64>,
    pub named_by: Vec<HashMap<usize, u64>>,
}

/// One line of a table: a name, how often it came, its share and its source's share.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub name: &'static str,
    pub count: u64,
    /// Of the table's total (the Russian-named, or those of the gender and decade).
    pub share: f64,
    pub source_share: f64,
    /// The citizens the shares are of.
    pub total: u64,
}

impl Row {
    /// The difference from the source's share in standard errors of a binomial share.
    pub fn z(&self) -> f64 {
        binomial_z(self.share, self.source_share, self.total)
    }
}

/// A republic's births named by one people against the census share.
#[derive(Clone, Debug, PartialEq)]
pub struct RegionalRow {
    pub region: &'static str,
    pub people: &'static str,
    pub births: u64,
    pub named: u64,
    pub share: f64,
    pub census_share: f64,
}

impl RegionalRow {
    /// The difference from the census share in standard errors of a binomial share.
    pub fn z(&self) -> f64 {
        binomial_z(self.share, self.census_share, self.births)
    }
}

/// How far `share` (of `n`) lies from `expected`, in standard errors of a binomial share
/// (infinite when `expected` is 0 or 1 and the share differs from it).
fn binomial_z(share: f64, expected: f64, n: u64) -> f64 {
    let se = (expected * (1.0 - expected) / n.max(1) as f64).sqrt();
    if se == 0.0 {
        return if share == expected {
            0.0
        } else {
            f64::INFINITY
        };
    }
    (share - expected) / se
}

fn gender_index(g: Gender) -> usize {
    match g {
        Gender::Male => 0,
        Gender::Female => 1,
    }
}

impl NameStats {
    fn empty() -> Self {
        Self {
            first: [vec![HashMap::new(); DECADES], vec![HashMap::new(); DECADES]],
            births: vec![0; REGIONS.len()],
            named_by: vec![HashMap::new(); REGIONS.len()],
            ..Self::default()
        }
    }

    /// Counts the names of citizens `range` of `population`.
    pub fn collect(population: &Population, range: std::ops::Range<u64>) -> Self {
        let mut stats = Self::empty();
        for i in range {
            let skeleton = population.skeleton(i);
            let names = population.names(i);
            stats.citizens += 1;
            let region = skeleton.birth_region as usize;
            stats.births[region] += 1;
            match names.people {
                Some(p) => *stats.named_by[region].entry(p).or_default() += 1,
                None => {
                    stats.russian_named += 1;
                    *stats.surnames.entry(names.surname).or_default() += 1;
                    *stats.first[gender_index(skeleton.gender)][names.decade]
                        .entry(names.name)
                        .or_default() += 1;
                }
            }
        }
        stats
    }

    /// Adds the counts of `other`.
    pub fn merge(&mut self, other: &Self) {
        if self.births.is_empty() {
            *self = Self::empty();
        }
        self.citizens += other.citizens;
        self.russian_named += other.russian_named;
        for (k, v) in &other.surnames {
            *self.surnames.entry(k).or_default() += v;
        }
        for g in 0..2 {
            for (d, counts) in other.first[g].iter().enumerate() {
                for (k, v) in counts {
                    *self.first[g][d].entry(k).or_default() += v;
                }
            }
        }
        for (r, n) in other.births.iter().enumerate() {
            self.births[r] += n;
            for (p, v) in &other.named_by[r] {
                *self.named_by[r].entry(*p).or_default() += v;
            }
        }
    }

    /// The `n` commonest surnames of the Russian-named, commonest first (ties by name).
    pub fn top_surnames(&self, n: usize) -> Vec<Row> {
        let total = self.russian_named;
        top(&self.surnames, n)
            .into_iter()
            .map(|(name, count)| Row {
                name,
                count,
                share: count as f64 / total.max(1) as f64,
                source_share: naming().surname_share(name),
                total,
            })
            .collect()
    }

    /// The `n` commonest first names of `gender` born in decade index `decade`.
    pub fn top_first_names(&self, gender: Gender, decade: usize, n: usize) -> Vec<Row> {
        let counts = &self.first[gender_index(gender)][decade];
        let total: u64 = counts.values().sum();
        top(counts, n)
            .into_iter()
            .map(|(name, count)| Row {
                name,
                count,
                share: count as f64 / total.max(1) as f64,
                source_share: naming().first_name_share(gender, decade, name),
                total,
            })
            .collect()
    }

    /// The share of each republic's births named by each of its peoples.
    pub fn regional(&self) -> Vec<RegionalRow> {
        let naming = naming();
        let mut rows = Vec::new();
        for (r, peoples) in naming.regions.iter().enumerate() {
            for &(p, census_share) in &peoples.shares {
                let births = self.births[r];
                let named = self.named_by[r].get(&p).copied().unwrap_or(0);
                rows.push(RegionalRow {
                    region: REGIONS[r].name,
                    people: naming.peoples[p].key,
                    births,
                    named,
                    share: named as f64 / births.max(1) as f64,
                    census_share,
                });
            }
        }
        rows
    }

    /// The tables as text: the ten commonest surnames, the ten commonest first names of each
    /// gender by birth decade, and the regional shares, each with its source's share.
    pub fn render(&self, seed: u64) -> String {
        let mut out = String::new();
        let pct = |x: f64| format!("{:.2}%", 100.0 * x);
        let _ = writeln!(
            out,
            "Names of {} citizens of seed {seed} ({} named by the Russian lists); sources and \
             methods: mocks/src/population/data/",
            self.citizens, self.russian_named
        );
        let _ = writeln!(
            out,
            "\nSurnames, the ten commonest (male form; share among the Russian-named; source: \
             Zhuravlev's ranks with a fitted Zipf law)"
        );
        let _ = writeln!(
            out,
            "{:>4}  {:<16} {:>9} {:>8} {:>8} {:>6}",
            "rank", "surname", "count", "share", "source", "z"
        );
        for (k, row) in self.top_surnames(10).iter().enumerate() {
            let _ = writeln!(
                out,
                "{:>4}  {:<16} {:>9} {:>8} {:>8} {:>6.1}",
                k + 1,
                row.name,
                row.count,
                pct(row.share),
                pct(row.source_share),
                row.z()
            );
        }
        for (g, gender) in [(0, Gender::Male), (1, Gender::Female)] {
            let _ = writeln!(
                out,
                "\nFirst names of {}, the ten commonest by birth decade (share of the decade's \
                 {} named by the Russian lists; source share in brackets)",
                if g == 0 { "men" } else { "women" },
                if g == 0 { "men" } else { "women" },
            );
            for d in 0..DECADES {
                let rows = self.top_first_names(gender, d, 10);
                let total = rows.first().map_or(0, |r| r.total);
                if total == 0 {
                    continue; // no one of the population was born then
                }
                let label = if d == 0 {
                    format!("<={}s", FIRST_DECADE)
                } else {
                    format!("{}s", FIRST_DECADE + 10 * d as i32)
                };
                let names: Vec<String> = rows
                    .iter()
                    .map(|r| {
                        format!(
                            "{} {:.1}% ({:.1}%)",
                            r.name,
                            100.0 * r.share,
                            100.0 * r.source_share
                        )
                    })
                    .collect();
                let _ = writeln!(out, "{label:>7} (n={total}): {}", names.join(", "));
            }
        }
        let _ = writeln!(
            out,
            "\nRegional naming: the share of each republic's births named by its peoples \
             (source: 2010 census shares)"
        );
        let _ = writeln!(
            out,
            "{:<28} {:<10} {:>8} {:>8} {:>8} {:>6}",
            "region of birth", "people", "births", "share", "census", "z"
        );
        for row in self.regional() {
            let _ = writeln!(
                out,
                "{:<28} {:<10} {:>8} {:>8} {:>8} {:>6.1}",
                row.region,
                row.people,
                row.births,
                pct(row.share),
                pct(row.census_share),
                row.z()
            );
        }
        out
    }
}

/// The `n` largest counts, ties broken by name so the order is reproducible.
fn top(counts: &HashMap<&'static str, u64>, n: usize) -> Vec<(&'static str, u64)> {
    let mut all: Vec<(&'static str, u64)> = counts.iter().map(|(k, v)| (*k, *v)).collect();
    all.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    all.truncate(n);
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::population::PopulationConfig;

    /// Citizens counted: enough that a share's standard error is small beside the gaps
    /// between neighbouring ranks of the sources' tops.
    const N: u64 = 200_000;
    /// A drawn share may differ from its source's by this many standard errors (a binomial
    /// share; 4.5 sigma: about one false alarm in 150,000 comparisons).
    const Z_MAX: f64 = 4.5;

    fn stats() -> NameStats {
        let population = Population::new(1, PopulationConfig::default()).unwrap();
        NameStats::collect(&population, 0..N)
    }

    /// The ten commonest surnames are among the source's twelve first ranks, the first five
    /// in the source's order, and every share is within Z_MAX standard errors of the source
    /// (Zhuravlev's ranks with the fitted Zipf law); the ten commonest first names of each
    /// decade of the 1930s-2010s are within Z_MAX of the decade's source shares and the
    /// commonest is the source's first rank; each republic's people's share of births is
    /// within Z_MAX of the census share. Regression: before the tables, the commonest surnames
    /// of seed 7 were Кравченко, Полищук and Белых at 0.5% each, and names ignored the decade.
    #[test]
    fn names_match_their_sources_within_sampling_error() {
        let stats = stats();
        let naming = naming();
        let top = stats.top_surnames(10);
        for (k, row) in top.iter().enumerate() {
            let rank = naming.surnames.items.iter().position(|s| *s == row.name);
            assert!(
                rank.is_some_and(|r| r < 12),
                "{} at {k}: rank {rank:?}",
                row.name
            );
            if k < 5 {
                assert_eq!(rank, Some(k), "{}", row.name);
            }
            assert!(row.z().abs() < Z_MAX, "{row:?} z {}", row.z());
        }
        for gender in [Gender::Male, Gender::Female] {
            for d in 1..DECADES {
                let rows = stats.top_first_names(gender, d, 10);
                let first = &naming.ranked[gender_index(gender)][d][0];
                assert_eq!(rows[0].name, *first, "decade {d}");
                for row in &rows {
                    assert!(row.z().abs() < Z_MAX, "decade {d} {row:?} z {}", row.z());
                }
            }
        }
        let regional = stats.regional();
        assert!(regional.len() >= 5);
        for row in &regional {
            assert!(row.births > 200, "{row:?}");
            assert!(row.z().abs() < Z_MAX, "{row:?} z {}", row.z());
        }
    }

    /// No anachronism: Даниил and Милана are not given in the 1950s, Прасковья not after the
    /// 1950s, while the tail still holds rare names.
    #[test]
    fn names_keep_to_their_years_of_use() {
        let naming = naming();
        let d1950 = super::super::naming::decade_of(1955);
        let d2010 = super::super::naming::decade_of(2012);
        assert_eq!(
            naming.first_name_share(Gender::Female, d1950, "Милана"),
            0.0
        );
        assert_eq!(
            naming.first_name_share(Gender::Female, d2010, "Прасковья"),
            0.0
        );
        let daniil_1950 = naming.first_name_share(Gender::Male, d1950, "Даниил");
        let daniil_2010 = naming.first_name_share(Gender::Male, d2010, "Даниил");
        assert!(daniil_1950 > 0.0 && daniil_1950 < daniil_2010 / 20.0);
    }

    #[test]
    fn stats_merge_exactly() {
        let population = Population::new(3, PopulationConfig::default()).unwrap();
        let whole = NameStats::collect(&population, 0..3_000);
        let mut parts = NameStats::collect(&population, 0..1_000);
        parts.merge(&NameStats::collect(&population, 1_000..3_000));
        assert_eq!(parts.render(3), whole.render(3));
    }
}
