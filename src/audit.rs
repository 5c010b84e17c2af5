//! Audit records of changes to vault entries, appended as JSON lines to a local file.
//!
//! An event records who changed which entry, when, for which `client_id` and environment,
//! and how it ended. No field has a secret type or is meant for a secret or a
//! fingerprint. Each line is one JSON object, for example:
//!
//! ```json
//! {"action":"rotate","time":"2024-02-29T08:30:00Z","actor":"arn:aws:iam::123456789012:role/ci",
//!  "environment":"production","client_id":"partner-42","store":"aws_secrets_manager",
//!  "entry":"sips/production/partner-42","version_ids":["v2","v1"],
//!  "outcome":{"status":"succeeded"}}
//! ```
//!
//! (shown wrapped here, but written on one line).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Errors from opening or writing the audit log.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The log file could not be created or opened for appending.
    #[error("failed to open audit log {}", path.display())]
    Open {
        /// The configured log file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// An event could not be written or synced to disk.
    #[error("failed to write audit log {}", path.display())]
    Write {
        /// The configured log file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// An event could not be encoded, for example because its time is outside the
    /// years 0000 to 9999 that RFC 3339 can express.
    #[error("failed to encode audit event as JSON")]
    Encode(#[source] serde_json::Error),
}

/// The kind of change made to a vault entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// A new entry with its first version.
    Create,
    /// A change of description, key or tags, without a new secret.
    Update,
    /// A new version that supersedes the current one.
    Rotate,
    /// Removal of a superseded version after its overlap.
    Retire,
    /// Immediate invalidation, for example after a suspected compromise.
    Revoke,
    /// Deletion or scheduled deletion of the entry.
    Delete,
    /// Adoption of an existing entry into Terraform state.
    Import,
    /// Recovery of an entry that was scheduled for deletion.
    Restore,
}

/// The result of an audited change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// The store accepted the change.
    Succeeded,
    /// The change failed.
    Failed {
        /// The error message. The caller must make sure that it contains no secret.
        error: String,
    },
}

/// One change to a vault entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// The kind of change.
    pub action: Action,
    /// When the change was made, written as RFC 3339 in UTC.
    #[serde(with = "rfc3339_utc")]
    pub time: OffsetDateTime,
    /// The caller identity that made the change, for example an IAM role ARN.
    pub actor: String,
    /// The SIPS environment, `staging` or `production`.
    pub environment: String,
    /// The public SIPS client identifier.
    pub client_id: String,
    /// The kind of secrets manager, for example `aws_secrets_manager`.
    pub store: String,
    /// The entry's name or path in the store.
    pub entry: String,
    /// The store's version identifiers that the change touched, newest first.
    pub version_ids: Vec<String>,
    /// The result of the change.
    pub outcome: Outcome,
}

mod rfc3339_utc {
    use serde::{Deserialize, Deserializer, Serializer, de, ser};
    use time::format_description::well_known::Rfc3339;
    use time::{OffsetDateTime, UtcOffset};

    pub fn serialize<S: Serializer>(
        time: &OffsetDateTime,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let text = time
            .checked_to_offset(UtcOffset::UTC)
            .and_then(|utc| utc.format(&Rfc3339).ok())
            .ok_or_else(|| ser::Error::custom("time is outside the years 0000 to 9999"))?;
        serializer.serialize_str(&text)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<OffsetDateTime, D::Error> {
        let text = String::deserialize(deserializer)?;
        OffsetDateTime::parse(&text, &Rfc3339).map_err(de::Error::custom)
    }
}

/// An append-only JSON-lines audit file, or a no-op when none is configured.
///
/// `record` takes `&self` and serializes writers with a mutex, so one log can be
/// shared through an `Arc` by every concurrent request.
#[derive(Debug, Default)]
pub struct AuditLog {
    sink: Option<Sink>,
}

#[derive(Debug)]
struct Sink {
    path: PathBuf,
    file: Mutex<File>,
}

impl AuditLog {
    /// Returns a log that records nothing.
    pub fn disabled() -> Self {
        Self { sink: None }
    }

    /// Opens `path` for appending, creating it with mode 0600 on Unix.
    ///
    /// An existing file keeps its mode and content.
    ///
    /// # Errors
    ///
    /// [`AuditError::Open`] when the file cannot be created or opened.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, AuditError> {
        let path = path.into();
        let mut options = OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);

        match options.open(&path) {
            Ok(file) => Ok(Self {
                sink: Some(Sink {
                    path,
                    file: Mutex::new(file),
                }),
            }),
            Err(source) => Err(AuditError::Open { path, source }),
        }
    }

    /// Returns the log file, or `None` when the log is disabled.
    pub fn path(&self) -> Option<&Path> {
        self.sink.as_ref().map(|sink| sink.path.as_path())
    }

    /// Appends `event` as one JSON line and syncs it to disk before returning.
    ///
    /// Callers in this process hold a mutex for the whole line. The line goes out in one
    /// `write` on a file opened with `O_APPEND`, so on a local file system other
    /// processes appending to the same file do not split it either. This call blocks
    /// for the write and the sync, so async callers on a busy runtime should run it in
    /// `spawn_blocking`.
    ///
    /// # Errors
    ///
    /// [`AuditError::Encode`] or [`AuditError::Write`]. A disabled log never fails.
    pub fn record(&self, event: &AuditEvent) -> Result<(), AuditError> {
        let Some(sink) = &self.sink else {
            return Ok(());
        };
        let mut line = serde_json::to_vec(event).map_err(AuditError::Encode)?;
        line.push(b'\n');

        // A panic in another writer cannot leave the file handle inconsistent, so a
        // poisoned lock is safe to reuse.
        let mut file = sink.file.lock().unwrap_or_else(PoisonError::into_inner);
        // NOTE: after a short write (disk full, signal) write_all sends the rest in a
        // second call, and another process could append between the two.
        let written = file.write_all(&line).and_then(|()| file.sync_data());
        written.map_err(|source| AuditError::Write {
            path: sink.path.clone(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::sync::Arc;

    use time::macros::datetime;

    use super::*;

    fn event(action: Action, entry: &str) -> AuditEvent {
        AuditEvent {
            action,
            time: datetime!(2024-02-29 08:30 UTC),
            actor: "arn:aws:iam::123456789012:role/ci".to_owned(),
            environment: "production".to_owned(),
            client_id: "partner-42".to_owned(),
            store: "aws_secrets_manager".to_owned(),
            entry: entry.to_owned(),
            version_ids: vec!["v2".to_owned(), "v1".to_owned()],
            outcome: Outcome::Succeeded,
        }
    }

    fn read_lines(path: &Path) -> Vec<String> {
        let text = std::fs::read_to_string(path).unwrap();
        assert!(text.ends_with('\n'), "log does not end with a newline");
        text.lines().map(str::to_owned).collect()
    }

    #[test]
    fn lines_parse_as_json() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::open(dir.path().join("audit.log")).unwrap();
        let failed = AuditEvent {
            outcome: Outcome::Failed {
                error: "access denied".to_owned(),
            },
            ..event(Action::Retire, "sips/production/partner-42")
        };
        let events = [event(Action::Rotate, "sips/production/partner-42"), failed];
        for event in &events {
            log.record(event).unwrap();
        }

        let lines = read_lines(log.path().unwrap());
        assert_eq!(lines.len(), 2);
        for (line, expected) in lines.iter().zip(&events) {
            let parsed: AuditEvent = serde_json::from_str(line).unwrap();
            assert_eq!(&parsed, expected);
        }
    }

    #[test]
    fn json_shape_is_fixed() {
        let failed = AuditEvent {
            time: datetime!(2024-03-01 01:30 +02:00),
            outcome: Outcome::Failed {
                error: "access denied".to_owned(),
            },
            ..event(Action::Restore, "sips/staging/partner-42")
        };
        let value = serde_json::to_value(&failed).unwrap();
        let keys: BTreeSet<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let expected = BTreeSet::from([
            "action",
            "time",
            "actor",
            "environment",
            "client_id",
            "store",
            "entry",
            "version_ids",
            "outcome",
        ]);
        assert_eq!(
            keys, expected,
            "review any new field: it must not carry a secret"
        );
        assert_eq!(value["action"], "restore");
        assert_eq!(value["time"], "2024-02-29T23:30:00Z");
        assert_eq!(value["outcome"]["status"], "failed");
        assert_eq!(value["outcome"]["error"], "access denied");
    }

    #[test]
    fn action_names() {
        let cases = [
            (Action::Create, "create"),
            (Action::Update, "update"),
            (Action::Rotate, "rotate"),
            (Action::Retire, "retire"),
            (Action::Revoke, "revoke"),
            (Action::Delete, "delete"),
            (Action::Import, "import"),
            (Action::Restore, "restore"),
        ];
        for (action, name) in cases {
            assert_eq!(serde_json::to_value(action).unwrap(), name);
        }
    }

    #[test]
    fn concurrent_records_stay_whole() {
        const THREADS: usize = 16;
        const PER_THREAD: usize = 50;
        let dir = tempfile::tempdir().unwrap();
        let log = Arc::new(AuditLog::open(dir.path().join("audit.log")).unwrap());
        // Long entries make a torn or interleaved write far more likely to show.
        let padding = "x".repeat(2000);

        let handles: Vec<_> = (0..THREADS)
            .map(|thread| {
                let log = Arc::clone(&log);
                let padding = padding.clone();
                std::thread::spawn(move || {
                    for index in 0..PER_THREAD {
                        let entry = format!("{thread}/{index}/{padding}");
                        log.record(&event(Action::Rotate, &entry)).unwrap();
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }

        let lines = read_lines(log.path().unwrap());
        assert_eq!(lines.len(), THREADS * PER_THREAD);
        let entries: BTreeSet<String> = lines
            .iter()
            .map(|line| serde_json::from_str::<AuditEvent>(line).unwrap().entry)
            .collect();
        assert_eq!(
            entries.len(),
            THREADS * PER_THREAD,
            "duplicate or lost events"
        );
    }

    #[cfg(unix)]
    #[test]
    fn new_file_has_mode_0600() {
        use std::os::unix::fs::PermissionsExt;

        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::open(dir.path().join("audit.log")).unwrap();
        log.record(&event(Action::Create, "entry")).unwrap();

        let mode = std::fs::metadata(log.path().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    }

    #[test]
    fn reopen_appends_to_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        AuditLog::open(&path)
            .unwrap()
            .record(&event(Action::Create, "first"))
            .unwrap();
        AuditLog::open(&path)
            .unwrap()
            .record(&event(Action::Rotate, "second"))
            .unwrap();

        let lines = read_lines(&path);
        assert_eq!(lines.len(), 2);
        assert!(lines[0].contains("\"first\""), "{}", lines[0]);
        assert!(lines[1].contains("\"second\""), "{}", lines[1]);
    }

    #[test]
    fn disabled_log_records_nothing() {
        let log = AuditLog::disabled();
        assert_eq!(log.path(), None);
        log.record(&event(Action::Delete, "entry")).unwrap();
        assert_eq!(AuditLog::default().path(), None);
    }

    #[test]
    fn open_fails_in_missing_directory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("audit.log");
        let error = AuditLog::open(&path).unwrap_err();
        assert!(matches!(error, AuditError::Open { .. }), "{error}");
        assert!(
            error.to_string().contains(&path.display().to_string()),
            "{error}"
        );
    }

    #[test]
    fn time_out_of_range_fails_encoding() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::open(dir.path().join("audit.log")).unwrap();
        let future = AuditEvent {
            time: datetime!(9999-12-31 23:00 -05:00),
            ..event(Action::Create, "entry")
        };
        let error = log.record(&future).unwrap_err();
        assert!(matches!(error, AuditError::Encode(_)), "{error}");
        let text = std::fs::read_to_string(log.path().unwrap()).unwrap();
        assert!(text.is_empty(), "{text}");
    }
}

/// Returns the operating-system user running the provider: `USER`, else
/// `LOGNAME`, else the numeric uid, as CI runners often set neither variable.
pub fn current_user() -> String {
    ["USER", "LOGNAME"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|value| !value.is_empty()))
        .unwrap_or_else(|| format!("uid {}", current_uid()))
}

fn current_uid() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|line| line.starts_with("Uid:"))?;
            line.split_whitespace().nth(1).map(str::to_owned)
        })
        .unwrap_or_else(|| "unknown".to_owned())
}
