// The stages of every Pareto plan, run one after the other, compute the model: for every zoo
// model on the shipped example systems (2, 3 and 4 devices), every plan of the front is split
// with split_stages and run stage after stage on the fast backend, and its outputs match the
// whole model's (relative error <= 1e-5).
//
// Cost: plans share most of their stages, so the test runs each distinct chain of stages once
// (the tensors sent on after each prefix of cuts are kept) and builds each distinct stage's
// session once (StageRunner), visiting plans grouped by their last stage. About 2 minutes for the
// whole zoo on one core of the development machine (VGG-16 60 s, AlexNet 18 s, ResNet-50 23 s:
// their fully connected weights and long fronts); 6 minutes of test time under `ctest -j2` on
// the shared 2-core VM while another job ran. One CTest test per model, so ctest -j spreads them.
#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include <unistd.h>

#include <cstdlib>

#include <gtest/gtest.h>

#include "compare.h"
#include "partition/cut.h"
#include "partition/plan_accuracy.h"
#include "partition/search.h"
#include "partition/stage_runner.h"
#include "runtime/fast/fast_session.h"
#include "zoo_models.h"

namespace fluidedge::partition {
namespace {

const char* const kSystems[] = {"two_boards_100mbit.yaml", "two_boards_1gbe.yaml", "three_boards.yaml",
                                "four_boards.yaml"};

class StageReproduction : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() { runtime::fast::register_fast_backend(); }
};

TEST_P(StageReproduction, EveryFrontPlanComposesToTheModel) {
  const graph::Graph& model = testing::zoo_model(GetParam());
  const graph::Graph g = partitionable_graph(model);

  // The distinct cut positions of every front (the devices do not change what is computed).
  std::set<std::vector<int>> plans;
  std::set<int> device_counts;
  for (const char* name : kSystems) {
    SystemDescription system = load_system(std::filesystem::path(FLUIDEDGE_SOURCE_DIR) / "examples" / name);
    device_counts.insert(static_cast<int>(system.devices.size()));
    SearchResult r = search_plans(g, system);
    ASSERT_FALSE(r.front.empty()) << name;
    for (const auto& p : r.front) plans.insert(p.plan.positions);
  }
  EXPECT_EQ(device_counts, (std::set<int>{2, 3, 4}));
  size_t multi_stage = 0;
  for (const auto& p : plans) multi_stage += !p.empty();
  // A front of single-device plans only would make this test vacuous.
  ASSERT_GT(multi_stage, 0u) << GetParam() << ": no front has a split plan";

  runtime::TensorMap inputs = random_samples(g, 1, 7).inputs;
  auto whole = runtime::make_session("fast", model);
  runtime::TensorMap want = whole->run(inputs);

  // The big weights (fully connected layers) sit in the last stage, and building a session for
  // them is what costs: plans are visited grouped by their last stage, which is built once; the
  // tensors sent on after each distinct prefix of cuts are kept, so no chain of stages runs twice.
  std::vector<std::vector<int>> order(plans.begin(), plans.end());
  auto last_cut = [](const std::vector<int>& p) { return p.empty() ? 0 : p.back(); };
  std::stable_sort(order.begin(), order.end(), [&](const auto& a, const auto& b) { return last_cut(a) < last_cut(b); });
  StageRunner runner(g);
  const int n = runner.nodes();
  std::map<std::vector<int>, runtime::TensorMap> sent;  // by the cuts so far
  int64_t sent_bytes = 0;
  for (const auto& positions : order) {
    std::vector<int> bounds = {0};
    bounds.insert(bounds.end(), positions.begin(), positions.end());
    bounds.push_back(n);
    // The longest prefix of cuts already computed.
    size_t done = positions.size();
    while (done > 0 && !sent.count(std::vector<int>(positions.begin(), positions.begin() + static_cast<long>(done))))
      --done;
    runtime::TensorMap current =
        done == 0 ? inputs : sent.at(std::vector<int>(positions.begin(), positions.begin() + static_cast<long>(done)));
    for (size_t s = done; s + 1 < bounds.size(); ++s) {
      current = runner.run_stage(bounds[s], bounds[s + 1], current);
      if (s + 2 < bounds.size()) {
        std::vector<int> key(positions.begin(), positions.begin() + static_cast<long>(s) + 1);
        if (sent_bytes > (int64_t{1} << 30)) sent.clear(), sent_bytes = 0;  // bound the memory
        for (const auto& [name, t] : current) sent_bytes += static_cast<int64_t>(t.nbytes());
        sent.emplace(std::move(key), current);
      }
    }
    for (const auto& name : model.outputs) {
      ASSERT_TRUE(current.count(name)) << "plan " << ::testing::PrintToString(positions) << " lost output " << name;
      EXPECT_LE(testing::relative_error(current.at(name), want.at(name)), 1e-5)
          << GetParam() << " plan " << ::testing::PrintToString(positions) << " output " << name;
    }
  }
  RecordProperty("plans", static_cast<int>(plans.size()));
  RecordProperty("stages_built", static_cast<int>(runner.built_stages()));
}

INSTANTIATE_TEST_SUITE_P(Zoo, StageReproduction, ::testing::ValuesIn(zoo::zoo_names()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace fluidedge::partition

// Stage sessions copy and re-lay out their weights (hundreds of MB in VGG-16's and AlexNet's
// fully connected layers). On 4 KiB pages the page faults cost more than the inferences: AlexNet
// took 65 s here instead of 15 s. glibc backs large blocks with transparent huge pages when its
// tunable says so, and tunables are read at process start, so the test re-executes itself once.
int main(int argc, char** argv) {
  if (std::getenv("GLIBC_TUNABLES") == nullptr) {
    setenv("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1", 1);
    execv("/proc/self/exe", argv);  // returns only on failure: then run as we are
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
