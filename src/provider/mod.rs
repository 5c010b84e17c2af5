//! The `sips` provider: its configuration, the environment guard, and the
//! registration list of resources and data sources.

mod config;

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::OnceCell;

use crate::audit::AuditLog;
use crate::framework::{
    AttributePath, ConfigureRequest, DataSource, Diagnostic, Diagnostics, EphemeralResource,
    Provider, RequestContext, Resource, Schema,
};
use crate::resources;
use crate::rotation::{Clock, SystemClock};
use crate::stores::SecretStore;
use crate::stores::aws::AwsSecretsStore;
use crate::value::Value;
use crate::vendor::TokenCheck;
pub use config::{Environment, ProviderConfig, string_map};

/// Source address under which Terraform installs this provider.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/srs/sips";

/// Data that every resource receives once the provider is configured.
pub struct ProviderData {
    pub config: ProviderConfig,
    pub clock: Arc<dyn Clock>,
    pub audit: AuditLog,
    /// SRS's token endpoint that new secrets must pass, when configured.
    pub vendor: Option<TokenCheck>,
    /// Connected on first use, so that plans without AWS resources never
    /// resolve AWS credentials.
    aws: OnceCell<Arc<dyn SecretStore>>,
}

impl ProviderData {
    pub fn new(config: ProviderConfig, clock: Arc<dyn Clock>, audit: AuditLog) -> Self {
        Self {
            config,
            clock,
            audit,
            vendor: None,
            aws: OnceCell::new(),
        }
    }

    /// Returns the AWS Secrets Manager store, connecting on first use.
    pub async fn aws_store(&self) -> Result<Arc<dyn SecretStore>, Diagnostics> {
        self.aws
            .get_or_try_init(|| async {
                let settings = self.config.aws.settings();
                match AwsSecretsStore::connect(&settings).await {
                    Ok(store) => Ok(Arc::new(store) as Arc<dyn SecretStore>),
                    Err(error) => Err(Diagnostics::from(Diagnostic::error(
                        "Failed to configure AWS Secrets Manager",
                        format!(
                            "The provider could not set up its AWS client: {error}. Check the \
                             provider's aws block and the AWS credentials of this run."
                        ),
                    ))),
                }
            })
            .await
            .cloned()
    }
}

#[derive(Default)]
pub struct SipsProvider;

#[async_trait]
impl Provider for SipsProvider {
    type Data = ProviderData;

    fn schema(&self) -> Schema {
        Schema {
            version: 0,
            block: config::block(),
        }
    }

    async fn validate_config(&self, config: &Value, _context: &RequestContext) -> Diagnostics {
        match ProviderConfig::from_value(config) {
            Ok(_) => Diagnostics::new(),
            Err(diagnostics) => diagnostics,
        }
    }

    async fn configure(&self, request: ConfigureRequest) -> (Option<ProviderData>, Diagnostics) {
        let config = match ProviderConfig::from_value(&request.config) {
            Ok(config) => config,
            Err(diagnostics) => return (None, diagnostics),
        };
        let audit = match &config.audit_log_path {
            None => AuditLog::disabled(),
            Some(path) => match AuditLog::open(path) {
                Ok(log) => log,
                Err(error) => {
                    let diagnostic = Diagnostic::error(
                        "Failed to open the audit log",
                        format!("{error}. Check audit_log_path and the directory's permissions."),
                    )
                    .at(AttributePath::root("audit_log_path"));
                    return (None, diagnostic.into());
                }
            },
        };
        let vendor = match &config.verification {
            None => None,
            Some(block) => match TokenCheck::new(
                &block.token_url,
                block.scope.clone(),
                std::time::Duration::from_secs(block.timeout_seconds),
            ) {
                Ok(check) => Some(check),
                Err(error) => {
                    let diagnostic = Diagnostic::error(
                        "Invalid verification settings",
                        format!("{error}. Check the verification block's token_url."),
                    )
                    .at(AttributePath::root("verification").attribute("token_url"));
                    return (None, diagnostic.into());
                }
            },
        };
        let mut data = ProviderData::new(config, Arc::new(SystemClock), audit);
        data.vendor = vendor;
        (Some(data), Diagnostics::new())
    }

    fn resources(&self) -> Vec<Arc<dyn Resource<ProviderData>>> {
        vec![
            Arc::new(resources::credential::CredentialResource),
            Arc::new(resources::rotation_policy::RotationPolicyResource),
        ]
    }

    fn ephemeral_resources(&self) -> Vec<Arc<dyn EphemeralResource<ProviderData>>> {
        vec![Arc::new(
            resources::credential_secret::CredentialSecretEphemeral,
        )]
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource<ProviderData>>> {
        vec![Arc::new(
            resources::compliance_report::ComplianceReportDataSource,
        )]
    }
}
