//! Where a citizen's passport comes from: series, number, issue date and age, drawn together so
//! that every (series, number) pair in a population is unique without a lookup table.
//!
//! A series is the region's OKATO code and the year the blank was printed, so two citizens can
//! only collide inside one (region, blank year) cell, which has room for 999,999 numbers. The
//! table below gives every cell a capacity proportional to how many citizens it should hold
//! (region weight times the share of passports printed that year), and a keyed permutation of
//! the citizen index picks a cell and a slot in it. Because the cell is chosen first, the rest
//! (age, birth date, issue date) is drawn *given* the blank year, from the same joint law that
//! forward sampling would give: age from Russia's age structure, the passport issued at 14,
//! replaced at 20 and 45 (DOMAIN.md), the blank printed in the issue year or up to two years
//! before, and the passports of those over 45 before the 1997-2004 exchange issued during it.

use crate::chance::Permutation;
use crate::region::REGIONS;
use chrono::{Datelike, Duration, Months, NaiveDate};

/// Numbers a passport series can hold (000001..=999999).
pub const NUMBERS_PER_SERIES: u64 = 999_999;

/// Ages in the population: passports are issued at 14.
pub const MIN_AGE: u32 = 14;
/// The oldest age drawn.
pub const MAX_AGE: u32 = 95;

/// Russia's population by age in thousands (2021 census, rounded), as (first age, last age,
/// people in the group).
const AGE_GROUPS: &[(u32, u32, u32)] = &[
    (14, 14, 1600),
    (15, 19, 7400),
    (20, 24, 6900),
    (25, 29, 7900),
    (30, 34, 12100),
    (35, 39, 11700),
    (40, 44, 10400),
    (45, 49, 9800),
    (50, 54, 8700),
    (55, 59, 10600),
    (60, 64, 10200),
    (65, 69, 8700),
    (70, 74, 6400),
    (75, 79, 2900),
    (80, 84, 3200),
    (85, 89, 1300),
    (90, 95, 400),
];

/// How many years an unreplaced passport is held past the birthday that voids it.
const EXPIRED_HOLD_YEARS: u32 = 5;
/// Share of blanks printed 0, 1 and 2 years before the issue year.
const BLANK_LAG: [f64; 3] = [0.55, 0.35, 0.10];
/// The first year of the current passport blanks, and the exchange of Soviet passports.
const FIRST_BLANK_YEAR: i32 = 1997;

fn exchange_start() -> NaiveDate {
    date(1997, 10, 1)
}
fn exchange_end() -> NaiveDate {
    date(2004, 12, 31)
}

/// A date known when the code is written, checked by the compiler where a `const` holds it.
pub(super) const fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(d) => d,
        None => panic!("an invalid date constant"),
    }
}

/// The passport a citizen holds: issued at `milestone` (14, 20 or 45).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holding {
    /// The passport of the latest milestone: valid.
    Current,
    /// The passport of the previous milestone, not replaced: invalid.
    Expired,
}

/// The milestone whose passport is current at `age`.
pub fn milestone(age: u32) -> u32 {
    match age {
        45.. => 45,
        20.. => 20,
        _ => 14,
    }
}

/// How a (birth-date range, issue year) came about, before the blank year is chosen.
#[derive(Clone, Copy, Debug)]
struct Origin {
    age: u32,
    holding: Holding,
    /// The birthday the passport was issued for: 14, 20 or 45.
    milestone: u32,
    /// Birth dates: inclusive range.
    born_from: NaiveDate,
    born_to: NaiveDate,
    /// The issue date is the milestone birthday plus a delay, or a day of the exchange.
    exchange: bool,
    issue_year: i32,
    weight: f64,
}

/// One way to be in a blank-year cell: an origin and the lag from issue year to blank year.
#[derive(Clone, Copy, Debug)]
struct Way {
    cum_weight: f64,
    origin: u32,
}

/// `u` in 0..1 scaled to 0..=max.
fn scale(u: f64, max: i64) -> i64 {
    ((u * (max + 1) as f64) as i64).clamp(0, max)
}

/// A (region, blank year) cell of the passport space.
#[derive(Clone, Copy, Debug)]
struct Cell {
    /// First population slot of this cell in the permuted index space.
    start: u64,
    region: u8,
    blank_year: i32,
    /// The cell's ways (a range of `PassportTable::ways`).
    ways_from: u32,
    ways_to: u32,
}

/// What the table gives a citizen: everything about the passport and age.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PassportDraw {
    pub region: u8,
    pub blank_year: i32,
    pub number: u32,
    pub age: u32,
    pub holding: Holding,
    pub birth_date: NaiveDate,
    pub issue_date: NaiveDate,
}

/// The cells and their laws for one epoch and expired share.
#[derive(Clone, Debug)]
pub struct PassportTable {
    origins: Vec<Origin>,
    ways: Vec<Way>,
    cells: Vec<Cell>,
    slots: u64,
    cell_key: u64,
}

/// Why a population cannot be laid out.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum LayoutError {
    #[error("the epoch {0} is outside 2005-01-01..=2100-12-31")]
    Epoch(NaiveDate),
    #[error("expired_passport_share must be in 0..=0.5, got {0}")]
    ExpiredShare(f64),
}

fn years_before(date: NaiveDate, years: u32) -> NaiveDate {
    date.checked_sub_months(Months::new(12 * years))
        .expect("dates in range")
}

fn years_after(date: NaiveDate, years: u32) -> NaiveDate {
    date.checked_add_months(Months::new(12 * years))
        .expect("dates in range")
}

fn jan1(year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, 1, 1).expect("valid year")
}

fn dec31(year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, 12, 31).expect("valid year")
}

fn days_incl(from: NaiveDate, to: NaiveDate) -> f64 {
    ((to - from).num_days() + 1) as f64
}

impl PassportTable {
    /// Lays out the passport space for citizens judged at `epoch`, of whom `expired_share` hold
    /// an unreplaced (invalid) passport. `key` scatters numbers inside each series.
    pub fn new(epoch: NaiveDate, expired_share: f64, key: u64) -> Result<Self, LayoutError> {
        if !(jan1(2005)..=dec31(2100)).contains(&epoch) {
            return Err(LayoutError::Epoch(epoch));
        }
        if !(0.0..=0.5).contains(&expired_share) {
            return Err(LayoutError::ExpiredShare(expired_share));
        }
        let origins = Self::origins(epoch, expired_share);

        // Ways into each blank year, then cells per (region, blank year).
        let first = FIRST_BLANK_YEAR;
        let last = epoch.year();
        let mut ways = Vec::new();
        let mut year_ways = Vec::new(); // (from, to, total weight) per blank year
        for blank_year in first..=last {
            let from = ways.len() as u32;
            let mut cum = 0.0;
            for (o, origin) in origins.iter().enumerate() {
                for (lag, share) in BLANK_LAG.iter().enumerate() {
                    if (origin.issue_year - lag as i32).max(first) == blank_year {
                        cum += origin.weight * share;
                        ways.push(Way {
                            cum_weight: cum,
                            origin: o as u32,
                        });
                    }
                }
            }
            year_ways.push((from, ways.len() as u32, cum));
        }
        let region_total: f64 = REGIONS.iter().map(|r| r.weight as f64).sum();
        let year_total: f64 = year_ways.iter().map(|w| w.2).sum();
        let max_share = REGIONS.iter().map(|r| r.weight).max().unwrap_or(1) as f64 / region_total
            * year_ways.iter().map(|w| w.2).fold(0.0, f64::max)
            / year_total;
        let mut cells = Vec::new();
        let mut start = 0u64;
        for (region, r) in REGIONS.iter().enumerate() {
            for (y, &(from, to, weight)) in year_ways.iter().enumerate() {
                let share = r.weight as f64 / region_total * weight / year_total;
                let capacity = (NUMBERS_PER_SERIES as f64 * share / max_share).floor() as u64;
                if capacity == 0 || from == to {
                    continue;
                }
                cells.push(Cell {
                    start,
                    region: region as u8,
                    blank_year: first + y as i32,
                    ways_from: from,
                    ways_to: to,
                });
                start += capacity;
            }
        }
        Ok(Self {
            origins,
            ways,
            cells,
            slots: start,
            cell_key: key,
        })
    }

    /// Every (age, holding, birth range, issue year) with its share of the population.
    fn origins(epoch: NaiveDate, expired_share: f64) -> Vec<Origin> {
        let age_weight = |age: u32| -> f64 {
            AGE_GROUPS
                .iter()
                .find(|g| (g.0..=g.1).contains(&age))
                .map_or(0.0, |g| g.2 as f64 / (g.1 - g.0 + 1) as f64)
        };
        let eligible = |age: u32| {
            (20..20 + EXPIRED_HOLD_YEARS).contains(&age)
                || (45..45 + EXPIRED_HOLD_YEARS).contains(&age)
        };
        let total: f64 = (MIN_AGE..=MAX_AGE).map(age_weight).sum();
        let eligible_total: f64 = (MIN_AGE..=MAX_AGE)
            .filter(|&a| eligible(a))
            .map(age_weight)
            .sum();
        let expired_given_eligible = expired_share * total / eligible_total;

        let mut origins = Vec::new();
        for age in MIN_AGE..=MAX_AGE {
            // Born in (epoch - (age+1) years, epoch - age years].
            let born_from = years_before(epoch, age + 1).succ_opt().expect("in range");
            let born_to = years_before(epoch, age);
            let mut holdings = vec![(Holding::Current, milestone(age), 1.0)];
            if eligible(age) {
                let prev = if age >= 45 { 20 } else { 14 };
                holdings[0].2 = 1.0 - expired_given_eligible;
                holdings.push((Holding::Expired, prev, expired_given_eligible));
            }
            let window = days_incl(born_from, born_to);
            for (holding, m, holding_share) in holdings {
                let weight = age_weight(age) * holding_share;
                // Birth dates whose milestone birthday falls before the exchange began were
                // issued during the exchange; the others at the milestone.
                let cut = years_before(exchange_start(), m); // born before cut -> exchange
                if born_from < cut {
                    let to = born_to.min(cut.pred_opt().expect("in range"));
                    let part = weight * days_incl(born_from, to) / window;
                    let ex_days = days_incl(exchange_start(), exchange_end());
                    for year in exchange_start().year()..=exchange_end().year() {
                        let from_d = exchange_start().max(jan1(year));
                        let to_d = exchange_end().min(dec31(year));
                        origins.push(Origin {
                            age,
                            holding,
                            milestone: m,
                            born_from,
                            born_to: to,
                            exchange: true,
                            issue_year: year,
                            weight: part * days_incl(from_d, to_d) / ex_days,
                        });
                    }
                }
                let from = born_from.max(cut);
                if from <= born_to {
                    for birth_year in from.year()..=born_to.year() {
                        let a = from.max(jan1(birth_year));
                        let b = born_to.min(dec31(birth_year));
                        origins.push(Origin {
                            age,
                            holding,
                            milestone: m,
                            born_from: a,
                            born_to: b,
                            exchange: false,
                            issue_year: birth_year + m as i32,
                            weight: weight * days_incl(a, b) / window,
                        });
                    }
                }
            }
        }
        origins
    }

    /// How many citizens the table can place with unique passports.
    pub fn capacity(&self) -> u64 {
        self.slots
    }

    /// The passport and age of the citizen at permuted slot `slot` (< capacity), drawing the
    /// rest from `u` (three uniform numbers in 0..1).
    pub fn draw(&self, slot: u64, epoch: NaiveDate, u: [f64; 3]) -> PassportDraw {
        let c = self.cells.partition_point(|c| c.start <= slot) - 1;
        let cell = &self.cells[c];
        let offset = slot - cell.start;
        let numbers = Permutation::new(
            self.cell_key ^ ((cell.region as u64) << 32 | cell.blank_year as u64),
            NUMBERS_PER_SERIES,
        );
        let number = numbers.apply(offset) as u32 + 1;

        let ways = &self.ways[cell.ways_from as usize..cell.ways_to as usize];
        let total = ways.last().map_or(0.0, |w| w.cum_weight);
        let target = u[0] * total;
        let w = ways
            .partition_point(|w| w.cum_weight <= target)
            .min(ways.len() - 1);
        let origin = self.origins[ways[w].origin as usize];

        let born_days = (origin.born_to - origin.born_from).num_days();
        let birth_date = origin.born_from + Duration::days(scale(u[1], born_days));
        let issue_date = if origin.exchange {
            let from = exchange_start().max(jan1(origin.issue_year));
            let to = exchange_end().min(dec31(origin.issue_year));
            from + Duration::days(scale(u[2], (to - from).num_days()))
        } else {
            // Issued within 45 days of the milestone birthday, in the same year, before the epoch.
            let birthday = years_after(birth_date, origin.milestone);
            let latest = dec31(origin.issue_year).min(epoch.pred_opt().expect("in range"));
            (birthday + Duration::days(scale(u[2], 45)))
                .min(latest)
                .max(birthday)
        };
        PassportDraw {
            region: cell.region,
            blank_year: cell.blank_year,
            number,
            age: origin.age,
            holding: origin.holding,
            birth_date,
            issue_date,
        }
    }
}
