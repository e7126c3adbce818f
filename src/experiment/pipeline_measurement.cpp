#include "experiment/pipeline_measurement.h"

#include <algorithm>
#include <chrono>
#include <filesystem>

#include <fmt/format.h>

#include "cluster/coordinator.h"
#include "cluster/node_link.h"
#include "common/error.h"
#include "experiment/request_stream.h"

namespace fluidedge::experiment {

namespace {

namespace fs = std::filesystem;

// What a node has computed so far: requests served and their total compute time (the emulated
// device's wait included), from its Stats call. With max_batch 1 every batch is one request.
struct NodeWork {
  int64_t served = 0;
  double compute_ms = 0;
  double run_ms = 0;     // the runs alone on this host, without the emulated device's wait
  int64_t overruns = 0;  // runs that took longer than the emulated device should
  std::string backend;   // what the node says it runs on
};

NodeWork node_work(const NodeProcess& node, const cluster::TlsIdentity& tls) {
  cluster::NodeLink link(node.name(), node.address(), {}, {}, tls);
  wire::NodeStats s = link.stats(10000);
  const auto n = static_cast<double>(s.served() + s.rejected());
  return {s.served() + s.rejected(), s.mean_compute_ms() * n, s.mean_run_ms() * n, s.overruns(), s.backend()};
}

}  // namespace

PipelineMeasurement measure_pipeline(const std::string& model_dir, const std::vector<NodeProcess*>& nodes,
                                     const runtime::TensorMap& input, int concurrency, double seconds,
                                     const cluster::LocalCertificates& certs) {
  std::string yaml = fmt::format(
      "variant: static\nmode: ht\nmodel: {}\nmax_batch: 1\nwindow: {}\n"
      "request_timeout_ms: 60000\n"
      // Failure detection is not measured here: a busy shared core must not make
      // a slow probe look like a dead node.
      "detector: {{heartbeat_ms: 200, timeout_ms: 5000}}\nnodes:\n",
      fs::absolute(model_dir).string(), std::max(2, concurrency));
  for (size_t i = 0; i < nodes.size(); ++i)
    yaml += fmt::format("  - {{name: {}, address: {}, part: stage_{}.onnx}}\n", nodes[i]->name(), nodes[i]->address(),
                        i + 1);
  yaml += certs.cluster_yaml();
  cluster::Coordinator c(cluster::parse_cluster_config(yaml, "bench-partition cluster", "."));
  c.start(60000);
  PipelineMeasurement m;
  auto stream = [&](Clock::time_point stop, int64_t at_least) {
    StreamOptions so;
    so.count = at_least;
    so.stop_at = stop;
    so.concurrency = concurrency;
    so.retry_after_failure = std::chrono::milliseconds(0);
    const StreamResult s = run_stream(
        c, [&](int64_t) { return input; }, so);
    m.answered += s.answered;
    m.failed += s.failed;
    if (m.error.empty()) m.error = s.first_error;
  };
  stream(Clock::now(), 2 * concurrency);  // warm-up: first runs plan the kernels
  m.answered = m.failed = 0;
  std::vector<NodeWork> before;
  for (const auto* n : nodes) before.push_back(node_work(*n, certs.client()));
  const auto start = Clock::now();
  stream(start + std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000)), concurrency);
  const double measured_s = std::chrono::duration<double>(Clock::now() - start).count();
  m.ips = static_cast<double>(m.answered) / measured_s;
  for (size_t i = 0; i < nodes.size(); ++i) {
    NodeWork after = node_work(*nodes[i], certs.client());
    int64_t served = after.served - before[i].served;
    m.node_ms.push_back(served > 0 ? (after.compute_ms - before[i].compute_ms) / static_cast<double>(served) : 0.0);
    m.host_ms.push_back(served > 0 ? (after.run_ms - before[i].run_ms) / static_cast<double>(served) : 0.0);
    m.overruns.push_back(after.overruns - before[i].overruns);
    m.backends.push_back(after.backend);
  }
  c.stop();
  if (m.answered == 0) fail("bench partition: no request answered: {}", m.error);
  return m;
}

}  // namespace fluidedge::experiment
