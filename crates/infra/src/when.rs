//! Times as stackctl shows and reads them: UTC, `YYYY-MM-DD hh:mm:ss` on screen; and one
//! syntax for every flag that takes a moment (`logs --since`, `history --since/--until`): a
//! duration back from now (`90s`, `10m`, `1h`, `2d`, `1h 30m`), a date (`2026-12-05`, its
//! midnight), a date and time (`2026-12-05 08:00:00`, `2026-12-05 08:00`), or RFC 3339.

use std::time::{Duration, SystemTime};

/// `YYYY-MM-DD hh:mm:ss`, UTC.
pub fn utc(time: SystemTime) -> String {
    humantime::format_rfc3339_seconds(time)
        .to_string()
        .replacen('T', " ", 1)
        .trim_end_matches('Z')
        .to_owned()
}

/// An AWS timestamp as [`utc`] shows it (`None` when it is out of range).
pub fn utc_of(time: &aws_smithy_types::DateTime) -> Option<String> {
    SystemTime::try_from(*time).ok().map(utc)
}

/// What the moment flags accept, for their help and their errors.
pub const SYNTAX: &str = "a duration back from now (30s, 10m, 2h, 1d), a date (2026-12-05), or a \
                          UTC date and time (\"2026-12-05 08:00:00\")";

/// A moment, in any of the forms [`SYNTAX`] names; durations count back from `now`.
pub fn parse_at(text: &str, now: SystemTime) -> Result<SystemTime, String> {
    let text = text.trim();
    let wrong = || format!("{text:?} is not a time: write {SYNTAX}");
    if text.is_empty() {
        return Err(wrong());
    }
    if text.starts_with(|c: char| c.is_ascii_digit()) && !text.contains('-') {
        let back: Duration = humantime::parse_duration(text).map_err(|_| wrong())?;
        return now.checked_sub(back).ok_or_else(wrong);
    }
    let full = match text.len() {
        10 => format!("{text} 00:00:00"),
        16 => format!("{text}:00"),
        _ => text.to_owned(),
    };
    let at = humantime::parse_rfc3339_weak(&full)
        .or_else(|_| humantime::parse_rfc3339(text))
        .map_err(|_| wrong())?;
    Ok(at)
}

/// [`parse_at`] from the clock's now (for clap's value parsers).
pub fn parse(text: &str) -> Result<SystemTime, String> {
    parse_at(text, SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> SystemTime {
        humantime::parse_rfc3339(text).unwrap()
    }

    #[test]
    fn durations_dates_and_date_times_are_one_syntax() {
        let now = at("2026-12-05T12:00:00Z");
        assert_eq!(parse_at("1h", now), Ok(at("2026-12-05T11:00:00Z")));
        assert_eq!(parse_at("90s", now), Ok(at("2026-12-05T11:58:30Z")));
        assert_eq!(parse_at("1h 30m", now), Ok(at("2026-12-05T10:30:00Z")));
        assert_eq!(parse_at("2026-12-05", now), Ok(at("2026-12-05T00:00:00Z")));
        assert_eq!(
            parse_at("2026-12-05 08:00", now),
            Ok(at("2026-12-05T08:00:00Z"))
        );
        assert_eq!(
            parse_at(" 2026-12-05 08:00:07 ", now),
            Ok(at("2026-12-05T08:00:07Z"))
        );
        assert_eq!(
            parse_at("2026-12-05T08:00:07Z", now),
            Ok(at("2026-12-05T08:00:07Z"))
        );
    }

    #[test]
    fn anything_else_names_the_forms_it_takes() {
        let now = at("2026-12-05T12:00:00Z");
        for bad in ["", "last tuesday", "2026-13-45", "1 parsec", "-1h"] {
            let err = parse_at(bad, now).unwrap_err();
            assert!(err.contains("a duration back from now"), "{bad}: {err}");
        }
    }

    #[test]
    fn utc_shows_seconds_without_a_zone_letter() {
        assert_eq!(utc(at("2026-12-05T08:00:07Z")), "2026-12-05 08:00:07");
    }
}
