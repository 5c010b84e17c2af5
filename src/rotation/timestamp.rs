//! RFC 3339 text for rotation timestamps: UTC, whole seconds.

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

use super::RotationError;

/// Formats `instant` as RFC 3339 in UTC with whole seconds, for example
/// `2024-02-29T08:30:00Z`.
///
/// The sub-second part is truncated, not rounded, so formatting never moves an instant
/// past a deadline that it has not reached.
///
/// # Errors
///
/// [`RotationError::TimestampOutOfRange`] when the UTC year is outside 0000 to 9999,
/// which RFC 3339 cannot express.
pub fn format_rfc3339(instant: OffsetDateTime) -> Result<String, RotationError> {
    to_utc_seconds(instant)?
        .format(&Rfc3339)
        .map_err(|_| out_of_range(instant))
}

/// Parses an RFC 3339 timestamp and returns it in UTC with whole seconds.
///
/// Any offset is accepted and converted to UTC, and a fractional second is truncated,
/// so the result equals what [`format_rfc3339`] would store.
///
/// # Errors
///
/// [`RotationError::InvalidTimestamp`] when `text` is not RFC 3339, and
/// [`RotationError::TimestampOutOfRange`] when its UTC year leaves 0000 to 9999.
pub fn parse_rfc3339(text: &str) -> Result<OffsetDateTime, RotationError> {
    let parsed = OffsetDateTime::parse(text, &Rfc3339).map_err(|source| {
        RotationError::InvalidTimestamp {
            value: text.to_owned(),
            source,
        }
    })?;
    to_utc_seconds(parsed)
}

/// Converts `instant` to UTC.
///
/// # Errors
///
/// [`RotationError::TimestampOutOfRange`] when the conversion crosses the first or last
/// instant that `OffsetDateTime` supports, as `9999-12-31T23:00:00-05:00` does.
pub(super) fn to_utc(instant: OffsetDateTime) -> Result<OffsetDateTime, RotationError> {
    instant
        .checked_to_offset(UtcOffset::UTC)
        .ok_or_else(|| out_of_range(instant))
}

fn to_utc_seconds(instant: OffsetDateTime) -> Result<OffsetDateTime, RotationError> {
    let utc = to_utc(instant)?;
    // Zero nanoseconds is always a valid value, so the fallback is never taken.
    Ok(utc.replace_nanosecond(0).unwrap_or(utc))
}

fn out_of_range(instant: OffsetDateTime) -> RotationError {
    RotationError::TimestampOutOfRange {
        value: instant.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn format_is_utc_with_z() {
        let text = format_rfc3339(datetime!(2024-02-29 10:30:00 +02:00)).unwrap();
        assert_eq!(text, "2024-02-29T08:30:00Z");
    }

    #[test]
    fn format_truncates_fraction() {
        let text = format_rfc3339(datetime!(2024-01-01 23:59:59.999 UTC)).unwrap();
        assert_eq!(text, "2024-01-01T23:59:59Z");
    }

    #[test]
    fn format_rejects_years_beyond_rfc3339() {
        let cases = [
            ("after-9999-in-utc", datetime!(9999-12-31 23:00 -05:00)),
            ("negative-year", datetime!(-0001-06-01 0:00 UTC)),
        ];
        for (name, instant) in cases {
            let result = format_rfc3339(instant);
            assert!(
                matches!(result, Err(RotationError::TimestampOutOfRange { .. })),
                "{name}: {result:?}"
            );
        }
    }

    #[test]
    fn parse_rejects_year_beyond_rfc3339_in_utc() {
        let result = parse_rfc3339("9999-12-31T23:00:00-05:00");
        assert!(
            matches!(result, Err(RotationError::TimestampOutOfRange { .. })),
            "{result:?}"
        );
    }

    #[test]
    fn parse_cases() {
        let cases = [
            (
                "utc-z",
                "2024-02-29T08:30:00Z",
                datetime!(2024-02-29 8:30 UTC),
            ),
            (
                "offset-converted",
                "2024-03-01T01:30:00+02:00",
                datetime!(2024-02-29 23:30 UTC),
            ),
            (
                "fraction-truncated",
                "2024-01-01T00:00:00.75Z",
                datetime!(2024-01-01 0:00 UTC),
            ),
            (
                "lowercase-separators",
                "2024-01-01t00:00:00z",
                datetime!(2024-01-01 0:00 UTC),
            ),
        ];
        for (name, text, expected) in cases {
            let parsed = parse_rfc3339(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(parsed, expected, "{name}");
            assert!(parsed.offset().is_utc(), "{name}");
        }
    }

    #[test]
    fn parse_rejects_invalid_text() {
        let cases = [
            ("empty", ""),
            ("date-only", "2024-01-01"),
            ("no-offset", "2024-01-01T00:00:00"),
            ("feb-30", "2024-02-30T00:00:00Z"),
            ("feb-29-common-year", "2023-02-29T00:00:00Z"),
        ];
        for (name, text) in cases {
            let error = parse_rfc3339(text).expect_err(name);
            assert!(
                error.to_string().contains("invalid RFC 3339 timestamp"),
                "{name}"
            );
        }
    }

    #[test]
    fn round_trip_keeps_seconds() {
        let instant = datetime!(2024-12-31 23:59:59 UTC);
        assert_eq!(
            parse_rfc3339(&format_rfc3339(instant).unwrap()).unwrap(),
            instant
        );
    }
}
