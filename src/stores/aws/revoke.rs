//! Revocation on Secrets Manager: a tombstone version replaces the current value, and the
//! revoked version keeps a `SIPSREVOKED` label for the audit trail.

use super::{AwsSecretsStore, convert};
use crate::stores::{
    EntryName, EntryState, RequestToken, Revocation, ServiceError, StoreError, Tombstone, VersionId,
};

impl AwsSecretsStore {
    pub(super) async fn revoke(&self, name: &EntryName) -> Result<Revocation, StoreError> {
        let state = self.describe_live(name, "PutSecretValue").await?;
        if let Some(revoked) = revoked_by_current(&state) {
            let tombstone = RequestToken::for_revocation(&revoked).version_id();
            return self
                .finish_revocation(name, &state, &revoked, tombstone)
                .await;
        }

        let Some(current) = state.current() else {
            return Err(StoreError::InvalidRequest {
                operation: "PutSecretValue",
                entry: name.to_string(),
                service: ServiceError::new(None, "the entry has no current version to revoke"),
            });
        };
        let revoked = current.id.clone();
        let token = RequestToken::for_revocation(&revoked);
        let tombstone = Tombstone {
            client_id: state.client_id().map(str::to_owned),
            revoked_version: Some(revoked.clone()),
        };
        self.put_document(name, &token, &tombstone.to_document())
            .await?;
        tracing::debug!(entry = %name, version = %revoked, "tombstone written over current version");

        self.finish_revocation(name, &state, &revoked, token.version_id())
            .await
    }

    async fn finish_revocation(
        &self,
        name: &EntryName,
        state: &EntryState,
        revoked: &VersionId,
        tombstone: VersionId,
    ) -> Result<Revocation, StoreError> {
        let holder = state.revoked().map(|version| &version.id);
        if holder != Some(revoked) {
            self.move_label(name, convert::SIPS_REVOKED, holder, Some(revoked))
                .await?;
        }

        // Right after the tombstone put the revoked version carries AWSPREVIOUS, which
        // `state`, read before the put, does not show.
        let fresh_put = state.current().map(|version| &version.id) == Some(revoked);
        let still_previous = state
            .previous()
            .is_some_and(|version| &version.id == revoked);
        if fresh_put || still_previous {
            self.move_label(name, convert::AWS_PREVIOUS, Some(revoked), None)
                .await?;
        }
        Ok(Revocation {
            revoked_version: revoked.clone(),
            tombstone_version: Some(tombstone),
        })
    }
}

/// The version that the current tombstone revoked, when the current version is one.
fn revoked_by_current(state: &EntryState) -> Option<VersionId> {
    let current = &state.current()?.id;
    state
        .versions
        .iter()
        .map(|version| &version.id)
        .find(|id| &RequestToken::for_revocation(id).version_id() == current)
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stores::VersionStage;
    use crate::stores::aws::test_state;

    #[test]
    fn revoked_by_current_finds_tombstone_source() {
        let revoked = VersionId::new("v1");
        let tombstone = RequestToken::for_revocation(&revoked);
        let current: &[VersionStage] = &[VersionStage::Current];
        let previous: &[VersionStage] = &[VersionStage::Previous];
        let state = test_state(&[], &[(tombstone.as_str(), current), ("v1", previous)]);

        assert_eq!(revoked_by_current(&state), Some(revoked));
    }

    #[test]
    fn revoked_by_current_ignores_plain_current() {
        let current: &[VersionStage] = &[VersionStage::Current];
        let previous: &[VersionStage] = &[VersionStage::Previous];
        let state = test_state(&[], &[("v2", current), ("v1", previous)]);

        assert_eq!(revoked_by_current(&state), None);
    }
}
