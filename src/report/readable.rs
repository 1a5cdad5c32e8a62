//! Numbers as a person reads them: durations in the largest sensible unit, shares as percent,
//! counts with thousands separators. Used by the HTML page and the terminal summary only; the
//! JSON and CSV files keep plain numbers.

use super::confidence::Ci;

/// `17 s`, `14.5 min`, `3.2 h`, `14.1 d`.
pub fn duration_s(secs: u64) -> String {
    let s = secs as f64;
    if secs < 90 {
        format!("{secs} s")
    } else if s < 90.0 * 60.0 {
        format!("{:.1} min", s / 60.0)
    } else if s < 48.0 * 3600.0 {
        format!("{:.1} h", s / 3600.0)
    } else {
        format!("{:.1} d", s / 86_400.0)
    }
}

/// The unit in which a chart shows durations up to `longest_s` seconds: the divisor and its
/// name (`(3600.0, "hours")`), so that the axis reads 2-48 of it rather than 172,800 seconds.
pub fn axis_unit(longest_s: f64) -> (f64, &'static str) {
    if longest_s >= 2.0 * 86_400.0 {
        (86_400.0, "days")
    } else if longest_s >= 2.0 * 3_600.0 {
        (3_600.0, "hours")
    } else if longest_s >= 120.0 {
        (60.0, "minutes")
    } else {
        (1.0, "seconds")
    }
}

/// A duration or a dash when there is none.
pub fn opt_duration_s(secs: Option<u64>) -> String {
    secs.map_or_else(|| "–".to_string(), duration_s)
}

/// `96.7%`, or a dash for an undefined share.
pub fn percent(share: Option<f64>) -> String {
    match share {
        // Small shares keep a second decimal, so 0.04% does not read as nothing.
        Some(x) if x > 0.0 && x < 0.01 => format!("{:.2}%", x * 100.0),
        Some(x) => format!("{:.1}%", x * 100.0),
        None => "–".to_string(),
    }
}

/// `[96.5%, 96.9%]`, or empty without an interval.
pub fn ci(ci: &Option<Ci>) -> String {
    match ci {
        Some(c) => format!("[{:.1}%, {:.1}%]", c.low * 100.0, c.high * 100.0),
        None => String::new(),
    }
}

/// `1,234,567`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A signed count (the daily stocks are difference arrays summed).
pub fn signed(n: i64) -> String {
    if n < 0 {
        format!("-{}", count(n.unsigned_abs()))
    } else {
        count(n as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readable_units() {
        assert_eq!(duration_s(45), "45 s");
        assert_eq!(duration_s(900), "15.0 min");
        assert_eq!(duration_s(3 * 3600), "3.0 h");
        assert_eq!(duration_s(14 * 86_400), "14.0 d");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(999), "999");
        assert_eq!(signed(-1000), "-1,000");
        assert_eq!(percent(Some(0.9672)), "96.7%");
        assert_eq!(percent(None), "–");
        assert_eq!(percent(Some(0.0004)), "0.04%");
        assert_eq!(percent(Some(0.0)), "0.0%");
    }
}
