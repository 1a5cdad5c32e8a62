//! Latency distributions: how long an agency takes, as a value a profile holds and a model samples.
//!
//! Written in TOML as a table with a `kind`; durations are humantime strings or integer ms:
//!
//! ```toml
//! latency = { kind = "fixed", value = "5s" }
//! latency = { kind = "uniform", min = "1m", max = "5m" }               # min and max inclusive
//! latency = { kind = "lognormal", median = "15m", p99 = "2d" }         # from two quantiles
//! latency = { kind = "exponential", mean = "10m" }                     # memoryless (M/M/c)
//! latency = { kind = "empirical", points = [[0.0, "3d"], [0.5, "14d"], [1.0, "30d"]] }
//! latency = { kind = "mixture", parts = [
//!     { weight = 0.85, latency = { kind = "lognormal", median = "12m", p99 = "2h" } },
//!     { weight = 0.15, latency = { kind = "uniform", min = "1h", max = "5d" } },
//! ], max = "10d" }
//! ```
//!
//! `empirical` is a piecewise-linear inverse CDF through (quantile, value) points: quantiles rise
//! strictly from 0 to 1 (a quantile may also be written as a string, `["0.5", "14d"]`), values
//! never fall. Mixture weights need not sum to 1; they are normalised. Every kind but `uniform`
//! takes optional `min` and `max` clamps (for `uniform` they are its bounds).
//!
//! Everything a draw needs (lognormal mu and sigma, mixture cumulative weights) is computed when
//! the distribution is built, so [`Latency::sample_ms`] neither allocates nor validates: a
//! simulator calls it millions of times a second. Draws use only `next_u64`, through the
//! formulas below rather than `rand`'s distributions, so a seed gives the same delays across
//! `rand` versions.

use std::fmt;

use rand::Rng;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::duration::{format_ms, DurationMs};

/// The standard normal quantile at 0.99: a lognormal's p99 is `median × exp(sigma × Z99)`.
const Z99: f64 = 2.326_347_874_040_840_8;

/// A latency specification that does not describe a distribution.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LatencyError {
    /// A key the kind requires is absent.
    #[error("latency kind `{kind}` needs `{key}`")]
    Missing {
        kind: &'static str,
        key: &'static str,
    },
    /// A key that means nothing for the kind.
    #[error("latency kind `{kind}` does not take `{key}`")]
    Unexpected {
        kind: &'static str,
        key: &'static str,
    },
    /// A lognormal's median must be positive.
    #[error("lognormal `median` must be above 0")]
    ZeroMedian,
    /// A lognormal's 99th percentile must not be below its median.
    #[error("lognormal `p99` ({p99}) is below `median` ({median})")]
    P99BelowMedian { median: String, p99: String },
    /// A lower bound above the upper one.
    #[error("latency `min` ({min}) is above `max` ({max})")]
    MinAboveMax { min: String, max: String },
    /// Empirical points that are not an inverse CDF.
    #[error("empirical `points`: {0}")]
    Points(String),
    /// A mixture weight that is negative or not a number.
    #[error("mixture weight {0} is not a finite number >= 0")]
    BadWeight(f64),
    /// Mixture weights that sum to zero.
    #[error("mixture weights sum to 0")]
    ZeroWeights,
    /// A mixture without parts.
    #[error("mixture needs at least one part in `parts`")]
    EmptyMixture,
}

/// A delay distribution in milliseconds. `Default` is a fixed 0 (an immediate answer).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "LatencySpec", into = "LatencySpec")]
pub struct Latency {
    shape: Shape,
    /// Clamps as written (for uniform, its bounds live in the shape).
    clamp_min_ms: Option<u64>,
    clamp_max_ms: Option<u64>,
    /// Effective clamps used by draws.
    min_ms: u64,
    max_ms: u64,
}

#[derive(Clone, Debug, PartialEq)]
enum Shape {
    Fixed {
        value_ms: u64,
    },
    Uniform {
        low_ms: u64,
        high_ms: u64,
    },
    LogNormal {
        median_ms: u64,
        p99_ms: u64,
        mu: f64,
        sigma: f64,
    },
    Exponential {
        mean_ms: u64,
    },
    Empirical {
        points: Box<[Point]>,
    },
    Mixture {
        parts: Box<[Part]>,
    },
}

#[derive(Clone, Debug, PartialEq)]
struct Point {
    quantile: f64,
    value_ms: f64,
}

#[derive(Clone, Debug, PartialEq)]
struct Part {
    weight: f64,
    /// Sum of the normalised weights of this part and those before it; the last is 1.
    cumulative: f64,
    latency: Latency,
}

impl Default for Latency {
    fn default() -> Self {
        Latency::fixed(0)
    }
}

impl Latency {
    /// Always `value_ms`.
    pub fn fixed(value_ms: u64) -> Self {
        Self::unclamped(Shape::Fixed { value_ms })
    }

    /// Uniform on `low_ms..=high_ms`.
    pub fn uniform(low_ms: u64, high_ms: u64) -> Result<Self, LatencyError> {
        check_order(low_ms, high_ms)?;
        Ok(Self::unclamped(Shape::Uniform { low_ms, high_ms }))
    }

    /// Lognormal with the given median and 99th percentile.
    pub fn lognormal(median_ms: u64, p99_ms: u64) -> Result<Self, LatencyError> {
        if median_ms == 0 {
            return Err(LatencyError::ZeroMedian);
        }
        if p99_ms < median_ms {
            return Err(LatencyError::P99BelowMedian {
                median: format_ms(median_ms),
                p99: format_ms(p99_ms),
            });
        }
        let mu = (median_ms as f64).ln();
        let sigma = ((p99_ms as f64).ln() - mu) / Z99;
        Ok(Self::unclamped(Shape::LogNormal {
            median_ms,
            p99_ms,
            mu,
            sigma,
        }))
    }

    /// Exponential with mean `mean_ms`: the memoryless service time of queueing theory's
    /// M/M/c, drawn by inversion and rounded to the millisecond.
    pub fn exponential(mean_ms: u64) -> Self {
        Self::unclamped(Shape::Exponential { mean_ms })
    }

    /// The piecewise-linear inverse CDF through `(quantile, value_ms)` points: quantiles rise
    /// strictly from 0 to 1, values never fall.
    pub fn empirical(points: &[(f64, u64)]) -> Result<Self, LatencyError> {
        let bad = |what: String| Err(LatencyError::Points(what));
        if points.len() < 2 {
            return bad(
                "give at least two points, the first at quantile 0 and the last at 1".into(),
            );
        }
        if points[0].0 != 0.0 || points[points.len() - 1].0 != 1.0 {
            return bad("the first point must be at quantile 0 and the last at quantile 1".into());
        }
        for pair in points.windows(2) {
            let ((q0, v0), (q1, v1)) = (pair[0], pair[1]);
            if q1.is_nan() || q1 <= q0 {
                return bad(format!(
                    "quantiles must rise strictly, but {q1} follows {q0}"
                ));
            }
            if v1 < v0 {
                return bad(format!(
                    "values must not fall, but {} (at {q1}) follows {} (at {q0})",
                    format_ms(v1),
                    format_ms(v0)
                ));
            }
        }
        let points = points
            .iter()
            .map(|&(quantile, value_ms)| Point {
                quantile,
                value_ms: value_ms as f64,
            })
            .collect();
        Ok(Self::unclamped(Shape::Empirical { points }))
    }

    /// A draw from part i with probability `weight_i / Σ weight`.
    pub fn mixture(parts: Vec<(f64, Latency)>) -> Result<Self, LatencyError> {
        if parts.is_empty() {
            return Err(LatencyError::EmptyMixture);
        }
        if let Some(&(weight, _)) = parts.iter().find(|(w, _)| !(w.is_finite() && *w >= 0.0)) {
            return Err(LatencyError::BadWeight(weight));
        }
        let total: f64 = parts.iter().map(|(w, _)| w).sum();
        if total <= 0.0 {
            return Err(LatencyError::ZeroWeights);
        }
        let mut cumulative = 0.0;
        let count = parts.len();
        let parts = parts
            .into_iter()
            .enumerate()
            .map(|(i, (weight, latency))| {
                cumulative += weight / total;
                Part {
                    weight,
                    // Rounding must not leave a sliver above the last part.
                    cumulative: if i + 1 == count { 1.0 } else { cumulative },
                    latency,
                }
            })
            .collect();
        Ok(Self::unclamped(Shape::Mixture { parts }))
    }

    /// This distribution with draws clamped to `min_ms..=max_ms` (either bound optional).
    pub fn clamped(
        mut self,
        min_ms: Option<u64>,
        max_ms: Option<u64>,
    ) -> Result<Self, LatencyError> {
        if let Shape::Uniform { .. } = self.shape {
            if let Some(key) = min_ms.map(|_| "min").or(max_ms.map(|_| "max")) {
                // A uniform's min and max are its bounds; clamping it again means nothing.
                return Err(LatencyError::Unexpected {
                    kind: "uniform",
                    key,
                });
            }
        }
        let (min, max) = (min_ms.unwrap_or(0), max_ms.unwrap_or(u64::MAX));
        check_order(min, max)?;
        self.clamp_min_ms = min_ms;
        self.clamp_max_ms = max_ms;
        self.min_ms = min;
        self.max_ms = max;
        Ok(self)
    }

    /// One delay in milliseconds. No allocation; cost is a few `next_u64` and, for lognormal,
    /// a logarithm, a square root, a cosine and an exponential.
    #[inline]
    pub fn sample_ms<R: Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        let raw = match &self.shape {
            Shape::Fixed { value_ms } => *value_ms,
            Shape::Uniform { low_ms, high_ms } => low_ms + below_inclusive(rng, high_ms - low_ms),
            Shape::LogNormal { mu, sigma, .. } => {
                // Float to integer casts saturate: an extreme draw gives u64::MAX, then the clamp.
                (mu + sigma * standard_normal(rng)).exp().round() as u64
            }
            Shape::Exponential { mean_ms } => {
                // 1 - u is in (0, 1]: the logarithm stays finite.
                (-(1.0 - unit(rng)).ln() * *mean_ms as f64).round() as u64
            }
            Shape::Empirical { points } => {
                let u = unit(rng);
                // points[0] is at 0 <= u and the last at 1 > u, so 1 <= i < len.
                let i = points.partition_point(|p| p.quantile <= u);
                let (a, b) = (&points[i - 1], &points[i]);
                let t = (u - a.quantile) / (b.quantile - a.quantile);
                (a.value_ms + (b.value_ms - a.value_ms) * t).round() as u64
            }
            Shape::Mixture { parts } => {
                let u = unit(rng);
                let part = parts
                    .iter()
                    .find(|p| u < p.cumulative)
                    .unwrap_or(&parts[parts.len() - 1]);
                part.latency.sample_ms(rng)
            }
        };
        raw.clamp(self.min_ms, self.max_ms)
    }

    fn unclamped(shape: Shape) -> Self {
        Self {
            shape,
            clamp_min_ms: None,
            clamp_max_ms: None,
            min_ms: 0,
            max_ms: u64::MAX,
        }
    }
}

fn check_order(min_ms: u64, max_ms: u64) -> Result<(), LatencyError> {
    if min_ms > max_ms {
        return Err(LatencyError::MinAboveMax {
            min: format_ms(min_ms),
            max: format_ms(max_ms),
        });
    }
    Ok(())
}

/// A uniform draw in `[0, 1)` with 53 random bits.
#[inline]
pub(crate) fn unit<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// True with probability `p` (false for p <= 0, true for p >= 1). Always one draw.
#[inline]
pub(crate) fn happens<R: Rng + ?Sized>(rng: &mut R, p: f64) -> bool {
    unit(rng) < p
}

/// A uniform integer in `0..=span` by multiply-and-shift (bias below 2^-64 × span).
#[inline]
fn below_inclusive<R: Rng + ?Sized>(rng: &mut R, span: u64) -> u64 {
    match span.checked_add(1) {
        Some(n) => ((u128::from(rng.next_u64()) * u128::from(n)) >> 64) as u64,
        None => rng.next_u64(),
    }
}

/// A standard normal draw by Box–Muller (one of the pair; the other is dropped so that a draw
/// depends on nothing but the stream).
#[inline]
fn standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let u1 = 1.0 - unit(rng); // (0, 1]: the logarithm stays finite
    let u2 = unit(rng);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// The TOML form of a latency: every key of every kind, checked against the kind.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LatencySpec {
    kind: Kind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    value: Option<DurationMs>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    median: Option<DurationMs>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    p99: Option<DurationMs>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mean: Option<DurationMs>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    points: Option<Vec<(Quantile, DurationMs)>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    parts: Option<Vec<PartSpec>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min: Option<DurationMs>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max: Option<DurationMs>,
}

#[derive(Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Fixed,
    Uniform,
    Lognormal,
    Exponential,
    Empirical,
    Mixture,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Fixed => "fixed",
            Kind::Uniform => "uniform",
            Kind::Lognormal => "lognormal",
            Kind::Exponential => "exponential",
            Kind::Empirical => "empirical",
            Kind::Mixture => "mixture",
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PartSpec {
    weight: f64,
    latency: Latency,
}

/// A quantile written as a number or as a string of one (`0.5` or `"0.5"`).
#[derive(Clone, Copy)]
struct Quantile(f64);

impl Serialize for Quantile {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.0)
    }
}

impl<'de> Deserialize<'de> for Quantile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct QuantileVisitor;
        impl Visitor<'_> for QuantileVisitor {
            type Value = Quantile;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a quantile between 0 and 1")
            }
            fn visit_f64<E: de::Error>(self, q: f64) -> Result<Quantile, E> {
                if (0.0..=1.0).contains(&q) {
                    Ok(Quantile(q))
                } else {
                    Err(E::custom(format!("quantile {q} is outside 0..=1")))
                }
            }
            fn visit_u64<E: de::Error>(self, q: u64) -> Result<Quantile, E> {
                self.visit_f64(q as f64)
            }
            fn visit_i64<E: de::Error>(self, q: i64) -> Result<Quantile, E> {
                self.visit_f64(q as f64)
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Quantile, E> {
                let q: f64 = text
                    .trim()
                    .parse()
                    .map_err(|_| E::custom(format!("quantile `{text}` is not a number")))?;
                self.visit_f64(q)
            }
        }
        deserializer.deserialize_any(QuantileVisitor)
    }
}

impl TryFrom<LatencySpec> for Latency {
    type Error = LatencyError;

    fn try_from(spec: LatencySpec) -> Result<Self, LatencyError> {
        let kind = spec.kind.name();
        let ms = |d: Option<DurationMs>| d.map(|d| d.0);
        let need = |present: bool, key: &'static str| {
            if present {
                Ok(())
            } else {
                Err(LatencyError::Missing { kind, key })
            }
        };
        // Keys of other kinds are errors, so a typo'd kind is not silently a different law.
        let unexpected = [
            (
                "value",
                spec.value.is_some() && !matches!(spec.kind, Kind::Fixed),
            ),
            (
                "median",
                spec.median.is_some() && !matches!(spec.kind, Kind::Lognormal | Kind::Empirical),
            ),
            (
                "p99",
                spec.p99.is_some() && !matches!(spec.kind, Kind::Lognormal),
            ),
            (
                "mean",
                spec.mean.is_some() && !matches!(spec.kind, Kind::Exponential),
            ),
            (
                "points",
                spec.points.is_some() && !matches!(spec.kind, Kind::Empirical),
            ),
            (
                "parts",
                spec.parts.is_some() && !matches!(spec.kind, Kind::Mixture),
            ),
        ];
        if let Some((key, _)) = unexpected.iter().find(|(_, bad)| *bad) {
            return Err(LatencyError::Unexpected { kind, key });
        }
        let shaped = match spec.kind {
            Kind::Fixed => {
                need(spec.value.is_some(), "value")?;
                Latency::fixed(ms(spec.value).unwrap_or(0))
            }
            Kind::Uniform => {
                need(spec.min.is_some(), "min")?;
                need(spec.max.is_some(), "max")?;
                let bounds = (ms(spec.min).unwrap_or(0), ms(spec.max).unwrap_or(0));
                return Latency::uniform(bounds.0, bounds.1);
            }
            Kind::Lognormal => {
                need(spec.median.is_some(), "median")?;
                need(spec.p99.is_some(), "p99")?;
                Latency::lognormal(ms(spec.median).unwrap_or(0), ms(spec.p99).unwrap_or(0))?
            }
            Kind::Exponential => {
                need(spec.mean.is_some(), "mean")?;
                Latency::exponential(ms(spec.mean).unwrap_or(0))
            }
            Kind::Empirical => {
                let points = spec.points.ok_or(LatencyError::Missing {
                    kind,
                    key: "points",
                })?;
                let mut points: Vec<(f64, u64)> = points.iter().map(|(q, v)| (q.0, v.0)).collect();
                if let Some(median) = ms(spec.median) {
                    rescale_to_median(&mut points, median)?;
                }
                Latency::empirical(&points)?
            }
            Kind::Mixture => {
                let parts = spec
                    .parts
                    .ok_or(LatencyError::Missing { kind, key: "parts" })?;
                Latency::mixture(parts.into_iter().map(|p| (p.weight, p.latency)).collect())?
            }
        };
        shaped.clamped(ms(spec.min), ms(spec.max))
    }
}

/// Scales an empirical law so that its median is `median_ms`, keeping its shape: a scenario
/// override such as `--set agencies.post.latency.median=4d` moves the whole distribution.
fn rescale_to_median(points: &mut [(f64, u64)], median_ms: u64) -> Result<(), LatencyError> {
    let at_half = points.windows(2).find_map(|w| {
        let ((q0, v0), (q1, v1)) = (w[0], w[1]);
        (q0 <= 0.5 && 0.5 <= q1 && q1 > q0)
            .then(|| v0 as f64 + (v1 as f64 - v0 as f64) * (0.5 - q0) / (q1 - q0))
    });
    match at_half {
        Some(current) if current > 0.0 => {
            let factor = median_ms as f64 / current;
            for (_, v) in points.iter_mut() {
                *v = (*v as f64 * factor).round() as u64;
            }
            Ok(())
        }
        _ => Err(LatencyError::Points(
            "`median` rescales the points, which need a positive value at quantile 0.5".into(),
        )),
    }
}

impl From<Latency> for LatencySpec {
    fn from(latency: Latency) -> Self {
        let d = |ms: u64| Some(DurationMs(ms));
        let mut spec = LatencySpec {
            kind: Kind::Fixed,
            value: None,
            median: None,
            p99: None,
            mean: None,
            points: None,
            parts: None,
            min: latency.clamp_min_ms.map(DurationMs),
            max: latency.clamp_max_ms.map(DurationMs),
        };
        match latency.shape {
            Shape::Fixed { value_ms } => spec.value = d(value_ms),
            Shape::Uniform { low_ms, high_ms } => {
                spec.kind = Kind::Uniform;
                spec.min = d(low_ms);
                spec.max = d(high_ms);
            }
            Shape::LogNormal {
                median_ms, p99_ms, ..
            } => {
                spec.kind = Kind::Lognormal;
                spec.median = d(median_ms);
                spec.p99 = d(p99_ms);
            }
            Shape::Exponential { mean_ms } => {
                spec.kind = Kind::Exponential;
                spec.mean = d(mean_ms);
            }
            Shape::Empirical { points } => {
                spec.kind = Kind::Empirical;
                spec.points = Some(
                    points
                        .iter()
                        .map(|p| (Quantile(p.quantile), DurationMs(p.value_ms as u64)))
                        .collect(),
                );
            }
            Shape::Mixture { parts } => {
                spec.kind = Kind::Mixture;
                spec.parts = Some(
                    parts
                        .into_vec()
                        .into_iter()
                        .map(|p| PartSpec {
                            weight: p.weight,
                            latency: p.latency,
                        })
                        .collect(),
                );
            }
        }
        spec
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::chance::{Chance, Event};
    use crate::clock::{MS_PER_DAY, MS_PER_HOUR, MS_PER_MIN, MS_PER_SEC};

    /// A fixed-seed stream for statistical tests.
    pub(crate) fn rng(label: u64) -> crate::chance::StreamRng {
        Chance::new(20_260_101).stream(label, Event::Other, 0)
    }

    /// The `q` quantile of `n` draws.
    pub(crate) fn quantile_of(latency: &Latency, n: usize, q: f64, label: u64) -> u64 {
        let mut rng = rng(label);
        let mut draws: Vec<u64> = (0..n).map(|_| latency.sample_ms(&mut rng)).collect();
        draws.sort_unstable();
        draws[((n as f64 * q) as usize).min(n - 1)]
    }

    #[test]
    fn exponential_has_its_mean_and_memoryless_tail() {
        let l = parse(r#"latency = { kind = "exponential", mean = "10m" }"#).unwrap();
        assert_eq!(l, Latency::exponential(10 * MS_PER_MIN));
        let mut r = rng(77);
        let n = 200_000;
        let draws: Vec<u64> = (0..n).map(|_| l.sample_ms(&mut r)).collect();
        let mean = draws.iter().sum::<u64>() as f64 / n as f64;
        // The standard error of the mean is 600 s / sqrt(n) = 1.34 s; allow four.
        assert!((mean - 600_000.0).abs() < 5_400.0, "{mean}");
        // P(X > mean) = 1/e; P(X > 2 mean | X > mean) = 1/e again.
        let above = draws.iter().filter(|&&d| d > 600_000).count() as f64;
        let above2 = draws.iter().filter(|&&d| d > 1_200_000).count() as f64;
        assert!((above / n as f64 - (-1.0f64).exp()).abs() < 0.005);
        assert!((above2 / above - (-1.0f64).exp()).abs() < 0.01);
        assert!(parse(r#"latency = { kind = "exponential" }"#)
            .unwrap_err()
            .contains("mean"));
        assert!(
            parse(r#"latency = { kind = "fixed", value = "1s", mean = "1s" }"#)
                .unwrap_err()
                .contains("mean")
        );
        let text = toml::to_string(&Doc { latency: l.clone() }).unwrap();
        assert_eq!(parse(&text).unwrap(), l, "{text}");
    }

    #[derive(Serialize, Deserialize)]
    struct Doc {
        latency: Latency,
    }

    fn parse(toml_text: &str) -> Result<Latency, String> {
        toml::from_str::<Doc>(toml_text)
            .map(|d| d.latency)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn fixed_and_clamps() {
        let five = parse(r#"latency = { kind = "fixed", value = "5s" }"#).unwrap();
        assert_eq!(five.sample_ms(&mut rng(1)), 5 * MS_PER_SEC);
        let clamped = parse(r#"latency = { kind = "fixed", value = "5s", max = "1s" }"#).unwrap();
        assert_eq!(clamped.sample_ms(&mut rng(1)), MS_PER_SEC);
        let raised = parse(r#"latency = { kind = "fixed", value = 10, min = "1s" }"#).unwrap();
        assert_eq!(raised.sample_ms(&mut rng(1)), MS_PER_SEC);
        assert_eq!(Latency::default().sample_ms(&mut rng(1)), 0);
    }

    #[test]
    fn uniform_stays_within_bounds_and_covers_them() {
        let l = parse(r#"latency = { kind = "uniform", min = "1m", max = "5m" }"#).unwrap();
        let mut r = rng(2);
        let draws: Vec<u64> = (0..5_000).map(|_| l.sample_ms(&mut r)).collect();
        assert!(draws
            .iter()
            .all(|&d| (MS_PER_MIN..=5 * MS_PER_MIN).contains(&d)));
        let mean = draws.iter().sum::<u64>() as f64 / draws.len() as f64;
        assert!(
            (mean - 3.0 * MS_PER_MIN as f64).abs() < 0.05 * MS_PER_MIN as f64,
            "{mean}"
        );
        let degenerate = Latency::uniform(7, 7).unwrap();
        assert_eq!(degenerate.sample_ms(&mut r), 7);
        let full = Latency::uniform(0, u64::MAX).unwrap();
        full.sample_ms(&mut r);
    }

    #[test]
    fn lognormal_hits_its_median_and_p99() {
        let l = parse(r#"latency = { kind = "lognormal", median = "15m", p99 = "2d" }"#).unwrap();
        let median = quantile_of(&l, 20_000, 0.5, 3) as f64;
        let p99 = quantile_of(&l, 20_000, 0.99, 3) as f64;
        let (m, p) = ((15 * MS_PER_MIN) as f64, (2 * MS_PER_DAY) as f64);
        assert!((median / m - 1.0).abs() < 0.06, "median {median}");
        assert!((p99 / p - 1.0).abs() < 0.25, "p99 {p99}");
        let flat = Latency::lognormal(1_000, 1_000).unwrap();
        assert_eq!(flat.sample_ms(&mut rng(3)), 1_000);
    }

    #[test]
    fn empirical_median_rescales_the_points() {
        let l = parse(
            r#"latency = { kind = "empirical", points = [[0, "3d"], ["0.5", "14d"], [1.0, "30d"]], median = "7d" }"#,
        )
        .unwrap();
        let median = quantile_of(&l, 10_000, 0.5, 4);
        assert!(
            (median as f64 / (7 * MS_PER_DAY) as f64 - 1.0).abs() < 0.05,
            "{median}"
        );
        let max = quantile_of(&l, 10_000, 1.0, 4);
        assert!(
            max <= 15 * MS_PER_DAY,
            "the tail moved with the median: {max}"
        );
    }

    #[test]
    fn empirical_interpolates_the_inverse_cdf() {
        let l = parse(
            r#"latency = { kind = "empirical", points = [[0, "0s"], ["0.5", "10s"], [1.0, "20s"]] }"#,
        )
        .unwrap();
        let median = quantile_of(&l, 10_000, 0.5, 4);
        assert!((9_500..=10_500).contains(&median), "{median}");
        let p90 = quantile_of(&l, 10_000, 0.9, 4);
        assert!((17_500..=18_500).contains(&p90), "{p90}");
        assert!(quantile_of(&l, 10_000, 1.0, 4) <= 20_000);
    }

    #[test]
    fn mixture_picks_parts_by_weight() {
        let l = parse(
            r#"latency = { kind = "mixture", parts = [
                { weight = 3, latency = { kind = "fixed", value = "1s" } },
                { weight = 1, latency = { kind = "fixed", value = "1h" } },
                { weight = 0, latency = { kind = "fixed", value = "1d" } },
            ], max = "30m" }"#,
        )
        .unwrap();
        let mut r = rng(5);
        let draws: Vec<u64> = (0..4_000).map(|_| l.sample_ms(&mut r)).collect();
        let slow = draws.iter().filter(|&&d| d == 30 * MS_PER_MIN).count();
        assert!((900..=1_100).contains(&slow), "{slow}");
        assert!(draws
            .iter()
            .all(|&d| d == MS_PER_SEC || d == 30 * MS_PER_MIN));
        assert!(draws.iter().all(|&d| d != MS_PER_DAY && d != MS_PER_HOUR));
    }

    #[test]
    fn invalid_specs_name_the_problem() {
        let cases = [
            (
                r#"latency = { kind = "lognormal", median = "1h", p99 = "1m" }"#,
                "below `median`",
            ),
            (
                r#"latency = { kind = "lognormal", median = "0s", p99 = "1m" }"#,
                "above 0",
            ),
            (
                r#"latency = { kind = "lognormal", median = "1h" }"#,
                "needs `p99`",
            ),
            (r#"latency = { kind = "fixed", value = -5 }"#, "negative"),
            (
                r#"latency = { kind = "fixed", value = "five" }"#,
                "unparsable duration `five`",
            ),
            (
                r#"latency = { kind = "fixed", value = "5s", median = "1s" }"#,
                "does not take `median`",
            ),
            (
                r#"latency = { kind = "uniform", min = "5m", max = "1m" }"#,
                "is above `max`",
            ),
            (r#"latency = { kind = "gamma", value = "1s" }"#, "gamma"),
            (r#"latency = { kind = "fixed", vlaue = "1s" }"#, "vlaue"),
            (
                r#"latency = { kind = "mixture", parts = [{ weight = 0, latency = { kind = "fixed", value = 1 } }] }"#,
                "sum to 0",
            ),
            (
                r#"latency = { kind = "mixture", parts = [{ weight = -1, latency = { kind = "fixed", value = 1 } }] }"#,
                "weight -1",
            ),
            (
                r#"latency = { kind = "mixture", parts = [] }"#,
                "at least one part",
            ),
            (
                r#"latency = { kind = "empirical", points = [[0.5, "1s"], [1, "2s"]] }"#,
                "quantile 0",
            ),
            (
                r#"latency = { kind = "empirical", points = [[0, "3s"], [1, "2s"]] }"#,
                "must not fall",
            ),
            (
                r#"latency = { kind = "empirical", points = [[0, "1s"], [0, "2s"], [1, "3s"]] }"#,
                "rise strictly",
            ),
            (
                r#"latency = { kind = "empirical", points = [[0, "1s"], [2, "3s"]] }"#,
                "outside",
            ),
        ];
        for (text, expected) in cases {
            let error = parse(text).expect_err(text);
            assert!(error.contains(expected), "{text}: {error}");
        }
    }

    #[test]
    fn serializes_back_to_the_same_distribution() {
        let texts = [
            r#"latency = { kind = "fixed", value = "5s", min = "1s" }"#,
            r#"latency = { kind = "uniform", min = "1m", max = "5m" }"#,
            r#"latency = { kind = "lognormal", median = "15m", p99 = "2d", max = "10d" }"#,
            r#"latency = { kind = "empirical", points = [[0, "3d"], ["0.5", "14d"], [1, "30d"]] }"#,
            r#"latency = { kind = "mixture", parts = [{ weight = 0.85, latency = { kind = "fixed", value = "1m" } }, { weight = 0.15, latency = { kind = "lognormal", median = "6h", p99 = "3d" } }] }"#,
        ];
        #[derive(Serialize, Deserialize)]
        struct Doc {
            latency: Latency,
        }
        for text in texts {
            let first = parse(text).unwrap();
            let written = toml::to_string(&Doc {
                latency: first.clone(),
            })
            .unwrap();
            let again = parse(&written).unwrap();
            assert_eq!(first, again, "{text} -> {written}");
        }
    }

    #[test]
    fn draws_depend_only_on_the_stream() {
        let l = Latency::lognormal(1_000, 60_000).unwrap();
        let a: Vec<u64> = (0..10)
            .map(|_| 0)
            .scan(rng(9), |r, _| Some(l.sample_ms(r)))
            .collect();
        let b: Vec<u64> = (0..10)
            .map(|_| 0)
            .scan(rng(9), |r, _| Some(l.sample_ms(r)))
            .collect();
        assert_eq!(a, b);
    }
}
