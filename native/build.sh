#!/usr/bin/env bash
# Builds native/build/Release/crowdline_native.node (the fast path's resize,
# see resize.c, and, where libjpeg's headers are installed
# (libjpeg62-turbo-dev), the fused decode + resize of decode-resize.c; without
# them binding.gyp leaves that file out; and the TCP state probe of
# peer-state.c, with which the server drops a departed peer's queued frames,
# src/accept/peer-state.ts) with the node-gyp that ships with npm. Uses the running
# Node's own headers when they are installed beside it (Debian/NodeSource
# packages, official tarballs), so no download is needed; otherwise node-gyp
# fetches them. Needs a C compiler (build-essential, installed by
# scripts/setup.sh). Without the addon crowdline still works, on the
# JavaScript loop (slower for frames that need resizing).
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v cc >/dev/null 2>&1 && ! command -v gcc >/dev/null 2>&1 && ! command -v clang >/dev/null 2>&1; then
  # A host without a compiler (e.g. a GPU box set up without build-essential) still builds and
  # serves; it just resizes in JavaScript. A compiler that fails is an error, below.
  echo "crowdline: no C compiler; the native resize is not built (the JavaScript loop will be used; install build-essential and run npm run build:native)" >&2
  exit 0
fi
gyp=""
if command -v node-gyp >/dev/null 2>&1; then
  gyp="node-gyp"   # npm puts its bundled node-gyp on PATH for package scripts
else
  npm_dir="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
  gyp="node $npm_dir/node_modules/node-gyp/bin/node-gyp.js"
fi
prefix="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
args=(rebuild --loglevel=warn)
[ -f "$prefix/include/node/node_api.h" ] && args+=("--nodedir=$prefix")
$gyp "${args[@]}"
