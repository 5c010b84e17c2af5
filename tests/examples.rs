//! Checks the Terraform files under `examples/`, which the docs embed: they are formatted the
//! way `terraform fmt` writes them, and every example directory passes `terraform validate`
//! against this crate's provider schema. Examples with `ephemeral` blocks are not validated,
//! because Terraform 1.0.3 cannot parse them.
//!
//! The tests use `<repo>/.tools/bin/terraform` (Terraform 1.0.3), which
//! `scripts/install-peers.sh` installs. Without it they print why and pass, so that a plain
//! `cargo test` works before the peers are installed; CI installs them.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::terraform::{Installation, Workspace};

fn terraform_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/bin/terraform")
}

/// Prints why a test is skipped and returns false when the Terraform binary is missing.
fn terraform_installed() -> bool {
    let terraform = terraform_path();
    if !terraform.exists() {
        println!(
            "skipped: {} is missing; run scripts/install-peers.sh to install it",
            terraform.display()
        );
    }
    terraform.exists()
}

#[test]
fn examples_are_formatted() {
    if !terraform_installed() {
        return;
    }
    let terraform = terraform_path();
    let output = Command::new(&terraform)
        .args([
            "fmt",
            "-check",
            "-recursive",
            "-diff",
            "-no-color",
            "examples",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .unwrap_or_else(|error| panic!("failed to run {}: {error}", terraform.display()));
    assert!(
        output.status.success(),
        "terraform fmt found unformatted examples; run `.tools/bin/terraform fmt -recursive \
         examples`:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Returns every directory below `dir` that contains `.tf` files, in sorted order.
fn example_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("read {}: {error}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    entries.sort();
    if entries.iter().any(|path| is_terraform_file(path)) {
        found.push(dir.to_owned());
    }
    for path in entries.iter().filter(|path| path.is_dir()) {
        found.extend(example_dirs(path));
    }
    found
}

/// Returns true when a `.tf` file in `dir` declares an ephemeral resource.
fn uses_ephemeral_blocks(dir: &Path) -> bool {
    fs::read_dir(dir).unwrap().any(|entry| {
        let path = entry.unwrap().path();
        is_terraform_file(&path)
            && fs::read_to_string(&path)
                .unwrap()
                .lines()
                .any(|line| line.starts_with("ephemeral \""))
    })
}

fn is_terraform_file(path: &Path) -> bool {
    path.is_file() && path.extension().is_some_and(|extension| extension == "tf")
}

/// Copies the `.tf` files of `example` into a workspace that runs the test build through
/// `dev_overrides`, adding a `required_providers` block when the example has none, because
/// without it Terraform would look for `hashicorp/sips`.
fn workspace_for(example: &Path) -> Workspace {
    let workspace = Workspace::new(Installation::DevOverrides);
    let mut declares_provider = false;
    for entry in fs::read_dir(example).unwrap() {
        let path = entry.unwrap().path();
        if !is_terraform_file(&path) {
            continue;
        }
        let contents = fs::read_to_string(&path).unwrap();
        declares_provider |= contents.contains("required_providers");
        workspace.write(path.file_name().unwrap().to_str().unwrap(), &contents);
    }
    if !declares_provider {
        workspace.write("versions.tf", &workspace.required_providers());
    }
    workspace
}

#[test]
fn examples_pass_validate() {
    if !terraform_installed() {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let examples = example_dirs(&root.join("examples"));
    let names: Vec<String> = examples
        .iter()
        .map(|dir| dir.strip_prefix(root).unwrap().display().to_string())
        .collect();
    for expected in [
        "examples/data-sources/sips_compliance_report",
        "examples/provider",
        "examples/quickstart",
        "examples/resources/sips_credential",
        "examples/resources/sips_rotation_policy",
    ] {
        assert!(
            names.iter().any(|name| name == expected),
            "{expected} not found among {names:?}"
        );
    }

    // With dev_overrides Terraform 1.0.3 validates without `terraform init`.
    for (example, name) in examples.iter().zip(&names) {
        // NOTE: `ephemeral` blocks need Terraform 1.10 or OpenTofu 1.10, newer than the
        // Terraform 1.0.3 installed for tests, so those examples are only format-checked.
        if uses_ephemeral_blocks(example) {
            println!("not validated: {name} declares ephemeral resources");
            continue;
        }
        let workspace = workspace_for(example);
        let run = workspace.run(&["validate", "-no-color"]);
        assert_eq!(
            run.code,
            Some(0),
            "terraform validate failed for {name}:\n{}",
            run.output()
        );
        assert!(
            run.stdout.contains("The configuration is valid"),
            "terraform validate printed no success for {name}:\n{}",
            run.output()
        );
    }
}
