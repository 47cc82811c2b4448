#!/usr/bin/env bash
# Installs what the tests need, builds, checks the layers, the lint rules and
# the formatting (npm run lint: a violation fails here, before any test), and
# runs the whole ava suite under c8, which prints a coverage summary of the
# shipped code (src, cli, client, bench, models; not the tests) after ava's
# own closing line. The exit status is ava's.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run lint
exec npx c8 --reporter=text-summary --exclude='dist/test/**' --exclude='test/**' --exclude='node_modules/**' --temp-directory="${TMPDIR:-/tmp}/crowdline-c8-$$" ava "$@"
