//! `sips_rotation_policy` through the real Terraform CLI over protocol 5 and 6: install,
//! plan, apply, a clean second plan, import into a fresh state, destroy and validation.

mod support;

use support::terraform::{Installation, Workspace};

const POLICY: &str = r#"
provider "sips" {
  environments = ["staging", "production"]
}

resource "sips_rotation_policy" "standard" {
  name = "standard"
}
"#;

/// Creates a workspace that installs the provider from a filesystem mirror and forces `protocol`.
fn workspace(protocol: u8) -> Workspace {
    let mut workspace = Workspace::new(Installation::FilesystemMirror);
    workspace.set_env("SIPS_PLUGIN_PROTOCOL_VERSIONS", &protocol.to_string());
    workspace.enable_trace();
    workspace
}

/// Checks in the trace log that the provider served the forced protocol version.
fn assert_served_protocol(workspace: &Workspace, protocol: u8) {
    let trace = workspace.trace_log();
    let started: Vec<&str> = trace
        .lines()
        .filter(|line| line.contains("plugin server started"))
        .collect();
    assert!(
        !started.is_empty(),
        "the trace log has the provider's start line"
    );
    let expected = format!("protocol_version={protocol}");
    for line in started {
        assert!(
            line.contains(&expected),
            "provider serves {expected}: {line}"
        );
    }
}

fn write_config(workspace: &Workspace, body: &str) {
    let config = format!("{}{body}", workspace.required_providers());
    workspace.write("main.tf", &config);
}

fn policy_lifecycle(protocol: u8) {
    let workspace = workspace(protocol);
    write_config(&workspace, POLICY);
    let init = workspace.init().expect("mirror installation runs init");
    assert!(
        init.stdout.contains("srs/sips v0.1.0"),
        "init installs the provider from the mirror:\n{}",
        init.stdout
    );

    let plan = workspace.run(&["plan", "-input=false", "-no-color", "-detailed-exitcode"]);
    plan.expect_code(2);
    assert!(
        plan.stdout.contains("1 to add, 0 to change, 0 to destroy"),
        "first plan adds the policy:\n{}",
        plan.stdout
    );

    workspace
        .run(&["apply", "-input=false", "-no-color", "-auto-approve"])
        .expect_success();
    let state = workspace.run(&[
        "state",
        "show",
        "-no-color",
        "sips_rotation_policy.standard",
    ]);
    state.expect_success();
    assert!(
        state.stdout.contains("max_age_days") && state.stdout.contains("180"),
        "state has the default max_age_days of 180:\n{}",
        state.stdout
    );

    workspace
        .run(&["plan", "-input=false", "-no-color", "-detailed-exitcode"])
        .expect_code(0);

    // Import into a fresh state: the policy exists only in configuration, so importing it by
    // name rebuilds the same state and the next plan is clean.
    std::fs::remove_file(workspace.path().join("terraform.tfstate")).expect("remove state");
    let import = workspace.run(&[
        "import",
        "-input=false",
        "-no-color",
        "sips_rotation_policy.standard",
        "standard",
    ]);
    import.expect_success();
    assert!(
        import.stdout.contains("Import successful"),
        "import reports success:\n{}",
        import.stdout
    );
    workspace
        .run(&["plan", "-input=false", "-no-color", "-detailed-exitcode"])
        .expect_code(0);

    assert_served_protocol(&workspace, protocol);

    let destroy = workspace.run(&["destroy", "-input=false", "-no-color", "-auto-approve"]);
    destroy.expect_success();
    assert!(
        destroy.stdout.contains("1 destroyed"),
        "destroy removes the policy:\n{}",
        destroy.stdout
    );
}

#[test]
fn policy_lifecycle_protocol_5() {
    policy_lifecycle(5);
}

#[test]
fn policy_lifecycle_protocol_6() {
    policy_lifecycle(6);
}

fn rejects_max_age_over_180(protocol: u8) {
    let workspace = workspace(protocol);
    write_config(
        &workspace,
        r#"
provider "sips" {}

resource "sips_rotation_policy" "long" {
  name         = "long"
  max_age_days = 200
}
"#,
    );
    workspace.init();

    let plan = workspace.run(&["plan", "-input=false", "-no-color"]);
    plan.expect_failure();
    let output = plan.flat_output();
    assert!(
        output.contains("180"),
        "message names the limit 180:\n{output}"
    );
    assert!(
        output.contains("max_age_days"),
        "message names the attribute:\n{output}"
    );
}

#[test]
fn max_age_over_180_rejected_protocol_5() {
    rejects_max_age_over_180(5);
}

#[test]
fn max_age_over_180_rejected_protocol_6() {
    rejects_max_age_over_180(6);
}
