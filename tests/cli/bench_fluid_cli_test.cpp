// `bench fluid`'s contract (settings, cells, plot), not its timings: the cluster tests' small
// Fluid model on two real node processes of the backend asked for, a few requests per cell.
#include <unistd.h>

#include <filesystem>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_runner.h"

namespace fluidedge {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

TEST(BenchFluidCli, RunsTheCellsOnTheBackendAskedFor) {
  // A copy of the trained models: the bench writes its Static stages beside them.
  fs::path dir = fs::temp_directory_path() / ("fluidedge_bench_fluid_cli_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const char* variant : {"static", "fluid"})
    fs::copy(fs::path(FLUIDEDGE_TEST_DATA) / "cluster" / variant, dir / variant, fs::copy_options::recursive);
  auto r = testing::run_cli("bench fluid --epochs 1 --models '" + dir.string() +
                            "' --variants fluid --skip-failures --requests 48 " + "--backend xnnpack --plot '" +
                            (dir / "fluid.png").string() + "' --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["settings"]["backend"], "xnnpack");
  std::set<std::string> seen;
  for (const json& c : j["cells"]) {
    EXPECT_EQ(c["variant"], "fluid");
    seen.insert(c["mode"].get<std::string>() + "/" + c["online"].get<std::string>());
    ASSERT_TRUE(c.contains("throughput_ips")) << c.dump();
    EXPECT_GT(c["throughput_ips"].get<double>(), 0) << c.dump();
    EXPECT_GT(c["accuracy"].get<double>(), 0.5) << "a trained Fluid sub-network answers better than chance";
  }
  EXPECT_EQ(seen, (std::set<std::string>{"ha/1", "ha/2", "ha/both", "ht/1", "ht/2", "ht/both"}));
  EXPECT_TRUE(fs::exists(dir / "fluid.png"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace fluidedge
