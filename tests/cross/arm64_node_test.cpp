// The arm64 device binary (scripts/cross-arm64.sh) under user-mode emulation: `fluidedge-node run`
// of PyTorch's exports on each arm64 backend, as a Raspberry Pi's core, against this build's
// reference backend on the same input. Batch 1: emulation runs ResNet-18 in ~25 s.
#include <filesystem>
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
