//! `sips_credential` on Azure Key Vault through the real Terraform CLI, against one Key Vault
//! test server per test. The stories: create with `nbf` and `exp`, rotation and retirement,
//! recovery of a soft-deleted name, import by secret URL, soft delete on destroy and name
//! validation. The last one checks that the secret stays out of state, plans and logs, and out
//! of every request but the set-secret ones.
#![cfg(feature = "azure")]

mod support;

use std::collections::BTreeMap;

use secrecy::SecretString;
use serde_json::Value as Json;
use sips::stores::azure::{AzureCredentialKind, AzureKeyVaultStore, AzureSettings, TestTransport};
use sips::stores::{
    Credential, EntryMetadata, EntryName, EntryState, NewEntry, RequestToken, SecretStore,
    VersionId, VersionInfo, tag,
};
use support::keyvault::{self, KeyVaultServer};
use support::terraform::{Installation, Run, Workspace};
use time::OffsetDateTime;

const STAGING_SECRET: &str = "sips-staging-partner-a-staging";
const PRODUCTION_SECRET: &str = "sips-production-partner-a";
/// Variable that the provider's `access_token_env` names; the test server takes any token.
const TOKEN_ENV: &str = "SIPS_TEST_AZURE_TOKEN";
/// SRS's limit on a secret's age, which the default rotation policy uses as the deadline.
const MANDATORY_DAYS: i64 = 180;

/// A Key Vault test server and a Terraform workspace whose provider reaches it.
struct Fixture {
    vault: KeyVaultServer,
    workspace: Workspace,
    runtime: tokio::runtime::Runtime,
}

impl Fixture {
    fn new() -> Self {
        let vault = KeyVaultServer::start();
        let mut workspace = Workspace::new(Installation::DevOverrides);
        workspace.write("vault-ca.pem", vault.ca_pem());
        workspace.set_env(TOKEN_ENV, keyvault::TEST_TOKEN);
        let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
        Self {
            vault,
            workspace,
            runtime,
        }
    }

    /// Writes `main.tf` with a provider block that reaches the test vault, `azure_extra`
    /// lines inside its `azure` block, and then `resources`.
    fn configure_with(&self, azure_extra: &str, resources: &str) {
        let ca = self.workspace.path().join("vault-ca.pem");
        let config = format!(
            "{required}\nprovider \"sips\" {{\n  environments = [\"staging\", \"production\"]\n  \
             azure {{\n    use_managed_identity = false\n    access_token_env = \"{TOKEN_ENV}\"\n    \
             ca_certificate_file = {ca:?}\n    resolve = {{ {host:?} = \"{address}\" }}\n\
             {azure_extra}  }}\n}}\n{resources}",
            required = self.workspace.required_providers(),
            ca = ca.display().to_string(),
            host = keyvault::VAULT_HOST,
            address = self.vault.address(),
        );
        self.workspace.write("main.tf", &config);
    }

    fn configure(&self, resources: &str) {
        self.configure_with("", resources);
    }

    fn run(&self, args: &[&str]) -> Run {
        self.workspace.run(args)
    }

    fn plan(&self) -> Run {
        self.run(&["plan", "-input=false", "-no-color", "-detailed-exitcode"])
    }

    fn try_apply(&self) -> Run {
        self.run(&["apply", "-input=false", "-no-color", "-auto-approve"])
    }

    fn apply(&self) -> Run {
        let run = self.try_apply();
        run.expect_success();
        run
    }

    fn destroy(&self) -> Run {
        let run = self.run(&["destroy", "-input=false", "-no-color", "-auto-approve"]);
        run.expect_success();
        run
    }

    /// Attributes of the resource at `address` in `terraform show -json`.
    fn attributes(&self, address: &str) -> Json {
        let show = self.run(&["show", "-json", "-no-color"]);
        show.expect_success();
        let state: Json = serde_json::from_str(&show.stdout).expect("show -json is JSON");
        let resources = state["values"]["root_module"]["resources"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        resources
            .into_iter()
            .find(|resource| resource["address"] == address)
            .unwrap_or_else(|| panic!("{address} is not in the state:\n{}", show.stdout))["values"]
            .clone()
    }

    fn store(&self) -> AzureKeyVaultStore {
        let mut settings = AzureSettings::new(self.vault.vault_url());
        settings.tenant_id = Some(keyvault::TENANT_ID.into());
        settings.credential = AzureCredentialKind::AccessToken {
            token: SecretString::from(keyvault::TEST_TOKEN),
        };
        settings.max_retries = 0;
        settings.test_transport = Some(TestTransport {
            resolve: BTreeMap::from([(keyvault::VAULT_HOST.to_owned(), self.vault.address())]),
            ca_pem: Some(self.vault.ca_pem().to_owned()),
        });
        AzureKeyVaultStore::connect(&settings).expect("store connects to the test vault")
    }

    fn describe(&self, secret: &str) -> EntryState {
        let store = self.store();
        self.runtime
            .block_on(store.describe(&entry_name(secret)))
            .unwrap_or_else(|error| panic!("describe {secret}: {error}"))
    }

    /// Every version of `secret`, disabled ones included.
    fn versions(&self, secret: &str) -> Vec<VersionInfo> {
        let store = self.store();
        self.runtime
            .block_on(store.list_versions(&entry_name(secret)))
            .unwrap_or_else(|error| panic!("list versions of {secret}: {error}"))
    }

    /// Creates a secret with the environment and client_id tags, as an operator would
    /// outside Terraform before importing it.
    fn create_outside_terraform(
        &self,
        secret: &str,
        environment: &str,
        client_id: &str,
        value: &str,
    ) {
        let store = self.store();
        let mut metadata = EntryMetadata::default();
        metadata
            .tags
            .insert(tag::ENVIRONMENT.to_owned(), environment.to_owned());
        metadata
            .tags
            .insert(tag::CLIENT_ID.to_owned(), client_id.to_owned());
        let new_entry = NewEntry {
            name: entry_name(secret),
            value: Credential::new(client_id, SecretString::from(value)),
            metadata,
            token: RequestToken::from_fingerprint(value.as_bytes()),
        };
        self.runtime
            .block_on(store.create(new_entry))
            .unwrap_or_else(|error| panic!("create {secret}: {error}"));
    }
}

fn entry_name(text: &str) -> EntryName {
    EntryName::new(text).expect("valid secret name")
}

fn staging_credential() -> &'static str {
    r#"
resource "sips_rotation_policy" "standard" {
  name = "standard"
}

resource "sips_credential" "staging" {
  environment        = "staging"
  client_id          = "partner-a-staging"
  client_secret_file = "${path.module}/staging.secret"
  rotation_policy    = sips_rotation_policy.standard.rules
  azure_key_vault {
    vault_url = "https://sipstest.vault.azure.net"
  }
}
"#
}

fn production_credential() -> &'static str {
    r#"
resource "sips_credential" "production" {
  environment       = "production"
  client_id         = "partner-a"
  client_secret_env = "SIPS_PROD_SECRET"
  rotation_policy   = sips_rotation_policy.standard.rules
  azure_key_vault {
    vault_url = "https://sipstest.vault.azure.net"
  }
}
"#
}

fn text(value: &Json) -> &str {
    value.as_str().unwrap_or_default()
}

fn state_time(attributes: &Json, name: &str) -> OffsetDateTime {
    let value = text(&attributes[name]);
    sips::rotation::parse_rfc3339(value)
        .unwrap_or_else(|error| panic!("{name} = {value:?} is not RFC 3339: {error:?}"))
}

/// Asserts that `actual` is within `seconds` of `expected`; Key Vault keeps whole seconds.
fn assert_near(actual: Option<OffsetDateTime>, expected: OffsetDateTime, seconds: i64, what: &str) {
    let actual = actual.unwrap_or_else(|| panic!("{what} is not set"));
    let gap = (actual - expected).whole_seconds().abs();
    assert!(
        gap <= seconds,
        "{what} is {actual}, expected {expected} within {seconds} s"
    );
}

fn find_version<'a>(versions: &'a [VersionInfo], id: &str) -> &'a VersionInfo {
    versions
        .iter()
        .find(|version| version.id == VersionId::new(id))
        .unwrap_or_else(|| panic!("version {id} is not listed: {versions:?}"))
}

#[test]
fn staging_and_production_created() {
    let mut fixture = Fixture::new();
    fixture
        .workspace
        .write_secret("staging.secret", "staging-secret-1\n");
    fixture
        .workspace
        .set_env("SIPS_PROD_SECRET", "production-secret-1");
    let resources = format!("{}{}", staging_credential(), production_credential());
    fixture.configure(&resources);

    let apply = fixture.apply();
    assert!(
        apply.stdout.contains("3 added"),
        "apply creates the policy and both credentials:\n{}",
        apply.stdout
    );
    fixture.plan().expect_code(0);

    for (address, secret, environment, client_id) in [
        (
            "sips_credential.staging",
            STAGING_SECRET,
            "staging",
            "partner-a-staging",
        ),
        (
            "sips_credential.production",
            PRODUCTION_SECRET,
            "production",
            "partner-a",
        ),
    ] {
        let attributes = fixture.attributes(address);
        let entry = fixture.describe(secret);
        assert_eq!(
            text(&attributes["azure_key_vault"]["secret_name"]),
            secret,
            "{address}: the derived secret name"
        );
        assert_eq!(
            text(&attributes["id"]),
            format!("https://{}/secrets/{secret}", keyvault::VAULT_HOST),
            "{address}: id is the secret URL"
        );
        assert_eq!(
            entry.tags.get(tag::ENVIRONMENT).map(String::as_str),
            Some(environment),
            "{address}: environment tag"
        );
        assert_eq!(
            entry.client_id(),
            Some(client_id),
            "{address}: client_id tag"
        );

        let current = entry.current().expect("a current version");
        assert_eq!(
            current.id.as_str(),
            text(&attributes["version_id"]),
            "{address}: state version_id is the current version"
        );
        let issued_at = state_time(&attributes, "issued_at");
        let expires_at = state_time(&attributes, "expires_at");
        assert_eq!(
            expires_at,
            issued_at + time::Duration::days(MANDATORY_DAYS),
            "{address}: the default deadline is {MANDATORY_DAYS} days after issue"
        );
        assert_near(current.not_before, issued_at, 1, &format!("{address}: nbf"));
        assert_near(
            current.expires_at,
            expires_at,
            1,
            &format!("{address}: exp"),
        );
    }
}

#[test]
fn rotation_keeps_then_retires_previous() {
    let fixture = Fixture::new();
    fixture
        .workspace
        .write_secret("staging.secret", "staging-secret-1\n");
    fixture.configure(staging_credential());
    fixture.apply();
    let before = fixture.attributes("sips_credential.staging");

    fixture
        .workspace
        .write_secret("staging.secret", "staging-secret-2\n");
    let plan = fixture.plan();
    plan.expect_code(2);
    assert!(
        plan.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "a new secret plans an in-place update:\n{}",
        plan.stdout
    );
    fixture.apply();

    let after = fixture.attributes("sips_credential.staging");
    let old_version = text(&before["version_id"]);
    let new_version = text(&after["version_id"]);
    assert_ne!(new_version, old_version, "rotation makes a new version");
    assert_eq!(
        text(&after["previous_version_id"]),
        old_version,
        "previous_version_id is the version before the rotation"
    );
    let entry = fixture.describe(STAGING_SECRET);
    assert_eq!(
        entry.current().map(|version| version.id.as_str()),
        Some(new_version),
        "the new version is current"
    );
    let previous = entry.previous().expect("the old version is previous");
    assert_eq!(previous.id.as_str(), old_version, "previous version id");
    assert!(previous.enabled, "the previous version stays enabled");
    let current = entry.current().expect("a current version");
    assert_near(
        current.not_before,
        state_time(&after, "issued_at"),
        1,
        "nbf of the new version",
    );
    assert_near(
        current.expires_at,
        state_time(&after, "expires_at"),
        1,
        "exp of the new version",
    );
    fixture.plan().expect_code(0);

    fixture.configure(&staging_credential().replace(
        "  azure_key_vault {",
        "  retire_previous    = true\n  azure_key_vault {",
    ));
    fixture.apply();

    let retired = fixture.attributes("sips_credential.staging");
    assert!(
        retired["previous_version_id"].is_null(),
        "retiring clears previous_version_id: {retired}"
    );
    assert_eq!(
        text(&retired["version_id"]),
        new_version,
        "retiring keeps the current version"
    );
    let versions = fixture.versions(STAGING_SECRET);
    let old = find_version(&versions, old_version);
    assert!(!old.enabled, "the retired version is disabled");
    assert!(
        find_version(&versions, new_version).enabled,
        "the current version stays enabled"
    );
    assert!(
        fixture.describe(STAGING_SECRET).previous().is_none(),
        "no version is previous after retirement"
    );
    fixture.plan().expect_code(0);
}

#[test]
fn soft_deleted_name_recovered_on_create() {
    let fixture = Fixture::new();
    fixture
        .workspace
        .write_secret("staging.secret", "staging-secret-1\n");
    fixture.configure(staging_credential());
    fixture.apply();
    let first = fixture.attributes("sips_credential.staging");
    fixture.destroy();
    assert!(
        fixture.describe(STAGING_SECRET).is_scheduled_for_deletion(),
        "destroy soft-deletes the secret"
    );

    fixture
        .workspace
        .write_secret("staging.secret", "staging-secret-2\n");
    let apply = fixture.apply();
    assert!(
        apply.stdout.contains("2 added"),
        "apply creates the policy and the credential again:\n{}",
        apply.stdout
    );

    let entry = fixture.describe(STAGING_SECRET);
    assert!(
        !entry.is_scheduled_for_deletion(),
        "the secret is recovered: {entry:?}"
    );
    let recovered = fixture.attributes("sips_credential.staging");
    assert_eq!(
        entry.current().map(|version| version.id.as_str()),
        Some(text(&recovered["version_id"])),
        "the new secret is the current version"
    );
    assert_ne!(
        recovered["version_id"], first["version_id"],
        "the new secret is stored as a new version"
    );
    let current = entry.current().expect("a current version");
    assert_near(
        current.expires_at,
        state_time(&recovered, "expires_at"),
        1,
        "exp of the recovered secret's new version",
    );
    assert_eq!(
        entry.client_id(),
        Some("partner-a-staging"),
        "the recovered secret keeps its client_id tag"
    );
    let versions = fixture.versions(STAGING_SECRET);
    assert!(
        versions
            .iter()
            .any(|version| version.id.as_str() == text(&first["version_id"])),
        "recovery keeps the old versions: {versions:?}"
    );
    let recover = fixture
        .vault
        .requests()
        .into_iter()
        .filter(|request| request.method == "POST" && request.path.ends_with("/recover"))
        .count();
    assert_eq!(recover, 1, "the provider recovers the name once");
    fixture.plan().expect_code(0);
}

#[test]
fn soft_deleted_name_without_recovery_fails() {
    let fixture = Fixture::new();
    fixture
        .workspace
        .write_secret("staging.secret", "staging-secret-1\n");
    fixture.configure(staging_credential());
    fixture.apply();
    fixture.destroy();

    fixture.configure_with("    recover_soft_deleted = false\n", staging_credential());
    let apply = fixture.try_apply();
    apply.expect_failure();
    let output = apply.flat_output();
    for expected in [
        "Secret name is soft-deleted",
        STAGING_SECRET,
        "recover_soft_deleted = true",
        "az keyvault secret purge",
    ] {
        assert!(
            output.contains(expected),
            "the error lacks {expected:?}:\n{}",
            apply.output()
        );
    }
    assert!(
        fixture.describe(STAGING_SECRET).is_scheduled_for_deletion(),
        "the secret stays soft-deleted"
    );
}

#[test]
fn secret_imported_by_url() {
    let fixture = Fixture::new();
    let secret = "partner-b-staging";
    fixture.create_outside_terraform(secret, "staging", "partner-b", "partner-b-secret");
    fixture
        .workspace
        .write_secret("partner-b.secret", "partner-b-secret\n");
    fixture.configure(
        r#"
resource "sips_credential" "imported" {
  environment        = "staging"
  client_id          = "partner-b"
  client_secret_file = "${path.module}/partner-b.secret"
  azure_key_vault {
    vault_url   = "https://sipstest.vault.azure.net"
    secret_name = "partner-b-staging"
  }
}
"#,
    );

    let url = format!("https://{}/secrets/{secret}", keyvault::VAULT_HOST);
    let import = fixture.run(&[
        "import",
        "-input=false",
        "-no-color",
        "sips_credential.imported",
        &url,
    ]);
    import.expect_success();
    assert!(
        import.stdout.contains("Import successful"),
        "import reports success:\n{}",
        import.stdout
    );

    let attributes = fixture.attributes("sips_credential.imported");
    assert_eq!(text(&attributes["client_id"]), "partner-b", "client_id tag");
    assert_eq!(
        text(&attributes["environment"]),
        "staging",
        "environment tag"
    );
    assert_eq!(
        text(&attributes["azure_key_vault"]["vault_url"]),
        "https://sipstest.vault.azure.net",
        "vault_url comes from the import id"
    );
    assert_eq!(
        text(&attributes["azure_key_vault"]["secret_name"]),
        secret,
        "secret_name comes from the import id"
    );
    let entry = fixture.describe(secret);
    assert_eq!(
        text(&attributes["version_id"]),
        entry.current().expect("current version").id.as_str(),
        "version_id is the secret's current version"
    );

    // Import cannot know the configuration-only secret source, so the first plan adds it.
    let plan = fixture.plan();
    plan.expect_code(2);
    assert!(
        plan.stdout.contains("+ client_secret_file"),
        "the plan after import adds the secret source:\n{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "the plan after import changes the credential in place:\n{}",
        plan.stdout
    );
    let actions = plan
        .stdout
        .split("Terraform will perform the following actions:")
        .nth(1)
        .and_then(|rest| rest.split("Plan:").next())
        .unwrap_or_default();
    let changed: Vec<&str> = actions
        .lines()
        .map(str::trim_start)
        .filter(|line| line.starts_with("+ ") || line.starts_with("~ ") || line.starts_with("- "))
        .filter(|line| !line.starts_with("~ resource"))
        .collect();
    assert_eq!(
        changed,
        vec!["+ client_secret_file = \"./partner-b.secret\""],
        "the plan after import changes only the secret source:\n{}",
        plan.stdout
    );

    // The file contains the value already stored, so applying the source writes no new version.
    fixture.apply();
    let applied = fixture.attributes("sips_credential.imported");
    assert_eq!(
        applied["version_id"], attributes["version_id"],
        "applying the secret source writes no new version"
    );
    fixture.plan().expect_code(0);
}

#[test]
fn destroy_soft_deletes_secret() {
    let fixture = Fixture::new();
    fixture
        .workspace
        .write_secret("staging.secret", "staging-secret-1\n");
    fixture.configure(staging_credential());
    fixture.apply();

    fixture.destroy();

    let entry = fixture.describe(STAGING_SECRET);
    assert!(
        entry.deletion_date.is_some(),
        "the secret is soft-deleted with a purge date: {entry:?}"
    );
    let requests = fixture.vault.requests();
    assert!(
        requests
            .iter()
            .any(|request| request.method == "DELETE" && request.path.starts_with("/secrets/")),
        "destroy sends a delete"
    );
    assert!(
        !requests
            .iter()
            .any(|request| request.method == "DELETE" && request.path.starts_with("/deleted")),
        "destroy does not purge"
    );
}

#[test]
fn force_delete_needs_purge_setting() {
    let fixture = Fixture::new();
    fixture
        .workspace
        .write_secret("staging.secret", "staging-secret-1\n");
    fixture.configure(&staging_credential().replace(
        "    vault_url = \"https://sipstest.vault.azure.net\"\n",
        "    vault_url    = \"https://sipstest.vault.azure.net\"\n    force_delete = true\n",
    ));
    fixture.apply();

    fixture.destroy();

    let entry = fixture.describe(STAGING_SECRET);
    assert!(
        entry.is_scheduled_for_deletion(),
        "without the provider's purge_on_delete the secret is only soft-deleted: {entry:?}"
    );
}

#[test]
fn invalid_secret_name_rejected() {
    let fixture = Fixture::new();
    fixture
        .workspace
        .write_secret("staging.secret", "staging-secret-1\n");
    fixture.configure(
        r#"
resource "sips_credential" "bad" {
  environment        = "staging"
  client_id          = "partner-a"
  client_secret_file = "${path.module}/staging.secret"
  azure_key_vault {
    vault_url   = "https://sipstest.vault.azure.net"
    secret_name = "bad_name!"
  }
}
"#,
    );

    let validate = fixture.run(&["validate", "-no-color"]);
    validate.expect_failure();
    let output = validate.flat_output();
    for expected in [
        "Invalid secret name",
        "1 to 127 letters, digits and dashes",
        "\"bad_name!\"",
    ] {
        assert!(
            output.contains(expected),
            "the error lacks {expected:?}:\n{}",
            validate.output()
        );
    }
    assert!(
        fixture.vault.requests().is_empty(),
        "validation sends no request to the vault"
    );
}

#[test]
fn secret_absent_from_state_plan_and_logs() {
    const PLANTED: &str = "planted-Canary-3e8d2a6f";
    const ROTATED: &str = "planted-Rotated-b71c4e90";
    let mut fixture = Fixture::new();
    fixture.workspace.enable_trace();
    fixture
        .workspace
        .write_secret("staging.secret", &format!("{PLANTED}\n"));
    fixture.configure(staging_credential());

    let apply = fixture.apply();
    fixture
        .workspace
        .write_secret("staging.secret", &format!("{ROTATED}\n"));
    let plan = fixture.plan();
    plan.expect_code(2);
    let rotate = fixture.apply();
    let show = fixture.run(&["show", "-json", "-no-color"]);
    show.expect_success();

    let state_file = fixture.workspace.read("terraform.tfstate");
    let trace = fixture.workspace.trace_log();
    assert!(!trace.is_empty(), "TF_LOG_PATH receives the trace log");
    let places = [
        ("terraform.tfstate", state_file.as_str()),
        ("terraform show -json", show.stdout.as_str()),
        ("apply stdout", apply.stdout.as_str()),
        ("apply stderr", apply.stderr.as_str()),
        ("plan stdout", plan.stdout.as_str()),
        ("plan stderr", plan.stderr.as_str()),
        ("rotating apply stdout", rotate.stdout.as_str()),
        ("rotating apply stderr", rotate.stderr.as_str()),
        ("trace log", trace.as_str()),
    ];
    for (place, content) in places {
        for secret in [PLANTED, ROTATED] {
            assert!(
                !content.contains(secret),
                "{place} contains the planted secret {secret}"
            );
        }
    }

    // Terraform re-logs the provider's JSON lines as `provider.<binary>: message: @module=...`.
    let provider_lines = trace
        .lines()
        .filter(|line| line.contains("provider.terraform-provider-sips:"))
        .filter(|line| line.contains("@module=sips"))
        .count();
    assert!(
        provider_lines > 0,
        "the trace log contains the provider's own log lines"
    );

    let set_path = format!("/secrets/{STAGING_SECRET}");
    let requests = fixture.vault.requests();
    for secret in [PLANTED, ROTATED] {
        let carriers: Vec<String> = requests
            .iter()
            .filter(|request| request.body.contains(secret) || request.path.contains(secret))
            .map(|request| format!("{} {}", request.method, request.path))
            .collect();
        assert!(
            !carriers.is_empty(),
            "a set-secret request carries {secret}"
        );
        assert!(
            carriers
                .iter()
                .all(|carrier| *carrier == format!("PUT {set_path}")),
            "only set-secret requests carry {secret}: {carriers:?}"
        );
    }
}
