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

/// The last moment `text` names, for an upper bound: a date alone is the end of that day, a
/// time to the minute or second the end of that minute or second (so `--until` with the time
/// a table shows keeps that step); a duration or an RFC 3339 time is that moment.
pub fn parse_end_at(text: &str, now: SystemTime) -> Result<SystemTime, String> {
    let at = parse_at(text, now)?;
    let whole = match text.trim().len() {
        10 => Duration::from_secs(86_400),
        16 => Duration::from_secs(60),
        19 if !text.contains('T') => Duration::from_secs(1),
        _ => return Ok(at),
    };
    Ok(at + whole - Duration::from_millis(1))
}

/// [`parse_end_at`] from the clock's now.
pub fn parse_end(text: &str) -> Result<SystemTime, String> {
    parse_end_at(text, SystemTime::now())
}

/// A moment that is not in the future (a minute of clock skew allowed): what happened.
pub fn parse_past(text: &str) -> Result<SystemTime, String> {
    let now = SystemTime::now();
    let at = parse_at(text, now)?;
    if at > now + Duration::from_secs(60) {
        return Err(format!(
            "{:?} is in the future (now is {} UTC): a step is recorded when it happens",
            text.trim(),
            utc(now)
        ));
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> SystemTime {
        humantime::parse_rfc3339(text).unwrap()
    }

    #[test]
    fn an_upper_bound_runs_to_the_end_of_what_it_names() {
        let now = at("2026-12-05T12:00:00Z");
        let end = |text| parse_end_at(text, now).unwrap();
        assert_eq!(end("2026-12-05"), at("2026-12-05T23:59:59.999Z"));
        assert_eq!(end("2026-12-05 08:00"), at("2026-12-05T08:00:59.999Z"));
        assert_eq!(end("2026-12-05 08:00:07"), at("2026-12-05T08:00:07.999Z"));
        assert_eq!(end("2026-12-05T08:00:07Z"), at("2026-12-05T08:00:07Z"));
        assert_eq!(end("1h"), at("2026-12-05T11:00:00Z"));
        assert!(parse_end_at("yesterday", now).is_err());
    }

    #[test]
    fn a_step_cannot_be_recorded_in_the_future() {
        assert!(parse_past("1h").is_ok());
        let err = parse_past("2999-01-01").unwrap_err();
        assert!(err.contains("in the future"), "{err}");
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
