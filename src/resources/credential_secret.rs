//! `sips_credential_secret`: an ephemeral resource that reads a credential
//! pair from its store during a run, for Terraform and OpenTofu 1.10 and
//! later, which never write ephemeral values to plan or state.
//!
//! Typical use: hand the secret to another provider's write-only attribute,
//! or to a provider block, without it ever reaching state.

use async_trait::async_trait;
use secrecy::ExposeSecret;

use crate::framework::{
    Attribute, Block, DataReadRequest, Diagnostic, Diagnostics, EphemeralResource, OneOf, Schema,
    StateResponse,
};
use crate::provider::{Environment, ProviderData};
use crate::stores::{EntryName, SecretStore, StoreError, VersionContent, VersionSelector, tag};
use crate::value::{Type, Value};

use super::credential::store_error;

pub const TYPE_NAME: &str = "sips_credential_secret";

pub struct CredentialSecretEphemeral;

fn block() -> Block {
    Block::new(
        "Reads a SIPS credential pair from AWS Secrets Manager or Azure Key Vault during a run \
         without storing it: Terraform and OpenTofu 1.10 and later keep ephemeral values out of plan and \
         state. Use it to pass the secret to write-only attributes of other resources.",
    )
    .attribute(Attribute::required(
        "name",
        Type::String,
        "Name or ARN of the secret, for example \
         `sips_credential.staging.aws_secrets_manager.name`, or its Key Vault secret name.",
    ))
    .attribute(Attribute::optional(
        "vault_url",
        Type::String,
        "Key Vault that holds the secret. Unset reads from AWS Secrets Manager.",
    ))
    .attribute(
        Attribute::optional(
            "version",
            Type::String,
            "Which version to read: `current` (default) or `previous`, the version still \
             readable during a changeover.",
        )
        .validate(OneOf(&["current", "previous"])),
    )
    .attribute(Attribute::computed("client_id", Type::String, "The public client identifier."))
    .attribute(
        Attribute::computed("client_secret", Type::String, "The client secret.").sensitive(),
    )
    .attribute(Attribute::computed("version_id", Type::String, "Store version that was read."))
    .attribute(Attribute::computed(
        "environment",
        Type::String,
        "Environment from the entry's `sips:environment` tag.",
    ))
}

#[async_trait]
impl EphemeralResource<ProviderData> for CredentialSecretEphemeral {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        Schema {
            version: 0,
            block: block(),
        }
    }

    async fn open(&self, request: DataReadRequest<'_, ProviderData>) -> StateResponse {
        match open(&request).await {
            Ok(state) => StateResponse::ok(state),
            Err(diagnostics) => StateResponse::failed(diagnostics),
        }
    }
}

async fn open(request: &DataReadRequest<'_, ProviderData>) -> Result<Value, Diagnostics> {
    let config = request.config;
    let name = config.attr("name").as_str().unwrap_or_default();
    let name = EntryName::new(name).map_err(|error| store_error("Invalid secret name", error))?;
    let selector = match config.attr("version").as_str() {
        Some("previous") => VersionSelector::Previous,
        _ => VersionSelector::Current,
    };

    let store = match config.attr("vault_url").as_str() {
        Some(vault_url) => request.data.azure_store(vault_url)? as std::sync::Arc<dyn SecretStore>,
        None => request.data.aws_store().await?,
    };
    let entry = store
        .describe(&name)
        .await
        .map_err(|error| not_found_or(&name, error))?;
    let environment = entry
        .tags
        .get(tag::ENVIRONMENT)
        .and_then(|e| Environment::parse(e));
    if let Some(environment) = environment.filter(|e| !request.data.config.allows(*e)) {
        return Err(Diagnostic::error(
            "Environment not allowed by this provider configuration",
            format!("The secret {name} belongs to {environment}, which this provider configuration may not read."),
        )
        .into());
    }
    let stored = store
        .read_value(&name, &selector)
        .await
        .map_err(|error| not_found_or(&name, error))?;
    let VersionContent::Credential(credential) = stored.content else {
        return Err(Diagnostic::error(
            "Secret revoked",
            format!("The requested version of {name} was revoked and holds no secret."),
        )
        .into());
    };

    let mut state = config.clone();
    state.set_attr("client_id", Value::string(credential.client_id()));
    state.set_attr(
        "client_secret",
        Value::string(credential.client_secret().expose_secret()),
    );
    state.set_attr("version_id", Value::string(stored.version_id.to_string()));
    state.set_attr(
        "environment",
        environment.map_or(Value::Null, |e| Value::string(e.as_str())),
    );
    Ok(state)
}

fn not_found_or(name: &EntryName, error: StoreError) -> Diagnostics {
    match error {
        StoreError::NotFound { .. } => Diagnostic::error(
            "Secret not found",
            format!("No secret named {name}, or no such version of it, exists in this account and region."),
        )
        .into(),
        error => store_error("Failed to read the secret", error),
    }
}
