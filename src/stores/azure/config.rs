//! Settings of the Key Vault store, and the Key Vault client, credential and HTTP transport
//! built from them.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use azure_core::credentials::{AccessToken, Secret, TokenCredential, TokenRequestOptions};
use azure_core::http::{ClientOptions, ExponentialRetryOptions, RetryOptions, Transport, Url};
use azure_identity::{
    AzureCliCredential, AzureCliCredentialOptions, ClientSecretCredential,
    ManagedIdentityCredential, ManagedIdentityCredentialOptions, UserAssignedId,
    WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
};
use azure_security_keyvault_secrets::{SecretClient, SecretClientOptions};
use secrecy::{ExposeSecret, SecretString};

use crate::stores::StoreError;

/// Default number of retries per operation after the first try, for 408, 429 and 5xx responses
/// and connection failures.
pub const DEFAULT_MAX_RETRIES: u32 = 3;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How to reach a vault and which identity to use.
#[derive(Debug, Clone)]
pub struct AzureSettings {
    /// Vault URL, for example `https://my-vault.vault.azure.net`; it must use `https://`.
    pub vault_url: String,
    /// Microsoft Entra tenant of the identity; `None` takes `AZURE_TENANT_ID` where the
    /// credential reads it (client secret from the environment, workload identity).
    pub tenant_id: Option<String>,
    pub credential: AzureCredentialKind,
    /// Recover a soft-deleted secret of the same name instead of failing a create. The store
    /// only reports the soft-deleted name; the caller decides with this flag.
    pub allow_recover_soft_deleted: bool,
    /// Purge after delete when a forced delete is requested. Without it a forced delete is
    /// rejected, so nothing is purged unless configured.
    pub purge_on_delete: bool,
    /// Retries per operation after the first try, with exponential back-off.
    pub max_retries: u32,
    /// Connection overrides for a test server; never set against a real vault.
    pub test_transport: Option<TestTransport>,
}

impl AzureSettings {
    /// Settings for `vault_url` with the default credential chain and the safe defaults:
    /// recovery of soft-deleted names allowed, no purge.
    pub fn new(vault_url: impl Into<String>) -> Self {
        Self {
            vault_url: vault_url.into(),
            tenant_id: None,
            credential: AzureCredentialKind::DefaultChain {
                managed_identity_client_id: None,
                exclude_managed_identity: false,
            },
            allow_recover_soft_deleted: true,
            purge_on_delete: false,
            max_retries: DEFAULT_MAX_RETRIES,
            test_transport: None,
        }
    }
}

/// The identity that requests access tokens for the vault.
#[derive(Debug, Clone)]
pub enum AzureCredentialKind {
    /// The first identity that is configured or responds, in this order: a client secret from
    /// `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and `AZURE_CLIENT_SECRET`; workload identity from
    /// `AZURE_FEDERATED_TOKEN_FILE`; managed identity; the Azure CLI's signed-in account.
    DefaultChain {
        /// Client id of a user-assigned managed identity; `None` uses the system-assigned one.
        managed_identity_client_id: Option<String>,
        /// Skips managed identity, so no request goes to the instance metadata endpoint.
        exclude_managed_identity: bool,
    },
    /// A service principal's client secret; needs `tenant_id`.
    ClientSecret {
        client_id: String,
        client_secret: SecretString,
    },
    /// A bearer token obtained elsewhere (for example `az account get-access-token`) or a
    /// test server's token. It is never refreshed.
    AccessToken { token: SecretString },
}

/// Connection overrides that point a vault host name at a local test server.
#[derive(Debug, Clone, Default)]
pub struct TestTransport {
    /// Host names to connect to at the given address instead of resolving them. A port of 0
    /// keeps the URL's port (443 by default).
    pub resolve: BTreeMap<String, SocketAddr>,
    /// PEM certificates trusted in place of the system roots. Server certificates are still
    /// verified against them, host name included.
    pub ca_pem: Option<String>,
}

/// Builds the Key Vault client for `settings` with `credential`.
pub(super) fn client(
    settings: &AzureSettings,
    credential: Arc<dyn TokenCredential>,
) -> Result<SecretClient, StoreError> {
    let vault_url = check_vault_url(&settings.vault_url)?;
    let mut client_options = ClientOptions {
        retry: RetryOptions::exponential(ExponentialRetryOptions {
            max_retries: settings.max_retries,
            ..ExponentialRetryOptions::default()
        }),
        ..ClientOptions::default()
    };
    if let Some(transport) = &settings.test_transport {
        client_options.transport = Some(test_transport(transport)?);
    }
    // The challenge-resource check stays on: a vault must prove it belongs to the domain that
    // the token's audience names, so a token is never sent to a look-alike host.
    let options = SecretClientOptions {
        client_options,
        verify_challenge_resource: Some(true),
        ..SecretClientOptions::default()
    };
    SecretClient::new(vault_url.as_str(), credential, Some(options))
        .map_err(|error| configuration(format!("cannot build the Key Vault client: {error}")))
}

fn check_vault_url(text: &str) -> Result<Url, StoreError> {
    let url = Url::parse(text)
        .map_err(|error| configuration(format!("vault URL {text:?} is invalid: {error}")))?;
    if url.scheme() != "https" {
        return Err(configuration(format!(
            "vault URL {text:?} must start with https://"
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(configuration(format!("vault URL {text:?} has no host")));
    }
    Ok(url)
}

fn test_transport(transport: &TestTransport) -> Result<Transport, StoreError> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(READ_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .https_only(true);
    for (host, address) in &transport.resolve {
        builder = builder.resolve(host, *address);
    }
    if let Some(pem) = &transport.ca_pem {
        let certificates = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
            .map_err(|error| configuration(format!("test CA PEM is invalid: {error}")))?;
        builder = builder.tls_certs_only(certificates);
    }
    let client = builder
        .build()
        .map_err(|error| configuration(format!("cannot build the HTTP client: {error}")))?;
    Ok(Transport::new(Arc::new(client)))
}

/// Builds the credential that `settings` names.
pub(super) fn credential(settings: &AzureSettings) -> Result<Arc<dyn TokenCredential>, StoreError> {
    match &settings.credential {
        AzureCredentialKind::DefaultChain {
            managed_identity_client_id,
            exclude_managed_identity,
        } => Ok(Arc::new(DefaultChain::new(
            settings.tenant_id.as_deref(),
            managed_identity_client_id.as_deref(),
            *exclude_managed_identity,
        ))),
        AzureCredentialKind::ClientSecret {
            client_id,
            client_secret,
        } => {
            let tenant = settings.tenant_id.as_deref().ok_or_else(|| {
                configuration("tenant_id is required with a client secret credential".into())
            })?;
            let secret = Secret::new(client_secret.expose_secret().to_owned());
            let credential =
                ClientSecretCredential::new(tenant, client_id.clone(), secret, None)
                    .map_err(|error| configuration(format!("client secret credential: {error}")))?;
            Ok(credential)
        }
        AzureCredentialKind::AccessToken { token } => {
            Ok(Arc::new(StaticToken::new(token.expose_secret())))
        }
    }
}

fn configuration(reason: String) -> StoreError {
    StoreError::Configuration { reason }
}

/// A fixed bearer token. `Debug` does not show it.
pub struct StaticToken {
    token: Secret,
}

impl StaticToken {
    pub fn new(token: &str) -> Self {
        Self {
            token: Secret::new(token.to_owned()),
        }
    }
}

impl std::fmt::Debug for StaticToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StaticToken")
    }
}

#[async_trait::async_trait]
impl TokenCredential for StaticToken {
    async fn get_token(
        &self,
        _scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        // The expiry is nominal: the token is never refreshed, so the pipeline may keep it.
        let expires_on = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
        Ok(AccessToken::new(self.token.clone(), expires_on))
    }
}

/// One link of the default chain. `decisive` links are configured explicitly (environment
/// variables), so their failures end the chain; probing links pass on to the next one.
struct Link {
    name: &'static str,
    credential: Arc<dyn TokenCredential>,
    decisive: bool,
}

/// azure_identity 1.0 ships no default chain, so this one follows the order of the other Azure
/// SDKs' `DefaultAzureCredential`, without the developer tools other than the Azure CLI.
pub(super) struct DefaultChain {
    links: Vec<Link>,
    /// Names of the links that could not be built, with the reason, for the final error.
    unavailable: Vec<String>,
}

impl std::fmt::Debug for DefaultChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.links.iter().map(|link| link.name).collect();
        f.debug_struct("DefaultChain")
            .field("links", &names)
            .finish()
    }
}

impl DefaultChain {
    /// Builds the links that the environment allows; building makes no network call.
    fn new(tenant_id: Option<&str>, user_assigned: Option<&str>, skip_managed: bool) -> Self {
        let mut chain = Self {
            links: Vec::new(),
            unavailable: Vec::new(),
        };
        chain.add_environment_secret(tenant_id);
        if std::env::var_os("AZURE_FEDERATED_TOKEN_FILE").is_some() {
            let options = WorkloadIdentityCredentialOptions {
                tenant_id: tenant_id.map(str::to_owned),
                ..WorkloadIdentityCredentialOptions::default()
            };
            let built = WorkloadIdentityCredential::new(Some(options));
            chain.add("workload identity", built.map(|c| c as _), true);
        }
        if !skip_managed {
            let options = ManagedIdentityCredentialOptions {
                user_assigned_id: user_assigned.map(|id| UserAssignedId::ClientId(id.to_owned())),
                ..ManagedIdentityCredentialOptions::default()
            };
            let built = ManagedIdentityCredential::new(Some(options));
            chain.add("managed identity", built.map(|c| c as _), false);
        }
        let options = AzureCliCredentialOptions {
            tenant_id: tenant_id.map(str::to_owned),
            ..AzureCliCredentialOptions::default()
        };
        let built = AzureCliCredential::new(Some(options));
        chain.add("Azure CLI", built.map(|c| c as _), false);
        chain
    }

    fn add_environment_secret(&mut self, tenant_id: Option<&str>) {
        let client_id = std::env::var("AZURE_CLIENT_ID").ok();
        let secret = std::env::var("AZURE_CLIENT_SECRET").ok();
        let tenant = tenant_id
            .map(str::to_owned)
            .or_else(|| std::env::var("AZURE_TENANT_ID").ok());
        let (Some(client_id), Some(secret), Some(tenant)) = (client_id, secret, tenant) else {
            return;
        };
        let built = ClientSecretCredential::new(&tenant, client_id, Secret::new(secret), None);
        self.add("environment client secret", built.map(|c| c as _), true);
    }

    fn add(
        &mut self,
        name: &'static str,
        built: azure_core::Result<Arc<dyn TokenCredential>>,
        decisive: bool,
    ) {
        match built {
            Ok(credential) => self.links.push(Link {
                name,
                credential,
                decisive,
            }),
            Err(error) => self.unavailable.push(format!("{name}: {error}")),
        }
    }
}

#[async_trait::async_trait]
impl TokenCredential for DefaultChain {
    async fn get_token(
        &self,
        scopes: &[&str],
        options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        let mut failures = self.unavailable.clone();
        for link in &self.links {
            match link.credential.get_token(scopes, options.clone()).await {
                Ok(token) => return Ok(token),
                Err(error) if link.decisive => {
                    let message = format!("{} failed: {error}", link.name);
                    return Err(credential_error(message));
                }
                Err(error) => {
                    tracing::debug!(credential = link.name, %error, "credential unavailable");
                    failures.push(format!("{}: {error}", link.name));
                }
            }
        }
        let message = format!(
            "no Azure identity found; set AZURE_CLIENT_ID, AZURE_CLIENT_SECRET and \
             AZURE_TENANT_ID, configure a client secret, or sign in with `az login` ({})",
            failures.join("; ")
        );
        Err(credential_error(message))
    }
}

fn credential_error(message: String) -> azure_core::Error {
    azure_core::Error::with_message(azure_core::error::ErrorKind::Credential, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vault_url_must_be_https() {
        assert!(check_vault_url("http://vault.example").is_err());
        assert!(check_vault_url("not a url").is_err());
        assert!(check_vault_url("https://sips.vault.azure.net").is_ok());
    }

    #[test]
    fn client_secret_needs_tenant() {
        let mut settings = AzureSettings::new("https://sips.vault.azure.net");
        settings.credential = AzureCredentialKind::ClientSecret {
            client_id: "app".into(),
            client_secret: SecretString::from("hunter2-client-secret"),
        };

        let result = credential(&settings);

        let Err(StoreError::Configuration { reason }) = result else {
            panic!("expected a configuration error");
        };
        assert!(reason.contains("tenant_id"), "{reason}");
    }

    #[test]
    fn debug_hides_credentials() {
        let mut settings = AzureSettings::new("https://sips.vault.azure.net");
        settings.credential = AzureCredentialKind::AccessToken {
            token: SecretString::from("hunter2-token"),
        };
        let token = StaticToken::new("hunter2-token");

        let text = format!("{settings:?} {token:?}");

        assert!(!text.contains("hunter2"), "{text}");
    }

    #[test]
    fn chain_without_managed_identity_builds_offline() {
        let chain = DefaultChain::new(Some("tenant"), None, true);

        let names: Vec<&str> = chain.links.iter().map(|link| link.name).collect();

        assert!(!names.contains(&"managed identity"), "{names:?}");
        assert!(names.contains(&"Azure CLI"), "{names:?}");
    }
}
