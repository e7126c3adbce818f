#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <oneapi/dnnl/dnnl.hpp>

#include "cli_runner.h"
#include "graph/npy.h"
#include "graph/onnx_io.h"

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
  FLUIDEDGE_SKIP_WITHOUT_TORCH();
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
  FLUIDEDGE_SKIP_WITHOUT_TORCH();
  json j = parse(run_cli("run zoo:lenet5 --random --batch 5 --backend reference --bench 0.2 --json"));
  EXPECT_EQ(j["batch"], 5);
  EXPECT_EQ(j["threads"], 1);
  EXPECT_GT(j["median_ms"].get<double>(), 0);
  EXPECT_GE(j["p90_ms"].get<double>(), j["median_ms"].get<double>());
  EXPECT_GT(j["peak_rss_mb"].get<double>(), 1.0);
}

// --steps breaks a fast-backend run down: the op types' times add up to the steps' total, every
// step is counted once, and the slowest steps come first.
TEST_F(Cli, RunStepsBreaksTheTimeDownByOp) {
  json j = parse(run_cli("run zoo:squeezenet1_1 --random --batch 2 --bench 0.2 --steps --json"));
  ASSERT_TRUE(j.contains("steps")) << j.dump();
  const json& s = j["steps"];
  double sum = 0;
  int count = 0;
  bool has_conv = false, has_concat = false;
  for (const json& op : s["by_op"]) {
    sum += op["ms"].get<double>();
    count += op["steps"].get<int>();
    has_conv |= op["op_type"] == "Conv";
    has_concat |= op["op_type"] == "Concat";
  }
  EXPECT_NEAR(sum, s["total_ms"].get<double>(), 1e-9 * s["total_ms"].get<double>() + 1e-12);
  EXPECT_EQ(count, s["count"].get<int>());
  EXPECT_TRUE(has_conv && has_concat) << s["by_op"].dump();
  ASSERT_FALSE(s["slowest"].empty());
  for (size_t i = 1; i < s["slowest"].size(); ++i)
    EXPECT_GE(s["slowest"][i - 1]["ms"].get<double>(), s["slowest"][i]["ms"].get<double>());
}

TEST_F(Cli, RunStepsNeedsBenchAndAPlannedBackend) {
  FLUIDEDGE_SKIP_WITHOUT_TORCH();
  auto r = run_cli("run zoo:lenet5 --random --steps");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--steps needs --bench"), std::string::npos) << r.err;
  r = run_cli("run zoo:lenet5 --random --backend reference --bench 0.1 --steps");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("the reference backend does not time its steps"), std::string::npos) << r.err;
}

// The xnnpack backend from the command line: the same outputs as the reference backend, its plan
// and the CPU features it uses in the JSON, its steps timed.
TEST_F(Cli, RunOnTheXnnpackBackendNamesItAndItsCpuFeatures) {
  auto r = run_cli("run zoo:paper_cnn --random --backend xnnpack --bench 0.2 --steps --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["backend"], "xnnpack");
  EXPECT_EQ(j["layout"], "nhwc");
  EXPECT_EQ(j["fallback_steps"], 0);
  EXPECT_FALSE(j["cpu_features"].get<std::string>().empty());
  EXPECT_GT(j["steps"]["count"].get<int>(), 3);
  auto fast = nlohmann::json::parse(run_cli("run zoo:paper_cnn --random --backend fast --bench 0.1 --json").out);
  EXPECT_EQ(fast["backend"], "fast");
  EXPECT_FALSE(fast["cpu_features"].get<std::string>().empty());
}

// A command-line mistake points at the help of the subcommand it was made in.
TEST_F(Cli, ParseErrorsPointAtTheSubcommandsHelp) {
  auto r = run_cli("zoo export resnet18");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--out is required (see fluidedge zoo export --help)"), std::string::npos) << r.err;
  r = run_cli("--no-such-flag");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("(see fluidedge --help)"), std::string::npos) << r.err;
}

TEST_F(Cli, RunLayoutMustBeOneItKnows) {
  auto r = run_cli("run zoo:lenet5 --random --layout diagonal");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--layout"), std::string::npos) << r.err;
}

TEST_F(Cli, RunConvAlgorithmMustBeOneItKnowsAndFitTheLayout) {
  auto r = run_cli("run zoo:lenet5 --random --conv-algorithm fft");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--conv-algorithm"), std::string::npos) << r.err;
  r = run_cli("run zoo:lenet5 --random --conv-algorithm winograd --layout library");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--conv-algorithm winograd"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--layout library"), std::string::npos) << r.err;
  // Where it runs, the plan says how many convolutions run Winograd's algorithm.
  r = run_cli("run zoo:squeezenet1_1 --random --conv-algorithm winograd --bench 0.01 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  bool avx512 = dnnl::get_effective_cpu_isa() >= dnnl::cpu_isa::avx512_core;
  EXPECT_EQ(j["winograd_convolutions"].get<int>(), avx512 ? 8 : 0);
  // Winograd kernels transform tiles in scratch memory, which the plan holds (user-managed).
  if (avx512) {
    EXPECT_GT(j["scratchpad_mb"].get<double>(), 0);
  }
}

// A node the fast backend has no kernel for (MatMul with a 1-D operand): the workstation build
// runs it on the reference backend with one warning naming the node and answers as the
// reference does; the device node, which has no reference backend, refuses the model with one
// message naming the node and the reason.
TEST_F(Cli, AnOpWithoutAFastKernelFallsBackOnlyInTheWorkstationBuild) {
  FLUIDEDGE_SKIP_WITHOUT_TORCH();
  graph::Graph g;
  g.name = "dot";
  g.inputs = {"x"};
  g.outputs = {"y"};
  g.values["x"] = {graph::DType::kFloat32, {2, 8}, true};
  graph::Tensor w(graph::DType::kFloat32, {8});
  for (int64_t i = 0; i < 8; ++i) w.data<float>()[i] = i % 2 == 0 ? 1.f : -1.f;
  g.set_initializer("w", w);
  graph::Node n;
  n.name = "alternating_sum";
  n.op_type = "MatMul";
  n.inputs = {"x", "w"};
  n.outputs = {"y"};
  g.nodes.push_back(n);
  g.values["y"] = {graph::DType::kFloat32, {2}, true};
  graph::save_onnx(g, path("dot.onnx"));
  graph::Tensor x(graph::DType::kFloat32, {2, 8});
  for (int64_t i = 0; i < 16; ++i) x.data<float>()[i] = static_cast<float>(i * i);
  graph::save_npy(x, path("x.npy"));

  auto r = run_cli("run " + path("dot.onnx") + " --backend fast -i x=" + path("x.npy") + " -o " + path("out"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("alternating_sum"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("runs on the reference backend"), std::string::npos) << r.err;
  graph::Tensor y = graph::load_npy(path("out") + "/y.npy");
  ASSERT_EQ(y.shape(), (graph::Shape{2}));
  // The sum over i of (-1)^i (8r + i)^2 in rows r = 0 and 1.
  EXPECT_EQ(y.data<float>()[0], -28.f);
  EXPECT_EQ(y.data<float>()[1], -92.f);

  std::string node = (fs::path(FLUIDEDGE_CLI).parent_path() / "fluidedge-node").string();
  auto refused = testing::run_command("'" + node + "' run " + path("dot.onnx") + " -i x=" + path("x.npy"));
  EXPECT_NE(refused.exit_code, 0);
  ASSERT_EQ(refused.err_lines().size(), 1u) << refused.err;
  EXPECT_NE(refused.err.find("alternating_sum"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("cannot run it"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("no reference backend"), std::string::npos) << refused.err;
}

// The timing server bench runtime drives: a ready line, one JSON answer per request, a clear
// answer to a request it does not know, and a clean exit on quit.
TEST_F(Cli, RunServeAnswersTimingRequests) {
  auto requests = std::filesystem::temp_directory_path() / ("fluidedge_serve_" + std::to_string(::getpid()));
  std::ofstream(requests) << "run_for 0.05\nrss\nrun_for soon\nquit\nrun_for 1\n";
  auto r = run_cli("run zoo:lenet5 --random --batch 3 --serve <'" + requests.string() + "'");
  std::filesystem::remove(requests);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::vector<nlohmann::json> answers;
  for (std::string line; std::getline(lines, line);) answers.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(answers.size(), 4u) << r.out;  // nothing after quit
  EXPECT_TRUE(answers[0]["ready"].get<bool>());
  EXPECT_EQ(answers[0]["batch"], 3);
  EXPECT_EQ(answers[0]["fallback_steps"], 0);
  ASSERT_GE(answers[1]["ms"].size(), 1u);
  for (const auto& ms : answers[1]["ms"]) EXPECT_GT(ms.get<double>(), 0);
  EXPECT_GT(answers[2]["peak_rss_mb"].get<double>(), 1);
  EXPECT_NE(answers[3]["error"].get<std::string>().find("run_for soon"), std::string::npos) << answers[3];
}

TEST_F(Cli, RunServeDoesNotCombineWithBench) {
  auto r = run_cli("run zoo:lenet5 --random --serve --bench 1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--serve"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace fluidedge

namespace fluidedge {
namespace {

// The bench's contract (keys and sane values), not its timings.
TEST(CliBench, RuntimeReportsAllThreeBackends) {
  FLUIDEDGE_SKIP_WITHOUT_TORCH();
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
    std::string layout = row["fast_layout"].get<std::string>();
    EXPECT_TRUE(layout == "library" || layout == "blocked" || layout == "mixed") << layout;
    EXPECT_GT(row["xnnpack_ms"].get<double>(), 0);
    EXPECT_NEAR(row["xnnpack_over_ort"].get<double>(), row["xnnpack_ms"].get<double>() / row["ort_ms"].get<double>(),
                1e-9);
    EXPECT_NEAR(row["xnnpack_over_fast"].get<double>(), row["xnnpack_ms"].get<double>() / row["fast_ms"].get<double>(),
                1e-9);
    EXPECT_EQ(row["xnnpack_fallback_steps"], 0);
    EXPECT_GT(row["xnnpack_node_rss_mb"].get<double>(), 1);
  }
  EXPECT_EQ(j["results"][1]["batch"], 3);
}

TEST(CliBench, CoreToPinToMustExist) {
  auto r = testing::run_cli("bench runtime --models lenet5 --cpu 4096");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--cpu 4096: cannot pin to that core"), std::string::npos) << r.err;
}

TEST(CliBench, UnknownModelIsAnError) {
  auto r = testing::run_cli("bench runtime --models resnet9000");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("resnet9000"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace fluidedge

#include "data/idx.h"

namespace fluidedge {
namespace {

// `fluidedge train` on a tiny IDX dataset: the files and metrics.json contract, and the parts
// are ordinary ONNX files that ONNX Runtime runs.
TEST(CliTrain, WritesPartsAndMetrics) {
  FLUIDEDGE_SKIP_WITHOUT_TORCH();
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("fluidedge_train_" + std::to_string(::getpid()));
  fs::create_directories(dir / "data");
  for (const char* split : {"train", "test"}) {
    int64_t n = std::string(split) == "train" ? 96 : 40;
    graph::Tensor images(graph::DType::kUInt8, {n, 28, 28}), labels(graph::DType::kUInt8, {n});
    for (int64_t i = 0; i < n; ++i) {
      labels.data<uint8_t>()[i] = static_cast<uint8_t>(i % 10);
      for (int p = 0; p < 28 * 28; ++p)
        images.data<uint8_t>()[i * 784 + p] = static_cast<uint8_t>((p % 28 == (i % 10) * 2) ? 255 : 0);
    }
    data::write_idx(images, (dir / "data" / (std::string(split) + "-images-idx3-ubyte")).string());
    data::write_idx(labels, (dir / "data" / (std::string(split) + "-labels-idx1-ubyte")).string());
  }
  auto r = testing::run_cli("train --variant fluid --epochs 1 --batch 32 --data " + (dir / "data").string() +
                            " --out " + (dir / "out").string() + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto m = nlohmann::json::parse(r.out);
  EXPECT_EQ(m["variant"], "fluid");
  EXPECT_EQ(m["groups"], 2);
  EXPECT_GT(m["train_seconds"].get<double>(), 0);
  for (const char* key : {"1", "2", "1+2", "full"}) {
    ASSERT_TRUE(m["accuracy"].contains(key)) << key;
    EXPECT_GE(m["accuracy"][key].get<double>(), 0.0);
    EXPECT_LE(m["accuracy"][key].get<double>(), 1.0);
  }
  EXPECT_EQ(m["parts"].size(), 2u);
  EXPECT_EQ(m["combiners"].size(), 1u);
  for (const char* f : {"model.onnx", "part1.onnx", "part2.onnx", "combiner_1+2.onnx", "metrics.json"})
    EXPECT_TRUE(fs::exists(dir / "out" / f)) << f;
  EXPECT_EQ(nlohmann::json::parse(testing::slurp(dir / "out" / "metrics.json")), m);
  // ONNX Runtime runs a part.
  graph::save_npy(graph::Tensor(graph::DType::kFloat32, {2, 1, 28, 28}), (dir / "x.npy").string());
  fs::create_directories(dir / "ort");
  std::string cmd = "node " FLUIDEDGE_SOURCE_DIR "/tools/js/ort_run.js " + (dir / "out" / "part1.onnx").string() +
                    " --input input=" + (dir / "x.npy").string() + " --out " + (dir / "ort").string();
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_TRUE(fs::exists(dir / "ort" / "logits_1.npy"));
  fs::remove_all(dir);
}

TEST(CliTrain, BadVariantAndDataAreErrors) {
  FLUIDEDGE_SKIP_WITHOUT_TORCH();
  auto r = testing::run_cli("train --variant elastic --out /tmp/x");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--variant"), std::string::npos) << r.err;
  r = testing::run_cli("train --data /nonexistent-data --out /tmp/fluidedge-x");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("/nonexistent-data"), std::string::npos) << r.err;
  EXPECT_EQ(r.err_lines().size(), 1u) << r.err;
}

}  // namespace
}  // namespace fluidedge
