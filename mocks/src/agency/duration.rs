//! Durations in profiles: humantime strings (`"300ms"`, `"15m"`, `"2d"`, `"1h 30m"`) or integer
//! milliseconds, read into plain `u64` milliseconds and written back in the shortest form.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::clock::{MS_PER_DAY, MS_PER_HOUR, MS_PER_MIN, MS_PER_SEC};

/// A duration that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Not a humantime duration (units: ms, s, m, h, d, w; no signs, no fractions).
    #[error(
        "unparsable duration `{text}`: {reason} (write durations like \"300ms\", \"15m\", \"2d\")"
    )]
    Unparsable { text: String, reason: String },
    /// More milliseconds than a u64 holds.
    #[error("duration `{0}` is too long")]
    TooLong(String),
}

/// Parses a humantime duration into milliseconds (sub-millisecond parts are dropped).
pub fn parse_ms(text: &str) -> Result<u64, DurationError> {
    let duration =
        humantime::parse_duration(text.trim()).map_err(|e| DurationError::Unparsable {
            text: text.to_owned(),
            reason: e.to_string(),
        })?;
    u64::try_from(duration.as_millis()).map_err(|_| DurationError::TooLong(text.to_owned()))
}

/// Writes milliseconds in the shortest humantime form that [`parse_ms`] reads back exactly:
/// `0s`, `300ms`, `15m`, `1h 30m`, `14d`.
pub fn format_ms(ms: u64) -> String {
    if ms == 0 {
        return "0s".to_owned();
    }
    let units = [
        (MS_PER_DAY, "d"),
        (MS_PER_HOUR, "h"),
        (MS_PER_MIN, "m"),
        (MS_PER_SEC, "s"),
        (1, "ms"),
    ];
    let mut rest = ms;
    let mut parts = Vec::with_capacity(units.len());
    for (size, unit) in units {
        if rest >= size {
            parts.push(format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    parts.join(" ")
}

/// A duration in milliseconds as profiles write it: a humantime string or an integer of
/// milliseconds. Serialized as a humantime string.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DurationMs(pub u64);

impl Serialize for DurationMs {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format_ms(self.0))
    }
}

impl<'de> Deserialize<'de> for DurationMs {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DurationVisitor)
    }
}

struct DurationVisitor;

impl Visitor<'_> for DurationVisitor {
    type Value = DurationMs;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a duration such as \"15m\" or \"2d\", or integer milliseconds")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<DurationMs, E> {
        parse_ms(text).map(DurationMs).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, ms: u64) -> Result<DurationMs, E> {
        Ok(DurationMs(ms))
    }

    fn visit_i64<E: de::Error>(self, ms: i64) -> Result<DurationMs, E> {
        u64::try_from(ms)
            .map(DurationMs)
            .map_err(|_| E::custom(format!("negative duration {ms} ms")))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<DurationMs, E> {
        Err(E::custom(format!(
            "duration {value} is a fraction: write a string such as \"1h 30m\" or integer milliseconds"
        )))
    }
}

/// `#[serde(with = "ms")]` for a `u64` field of milliseconds written as a duration.
pub mod ms {
    use super::DurationMs;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Writes milliseconds as a humantime string.
    pub fn serialize<S: Serializer>(ms: &u64, serializer: S) -> Result<S::Ok, S::Error> {
        DurationMs(*ms).serialize(serializer)
    }

    /// Reads a humantime string or integer milliseconds.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
        DurationMs::deserialize(deserializer).map(|d| d.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_humantime_units() {
        assert_eq!(parse_ms("300ms"), Ok(300));
        assert_eq!(parse_ms("5s"), Ok(5_000));
        assert_eq!(parse_ms(" 15m "), Ok(15 * MS_PER_MIN));
        assert_eq!(parse_ms("2d"), Ok(2 * MS_PER_DAY));
        assert_eq!(parse_ms("1h 30m"), Ok(90 * MS_PER_MIN));
        assert!(matches!(
            parse_ms("-5s"),
            Err(DurationError::Unparsable { .. })
        ));
        assert!(matches!(
            parse_ms("soon"),
            Err(DurationError::Unparsable { .. })
        ));
        let message = parse_ms("5 parsecs").unwrap_err().to_string();
        assert!(message.contains("5 parsecs"), "{message}");
    }

    #[test]
    fn formats_shortest_and_round_trips() {
        assert_eq!(format_ms(0), "0s");
        assert_eq!(format_ms(300), "300ms");
        assert_eq!(format_ms(15 * MS_PER_MIN), "15m");
        assert_eq!(format_ms(14 * MS_PER_DAY), "14d");
        assert_eq!(format_ms(90 * MS_PER_MIN), "1h 30m");
        for ms in [
            1,
            999,
            1_001,
            61_001,
            86_400_001,
            123_456_789_012,
            u64::MAX / 2,
        ] {
            assert_eq!(parse_ms(&format_ms(ms)), Ok(ms), "{ms}");
        }
    }

    #[test]
    fn reads_strings_and_integers_but_not_negatives_or_fractions() {
        let read = |json: &str| serde_json::from_str::<DurationMs>(json);
        assert_eq!(read("\"15m\"").unwrap(), DurationMs(900_000));
        assert_eq!(read("1500").unwrap(), DurationMs(1_500));
        assert!(read("-1").unwrap_err().to_string().contains("negative"));
        assert!(read("1.5").unwrap_err().to_string().contains("fraction"));
        assert_eq!(
            serde_json::to_string(&DurationMs(900_000)).unwrap(),
            "\"15m\""
        );
    }
}
