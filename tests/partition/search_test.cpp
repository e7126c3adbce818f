// The search: the exact programme agrees with brute force, NSGA-II finds what the exact search
// finds, constraints are never broken by a returned plan, fronts are non-dominated, and the
// paper's seven CNNs are explored quickly on 2-4 devices.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "common/error.h"
#include "partition/search.h"
#include "zoo_models.h"

namespace fluidedge::partition {
namespace {

using graph::Graph;

const Graph& model(const std::string& name) { return testing::zoo_model(name); }

const std::vector<Objective> kAllObjectives = {Objective::kThroughput, Objective::kLatency, Objective::kEnergy,
                                               Objective::kMemory, Objective::kLinkBytes};

// Three different boards in a chain; `extra` appends constraints or objectives.
SystemDescription three_devices(const std::string& extra = "", double rate_mbps = 1000) {
  return parse_system(fmt::format(R"(
devices:
  - {{name: slow, peak_gflops: 6, memory_bandwidth_gbps: 3, active_power_w: 4, idle_power_w: 1.5}}
  - {{name: mid, peak_gflops: 13.5, memory_bandwidth_gbps: 4, active_power_w: 6.4, idle_power_w: 2.7}}
  - {{name: fast, peak_gflops: 30, memory_bandwidth_gbps: 12, efficiency: 0.6, active_power_w: 10, idle_power_w: 2}}
links:
  - {{rate_mbps: {0}, latency_ms: 0.2, overhead: 0.05, energy_nj_per_bit: 0.6}}
  - {{rate_mbps: {0}, latency_ms: 0.4, overhead: 0.05, power_w: 0.5}}
)",
                                  rate_mbps) +
                          extra,
                      "test.yaml");
}

SystemDescription example(const char* name) {
  return load_system(std::filesystem::path(FLUIDEDGE_SOURCE_DIR) / "examples" / name);
}

SearchOptions with(SearchAlgorithm algorithm, std::vector<Objective> objectives = {}) {
  SearchOptions options;
  options.algorithm = algorithm;
  options.objectives = std::move(objectives);
  return options;
}

// Every plan of the space, evaluated, then filtered: the reference the exact search must match.
std::vector<PlanCost> brute_force(const PlanEvaluator& ev, const std::vector<Objective>& objectives) {
  std::vector<PlanCost> all;
  const auto& cuts = ev.cut_positions();
  for (int k = 1; k <= ev.devices(); ++k) {
    for (const auto& chain : device_chains(ev, k)) {
      // Odometer over strictly increasing index tuples of size k - 1.
      std::vector<int> idx(k - 1);
      for (int i = 0; i < k - 1; ++i) idx[i] = i;
      if (k - 1 > static_cast<int>(cuts.size())) continue;
      while (true) {
        PipelinePlan plan{{}, chain};
        for (int i : idx) plan.positions.push_back(cuts[i]);
        all.push_back(ev.evaluate(plan));
        int i = k - 2;
        while (i >= 0 && idx[i] == static_cast<int>(cuts.size()) - (k - 1) + i) --i;
        if (i < 0) break;
        ++idx[i];
        for (int j = i + 1; j < k - 1; ++j) idx[j] = idx[j - 1] + 1;
      }
    }
  }
  return pareto_front(std::move(all), objectives);
}

// The two fronts hold the same objective vectors.
void expect_same_front(const std::vector<PlanCost>& got, const std::vector<PlanCost>& want,
                       const std::vector<Objective>& objectives) {
  ASSERT_EQ(got.size(), want.size());
  for (const auto& w : want) {
    bool found = false;
    for (const auto& g : got) {
      bool same = true;
      for (Objective o : objectives)
        same &= std::abs(g.minimised(o) - w.minimised(o)) <= 1e-9 * std::max(1.0, std::abs(w.minimised(o)));
      found |= same;
    }
    EXPECT_TRUE(found) << "missing the plan with throughput " << w.throughput_fps << " fps, latency " << w.latency_ms
                       << " ms";
  }
}

void expect_mutually_non_dominated(const std::vector<PlanCost>& front, const std::vector<Objective>& objectives) {
  for (size_t i = 0; i < front.size(); ++i) {
    EXPECT_TRUE(front[i].feasible);
    for (size_t j = 0; j < front.size(); ++j)
      if (i != j) {
        EXPECT_FALSE(dominates(front[i], front[j], objectives)) << i << " dominates " << j;
      }
  }
}

TEST(ExactSearch, MatchesBruteForceOnSmallChains) {
  struct Case {
    const char* model;
    std::string extra;
    std::vector<Objective> objectives;
  };
  const std::vector<Case> cases = {
      {"paper_cnn", "", kAllObjectives},
      {"lenet5", "", {Objective::kThroughput, Objective::kLatency, Objective::kEnergy}},
      {"squeezenet1_1", "", {Objective::kThroughput, Objective::kLatency, Objective::kEnergy}},
      {"squeezenet1_1", "", {Objective::kThroughput, Objective::kMemory}},
      {"squeezenet1_1",
       "constraints: {target_fps: 40, max_memory_mb: [1.5, 100, 100], max_latency_ms: 60}\n",
       {Objective::kThroughput, Objective::kEnergy, Objective::kLinkBytes}},
      {"squeezenet1_1", "constraints: {max_latency_ms: 45}\n", {Objective::kThroughput}},
  };
  size_t multi_stage = 0, reversed = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.model) + " " + c.extra);
    const Graph& g = model(c.model);
    SystemDescription s = three_devices(c.extra, 100);
    PlanEvaluator ev(g, enumerate_cuts(g), s);
    auto want = brute_force(ev, c.objectives);
    auto got = exact_search(ev, c.objectives, 0);
    ASSERT_FALSE(want.empty());
    expect_same_front(got, want, c.objectives);
    expect_mutually_non_dominated(got, c.objectives);
    for (const auto& p : got) {
      multi_stage += p.plan.devices.size() > 1;
      reversed += p.plan.devices.size() > 1 && p.plan.devices[1] < p.plan.devices[0];
    }
  }
  // The comparison covered split plans, in both directions of the chain.
  EXPECT_GT(multi_stage, 10u);
  EXPECT_GT(reversed, 0u);
}

TEST(ExactSearch, MatchesBruteForceOnFourDevices) {
  const Graph& g = model("squeezenet1_1");
  SystemDescription s = example("four_boards.yaml");
  s.constraints.target_fps = 60;
  PlanEvaluator ev(g, enumerate_cuts(g), s);
  auto want = brute_force(ev, s.objectives);
  auto got = exact_search(ev, s.objectives, 0);
  expect_same_front(got, want, s.objectives);
  size_t four = 0;
  for (const auto& p : got) four += p.plan.devices.size() == 4;
  EXPECT_GT(four, 0u);
}

TEST(ExactSearch, SingleTensorCutsOnlyWhenAsked) {
  const Graph& g = model("resnet18");
  SearchOptions options;
  options.single_tensor_cuts_only = true;
  SearchResult r = search_plans(g, three_devices(), options);
  ASSERT_FALSE(r.front.empty());
  std::set<int> singles;
  for (const auto& c : single_tensor_cuts(g)) singles.insert(c.position);
  for (const auto& p : r.front)
    for (int pos : p.plan.positions) EXPECT_TRUE(singles.count(pos)) << pos;
  // The full space is larger and its front at least as good.
  SearchResult all = search_plans(g, three_devices());
  EXPECT_GT(all.space_size, r.space_size);
  EXPECT_GE(choose(all.front).throughput_fps, choose(r.front).throughput_fps * (1 - 1e-9));
}

TEST(ExactSearch, ConsidersTheReversedChainAndSubChains) {
  const Graph& g = model("squeezenet1_1");
  SystemDescription s = three_devices();
  PlanEvaluator ev(g, enumerate_cuts(g), s);
  EXPECT_EQ(device_chains(ev, 1).size(), 3u);
  EXPECT_EQ(device_chains(ev, 2), (std::vector<std::vector<int>>{{0, 1}, {1, 2}, {2, 1}, {1, 0}}));
  EXPECT_EQ(device_chains(ev, 3), (std::vector<std::vector<int>>{{0, 1, 2}, {2, 1, 0}}));
  s.links[1].bidirectional = false;
  PlanEvaluator one_way(g, enumerate_cuts(g), s);
  EXPECT_EQ(device_chains(one_way, 2), (std::vector<std::vector<int>>{{0, 1}, {1, 2}, {1, 0}}));
  EXPECT_EQ(device_chains(one_way, 3), (std::vector<std::vector<int>>{{0, 1, 2}}));

  // VGG-16 is conv-heavy first (compute-bound) and FC-heavy last (weight-bound). With the
  // compute-rich board second in the chain and the bandwidth-rich one first, the best plan
  // runs the chain backwards: convs on device 1, then the FC layers on device 0.
  const Graph& vgg = model("vgg16");
  SystemDescription pair = parse_system(R"(
devices:
  - {name: bandwidth, peak_gflops: 5, memory_bandwidth_gbps: 20}
  - {name: compute, peak_gflops: 50, memory_bandwidth_gbps: 2}
links: {rate_mbps: 10000}
)",
                                        "pair.yaml");
  const std::vector<Objective> throughput = {Objective::kThroughput};
  const PlanCost best = choose(exact_search(PlanEvaluator(vgg, enumerate_cuts(vgg), pair), throughput, 0));
  EXPECT_EQ(best.plan.devices, (std::vector<int>{1, 0}));
  pair.links[0].bidirectional = false;
  const PlanCost forward = choose(exact_search(PlanEvaluator(vgg, enumerate_cuts(vgg), pair), throughput, 0));
  EXPECT_NE(forward.plan.devices, (std::vector<int>{1, 0}));
  EXPECT_LT(forward.throughput_fps, best.throughput_fps);
}

TEST(Search, LinkOverCapacityIsNeverReturned) {
  const Graph& g = model("resnet50");
  SystemDescription s = three_devices();
  std::vector<Objective> objectives = {Objective::kThroughput, Objective::kLatency};
  auto free_front = search_plans(g, s, with(SearchAlgorithm::kAuto, objectives)).front;
  // The busiest link among the unconstrained front's plans decides a frame rate it cannot carry.
  int64_t busiest = 0;
  double rate = 0;
  for (const auto& p : free_front)
    for (size_t l = 0; l < p.link_bytes.size(); ++l)
      if (p.link_bytes[l] > busiest) {
        busiest = p.link_bytes[l];
        rate = s.links[std::min(p.plan.devices[l], p.plan.devices[l + 1])].rate_mbps;
      }
  ASSERT_GT(busiest, 0) << "expected the unconstrained front to use a link";
  const double fps = rate * 1e6 / (busiest * 8 * 1.05) / 0.9;  // that plan needs 111 % of its link
  s.constraints.target_fps = fps;
  for (SearchAlgorithm algorithm : {SearchAlgorithm::kExact, SearchAlgorithm::kNsga2}) {
    SearchResult r = search_plans(g, s, with(algorithm, objectives));
    ASSERT_FALSE(r.front.empty());
    for (const auto& p : r.front) {
      EXPECT_TRUE(p.feasible);
      for (size_t l = 0; l < p.link_bytes.size(); ++l) {
        EXPECT_LT(p.link_bytes[l], busiest);
        EXPECT_LE(p.link_utilisation[l], 1.0);
      }
    }
  }
}

TEST(Search, MemoryLimitForcesASplitAndHolds) {
  // VGG-16 has 528 MiB of fp32 weights, 392 MiB of them in its first FC layer: 500 MiB per
  // board holds neither the whole model nor a stage with all three FC layers.
  const Graph& g = model("vgg16");
  SystemDescription s = example("two_boards_1gbe.yaml");
  s.constraints.max_memory_mb = {500, 500};
  s.constraints.target_fps = 0;
  for (SearchAlgorithm algorithm : {SearchAlgorithm::kExact, SearchAlgorithm::kNsga2}) {
    SearchResult r = search_plans(g, s, with(algorithm));
    ASSERT_FALSE(r.front.empty());
    for (const auto& p : r.front) {
      EXPECT_EQ(p.plan.devices.size(), 2u);  // no single board can hold it
      for (int64_t m : p.memory_bytes) EXPECT_LE(m, 500.0 * 1024 * 1024);
    }
  }
  // Too small for any split: an empty front, and the report says why.
  s.constraints.max_memory_mb = {100, 100};
  SearchResult none = search_plans(g, s);
  EXPECT_TRUE(none.front.empty());
  ASSERT_EQ(none.infeasible_examples.size(), 2u);
  const std::string& why = none.infeasible_examples[0];
  EXPECT_NE(why.find("over its 100 MB limit"), std::string::npos) << why;
  EXPECT_THROW(choose(none.front), Error);
}

TEST(Nsga2, FindsTheExactBestThroughputOnTwoDevices) {
  for (const char* name : {"squeezenet1_1", "efficientnet_b0", "googlenet"}) {
    SCOPED_TRACE(name);
    const Graph& g = model(name);
    SystemDescription s = example("two_boards_1gbe.yaml");
    PlanEvaluator ev(g, enumerate_cuts(g), s);
    auto exact = exact_search(ev, s.objectives, 0);
    auto nsga = nsga2_search(ev, s.objectives, 0, {});
    const PlanCost& best = choose(exact);
    const PlanCost& found = choose(nsga);
    EXPECT_GE(found.throughput_fps, 0.99 * best.throughput_fps);
    expect_mutually_non_dominated(nsga, s.objectives);
    // Nothing NSGA-II returns can beat the exact front.
    for (const auto& p : nsga)
      for (const auto& q : exact) EXPECT_FALSE(dominates(p, q, s.objectives));
  }
}

TEST(Nsga2, IsDeterministicForASeedAndRunsOnFiveDevices) {
  const Graph& g = model("resnet18");
  SystemDescription s = parse_system(R"(
devices:
  - {name: d0, peak_gflops: 10, memory_bandwidth_gbps: 4, active_power_w: 5, idle_power_w: 2}
  - {name: d1, peak_gflops: 14, memory_bandwidth_gbps: 4, active_power_w: 6, idle_power_w: 2}
  - {name: d2, peak_gflops: 8, memory_bandwidth_gbps: 6, active_power_w: 4, idle_power_w: 1}
  - {name: d3, peak_gflops: 20, memory_bandwidth_gbps: 8, active_power_w: 9, idle_power_w: 3}
  - {name: d4, peak_gflops: 12, memory_bandwidth_gbps: 5, active_power_w: 5, idle_power_w: 2, memory_mb: 20}
links: {rate_mbps: 1000, latency_ms: 0.1, overhead: 0.05, power_w: 0.6}
)",
                                     "five.yaml");
  SearchOptions options;
  options.nsga2.generations = 60;
  SearchResult a = search_plans(g, s, options);
  SearchResult b = search_plans(g, s, options);
  EXPECT_EQ(a.algorithm, SearchAlgorithm::kNsga2);  // auto: more than four devices
  ASSERT_FALSE(a.front.empty());
  ASSERT_EQ(a.front.size(), b.front.size());
  for (size_t i = 0; i < a.front.size(); ++i) EXPECT_EQ(a.front[i].plan, b.front[i].plan);
  expect_mutually_non_dominated(a.front, a.objectives);
  for (const auto& p : a.front)
    for (size_t st = 0; st < p.plan.devices.size(); ++st)
      if (p.plan.devices[st] == 4) {
        EXPECT_LE(p.memory_bytes[st], 20.0 * 1024 * 1024);
      }
}

TEST(Pareto, FilterKeepsExactlyTheNonDominated) {
  auto plan = [](double period, double latency, bool feasible = true) {
    PlanCost c;
    c.period_ms = period;
    c.throughput_fps = 1000 / period;
    c.latency_ms = latency;
    c.feasible = feasible;
    return c;
  };
  std::vector<Objective> obj = {Objective::kThroughput, Objective::kLatency};
  auto front = pareto_front({plan(10, 30), plan(20, 20), plan(15, 25), plan(12, 40), plan(20, 20), plan(5, 100, false),
                             plan(30, 10), plan(30, 35)},
                            obj);
  ASSERT_EQ(front.size(), 4u);  // (10,30) (15,25) (20,20) (30,10); the duplicate and infeasible go
  EXPECT_DOUBLE_EQ(front[0].period_ms, 10);
  EXPECT_DOUBLE_EQ(front[3].period_ms, 30);
  expect_mutually_non_dominated(front, obj);

  // choose: the fastest, ties broken by latency; other objectives, ties broken by throughput.
  std::vector<PlanCost> ties = {plan(10, 50), plan(10, 40), plan(12, 40)};
  EXPECT_DOUBLE_EQ(choose(ties).latency_ms, 40);
  EXPECT_DOUBLE_EQ(choose(ties).period_ms, 10);
  EXPECT_DOUBLE_EQ(choose(ties, Objective::kLatency).period_ms, 10);
}

TEST(Search, ExamplesGiveFeasibleFronts) {
  const Graph& g = model("resnet50");
  for (const char* name : {"two_boards_100mbit.yaml", "two_boards_1gbe.yaml", "four_boards.yaml"}) {
    SCOPED_TRACE(name);
    SystemDescription s = example(name);
    SearchResult r = search_plans(g, s);
    EXPECT_EQ(r.algorithm, SearchAlgorithm::kExact);
    ASSERT_FALSE(r.front.empty());
    expect_mutually_non_dominated(r.front, r.objectives);
    PlanEvaluator ev(g, enumerate_cuts(g), s);
    for (const auto& p : r.front) {
      EXPECT_DOUBLE_EQ(constraint_violation(ev, p), 0.0);
      for (size_t st = 0; st < p.plan.devices.size(); ++st)
        EXPECT_LE(p.memory_bytes[st], s.memory_limit_bytes(p.plan.devices[st]));
    }
  }
}

// The paper's seven CNNs on two, three and four boards. The time is printed for information
// only (timing claims belong in `fluidedge bench partition`); what is asserted is that the
// best plan is never slower than the best single device, since single-device plans are part
// of the space.
TEST(Search, PaperModelsOnTwoToFourDevices) {
  SystemDescription four = example("four_boards.yaml");
  four.constraints = {};
  double total_seconds = 0;
  for (const char* name :
       {"alexnet", "efficientnet_b0", "googlenet", "regnet_x_400mf", "resnet50", "squeezenet1_1", "vgg16"}) {
    const Graph& g = model(name);
    for (int devices = 2; devices <= 4; ++devices) {
      SystemDescription s = four;
      s.devices.resize(devices);
      s.links.resize(devices - 1);
      auto t0 = std::chrono::steady_clock::now();
      SearchResult r = search_plans(g, s);
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      total_seconds += seconds;
      ASSERT_FALSE(r.front.empty());
      const PlanCost& best = choose(r.front);
      double best_single = 0;
      PlanEvaluator ev(g, enumerate_cuts(g), s);
      for (int d = 0; d < devices; ++d) best_single = std::max(best_single, ev.evaluate({{}, {d}}).throughput_fps);
      EXPECT_GE(best.throughput_fps, best_single * (1 - 1e-9));
      std::printf(
          "  %-16s %d devices: %4zu nodes, front %3zu, best %6.2f fps (+%5.1f%% over one board), "
          "%lld labels, %.3f s\n",
          name, devices, g.nodes.size(), r.front.size(), best.throughput_fps,
          100 * (best.throughput_fps / best_single - 1), static_cast<long long>(r.evaluated), seconds);
    }
  }
  std::printf("  exploration of 7 models x {2,3,4} devices: %.3f s\n", total_seconds);
}

}  // namespace
}  // namespace fluidedge::partition
