//! Azure Key Vault store: each entry is one Key Vault secret whose versions contain the JSON
//! credential document, with stages derived from version order, `enabled` and version tags.
//!
//! Key Vault has no staging labels, and its tags belong to each version (the secret's tags are
//! those of its latest version). The store therefore keeps the entry's metadata tags on every
//! version it writes and derives the stages:
//!
//! - current: the latest version, when it is enabled;
//! - previous: the version that the current one names in `sips:previous_version`, while that
//!   version is enabled. `put_version` names the old latest version there and leaves it
//!   enabled; `retire_previous` disables it (versions are never deleted one by one);
//! - revoked: a disabled version with a `sips:revoked_at` tag. `revoke_current` disables the
//!   current version at once. Until a new version is put, Key Vault rejects a read of the
//!   secret without a version with 403 (`SecretDisabled`), `read_value(Current)` returns a
//!   [`Tombstone`] built from the revoked version, and no previous version is served. Older
//!   versions stay readable by id while they are enabled.
//!
//! Idempotency: a version carries its request token in `sips:request_token`, so a rerun finds
//! the version written under the same token. Version ids are chosen by Key Vault, so
//! [`RequestToken::version_id`] is not the version id here; use the returned ids.
//!
//! Each version's `nbf` is its issue time (`sips:issued_at` when given, else the write time)
//! and its `exp` the mandatory deadline from `sips:expires_at`. Key Vault treats both as
//! information for readers, not as access rules for secrets.
//!
//! Deletion is Key Vault's soft delete; the recovery window is a vault setting.
//! [`DeleteMode::Force`] purges after the delete, and only when the settings allow purging.

mod config;
mod convert;
mod errors;
mod lifecycle;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use azure_core::credentials::TokenCredential;
use azure_security_keyvault_secrets::SecretClient;
use azure_security_keyvault_secrets::models::{
    DeletedSecret, Secret, SecretAttributes, SecretClientGetSecretOptions,
    SecretClientUpdateSecretPropertiesOptions, SetSecretParameters,
    UpdateSecretPropertiesParameters,
};
use secrecy::{ExposeSecret, SecretString};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio_stream::StreamExt;

use crate::stores::{
    CallCounter, CallCounts, CreateOutcome, Credential, DeleteMode, Deletion, EntryName,
    EntryState, MetadataChange, NewEntry, PutOutcome, RequestToken, Revocation, SecretStore,
    ServiceError, StoreError, StoredValue, Tombstone, VersionContent, VersionId, VersionInfo,
    VersionSelector, VersionStage, tag,
};

pub use config::{
    AzureCredentialKind, AzureSettings, DEFAULT_MAX_RETRIES, StaticToken, TestTransport,
};
pub use convert::{
    DESCRIPTION_TAG, MAX_NAME_LEN, MAX_TAGS, PREVIOUS_VERSION_TAG, REQUEST_TOKEN_TAG,
    REVOKED_AT_TAG,
};

use convert::{VersionRecord, Versions};

/// Content type of the stored credential document.
pub const CONTENT_TYPE: &str = "application/json";

/// A [`SecretStore`] on Azure Key Vault.
pub struct AzureKeyVaultStore {
    client: SecretClient,
    vault_url: String,
    purge_on_delete: bool,
    allow_recover_soft_deleted: bool,
    calls: CallCounter,
}

impl std::fmt::Debug for AzureKeyVaultStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AzureKeyVaultStore")
            .field("vault_url", &self.vault_url)
            .field("purge_on_delete", &self.purge_on_delete)
            .finish_non_exhaustive()
    }
}

impl AzureKeyVaultStore {
    /// Builds the client and the credential from `settings`. No request is made until the
    /// first operation.
    pub fn connect(settings: &AzureSettings) -> Result<Self, StoreError> {
        let credential = config::credential(settings)?;
        Self::connect_with_credential(settings, credential)
    }

    /// Builds the client with a credential that the caller made, ignoring
    /// `settings.credential`.
    pub fn connect_with_credential(
        settings: &AzureSettings,
        credential: Arc<dyn TokenCredential>,
    ) -> Result<Self, StoreError> {
        let client = config::client(settings, credential)?;
        Ok(Self {
            client,
            vault_url: settings.vault_url.trim_end_matches('/').to_owned(),
            purge_on_delete: settings.purge_on_delete,
            allow_recover_soft_deleted: settings.allow_recover_soft_deleted,
            calls: CallCounter::default(),
        })
    }

    /// Tells whether the settings allow recovering a soft-deleted secret in place of a create
    /// that failed with [`StoreError::ScheduledForDeletion`].
    pub fn allows_recovery(&self) -> bool {
        self.allow_recover_soft_deleted
    }

    /// Counts and logs one API call; the log names the operation and entry, never a payload.
    fn begin(&self, operation: &'static str, entry: &str) {
        self.calls.record(operation);
        tracing::debug!(operation, entry, "key vault call");
    }

    /// Lists every version of a secret, one call per page.
    async fn versions(&self, name: &EntryName) -> Result<Versions, StoreError> {
        let operation = "GetSecretVersions";
        let entry = name.as_str();
        let fail = |error| errors::from_client(operation, entry, error);
        let mut pages = self
            .client
            .list_secret_properties_versions(entry, None)
            .map_err(fail)?
            .into_pages();
        let mut records = Vec::new();
        while let Some(page) = pages.next().await {
            self.begin(operation, entry);
            let page = page.and_then(|page| page.into_model()).map_err(fail)?;
            records.extend(page.value.iter().filter_map(VersionRecord::from_properties));
        }
        Ok(Versions::new(records))
    }

    /// Lists versions, explaining a missing secret by its soft deletion.
    async fn versions_live(
        &self,
        name: &EntryName,
        operation: &'static str,
    ) -> Result<Versions, StoreError> {
        check_name(name)?;
        match self.versions(name).await {
            Ok(versions) => Ok(versions),
            Err(error) => Err(self.explain(name, operation, error).await),
        }
    }

    /// Returns the soft-deleted secret of this name, or `None` when there is none.
    async fn deleted(&self, name: &EntryName) -> Result<Option<DeletedSecret>, StoreError> {
        let operation = "GetDeletedSecret";
        self.begin(operation, name.as_str());
        let result = self.client.get_deleted_secret(name.as_str(), None).await;
        match result.and_then(|response| response.into_model()) {
            Ok(secret) => Ok(Some(secret)),
            Err(error) => match errors::from_client(operation, name.as_str(), error) {
                StoreError::NotFound { .. } => Ok(None),
                other => Err(other),
            },
        }
    }

    /// Turns a not-found or conflict response on a soft-deleted name into
    /// [`StoreError::ScheduledForDeletion`]; other errors pass unchanged.
    async fn explain(
        &self,
        name: &EntryName,
        operation: &'static str,
        error: StoreError,
    ) -> StoreError {
        if !matches!(
            error,
            StoreError::NotFound { .. } | StoreError::AlreadyExists { .. }
        ) {
            return error;
        }
        match self.deleted(name).await {
            Ok(Some(deleted)) => StoreError::ScheduledForDeletion {
                operation,
                entry: name.to_string(),
                deletion_date: deleted.scheduled_purge_date.or(deleted.deleted_date),
            },
            _ => error,
        }
    }

    async fn get(
        &self,
        name: &EntryName,
        version: Option<&VersionId>,
    ) -> Result<Secret, StoreError> {
        let operation = "GetSecret";
        let options = SecretClientGetSecretOptions {
            secret_version: version.map(|id| id.to_string()),
            ..SecretClientGetSecretOptions::default()
        };
        self.begin(operation, name.as_str());
        self.client
            .get_secret(name.as_str(), Some(options))
            .await
            .and_then(|response| response.into_model())
            .map_err(|error| errors::from_client(operation, name.as_str(), error))
    }

    /// Writes a new version. Errors are scrubbed of the document and the secret.
    async fn set(
        &self,
        name: &EntryName,
        value: &Credential,
        attributes: SecretAttributes,
        tags: &BTreeMap<String, String>,
    ) -> Result<Secret, StoreError> {
        let operation = "SetSecret";
        convert::check_tags(tags)?;
        let document = value.to_document();
        let scrub = |error: StoreError| error.redact(&document).redact(value.client_secret());
        let parameters = SetSecretParameters {
            value: Some(document.expose_secret().to_owned()),
            content_type: Some(CONTENT_TYPE.to_owned()),
            secret_attributes: Some(attributes),
            tags: Some(convert::to_hash_map(tags)),
        };
        let content = parameters
            .try_into()
            .map_err(|error| scrub(errors::from_client(operation, name.as_str(), error)))?;
        self.begin(operation, name.as_str());
        self.client
            .set_secret(name.as_str(), content, None)
            .await
            .and_then(|response| response.into_model())
            .map_err(|error| scrub(errors::from_client(operation, name.as_str(), error)))
    }

    /// Changes attributes or tags of one version; `None` leaves that part unchanged, and
    /// `tags` replaces all tags of the version.
    async fn update(
        &self,
        name: &EntryName,
        version: &VersionId,
        attributes: Option<SecretAttributes>,
        tags: Option<&BTreeMap<String, String>>,
    ) -> Result<(), StoreError> {
        let operation = "UpdateSecret";
        if let Some(tags) = tags {
            convert::check_tags(tags)?;
        }
        let parameters = UpdateSecretPropertiesParameters {
            content_type: None,
            secret_attributes: attributes,
            tags: tags.map(convert::to_hash_map),
        };
        let fail = |error| errors::from_client(operation, name.as_str(), error);
        let content = parameters.try_into().map_err(fail)?;
        let options = SecretClientUpdateSecretPropertiesOptions {
            secret_version: Some(version.to_string()),
            ..SecretClientUpdateSecretPropertiesOptions::default()
        };
        self.begin(operation, name.as_str());
        self.client
            .update_secret_properties(name.as_str(), content, Some(options))
            .await
            .map_err(fail)?;
        Ok(())
    }

    async fn disable(&self, name: &EntryName, version: &VersionId) -> Result<(), StoreError> {
        let attributes = SecretAttributes {
            enabled: Some(false),
            ..SecretAttributes::default()
        };
        self.update(name, version, Some(attributes), None).await
    }

    fn state(&self, name: &EntryName, versions: &Versions) -> EntryState {
        convert::entry_state(&self.vault_url, name, versions, None)
    }

    /// Reads the latest version's value; a revoked latest version yields its tombstone.
    async fn read_current(&self, name: &EntryName) -> Result<StoredValue, StoreError> {
        let error = match self.get(name, None).await {
            Ok(secret) => return stored_value(name, secret, [VersionStage::Current].into()),
            Err(error) => error,
        };
        if is_disabled(&error) {
            let versions = self.versions_live(name, "GetSecret").await?;
            if let Some(revoked) = versions
                .latest()
                .filter(|v| v.tag(REVOKED_AT_TAG).is_some())
            {
                return Ok(tombstone(&versions, revoked));
            }
            return Err(error);
        }
        Err(self.explain(name, "GetSecret", error).await)
    }
}

fn check_name(name: &EntryName) -> Result<(), StoreError> {
    convert::check_name(name)
}

fn is_disabled(error: &StoreError) -> bool {
    let code = error.service().and_then(|service| service.code.as_deref());
    code == Some(errors::SECRET_DISABLED)
}

/// The value that readers of a revoked entry's current version get: no secret, the revoked
/// version's id and the entry's `client_id`.
fn tombstone(versions: &Versions, revoked: &VersionRecord) -> StoredValue {
    StoredValue {
        version_id: revoked.id.clone(),
        stages: versions.stages_of(&revoked.id),
        content: VersionContent::Revoked(Tombstone {
            client_id: revoked.tag(tag::CLIENT_ID).map(str::to_owned),
            revoked_version: Some(revoked.id.clone()),
        }),
    }
}

/// Parses a fetched secret. Its value moves into a [`SecretString`] at once.
fn stored_value(
    name: &EntryName,
    mut secret: Secret,
    stages: std::collections::BTreeSet<VersionStage>,
) -> Result<StoredValue, StoreError> {
    let value = secret.value.take().map(SecretString::from);
    let version_id = convert::secret_version(&secret).unwrap_or_else(|| VersionId::new(""));
    let malformed = |reason| StoreError::MalformedValue {
        entry: name.to_string(),
        version: version_id.to_string(),
        reason,
    };
    let document = value.ok_or_else(|| malformed("the version has no value"))?;
    let content = VersionContent::parse(&document).map_err(|error| malformed(error.reason()))?;
    Ok(StoredValue {
        version_id,
        stages,
        content,
    })
}

fn no_version(operation: &'static str, name: &EntryName, stage: &str) -> StoreError {
    StoreError::NotFound {
        operation,
        entry: name.to_string(),
        service: ServiceError::new(None, format!("the entry has no {stage} version")),
    }
}

fn reused_token(name: &EntryName, version: &VersionId) -> StoreError {
    let message = format!(
        "version {version} was written earlier with this request token and is not current; \
         a retired secret value cannot be made current again"
    );
    StoreError::AlreadyExists {
        operation: "SetSecret",
        entry: name.to_string(),
        service: ServiceError::new(None, message),
    }
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

fn parse_tag_time(tags: &BTreeMap<String, String>, key: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(tags.get(key)?, &Rfc3339).ok()
}

#[async_trait]
impl SecretStore for AzureKeyVaultStore {
    fn kind(&self) -> &'static str {
        "azure-key-vault"
    }

    /// Calls: `GetSecretVersions`, `GetDeletedSecret` and `SetSecret` for a new name; when the
    /// name exists, `GetSecretVersions` and, for a possible adoption, `GetSecret`.
    ///
    /// NOTE: Key Vault's set adds a version to an existing secret instead of failing, so the
    /// store checks the name first. A secret created by another client between the check and
    /// the set gets a new version instead of an error.
    async fn create(&self, entry: NewEntry) -> Result<CreateOutcome, StoreError> {
        self.create_entry(entry).await
    }

    /// Calls: one `GetSecretVersions` per page; for a missing secret also `GetDeletedSecret`.
    /// A soft-deleted secret is described from its latest version with `deletion_date` set to
    /// the scheduled purge date.
    async fn describe(&self, name: &EntryName) -> Result<EntryState, StoreError> {
        check_name(name)?;
        let error = match self.versions(name).await {
            Ok(versions) => return Ok(self.state(name, &versions)),
            Err(error) => error,
        };
        if !matches!(error, StoreError::NotFound { .. }) {
            return Err(error);
        }
        let Some(deleted) = self.deleted(name).await? else {
            return Err(error);
        };
        let records = VersionRecord::from_deleted(&deleted).into_iter().collect();
        let date = deleted.scheduled_purge_date.or(deleted.deleted_date);
        let versions = Versions::new(records);
        Ok(convert::entry_state(&self.vault_url, name, &versions, date))
    }

    /// Calls: `GetSecret` for the current version (plus `GetSecretVersions` when it is
    /// disabled); `GetSecretVersions` and `GetSecret` for the previous version or an id.
    async fn read_value(
        &self,
        name: &EntryName,
        version: &VersionSelector,
    ) -> Result<StoredValue, StoreError> {
        check_name(name)?;
        let versions = match version {
            VersionSelector::Current => return self.read_current(name).await,
            _ => self.versions_live(name, "GetSecret").await?,
        };
        let id = match version {
            VersionSelector::Previous => versions
                .previous()
                .map(|record| record.id.clone())
                .ok_or_else(|| no_version("GetSecret", name, "previous"))?,
            VersionSelector::Id(id) => id.clone(),
            VersionSelector::Current => unreachable!("handled above"),
        };
        let secret = self.get(name, Some(&id)).await?;
        stored_value(name, secret, versions.stages_of(&id))
    }

    /// Calls: one `GetSecretVersions` per page.
    async fn list_versions(&self, name: &EntryName) -> Result<Vec<VersionInfo>, StoreError> {
        let versions = self.versions_live(name, "GetSecretVersions").await?;
        Ok(versions.infos())
    }

    /// Calls: `GetSecretVersions`, then `SetSecret` unless the token's version exists. The new
    /// version keeps the entry's metadata tags, names the old latest version as previous, and
    /// gets `nbf` = now and no `exp` until `update_metadata` sets the deadline tags.
    async fn put_version(
        &self,
        name: &EntryName,
        value: &Credential,
        token: &RequestToken,
    ) -> Result<PutOutcome, StoreError> {
        let versions = self.versions_live(name, "SetSecret").await?;
        if let Some(existing) = versions.written_with(token.as_str()) {
            let is_current = versions.current().map(|v| &v.id) == Some(&existing.id);
            if !is_current {
                return Err(reused_token(name, &existing.id));
            }
            return Ok(PutOutcome {
                version_id: existing.id.clone(),
                created: false,
            });
        }

        let latest = versions.latest();
        let mut tags = latest
            .map(|version| convert::metadata_tags(&version.tags))
            .unwrap_or_default();
        if let Some(description) = latest.and_then(|version| version.tag(DESCRIPTION_TAG)) {
            tags.insert(DESCRIPTION_TAG.to_owned(), description.to_owned());
        }
        if let Some(latest) = latest {
            tags.insert(PREVIOUS_VERSION_TAG.to_owned(), latest.id.to_string());
        }
        tags.insert(REQUEST_TOKEN_TAG.to_owned(), token.as_str().to_owned());
        let attributes = SecretAttributes {
            enabled: Some(true),
            not_before: Some(OffsetDateTime::now_utc()),
            ..SecretAttributes::default()
        };
        let secret = self.set(name, value, attributes, &tags).await?;
        let version_id = convert::secret_version(&secret).ok_or_else(|| StoreError::Other {
            operation: "SetSecret",
            entry: name.to_string(),
            service: ServiceError::new(None, "the response has no version id"),
        })?;
        Ok(PutOutcome {
            version_id,
            created: true,
        })
    }

    /// Calls: `GetSecretVersions`, then one `UpdateSecret` on the latest version. Tags live on
    /// versions in Key Vault, so the change applies to the latest one, which is what readers
    /// of the secret's tags see. `sips:issued_at` and `sips:expires_at` in `set_tags` also set
    /// the version's `nbf` and `exp`. The description is kept in the `sips:description` tag.
    ///
    /// NOTE: removing `sips:expires_at` leaves the version's `exp` as it was.
    async fn update_metadata(
        &self,
        name: &EntryName,
        change: &MetadataChange,
    ) -> Result<(), StoreError> {
        check_name(name)?;
        if change.kms_key_id.is_some() {
            return Err(StoreError::InvalidInput {
                field: "kms_key_id",
                reason: "Key Vault encrypts secrets with the vault's own keys; an encryption \
                         key applies to AWS Secrets Manager only"
                    .into(),
            });
        }
        if change.is_empty() {
            return Ok(());
        }
        let versions = self.versions_live(name, "UpdateSecret").await?;
        let latest = versions
            .latest()
            .ok_or_else(|| no_version("UpdateSecret", name, "latest"))?;

        let mut tags = latest.tags.clone();
        for key in &change.remove_tags {
            tags.remove(key);
        }
        tags.extend(change.set_tags.clone());
        if let Some(description) = &change.description {
            tags.insert(DESCRIPTION_TAG.to_owned(), description.clone());
        }

        let attributes = SecretAttributes {
            not_before: parse_tag_time(&change.set_tags, tag::ISSUED_AT),
            expires: parse_tag_time(&change.set_tags, tag::EXPIRES_AT),
            ..SecretAttributes::default()
        };
        let has_dates = attributes.not_before.is_some() || attributes.expires.is_some();
        let attributes = has_dates.then_some(attributes);
        self.update(name, &latest.id, attributes, Some(&tags)).await
    }

    /// Calls: `GetSecretVersions`, then `UpdateSecret` to disable the previous version when
    /// there is one. The version stays in the history, disabled.
    async fn retire_previous(&self, name: &EntryName) -> Result<Option<VersionId>, StoreError> {
        let versions = self.versions_live(name, "UpdateSecret").await?;
        let Some(previous) = versions.previous() else {
            return Ok(None);
        };
        self.disable(name, &previous.id).await?;
        Ok(Some(previous.id.clone()))
    }

    /// Calls: `GetSecretVersions`, then one `UpdateSecret` that disables the current version
    /// and tags it `sips:revoked_at`; a repeat makes the first call only. See the module
    /// documentation for what readers see afterwards.
    async fn revoke_current(&self, name: &EntryName) -> Result<Revocation, StoreError> {
        let versions = self.versions_live(name, "UpdateSecret").await?;
        let latest = versions.latest();
        if let Some(revoked) = latest.filter(|v| !v.enabled && v.tag(REVOKED_AT_TAG).is_some()) {
            return Ok(Revocation {
                revoked_version: revoked.id.clone(),
                tombstone_version: None,
            });
        }
        let Some(current) = versions.current() else {
            return Err(StoreError::InvalidRequest {
                operation: "UpdateSecret",
                entry: name.to_string(),
                service: ServiceError::new(None, "the entry has no current version to revoke"),
            });
        };
        let mut tags = current.tags.clone();
        let now = rfc3339(OffsetDateTime::now_utc());
        tags.insert(REVOKED_AT_TAG.to_owned(), now);
        let attributes = SecretAttributes {
            enabled: Some(false),
            ..SecretAttributes::default()
        };
        self.update(name, &current.id, Some(attributes), Some(&tags))
            .await?;
        tracing::debug!(entry = %name, version = %current.id, "current version disabled");
        Ok(Revocation {
            revoked_version: current.id.clone(),
            tombstone_version: None,
        })
    }

    /// Calls: `DeleteSecret` (plus `GetDeletedSecret` when the secret is already deleted);
    /// a forced delete adds `PurgeDeletedSecret`. `window_days` is ignored, because the
    /// retention period is a vault setting.
    async fn delete(&self, name: &EntryName, mode: DeleteMode) -> Result<Deletion, StoreError> {
        self.delete_entry(name, mode).await
    }

    /// Calls: `RecoverDeletedSecret`, then `GetSecretVersions` until the secret is back.
    async fn restore(&self, name: &EntryName) -> Result<(), StoreError> {
        self.recover(name).await
    }

    /// Calls: one `GetSecrets` and one `GetDeletedSecrets` per page, then `describe` for each
    /// match. Tags are those of each secret's latest version.
    async fn list_by_tag(&self, key: &str, value: &str) -> Result<Vec<EntryState>, StoreError> {
        self.list_tagged(key, value).await
    }

    fn call_counts(&self) -> CallCounts {
        self.calls.snapshot()
    }
}
