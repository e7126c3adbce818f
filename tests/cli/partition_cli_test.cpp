// The command-line contract of `fluidedge partition` and `fluidedge profile`: --json is one JSON
// object with the keys DESIGN.md names, the files of DIR exist and agree with it, the stage files
// are ordinary ONNX files whose composition computes the model (in code, and by hand with
// `run --output-dir` and `run --input-dir`), min_accuracy is enforced, a profile written by
// `profile` (either binary) drives `partition`, and an int8 device is profiled, scored and
// deployed quantized (by `partition` and by `bench partition --precision`).
#include <algorithm>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "compare.h"
#include "graph/graph.h"
#include "graph/npy.h"
#include "graph/onnx_io.h"
#include "partition/plan_accuracy.h"
#include "runtime/fast/fast_session.h"
#include "zoo/zoo.h"

namespace fluidedge {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::run_cli;

class PartitionCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { runtime::fast::register_fast_backend(); }
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("fluidedge_partition_cli_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  static std::string example(const std::string& name) {
    return std::string(FLUIDEDGE_SOURCE_DIR) + "/examples/" + name;
  }
  static json parse(const testing::CliResult& r) {
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out);  // throws (fails the test) unless stdout is exactly one JSON object
  }
  fs::path dir_;
};

TEST_F(PartitionCli, JsonFilesAndStagesComposeToTheModel) {
  json j = parse(run_cli("partition zoo:resnet18 --system " + example("two_boards_1gbe.yaml") + " --out " +
                         path("out") + " --json"));
  EXPECT_GE(j["explore_ms"].get<double>(), 0);
  EXPECT_EQ(j["algorithm"], "exact");
  ASSERT_TRUE(j["front"].is_array());
  ASSERT_GE(j["front"].size(), 2u);
  // The chosen plan is the front's best throughput (the default --choose).
  double best = 0;
  for (const auto& p : j["front"]) best = std::max(best, p["throughput_fps"].get<double>());
  const json& plan = j["plan"];
  EXPECT_DOUBLE_EQ(plan["summary"]["throughput_fps"].get<double>(), best);
  EXPECT_EQ(j["front"][j["chosen"].get<int>() - 1]["chosen"], true);
  // On Gigabit Ethernet the fastest ResNet-18 plan uses both boards.
  ASSERT_EQ(plan["stages"].size(), 2u);
  ASSERT_EQ(plan["links"].size(), 1u);
  EXPECT_EQ(plan["links"][0]["tensors"], plan["cuts"][0]["tensors"]);
  EXPECT_GT(plan["links"][0]["bytes"].get<int64_t>(), 0);

  // The files: front.csv has one row per plan, front.json and plan.json are what --json said.
  for (const char* f : {"front.csv", "front.json", "plan.json", "front.png", "metrics.json"})
    EXPECT_TRUE(fs::exists(dir_ / "out" / f)) << f;
  std::ifstream csv(path("out/front.csv"));
  size_t rows = 0;
  for (std::string line; std::getline(csv, line);) rows += !line.empty();
  EXPECT_EQ(rows, j["front"].size() + 1);
  EXPECT_EQ(json::parse(testing::slurp(path("out/plan.json"))), json::parse(plan.dump()));
  EXPECT_EQ(json::parse(testing::slurp(path("out/front.json")))["front"], j["front"]);
  EXPECT_EQ(testing::slurp(path("out/front.png")).rfind("\x89PNG", 0), 0u);

  // Run the stage files in sequence: they compute what the model computes.
  graph::Graph model = zoo::build_model("resnet18");
  runtime::TensorMap inputs = partition::random_samples(model, 1, 9).inputs;
  runtime::TensorMap want = runtime::make_session("fast", model)->run(inputs);
  runtime::TensorMap current = inputs;
  ASSERT_EQ(j["files"]["stages"].size(), 2u);
  for (const auto& stage : plan["stages"]) {
    std::string file = stage["file"];
    ASSERT_TRUE(fs::exists(file)) << file;
    graph::Graph g = graph::load_onnx(file);
    runtime::TensorMap feeds;
    for (const auto& in : g.inputs) feeds[in] = current.at(in);
    current = runtime::make_session("fast", g)->run(feeds);
  }
  for (const auto& name : model.outputs)
    EXPECT_LE(testing::relative_error(current.at(name), want.at(name)), 1e-5) << name;
}

// A user chains the stage files of a plan by hand: each stage reads the previous one's
// --output-dir with --input-dir (a PyTorch export's tensor names hold '/', written as '_'), and
// the last stage's output is the model's. The written form of a name is also accepted by --input.
TEST_F(PartitionCli, StageFilesChainByHandThroughOutputAndInputDirectories) {
  fs::path exports = fs::path(FLUIDEDGE_TEST_DATA) / "torchvision";
  std::string model = (exports / "squeezenet1_1.onnx").string();
  ASSERT_TRUE(fs::exists(model)) << model
                                 << " is missing (run through ctest: the export_torchvision_models fixture makes it)";
  std::string input = (exports / "squeezenet1_1.input.npy").string();
  json j = parse(run_cli("partition '" + model + "' --system " + example("four_boards.yaml") + " --out " +
                         path("plan") + " --json"));
  const json& stages = j["plan"]["stages"];
  ASSERT_GE(stages.size(), 2u) << "a plan of one stage chains nothing";
  auto whole = run_cli("run '" + model + "' --input input='" + input + "' --output-dir " + path("whole"));
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  std::string previous;
  for (size_t k = 0; k < stages.size(); ++k) {
    std::string out = path(fmt::format("stage{}", k + 1));
    std::string feed = k == 0 ? "--input input='" + input + "'" : "--input-dir " + previous;
    auto r = run_cli("run '" + stages[k]["file"].get<std::string>() + "' " + feed + " --output-dir " + out);
    ASSERT_EQ(r.exit_code, 0) << "stage " << k + 1 << ": " << r.err;
    if (k > 0) {
      graph::Graph g = graph::load_onnx(stages[k]["file"].get<std::string>());
      bool slashed = false;
      for (const auto& in : g.inputs) slashed |= in.find('/') != std::string::npos;
      EXPECT_TRUE(slashed) << "stage " << k + 1 << "'s inputs have no '/': the test shows nothing about the rule";
    }
    previous = out;
  }
  graph::Tensor want = graph::load_npy(path("whole/output.npy"));
  EXPECT_LE(testing::relative_error(graph::load_npy(previous + "/output.npy"), want), 1e-5);

  // --input by the written name: the last stage's inputs one by one from the previous directory.
  graph::Graph last = graph::load_onnx(stages.back()["file"].get<std::string>());
  std::string feeds;
  for (const auto& in : last.inputs) {
    std::string file = in;
    std::replace(file.begin(), file.end(), '/', '_');
    feeds += " --input " + file + "=" + path(fmt::format("stage{}", stages.size() - 1)) + "/" + file + ".npy";
  }
  auto r =
      run_cli("run '" + stages.back()["file"].get<std::string>() + "'" + feeds + " --output-dir " + path("by-name"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(graph::load_npy(path("by-name/output.npy")).equals(graph::load_npy(previous + "/output.npy")));
}

TEST_F(PartitionCli, HumanTableAndOptions) {
  auto r = run_cli("partition zoo:squeezenet1_1 --system " + example("four_boards.yaml") + " --out " + path("t") +
                   " --objectives throughput,energy --algorithm nsga2 --max-stages 3 --single-tensor-cuts --choose "
                   "energy --plot " +
                   path("front.png"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("nsga2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("chosen: #"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("best energy"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(path("front.png")));
  EXPECT_FALSE(fs::exists(path("t/front.png")));
  json front = json::parse(testing::slurp(path("t/front.json")));
  EXPECT_EQ(front["objectives"], json({"throughput", "energy"}));
  for (const auto& p : front["front"]) EXPECT_LE(p["stages"].get<int>(), 3);
  // --choose energy: the chosen plan has the front's lowest energy.
  json plan = json::parse(testing::slurp(path("t/plan.json")));
  for (const auto& p : front["front"])
    EXPECT_LE(plan["summary"]["energy_mj"].get<double>(), p["energy_mj"].get<double>() * (1 + 1e-9));
}

TEST_F(PartitionCli, MinAccuracyIsEnforcedUnderInt8Transfer) {
  // scores = relu(relu(x)) over 1000 classes, cut between the two: on uniform random inputs the
  // two best classes are ~1/1000 apart, well under the int8 step (1/255), so int8 transfer
  // changes many predictions; the split plan is faster (two stages in a pipeline), so it is on
  // the front until min_accuracy removes it.
  graph::Graph g;
  g.inputs = {"x"};
  g.values["x"] = graph::ValueInfo{graph::DType::kFloat32, {1, 1000}, true};
  for (int i = 0; i < 2; ++i) {
    graph::Node n;
    n.name = "relu" + std::to_string(i);
    n.op_type = "Relu";
    n.inputs = {i == 0 ? "x" : "h"};
    n.outputs = {i == 0 ? "h" : "scores"};
    g.values[n.outputs[0]] = graph::ValueInfo{graph::DType::kFloat32, {1, 1000}, true};
    g.nodes.push_back(n);
  }
  g.outputs = {"scores"};
  graph::save_onnx(g, path("scores.onnx"));
  std::ofstream(path("strict.yaml")) << R"(
devices:
  - {name: a, peak_gflops: 10, memory_bandwidth_gbps: 0.001}
  - {name: b, peak_gflops: 10, memory_bandwidth_gbps: 0.001}
links:
  - {rate_mbps: 1000, latency_ms: 0.01}
constraints:
  min_accuracy: 0.9
)";
  std::string base = "partition " + path("scores.onnx") + " --system " + path("strict.yaml") + " --json --out ";

  // fp32 transfer (measured because min_accuracy asks): the split plan stays and is chosen.
  json fp32 = parse(run_cli(base + path("fp32")));
  ASSERT_EQ(fp32["plan"]["stages"].size(), 2u);
  EXPECT_TRUE(fp32["dropped_by_min_accuracy"].empty());

  json j = parse(run_cli(base + path("int8") + " --transfer int8 --accuracy-inputs 64"));
  EXPECT_EQ(j["transfer"], "int8");
  EXPECT_EQ(j["min_accuracy"], 0.9);
  ASSERT_FALSE(j["dropped_by_min_accuracy"].empty());
  for (const auto& p : j["dropped_by_min_accuracy"]) {
    EXPECT_EQ(p["stages"], 2);
    EXPECT_LT(p["accuracy"]["agreement"].get<double>(), 0.9);
  }
  for (const auto& p : j["front"]) {
    ASSERT_TRUE(p.contains("accuracy")) << p.dump();
    EXPECT_EQ(p["accuracy"]["samples"], 64);
    EXPECT_GE(p["accuracy"]["agreement"].get<double>(), 0.9) << p.dump();
  }
  EXPECT_EQ(j["plan"]["stages"].size(), 1u);  // the split plan is gone
}

TEST_F(PartitionCli, ProfileDrivesPartitionInBothBinaries) {
  // Medians of 9 and 5 runs per node: a node preempted in most of 3 runs (ctest runs two tests
  // at once on two cores) once made a split plan look faster than 'measured' alone.
  json p = parse(
      run_cli("profile zoo:squeezenet1_1 --out " + path("measured.json") + " --device measured --repeats 9 --json"));
  EXPECT_EQ(p["device"], "measured");
  EXPECT_GT(p["total_ms"].get<double>(), 0);
  json file = json::parse(testing::slurp(path("measured.json")));
  EXPECT_EQ(file["nodes"].size(), p["nodes"].get<size_t>());

  // The device binary has the same command (and links no libtorch: node_binary_links_no_libtorch).
  std::string node = (fs::path(FLUIDEDGE_CLI).parent_path() / "fluidedge-node").string();
  std::string cmd = "'" + node + "' profile zoo:squeezenet1_1 --out '" + path("node.json") +
                    "' --device node --repeats 5 --scale 3 > /dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  EXPECT_EQ(json::parse(testing::slurp(path("node.json")))["scale"], 3.0);

  std::ofstream(path("system.yaml")) << R"(
devices:
  - {name: measured, profile: measured.json}
  - {name: node, profile: node.json}
links:
  - {rate_mbps: 1000, latency_ms: 0.1}
)";
  auto r = run_cli("partition zoo:squeezenet1_1 --system " + path("system.yaml") + " --out " + path("pp") + " --json");
  json j = parse(r);
  EXPECT_FALSE(j["front"].empty());
  EXPECT_EQ(r.err.find("profile names none"), std::string::npos) << r.err;  // no node missing from the profiles
  // The single-device plan on 'measured' costs the profile's total.
  bool alone = false;
  for (const auto& plan : j["front"]) {
    if (plan["devices"] != json({"measured"})) continue;
    alone = true;
    EXPECT_NEAR(plan["stage_ms"][0].get<double>(), p["total_ms"].get<double>(), 1e-6 * p["total_ms"].get<double>());
  }
  EXPECT_TRUE(alone) << "the faster device alone has the lowest latency; it must be on the front";
}

// A device with `precision: int8`: profiled in int8 (`profile --precision int8`), its plans scored
// with its stages quantized, and the stage it is given is the quantized one.
TEST_F(PartitionCli, Int8DeviceIsProfiledScoredAndGivenItsStageQuantized) {
  json p = parse(
      run_cli("profile zoo:squeezenet1_1 --precision int8 --repeats 3 --device b --json --out " + path("int8.json")));
  EXPECT_EQ(p["precision"], "int8");
  EXPECT_EQ(json::parse(testing::slurp(path("int8.json")))["precision"], "int8");
  // The fp32 device three times slower than this host: the int8 one is faster, so the plan chosen
  // for throughput computes on it.
  parse(run_cli("profile zoo:squeezenet1_1 --repeats 3 --scale 3 --device a --json --out " + path("fp32.json")));
  std::ofstream(path("mixed.yaml")) << R"(
devices:
  - {name: a, profile: fp32.json}
  - {name: b, profile: int8.json, precision: int8}
links:
  - {rate_mbps: 1000, latency_ms: 0.1}
)";
  auto r = run_cli("partition zoo:squeezenet1_1 --system " + path("mixed.yaml") + " --accuracy-inputs 8 --json --out " +
                   path("mixed"));
  json j = parse(r);
  EXPECT_EQ(r.err.find("profile names none"), std::string::npos) << r.err;
  EXPECT_NE(j["int8_calibration"].get<std::string>().find("random inputs"), std::string::npos) << j.dump();
  // Every front plan is scored with each stage at its device's precision.
  for (const auto& plan : j["front"]) {
    ASSERT_TRUE(plan.contains("accuracy")) << plan.dump();
    const json& precisions = plan["accuracy"]["stage_precisions"];
    ASSERT_EQ(precisions.size(), plan["devices"].size()) << plan.dump();
    for (size_t s = 0; s < precisions.size(); ++s)
      EXPECT_EQ(precisions[s], plan["devices"][s] == "b" ? "int8" : "fp32") << plan.dump();
  }
  int on_b = 0;
  for (const auto& stage : j["plan"]["stages"]) {
    graph::Graph file = graph::load_onnx(stage["file"].get<std::string>());
    int quantize = 0;
    for (const auto& node : file.nodes) quantize += node.op_type == "QuantizeLinear";
    if (stage["device"] == "b") {
      ++on_b;
      EXPECT_EQ(stage["precision"], "int8");
      EXPECT_GT(quantize, 0) << "the int8 device's stage is not quantized";
    } else {
      EXPECT_EQ(stage["precision"], "fp32");
      EXPECT_EQ(quantize, 0);
    }
  }
  EXPECT_GT(on_b, 0) << j["plan"].dump();
  // The human table says what the scores mean.
  auto human = run_cli("partition zoo:squeezenet1_1 --system " + path("mixed.yaml") + " --accuracy-inputs 8 --out " +
                       path("mixed-human"));
  EXPECT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("each stage at its device's precision"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find(" int8 nodes "), std::string::npos) << human.out;
}

// `bench partition`'s contract (keys, consistency, files), not its timings: one small model, two
// real node processes on the backend asked for, half a second per deployment.
TEST_F(PartitionCli, BenchPartitionJson) {
  json j = parse(run_cli("bench partition --models squeezenet1_1 --seconds 0.5 --repeats 3 --backend xnnpack --out " +
                         path("bench") + " --plot " + path("bench.png") + " --json"));
  EXPECT_EQ(j["settings"]["slowdowns"], json({2.0, 3.2}));
  EXPECT_EQ(j["settings"]["backend"], "xnnpack");
  EXPECT_NE(j["settings"]["profile"].get<std::string>().find("xnnpack backend"), std::string::npos) << j["settings"];
  ASSERT_EQ(j["models"].size(), 1u);
  const json& m = j["models"][0];
  EXPECT_EQ(m["model"], "squeezenet1_1");
  EXPECT_GE(m["explore_ms"].get<double>(), 0);
  EXPECT_GT(m["single_ips"].get<double>(), 0);
  EXPECT_GT(m["single_predicted_ips"].get<double>(), 0);
  // Each device alone is predicted at its own core's profile times its slowdown.
  ASSERT_EQ(m["host_profile"].size(), 2u);
  for (int d = 0; d < 2; ++d) {
    const double expected =
        m["host_profile"][d]["total_ms"].get<double>() * j["settings"]["slowdowns"][d].get<double>();
    EXPECT_NEAR(m[d == 0 ? "dev1_alone" : "dev2_alone"]["predicted_ms"].get<double>(), expected, 1e-6 * expected);
  }
  ASSERT_TRUE(m["split"].is_object()) << m.dump();
  EXPECT_GT(m["split_predicted_ips"].get<double>(), 0);
  EXPECT_GT(m["split_measured_ips"].get<double>(), 0);
  EXPECT_NEAR(m["gain_measured"].get<double>(),
              m["split_measured_ips"].get<double>() / m["single_ips"].get<double>() - 1, 1e-9);
  EXPECT_EQ(m["split"]["stages"].size(), 2u);
  // Each node reports its runs on this host apart from the emulated device's time, which waits
  // for the rest: the run alone is never longer than the emulated total (slowdown 2 and 3.2).
  for (const json& stage : m["split"]["stages"]) {
    EXPECT_GT(stage["host_ms"].get<double>(), 0) << stage.dump();
    EXPECT_LE(stage["host_ms"].get<double>(), stage["measured_ms"].get<double>()) << stage.dump();
    EXPECT_GE(stage["overruns"].get<int>(), 0);
    EXPECT_EQ(stage["backend"], "xnnpack") << "the nodes run on the bench's backend";
  }
  EXPECT_EQ(m["dev1_alone"]["backend"], "xnnpack");
  EXPECT_EQ(m["split"]["failed"], 0);
  EXPECT_FALSE(m["gap"].get<std::string>().empty());
  EXPECT_TRUE(fs::exists(path("bench.png")));
  // What was deployed is on disk: the profiles, the system and the stage files.
  for (const char* f : {"dev1.json", "dev2.json", "system.yaml", "split/stage_1.onnx", "split/stage_2.onnx"})
    EXPECT_TRUE(fs::exists(dir_ / "bench" / "squeezenet1_1" / f)) << f;
}

// `bench partition --precision fp32,int8`: the mixed setting beside the fp32 one, dev2 profiled in
// int8, the front scored, and dev2 given its stages quantized.
TEST_F(PartitionCli, BenchPartitionRunsAPrecisionSettingBesideFp32) {
  json j =
      parse(run_cli("bench partition --models squeezenet1_1 --precision fp32,int8 --seconds 0.5 --repeats 3 "
                    "--accuracy-samples 4 --out " +
                    path("mixed") + " --plot " + path("mixed.png") + " --json"));
  ASSERT_EQ(j["models"].size(), 2u);
  const json& fp32 = j["models"][0];
  const json& mixed = j["models"][1];
  EXPECT_EQ(fp32["precisions"], json({"fp32", "fp32"}));
  EXPECT_EQ(fp32["label"], "squeezenet1_1");
  EXPECT_FALSE(fp32["front"][0].contains("agreement")) << "nothing to score in fp32";
  EXPECT_EQ(mixed["precisions"], json({"fp32", "int8"}));
  EXPECT_EQ(mixed["label"], "squeezenet1_1 fp32+int8");
  for (const auto& plan : mixed["front"]) {
    ASSERT_TRUE(plan.contains("agreement")) << plan.dump();
    EXPECT_GE(plan["agreement"].get<double>(), 0);
    EXPECT_LE(plan["agreement"].get<double>(), 1);
  }
  EXPECT_TRUE(mixed["dev2_alone"].contains("agreement"));
  EXPECT_GT(mixed["dev2_alone"]["output_error"].get<double>(), 0) << "dev2 alone runs the model quantized";
  EXPECT_EQ(mixed["dev1_alone"]["output_error"].get<double>(), 0.0);
  // The longer chains are explored once per model, in fp32.
  EXPECT_TRUE(fp32["exploration"].is_array());
  EXPECT_TRUE(mixed["exploration"].is_null());
  EXPECT_EQ(j["exploration_total"]["models"], 1);
  // On disk: dev2's int8 profile, and what dev2 was given is quantized.
  const fs::path dir = dir_ / "mixed" / "squeezenet1_1" / "fp32-int8";
  EXPECT_EQ(json::parse(testing::slurp((dir / "dev1.json").string()))["precision"], "fp32");
  EXPECT_EQ(json::parse(testing::slurp((dir / "dev2.json").string()))["precision"], "int8");
  auto quantized = [](const fs::path& file) {
    for (const auto& node : graph::load_onnx(file.string()).nodes)
      if (node.op_type == "QuantizeLinear") return true;
    return false;
  };
  EXPECT_TRUE(quantized(dir / "single-dev2" / "stage_1.onnx"));
  EXPECT_FALSE(quantized(dir / "single-dev1" / "stage_1.onnx"));
  if (mixed["split"].is_object()) {
    const json& devices = mixed["split"]["devices"];
    for (int s = 0; s < 2; ++s)
      EXPECT_EQ(quantized(dir / "split" / fmt::format("stage_{}.onnx", s + 1)), devices[s] == "dev2") << s;
    EXPECT_EQ(mixed["split"]["failed"], 0);
  }
  EXPECT_GT(mixed["single_ips"].get<double>(), 0);
}

// `bench partition --explore-only`: the exploration on 2, 3 and 4 devices, exact against NSGA-II,
// nothing deployed.
TEST_F(PartitionCli, BenchPartitionExploreOnly) {
  json j = parse(run_cli("bench partition --models squeezenet1_1 --explore-only --repeats 3 --out " + path("explore") +
                         " --plot " + path("explore.png") + " --json"));
  ASSERT_EQ(j["models"].size(), 1u);
  const json& m = j["models"][0];
  EXPECT_FALSE(m.contains("split")) << "nothing is deployed";
  EXPECT_FALSE(fs::exists(path("explore.png")));
  ASSERT_EQ(m["exploration"].size(), 3u);
  int64_t previous_space = 0;
  double previous_best = 0;
  for (size_t i = 0; i < 3; ++i) {
    const json& c = m["exploration"][i];
    EXPECT_EQ(c["devices"], static_cast<int>(i) + 2);
    // A longer chain has more plans, and the shorter chains' plans among them.
    EXPECT_GT(c["space_size"].get<int64_t>(), previous_space);
    EXPECT_GE(c["exact_best_ips"].get<double>(), previous_best * (1 - 1e-9));
    // The exact front is never beaten by the heuristic's.
    EXPECT_GE(c["exact_best_ips"].get<double>(), c["nsga2_best_ips"].get<double>() * (1 - 1e-9));
    EXPECT_GT(c["exact_front"].get<int>(), 0);
    EXPECT_TRUE(fs::exists(dir_ / "explore" / "squeezenet1_1" / fmt::format("system-{}.yaml", i + 2)));
    previous_space = c["space_size"].get<int64_t>();
    previous_best = c["exact_best_ips"].get<double>();
  }
  EXPECT_NEAR(j["exploration_total"]["exact_ms"].get<double>(),
              m["exploration"][0]["exact_ms"].get<double>() + m["exploration"][1]["exact_ms"].get<double>() +
                  m["exploration"][2]["exact_ms"].get<double>(),
              1e-6);
}

}  // namespace
}  // namespace fluidedge
