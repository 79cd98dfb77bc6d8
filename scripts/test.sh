#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs the Redis servers the tests start
# (idempotent), checks formatting and lints, then runs unit, integration, UI and doc tests.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-redis.sh >/dev/null
cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings
cargo test
