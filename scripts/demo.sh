#!/usr/bin/env bash
# The main job on the embedded defaults: builds fluidedge (installing what is missing), exports
# a zoo model to ONNX, describes it and runs it.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD_DIR" -j "${JOBS:-2}" --target fluidedge
FE="$BUILD_DIR/bin/fluidedge"
OUT=${DEMO_DIR:-demo-output}
mkdir -p "$OUT"

echo "== fluidedge zoo export resnet18"
"$FE" zoo export resnet18 --out "$OUT/resnet18.onnx"
echo "== fluidedge info $OUT/resnet18.onnx"
"$FE" info "$OUT/resnet18.onnx"
echo "== fluidedge run $OUT/resnet18.onnx --random   (fast backend, one thread)"
"$FE" run "$OUT/resnet18.onnx" --random --output-dir "$OUT/outputs"
echo "== fluidedge run $OUT/resnet18.onnx --random --backend reference   (the ATen oracle)"
"$FE" run "$OUT/resnet18.onnx" --random --backend reference --output-dir "$OUT/reference"
echo "== fluidedge run $OUT/resnet18.onnx --random --batch 8 --bench 2"
"$FE" run "$OUT/resnet18.onnx" --random --batch 8 --bench 2
