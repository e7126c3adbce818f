#include "experiment/emulated_devices.h"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "common/atomic_file.h"
#include "common/statistics.h"
#include "common/thread_clock.h"
#include "graph/cost.h"
#include "graph/onnx_io.h"
#include "graph/shape_inference.h"
#include "runtime/backends.h"
#include "runtime/session.h"

namespace fluidedge::experiment {

std::string write_emulated_system(const std::string& path, int count, double gflops, double bandwidth_gbps,
                                  double link_rate, double link_latency) {
  std::string yaml =
      "# The devices a bench's nodes emulate (fluidedge node --emulate FILE:NAME); written by the bench.\ndevices:\n";
  for (int i = 1; i <= count; ++i)
    yaml += fmt::format(
        "  - name: dev{}\n    peak_gflops: {}\n    memory_bandwidth_gbps: {}\n    efficiency: 1.0\n"
        "    memory_mb: 1024\n    active_power_w: 5\n    idle_power_w: 2\n    precision: fp32\n",
        i, gflops, bandwidth_gbps);
  if (count > 1) {
    yaml += "links:\n";
    for (int i = 1; i < count; ++i)
      yaml += fmt::format("  - rate_mbps: {}\n    latency_ms: {}\n    overhead: 0.054\n    power_w: 0.25\n",
                          link_rate > 0 ? link_rate : 100000.0, link_latency);
  }
  yaml += "objectives: [throughput, latency]\n";
  write_file_atomically(path, "", yaml);
  return path;
}

double host_gflops(const std::string& model, const std::string& backend, int batch) {
  auto g = graph::load_onnx(model);
  auto session = runtime::make_session(backend, g);
  const std::string input = g.inputs.at(0);
  auto shape = g.values.at(input).shape;
  shape[0] = batch;
  graph::Tensor x(graph::DType::kFloat32, shape);
  std::vector<double> ms;
  for (int i = 0; i < 60; ++i) {
    double t0 = thread_cpu_ms();
    session->run({{input, x}});
    if (i >= 10) ms.push_back(thread_cpu_ms() - t0);
  }
  double macs = static_cast<double>(graph::graph_cost(g).macs) / std::max<int64_t>(1, graph::graph_batch(g));
  return 2.0 * macs * batch / (percentile(ms, 0.5) * 1e6);
}

}  // namespace fluidedge::experiment
