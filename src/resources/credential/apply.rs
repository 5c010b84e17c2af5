//! Applying a credential: create, rotate, retire, revoke, update metadata, delete.

use secrecy::SecretString;
use time::OffsetDateTime;

use crate::audit::{Action, AuditEvent, Outcome};
use crate::framework::{ApplyRequest, Diagnostic, Diagnostics, StateResponse};
use crate::provider::ProviderData;
use crate::rotation::{Deadlines, parse_rfc3339};
use crate::secret::{Fingerprint, Salt, Secret, fingerprint_with_salt};
use crate::stores::{
    Credential, DeleteMode, EntryMetadata, EntryName, MetadataChange, NewEntry, RequestToken,
    SecretStore, StoreError,
};
use crate::value::Value;

use super::model::{CredentialConfig, SecretInput};
use super::model::{StoreEntry, StoreKind};
use super::state::{STATUS_REVOKED, desired_tags, refresh_deadlines, rules_or_default, timestamp};

/// Everything apply needs, decoded once.
struct Context<'a> {
    request: &'a ApplyRequest<'a, ProviderData>,
    config: CredentialConfig,
    store: std::sync::Arc<dyn SecretStore>,
    name: EntryName,
    now: OffsetDateTime,
}

async fn context<'a>(
    request: &'a ApplyRequest<'a, ProviderData>,
) -> Result<Context<'a>, Diagnostics> {
    let config = CredentialConfig::from_value(request.config)?.ok_or_else(|| {
        Diagnostics::from(Diagnostic::error(
            "Unknown values at apply",
            "environment and client_id must be known during apply. This is a bug in the \
             provider or the client; please report it.",
        ))
    })?;
    let kind = config.store.kind;
    let planned_name = entry_name_in(request.planned_state, kind);
    let name = planned_name.unwrap_or_else(|| config.entry_name(&request.data.config));
    let name = EntryName::new(name).map_err(store_diagnostic("Invalid secret name"))?;
    let store = store_for(request.data, &config.store).await?;
    let now = request.data.clock.now();
    Ok(Context {
        request,
        config,
        store,
        name,
        now,
    })
}

pub async fn create(request: ApplyRequest<'_, ProviderData>) -> StateResponse {
    let context = match context(&request).await {
        Ok(context) => context,
        Err(diagnostics) => return StateResponse::failed(diagnostics),
    };
    match create_entry(&context).await {
        Ok(state) => StateResponse::ok(state),
        Err(diagnostics) => StateResponse::failed(diagnostics),
    }
}

async fn create_entry(context: &Context<'_>) -> Result<Value, Diagnostics> {
    let secret = load_secret(&context.config)?;
    let salt = super::plan::create_salt(&context.config, &context.request.data.config);
    let fingerprint = planned_fingerprint(context.request.planned_state, &secret, &salt)?;
    verify_with_vendor(context, &secret, Action::Create).await?;
    let deadlines = deadlines(context, context.now);
    let metadata = EntryMetadata {
        description: context.config.store.description.clone(),
        kms_key_id: context.config.store.kms_key_id.clone(),
        tags: desired_tags(
            &context.request.data.config,
            &context.config,
            &fingerprint.to_string(),
            deadlines.as_ref(),
        ),
    };
    let token = request_token(&context.config, &fingerprint.to_string());
    let value = credential(&context.config, &secret);
    let entry = NewEntry {
        name: context.name.clone(),
        value: value.clone(),
        metadata: metadata.clone(),
        token: token.clone(),
    };

    let outcome = match context.store.create(entry).await {
        Ok(outcome) => outcome.state,
        Err(StoreError::ScheduledForDeletion { .. }) if may_restore(context) => {
            restore_and_put(context, &value, &token, &metadata).await?
        }
        Err(error @ StoreError::ScheduledForDeletion { .. }) => {
            return Err(Diagnostic::error(
                "Secret name is soft-deleted",
                format!(
                    "{error}. Either recover it by setting the provider's \
                     azure.recover_soft_deleted = true, or purge it (for example with `az \
                     keyvault secret purge --vault-name <vault> --name {}`) and apply again.",
                    context.name
                ),
            )
            .into());
        }
        Err(error @ StoreError::AlreadyExists { .. }) => {
            return Err(Diagnostic::error(
                "Secret already exists",
                format!(
                    "{error}. The secret {} exists and was not created by this configuration. \
                     Import it with `terraform import <address> {}`, or choose another name.",
                    context.name, context.name
                ),
            )
            .into());
        }
        Err(error) => return Err(store_error("Failed to create the secret", error)),
    };
    let version_id = outcome.current().map(|version| version.id.to_string());
    record(
        context,
        Action::Create,
        version_id.iter().cloned().collect(),
    );

    let mut state = context.request.planned_state.clone();
    state.set_attr("id", Value::string(&outcome.id));
    let arn = match context.config.store.kind {
        StoreKind::Aws => Value::string(&outcome.id),
        StoreKind::Azure => Value::Null,
    };
    state.set_attr("arn", arn);
    state.set_attr("version_id", version_id.map_or(Value::Null, Value::string));
    state.set_attr("previous_version_id", Value::Null);
    state.set_attr("fingerprint", Value::string(fingerprint.to_string()));
    state.set_attr("issued_at", timestamp(context.now));
    state.set_attr("rotation_status", Value::string("current"));
    refresh_deadlines(
        &mut state,
        &rules_or_default(context.config.rules.as_ref()),
        context.now,
    );
    Ok(state)
}

/// Brings back an entry of the same name that is scheduled for deletion and
/// stores the new secret in it, instead of failing on the taken name.
async fn restore_and_put(
    context: &Context<'_>,
    value: &Credential,
    token: &RequestToken,
    metadata: &EntryMetadata,
) -> Result<crate::stores::EntryState, Diagnostics> {
    let failed = |error| store_error("Failed to restore the secret scheduled for deletion", error);
    context.store.restore(&context.name).await.map_err(failed)?;
    record(context, Action::Restore, Vec::new());
    context
        .store
        .put_version(&context.name, value, token)
        .await
        .map_err(failed)?;
    let change = MetadataChange {
        description: metadata.description.clone(),
        kms_key_id: metadata.kms_key_id.clone(),
        set_tags: metadata.tags.clone(),
        remove_tags: Default::default(),
    };
    context
        .store
        .update_metadata(&context.name, &change)
        .await
        .map_err(failed)?;
    context.store.describe(&context.name).await.map_err(failed)
}

pub async fn update(request: ApplyRequest<'_, ProviderData>) -> StateResponse {
    let context = match context(&request).await {
        Ok(context) => context,
        Err(diagnostics) => return StateResponse::failed(diagnostics),
    };
    match update_entry(&context).await {
        Ok(state) => StateResponse::ok(state),
        Err(diagnostics) => StateResponse::failed(diagnostics),
    }
}

async fn update_entry(context: &Context<'_>) -> Result<Value, Diagnostics> {
    let prior = context.request.prior_state;
    let planned = context.request.planned_state;
    let mut state = planned.clone();
    let prior_fingerprint = prior
        .attr("fingerprint")
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let client_id_changed = prior.attr("client_id").as_str() != Some(&context.config.client_id);
    let rotating =
        client_id_changed || planned.attr("fingerprint").as_str() != Some(&prior_fingerprint);

    let mut fingerprint_text = prior_fingerprint.clone();
    if rotating {
        let secret = load_secret(&context.config)?;
        let salt = match prior_fingerprint.parse::<Fingerprint>() {
            Ok(prior) => prior.salt(),
            Err(_) => super::plan::create_salt(&context.config, &context.request.data.config),
        };
        let fingerprint = planned_fingerprint(planned, &secret, &salt)?;
        fingerprint_text = fingerprint.to_string();
        verify_with_vendor(context, &secret, Action::Rotate).await?;
        let token = request_token(&context.config, &fingerprint_text);
        let value = credential(&context.config, &secret);
        let outcome = context
            .store
            .put_version(&context.name, &value, &token)
            .await
            .map_err(|error| store_error("Failed to store the new secret version", error))?;
        let previous = prior.attr("version_id").clone();
        record(
            context,
            Action::Rotate,
            vec![outcome.version_id.to_string()],
        );
        state.set_attr("version_id", Value::string(outcome.version_id.to_string()));
        state.set_attr("previous_version_id", previous);
        state.set_attr("issued_at", timestamp(context.now));
        state.set_attr("rotation_status", Value::string("current"));
    } else if planned.attr("rotation_status").as_str() == Some(STATUS_REVOKED)
        && prior.attr("rotation_status").as_str() != Some(STATUS_REVOKED)
    {
        let revocation = context
            .store
            .revoke_current(&context.name)
            .await
            .map_err(|error| store_error("Failed to revoke the secret", error))?;
        record(
            context,
            Action::Revoke,
            vec![revocation.revoked_version.to_string()],
        );
        let current = revocation
            .tombstone_version
            .unwrap_or(revocation.revoked_version);
        state.set_attr("version_id", Value::string(current.to_string()));
    }
    if !prior.attr("previous_version_id").is_null()
        && planned.attr("previous_version_id").is_null()
        && !rotating
    {
        let retired = context
            .store
            .retire_previous(&context.name)
            .await
            .map_err(|error| store_error("Failed to retire the previous secret version", error))?;
        record(
            context,
            Action::Retire,
            retired.iter().map(ToString::to_string).collect(),
        );
    }

    state.set_attr("fingerprint", Value::string(&fingerprint_text));
    let issued_at = state
        .attr("issued_at")
        .as_str()
        .and_then(|text| parse_rfc3339(text).ok())
        .unwrap_or(context.now);
    let rules = rules_or_default(context.config.rules.as_ref());
    refresh_deadlines(&mut state, &rules, context.now);
    let deadlines = Deadlines::compute(&rules, issued_at, None).ok();
    update_metadata(context, &fingerprint_text, deadlines.as_ref()).await?;
    if !rotating {
        record(context, Action::Update, Vec::new());
    }
    Ok(state)
}

/// Sends the entry's description, key and tags in one call. Tags removed
/// from the configuration are removed from the entry.
async fn update_metadata(
    context: &Context<'_>,
    fingerprint: &str,
    deadlines: Option<&Deadlines>,
) -> Result<(), Diagnostics> {
    let provider = &context.request.data.config;
    let desired = desired_tags(provider, &context.config, fingerprint, deadlines);
    let prior_block = context
        .request
        .prior_state
        .attr(context.config.store.kind.block());
    let prior_tags = crate::provider::string_map(prior_block.attr("tags"));
    let remove_tags = prior_tags
        .keys()
        .filter(|key| !desired.contains_key(*key))
        .cloned()
        .collect();
    let changed =
        |name: &str, now: &Option<String>| prior_block.attr(name).as_str() != now.as_deref();
    let change = MetadataChange {
        description: context
            .config
            .store
            .description
            .clone()
            .filter(|_| changed("description", &context.config.store.description)),
        kms_key_id: context
            .config
            .store
            .kms_key_id
            .clone()
            .filter(|_| changed("kms_key_id", &context.config.store.kms_key_id)),
        set_tags: desired,
        remove_tags,
    };
    context
        .store
        .update_metadata(&context.name, &change)
        .await
        .map_err(|error| store_error("Failed to update the secret's metadata", error))
}

pub async fn delete(request: ApplyRequest<'_, ProviderData>) -> Diagnostics {
    let context = match context_for_delete(&request).await {
        Ok(context) => context,
        Err(diagnostics) => return diagnostics,
    };
    let environment = context.config.environment;
    if !request.data.config.allows(environment) {
        // A destroy or a replacement must not let a staging pipeline delete
        // a production entry.
        return Diagnostic::error(
            "Environment not allowed by this provider configuration",
            format!(
                "Deleting the {environment} entry {} needs a provider configuration whose \
                 environments include {environment}; this one may not touch it. Nothing was \
                 deleted.",
                context.name
            ),
        )
        .into();
    }
    let block = request.prior_state.attr(context.config.store.kind.block());
    // On Key Vault a forced delete purges, which the provider's
    // azure.purge_on_delete must allow as well; otherwise it soft-deletes.
    let purge_allowed =
        context.config.store.kind == StoreKind::Aws || request.data.config.azure.purge_on_delete;
    let mode = if block.attr("force_delete").as_bool() == Some(true) && purge_allowed {
        DeleteMode::Force
    } else {
        let window = block.attr("recovery_window_days").as_i64().unwrap_or(30);
        DeleteMode::Recoverable {
            window_days: window.clamp(7, 30) as u32,
        }
    };
    match context.store.delete(&context.name, mode).await {
        Ok(_) | Err(StoreError::NotFound { .. }) => {
            record(&context, Action::Delete, Vec::new());
            Diagnostics::new()
        }
        Err(error) => store_error("Failed to delete the secret", error),
    }
}

/// Builds the context from the prior state, because a destroy has no configuration.
async fn context_for_delete<'a>(
    request: &'a ApplyRequest<'a, ProviderData>,
) -> Result<Context<'a>, Diagnostics> {
    let config = CredentialConfig::from_value(request.prior_state)?.ok_or_else(|| {
        Diagnostics::from(Diagnostic::error(
            "Invalid state",
            "The stored state has no environment or client_id.",
        ))
    })?;
    let name = entry_name_in(request.prior_state, config.store.kind).unwrap_or_default();
    let name = EntryName::new(name).map_err(store_diagnostic("Invalid secret name in state"))?;
    let store = store_for(request.data, &config.store).await?;
    let now = request.data.clock.now();
    Ok(Context {
        request,
        config,
        store,
        name,
        now,
    })
}

fn load_secret(config: &CredentialConfig) -> Result<Secret, Diagnostics> {
    let SecretInput::Source(source) = &config.secret else {
        return Err(Diagnostic::error(
            "Client secret unknown",
            "The client secret is still unknown during apply.",
        )
        .into());
    };
    source.load().map(|loaded| loaded.secret).map_err(|error| {
        Diagnostic::error(
            "Failed to read the client secret",
            format!(
                "For client_id {}: {}. Check the configured file or environment variable.",
                config.client_id,
                crate::framework::diag::error_chain(&error)
            ),
        )
        .into()
    })
}

/// Returns the planned fingerprint after checking that the secret read now is
/// the one the plan saw.
fn planned_fingerprint(
    planned: &Value,
    secret: &Secret,
    unplanned_salt: &Salt,
) -> Result<Fingerprint, Diagnostics> {
    let Some(text) = planned.attr("fingerprint").as_str() else {
        return Ok(fingerprint_with_salt(secret, unplanned_salt));
    };
    let parsed: Fingerprint = text.parse().map_err(|_| {
        Diagnostics::from(Diagnostic::error(
            "Invalid planned fingerprint",
            "The planned fingerprint is malformed; run plan again.",
        ))
    })?;
    if !parsed.matches(secret) {
        return Err(Diagnostic::error(
            "Client secret changed since plan",
            "The client secret read during apply differs from the one read during plan. Run \
             plan again so that it shows the change you are applying.",
        )
        .into());
    }
    Ok(parsed)
}

/// Checks the new secret with SRS's token endpoint, when one is configured,
/// before anything is written: a rejected secret leaves the store unchanged,
/// so the previous secret stays current.
async fn verify_with_vendor(
    context: &Context<'_>,
    secret: &Secret,
    action: Action,
) -> Result<(), Diagnostics> {
    let Some(check) = &context.request.data.vendor else {
        return Ok(());
    };
    let Err(error) = check.verify(&context.config.client_id, secret).await else {
        return Ok(());
    };
    record_failure(context, action, &error.to_string());
    let (summary, next) = match error {
        crate::vendor::VendorError::Rejected { .. } => (
            "SRS rejected the new client secret",
            "Check that the secret is the one SRS issued for this client_id and environment.",
        ),
        _ => (
            "SRS could not verify the new client secret",
            "Run apply again when the token endpoint is reachable.",
        ),
    };
    Err(Diagnostic::error(
        summary,
        format!(
            "Verifying the new secret for the {} client_id {} failed: {error}. Nothing was \
             stored, so the previous secret stays current. {next}",
            context.config.environment, context.config.client_id
        ),
    )
    .into())
}

fn credential(config: &CredentialConfig, secret: &Secret) -> Credential {
    Credential::new(
        config.client_id.clone(),
        SecretString::from(secret.expose_secret().to_owned()),
    )
}

fn deadlines(context: &Context<'_>, issued_at: OffsetDateTime) -> Option<Deadlines> {
    Deadlines::compute(
        &rules_or_default(context.config.rules.as_ref()),
        issued_at,
        None,
    )
    .ok()
}

fn record(context: &Context<'_>, action: Action, version_ids: Vec<String>) {
    write_audit(context, action, version_ids, Outcome::Succeeded);
}

fn record_failure(context: &Context<'_>, action: Action, error: &str) {
    write_audit(
        context,
        action,
        Vec::new(),
        Outcome::Failed {
            error: error.to_owned(),
        },
    );
}

fn write_audit(context: &Context<'_>, action: Action, version_ids: Vec<String>, outcome: Outcome) {
    let event = AuditEvent {
        action,
        time: context.now,
        actor: actor(),
        environment: context.config.environment.to_string(),
        client_id: context.config.client_id.clone(),
        store: context.store.kind().to_owned(),
        entry: context.name.to_string(),
        version_ids,
        outcome,
    };
    if let Err(error) = context.request.data.audit.record(&event) {
        tracing::error!(error = %error, entry = %context.name, "failed to write an audit record");
    }
}

/// Identifies who ran the change.
// TODO: record the store's caller identity (STS GetCallerIdentity on AWS);
// the operating-system user is what is known without an extra call.
fn actor() -> String {
    format!(
        "{} (terraform-provider-sips pid {})",
        crate::audit::current_user(),
        std::process::id()
    )
}

pub fn store_error(summary: &str, error: StoreError) -> Diagnostics {
    let next = match &error {
        StoreError::AccessDenied { .. } => {
            " Check that the credentials of this run may manage this secret."
        }
        StoreError::Throttled { .. } | StoreError::Transient { .. } => " Run apply again.",
        _ => "",
    };
    Diagnostic::error(summary, format!("{error}.{next}")).into()
}

fn store_diagnostic(summary: &'static str) -> impl Fn(StoreError) -> Diagnostics {
    move |error| store_error(summary, error)
}

/// Returns the entry name recorded in a planned or stored value.
pub fn entry_name_in(value: &Value, kind: StoreKind) -> Option<String> {
    let name = value.attr(kind.block()).attr(kind.name_attribute());
    name.as_str().map(str::to_owned)
}

/// Returns the store that keeps an entry, connecting on first use.
pub async fn store_for(
    data: &ProviderData,
    entry: &StoreEntry,
) -> Result<std::sync::Arc<dyn SecretStore>, Diagnostics> {
    match entry.kind {
        StoreKind::Aws => data.aws_store().await,
        StoreKind::Azure => {
            let vault_url = entry.vault_url.as_deref().unwrap_or_default();
            Ok(data.azure_store(vault_url)? as std::sync::Arc<dyn SecretStore>)
        }
    }
}

/// Returns whether a create may bring back an entry scheduled for deletion:
/// always on AWS, and on Key Vault when the provider allows recovery.
fn may_restore(context: &Context<'_>) -> bool {
    match context.config.store.kind {
        StoreKind::Aws => true,
        StoreKind::Azure => context.request.data.config.azure.recover_soft_deleted,
    }
}

/// Derives the store's idempotency token from the whole document: a rerun of
/// the same write reuses it, and a new client_id with the same secret gets a
/// new one, so that the store writes the new document.
fn request_token(config: &CredentialConfig, fingerprint: &str) -> RequestToken {
    let document = format!("{}\n{fingerprint}", config.client_id);
    RequestToken::from_fingerprint(document.as_bytes())
}
