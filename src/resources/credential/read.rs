//! Refreshing and importing a credential: drift in the value, the versions
//! and the tags, and deadlines recomputed from the clock.

use crate::framework::{Diagnostic, Diagnostics, ImportRequest, ReadRequest, StateResponse};
use crate::provider::{Environment, ProviderData};
use crate::resources::rotation_policy::rules_from;
use crate::rotation::parse_rfc3339;
use crate::secret::{Fingerprint, Secret, fingerprint, fingerprint_with_salt};
use crate::stores::{
    EntryName, EntryState, SecretStore, StoreError, VersionContent, VersionSelector, tag,
};
use crate::value::Value;

use super::apply::store_error;
use super::apply::{entry_name_in, store_for};
use super::model::{CredentialConfig, StoreKind};
use super::schema::{AWS_BLOCK, AZURE_BLOCK, schema};
use super::state::{
    STATUS_REVOKED, TAG_ISSUED_AT, refresh_deadlines, rules_or_default, tags_value, timestamp,
    user_tags,
};

pub async fn read(request: ReadRequest<'_, ProviderData>) -> StateResponse {
    let private = request.private.to_vec();
    match refresh(&request).await {
        Ok(state) => StateResponse {
            state,
            private,
            ..Default::default()
        },
        Err(diagnostics) => StateResponse {
            state: request.state.clone(),
            private,
            diagnostics,
        },
    }
}

async fn refresh(request: &ReadRequest<'_, ProviderData>) -> Result<Value, Diagnostics> {
    let state = request.state;
    let config = CredentialConfig::from_value(state)?.ok_or_else(|| {
        Diagnostics::from(Diagnostic::error(
            "Invalid state",
            "The stored state has no environment or client_id; remove it and import again.",
        ))
    })?;
    let kind = config.store.kind;
    let name = entry_name_in(state, kind).unwrap_or_default();
    let name =
        EntryName::new(name).map_err(|error| store_error("Invalid secret name in state", error))?;
    let store = store_for(request.data, &config.store).await?;
    let entry = match store.describe(&name).await {
        Ok(entry) => entry,
        Err(StoreError::NotFound { .. }) => return Ok(Value::Null),
        Err(error) => return Err(store_error("Failed to read the secret", error)),
    };
    if entry.is_scheduled_for_deletion() {
        // Gone for Terraform; the next apply restores it under the same name.
        return Ok(Value::Null);
    }

    let mut refreshed = state.clone();
    apply_entry(&mut refreshed, &entry, request.data, kind);
    let current = entry.current().map(|version| version.id.to_string());
    if current.as_deref() != state.attr("version_id").as_str() {
        refresh_current_value(&mut refreshed, store.as_ref(), &name).await?;
    }
    let rules = match rules_from(state.attr("rotation_policy"), &Default::default()) {
        Ok(rules) => rules_or_default(rules.as_ref()),
        Err(_) => rules_or_default(None),
    };
    refresh_deadlines(&mut refreshed, &rules, request.data.clock.now());
    Ok(refreshed)
}

/// Copies the entry's metadata into the state.
fn apply_entry(state: &mut Value, entry: &EntryState, data: &ProviderData, kind: StoreKind) {
    state.set_attr("id", Value::string(&entry.id));
    let arn = match kind {
        StoreKind::Aws => Value::string(&entry.id),
        StoreKind::Azure => Value::Null,
    };
    state.set_attr("arn", arn);
    if let Some(client_id) = entry.client_id() {
        state.set_attr("client_id", Value::string(client_id));
    }
    let previous = entry
        .previous()
        .map(|version| Value::string(version.id.to_string()));
    state.set_attr("previous_version_id", previous.unwrap_or(Value::Null));
    if let Some(block) = state.attr_mut(kind.block()) {
        block.set_attr(kind.name_attribute(), Value::string(&entry.name));
        block.set_attr("tags", tags_value(&user_tags(&entry.tags, &data.config)));
        if kind == StoreKind::Aws {
            let description = entry.description.clone().map_or(Value::Null, Value::string);
            block.set_attr("description", description);
        }
    }
}

/// Reads the current value after it changed outside this state, and records
/// its fingerprint under the state's salt, so that the next plan compares it
/// with the configured secret.
async fn refresh_current_value(
    state: &mut Value,
    store: &dyn SecretStore,
    name: &EntryName,
) -> Result<(), Diagnostics> {
    let stored = store
        .read_value(name, &VersionSelector::Current)
        .await
        .map_err(|error| store_error("Failed to read the current secret version", error))?;
    state.set_attr("version_id", Value::string(stored.version_id.to_string()));
    match stored.content {
        VersionContent::Credential(credential) => {
            let secret = Secret::new(
                secrecy::ExposeSecret::expose_secret(credential.client_secret()).to_owned(),
            )
            .map_err(|_| {
                Diagnostics::from(Diagnostic::error(
                    "Empty client secret in store",
                    format!("The current version of {name} has an empty client_secret."),
                ))
            })?;
            let salt = state
                .attr("fingerprint")
                .as_str()
                .and_then(|text| text.parse::<Fingerprint>().ok())
                .map(|fp| fp.salt());
            let fingerprint = match salt {
                Some(salt) => fingerprint_with_salt(&secret, &salt),
                None => fingerprint(&secret),
            };
            state.set_attr("fingerprint", Value::string(fingerprint.to_string()));
            if state.attr("rotation_status").as_str() == Some(STATUS_REVOKED) {
                state.set_attr("rotation_status", Value::string("current"));
            }
        }
        VersionContent::Revoked(_) => {
            state.set_attr("rotation_status", Value::string(STATUS_REVOKED))
        }
    }
    Ok(())
}

/// Imports an entry by name or ARN. Its `sips:environment` tag gives the
/// environment it belongs to; the next plan fills in the configuration's
/// secret source and policy.
pub async fn import(request: ImportRequest<'_, ProviderData>) -> StateResponse {
    match import_entry(&request).await {
        Ok(state) => StateResponse::ok(state),
        Err(diagnostics) => StateResponse::failed(diagnostics),
    }
}

/// An import id: an AWS secret name or ARN, or a Key Vault secret URL
/// `https://<vault>.vault.azure.net/secrets/<name>`.
struct ImportTarget {
    kind: StoreKind,
    vault_url: Option<String>,
    name: String,
}

fn import_target(id: &str) -> ImportTarget {
    let id = id.trim();
    if let Some((vault_url, name)) = id.strip_prefix("https://").and_then(|rest| {
        let (host, path) = rest.split_once("/secrets/")?;
        let name = path.split('/').next().unwrap_or_default();
        Some((format!("https://{host}"), name.to_owned()))
    }) {
        return ImportTarget {
            kind: StoreKind::Azure,
            vault_url: Some(vault_url),
            name,
        };
    }
    ImportTarget {
        kind: StoreKind::Aws,
        vault_url: None,
        name: id.to_owned(),
    }
}

async fn import_entry(request: &ImportRequest<'_, ProviderData>) -> Result<Value, Diagnostics> {
    let target = import_target(request.id);
    let name = EntryName::new(target.name.clone()).map_err(|error| {
        Diagnostics::from(Diagnostic::error(
            "Invalid import id",
            format!(
                "{error}. Import a credential by its AWS secret name or ARN, or by its Key \
                 Vault secret URL https://<vault>.vault.azure.net/secrets/<name>."
            ),
        ))
    })?;
    let store = match &target.vault_url {
        Some(vault_url) => request.data.azure_store(vault_url)? as std::sync::Arc<dyn SecretStore>,
        None => request.data.aws_store().await?,
    };
    let entry = store.describe(&name).await.map_err(|error| match error {
        StoreError::NotFound { .. } => Diagnostic::error(
            "Secret not found",
            format!("No secret named {name} exists in this account and region."),
        )
        .into(),
        error => store_error("Failed to read the secret", error),
    })?;
    let environment = entry_environment(&entry)?;
    if !request.data.config.allows(environment) {
        return Err(Diagnostic::error(
            "Environment not allowed by this provider configuration",
            format!("The secret {name} belongs to {environment}, which this provider configuration may not manage."),
        )
        .into());
    }
    let stored = store
        .read_value(&name, &VersionSelector::Current)
        .await
        .map_err(|error| store_error("Failed to read the current secret version", error))?;
    let VersionContent::Credential(credential) = stored.content else {
        return Err(Diagnostic::error("Secret revoked", format!("The current version of {name} is a revocation marker; store a new secret before importing.")).into());
    };
    let secret =
        Secret::new(secrecy::ExposeSecret::expose_secret(credential.client_secret()).to_owned())
            .map_err(|_| {
                Diagnostics::from(Diagnostic::error(
                    "Empty client secret in store",
                    format!("The current version of {name} has an empty client_secret."),
                ))
            })?;

    let now = request.data.clock.now();
    let issued_at = entry
        .tags
        .get(TAG_ISSUED_AT)
        .and_then(|text| parse_rfc3339(text).ok())
        .or(entry.created_at)
        .unwrap_or(now);
    let mut state = schema().block.empty_value();
    state.set_attr("environment", Value::string(environment.as_str()));
    state.set_attr(
        "client_id",
        Value::string(entry.client_id().unwrap_or(credential.client_id())),
    );
    state.set_attr("retire_previous", Value::Bool(false));
    state.set_attr("revoked", Value::Bool(false));
    state.set_attr("version_id", Value::string(stored.version_id.to_string()));
    state.set_attr(
        "fingerprint",
        Value::string(fingerprint(&secret).to_string()),
    );
    state.set_attr("issued_at", timestamp(issued_at));
    let window = if environment == Environment::Production {
        30
    } else {
        7
    };
    let block = match target.kind {
        StoreKind::Aws => (
            AWS_BLOCK,
            Value::object([
                ("name", Value::string(&entry.name)),
                (
                    "kms_key_id",
                    entry.kms_key_id.clone().map_or(Value::Null, Value::string),
                ),
                ("description", Value::Null),
                ("tags", Value::Null),
                ("recovery_window_days", Value::int(window)),
                ("force_delete", Value::Bool(false)),
            ]),
        ),
        StoreKind::Azure => (
            AZURE_BLOCK,
            Value::object([
                (
                    "vault_url",
                    target.vault_url.clone().map_or(Value::Null, Value::string),
                ),
                ("secret_name", Value::string(&entry.name)),
                (
                    "content_type",
                    Value::string(crate::stores::azure::CONTENT_TYPE),
                ),
                ("tags", Value::Null),
                ("force_delete", Value::Bool(false)),
            ]),
        ),
    };
    state.set_attr(block.0, block.1);
    apply_entry(&mut state, &entry, request.data, target.kind);
    refresh_deadlines(&mut state, &rules_or_default(None), now);
    Ok(state)
}

fn entry_environment(entry: &EntryState) -> Result<Environment, Diagnostics> {
    let value = entry.tags.get(tag::ENVIRONMENT).map(String::as_str);
    value.and_then(Environment::parse).ok_or_else(|| {
        Diagnostic::error(
            "Secret has no environment",
            format!(
                "The secret {} has no {} tag with \"staging\" or \"production\" (found {:?}). Tag \
                 it with its environment, then import it again.",
                entry.name,
                tag::ENVIRONMENT,
                value.unwrap_or("none")
            ),
        )
        .into()
    })
}
