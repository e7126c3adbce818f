#!/usr/bin/env bash
# Builds fluidedge and the arm64 device binary (scripts/cross-arm64.sh), and runs the whole test
# suite through CTest, the arm64 binary's tests under emulation included. Installs what is
# missing first, so it works on a fresh Debian 12 machine from a clean clone.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-2}
# ccache keyed on paths relative to the clone, so that a fresh clone elsewhere (CI's) hits what an
# earlier one cached (with -g, ccache would otherwise hash the absolute directory).
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
# The arm64 device build first, so that the host build's configure adds its emulated tests
# (label arm64-emulated). FLUIDEDGE_SKIP_ARM64=1 leaves it out.
if [[ "${FLUIDEDGE_SKIP_ARM64:-0}" != 1 ]]; then
  JOBS=$JOBS scripts/cross-arm64.sh
fi
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFLUIDEDGE_BUILD_TESTS=ON
cmake --build "$BUILD_DIR" -j "$JOBS"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$JOBS" --timeout 900 "$@"
