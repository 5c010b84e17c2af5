//! Key Vault store against the in-repository Key Vault test server, through the official
//! azure_security_keyvault_secrets client: lifecycle, stages, idempotent retries, soft delete,
//! error mapping, secrecy of values in errors and logs, and API call counts per operation.
#![cfg(feature = "azure")]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};

use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use azure_core::http::{ClientOptions, RetryOptions, Transport};
use azure_security_keyvault_secrets::models::SetSecretParameters;
use azure_security_keyvault_secrets::{SecretClient, SecretClientOptions};
use secrecy::{ExposeSecret, SecretString};
use sips::stores::azure::{
    AzureCredentialKind, AzureKeyVaultStore, AzureSettings, REQUEST_TOKEN_TAG, TestTransport,
};
use sips::stores::{
    CallCounts, Credential, DeleteMode, EntryMetadata, EntryName, MetadataChange, NewEntry,
    RequestToken, SecretStore, StoreError, VersionContent, VersionSelector, VersionStage, tag,
};
use support::keyvault::{self, KeyVaultServer};

/// A value planted to check that no error or log line ever shows it.
const PLANTED_SECRET: &str = "planted-Secret-7f3a9c1e";

/// A credential that returns a fixed token and records the scopes it was asked for.
#[derive(Debug, Default)]
struct TestToken {
    scopes: Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl TokenCredential for TestToken {
    async fn get_token(
        &self,
        scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        let mut seen = self.scopes.lock().unwrap();
        seen.extend(scopes.iter().map(|scope| scope.to_string()));
        let expires_on = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
        Ok(AccessToken::new(keyvault::TEST_TOKEN, expires_on))
    }
}

fn transport(server: &KeyVaultServer, address: SocketAddr) -> TestTransport {
    TestTransport {
        resolve: BTreeMap::from([(keyvault::VAULT_HOST.to_owned(), address)]),
        ca_pem: Some(server.ca_pem().to_owned()),
    }
}

fn settings(server: &KeyVaultServer) -> AzureSettings {
    let mut settings = AzureSettings::new(server.vault_url());
    settings.tenant_id = Some(keyvault::TENANT_ID.into());
    settings.credential = AzureCredentialKind::AccessToken {
        token: SecretString::from(keyvault::TEST_TOKEN),
    };
    settings.max_retries = 0;
    settings.test_transport = Some(transport(server, server.address()));
    settings
}

fn connect(server: &KeyVaultServer) -> AzureKeyVaultStore {
    AzureKeyVaultStore::connect_with_credential(&settings(server), Arc::new(TestToken::default()))
        .expect("store connects")
}

/// Builds a plain client for changes the store does not make, such as foreign secrets.
fn raw_client(server: &KeyVaultServer) -> SecretClient {
    let ca = reqwest::Certificate::from_pem_bundle(server.ca_pem().as_bytes()).unwrap();
    let http = reqwest::Client::builder()
        .resolve(keyvault::VAULT_HOST, server.address())
        .tls_certs_only(ca)
        .build()
        .unwrap();
    let options = SecretClientOptions {
        client_options: ClientOptions {
            transport: Some(Transport::new(Arc::new(http))),
            retry: RetryOptions::none(),
            ..ClientOptions::default()
        },
        ..SecretClientOptions::default()
    };
    let credential = Arc::new(TestToken::default());
    SecretClient::new(&server.vault_url(), credential, Some(options)).unwrap()
}

async fn raw_set(server: &KeyVaultServer, name: &str, value: &str, tags: &[(&str, &str)]) {
    let parameters = SetSecretParameters {
        value: Some(value.to_owned()),
        tags: Some(
            tags.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ),
        ..SetSecretParameters::default()
    };
    raw_client(server)
        .set_secret(name, parameters.try_into().unwrap(), None)
        .await
        .expect("raw set");
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
        tag::ISSUED_AT,
        time::macros::datetime!(2029-07-01 00:00 UTC),
    );
    metadata.set_deadline(
        tag::ROTATE_BY,
        time::macros::datetime!(2029-10-01 00:00 UTC),
    );
    metadata.set_deadline(
        tag::EXPIRES_AT,
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

fn code_of(error: &StoreError) -> Option<&str> {
    error.service().and_then(|service| service.code.as_deref())
}

#[tokio::test]
async fn create_describe_and_read_back() {
    let server = KeyVaultServer::start();
    let credential = Arc::new(TestToken::default());
    let store = AzureKeyVaultStore::connect_with_credential(&settings(&server), credential.clone())
        .expect("store connects");
    // Through the trait object, as resources hold stores.
    let store: Box<dyn SecretStore> = Box::new(store);
    let entry_name = name("sips-client-1-staging");

    let created = store
        .create(new_entry(entry_name.as_str(), "client-1", "secret-one"))
        .await
        .expect("create");
    let state = store.describe(&entry_name).await.expect("describe");
    let value = store
        .read_value(&entry_name, &VersionSelector::Current)
        .await;

    assert_eq!(store.kind(), "azure-key-vault");
    assert!(!created.adopted);
    assert_eq!(
        created.state.id,
        "https://sipstest.vault.azure.net/secrets/sips-client-1-staging"
    );
    assert_eq!(state.id, created.state.id);
    assert_eq!(state.description.as_deref(), Some("SIPS credential"));
    assert_eq!(state.client_id(), Some("client-1"));
    assert!(state.is_managed_for("client-1"));
    assert_eq!(
        state.tags.get(tag::ENVIRONMENT).map(String::as_str),
        Some("staging")
    );
    assert!(!state.tags.contains_key(REQUEST_TOKEN_TAG));
    assert_eq!(
        state.deadline(tag::ROTATE_BY),
        Some(time::macros::datetime!(2029-10-01 00:00 UTC))
    );
    let current = state.current().expect("current version");
    assert_eq!(Some(&current.id), created.state.current().map(|v| &v.id));
    assert!(current.enabled);
    assert_eq!(
        current.not_before,
        Some(time::macros::datetime!(2029-07-01 00:00 UTC))
    );
    assert_eq!(
        current.expires_at,
        Some(time::macros::datetime!(2030-01-01 00:00 UTC))
    );
    assert_eq!(state.previous(), None);
    assert!(!state.is_scheduled_for_deletion());
    let value = value.expect("read current");
    assert_eq!(value.version_id, current.id);
    assert_eq!(value.stages, BTreeSet::from([VersionStage::Current]));
    assert_eq!(secret_of(&value.content), "secret-one");
    let counts = store.call_counts();
    assert_eq!(counts.get("GetSecretVersions"), 2);
    assert_eq!(counts.get("GetDeletedSecret"), 1);
    assert_eq!(counts.get("SetSecret"), 1);
    assert_eq!(counts.get("GetSecret"), 1);
    assert_eq!(
        *credential.scopes.lock().unwrap(),
        vec!["https://vault.azure.net/.default".to_owned()],
        "the scope comes from the challenge"
    );
}

#[tokio::test]
async fn requests_follow_challenge_and_api_version() {
    let server = KeyVaultServer::start();
    let store = connect(&server);
    store
        .create(new_entry("sips-client-1-staging", "client-1", "secret-one"))
        .await
        .unwrap();

    let requests = server.requests();

    let first = &requests[0];
    assert!(!first.authorized, "the first request carries no token");
    assert_eq!(first.status, 401);
    assert!(requests[1..].iter().all(|request| request.authorized));
    assert!(
        requests
            .iter()
            .all(|request| request.api_version.as_deref() == Some(keyvault::API_VERSION))
    );
    let set = requests
        .iter()
        .find(|request| request.method == "PUT")
        .expect("a set request");
    assert!(set.has_body);
    let body: serde_json::Value = serde_json::from_str(&set.body).unwrap();
    assert_eq!(body["contentType"], "application/json");
    assert_eq!(
        body["value"],
        r#"{"client_id":"client-1","client_secret":"secret-one"}"#
    );
    assert_eq!(body["attributes"]["exp"], 1893456000);
}

#[tokio::test]
async fn put_version_keeps_previous() {
    let server = KeyVaultServer::start();
    let store = connect(&server);
    let entry_name = name("sips-client-1-staging");
    let created = store
        .create(new_entry(entry_name.as_str(), "client-1", "secret-one"))
        .await
        .unwrap();
    let first = created.state.current().unwrap().id.clone();

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
    assert_ne!(put.version_id, first);
    assert_eq!(state.current().map(|v| &v.id), Some(&put.version_id));
    assert_eq!(state.previous().map(|v| v.id.clone()), Some(first.clone()));
    assert!(state.previous().unwrap().enabled);
    assert_eq!(state.client_id(), Some("client-1"), "tags carried forward");
    assert_eq!(state.description.as_deref(), Some("SIPS credential"));
    assert_eq!(secret_of(&previous.content), "secret-one");
    assert_eq!(previous.version_id, first);
    assert_eq!(previous.stages, BTreeSet::from([VersionStage::Previous]));
    assert_eq!(secret_of(&current.content), "secret-two");
}

#[tokio::test]
async fn retire_previous_disables_version() {
    let server = KeyVaultServer::start();
    let store = connect(&server);
    let entry_name = name("sips-client-1-staging");
    let created = store
        .create(new_entry(entry_name.as_str(), "client-1", "secret-one"))
        .await
        .unwrap();
    let old_version = created.state.current().unwrap().id.clone();
    store
        .put_version(
            &entry_name,
            &credential("client-1", "secret-two"),
            &token_for("secret-two"),
        )
        .await
        .unwrap();

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
    let previous = store
        .read_value(&entry_name, &VersionSelector::Previous)
        .await;

    assert_eq!(retired, Some(old_version.clone()));
    assert_eq!(again, None);
    assert_eq!(state.previous(), None);
    assert!(state.current().is_some());
    let listed = history
        .iter()
        .find(|v| v.id == old_version)
        .expect("old version listed");
    assert!(listed.stages.is_empty());
    assert!(
        !listed.enabled,
        "a retired version is disabled, not deleted"
    );
    assert!(listed.created_at.is_some());
    assert_eq!(history.len(), 2);
    let error = old_value.expect_err("a disabled version is not readable");
    assert!(
        matches!(error, StoreError::InvalidRequest { .. }),
        "{error:?}"
    );
    assert_eq!(code_of(&error), Some("SecretDisabled"));
    assert!(
        matches!(previous, Err(StoreError::NotFound { .. })),
        "{previous:?}"
    );
}

#[tokio::test]
async fn create_retry_with_same_token() {
    let server = KeyVaultServer::start();
    let store = connect(&server);
    let entry_name = name("sips-client-1-staging");
    store
        .create(new_entry(entry_name.as_str(), "client-1", "secret-one"))
        .await
        .unwrap();

    let retried = store
        .create(new_entry(entry_name.as_str(), "client-1", "secret-one"))
        .await;
    let history = store.list_versions(&entry_name).await.unwrap();
    let other_value = store
        .create(new_entry(entry_name.as_str(), "client-1", "secret-other"))
        .await;
    let other_client = store
        .create(new_entry(entry_name.as_str(), "client-2", "secret-one"))
        .await;

    let retried = retried.expect("retried create succeeds");
    assert!(retried.adopted);
    assert_eq!(history.len(), 1, "no second version written");
    for result in [other_value, other_client] {
        let error = result.expect_err("a different create must not adopt");
        assert!(
            matches!(error, StoreError::AlreadyExists { .. }),
            "{error:?}"
        );
    }
}

#[tokio::test]
async fn create_on_foreign_secret_fails() {
    let server = KeyVaultServer::start();
    let store = connect(&server);
    raw_set(
        &server,
        "sips-foreign",
        PLANTED_SECRET,
        &[("owner", "someone")],
    )
    .await;

    let result = store
        .create(new_entry("sips-foreign", "client-1", "secret-one"))
        .await;
    let versions = store.list_versions(&name("sips-foreign")).await.unwrap();

    let error = result.expect_err("a foreign secret must not be taken over");
    assert!(
        matches!(error, StoreError::AlreadyExists { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("import it"), "{error}");
    assert_hides_secret(&error);
    assert_eq!(versions.len(), 1, "no version added to the foreign secret");
}

#[tokio::test]
async fn put_retry_with_same_token() {
    let server = KeyVaultServer::start();
    let store = connect(&server);
    let entry_name = name("sips-client-1-staging");
    store
        .create(new_entry(entry_name.as_str(), "client-1", "secret-one"))
        .await
        .unwrap();
    let value = credential("client-1", "secret-two");
    let first = store
        .put_version(&entry_name, &value, &token_for("secret-two"))
        .await
        .unwrap();
    let before = store.call_counts();

    let retried = store
        .put_version(&entry_name, &value, &token_for("secret-two"))
        .await
        .expect("retried put");
    let retry_calls = store.call_counts().since(&before);
    store
        .put_version(
            &entry_name,
            &credential("client-1", "secret-three"),
            &token_for("secret-three"),
        )
        .await
        .unwrap();
    let stale = store
        .put_version(&entry_name, &value, &token_for("secret-two"))
        .await;
    let history = store.list_versions(&entry_name).await.unwrap();

    assert!(!retried.created);
    assert_eq!(retried.version_id, first.version_id);
    assert_eq!(retry_calls.total(), 1);
    assert_eq!(retry_calls.get("GetSecretVersions"), 1);
    let error = stale.expect_err("an old token must not make its value current again");
    assert!(
        matches!(error, StoreError::AlreadyExists { .. }),
        "{error:?}"
    );
    assert_eq!(history.len(), 3);
}

#[tokio::test]
async fn scheduled_entry_reports_deletion() {
    let server = KeyVaultServer::start();
    let store = connect(&server);
    let entry_name = name("sips-client-1-production");
    store
        .create(new_entry(entry_name.as_str(), "client-1", "secret-one"))
        .await
        .unwrap();
    store
        .delete(&entry_name, DeleteMode::Recoverable { window_days: 7 })
        .await
        .unwrap();

    let scheduled = store.describe(&entry_name).await.expect("describe deleted");
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
    let retire = store.retire_previous(&entry_name).await;
    store.restore(&entry_name).await.expect("restore");
    let restored = store.describe(&entry_name).await.unwrap();
    let value = store
        .read_value(&entry_name, &VersionSelector::Current)
        .await;

    assert!(scheduled.is_scheduled_for_deletion());
    assert_eq!(scheduled.client_id(), Some("client-1"));
    assert!(scheduled.current().is_some());
    let results = [
        recreate.map(|_| ()),
        put.map(|_| ()),
        read.map(|_| ()),
        retire.map(|_| ()),
    ];
    for result in results {
        let error = result.expect_err("operations on a soft-deleted entry must fail");
        assert!(
            matches!(
                error,
                StoreError::ScheduledForDeletion {
                    deletion_date: Some(_),
                    ..
                }
            ),
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
async fn delete_purges_only_when_configured() {
    let server = KeyVaultServer::start();
    let store = connect(&server);
    let entry_name = name("sips-client-1-production");
    store
        .create(new_entry(entry_name.as_str(), "client-1", "secret-one"))
        .await
        .unwrap();
    let before = store.call_counts();

    let forced = store.delete(&entry_name, DeleteMode::Force).await;
    let calls_for_refused_force = store.call_counts().since(&before);
    let deletion = store
        .delete(&entry_name, DeleteMode::Recoverable { window_days: 7 })
        .await;
    let repeated = store
        .delete(&entry_name, DeleteMode::Recoverable { window_days: 7 })
        .await;
    let scheduled = store.describe(&entry_name).await.unwrap();

    let error = forced.expect_err("a forced delete needs purge_on_delete");
    assert!(
        matches!(error, StoreError::InvalidInput { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("purge_on_delete"), "{error}");
    assert_eq!(calls_for_refused_force.total(), 0);
    let deletion_date = deletion
        .expect("recoverable delete")
        .deletion_date
        .expect("date");
    let days = (deletion_date - time::OffsetDateTime::now_utc()).whole_days();
    assert!((89..=90).contains(&days), "purge in {days} days");
    assert_eq!(
        repeated.expect("repeated delete").deletion_date,
        Some(deletion_date)
    );
    assert!(scheduled.is_scheduled_for_deletion());
    assert!(
        !server.requests().iter().any(
            |request| request.method == "DELETE" && request.path.starts_with("/deletedsecrets")
        ),
        "nothing purged"
    );
}

#[tokio::test]
async fn forced_delete_purges() {
    let server = KeyVaultServer::start();
    let mut settings = settings(&server);
    settings.purge_on_delete = true;
    let store =
        AzureKeyVaultStore::connect_with_credential(&settings, Arc::new(TestToken::default()))
            .unwrap();
    let purged = name("sips-purged");
    let protected = name("sips-protected");
    store
        .create(new_entry(purged.as_str(), "client-1", "secret-one"))
        .await
        .unwrap();
    store
        .create(new_entry(protected.as_str(), "client-1", "secret-two"))
        .await
        .unwrap();

    let forced = store.delete(&purged, DeleteMode::Force).await;
    let after_purge = store.describe(&purged).await;
    let recreated = store
        .create(new_entry(purged.as_str(), "client-1", "secret-three"))
        .await;
    server.set_purge_protection(true);
    let refused = store.delete(&protected, DeleteMode::Force).await;
    let still_deleted = store.describe(&protected).await.unwrap();

    assert_eq!(forced.expect("forced delete").deletion_date, None);
    assert!(
        matches!(after_purge, Err(StoreError::NotFound { .. })),
        "{after_purge:?}"
    );
    assert!(recreated.is_ok(), "{recreated:?}");
    let error = refused.expect_err("purge protection refuses the purge");
    assert!(
        matches!(error, StoreError::InvalidRequest { .. }),
        "{error:?}"
    );
    assert_eq!(code_of(&error), Some("PurgeProtected"));
    assert!(error.to_string().contains("purge protection"), "{error}");
    assert!(still_deleted.is_scheduled_for_deletion());
}

#[tokio::test]
async fn update_metadata_changes_tags() {
    let server = KeyVaultServer::start();
    let store = connect(&server);
    let entry_name = name("sips-client-1-staging");
    store
        .create(new_entry(entry_name.as_str(), "client-1", "secret-one"))
        .await
        .unwrap();
    let mut change = MetadataChange {
        description: Some("rotated credential".into()),
        kms_key_id: None,
        set_tags: BTreeMap::from([("team".to_owned(), "payments".to_owned())]),
        remove_tags: BTreeSet::from([tag::ROTATE_BY.to_owned()]),
    };
    let expires = time::macros::datetime!(2031-02-03 04:05:06 UTC);
    change.set_tags.insert(
        tag::EXPIRES_AT.to_owned(),
        "2031-02-03T04:05:06Z".to_owned(),
    );
    let before = store.call_counts();

    store
        .update_metadata(&entry_name, &change)
        .await
        .expect("update");
    let calls = store.call_counts().since(&before);
    let state = store.describe(&entry_name).await.unwrap();
    let with_key = MetadataChange {
        kms_key_id: Some("key".into()),
        ..MetadataChange::default()
    };
    let key_change = store.update_metadata(&entry_name, &with_key).await;

    assert_eq!(state.description.as_deref(), Some("rotated credential"));
    assert_eq!(state.tags.get("team").map(String::as_str), Some("payments"));
    assert!(!state.tags.contains_key(tag::ROTATE_BY));
    assert_eq!(state.client_id(), Some("client-1"));
    assert_eq!(state.deadline(tag::EXPIRES_AT), Some(expires));
    assert_eq!(state.current().unwrap().expires_at, Some(expires));
    assert_eq!(calls.get("GetSecretVersions"), 1);
    assert_eq!(calls.get("UpdateSecret"), 1);
    assert!(
        matches!(key_change, Err(StoreError::InvalidInput { .. })),
        "{key_change:?}"
    );
}

#[tokio::test]
async fn too_many_tags_are_rejected() {
    let server = KeyVaultServer::start();
    let store = connect(&server);
    let mut entry = new_entry("sips-tags", "client-1", "secret-one");
    for index in 0..12 {
        entry
            .metadata
            .tags
            .insert(format!("extra-{index}"), "x".into());
    }

    let result = store.create(entry).await;

    let error = result.expect_err("more than 15 tags");
    assert!(
        matches!(error, StoreError::InvalidInput { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("15"), "{error}");
}

#[tokio::test]
async fn list_by_client_id_is_exact() {
    let server = KeyVaultServer::start();
    // Small pages make every listing take several requests.
    server.set_page_size(2);
    let store = connect(&server);
    for (entry, client_id, secret) in [
        ("sips-a-staging", "client-a", "s1"),
        ("sips-a-production", "client-a", "s2"),
        ("sips-ab-staging", "client-ab", "s3"),
        ("sips-b-staging", "client-b", "s4"),
    ] {
        store
            .create(new_entry(entry, client_id, secret))
            .await
            .unwrap();
    }
    // Key and value on different tags must not match.
    raw_set(
        &server,
        "sips-crossed",
        "{}",
        &[(tag::CLIENT_ID, "x"), ("other", "client-a")],
    )
    .await;
    store
        .delete(
            &name("sips-a-production"),
            DeleteMode::Recoverable { window_days: 7 },
        )
        .await
        .unwrap();
    let before = store.call_counts();

    let found = store
        .list_by_tag(tag::CLIENT_ID, "client-a")
        .await
        .expect("list");
    let calls = store.call_counts().since(&before);

    let names: BTreeSet<&str> = found.iter().map(|state| state.name.as_str()).collect();
    assert_eq!(
        names,
        BTreeSet::from(["sips-a-production", "sips-a-staging"])
    );
    let scheduled = found
        .iter()
        .find(|state| state.name == "sips-a-production")
        .unwrap();
    assert!(scheduled.is_scheduled_for_deletion());
    assert!(found.iter().all(|state| state.current().is_some()));
    assert_eq!(
        calls.get("GetSecrets"),
        2,
        "four live secrets in pages of two"
    );
    assert_eq!(calls.get("GetDeletedSecrets"), 1);
}

#[tokio::test]
async fn list_versions_follows_pages() {
    let server = KeyVaultServer::start();
    server.set_page_size(2);
    let store = connect(&server);
    let entry_name = name("sips-paged");
    store
        .create(new_entry(entry_name.as_str(), "client-1", "v1"))
        .await
        .unwrap();
    for secret in ["v2", "v3", "v4", "v5"] {
        store
            .put_version(
                &entry_name,
                &credential("client-1", secret),
                &token_for(secret),
            )
            .await
            .unwrap();
    }
    let before = store.call_counts();

    let versions = store.list_versions(&entry_name).await.unwrap();
    let calls = store.call_counts().since(&before);
    let state = store.describe(&entry_name).await.unwrap();
    let current = store
        .read_value(&entry_name, &VersionSelector::Current)
        .await
        .unwrap();

    assert_eq!(versions.len(), 5);
    assert_eq!(calls.get("GetSecretVersions"), 3);
    assert_eq!(state.current().map(|v| &v.id), Some(&current.version_id));
    assert_eq!(secret_of(&current.content), "v5");
    let previous = store
        .read_value(&entry_name, &VersionSelector::Previous)
        .await
        .unwrap();
    assert_eq!(secret_of(&previous.content), "v4");
}

#[tokio::test]
async fn missing_entry_is_not_found() {
    let server = KeyVaultServer::start();
    let store = connect(&server);
    let missing = name("sips-missing");
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
        assert_eq!(code_of(&error), Some("SecretNotFound"), "{error:?}");
        assert!(error.to_string().contains("sips-missing"), "{error}");
        assert_hides_secret(&error);
    }
}

#[tokio::test]
async fn invalid_name_is_rejected_locally() {
    let server = KeyVaultServer::start();
    let store = connect(&server);

    let result = store.describe(&name("sips/client-1")).await;

    let error = result.expect_err("a slash is not allowed in Key Vault names");
    assert!(
        matches!(error, StoreError::InvalidInput { .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("letters, digits and '-'"),
        "{error}"
    );
    assert_eq!(store.call_counts().total(), 0);
}

#[tokio::test]
async fn malformed_value_error_hides_content() {
    let server = KeyVaultServer::start();
    let store = connect(&server);
    let broken = format!("{{\"client_secret\": \"{PLANTED_SECRET}\"");
    raw_set(&server, "sips-broken", &broken, &[]).await;
    let no_id = format!("{{\"client_secret\": \"{PLANTED_SECRET}\"}}");
    raw_set(&server, "sips-no-id", &no_id, &[]).await;

    let broken = store
        .read_value(&name("sips-broken"), &VersionSelector::Current)
        .await;
    let no_id = store
        .read_value(&name("sips-no-id"), &VersionSelector::Current)
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
async fn unreachable_vault_is_transient() {
    let server = KeyVaultServer::start();
    let closed = {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        listener.local_addr().unwrap()
    };
    let mut settings = settings(&server);
    settings.test_transport = Some(transport(&server, closed));
    let store = AzureKeyVaultStore::connect(&settings).unwrap();

    let result = store
        .create(new_entry("sips-unreachable", "client-1", PLANTED_SECRET))
        .await;

    let error = result.expect_err("a closed port must fail");
    assert!(matches!(error, StoreError::Transient { .. }), "{error:?}");
    assert!(error.is_retryable());
    assert_hides_secret(&error);
}

#[tokio::test]
async fn untrusted_certificate_is_rejected() {
    let server = KeyVaultServer::start();
    let other = KeyVaultServer::start();
    let mut settings = settings(&server);
    // The other server's CA did not issue this server's certificate.
    settings.test_transport = Some(transport(&other, server.address()));
    let store = AzureKeyVaultStore::connect(&settings).unwrap();

    let result = store.describe(&name("sips-any")).await;

    assert!(result.is_err(), "{result:?}");
    assert!(
        server.requests().is_empty(),
        "no request passed the TLS handshake"
    );
}

#[tokio::test]
async fn service_errors_map_to_variants() {
    let server = KeyVaultServer::start();
    let store = connect(&server);
    let entry_name = name("sips-client-1-staging");
    store
        .create(new_entry(entry_name.as_str(), "client-1", "secret-one"))
        .await
        .unwrap();
    let cases = [
        (429, "Throttled", "Throttled"),
        (503, "ServiceUnavailable", "Transient"),
        (500, "InternalServerError", "Transient"),
        (403, "Forbidden", "AccessDenied"),
        (400, "BadParameter", "InvalidRequest"),
    ];

    for (status, code, variant) in cases {
        server.fail_next(status, code, 1);

        let result = store.describe(&entry_name).await;

        let error = result.expect_err("injected failure");
        let debug = format!("{error:?}");
        assert!(debug.starts_with(variant), "{status}: {debug}");
        assert_eq!(code_of(&error), Some(code), "{status}");
    }
}

#[tokio::test]
async fn revoke_current_disables_version() {
    let server = KeyVaultServer::start();
    let store = connect(&server);
    let entry_name = name("sips-client-1-production");
    store
        .create(new_entry(entry_name.as_str(), "client-1", "secret-one"))
        .await
        .unwrap();
    let compromised = store
        .put_version(
            &entry_name,
            &credential("client-1", "secret-two"),
            &token_for("secret-two"),
        )
        .await
        .unwrap()
        .version_id;
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
    let raw_latest = raw_client(&server)
        .get_secret(entry_name.as_str(), None)
        .await;

    assert_eq!(revocation.revoked_version, compromised);
    assert_eq!(revocation.tombstone_version, None);
    assert_eq!(
        state.current(),
        None,
        "no current version after a revocation"
    );
    assert_eq!(
        state.previous(),
        None,
        "no previous value may be served after a revocation"
    );
    let revoked = state.revoked().expect("revoked version");
    assert_eq!(revoked.id, compromised);
    assert!(!revoked.enabled);
    let VersionContent::Revoked(tombstone) = current.content else {
        panic!("current version must read as a tombstone");
    };
    assert_eq!(tombstone.revoked_version, Some(compromised.clone()));
    assert_eq!(tombstone.client_id.as_deref(), Some("client-1"));
    assert!(
        matches!(previous, Err(StoreError::NotFound { .. })),
        "{previous:?}"
    );
    let raw_error = raw_latest.expect_err("Key Vault refuses a disabled latest version");
    assert_eq!(raw_error.http_status().map(u16::from), Some(403));
    assert_eq!(calls.get("GetSecretVersions"), 1);
    assert_eq!(calls.get("UpdateSecret"), 1);
    assert_eq!(calls.total(), 2);
}

#[tokio::test]
async fn revoke_repeat_then_replace() {
    let server = KeyVaultServer::start();
    let store = connect(&server);
    let entry_name = name("sips-client-1-production");
    store
        .create(new_entry(entry_name.as_str(), "client-1", "secret-one"))
        .await
        .unwrap();
    let first = store.revoke_current(&entry_name).await.unwrap();
    let before = store.call_counts();

    let repeated = store.revoke_current(&entry_name).await.expect("repeat");
    let repeat_calls = store.call_counts().since(&before);
    let put = store
        .put_version(
            &entry_name,
            &credential("client-1", "secret-three"),
            &token_for("secret-three"),
        )
        .await
        .expect("put after revoke");
    let state = store.describe(&entry_name).await.unwrap();
    let versions = store.list_versions(&entry_name).await.unwrap();

    assert_eq!(repeated, first);
    assert_eq!(repeat_calls.total(), 1);
    assert!(put.created);
    assert_eq!(state.current().map(|v| &v.id), Some(&put.version_id));
    assert_eq!(
        state.previous(),
        None,
        "a revoked version never becomes previous"
    );
    assert_eq!(
        state.revoked().map(|v| v.id.clone()),
        Some(first.revoked_version.clone())
    );
    let newest = versions.iter().find(|v| v.id == put.version_id).unwrap();
    assert!(newest.has_stage(&VersionStage::Current));
}

#[tokio::test]
async fn secret_travels_only_in_set_bodies() {
    let server = KeyVaultServer::start();
    let store = connect(&server);
    let entry_name = name("sips-client-1-staging");
    store
        .create(new_entry(entry_name.as_str(), "client-1", PLANTED_SECRET))
        .await
        .unwrap();
    let second = format!("{PLANTED_SECRET}-2");
    store
        .put_version(
            &entry_name,
            &credential("client-1", &second),
            &token_for("second"),
        )
        .await
        .unwrap();
    store.revoke_current(&entry_name).await.unwrap();
    store
        .delete(&entry_name, DeleteMode::Recoverable { window_days: 7 })
        .await
        .unwrap();

    let requests = server.requests();

    let carrying: Vec<String> = requests
        .iter()
        .filter(|request| request.body.contains(PLANTED_SECRET))
        .map(|request| format!("{} {}", request.method, request.path))
        .collect();
    assert_eq!(
        carrying,
        vec![
            "PUT /secrets/sips-client-1-staging".to_owned(),
            "PUT /secrets/sips-client-1-staging".to_owned()
        ]
    );
    assert!(
        requests
            .iter()
            .filter(|request| request.method != "PUT" && request.method != "PATCH")
            .all(|request| !request.has_body),
        "only set and update requests have bodies"
    );
}

/// Runs every operation once and prints its API calls, for benchmarks and the docs.
#[tokio::test]
async fn call_counts_per_operation() {
    let server = KeyVaultServer::start();
    let mut settings = settings(&server);
    settings.purge_on_delete = true;
    let store =
        AzureKeyVaultStore::connect_with_credential(&settings, Arc::new(TestToken::default()))
            .unwrap();
    let entry_name = name("sips-client-1-staging");
    let second = credential("client-1", "secret-two");
    let mut report: Vec<(&str, CallCounts)> = Vec::new();
    let mut measure = |label, before: CallCounts, store: &AzureKeyVaultStore| {
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
    let before = store.call_counts();
    store.delete(&entry_name, DeleteMode::Force).await.unwrap();
    measure("delete (force)", before, &store);

    for (label, calls) in &report {
        let detail: Vec<String> = calls.iter().map(|(op, n)| format!("{op}={n}")).collect();
        println!(
            "{label:<24} {:>2} calls: {}",
            calls.total(),
            detail.join(" ")
        );
    }
    let totals: BTreeMap<&str, u64> = report.iter().map(|(l, c)| (*l, c.total())).collect();
    assert_eq!(totals["create"], 3);
    assert_eq!(totals["describe"], 1);
    assert_eq!(totals["read_value"], 1);
    assert_eq!(totals["put_version"], 2);
    assert_eq!(totals["put_version (retry)"], 1);
    assert_eq!(totals["update_metadata (tags)"], 2);
    assert_eq!(totals["retire_previous"], 2);
    assert_eq!(totals["revoke_current"], 2);
    assert_eq!(totals["delete"], 1);
    assert_eq!(totals["restore"], 2);
    assert_eq!(totals["delete (force)"], 2);
}

/// One tracing event or span: the thread it came from, level, target and fields.
type LoggedEvent = (std::thread::ThreadId, tracing::Level, String, String);

/// Collects every tracing event and span, TRACE included, from every thread.
#[derive(Clone, Default)]
struct EventLog(Arc<Mutex<Vec<LoggedEvent>>>);

struct FieldText(String);

impl tracing::field::Visit for FieldText {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!(" {}={value:?}", field.name()));
    }
}

impl EventLog {
    fn push(&self, metadata: &tracing::Metadata<'_>, fields: FieldText) {
        let thread = std::thread::current().id();
        let record = (
            thread,
            *metadata.level(),
            metadata.target().to_owned(),
            fields.0,
        );
        self.0.lock().unwrap().push(record);
    }

    /// Events of the calling thread only, since tests run in parallel.
    fn of_this_thread(&self) -> Vec<(tracing::Level, String, String)> {
        let thread = std::thread::current().id();
        let events = self.0.lock().unwrap();
        events
            .iter()
            .filter(|event| event.0 == thread)
            .map(|(_, level, target, text)| (*level, target.clone(), text.clone()))
            .collect()
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for EventLog {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let mut fields = FieldText(String::new());
        event.record(&mut fields);
        self.push(event.metadata(), fields);
    }

    fn on_new_span(
        &self,
        attributes: &tracing::span::Attributes<'_>,
        _: &tracing::span::Id,
        _: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let mut fields = FieldText(String::new());
        attributes.record(&mut fields);
        self.push(attributes.metadata(), fields);
    }
}

/// Installs the collecting subscriber for the whole test binary. A thread-scoped subscriber
/// would miss events whose callsites another test thread registered first without one.
fn global_log() -> &'static EventLog {
    static LOG: std::sync::OnceLock<EventLog> = std::sync::OnceLock::new();
    LOG.get_or_init(|| {
        use tracing_subscriber::layer::SubscriberExt;
        let log = EventLog::default();
        let subscriber = tracing_subscriber::registry().with(log.clone());
        tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
        log
    })
}

#[tokio::test]
async fn logs_never_show_secret() {
    let server = KeyVaultServer::start();
    let log = global_log();
    let store = connect(&server);
    let entry_name = name("sips-client-1-staging");

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

    let events = log.of_this_thread();
    let leaks: Vec<_> = events
        .iter()
        .filter(|(_, _, text)| text.contains(PLANTED_SECRET) || text.contains(keyvault::TEST_TOKEN))
        .map(|(level, target, _)| format!("{level} {target}"))
        .collect();
    assert!(leaks.is_empty(), "secret or token logged by: {leaks:?}");
    let our_calls = events
        .iter()
        .filter(|(level, _, text)| {
            *level == tracing::Level::DEBUG && text.contains("key vault call")
        })
        .count();
    assert_eq!(our_calls, 6, "one debug line per API call");
    println!("{} events and spans, none showing the secret", events.len());
}
