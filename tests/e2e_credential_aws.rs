//! `sips_credential` on AWS Secrets Manager through the real Terraform CLI, against a
//! moto_server per test: create, rotation, drift, import, destroy, the environment guard,
//! input validation and the secret staying out of state, plans and logs.
#![cfg(feature = "aws")]

mod support;

use secrecy::SecretString;
use serde_json::Value as Json;
use sips::stores::aws::{AwsSecretsStore, AwsSettings, StaticCredentials};
use sips::stores::{
    Credential, EntryMetadata, EntryName, EntryState, NewEntry, RequestToken, SecretStore,
    VersionContent, VersionSelector, tag,
};
use support::moto::{self, MotoServer};
use support::terraform::{Installation, Run, Workspace};

const REGION: &str = "eu-west-1";
const STAGING_ENTRY: &str = "sips/staging/partner-a-staging";
const PRODUCTION_ENTRY: &str = "sips/production/partner-a";

/// A moto_server and a Terraform workspace whose provider points at it.
struct Fixture {
    moto: MotoServer,
    workspace: Workspace,
    runtime: tokio::runtime::Runtime,
}

impl Fixture {
    fn new() -> Self {
        let moto = MotoServer::start();
        let workspace = Workspace::new(Installation::DevOverrides);
        let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
        Self {
            moto,
            workspace,
            runtime,
        }
    }

    /// Writes `main.tf` with a provider block allowing `environments` and then `resources`.
    fn configure(&self, environments: &[&str], resources: &str) {
        let environments: Vec<String> = environments
            .iter()
            .map(|name| format!("{name:?}"))
            .collect();
        let config = format!(
            "{required}\nprovider \"sips\" {{\n  environments = [{environments}]\n  aws {{\n    \
             region = \"{REGION}\"\n    endpoint = \"{endpoint}\"\n    \
             use_instance_metadata = false\n  }}\n}}\n{resources}",
            required = self.workspace.required_providers(),
            environments = environments.join(", "),
            endpoint = self.moto.endpoint_url(),
        );
        self.workspace.write("main.tf", &config);
    }

    fn run(&self, args: &[&str]) -> Run {
        self.workspace.run(args)
    }

    fn plan(&self) -> Run {
        self.run(&["plan", "-input=false", "-no-color", "-detailed-exitcode"])
    }

    fn apply(&self) -> Run {
        let run = self.run(&["apply", "-input=false", "-no-color", "-auto-approve"]);
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

    fn store(&self) -> AwsSecretsStore {
        let settings = AwsSettings {
            region: Some(REGION.into()),
            endpoint_url: Some(self.moto.endpoint_url()),
            disable_imds: true,
            max_attempts: 2,
            static_credentials: Some(StaticCredentials {
                access_key_id: moto::ACCESS_KEY_ID.into(),
                secret_access_key: SecretString::from(moto::SECRET_ACCESS_KEY),
                session_token: None,
            }),
            ..AwsSettings::default()
        };
        self.runtime
            .block_on(AwsSecretsStore::connect(&settings))
            .expect("store connects to moto")
    }

    fn describe(&self, entry: &str) -> EntryState {
        let store = self.store();
        self.runtime
            .block_on(store.describe(&entry_name(entry)))
            .unwrap_or_else(|error| panic!("describe {entry}: {error}"))
    }

    /// Puts a new current version the way an operator would outside Terraform.
    fn put_outside_terraform(&self, entry: &str, client_id: &str, secret: &str) {
        let store = self.store();
        let value = Credential::new(client_id, SecretString::from(secret));
        let token = RequestToken::from_fingerprint(secret.as_bytes());
        self.runtime
            .block_on(store.put_version(&entry_name(entry), &value, &token))
            .unwrap_or_else(|error| panic!("put_version {entry}: {error}"));
    }

    /// Creates an entry with the environment tag, as a pre-existing credential to import.
    fn create_outside_terraform(
        &self,
        entry: &str,
        environment: &str,
        client_id: &str,
        secret: &str,
    ) {
        let store = self.store();
        let mut metadata = EntryMetadata::default();
        metadata
            .tags
            .insert(tag::ENVIRONMENT.to_owned(), environment.to_owned());
        let new_entry = NewEntry {
            name: entry_name(entry),
            value: Credential::new(client_id, SecretString::from(secret)),
            metadata,
            token: RequestToken::from_fingerprint(secret.as_bytes()),
        };
        self.runtime
            .block_on(store.create(new_entry))
            .unwrap_or_else(|error| panic!("create {entry}: {error}"));
    }
}

fn entry_name(text: &str) -> EntryName {
    EntryName::new(text).expect("valid entry name")
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
  aws_secrets_manager {}
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
  aws_secrets_manager {}
}
"#
}

fn text(value: &Json) -> &str {
    value.as_str().unwrap_or_default()
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
    fixture.configure(&["staging", "production"], &resources);

    let apply = fixture.apply();
    assert!(
        apply.stdout.contains("3 added"),
        "apply creates the policy and both credentials:\n{}",
        apply.stdout
    );

    let staging = fixture.describe(STAGING_ENTRY);
    assert!(
        staging.current().is_some(),
        "staging entry has a current version"
    );
    assert_eq!(
        staging.tags.get(tag::ENVIRONMENT).map(String::as_str),
        Some("staging"),
        "staging entry carries its environment tag"
    );
    let production = fixture.describe(PRODUCTION_ENTRY);
    assert_eq!(
        production.client_id(),
        Some("partner-a"),
        "production entry carries its client_id tag"
    );

    let attributes = fixture.attributes("sips_credential.production");
    assert_eq!(
        text(&attributes["version_id"]),
        production.current().expect("current version").id.as_str(),
        "state version_id is the entry's current version"
    );
    assert!(
        text(&attributes["fingerprint"]).starts_with("hmac-sha256:"),
        "state keeps a fingerprint: {attributes}"
    );

    fixture.plan().expect_code(0);
}

#[test]
fn new_file_value_rotates() {
    let fixture = Fixture::new();
    fixture
        .workspace
        .write_secret("staging.secret", "staging-secret-1\n");
    fixture.configure(&["staging"], staging_credential());
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
    assert_ne!(
        after["fingerprint"], before["fingerprint"],
        "fingerprint changes with the secret"
    );
    assert_ne!(
        after["version_id"], before["version_id"],
        "rotation makes a new version"
    );
    assert_eq!(
        after["previous_version_id"], before["version_id"],
        "previous_version_id is the version before the rotation"
    );

    let entry = fixture.describe(STAGING_ENTRY);
    let previous = entry.previous().expect("entry keeps a previous version");
    assert_eq!(
        previous.id.as_str(),
        text(&before["version_id"]),
        "the old version stays readable as AWSPREVIOUS"
    );
    assert_eq!(
        entry.current().expect("current version").id.as_str(),
        text(&after["version_id"]),
        "the new version is AWSCURRENT"
    );

    fixture.plan().expect_code(0);
}

#[test]
fn outside_change_plans_update() {
    let fixture = Fixture::new();
    fixture
        .workspace
        .write_secret("staging.secret", "staging-secret-1\n");
    fixture.configure(&["staging"], staging_credential());
    fixture.apply();

    fixture.put_outside_terraform(STAGING_ENTRY, "partner-a-staging", "changed-by-hand");

    let plan = fixture.plan();
    plan.expect_code(2);
    assert!(
        plan.stdout.contains("1 to change"),
        "a value changed outside Terraform plans an update:\n{}",
        plan.stdout
    );
}

#[test]
fn existing_entry_imported() {
    let fixture = Fixture::new();
    let entry = "sips/staging/partner-b";
    fixture.create_outside_terraform(entry, "staging", "partner-b", "partner-b-secret");
    fixture
        .workspace
        .write_secret("partner-b.secret", "partner-b-secret\n");
    fixture.configure(
        &["staging"],
        r#"
resource "sips_credential" "imported" {
  environment        = "staging"
  client_id          = "partner-b"
  client_secret_file = "${path.module}/partner-b.secret"
  aws_secrets_manager {
    name = "sips/staging/partner-b"
  }
}
"#,
    );

    let import = fixture.run(&[
        "import",
        "-input=false",
        "-no-color",
        "sips_credential.imported",
        entry,
    ]);
    import.expect_success();
    assert!(
        import.stdout.contains("Import successful"),
        "import reports success:\n{}",
        import.stdout
    );

    let attributes = fixture.attributes("sips_credential.imported");
    assert_eq!(
        text(&attributes["client_id"]),
        "partner-b",
        "client_id comes from the entry"
    );
    assert_eq!(
        text(&attributes["environment"]),
        "staging",
        "environment comes from the tag"
    );
    let current = fixture.describe(entry);
    assert_eq!(
        text(&attributes["version_id"]),
        current.current().expect("current version").id.as_str(),
        "version_id is the entry's current version"
    );

    // Import cannot know the configuration-only secret source, so the first plan adds it.
    // The file contains the value already in the entry, so applying it writes no new version.
    let plan = fixture.plan();
    plan.expect_code(2);
    assert!(
        plan.stdout.contains("+ client_secret_file"),
        "the plan after import adds only the secret source:\n{}",
        plan.stdout
    );
    assert!(
        !plan.stdout.contains("fingerprint"),
        "the plan after import keeps the fingerprint:\n{}",
        plan.stdout
    );
    fixture.apply();
    let applied = fixture.attributes("sips_credential.imported");
    assert_eq!(
        applied["version_id"], attributes["version_id"],
        "applying the secret source writes no new version"
    );
    fixture.plan().expect_code(0);
}

#[test]
fn entry_imported_by_arn() {
    let fixture = Fixture::new();
    let entry = "sips/staging/partner-c";
    fixture.create_outside_terraform(entry, "staging", "partner-c", "partner-c-secret");
    fixture
        .workspace
        .write_secret("partner-c.secret", "partner-c-secret\n");
    fixture.configure(
        &["staging"],
        r#"
resource "sips_credential" "imported" {
  environment        = "staging"
  client_id          = "partner-c"
  client_secret_file = "${path.module}/partner-c.secret"
  aws_secrets_manager {
    name = "sips/staging/partner-c"
  }
}
"#,
    );
    let arn = fixture.describe(entry).id;

    let import = fixture.run(&[
        "import",
        "-input=false",
        "-no-color",
        "sips_credential.imported",
        &arn,
    ]);
    import.expect_success();

    let attributes = fixture.attributes("sips_credential.imported");
    assert_eq!(text(&attributes["arn"]), arn, "arn is the imported one");
    assert_eq!(
        text(&attributes["aws_secrets_manager"]["name"]),
        entry,
        "the state keeps the entry's name, not the ARN"
    );
}

#[test]
fn missing_entry_import_fails() {
    let fixture = Fixture::new();
    fixture
        .workspace
        .write_secret("staging.secret", "staging-secret-1\n");
    fixture.configure(&["staging"], staging_credential());

    let import = fixture.run(&[
        "import",
        "-input=false",
        "-no-color",
        "sips_credential.staging",
        "sips/staging/nobody",
    ]);
    import.expect_failure();
    assert!(
        import.flat_output().contains("Secret not found"),
        "the error says the secret is missing:\n{}",
        import.flat_output()
    );
}

#[test]
fn compliance_report_flags_expired_entry() {
    let fixture = Fixture::new();
    fixture
        .workspace
        .write_secret("staging.secret", "staging-secret-1\n");
    let report = r#"
data "sips_compliance_report" "all" {
  depends_on = [sips_credential.staging]
}

output "compliant" {
  value = data.sips_compliance_report.all.compliant
}

output "counts" {
  value = data.sips_compliance_report.all.status_counts
}
"#;
    fixture.configure(
        &["staging", "production"],
        &format!("{}{report}", staging_credential()),
    );
    fixture.apply();
    let outputs = fixture.run(&["output", "-json"]);
    outputs.expect_success();
    let outputs: Json = serde_json::from_str(&outputs.stdout).expect("output -json is JSON");
    assert_eq!(
        outputs["compliant"]["value"], true,
        "a fresh credential is compliant"
    );
    assert_eq!(
        outputs["counts"]["value"]["current"], 1,
        "one current entry"
    );

    // An entry issued 200 days ago, past SRS's 180-day limit, makes the report non-compliant.
    let store = fixture.store();
    let issued = time::OffsetDateTime::now_utc() - time::Duration::days(200);
    let mut metadata = EntryMetadata::default();
    for (key, value) in [
        (tag::ENVIRONMENT, "production".to_owned()),
        (tag::CLIENT_ID, "partner-old".to_owned()),
        (tag::MANAGED_BY, tag::MANAGED_BY_VALUE.to_owned()),
        (
            "sips:issued_at",
            sips::rotation::format_rfc3339(issued).expect("timestamp"),
        ),
    ] {
        metadata.tags.insert(key.to_owned(), value);
    }
    let old = NewEntry {
        name: entry_name("sips/production/partner-old"),
        value: Credential::new("partner-old", SecretString::from("old-production-secret")),
        metadata,
        token: RequestToken::from_fingerprint(b"old-production-secret"),
    };
    fixture
        .runtime
        .block_on(store.create(old))
        .expect("create the old entry");

    fixture.apply();
    let outputs = fixture.run(&["output", "-json"]);
    let outputs: Json = serde_json::from_str(&outputs.stdout).expect("output -json is JSON");
    assert_eq!(
        outputs["compliant"]["value"], false,
        "an expired entry is not compliant"
    );
    assert_eq!(
        outputs["counts"]["value"]["expired"], 1,
        "one expired entry"
    );
    assert_eq!(
        outputs["counts"]["value"]["current"], 1,
        "the fresh entry stays current"
    );
}

#[test]
fn create_rerun_adopts_own_entry() {
    // An apply killed after the store call but before Terraform saved the state leaves an
    // entry that the state does not know. Removing the resource from state reproduces that.
    let fixture = Fixture::new();
    fixture
        .workspace
        .write_secret("staging.secret", "staging-secret-1\n");
    fixture.configure(&["staging"], staging_credential());
    fixture.apply();
    let first = fixture.describe(STAGING_ENTRY);
    fixture
        .run(&["state", "rm", "sips_credential.staging"])
        .expect_success();

    let rerun = fixture.run(&["apply", "-input=false", "-no-color", "-auto-approve"]);
    rerun.expect_success();
    let adopted = fixture.describe(STAGING_ENTRY);
    assert_eq!(
        adopted.current().map(|v| v.id.clone()),
        first.current().map(|v| v.id.clone()),
        "the rerun adopts the entry's version instead of writing a second one"
    );
    assert_eq!(
        adopted.versions.len(),
        first.versions.len(),
        "no version added"
    );
    fixture.plan().expect_code(0);
}

#[test]
fn client_id_change_rewrites_document() {
    let fixture = Fixture::new();
    fixture
        .workspace
        .write_secret("staging.secret", "staging-secret-1\n");
    let named = staging_credential().replace(
        "aws_secrets_manager {}",
        "aws_secrets_manager {\n    name = \"sips/staging/fixed\"\n  }",
    );
    fixture.configure(&["staging"], &named);
    fixture.apply();
    let before = fixture.attributes("sips_credential.staging");

    fixture.configure(
        &["staging"],
        &named.replace("partner-a-staging", "partner-a-renamed"),
    );
    fixture.apply();
    let after = fixture.attributes("sips_credential.staging");
    assert_ne!(
        after["version_id"], before["version_id"],
        "a new version holds the new client_id"
    );
    assert_eq!(
        after["previous_version_id"], before["version_id"],
        "the old version is previous"
    );

    let store = fixture.store();
    let stored = fixture
        .runtime
        .block_on(store.read_value(&entry_name("sips/staging/fixed"), &VersionSelector::Current))
        .expect("read the current version");
    let VersionContent::Credential(credential) = stored.content else {
        panic!("the current version is a credential")
    };
    assert_eq!(
        credential.client_id(),
        "partner-a-renamed",
        "the document has the new client_id"
    );
    fixture.plan().expect_code(0);
}

#[test]
fn destroy_schedules_deletion() {
    let fixture = Fixture::new();
    fixture
        .workspace
        .write_secret("staging.secret", "staging-secret-1\n");
    fixture.configure(&["staging"], staging_credential());
    fixture.apply();

    let destroy = fixture.run(&["destroy", "-input=false", "-no-color", "-auto-approve"]);
    destroy.expect_success();

    let entry = fixture.describe(STAGING_ENTRY);
    assert!(
        entry.deletion_date.is_some(),
        "entry is scheduled for deletion, not force-deleted: {entry:?}"
    );
}

#[test]
fn environment_guard_rejects_production() {
    let mut fixture = Fixture::new();
    fixture
        .workspace
        .set_env("SIPS_PROD_SECRET", "production-secret-1");
    let resources = format!(
        "resource \"sips_rotation_policy\" \"standard\" {{\n  name = \"standard\"\n}}\n{}",
        production_credential()
    );
    fixture.configure(&["staging"], &resources);

    let plan = fixture.plan();
    plan.expect_code(1);
    assert!(
        plan.flat_output().contains("Environment not allowed"),
        "plan names the guard:\n{}",
        plan.output()
    );
}

#[test]
fn environment_guard_blocks_destroy() {
    let mut fixture = Fixture::new();
    fixture
        .workspace
        .set_env("SIPS_PROD_SECRET", "production-secret-1");
    let policy = "resource \"sips_rotation_policy\" \"standard\" {\n  name = \"standard\"\n}\n";
    fixture.configure(
        &["staging", "production"],
        &format!("{policy}{}", production_credential()),
    );
    fixture.apply();

    // A staging-only configuration that drops the production resource must not delete it.
    fixture.configure(&["staging"], policy);
    let destroy = fixture.run(&["apply", "-input=false", "-no-color", "-auto-approve"]);
    destroy.expect_failure();
    assert!(
        destroy.flat_output().contains("Environment not allowed"),
        "the apply names the guard:\n{}",
        destroy.output()
    );
    let entry = fixture.describe("sips/production/partner-a");
    assert!(
        entry.deletion_date.is_none(),
        "the production entry is not deleted: {entry:?}"
    );
}

#[test]
fn invalid_inputs_rejected() {
    let fixture = Fixture::new();
    fixture
        .workspace
        .write_secret("staging.secret", "staging-secret-1\n");
    let cases = [
        (
            "bad environment",
            r#"
resource "sips_credential" "bad" {
  environment        = "qa"
  client_id          = "partner-a"
  client_secret_file = "${path.module}/staging.secret"
  aws_secrets_manager {}
}
"#,
            vec!["environment must be one of", "\"qa\""],
        ),
        (
            "two secret sources",
            r#"
resource "sips_credential" "bad" {
  environment        = "staging"
  client_id          = "partner-a"
  client_secret_file = "${path.module}/staging.secret"
  client_secret_env  = "SIPS_STAGING_SECRET"
  aws_secrets_manager {}
}
"#,
            vec!["Conflicting client secret sources", "client_secret_env"],
        ),
        (
            "short recovery window",
            r#"
resource "sips_credential" "bad" {
  environment        = "staging"
  client_id          = "partner-a"
  client_secret_file = "${path.module}/staging.secret"
  aws_secrets_manager {
    recovery_window_days = 3
  }
}
"#,
            vec!["recovery_window_days", "whole number from 7 to 30"],
        ),
    ];

    for (case, resources, expected) in cases {
        fixture.configure(&["staging", "production"], resources);
        let plan = fixture.plan();
        plan.expect_code(1);
        let output = plan.flat_output();
        for message in expected {
            assert!(
                output.contains(message),
                "{case}: output lacks {message:?}:\n{}",
                plan.output()
            );
        }
    }
}

#[test]
fn secret_absent_from_state_plan_and_logs() {
    const PLANTED: &str = "planted-Canary-9c4e1b7d";
    const ROTATED: &str = "planted-Rotated-5a2f8e03";
    let mut fixture = Fixture::new();
    fixture.workspace.enable_trace();
    fixture
        .workspace
        .write_secret("staging.secret", &format!("{PLANTED}\n"));
    fixture.configure(&["staging"], staging_credential());

    let apply = fixture.apply();
    fixture
        .workspace
        .write_secret("staging.secret", &format!("{ROTATED}\n"));
    let plan = fixture.plan();
    plan.expect_code(2);
    let show = fixture.run(&["show", "-json", "-no-color"]);
    show.expect_success();
    let pull = fixture.run(&["state", "pull"]);
    pull.expect_success();

    let state_file = fixture.workspace.read("terraform.tfstate");
    let trace = fixture.workspace.trace_log();
    assert!(!trace.is_empty(), "TF_LOG_PATH receives the trace log");
    let places = [
        ("terraform.tfstate", state_file.as_str()),
        ("terraform show -json", show.stdout.as_str()),
        ("terraform state pull", pull.stdout.as_str()),
        ("apply stdout", apply.stdout.as_str()),
        ("apply stderr", apply.stderr.as_str()),
        ("plan stdout", plan.stdout.as_str()),
        ("plan stderr", plan.stderr.as_str()),
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
}
