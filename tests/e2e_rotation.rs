//! Rotation stories for `sips_credential` through the real Terraform CLI against a moto_server
//! per test: deadline findings on imported entries, retirement of the previous version,
//! revocation, verification of new secrets with SRS's token endpoint, and the audit log.
#![cfg(feature = "aws")]

mod support;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value as Json;
use sips::stores::aws::{AwsSecretsStore, AwsSettings, StaticCredentials};
use sips::stores::{
    Credential, EntryMetadata, EntryName, EntryState, NewEntry, RequestToken, SecretStore,
    StoreError, StoredValue, VersionContent, VersionSelector, tag,
};
use support::moto::{self, MotoServer};
use support::terraform::{Installation, Run, Workspace};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const REGION: &str = "eu-west-1";
const STAGING_ENTRY: &str = "sips/staging/partner-a-staging";
const STAGING_CLIENT_ID: &str = "partner-a-staging";
/// Tag from which the provider reads the issue time of an imported entry.
const TAG_ISSUED_AT: &str = "sips:issued_at";

/// A moto_server and a Terraform workspace whose provider points at it.
struct Fixture {
    moto: MotoServer,
    workspace: Workspace,
    runtime: tokio::runtime::Runtime,
}

impl Fixture {
    fn new() -> Self {
        Self {
            moto: MotoServer::start(),
            workspace: Workspace::new(Installation::DevOverrides),
            runtime: tokio::runtime::Runtime::new().expect("tokio runtime"),
        }
    }

    /// Writes `main.tf`: a provider block for staging with `provider_settings` added to it,
    /// then `resources`.
    fn configure(&self, provider_settings: &str, resources: &str) {
        let config = format!(
            "{required}\nprovider \"sips\" {{\n  environments = [\"staging\"]\n\
             {provider_settings}\n  aws {{\n    region = \"{REGION}\"\n    \
             endpoint = \"{endpoint}\"\n    use_instance_metadata = false\n  }}\n}}\n{resources}",
            required = self.workspace.required_providers(),
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

    /// Runs `terraform apply` and leaves the exit code to the caller.
    fn try_apply(&self) -> Run {
        self.run(&["apply", "-input=false", "-no-color", "-auto-approve"])
    }

    fn apply(&self) -> Run {
        let run = self.try_apply();
        run.expect_success();
        run
    }

    fn import(&self, address: &str, entry: &str) -> Run {
        let run = self.run(&["import", "-input=false", "-no-color", address, entry]);
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

    fn read_value(
        &self,
        entry: &str,
        selector: VersionSelector,
    ) -> Result<StoredValue, StoreError> {
        let store = self.store();
        self.runtime
            .block_on(store.read_value(&entry_name(entry), &selector))
    }

    fn version_ids(&self, entry: &str) -> Vec<String> {
        let store = self.store();
        let versions = self
            .runtime
            .block_on(store.list_versions(&entry_name(entry)))
            .unwrap_or_else(|error| panic!("list_versions {entry}: {error}"));
        versions
            .into_iter()
            .map(|version| version.id.as_str().to_owned())
            .collect()
    }

    /// Creates a staging entry through the store API, as a credential issued `age_days` ago
    /// outside Terraform, for a later import.
    fn create_issued_days_ago(&self, entry: &str, client_id: &str, secret: &str, age_days: i64) {
        let issued_at = (OffsetDateTime::now_utc() - time::Duration::days(age_days))
            .replace_nanosecond(0)
            .expect("zero nanoseconds are valid")
            .format(&Rfc3339)
            .expect("RFC 3339 timestamp");
        let mut metadata = EntryMetadata::default();
        for (key, value) in [
            (tag::ENVIRONMENT, "staging"),
            (tag::CLIENT_ID, client_id),
            (TAG_ISSUED_AT, issued_at.as_str()),
        ] {
            metadata.tags.insert(key.to_owned(), value.to_owned());
        }
        let new_entry = NewEntry {
            name: entry_name(entry),
            value: Credential::new(client_id, SecretString::from(secret)),
            metadata,
            token: RequestToken::from_fingerprint(secret.as_bytes()),
        };
        let store = self.store();
        self.runtime
            .block_on(store.create(new_entry))
            .unwrap_or_else(|error| panic!("create {entry}: {error}"));
    }
}

fn entry_name(text: &str) -> EntryName {
    EntryName::new(text).expect("valid entry name")
}

fn text(value: &Json) -> &str {
    value.as_str().unwrap_or_default()
}

/// Returns whether `stored` is a credential whose secret equals `secret`, without printing it.
fn holds_secret(stored: &StoredValue, secret: &str) -> bool {
    match &stored.content {
        VersionContent::Credential(credential) => {
            credential.client_secret().expose_secret() == secret
        }
        VersionContent::Revoked(_) => false,
    }
}

/// Builds a policy named `standard` with `enforcement` and a staging credential that uses it,
/// reads its secret from `staging.secret` and sets the `extra` attributes.
fn staging_credential(enforcement: &str, extra: &str) -> String {
    format!(
        r#"
resource "sips_rotation_policy" "standard" {{
  name        = "standard"
  enforcement = "{enforcement}"
}}

resource "sips_credential" "staging" {{
  environment        = "staging"
  client_id          = "{STAGING_CLIENT_ID}"
  client_secret_file = "${{path.module}}/staging.secret"
  rotation_policy    = sips_rotation_policy.standard.rules
{extra}
  aws_secrets_manager {{}}
}}
"#
    )
}

/// Sets up an entry for `client_id` issued `age_days` ago, imports it, and configures a
/// policy with `enforcement` over it.
fn imported_credential(client_id: &str, age_days: i64, enforcement: &str) -> Fixture {
    let fixture = Fixture::new();
    let entry = format!("sips/staging/{client_id}");
    let secret = format!("{client_id}-secret-1");
    fixture.create_issued_days_ago(&entry, client_id, &secret, age_days);
    fixture
        .workspace
        .write_secret("imported.secret", &format!("{secret}\n"));
    fixture.configure(
        "",
        &format!(
            r#"
resource "sips_rotation_policy" "standard" {{
  name        = "standard"
  enforcement = "{enforcement}"
}}

resource "sips_credential" "imported" {{
  environment        = "staging"
  client_id          = "{client_id}"
  client_secret_file = "${{path.module}}/imported.secret"
  rotation_policy    = sips_rotation_policy.standard.rules
  aws_secrets_manager {{}}
}}
"#
        ),
    );
    let import = fixture.import("sips_credential.imported", &entry);
    assert!(
        import.stdout.contains("Import successful"),
        "import reports success:\n{}",
        import.stdout
    );
    fixture
}

#[test]
fn import_issued_100_days_ago_warns_due() {
    let fixture = imported_credential("partner-c", 100, "error");
    let attributes = fixture.attributes("sips_credential.imported");
    assert_eq!(
        text(&attributes["rotation_status"]),
        "due",
        "a credential 100 days old is due under the default 90 days"
    );

    let plan = fixture.plan();
    plan.expect_code(2);
    let output = plan.flat_output();
    assert!(
        output.contains("Warning: Credential rotation due"),
        "plan warns that rotation is due:\n{}",
        plan.output()
    );
    assert!(
        output.contains("client_id partner-c"),
        "the warning names the client_id:\n{}",
        plan.output()
    );
    assert!(
        output.contains("staging credential"),
        "the warning names the environment:\n{}",
        plan.output()
    );
    assert!(
        !output.contains("Credential expired"),
        "a credential inside its 180 days is not expired:\n{}",
        plan.output()
    );
}

#[test]
fn expired_entry_fails_plan_with_error_enforcement() {
    let fixture = imported_credential("partner-d", 200, "error");
    let attributes = fixture.attributes("sips_credential.imported");
    assert_eq!(
        text(&attributes["rotation_status"]),
        "expired",
        "a credential 200 days old is past the 180-day limit"
    );

    let plan = fixture.plan();
    plan.expect_code(1);
    let output = plan.flat_output();
    assert!(
        output.contains("Error: Credential expired"),
        "plan fails on the passed mandatory deadline:\n{}",
        plan.output()
    );
    assert!(
        output.contains("staging credential for client_id partner-d"),
        "the error names the environment and client_id:\n{}",
        plan.output()
    );
}

#[test]
fn expired_entry_warns_with_warn_enforcement() {
    let fixture = imported_credential("partner-e", 200, "warn");

    let plan = fixture.plan();
    plan.expect_code(2);
    let output = plan.flat_output();
    assert!(
        output.contains("Warning: Credential expired"),
        "plan only warns about the passed deadline:\n{}",
        plan.output()
    );
    assert!(
        output.contains("staging credential for client_id partner-e"),
        "the warning names the environment and client_id:\n{}",
        plan.output()
    );
    assert!(
        !output.contains("Error:"),
        "warn enforcement leaves the plan without errors:\n{}",
        plan.output()
    );

    // With "warn", other changes (here the secret source and the policy) can still be applied.
    let apply = fixture.apply();
    assert!(
        apply.flat_output().contains("Warning: Credential expired"),
        "apply repeats the warning:\n{}",
        apply.output()
    );
}

#[test]
fn rotation_keeps_previous_until_retired() {
    let fixture = Fixture::new();
    fixture
        .workspace
        .write_secret("staging.secret", "staging-secret-1\n");
    fixture.configure("", &staging_credential("error", ""));
    fixture.apply();
    let first = fixture.attributes("sips_credential.staging");
    let first_version = text(&first["version_id"]).to_owned();
    assert!(
        first["previous_version_id"].is_null(),
        "a new credential has no previous version: {first}"
    );

    fixture
        .workspace
        .write_secret("staging.secret", "staging-secret-2\n");
    fixture.apply();
    let rotated = fixture.attributes("sips_credential.staging");
    let second_version = text(&rotated["version_id"]).to_owned();
    assert_ne!(
        second_version, first_version,
        "rotation writes a new version"
    );
    assert_eq!(
        text(&rotated["previous_version_id"]),
        first_version,
        "previous_version_id is the version that was replaced"
    );
    assert!(
        !rotated["previous_retire_at"].is_null(),
        "the overlap end of the previous version is shown: {rotated}"
    );
    let entry = fixture.describe(STAGING_ENTRY);
    assert_eq!(
        entry.previous().map(|version| version.id.as_str()),
        Some(first_version.as_str()),
        "moto keeps the replaced version as AWSPREVIOUS"
    );
    let previous = fixture
        .read_value(STAGING_ENTRY, VersionSelector::Previous)
        .expect("the previous version stays readable");
    assert!(
        holds_secret(&previous, "staging-secret-1"),
        "the previous version still serves the old secret"
    );

    fixture.configure("", &staging_credential("error", "  retire_previous = true"));
    let plan = fixture.plan();
    plan.expect_code(2);
    assert!(
        plan.stdout
            .lines()
            .any(|line| line.contains("previous_version_id") && line.contains("-> null")),
        "plan shows previous_version_id going to null:\n{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "retirement is an in-place update:\n{}",
        plan.stdout
    );
    fixture.apply();

    let retired = fixture.attributes("sips_credential.staging");
    assert!(
        retired["previous_version_id"].is_null(),
        "state has no previous version after retirement: {retired}"
    );
    assert_eq!(
        text(&retired["version_id"]),
        second_version,
        "retirement keeps the current version"
    );
    let entry = fixture.describe(STAGING_ENTRY);
    assert!(
        entry.previous().is_none(),
        "no version carries AWSPREVIOUS after retirement: {entry:?}"
    );
    assert!(
        matches!(
            fixture.read_value(STAGING_ENTRY, VersionSelector::Previous),
            Err(StoreError::NotFound { .. })
        ),
        "reading the previous stage finds nothing after retirement"
    );
    let history = fixture.version_ids(STAGING_ENTRY);
    assert!(
        history.contains(&first_version),
        "the retired version stays in the history: {history:?}"
    );
    assert!(
        history.contains(&second_version),
        "the current version is in the history: {history:?}"
    );

    fixture.plan().expect_code(0);
}

#[test]
fn revoked_makes_secret_unusable() {
    let fixture = Fixture::new();
    fixture
        .workspace
        .write_secret("staging.secret", "staging-secret-1\n");
    fixture.configure("", &staging_credential("error", ""));
    fixture.apply();
    let created = fixture.attributes("sips_credential.staging");
    let compromised_version = text(&created["version_id"]).to_owned();

    fixture.configure("", &staging_credential("error", "  revoked = true"));
    let plan = fixture.plan();
    plan.expect_code(2);
    assert!(
        plan.stdout.contains("\"revoked\""),
        "plan shows the status going to revoked:\n{}",
        plan.stdout
    );
    fixture.apply();

    let revoked = fixture.attributes("sips_credential.staging");
    assert_eq!(
        text(&revoked["rotation_status"]),
        "revoked",
        "state records the revocation"
    );
    let current = fixture
        .read_value(STAGING_ENTRY, VersionSelector::Current)
        .expect("the current stage is readable");
    match &current.content {
        VersionContent::Revoked(tombstone) => assert_eq!(
            tombstone.revoked_version.as_ref().map(|id| id.as_str()),
            Some(compromised_version.as_str()),
            "the revocation marker names the revoked version"
        ),
        VersionContent::Credential(_) => panic!("the current version still serves a secret"),
    }
    assert_eq!(
        current.version_id.as_str(),
        text(&revoked["version_id"]),
        "state version_id is the revocation marker"
    );
    match fixture.read_value(STAGING_ENTRY, VersionSelector::Previous) {
        Err(StoreError::NotFound { .. }) => {}
        Err(error) => panic!("reading the previous stage failed unexpectedly: {error}"),
        Ok(previous) => assert!(
            !holds_secret(&previous, "staging-secret-1"),
            "the revoked secret is not served as the previous version"
        ),
    }
    let entry = fixture.describe(STAGING_ENTRY);
    assert_eq!(
        entry.revoked().map(|version| version.id.as_str()),
        Some(compromised_version.as_str()),
        "the revoked version stays in the history under its revoked label"
    );

    let plan = fixture.plan();
    plan.expect_code(1);
    let output = plan.flat_output();
    assert!(
        output.contains("Error: Credential revoked"),
        "the plan after revocation fails:\n{}",
        plan.output()
    );
    assert!(
        output.contains("client_id partner-a-staging"),
        "the error names the client_id:\n{}",
        plan.output()
    );

    fixture
        .workspace
        .write_secret("staging.secret", "staging-secret-2\n");
    let plan = fixture.plan();
    plan.expect_code(2);
    assert!(
        plan.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "a new secret plans an in-place rotation:\n{}",
        plan.stdout
    );
    fixture.apply();

    let replaced = fixture.attributes("sips_credential.staging");
    assert_eq!(
        text(&replaced["rotation_status"]),
        "current",
        "the rotation ends the revoked status"
    );
    let current = fixture
        .read_value(STAGING_ENTRY, VersionSelector::Current)
        .expect("the current stage is readable");
    assert!(
        holds_secret(&current, "staging-secret-2"),
        "the current version serves the new secret"
    );
    if let Ok(previous) = fixture.read_value(STAGING_ENTRY, VersionSelector::Previous) {
        assert!(
            !holds_secret(&previous, "staging-secret-1"),
            "the revoked secret does not come back as the previous version"
        );
    }

    fixture.plan().expect_code(0);
}

/// One request that the token endpoint received, split into its parts.
#[derive(Clone, Debug)]
struct TokenRequest {
    request_line: String,
    headers: Vec<(String, String)>,
    body: String,
    /// Password from the basic authorization header, if there was one.
    password: Option<String>,
}

/// An OAuth2 token endpoint on 127.0.0.1 that accepts exactly one client secret. It serves
/// one request per connection from a thread, and stops on drop.
struct TokenEndpoint {
    port: u16,
    requests: Arc<Mutex<Vec<TokenRequest>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TokenEndpoint {
    fn start(allowed_secret: &str) -> Self {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind token endpoint");
        let port = listener.local_addr().expect("local address").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let requests = Arc::clone(&requests);
            let stop = Arc::clone(&stop);
            let allowed = allowed_secret.to_owned();
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    if let Some(request) = serve_token_request(stream, &allowed) {
                        requests.lock().expect("request log").push(request);
                    }
                }
            })
        };
        Self {
            port,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/token", self.port)
    }

    fn requests(&self) -> Vec<TokenRequest> {
        self.requests.lock().expect("request log").clone()
    }
}

impl Drop for TokenEndpoint {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // One more connection wakes the accept loop so that it checks the stop flag.
        let _ = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads one HTTP/1.1 request and responds 200 with a token when the basic-auth password is
/// `allowed`, or 401 `invalid_client` otherwise.
fn serve_token_request(stream: TcpStream, allowed: &str) -> Option<TokenRequest> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).ok()?;
    if request_line.trim().is_empty() {
        return None;
    }
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let length = header(&headers, "content-length")
        .and_then(|value| value.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let password = header(&headers, "authorization").and_then(basic_password);

    let (status, json) = if password.as_deref() == Some(allowed) {
        ("200 OK", r#"{"access_token":"x","token_type":"bearer"}"#)
    } else {
        ("401 Unauthorized", r#"{"error":"invalid_client"}"#)
    };
    let mut stream = stream;
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{json}",
        json.len()
    );
    stream.write_all(response.as_bytes()).ok()?;
    Some(TokenRequest {
        request_line: request_line.trim_end().to_owned(),
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        password,
    })
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

fn basic_password(authorization: &str) -> Option<String> {
    let encoded = authorization.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (_, password) = text.split_once(':')?;
    Some(password.to_owned())
}

#[test]
fn vendor_rejection_keeps_old_secret() {
    const ALLOWED: &str = "issued-by-srs-7f3a9c21";
    const REJECTED: &str = "unknown-to-srs-4b8e6d05";
    let endpoint = TokenEndpoint::start(ALLOWED);
    let mut fixture = Fixture::new();
    fixture.workspace.enable_trace();
    let verification = format!(
        "  verification {{\n    token_url = \"{}\"\n  }}",
        endpoint.url()
    );

    fixture
        .workspace
        .write_secret("staging.secret", &format!("{ALLOWED}\n"));
    fixture.configure(&verification, &staging_credential("error", ""));
    let create = fixture.apply();
    let accepted = endpoint.requests();
    assert_eq!(
        accepted.len(),
        1,
        "creating the credential verifies its secret once"
    );
    assert!(
        accepted[0].password.as_deref() == Some(ALLOWED),
        "the create sends the configured secret as the basic-auth password"
    );
    let created = fixture.attributes("sips_credential.staging");
    let kept_version = text(&created["version_id"]).to_owned();

    fixture
        .workspace
        .write_secret("staging.secret", &format!("{REJECTED}\n"));
    let plan = fixture.plan();
    plan.expect_code(2);
    let rejected = fixture.try_apply();
    rejected.expect_failure();
    let output = rejected.flat_output();
    assert!(
        output.contains("SRS rejected the new client secret"),
        "apply fails with the rejection:\n{}",
        rejected.output()
    );
    assert!(
        output.contains("client_id partner-a-staging"),
        "the rejection names the client_id:\n{}",
        rejected.output()
    );

    let entry = fixture.describe(STAGING_ENTRY);
    assert_eq!(
        entry.current().map(|version| version.id.as_str()),
        Some(kept_version.as_str()),
        "the store's current version is unchanged"
    );
    assert_eq!(
        fixture.version_ids(STAGING_ENTRY),
        vec![kept_version.clone()],
        "the rejected secret wrote no version"
    );
    let current = fixture
        .read_value(STAGING_ENTRY, VersionSelector::Current)
        .expect("the current stage is readable");
    assert!(
        holds_secret(&current, ALLOWED),
        "the current version still serves the accepted secret"
    );

    let requests = endpoint.requests();
    assert_eq!(
        requests.len(),
        2,
        "the rejected secret is sent once; a 401 is not retried"
    );
    assert!(
        requests[1].password.as_deref() == Some(REJECTED),
        "the rotation sends the new secret as the basic-auth password"
    );
    for (index, request) in requests.iter().enumerate() {
        assert!(
            request.request_line.starts_with("POST /token "),
            "request {index} is a POST to the token path: {}",
            request.request_line
        );
        for secret in [ALLOWED, REJECTED] {
            assert!(
                !request.request_line.contains(secret),
                "request {index} carries a secret in its request line"
            );
            assert!(
                !request.body.contains(secret),
                "request {index} carries a secret in its body"
            );
            assert!(
                request
                    .headers
                    .iter()
                    .filter(|(name, _)| name != "authorization")
                    .all(|(_, value)| !value.contains(secret)),
                "request {index} carries a secret in a header other than authorization"
            );
        }
    }

    let state_file = fixture.workspace.read("terraform.tfstate");
    let trace = fixture.workspace.trace_log();
    let places = [
        ("create apply output", create.output()),
        ("plan output", plan.output()),
        ("rejected apply output", rejected.output()),
        ("terraform.tfstate", state_file),
        ("trace log", trace),
    ];
    for (place, content) in &places {
        for secret in [ALLOWED, REJECTED] {
            assert!(
                !content.contains(secret),
                "{place} contains a planted secret"
            );
        }
    }
}

#[test]
fn audit_log_records_changes() {
    const FIRST: &str = "audited-secret-1c9e";
    const SECOND: &str = "audited-secret-2d0f";
    let fixture = Fixture::new();
    let audit_path = fixture.workspace.path().join("audit.jsonl");
    let settings = format!("  audit_log_path = {:?}", audit_path.display().to_string());

    fixture
        .workspace
        .write_secret("staging.secret", &format!("{FIRST}\n"));
    fixture.configure(&settings, &staging_credential("error", ""));
    fixture.apply();
    fixture
        .workspace
        .write_secret("staging.secret", &format!("{SECOND}\n"));
    fixture.apply();
    fixture
        .run(&["destroy", "-input=false", "-no-color", "-auto-approve"])
        .expect_success();

    let log = std::fs::read_to_string(&audit_path).expect("the audit log exists");
    for secret in [FIRST, SECOND] {
        assert!(!log.contains(secret), "the audit log contains a secret");
    }
    let events: Vec<Json> = log
        .lines()
        .map(|line| serde_json::from_str(line).expect("each audit line is one JSON object"))
        .collect();
    let actions: Vec<&str> = events.iter().map(|event| text(&event["action"])).collect();
    assert_eq!(
        actions,
        ["create", "rotate", "delete"],
        "one event per change, in order"
    );
    for event in &events {
        let action = text(&event["action"]);
        assert_eq!(
            text(&event["client_id"]),
            STAGING_CLIENT_ID,
            "{action} names the client_id"
        );
        assert_eq!(
            text(&event["environment"]),
            "staging",
            "{action} names the environment"
        );
        assert_eq!(
            text(&event["entry"]),
            STAGING_ENTRY,
            "{action} names the entry"
        );
        assert_eq!(
            text(&event["outcome"]["status"]),
            "succeeded",
            "{action} succeeded"
        );
        assert!(
            !text(&event["actor"]).is_empty(),
            "{action} names who made the change"
        );
    }
    let versions: BTreeSet<&str> = events[..2]
        .iter()
        .flat_map(|event| event["version_ids"].as_array().into_iter().flatten())
        .map(text)
        .collect();
    assert_eq!(
        versions.len(),
        2,
        "create and rotate each record the version they wrote: {events:?}"
    );
}
