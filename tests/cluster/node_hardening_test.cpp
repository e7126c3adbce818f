// A node faces the network: garbage models, unknown parts, malformed tensors and oversized
// messages are refused with a clear status or error reply, and the node keeps serving; SIGTERM
// shuts it down cleanly.
#include <gtest/gtest.h>

#include <signal.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include "cli_runner.h"
#include "cluster/channel_settings.h"
#include "cluster/protocol/device_node.grpc.pb.h"
#include "cluster/protocol/health.grpc.pb.h"
#include "cluster/wire.h"
#include "graph/onnx_io.h"
#include "node_process.h"
#include "partition/cost_model.h"
#include "partition/system.h"

namespace fluidedge::cluster {
namespace {

namespace fs = std::filesystem;

std::string part_bytes() {
  std::ifstream f(testing::cluster_models_dir() + "/fluid/part1.onnx", std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

std::chrono::system_clock::time_point in_ms(int ms) {
  return std::chrono::system_clock::now() + std::chrono::milliseconds(ms);
}

bool healthy(grpc::health::v1::Health::Stub& health) {
  grpc::ClientContext ctx;
  ctx.set_deadline(in_ms(2000));
  grpc::health::v1::HealthCheckResponse r;
  return health.Check(&ctx, {}, &r).ok() && r.status() == grpc::health::v1::HealthCheckResponse::SERVING;
}

// One request on a fresh stream; returns the reply (or the stream's status when there is none).
std::pair<wire::InferReply, grpc::Status> infer_once(wire::DeviceNode::Stub& stub, const wire::InferRequest& req) {
  grpc::ClientContext ctx;
  ctx.set_deadline(in_ms(5000));
  auto rw = stub.Infer(&ctx);
  wire::InferReply reply;
  rw->Write(req);
  rw->WritesDone();
  bool got = rw->Read(&reply);
  while (rw->Read(&reply)) {
  }
  auto status = rw->Finish();
  if (!got) reply.set_error("<no reply>");
  return {reply, status};
}

wire::InferRequest good_request(uint64_t id) {
  wire::InferRequest r;
  r.set_id(id);
  r.set_part("p1");
  to_wire("input", graph::Tensor(graph::DType::kFloat32, {1, 1, 28, 28}), r.add_inputs());
  return r;
}

TEST(NodeHardening, HostileMessagesAreRefusedAndTheNodeKeepsServing) {
  testing::NodeProcess node = testing::start_node("dev1");
  auto channel = make_channel(node.address());
  auto stub = wire::DeviceNode::NewStub(channel);
  auto health = grpc::health::v1::Health::NewStub(channel);
  ASSERT_TRUE(healthy(*health));

  {  // A model that is not ONNX.
    grpc::ClientContext ctx;
    ctx.set_deadline(in_ms(5000));
    wire::DeployRequest d;
    d.set_part("junk");
    d.set_onnx("this is not a model");
    wire::DeployReply r;
    auto status = stub->Deploy(&ctx, d, &r);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(status.error_message().find("junk"), std::string::npos) << status.error_message();
  }
  {  // The real part.
    grpc::ClientContext ctx;
    ctx.set_deadline(in_ms(10000));
    wire::DeployRequest d;
    d.set_part("p1");
    d.set_onnx(part_bytes());
    wire::DeployReply r;
    ASSERT_TRUE(stub->Deploy(&ctx, d, &r).ok());
    EXPECT_EQ(r.inputs_size(), 1);
  }
  {  // Unknown part.
    auto req = good_request(1);
    req.set_part("nope");
    auto [reply, status] = infer_once(*stub, req);
    EXPECT_NE(reply.error().find("no part 'nope'"), std::string::npos) << reply.error();
  }
  {  // Bytes that do not match the shape.
    auto req = good_request(2);
    req.mutable_inputs(0)->set_data("short");
    auto [reply, status] = infer_once(*stub, req);
    EXPECT_EQ(reply.id(), 2u);
    EXPECT_NE(reply.error().find("needs 3136 bytes"), std::string::npos) << reply.error();
  }
  {  // Wrong shape for the model.
    wire::InferRequest req;
    req.set_id(3);
    req.set_part("p1");
    to_wire("input", graph::Tensor(graph::DType::kFloat32, {1, 3, 28, 28}), req.add_inputs());
    auto [reply, status] = infer_once(*stub, req);
    EXPECT_FALSE(reply.error().empty());
    EXPECT_NE(reply.error().find("input"), std::string::npos) << reply.error();
  }
  {  // Larger than the message limit: refused by the transport, node unharmed.
    wire::InferRequest req;
    req.set_id(4);
    req.set_part("p1");
    to_wire("input", graph::Tensor(graph::DType::kFloat32, {1, 17 << 20}), req.add_inputs());
    auto [reply, status] = infer_once(*stub, req);
    EXPECT_TRUE(reply.outputs().empty());
    EXPECT_FALSE(status.ok());
  }
  {  // Still serving: health and a good request.
    EXPECT_TRUE(healthy(*health));
    auto [reply, status] = infer_once(*stub, good_request(5));
    EXPECT_TRUE(reply.error().empty()) << reply.error();
    EXPECT_EQ(reply.outputs_size(), 2);
  }
  EXPECT_EQ(node.terminate(), 0) << "SIGTERM should end the node cleanly";
}

// Peak resident memory of a process (VmHWM), in MiB.
double peak_rss_mib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return -1;
}

// The cluster models' first Fluid part, deployed inline as "p1".
wire::DeployRequest part1_as_p1() {
  wire::DeployRequest d;
  d.set_part("p1");
  d.set_onnx(part_bytes());
  return d;
}

grpc::Status deploy(wire::DeviceNode::Stub& stub, const wire::DeployRequest& d) {
  grpc::ClientContext ctx;
  ctx.set_deadline(in_ms(10000));
  wire::DeployReply r;
  return stub.Deploy(&ctx, d, &r);
}

TEST(NodeBounds, APartOverTheSizeLimitIsRefusedNamingTheLimit) {
  testing::NodeProcess node = testing::start_node("dev1", "127.0.0.1:0", {"--max-model-mb", "0.1"});
  auto stub = wire::DeviceNode::NewStub(make_channel(node.address()));
  wire::DeployRequest inline_part = part1_as_p1();  // 0.23 MB
  wire::DeployRequest by_path;
  by_path.set_part("p1");
  by_path.set_path(testing::cluster_models_dir() + "/fluid/part1.onnx");
  for (const auto& d : {inline_part, by_path}) {
    grpc::Status status = deploy(*stub, d);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
    EXPECT_NE(status.error_message().find("--max-model-mb"), std::string::npos) << status.error_message();
    EXPECT_NE(status.error_message().find("limit of 0.1 MB"), std::string::npos) << status.error_message();
  }
  auto [reply, status] = infer_once(*stub, good_request(1));
  EXPECT_NE(reply.error().find("no part 'p1'"), std::string::npos) << "a refused part was loaded: " << reply.error();
}

// 600 MB of requests at a slow node that may hold 16 MiB of them: what it cannot hold is answered
// RESOURCE_EXHAUSTED at once, the rest are answered, and its peak memory grows by no more than
// twice the bound (a request and its decoded tensors) plus 96 MiB (the transport's buffers and
// the allocator's per-thread arenas); without the bound it would hold all 600 MB.
TEST(NodeBounds, AFloodBeyondTheQueueGetsResourceExhaustedAndMemoryStaysBounded) {
  testing::NodeProcess node =
      testing::start_node("dev1", "127.0.0.1:0", {"--max-queue-mb", "16", "--slowdown", "20", "--max-batch", "1"});
  auto stub = wire::DeviceNode::NewStub(make_channel(node.address()));
  ASSERT_TRUE(deploy(*stub, part1_as_p1()).ok());
  // Each request is 64 images (200 KB); one first, so that the part's plan for them is made.
  wire::InferRequest heavy;
  heavy.set_part("p1");
  to_wire("input", graph::Tensor(graph::DType::kFloat32, {64, 1, 28, 28}), heavy.add_inputs());
  ASSERT_TRUE(infer_once(*stub, heavy).first.error().empty());
  const double before = peak_rss_mib(node.pid());
  ASSERT_GT(before, 0);
  const int count = 3000;
  grpc::ClientContext ctx;
  ctx.set_deadline(in_ms(120000));
  auto rw = stub->Infer(&ctx);
  std::thread writer([&] {
    for (int i = 0; i < count; ++i) {
      heavy.set_id(static_cast<uint64_t>(i));
      if (!rw->Write(heavy)) break;
    }
    rw->WritesDone();
  });
  int exhausted = 0, other = 0;
  wire::InferReply reply;
  std::string example;
  while (rw->Read(&reply)) {
    if (reply.code() == static_cast<int>(grpc::StatusCode::RESOURCE_EXHAUSTED)) {
      ++exhausted;
      if (example.empty()) example = reply.error();
    } else {
      ++other;
    }
  }
  writer.join();
  rw->Finish();
  EXPECT_EQ(exhausted + other, count) << "every request is answered";
  EXPECT_GT(exhausted, count / 2) << "the node held more than its bound";
  EXPECT_GT(other, 0) << "the node held nothing";
  EXPECT_NE(example.find("--max-queue-mb 16"), std::string::npos) << example;
  const double after = peak_rss_mib(node.pid());
  EXPECT_LT(after - before, 2 * 16 + 96) << "peak RSS grew from " << before << " to " << after << " MiB";
  std::cerr << "flood: " << exhausted << " of " << count << " refused, peak RSS " << before << " -> " << after
            << " MiB\n";
  auto [ok, status] = infer_once(*stub, good_request(1000));
  EXPECT_TRUE(ok.error().empty()) << "the node serves after the flood: " << ok.error();
}

// A request whose sender's budget ran out while it waited in the queue is answered
// DEADLINE_EXCEEDED instead of run: a slow node does not spend work no one waits for.
TEST(NodeBounds, RequestsPastTheirBudgetAreNotRun) {
  testing::NodeProcess node = testing::start_node("dev1", "127.0.0.1:0", {"--slowdown", "100", "--max-batch", "1"});
  auto stub = wire::DeviceNode::NewStub(make_channel(node.address()));
  ASSERT_TRUE(deploy(*stub, part1_as_p1()).ok());
  grpc::ClientContext ctx;
  ctx.set_deadline(in_ms(60000));
  auto rw = stub->Infer(&ctx);
  const int count = 40;
  for (int i = 0; i < count; ++i) {
    auto r = good_request(static_cast<uint64_t>(i));
    r.set_budget_ms(i == 0 ? 0 : 10);  // the first without a limit: it runs whatever the load
    rw->Write(r);
  }
  rw->WritesDone();
  int late = 0, answered = 0;
  wire::InferReply reply;
  while (rw->Read(&reply)) {
    if (reply.code() == static_cast<int>(grpc::StatusCode::DEADLINE_EXCEEDED)) {
      ++late;
      EXPECT_NE(reply.error().find("budget"), std::string::npos) << reply.error();
    } else {
      EXPECT_TRUE(reply.error().empty()) << reply.error();
      ++answered;
    }
  }
  rw->Finish();
  EXPECT_EQ(late + answered, count);
  EXPECT_GT(answered, 0);
  EXPECT_GT(late, count / 2) << "requests past their budget were run";
}

// Streams beyond the per-peer limit are refused; the peer's other streams keep working.
TEST(NodeBounds, StreamsBeyondThePerPeerLimitAreRefused) {
  testing::NodeProcess node = testing::start_node("dev1", "127.0.0.1:0", {"--max-streams-per-peer", "2"});
  auto stub = wire::DeviceNode::NewStub(make_channel(node.address()));
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReaderWriter<wire::InferRequest, wire::InferReply>>> open;
  for (int i = 0; i < 2; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    open.push_back(stub->Infer(contexts.back().get()));
    open.back()->Write(good_request(static_cast<uint64_t>(i)));  // an answer with an error: the stream is open
    wire::InferReply r;
    ASSERT_TRUE(open.back()->Read(&r));
  }
  auto [reply, status] = infer_once(*stub, good_request(9));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_NE(status.error_message().find("--max-streams-per-peer"), std::string::npos) << status.error_message();
  for (auto& s : open) s->WritesDone();
  for (auto& s : open) s->Finish();
  // Closed streams free their places.
  auto [again, status2] = infer_once(*stub, good_request(10));
  EXPECT_NE(status2.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status2.error_message();
}

}  // namespace
}  // namespace fluidedge::cluster

namespace fluidedge::cluster {
namespace {

// A node runs its parts on the backend it was started with (--backend), says so in its stats
// with the CPU features that backend uses, and a part answers the same on both lean backends.
TEST(NodeBackend, XnnpackAndFastNodesAnswerTheSameAndNameTheirBackend) {
  std::map<std::string, runtime::TensorMap> answers;
  for (std::string backend : {"fast", "xnnpack"}) {
    testing::NodeProcess node = testing::start_node("dev-" + backend, "127.0.0.1:0", {"--backend", backend});
    auto stub = wire::DeviceNode::NewStub(make_channel(node.address()));
    {
      grpc::ClientContext ctx;
      ctx.set_deadline(in_ms(10000));
      wire::DeployRequest d;
      d.set_part("p1");
      d.set_onnx(part_bytes());
      wire::DeployReply r;
      ASSERT_TRUE(stub->Deploy(&ctx, d, &r).ok());
    }
    wire::InferRequest req = good_request(7);
    graph::Tensor x(graph::DType::kFloat32, {1, 1, 28, 28});
    for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = static_cast<float>((i * 37) % 101) / 50.f - 1.f;
    req.clear_inputs();
    to_wire("input", x, req.add_inputs());
    auto [reply, status] = infer_once(*stub, req);
    ASSERT_TRUE(reply.error().empty()) << backend << ": " << reply.error();
    answers[backend] = from_wire(reply.outputs());
    grpc::ClientContext ctx;
    wire::NodeStats stats;
    ASSERT_TRUE(stub->Stats(&ctx, {}, &stats).ok());
    EXPECT_EQ(stats.backend(), backend);
    EXPECT_FALSE(stats.cpu_features().empty());
    EXPECT_EQ(node.terminate(), 0);
  }
  ASSERT_EQ(answers["fast"].size(), answers["xnnpack"].size());
  for (const auto& [name, t] : answers["fast"]) {
    const graph::Tensor& other = answers["xnnpack"].at(name);
    ASSERT_EQ(t.shape(), other.shape()) << name;
    std::vector<float> a = t.to_float(), b = other.to_float();
    double err = 0, norm = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      err += (a[i] - b[i]) * (a[i] - b[i]);
      norm += a[i] * a[i];
    }
    EXPECT_LE(std::sqrt(err / std::max(norm, 1e-30)), 1e-4) << name;
  }
}

// A node emulating a declared device (--emulate SYSTEM.yaml:DEVICE) takes, per batch, what the
// partitioner's cost model says that device takes for the part: a slow board here, ~60 ms.
TEST(NodeEmulation, ABatchTakesWhatTheCostModelSaysTheDeclaredDeviceTakes) {
  const graph::Graph part = graph::load_onnx(testing::cluster_models_dir() + "/fluid/part1.onnx");
  const fs::path dir = fs::temp_directory_path() / ("fluidedge_emulate_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto write_system = [&](double gflops) {
    std::ofstream(dir / "system.yaml") << fmt::format(
        "devices:\n  - {{name: board, peak_gflops: {}, efficiency: 1, "
        "memory_bandwidth_gbps: 100}}\n",
        gflops);
    return partition::DeviceModel(partition::load_system(dir / "system.yaml").devices.at(0));
  };
  // The rate that makes one row take 60 ms on this part.
  const double gflops = write_system(1.0).graph_ms(part, 1) / 60.0;
  const partition::DeviceModel board = write_system(gflops);
  const double expected_ms = board.graph_ms(part, 1);
  ASSERT_GT(expected_ms, 30.0);

  testing::NodeProcess node = testing::start_node(
      "board", "127.0.0.1:0", {"--emulate", (dir / "system.yaml").string() + ":board", "--max-batch", "1"});
  auto stub = wire::DeviceNode::NewStub(make_channel(node.address()));
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(in_ms(10000));
    wire::DeployRequest d;
    d.set_part("p1");
    d.set_onnx(part_bytes());
    wire::DeployReply r;
    ASSERT_TRUE(stub->Deploy(&ctx, d, &r).ok());
  }
  std::vector<double> compute_ms;
  for (uint64_t id = 1; id <= 3; ++id) {
    auto [reply, status] = infer_once(*stub, good_request(id));
    ASSERT_TRUE(reply.error().empty()) << reply.error();
    compute_ms.push_back(reply.compute_ms());
  }
  grpc::ClientContext ctx;
  wire::NodeStats stats;
  ASSERT_TRUE(stub->Stats(&ctx, {}, &stats).ok());
  EXPECT_NE(stats.emulated_device().find("board"), std::string::npos) << stats.emulated_device();
  EXPECT_EQ(stats.overruns(), 0);
  // Never less than the device's time; more only by the wake-up after the wait.
  for (double ms : compute_ms) {
    EXPECT_GE(ms, expected_ms);
    EXPECT_LE(ms, expected_ms + 10.0);
  }
  EXPECT_EQ(node.terminate(), 0);
  fs::remove_all(dir);
}

TEST(NodeBackend, ANodeRefusesABackendItDoesNotHave) {
  auto r = testing::run_command("'" + testing::host_node_binary() + "' node --backend reference --listen 127.0.0.1:0");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--backend"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace fluidedge::cluster
