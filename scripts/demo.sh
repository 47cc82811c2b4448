#!/usr/bin/env bash
# The laptop demo: a CPU server in-process on loopback and a client on the
# sample video; a window when a display exists, otherwise a recording.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node dist/cli/main.js demo "$@"
