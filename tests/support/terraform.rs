//! A Terraform working directory in a temp dir, and runs of `.tools/bin/terraform` in it
//! with a clean, explicit environment.
//!
//! The provider comes from this crate's test build (`CARGO_BIN_EXE_terraform-provider-sips`),
//! either through a `dev_overrides` CLI configuration or through a filesystem mirror that
//! `terraform init` installs from.

#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Version of the provider in the filesystem mirror, as `required_providers` requests it.
pub const MIRROR_VERSION: &str = "0.1.0";

/// How Terraform finds the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Installation {
    /// `dev_overrides` to the build directory; `terraform init` is not needed.
    DevOverrides,
    /// A filesystem mirror holding a copy of the binary; `terraform init` installs it.
    FilesystemMirror,
}

/// A temp dir with a CLI configuration, Terraform files and an optional trace log.
pub struct Workspace {
    dir: tempfile::TempDir,
    installation: Installation,
    env: Vec<(String, String)>,
    trace: bool,
}

/// Exit status and output of one Terraform run.
#[derive(Debug)]
pub struct Run {
    pub args: Vec<String>,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Panics with the full output unless the exit code is `expected`.
    pub fn expect_code(&self, expected: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(expected),
            "terraform {:?} exited with {:?}, expected {expected}\n{}",
            self.args,
            self.code,
            self.describe()
        );
        self
    }

    pub fn expect_success(&self) -> &Self {
        self.expect_code(0)
    }

    /// Panics with the full output when the run succeeded.
    pub fn expect_failure(&self) -> &Self {
        assert!(
            self.code != Some(0),
            "terraform {:?} succeeded but should fail\n{}",
            self.args,
            self.describe()
        );
        self
    }

    /// Stdout and stderr joined, for searching messages that Terraform may write to either.
    pub fn output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// Output with Terraform's line wrapping and diagnostic box drawing removed, so a message
    /// split over lines can be searched as one string.
    pub fn flat_output(&self) -> String {
        self.output()
            .replace('│', " ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn describe(&self) -> String {
        format!("--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr)
    }
}

impl Workspace {
    /// Creates a workspace whose CLI configuration installs the provider the way
    /// `installation` selects. Panics naming `scripts/install-peers.sh` when the Terraform binary is missing.
    pub fn new(installation: Installation) -> Self {
        terraform_path();
        let dir = tempfile::tempdir().expect("temp dir for terraform");
        let workspace = Self {
            dir,
            installation,
            env: Vec::new(),
            trace: false,
        };
        workspace.write_cli_config();
        workspace
    }

    /// Creates a workspace whose CLI configuration installs every provider from the filesystem
    /// mirror at `mirror`, such as the one `scripts/package.sh` lays out. `terraform init`
    /// installs the provider; [`Workspace::required_providers`] requests [`MIRROR_VERSION`].
    pub fn with_mirror(mirror: &Path) -> Self {
        terraform_path();
        let workspace = Self {
            dir: tempfile::tempdir().expect("temp dir for terraform"),
            installation: Installation::FilesystemMirror,
            env: Vec::new(),
            trace: false,
        };
        workspace.write("cli.tfrc", &mirror_cli_config(mirror));
        workspace
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Sets a variable on every later Terraform run, which passes it on to the provider.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.retain(|(existing, _)| existing != key);
        self.env.push((key.to_owned(), value.to_owned()));
    }

    /// Turns on `TF_LOG=trace` with `TF_LOG_PATH` pointing at [`Workspace::trace_log_path`].
    pub fn enable_trace(&mut self) {
        self.trace = true;
    }

    pub fn trace_log_path(&self) -> PathBuf {
        self.path().join("terraform-trace.log")
    }

    pub fn trace_log(&self) -> String {
        fs::read_to_string(self.trace_log_path()).unwrap_or_default()
    }

    /// Writes `contents` to `name` inside the workspace.
    pub fn write(&self, name: &str, contents: &str) {
        let path = self.path().join(name);
        fs::write(&path, contents).unwrap_or_else(|error| panic!("write {path:?}: {error}"));
    }

    /// Writes a secret file readable only by its owner, as the provider expects of one.
    pub fn write_secret(&self, name: &str, contents: &str) {
        use std::os::unix::fs::PermissionsExt;

        self.write(name, contents);
        let path = self.path().join(name);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600))
            .unwrap_or_else(|error| panic!("chmod {path:?}: {error}"));
    }

    pub fn read(&self, name: &str) -> String {
        let path = self.path().join(name);
        fs::read_to_string(&path).unwrap_or_else(|error| panic!("read {path:?}: {error}"))
    }

    /// Runs `terraform <args>` in the workspace and returns its status and output.
    pub fn run(&self, args: &[&str]) -> Run {
        let output = self.command(args).output().unwrap_or_else(|error| {
            panic!("cannot run terraform {args:?}: {error}");
        });
        to_run(args, output)
    }

    /// Runs `terraform init` when the installation needs it.
    pub fn init(&self) -> Option<Run> {
        match self.installation {
            Installation::DevOverrides => None,
            Installation::FilesystemMirror => {
                let run = self.run(&["init", "-input=false", "-no-color"]);
                run.expect_success();
                Some(run)
            }
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(terraform_path());
        command
            .args(args)
            .current_dir(self.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.path())
            .env("TF_CLI_CONFIG_FILE", self.cli_config_path())
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_REGION", "eu-west-1")
            .stdin(Stdio::null());
        if self.trace {
            command
                .env("TF_LOG", "trace")
                .env("TF_LOG_PATH", self.trace_log_path());
        }
        for (key, value) in &self.env {
            command.env(key, value);
        }
        command
    }

    fn cli_config_path(&self) -> PathBuf {
        self.path().join("cli.tfrc")
    }

    fn write_cli_config(&self) {
        let config = match self.installation {
            Installation::DevOverrides => {
                let build_dir = provider_binary()
                    .parent()
                    .expect("binary directory")
                    .to_owned();
                format!(
                    "provider_installation {{\n  dev_overrides {{\n    \"srs/sips\" = {:?}\n  \
                     }}\n  direct {{}}\n}}\n",
                    build_dir.display().to_string()
                )
            }
            Installation::FilesystemMirror => {
                let mirror = self.path().join("mirror");
                let package = mirror.join(format!(
                    "registry.terraform.io/srs/sips/{MIRROR_VERSION}/linux_amd64"
                ));
                fs::create_dir_all(&package).expect("mirror directory");
                let target = package.join(format!("terraform-provider-sips_v{MIRROR_VERSION}"));
                fs::copy(provider_binary(), &target).expect("copy provider into the mirror");
                mirror_cli_config(&mirror)
            }
        };
        self.write("cli.tfrc", &config);
    }

    /// Returns the `terraform { required_providers { ... } }` block matching the installation.
    pub fn required_providers(&self) -> String {
        let version = match self.installation {
            Installation::DevOverrides => String::new(),
            Installation::FilesystemMirror => format!(", version = \"{MIRROR_VERSION}\""),
        };
        format!(
            "terraform {{\n  required_providers {{\n    sips = {{ source = \"srs/sips\"{version} }}\n  \
             }}\n}}\n"
        )
    }
}

fn mirror_cli_config(mirror: &Path) -> String {
    format!(
        "provider_installation {{\n  filesystem_mirror {{\n    path = {:?}\n  }}\n}}\n",
        mirror.display().to_string()
    )
}

fn to_run(args: &[&str], output: Output) -> Run {
    Run {
        args: args.iter().map(|arg| arg.to_string()).collect(),
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn provider_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-sips"))
}

fn terraform_path() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".tools/bin/terraform");
    assert!(
        path.exists(),
        "{} is missing; run scripts/install-peers.sh to install the test peers",
        path.display()
    );
    path
}
