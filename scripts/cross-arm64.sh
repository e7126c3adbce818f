#!/usr/bin/env bash
# Cross-builds the device-side binary for aarch64 (Raspberry Pi 4/5 class boards):
# build-arm64/bin/fluidedge-node, without libtorch. Works from a clean clone on Debian 12 (as root
# or with sudo); reruns only rebuild what changed (ccache, and the sysroot is kept while the
# package versions it was made from stay the same).
#
# Approach: a private arm64 sysroot, build-arm64/sysroot, made from `apt-get download` + `dpkg -x`
# of the :arm64 packages the node links and their dependencies (resolved by apt itself, against
# an empty package database, with arm64 as the only architecture). Not multiarch -dev packages
# installed system-wide, because three of them are not Multi-Arch: same (libyaml-cpp-dev,
# libxnnpack-dev, libpthreadpool-dev): `apt-get -s install` of their :arm64 versions removes the
# amd64 ones, and through libxnnpack0/libpthreadpool0 libtorch-dev and python3-torch, which the
# host build and its tests need. One sysroot holding every arm64 library also gives the emulated
# tests a single root for `qemu-aarch64-static -L`. System-wide, the script only adds the arm64
# package lists (`dpkg --add-architecture arm64`) and amd64 tools: the cross compiler,
# qemu-user-static, and the host's protoc and grpc_cpp_plugin (the build runs them); it simulates
# that install first and refuses it if apt would remove anything.
#
# Environment: JOBS (parallel jobs, default 2), ARM64_BUILD_DIR (default build-arm64).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

JOBS=${JOBS:-2}
BUILD_DIR=${ARM64_BUILD_DIR:-build-arm64}
SYSROOT="$ROOT/$BUILD_DIR/sysroot"
DEB_CACHE="$ROOT/$BUILD_DIR/debs"

SUDO=""
[[ $(id -u) -ne 0 ]] && SUDO="sudo"
APT_INSTALL=(env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends
             -o DPkg::Lock::Timeout=600)
[[ -n "$SUDO" ]] && APT_INSTALL=("$SUDO" "${APT_INSTALL[@]}")

# What fluidedge-node links (src/common, graph, runtime, cluster, cli), as arm64 packages; the
# XNNPACK trio is for the xnnpack backend; GoogleTest for the unit tests of the runtime's
# architecture-specific parts, which run under qemu (tests/cross). libgomp1: oneDNN and the runtime use OpenMP.
# protobuf-compiler-grpc: never run (the host's plugins are), but gRPC's CMake config refuses to
# load unless the arm64 plugins it lists exist.
ARM64_PACKAGES=(
  libprotobuf-dev libgrpc++-dev protobuf-compiler-grpc libonnx-dev libdnnl-dev libgomp1
  libyaml-cpp-dev libspdlog-dev libfmt-dev libcli11-dev nlohmann-json3-dev zlib1g-dev
  libxnnpack-dev libpthreadpool-dev libcpuinfo-dev
  libgtest-dev libgmock-dev
)
# Tools that run on the host (amd64).
HOST_PACKAGES=(
  crossbuild-essential-arm64 qemu-user-static binutils-aarch64-linux-gnu
  cmake ninja-build ccache file
  protobuf-compiler protobuf-compiler-grpc
)

log() { echo "cross-arm64: $*" >&2; }

# --- host tools --------------------------------------------------------------------------------
apt_updated=0
apt_update() {
  if ((apt_updated == 0)); then
    $SUDO apt-get update -o DPkg::Lock::Timeout=600 >/dev/null
    apt_updated=1
  fi
}

if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  log "adding the arm64 architecture to apt (package lists only)"
  $SUDO dpkg --add-architecture arm64
  apt_update
fi
# The arm64 lists may be missing (architecture added, lists never fetched) or stale.
if ! apt-cache policy libc6:arm64 2>/dev/null | grep -q 'Candidate: [0-9]'; then
  apt_update
fi

missing=()
for p in "${HOST_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p:amd64" 2>/dev/null | grep -q "install ok installed" ||
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  apt_update
  # Never trade a host package for a cross one: refuse an install that removes anything.
  if removed=$(apt-get -s install --no-install-recommends "${missing[@]}" | grep '^Remv'); then
    log "installing ${missing[*]} would remove host packages; refusing:"
    echo "$removed" >&2
    exit 1
  fi
  log "installing ${missing[*]}"
  "${APT_INSTALL[@]}" "${missing[@]}"
fi

# --- the arm64 sysroot -------------------------------------------------------------------------
# apt with arm64 as its only architecture and an empty package database: it resolves the whole
# dependency closure of ARM64_PACKAGES without looking at (or touching) what the host has.
mkdir -p "$DEB_CACHE"
EMPTY_STATUS="$ROOT/$BUILD_DIR/apt-empty-status"
: >"$EMPTY_STATUS"
APT_ARM64=(-o APT::Architecture=arm64 -o APT::Architectures::=arm64 -o Dir::State::Status="$EMPTY_STATUS"
           -o APT::Sandbox::User=root)
resolve() {
  apt-get -s install --no-install-recommends "${APT_ARM64[@]}" "${ARM64_PACKAGES[@]}" |
    sed -n 's/^Inst \([^ ]*\) (\([^ ]*\) .*/\1=\2/p' | sort
}
if ! closure=$(resolve) || [[ -z "$closure" ]]; then
  apt_update
  closure=$(resolve)
fi

if [[ ! -f "$SYSROOT/.packages" ]] || [[ "$(cat "$SYSROOT/.packages")" != "$closure" ]]; then
  log "making the arm64 sysroot in $SYSROOT ($(wc -l <<<"$closure") packages)"
  need=()
  for pv in $closure; do
    name=${pv%%=*} version=${pv#*=}
    deb="${name}_${version//:/%3a}_"
    compgen -G "$DEB_CACHE/$deb*.deb" >/dev/null || need+=("$pv")
  done
  if ((${#need[@]})); then
    (cd "$DEB_CACHE" && apt-get download "${APT_ARM64[@]}" "${need[@]}" >/dev/null)
  fi
  rm -rf "$SYSROOT"
  mkdir -p "$SYSROOT"
  for pv in $closure; do
    name=${pv%%=*} version=${pv#*=}
    debs=("$DEB_CACHE/${name}_${version//:/%3a}_"*.deb)
    dpkg-deb -x "${debs[0]}" "$SYSROOT"
  done
  # Packages ship absolute symlinks (/usr/lib/.../libfoo.so -> /lib/...); inside the sysroot they
  # must point into it, or the linker would follow them to the host's amd64 files.
  while IFS= read -r -d '' link; do
    target=$(readlink "$link")
    ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$SYSROOT$target")" "$link"
  done < <(find "$SYSROOT" -type l -lname '/*' -print0)
  echo "$closure" >"$SYSROOT/.packages"
fi

# --- configure and build -----------------------------------------------------------------------
export FLUIDEDGE_ARM64_SYSROOT="$SYSROOT"
# ccache keyed on paths relative to the clone, so that a fresh clone elsewhere (CI's) hits the
# objects an earlier one cached (with -g, ccache would otherwise hash the absolute directory).
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$ROOT} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$ROOT/cmake/aarch64-linux-gnu.cmake" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFLUIDEDGE_WITH_TORCH=OFF -DFLUIDEDGE_BUILD_TESTS=ON >/dev/null
# The node, and the one test program whose code differs by architecture (the vector loops, the
# memory planner): the host build's arm64-emulated tests run both under qemu.
cmake --build "$BUILD_DIR" -j "$JOBS" --target fluidedge-node fast_parts_test
log "built $BUILD_DIR/bin/fluidedge-node: $(file -b "$BUILD_DIR/bin/fluidedge-node" | cut -d, -f1-2)"
log "run it with: qemu-aarch64-static -L $SYSROOT $BUILD_DIR/bin/fluidedge-node --help"
