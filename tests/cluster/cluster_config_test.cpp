// cluster.yaml: a good file gives the nodes with what each part predicts; every mistake is one
// Error naming the file and the field.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cluster/cluster_config.h"
#include "common/error.h"

namespace fluidedge::cluster {
namespace {
namespace fs = std::filesystem;

class ClusterConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("fluidedge_cluster_cfg_" + std::to_string(::getpid()));
    fs::create_directories(dir_ / "model");
    std::ofstream(dir_ / "model" / "metrics.json") << R"({
      "variant": "fluid", "groups": 2,
      "outputs": {"1": "logits_1", "2": "logits_2", "1+2": "combined"},
      "parts": [
        {"file": "part1.onnx", "prediction": "1", "outputs": [{"name": "f1"}, {"name": "logits_1"}]},
        {"file": "part2.onnx", "prediction": "2", "outputs": [{"name": "f2"}, {"name": "logits_2"}]}],
      "combiners": [{"file": "combiner_1+2.onnx", "prediction": "1+2"}]})";
    for (auto f : {"part1.onnx", "part2.onnx", "combiner_1+2.onnx"}) std::ofstream(dir_ / "model" / f) << "x";
  }
  void TearDown() override { fs::remove_all(dir_); }

  ClusterConfig parse(const std::string& yaml) { return parse_cluster_config(yaml, "c.yaml", dir_.string()); }

  void expect_error(const std::string& yaml, const std::string& fragment) {
    try {
      parse(yaml);
      FAIL() << "accepted:\n" << yaml;
    } catch (const Error& e) {
      std::string what = e.what();
      EXPECT_NE(what.find("c.yaml"), std::string::npos) << what;
      EXPECT_NE(what.find(fragment), std::string::npos) << what;
    }
  }

  fs::path dir_;
  const std::string nodes_ =
      "nodes:\n"
      "  - {name: a, address: 127.0.0.1:1, part: part1.onnx}\n"
      "  - {name: b, address: 127.0.0.1:2, part: part2.onnx}\n";
};

TEST_F(ClusterConfigTest, GoodFileGivesNodesPredictionsAndCombiners) {
  auto c = parse(
      "variant: fluid\nmode: ha\nmodel: model\nwindow: 4\ndetector: {heartbeat_ms: 10, timeout_ms: 30, misses: 2}\n" +
      nodes_);
  EXPECT_EQ(c.mode, Mode::kHighAccuracy);
  EXPECT_EQ(c.window, 4);
  EXPECT_EQ(c.detector.heartbeat_ms, 10);
  EXPECT_EQ(c.detector.misses, 2);
  ASSERT_EQ(c.nodes.size(), 2u);
  EXPECT_EQ(c.nodes[1].key, "2");
  EXPECT_EQ(c.nodes[1].prediction, "logits_2");
  EXPECT_EQ(c.nodes[1].features, "f2");
  EXPECT_TRUE(fs::path(c.nodes[0].part_file).is_absolute());
  EXPECT_EQ(c.combiners.count("1+2"), 1u);
}

TEST_F(ClusterConfigTest, MistakesNameTheField) {
  expect_error("variant: fluid\nmodel: model\nspeed: 3\n" + nodes_, "unknown field 'speed'");
  expect_error("variant: fluid\nmodel: model\nnodes:\n  - {name: a, address: 127.0.0.1:1, part: part1.onnx, cpu: 2}\n",
               "nodes[0]: unknown field 'cpu'");
  expect_error("variant: fluid\nmodel: model\nnodes:\n  - {name: a, part: part1.onnx}\n", "missing field 'address'");
  expect_error(
      "variant: fluid\nmodel: model\nnodes:\n  - {name: a, address: 127.0.0.1:1, part: part1.onnx}\n"
      "  - {name: a, address: 127.0.0.1:2, part: part2.onnx}\n",
      "appears twice");
  expect_error("variant: fluid\nmodel: model\nnodes:\n  - {name: a, address: localhost, part: part1.onnx}\n",
               "needs a port");
  expect_error("variant: static\nmodel: model\n" + nodes_, "trained as 'fluid'");
  expect_error("variant: fluid\nmodel: model\nnodes:\n  - {name: a, address: 127.0.0.1:1, part: model.onnx}\n",
               "not found");
  expect_error("variant: fluid\nmodel: elsewhere\n" + nodes_, "no metrics.json");
  expect_error("variant: fluid\nmodel: model\nwindow: -2\n" + nodes_, "'window' must be positive");
  expect_error("variant: fluid\nmodel: model\nmode: fast\n" + nodes_, "unknown mode 'fast'");
  expect_error("variant: fluid\nmodel: model\ndetector: {misses: 0}\n" + nodes_, "detector: 'misses' must be positive");
  expect_error("variant: fluid\nmodel: model\ndetector: {period: 5}\n" + nodes_, "unknown field 'period'");
  expect_error("variant: fluid\nmodel: model\nnodes: []\n", "at least one node");
  // Found by fuzz_cluster_yaml: a list where a scalar belongs escaped as yaml-cpp's own exception.
  expect_error("variant: fluid\nmodel:\n  - timeout\n" + nodes_, "bad conversion");
  expect_error("variant: fluid\nmodel: model\ntls: [a, b]\n" + nodes_, "bad conversion");
  expect_error("variant: fluid\nmodel: model\ntls: nowhere\n" + nodes_, "tls: ");
  expect_error("variant: [fluid\n", "not valid YAML");
}

// The gateway's spec path runs the same validate() as cluster.yaml: a config built any way is
// refused for what a YAML file would be.
TEST_F(ClusterConfigTest, ValidateRefusesWhatTheYamlPathRefuses) {
  ClusterConfig good = parse("variant: fluid\nmodel: model\n" + nodes_);
  EXPECT_NO_THROW(good.validate());
  auto expect_refused = [](const ClusterConfig& c, const std::string& fragment) {
    try {
      c.validate();
      FAIL() << "accepted; expected " << fragment;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  ClusterConfig same_address = good;
  same_address.nodes[1].address = same_address.nodes[0].address;
  expect_refused(same_address, "address '127.0.0.1:1' appears twice");
  ClusterConfig dynamic = good;
  dynamic.variant = Variant::kDynamic;
  std::swap(dynamic.nodes[0], dynamic.nodes[1]);
  expect_refused(dynamic, "groups in order");
  ClusterConfig no_window = good;
  no_window.window = 0;
  expect_refused(no_window, "'window' must be positive");
  ClusterConfig missing_part = good;
  missing_part.nodes[0].part_file += ".gone";
  expect_refused(missing_part, "not found");
}

}  // namespace
}  // namespace fluidedge::cluster
