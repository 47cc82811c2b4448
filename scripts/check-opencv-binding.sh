#!/usr/bin/env bash
# Says plainly when the OpenCV binding (@u4/opencv4nodejs) did not build.
# It is an optional dependency, so `npm ci` carries on without it, and the
# TypeScript build that follows fails with errors about missing types that
# do not name the cause. Usage: scripts/check-opencv-binding.sh [APP_DIR]
set -euo pipefail
app="${1:-$(dirname "$0")/..}"
binding="$app/node_modules/@u4/opencv4nodejs/build/Release/opencv4nodejs.node"
if [ -f "$binding" ]; then
  exit 0
fi
cat >&2 <<MSG
crowdline setup: the OpenCV binding (@u4/opencv4nodejs) did not build: no $binding.
  The camera client, the demo and the bench's video sources need it (the server does not),
  and the TypeScript build cannot go on without its types.
  Its compiler error is in the npm output above. It builds against the system OpenCV:
    apt-get install build-essential python3 pkg-config libopencv-dev
  then run scripts/setup.sh again.
MSG
exit 1
