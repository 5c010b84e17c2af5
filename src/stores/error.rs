//! Errors of the secrets-store layer, with the store service's own code and message kept.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use time::OffsetDateTime;

/// An error code and message as the store service returned them, or as a local check wrote them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    /// The service's error code, for example `ResourceNotFoundException`; `None` for errors
    /// raised before a request reached the service (timeouts, connection failures).
    pub code: Option<String>,
    /// The service's message, or the transport error chain.
    pub message: String,
}

impl ServiceError {
    /// Builds an error detail from a service error code and message.
    pub fn new(code: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            code: code.map(str::to_owned),
            message: message.into(),
        }
    }

    fn redact(&mut self, needle: &str) {
        if !needle.is_empty() && self.message.contains(needle) {
            self.message = self.message.replace(needle, "[redacted]");
        }
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) => write!(f, "{code}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// A failed store operation. `operation` is the store API call that failed (for example
/// `DescribeSecret`) and `entry` the entry name it was about.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("entry {entry} not found ({operation}: {service})")]
    NotFound {
        operation: &'static str,
        entry: String,
        service: ServiceError,
    },

    #[error("entry {entry} already exists ({operation}: {service})")]
    AlreadyExists {
        operation: &'static str,
        entry: String,
        service: ServiceError,
    },

    #[error(
        "entry {entry} is scheduled for deletion{}, so {operation} needs it restored first",
        deletion_suffix(.deletion_date)
    )]
    ScheduledForDeletion {
        operation: &'static str,
        entry: String,
        deletion_date: Option<OffsetDateTime>,
    },

    #[error("access denied to entry {entry} ({operation}: {service})")]
    AccessDenied {
        operation: &'static str,
        entry: String,
        service: ServiceError,
    },

    #[error("invalid request on entry {entry} ({operation}: {service})")]
    InvalidRequest {
        operation: &'static str,
        entry: String,
        service: ServiceError,
    },

    #[error("request on entry {entry} was throttled ({operation}: {service})")]
    Throttled {
        operation: &'static str,
        entry: String,
        service: ServiceError,
    },

    #[error("transient failure on entry {entry} ({operation}: {service})")]
    Transient {
        operation: &'static str,
        entry: String,
        service: ServiceError,
    },

    #[error("request on entry {entry} failed ({operation}: {service})")]
    Other {
        operation: &'static str,
        entry: String,
        service: ServiceError,
    },

    #[error("version {version} of entry {entry} is not a credential document: {reason}")]
    MalformedValue {
        entry: String,
        version: String,
        reason: &'static str,
    },

    #[error("invalid {field}: {reason}")]
    InvalidInput { field: &'static str, reason: String },

    #[error("invalid store configuration: {reason}")]
    Configuration { reason: String },
}

fn deletion_suffix(date: &Option<OffsetDateTime>) -> String {
    let format = time::format_description::well_known::Rfc3339;
    match date.and_then(|date| date.format(&format).ok()) {
        Some(text) => format!(" (deletion date {text})"),
        None => String::new(),
    }
}

impl StoreError {
    /// Returns the service's error code and message, when the error came from the service.
    pub fn service(&self) -> Option<&ServiceError> {
        match self {
            Self::NotFound { service, .. }
            | Self::AlreadyExists { service, .. }
            | Self::AccessDenied { service, .. }
            | Self::InvalidRequest { service, .. }
            | Self::Throttled { service, .. }
            | Self::Transient { service, .. }
            | Self::Other { service, .. } => Some(service),
            Self::ScheduledForDeletion { .. }
            | Self::MalformedValue { .. }
            | Self::InvalidInput { .. }
            | Self::Configuration { .. } => None,
        }
    }

    /// Tells whether the same request may succeed when sent again later.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Throttled { .. } | Self::Transient { .. })
    }

    /// Replaces every occurrence of `secret` in the service message with `[redacted]`.
    ///
    /// Secrets Manager does not echo secret values in its messages, but emulators and
    /// transport errors are not bound by that, so operations that send a secret scrub it.
    pub fn redact(mut self, secret: &SecretString) -> Self {
        if let Some(service) = self.service_mut() {
            service.redact(secret.expose_secret());
        }
        self
    }

    fn service_mut(&mut self) -> Option<&mut ServiceError> {
        match self {
            Self::NotFound { service, .. }
            | Self::AlreadyExists { service, .. }
            | Self::AccessDenied { service, .. }
            | Self::InvalidRequest { service, .. }
            | Self::Throttled { service, .. }
            | Self::Transient { service, .. }
            | Self::Other { service, .. } => Some(service),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_keeps_code_and_message() {
        let error = StoreError::NotFound {
            operation: "DescribeSecret",
            entry: "partner/staging".into(),
            service: ServiceError::new(Some("ResourceNotFoundException"), "no such secret"),
        };

        let text = error.to_string();

        assert_eq!(
            text,
            "entry partner/staging not found \
             (DescribeSecret: ResourceNotFoundException: no such secret)"
        );
    }

    #[test]
    fn redact_removes_secret_from_message() {
        let secret = SecretString::from("s3cr3t-value");
        let error = StoreError::Other {
            operation: "PutSecretValue",
            entry: "e".into(),
            service: ServiceError::new(None, "bad value s3cr3t-value here"),
        };

        let text = error.redact(&secret).to_string();

        assert!(!text.contains("s3cr3t-value"), "{text}");
        assert!(text.contains("[redacted]"), "{text}");
    }

    #[test]
    fn scheduled_for_deletion_shows_date() {
        let error = StoreError::ScheduledForDeletion {
            operation: "CreateSecret",
            entry: "e".into(),
            deletion_date: Some(time::macros::datetime!(2030-01-02 03:04:05 UTC)),
        };

        let text = error.to_string();

        assert_eq!(
            text,
            "entry e is scheduled for deletion (deletion date 2030-01-02T03:04:05Z), \
             so CreateSecret needs it restored first"
        );
    }
}
