//! Entry creation on Secrets Manager, with adoption of an entry that an interrupted run of
//! the same create left behind.

use std::collections::BTreeMap;

use aws_sdk_secretsmanager::operation::create_secret::CreateSecretOutput;
use secrecy::{ExposeSecret, SecretString};

use super::{AwsSecretsStore, convert, errors, scheduled};
use crate::stores::{
    CreateOutcome, EntryState, NewEntry, SecretStore, ServiceError, StoreError, VersionContent,
    VersionSelector, VersionStage, tag,
};

impl AwsSecretsStore {
    pub(super) async fn create_entry(&self, entry: NewEntry) -> Result<CreateOutcome, StoreError> {
        let tags = creation_tags(&entry);
        let document = entry.value.to_document();
        let result = self.send_create(&entry, &tags, &document).await;

        let (state, adopted) = match result {
            Ok(output) if output.version_id() == Some(entry.token.as_str()) => {
                let arn = output.arn().unwrap_or_default();
                let state = created_state(&entry, tags, arn, entry.token.as_str());
                (state, false)
            }
            // A repeat that returns another version id means the entry predates this call.
            Ok(_) => (self.describe(&entry.name).await?, true),
            Err(error) => {
                let error = error.redact(&document).redact(entry.value.client_secret());
                (self.adopt_existing(&entry, error).await?, true)
            }
        };
        Ok(CreateOutcome { state, adopted })
    }

    async fn send_create(
        &self,
        entry: &NewEntry,
        tags: &BTreeMap<String, String>,
        document: &SecretString,
    ) -> Result<CreateSecretOutput, StoreError> {
        self.begin("CreateSecret", entry.name.as_str());
        self.client
            .create_secret()
            .name(entry.name.as_str())
            .client_request_token(entry.token.as_str())
            .secret_string(document.expose_secret())
            .set_description(entry.metadata.description.clone())
            .set_kms_key_id(entry.metadata.kms_key_id.clone())
            .set_tags(Some(convert::sdk_tags(tags)))
            .send()
            .await
            .map_err(|error| errors::from_sdk("CreateSecret", entry.name.as_str(), error))
    }

    /// Handles a failed `CreateSecret`: reports a scheduled deletion, adopts an entry that an
    /// earlier run of the same create left behind, or returns `error`.
    async fn adopt_existing(
        &self,
        entry: &NewEntry,
        error: StoreError,
    ) -> Result<EntryState, StoreError> {
        let exists = matches!(error, StoreError::AlreadyExists { .. });
        if !exists && !matches!(error, StoreError::InvalidRequest { .. }) {
            return Err(error);
        }
        let Ok(state) = self.describe(&entry.name).await else {
            return Err(error);
        };
        if state.is_scheduled_for_deletion() {
            return Err(scheduled("CreateSecret", &state));
        }
        if !exists {
            return Err(error);
        }
        if may_adopt(&state, entry) && self.contains_value(entry).await? {
            tracing::debug!(entry = %entry.name, "adopting entry left by an earlier create");
            return Ok(state);
        }
        Err(not_adoptable(error, entry))
    }

    /// Tells whether the version of `entry.token` contains `entry.value`. A token derived from
    /// the value makes this true by construction; checking it keeps a caller bug from
    /// adopting an entry that serves another secret.
    async fn contains_value(&self, entry: &NewEntry) -> Result<bool, StoreError> {
        let selector = VersionSelector::Id(entry.token.version_id());
        let stored = self.read_value(&entry.name, &selector).await?;
        let VersionContent::Credential(stored) = stored.content else {
            return Ok(false);
        };
        let same_secret =
            stored.client_secret().expose_secret() == entry.value.client_secret().expose_secret();
        Ok(same_secret && stored.client_id() == entry.value.client_id())
    }
}

/// Tags of a new entry: the caller's, plus ownership tags that adoption and the
/// environment-separation check read.
fn creation_tags(entry: &NewEntry) -> BTreeMap<String, String> {
    let mut tags = entry.metadata.tags.clone();
    tags.insert(
        tag::CLIENT_ID.to_owned(),
        entry.value.client_id().to_owned(),
    );
    tags.insert(tag::MANAGED_BY.to_owned(), tag::MANAGED_BY_VALUE.to_owned());
    tags
}

/// The state of an entry that `CreateSecret` just made, built from the request because the
/// output carries only ARN, name and version id.
fn created_state(
    entry: &NewEntry,
    tags: BTreeMap<String, String>,
    arn: &str,
    version: &str,
) -> EntryState {
    let stages = [VersionStage::Current].into();
    EntryState {
        name: entry.name.to_string(),
        id: arn.to_owned(),
        description: entry.metadata.description.clone(),
        kms_key_id: entry.metadata.kms_key_id.clone(),
        tags,
        versions: vec![convert::staged_version(version, stages)],
        created_at: None,
        changed_at: None,
        deletion_date: None,
    }
}

/// Tells whether an existing entry looks like the result of an earlier run of `entry`'s
/// create: tagged as ours for the same `client_id`, with the version of the same token.
fn may_adopt(state: &EntryState, entry: &NewEntry) -> bool {
    let ours = state.is_managed_for(entry.value.client_id());
    ours && state.version(&entry.token.version_id()).is_some()
}

fn not_adoptable(error: StoreError, entry: &NewEntry) -> StoreError {
    let code = error.service().and_then(|service| service.code.clone());
    let message = format!(
        "the existing entry is not tagged {}={} with {}={}, or has no version {}; \
         import it or choose another name",
        tag::MANAGED_BY,
        tag::MANAGED_BY_VALUE,
        tag::CLIENT_ID,
        entry.value.client_id(),
        entry.token.as_str(),
    );
    StoreError::AlreadyExists {
        operation: "CreateSecret",
        entry: entry.name.to_string(),
        service: ServiceError { code, message },
    }
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::*;
    use crate::stores::aws::test_state;
    use crate::stores::{Credential, EntryMetadata, EntryName, RequestToken};

    fn new_entry(token: &RequestToken) -> NewEntry {
        NewEntry {
            name: EntryName::new("sips/client-1/staging").unwrap(),
            value: Credential::new("client-1", SecretString::from("value")),
            metadata: EntryMetadata::default(),
            token: token.clone(),
        }
    }

    #[test]
    fn may_adopt_needs_tags_and_version() {
        let token = RequestToken::from_fingerprint(b"f");
        let entry = new_entry(&token);
        let ours = [
            (tag::MANAGED_BY, tag::MANAGED_BY_VALUE),
            (tag::CLIENT_ID, "client-1"),
        ];
        let other_client = [
            (tag::MANAGED_BY, tag::MANAGED_BY_VALUE),
            (tag::CLIENT_ID, "c2"),
        ];
        let current: &[VersionStage] = &[VersionStage::Current];
        let with_token = [(token.as_str(), current)];
        let without_token = [("other", current)];

        assert!(may_adopt(&test_state(&ours, &with_token), &entry));
        assert!(!may_adopt(&test_state(&ours, &without_token), &entry));
        assert!(!may_adopt(&test_state(&other_client, &with_token), &entry));
        assert!(!may_adopt(&test_state(&[], &with_token), &entry));
    }

    #[test]
    fn creation_tags_mark_ownership() {
        let entry = new_entry(&RequestToken::from_fingerprint(b"f"));

        let tags = creation_tags(&entry);

        assert_eq!(
            tags.get(tag::CLIENT_ID).map(String::as_str),
            Some("client-1")
        );
        assert_eq!(
            tags.get(tag::MANAGED_BY).map(String::as_str),
            Some(tag::MANAGED_BY_VALUE)
        );
    }
}
