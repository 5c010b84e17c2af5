//! The rotation policy that credentials follow, validated against SRS's limits.

use std::fmt;
use std::ops::RangeInclusive;
use std::str::FromStr;

use super::RotationError;

/// SRS cuts off integration for credentials older than 180 days (6 months).
pub const MAX_AGE_CAP_DAYS: u32 = 180;

/// Plan behaviour once a credential is past its mandatory deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Enforcement {
    /// The plan fails.
    #[default]
    Error,
    /// The plan succeeds with a warning.
    Warn,
}

impl Enforcement {
    /// Returns the configuration spelling: `error` or `warn`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warn => "warn",
        }
    }
}

impl fmt::Display for Enforcement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Enforcement {
    type Err = RotationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "error" => Ok(Self::Error),
            "warn" => Ok(Self::Warn),
            _ => Err(RotationError::InvalidEnforcement {
                value: text.to_owned(),
            }),
        }
    }
}

/// Unvalidated policy values as a configuration gives them.
///
/// Fields are `i64` so that negative and oversized numbers reach [`Rules::new`] and get
/// a precise error instead of failing a conversion earlier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RulesInput {
    /// Age in days at which rotation is recommended.
    pub rotate_after_days: i64,
    /// Age in days at which the credential expires (the mandatory deadline).
    pub max_age_days: i64,
    /// Days that the previous version stays valid after a rotation.
    pub overlap_days: i64,
    /// Days before the mandatory deadline during which plans warn.
    pub warn_before_days: i64,
    /// Plan behaviour after the mandatory deadline.
    pub enforcement: Enforcement,
}

impl Default for RulesInput {
    /// SRS's recommendation (90 days) and limit (180 days), one week of overlap for
    /// deploying and verifying the new secret, and a 30-day warning window.
    fn default() -> Self {
        Self {
            rotate_after_days: 90,
            max_age_days: i64::from(MAX_AGE_CAP_DAYS),
            overlap_days: 7,
            warn_before_days: 30,
            enforcement: Enforcement::Error,
        }
    }
}

/// A validated rotation policy.
///
/// The ranges, checked by [`Rules::new`]:
///
/// - `max_age_days`: 1 to 180, because SRS cuts off credentials older than 180 days.
/// - `rotate_after_days`: 1 to `max_age_days`, so rotation is due before or at expiry.
/// - `overlap_days`: 0 to `rotate_after_days` − 1, so that on schedule the previous
///   version retires before the next rotation is due.
/// - `warn_before_days`: 0 to `max_age_days` − 1, so the warning window opens after
///   the credential is issued. 0 means no warning window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    rotate_after_days: u32,
    max_age_days: u32,
    overlap_days: u32,
    warn_before_days: u32,
    enforcement: Enforcement,
}

impl Default for Rules {
    fn default() -> Self {
        Self::new(RulesInput::default()).expect("default rules are valid")
    }
}

impl Rules {
    /// Validates `input` and returns the policy.
    ///
    /// # Errors
    ///
    /// One [`RotationError::OutOfRange`] per invalid field, in the order `max_age_days`,
    /// `rotate_after_days`, `overlap_days`, `warn_before_days`. When a field that bounds
    /// another is itself invalid, the other is checked against the widest bound that
    /// SRS allows, so every error is reported in one pass.
    pub fn new(input: RulesInput) -> Result<Self, Vec<RotationError>> {
        let mut errors = Vec::new();
        let cap = i64::from(MAX_AGE_CAP_DAYS);

        let max_age = check(&mut errors, MAX_AGE, input.max_age_days, 1..=cap);
        let max_age_bound = max_age.map_or(cap, i64::from);
        let rotate_after = check(
            &mut errors,
            ROTATE_AFTER,
            input.rotate_after_days,
            1..=max_age_bound,
        );
        let rotate_after_bound = rotate_after.map_or(max_age_bound, i64::from);
        let overlap = check(
            &mut errors,
            OVERLAP,
            input.overlap_days,
            0..=rotate_after_bound - 1,
        );
        let warn_before = check(
            &mut errors,
            WARN_BEFORE,
            input.warn_before_days,
            0..=max_age_bound - 1,
        );

        match (rotate_after, max_age, overlap, warn_before) {
            (
                Some(rotate_after_days),
                Some(max_age_days),
                Some(overlap_days),
                Some(warn_before_days),
            ) => Ok(Self {
                rotate_after_days,
                max_age_days,
                overlap_days,
                warn_before_days,
                enforcement: input.enforcement,
            }),
            _ => Err(errors),
        }
    }

    /// Age in days at which rotation is recommended.
    pub fn rotate_after_days(&self) -> u32 {
        self.rotate_after_days
    }

    /// Age in days at which the credential expires.
    pub fn max_age_days(&self) -> u32 {
        self.max_age_days
    }

    /// Days that the previous version stays valid after a rotation.
    pub fn overlap_days(&self) -> u32 {
        self.overlap_days
    }

    /// Days before expiry during which plans warn. 0 means no warning window.
    pub fn warn_before_days(&self) -> u32 {
        self.warn_before_days
    }

    /// Returns the plan behaviour after the mandatory deadline.
    pub fn enforcement(&self) -> Enforcement {
        self.enforcement
    }
}

struct FieldRule {
    name: &'static str,
    reason: &'static str,
}

const MAX_AGE: FieldRule = FieldRule {
    name: "max_age_days",
    reason: "SRS cuts off integration for credentials older than 180 days",
};
const ROTATE_AFTER: FieldRule = FieldRule {
    name: "rotate_after_days",
    reason: "rotation must be due no later than max_age_days",
};
const OVERLAP: FieldRule = FieldRule {
    name: "overlap_days",
    reason: "the previous version must be retired before the next rotation is due",
};
const WARN_BEFORE: FieldRule = FieldRule {
    name: "warn_before_days",
    reason: "the warning window must open after the credential is issued",
};

/// Returns `value` when `allowed` contains it, and otherwise records an error and
/// returns `None`.
fn check(
    errors: &mut Vec<RotationError>,
    field: FieldRule,
    value: i64,
    allowed: RangeInclusive<i64>,
) -> Option<u32> {
    if allowed.contains(&value) {
        // Every allowed range starts at 0 or 1 and ends at 180 at most.
        return u32::try_from(value).ok();
    }
    errors.push(RotationError::OutOfRange {
        field: field.name,
        value,
        min: *allowed.start(),
        max: *allowed.end(),
        reason: field.reason,
    });
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(rotate_after: i64, max_age: i64, overlap: i64, warn_before: i64) -> RulesInput {
        RulesInput {
            rotate_after_days: rotate_after,
            max_age_days: max_age,
            overlap_days: overlap,
            warn_before_days: warn_before,
            enforcement: Enforcement::Error,
        }
    }

    /// `(field, min, max)` of one range error.
    type Failure = (&'static str, i64, i64);

    /// Returns the failure of every error, in order.
    fn failures(input: RulesInput) -> Vec<Failure> {
        match Rules::new(input) {
            Ok(_) => Vec::new(),
            Err(errors) => errors
                .into_iter()
                .map(|error| match error {
                    RotationError::OutOfRange {
                        field, min, max, ..
                    } => (field, min, max),
                    other => panic!("unexpected error {other}"),
                })
                .collect(),
        }
    }

    #[test]
    fn defaults_follow_srs() {
        let rules = Rules::default();
        assert_eq!(rules.rotate_after_days(), 90);
        assert_eq!(rules.max_age_days(), 180);
        assert_eq!(rules.overlap_days(), 7);
        assert_eq!(rules.warn_before_days(), 30);
        assert_eq!(rules.enforcement(), Enforcement::Error);
    }

    #[test]
    fn validation_table() {
        let cases: &[(&str, RulesInput, &[Failure])] = &[
            ("defaults", RulesInput::default(), &[]),
            ("tightest", input(1, 1, 0, 0), &[]),
            ("widest", input(180, 180, 179, 179), &[]),
            (
                "max-age-zero",
                input(1, 0, 0, 0),
                &[("max_age_days", 1, 180)],
            ),
            (
                "max-age-over-cap",
                input(90, 181, 7, 30),
                &[("max_age_days", 1, 180)],
            ),
            (
                "max-age-negative",
                input(90, -1, 7, 30),
                &[("max_age_days", 1, 180)],
            ),
            (
                "rotate-after-zero",
                input(0, 180, 0, 30),
                &[("rotate_after_days", 1, 180)],
            ),
            (
                "rotate-after-past-max-age",
                input(91, 90, 7, 30),
                &[("rotate_after_days", 1, 90)],
            ),
            (
                "rotate-after-bound-by-cap",
                input(200, 0, 7, 30),
                &[("max_age_days", 1, 180), ("rotate_after_days", 1, 180)],
            ),
            (
                "overlap-equals-rotate-after",
                input(30, 180, 30, 30),
                &[("overlap_days", 0, 29)],
            ),
            (
                "overlap-negative",
                input(90, 180, -1, 30),
                &[("overlap_days", 0, 89)],
            ),
            (
                "overlap-bound-by-max-age",
                input(0, 60, 60, 30),
                &[("rotate_after_days", 1, 60), ("overlap_days", 0, 59)],
            ),
            (
                "warn-equals-max-age",
                input(90, 180, 7, 180),
                &[("warn_before_days", 0, 179)],
            ),
            (
                "warn-negative",
                input(90, 180, 7, -5),
                &[("warn_before_days", 0, 179)],
            ),
            (
                "all-invalid",
                input(-1, 999, -1, -1),
                &[
                    ("max_age_days", 1, 180),
                    ("rotate_after_days", 1, 180),
                    ("overlap_days", 0, 179),
                    ("warn_before_days", 0, 179),
                ],
            ),
            (
                "huge-values",
                input(i64::MAX, i64::MAX, i64::MIN, i64::MAX),
                &[
                    ("max_age_days", 1, 180),
                    ("rotate_after_days", 1, 180),
                    ("overlap_days", 0, 179),
                    ("warn_before_days", 0, 179),
                ],
            ),
        ];
        for (name, input, expected) in cases {
            assert_eq!(failures(*input), expected.to_vec(), "{name}");
        }
    }

    #[test]
    fn error_names_field_range_and_value() {
        let errors = Rules::new(input(90, 181, 7, 30)).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].to_string(),
            "invalid max_age_days 181: must be between 1 and 180 because SRS cuts off \
             integration for credentials older than 180 days"
        );
    }

    #[test]
    fn enforcement_parses_its_spelling() {
        assert_eq!("error".parse::<Enforcement>().unwrap(), Enforcement::Error);
        assert_eq!("warn".parse::<Enforcement>().unwrap(), Enforcement::Warn);
        assert_eq!(Enforcement::Warn.to_string(), "warn");

        let error = "Warn".parse::<Enforcement>().unwrap_err();
        assert_eq!(
            error.to_string(),
            r#"invalid enforcement "Warn": expected "error" or "warn""#
        );
    }
}
