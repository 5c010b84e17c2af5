//! Conversions between Secrets Manager SDK shapes and the store's domain types.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput;
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueOutput;
use aws_sdk_secretsmanager::primitives::DateTime;
use aws_sdk_secretsmanager::types::{SecretListEntry, SecretVersionsListEntry, Tag};
use secrecy::SecretString;
use time::OffsetDateTime;

use crate::stores::{
    EntryName, EntryState, StoreError, StoredValue, VersionContent, VersionId, VersionInfo,
    VersionStage,
};

pub(super) const AWS_CURRENT: &str = "AWSCURRENT";
pub(super) const AWS_PREVIOUS: &str = "AWSPREVIOUS";
const AWS_PENDING: &str = "AWSPENDING";
/// Custom staging label on the version whose value a revocation replaced. A label keeps the
/// version out of Secrets Manager's clean-up of unlabelled versions, for the audit trail.
pub(super) const SIPS_REVOKED: &str = "SIPSREVOKED";

pub(super) fn stage_from_label(label: &str) -> VersionStage {
    match label {
        AWS_CURRENT => VersionStage::Current,
        AWS_PREVIOUS => VersionStage::Previous,
        AWS_PENDING => VersionStage::Pending,
        SIPS_REVOKED => VersionStage::Revoked,
        other => VersionStage::Other(other.to_owned()),
    }
}

fn stages_from_labels(labels: &[String]) -> BTreeSet<VersionStage> {
    labels.iter().map(|label| stage_from_label(label)).collect()
}

pub(super) fn time_from(date: Option<&DateTime>) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(date?.as_nanos()).ok()
}

pub(super) fn sdk_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .map(|(key, value)| Tag::builder().key(key).value(value).build())
        .collect()
}

fn tags_from(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|tag| {
            Some((
                tag.key()?.to_owned(),
                tag.value().unwrap_or_default().to_owned(),
            ))
        })
        .collect()
}

pub(super) fn staged_version(id: &str, stages: BTreeSet<VersionStage>) -> VersionInfo {
    VersionInfo {
        id: VersionId::new(id),
        stages,
        created_at: None,
        enabled: true,
        not_before: None,
        expires_at: None,
    }
}

/// Keeps the versions that carry a label, ordered current first, then previous and the rest,
/// so snapshots compare stably. AWS lists only labelled versions here; moto 5.2.5 also lists
/// unlabelled ones with an empty label list, which are dropped to match AWS.
fn versions_from_map(map: Option<&HashMap<String, Vec<String>>>) -> Vec<VersionInfo> {
    let mut versions: Vec<VersionInfo> = map
        .into_iter()
        .flatten()
        .filter(|(_, labels)| !labels.is_empty())
        .map(|(id, labels)| staged_version(id, stages_from_labels(labels)))
        .collect();
    versions.sort_by(|a, b| (a.stages.first(), &a.id).cmp(&(b.stages.first(), &b.id)));
    versions
}

pub(super) fn state_from_describe(output: &DescribeSecretOutput) -> EntryState {
    EntryState {
        name: output.name().unwrap_or_default().to_owned(),
        id: output.arn().unwrap_or_default().to_owned(),
        description: output.description().map(str::to_owned),
        kms_key_id: output.kms_key_id().map(str::to_owned),
        tags: tags_from(output.tags()),
        versions: versions_from_map(output.version_ids_to_stages()),
        created_at: time_from(output.created_date()),
        changed_at: time_from(output.last_changed_date()),
        deletion_date: time_from(output.deleted_date()),
    }
}

pub(super) fn state_from_list_entry(entry: &SecretListEntry) -> EntryState {
    EntryState {
        name: entry.name().unwrap_or_default().to_owned(),
        id: entry.arn().unwrap_or_default().to_owned(),
        description: entry.description().map(str::to_owned),
        kms_key_id: entry.kms_key_id().map(str::to_owned),
        tags: tags_from(entry.tags()),
        versions: versions_from_map(entry.secret_versions_to_stages()),
        created_at: time_from(entry.created_date()),
        changed_at: time_from(entry.last_changed_date()),
        deletion_date: time_from(entry.deleted_date()),
    }
}

pub(super) fn version_from_list_entry(entry: &SecretVersionsListEntry) -> VersionInfo {
    let mut version = staged_version(
        entry.version_id().unwrap_or_default(),
        stages_from_labels(entry.version_stages()),
    );
    version.created_at = time_from(entry.created_date());
    version
}

/// Moves the secret string out of `output` into a `SecretString` and parses it. A parse
/// failure names the version, never the content.
pub(super) fn stored_value(
    name: &EntryName,
    mut output: GetSecretValueOutput,
) -> Result<StoredValue, StoreError> {
    let version_id = VersionId::new(output.version_id().unwrap_or_default());
    let malformed = |reason| StoreError::MalformedValue {
        entry: name.to_string(),
        version: version_id.to_string(),
        reason,
    };
    let Some(text) = output.secret_string.take() else {
        return Err(malformed("the version holds binary data, not a string"));
    };
    let document = SecretString::from(text);
    let content = VersionContent::parse(&document).map_err(|error| malformed(error.reason()))?;
    Ok(StoredValue {
        stages: stages_from_labels(output.version_stages()),
        version_id,
        content,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_keep_labelled_current_first() {
        let map = HashMap::from([
            ("b".to_owned(), vec![AWS_PREVIOUS.to_owned()]),
            ("c".to_owned(), vec![SIPS_REVOKED.to_owned()]),
            ("a".to_owned(), vec![AWS_CURRENT.to_owned()]),
            ("d".to_owned(), vec![]),
        ]);

        let versions = versions_from_map(Some(&map));

        let ids: Vec<&str> = versions.iter().map(|v| v.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        assert!(versions[2].has_stage(&VersionStage::Revoked));
    }

    #[test]
    fn unknown_label_is_kept() {
        assert_eq!(
            stage_from_label("custom"),
            VersionStage::Other("custom".into())
        );
    }

    #[test]
    fn time_converts_from_sdk() {
        let date = DateTime::from_secs(1_900_000_000);

        let converted = time_from(Some(&date));

        assert_eq!(converted.map(|t| t.unix_timestamp()), Some(1_900_000_000));
    }
}
