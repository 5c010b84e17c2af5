//! Per-operation counters of store API calls, read by tests and benchmarks.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// Counts store API calls by operation name. One call is one SDK operation; retries that the
/// SDK makes inside an operation are not counted separately.
#[derive(Debug, Default)]
pub struct CallCounter {
    counts: Mutex<BTreeMap<&'static str, u64>>,
}

impl CallCounter {
    pub fn record(&self, operation: &'static str) {
        // A poisoned lock only means another thread panicked mid-increment; counts stay usable.
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        *counts.entry(operation).or_insert(0) += 1;
    }

    pub fn snapshot(&self) -> CallCounts {
        let counts = self
            .counts
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        CallCounts(counts.clone())
    }
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallCounts(BTreeMap<&'static str, u64>);

impl CallCounts {
    pub fn get(&self, operation: &str) -> u64 {
        self.0.get(operation).copied().unwrap_or(0)
    }

    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }

    /// Returns the calls made between `earlier` and this snapshot.
    pub fn since(&self, earlier: &CallCounts) -> CallCounts {
        let delta = self
            .0
            .iter()
            .map(|(operation, count)| (*operation, count.saturating_sub(earlier.get(operation))))
            .filter(|(_, count)| *count > 0)
            .collect();
        CallCounts(delta)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        self.0.iter().map(|(operation, count)| (*operation, *count))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_returns_difference() {
        let counter = CallCounter::default();
        counter.record("DescribeSecret");
        let before = counter.snapshot();
        counter.record("DescribeSecret");
        counter.record("PutSecretValue");

        let delta = counter.snapshot().since(&before);

        assert_eq!(delta.get("DescribeSecret"), 1);
        assert_eq!(delta.get("PutSecretValue"), 1);
        assert_eq!(delta.total(), 2);
    }
}
