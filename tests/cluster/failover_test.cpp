// Real device-node processes on loopback, served by the coordinator: answers equal the whole
// model's; kill -9 of either node in HT, HA and auto mode loses no request and answers none
// twice; the node rejoins when it comes back; a silent (stopped) node and a cut veth link are
// detected; coordination on the nodes survives the coordinating node's death; Static and
// Dynamic fail as the paper says, fast and with a clear error.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <random>
#include <set>
#include <thread>

#include "cluster/channel_settings.h"
#include "cluster/coordinator.h"
#include "cluster/gateway.h"
#include "cluster/gateway_client.h"
#include "common/error.h"
#include "fluid_harness.h"
#include "graph/onnx_io.h"
#include "node_process.h"
#include "partition/cut.h"
#include "runtime/fast/fast_session.h"

namespace fluidedge::cluster {
namespace {
namespace fs = std::filesystem;
using testing::expect_each_answered_once;
using testing::make_config;
using testing::model_dir;
using testing::NodeProcess;
using testing::random_image;
using testing::start_node;
using testing::stream;
using testing::wait_down;
using testing::wait_ready;
using Clock = std::chrono::steady_clock;

TEST(Cluster, AnswersEqualTheWholeModel) {
  NodeProcess a = start_node("dev1"), b = start_node("dev2");
  runtime::fast::register_fast_backend();
  auto whole = runtime::make_session("fast", graph::load_onnx((model_dir("fluid") / "model.onnx").string()));
  for (std::string mode : {"ht", "ha"}) {
    Coordinator c(make_config("fluid", mode, model_dir("fluid"), {{&a, "part1.onnx"}, {&b, "part2.onnx"}}));
    c.start();
    std::mt19937 rng(3);
    for (int i = 0; i < 20; ++i) {
      auto image = random_image(rng);
      Answer answer = c.submit({{"input", image}}).get();
      ASSERT_TRUE(answer.error.empty()) << answer.error;
      auto expected = whole->run({{"input", image}});
      std::string output = mode == "ht" ? "logits_" + answer.produced_by : "combiner_1+2";
      EXPECT_EQ(answer.produced_by, mode == "ht" ? answer.produced_by : "1+2");
      const float* got = answer.prediction.data<float>();
      const float* want = expected.at(output).data<float>();
      for (int k = 0; k < 10; ++k) EXPECT_NEAR(got[k], want[k], 1e-4f * (1 + std::abs(want[k]))) << mode;
    }
  }
}

struct KillCase {
  std::string mode;
  int killed;  // 0 or 1
};
void PrintTo(const KillCase& c, std::ostream* os) { *os << c.mode << ", kill dev" << c.killed + 1; }

class KillNode : public ::testing::TestWithParam<KillCase> {};

TEST_P(KillNode, NoRequestLostNoneTwiceAndTheNodeRejoins) {
  const auto& p = GetParam();
  NodeProcess a = start_node("dev1"), b = start_node("dev2");
  NodeProcess* victim = p.killed == 0 ? &a : &b;
  Coordinator c(make_config("fluid", p.mode, model_dir("fluid"), {{&a, "part1.onnx"}, {&b, "part2.onnx"}}));
  c.start();
  const int total = 1200;
  auto answers = stream(c, total, [&](int answered) {
    if (answered == 300) victim->kill();
    if (answered == 700) {
      victim->restart();
      EXPECT_TRUE(wait_ready(c, victim->name(), 5000)) << victim->name() << " did not rejoin";
    }
  });
  expect_each_answered_once(answers, total);
  auto seen = testing::downs_and_returns(c.events(), victim->name());
  EXPECT_EQ(seen.downs, 1);
  EXPECT_EQ(seen.returns, 1);
  // Back in full service: the last answers come from the rejoined node too.
  int from_victim = 0;
  for (size_t i = answers.size() - 200; i < answers.size(); ++i)
    for (const auto& n : answers[i].nodes) from_victim += n == victim->name();
  EXPECT_GT(from_victim, 0) << "no answer from " << victim->name() << " after it rejoined";
}

INSTANTIATE_TEST_SUITE_P(EveryMode, KillNode,
                         ::testing::Values(KillCase{"ht", 0}, KillCase{"ht", 1}, KillCase{"ha", 0}, KillCase{"ha", 1},
                                           KillCase{"auto", 0}, KillCase{"auto", 1}),
                         [](const auto& info) {
                           return info.param.mode + "_kill_dev" + std::to_string(info.param.killed + 1);
                         });

// Coordination on the nodes: the client streams through dev1; killing dev1 moves it to dev2,
// which re-serves what dev1 left unanswered; killing dev2 is an ordinary node failure for the
// coordinator on dev1. Either way nothing is lost or answered twice, and the killed node, once
// restarted, serves again.
class KillGatewayNode : public ::testing::TestWithParam<KillCase> {};

TEST_P(KillGatewayNode, NoRequestLostNoneTwiceAndTheNodeRejoins) {
  const auto& p = GetParam();
  NodeProcess a = start_node("dev1"), b = start_node("dev2");
  NodeProcess* victim = p.killed == 0 ? &a : &b;
  GatewayClient c(make_config("fluid", p.mode, model_dir("fluid"), {{&a, "part1.onnx"}, {&b, "part2.onnx"}}, "nodes"));
  c.start(5000);
  EXPECT_EQ(c.coordinator(), "dev1");
  const int total = 1200;
  auto answers = stream(c, total, [&](int answered) {
    if (answered == 300) victim->kill();
    if (answered == 700) victim->restart();
  });
  expect_each_answered_once(answers, total);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(answers[i].coordinator, "dev1");
  EXPECT_EQ(answers.back().coordinator, p.killed == 0 ? "dev2" : "dev1");
  int coordinator_downs = 0;
  for (const auto& e : c.events()) coordinator_downs += !e.up;
  EXPECT_EQ(coordinator_downs, p.killed == 0 ? 1 : 0);
  // The restarted node rejoins the coordinator's cluster and answers again (under load: in HT
  // a lone request goes to the faster node).
  bool rejoined = false;
  for (auto deadline = Clock::now() + std::chrono::seconds(10); !rejoined && Clock::now() < deadline;) {
    auto more = stream(c, 200);
    expect_each_answered_once(more, 200);
    for (const auto& a : more)
      for (const auto& n : a.nodes) rejoined |= n == victim->name();
  }
  EXPECT_TRUE(rejoined) << victim->name() << " did not serve again after its restart";
}

INSTANTIATE_TEST_SUITE_P(Modes, KillGatewayNode,
                         ::testing::Values(KillCase{"ht", 0}, KillCase{"ht", 1}, KillCase{"ha", 0}, KillCase{"ha", 1}),
                         [](const auto& info) {
                           return info.param.mode + "_kill_dev" + std::to_string(info.param.killed + 1);
                         });

TEST(Cluster, GatewayRefusesASpecThatDoesNotMatchItsId) {
  // A spec is untrusted input to a node: a mismatched id, or a file name that climbs out of the
  // node's directory, is refused with a clear status and the node keeps serving.
  NodeProcess a = start_node("dev1");
  auto config = make_config("fluid", "ht", model_dir("fluid"), {{&a, "part1.onnx"}}, "nodes");
  auto stub = wire::Gateway::NewStub(make_channel(a.address()));
  wire::SetupRequest request;
  *request.mutable_spec() = to_spec(config);
  request.set_cluster("0000000000000000");
  {
    grpc::ClientContext context;
    wire::SetupReply reply;
    auto status = stub->Setup(&context, request, &reply);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(status.error_message().find("does not match"), std::string::npos) << status.error_message();
  }
  request.mutable_spec()->mutable_files(0)->set_name("../escape.onnx");
  request.set_cluster(fingerprint(request.spec()));
  {
    grpc::ClientContext context;
    wire::SetupReply reply;
    auto status = stub->Setup(&context, request, &reply);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_NE(status.error_message().find("not a plain file name"), std::string::npos) << status.error_message();
  }
  GatewayClient c(config);
  c.start(5000);
  auto answers = stream(c, 50);
  expect_each_answered_once(answers, 50);
}

TEST(Cluster, SilentNodeIsDetectedAndRejoinsWhenItWakes) {
  NodeProcess a = start_node("dev1"), b = start_node("dev2");
  Coordinator c(make_config("fluid", "ht", model_dir("fluid"), {{&a, "part1.onnx"}, {&b, "part2.onnx"}}));
  c.start();
  auto answers = stream(c, 800, [&](int answered) {
    if (answered == 200) b.freeze();  // port open, process frozen: only the detector can tell
    if (answered == 500) {
      // The detector is timed (one period plus one deadline), the stream is not: on a loaded
      // machine 300 answers can come from dev1 before the probe's deadline has passed.
      EXPECT_TRUE(wait_down(c, "dev2", 5000)) << "dev2 frozen for 5 s and not detected";
      b.resume();
      EXPECT_TRUE(wait_ready(c, "dev2", 5000));
    }
  });
  expect_each_answered_once(answers, 800);
  bool detected = false;
  for (const auto& e : c.events())
    if (e.node == "dev2" && !e.up) {
      detected = true;
      EXPECT_NE(e.reason.find("health check"), std::string::npos) << e.reason;
    }
  EXPECT_TRUE(detected);
}

// A network namespace joined to this one by a veth pair, for a node whose link can be cut.
class VethLink {
 public:
  VethLink() {
    std::string id = std::to_string(::getpid() % 100000);
    ns_ = "fe" + id;
    host_ = "feh" + id;
    int subnet = 1 + ::getpid() % 250;
    host_ip_ = "10.213." + std::to_string(subnet) + ".1";
    node_ip_ = "10.213." + std::to_string(subnet) + ".2";
    ok_ = run("ip netns add " + ns_) && run("ip link add " + host_ + " type veth peer name fen" + id) &&
          run("ip link set fen" + id + " netns " + ns_) && run("ip addr add " + host_ip_ + "/24 dev " + host_) &&
          run("ip link set " + host_ + " up") &&
          run("ip netns exec " + ns_ + " ip addr add " + node_ip_ + "/24 dev fen" + id) &&
          run("ip netns exec " + ns_ + " ip link set fen" + id + " up") &&
          run("ip netns exec " + ns_ + " ip link set lo up");
  }
  ~VethLink() {
    run("ip link del " + host_);
    run("ip netns del " + ns_);
  }
  bool ok() const { return ok_; }
  const std::string& node_ip() const { return node_ip_; }
  std::vector<std::string> launcher() const { return {"ip", "netns", "exec", ns_}; }
  bool set_up(bool up) { return run("ip link set " + host_ + (up ? " up" : " down")); }

 private:
  static bool run(const std::string& command) { return std::system((command + " >/dev/null 2>&1").c_str()) == 0; }
  std::string ns_, host_, host_ip_, node_ip_;
  bool ok_ = false;
};

TEST(Cluster, CutLinkIsDetectedAndTheNodeRejoinsWhenItIsBack) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for a network namespace";
  VethLink link;
  if (!link.ok()) GTEST_SKIP() << "cannot create a network namespace and veth pair here";
  auto in_namespace = link.launcher();
  in_namespace.push_back(testing::host_node_binary());
  NodeProcess a = start_node("dev1"), b = start_node("dev2", link.node_ip() + ":0", {}, in_namespace);
  Coordinator c(make_config("fluid", "ht", model_dir("fluid"), {{&a, "part1.onnx"}, {&b, "part2.onnx"}}));
  c.start();
  Clock::time_point cut_at;
  auto answers = stream(c, 800, [&](int answered) {
    if (answered == 200) {
      cut_at = Clock::now();
      ASSERT_TRUE(link.set_up(false));  // the cable is pulled: no FIN, no RST, just silence
    }
    if (answered == 500) {
      EXPECT_TRUE(wait_down(c, "dev2", 5000)) << "dev2's link cut for 5 s and not detected";
      ASSERT_TRUE(link.set_up(true));
      EXPECT_TRUE(wait_ready(c, "dev2", 10000)) << "dev2 did not rejoin after its link came back";
    }
  });
  expect_each_answered_once(answers, 800);
  bool detected = false;
  for (const auto& e : c.events())
    if (e.node == "dev2" && !e.up && !detected) {
      detected = true;
      double ms = std::chrono::duration<double, std::milli>(e.time - cut_at).count();
      // The health probe (every 20 ms, 60 ms deadline) catches it; keepalive would take 1.5 s.
      EXPECT_LT(ms, 1000) << "detected " << ms << " ms after the cut (" << e.reason << ")";
      std::cerr << "cut link detected after " << ms << " ms: " << e.reason << "\n";
    }
  EXPECT_TRUE(detected);
}

// The Static model cut in two at a single-tensor point, written next to its metrics.json.
fs::path static_stages() {
  fs::path dir = fs::temp_directory_path() / ("fluidedge_static_stages_" + std::to_string(::getpid()));
  if (fs::exists(dir / "stage2.onnx")) return dir;
  fs::create_directories(dir);
  fs::copy_file(model_dir("static") / "metrics.json", dir / "metrics.json", fs::copy_options::overwrite_existing);
  auto g = graph::load_onnx((model_dir("static") / "model.onnx").string());
  auto cuts = partition::single_tensor_cuts(g);
  const auto& middle = cuts.at(cuts.size() / 2);
  auto stages = partition::split_stages(g, {middle.position});
  graph::save_onnx(stages.at(0), (dir / "stage1.onnx").string());
  graph::save_onnx(stages.at(1), (dir / "stage2.onnx").string());
  return dir;
}

TEST(Cluster, StaticPipelineAnswersAndFailsFastWithoutAStage) {
  NodeProcess a = start_node("dev1"), b = start_node("dev2");
  auto dir = static_stages();
  runtime::fast::register_fast_backend();
  auto whole = runtime::make_session("fast", graph::load_onnx((model_dir("static") / "model.onnx").string()));
  Coordinator c(make_config("static", "ht", dir, {{&a, "stage1.onnx"}, {&b, "stage2.onnx"}}));
  c.start();
  std::mt19937 rng(5);
  auto image = random_image(rng);
  Answer ok = c.submit({{"input", image}}).get();
  ASSERT_TRUE(ok.error.empty()) << ok.error;
  EXPECT_EQ(ok.produced_by, "full");
  EXPECT_EQ(ok.nodes, (std::vector<std::string>{"dev1", "dev2"}));
  auto expected = whole->run({{"input", image}}).begin()->second;
  for (int k = 0; k < 10; ++k) EXPECT_NEAR(ok.prediction.data<float>()[k], expected.data<float>()[k], 1e-4f);

  b.kill();
  ASSERT_TRUE([&] {
    for (int i = 0; i < 200; ++i) {
      for (auto& n : c.nodes())
        if (n.name == "dev2" && !n.ready) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }());
  auto start = Clock::now();
  Answer failed = c.submit({{"input", image}}).get();
  double waited = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  EXPECT_NE(failed.error.find("Static DNN cannot answer"), std::string::npos) << failed.error;
  EXPECT_NE(failed.error.find("dev2"), std::string::npos) << failed.error;
  EXPECT_LT(waited, 5000) << "a request should fail at once, not wait for its 30 s timeout";
}

// A cluster that cannot serve at all without a node says so at start, and why that node is needed.
TEST(Cluster, StartWithoutANeededNodeNamesItAndWhy) {
  NodeProcess a = start_node("dev1"), b = start_node("dev2");
  b.kill();
  Coordinator st(make_config("static", "ht", static_stages(), {{&a, "stage1.onnx"}, {&b, "stage2.onnx"}}));
  try {
    st.start(800);
    FAIL() << "a Static cluster started without its stage 2";
  } catch (const Error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("Static DNN cannot serve"), std::string::npos) << what;
    EXPECT_NE(what.find("'dev2'"), std::string::npos) << what;
    EXPECT_NE(what.find("needs every stage"), std::string::npos) << what;
  }
  b.restart();
  a.kill();
  Coordinator dy(make_config("dynamic", "ha", model_dir("dynamic"), {{&a, "part1.onnx"}, {&b, "part2.onnx"}}));
  try {
    dy.start(800);
    FAIL() << "a Dynamic cluster started without group 1";
  } catch (const Error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("Dynamic DNN cannot serve"), std::string::npos) << what;
    EXPECT_NE(what.find("'dev1'"), std::string::npos) << what;
    EXPECT_NE(what.find("group 1"), std::string::npos) << what;
  }
}

TEST(Cluster, DynamicDegradesWithoutLaterGroupsAndStopsWithoutGroupOne) {
  NodeProcess a = start_node("dev1"), b = start_node("dev2");
  Coordinator c(make_config("dynamic", "ha", model_dir("dynamic"), {{&a, "part1.onnx"}, {&b, "part2.onnx"}}));
  c.start();
  auto both = stream(c, 50);
  expect_each_answered_once(both, 50);
  for (const auto& a : both) EXPECT_EQ(a.produced_by, "1+2");

  b.kill();
  auto degraded = stream(c, 100);
  expect_each_answered_once(degraded, 100);
  EXPECT_EQ(degraded.back().produced_by, "1");

  a.kill();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::mt19937 rng(1);
  Answer failed = c.submit({{"input", random_image(rng)}}).get();
  EXPECT_NE(failed.error.find("Dynamic DNN cannot answer"), std::string::npos) << failed.error;
  EXPECT_NE(failed.error.find("group 1"), std::string::npos) << failed.error;
}

}  // namespace
}  // namespace fluidedge::cluster
