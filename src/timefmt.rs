//! Times as people read them: `in 59m 12s`, `expired 3h ago`, `unknown`.
//!
//! Pure functions of `now` and a moment, so that output is reproducible
//! with a fixed clock.

use chrono::{DateTime, TimeDelta, Utc};

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

#[cfg(test)]
mod tests {
    use super::*;

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
