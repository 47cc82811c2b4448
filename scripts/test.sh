#!/usr/bin/env bash
# Installs what the tests need, builds, and runs the whole ava suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec npx ava "$@"
