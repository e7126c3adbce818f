#!/usr/bin/env bash
# Fuzzes one of fluidedge's readers of outside input with libFuzzer, ASan and UBSan:
#   scripts/fuzz.sh TARGET SECONDS      (scripts/fuzz.sh list: the targets)
# Installs clang if missing, builds the target into build-fuzz/ (the libraries it needs, built
# with the sanitizers), and fuzzes from the committed seeds in fuzz/corpus/TARGET; what it
# learns stays in build-fuzz/corpus/TARGET, and a finding is written to build-fuzz/findings/
# (exit 1). Replay one with: build-fuzz/fuzz/TARGET FILE
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(fuzz_onnx fuzz_npy fuzz_idx fuzz_system_yaml fuzz_cluster_yaml fuzz_node_messages)
if [[ $# -ge 1 && "$1" == list ]]; then
  printf '%s\n' "${targets[@]}"
  exit 0
fi
if [[ $# -ne 2 ]]; then
  echo "usage: scripts/fuzz.sh TARGET SECONDS   (targets: ${targets[*]})" >&2
  exit 2
fi
target=$1 seconds=$2
if [[ ! " ${targets[*]} " =~ " ${target} " ]]; then
  echo "scripts/fuzz.sh: no target '$target' (targets: ${targets[*]})" >&2
  exit 2
fi
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [[ "$seconds" -lt 1 ]]; then
  echo "scripts/fuzz.sh: SECONDS must be a positive whole number, not '$seconds'" >&2
  exit 2
fi

scripts/setup.sh
if ! command -v clang++ >/dev/null || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get install -y --no-install-recommends clang libclang-rt-14-dev >/dev/null
fi

export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFLUIDEDGE_FUZZ=ON \
  -DFLUIDEDGE_WITH_TORCH=OFF -DFLUIDEDGE_BUILD_TESTS=OFF >/dev/null
cmake --build build-fuzz -j "${JOBS:-2}" --target "$target"

mkdir -p "build-fuzz/corpus/$target" build-fuzz/findings
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
"build-fuzz/fuzz/$target" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=4096 -timeout=20 \
  -artifact_prefix="build-fuzz/findings/$target-" "build-fuzz/corpus/$target" "fuzz/corpus/$target"
