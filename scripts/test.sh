#!/usr/bin/env bash
# Builds fluidedge and the arm64 device binary (scripts/cross-arm64.sh), and runs the whole test
# suite through CTest, the arm64 binary's tests under emulation included; then builds the suite
# again with AddressSanitizer and UndefinedBehaviorSanitizer (build-asan/) and runs it there.
# Installs what is missing first, so it works on a fresh Debian 12 machine from a clean clone.
#   scripts/test.sh [CTEST ARGS...]             both suites
#   scripts/test.sh --sanitize [CTEST ARGS...]  the sanitized suite only
# The sanitized build leaves out libtorch (the training and the reference backend, and the tests
# that need them): what it checks is the code a device node and the CLI's readers run.
# FLUIDEDGE_SKIP_ARM64=1 leaves out the arm64 build, FLUIDEDGE_SKIP_SANITIZE=1 the sanitized one.
set -euo pipefail
cd "$(dirname "$0")/.."

only_sanitized=0
if [[ "${1:-}" == --sanitize ]]; then
  only_sanitized=1
  shift
fi

scripts/setup.sh
scripts/format.sh --check
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-2}
# ccache keyed on paths relative to the clone, so that a fresh clone elsewhere (CI's) hits what an
# earlier one cached (with -g, ccache would otherwise hash the absolute directory).
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}

if [[ $only_sanitized == 0 ]]; then
  # The arm64 device build first, so that the host build's configure adds its emulated tests
  # (label arm64-emulated).
  if [[ "${FLUIDEDGE_SKIP_ARM64:-0}" != 1 ]]; then
    JOBS=$JOBS scripts/cross-arm64.sh
  fi
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFLUIDEDGE_BUILD_TESTS=ON
  cmake --build "$BUILD_DIR" -j "$JOBS"
  ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$JOBS" --timeout 900 "$@"
fi

if [[ $only_sanitized == 1 || "${FLUIDEDGE_SKIP_SANITIZE:-0}" != 1 ]]; then
  echo "test: the suite again with ASan and UBSan (build-asan/)" >&2
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFLUIDEDGE_BUILD_TESTS=ON \
    -DFLUIDEDGE_SANITIZE=ON -DFLUIDEDGE_WITH_TORCH=OFF >/dev/null
  cmake --build build-asan -j "$JOBS"
  # Leaks are errors too; any UB stops the test that hit it. The arm64 binaries under qemu are
  # not sanitized: their tests are the first suite's.
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
  UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    ctest --test-dir build-asan --output-on-failure -j "$JOBS" --timeout 900 -LE arm64-emulated "$@"
fi
