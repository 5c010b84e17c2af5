//! The clock behind every rotation decision, so tests can move time instead of sleeping.

use std::sync::{Arc, Mutex, PoisonError};

use time::{Duration, OffsetDateTime};

/// A source of the current time in UTC.
pub trait Clock: Send + Sync {
    /// Returns the current instant in UTC.
    fn now(&self) -> OffsetDateTime;
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> OffsetDateTime {
        (**self).now()
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> OffsetDateTime {
        (**self).now()
    }
}

/// The operating system's clock, truncated to whole seconds.
///
/// Timestamps are stored with seconds precision, so the clock drops the sub-second part
/// up front. Deadlines computed from a fresh reading then equal the ones computed again
/// from the stored timestamp on the next plan.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        let now = OffsetDateTime::now_utc();
        now.replace_nanosecond(0).unwrap_or(now)
    }
}

/// A clock that changes only when a test sets or advances it.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<OffsetDateTime>,
}

impl ManualClock {
    /// Creates a clock that reads `start` until it is moved.
    pub fn new(start: OffsetDateTime) -> Self {
        Self {
            now: Mutex::new(start),
        }
    }

    /// Moves the clock forward by `step`, or backward when `step` is negative.
    ///
    /// # Panics
    ///
    /// Panics when the result leaves the range that `OffsetDateTime` supports.
    pub fn advance(&self, step: Duration) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now += step;
    }

    /// Sets the clock to `instant`.
    pub fn set(&self, instant: OffsetDateTime) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = instant;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(datetime!(2024-02-28 12:00 UTC));
        assert_eq!(clock.now(), datetime!(2024-02-28 12:00 UTC));

        clock.advance(Duration::days(1));
        assert_eq!(clock.now(), datetime!(2024-02-29 12:00 UTC));

        clock.advance(Duration::hours(-12));
        assert_eq!(clock.now(), datetime!(2024-02-29 0:00 UTC));

        clock.set(datetime!(2030-01-01 0:00 UTC));
        assert_eq!(clock.now(), datetime!(2030-01-01 0:00 UTC));
    }

    fn read_clock<C: Clock>(clock: C) -> OffsetDateTime {
        clock.now()
    }

    #[test]
    fn clock_works_through_arc_and_reference() {
        let clock = Arc::new(ManualClock::new(datetime!(2024-01-01 0:00 UTC)));
        let shared: Arc<dyn Clock> = clock.clone();
        clock.advance(Duration::seconds(5));
        assert_eq!(read_clock(shared), datetime!(2024-01-01 0:00:05 UTC));
        assert_eq!(read_clock(&*clock), datetime!(2024-01-01 0:00:05 UTC));
    }

    #[test]
    fn system_clock_is_utc_whole_seconds() {
        let now = SystemClock.now();
        assert!(now.offset().is_utc());
        assert_eq!(now.nanosecond(), 0);
    }
}
