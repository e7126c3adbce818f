#include "fluid_harness.h"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "experiment/request_stream.h"

namespace fluidedge::testing {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

graph::Tensor random_image(std::mt19937& rng) {
  graph::Tensor t(graph::DType::kFloat32, {1, 1, 28, 28});
  std::uniform_real_distribution<float> u(0.f, 1.f);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = u(rng);
  return t;
}

fs::path model_dir(const std::string& variant) { return fs::path(cluster_models_dir()) / variant; }

cluster::ClusterConfig make_config(const std::string& variant, const std::string& mode, const fs::path& model,
                                   const std::vector<std::pair<const NodeProcess*, std::string>>& nodes,
                                   const std::string& coordinator) {
  std::string yaml = "variant: " + variant + "\nmode: " + mode + "\nmodel: " + model.string() +
                     "\ncoordinator: " + coordinator + "\nrequest_timeout_ms: 30000\nnodes:\n";
  for (auto& [node, part] : nodes)
    yaml += "  - {name: " + node->name() + ", address: " + node->address() + ", part: " + part + "}\n";
  return cluster::parse_cluster_config(yaml, "test-cluster.yaml", ".");
}

bool wait_ready(const cluster::Coordinator& c, const std::string& node, int timeout_ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (Clock::now() < deadline) {
    for (const auto& n : c.nodes())
      if (n.name == node && n.ready) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

bool wait_down(const cluster::Coordinator& c, const std::string& node, int timeout_ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (Clock::now() < deadline) {
    for (const auto& e : c.events())
      if (e.node == node && !e.up) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

std::vector<cluster::Answer> stream(cluster::InferenceClient& c, int count, const std::function<void(int)>& at,
                                    int window) {
  std::mt19937 rng(7);
  std::vector<cluster::Answer> answers;
  answers.reserve(static_cast<size_t>(count));
  std::mutex mutex;  // guards answers and answered (the observer runs on the client's threads)
  int answered = 0, reported = 0;
  // `at` sees every count once, in order, on this thread between submissions (it may kill or
  // restart nodes), and the counts reached while draining after the last one.
  auto report = [&] {
    int now;
    {
      std::lock_guard lock(mutex);
      now = answered;
    }
    while (at && reported < now) at(++reported);
  };
  experiment::StreamOptions options;
  options.count = count;
  options.concurrency = window;
  options.retry_after_failure = std::chrono::milliseconds(0);
  options.tick = report;
  auto result = experiment::run_stream(
      c,
      [&](int64_t) {
        return runtime::TensorMap{{"input", random_image(rng)}};
      },
      options,
      [&](int64_t, const cluster::Answer& a) {
        std::lock_guard lock(mutex);
        answers.push_back(a);
        ++answered;
      });
  report();
  EXPECT_EQ(result.duplicated, 0) << "requests answered twice";
  return answers;
}

void expect_each_answered_once(const std::vector<cluster::Answer>& answers, int count) {
  std::set<uint64_t> ids;
  int errors = 0;
  for (const auto& a : answers) {
    EXPECT_TRUE(ids.insert(a.id).second) << "request " << a.id << " answered twice";
    if (!a.error.empty() && errors++ < 3) ADD_FAILURE() << "request " << a.id << ": " << a.error;
    if (a.error.empty()) {
      EXPECT_EQ(a.prediction.shape(), (graph::Shape{1, 10}));
    }
  }
  EXPECT_EQ(static_cast<int>(ids.size()), count);
  EXPECT_EQ(errors, 0);
}

DownsAndReturns downs_and_returns(const std::vector<cluster::MembershipEvent>& events, const std::string& node) {
  DownsAndReturns d;
  for (const auto& e : events) {
    if (e.node != node) continue;
    if (!e.up) ++d.downs;
    if (e.up && d.downs > 0) ++d.returns;
  }
  return d;
}

}  // namespace fluidedge::testing
