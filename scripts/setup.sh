#!/usr/bin/env bash
# Idempotent set-up: installs the Debian packages that are missing, then builds in release mode.
# Usage: scripts/setup.sh [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libopenmpi-dev openmpi-bin libopenblas-dev libhdf5-dev hdf5-tools libpng-dev libturbojpeg0-dev pkg-config)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Serial HDF5 must be the one we build against (see docs/build.md).
pkg-config --exists hdf5-serial openblas ompi-c libpng16 libturbojpeg || {
  echo "setup: pkg-config cannot find hdf5-serial, openblas, ompi-c, libpng16 or libturbojpeg" >&2; exit 1; }

if [ "${1:-}" != "--no-build" ]; then
  # -enable-testing lets `swift test -c release` reuse this build instead of compiling twice.
  swift build -c release -Xswiftc -enable-testing 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\] (Compiling|Emitting|Write|Wrapping|Linking|Fetching|Cloning|Computing|Working)' || true
  test -x .build/release/ifer || { echo "setup: release build failed" >&2; exit 1; }
  echo "setup: built .build/release/ifer"
fi
