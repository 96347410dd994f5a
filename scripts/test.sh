#!/usr/bin/env bash
# Sets up (packages + release build), then runs the whole test suite in release mode.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
swift test -c release -Xswiftc -enable-testing --no-parallel "$@"
