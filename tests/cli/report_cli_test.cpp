// The HTML reports of the benches (`--report DIR`, what `fluidedge demo` assembles), opened as a
// reader opens them: in headless Chromium (Debian's chromium, installed by scripts/setup.sh),
// with a screenshot, every image loaded, every table with rows, and the numbers those of the
// run's own --json.
#include <unistd.h>

#include <filesystem>
#include <regex>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_runner.h"

namespace fluidedge {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

struct PageCheck {
  int images = -1, broken = -1, tables = -1, empty_tables = -1;
};

// Opens DIR/index.html in headless Chromium: a screenshot to DIR/screenshot.png, and, through a
// copy with a script added at its end, the count of images that did not load and of tables
// without a data row.
PageCheck open_in_chromium(const fs::path& dir) {
  const std::string page = testing::slurp(dir / "index.html");
  const std::string script =
      "<script>window.addEventListener('load', () => { const tables = [...document.querySelectorAll('table')];"
      "const broken = [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).length;"
      "const r = document.createElement('pre'); r.id = 'check'; r.textContent = 'images=' + document.images.length +"
      "' broken=' + broken + ' tables=' + tables.length + ' empty=' + tables.filter(t => t.rows.length < 2).length;"
      "document.body.appendChild(r); });</script></body>";
  std::string checked = page;
  const auto at = checked.rfind("</body>");
  EXPECT_NE(at, std::string::npos);
  checked.replace(at, 7, script);
  std::ofstream(dir / "check.html") << checked;
  const std::string chromium =
      "chromium --headless --no-sandbox --disable-gpu --allow-file-access-from-files "
      "--virtual-time-budget=10000 --user-data-dir='" +
      (dir / "chromium-profile").string() + "' ";
  auto shot =
      testing::run_command(chromium + "--hide-scrollbars --window-size=1200,3000 --screenshot='" +
                           (dir / "screenshot.png").string() + "' 'file://" + (dir / "index.html").string() + "'");
  EXPECT_EQ(shot.exit_code, 0) << shot.err;
  EXPECT_TRUE(fs::exists(dir / "screenshot.png"));
  if (fs::exists(dir / "screenshot.png")) {
    EXPECT_GT(fs::file_size(dir / "screenshot.png"), 20000u) << "a blank page compresses to almost nothing";
    EXPECT_EQ(testing::slurp(dir / "screenshot.png").rfind("\x89PNG", 0), 0u);
  }
  auto dom = testing::run_command(chromium + "--dump-dom 'file://" + (dir / "check.html").string() + "'");
  EXPECT_EQ(dom.exit_code, 0) << dom.err;
  std::smatch m;
  PageCheck c;
  if (std::regex_search(dom.out, m, std::regex("images=(\\d+) broken=(\\d+) tables=(\\d+) empty=(\\d+)"))) {
    c.images = std::stoi(m[1]);
    c.broken = std::stoi(m[2]);
    c.tables = std::stoi(m[3]);
    c.empty_tables = std::stoi(m[4]);
  } else {
    ADD_FAILURE() << "the check script did not run; the page as Chromium saw it:\n" << dom.out.substr(0, 2000);
  }
  return c;
}

class Reports : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("fluidedge_reports_{}_{}", ::getpid(),
                                                   ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(Reports, TheFluidReportShowsEveryCellAndTheFailureTimelines) {
  FLUIDEDGE_SKIP_WITHOUT_TORCH();
  fs::create_directories(dir_ / "models");
  for (const char* variant : {"static", "fluid"})
    fs::copy(fs::path(FLUIDEDGE_TEST_DATA) / "cluster" / variant, dir_ / "models" / variant,
             fs::copy_options::recursive);
  const fs::path report = dir_ / "report";
  auto r =
      testing::run_cli(fmt::format("bench fluid --epochs 1 --models '{}' --variants static,fluid --requests 48 "
                                   "--failure-seconds 0.5 --plot '' --report '{}' --json",
                                   (dir_ / "models").string(), report.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  const std::string page = testing::slurp(report / "index.html");
  // The figure, and a timeline for each Fluid HT kill and the Static one.
  for (const char* image :
       {"fluid-figure2.png", "failure-fluid-ht-dev1.png", "failure-fluid-ht-dev2.png", "failure-static-ht-dev2.png"}) {
    EXPECT_NE(page.find(fmt::format("src=\"{}\"", image)), std::string::npos) << image;
    EXPECT_TRUE(fs::exists(report / image)) << image;
    EXPECT_TRUE(fs::exists(report / (std::string(image) + ".gp"))) << "the script beside the plot";
  }
  // Every cell's throughput as the run measured it.
  for (const json& c : j["cells"]) {
    if (c.contains("throughput_ips")) {
      EXPECT_NE(page.find(fmt::format("<td>{:.1f}</td>", c["throughput_ips"].get<double>())), std::string::npos)
          << c.dump();
    }
  }
  // Fluid lost nothing and the restarted devices rejoined: the report says so, as the JSON does.
  for (const json& f : j["failures"]) {
    if (f["variant"] != "fluid") continue;
    EXPECT_EQ(f["lost"], 0) << f.dump();
    EXPECT_EQ(f["failed"], 0) << f.dump();
    EXPECT_FALSE(f["rejoin_ms"].is_null()) << f.dump();
    EXPECT_GT(f["served_by_it_after_rejoin"].get<int64_t>(), 0) << f.dump();
  }
  EXPECT_NE(page.find("PASS</b> Fluid loses no request"), std::string::npos);
  EXPECT_NE(page.find("PASS</b> Static cannot run with either device down"), std::string::npos);
  PageCheck c = open_in_chromium(report);
  EXPECT_EQ(c.images, 4);
  EXPECT_EQ(c.broken, 0);
  EXPECT_GE(c.tables, 3);
  EXPECT_EQ(c.empty_tables, 0);
}

TEST_F(Reports, ThePartitionAndRuntimeReportsLoadWithTheirNumbers) {
  const fs::path partition = dir_ / "partition", runtime = dir_ / "runtime";
  auto p = testing::run_cli(
      fmt::format("bench partition --models squeezenet1_1 --system '{}/examples/two_boards_100mbit.yaml' "
                  "--seconds 0.5 --out '{}' --plot '' --report '{}' --json",
                  FLUIDEDGE_SOURCE_DIR, (dir_ / "runs").string(), partition.string()));
  ASSERT_EQ(p.exit_code, 0) << p.err;
  const json pj = json::parse(p.out);
  const std::string page = testing::slurp(partition / "index.html");
  const json& row = pj["models"][0];
  EXPECT_EQ(row["device_names"], json({"pi4", "nano-cpu"}));
  EXPECT_NE(page.find(fmt::format("<td>{:.2f}</td>", row["dev1_alone"]["measured_ips"].get<double>())),
            std::string::npos);
  EXPECT_NE(page.find("src=\"partition-squeezenet1_1-front.png\""), std::string::npos);
  PageCheck pc = open_in_chromium(partition);
  EXPECT_EQ(pc.images, 2);  // predicted against measured, and the front
  EXPECT_EQ(pc.broken, 0);
  EXPECT_GE(pc.tables, 2);
  EXPECT_EQ(pc.empty_tables, 0);

  auto r =
      testing::run_cli(fmt::format("bench runtime --models squeezenet1_1 --batch 1 --rounds 1 --seconds 0.2 "
                                   "--no-reference --report '{}' --json",
                                   runtime.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json rj = json::parse(r.out);
  EXPECT_NE(testing::slurp(runtime / "index.html")
                .find(fmt::format("<td>{:.2f}</td>", rj["results"][0]["ort_ms"].get<double>())),
            std::string::npos);
  PageCheck rc = open_in_chromium(runtime);
  EXPECT_EQ(rc.images, 0);
  EXPECT_EQ(rc.tables, 1);
  EXPECT_EQ(rc.empty_tables, 0);
}

}  // namespace
}  // namespace fluidedge
