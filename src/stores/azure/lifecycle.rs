//! Entry creation with adoption, soft delete and purge, recovery, and listing by tag on Key
//! Vault.

use std::collections::BTreeMap;
use std::time::Duration;

use azure_security_keyvault_secrets::models::SecretAttributes;
use secrecy::ExposeSecret;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio_stream::StreamExt;

use super::convert::{VersionRecord, Versions};
use super::{AzureKeyVaultStore, DESCRIPTION_TAG, REQUEST_TOKEN_TAG, check_name, errors};
use crate::stores::{
    CreateOutcome, DeleteMode, Deletion, EntryName, EntryState, NewEntry, SecretStore,
    ServiceError, StoreError, VersionContent, VersionSelector, tag,
};

/// Attempts to see a recovered secret, one second apart. Key Vault recovers asynchronously,
/// so a secret can return 404 for a few seconds after the recover request.
const RECOVERY_CHECKS: u32 = 30;
/// Attempts to purge right after a delete, one second apart. Key Vault returns 409 while the
/// delete is still in progress.
const PURGE_ATTEMPTS: u32 = 30;
const POLL_INTERVAL: Duration = Duration::from_secs(1);

impl AzureKeyVaultStore {
    pub(super) async fn create_entry(&self, entry: NewEntry) -> Result<CreateOutcome, StoreError> {
        check_name(&entry.name)?;
        if entry.metadata.kms_key_id.is_some() {
            return Err(StoreError::InvalidInput {
                field: "kms_key_id",
                reason: "Key Vault encrypts secrets with the vault's own keys; an encryption \
                         key applies to AWS Secrets Manager only"
                    .into(),
            });
        }
        match self.versions(&entry.name).await {
            Ok(versions) => return self.adopt(&entry, &versions).await,
            Err(StoreError::NotFound { .. }) => {}
            Err(error) => return Err(error),
        }
        if let Some(deleted) = self.deleted(&entry.name).await? {
            return Err(StoreError::ScheduledForDeletion {
                operation: "SetSecret",
                entry: entry.name.to_string(),
                deletion_date: deleted.scheduled_purge_date.or(deleted.deleted_date),
            });
        }

        let tags = creation_tags(&entry);
        let attributes = SecretAttributes {
            enabled: Some(true),
            not_before: Some(
                parse_time(entry.metadata.tags.get(tag::ISSUED_AT))
                    .unwrap_or_else(OffsetDateTime::now_utc),
            ),
            expires: parse_time(entry.metadata.tags.get(tag::EXPIRES_AT)),
            ..SecretAttributes::default()
        };
        let secret = match self.set(&entry.name, &entry.value, attributes, &tags).await {
            Ok(secret) => secret,
            Err(error) => return Err(self.explain(&entry.name, "SetSecret", error).await),
        };
        let records = VersionRecord::from_secret(&secret).into_iter().collect();
        let state = self.state(&entry.name, &Versions::new(records));
        Ok(CreateOutcome {
            state,
            adopted: false,
        })
    }

    /// Adopts a secret that an earlier run of the same create left behind: tagged as ours for
    /// the same `client_id`, with a version written under the same token that contains the
    /// same value. Any other existing secret fails with [`StoreError::AlreadyExists`].
    async fn adopt(
        &self,
        entry: &NewEntry,
        versions: &Versions,
    ) -> Result<CreateOutcome, StoreError> {
        let state = self.state(&entry.name, versions);
        let written = versions.written_with(entry.token.as_str());
        if let Some(version) = written.filter(|_| state.is_managed_for(entry.value.client_id())) {
            let selector = VersionSelector::Id(version.id.clone());
            let stored = self.read_value(&entry.name, &selector).await?;
            if let VersionContent::Credential(stored) = stored.content {
                let same_secret = stored.client_secret().expose_secret()
                    == entry.value.client_secret().expose_secret();
                if same_secret && stored.client_id() == entry.value.client_id() {
                    tracing::debug!(entry = %entry.name, "adopting entry left by an earlier create");
                    return Ok(CreateOutcome {
                        state,
                        adopted: true,
                    });
                }
            }
        }
        let message = format!(
            "a secret of this name exists and is not tagged {}={} with {}={}, or has no \
             version tagged {REQUEST_TOKEN_TAG}={}; import it or choose another name",
            tag::MANAGED_BY,
            tag::MANAGED_BY_VALUE,
            tag::CLIENT_ID,
            entry.value.client_id(),
            entry.token.as_str(),
        );
        Err(StoreError::AlreadyExists {
            operation: "SetSecret",
            entry: entry.name.to_string(),
            service: ServiceError::new(None, message),
        })
    }

    pub(super) async fn delete_entry(
        &self,
        name: &EntryName,
        mode: DeleteMode,
    ) -> Result<Deletion, StoreError> {
        check_name(name)?;
        if mode == DeleteMode::Force && !self.purge_on_delete {
            return Err(StoreError::InvalidInput {
                field: "delete mode",
                reason: format!(
                    "a forced delete of {name} would purge it, and this store's settings do not \
                     allow purging (purge_on_delete is false); delete it with recovery, or \
                     enable purge_on_delete"
                ),
            });
        }
        let deletion_date = self.soft_delete(name).await?;
        if mode == DeleteMode::Force {
            self.purge(name).await?;
            return Ok(Deletion {
                deletion_date: None,
            });
        }
        Ok(Deletion { deletion_date })
    }

    /// Soft-deletes the secret and returns its scheduled purge date. A secret that is already
    /// soft-deleted counts as deleted.
    async fn soft_delete(&self, name: &EntryName) -> Result<Option<OffsetDateTime>, StoreError> {
        let operation = "DeleteSecret";
        self.begin(operation, name.as_str());
        let result = self.client.delete_secret(name.as_str(), None).await;
        let error = match result.and_then(|response| response.into_model()) {
            Ok(deleted) => return Ok(deleted.scheduled_purge_date.or(deleted.deleted_date)),
            Err(error) => errors::from_client(operation, name.as_str(), error),
        };
        if !matches!(error, StoreError::NotFound { .. }) {
            return Err(error);
        }
        match self.deleted(name).await? {
            Some(deleted) => Ok(deleted.scheduled_purge_date.or(deleted.deleted_date)),
            None => Err(error),
        }
    }

    async fn purge(&self, name: &EntryName) -> Result<(), StoreError> {
        let operation = "PurgeDeletedSecret";
        for attempt in 1..=PURGE_ATTEMPTS {
            self.begin(operation, name.as_str());
            let result = self.client.purge_deleted_secret(name.as_str(), None).await;
            let error = match result {
                Ok(_) => return Ok(()),
                Err(error) => errors::from_client(operation, name.as_str(), error),
            };
            let in_progress = matches!(error, StoreError::AlreadyExists { .. });
            if in_progress && attempt < PURGE_ATTEMPTS {
                tracing::debug!(entry = %name, attempt, "delete in progress, purge retried");
                tokio::time::sleep(POLL_INTERVAL).await;
                continue;
            }
            if errors::is_purge_protection(&error) {
                return Err(purge_protected(name, error));
            }
            return Err(error);
        }
        unreachable!("the last attempt returns")
    }

    pub(super) async fn recover(&self, name: &EntryName) -> Result<(), StoreError> {
        check_name(name)?;
        let operation = "RecoverDeletedSecret";
        self.begin(operation, name.as_str());
        let result = self
            .client
            .recover_deleted_secret(name.as_str(), None)
            .await;
        if let Err(error) = result {
            let error = errors::from_client(operation, name.as_str(), error);
            if !matches!(error, StoreError::NotFound { .. }) {
                return Err(error);
            }
            // Nothing to recover: a live secret of this name counts as restored.
            return match self.versions(name).await {
                Ok(_) => Ok(()),
                Err(_) => Err(error),
            };
        }
        for attempt in 1..=RECOVERY_CHECKS {
            match self.versions(name).await {
                Ok(_) => return Ok(()),
                Err(StoreError::NotFound { .. }) if attempt < RECOVERY_CHECKS => {
                    tokio::time::sleep(POLL_INTERVAL).await;
                }
                Err(error) => return Err(error),
            }
        }
        unreachable!("the last check returns")
    }

    pub(super) async fn list_tagged(
        &self,
        key: &str,
        value: &str,
    ) -> Result<Vec<EntryState>, StoreError> {
        let target = format!("tagged {key}={value}");
        let mut names = self.live_names_tagged(key, value, &target).await?;
        names.extend(self.deleted_names_tagged(key, value, &target).await?);
        names.sort();
        names.dedup();
        let mut states = Vec::with_capacity(names.len());
        for name in names {
            let Ok(name) = EntryName::new(name) else {
                continue;
            };
            match self.describe(&name).await {
                Ok(state) => states.push(state),
                // Deleted or purged between the listing and the describe call.
                Err(StoreError::NotFound { .. }) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(states)
    }

    async fn live_names_tagged(
        &self,
        key: &str,
        value: &str,
        target: &str,
    ) -> Result<Vec<String>, StoreError> {
        let operation = "GetSecrets";
        let fail = |error| errors::from_client(operation, target, error);
        let mut pages = self
            .client
            .list_secret_properties(None)
            .map_err(fail)?
            .into_pages();
        let mut names = Vec::new();
        while let Some(page) = pages.next().await {
            self.begin(operation, target);
            let page = page.and_then(|page| page.into_model()).map_err(fail)?;
            let matching = page.value.iter().filter(|secret| {
                let tags = secret.tags.as_ref();
                tags.and_then(|tags| tags.get(key)).map(String::as_str) == Some(value)
            });
            names.extend(matching.filter_map(|secret| name_of(secret.id.as_deref())));
        }
        Ok(names)
    }

    async fn deleted_names_tagged(
        &self,
        key: &str,
        value: &str,
        target: &str,
    ) -> Result<Vec<String>, StoreError> {
        let operation = "GetDeletedSecrets";
        let fail = |error| errors::from_client(operation, target, error);
        let mut pages = self
            .client
            .list_deleted_secret_properties(None)
            .map_err(fail)?
            .into_pages();
        let mut names = Vec::new();
        while let Some(page) = pages.next().await {
            self.begin(operation, target);
            let page = page.and_then(|page| page.into_model()).map_err(fail)?;
            let matching = page.value.iter().filter(|secret| {
                let tags = secret.tags.as_ref();
                tags.and_then(|tags| tags.get(key)).map(String::as_str) == Some(value)
            });
            names.extend(matching.filter_map(|secret| name_of(secret.id.as_deref())));
        }
        Ok(names)
    }
}

/// Tags of a new entry: the caller's, ownership tags that adoption and the
/// environment-separation check read, the request token, and the description.
fn creation_tags(entry: &NewEntry) -> BTreeMap<String, String> {
    let mut tags = entry.metadata.tags.clone();
    tags.insert(
        tag::CLIENT_ID.to_owned(),
        entry.value.client_id().to_owned(),
    );
    tags.insert(tag::MANAGED_BY.to_owned(), tag::MANAGED_BY_VALUE.to_owned());
    tags.insert(
        REQUEST_TOKEN_TAG.to_owned(),
        entry.token.as_str().to_owned(),
    );
    if let Some(description) = &entry.metadata.description {
        tags.insert(DESCRIPTION_TAG.to_owned(), description.clone());
    }
    tags
}

fn parse_time(text: Option<&String>) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text?, &Rfc3339).ok()
}

/// Returns the secret name of an id URL (`https://v/secrets/name[/version]`).
fn name_of(id: Option<&str>) -> Option<String> {
    let url: azure_core::http::Url = id?.parse().ok()?;
    let mut segments = url.path_segments()?.filter(|segment| !segment.is_empty());
    segments.next()?;
    segments.next().map(str::to_owned)
}

fn purge_protected(name: &EntryName, error: StoreError) -> StoreError {
    let detail = error.service().map(ToString::to_string).unwrap_or_default();
    let message = format!(
        "the vault has purge protection, so {name} stays soft-deleted until its scheduled \
         purge date and its name cannot be reused before then; recover it, or choose another \
         name ({detail})"
    );
    StoreError::InvalidRequest {
        operation: "PurgeDeletedSecret",
        entry: name.to_string(),
        service: ServiceError::new(Some("PurgeProtected"), message),
    }
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::*;
    use crate::stores::{Credential, EntryMetadata, RequestToken};

    #[test]
    fn creation_tags_mark_ownership_and_token() {
        let token = RequestToken::from_fingerprint(b"f");
        let entry = NewEntry {
            name: EntryName::new("sips-client-1-staging").unwrap(),
            value: Credential::new("client-1", SecretString::from("value")),
            metadata: EntryMetadata {
                description: Some("d".into()),
                ..EntryMetadata::default()
            },
            token: token.clone(),
        };

        let tags = creation_tags(&entry);

        assert_eq!(
            tags.get(tag::CLIENT_ID).map(String::as_str),
            Some("client-1")
        );
        assert_eq!(
            tags.get(REQUEST_TOKEN_TAG).map(String::as_str),
            Some(token.as_str())
        );
        assert_eq!(tags.get(DESCRIPTION_TAG).map(String::as_str), Some("d"));
    }

    #[test]
    fn name_is_read_from_id() {
        let id = "https://sips.vault.azure.net/secrets/sips-a/0123";

        assert_eq!(name_of(Some(id)).as_deref(), Some("sips-a"));
        assert_eq!(
            name_of(Some("https://sips.vault.azure.net/deletedsecrets/sips-b")).as_deref(),
            Some("sips-b")
        );
    }
}
