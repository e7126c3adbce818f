#include <filesystem>
#include <random>

#include <gtest/gtest.h>

#include "cli_runner.h"
#include "compare.h"
#include "graph/npy.h"
#include "zoo/zoo.h"

namespace fluidedge {
namespace {

namespace fs = std::filesystem;

int shell(const std::string& cmd) {
  int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

class OrtRoundTrip : public ::testing::TestWithParam<std::string> {};

TEST_P(OrtRoundTrip, CheckerAcceptsAndOrtAgreesWithReference) {
  FLUIDEDGE_SKIP_WITHOUT_TORCH();
  const std::string name = GetParam();
  fs::path dir = fs::temp_directory_path() / ("fluidedge_ort_" + name + "_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string model = (dir / (name + ".onnx")).string();
  auto r = testing::run_cli("zoo export " + name + " --out " + model);
  ASSERT_EQ(r.exit_code, 0) << r.err;

  ASSERT_EQ(
      shell(std::string(FLUIDEDGE_PYTHON) +
            " -c \"import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)\" " + model),
      0)
      << "onnx.checker rejected " << model;

  // Batch 2, to check that the symbolic batch dimension works in ONNX Runtime too.
  bool mnist = name == "paper_cnn" || name == "lenet5";
  graph::Tensor x(graph::DType::kFloat32, mnist ? graph::Shape{2, 1, 28, 28} : graph::Shape{2, 3, 224, 224});
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = normal(rng);
  graph::save_npy(x, (dir / "x.npy").string());

  r = testing::run_cli("run " + model + " --input input=" + (dir / "x.npy").string() +
                       " --backend reference --output-dir " + (dir / "ref").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  fs::create_directories(dir / "ort");
  ASSERT_EQ(shell("node " + std::string(FLUIDEDGE_JS_TOOLS) + "/ort_run.js " + model +
                  " --input input=" + (dir / "x.npy").string() + " --out " + (dir / "ort").string()),
            0);
  graph::Tensor ref = graph::load_npy((dir / "ref/output.npy").string());
  graph::Tensor ort = graph::load_npy((dir / "ort/output.npy").string());
  ASSERT_EQ(ref.shape(), ort.shape());
  EXPECT_LE(testing::relative_error(ref, ort), 1e-4) << name;
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Zoo, OrtRoundTrip, ::testing::ValuesIn(zoo::zoo_names()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace fluidedge
