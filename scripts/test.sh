#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs the Redis servers the tests start
# (idempotent), checks formatting and lints, then runs unit, integration, UI and doc tests,
# and ends with one line adding up every test binary's results.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-redis.sh >/dev/null
cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
cargo test 2>&1 | tee "$log"
awk '/^test result:/ { p += $4; f += $6 } END { printf "summary: %d passed, %d failed\n", p, f }' "$log"
