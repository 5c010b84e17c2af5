//! Rotation policy and deadlines for SIPS credentials, computed against a [`Clock`].
//!
//! SRS recommends rotating every 90 days and cuts off integration for credentials
//! older than 180 days. A rotation keeps the previous version valid for an overlap so
//! that applications can switch, then retires it. This module holds only the
//! arithmetic; it reads no configuration and performs no I/O.

mod clock;
mod deadlines;
mod rules;
mod timestamp;
mod verdict;

pub use clock::{Clock, ManualClock, SystemClock};
pub use deadlines::{Deadlines, PreviousVersion, Status, whole_days_until};
pub use rules::{Enforcement, MAX_AGE_CAP_DAYS, Rules, RulesInput};
pub use timestamp::{format_rfc3339, parse_rfc3339};
pub use verdict::{Finding, Verdict};

/// Errors from validating rules, computing deadlines and handling timestamps.
#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    /// A policy field lies outside its allowed range.
    #[error("invalid {field} {value}: must be between {min} and {max} because {reason}")]
    OutOfRange {
        /// The attribute name, for example `overlap_days`.
        field: &'static str,
        /// The rejected value.
        value: i64,
        /// The smallest allowed value.
        min: i64,
        /// The largest allowed value, which may depend on another field.
        max: i64,
        /// The reason for the range.
        reason: &'static str,
    },

    /// The enforcement is not one of its two spellings.
    #[error(r#"invalid enforcement {value:?}: expected "error" or "warn""#)]
    InvalidEnforcement {
        /// The rejected text.
        value: String,
    },

    /// A timestamp is not RFC 3339.
    #[error("invalid RFC 3339 timestamp {value:?}, expected a form like 2024-02-29T08:30:00Z")]
    InvalidTimestamp {
        /// The rejected text.
        value: String,
        /// The parser's reason.
        #[source]
        source: time::error::Parse,
    },

    /// A timestamp or deadline falls outside the years 0000 to 9999.
    #[error("timestamp {value} is outside the years 0000 to 9999 that RFC 3339 can express")]
    TimestampOutOfRange {
        /// The instant, or the instant that a deadline was computed from.
        value: String,
    },
}
