//! Conversions between Key Vault secret versions and the store's domain types, including the
//! derivation of version stages from version order, `enabled` and bookkeeping tags.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use azure_security_keyvault_secrets::ResourceExt;
use azure_security_keyvault_secrets::models::{
    DeletedSecret, Secret, SecretAttributes, SecretProperties,
};
use time::OffsetDateTime;

use crate::stores::{EntryName, EntryState, StoreError, VersionId, VersionInfo, VersionStage};

/// Version tag with the request token that wrote the version, so a retried write finds it.
pub const REQUEST_TOKEN_TAG: &str = "sips:request_token";
/// Version tag naming the version that was latest when this one was written. That version is
/// served as previous while it stays enabled and this one is current.
pub const PREVIOUS_VERSION_TAG: &str = "sips:previous_version";
/// Version tag set by a revocation, with its time in RFC 3339.
pub const REVOKED_AT_TAG: &str = "sips:revoked_at";
/// Tag that carries the entry description, since Key Vault secrets have none.
pub const DESCRIPTION_TAG: &str = "sips:description";

/// Tags the store writes for itself; they are not part of the entry's metadata tags.
const BOOKKEEPING_TAGS: [&str; 4] = [
    REQUEST_TOKEN_TAG,
    PREVIOUS_VERSION_TAG,
    REVOKED_AT_TAG,
    DESCRIPTION_TAG,
];

/// Maximum number of tags Key Vault accepts on a secret version.
pub const MAX_TAGS: usize = 15;
/// Maximum length of a tag value in characters.
pub const MAX_TAG_VALUE_LEN: usize = 256;
/// Maximum length of a Key Vault secret name.
pub const MAX_NAME_LEN: usize = 127;

/// One version of a secret, without its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct VersionRecord {
    pub id: VersionId,
    pub created: Option<OffsetDateTime>,
    pub updated: Option<OffsetDateTime>,
    pub enabled: bool,
    pub not_before: Option<OffsetDateTime>,
    pub expires: Option<OffsetDateTime>,
    pub tags: BTreeMap<String, String>,
}

impl VersionRecord {
    fn from_parts(
        id: Option<String>,
        attributes: Option<&SecretAttributes>,
        tags: Option<&HashMap<String, String>>,
    ) -> Option<Self> {
        let version = version_of(id.as_deref()?)?;
        let attributes = attributes.cloned().unwrap_or_default();
        Some(Self {
            id: VersionId::new(version),
            created: attributes.created,
            updated: attributes.updated,
            enabled: attributes.enabled.unwrap_or(true),
            not_before: attributes.not_before,
            expires: attributes.expires,
            tags: tags
                .map(|tags| tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
        })
    }

    pub fn from_properties(properties: &SecretProperties) -> Option<Self> {
        let id = properties.id.clone();
        Self::from_parts(id, properties.attributes.as_ref(), properties.tags.as_ref())
    }

    /// Builds the record of a fetched secret; the value in `secret` is not copied.
    pub fn from_secret(secret: &Secret) -> Option<Self> {
        Self::from_parts(
            secret.id.clone(),
            secret.attributes.as_ref(),
            secret.tags.as_ref(),
        )
    }

    pub fn from_deleted(secret: &DeletedSecret) -> Option<Self> {
        Self::from_parts(
            secret.id.clone(),
            secret.attributes.as_ref(),
            secret.tags.as_ref(),
        )
    }

    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags.get(key).map(String::as_str)
    }

    fn info(&self, stages: BTreeSet<VersionStage>) -> VersionInfo {
        VersionInfo {
            id: self.id.clone(),
            stages,
            created_at: self.created,
            enabled: self.enabled,
            not_before: self.not_before,
            expires_at: self.expires,
        }
    }
}

/// Returns the version segment of a secret id URL (`https://v/secrets/name/version`).
fn version_of(id: &str) -> Option<String> {
    let url: azure_core::http::Url = id.parse().ok()?;
    let mut segments = url.path_segments()?.filter(|segment| !segment.is_empty());
    let collection = segments.next()?;
    if collection != "secrets" && collection != "deletedsecrets" {
        return None;
    }
    segments.next()?;
    segments.next().map(str::to_owned)
}

/// Returns the version id of a fetched secret.
pub(super) fn secret_version(secret: &Secret) -> Option<VersionId> {
    let id = secret.resource_id().ok()?;
    id.version.map(VersionId::new)
}

/// Versions of one secret with their derived stages.
#[derive(Debug, Clone)]
pub(super) struct Versions {
    pub records: Vec<VersionRecord>,
    latest: Option<usize>,
}

impl Versions {
    pub fn new(records: Vec<VersionRecord>) -> Self {
        let latest = latest_index(&records);
        Self { records, latest }
    }

    /// The most recently created version, enabled or not.
    pub fn latest(&self) -> Option<&VersionRecord> {
        self.latest.map(|index| &self.records[index])
    }

    /// The latest version when it is enabled. A disabled latest version means the entry was
    /// revoked (or disabled outside this provider): no older version takes its place.
    pub fn current(&self) -> Option<&VersionRecord> {
        self.latest().filter(|version| version.enabled)
    }

    /// The version that the current one names as previous, while it is enabled.
    pub fn previous(&self) -> Option<&VersionRecord> {
        let named = self.current()?.tag(PREVIOUS_VERSION_TAG)?;
        self.find(named).filter(|version| version.enabled)
    }

    pub fn find(&self, id: &str) -> Option<&VersionRecord> {
        self.records
            .iter()
            .find(|version| version.id.as_str() == id)
    }

    pub fn written_with(&self, token: &str) -> Option<&VersionRecord> {
        self.records
            .iter()
            .find(|version| version.tag(REQUEST_TOKEN_TAG) == Some(token))
    }

    pub fn stages_of(&self, id: &VersionId) -> BTreeSet<VersionStage> {
        let mut stages = BTreeSet::new();
        let is = |version: Option<&VersionRecord>| version.is_some_and(|v| &v.id == id);
        if is(self.current()) {
            stages.insert(VersionStage::Current);
        }
        if is(self.previous()) {
            stages.insert(VersionStage::Previous);
        }
        let revoked = self
            .find(id.as_str())
            .is_some_and(|version| !version.enabled && version.tag(REVOKED_AT_TAG).is_some());
        if revoked {
            stages.insert(VersionStage::Revoked);
        }
        stages
    }

    /// Every version with its stages, newest first.
    pub fn infos(&self) -> Vec<VersionInfo> {
        let mut infos: Vec<VersionInfo> = self
            .records
            .iter()
            .map(|version| version.info(self.stages_of(&version.id)))
            .collect();
        infos.sort_by_key(|info| std::cmp::Reverse(info.created_at));
        infos
    }
}

/// Picks the latest version. Key Vault reports `created` in whole seconds, so versions written
/// within one second tie; among those, a version that another tied version names as its
/// previous one is older. Remaining ties fall back to `updated`, then the id.
fn latest_index(records: &[VersionRecord]) -> Option<usize> {
    let newest = records.iter().map(|version| version.created).max()?;
    let tied: Vec<usize> = (0..records.len())
        .filter(|&index| records[index].created == newest)
        .collect();
    let named_as_previous: BTreeSet<&str> = tied
        .iter()
        .filter_map(|&index| records[index].tag(PREVIOUS_VERSION_TAG))
        .collect();
    let newer: Vec<usize> = tied
        .iter()
        .copied()
        .filter(|&index| !named_as_previous.contains(records[index].id.as_str()))
        .collect();
    let candidates = if newer.is_empty() { tied } else { newer };
    // NOTE: two versions written in the same second by another client, without the previous
    // version tag, are ordered by `updated` and id, which may differ from the service's order.
    candidates.into_iter().max_by(|&a, &b| {
        let key = |version: &VersionRecord| (version.updated, version.id.clone());
        key(&records[a]).cmp(&key(&records[b]))
    })
}

/// Builds the entry snapshot. `deletion_date` is set for a soft-deleted secret.
pub(super) fn entry_state(
    vault_url: &str,
    name: &EntryName,
    versions: &Versions,
    deletion_date: Option<OffsetDateTime>,
) -> EntryState {
    let latest = versions.latest();
    let tags = latest.map(|version| metadata_tags(&version.tags));
    let staged = versions
        .infos()
        .into_iter()
        .filter(|info| !info.stages.is_empty())
        .collect();
    EntryState {
        name: name.to_string(),
        id: secret_url(vault_url, name),
        description: latest.and_then(|version| version.tag(DESCRIPTION_TAG).map(str::to_owned)),
        kms_key_id: None,
        tags: tags.unwrap_or_default(),
        versions: staged,
        created_at: versions.records.iter().filter_map(|v| v.created).min(),
        changed_at: versions.records.iter().filter_map(|v| v.updated).max(),
        deletion_date,
    }
}

/// The secret's identifier URL without a version.
pub(super) fn secret_url(vault_url: &str, name: &EntryName) -> String {
    format!("{}/secrets/{name}", vault_url.trim_end_matches('/'))
}

/// Tags without the store's bookkeeping tags.
pub(super) fn metadata_tags(tags: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    tags.iter()
        .filter(|(key, _)| !BOOKKEEPING_TAGS.contains(&key.as_str()))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

pub(super) fn to_hash_map(tags: &BTreeMap<String, String>) -> HashMap<String, String> {
    tags.iter()
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

/// Checks the Key Vault secret name rule on top of [`EntryName`]'s alphabet.
pub(super) fn check_name(name: &EntryName) -> Result<(), StoreError> {
    let text = name.as_str();
    let well_formed = text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if well_formed && (1..=MAX_NAME_LEN).contains(&text.len()) {
        return Ok(());
    }
    Err(StoreError::InvalidInput {
        field: "entry name",
        reason: format!(
            "{text:?} is not a Key Vault secret name; use 1 to {MAX_NAME_LEN} ASCII letters, \
             digits and '-'"
        ),
    })
}

/// Checks the tag limits of Key Vault before a request, for a message that names the tag.
pub(super) fn check_tags(tags: &BTreeMap<String, String>) -> Result<(), StoreError> {
    if tags.len() > MAX_TAGS {
        return Err(StoreError::InvalidInput {
            field: "tags",
            reason: format!(
                "{} tags, including the provider's own, exceed Key Vault's limit of {MAX_TAGS} \
                 per secret; remove some tags",
                tags.len()
            ),
        });
    }
    let long = tags
        .iter()
        .find(|(_, value)| value.chars().count() > MAX_TAG_VALUE_LEN);
    if let Some((key, _)) = long {
        return Err(StoreError::InvalidInput {
            field: "tags",
            reason: format!(
                "the value of tag {key:?} is longer than Key Vault's {MAX_TAG_VALUE_LEN} characters"
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
pub(super) fn record(
    id: &str,
    created: i64,
    enabled: bool,
    tags: &[(&str, &str)],
) -> VersionRecord {
    let at = OffsetDateTime::from_unix_timestamp(created).unwrap();
    VersionRecord {
        id: VersionId::new(id),
        created: Some(at),
        updated: Some(at),
        enabled,
        not_before: None,
        expires: None,
        tags: tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_follow_latest_and_tag() {
        let versions = Versions::new(vec![
            record("v1", 100, true, &[]),
            record("v2", 200, true, &[(PREVIOUS_VERSION_TAG, "v1")]),
        ]);

        assert_eq!(versions.current().map(|v| v.id.as_str()), Some("v2"));
        assert_eq!(versions.previous().map(|v| v.id.as_str()), Some("v1"));
    }

    #[test]
    fn disabled_previous_is_not_served() {
        let versions = Versions::new(vec![
            record("v1", 100, false, &[]),
            record("v2", 200, true, &[(PREVIOUS_VERSION_TAG, "v1")]),
        ]);

        assert_eq!(versions.previous(), None);
        assert!(versions.stages_of(&VersionId::new("v1")).is_empty());
    }

    #[test]
    fn revoked_latest_leaves_no_current() {
        let versions = Versions::new(vec![
            record("v1", 100, true, &[]),
            record(
                "v2",
                200,
                false,
                &[(PREVIOUS_VERSION_TAG, "v1"), (REVOKED_AT_TAG, "t")],
            ),
        ]);

        assert_eq!(versions.current(), None);
        assert_eq!(versions.previous(), None);
        assert_eq!(
            versions.stages_of(&VersionId::new("v2")),
            BTreeSet::from([VersionStage::Revoked])
        );
    }

    #[test]
    fn same_second_ties_follow_chain() {
        // "a" < "z" by id, so only the previous-version tag can put "a" last.
        let versions = Versions::new(vec![
            record("z", 100, true, &[]),
            record("a", 100, true, &[(PREVIOUS_VERSION_TAG, "z")]),
        ]);

        assert_eq!(versions.latest().map(|v| v.id.as_str()), Some("a"));
    }

    #[test]
    fn version_is_read_from_id_url() {
        let id = "https://sips.vault.azure.net/secrets/name/0123abcd";

        assert_eq!(version_of(id).as_deref(), Some("0123abcd"));
        assert_eq!(
            version_of("https://sips.vault.azure.net/secrets/name"),
            None
        );
    }

    #[test]
    fn names_follow_key_vault_rule() {
        let ok = EntryName::new("sips-client-1-staging").unwrap();
        let slash = EntryName::new("sips/client-1").unwrap();
        let long = EntryName::new("a".repeat(MAX_NAME_LEN + 1)).unwrap();

        assert!(check_name(&ok).is_ok());
        assert!(check_name(&slash).is_err());
        assert!(check_name(&long).is_err());
    }

    #[test]
    fn bookkeeping_tags_are_not_metadata() {
        let tags = BTreeMap::from([
            (REQUEST_TOKEN_TAG.to_owned(), "t".to_owned()),
            ("team".to_owned(), "payments".to_owned()),
        ]);

        let metadata = metadata_tags(&tags);

        assert_eq!(metadata.len(), 1);
        assert!(metadata.contains_key("team"));
    }
}
