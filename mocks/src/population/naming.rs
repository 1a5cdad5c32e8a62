//! Names as Russia's registers hold them: surnames by frequency, first names by birth decade,
//! patronymics from the father's cohort, and the republics' own naming at their shares.
//!
//! The tables are the data files in `population/data/` (each names its sources and how its
//! weights were made), compiled in and parsed once ([`naming`]). A draw takes a citizen's
//! skeleton (gender, birth date, region of birth) and its text stream, so it stays a function
//! of (seed, citizen): the people the citizen is named by (from the region of birth and the
//! census shares), then a surname (a Zipf law over the rank list), a first name (the birth
//! decade's weights) and a father's name (his own decade's, 22-38 years earlier) whose
//! patronymic the citizen bears.

use super::spelling::Spelling;
use super::Skeleton;
use crate::ident::Gender;
use crate::region::REGIONS;
use chrono::Datelike;
use fake::RngExt;
use rand::distr::{Distribution, Uniform};
use std::sync::OnceLock;

const SURNAMES_TXT: &str = include_str!("data/surnames.txt");
const FIRST_NAMES_TXT: &str = include_str!("data/first_names.txt");
const REGIONAL_TXT: &str = include_str!("data/regional.txt");

/// The first decade with weights of its own (births before 1930 use the 1920s').
pub const FIRST_DECADE: i32 = 1920;
/// Decades 1920s..2010s (births after 2019 use the 2010s').
pub const DECADES: usize = 10;
/// The Zipf-Mandelbrot offset of the surname law (data/surnames.txt says how it was fitted).
const SURNAME_ZIPF_OFFSET: f64 = 3.3;
/// Unranked names in use weigh this share of the decade's last rank (data/first_names.txt).
const TAIL_OF_LAST_RANK: f64 = 0.1;
/// A father is this many years older than the child (inclusive range).
const FATHER_AGE_YEARS: (i32, i32) = (22, 38);

/// A man's name with the patronymics it gives a son and a daughter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaleName {
    pub name: &'static str,
    pub son: &'static str,
    pub daughter: &'static str,
}

impl MaleName {
    /// The patronymic this name gives a child of `gender`.
    pub fn patronymic(&self, gender: Gender) -> &'static str {
        match gender {
            Gender::Male => self.son,
            Gender::Female => self.daughter,
        }
    }
}

/// A list with its sampling law.
#[derive(Clone, Debug)]
pub struct Weighted<T> {
    pub items: Vec<T>,
    /// Each item's probability (sums to 1).
    pub shares: Vec<f64>,
    index: GuidedIndex,
}

impl<T: Copy> Weighted<T> {
    fn new(items: Vec<T>, weights: Vec<f64>) -> Self {
        let total: f64 = weights.iter().sum();
        let index = GuidedIndex::new(&weights);
        Self {
            items,
            shares: weights.iter().map(|w| w / total).collect(),
            index,
        }
    }

    /// Items weighted 1 / r in the given order (a Zipf law of exponent 1).
    fn zipf(items: Vec<T>, offset: f64) -> Self {
        let weights = (1..=items.len())
            .map(|r| 1.0 / (r as f64 + offset))
            .collect();
        Self::new(items, weights)
    }

    /// One item drawn by the law.
    pub fn draw<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> T {
        self.items[self.index.sample(rng)]
    }
}

/// Draws an index by weight as `rand`'s `WeightedIndex<f64>` does, the same index from the same
/// stream (one uniform draw over the total, then the first cumulative weight above it), but
/// found through a guide table instead of a binary search over the whole list: the surname list
/// has 2,262 entries and a citizen draws three or four names (benches/README.md,
/// `population/citizen`).
#[derive(Clone, Debug)]
struct GuidedIndex {
    /// The running sums of the weights but the last, as `WeightedIndex` keeps them.
    cumulative: Vec<f64>,
    uniform: Uniform<f64>,
    /// `guide[k]`: the draw's index for the chosen weight `k / scale`.
    guide: Vec<u32>,
    /// Guide buckets per unit of weight.
    scale: f64,
}

impl GuidedIndex {
    /// Guide buckets per item: a bucket holds about a quarter of an item's mean weight, so a
    /// draw starts next to its answer even in a long Zipf tail.
    const BUCKETS_PER_ITEM: usize = 4;

    fn new(weights: &[f64]) -> Self {
        assert!(
            !weights.is_empty() && weights.iter().all(|w| *w >= 0.0),
            "the data files give positive weights"
        );
        // Summed as `WeightedIndex::new` sums them, so the boundaries are the same floats.
        let mut total = weights[0];
        let mut cumulative = Vec::with_capacity(weights.len() - 1);
        for w in &weights[1..] {
            cumulative.push(total);
            total += w;
        }
        assert!(total > 0.0, "the data files give positive weights");
        let buckets = weights.len() * Self::BUCKETS_PER_ITEM;
        let scale = buckets as f64 / total;
        let guide = (0..=buckets)
            .map(|k| cumulative.partition_point(|c| *c * scale <= k as f64) as u32)
            .collect();
        Self {
            cumulative,
            uniform: Uniform::new(0.0, total).expect("a positive, finite total"),
            guide,
            scale,
        }
    }

    fn sample<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> usize {
        let chosen = self.uniform.sample(rng);
        let bucket = ((chosen * self.scale) as usize).min(self.guide.len() - 1);
        // The guide only says where to start: the walk either way finds the exact boundary,
        // whatever the rounding of `chosen * scale`.
        let mut i = self.guide[bucket] as usize;
        while i > 0 && self.cumulative[i - 1] > chosen {
            i -= 1;
        }
        while i < self.cumulative.len() && self.cumulative[i] <= chosen {
            i += 1;
        }
        i
    }
}

/// One people's naming in a republic (Tatar, Bashkir, Chechen, Dagestani, Yakut). The lists
/// hold the passport's forms, written from the data file's national forms by the people's
/// [`Spelling`].
#[derive(Clone, Debug)]
pub struct People {
    pub key: &'static str,
    pub surnames: Weighted<&'static str>,
    pub male: Weighted<MaleName>,
    pub female: Weighted<&'static str>,
    /// How the people's names are put into the passport's Russian letters.
    pub spelling: Spelling,
    /// (national form, passport form) of every name of the lists whose forms differ.
    pub national: Vec<(&'static str, &'static str)>,
}

/// A region's peoples with their shares of its births (census shares).
#[derive(Clone, Debug, Default)]
pub struct RegionPeoples {
    /// (index into [`Naming::peoples`], share).
    pub shares: Vec<(usize, f64)>,
}

/// Every naming table, parsed from the data files.
#[derive(Clone, Debug)]
pub struct Naming {
    /// Surnames in the male form, by rank.
    pub surnames: Weighted<&'static str>,
    /// Every man's name of the tables (with patronymics), and every woman's.
    pub male_names: Vec<MaleName>,
    pub female_names: Vec<&'static str>,
    /// First names by birth decade (index: decade - 1920s), indices into the lists above.
    pub male_by_decade: Vec<Weighted<usize>>,
    pub female_by_decade: Vec<Weighted<usize>>,
    /// The published rank list of each decade, commonest first, by gender (male, female).
    pub ranked: [Vec<Vec<&'static str>>; 2],
    pub peoples: Vec<People>,
    /// By index into [`REGIONS`].
    pub regions: Vec<RegionPeoples>,
}

/// The names one citizen bears.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Names {
    /// The surname in the male form (a woman bears [`super::names::feminine_surname`] of it).
    pub surname: &'static str,
    pub name: &'static str,
    pub patronymic: &'static str,
    /// The people whose naming was used (index into [`Naming::peoples`]), or `None` for the
    /// Russian lists.
    pub people: Option<usize>,
    /// The birth decade's index (0: the 1920s or before).
    pub decade: usize,
}

/// The naming tables (parsed on first use).
pub fn naming() -> &'static Naming {
    static NAMING: OnceLock<Naming> = OnceLock::new();
    NAMING.get_or_init(|| Naming::parse().expect("the compiled-in data files parse"))
}

/// The decade index of a birth year.
pub fn decade_of(year: i32) -> usize {
    ((year - FIRST_DECADE).max(0) / 10).min(DECADES as i32 - 1) as usize
}

/// Lines of a data file without comments and blank lines, grouped by `[section]`.
fn sections(text: &'static str) -> Vec<(&'static str, Vec<&'static str>)> {
    let mut out: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            out.push((name, Vec::new()));
        } else if let Some((_, lines)) = out.last_mut() {
            lines.push(line);
        } else {
            out.push(("", vec![line]));
        }
    }
    out
}

/// Years of use `1990-`, `-1950`, `1930-1960` as a range of decade indices.
fn years_of_use(spec: Option<&str>) -> Result<std::ops::RangeInclusive<usize>, String> {
    let Some(spec) = spec else {
        return Ok(0..=DECADES - 1);
    };
    let (from, to) = spec
        .split_once('-')
        .ok_or_else(|| format!("years of use `{spec}` lack a hyphen"))?;
    let year = |s: &str, default: usize| -> Result<usize, String> {
        if s.is_empty() {
            return Ok(default);
        }
        s.parse::<i32>()
            .map(decade_of)
            .map_err(|_| format!("years of use `{spec}`"))
    };
    Ok(year(from, 0)?..=year(to, DECADES - 1)?)
}

fn male_name(line: &'static str) -> Result<(MaleName, Option<&'static str>), String> {
    let mut words = line.split_whitespace();
    match (words.next(), words.next(), words.next()) {
        (Some(name), Some(son), Some(daughter)) => Ok((
            MaleName {
                name,
                son,
                daughter,
            },
            words.next(),
        )),
        _ => Err(format!("`{line}`: a man's name needs both patronymics")),
    }
}

impl Naming {
    fn parse() -> Result<Self, String> {
        let surnames: Vec<&'static str> = sections(SURNAMES_TXT)
            .into_iter()
            .flat_map(|(_, lines)| lines)
            .flat_map(str::split_whitespace)
            .collect();
        let surnames = Weighted::zipf(surnames, SURNAME_ZIPF_OFFSET);

        let mut male_names = Vec::new();
        let mut male_use = Vec::new();
        let mut female_names = Vec::new();
        let mut female_use = Vec::new();
        let mut ranked: [Vec<Vec<&'static str>>; 2] =
            [vec![Vec::new(); DECADES], vec![Vec::new(); DECADES]];
        for (section, lines) in sections(FIRST_NAMES_TXT) {
            match section {
                "male" => {
                    for line in lines {
                        let (name, spec) = male_name(line)?;
                        male_names.push(name);
                        male_use.push(years_of_use(spec)?);
                    }
                }
                "female" => {
                    for line in lines {
                        let mut words = line.split_whitespace();
                        female_names.push(words.next().unwrap_or_default());
                        female_use.push(years_of_use(words.next())?);
                    }
                }
                rank => {
                    let mut words = rank.split_whitespace();
                    let (Some("rank"), Some(gender), Some(year)) =
                        (words.next(), words.next(), words.next())
                    else {
                        return Err(format!("unknown section [{rank}]"));
                    };
                    let g = match gender {
                        "male" => 0,
                        "female" => 1,
                        _ => return Err(format!("[{rank}]: male or female")),
                    };
                    let year: i32 = year.parse().map_err(|_| format!("[{rank}]: a year"))?;
                    ranked[g][decade_of(year)] =
                        lines.iter().flat_map(|l| l.split_whitespace()).collect();
                }
            }
        }
        let by_decade = |names: &[&'static str],
                         uses: &[std::ops::RangeInclusive<usize>],
                         ranks: &[Vec<&'static str>]|
         -> Result<Vec<Weighted<usize>>, String> {
            (0..DECADES)
                .map(|d| {
                    let list = &ranks[d];
                    if list.is_empty() {
                        return Err(format!("no rank list for the {}s", 1920 + 10 * d));
                    }
                    let tail = TAIL_OF_LAST_RANK / list.len() as f64;
                    let mut weights = vec![0.0; names.len()];
                    for (k, (name, used)) in names.iter().zip(uses).enumerate() {
                        if used.contains(&d) {
                            weights[k] = tail;
                        }
                        if let Some(r) = list.iter().position(|n| n == name) {
                            weights[k] = 1.0 / (r + 1) as f64;
                        }
                    }
                    for name in list {
                        if !names.contains(name) {
                            return Err(format!("ranked name {name} is not in the tables"));
                        }
                    }
                    Ok(Weighted::new((0..names.len()).collect(), weights))
                })
                .collect()
        };
        let male_names_only: Vec<&'static str> = male_names.iter().map(|m| m.name).collect();
        let male_by_decade = by_decade(&male_names_only, &male_use, &ranked[0])?;
        let female_by_decade = by_decade(&female_names, &female_use, &ranked[1])?;

        let mut peoples: Vec<People> = Vec::new();
        let mut shares: Vec<(&'static str, &'static str, f64)> = Vec::new();
        let mut lists: std::collections::BTreeMap<(&str, &str), Vec<&'static str>> =
            Default::default();
        for (section, lines) in sections(REGIONAL_TXT) {
            if section == "shares" {
                for line in lines {
                    let parts: Vec<&str> = line.split('|').collect();
                    let [region, people, share] = parts[..] else {
                        return Err(format!("`{line}`: region|people|share"));
                    };
                    let share: f64 = share.parse().map_err(|_| format!("`{line}`: share"))?;
                    shares.push((region, people, share));
                }
            } else {
                let (people, kind) = section
                    .split_once(' ')
                    .ok_or_else(|| format!("[{section}]: people and list"))?;
                lists.insert((people, kind), lines);
            }
        }
        let mut keys: Vec<&'static str> = shares.iter().map(|s| s.1).collect();
        keys.dedup();
        keys.sort_unstable();
        keys.dedup();
        for key in keys {
            let list = |kind| {
                lists
                    .get(&(key, kind))
                    .ok_or_else(|| format!("no [{key} {kind}] list"))
            };
            let spelling =
                Spelling::parse(list("spelling")?).map_err(|e| format!("[{key} spelling]: {e}"))?;
            let mut national = Vec::new();
            // The passport's form of a national one. The tables live as long as the program (a
            // static), so the rewritten names (about 160) are leaked once, at parsing.
            let mut passport = |name: &'static str| -> &'static str {
                let written = spelling.passport(name);
                if written == name {
                    return name;
                }
                let written: &'static str = Box::leak(written.into_boxed_str());
                national.push((name, written));
                written
            };
            let mut words = |lines: &Vec<&'static str>| -> Vec<&'static str> {
                lines
                    .iter()
                    .flat_map(|l| l.split_whitespace())
                    .map(&mut passport)
                    .collect()
            };
            let surnames = words(list("surnames")?);
            let female = words(list("female")?);
            let male = list("male")?
                .iter()
                .map(|l| {
                    male_name(l).map(|(m, _)| MaleName {
                        name: passport(m.name),
                        ..m
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            peoples.push(People {
                key,
                surnames: Weighted::zipf(surnames, 0.0),
                male: Weighted::zipf(male, 0.0),
                female: Weighted::zipf(female, 0.0),
                spelling,
                national,
            });
        }
        let mut regions = vec![RegionPeoples::default(); REGIONS.len()];
        for (region, people, share) in shares {
            let r = REGIONS
                .iter()
                .position(|x| x.name == region)
                .ok_or_else(|| format!("unknown region {region}"))?;
            let p = peoples
                .iter()
                .position(|x| x.key == people)
                .expect("every people of the shares has its lists");
            regions[r].shares.push((p, share));
        }
        if let Some(r) = regions
            .iter()
            .position(|r| r.shares.iter().map(|s| s.1).sum::<f64>() > 1.0)
        {
            return Err(format!("the shares of {} exceed 1", REGIONS[r].name));
        }
        Ok(Self {
            surnames,
            male_names,
            female_names,
            male_by_decade,
            female_by_decade,
            ranked,
            peoples,
            regions,
        })
    }

    /// The names of the citizen `s`, drawn from its text stream.
    pub fn draw<R: rand::Rng + ?Sized>(&self, s: &Skeleton, rng: &mut R) -> Names {
        let year = s.birth_date.year();
        let decade = decade_of(year);
        let u: f64 = rng.random();
        let mut acc = 0.0;
        let mut people = None;
        for &(p, share) in &self.regions[s.birth_region as usize].shares {
            acc += share;
            if u < acc {
                people = Some(p);
                break;
            }
        }
        if let Some(p) = people {
            let people = &self.peoples[p];
            let name = match s.gender {
                Gender::Male => people.male.draw(rng).name,
                Gender::Female => people.female.draw(rng),
            };
            return Names {
                surname: people.surnames.draw(rng),
                name,
                patronymic: people.male.draw(rng).patronymic(s.gender),
                people: Some(p),
                decade,
            };
        }
        let surname = self.surnames.draw(rng);
        let name = match s.gender {
            Gender::Male => self.male_names[self.male_by_decade[decade].draw(rng)].name,
            Gender::Female => self.female_names[self.female_by_decade[decade].draw(rng)],
        };
        let father_year = year - rng.random_range(FATHER_AGE_YEARS.0..=FATHER_AGE_YEARS.1);
        let father = self.male_names[self.male_by_decade[decade_of(father_year)].draw(rng)];
        Names {
            surname,
            name,
            patronymic: father.patronymic(s.gender),
            people: None,
            decade,
        }
    }

    /// The share the tables give `surname` (male form) among the Russian-named.
    pub fn surname_share(&self, surname: &str) -> f64 {
        self.surnames
            .items
            .iter()
            .position(|s| *s == surname)
            .map_or(0.0, |k| self.surnames.shares[k])
    }

    /// The share the tables give first name `name` of `gender` in decade `decade`.
    pub fn first_name_share(&self, gender: Gender, decade: usize, name: &str) -> f64 {
        let (law, k) = match gender {
            Gender::Male => (
                &self.male_by_decade[decade],
                self.male_names.iter().position(|m| m.name == name),
            ),
            Gender::Female => (
                &self.female_by_decade[decade],
                self.female_names.iter().position(|n| *n == name),
            ),
        };
        k.map_or(0.0, |k| law.shares[k])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ident::{patronymic_gender, validate_name};
    use crate::population::names::feminine_surname;
    use std::collections::HashSet;

    /// The guided draw gives `WeightedIndex`'s index from the same stream, so the population
    /// of a seed is what it was before the guide: over a Zipf list as long as the surnames', a
    /// short list, equal weights and weights with zeros among them.
    #[test]
    fn the_guided_draw_is_weighted_index_draw_for_draw() {
        use rand::distr::weighted::WeightedIndex;
        use rand::SeedableRng;
        let zipf: Vec<f64> = (1..=2_262).map(|r| 1.0 / (r as f64 + 3.3)).collect();
        let lists = [
            zipf,
            vec![0.7, 0.2, 0.1],
            vec![1.0; 97],
            vec![0.0, 3.0, 0.0, 0.0, 1.0, 2.5, 0.0],
            vec![5.0],
        ];
        for weights in lists {
            let guided = GuidedIndex::new(&weights);
            let reference = WeightedIndex::new(&weights).unwrap();
            let mut a = rand_chacha::ChaCha8Rng::seed_from_u64(11);
            let mut b = a.clone();
            for _ in 0..200_000 {
                assert_eq!(guided.sample(&mut a), reference.sample(&mut b));
            }
        }
    }

    /// Every entry of the data files is a valid name in both genders' forms, patronymics agree
    /// with the gender, no list repeats a name, and the lists are as long as the issue asks.
    #[test]
    fn every_table_entry_is_valid_and_the_lists_are_long_enough() {
        let n = naming();
        assert!(n.surnames.items.len() >= 2_000);
        assert!(n.male_names.len() >= 200 && n.female_names.len() >= 200);
        let unique = |v: &[&str]| v.iter().collect::<HashSet<_>>().len() == v.len();
        assert!(unique(&n.surnames.items));
        let males: Vec<&str> = n.male_names.iter().map(|m| m.name).collect();
        assert!(unique(&males) && unique(&n.female_names));
        let mut all_males = n.male_names.clone();
        let mut surnames = n.surnames.items.clone();
        let mut females = n.female_names.clone();
        for p in &n.peoples {
            all_males.extend(&p.male.items);
            surnames.extend(&p.surnames.items);
            females.extend(&p.female.items);
            assert!(
                unique(&p.surnames.items) && unique(&p.female.items),
                "{}",
                p.key
            );
        }
        for s in &surnames {
            assert_eq!(validate_name(s), Ok(()), "{s}");
            assert_eq!(validate_name(&feminine_surname(s)), Ok(()), "{s}");
        }
        for f in &females {
            assert_eq!(validate_name(f), Ok(()), "{f}");
        }
        for m in &all_males {
            assert_eq!(validate_name(m.name), Ok(()), "{}", m.name);
            assert_eq!(patronymic_gender(m.son), Some(Gender::Male), "{}", m.son);
            assert_eq!(
                patronymic_gender(m.daughter),
                Some(Gender::Female),
                "{}",
                m.daughter
            );
        }
        let keys: Vec<&str> = n.peoples.iter().map(|p| p.key).collect();
        for k in ["tatar", "bashkir", "chechen", "dagestani", "yakut"] {
            assert!(keys.contains(&k), "{k}");
        }
        for d in 0..DECADES {
            for (g, len) in [(0, n.male_names.len()), (1, n.female_names.len())] {
                assert!(n.ranked[g][d].len() >= 20, "{g} {d}");
                let law = [&n.male_by_decade, &n.female_by_decade][g];
                assert_eq!(law[d].shares.len(), len);
                assert!((law[d].shares.iter().sum::<f64>() - 1.0).abs() < 1e-9);
            }
        }
    }

    /// The republics' lists hold the passport's forms: every name written from a national
    /// form is in Russian letters, and a father's name and the patronymic written beside it
    /// agree (Рамил -> Рамиль gives Рамилевич; Салауат -> Салават gives Салаватович).
    #[test]
    fn republics_names_are_the_passport_forms_and_agree_with_their_patronymics() {
        let n = naming();
        let stem = |s: &str| -> String {
            let s = s.replace('ё', "е");
            let s = s.strip_suffix("ий").unwrap_or(&s);
            s.trim_end_matches(['ь', 'й']).to_string()
        };
        let mut written = 0;
        for p in &n.peoples {
            for m in &p.male.items {
                for patronymic in [m.son, m.daughter] {
                    assert!(
                        patronymic.replace('ё', "е").starts_with(&stem(m.name)),
                        "{}: {} and {patronymic}",
                        p.key,
                        m.name
                    );
                }
            }
            for (national, passport) in &p.national {
                assert_ne!(national, passport);
                assert_eq!(validate_name(passport), Ok(()), "{national} -> {passport}");
                let listed = p.surnames.items.contains(passport)
                    || p.female.items.contains(passport)
                    || p.male.items.iter().any(|m| m.name == *passport);
                assert!(listed, "{national} -> {passport}");
            }
            written += p.national.len();
        }
        // The data file holds national forms for each people (a rule that writes nothing would
        // leave this at 0 and every national letter would fail validate_name above).
        for p in &n.peoples {
            assert!(!p.national.is_empty(), "{}", p.key);
        }
        assert!(written >= 100, "{written}");
    }

    #[test]
    fn decades_clamp_at_both_ends() {
        assert_eq!(decade_of(1901), 0);
        assert_eq!(decade_of(1929), 0);
        assert_eq!(decade_of(1930), 1);
        assert_eq!(decade_of(1987), 6);
        assert_eq!(decade_of(2019), 9);
        assert_eq!(decade_of(2030), 9);
    }
}
