#!/usr/bin/env bash
# Installs everything crowdline needs on Debian 12 (run as root, or with sudo
# available): system packages, npm dependencies, the TypeScript build.
# Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

# build-essential + python3: node-gyp builds @u4/opencv4nodejs against Debian's
# OpenCV, and crowdline's own resize addon (native/, built by npm run build). opencv-doc ships the sample video (vtest.avi). xvfb, x11-apps and
# imagemagick let the tests open a real window and screenshot it. python3-numpy
# and python3-opencv: the Python client (client/python) and its test;
# python3-onnx: models/fold_input.py and its test. ffmpeg
# reads the client's live cameras (one process each), records MP4, and serves
# the tests' network cameras. haproxy: the scale-out test and bench put it in
# front of several servers (deploy/haproxy). mosquitto: the MQTT event tests
# start a real broker. systemd: `systemd-analyze verify` checks deploy/systemd,
# and procps gives the /bin/kill its ExecReload names. libxtst6: the zones
# draw tool's test clicks in a real window through XTEST.
# libjpeg62-turbo-dev: the native addon's fused decode + resize
# (native/decode-resize.c) links libjpeg; without it the addon builds
# without that function and the fast path decodes, then resizes.
# chromium: the console's tests drive Debian's browser with playwright-core
# (no browser download).
packages=(build-essential libjpeg62-turbo-dev python3 python3-numpy python3-opencv python3-onnx pkg-config libopencv-dev opencv-doc xvfb xauth x11-apps imagemagick ffmpeg haproxy mosquitto systemd procps libxtst6 chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "crowdline setup: installing system packages: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# opencv4nodejs: build against the system OpenCV instead of downloading one.
export OPENCV4NODEJS_DISABLE_AUTOBUILD=1
export OPENCV_INCLUDE_DIR=/usr/include/opencv4
export OPENCV_LIB_DIR="/usr/lib/$(gcc -print-multiarch)"
export OPENCV_BIN_DIR=/usr/bin
# onnxruntime-node: the CPU provider is bundled; its install script would
# download CUDA libraries from a feed that may be unreachable. GPU hosts set
# ONNXRUNTIME_NODE_INSTALL=cuda12 before running this (see README).
export ONNXRUNTIME_NODE_INSTALL="${ONNXRUNTIME_NODE_INSTALL:-skip}"
# node-gyp (better-sqlite3, and any other native package npm builds) uses the
# running Node's own headers when they are installed beside it (Debian and
# NodeSource packages, official tarballs) instead of downloading them, which
# fails on a host that reaches only the package registries.
node_prefix="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
if [ -f "$node_prefix/include/node/node_api.h" ]; then
  export npm_config_nodedir="$node_prefix"
fi

stamp=node_modules/.crowdline-lock-hash
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_hash" ]; then
  echo "crowdline setup: npm ci (builds the OpenCV binding; takes several minutes the first time)"
  npm ci --no-audit --no-fund
  echo "$lock_hash" > "$stamp"
fi

# npm ci succeeds without the (optional) OpenCV binding; say so instead of the TypeScript errors that would follow.
if ! scripts/check-opencv-binding.sh .; then
  rm -f "$stamp" # so the next run tries npm ci again
  exit 1
fi

npm run --silent build
