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
        diagnostics.extend(check_store_block(config));
        diagnostics.extend(check_client_id(config));
        if let Err(errors) = model::CredentialConfig::from_value(config) {
            diagnostics.extend(errors);
        }
        diagnostics
    }

    async fn plan(&self, request: &mut PlanRequest<'_, ProviderData>) {
        plan::plan(request).await
    }

    async fn plan_destroy(
        &self,
        prior_state: &Value,
        data: &ProviderData,
        _context: &RequestContext,
    ) -> Diagnostics {
        plan::plan_destroy(prior_state, data)
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

/// Checks that exactly one store block is set, its tag keys, and on Key Vault
/// the secret name.
fn check_store_block(config: &Value) -> Diagnostics {
    let mut diagnostics = Diagnostics::new();
    let set: Vec<&str> = [schema::AWS_BLOCK, schema::AZURE_BLOCK]
        .into_iter()
        .filter(|block| !config.attr(block).is_null())
        .collect();
    match set.as_slice() {
        [_] => {}
        [] => diagnostics.push(Diagnostic::error(
            "Missing store block",
            "Add an aws_secrets_manager or an azure_key_vault block: it names the store that \
             keeps this credential.",
        )),
        _ => diagnostics.push(
            Diagnostic::error(
                "Conflicting store blocks",
                "Set either aws_secrets_manager or azure_key_vault, not both: one credential \
                 lives in one store.",
            )
            .at(AttributePath::root(schema::AZURE_BLOCK)),
        ),
    }
    for block in set {
        let tags = config.attr(block).attr("tags");
        for key in tags
            .entries()
            .into_iter()
            .flat_map(|entries| entries.keys())
        {
            if key.starts_with(state::RESERVED_TAG_PREFIX) {
                let path = AttributePath::root(block).attribute("tags").key(key);
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
    }
    let aws_name = config.attr(schema::AWS_BLOCK).attr("name");
    if let Some(name) = aws_name.as_str() {
        let problem = match crate::stores::EntryName::new(name) {
            _ if name.starts_with("arn:") => Some("a name, not an ARN, is expected".to_owned()),
            Ok(_) => None,
            Err(error) => Some(error.to_string()),
        };
        if let Some(problem) = problem {
            let path = AttributePath::root(schema::AWS_BLOCK).attribute("name");
            let detail = format!("Invalid secret name {name:?}: {problem}.");
            diagnostics.push(Diagnostic::error("Invalid secret name", detail).at(path));
        }
    }
    let secret_name = config.attr(schema::AZURE_BLOCK).attr("secret_name");
    if let Some(problem) = secret_name.as_str().and_then(model::key_vault_name_problem) {
        let path = AttributePath::root(schema::AZURE_BLOCK).attribute("secret_name");
        diagnostics.push(Diagnostic::error("Invalid secret name", problem).at(path));
    }
    diagnostics
}

/// Longest accepted client_id.
const CLIENT_ID_MAX: usize = 256;

/// Checks that a known client_id is printable and of a sensible length: it is
/// part of derived entry names, tags and diagnostics.
fn check_client_id(config: &Value) -> Diagnostics {
    let Some(client_id) = config.attr("client_id").as_str() else {
        return Diagnostics::new();
    };
    let printable = client_id.chars().all(|c| c.is_ascii_graphic());
    if !client_id.is_empty() && client_id.len() <= CLIENT_ID_MAX && printable {
        return Diagnostics::new();
    }
    Diagnostic::error(
        "Invalid client_id",
        format!(
            "client_id must be 1 to {CLIENT_ID_MAX} printable ASCII characters without spaces, \
             as SRS issues them; got {client_id:?}."
        ),
    )
    .at(AttributePath::root("client_id"))
    .into()
}
