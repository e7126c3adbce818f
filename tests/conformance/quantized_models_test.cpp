// PyTorch's quantized exports of torchvision classifiers (QDQ, tests/tools/export_quantized.py,
// run by the export_quantized_models fixture) on the fast and xnnpack backends against ONNX
// Runtime running the same files (the judge): top-1 agreement on 200 inputs and the share of
// output elements within one quantization step, both at least 99 %, with no step falling back.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "graph/npy.h"
#include "graph/onnx_io.h"
#include "runtime/fast/fast_session.h"
#include "runtime/xnnpack/xnnpack_session.h"

namespace fluidedge {
namespace {

namespace fs = std::filesystem;

fs::path data_dir() { return fs::path(FLUIDEDGE_TEST_DATA) / "quantized"; }

int64_t argmax(const float* row, int64_t n) { return std::max_element(row, row + n) - row; }

struct Case {
  std::string model, backend;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.backend << " " << c.model; }

class QuantizedModel : public ::testing::TestWithParam<Case> {};

TEST_P(QuantizedModel, MatchesOnnxRuntime) {
  const std::string name = GetParam().model;
  const bool xnnpack = GetParam().backend == "xnnpack";
  fs::path base = data_dir() / name;
  ASSERT_TRUE(fs::exists(base.string() + ".ort.npy"))
      << "export missing in " << data_dir() << " (run through ctest: the export_quantized_models fixture makes it)";
  graph::Graph g = graph::load_onnx(base.string() + ".onnx");
  graph::Tensor x = graph::load_npy(base.string() + ".input.npy");
  graph::Tensor ort = graph::load_npy(base.string() + ".ort.npy");
  std::ifstream meta(base.string() + ".json");
  const float step = nlohmann::json::parse(meta)["output_scale"].get<float>();

  std::unique_ptr<runtime::Session> session;
  const int64_t count = x.dim(0), chunk = 50, classes = ort.dim(1);
  if (xnnpack) {
    auto s = std::make_unique<runtime::xnnpack::XnnpackSession>(g, runtime::SessionOptions{});
    EXPECT_EQ(s->plan_stats(chunk).fallback_steps, 0);
    session = std::move(s);
  } else {
    auto s = std::make_unique<runtime::fast::FastSession>(g, runtime::SessionOptions{});
    EXPECT_EQ(s->plan_stats(chunk).fallback_steps, 0);
    session = std::move(s);
  }
  int integer_convs = 0, int8_activations = 0;
  for (const auto& n : session->graph().nodes) {
    integer_convs += n.op_type == "QLinearConv";
    for (const auto& o : n.outputs) int8_activations += session->graph().value(o).dtype == graph::DType::kInt8;
  }
  EXPECT_GT(integer_convs, 0) << "the QDQ convolutions run as int8 ones";
  // XNNPACK's per-channel kernels take int8: the model's uint8 activations become int8.
  if (xnnpack) {
    EXPECT_GT(int8_activations, 0);
  }
  int64_t same_top1 = 0, within_step = 0, exact = 0;
  for (int64_t begin = 0; begin < count; begin += chunk) {
    graph::Tensor ours =
        session->run({{g.inputs.at(0), x.rows(begin, std::min(chunk, count - begin))}}).at(g.outputs.at(0));
    ASSERT_EQ(ours.dim(1), classes);
    for (int64_t r = 0; r < ours.dim(0); ++r) {
      const float* a = ours.data<float>() + r * classes;
      const float* b = ort.data<float>() + (begin + r) * classes;
      same_top1 += argmax(a, classes) == argmax(b, classes);
      for (int64_t c = 0; c < classes; ++c) {
        float d = std::fabs(a[c] - b[c]);
        within_step += d <= step * 1.001f;
        exact += d <= step * 1e-3f;
      }
    }
  }
  double top1 = static_cast<double>(same_top1) / static_cast<double>(count);
  double within = static_cast<double>(within_step) / static_cast<double>(count * classes);
  RecordProperty("top1_agreement", std::to_string(top1));
  RecordProperty("within_one_step", std::to_string(within));
  RecordProperty("exact", std::to_string(static_cast<double>(exact) / static_cast<double>(count * classes)));
  EXPECT_GE(top1, 0.99) << name;
  EXPECT_GE(within, 0.99) << name;
}

std::vector<Case> cases() {
  std::vector<Case> out;
  for (const char* backend : {"fast", "xnnpack"})
    for (const char* model : {"resnet18", "resnet18_per_tensor", "mobilenet_v2", "efficientnet_b0"})
      out.push_back({model, backend});
  return out;
}

INSTANTIATE_TEST_SUITE_P(Torchvision, QuantizedModel, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return info.param.backend + "_" + info.param.model; });

}  // namespace
}  // namespace fluidedge
