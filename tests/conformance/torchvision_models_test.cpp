// PyTorch's own ONNX exports of torchvision classifiers (tests/tools/export_torchvision.py, run
// by the export_torchvision_* fixtures) against fluidedge: the zoo's architectures import, run
// on the reference backend and match PyTorch's output, and the zoo's own builds have the same
// counts; six architectures beyond the zoo, exported at opsets 11 and 17, match PyTorch on every
// backend of this build, the lean ones with no step falling back.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "compare.h"
#include "graph/cost.h"
#include "graph/npy.h"
#include "graph/onnx_io.h"
#include "runtime/backends.h"
#include "runtime/fast/fast_session.h"
#include "runtime/reference/reference_session.h"
#include "runtime/session.h"
#include "runtime/xnnpack/xnnpack_session.h"
#include "zoo/zoo.h"

namespace fluidedge {
namespace {

namespace fs = std::filesystem;

fs::path data_dir() { return fs::path(FLUIDEDGE_TEST_DATA) / "torchvision"; }

class TorchvisionModel : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    runtime::reference::register_reference_backend();
    ASSERT_TRUE(fs::exists(data_dir() / (GetParam() + ".onnx")))
        << "export missing in " << data_dir() << " (run through ctest: the export_torchvision_models fixture makes it)";
  }
  nlohmann::json pytorch_counts() const {
    std::ifstream in(data_dir() / (GetParam() + ".json"));
    return nlohmann::json::parse(in);
  }
};

TEST_P(TorchvisionModel, ImportsAndMatchesPyTorch) {
  const std::string name = GetParam();
  graph::Graph g = graph::load_onnx((data_dir() / (name + ".onnx")).string());
  graph::Tensor x = graph::load_npy((data_dir() / (name + ".input.npy")).string());
  graph::Tensor want = graph::load_npy((data_dir() / (name + ".output.npy")).string());
  auto session = runtime::make_session("reference", g);
  auto out = session->run({{g.inputs.at(0), x}});
  const graph::Tensor& got = out.at(g.outputs.at(0));
  ASSERT_EQ(got.shape(), want.shape());
  EXPECT_LE(testing::relative_error(got, want), 1e-4);
}

// The exporter may fold BatchNormalization into the convolutions (it does in eval mode), which
// changes the parameter count but never the MACs.
TEST_P(TorchvisionModel, ExportHasPyTorchsMacs) {
  graph::Graph g = graph::load_onnx((data_dir() / (GetParam() + ".onnx")).string());
  EXPECT_EQ(graph::graph_cost(g).macs, pytorch_counts()["macs"].get<int64_t>());
}

TEST_P(TorchvisionModel, ZooBuildHasSameParamsAndMacsAsExport) {
  graph::Graph exported = graph::load_onnx((data_dir() / (GetParam() + ".onnx")).string());
  graph::Graph built = zoo::build_model(GetParam());
  auto a = graph::graph_cost(exported), b = graph::graph_cost(built);
  EXPECT_EQ(b.macs, a.macs);
  EXPECT_EQ(b.params, pytorch_counts()["params"].get<int64_t>());
}

INSTANTIATE_TEST_SUITE_P(Zoo, TorchvisionModel, ::testing::ValuesIn(zoo::zoo_names()),
                         [](const auto& info) { return info.param; });

// "opset11/shufflenet_v2_x1_0": an export of a model the zoo does not build.
class BeyondTheZoo : public ::testing::TestWithParam<std::string> {};

TEST_P(BeyondTheZoo, ImportsAndMatchesPyTorchOnEveryBackend) {
  runtime::reference::register_reference_backend();
  runtime::register_lean_backends();
  fs::path base = fs::path(FLUIDEDGE_TEST_DATA) / "torchvision_beyond" / GetParam();
  ASSERT_TRUE(fs::exists(base.string() + ".onnx"))
      << "export missing: " << base << " (run through ctest: the export_torchvision_beyond fixture makes it)";
  graph::Graph g = graph::load_onnx(base.string() + ".onnx");
  graph::Tensor x = graph::load_npy(base.string() + ".input.npy");
  graph::Tensor want = graph::load_npy(base.string() + ".output.npy");
  for (const std::string& backend : runtime::available_backends()) {
    std::unique_ptr<runtime::Session> session = runtime::make_session(backend, g);
    if (auto* fast = dynamic_cast<runtime::fast::FastSession*>(session.get())) {
      EXPECT_EQ(fast->plan_stats(x.shape()[0]).fallback_steps, 0) << "fast fell back";
    }
    if (auto* xnn = dynamic_cast<runtime::xnnpack::XnnpackSession*>(session.get())) {
      EXPECT_EQ(xnn->plan_stats(x.shape()[0]).fallback_steps, 0) << "xnnpack fell back";
    }
    auto out = session->run({{g.inputs.at(0), x}});
    const graph::Tensor& got = out.at(g.outputs.at(0));
    ASSERT_EQ(got.shape(), want.shape()) << backend;
    EXPECT_LE(testing::relative_error(got, want), 1e-4) << backend;
  }
}

std::vector<std::string> beyond_the_zoo() {
  std::vector<std::string> out;
  for (const char* opset : {"opset11", "opset17"})
    for (const char* model :
         {"shufflenet_v2_x1_0", "mnasnet0_5", "mobilenet_v3_small", "densenet121", "resnext50_32x4d", "convnext_tiny"})
      out.push_back(std::string(opset) + "/" + model);
  return out;
}

INSTANTIATE_TEST_SUITE_P(Torchvision, BeyondTheZoo, ::testing::ValuesIn(beyond_the_zoo()), [](const auto& info) {
  std::string name = info.param;
  std::replace(name.begin(), name.end(), '/', '_');
  return name;
});

}  // namespace
}  // namespace fluidedge
