//! Durations a person writes — a flag such as `--timeout`, a targets-file field such as
//! `timeout:` — parsed once into a `Duration` within documented bounds, so that no value
//! (`inf`, `NaN`, `-1`, `1e300`, `99999999999999999999999s`) can panic or overflow a deadline
//! later: every deadline is `now + d` with `d` at most [`MAX`].
//!
//! Accepted: a number of seconds (`30`, `2.5`, `1e3`), or a number with a unit: `ms`, `s`, `m`
//! (minutes), `h`.

use std::time::Duration;

/// The longest duration accepted anywhere: 7 days (604 800 s). A deadline longer than that is
/// a typo, and `Instant + MAX` is far from overflowing on every platform.
pub const MAX: Duration = Duration::from_secs(7 * 24 * 3600);

/// The smallest value a duration may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Min {
    /// Zero is allowed (a retry delay).
    Zero,
    /// Must be more than zero (a deadline: zero would fail every exchange at once).
    Positive,
}

/// Why a written duration was refused (the text is quoted as given).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error(
        "`{0}` is not a duration (expected seconds such as 30 or 2.5, or a number with a unit: 500ms, 30s, 5m, 1h)"
    )]
    Syntax(String),
    #[error("`{0}` is not a finite number of seconds")]
    NotFinite(String),
    #[error("`{0}` is negative (expected zero or more seconds)")]
    Negative(String),
    #[error("`{0}` must be more than zero")]
    Zero(String),
    #[error("`{0}` is longer than the 7-day limit (604800 s)")]
    TooLong(String),
}

/// Parse a written duration (see the module docs) no shorter than `min` and at most [`MAX`].
pub fn parse(text: &str, min: Min) -> Result<Duration, DurationError> {
    let t = text.trim();
    // The longest unit first: `5ms` is not 5 minutes and an `s`.
    let (num, scale) = [("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)]
        .iter()
        .find_map(|(unit, scale)| t.strip_suffix(unit).map(|n| (n.trim_end(), *scale)))
        .unwrap_or((t, 1.0));
    let n: f64 = num
        .parse()
        .map_err(|_| DurationError::Syntax(text.to_string()))?;
    checked(n, scale, min).map_err(|e| e(text.to_string()))
}

/// A number of seconds already parsed (a bare YAML number) no shorter than `min` and at most
/// [`MAX`]; `written` is how the file wrote it, for the error.
pub fn from_number(secs: f64, written: &str, min: Min) -> Result<Duration, DurationError> {
    checked(secs, 1.0, min).map_err(|e| e(written.to_string()))
}

/// `n × scale` seconds, checked; the error names what was wrong, for the caller's text.
fn checked(n: f64, scale: f64, min: Min) -> Result<Duration, fn(String) -> DurationError> {
    if !n.is_finite() {
        return Err(DurationError::NotFinite);
    }
    if n < 0.0 {
        return Err(DurationError::Negative);
    }
    let secs = n * scale;
    if secs > MAX.as_secs_f64() {
        return Err(DurationError::TooLong);
    }
    let d = Duration::from_secs_f64(secs);
    if min == Min::Positive && d.is_zero() {
        return Err(DurationError::Zero);
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepted_forms() {
        let ok = |t: &str| parse(t, Min::Zero).unwrap();
        assert_eq!(ok("30"), Duration::from_secs(30));
        assert_eq!(ok("2.5"), Duration::from_millis(2500));
        assert_eq!(ok("500ms"), Duration::from_millis(500));
        assert_eq!(ok(" 30 s "), Duration::from_secs(30));
        assert_eq!(ok("50m"), Duration::from_secs(3000));
        assert_eq!(ok("1h"), Duration::from_secs(3600));
        assert_eq!(ok("1e3"), Duration::from_secs(1000));
        assert_eq!(ok("0"), Duration::ZERO);
        assert_eq!(ok("168h"), MAX);
    }

    #[test]
    fn refused_forms_say_why() {
        use DurationError::*;
        let table: &[(&str, Min, DurationError)] = &[
            ("inf", Min::Zero, NotFinite("inf".into())),
            ("NaN", Min::Zero, NotFinite("NaN".into())),
            ("-infinity", Min::Zero, NotFinite("-infinity".into())),
            ("-1", Min::Zero, Negative("-1".into())),
            ("1e20", Min::Positive, TooLong("1e20".into())),
            ("1e19", Min::Positive, TooLong("1e19".into())),
            ("1e300", Min::Zero, TooLong("1e300".into())),
            ("1e306h", Min::Zero, TooLong("1e306h".into())),
            (
                "99999999999999999999999s",
                Min::Zero,
                TooLong("99999999999999999999999s".into()),
            ),
            ("604801", Min::Zero, TooLong("604801".into())),
            ("0", Min::Positive, Zero("0".into())),
            ("1e-12", Min::Positive, Zero("1e-12".into())),
            ("", Min::Zero, Syntax("".into())),
            ("soon", Min::Zero, Syntax("soon".into())),
            ("5 minutes", Min::Zero, Syntax("5 minutes".into())),
            ("1y", Min::Zero, Syntax("1y".into())),
            ("ms", Min::Zero, Syntax("ms".into())),
        ];
        for (text, min, want) in table {
            assert_eq!(parse(text, *min).as_ref(), Err(want), "{text}");
        }
        assert_eq!(
            from_number(f64::MAX, "1.8e308", Min::Zero),
            Err(TooLong("1.8e308".into()))
        );
        assert_eq!(
            from_number(f64::INFINITY, ".inf", Min::Zero),
            Err(NotFinite(".inf".into()))
        );
    }

    proptest! {
        // Whatever the text, parsing never panics, and what it accepts is within the bounds.
        #[test]
        fn any_text_is_a_bounded_duration_or_an_error(t in "\\PC{0,24}") {
            if let Ok(d) = parse(&t, Min::Positive) {
                prop_assert!(!d.is_zero() && d <= MAX);
            }
        }

        #[test]
        fn any_number_is_a_bounded_duration_or_an_error(
            n in prop_oneof![
                any::<f64>(),
                Just(f64::INFINITY),
                Just(f64::NAN),
                Just(u64::MAX as f64),
                Just(-0.0),
            ],
            unit in prop_oneof![Just(""), Just("ms"), Just("s"), Just("m"), Just("h")],
        ) {
            let t = format!("{n}{unit}");
            match parse(&t, Min::Zero) {
                Ok(d) => prop_assert!(d <= MAX),
                Err(e) => prop_assert!(!e.to_string().is_empty()),
            }
            if let Ok(d) = from_number(n, &t, Min::Zero) {
                prop_assert!(d <= MAX);
                // A deadline built from it never overflows.
                prop_assert!(std::time::Instant::now().checked_add(d).is_some());
            }
        }
    }
}
