#!/usr/bin/env bash
# Sets up (packages + release build), then runs the whole test suite in release mode.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
# h5py lets the suite check that shards and checkpoints open in Python (those checks skip without it).
python3 -c "import h5py" 2>/dev/null || python3 -m pip install -q h5py 2>/dev/null \
  || echo "test: h5py unavailable; the h5py layout checks will be skipped"
swift test -c release -Xswiftc -enable-testing --no-parallel "$@"
