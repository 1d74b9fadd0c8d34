//! Times as people read them: `in 59m 12s`, `expired 3h ago`, `unknown`;
//! and times as the store keeps them.
//!
//! Pure functions of `now` and a moment, so that output is reproducible
//! with a fixed clock.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use std::fmt;

use serde::Deserializer;
use serde::de::{self, Visitor};

/// For sentences: `expires in 59m 12s`, `expired 3h ago`, `has no known expiry`.
pub fn expiry(now: DateTime<Utc>, expires_at: Option<DateTime<Utc>>) -> String {
    match expires_at {
        None => "has no known expiry".to_string(),
        Some(at) if at > now => format!("expires in {}", span(at - now)),
        Some(at) => format!("expired {}", ago(now - at)),
    }
}

/// For tables: `in 59m 12s`, `expired 3h ago`, `unknown`.
pub fn countdown(now: DateTime<Utc>, expires_at: Option<DateTime<Utc>>) -> String {
    match expires_at {
        None => "unknown".to_string(),
        Some(at) if at > now => format!("in {}", span(at - now)),
        Some(at) => format!("expired {}", ago(now - at)),
    }
}

/// A past moment, in its largest unit: `3h ago`.
pub fn ago(d: TimeDelta) -> String {
    let s = d.num_seconds().max(0);
    let coarse = if s >= 86_400 {
        format!("{}d", s / 86_400)
    } else if s >= 3600 {
        format!("{}h", s / 3600)
    } else if s >= 60 {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    };
    format!("{coarse} ago")
}

/// A duration in its two largest units: `59m 12s`, `7h 5m`, `2d 3h`.
pub fn span(d: TimeDelta) -> String {
    let s = d.num_seconds().max(0);
    let (big, small) = if s >= 86_400 {
        ((s / 86_400, "d"), (s % 86_400 / 3600, "h"))
    } else if s >= 3600 {
        ((s / 3600, "h"), (s % 3600 / 60, "m"))
    } else if s >= 60 {
        ((s / 60, "m"), (s % 60, "s"))
    } else {
        return format!("{s}s");
    };
    if small.0 == 0 {
        format!("{}{}", big.0, big.1)
    } else {
        format!("{}{} {}{}", big.0, big.1, small.0, small.1)
    }
}

/// [`span`] of a std duration.
pub fn span_std(d: std::time::Duration) -> String {
    span(TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX))
}

/// A stored time, read fast when it has the form credctl writes:
/// `2026-11-24T07:14:08.409909Z` (chrono's RFC 3339, UTC, 0 to 9 fraction
/// digits). Anything else is left to chrono's general parser, whose verdict
/// stands. chrono's parser was a quarter of the instructions of `auth list`.
fn parse_stored(text: &str) -> Option<DateTime<Utc>> {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        b.get(range)?.iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let shape = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if b.len() < 20 || b[b.len() - 1] != b'Z' || shape.iter().any(|&(i, c)| b[i] != c) {
        return None;
    }
    let fraction = &b[19..b.len() - 1];
    let nanos = match fraction {
        [] => 0,
        [b'.', rest @ ..] if (1..=9).contains(&rest.len()) => {
            digits(20..20 + rest.len())? * 10u32.pow(9 - rest.len() as u32)
        }
        _ => return None,
    };
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    if second > 59 {
        return None; // a leap second: chrono's parser knows what to make of it
    }
    Some(
        NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?
            .and_hms_nano_opt(hour, minute, second, nanos)?
            .and_utc(),
    )
}

struct StoredTime;

impl<'de> Visitor<'de> for StoredTime {
    type Value = DateTime<Utc>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an RFC 3339 time")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<DateTime<Utc>, E> {
        match parse_stored(text) {
            Some(at) => Ok(at),
            None => text.parse().map_err(E::custom),
        }
    }
}

struct StoredTimeOpt;

impl<'de> Visitor<'de> for StoredTimeOpt {
    type Value = Option<DateTime<Utc>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an RFC 3339 time or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        stored(d).map(Some)
    }
}

/// `deserialize_with` for a stored `DateTime<Utc>` (chrono writes it).
pub fn stored<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    d.deserialize_str(StoredTime)
}

/// `deserialize_with` for a stored `Option<DateTime<Utc>>`; give the field
/// `default` too, so that a missing one is `None` as serde makes it without.
pub fn stored_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    d.deserialize_option(StoredTimeOpt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_times_read_fast_as_chrono_reads_them() {
        let chrono = |t: &str| t.parse::<DateTime<Utc>>().ok();
        let written = [
            "2026-11-24T07:14:08Z",
            "2026-11-24T07:14:08.4Z",
            "2026-11-24T07:14:08.409909Z",
            "2026-11-24T07:14:08.409909123Z",
            "2024-02-29T23:59:59.999999999Z",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
        ];
        for t in written {
            assert!(parse_stored(t).is_some(), "{t}");
            assert_eq!(parse_stored(t), chrono(t), "{t}");
        }
        // Not the written form: left to chrono, which may still accept it.
        let others = [
            "2026-11-24T07:14:08+00:00",
            "2026-11-24 07:14:08Z",
            "2026-11-24t07:14:08z",
            "2026-11-24T07:14:08.Z",
            "2026-11-24T07:14:08.4099091234Z",
            "2026-11-24T07:14:60Z",
            "2026-02-30T07:14:08Z",
            "2026-13-01T07:14:08Z",
            "2026-11-24T24:00:00Z",
            "+2026-11-24T07:14:08Z",
            "2026-1-24T07:14:08Z",
            "２026-11-24T07:14:08Z",
            "",
        ];
        for t in others {
            assert_eq!(parse_stored(t), None, "{t}");
        }
        for t in written.iter().chain(&others) {
            let via_serde: Result<DateTime<Utc>, serde_json::Error> =
                stored(&mut serde_json::Deserializer::from_str(&format!("{t:?}")));
            assert_eq!(via_serde.ok(), chrono(t), "{t}");
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("time")
    }

    #[test]
    fn countdowns_read_like_the_design() {
        let now = at("2026-01-01T12:00:00Z");
        assert_eq!(
            countdown(now, Some(at("2026-01-01T12:59:12Z"))),
            "in 59m 12s"
        );
        assert_eq!(
            countdown(now, Some(at("2026-01-01T09:00:00Z"))),
            "expired 3h ago"
        );
        assert_eq!(
            countdown(now, Some(at("2026-01-01T09:00:01Z"))),
            "expired 2h ago"
        );
        assert_eq!(countdown(now, None), "unknown");
        assert_eq!(countdown(now, Some(at("2026-01-01T12:00:05Z"))), "in 5s");
        assert_eq!(countdown(now, Some(at("2026-01-03T15:00:00Z"))), "in 2d 3h");
        assert_eq!(countdown(now, Some(at("2026-01-01T13:00:00Z"))), "in 1h");
        assert_eq!(countdown(now, Some(now)), "expired 0s ago");
    }
}
