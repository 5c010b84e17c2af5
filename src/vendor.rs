//! Verification of a new client secret with SRS before the provider stores
//! it: an OAuth2 client-credentials token request to the configured token URL.
//!
//! The secret travels only in the HTTP basic authorization header, as RFC 6749
//! section 2.3.1 describes, never in the URL, and nothing of the response but
//! its status and OAuth2 `error` code is kept.

use std::time::Duration;

use reqwest::{StatusCode, Url};
use serde::Deserialize;

use crate::secret::Secret;

/// Attempts per verification, the first included. Only timeouts, connection
/// failures and server errors are retried.
pub const MAX_ATTEMPTS: u32 = 3;
const RETRY_DELAY: Duration = Duration::from_millis(250);

#[derive(Debug, thiserror::Error)]
pub enum VendorError {
    #[error("invalid token URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: &'static str },

    #[error("the token endpoint rejected the client credentials (HTTP {status}{})", code_suffix(.code))]
    Rejected { status: u16, code: Option<String> },

    #[error("the token endpoint could not be reached after {attempts} attempts: {reason}")]
    Unavailable { attempts: u32, reason: String },

    #[error("failed to build the HTTP client")]
    Client(#[source] reqwest::Error),
}

fn code_suffix(code: &Option<String>) -> String {
    code.as_ref()
        .map(|code| format!(", error {code}"))
        .unwrap_or_default()
}

/// An OAuth2 token endpoint that a new secret must pass before it is stored.
#[derive(Clone, Debug)]
pub struct TokenCheck {
    client: reqwest::Client,
    token_url: Url,
    scope: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: Option<String>,
}

impl TokenCheck {
    /// Builds a check against `token_url`, which must use HTTPS unless it
    /// points at a loopback address (test endpoints).
    pub fn new(
        token_url: &str,
        scope: Option<String>,
        timeout: Duration,
    ) -> Result<Self, VendorError> {
        let url = Url::parse(token_url).map_err(|_| VendorError::InvalidUrl {
            url: token_url.to_owned(),
            reason: "not an absolute URL",
        })?;
        let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
        if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
            return Err(VendorError::InvalidUrl {
                url: token_url.to_owned(),
                reason: "must use https (plain http is accepted only on loopback addresses)",
            });
        }
        if url.password().is_some() || !url.username().is_empty() {
            return Err(VendorError::InvalidUrl {
                url: token_url.to_owned(),
                reason: "must not contain credentials",
            });
        }
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(VendorError::Client)?;
        Ok(Self {
            client,
            token_url: url,
            scope,
        })
    }

    /// Requests a token with `client_id` and `secret`. Succeeds when the
    /// endpoint issues one; the token itself is discarded.
    pub async fn verify(&self, client_id: &str, secret: &Secret) -> Result<(), VendorError> {
        let mut last_failure = String::new();
        for attempt in 1..=MAX_ATTEMPTS {
            match self.attempt(client_id, secret).await {
                Ok(()) => return Ok(()),
                Err(Failure::Rejected(error)) => return Err(error),
                Err(Failure::Retryable(reason)) => {
                    tracing::warn!(attempt, reason = %reason, "token endpoint attempt failed");
                    last_failure = reason;
                }
            }
            if attempt < MAX_ATTEMPTS {
                tokio::time::sleep(RETRY_DELAY * attempt).await;
            }
        }
        Err(VendorError::Unavailable {
            attempts: MAX_ATTEMPTS,
            reason: last_failure,
        })
    }

    async fn attempt(&self, client_id: &str, secret: &Secret) -> Result<(), Failure> {
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(scope) = &self.scope {
            form.push(("scope", scope));
        }
        let response = self
            .client
            .post(self.token_url.clone())
            .basic_auth(client_id, Some(secret.expose_secret()))
            .form(&form)
            .send()
            .await
            // reqwest's error text names the URL and the cause, never the request headers.
            .map_err(|error| Failure::Retryable(error.without_url().to_string()))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            return Err(Failure::Retryable(format!("HTTP {}", status.as_u16())));
        }
        let code = response
            .json::<ErrorBody>()
            .await
            .ok()
            .and_then(|body| body.error)
            .map(sanitize);
        Err(Failure::Rejected(VendorError::Rejected {
            status: status.as_u16(),
            code,
        }))
    }
}

enum Failure {
    Rejected(VendorError),
    Retryable(String),
}

/// Keeps an OAuth2 error code printable and short, whatever the server sent.
fn sanitize(code: String) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(64)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_rejected_off_loopback() {
        let error = TokenCheck::new("http://sso.example.com/token", None, Duration::from_secs(1));
        assert!(matches!(error, Err(VendorError::InvalidUrl { .. })));
    }

    #[test]
    fn plain_http_accepted_on_loopback() {
        assert!(
            TokenCheck::new("http://127.0.0.1:8080/token", None, Duration::from_secs(1)).is_ok()
        );
    }

    #[test]
    fn credentials_in_url_rejected() {
        let error = TokenCheck::new(
            "https://a:b@sso.example.com/token",
            None,
            Duration::from_secs(1),
        );
        assert!(matches!(error, Err(VendorError::InvalidUrl { .. })));
    }

    #[test]
    fn error_code_sanitized() {
        assert_eq!(
            sanitize("invalid_client\n<script>".to_owned()),
            "invalid_clientscript"
        );
    }
}
