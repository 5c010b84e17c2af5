//! `sips_credential`: one SIPS credential pair for one environment, kept in
//! AWS Secrets Manager.
//!
//! The secret is read from a write-only attribute, a file or an environment
//! variable, during plan (to detect a new value by its fingerprint) and during
//! apply (to store it). State holds only the salted fingerprint.

mod apply;

pub use apply::store_error;
mod model;
mod plan;
mod read;
pub mod schema;
pub mod state;

use async_trait::async_trait;

use crate::framework::{
    ApplyRequest, AttributePath, Diagnostic, Diagnostics, ImportRequest, PlanRequest, ReadRequest,
    RequestContext, Resource, Schema, StateResponse,
};
use crate::provider::ProviderData;
use crate::value::Value;

pub const TYPE_NAME: &str = "sips_credential";

pub struct CredentialResource;

#[async_trait]
impl Resource<ProviderData> for CredentialResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema::schema()
    }

    async fn validate(&self, config: &Value, _context: &RequestContext) -> Diagnostics {
        let mut diagnostics = model::check_secret_sources(config);
        if config.attr(schema::AWS_BLOCK).is_null() {
            diagnostics.push(Diagnostic::error(
                "Missing store block",
                "Add an aws_secrets_manager block: it names the store that keeps this credential.",
            ));
        }
        let tags = config.attr(schema::AWS_BLOCK).attr("tags");
        for key in tags
            .entries()
            .into_iter()
            .flat_map(|entries| entries.keys())
        {
            if key.starts_with(state::RESERVED_TAG_PREFIX) {
                let path = AttributePath::root(schema::AWS_BLOCK)
                    .attribute("tags")
                    .key(key);
                diagnostics.push(
                    Diagnostic::error(
                        "Reserved tag key",
                        format!(
                            "Tag keys starting with \"sips:\" hold the provider's own metadata; \
                             rename {key:?}."
                        ),
                    )
                    .at(path),
                );
            }
        }
        if let Err(errors) = model::CredentialConfig::from_value(config) {
            diagnostics.extend(errors);
        }
        diagnostics
    }

    async fn plan(&self, request: &mut PlanRequest<'_, ProviderData>) {
        plan::plan(request).await
    }

    async fn create(&self, request: ApplyRequest<'_, ProviderData>) -> StateResponse {
        apply::create(request).await
    }

    async fn update(&self, request: ApplyRequest<'_, ProviderData>) -> StateResponse {
        apply::update(request).await
    }

    async fn delete(&self, request: ApplyRequest<'_, ProviderData>) -> Diagnostics {
        apply::delete(request).await
    }

    async fn read(&self, request: ReadRequest<'_, ProviderData>) -> StateResponse {
        read::read(request).await
    }

    async fn import(&self, request: ImportRequest<'_, ProviderData>) -> StateResponse {
        read::import(request).await
    }
}
