//! Mapping of Key Vault client errors to `StoreError`, by HTTP status and service error code.

use std::error::Error as _;

use azure_core::error::ErrorKind;
use azure_core::http::StatusCode;

use crate::stores::{ServiceError, StoreError};

/// Inner error code that Key Vault sends with 403 on a disabled secret version.
pub(super) const SECRET_DISABLED: &str = "SecretDisabled";

/// Converts a client error of `operation` on `entry`.
///
/// The client keeps the response but not the request, so a sent secret cannot reach the
/// message through the client. Callers that sent one still pass the result through
/// [`StoreError::redact`], because a test server or proxy may echo it.
pub(super) fn from_client(
    operation: &'static str,
    entry: &str,
    error: azure_core::Error,
) -> StoreError {
    let entry = entry.to_owned();
    let ErrorKind::HttpResponse {
        status,
        error_code,
        raw_response,
    } = error.kind()
    else {
        let service = ServiceError::new(None, chain(&error));
        return match error.kind() {
            ErrorKind::Connection | ErrorKind::Io => StoreError::Transient {
                operation,
                entry,
                service,
            },
            ErrorKind::Credential => StoreError::AccessDenied {
                operation,
                entry,
                service,
            },
            _ => StoreError::Other {
                operation,
                entry,
                service,
            },
        };
    };
    let inner = raw_response
        .as_ref()
        .and_then(|response| inner_code(response.body()));
    let code = inner
        .filter(|code| code == SECRET_DISABLED)
        .or_else(|| error_code.clone());
    let service = ServiceError {
        code,
        message: error.to_string(),
    };
    by_status(*status, operation, entry, service)
}

fn by_status(
    status: StatusCode,
    operation: &'static str,
    entry: String,
    service: ServiceError,
) -> StoreError {
    let disabled = service.code.as_deref() == Some(SECRET_DISABLED);
    match u16::from(status) {
        404 => StoreError::NotFound {
            operation,
            entry,
            service,
        },
        409 => StoreError::AlreadyExists {
            operation,
            entry,
            service,
        },
        403 if disabled => StoreError::InvalidRequest {
            operation,
            entry,
            service,
        },
        401 | 403 => StoreError::AccessDenied {
            operation,
            entry,
            service,
        },
        429 => StoreError::Throttled {
            operation,
            entry,
            service,
        },
        400 | 405 | 412 | 413 => StoreError::InvalidRequest {
            operation,
            entry,
            service,
        },
        408 | 500..=599 => StoreError::Transient {
            operation,
            entry,
            service,
        },
        _ => StoreError::Other {
            operation,
            entry,
            service,
        },
    }
}

/// Reads `error.innererror.code` from a Key Vault error body.
fn inner_code(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let code = value.get("error")?.get("innererror")?.get("code")?;
    code.as_str().map(str::to_owned)
}

/// Formats the error and its sources on one line, for transport failures whose cause is nested.
fn chain(error: &azure_core::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Tells whether a 403 from a purge means the vault has purge protection, as opposed to a
/// missing `purge` permission. Key Vault states it only in the message.
pub(super) fn is_purge_protection(error: &StoreError) -> bool {
    let StoreError::AccessDenied { service, .. } = error else {
        return false;
    };
    service
        .message
        .to_ascii_lowercase()
        .contains("purge protection")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(code: Option<&str>) -> ServiceError {
        ServiceError::new(code, "message")
    }

    #[test]
    fn statuses_map_to_variants() {
        let cases: [(u16, Option<&str>, &str); 8] = [
            (404, Some("SecretNotFound"), "NotFound"),
            (409, Some("Conflict"), "AlreadyExists"),
            (403, Some("Forbidden"), "AccessDenied"),
            (403, Some(SECRET_DISABLED), "InvalidRequest"),
            (401, Some("Unauthorized"), "AccessDenied"),
            (429, Some("Throttled"), "Throttled"),
            (503, None, "Transient"),
            (400, Some("BadParameter"), "InvalidRequest"),
        ];
        for (status, code, expected) in cases {
            let error = by_status(status.into(), "GetSecret", "e".into(), service(code));

            let debug = format!("{error:?}");

            assert!(debug.starts_with(expected), "{status} {code:?}: {debug}");
        }
    }

    #[test]
    fn inner_code_is_read() {
        let body = br#"{"error":{"code":"Forbidden","message":"m","innererror":{"code":"SecretDisabled"}}}"#;

        assert_eq!(inner_code(body).as_deref(), Some(SECRET_DISABLED));
        assert_eq!(inner_code(b"not json"), None);
    }
}
