//! Domain types that every secrets store takes and returns: names, credentials, versions,
//! metadata and entry snapshots.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::error::StoreError;

/// Well-known tag keys that the stores write and read.
pub mod tag {
    /// The public `client_id` of the credential kept in the entry.
    pub const CLIENT_ID: &str = "sips:client_id";
    /// Marks an entry as created by this provider; the value is [`MANAGED_BY_VALUE`].
    pub const MANAGED_BY: &str = "sips:managed_by";
    /// Value of the [`MANAGED_BY`] tag.
    pub const MANAGED_BY_VALUE: &str = "terraform-provider-sips";
    /// The SIPS environment, `staging` or `production`.
    pub const ENVIRONMENT: &str = "sips:environment";
    /// Deadline hint: the recommended rotation date, RFC 3339.
    pub const ROTATE_BY: &str = "sips:rotate_by";
    /// Deadline hint: the mandatory rotation date after which SRS cuts the credential off, RFC 3339.
    pub const EXPIRES_AT: &str = "sips:expires_at";
}

/// Name of an entry (a secret) in a store.
///
/// The accepted alphabet is the one of AWS Secrets Manager names (ASCII letters, digits and
/// `/_+=.@-`, at most 512 characters). Stores with a narrower alphabet, such as Azure Key Vault
/// (letters, digits and `-`, at most 127), check their own rule on top.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntryName(String);

impl EntryName {
    /// Maximum length of an entry name in characters.
    pub const MAX_LEN: usize = 512;

    /// Checks and wraps an entry name.
    pub fn new(name: impl Into<String>) -> Result<Self, StoreError> {
        let name = name.into();
        match Self::problem(&name) {
            Some(reason) => Err(StoreError::InvalidInput {
                field: "entry name",
                reason: format!("{name:?} {reason}"),
            }),
            None => Ok(Self(name)),
        }
    }

    fn problem(name: &str) -> Option<String> {
        if name.is_empty() {
            return Some("must not be empty".to_owned());
        }
        if name.len() > Self::MAX_LEN {
            return Some(format!("must be at most {} characters", Self::MAX_LEN));
        }
        // An ARN also names an entry (Secrets Manager accepts it wherever it
        // takes a name), and ARNs separate their fields with ':'.
        let is_arn = name.starts_with("arn:");
        let allowed =
            |c: char| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c) || (is_arn && c == ':');
        let bad = name.chars().find(|c| !allowed(*c))?;
        Some(format!("contains {bad:?}; use letters, digits and /_+=.@-"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EntryName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A SIPS credential pair. The `client_secret` is unprintable: `Debug` shows `[redacted]`.
#[derive(Clone)]
pub struct Credential {
    client_id: String,
    client_secret: SecretString,
}

impl Credential {
    pub fn new(client_id: impl Into<String>, client_secret: SecretString) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret,
        }
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    pub fn client_secret(&self) -> &SecretString {
        &self.client_secret
    }

    /// Serializes the stored document `{"client_id": ..., "client_secret": ...}`.
    ///
    /// The output is byte-for-byte stable for equal credentials, which stores rely on: a
    /// repeated write under the same request token must carry the same bytes to be accepted.
    pub fn to_document(&self) -> SecretString {
        let document = CredentialDocumentOut {
            client_id: &self.client_id,
            client_secret: self.client_secret.expose_secret(),
        };
        let text = serde_json::to_string(&document).expect("two string fields always serialize");
        SecretString::from(text)
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .finish()
    }
}

#[derive(Serialize)]
struct CredentialDocumentOut<'a> {
    client_id: &'a str,
    client_secret: &'a str,
}

/// Every document shape a version may hold, read in one pass so the secret is never copied
/// into an intermediate tree.
#[derive(Deserialize)]
struct StoredDocumentIn {
    client_id: Option<String>,
    #[serde(default, deserialize_with = "secret_field")]
    client_secret: Option<SecretString>,
    #[serde(default)]
    sips_revoked: bool,
    revoked_version: Option<String>,
}

fn secret_field<'de, D: Deserializer<'de>>(input: D) -> Result<Option<SecretString>, D::Error> {
    Ok(Option::<String>::deserialize(input)?.map(SecretString::from))
}

/// Content of a stored version: a credential, or the tombstone that a revocation wrote.
#[derive(Debug, Clone)]
pub enum VersionContent {
    Credential(Credential),
    Revoked(Tombstone),
}

/// A version written by a revocation in place of a credential, so that readers of the current
/// version get no usable secret. It contains no secret, and its bytes depend only on its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tombstone {
    pub client_id: Option<String>,
    /// The version whose value was revoked.
    pub revoked_version: Option<VersionId>,
}

impl Tombstone {
    /// Serializes the tombstone document. It carries no timestamp, so a retried revocation
    /// writes the same bytes under the same request token.
    pub fn to_document(&self) -> String {
        serde_json::json!({
            "sips_revoked": true,
            "client_id": self.client_id,
            "revoked_version": self.revoked_version.as_ref().map(VersionId::as_str),
        })
        .to_string()
    }
}

/// Reason a stored document was rejected. It never quotes the document, because parser
/// messages can echo parts of the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentError {
    Unparsable,
    MissingClientId,
    MissingClientSecret,
}

impl DocumentError {
    pub fn reason(self) -> &'static str {
        match self {
            Self::Unparsable => "the value is not a JSON object of string fields",
            Self::MissingClientId => "the JSON object has no string field client_id",
            Self::MissingClientSecret => "the JSON object has no string field client_secret",
        }
    }
}

impl VersionContent {
    /// Parses a stored document without ever quoting it in an error.
    pub fn parse(document: &SecretString) -> Result<Self, DocumentError> {
        let parsed: StoredDocumentIn = serde_json::from_str(document.expose_secret())
            .map_err(|_| DocumentError::Unparsable)?;
        if parsed.sips_revoked {
            return Ok(Self::Revoked(Tombstone {
                client_id: parsed.client_id,
                revoked_version: parsed.revoked_version.map(VersionId::new),
            }));
        }
        let client_id = parsed.client_id.ok_or(DocumentError::MissingClientId)?;
        let secret = parsed
            .client_secret
            .ok_or(DocumentError::MissingClientSecret)?;
        Ok(Self::Credential(Credential::new(client_id, secret)))
    }
}

/// Identifier of one version of an entry, assigned by the store or taken from a request token.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VersionId(String);

impl VersionId {
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for VersionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Idempotency token of a write. Stores that support it use the token as the new version's id,
/// so a write retried with the same token creates no second version.
///
/// The token is visible in the store (as the version id) and in Terraform state, so it must be
/// derived from a non-reversible fingerprint, never from the secret itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestToken(String);

impl RequestToken {
    /// Accepted token lengths; Secrets Manager rejects client request tokens outside 32 to 64.
    pub const LEN: std::ops::RangeInclusive<usize> = 32..=64;

    /// Checks and wraps a token: 32 to 64 ASCII letters, digits or `-`.
    pub fn new(token: impl Into<String>) -> Result<Self, StoreError> {
        let token = token.into();
        let well_formed = token.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if Self::LEN.contains(&token.len()) && well_formed {
            return Ok(Self(token));
        }
        Err(StoreError::InvalidInput {
            field: "request token",
            reason: format!("{token:?} must be 32 to 64 ASCII letters, digits or '-'"),
        })
    }

    /// Derives the token for writing a secret from that secret's fingerprint.
    ///
    /// The fingerprint is hashed again under a fixed label, so the version id differs from the
    /// fingerprint kept elsewhere while staying deterministic.
    pub fn from_fingerprint(fingerprint: &[u8]) -> Self {
        Self::derive(b"sips secret version", fingerprint)
    }

    /// Derives the token of the tombstone that revokes `version`.
    pub fn for_revocation(version: &VersionId) -> Self {
        Self::derive(b"sips revocation", version.as_str().as_bytes())
    }

    fn derive(label: &[u8], input: &[u8]) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(label);
        hasher.update([0]);
        hasher.update(input);
        Self(hex::encode(hasher.finalize()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The version id a store that honours request tokens gives the version this token writes.
    pub fn version_id(&self) -> VersionId {
        VersionId::new(self.0.clone())
    }
}

/// Role of a version. On AWS these are staging labels; on stores without labels (Azure Key
/// Vault) the store derives them from version order and attributes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum VersionStage {
    /// The version applications read by default.
    Current,
    /// The version that was current before the last change, kept readable during a changeover.
    Previous,
    /// A version prepared by a store-driven rotation but not yet promoted.
    Pending,
    /// The version whose value a revocation made unusable, kept for the audit trail.
    Revoked,
    /// Any other label, as the store spells it.
    Other(String),
}

/// One version of an entry, without its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionInfo {
    pub id: VersionId,
    pub stages: BTreeSet<VersionStage>,
    /// `None` where the store's describe call does not return it (Secrets Manager).
    pub created_at: Option<OffsetDateTime>,
    /// Whether the version can be read. Secrets Manager versions are always enabled.
    pub enabled: bool,
    /// Start of validity (`nbf` on Azure Key Vault); `None` on Secrets Manager.
    pub not_before: Option<OffsetDateTime>,
    /// End of validity (`exp` on Azure Key Vault); `None` on Secrets Manager.
    pub expires_at: Option<OffsetDateTime>,
}

impl VersionInfo {
    pub fn has_stage(&self, stage: &VersionStage) -> bool {
        self.stages.contains(stage)
    }
}

/// Selector of the version to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionSelector {
    Current,
    Previous,
    Id(VersionId),
}

/// Metadata written with a new entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntryMetadata {
    pub description: Option<String>,
    /// KMS key (AWS) used to encrypt the value; `None` keeps the store's default key.
    pub kms_key_id: Option<String>,
    /// All tags of the entry, including deadline hints under [`tag::ROTATE_BY`] and
    /// [`tag::EXPIRES_AT`]. Stores add [`tag::CLIENT_ID`] and [`tag::MANAGED_BY`] themselves.
    pub tags: BTreeMap<String, String>,
}

impl EntryMetadata {
    /// Stores a deadline hint as an RFC 3339 tag.
    pub fn set_deadline(&mut self, key: &str, at: OffsetDateTime) {
        if let Ok(text) = at.format(&Rfc3339) {
            self.tags.insert(key.to_owned(), text);
        }
    }
}

/// A change of entry metadata; fields left `None` or empty stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetadataChange {
    pub description: Option<String>,
    pub kms_key_id: Option<String>,
    pub set_tags: BTreeMap<String, String>,
    pub remove_tags: BTreeSet<String>,
}

impl MetadataChange {
    pub fn is_empty(&self) -> bool {
        self.description.is_none()
            && self.kms_key_id.is_none()
            && self.set_tags.is_empty()
            && self.remove_tags.is_empty()
    }
}

/// A request to create an entry with its first version.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub name: EntryName,
    pub value: Credential,
    pub metadata: EntryMetadata,
    /// Idempotency token of the first version.
    pub token: RequestToken,
}

/// Snapshot of an entry: metadata and versions, never values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryState {
    pub name: String,
    /// The store's own identifier: the ARN on AWS, the secret id URL on Azure Key Vault.
    pub id: String,
    pub description: Option<String>,
    pub kms_key_id: Option<String>,
    pub tags: BTreeMap<String, String>,
    /// Versions that carry a stage. Versions without one are listed by `list_versions`.
    pub versions: Vec<VersionInfo>,
    pub created_at: Option<OffsetDateTime>,
    pub changed_at: Option<OffsetDateTime>,
    /// Set while the entry is scheduled for deletion: the date the store reports for it.
    pub deletion_date: Option<OffsetDateTime>,
}

impl EntryState {
    pub fn current(&self) -> Option<&VersionInfo> {
        self.with_stage(&VersionStage::Current)
    }

    pub fn previous(&self) -> Option<&VersionInfo> {
        self.with_stage(&VersionStage::Previous)
    }

    pub fn revoked(&self) -> Option<&VersionInfo> {
        self.with_stage(&VersionStage::Revoked)
    }

    pub fn with_stage(&self, stage: &VersionStage) -> Option<&VersionInfo> {
        self.versions
            .iter()
            .find(|version| version.has_stage(stage))
    }

    pub fn version(&self, id: &VersionId) -> Option<&VersionInfo> {
        self.versions.iter().find(|version| &version.id == id)
    }

    pub fn is_scheduled_for_deletion(&self) -> bool {
        self.deletion_date.is_some()
    }

    pub fn client_id(&self) -> Option<&str> {
        self.tags.get(tag::CLIENT_ID).map(String::as_str)
    }

    /// Tells whether the tags mark the entry as created by this provider for `client_id`.
    pub fn is_managed_for(&self, client_id: &str) -> bool {
        let managed = self.tags.get(tag::MANAGED_BY).map(String::as_str);
        managed == Some(tag::MANAGED_BY_VALUE) && self.client_id() == Some(client_id)
    }

    /// Reads a deadline hint tag; `None` when it is missing or not RFC 3339.
    pub fn deadline(&self, key: &str) -> Option<OffsetDateTime> {
        let text = self.tags.get(key)?;
        OffsetDateTime::parse(text, &Rfc3339).ok()
    }
}

/// Result of [`SecretStore::create`](super::SecretStore::create).
#[derive(Debug, Clone)]
pub struct CreateOutcome {
    pub state: EntryState,
    /// True when the entry already existed with this provider's tags and the same value under
    /// the same request token, as after an interrupted run.
    pub adopted: bool,
}

/// Result of [`SecretStore::put_version`](super::SecretStore::put_version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutOutcome {
    pub version_id: VersionId,
    /// False when the version already existed as current under the same token.
    pub created: bool,
}

/// Result of [`SecretStore::revoke_current`](super::SecretStore::revoke_current).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    /// The version whose value is no longer served.
    pub revoked_version: VersionId,
    /// The tombstone version that became current, on stores that need one.
    pub tombstone_version: Option<VersionId>,
}

/// Deletion mode of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteMode {
    /// Soft delete: the entry can be restored during the window. Stores whose window is a
    /// vault setting (Azure Key Vault) ignore `window_days`.
    Recoverable { window_days: u32 },
    /// Delete at once, with no recovery (on Azure Key Vault: delete, then purge).
    Force,
}

/// Result of [`SecretStore::delete`](super::SecretStore::delete).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deletion {
    /// End of the recovery window; `None` after a forced delete.
    pub deletion_date: Option<OffsetDateTime>,
}

/// A value read from a store.
#[derive(Debug, Clone)]
pub struct StoredValue {
    pub version_id: VersionId,
    pub stages: BTreeSet<VersionStage>,
    pub content: VersionContent,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credential() -> Credential {
        Credential::new("client-1", SecretString::from("hunter2-secret"))
    }

    #[test]
    fn entry_name_accepts_arn() {
        let arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:sips/staging/a-AbCdEf";
        assert!(EntryName::new(arn).is_ok());
        assert!(EntryName::new("sips:staging").is_err());
    }

    #[test]
    fn credential_debug_hides_secret() {
        let text = format!("{:?}", credential());

        assert!(!text.contains("hunter2-secret"), "{text}");
        assert!(text.contains("client-1"), "{text}");
    }

    #[test]
    fn document_round_trips() {
        let document = credential().to_document();

        let parsed = VersionContent::parse(&document);

        let Ok(VersionContent::Credential(parsed)) = parsed else {
            panic!("expected a credential");
        };
        assert_eq!(parsed.client_id(), "client-1");
        assert_eq!(parsed.client_secret().expose_secret(), "hunter2-secret");
    }

    #[test]
    fn document_is_stable() {
        let first = credential().to_document();
        let second = credential().to_document();

        assert_eq!(first.expose_secret(), second.expose_secret());
        assert_eq!(
            first.expose_secret(),
            r#"{"client_id":"client-1","client_secret":"hunter2-secret"}"#
        );
    }

    #[test]
    fn tombstone_parses_as_revoked() {
        let tombstone = Tombstone {
            client_id: Some("client-1".into()),
            revoked_version: Some(VersionId::new("v1")),
        };
        let document = SecretString::from(tombstone.to_document());

        let parsed = VersionContent::parse(&document);

        let Ok(VersionContent::Revoked(parsed)) = parsed else {
            panic!("expected a tombstone");
        };
        assert_eq!(parsed, tombstone);
    }

    #[test]
    fn malformed_document_errors_carry_no_value() {
        let cases = [
            ("not json hunter2", DocumentError::Unparsable),
            (
                r#"{"client_secret": "hunter2"}"#,
                DocumentError::MissingClientId,
            ),
            (r#"{"client_id": "c"}"#, DocumentError::MissingClientSecret),
            (
                r#"{"client_id": "c", "client_secret": 5}"#,
                DocumentError::Unparsable,
            ),
        ];
        for (text, expected) in cases {
            let parsed = VersionContent::parse(&SecretString::from(text));

            let error = parsed.err();

            assert_eq!(error, Some(expected), "{text}");
            assert!(!expected.reason().contains("hunter2"));
        }
    }

    #[test]
    fn entry_name_rejects_bad_input() {
        let too_long = "a".repeat(EntryName::MAX_LEN + 1);
        for name in ["", "with space", "tab\t", too_long.as_str()] {
            assert!(EntryName::new(name).is_err(), "{name:?}");
        }
        assert!(EntryName::new("sips/partner-1/staging_v2+x=y.z@w").is_ok());
    }

    #[test]
    fn request_token_checks_shape() {
        assert!(RequestToken::new("short").is_err());
        assert!(RequestToken::new("x".repeat(65)).is_err());
        assert!(RequestToken::new(format!("{}!", "a".repeat(40))).is_err());
        assert!(RequestToken::new("a".repeat(32)).is_ok());
    }

    #[test]
    fn derived_tokens_are_stable_and_distinct() {
        let first = RequestToken::from_fingerprint(b"fingerprint");
        let again = RequestToken::from_fingerprint(b"fingerprint");
        let revocation = RequestToken::for_revocation(&VersionId::new("fingerprint"));

        assert_eq!(first, again);
        assert_ne!(first, revocation);
        assert_eq!(first.as_str().len(), 64);
        assert!(RequestToken::new(first.as_str()).is_ok());
    }

    #[test]
    fn deadline_round_trips_through_tags() {
        let at = time::macros::datetime!(2030-06-01 12:00 UTC);
        let mut metadata = EntryMetadata::default();
        metadata.set_deadline(tag::ROTATE_BY, at);
        let state = EntryState {
            name: "e".into(),
            id: "arn".into(),
            description: None,
            kms_key_id: None,
            tags: metadata.tags,
            versions: Vec::new(),
            created_at: None,
            changed_at: None,
            deletion_date: None,
        };

        assert_eq!(state.deadline(tag::ROTATE_BY), Some(at));
        assert_eq!(state.deadline(tag::EXPIRES_AT), None);
    }
}
