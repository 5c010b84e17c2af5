#!/usr/bin/env python3
"""Store-call and throughput benchmark of sips_credential on a local moto_server.

For each size N it generates a configuration of N credentials (secrets in
files of mode 600 in a temp dir) and runs Terraform 1.0.3 through four
operations: create, a no-change plan, a rotation (every secret file
rewritten) and destroy. Each one except the no-change plan is `plan -out`
followed by `apply` of the saved plan. It records per phase the wall-clock
time and the
Secrets Manager requests: the total from moto's request log and the calls by
operation from the provider's debug log. It then times a boto3 script making
the same necessary calls against a fresh moto_server, sequentially, and
prints the ratios.

Run it with the benchmark environment's Python after `cargo build --release`
and `scripts/bench-peers.sh`:

    .tools/bench-venv/bin/python scripts/bench_store.py            # N = 10, 100
    .tools/bench-venv/bin/python scripts/bench_store.py --with-500  # adds N = 500

Every process it starts (moto_server, terraform) runs on 127.0.0.1 and is
stopped by its PID. The provider gets dummy AWS credentials and an explicit
endpoint, and instance metadata is disabled.
"""

import argparse
import collections
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TOOLS = REPO / ".tools"
TERRAFORM = TOOLS / "bin" / "terraform"
MOTO = TOOLS / "bin" / "moto_server"
PROVIDER_DIR = REPO / "target" / "release"
REGION = "eu-west-1"
# Bounds every Terraform step; N = 500 takes a few minutes per step on 2 cores.
STEP_TIMEOUT_SECONDS = 1800
# Terraform's own default, written out so the figure's setting is on record.
PARALLELISM = 10

# moto_server logs one line per HTTP request in werkzeug's format.
MOTO_REQUEST = re.compile(r'"POST / HTTP/1\.[01]" (\d{3})')
# The provider logs each Secrets Manager call at debug level; Terraform writes
# it to TF_LOG_PATH as `... secrets manager call: entry=... operation=Name`.
PROVIDER_CALL = re.compile(r"secrets manager call.*?operation=([A-Za-z]+)")


def main():
    global PROVIDER_DIR
    args = parse_args()
    PROVIDER_DIR = Path(args.provider_dir).resolve()
    check_tools()
    sizes = [int(size) for size in args.sizes.split(",")]
    if args.with_500 and 500 not in sizes:
        sizes.append(500)

    results = []
    for size in sizes:
        results.append(run_size(size))
    print_results(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
        print(f"\nwrote {args.json}")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="10,100", help="comma-separated credential counts (default: 10,100)"
    )
    parser.add_argument(
        "--with-500", action="store_true", help="add N = 500 (several minutes per step)"
    )
    parser.add_argument("--json", help="also write the figures to this JSON file")
    parser.add_argument(
        "--provider-dir",
        default=str(PROVIDER_DIR),
        help="folder holding terraform-provider-sips (default: target/release)",
    )
    return parser.parse_args()


def check_tools():
    missing = [
        f"{path} (run {hint})"
        for path, hint in [
            (TERRAFORM, "scripts/install-peers.sh"),
            (MOTO, "scripts/install-peers.sh"),
            (PROVIDER_DIR / "terraform-provider-sips", "cargo build --release"),
        ]
        if not path.exists()
    ]
    if missing:
        sys.exit("bench_store: missing " + ", ".join(missing))


class Moto:
    """A moto_server on 127.0.0.1 and a free port, logging requests to a file."""

    def __init__(self, log_path):
        self.log_path = log_path
        self.port = free_port()
        self.log = open(log_path, "wb")
        env = {
            "PATH": os.environ.get("PATH", ""),
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        self.process = subprocess.Popen(
            [str(MOTO), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
        self.wait_until_ready()

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def wait_until_ready(self):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto_server exited; see {self.log_path}")
            try:
                urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"moto_server did not respond within 30 s; see {self.log_path}")

    def requests(self):
        """Secrets Manager requests logged so far, by HTTP status."""
        self.log.flush()
        counts = collections.Counter()
        with open(self.log_path, encoding="utf-8", errors="replace") as log:
            for line in log:
                match = MOTO_REQUEST.search(line)
                if match:
                    counts[match.group(1)] += 1
        return counts

    def stop(self):
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Workspace:
    """A Terraform working directory with N credentials whose secrets sit in files."""

    def __init__(self, root, size, endpoint):
        self.root = Path(root)
        self.size = size
        self.endpoint = endpoint
        self.secrets_dir = self.root / "secrets"
        self.secrets_dir.mkdir(mode=0o700)
        (self.root / "cli.tfrc").write_text(
            "provider_installation {\n"
            f'  dev_overrides {{\n    "srs/sips" = "{PROVIDER_DIR}"\n  }}\n'
            "  direct {}\n}\n"
        )
        self.write_secrets()
        (self.root / "main.tf").write_text(self.configuration())

    def write_secrets(self):
        """Writes a fresh random secret per credential, readable only by the owner."""
        for index in range(self.size):
            path = self.secrets_dir / f"{index}.secret"
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w") as secret_file:
                secret_file.write(secrets.token_urlsafe(32) + "\n")

    def configuration(self):
        parts = [
            'terraform {\n  required_providers {\n    sips = { source = "srs/sips" }\n  }\n}\n',
            'provider "sips" {\n  environments = ["staging"]\n  aws {\n'
            f'    region = "{REGION}"\n    endpoint = "{self.endpoint}"\n'
            "    use_instance_metadata = false\n  }\n}\n",
            'resource "sips_rotation_policy" "standard" {\n  name = "standard"\n}\n',
        ]
        for index in range(self.size):
            parts.append(
                f'resource "sips_credential" "c{index:04d}" {{\n'
                '  environment        = "staging"\n'
                f'  client_id          = "bench-client-{index:04d}"\n'
                f'  client_secret_file = "${{path.module}}/secrets/{index}.secret"\n'
                "  rotation_policy    = sips_rotation_policy.standard.rules\n"
                "  aws_secrets_manager {\n"
                '    tags = { team = "payments" }\n'
                "  }\n}\n"
            )
        return "\n".join(parts)

    def terraform(self, *args, log_name):
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(self.root),
            "TF_CLI_CONFIG_FILE": str(self.root / "cli.tfrc"),
            "TF_IN_AUTOMATION": "1",
            "CHECKPOINT_DISABLE": "1",
            "TF_LOG_PROVIDER": "debug",
            "TF_LOG_PATH": str(self.root / log_name),
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        command = [str(TERRAFORM), *args]
        started = time.monotonic()
        process = subprocess.Popen(
            command,
            cwd=self.root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            stdout, stderr = process.communicate(timeout=STEP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            raise
        elapsed = time.monotonic() - started
        return process.returncode, elapsed, stdout + stderr

    def provider_calls(self, log_name):
        counts = collections.Counter()
        log_path = self.root / log_name
        if log_path.exists():
            for line in log_path.read_text(errors="replace").splitlines():
                match = PROVIDER_CALL.search(line)
                if match:
                    counts[match.group(1)] += 1
        return counts


def run_size(size):
    print(f"==> N = {size}", flush=True)
    with tempfile.TemporaryDirectory(prefix=f"sips-bench-{size}-") as root:
        moto = Moto(Path(root) / "moto.log")
        try:
            workspace_root = Path(root) / "work"
            workspace_root.mkdir()
            workspace = Workspace(workspace_root, size, moto.endpoint)
            steps = run_terraform_steps(workspace, moto, size)
        finally:
            moto.stop()
        baseline_moto = Moto(Path(root) / "moto-boto3.log")
        try:
            baseline = run_boto3_baseline(baseline_moto, size)
        finally:
            baseline_moto.stop()
    return {"size": size, "terraform": steps, "boto3": baseline}


def run_terraform_steps(workspace, moto, size):
    """Runs each operation as `plan -out` then `apply` of the saved plan, as CI pipelines do,
    so that the calls of the plan phase and of the apply phase are counted apart."""
    common = ["-input=false", "-no-color", f"-parallelism={PARALLELISM}"]
    operations = [
        ("create", [], True, None),
        ("no-change plan", [], False, None),
        ("rotate", [], True, workspace.write_secrets),
        ("destroy", ["-destroy"], True, None),
    ]
    steps = []
    for name, plan_flags, apply_plan, before in operations:
        if before:
            before()
        phases = [("plan", ["plan", *plan_flags, "-out=bench.tfplan", *common])]
        if apply_plan:
            phases.append(("apply", ["apply", *common, "bench.tfplan"]))
        step = {"step": name, "seconds": 0.0, "moto_requests": 0, "phases": []}
        for phase, args in phases:
            phase_figures = run_phase(workspace, moto, f"{name}-{phase}", args)
            step["phases"].append({"phase": phase, **phase_figures})
            step["seconds"] += phase_figures["seconds"]
            step["moto_requests"] += phase_figures["moto_requests"]
        step["requests_per_credential"] = step["moto_requests"] / size
        steps.append(step)
    return steps


def run_phase(workspace, moto, label, args):
    before_counts = moto.requests()
    log_name = f"{label.replace(' ', '-')}.log"
    code, elapsed, output = workspace.terraform(*args, log_name=log_name)
    if code != 0:
        sys.exit(f"bench_store: terraform {label} exited {code}:\n{output[-4000:]}")
    after_counts = moto.requests()
    requests = sum(after_counts.values()) - sum(before_counts.values())
    failed = sum(
        count - before_counts.get(status, 0)
        for status, count in after_counts.items()
        if not status.startswith("2")
    )
    calls = workspace.provider_calls(log_name)
    print(f"    {label:<22} {elapsed:8.2f} s  {requests:6d} requests  {dict(calls)}", flush=True)
    return {
        "seconds": elapsed,
        "moto_requests": requests,
        "moto_non_2xx": failed,
        "provider_calls": dict(calls),
    }


def run_boto3_baseline(moto, size):
    """Creates N tagged secrets, describes, rotates and deletes them sequentially.

    A rotation is two calls per secret, because the provider's deadline tags
    change with the new value. Every other step is one call per secret.
    """
    import boto3  # Imported here, so that --help works without the benchmark environment.

    client = boto3.client(
        "secretsmanager",
        region_name=REGION,
        endpoint_url=moto.endpoint,
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
    )
    names = [f"sips/staging/bench-client-{index:04d}" for index in range(size)]

    def secret_document(index):
        return json.dumps({
            "client_id": f"bench-client-{index:04d}",
            "client_secret": secrets.token_urlsafe(32),
        })

    def deadline_tags():
        return [
            {"Key": "sips:rotate_by", "Value": "2026-03-01T00:00:00Z"},
            {"Key": "sips:expires_at", "Value": "2026-06-01T00:00:00Z"},
        ]

    def tags(index):
        # The tags the provider writes on create, plus the configured one.
        return [
            {"Key": "sips:managed_by", "Value": "terraform-provider-sips"},
            {"Key": "sips:environment", "Value": "staging"},
            {"Key": "sips:client_id", "Value": f"bench-client-{index:04d}"},
            {"Key": "team", "Value": "payments"},
            *deadline_tags(),
        ]

    steps = []

    def timed(name, call):
        before = sum(moto.requests().values())
        started = time.monotonic()
        for index, secret_name in enumerate(names):
            call(index, secret_name)
        elapsed = time.monotonic() - started
        requests = sum(moto.requests().values()) - before
        print(f"    boto3 {name:<12} {elapsed:8.2f} s  {requests:6d} requests", flush=True)
        steps.append({"step": name, "seconds": elapsed, "moto_requests": requests})

    timed("create", lambda index, name: client.create_secret(
        Name=name,
        SecretString=secret_document(index),
        Tags=tags(index),
    ))
    timed("describe", lambda index, name: client.describe_secret(SecretId=name))

    def rotate(index, name):
        client.put_secret_value(SecretId=name, SecretString=secret_document(index))
        client.tag_resource(SecretId=name, Tags=deadline_tags())

    timed("rotate", rotate)
    timed("delete", lambda index, name: client.delete_secret(
        SecretId=name, RecoveryWindowInDays=7))
    return steps


def print_results(results):
    pairs = [
        ("create", "create"),
        ("no-change plan", "describe"),
        ("rotate", "rotate"),
        ("destroy", "delete"),
    ]
    print()
    print("| N | operation | phase | Terraform wall (s) | requests | per credential "
          "| calls by operation (provider log) | boto3 wall (s) | Terraform / boto3 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for result in results:
        size = result["size"]
        terraform = {step["step"]: step for step in result["terraform"]}
        boto3 = {step["step"]: step for step in result["boto3"]}
        for terraform_step, boto3_step in pairs:
            ours = terraform[terraform_step]
            theirs = boto3[boto3_step]
            for phase in ours["phases"]:
                calls = ", ".join(
                    f"{name} {count}" for name, count in sorted(phase["provider_calls"].items())
                ) or "none"
                print(
                    f"| {size} | {terraform_step} | {phase['phase']} | {phase['seconds']:.2f} "
                    f"| {phase['moto_requests']} | {phase['moto_requests'] / size:.2f} | {calls} "
                    "| | |"
                )
            ratio = ours["seconds"] / theirs["seconds"] if theirs["seconds"] else float("inf")
            print(
                f"| {size} | {terraform_step} | total | {ours['seconds']:.2f} "
                f"| {ours['moto_requests']} | {ours['requests_per_credential']:.2f} | "
                f"| {theirs['seconds']:.2f} ({theirs['moto_requests']} requests) | {ratio:.1f}x |"
            )


if __name__ == "__main__":
    main()
