//! AWS Secrets Manager store: each entry is one secret whose `SecretString` contains the JSON
//! credential document, with versions tracked by staging labels.
//!
//! Design points:
//!
//! - Request tokens become version ids (`ClientRequestToken`), so retried writes are found by
//!   id. `put_version` describes first and skips the write when the token's version is already
//!   current, so it does not depend on how the service treats a repeated token.
//! - `revoke_current` writes a tombstone document (no secret) under a token derived from the
//!   revoked version's id, labels the revoked version `SIPSREVOKED` and removes its
//!   `AWSPREVIOUS` label. Secrets Manager cannot take `AWSCURRENT` off a version without
//!   putting it on another, so a tombstone is the only way to stop serving the current value
//!   at once. Calls: describe, put, two label moves. Each step can be repeated, so an
//!   interrupted revocation is finished by calling it again.
//! - Deletion dates: AWS documents `DeletedDate` of DescribeSecret as the date the secret is
//!   scheduled for deletion; moto 5.2.5 fills it with the end of the recovery window.
//!
//! Differences between moto 5.2.5 and AWS that the code handles without relying on either:
//!
//! - Creating a name that is scheduled for deletion fails with `InvalidRequestException` on
//!   AWS and `ResourceExistsException` on moto. `create` describes the name after either error
//!   and reports [`StoreError::ScheduledForDeletion`].
//! - AWS rejects operations on a secret scheduled for deletion with `InvalidRequestException`,
//!   whose documented causes include a secret "currently marked deleted". moto accepts
//!   `PutSecretValue` and `TagResource` there. `put_version` checks the deletion date before
//!   writing. `update_metadata` only explains an `InvalidRequestException` after the fact, so
//!   on moto it changes a deleted entry's tags.
//! - A client request token reused with a different value is rejected by AWS, and by moto
//!   5.2.5 in `PutSecretValue` (`ResourceExistsException`, checked with moto in-process).
//!   Tokens derive from the value, so the same token never carries a different value, and
//!   `put_version` checks the version before writing.
//! - A `CreateSecret` that repeats name, token and value succeeds on both. moto 5.2.5 then
//!   returns the secret's current version id, which `create` detects and describes.
//!
//! The SDK's orchestrator logs each HTTP request and response with `Debug` at TRACE level
//! under the `aws_smithy_runtime` target. With aws-smithy-runtime 1.16 the bodies are wrapped
//! and print as `BoxBody`, so no value shows (the store tests capture every level to check);
//! a body type that prints its bytes would log the secret, so subscribers should keep that
//! target below TRACE.

mod config;
mod convert;
mod create;
mod errors;
mod revoke;

use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType};
use secrecy::ExposeSecret;

use crate::stores::{
    CallCounter, CallCounts, CreateOutcome, Credential, DeleteMode, Deletion, EntryName,
    EntryState, MetadataChange, NewEntry, PutOutcome, RequestToken, Revocation, SecretStore,
    ServiceError, StoreError, StoredValue, VersionId, VersionInfo, VersionSelector, VersionStage,
};

pub use config::{AssumeRole, AwsSettings, DEFAULT_MAX_ATTEMPTS, StaticCredentials};

/// Recovery windows Secrets Manager accepts, in days.
pub const RECOVERY_WINDOW_DAYS: std::ops::RangeInclusive<u32> = 7..=30;

/// A [`SecretStore`] on AWS Secrets Manager.
#[derive(Debug)]
pub struct AwsSecretsStore {
    client: Client,
    calls: CallCounter,
}

impl AwsSecretsStore {
    /// Builds the SDK client from `settings`. No AWS call is made until the first operation.
    pub async fn connect(settings: &AwsSettings) -> Result<Self, StoreError> {
        let config = config::load(settings).await?;
        Ok(Self::from_client(Client::new(&config)))
    }

    /// Wraps a client that the caller configured.
    pub fn from_client(client: Client) -> Self {
        Self {
            client,
            calls: CallCounter::default(),
        }
    }

    /// Counts and logs one API call; the log names the operation and entry, never a payload.
    fn begin(&self, operation: &'static str, entry: &str) {
        self.calls.record(operation);
        tracing::debug!(operation, entry, "secrets manager call");
    }

    /// Explains an `InvalidRequestException` by the entry's deletion state, because AWS
    /// rejects most operations on a secret scheduled for deletion with that code.
    async fn explain(&self, name: &EntryName, error: StoreError) -> StoreError {
        let StoreError::InvalidRequest { operation, .. } = &error else {
            return error;
        };
        match self.describe(name).await {
            Ok(state) if state.is_scheduled_for_deletion() => scheduled(operation, &state),
            _ => error,
        }
    }

    async fn describe_live(
        &self,
        name: &EntryName,
        operation: &'static str,
    ) -> Result<EntryState, StoreError> {
        let state = self.describe(name).await?;
        if state.is_scheduled_for_deletion() {
            return Err(scheduled(operation, &state));
        }
        Ok(state)
    }

    async fn put_document(
        &self,
        name: &EntryName,
        token: &RequestToken,
        document: &str,
    ) -> Result<Vec<String>, StoreError> {
        self.begin("PutSecretValue", name.as_str());
        let output = self
            .client
            .put_secret_value()
            .secret_id(name.as_str())
            .client_request_token(token.as_str())
            .secret_string(document)
            .send()
            .await
            .map_err(|error| errors::from_sdk("PutSecretValue", name.as_str(), error))?;
        Ok(output.version_stages().to_vec())
    }

    async fn move_label(
        &self,
        name: &EntryName,
        label: &str,
        remove_from: Option<&VersionId>,
        move_to: Option<&VersionId>,
    ) -> Result<(), StoreError> {
        self.begin("UpdateSecretVersionStage", name.as_str());
        self.client
            .update_secret_version_stage()
            .secret_id(name.as_str())
            .version_stage(label)
            .set_remove_from_version_id(remove_from.map(|id| id.to_string()))
            .set_move_to_version_id(move_to.map(|id| id.to_string()))
            .send()
            .await
            .map_err(|error| errors::from_sdk("UpdateSecretVersionStage", name.as_str(), error))?;
        Ok(())
    }

    /// Confirms that the version a put wrote is current when the put output did not say so.
    async fn confirm_current(
        &self,
        name: &EntryName,
        version_id: &VersionId,
    ) -> Result<(), StoreError> {
        let state = self.describe(name).await?;
        match state.version(version_id) {
            Some(version) if version.has_stage(&VersionStage::Current) => Ok(()),
            _ => Err(reused_token(name, version_id)),
        }
    }

    async fn list_secrets_tagged(
        &self,
        key: &str,
        value: &str,
    ) -> Result<Vec<EntryState>, StoreError> {
        let target = format!("tagged {key}={value}");
        let filters = vec![
            Filter::builder()
                .key(FilterNameStringType::TagKey)
                .values(key)
                .build(),
            Filter::builder()
                .key(FilterNameStringType::TagValue)
                .values(value)
                .build(),
        ];
        let mut pages = self
            .client
            .list_secrets()
            .set_filters(Some(filters))
            .include_planned_deletion(true)
            .into_paginator()
            .send();
        let mut states = Vec::new();
        while let Some(page) = pages.next().await {
            self.begin("ListSecrets", &target);
            let page = page.map_err(|error| errors::from_sdk("ListSecrets", &target, error))?;
            states.extend(
                page.secret_list()
                    .iter()
                    .map(convert::state_from_list_entry),
            );
        }
        Ok(states)
    }
}

fn scheduled(operation: &'static str, state: &EntryState) -> StoreError {
    StoreError::ScheduledForDeletion {
        operation,
        entry: state.name.clone(),
        deletion_date: state.deletion_date,
    }
}

fn reused_token(name: &EntryName, version_id: &VersionId) -> StoreError {
    let message = format!(
        "version {version_id} was written earlier with this request token and is not \
         current; a retired secret value cannot be made current again"
    );
    StoreError::AlreadyExists {
        operation: "PutSecretValue",
        entry: name.to_string(),
        service: ServiceError::new(None, message),
    }
}

#[async_trait]
impl SecretStore for AwsSecretsStore {
    fn kind(&self) -> &'static str {
        "aws-secrets-manager"
    }

    /// Calls: `CreateSecret`; plus `DescribeSecret` when the name is taken.
    ///
    /// NOTE: the service ignores a create that repeats name, token and value. When it returns
    /// the token's version id for such a repeat, the state is built from the request and may
    /// miss later changes. Call `describe` for the stored state.
    async fn create(&self, entry: NewEntry) -> Result<CreateOutcome, StoreError> {
        self.create_entry(entry).await
    }

    /// Calls: `DescribeSecret`.
    async fn describe(&self, name: &EntryName) -> Result<EntryState, StoreError> {
        self.begin("DescribeSecret", name.as_str());
        let output = self
            .client
            .describe_secret()
            .secret_id(name.as_str())
            .send()
            .await
            .map_err(|error| errors::from_sdk("DescribeSecret", name.as_str(), error))?;
        Ok(convert::state_from_describe(&output))
    }

    /// Calls: `GetSecretValue`; plus `DescribeSecret` after an `InvalidRequestException`.
    async fn read_value(
        &self,
        name: &EntryName,
        version: &VersionSelector,
    ) -> Result<StoredValue, StoreError> {
        let request = self.client.get_secret_value().secret_id(name.as_str());
        let request = match version {
            VersionSelector::Current => request.version_stage(convert::AWS_CURRENT),
            VersionSelector::Previous => request.version_stage(convert::AWS_PREVIOUS),
            VersionSelector::Id(id) => request.version_id(id.as_str()),
        };
        self.begin("GetSecretValue", name.as_str());
        match request.send().await {
            Ok(output) => convert::stored_value(name, output),
            Err(error) => {
                let error = errors::from_sdk("GetSecretValue", name.as_str(), error);
                Err(self.explain(name, error).await)
            }
        }
    }

    /// Calls: one `ListSecretVersionIds` per page of versions.
    async fn list_versions(&self, name: &EntryName) -> Result<Vec<VersionInfo>, StoreError> {
        let mut pages = self
            .client
            .list_secret_version_ids()
            .secret_id(name.as_str())
            .include_deprecated(true)
            .into_paginator()
            .send();
        let mut versions = Vec::new();
        while let Some(page) = pages.next().await {
            self.begin("ListSecretVersionIds", name.as_str());
            let page = page
                .map_err(|error| errors::from_sdk("ListSecretVersionIds", name.as_str(), error))?;
            versions.extend(page.versions().iter().map(convert::version_from_list_entry));
        }
        Ok(versions)
    }

    /// Calls: `DescribeSecret`, then `PutSecretValue` unless the token's version exists.
    async fn put_version(
        &self,
        name: &EntryName,
        value: &Credential,
        token: &RequestToken,
    ) -> Result<PutOutcome, StoreError> {
        let state = self.describe_live(name, "PutSecretValue").await?;
        let version_id = token.version_id();
        if let Some(existing) = state.version(&version_id) {
            if !existing.has_stage(&VersionStage::Current) {
                return Err(reused_token(name, &version_id));
            }
            return Ok(PutOutcome {
                version_id,
                created: false,
            });
        }

        let document = value.to_document();
        let stages = self
            .put_document(name, token, document.expose_secret())
            .await
            .map_err(|error| error.redact(&document).redact(value.client_secret()))?;
        // A service that ignored the put as a repeat of an unlabelled old version returns that
        // version's labels, which lack AWSCURRENT.
        if !stages.iter().any(|label| label == convert::AWS_CURRENT) {
            self.confirm_current(name, &version_id).await?;
        }
        Ok(PutOutcome {
            version_id,
            created: true,
        })
    }

    /// Calls: `UpdateSecret` when description or key change, `TagResource` when tags are set,
    /// `UntagResource` when tags are removed.
    async fn update_metadata(
        &self,
        name: &EntryName,
        change: &MetadataChange,
    ) -> Result<(), StoreError> {
        let result = self.apply_metadata(name, change).await;
        match result {
            Ok(()) => Ok(()),
            Err(error) => Err(self.explain(name, error).await),
        }
    }

    /// Calls: `DescribeSecret`, then `UpdateSecretVersionStage` when there is a previous one.
    async fn retire_previous(&self, name: &EntryName) -> Result<Option<VersionId>, StoreError> {
        let state = self.describe_live(name, "UpdateSecretVersionStage").await?;
        let Some(previous) = state.previous() else {
            return Ok(None);
        };
        self.move_label(name, convert::AWS_PREVIOUS, Some(&previous.id), None)
            .await?;
        Ok(Some(previous.id.clone()))
    }

    /// Calls: `DescribeSecret`, `PutSecretValue`, two `UpdateSecretVersionStage`; a repeat
    /// after success makes the describe call only.
    async fn revoke_current(&self, name: &EntryName) -> Result<Revocation, StoreError> {
        self.revoke(name).await
    }

    /// Calls: `DeleteSecret`; plus `DescribeSecret` after an `InvalidRequestException`.
    async fn delete(&self, name: &EntryName, mode: DeleteMode) -> Result<Deletion, StoreError> {
        let request = self.client.delete_secret().secret_id(name.as_str());
        let request = match mode {
            DeleteMode::Recoverable { window_days } => {
                check_window(window_days)?;
                request.recovery_window_in_days(i64::from(window_days))
            }
            DeleteMode::Force => request.force_delete_without_recovery(true),
        };
        self.begin("DeleteSecret", name.as_str());
        match request.send().await {
            Ok(output) => Ok(Deletion {
                deletion_date: match mode {
                    DeleteMode::Force => None,
                    DeleteMode::Recoverable { .. } => convert::time_from(output.deletion_date()),
                },
            }),
            Err(error) => {
                let error = errors::from_sdk("DeleteSecret", name.as_str(), error);
                self.already_deleted(name, mode, error).await
            }
        }
    }

    /// Calls: `RestoreSecret`.
    async fn restore(&self, name: &EntryName) -> Result<(), StoreError> {
        self.begin("RestoreSecret", name.as_str());
        self.client
            .restore_secret()
            .secret_id(name.as_str())
            .send()
            .await
            .map_err(|error| errors::from_sdk("RestoreSecret", name.as_str(), error))?;
        Ok(())
    }

    /// Calls: one `ListSecrets` per page. The service filters tag keys and values separately
    /// and by prefix, so the exact pair is checked here.
    async fn list_by_tag(&self, key: &str, value: &str) -> Result<Vec<EntryState>, StoreError> {
        let mut states = self.list_secrets_tagged(key, value).await?;
        states.retain(|state| state.tags.get(key).map(String::as_str) == Some(value));
        Ok(states)
    }

    fn call_counts(&self) -> CallCounts {
        self.calls.snapshot()
    }
}

impl AwsSecretsStore {
    async fn apply_metadata(
        &self,
        name: &EntryName,
        change: &MetadataChange,
    ) -> Result<(), StoreError> {
        let entry = name.as_str();
        if change.description.is_some() || change.kms_key_id.is_some() {
            self.begin("UpdateSecret", entry);
            self.client
                .update_secret()
                .secret_id(entry)
                .set_description(change.description.clone())
                .set_kms_key_id(change.kms_key_id.clone())
                .send()
                .await
                .map_err(|error| errors::from_sdk("UpdateSecret", entry, error))?;
        }
        if !change.set_tags.is_empty() {
            self.begin("TagResource", entry);
            self.client
                .tag_resource()
                .secret_id(entry)
                .set_tags(Some(convert::sdk_tags(&change.set_tags)))
                .send()
                .await
                .map_err(|error| errors::from_sdk("TagResource", entry, error))?;
        }
        if !change.remove_tags.is_empty() {
            self.begin("UntagResource", entry);
            self.client
                .untag_resource()
                .secret_id(entry)
                .set_tag_keys(Some(change.remove_tags.iter().cloned().collect()))
                .send()
                .await
                .map_err(|error| errors::from_sdk("UntagResource", entry, error))?;
        }
        Ok(())
    }

    /// Treats a repeated recoverable delete as done: AWS rejects `DeleteSecret` on a secret
    /// already scheduled for deletion with `InvalidRequestException`.
    async fn already_deleted(
        &self,
        name: &EntryName,
        mode: DeleteMode,
        error: StoreError,
    ) -> Result<Deletion, StoreError> {
        let recoverable = matches!(mode, DeleteMode::Recoverable { .. });
        if !recoverable || !matches!(error, StoreError::InvalidRequest { .. }) {
            return Err(error);
        }
        match self.describe(name).await {
            Ok(state) if state.is_scheduled_for_deletion() => Ok(Deletion {
                deletion_date: state.deletion_date,
            }),
            _ => Err(error),
        }
    }
}

fn check_window(window_days: u32) -> Result<(), StoreError> {
    if RECOVERY_WINDOW_DAYS.contains(&window_days) {
        return Ok(());
    }
    Err(StoreError::InvalidInput {
        field: "recovery window",
        reason: format!("{window_days} days is outside the 7 to 30 days Secrets Manager accepts"),
    })
}

/// Builds an entry snapshot for unit tests of the store's decisions.
#[cfg(test)]
fn test_state(tags: &[(&str, &str)], versions: &[(&str, &[VersionStage])]) -> EntryState {
    let versions = versions
        .iter()
        .map(|(id, stages)| convert::staged_version(id, stages.iter().cloned().collect()))
        .collect();
    EntryState {
        name: "sips/client-1/staging".into(),
        id: "arn:aws:secretsmanager:us-east-1:123456789012:secret:x".into(),
        description: None,
        kms_key_id: None,
        tags: tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        versions,
        created_at: None,
        changed_at: None,
        deletion_date: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_window_is_checked() {
        assert!(check_window(6).is_err());
        assert!(check_window(7).is_ok());
        assert!(check_window(30).is_ok());
        assert!(check_window(31).is_err());
    }
}
