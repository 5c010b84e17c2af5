//! Deadline arithmetic: when a credential should rotate, when it expires, and when the
//! version it replaced retires.
//!
//! A day is 86 400 seconds of UTC, so deadlines keep the time of day of the issue
//! instant and leap days count like any other day. Each deadline instant belongs to the
//! later state: at exactly `rotate_by` the credential is due, at exactly `expires_at` it
//! is expired.

use std::fmt;

use time::{Duration, OffsetDateTime};

use super::timestamp::to_utc;
use super::{RotationError, Rules};

/// A credential's age relative to its deadlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Younger than `rotate_after_days`.
    Current,
    /// At or past `rotate_by` but before `expires_at`.
    Due,
    /// At or past `expires_at`, so SRS no longer accepts the credential.
    Expired,
}

impl Status {
    /// Returns the lowercase name shown in plans: `current`, `due` or `expired`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Current => "current",
            Self::Due => "due",
            Self::Expired => "expired",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// State of the superseded version during its overlap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreviousVersion {
    /// No version was superseded.
    Absent,
    /// The previous version still serves applications that have not switched yet.
    InOverlap {
        /// When the overlap ends.
        retire_at: OffsetDateTime,
    },
    /// The overlap has ended, so the previous version should be retired.
    RetireDue {
        /// When the overlap ended.
        retire_at: OffsetDateTime,
    },
}

/// The deadlines of one credential version, all in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    /// When the current version was issued.
    pub issued_at: OffsetDateTime,
    /// `issued_at` + `rotate_after_days`: rotation is recommended from here on.
    pub rotate_by: OffsetDateTime,
    /// `issued_at` + `max_age_days`: the mandatory deadline.
    pub expires_at: OffsetDateTime,
    /// `expires_at` − `warn_before_days`, or `None` when the policy has no warning window.
    pub warn_from: Option<OffsetDateTime>,
    /// When the previous version was superseded + `overlap_days`, if there is one.
    pub previous_retire_at: Option<OffsetDateTime>,
}

impl Deadlines {
    /// Computes the deadlines of a version issued at `issued_at` under `rules`.
    ///
    /// `previous_superseded_at` is when this version replaced the previous one, usually
    /// `issued_at` itself, or later when the new version was staged before promotion.
    ///
    /// # Errors
    ///
    /// [`RotationError::TimestampOutOfRange`] when an instant cannot be converted to UTC
    /// or a deadline falls after year 9999.
    pub fn compute(
        rules: &Rules,
        issued_at: OffsetDateTime,
        previous_superseded_at: Option<OffsetDateTime>,
    ) -> Result<Self, RotationError> {
        let issued_at = to_utc(issued_at)?;
        let expires_at = add_days(issued_at, rules.max_age_days())?;
        let warn_from = match rules.warn_before_days() {
            0 => None,
            // Validation keeps warn_before_days below max_age_days, so this stays after
            // issued_at and cannot overflow.
            days => Some(expires_at - Duration::days(i64::from(days))),
        };
        let previous_retire_at = previous_superseded_at
            .map(|superseded| add_days(to_utc(superseded)?, rules.overlap_days()))
            .transpose()?;

        Ok(Self {
            issued_at,
            rotate_by: add_days(issued_at, rules.rotate_after_days())?,
            expires_at,
            warn_from,
            previous_retire_at,
        })
    }

    /// Returns the credential's status at `now`.
    pub fn status(&self, now: OffsetDateTime) -> Status {
        if now >= self.expires_at {
            Status::Expired
        } else if now >= self.rotate_by {
            Status::Due
        } else {
            Status::Current
        }
    }

    /// Returns whether `now` lies in the warning window, `warn_from` <= now < `expires_at`.
    pub fn warning_window_open(&self, now: OffsetDateTime) -> bool {
        self.warn_from
            .is_some_and(|warn_from| warn_from <= now && now < self.expires_at)
    }

    /// Returns the whole days from `now` until `rotate_by`; see [`whole_days_until`].
    pub fn days_until_rotation(&self, now: OffsetDateTime) -> i64 {
        whole_days_until(now, self.rotate_by)
    }

    /// Returns the whole days from `now` until `expires_at`; see [`whole_days_until`].
    pub fn days_until_expiry(&self, now: OffsetDateTime) -> i64 {
        whole_days_until(now, self.expires_at)
    }

    /// Returns the state of the previous version at `now`.
    ///
    /// At exactly `previous_retire_at` the retirement is due.
    pub fn previous_version(&self, now: OffsetDateTime) -> PreviousVersion {
        match self.previous_retire_at {
            None => PreviousVersion::Absent,
            Some(retire_at) if now >= retire_at => PreviousVersion::RetireDue { retire_at },
            Some(retire_at) => PreviousVersion::InOverlap { retire_at },
        }
    }
}

/// Returns the number of whole days from `now` to `deadline`, truncated toward zero.
///
/// A positive value counts full days left and a negative value full days overdue. A
/// partial day does not count, so 0 means the deadline is less than 24 hours away on
/// either side; [`Deadlines::status`] returns which side.
pub fn whole_days_until(now: OffsetDateTime, deadline: OffsetDateTime) -> i64 {
    (deadline - now).whole_days()
}

fn add_days(instant: OffsetDateTime, days: u32) -> Result<OffsetDateTime, RotationError> {
    instant
        .checked_add(Duration::days(i64::from(days)))
        .ok_or_else(|| RotationError::TimestampOutOfRange {
            value: instant.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::rotation::{Clock, ManualClock, RulesInput};

    fn rules(rotate_after: i64, max_age: i64, overlap: i64, warn_before: i64) -> Rules {
        Rules::new(RulesInput {
            rotate_after_days: rotate_after,
            max_age_days: max_age,
            overlap_days: overlap,
            warn_before_days: warn_before,
            ..RulesInput::default()
        })
        .unwrap()
    }

    #[test]
    fn compute_adds_days_to_issue_instant() {
        let issued = datetime!(2023-01-01 09:15 UTC);
        let deadlines = Deadlines::compute(&Rules::default(), issued, Some(issued)).unwrap();
        assert_eq!(deadlines.issued_at, issued);
        assert_eq!(deadlines.rotate_by, datetime!(2023-04-01 09:15 UTC));
        assert_eq!(deadlines.expires_at, datetime!(2023-06-30 09:15 UTC));
        assert_eq!(deadlines.warn_from, Some(datetime!(2023-05-31 09:15 UTC)));
        assert_eq!(
            deadlines.previous_retire_at,
            Some(datetime!(2023-01-08 09:15 UTC))
        );
    }

    #[test]
    fn compute_counts_leap_day() {
        let leap = Deadlines::compute(&Rules::default(), datetime!(2024-01-01 0:00 UTC), None);
        let common = Deadlines::compute(&Rules::default(), datetime!(2023-01-01 0:00 UTC), None);
        assert_eq!(leap.unwrap().rotate_by, datetime!(2024-03-31 0:00 UTC));
        assert_eq!(common.unwrap().rotate_by, datetime!(2023-04-01 0:00 UTC));
    }

    #[test]
    fn compute_from_leap_day() {
        let issued = datetime!(2024-02-29 12:00 UTC);
        let deadlines = Deadlines::compute(&rules(1, 180, 0, 0), issued, None).unwrap();
        assert_eq!(deadlines.rotate_by, datetime!(2024-03-01 12:00 UTC));
        assert_eq!(deadlines.expires_at, datetime!(2024-08-27 12:00 UTC));
    }

    #[test]
    fn compute_converts_to_utc() {
        let deadlines =
            Deadlines::compute(&Rules::default(), datetime!(2024-01-01 01:00 +02:00), None)
                .unwrap();
        assert!(deadlines.issued_at.offset().is_utc());
        assert_eq!(deadlines.issued_at, datetime!(2023-12-31 23:00 UTC));
        assert!(deadlines.rotate_by.offset().is_utc());
    }

    #[test]
    fn compute_without_warning_window_or_previous() {
        let deadlines =
            Deadlines::compute(&rules(90, 180, 7, 0), datetime!(2024-01-01 0:00 UTC), None)
                .unwrap();
        assert_eq!(deadlines.warn_from, None);
        assert_eq!(deadlines.previous_retire_at, None);
        assert!(!deadlines.warning_window_open(datetime!(2024-06-28 0:00 UTC)));
    }

    #[test]
    fn compute_rejects_deadline_after_year_9999() {
        let result = Deadlines::compute(&Rules::default(), datetime!(9999-10-01 0:00 UTC), None);
        assert!(matches!(
            result,
            Err(RotationError::TimestampOutOfRange { .. })
        ));
    }

    #[test]
    fn clock_walks_current_due_warning_expired() {
        let issued = datetime!(2024-01-01 0:00 UTC);
        let deadlines = Deadlines::compute(&Rules::default(), issued, None).unwrap();
        let clock = ManualClock::new(issued);

        assert_eq!(deadlines.status(clock.now()), Status::Current);
        assert!(!deadlines.warning_window_open(clock.now()));
        assert_eq!(deadlines.days_until_rotation(clock.now()), 90);
        assert_eq!(deadlines.days_until_expiry(clock.now()), 180);

        clock.advance(Duration::days(90));
        assert_eq!(deadlines.status(clock.now()), Status::Due);
        assert!(!deadlines.warning_window_open(clock.now()));
        assert_eq!(deadlines.days_until_rotation(clock.now()), 0);
        assert_eq!(deadlines.days_until_expiry(clock.now()), 90);

        clock.advance(Duration::days(60));
        assert_eq!(deadlines.status(clock.now()), Status::Due);
        assert!(deadlines.warning_window_open(clock.now()));
        assert_eq!(deadlines.days_until_expiry(clock.now()), 30);

        clock.advance(Duration::days(30));
        assert_eq!(deadlines.status(clock.now()), Status::Expired);
        assert!(!deadlines.warning_window_open(clock.now()));
        assert_eq!(deadlines.days_until_expiry(clock.now()), 0);

        clock.advance(Duration::days(3));
        assert_eq!(deadlines.days_until_expiry(clock.now()), -3);
        assert_eq!(deadlines.days_until_rotation(clock.now()), -93);
    }

    #[test]
    fn edges_at_each_deadline() {
        let issued = datetime!(2024-01-01 0:00 UTC);
        let d = Deadlines::compute(&Rules::default(), issued, None).unwrap();
        let second = Duration::seconds(1);

        assert_eq!(d.status(d.rotate_by - second), Status::Current);
        assert_eq!(d.status(d.rotate_by), Status::Due);
        assert_eq!(d.status(d.expires_at - second), Status::Due);
        assert_eq!(d.status(d.expires_at), Status::Expired);

        let warn_from = d.warn_from.unwrap();
        assert!(!d.warning_window_open(warn_from - second));
        assert!(d.warning_window_open(warn_from));
        assert!(d.warning_window_open(d.expires_at - second));
        assert!(!d.warning_window_open(d.expires_at));
    }

    #[test]
    fn whole_days_truncate_toward_zero() {
        let deadline = datetime!(2024-03-01 0:00 UTC);
        let cases = [
            ("full-day-left", datetime!(2024-02-29 0:00 UTC), 1),
            ("almost-two-days-left", datetime!(2024-02-28 0:00:01 UTC), 1),
            ("one-second-left", datetime!(2024-02-29 23:59:59 UTC), 0),
            ("at-deadline", deadline, 0),
            ("one-second-over", datetime!(2024-03-01 0:00:01 UTC), 0),
            ("full-day-over", datetime!(2024-03-02 0:00 UTC), -1),
            (
                "almost-two-days-over",
                datetime!(2024-03-02 23:59:59 UTC),
                -1,
            ),
        ];
        for (name, now, expected) in cases {
            assert_eq!(whole_days_until(now, deadline), expected, "{name}");
        }
    }

    #[test]
    fn clock_walks_overlap_to_retirement() {
        let issued = datetime!(2024-02-26 06:00 UTC);
        let promoted = datetime!(2024-02-27 06:00 UTC);
        let d = Deadlines::compute(&Rules::default(), issued, Some(promoted)).unwrap();
        let retire_at = datetime!(2024-03-05 06:00 UTC);
        let clock = ManualClock::new(promoted);

        assert_eq!(
            d.previous_version(clock.now()),
            PreviousVersion::InOverlap { retire_at }
        );

        clock.set(retire_at - Duration::seconds(1));
        assert_eq!(
            d.previous_version(clock.now()),
            PreviousVersion::InOverlap { retire_at }
        );

        clock.advance(Duration::seconds(1));
        assert_eq!(
            d.previous_version(clock.now()),
            PreviousVersion::RetireDue { retire_at }
        );

        clock.advance(Duration::days(30));
        assert_eq!(
            d.previous_version(clock.now()),
            PreviousVersion::RetireDue { retire_at }
        );
    }

    #[test]
    fn zero_overlap_retires_at_supersede() {
        let issued = datetime!(2024-01-01 0:00 UTC);
        let d = Deadlines::compute(&rules(90, 180, 0, 30), issued, Some(issued)).unwrap();
        assert_eq!(
            d.previous_version(issued),
            PreviousVersion::RetireDue { retire_at: issued }
        );
    }

    #[test]
    fn no_previous_version_is_absent() {
        let issued = datetime!(2024-01-01 0:00 UTC);
        let d = Deadlines::compute(&Rules::default(), issued, None).unwrap();
        assert_eq!(d.previous_version(issued), PreviousVersion::Absent);
    }

    #[test]
    fn status_names() {
        assert_eq!(Status::Current.to_string(), "current");
        assert_eq!(Status::Due.to_string(), "due");
        assert_eq!(Status::Expired.to_string(), "expired");
    }
}
