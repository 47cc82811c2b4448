#!/usr/bin/env bash
# Installs what the tests need, builds, checks the layer rules and the
# formatting (npm run lint: a violation fails here, before any test), and
# runs the whole ava suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run lint
exec npx ava "$@"
