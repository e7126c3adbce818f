// `bench soak`'s contract on a short run: the cluster tests' small Fluid model on two real node
// processes, killed and frozen on a fixed seed while the load runs. Nothing may be lost or
// answered twice, both kinds of fault happen, memory is sampled for every node and the client,
// and the plot is a PNG with its data and gnuplot script beside it.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_runner.h"

namespace fluidedge {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

class BenchSoakCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("fluidedge_bench_soak_cli_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string models() const { return "'" + (fs::path(FLUIDEDGE_TEST_DATA) / "cluster").string() + "'"; }
  fs::path dir_;
};

TEST_F(BenchSoakCli, LosesNothingWhileNodesAreKilledAndFrozen) {
  fs::path plot = dir_ / "soak.png";
  auto r = testing::run_cli(
      "bench soak --epochs 1 --minutes 0.4 --models " + models() +
      " --gap-min 1.5 --gap-max 2.5 --outage-min 0.5 --outage-max 1.5 --seed 3 --concurrency 8 --plot '" +
      plot.string() + "' --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  const json& result = j["result"];
  EXPECT_GT(result["answered"].get<int64_t>(), 100) << result.dump();
  EXPECT_EQ(result["lost"], 0) << result.dump();
  EXPECT_EQ(result["answered_twice"], 0) << result.dump();
  EXPECT_EQ(result["failed"], 0) << result.dump();
  EXPECT_EQ(result["sent"].get<int64_t>(), result["answered"].get<int64_t>());
  EXPECT_TRUE(result["drained"].get<bool>());

  std::set<std::string> actions, nodes;
  for (const json& f : j["faults"]) {
    actions.insert(f["action"].get<std::string>());
    nodes.insert(f["node"].get<std::string>());
    EXPECT_GT(f["repaired_s"].get<double>(), f["at_s"].get<double>()) << f.dump();
  }
  EXPECT_GE(j["faults"].size(), 4u) << j["faults"].dump();
  EXPECT_EQ(actions, (std::set<std::string>{"kill -9", "SIGSTOP"})) << j["faults"].dump();

  // A sample a second, each with every node's memory (0 only while that node was killed).
  ASSERT_GE(j["samples"].size(), 20u);
  int dev1_seen = 0, client_seen = 0;
  for (const json& s : j["samples"]) {
    dev1_seen += s["dev1_rss_mib"].get<double>() > 1;
    client_seen += s["client_rss_mib"].get<double>() > 1;
  }
  EXPECT_GT(dev1_seen, 10);
  EXPECT_EQ(client_seen, static_cast<int>(j["samples"].size()));
  for (const char* who : {"dev1", "dev2", "client"}) EXPECT_GT(j["memory"][who]["peak_mib"].get<double>(), 1) << who;
  // Every kill -9 starts a new node process; the client is one process throughout.
  int64_t kills = 0;
  for (const json& f : j["faults"]) kills += f["action"] == "kill -9";
  EXPECT_EQ(j["memory"]["dev1"]["processes"].get<int64_t>() + j["memory"]["dev2"]["processes"].get<int64_t>(),
            2 + kills);
  EXPECT_EQ(j["memory"]["client"]["processes"], 1);

  std::ifstream png(plot, std::ios::binary);
  char magic[4] = {};
  png.read(magic, 4);
  EXPECT_EQ(std::string(magic + 1, 3), "PNG") << plot;
  EXPECT_TRUE(fs::exists(plot.string() + ".gp"));
  EXPECT_TRUE(fs::exists(plot.string() + ".dat"));
}

TEST_F(BenchSoakCli, AnInvertedRangeIsRefusedBeforeAnythingStarts) {
  auto r = testing::run_cli("bench soak --epochs 1 --minutes 1 --models " + models() +
                            " --gap-min 5 --gap-max 1 --plot '" + (dir_ / "x.png").string() + "'");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--gap-max"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "x.png"));
}

}  // namespace
}  // namespace fluidedge
