#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "graph/npy.h"

namespace fluidedge {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::run_cli;

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("fluidedge_cli_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  static json parse(const testing::CliResult& r) {
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out);  // throws (fails the test) if stdout is not exactly one JSON object
  }
  fs::path dir_;
};

TEST_F(Cli, HelpListsSubcommands) {
  auto r = run_cli("--help");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* cmd : {"info", "run", "zoo"}) EXPECT_NE(r.out.find(cmd), std::string::npos) << cmd;
}

TEST_F(Cli, ZooListJson) {
  json j = parse(run_cli("zoo list --json"));
  ASSERT_TRUE(j["models"].is_array());
  std::set<std::string> names;
  for (const auto& m : j["models"]) {
    names.insert(m["name"].get<std::string>());
    EXPECT_GT(m["params"].get<int64_t>(), 0);
    EXPECT_GT(m["macs"].get<int64_t>(), 0);
  }
  for (const char* n : {"paper_cnn", "lenet5", "alexnet", "vgg16", "resnet18", "resnet50", "mobilenet_v2",
                        "efficientnet_b0", "squeezenet1_1", "googlenet", "regnet_x_400mf"})
    EXPECT_TRUE(names.count(n)) << n;
}

TEST_F(Cli, ExportThenInfoJsonAgreesWithZoo) {
  json zoo = parse(run_cli("zoo export lenet5 --out " + path("lenet5.onnx") + " --json"));
  json info = parse(run_cli("info " + path("lenet5.onnx") + " --json"));
  EXPECT_EQ(info["params"], zoo["params"]);
  EXPECT_EQ(info["macs"], zoo["macs"]);
  EXPECT_EQ(info["params"].get<int64_t>(), 61706);  // LeNet-5: 156 + 2416 + 48120 + 10164 + 850
  EXPECT_EQ(info["inputs"][0]["name"], "input");
  EXPECT_EQ(info["inputs"][0]["shape"], json({1, 1, 28, 28}));
  EXPECT_EQ(info["outputs"][0]["shape"], json({1, 10}));
  EXPECT_GT(info["ops"]["Conv"].get<int>(), 0);
  json batched = parse(run_cli("info " + path("lenet5.onnx") + " --batch 4 --json"));
  EXPECT_EQ(batched["macs"].get<int64_t>(), 4 * info["macs"].get<int64_t>());
}

TEST_F(Cli, RunWritesEveryOutputAsNpy) {
  run_cli("zoo export paper_cnn --out " + path("cnn.onnx"));
  graph::Tensor x(graph::DType::kFloat32, {3, 1, 28, 28});
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = static_cast<float>(i % 17) / 17.f;
  graph::save_npy(x, path("x.npy"));
  json j = parse(run_cli("run " + path("cnn.onnx") + " --input input=" + path("x.npy") +
                         " --backend reference --output-dir " + path("out") + " --json"));
  EXPECT_EQ(j["batch"], 3);
  EXPECT_EQ(j["backend"], "reference");
  graph::Tensor y = graph::load_npy(path("out/output.npy"));
  EXPECT_EQ(y.shape(), (graph::Shape{3, 10}));
  EXPECT_EQ(j["outputs"]["output"]["shape"], json({3, 10}));
  // Same input twice gives the same output (deterministic backend, no state between runs).
  run_cli("run " + path("cnn.onnx") + " --input " + path("x.npy") + " --backend reference -o " + path("again"));
  EXPECT_TRUE(graph::load_npy(path("again/output.npy")).equals(y));
}

TEST_F(Cli, RunRandomWithBatchAndBench) {
  json j = parse(run_cli("run zoo:lenet5 --random --batch 5 --backend reference --bench 0.2 --json"));
  EXPECT_EQ(j["batch"], 5);
  EXPECT_EQ(j["threads"], 1);
  EXPECT_GT(j["median_ms"].get<double>(), 0);
  EXPECT_GE(j["p90_ms"].get<double>(), j["median_ms"].get<double>());
  EXPECT_GT(j["peak_rss_mb"].get<double>(), 1.0);
}

}  // namespace
}  // namespace fluidedge

namespace fluidedge {
namespace {

// The bench's contract (keys and sane values), not its timings.
TEST(CliBench, RuntimeReportsAllThreeBackends) {
  auto r = testing::run_cli("bench runtime --models lenet5 --batch 1,3 --rounds 2 --seconds 0.2 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["results"].size(), 2u);
  for (const auto& row : j["results"]) {
    EXPECT_EQ(row["model"], "lenet5");
    EXPECT_GT(row["fast_ms"].get<double>(), 0);
    EXPECT_GT(row["reference_ms"].get<double>(), 0);
    EXPECT_GT(row["ort_ms"].get<double>(), 0);
    EXPECT_GT(row["ort_runs"].get<int>(), 0);
    EXPECT_NEAR(row["fast_over_ort"].get<double>(), row["fast_ms"].get<double>() / row["ort_ms"].get<double>(), 1e-9);
    EXPECT_GT(row["fast_node_rss_mb"].get<double>(), 1);
    EXPECT_EQ(row["fast_fallback_steps"], 0);
  }
  EXPECT_EQ(j["results"][1]["batch"], 3);
}

TEST(CliBench, UnknownModelIsAnError) {
  auto r = testing::run_cli("bench runtime --models resnet9000");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("resnet9000"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace fluidedge
