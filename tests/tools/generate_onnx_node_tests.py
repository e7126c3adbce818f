#!/usr/bin/python3
"""Generates ONNX's own backend node tests (model.onnx + input/output .pb) from Debian's
python3-onnx, for the operators fluidedge supports. Run at test time; nothing is committed.

Debian's onnx 1.12 still uses numpy aliases that current numpy dropped; restore them first.
"""
import argparse
import os
import re
import subprocess
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



def ops_of(test_binary):
    """The ops the conformance test is instantiated for (graph::importable_ops()), from its
    --gtest_list_tests: lines like `  AllCasesPassOnEveryBackend/Conv  # GetParam() = "Conv"`."""
    listing = subprocess.run([test_binary, "--gtest_list_tests"], check=True, capture_output=True, text=True).stdout
    return set(re.findall(r'GetParam\(\) = "([A-Za-z0-9_]+)"', listing))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--ops-from", required=True, help="the onnx_node_test binary, whose op list is used")
    args = parser.parse_args()
    wanted = ops_of(args.ops_from)
    if not wanted:
        print("no ops listed by " + args.ops_from, file=sys.stderr)
        return 1
    # The stamp names the ops generated for: a new op regenerates the cases.
    stamp = os.path.join(args.out, ".complete")
    op_line = ",".join(sorted(wanted)) + "\n"
    if os.path.exists(stamp):
        with open(stamp) as f:
            if f.readline() == op_line:
                return 0
    os.makedirs(args.out, exist_ok=True)
    start = time.time()
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
        f.write(op_line)
        f.write("%d cases generated in %.1f s\n" % (count, time.time() - start))
    return 0


if __name__ == "__main__":
    sys.exit(main())
