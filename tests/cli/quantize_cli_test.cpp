// `fluidedge quantize`: the QDQ file it writes is what ONNX Runtime runs (and gives our fast
// backend's answers), the QOperator form has the integer ops, and on the paper's CNN and MNIST
// the int8 model keeps the float model's accuracy within 0.3 points.
#include <unistd.h>

#include <filesystem>
#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "graph/npy.h"
#include "graph/onnx_io.h"

namespace fluidedge {
namespace {

namespace fs = std::filesystem;
using testing::run_cli;

int shell(const std::string& cmd) {
  int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

class QuantizeCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("fluidedge_quantize_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  int count(const graph::Graph& g, const std::string& op) const {
    int n = 0;
    for (const auto& node : g.nodes) n += node.op_type == op;
    return n;
  }

  fs::path dir_;
};

TEST_F(QuantizeCli, QdqFileRunsInOnnxRuntimeWithTheFastBackendsAnswers) {
  auto r = run_cli(
      "quantize zoo:resnet18 --calibration random --calibration-samples 8 --eval-samples 8 --per-channel "
      "--json --out " +
      path("r18.onnx"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["quantized_weights"], 21);  // 20 convolutions and the classifier
  EXPECT_LT(j["quantized_weight_bytes"].get<double>(), 0.3 * j["float_weight_bytes"].get<double>());
  graph::Graph q = graph::load_onnx(path("r18.onnx"));
  EXPECT_GT(count(q, "QuantizeLinear"), 20);
  EXPECT_EQ(count(q, "Conv"), 20);  // QDQ: the float ops stay, between DequantizeLinear and QuantizeLinear

  graph::Tensor x(graph::DType::kFloat32, {2, 3, 224, 224});
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = u(rng);
  graph::save_npy(x, path("x.npy"));
  fs::create_directories(path("ort"));
  ASSERT_EQ(shell("node " + std::string(FLUIDEDGE_SOURCE_DIR) + "/tools/js/ort_run.js " + path("r18.onnx") +
                  " --input input=" + path("x.npy") + " --out " + path("ort") + " 2>/dev/null"),
            0);
  r = run_cli("run " + path("r18.onnx") + " --backend fast --input input=" + path("x.npy") + " --output-dir " +
              path("ours"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  graph::Tensor ort = graph::load_npy(path("ort/output.npy")), ours = graph::load_npy(path("ours/output.npy"));
  ASSERT_EQ(ort.shape(), ours.shape());
  // Every integer layer is ONNX Runtime's to the bit; the classifier runs in float in both.
  float worst = 0, largest = 0;
  for (int64_t i = 0; i < ort.numel(); ++i) {
    worst = std::max(worst, std::fabs(ort.data<float>()[i] - ours.data<float>()[i]));
    largest = std::max(largest, std::fabs(ort.data<float>()[i]));
  }
  EXPECT_LE(worst, 1e-4f * largest);
}

TEST_F(QuantizeCli, QOperatorFormatHoldsTheIntegerOps) {
  auto r = run_cli(
      "quantize zoo:resnet18 --calibration random --calibration-samples 4 --eval-samples 4 --format "
      "qoperator --json --out " +
      path("r18q.onnx"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  graph::Graph q = graph::load_onnx(path("r18q.onnx"));
  EXPECT_EQ(count(q, "QLinearConv"), 20);
  EXPECT_EQ(count(q, "QLinearAdd"), 8);
  EXPECT_EQ(count(q, "Conv"), 0);
  graph::Tensor x(graph::DType::kFloat32, {1, 3, 224, 224});
  graph::save_npy(x, path("x.npy"));
  EXPECT_EQ(shell("node " + std::string(FLUIDEDGE_SOURCE_DIR) + "/tools/js/ort_run.js " + path("r18q.onnx") +
                  " --input input=" + path("x.npy") + " 2>/dev/null >/dev/null"),
            0)
      << "ONNX Runtime runs the QOperator file (com.microsoft ops included)";
}

// Without VNNI (oneDNN limited to AVX2 here), 7-bit weights run on oneDNN's int8 kernels and
// full-range ones on the exact loops: both give the VNNI run's outputs exactly.
TEST_F(QuantizeCli, WithoutVnniTheOutputsAreTheSame) {
  graph::Tensor x(graph::DType::kFloat32, {1, 3, 224, 224});
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = u(rng);
  graph::save_npy(x, path("x.npy"));
  for (const char* range : {"--reduce-range", ""}) {
    std::string model = path(std::string("r18") + range + ".onnx");
    auto r =
        run_cli("quantize zoo:resnet18 --calibration random --calibration-samples 4 --eval-samples 4 --per-channel " +
                std::string(range) + " --out " + model);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    if (std::string(range) == "--reduce-range") {
      for (const auto& [name, t] : graph::load_onnx(model).initializers) {
        if (t.dtype() != graph::DType::kInt8) continue;
        for (int8_t v : t.values<int8_t>()) ASSERT_TRUE(v >= -63 && v <= 63) << name;
      }
    }
    r = run_cli("run " + model + " --backend fast --input input=" + path("x.npy") + " --output-dir " + path("vnni"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = testing::run_command("ONEDNN_MAX_CPU_ISA=AVX2 '" + std::string(FLUIDEDGE_CLI) + "' run " + model +
                             " --backend fast --input input=" + path("x.npy") + " --output-dir " + path("avx2"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(graph::load_npy(path("vnni/output.npy")).equals(graph::load_npy(path("avx2/output.npy")))) << range;
  }
}

// The paper's CNN trained on MNIST (the cluster tests' Static model), int8 against fp32 on the
// whole test split, both calibration methods.
TEST_F(QuantizeCli, PaperCnnOnMnistKeepsItsAccuracyWithinPointThree) {
  FLUIDEDGE_SKIP_WITHOUT_TORCH();
  fs::path model = fs::path(FLUIDEDGE_TEST_DATA) / "cluster/static/model.onnx";
  ASSERT_TRUE(fs::exists(model)) << "the cluster_models fixture trains it";
  for (const char* method : {"minmax", "percentile"}) {
    auto r = run_cli("quantize " + model.string() + " --calibration mnist --eval-samples 100000 --method " + method +
                     " --json --out " + path(std::string(method) + ".onnx"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto j = nlohmann::json::parse(r.out);
    double fp32 = j["float_accuracy"], int8 = j["int8_accuracy"];
    RecordProperty(std::string(method) + "_fp32", std::to_string(fp32));
    RecordProperty(std::string(method) + "_int8", std::to_string(int8));
    EXPECT_GT(fp32, 0.9) << "a trained model";
    EXPECT_LE(std::fabs(int8 - fp32), 0.003) << method << ": fp32 " << fp32 << ", int8 " << int8;
    EXPECT_GE(j["top1_agreement"].get<double>(), 0.99) << method;
  }
}

}  // namespace
}  // namespace fluidedge
