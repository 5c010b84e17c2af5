//! The `sips` provider: its configuration, the environment guard, and the
//! registration list of resources and data sources.

mod config;

use std::sync::Arc;

use async_trait::async_trait;

pub use config::{Environment, ProviderConfig, string_map};
use crate::framework::{
    ConfigureRequest, DataSource, Diagnostics, Provider, RequestContext, Resource, Schema,
};
use crate::resources;
use crate::value::Value;

/// Source address under which Terraform installs this provider.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/srs/sips";

/// What every resource receives once the provider is configured.
pub struct ProviderData {
    pub config: ProviderConfig,
}

#[derive(Default)]
pub struct SipsProvider;

#[async_trait]
impl Provider for SipsProvider {
    type Data = ProviderData;

    fn schema(&self) -> Schema {
        Schema { version: 0, block: config::block() }
    }

    async fn validate_config(&self, config: &Value, _context: &RequestContext) -> Diagnostics {
        match ProviderConfig::from_value(config) {
            Ok(_) => Diagnostics::new(),
            Err(diagnostics) => diagnostics,
        }
    }

    async fn configure(&self, request: ConfigureRequest) -> (Option<ProviderData>, Diagnostics) {
        match ProviderConfig::from_value(&request.config) {
            Ok(config) => (Some(ProviderData { config }), Diagnostics::new()),
            Err(diagnostics) => (None, diagnostics),
        }
    }

    fn resources(&self) -> Vec<Arc<dyn Resource<ProviderData>>> {
        vec![Arc::new(resources::rotation_policy::RotationPolicyResource)]
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource<ProviderData>>> {
        Vec::new()
    }
}
