#!/usr/bin/python3
"""PyTorch's quantized exports of torchvision classifiers (the QDQ format), for the int8
conformance tests, and ONNX Runtime's outputs for them (the judge).

For each model: NAME.onnx (post-training static quantization by PyTorch, exported at opset 13),
NAME.input.npy (--count seeded random inputs, --size pixels square), NAME.torch.npy (PyTorch's
quantized output), NAME.ort.npy (ONNX Runtime's, through tools/js/ort_run.js, when --ort is given)
and NAME.json with the output's quantization step and zero point.

Debian's PyTorch has no fbgemm engine; 'onednn' gives per-channel int8 weights, 'qnnpack'
per-tensor ones; activations are uint8 either way. The models have random weights (no network);
a few train-mode passes recalibrate their batch norms first, else MobileNetV2's and
EfficientNet's outputs vanish and quantize to a constant. Files already present are kept.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import torch
import torchvision
from torchvision.models import quantization as tq
from torch.ao.quantization import get_default_qconfig, get_default_qconfig_mapping
from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

# name -> (engine, how): "eager" uses torchvision's quantizable build, "fx" graph-mode quantization.
MODELS = {
    "resnet18": ("onednn", "eager"),
    "resnet18_per_tensor": ("qnnpack", "eager"),
    "mobilenet_v2": ("onednn", "eager"),
    "efficientnet_b0": ("onednn", "fx"),
}


def quantize(name, size, seed):
    engine, how = MODELS[name]
    torch.backends.quantized.engine = engine
    torch.manual_seed(seed)
    arch = name.replace("_per_tensor", "")
    if how == "eager":
        m = getattr(tq, arch)(weights=None, quantize=False)
    else:
        m = getattr(torchvision.models, arch)(weights=None)
    m.train()
    with torch.no_grad():
        for _ in range(3):
            m(torch.randn(8, 3, size, size))
    m.eval()
    calibration = [torch.randn(8, 3, size, size) for _ in range(4)]
    example = torch.randn(1, 3, size, size)
    with torch.no_grad():
        if how == "eager":
            m.fuse_model(is_qat=False)
            m.qconfig = get_default_qconfig(engine)
            torch.ao.quantization.prepare(m, inplace=True)
            for c in calibration:
                m(c)
            return torch.ao.quantization.convert(m), example
        p = prepare_fx(m, get_default_qconfig_mapping(engine), example_inputs=(example,))
        for c in calibration:
            p(c)
        return convert_fx(p), example


def output_quantization(path):
    """The scale and zero point of the DequantizeLinear that makes the graph's output."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(path)
    consts = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    for n in model.graph.node:
        if n.op_type == "Constant":
            consts[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
    producers = {o: n for n in model.graph.node for o in n.output}
    out = model.graph.output[0].name
    n = producers[out]
    while n.op_type in ("Identity", "Flatten", "Reshape"):
        n = producers[n.input[0]]
    if n.op_type != "DequantizeLinear":
        sys.exit(f"{path}: the output is made by {n.op_type}, not DequantizeLinear")

    def const(name):
        while name not in consts:
            name = producers[name].input[0]
        return consts[name]

    return float(const(n.input[1]).reshape(-1)[0]), int(const(n.input[2]).reshape(-1)[0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ort", help="tools/js/ort_run.js: also write ONNX Runtime's outputs")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    for name in args.models.split(","):
        if name not in MODELS:
            sys.exit(f"unknown model '{name}': expected one of {', '.join(MODELS)}")
        base = os.path.join(args.out, name)
        if not os.path.exists(base + ".onnx"):
            q, example = quantize(name, args.size, args.seed)
            torch.onnx.export(q, example, base + ".onnx.tmp", opset_version=13, input_names=["input"],
                              output_names=["output"], dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
            g = torch.Generator().manual_seed(args.seed + 1)
            x = torch.randn(args.count, 3, args.size, args.size, generator=g)
            with torch.no_grad():
                y = q(x)
            np.save(base + ".input.npy", x.numpy())
            np.save(base + ".torch.npy", y.numpy())
            scale, zero_point = output_quantization(base + ".onnx.tmp")
            with open(base + ".json", "w") as f:
                json.dump({"output_scale": scale, "output_zero_point": zero_point, "engine": MODELS[name][0]}, f)
            os.replace(base + ".onnx.tmp", base + ".onnx")
            print(f"{name}: exported", flush=True)
        if args.ort and not os.path.exists(base + ".ort.npy"):
            with tempfile.TemporaryDirectory() as d:
                subprocess.run(["node", args.ort, base + ".onnx", "--input", f"input={base}.input.npy", "--out", d],
                               check=True, stderr=subprocess.DEVNULL)
                os.replace(os.path.join(d, "output.npy"), base + ".ort.npy")
            print(f"{name}: ONNX Runtime's outputs", flush=True)


if __name__ == "__main__":
    main()
