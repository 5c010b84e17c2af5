//! The plan-time verdict on a credential's age: nothing, warnings, or an error.

use time::OffsetDateTime;

use super::{Deadlines, Enforcement, Status};

/// One fact about a credential's deadlines that a plan reports.
///
/// The variants carry numbers and instants, not text, so that the caller can phrase
/// the diagnostic and add the `client_id` and environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finding {
    /// The recommended rotation age has passed.
    RotationDue {
        /// When rotation became recommended.
        rotate_by: OffsetDateTime,
        /// Whole days since `rotate_by`, 0 during the first 24 hours.
        days_overdue: i64,
    },
    /// The mandatory deadline is inside the warning window.
    ExpiryNear {
        /// The mandatory deadline.
        expires_at: OffsetDateTime,
        /// Whole days left, 0 during the last 24 hours.
        days_left: i64,
    },
    /// The mandatory deadline has passed, so SRS no longer accepts the credential.
    Expired {
        /// The mandatory deadline.
        expires_at: OffsetDateTime,
        /// Whole days since `expires_at`, 0 during the first 24 hours.
        days_overdue: i64,
    },
}

/// Findings that a plan reports about one credential's age.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Verdict {
    /// The finding that fails the plan, if any.
    pub error: Option<Finding>,
    /// Findings that the plan shows as warnings.
    pub warnings: Vec<Finding>,
}

impl Verdict {
    /// Returns whether there is nothing to report.
    pub fn is_clear(&self) -> bool {
        self.error.is_none() && self.warnings.is_empty()
    }
}

impl Deadlines {
    /// Returns the plan-time verdict at `now` under `enforcement`.
    ///
    /// An expired credential yields only [`Finding::Expired`], as an error or, with
    /// [`Enforcement::Warn`], as a warning. Otherwise a due rotation and an open
    /// warning window each add a warning. They are independent because a warning
    /// window longer than `max_age_days` − `rotate_after_days` opens before rotation
    /// is due.
    pub fn verdict(&self, now: OffsetDateTime, enforcement: Enforcement) -> Verdict {
        let mut verdict = Verdict::default();
        let status = self.status(now);

        if status == Status::Expired {
            let finding = Finding::Expired {
                expires_at: self.expires_at,
                days_overdue: -self.days_until_expiry(now),
            };
            match enforcement {
                Enforcement::Error => verdict.error = Some(finding),
                Enforcement::Warn => verdict.warnings.push(finding),
            }
            return verdict;
        }

        if status == Status::Due {
            verdict.warnings.push(Finding::RotationDue {
                rotate_by: self.rotate_by,
                days_overdue: -self.days_until_rotation(now),
            });
        }
        if self.warning_window_open(now) {
            verdict.warnings.push(Finding::ExpiryNear {
                expires_at: self.expires_at,
                days_left: self.days_until_expiry(now),
            });
        }
        verdict
    }
}

#[cfg(test)]
mod tests {
    use time::Duration;
    use time::macros::datetime;

    use super::*;
    use crate::rotation::{Clock, ManualClock, Rules, RulesInput};

    const ISSUED: OffsetDateTime = datetime!(2024-01-01 0:00 UTC);

    fn deadlines(input: RulesInput) -> Deadlines {
        Deadlines::compute(&Rules::new(input).unwrap(), ISSUED, None).unwrap()
    }

    #[test]
    fn clock_walks_through_verdicts() {
        let d = deadlines(RulesInput::default());
        let clock = ManualClock::new(ISSUED);
        let rotate_by = datetime!(2024-03-31 0:00 UTC);
        let expires_at = datetime!(2024-06-29 0:00 UTC);

        assert!(d.verdict(clock.now(), Enforcement::Error).is_clear());

        clock.set(rotate_by + Duration::days(10) + Duration::hours(5));
        let due = d.verdict(clock.now(), Enforcement::Error);
        assert_eq!(due.error, None);
        assert_eq!(
            due.warnings,
            vec![Finding::RotationDue {
                rotate_by,
                days_overdue: 10
            }]
        );

        clock.set(expires_at - Duration::days(30));
        let near = d.verdict(clock.now(), Enforcement::Error);
        assert_eq!(near.error, None);
        assert_eq!(
            near.warnings,
            vec![
                Finding::RotationDue {
                    rotate_by,
                    days_overdue: 60
                },
                Finding::ExpiryNear {
                    expires_at,
                    days_left: 30
                },
            ]
        );

        clock.set(expires_at);
        let expired = d.verdict(clock.now(), Enforcement::Error);
        assert_eq!(
            expired.error,
            Some(Finding::Expired {
                expires_at,
                days_overdue: 0
            })
        );
        assert!(expired.warnings.is_empty());
    }

    #[test]
    fn expired_under_warn_is_warning() {
        let d = deadlines(RulesInput::default());
        let now = d.expires_at + Duration::days(2);
        let verdict = d.verdict(now, Enforcement::Warn);
        assert_eq!(verdict.error, None);
        assert_eq!(
            verdict.warnings,
            vec![Finding::Expired {
                expires_at: d.expires_at,
                days_overdue: 2
            }]
        );
    }

    #[test]
    fn warning_window_before_due() {
        let d = deadlines(RulesInput {
            rotate_after_days: 120,
            warn_before_days: 90,
            ..RulesInput::default()
        });
        let now = ISSUED + Duration::days(100);
        let verdict = d.verdict(now, Enforcement::Error);
        assert_eq!(
            verdict.warnings,
            vec![Finding::ExpiryNear {
                expires_at: d.expires_at,
                days_left: 80
            }]
        );
    }

    #[test]
    fn last_second_before_expiry() {
        let d = deadlines(RulesInput::default());
        let verdict = d.verdict(d.expires_at - Duration::seconds(1), Enforcement::Error);
        assert_eq!(verdict.error, None);
        assert!(verdict.warnings.contains(&Finding::ExpiryNear {
            expires_at: d.expires_at,
            days_left: 0,
        }));
    }
}
