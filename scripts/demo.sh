#!/usr/bin/env bash
# The main job on the embedded defaults: installs what is missing, builds fluidedge, and runs
# `fluidedge demo` (both papers on this machine: Static/Dynamic/Fluid trained and served by two
# device nodes with a failure, EfficientNet-B0 partitioned for two boards and deployed, and again
# for an fp16 and an int8 board, the runtime against ONNX Runtime), which writes one HTML report:
# demo-output/report/index.html.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD_DIR" -j "${JOBS:-2}" --target fluidedge fluidedge-node
exec "$BUILD_DIR/bin/fluidedge" demo --out "${DEMO_DIR:-demo-output}" "$@"
