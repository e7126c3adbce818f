#!/usr/bin/python3
"""PyTorch's own ONNX exports of torchvision classifiers, for the conformance tests: the zoo's
architectures (the default) and, with --models beyond, ones the zoo does not build.

For each model: NAME.onnx (torch.onnx.export, opset 17 or --opset, dynamic batch), NAME.input.npy
(seeded random input, batch 2, --size pixels square), NAME.output.npy (PyTorch's output for it)
and NAME.json with PyTorch's
parameter count and MACs (Conv: output elements x input channels / groups x kernel area;
Linear: in x out features; per sample). Random weights (weights=None) with a fixed seed; no
network. Files already present are kept, so reruns are cheap.
"""
import argparse
import json
import os
import sys
import warnings

import numpy as np
import torch
import torchvision

MNIST_MODELS = {"paper_cnn", "lenet5"}
ALL = ["paper_cnn", "lenet5", "alexnet", "vgg16", "resnet18", "resnet50", "mobilenet_v2",
       "efficientnet_b0", "squeezenet1_1", "googlenet", "regnet_x_400mf"]
# Architectures outside the zoo whose exports need ops the zoo's do not: channel shuffles
# (Transpose/Reshape), hard activations and squeeze-excitation, dense concatenations, grouped
# convolutions, LayerNormalization (ReduceMean/Pow/Sqrt at opset 11), Gelu (Erf) and layer scale.
BEYOND = ["shufflenet_v2_x1_0", "mnasnet0_5", "mobilenet_v3_small", "densenet121", "resnext50_32x4d",
          "convnext_tiny"]


class PaperCNN(torch.nn.Module):
    """The Fluid paper's MNIST CNN, as fluidedge's zoo builds it."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 32, 3)
        self.conv2 = torch.nn.Conv2d(32, 64, 3)
        self.fc1 = torch.nn.Linear(1600, 128)
        self.fc2 = torch.nn.Linear(128, 10)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = torch.max_pool2d(torch.relu(self.conv2(x)), 2)
        x = torch.relu(self.fc1(torch.flatten(x, 1)))
        return self.fc2(x)


class LeNet5(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = torch.nn.Conv2d(6, 16, 5)
        self.fc1 = torch.nn.Linear(400, 120)
        self.fc2 = torch.nn.Linear(120, 84)
        self.fc3 = torch.nn.Linear(84, 10)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = torch.max_pool2d(torch.relu(self.conv2(x)), 2)
        x = torch.relu(self.fc1(torch.flatten(x, 1)))
        x = torch.relu(self.fc2(x))
        return self.fc3(x)


def build(name):
    if name == "paper_cnn":
        return PaperCNN()
    if name == "lenet5":
        return LeNet5()
    kwargs = {"aux_logits": False, "init_weights": True} if name == "googlenet" else {}
    return getattr(torchvision.models, name)(weights=None, **kwargs)


def count_macs(model, x):
    macs = [0]

    def conv_hook(module, inputs, output):
        kernel = module.kernel_size[0] * module.kernel_size[1]
        macs[0] += output[0].numel() * (module.in_channels // module.groups) * kernel

    def linear_hook(module, inputs, output):
        macs[0] += module.in_features * module.out_features

    hooks = []
    for m in model.modules():
        if isinstance(m, torch.nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, torch.nn.Linear):
            hooks.append(m.register_forward_hook(linear_hook))
    with torch.no_grad():
        model(x[:1])
    for h in hooks:
        h.remove()
    return macs[0]


def export(name, out, opset, size):
    base = os.path.join(out, name)
    if all(os.path.exists(base + ext) for ext in (".onnx", ".input.npy", ".output.npy", ".json")):
        return
    torch.manual_seed(0)
    model = build(name).eval()
    shape = (2, 1, 28, 28) if name in MNIST_MODELS else (2, 3, size, size)
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        y = model(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, x, base + ".onnx.tmp", input_names=["input"], output_names=["output"],
                          opset_version=opset, do_constant_folding=True,
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    np.save(base + ".input.npy", x.numpy())
    np.save(base + ".output.npy", y.numpy())
    counts = {"params": sum(p.numel() for p in model.parameters()), "macs": count_macs(model, x)}
    with open(base + ".json", "w") as f:
        json.dump(counts, f)
    os.replace(base + ".onnx.tmp", base + ".onnx")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", required=True)
    parser.add_argument("--models", default=",".join(ALL), help="comma-separated, or 'beyond'")
    parser.add_argument("--opset", type=int, default=17)
    parser.add_argument("--size", type=int, default=224, help="input height and width")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(1)
    models = BEYOND if args.models == "beyond" else args.models.split(",")
    for name in models:
        export(name, args.out, args.opset, args.size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
