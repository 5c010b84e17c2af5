//! Runs `scripts/quickstart.sh` twice in a fresh `git clone` of this repository, the way a new
//! user would, and checks its outputs and that it stops the AWS emulator it starts.
//!
//! The clone contains the committed state only, so uncommitted changes are not tested here. It
//! lives at `target/quickstart/clone`, a fixed path: cargo derives artifact names from the
//! package path, so a new path on every run would compile the crate from scratch and leave
//! another few hundred MB in `target/` each time. The clone builds into this crate's target
//! directory (`CARGO_TARGET_DIR`), which reuses every compiled dependency, and it links the
//! test peers from `.tools/` instead of installing them again from PyPI.
//!
//! Needs `.tools/bin/terraform` and `.tools/bin/moto_server` from `scripts/install-peers.sh`.
//! Without them the test prints why and passes, like the other tests that need the peers.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn repository_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Returns the target directory that cargo built the tests in.
fn target_dir() -> PathBuf {
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-sips"));
    let profile_dir = binary.parent().expect("binary directory");
    profile_dir.parent().expect("target directory").to_owned()
}

/// Exit status and output of one quick start run.
struct QuickstartRun {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl QuickstartRun {
    fn describe(&self) -> String {
        format!(
            "exit code {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Keeps `target/debug/terraform-provider-sips` as the tests built it.
///
/// The clone's `cargo build` replaces that file with its own build, by removing it and linking
/// a new one. A hard link taken before keeps the test build, and dropping the guard renames it
/// back, so later tests run the binary built from the working tree.
struct KeepBinary {
    path: PathBuf,
    saved: PathBuf,
}

impl KeepBinary {
    fn new(path: PathBuf) -> Option<Self> {
        if !path.exists() {
            return None;
        }
        let saved = path.with_file_name(".terraform-provider-sips.before-quickstart");
        let _ = fs::remove_file(&saved);
        fs::hard_link(&path, &saved).unwrap_or_else(|error| {
            panic!("link {} to {}: {error}", path.display(), saved.display())
        });
        Some(Self { path, saved })
    }
}

impl Drop for KeepBinary {
    fn drop(&mut self) {
        if let Err(error) = fs::rename(&self.saved, &self.path) {
            eprintln!(
                "failed to restore {} from {}: {error}",
                self.path.display(),
                self.saved.display()
            );
        }
    }
}

/// Returns true when the test peers are installed in this checkout.
fn peers_installed(tools: &Path) -> bool {
    ["bin/terraform", "bin/moto_server"]
        .iter()
        .all(|name| tools.join(name).exists())
}

/// Clones the committed state of this repository to `target/quickstart/clone`, and links the
/// test peers of this checkout into it.
fn clone_repository(tools: &Path) -> PathBuf {
    let clone = target_dir().join("quickstart/clone");
    if clone.exists() {
        fs::remove_dir_all(&clone)
            .unwrap_or_else(|error| panic!("remove {}: {error}", clone.display()));
    }
    fs::create_dir_all(clone.parent().unwrap()).unwrap();
    let output = Command::new("git")
        .args(["clone", "--quiet", "--no-hardlinks"])
        .arg(repository_root())
        .arg(&clone)
        .output()
        .expect("run git clone");
    assert!(
        output.status.success(),
        "git clone failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );

    // The clone gets its own .tools/ so that the quick start's state and logs stay in the
    // clone, while bin/ and venv/ point at the installed peers.
    let tools = fs::canonicalize(tools).unwrap();
    let clone_tools = clone.join(".tools");
    fs::create_dir(&clone_tools).unwrap();
    for name in ["bin", "venv"] {
        std::os::unix::fs::symlink(tools.join(name), clone_tools.join(name)).unwrap();
    }
    clone
}

/// Runs the quick start in `clone` and prints how long it took, for tracking CI time.
fn run_quickstart(clone: &Path, attempt: &str) -> QuickstartRun {
    let started = Instant::now();
    let output = Command::new("bash")
        .arg("scripts/quickstart.sh")
        .current_dir(clone)
        .env("CARGO_TARGET_DIR", target_dir())
        .env("CHECKPOINT_DISABLE", "1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("run scripts/quickstart.sh");
    println!("{attempt} quick start run took {:.1?}", started.elapsed());
    QuickstartRun {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Returns the number that follows `prefix` in `text`.
fn number_after(text: &str, prefix: &str) -> Option<u32> {
    let start = text.find(prefix)? + prefix.len();
    let digits: String = text[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Returns true when process `pid` exists and runs moto_server. A reused PID of another
/// program does not count.
fn moto_running(pid: u32) -> bool {
    fs::read(format!("/proc/{pid}/cmdline"))
        .map(|command_line| String::from_utf8_lossy(&command_line).contains("moto_server"))
        .unwrap_or(false)
}

fn check_run(run: &QuickstartRun, attempt: &str) {
    assert_eq!(
        run.code,
        Some(0),
        "{attempt} run failed\n{}",
        run.describe()
    );
    for expected in [
        "Apply complete!",
        "production = {",
        "staging = {",
        "\"client_id\" = \"quickstart-production\"",
        "\"client_id\" = \"quickstart-staging\"",
        "no changes: the state matches the secrets store",
    ] {
        assert!(
            run.stdout.contains(expected),
            "{attempt} run printed no `{expected}`\n{}",
            run.describe()
        );
    }

    let started = number_after(&run.stdout, "emulator pid ");
    let stopped = number_after(&run.stdout, "stopped the AWS emulator (pid ");
    assert!(
        started.is_some(),
        "{attempt} run printed no emulator pid\n{}",
        run.describe()
    );
    assert_eq!(
        stopped,
        started,
        "{attempt} run did not report stopping the emulator it started\n{}",
        run.describe()
    );
    let pid = started.unwrap();
    assert!(
        !moto_running(pid),
        "{attempt} run left moto_server running as pid {pid}"
    );
}

#[test]
fn quickstart_runs_twice_in_clone() {
    let tools = repository_root().join(".tools");
    if !peers_installed(&tools) {
        println!(
            "skipped: the test peers are missing in {}; run scripts/install-peers.sh",
            tools.display()
        );
        return;
    }
    let clone = clone_repository(&tools);
    let _keep = KeepBinary::new(target_dir().join("debug/terraform-provider-sips"));

    let first = run_quickstart(&clone, "first");
    check_run(&first, "first");

    // A second run starts over with a fresh emulator and working directory.
    let second = run_quickstart(&clone, "second");
    check_run(&second, "second");
}
