#!/usr/bin/env bash
# Measures the time from starting the provider to its handshake line on
# stdout, the start-up cost Terraform pays on every plan and apply.
#
# Usage: scripts/measure-startup.sh [BINARY] [RUNS]
#   BINARY  provider binary (default: target/release/terraform-provider-sips)
#   RUNS    number of starts (default: 20)
#
# Each start gets the plugin variables Terraform would set, including a P-521
# client certificate made with openssl. Prints min, median, 90th percentile
# and max in milliseconds. The time includes fork and exec of the binary.
set -euo pipefail

binary=${1:-target/release/terraform-provider-sips}
runs=${2:-20}

if [[ ! -x "$binary" ]]; then
  echo "measure-startup: $binary not found or not executable (build it with cargo build)" >&2
  exit 1
fi

workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-521 -nodes \
  -keyout "$workdir/key.pem" -out "$workdir/cert.pem" -days 1 -subj /CN=localhost 2>/dev/null

export TF_PLUGIN_MAGIC_COOKIE=d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2
export PLUGIN_PROTOCOL_VERSIONS=5,6
PLUGIN_CLIENT_CERT=$(cat "$workdir/cert.pem")
export PLUGIN_CLIENT_CERT
unset SIPS_PLUGIN_PROTOCOL_VERSIONS

# EPOCHREALTIME is read by bash itself, so no extra process skews the numbers.
microseconds() { local now=${EPOCHREALTIME/[.,]/}; echo "$((10#$now))"; }

samples=()
for ((run = 1; run <= runs; run++)); do
  start=$(microseconds)
  coproc PROVIDER { exec "$binary" 2>/dev/null; }
  IFS= read -r line <&"${PROVIDER[0]}"
  end=$(microseconds)
  kill "$PROVIDER_PID"
  wait "$PROVIDER_PID" 2>/dev/null || true
  if [[ $line != 1\|* ]]; then
    echo "measure-startup: unexpected first line: $line" >&2
    exit 1
  fi
  samples+=("$((end - start))")
done

printf '%s\n' "${samples[@]}" | sort -n | awk -v runs="$runs" '
  { values[NR] = $1 }
  END {
    p90 = int((NR * 9 + 9) / 10)
    printf "%d starts: min %.1f ms, median %.1f ms, p90 %.1f ms, max %.1f ms\n",
      runs, values[1] / 1000, values[int((NR + 1) / 2)] / 1000, values[p90] / 1000,
      values[NR] / 1000
  }'
