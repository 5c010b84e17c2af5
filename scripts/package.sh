#!/usr/bin/env bash
# Packages the provider the way the Terraform and OpenTofu registries publish
# it, and lays out a filesystem mirror that `terraform init` and `tofu init`
# install from without a registry.
#
# Usage: scripts/package.sh [--debug] [--binary PATH] [--out DIR]
#   --debug        package the debug build instead of the release build
#   --binary PATH  package PATH as it is; cargo is not run
#   --out DIR      write to DIR instead of dist/ (git-ignored)
#
# Writes, for version V from Cargo.toml and the platform P of this machine
# (such as linux_amd64):
#   terraform-provider-sips_V_P.zip        the binary as terraform-provider-sips_vV
#   terraform-provider-sips_V_SHA256SUMS   SHA-256 of the zip and the manifest
#   terraform-provider-sips_V_manifest.json  the plugin protocols the binary serves
#   mirror/<host>/srs/sips/terraform-provider-sips_V_P.zip
#     the same zip for host registry.terraform.io and registry.opentofu.org
#
# The mirror uses the packed layout (the release zip) and not the unpacked one
# (<host>/srs/sips/V/P/terraform-provider-sips_vV). Terraform 1.0.3 accepts
# both and records the same h1: hash of the binary in .terraform.lock.hcl,
# which is also the hash a registry install records. From a packed mirror
# `init` copies the provider into .terraform/, so a working directory keeps
# working when the mirror is rebuilt. From an unpacked mirror it only links to
# it. The copy costs time only for large binaries: measured on a 2-core
# machine with the 220 MB debug binary, init took 5.2 s packed and 1.4 s
# unpacked.
#
# Needs only bash, cargo and python3: the zip and the checksums are written
# with Python's standard library, because `zip` and `sha256sum` are not
# installed everywhere. The zip is reproducible: the same binary gives the
# same archive and checksum.
#
# NOTE: registries also want SHA256SUMS.sig, a detached GPG signature made
# with the publisher's key. Signing happens where that key lives, not here.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
name=terraform-provider-sips
namespace=srs
type=sips
hosts=(registry.terraform.io registry.opentofu.org)

profile=release
binary=""
out="$repo/dist"

usage() { sed -n '6,10p' "$0" | sed 's/^# \{0,1\}//' >&2; }
fail() { printf 'package: %s\n' "$*" >&2; exit 1; }
step() { printf '==> %s\n' "$*" >&2; }

while (($# > 0)); do
  case "$1" in
    --debug) profile=debug ;;
    --binary) binary=${2:?--binary needs a path}; shift ;;
    --out) out=${2:?--out needs a directory}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage; fail "unknown argument: $1" ;;
  esac
  shift
done

version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$repo/Cargo.toml" | head -n 1)
[[ -n "$version" ]] || fail "no version found in $repo/Cargo.toml"

case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  *) fail "unsupported operating system: $(uname -s)" ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) fail "unsupported architecture: $(uname -m)" ;;
esac
platform="${os}_${arch}"

if [[ -z "$binary" ]]; then
  target_dir=${CARGO_TARGET_DIR:-$repo/target}
  step "building $name $version ($profile)"
  if [[ "$profile" == release ]]; then
    cargo build --quiet --release --manifest-path "$repo/Cargo.toml" --bin "$name"
  else
    cargo build --quiet --manifest-path "$repo/Cargo.toml" --bin "$name"
  fi
  binary="$target_dir/$profile/$name"
fi
[[ -x "$binary" ]] || fail "$binary is missing or not executable"

step "writing the release files for $platform to $out"
mkdir -p "$out"
# The mirror is laid out anew, so that no older version or layout is left in it.
rm -rf "$out/mirror"

python3 - "$binary" "$out" "$name" "$version" "$platform" "$namespace/$type" "${hosts[@]}" <<'PYTHON'
import hashlib
import json
import os
import shutil
import sys
import zipfile

binary, out, name, version, platform, address, *hosts = sys.argv[1:]
prefix = f"{name}_{version}"
archive = f"{prefix}_{platform}.zip"
manifest = f"{prefix}_manifest.json"
sums = f"{prefix}_SHA256SUMS"

# A fixed timestamp and mode make the archive depend on the binary only.
entry = zipfile.ZipInfo(f"{name}_v{version}", date_time=(1980, 1, 1, 0, 0, 0))
entry.external_attr = 0o100755 << 16
entry.compress_type = zipfile.ZIP_DEFLATED
with open(binary, "rb") as source:
    payload = source.read()
with zipfile.ZipFile(os.path.join(out, archive), "w") as zipped:
    zipped.writestr(entry, payload)

# The registry reads the plugin protocols from this manifest.
document = {"version": 1, "metadata": {"protocol_versions": ["5.0", "6.0"]}}
with open(os.path.join(out, manifest), "w") as written:
    json.dump(document, written, separators=(",", ":"))
    written.write("\n")


def sha256(file_name):
    with open(os.path.join(out, file_name), "rb") as read:
        return hashlib.sha256(read.read()).hexdigest()


# The format of sha256sum and of the registries: hash, two spaces, file name.
with open(os.path.join(out, sums), "w") as written:
    for file_name in sorted([archive, manifest]):
        written.write(f"{sha256(file_name)}  {file_name}\n")

for host in hosts:
    directory = os.path.join(out, "mirror", host, address)
    os.makedirs(directory)
    shutil.copyfile(os.path.join(out, archive), os.path.join(directory, archive))

for file_name in [archive, sums, manifest]:
    print(os.path.join(out, file_name))
print(os.path.join(out, "mirror"))
PYTHON
