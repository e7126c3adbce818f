// The arm64 device binary (scripts/cross-arm64.sh) under user-mode emulation: `fluidedge-node run`
// of PyTorch's exports on each arm64 backend, as a Raspberry Pi's core, against this build's
// reference backend on the same input; and of PyTorch's quantized exports, run in integers
// (XNNPACK's int8 kernels on NEON, with and without the dot-product instructions), against ONNX
// Runtime's outputs for the same file. Batch 1: emulation runs ResNet-18 in ~25 s.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli_runner.h"
#include "compare.h"
#include "graph/npy.h"
#include "graph/tensor.h"

namespace fluidedge {
namespace {

namespace fs = std::filesystem;

struct EmulatedRun {
  std::string model;    // an export of tests/tools/export_torchvision.py
  std::string backend;  // fluidedge-node run --backend
  std::string cpu;      // qemu -cpu: cortex-a72 (Raspberry Pi 4), cortex-a76 (Pi 5); neither has SVE
};

std::string test_name(const EmulatedRun& r) {
  std::string name = r.model + "_" + r.backend + "_" + r.cpu;
  for (char& c : name)
    if (c == '-') c = '_';
  return name;
}

// How gtest names a case in its output (instead of the struct's bytes).
void PrintTo(const EmulatedRun& r, std::ostream* os) { *os << test_name(r); }

std::string quoted(const fs::path& p) { return "'" + p.string() + "'"; }

std::string emulated_node() {
  return quoted(FLUIDEDGE_QEMU_AARCH64) + " -L " + quoted(FLUIDEDGE_ARM64_SYSROOT) + " -cpu ";
}

class Arm64Node : public ::testing::TestWithParam<EmulatedRun> {
 protected:
  void SetUp() override {
    exports_ = fs::path(FLUIDEDGE_TEST_DATA) / "torchvision";
    dir_ = fs::path(FLUIDEDGE_TEST_DATA) / "arm64-emulated" / test_name(GetParam());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  fs::path exports_, dir_;
};

// The first sample of the export's input, so that both sides read the same bytes (seeded random
// inputs could differ across architectures by libm's rounding).
fs::path first_sample(const fs::path& input, const fs::path& out) {
  graph::Tensor x = graph::load_npy(input.string());
  graph::Shape shape = x.shape();
  shape.at(0) = 1;
  graph::Tensor one(x.dtype(), shape);
  const auto* from = static_cast<const char*>(x.raw());
  std::copy(from, from + one.nbytes(), static_cast<char*>(one.raw()));
  graph::save_npy(one, out.string());
  return out;
}

TEST_P(Arm64Node, RunMatchesTheHostReferenceBackend) {
  const EmulatedRun& run = GetParam();
  fs::path model = exports_ / (run.model + ".onnx");
  ASSERT_TRUE(fs::exists(model)) << model
                                 << " is missing (run through ctest: the export_torchvision_models fixture makes it)";
  fs::path input = first_sample(exports_ / (run.model + ".input.npy"), dir_ / "input.npy");

  auto host = testing::run_cli("run " + quoted(model) + " --input input=" + quoted(input) +
                               " --backend reference --output-dir " + quoted(dir_ / "reference"));
  ASSERT_EQ(host.exit_code, 0) << host.err;
  auto arm = testing::run_command(emulated_node() + run.cpu + " " + quoted(FLUIDEDGE_ARM64_NODE) + " run " +
                                  quoted(model) + " --backend " + run.backend + " --input input=" + quoted(input) +
                                  " --output-dir " + quoted(dir_ / "arm64"));
  ASSERT_EQ(arm.exit_code, 0) << arm.err;
  EXPECT_NE(arm.out.find("on " + run.backend + " backend"), std::string::npos) << arm.out;

  graph::Tensor want = graph::load_npy((dir_ / "reference" / "output.npy").string());
  graph::Tensor got = graph::load_npy((dir_ / "arm64" / "output.npy").string());
  ASSERT_EQ(got.shape(), want.shape());
  EXPECT_LE(testing::relative_error(got, want), 1e-4);
}

// PyTorch's quantized exports (tests/tools/export_quantized.py) and ONNX Runtime's outputs for
// them, made on this host: the arm64 node's int8 run agrees with ORT's top-1 and is within one
// quantization step of it on at least 99 % of the outputs (the conformance test's bar).
class Arm64QuantizedNode : public Arm64Node {};

TEST_P(Arm64QuantizedNode, RunMatchesOnnxRuntime) {
  const EmulatedRun& run = GetParam();
  const fs::path base = fs::path(FLUIDEDGE_TEST_DATA) / "quantized" / run.model;
  ASSERT_TRUE(fs::exists(base.string() + ".ort.npy"))
      << base << " is missing (run through ctest: the export_quantized_models fixture makes it)";
  fs::path input = first_sample(base.string() + ".input.npy", dir_ / "input.npy");
  auto arm = testing::run_command(emulated_node() + run.cpu + " " + quoted(FLUIDEDGE_ARM64_NODE) + " run " +
                                  quoted(fs::path(base.string() + ".onnx")) + " --backend " + run.backend +
                                  " --input input=" + quoted(input) + " --output-dir " + quoted(dir_ / "arm64"));
  ASSERT_EQ(arm.exit_code, 0) << arm.err;
  graph::Tensor ort = graph::load_npy(base.string() + ".ort.npy");
  graph::Tensor got = graph::load_npy((dir_ / "arm64" / "output.npy").string());
  const int64_t classes = ort.dim(1);
  ASSERT_EQ(got.numel(), classes);
  std::ifstream meta(base.string() + ".json");
  std::string text((std::istreambuf_iterator<char>(meta)), std::istreambuf_iterator<char>());
  const size_t at = text.find("\"output_scale\"");
  ASSERT_NE(at, std::string::npos) << text;
  const float step = std::stof(text.substr(text.find(':', at) + 1));
  const float* a = got.data<float>();
  const float* b = ort.data<float>();  // row 0: the first sample
  int64_t within = 0;
  for (int64_t c = 0; c < classes; ++c) within += std::fabs(a[c] - b[c]) <= step * 1.001f;
  EXPECT_EQ(std::max_element(a, a + classes) - a, std::max_element(b, b + classes) - b);
  EXPECT_GE(static_cast<double>(within) / static_cast<double>(classes), 0.99);
}

std::vector<EmulatedRun> quantized_runs() {
  std::vector<EmulatedRun> r;
  for (const char* model : {"resnet18", "mobilenet_v2"})
    for (const char* backend : {"fast", "xnnpack"}) r.push_back({model, backend, "cortex-a72"});
  // The Pi 5's core has the dot-product instructions XNNPACK's int8 kernels use when present.
  r.push_back({"mobilenet_v2", "xnnpack", "cortex-a76"});
  r.push_back({"resnet18", "xnnpack", "cortex-a76"});
  return r;
}

INSTANTIATE_TEST_SUITE_P(Emulated, Arm64QuantizedNode, ::testing::ValuesIn(quantized_runs()),
                         [](const auto& info) { return test_name(info.param); });

std::vector<EmulatedRun> runs() {
  std::vector<EmulatedRun> r;
  for (const char* model : {"paper_cnn", "mobilenet_v2", "resnet18", "efficientnet_b0"})
    for (const char* backend : {"fast", "xnnpack"}) r.push_back({model, backend, "cortex-a72"});
  // The Pi 5's core adds dot-product and half-precision arithmetic, which may change what the
  // libraries pick at run time.
  for (const char* backend : {"fast", "xnnpack"}) r.push_back({"mobilenet_v2", backend, "cortex-a76"});
  return r;
}

INSTANTIATE_TEST_SUITE_P(Emulated, Arm64Node, ::testing::ValuesIn(runs()),
                         [](const auto& info) { return test_name(info.param); });

}  // namespace
}  // namespace fluidedge
