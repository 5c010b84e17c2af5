//! Mapping of Secrets Manager SDK errors to `StoreError`, by service error code.

use std::error::Error;
use std::fmt::Debug;

use aws_sdk_secretsmanager::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::stores::{ServiceError, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    NotFound,
    AlreadyExists,
    AccessDenied,
    InvalidRequest,
    Throttled,
    Transient,
    Other,
}

/// Converts an SDK error of `operation` on `entry`.
///
/// `SdkError` (aws-smithy-runtime-api 1.22) keeps the raw response but not the request, so
/// the request body cannot reach the message. Callers that sent a secret still pass the
/// result through [`StoreError::redact`] in case a service echoes it.
pub(super) fn from_sdk<E, R>(
    operation: &'static str,
    entry: &str,
    error: SdkError<E, R>,
) -> StoreError
where
    E: ProvideErrorMetadata + Error + Send + Sync + 'static,
    R: Debug + Send + Sync + 'static,
{
    let (kind, service) = match &error {
        SdkError::ServiceError(context) => {
            let code = context.err().code();
            let message = context.err().message().unwrap_or("no message");
            (kind_of_code(code), ServiceError::new(code, message))
        }
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            (Kind::Transient, transport_detail(&error))
        }
        SdkError::DispatchFailure(failure) => {
            let connector = failure.as_connector_error();
            let transient = connector.is_some_and(|c| c.is_io() || c.is_timeout());
            let kind = if transient {
                Kind::Transient
            } else {
                Kind::Other
            };
            (kind, transport_detail(&error))
        }
        _ => (Kind::Other, transport_detail(&error)),
    };
    build(kind, operation, entry.to_owned(), service)
}

fn transport_detail<E, R>(error: &SdkError<E, R>) -> ServiceError
where
    E: Error + Send + Sync + 'static,
    R: Debug + Send + Sync + 'static,
{
    ServiceError::new(None, DisplayErrorContext(error).to_string())
}

/// Sorts service error codes. Codes other than Secrets Manager's own come from the AWS
/// request layer (signing, throttling) and are shared by all AWS JSON services.
fn kind_of_code(code: Option<&str>) -> Kind {
    match code.unwrap_or_default() {
        "ResourceNotFoundException" => Kind::NotFound,
        "ResourceExistsException" => Kind::AlreadyExists,
        "AccessDeniedException"
        | "UnrecognizedClientException"
        | "InvalidSignatureException"
        | "IncompleteSignature"
        | "MissingAuthenticationToken"
        | "InvalidClientTokenId"
        | "ExpiredTokenException" => Kind::AccessDenied,
        "InvalidRequestException"
        | "InvalidParameterException"
        | "InvalidNextTokenException"
        | "MalformedPolicyDocumentException"
        | "PreconditionNotMetException"
        | "ValidationException" => Kind::InvalidRequest,
        "ThrottlingException" | "TooManyRequestsException" | "RequestLimitExceeded" => {
            Kind::Throttled
        }
        "InternalServiceError" | "InternalFailure" | "ServiceUnavailable" | "RequestTimeout" => {
            Kind::Transient
        }
        _ => Kind::Other,
    }
}

fn build(kind: Kind, operation: &'static str, entry: String, service: ServiceError) -> StoreError {
    match kind {
        Kind::NotFound => StoreError::NotFound {
            operation,
            entry,
            service,
        },
        Kind::AlreadyExists => StoreError::AlreadyExists {
            operation,
            entry,
            service,
        },
        Kind::AccessDenied => StoreError::AccessDenied {
            operation,
            entry,
            service,
        },
        Kind::InvalidRequest => StoreError::InvalidRequest {
            operation,
            entry,
            service,
        },
        Kind::Throttled => StoreError::Throttled {
            operation,
            entry,
            service,
        },
        Kind::Transient => StoreError::Transient {
            operation,
            entry,
            service,
        },
        Kind::Other => StoreError::Other {
            operation,
            entry,
            service,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_kinds() {
        let cases = [
            (Some("ResourceNotFoundException"), Kind::NotFound),
            (Some("ResourceExistsException"), Kind::AlreadyExists),
            (Some("AccessDeniedException"), Kind::AccessDenied),
            (Some("InvalidRequestException"), Kind::InvalidRequest),
            (Some("ThrottlingException"), Kind::Throttled),
            (Some("InternalServiceError"), Kind::Transient),
            (Some("DecryptionFailure"), Kind::Other),
            (None, Kind::Other),
        ];
        for (code, expected) in cases {
            assert_eq!(kind_of_code(code), expected, "{code:?}");
        }
    }
}
