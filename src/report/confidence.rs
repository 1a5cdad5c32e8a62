//! Confidence intervals across replicates: mean ± t(K-1, 0.975)·sd/√K, with Student's t
//! quantiles written as a table (no statistics crate for thirty numbers).

use serde::Serialize;

/// Student's t quantile at 0.975 for 1..=30 degrees of freedom.
const T_975: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
    2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
    2.052, 2.048, 2.045, 2.042,
];

/// t(df, 0.975). Between the tabulated points the value of the next smaller df is used, which
/// errs on the wide side.
pub fn t_975(df: usize) -> f64 {
    match df {
        0 => f64::INFINITY,
        1..=30 => T_975[df - 1],
        31..=39 => 2.042,
        40..=59 => 2.021,
        60..=119 => 2.000,
        120..=999 => 1.980,
        _ => 1.960,
    }
}

/// A 95% confidence interval of a share across replicates, clamped to [0, 1].
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Ci {
    /// Mean of the replicates' values.
    pub mean: f64,
    pub low: f64,
    pub high: f64,
    /// Replicates with a defined value (a share whose denominator is 0 has none).
    pub replicates: usize,
}

impl Ci {
    /// The interval of `values` (one a replicate), or `None` with fewer than two.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Option<Ci> {
        Ci::interval(values, 1.0, super::figures::SHARE_DECIMALS)
    }

    /// The interval of `values` that are not shares (waits, utilizations): not clamped to
    /// [0, 1] but at 0 from below, rounded to 3 decimals; `None` with fewer than two.
    pub fn of_measure(values: impl IntoIterator<Item = f64>) -> Option<Ci> {
        Ci::interval(values, f64::INFINITY, 3)
    }

    /// mean ± t·sd/√K of `values`, clamped to `[0, high]` and rounded to `decimals`.
    fn interval(values: impl IntoIterator<Item = f64>, high: f64, decimals: i32) -> Option<Ci> {
        let values: Vec<f64> = values.into_iter().collect();
        let k = values.len();
        if k < 2 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / k as f64;
        let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (k - 1) as f64;
        let half = t_975(k - 1) * var.sqrt() / (k as f64).sqrt();
        let r = |x: f64| super::figures::round(x, decimals);
        Some(Ci {
            mean: r(mean),
            low: r((mean - half).max(0.0)),
            high: r((mean + half).min(high)),
            replicates: k,
        })
    }

    /// The interval from the replicates' optional values (undefined ones left out).
    pub fn of_some<'a>(values: impl IntoIterator<Item = &'a Option<f64>>) -> Option<Ci> {
        Ci::of(values.into_iter().filter_map(|v| *v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_replicates_use_t_1() {
        let ci = Ci::of([0.4, 0.6]).unwrap();
        // sd = 0.1414, half = 12.706 * 0.1414 / 1.4142 = 1.2706: clamped to [0, 1].
        assert_eq!((ci.mean, ci.low, ci.high), (0.5, 0.0, 1.0));
        let ci = Ci::of([0.50, 0.52, 0.54, 0.52]).unwrap();
        assert!(ci.low < ci.mean && ci.mean < ci.high);
        // sd = 0.016330, half = 3.182 * 0.016330 / 2 = 0.025981
        assert!((ci.high - 0.545981).abs() < 1e-6, "{ci:?}");
    }

    #[test]
    fn fewer_than_two_values_have_no_interval() {
        assert_eq!(Ci::of([0.5]), None);
        assert_eq!(Ci::of_some(&[Some(0.5), None]), None);
        assert_eq!(t_975(1000), 1.96);
    }
}
