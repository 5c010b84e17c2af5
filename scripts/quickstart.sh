#!/usr/bin/env bash
# Quick start: builds the provider, installs Terraform 1.0.3 and the moto AWS
# emulator into .tools/, starts the emulator on loopback, and runs
# `terraform init` and `apply` on examples/quickstart through a filesystem
# mirror. A second plan must show no changes. The emulator is stopped at the end.
#
# Everything it writes stays in .tools/ (git-ignored). Each run starts with a
# fresh emulator and a fresh working directory, so it can be run again.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
tools="$repo/.tools"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$repo/Cargo.toml" | head -n 1)
run="$tools/quickstart"
# cargo writes to CARGO_TARGET_DIR when it is set, so the binary is looked up there too.
target_dir=${CARGO_TARGET_DIR:-$repo/target}
moto_pid=""

step() { printf '\n==> %s\n' "$*"; }
fail() { printf '\nerror: %s\n' "$*" >&2; exit 1; }
stop_emulator() {
  if [[ -n "$moto_pid" ]] && kill -0 "$moto_pid" 2>/dev/null; then
    kill "$moto_pid" && wait "$moto_pid" 2>/dev/null || true
    printf '==> stopped the AWS emulator (pid %s)\n' "$moto_pid"
  fi
}
trap stop_emulator EXIT

step "building terraform-provider-sips $version"
cargo build --quiet --manifest-path "$repo/Cargo.toml" --bin terraform-provider-sips ||
  fail "cargo build failed; see the compiler output above"

step "installing the test peers (Terraform 1.0.3, moto)"
bash "$repo/scripts/install-peers.sh" || fail "installing from PyPI failed; check pip's output above"

step "laying out a filesystem mirror and a fresh working directory in $run"
rm -rf "$run"
mirror="$run/mirror"
for host in registry.terraform.io registry.opentofu.org; do
  dir="$mirror/$host/srs/sips/$version/linux_amd64"
  mkdir -p "$dir"
  cp "$target_dir/debug/terraform-provider-sips" "$dir/terraform-provider-sips_v$version"
done
mkdir -p "$run/work"
cp "$repo/examples/quickstart/main.tf" "$run/work/"
cat > "$run/cli.tfrc" <<CONFIG
provider_installation {
  filesystem_mirror {
    path = "$mirror"
  }
}
CONFIG

step "writing the client secrets to files readable only by you"
umask 077
head -c 24 /dev/urandom | base64 > "$run/staging.secret"
head -c 24 /dev/urandom | base64 > "$run/production.secret"

step "starting the AWS emulator on 127.0.0.1"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$tools/bin/moto_server" -H 127.0.0.1 -p "$port" > "$run/moto.log" 2>&1 &
moto_pid=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/moto-api/" > /dev/null 2>&1 && break
  kill -0 "$moto_pid" 2>/dev/null || fail "the emulator exited; see $run/moto.log"
  sleep 0.1
done
printf 'emulator pid %s at http://127.0.0.1:%s\n' "$moto_pid" "$port"

# Every Terraform and AWS setting comes from here, not from the caller's shell.
terraform() {
  env -i PATH="$PATH" HOME="$run" \
    TF_CLI_CONFIG_FILE="$run/cli.tfrc" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1 \
    AWS_ACCESS_KEY_ID=quickstart AWS_SECRET_ACCESS_KEY=quickstart AWS_REGION=eu-west-1 \
    AWS_EC2_METADATA_DISABLED=true \
    TF_VAR_aws_endpoint="http://127.0.0.1:$port" \
    TF_VAR_staging_secret_file="$run/staging.secret" \
    TF_VAR_production_secret_file="$run/production.secret" \
    "$tools/bin/terraform" -chdir="$run/work" "$@"
}

step "terraform init"
terraform init -input=false -no-color > "$run/init.log" || fail "terraform init failed; see $run/init.log"
tail -n 3 "$run/init.log"

step "terraform apply"
terraform apply -input=false -auto-approve -no-color || fail "terraform apply failed; see the output above"

step "outputs (no secrets: only client ids, entry names, versions and deadlines)"
terraform output -no-color

step "second plan: expecting no changes"
status=0
terraform plan -input=false -detailed-exitcode -no-color > "$run/plan.log" || status=$?
case "$status" in
  0) echo "no changes: the state matches the secrets store" ;;
  2) cat "$run/plan.log"; fail "the second plan shows changes; see above" ;;
  *) cat "$run/plan.log"; fail "terraform plan failed; see above" ;;
esac

step "done: state and logs are in $run"
