#!/usr/bin/python3
"""Generates ONNX's own backend node tests (model.onnx + input/output .pb) from Debian's
python3-onnx, for the operators fluidedge supports. Run at test time; nothing is committed.

Debian's onnx 1.12 still uses numpy aliases that current numpy dropped; restore them first.
"""
import argparse
import os
import sys
import time

import numpy as np

import warnings  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for alias, target in (("float", float), ("int", int), ("bool", bool), ("object", object)):
        if not hasattr(np, alias):
            setattr(np, alias, target)

from onnx import numpy_helper  # noqa: E402
from onnx.backend.test.case import node as node_test  # noqa: E402

OPS = [
    "Conv", "BatchNormalization", "Relu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh",
    "Add", "Sub", "Mul", "Div", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
    "Gemm", "MatMul", "Flatten", "Reshape", "Transpose", "Concat", "Split", "Squeeze",
    "Unsqueeze", "Pad", "Softmax", "Dropout", "Identity", "LeakyRelu", "Shape", "Gather", "Cast",
    "Slice", "Constant",
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    stamp = os.path.join(args.out, ".complete")
    if os.path.exists(stamp):
        return 0
    os.makedirs(args.out, exist_ok=True)
    start = time.time()
    wanted = set(OPS)
    count = 0
    for case in node_test.collect_testcases(None):
        ops = {n.op_type for n in case.model.graph.node}
        if not ops or not ops <= wanted:
            continue
        if any(not o.type.HasField("tensor_type") for o in case.model.graph.output):
            continue
        case_dir = os.path.join(args.out, case.name)
        os.makedirs(case_dir, exist_ok=True)
        with open(os.path.join(case_dir, "model.onnx"), "wb") as f:
            f.write(case.model.SerializeToString())
        for i, (inputs, outputs) in enumerate(case.data_sets):
            data_dir = os.path.join(case_dir, "test_data_set_%d" % i)
            os.makedirs(data_dir, exist_ok=True)
            graph_inputs = [v.name for v in case.model.graph.input]
            for j, value in enumerate(inputs):
                tensor = numpy_helper.from_array(np.asarray(value), graph_inputs[j])
                with open(os.path.join(data_dir, "input_%d.pb" % j), "wb") as f:
                    f.write(tensor.SerializeToString())
            for j, value in enumerate(outputs):
                tensor = numpy_helper.from_array(np.asarray(value), case.model.graph.output[j].name)
                with open(os.path.join(data_dir, "output_%d.pb" % j), "wb") as f:
                    f.write(tensor.SerializeToString())
        count += 1
    with open(stamp, "w") as f:
        f.write("%d cases generated in %.1f s\n" % (count, time.time() - start))
    return 0


if __name__ == "__main__":
    sys.exit(main())
