//! Runs `scripts/package.sh` on the test build and installs the result with `terraform init`
//! from the filesystem mirror it lays out, under both registry hostnames.
//!
//! The script packages the binary that cargo built for the tests (`--binary`), so the test
//! runs no second cargo build. Needs `.tools/bin/terraform` from `scripts/install-peers.sh`
//! and `python3`, which the script uses for the zip and the checksums.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;
use sha2::{Digest, Sha256};
use support::terraform::{MIRROR_VERSION, Workspace};

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Returns the platform in Terraform's `<os>_<arch>` form, as `scripts/package.sh` derives it.
fn platform() -> String {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    format!("{os}_{arch}")
}

fn provider_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-sips"))
}

/// Returns the SHA-256 of a file in hex, computed by Python's hashlib: the sha2 crate without
/// optimisation, as test builds compile it, took 19 s for the 220 MB debug binary on a busy
/// 2-core machine.
fn file_sha256_hex(path: &Path) -> String {
    let output = Command::new("python3")
        .args([
            "-c",
            "import hashlib, sys\n\
             digest = hashlib.sha256()\n\
             with open(sys.argv[1], 'rb') as file:\n\
             \x20   for block in iter(lambda: file.read(1 << 20), b''):\n\
             \x20       digest.update(block)\n\
             print(digest.hexdigest())",
        ])
        .arg(path)
        .output()
        .expect("run python3");
    assert!(
        output.status.success(),
        "hashing {} failed: {}",
        path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

fn read(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|error| panic!("read {}: {error}", path.display()))
}

/// Returns the `h1:` hash that Terraform records in the lock file for a package holding one
/// file: SHA-256 over the line `<hex sha256 of the file>  <file name>\n`, in base64.
fn package_hash_h1(file_name: &str, file_sha256_hex: &str) -> String {
    let line = format!("{file_sha256_hex}  {file_name}\n");
    let digest = Sha256::digest(line.as_bytes());
    format!(
        "h1:{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// Runs the packaging script into a temp dir and returns that dir.
fn package() -> tempfile::TempDir {
    let out = tempfile::tempdir().expect("temp dir for the package");
    let output = Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/package.sh"))
        .arg("--binary")
        .arg(provider_binary())
        .arg("--out")
        .arg(out.path())
        .output()
        .expect("run scripts/package.sh");
    assert!(
        output.status.success(),
        "scripts/package.sh failed\n--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    out
}

/// Checks every line of SHA256SUMS against the file it names, and returns the named files.
fn check_sums(out: &Path) -> Vec<String> {
    let sums =
        fs::read_to_string(out.join(format!("terraform-provider-sips_{VERSION}_SHA256SUMS")))
            .expect("SHA256SUMS is written");
    let mut named = Vec::new();
    for line in sums.lines() {
        let (hash, file_name) = line
            .split_once("  ")
            .unwrap_or_else(|| panic!("SHA256SUMS line is not `<hash>  <file>`: {line:?}"));
        assert_eq!(
            hash,
            file_sha256_hex(&out.join(file_name)),
            "SHA256SUMS hash of {file_name}"
        );
        named.push(file_name.to_owned());
    }
    named
}

/// Runs `terraform init` for `source` against the packaged mirror and returns the workspace.
fn init_from_mirror(mirror: &Path, source: &str) -> Workspace {
    let workspace = Workspace::with_mirror(mirror);
    workspace.write(
        "main.tf",
        &format!(
            "terraform {{\n  required_providers {{\n    sips = {{\n      source  = \"{source}\"\n      \
             version = \"{VERSION}\"\n    }}\n  }}\n}}\n"
        ),
    );
    workspace.init();
    workspace
}

/// Checks the lock file entry and the installed copy of `binary` for `host`.
fn check_installed(workspace: &Workspace, host: &str, binary: &[u8], binary_sha256_hex: &str) {
    let binary_name = format!("terraform-provider-sips_v{VERSION}");
    let lock = workspace.read(".terraform.lock.hcl");

    assert!(
        lock.contains(&format!("provider \"{host}/srs/sips\"")),
        "lock file has no entry for {host}/srs/sips:\n{lock}"
    );
    assert!(
        lock.contains(&format!("version     = \"{VERSION}\"")),
        "lock file does not record version {VERSION}:\n{lock}"
    );
    let h1 = package_hash_h1(&binary_name, binary_sha256_hex);
    assert!(
        lock.contains(&h1),
        "lock file does not record {h1}, the hash of the packaged binary:\n{lock}"
    );

    let installed = workspace.path().join(format!(
        ".terraform/providers/{host}/srs/sips/{VERSION}/{}/{binary_name}",
        platform()
    ));
    let installed = read(&installed);
    assert_eq!(
        installed.len(),
        binary.len(),
        "size of the installed binary"
    );
    assert!(
        installed == binary,
        "installed binary differs from the build"
    );
}

#[test]
fn package_installs_from_mirror() {
    assert_eq!(
        VERSION, MIRROR_VERSION,
        "tests/support/terraform.rs asks for another version than Cargo.toml"
    );
    let out = package();
    let archive = format!("terraform-provider-sips_{VERSION}_{}.zip", platform());
    let manifest = format!("terraform-provider-sips_{VERSION}_manifest.json");

    let named = check_sums(out.path());
    assert_eq!(
        named,
        [archive.clone(), manifest.clone()],
        "files in SHA256SUMS"
    );

    let manifest_text = fs::read_to_string(out.path().join(&manifest)).unwrap();
    assert_eq!(
        manifest_text.trim_end(),
        r#"{"version":1,"metadata":{"protocol_versions":["5.0","6.0"]}}"#
    );

    let mirror = out.path().join("mirror");
    let released = read(&out.path().join(&archive));
    for host in ["registry.terraform.io", "registry.opentofu.org"] {
        let mirrored = read(&mirror.join(host).join("srs/sips").join(&archive));
        assert!(
            mirrored == released,
            "zip in the {host} mirror differs from {archive}"
        );
    }

    let binary = read(&provider_binary());
    let binary_sha256 = file_sha256_hex(&provider_binary());
    let terraform = init_from_mirror(&mirror, "srs/sips");
    check_installed(&terraform, "registry.terraform.io", &binary, &binary_sha256);

    // Terraform 1.0.3 installs under any hostname, so it checks OpenTofu's part of the mirror.
    let opentofu = init_from_mirror(&mirror, "registry.opentofu.org/srs/sips");
    check_installed(&opentofu, "registry.opentofu.org", &binary, &binary_sha256);
}
