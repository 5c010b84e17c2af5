//! Checks that the Terraform files under `examples/`, which the docs embed, are formatted the
//! way `terraform fmt` writes them.
//!
//! The test uses `<repo>/.tools/bin/terraform` (Terraform 1.0.3), which
//! `scripts/install-peers.sh` installs. Without it the test prints why and passes, so that a
//! plain `cargo test` works before the peers are installed; CI installs them.
//!
//! `terraform validate` needs the provider binary installed for Terraform, so the end-to-end
//! suite validates the examples, not this test.

use std::path::{Path, PathBuf};
use std::process::Command;

fn terraform_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/bin/terraform")
}

#[test]
fn examples_are_formatted() {
    let terraform = terraform_path();
    if !terraform.exists() {
        println!(
            "skipped: {} is missing; run scripts/install-peers.sh to install it",
            terraform.display()
        );
        return;
    }
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
