// PyTorch's own ONNX exports of the zoo architectures (tests/tools/export_torchvision.py, run by
// the export_torchvision_models fixture) against fluidedge: import, run on the reference
// backend, compare with PyTorch's output; and the zoo's own builds against the same counts.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "compare.h"
#include "graph/cost.h"
#include "graph/npy.h"
#include "graph/onnx_io.h"
#include "runtime/reference/reference_session.h"
#include "runtime/session.h"
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

INSTANTIATE_TEST_SUITE_P(Zoo, TorchvisionModel,
                         ::testing::ValuesIn(zoo::zoo_names()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace fluidedge
