//! Secrets Manager store against a local moto_server: lifecycle, idempotent retries, error
//! mapping, secrecy of values in errors and logs, and API call counts per operation.
#![cfg(feature = "aws")]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
use secrecy::{ExposeSecret, SecretString};
use sips::stores::aws::{AssumeRole, AwsSecretsStore, AwsSettings, StaticCredentials};
use sips::stores::{
    CallCounts, Credential, DeleteMode, EntryMetadata, EntryName, MetadataChange, NewEntry,
    RequestToken, SecretStore, StoreError, VersionContent, VersionSelector, VersionStage, tag,
};
use support::moto::{self, MotoServer};

/// A value planted to check that no error or log line ever shows it.
const PLANTED_SECRET: &str = "planted-Secret-7f3a9c1e";

fn settings(server: &MotoServer) -> AwsSettings {
    AwsSettings {
        endpoint_url: Some(server.endpoint_url()),
        ..settings_without_server()
    }
}

fn settings_without_server() -> AwsSettings {
    AwsSettings {
        region: Some(moto::REGION.into()),
        endpoint_url: None,
        disable_imds: true,
        max_attempts: 2,
        static_credentials: Some(StaticCredentials {
            access_key_id: moto::ACCESS_KEY_ID.into(),
            secret_access_key: SecretString::from(moto::SECRET_ACCESS_KEY),
            session_token: None,
        }),
        ..AwsSettings::default()
    }
}

async fn connect(server: &MotoServer) -> AwsSecretsStore {
    AwsSecretsStore::connect(&settings(server))
        .await
        .expect("store connects")
}

/// Builds a plain SDK client for changes the store does not make, such as foreign entries.
fn raw_client(server: &MotoServer) -> aws_sdk_secretsmanager::Client {
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(moto::REGION))
        .endpoint_url(server.endpoint_url())
        .credentials_provider(Credentials::new(
            moto::ACCESS_KEY_ID,
            moto::SECRET_ACCESS_KEY,
            None,
            None,
            "moto",
        ))
        .build();
    aws_sdk_secretsmanager::Client::from_conf(config)
}

fn name(text: &str) -> EntryName {
    EntryName::new(text).expect("valid entry name")
}

fn credential(client_id: &str, secret: &str) -> Credential {
    Credential::new(client_id, SecretString::from(secret))
}

fn token_for(secret: &str) -> RequestToken {
    RequestToken::from_fingerprint(secret.as_bytes())
}

fn new_entry(entry: &str, client_id: &str, secret: &str) -> NewEntry {
    let mut metadata = EntryMetadata {
        description: Some("SIPS credential".into()),
        kms_key_id: None,
        tags: BTreeMap::from([(tag::ENVIRONMENT.to_owned(), "staging".to_owned())]),
    };
    metadata.set_deadline(
        tag::ROTATE_BY,
        time::macros::datetime!(2030-01-01 00:00 UTC),
    );
    NewEntry {
        name: name(entry),
        value: credential(client_id, secret),
        metadata,
        token: token_for(secret),
    }
}

fn secret_of(content: &VersionContent) -> &str {
    match content {
        VersionContent::Credential(credential) => credential.client_secret().expose_secret(),
        VersionContent::Revoked(_) => panic!("expected a credential, found a tombstone"),
    }
}

fn stages(list: &[VersionStage]) -> BTreeSet<VersionStage> {
    list.iter().cloned().collect()
}

fn assert_hides_secret(error: &StoreError) {
    let display = error.to_string();
    let debug = format!("{error:?}");
    assert!(
        !display.contains(PLANTED_SECRET),
        "Display shows the secret: {display}"
    );
    assert!(
        !debug.contains(PLANTED_SECRET),
        "Debug shows the secret: {debug}"
    );
}

#[tokio::test]
async fn create_describe_and_read_back() {
    let server = MotoServer::start();
    // Through the trait object, as resources hold stores.
    let store: Box<dyn SecretStore> = Box::new(connect(&server).await);
    let entry = new_entry("sips/client-1/staging", "client-1", "secret-one");
    let token = entry.token.clone();

    let created = store.create(entry).await.expect("create");
    let state = store
        .describe(&name("sips/client-1/staging"))
        .await
        .expect("describe");
    let value = store
        .read_value(&name("sips/client-1/staging"), &VersionSelector::Current)
        .await;

    assert!(!created.adopted);
    assert!(created.state.id.starts_with("arn:aws:secretsmanager:"));
    assert_eq!(state.id, created.state.id);
    assert_eq!(state.description.as_deref(), Some("SIPS credential"));
    assert_eq!(state.client_id(), Some("client-1"));
    assert!(state.is_managed_for("client-1"));
    assert_eq!(
        state.tags.get(tag::ENVIRONMENT).map(String::as_str),
        Some("staging")
    );
    assert_eq!(
        state.deadline(tag::ROTATE_BY),
        Some(time::macros::datetime!(2030-01-01 00:00 UTC))
    );
    assert_eq!(
        state.current().map(|v| v.id.clone()),
        Some(token.version_id())
    );
    assert_eq!(state.previous(), None);
    assert!(!state.is_scheduled_for_deletion());
    let value = value.expect("read current");
    assert_eq!(value.version_id, token.version_id());
    assert_eq!(secret_of(&value.content), "secret-one");
    let counts = store.call_counts();
    assert_eq!(counts.get("CreateSecret"), 1);
    assert_eq!(counts.get("DescribeSecret"), 1);
    assert_eq!(counts.get("GetSecretValue"), 1);
}

#[tokio::test]
async fn put_version_keeps_previous() {
    let server = MotoServer::start();
    let store = connect(&server).await;
    let entry_name = name("sips/client-1/staging");
    store
        .create(new_entry(entry_name.as_str(), "client-1", "secret-one"))
        .await
        .unwrap();

    let put = store
        .put_version(
            &entry_name,
            &credential("client-1", "secret-two"),
            &token_for("secret-two"),
        )
        .await
        .expect("put");
    let state = store.describe(&entry_name).await.unwrap();
    let previous = store
        .read_value(&entry_name, &VersionSelector::Previous)
        .await
        .unwrap();
    let current = store
        .read_value(&entry_name, &VersionSelector::Current)
        .await
        .unwrap();

    assert!(put.created);
    assert_eq!(put.version_id, token_for("secret-two").version_id());
    assert_eq!(state.current().map(|v| &v.id), Some(&put.version_id));
    assert_eq!(
        state.previous().map(|v| v.id.clone()),
        Some(token_for("secret-one").version_id())
    );
    assert_eq!(secret_of(&previous.content), "secret-one");
    assert_eq!(previous.stages, stages(&[VersionStage::Previous]));
    assert_eq!(secret_of(&current.content), "secret-two");
}

#[tokio::test]
async fn retire_previous_keeps_history() {
    let server = MotoServer::start();
    let store = connect(&server).await;
    let entry_name = name("sips/client-1/staging");
    store
        .create(new_entry(entry_name.as_str(), "client-1", "secret-one"))
        .await
        .unwrap();
    let new_value = credential("client-1", "secret-two");
    store
        .put_version(&entry_name, &new_value, &token_for("secret-two"))
        .await
        .unwrap();
    let old_version = token_for("secret-one").version_id();

    let retired = store.retire_previous(&entry_name).await.expect("retire");
    let again = store
        .retire_previous(&entry_name)
        .await
        .expect("retire again");
    let state = store.describe(&entry_name).await.unwrap();
    let history = store.list_versions(&entry_name).await.unwrap();
    let old_value = store
        .read_value(&entry_name, &VersionSelector::Id(old_version.clone()))
        .await;

    assert_eq!(retired, Some(old_version.clone()));
    assert_eq!(again, None);
    assert_eq!(state.previous(), None);
    assert!(
        state.version(&old_version).is_none(),
        "retired version still staged"
    );
    let listed = history
        .iter()
        .find(|v| v.id == old_version)
        .expect("old version listed");
    assert!(listed.stages.is_empty());
    assert!(listed.created_at.is_some());
    assert_eq!(
        secret_of(&old_value.expect("old value by id").content),
        "secret-one"
    );
}

#[tokio::test]
async fn create_retry_with_same_token() {
    let server = MotoServer::start();
    let store = connect(&server).await;
    let entry_name = name("sips/client-1/staging");
    store
        .create(new_entry(entry_name.as_str(), "client-1", "secret-one"))
        .await
        .unwrap();

    let retried = store
        .create(new_entry(entry_name.as_str(), "client-1", "secret-one"))
        .await;
    let history = store.list_versions(&entry_name).await.unwrap();

    let retried = retried.expect("retried create succeeds");
    assert_eq!(
        retried.state.current().map(|v| v.id.clone()),
        Some(token_for("secret-one").version_id())
    );
    assert_eq!(
        history.len(),
        1,
        "a retry must not add a version: {history:?}"
    );
}

#[tokio::test]
async fn create_retry_after_rotation() {
    let server = MotoServer::start();
    let store = connect(&server).await;
    let entry_name = name("sips/client-1/staging");
    store
        .create(new_entry(entry_name.as_str(), "client-1", "secret-one"))
        .await
        .unwrap();
    let second = credential("client-1", "secret-two");
    store
        .put_version(&entry_name, &second, &token_for("secret-two"))
        .await
        .unwrap();

    let retried = store
        .create(new_entry(entry_name.as_str(), "client-1", "secret-one"))
        .await;

    let retried = retried.expect("retried create succeeds");
    let current = retried.state.current().map(|v| v.id.clone());
    assert_eq!(current, Some(token_for("secret-two").version_id()));
    assert!(retried.adopted);
}

#[tokio::test]
async fn create_conflicts_are_already_exists() {
    let server = MotoServer::start();
    let store = connect(&server).await;
    let raw = raw_client(&server);
    store
        .create(new_entry("sips/ours", "client-1", "secret-one"))
        .await
        .unwrap();
    raw.create_secret()
        .name("sips/foreign")
        .secret_string("{}")
        .send()
        .await
        .unwrap();

    let mut reused_token = new_entry("sips/ours", "client-1", PLANTED_SECRET);
    reused_token.token = token_for("secret-one");

    let other_value = store
        .create(new_entry("sips/ours", "client-1", PLANTED_SECRET))
        .await;
    let before = store.call_counts();
    let same_token_other_value = store.create(reused_token).await;
    let value_check_calls = store.call_counts().since(&before);
    let foreign = store
        .create(new_entry("sips/foreign", "client-1", PLANTED_SECRET))
        .await;

    // The stored value under the reused token is read back and compared before adopting.
    assert_eq!(value_check_calls.get("GetSecretValue"), 1);
    for result in [other_value, same_token_other_value, foreign] {
        let error = result.expect_err("create on a taken name must fail");
        assert!(
            matches!(error, StoreError::AlreadyExists { .. }),
            "{error:?}"
        );
        assert!(
            error
                .to_string()
                .contains("import it or choose another name"),
            "{error}"
        );
        assert_hides_secret(&error);
    }
}

#[tokio::test]
async fn put_retry_with_same_token() {
    let server = MotoServer::start();
    let store = connect(&server).await;
    let entry_name = name("sips/client-1/staging");
    store
        .create(new_entry(entry_name.as_str(), "client-1", "secret-one"))
        .await
        .unwrap();
    let value = credential("client-1", "secret-two");
    let token = token_for("secret-two");
    store
        .put_version(&entry_name, &value, &token)
        .await
        .unwrap();
    let before = store.call_counts();

    let retried = store
        .put_version(&entry_name, &value, &token)
        .await
        .expect("retried put");
    let calls = store.call_counts().since(&before);
    let history = store.list_versions(&entry_name).await.unwrap();

    assert!(!retried.created);
    assert_eq!(retried.version_id, token.version_id());
    assert_eq!(calls.get("DescribeSecret"), 1);
    assert_eq!(calls.get("PutSecretValue"), 0);
    assert_eq!(history.len(), 2, "{history:?}");
}

#[tokio::test]
async fn put_rejects_reused_old_value() {
    let server = MotoServer::start();
    let store = connect(&server).await;
    let entry_name = name("sips/client-1/staging");
    store
        .create(new_entry(entry_name.as_str(), "client-1", "secret-one"))
        .await
        .unwrap();
    let second = credential("client-1", "secret-two");
    store
        .put_version(&entry_name, &second, &token_for("secret-two"))
        .await
        .unwrap();

    let old = credential("client-1", "secret-one");
    let result = store
        .put_version(&entry_name, &old, &token_for("secret-one"))
        .await;

    let error = result.expect_err("an old value must not become current again");
    assert!(
        matches!(error, StoreError::AlreadyExists { .. }),
        "{error:?}"
    );
    let state = store.describe(&entry_name).await.unwrap();
    assert_eq!(
        state.current().map(|v| v.id.clone()),
        Some(token_for("secret-two").version_id())
    );
}

#[tokio::test]
async fn scheduled_name_blocks_create_until_restore() {
    let server = MotoServer::start();
    let store = connect(&server).await;
    let entry_name = name("sips/client-1/production");
    store
        .create(new_entry(entry_name.as_str(), "client-1", "secret-one"))
        .await
        .unwrap();
    store
        .delete(&entry_name, DeleteMode::Recoverable { window_days: 7 })
        .await
        .unwrap();

    let recreate = store
        .create(new_entry(entry_name.as_str(), "client-1", PLANTED_SECRET))
        .await;
    let put = store
        .put_version(
            &entry_name,
            &credential("client-1", PLANTED_SECRET),
            &token_for(PLANTED_SECRET),
        )
        .await;
    let read = store
        .read_value(&entry_name, &VersionSelector::Current)
        .await;
    store.restore(&entry_name).await.expect("restore");
    let restored = store.describe(&entry_name).await.unwrap();
    let value = store
        .read_value(&entry_name, &VersionSelector::Current)
        .await;

    for result in [recreate.map(|_| ()), put.map(|_| ()), read.map(|_| ())] {
        let error = result.expect_err("operations on a scheduled entry must fail");
        assert!(
            matches!(error, StoreError::ScheduledForDeletion { .. }),
            "{error:?}"
        );
        assert_hides_secret(&error);
    }
    assert!(!restored.is_scheduled_for_deletion());
    assert_eq!(
        secret_of(&value.expect("value after restore").content),
        "secret-one"
    );
}

#[tokio::test]
async fn delete_is_recoverable_unless_forced() {
    let server = MotoServer::start();
    let store = connect(&server).await;
    let entry_name = name("sips/client-1/production");
    store
        .create(new_entry(entry_name.as_str(), "client-1", "secret-one"))
        .await
        .unwrap();
    let before = store.call_counts();

    let too_short = store
        .delete(&entry_name, DeleteMode::Recoverable { window_days: 3 })
        .await;
    let calls_for_bad_window = store.call_counts().since(&before);
    let deletion = store
        .delete(&entry_name, DeleteMode::Recoverable { window_days: 7 })
        .await;
    let scheduled = store.describe(&entry_name).await.unwrap();
    let repeated = store
        .delete(&entry_name, DeleteMode::Recoverable { window_days: 7 })
        .await;
    let forced = store.delete(&entry_name, DeleteMode::Force).await;
    let after_force = store.describe(&entry_name).await;

    assert!(
        matches!(too_short, Err(StoreError::InvalidInput { .. })),
        "{too_short:?}"
    );
    assert_eq!(calls_for_bad_window.total(), 0);
    let deletion_date = deletion
        .expect("recoverable delete")
        .deletion_date
        .expect("date");
    let days = (deletion_date - time::OffsetDateTime::now_utc()).whole_days();
    assert!((6..=7).contains(&days), "deletion in {days} days");
    assert!(scheduled.is_scheduled_for_deletion());
    assert!(repeated.is_ok(), "repeated delete: {repeated:?}");
    assert_eq!(forced.expect("forced delete").deletion_date, None);
    assert!(
        matches!(after_force, Err(StoreError::NotFound { .. })),
        "{after_force:?}"
    );
}

#[tokio::test]
async fn update_metadata_changes_tags() {
    let server = MotoServer::start();
    let store = connect(&server).await;
    let entry_name = name("sips/client-1/staging");
    store
        .create(new_entry(entry_name.as_str(), "client-1", "secret-one"))
        .await
        .unwrap();
    let change = MetadataChange {
        description: Some("rotated credential".into()),
        kms_key_id: None,
        set_tags: BTreeMap::from([("team".to_owned(), "payments".to_owned())]),
        remove_tags: BTreeSet::from([tag::ROTATE_BY.to_owned()]),
    };
    let before = store.call_counts();

    store
        .update_metadata(&entry_name, &change)
        .await
        .expect("update");
    let calls = store.call_counts().since(&before);
    let state = store.describe(&entry_name).await.unwrap();

    assert_eq!(state.description.as_deref(), Some("rotated credential"));
    assert_eq!(state.tags.get("team").map(String::as_str), Some("payments"));
    assert!(!state.tags.contains_key(tag::ROTATE_BY));
    assert_eq!(state.client_id(), Some("client-1"));
    assert_eq!(calls.get("UpdateSecret"), 1);
    assert_eq!(calls.get("TagResource"), 1);
    assert_eq!(calls.get("UntagResource"), 1);
}

#[tokio::test]
async fn list_by_client_id_is_exact() {
    let server = MotoServer::start();
    let store = connect(&server).await;
    let raw = raw_client(&server);
    store
        .create(new_entry("sips/a/staging", "client-a", "s1"))
        .await
        .unwrap();
    store
        .create(new_entry("sips/a/production", "client-a", "s2"))
        .await
        .unwrap();
    store
        .create(new_entry("sips/ab/staging", "client-ab", "s3"))
        .await
        .unwrap();
    store
        .create(new_entry("sips/b/staging", "client-b", "s4"))
        .await
        .unwrap();
    // Key and value on different tags must not match.
    let crossed = [
        aws_sdk_secretsmanager::types::Tag::builder()
            .key(tag::CLIENT_ID)
            .value("x")
            .build(),
        aws_sdk_secretsmanager::types::Tag::builder()
            .key("other")
            .value("client-a")
            .build(),
    ];
    raw.create_secret()
        .name("sips/crossed")
        .secret_string("{}")
        .set_tags(Some(crossed.to_vec()))
        .send()
        .await
        .unwrap();
    store
        .delete(
            &name("sips/a/production"),
            DeleteMode::Recoverable { window_days: 7 },
        )
        .await
        .unwrap();

    let found = store
        .list_by_tag(tag::CLIENT_ID, "client-a")
        .await
        .expect("list");

    let names: BTreeSet<&str> = found.iter().map(|state| state.name.as_str()).collect();
    assert_eq!(
        names,
        BTreeSet::from(["sips/a/production", "sips/a/staging"])
    );
    let scheduled = found
        .iter()
        .find(|state| state.name == "sips/a/production")
        .unwrap();
    assert!(scheduled.is_scheduled_for_deletion());
    assert!(found.iter().all(|state| state.current().is_some()));
}

#[tokio::test]
async fn missing_entry_is_not_found() {
    let server = MotoServer::start();
    let store = connect(&server).await;
    let missing = name("sips/missing");
    let value = credential("client-1", PLANTED_SECRET);

    let describe = store.describe(&missing).await.map(|_| ());
    let read = store
        .read_value(&missing, &VersionSelector::Current)
        .await
        .map(|_| ());
    let put = store
        .put_version(&missing, &value, &token_for(PLANTED_SECRET))
        .await
        .map(|_| ());
    let retire = store.retire_previous(&missing).await.map(|_| ());
    let revoke = store.revoke_current(&missing).await.map(|_| ());
    let delete = store
        .delete(&missing, DeleteMode::Recoverable { window_days: 7 })
        .await
        .map(|_| ());
    let restore = store.restore(&missing).await;

    for result in [describe, read, put, retire, revoke, delete, restore] {
        let error = result.expect_err("operation on a missing entry must fail");
        assert!(matches!(error, StoreError::NotFound { .. }), "{error:?}");
        assert!(
            error.service().and_then(|s| s.code.as_deref()) == Some("ResourceNotFoundException")
        );
        assert!(error.to_string().contains("sips/missing"), "{error}");
        assert_hides_secret(&error);
    }
}

#[tokio::test]
async fn malformed_value_error_hides_content() {
    let server = MotoServer::start();
    let store = connect(&server).await;
    let raw = raw_client(&server);
    let broken = format!("{{\"client_secret\": \"{PLANTED_SECRET}\"");
    raw.create_secret()
        .name("sips/broken")
        .secret_string(broken)
        .send()
        .await
        .unwrap();
    let no_id = format!("{{\"client_secret\": \"{PLANTED_SECRET}\"}}");
    raw.create_secret()
        .name("sips/no-id")
        .secret_string(no_id)
        .send()
        .await
        .unwrap();

    let broken = store
        .read_value(&name("sips/broken"), &VersionSelector::Current)
        .await;
    let no_id = store
        .read_value(&name("sips/no-id"), &VersionSelector::Current)
        .await;

    for result in [broken, no_id] {
        let error = result.expect_err("malformed document must fail");
        assert!(
            matches!(error, StoreError::MalformedValue { .. }),
            "{error:?}"
        );
        assert_hides_secret(&error);
    }
}

#[tokio::test]
async fn unreachable_endpoint_is_transient() {
    let closed_url = MotoServer::start().endpoint_url();
    let mut settings = AwsSettings {
        endpoint_url: Some(closed_url),
        ..settings_without_server()
    };
    settings.max_attempts = 1;
    let store = AwsSecretsStore::connect(&settings).await.unwrap();

    let result = store
        .create(new_entry("sips/unreachable", "client-1", PLANTED_SECRET))
        .await;

    let error = result.expect_err("a closed port must fail");
    assert!(matches!(error, StoreError::Transient { .. }), "{error:?}");
    assert!(error.is_retryable());
    assert_hides_secret(&error);
}

#[tokio::test]
async fn revoke_current_serves_tombstone() {
    let server = MotoServer::start();
    let store = connect(&server).await;
    let entry_name = name("sips/client-1/production");
    store
        .create(new_entry(entry_name.as_str(), "client-1", "secret-one"))
        .await
        .unwrap();
    let compromised = credential("client-1", "secret-two");
    store
        .put_version(&entry_name, &compromised, &token_for("secret-two"))
        .await
        .unwrap();
    let compromised_version = token_for("secret-two").version_id();
    let before = store.call_counts();

    let revocation = store.revoke_current(&entry_name).await.expect("revoke");
    let calls = store.call_counts().since(&before);
    let state = store.describe(&entry_name).await.unwrap();
    let current = store
        .read_value(&entry_name, &VersionSelector::Current)
        .await
        .unwrap();
    let previous = store
        .read_value(&entry_name, &VersionSelector::Previous)
        .await;

    assert_eq!(revocation.revoked_version, compromised_version);
    assert_eq!(
        state.current().map(|v| v.id.clone()),
        revocation.tombstone_version
    );
    assert_eq!(
        state.previous(),
        None,
        "no previous value may be served after a revocation"
    );
    assert_eq!(
        state.revoked().map(|v| v.id.clone()),
        Some(compromised_version.clone())
    );
    let VersionContent::Revoked(tombstone) = current.content else {
        panic!("current version must be a tombstone");
    };
    assert_eq!(tombstone.revoked_version, Some(compromised_version));
    assert_eq!(tombstone.client_id.as_deref(), Some("client-1"));
    assert!(
        previous.is_err(),
        "previous must not be readable: {previous:?}"
    );
    assert_eq!(calls.get("DescribeSecret"), 1);
    assert_eq!(calls.get("PutSecretValue"), 1);
    assert_eq!(calls.get("UpdateSecretVersionStage"), 2);
}

#[tokio::test]
async fn revoke_repeat_and_resume() {
    let server = MotoServer::start();
    let store = connect(&server).await;
    let raw = raw_client(&server);
    let entry_name = name("sips/client-1/production");
    store
        .create(new_entry(entry_name.as_str(), "client-1", "secret-one"))
        .await
        .unwrap();
    let first = store.revoke_current(&entry_name).await.unwrap();
    let before = store.call_counts();

    let repeated = store.revoke_current(&entry_name).await.expect("repeat");
    let repeat_calls = store.call_counts().since(&before);
    // Undo the last two steps, as if the first run stopped right after the tombstone put.
    let revoked = first.revoked_version.to_string();
    raw.update_secret_version_stage()
        .secret_id(entry_name.as_str())
        .version_stage("SIPSREVOKED")
        .remove_from_version_id(&revoked)
        .send()
        .await
        .unwrap();
    raw.update_secret_version_stage()
        .secret_id(entry_name.as_str())
        .version_stage("AWSPREVIOUS")
        .move_to_version_id(&revoked)
        .send()
        .await
        .unwrap();
    let resumed = store.revoke_current(&entry_name).await.expect("resume");
    let state = store.describe(&entry_name).await.unwrap();
    let replaced = credential("client-1", "secret-three");
    let put = store
        .put_version(&entry_name, &replaced, &token_for("secret-three"))
        .await;

    assert_eq!(repeated, first);
    assert_eq!(repeat_calls.get("DescribeSecret"), 1);
    assert_eq!(repeat_calls.total(), 1);
    assert_eq!(resumed, first);
    assert_eq!(state.previous(), None);
    assert_eq!(
        state.revoked().map(|v| v.id.clone()),
        Some(first.revoked_version.clone())
    );
    assert!(put.expect("put after revoke").created);
}

#[tokio::test]
async fn assume_role_through_local_sts() {
    let server = MotoServer::start();
    let mut settings = settings(&server);
    settings.assume_role = Some(AssumeRole {
        role_arn: "arn:aws:iam::123456789012:role/sips-test".into(),
        session_name: Some("sips-test".into()),
        external_id: Some("external-1".into()),
    });
    let store = AwsSecretsStore::connect(&settings).await.expect("connect");

    let created = store
        .create(new_entry("sips/assumed", "client-1", "secret-one"))
        .await;
    let state = store.describe(&name("sips/assumed")).await;

    assert!(created.is_ok(), "{created:?}");
    assert!(state.is_ok(), "{state:?}");
}

#[tokio::test]
async fn reset_clears_server() {
    let server = MotoServer::start();
    let store = connect(&server).await;
    store
        .create(new_entry("sips/reset", "client-1", "secret-one"))
        .await
        .unwrap();

    server.reset();
    let after = store.describe(&name("sips/reset")).await;

    assert!(
        matches!(after, Err(StoreError::NotFound { .. })),
        "{after:?}"
    );
}

/// Runs every operation once and prints its API calls, for benchmarks and the docs.
#[tokio::test]
async fn call_counts_per_operation() {
    let server = MotoServer::start();
    let store = connect(&server).await;
    let entry_name = name("sips/client-1/staging");
    let second = credential("client-1", "secret-two");
    let mut report: Vec<(&str, CallCounts)> = Vec::new();
    let mut measure = |label, before: CallCounts, store: &AwsSecretsStore| {
        report.push((label, store.call_counts().since(&before)));
    };

    let before = store.call_counts();
    store
        .create(new_entry(entry_name.as_str(), "client-1", "secret-one"))
        .await
        .unwrap();
    measure("create", before, &store);
    let before = store.call_counts();
    store.describe(&entry_name).await.unwrap();
    measure("describe", before, &store);
    let before = store.call_counts();
    store
        .read_value(&entry_name, &VersionSelector::Current)
        .await
        .unwrap();
    measure("read_value", before, &store);
    let before = store.call_counts();
    store
        .put_version(&entry_name, &second, &token_for("secret-two"))
        .await
        .unwrap();
    measure("put_version", before, &store);
    let before = store.call_counts();
    store
        .put_version(&entry_name, &second, &token_for("secret-two"))
        .await
        .unwrap();
    measure("put_version (retry)", before, &store);
    let before = store.call_counts();
    let change = MetadataChange {
        set_tags: BTreeMap::from([("team".to_owned(), "payments".to_owned())]),
        ..MetadataChange::default()
    };
    store.update_metadata(&entry_name, &change).await.unwrap();
    measure("update_metadata (tags)", before, &store);
    let before = store.call_counts();
    store.list_versions(&entry_name).await.unwrap();
    measure("list_versions", before, &store);
    let before = store.call_counts();
    store.retire_previous(&entry_name).await.unwrap();
    measure("retire_previous", before, &store);
    let before = store.call_counts();
    store.revoke_current(&entry_name).await.unwrap();
    measure("revoke_current", before, &store);
    let before = store.call_counts();
    store.list_by_tag(tag::CLIENT_ID, "client-1").await.unwrap();
    measure("list_by_tag", before, &store);
    let before = store.call_counts();
    store
        .delete(&entry_name, DeleteMode::Recoverable { window_days: 7 })
        .await
        .unwrap();
    measure("delete", before, &store);
    let before = store.call_counts();
    store.restore(&entry_name).await.unwrap();
    measure("restore", before, &store);

    for (label, calls) in &report {
        let detail: Vec<String> = calls.iter().map(|(op, n)| format!("{op}={n}")).collect();
        println!(
            "{label:<24} {:>2} calls: {}",
            calls.total(),
            detail.join(" ")
        );
    }
    let totals: BTreeMap<&str, u64> = report.iter().map(|(l, c)| (*l, c.total())).collect();
    assert_eq!(totals["describe"], 1);
    assert_eq!(totals["create"], 1);
    assert_eq!(totals["read_value"], 1);
    assert_eq!(totals["put_version"], 2);
    assert_eq!(totals["put_version (retry)"], 1);
    assert_eq!(totals["retire_previous"], 2);
    assert_eq!(totals["revoke_current"], 4);
}

/// Collects every tracing event, TRACE included, as (level, target, fields).
#[derive(Clone, Default)]
struct EventLog(Arc<Mutex<Vec<(tracing::Level, String, String)>>>);

struct FieldText(String);

impl tracing::field::Visit for FieldText {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!(" {}={value:?}", field.name()));
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for EventLog {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let mut fields = FieldText(String::new());
        event.record(&mut fields);
        let metadata = event.metadata();
        let record = (*metadata.level(), metadata.target().to_owned(), fields.0);
        self.0.lock().unwrap().push(record);
    }
}

#[tokio::test]
async fn logs_never_show_secret() {
    use tracing_subscriber::layer::SubscriberExt;

    let server = MotoServer::start();
    let log = EventLog::default();
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(log.clone()));
    let store = connect(&server).await;
    let entry_name = name("sips/client-1/staging");

    store
        .create(new_entry(entry_name.as_str(), "client-1", PLANTED_SECRET))
        .await
        .unwrap();
    let value = credential("client-1", &format!("{PLANTED_SECRET}-2"));
    store
        .put_version(&entry_name, &value, &token_for("second"))
        .await
        .unwrap();
    store
        .read_value(&entry_name, &VersionSelector::Current)
        .await
        .unwrap();

    let events = log.0.lock().unwrap();
    let leaks: Vec<_> = events
        .iter()
        .filter(|(_, _, text)| text.contains(PLANTED_SECRET))
        .map(|(level, target, _)| format!("{level} {target}"))
        .collect();
    assert!(leaks.is_empty(), "secret logged by: {leaks:?}");
    let our_calls = events
        .iter()
        .filter(|(level, _, text)| {
            *level == tracing::Level::DEBUG && text.contains("secrets manager call")
        })
        .count();
    assert_eq!(our_calls, 4, "one debug line per API call");
    assert!(
        events
            .iter()
            .any(|(_, _, text)| text.contains("operation=\"PutSecretValue\""))
    );
    println!(
        "{} events, {} of them TRACE lines from the SDK showing the secret",
        events.len(),
        leaks.len()
    );
}
