//! Cross-check of the Key Vault test server with the official Python client
//! (azure-keyvault-secrets from PyPI), so the server cannot drift into responses that only
//! the Rust client accepts.
//!
//! The Python interpreter is `SIPS_TEST_PYTHON`, or the virtual environment that
//! `scripts/install-peers.sh` creates in `.tools/venv`. The test is skipped, with the reason
//! printed, only when the interpreter or the Python packages are missing.

mod support;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use support::keyvault::{self, KeyVaultServer};

/// Exit code of the script when its Python packages are missing.
const MISSING_PACKAGES: i32 = 3;

fn python() -> PathBuf {
    match std::env::var_os("SIPS_TEST_PYTHON") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".tools/venv/bin/python"),
    }
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/keyvault_cross_check.py")
}

#[test]
fn python_client_agrees_with_test_server() {
    let python = python();
    if !python.exists() {
        println!(
            "skipped: {} is missing; run scripts/install-peers.sh",
            python.display()
        );
        return;
    }
    let server = KeyVaultServer::start();
    let mut ca_file = tempfile::NamedTempFile::new().unwrap();
    ca_file.write_all(server.ca_pem().as_bytes()).unwrap();

    let output = Command::new(&python)
        .arg(script())
        .env("KEYVAULT_HOST", keyvault::VAULT_HOST)
        .env("KEYVAULT_PORT", server.address().port().to_string())
        .env("KEYVAULT_CA_FILE", ca_file.path())
        .env("KEYVAULT_TOKEN", keyvault::TEST_TOKEN)
        .env("KEYVAULT_API_VERSION", keyvault::API_VERSION)
        .env("REQUESTS_CA_BUNDLE", ca_file.path())
        // No proxy may see or redirect the loopback traffic.
        .env("NO_PROXY", "*")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("ALL_PROXY")
        .stdin(Stdio::null())
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.code() == Some(MISSING_PACKAGES) {
        println!("skipped: {stdout}; run scripts/install-peers.sh");
        return;
    }

    assert!(
        output.status.success(),
        "python client failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    assert!(stdout.contains(r#""checked": "ok""#), "{stdout}");
    let requests = server.requests();
    assert_eq!(
        requests[0].status, 401,
        "the client starts with the challenge"
    );
    assert!(
        !requests[0].has_body,
        "the challenge request carries no body"
    );
    assert!(requests[1..].iter().all(|request| request.authorized));
    assert!(
        requests
            .iter()
            .all(|request| request.api_version.as_deref() == Some(keyvault::API_VERSION))
    );
    let operations: Vec<String> = requests
        .iter()
        .map(|request| format!("{} {}", request.method, request.path))
        .collect();
    for expected in [
        "PUT /secrets/sips-python-cross-check",
        "GET /secrets/sips-python-cross-check/versions",
        "PATCH /secrets/sips-python-cross-check",
        "DELETE /secrets/sips-python-cross-check",
        "GET /deletedsecrets/sips-python-cross-check",
        "POST /deletedsecrets/sips-python-cross-check/recover",
    ] {
        assert!(
            operations
                .iter()
                .any(|operation| operation.starts_with(expected)),
            "{expected} not sent: {operations:?}"
        );
    }
}
