#!/usr/bin/env bash
# schemathesis (pinned, from PyPI, in a virtual environment) against `esia-sim serve`: every
# check, every phase (examples, coverage, fuzzing, stateful), bounded to about two minutes;
# fails on any failure. Usage: .ci/schemathesis.sh [PATH_TO_ESIA_SIM] (default: the debug
# build that `cargo test` leaves).
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
BIN=${1:-target/debug/esia-sim}
VENV=${SCHEMATHESIS_VENV:-${TMPDIR:-/tmp}/esia-sim-schemathesis-$SCHEMATHESIS_VERSION}
if [ ! -x "$VENV/bin/schemathesis" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
[ -x "$BIN" ] || cargo build --quiet --bin esia-sim

OUT=$(mktemp -d)
# The tokens are the ones .ci/schemathesis.toml gives schemathesis.
"$BIN" serve --addr 127.0.0.1:0 --code-seed 1 --hash-profile none --log warn \
  --scenario .ci/schemathesis-agencies.toml \
  --operator-token ci-operator-token --partner-token ci-partner-token \
  >"$OUT/serve.out" 2>"$OUT/serve.err" &
SERVE=$!
trap 'kill "$SERVE" 2>/dev/null || true; rm -rf "$OUT"' EXIT
for _ in $(seq 1 100); do
  grep -q '^listening on ' "$OUT/serve.out" 2>/dev/null && break
  sleep 0.1
done
URL=$(sed -n 's/^listening on //p' "$OUT/serve.out" | head -n 1)
[ -n "$URL" ] || { echo "esia-sim serve did not start:"; cat "$OUT/serve.err"; exit 1; }

run() {
  "$VENV/bin/schemathesis" --config-file .ci/schemathesis.toml run "$URL/openapi.json" \
    --checks all --phases examples,coverage,fuzzing,stateful --seed 1 --no-color "$@"
}
# Pass 1: every route but the two that inject faults (a profile with error_rate 1 or a
# fail_next fault makes the other routes answer 5xx, as they should).
run --max-time 100 \
  --exclude-name 'PUT /mocks/{mock}/admin/profile' \
  --exclude-name 'POST /mocks/{mock}/admin/faults'
# Pass 2: the mocks' admin routes, faults and profiles included.
run --max-time 25 --include-path-regex '^/mocks/\{mock\}/admin/'
