//! Settings of the Secrets Manager store and the SDK configuration built from them.

use std::time::Duration;

use aws_config::environment::{
    EnvironmentVariableCredentialsProvider, EnvironmentVariableRegionProvider,
};
use aws_config::meta::credentials::CredentialsProviderChain;
use aws_config::meta::region::RegionProviderChain;
use aws_config::profile::{ProfileFileCredentialsProvider, ProfileFileRegionProvider};
use aws_config::provider_config::ProviderConfig;
use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, Region, SdkConfig};
use aws_sdk_secretsmanager::config::{Credentials, SharedCredentialsProvider};
use secrecy::{ExposeSecret, SecretString};

use crate::stores::StoreError;

/// Default number of attempts per operation, first try included.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_SESSION_NAME: &str = "terraform-provider-sips";

/// How to reach Secrets Manager and which identity to use.
///
/// Credentials come from the SDK's standard chain (environment, shared profile including SSO
/// and `credential_process`, web identity, container, and instance metadata unless
/// `disable_imds` is set), optionally exchanged for a role through STS.
#[derive(Debug, Clone)]
pub struct AwsSettings {
    /// Region; `None` takes it from `AWS_REGION` or the profile.
    pub region: Option<String>,
    /// Shared-config profile; `None` uses `AWS_PROFILE` or `default`.
    pub profile: Option<String>,
    /// Endpoint for every AWS call, STS included; set it only for emulators.
    pub endpoint_url: Option<String>,
    pub assume_role: Option<AssumeRole>,
    /// Skips the EC2 instance metadata service when looking up region and credentials.
    pub disable_imds: bool,
    /// Attempts per operation with the SDK's standard retry strategy, first try included.
    pub max_attempts: u32,
    /// Fixed keys in place of the chain, for emulators and tests.
    pub static_credentials: Option<StaticCredentials>,
}

impl Default for AwsSettings {
    fn default() -> Self {
        Self {
            region: None,
            profile: None,
            endpoint_url: None,
            assume_role: None,
            disable_imds: false,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            static_credentials: None,
        }
    }
}

/// A role to assume with the base credentials before calling Secrets Manager.
#[derive(Debug, Clone)]
pub struct AssumeRole {
    pub role_arn: String,
    /// Session name shown in CloudTrail; defaults to `terraform-provider-sips`.
    pub session_name: Option<String>,
    pub external_id: Option<String>,
}

/// Access keys given directly. `Debug` shows the key id only.
#[derive(Debug, Clone)]
pub struct StaticCredentials {
    pub access_key_id: String,
    pub secret_access_key: SecretString,
    pub session_token: Option<SecretString>,
}

/// Builds the SDK configuration for `settings`.
pub(super) async fn load(settings: &AwsSettings) -> Result<SdkConfig, StoreError> {
    check(settings)?;
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(settings.max_attempts))
        .timeout_config(timeouts());
    if let Some(profile) = &settings.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(endpoint) = &settings.endpoint_url {
        loader = loader.endpoint_url(endpoint);
    }
    loader = with_region_and_credentials(loader, settings).await;

    let config = loader.load().await;
    if config.region().is_none() {
        return Err(configuration(
            "no AWS region found; set region in the provider configuration, \
             AWS_REGION, or the profile",
        ));
    }
    match &settings.assume_role {
        Some(role) => Ok(assume(config, role).await),
        None => Ok(config),
    }
}

fn check(settings: &AwsSettings) -> Result<(), StoreError> {
    if settings.max_attempts == 0 {
        return Err(configuration("max_attempts must be at least 1"));
    }
    if let Some(url) = &settings.endpoint_url
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        return Err(configuration(&format!(
            "endpoint URL {url:?} must start with http:// or https://"
        )));
    }
    if let Some(role) = &settings.assume_role
        && !role.role_arn.starts_with("arn:")
    {
        return Err(configuration(&format!(
            "role ARN {:?} must start with arn:",
            role.role_arn
        )));
    }
    Ok(())
}

fn configuration(reason: &str) -> StoreError {
    StoreError::Configuration {
        reason: reason.to_owned(),
    }
}

fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .build()
}

/// Sets region and credential sources. With instance metadata allowed, the SDK's default
/// chains are kept. Without it, both chains are rebuilt from their public parts minus IMDS,
/// because aws-config 1.13 reads the IMDS switch only from the process environment.
async fn with_region_and_credentials(
    mut loader: ConfigLoader,
    settings: &AwsSettings,
) -> ConfigLoader {
    if settings.disable_imds {
        // The chain goes to the loader even when it finds nothing, so that the loader does not
        // fall back to its default chain, which ends with IMDS.
        let region = region_without_imds(settings).region().await;
        loader = loader.region(region_without_imds(settings));
        if settings.static_credentials.is_none() {
            loader = loader.credentials_provider(credentials_without_imds(settings, region));
        }
    } else if let Some(region) = &settings.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(keys) = &settings.static_credentials {
        loader = loader.credentials_provider(static_provider(keys));
    }
    loader
}

fn region_without_imds(settings: &AwsSettings) -> RegionProviderChain {
    let mut profile = ProfileFileRegionProvider::builder();
    if let Some(name) = &settings.profile {
        profile = profile.profile_name(name);
    }
    RegionProviderChain::first_try(settings.region.clone().map(Region::new))
        .or_else(EnvironmentVariableRegionProvider::new())
        .or_else(profile.build())
}

fn credentials_without_imds(
    settings: &AwsSettings,
    region: Option<Region>,
) -> CredentialsProviderChain {
    let provider_config = ProviderConfig::default()
        .with_behavior_version(Some(BehaviorVersion::latest()))
        .with_region(region);
    let mut profile = ProfileFileCredentialsProvider::builder().configure(&provider_config);
    if let Some(name) = &settings.profile {
        profile = profile.profile_name(name);
    }
    let web_identity =
        aws_config::web_identity_token::WebIdentityTokenCredentialsProvider::builder()
            .configure(&provider_config)
            .build();
    let container = aws_config::ecs::EcsCredentialsProvider::builder()
        .configure(&provider_config)
        .build();

    CredentialsProviderChain::first_try(
        "Environment",
        EnvironmentVariableCredentialsProvider::new(),
    )
    .or_else("Profile", profile.build())
    .or_else("WebIdentityToken", web_identity)
    .or_else("EcsContainer", container)
}

fn static_provider(keys: &StaticCredentials) -> Credentials {
    Credentials::new(
        keys.access_key_id.clone(),
        keys.secret_access_key.expose_secret().to_owned(),
        keys.session_token
            .as_ref()
            .map(|token| token.expose_secret().to_owned()),
        None,
        "sips-static",
    )
}

/// Wraps the base credentials of `config` in an STS AssumeRole provider. The STS client is
/// built from `config`, so it uses the same region and endpoint override.
async fn assume(config: SdkConfig, role: &AssumeRole) -> SdkConfig {
    let session_name = role.session_name.as_deref().unwrap_or(DEFAULT_SESSION_NAME);
    let mut builder = AssumeRoleProvider::builder(role.role_arn.clone())
        .session_name(session_name)
        .configure(&config);
    if let Some(external_id) = &role.external_id {
        builder = builder.external_id(external_id.clone());
    }
    let provider = builder.build().await;
    config
        .into_builder()
        .credentials_provider(SharedCredentialsProvider::new(provider))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn missing_region_is_a_configuration_error() {
        let settings = AwsSettings {
            profile: Some("sips-test-profile-that-does-not-exist".into()),
            disable_imds: true,
            ..AwsSettings::default()
        };

        let result = load(&settings).await;

        // The test process may set AWS_REGION; only check the error shape when it does not.
        if std::env::var_os("AWS_REGION").is_none()
            && std::env::var_os("AWS_DEFAULT_REGION").is_none()
        {
            assert!(matches!(result, Err(StoreError::Configuration { .. })));
        }
    }

    #[tokio::test]
    async fn bad_endpoint_is_rejected() {
        let settings = AwsSettings {
            endpoint_url: Some("127.0.0.1:4566".into()),
            ..AwsSettings::default()
        };

        let result = load(&settings).await;

        let Err(StoreError::Configuration { reason }) = result else {
            panic!("expected a configuration error");
        };
        assert!(reason.contains("http://"), "{reason}");
    }

    #[test]
    fn static_credentials_debug_hides_secret() {
        let keys = StaticCredentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: SecretString::from("wJalrXUtnFEMI-example"),
            session_token: None,
        };

        let text = format!("{keys:?}");

        assert!(!text.contains("wJalrXUtnFEMI-example"), "{text}");
        assert!(text.contains("AKIDEXAMPLE"), "{text}");
    }
}
