#!/usr/bin/env bash
# Builds fluidedge and runs the whole test suite through CTest. Installs what is missing first,
# so it works on a fresh Debian 12 machine from a clean clone.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-2}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFLUIDEDGE_BUILD_TESTS=ON
cmake --build "$BUILD_DIR" -j "$JOBS"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$JOBS" --timeout 900 "$@"
