//! Secrets stores: the `SecretStore` trait, its domain types and errors, and one module per
//! store service.
//!
//! A store keeps one credential pair per entry and a short version history. The trait is
//! shaped so that AWS Secrets Manager (staging labels, recovery window per delete request) and
//! Azure Key Vault (versions with `enabled`, `nbf` and `exp`, vault-wide soft delete with
//! recover and purge) both fit:
//!
//! | trait operation    | Secrets Manager                              | Key Vault                |
//! |--------------------|----------------------------------------------|--------------------------|
//! | `put_version`      | new version; old current gets `AWSPREVIOUS`  | new version              |
//! | `retire_previous`  | remove `AWSPREVIOUS`, version stays in list  | disable previous version |
//! | `revoke_current`   | tombstone version becomes current            | disable current version  |
//! | `delete` (window)  | `DeleteSecret` with `RecoveryWindowInDays`   | soft delete              |
//! | `delete` (force)   | `ForceDeleteWithoutRecovery`                 | delete, then purge       |
//! | `restore`          | `RestoreSecret`                              | recover deleted secret   |
//!
//! Writes are idempotent under a caller-chosen [`RequestToken`]: a rerun after an interruption
//! finds the version written under the same token and returns it instead of writing twice.
//!
//! Nothing here formats a secret: [`Credential`] prints `[redacted]`, errors carry service
//! messages with any sent secret scrubbed, and logs name only the operation and the entry.

mod calls;
mod error;
mod model;

#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "azure")]
pub mod azure;

use async_trait::async_trait;

pub use calls::{CallCounter, CallCounts};
pub use error::{ServiceError, StoreError};
pub use model::{
    CreateOutcome, Credential, DeleteMode, Deletion, DocumentError, EntryMetadata, EntryName,
    EntryState, MetadataChange, NewEntry, PutOutcome, RequestToken, Revocation, StoredValue,
    Tombstone, VersionContent, VersionId, VersionInfo, VersionSelector, VersionStage, tag,
};

/// A secrets store that keeps SIPS credential entries.
///
/// Every method is one logical change; the call counts in each method's documentation are
/// those of the Secrets Manager implementation on the success path.
#[async_trait]
pub trait SecretStore: Send + Sync {
    /// Short name of the store service, for logs and diagnostics (`aws-secrets-manager`).
    fn kind(&self) -> &'static str;

    /// Creates an entry with its first version, tagged as managed for the credential's
    /// `client_id`.
    ///
    /// When the name is taken by an entry that carries this provider's tags for the same
    /// `client_id` and whose version of `entry.token` contains the same value, the entry is
    /// adopted (`adopted` is true). A name taken otherwise fails with
    /// [`StoreError::AlreadyExists`], and a name scheduled for deletion with
    /// [`StoreError::ScheduledForDeletion`].
    async fn create(&self, entry: NewEntry) -> Result<CreateOutcome, StoreError>;

    /// Reads metadata and staged versions in one call, without values.
    async fn describe(&self, name: &EntryName) -> Result<EntryState, StoreError>;

    /// Reads the value of one version. A selected version that does not exist, such as
    /// `Previous` after a retirement, fails with [`StoreError::NotFound`] like a missing entry.
    async fn read_value(
        &self,
        name: &EntryName,
        version: &VersionSelector,
    ) -> Result<StoredValue, StoreError>;

    /// Lists every version, including those without a stage, with creation dates.
    async fn list_versions(&self, name: &EntryName) -> Result<Vec<VersionInfo>, StoreError>;

    /// Writes a new current version; the old current becomes previous.
    ///
    /// Returns `created: false` when the version of `token` is already current. Fails with
    /// [`StoreError::AlreadyExists`] when that version exists but is not current, because a
    /// retired secret value must not come back.
    async fn put_version(
        &self,
        name: &EntryName,
        value: &Credential,
        token: &RequestToken,
    ) -> Result<PutOutcome, StoreError>;

    /// Changes description, encryption key or tags.
    async fn update_metadata(
        &self,
        name: &EntryName,
        change: &MetadataChange,
    ) -> Result<(), StoreError>;

    /// Ends the changeover: the previous version stops being served as previous but stays in
    /// the history. Returns the retired version, or `None` when there was no previous one.
    async fn retire_previous(&self, name: &EntryName) -> Result<Option<VersionId>, StoreError>;

    /// Makes the current value unusable at once, for a suspected compromise. Readers of the
    /// current version get no secret until a new version is put; the previous version is not
    /// served either. Retrying after an interruption finishes the same revocation.
    async fn revoke_current(&self, name: &EntryName) -> Result<Revocation, StoreError>;

    /// Deletes the entry: recoverable unless `mode` is [`DeleteMode::Force`].
    async fn delete(&self, name: &EntryName, mode: DeleteMode) -> Result<Deletion, StoreError>;

    /// Cancels a scheduled deletion.
    async fn restore(&self, name: &EntryName) -> Result<(), StoreError>;

    /// Lists entries whose tag `key` equals `value` exactly, including entries scheduled for
    /// deletion, since those can come back.
    async fn list_by_tag(&self, key: &str, value: &str) -> Result<Vec<EntryState>, StoreError>;

    /// Returns the API calls made so far, by operation name.
    fn call_counts(&self) -> CallCounts;
}
