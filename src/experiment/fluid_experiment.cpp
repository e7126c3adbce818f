#include "experiment/fluid_experiment.h"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "cluster/coordinator.h"
#include "cluster/tls.h"
#include "common/error.h"
#include "common/statistics.h"
#include "data/dataset.h"
#include "experiment/emulated_devices.h"
#include "experiment/trained_models.h"
#include "graph/onnx_io.h"
#include "graph/shape_inference.h"
#include "partition/cut.h"
#include "partition/search.h"
#include "partition/system.h"
#include "runtime/backends.h"

namespace fluidedge::experiment {

namespace {

namespace fs = std::filesystem;

// The Static model as a two-stage pipeline: the partitioner's best-throughput two-stage plan
// for the two emulated devices of `system` (which the nodes emulate). The model is split,
// never replicated: each device holds only its own stage.
void split_static_model(const FluidExperimentOptions& o, const std::string& system_file, FluidSettings& settings) {
  fs::path dir = fs::path(o.models) / "static";
  auto g = graph::load_onnx((dir / "model.onnx").string());
  auto system = partition::load_system(system_file);
  partition::SearchOptions options;
  options.max_stages = 2;
  auto result = partition::search_plans(g, system, options);
  const partition::PlanCost* best = partition::best_plan(result.front, partition::Objective::kThroughput, 2);
  if (!best) fail("bench fluid: the partitioner found no two-stage plan for the static model");
  int position = best->plan.positions[0];
  auto stages = partition::split_stages(g, {position});
  graph::save_onnx(stages[0], (dir / "stage1.onnx").string());
  graph::save_onnx(stages[1], (dir / "stage2.onnx").string());
  int64_t batch = std::max<int64_t>(1, graph::graph_batch(g));
  settings.static_split = fmt::format(
      "partitioner's best two-stage plan cuts after node {} ('{}'), {} bytes per image on the link, predicted {:.0f} "
      "images/s",
      position, g.nodes[position - 1].name, best->total_link_bytes / batch, best->throughput_fps * batch);
  settings.static_predicted_ips = best->throughput_fps * static_cast<double>(batch);
}

cluster::ClusterConfig cell_config(const FluidExperimentOptions& o, const cluster::LocalCertificates& certs,
                                   const std::string& variant, const std::string& mode,
                                   const std::vector<NodeProcess*>& devices) {
  bool is_static = variant == "static";
  std::string yaml =
      fmt::format("variant: {}\nmode: {}\nmodel: {}\nmax_batch: {}\nwindow: {}\nrequest_timeout_ms: 20000\nnodes:\n",
                  variant, mode, fs::absolute(fs::path(o.models) / variant).string(), o.max_batch,
                  // Four micro-batches per node in flight: one running, the next ones
                  // queued or on the link, so a node never waits for its client and a
                  // cell measures the device it emulates.
                  4 * o.max_batch);
  for (size_t i = 0; i < devices.size(); ++i)
    yaml += fmt::format("  - {{name: {}, address: {}, part: {}{}.onnx}}\n", devices[i]->name(), devices[i]->address(),
                        is_static ? "stage" : "part", i + 1);
  yaml += certs.cluster_yaml();
  return cluster::parse_cluster_config(yaml, "bench-fluid cluster", ".");
}

// Requests of one test image each, in order, round the split; counts the correct answers.
struct ImageRequests {
  const data::Split& test;
  RequestMaker maker() const {
    return [this](int64_t i) { return runtime::TensorMap{{"input", test.images.rows(i % test.size(), 1)}}; };
  }
  AnswerObserver scorer(int64_t& correct) const {
    return [this, &correct](int64_t i, const cluster::Answer& a) {
      if (a.error.empty()) correct += predicts(a, 0, test.labels.data<int64_t>()[i % test.size()]);
    };
  }
};

FluidCell run_cell(const FluidExperimentOptions& o, const cluster::LocalCertificates& certs,
                   const ImageRequests& images, int64_t count, const std::string& variant, const std::string& mode,
                   const std::string& online, const std::vector<NodeProcess*>& devices) {
  FluidCell cell;
  cell.variant = variant;
  cell.mode = mode;
  cell.online = online;
  for (auto* d : devices) d->revive();
  if (online == "1") devices[1]->kill();
  if (online == "2") devices[0]->kill();
  try {
    cluster::Coordinator c(cell_config(o, certs, variant, mode, devices));
    c.start(online == "both" ? 10000 : 1500);
    StreamOptions stream;
    stream.concurrency = o.concurrency;
    stream.count = std::min<int64_t>(count, 200);
    run_stream(c, images.maker(), stream);  // warm-up
    stream.count = count;
    int64_t correct = 0;
    StreamResult s = run_stream(c, images.maker(), stream, images.scorer(correct));
    if (s.answered == 0) fail("{}", s.first_error);
    cell.throughput = static_cast<double>(s.answered) / s.seconds;
    cell.p50 = percentile(s.latencies, 0.5);
    cell.p99 = percentile(s.latencies, 0.99);
    cell.accuracy = static_cast<double>(correct) / static_cast<double>(s.answered);
    if (s.failed) cell.error = fmt::format("{} of {} failed: {}", s.failed, s.sent, s.first_error);
  } catch (const Error& e) {
    cell.error = e.what();
  }
  return cell;
}

}  // namespace

double FluidReport::throughput(const std::string& variant, const std::string& mode, const std::string& online) const {
  for (const auto& c : cells)
    if (c.variant == variant && c.mode == mode && c.online == online) return c.throughput;
  return 0.0;
}

FluidReport run_fluid_experiment(const FluidExperimentOptions& options, const FluidProgress& progress) {
  FluidReport report;
  report.options = options;
  FluidExperimentOptions& o = report.options;
  if (o.backend.empty()) o.backend = runtime::default_backend();
  const cluster::LocalCertificates certs(o.tls, {"dev1", "dev2"}, "bench-fluid");
  // The Static model calibrates the devices' speed, whatever runs.
  ensure_trained(o.tool_binary, o.models, "static", o.data, o.epochs, "bench fluid");
  for (const auto& v : o.variants) ensure_trained(o.tool_binary, o.models, v, o.data, o.epochs, "bench fluid");

  FluidSettings& settings = report.settings;
  settings.backend = o.backend;
  settings.host_gflops = host_gflops((fs::path(o.models) / "static" / "model.onnx").string(), o.backend, o.max_batch);
  settings.emulated_devices = write_emulated_system((fs::path(o.models) / "bench-fluid-devices.yaml").string(), 2,
                                                    o.device_gflops, o.device_bandwidth, o.link_rate, o.link_latency);
  if (settings.host_gflops < 4 * o.device_gflops)
    std::cerr << fmt::format(
        "bench fluid: warning: one core of this machine runs the Static model at {:.1f} GFLOP/s, less "
        "than 4x the emulated device's {:g}: its nodes may not keep up with the device they emulate "
        "(see their overruns)\n",
        settings.host_gflops, o.device_gflops);
  split_static_model(o, settings.emulated_devices, settings);
  auto dataset = data::load_dataset(o.data);
  const ImageRequests images{dataset.test};
  const int64_t count = o.requests > 0 ? o.requests : dataset.test.size();
  settings.requests_per_cell = count;
  settings.pinned = std::thread::hardware_concurrency() >= 2;

  DeviceSettings node_settings;
  node_settings.max_batch = o.max_batch;
  node_settings.link_rate = o.link_rate;
  node_settings.link_latency = o.link_latency;
  node_settings.backend = o.backend;
  auto nodes = start_emulated_nodes(o.node_binary, 2, settings.emulated_devices, node_settings, certs, settings.pinned);
  std::vector<NodeProcess*> devices;
  for (auto& n : nodes) devices.push_back(n.get());
  if (progress.started) progress.started(settings);

  for (const std::string& variant : o.variants)
    for (std::string mode : {"ha", "ht"})
      for (std::string online : {"1", "2", "both"}) {
        report.cells.push_back(run_cell(o, certs, images, count, variant, mode, online, devices));
        if (progress.cell) progress.cell(report.cells.back());
      }
  for (auto* d : devices) d->revive();

  if (!o.skip_failures) {
    if (progress.failures_started) progress.failures_started();
    FailureTrialOptions trial;
    trial.concurrency = o.concurrency;
    trial.down = std::chrono::milliseconds(static_cast<int64_t>(1000 * o.failure_seconds));
    for (const std::string& variant : o.variants)
      for (std::string mode : {"ha", "ht"})
        for (int killed = 0; killed < 2; ++killed) {
          for (auto* d : devices) d->revive();
          cluster::Coordinator c(cell_config(o, certs, variant, mode, devices));
          c.start(10000);
          report.failures.push_back({variant, mode, run_failure_trial(c, *devices[killed], images.maker(), trial)});
          if (progress.failure) progress.failure(report.failures.back());
        }
  }

  const double fluid_ht = report.throughput("fluid", "ht", "both");
  auto best_mode = [&](const std::string& v) {
    return std::max(report.throughput(v, "ha", "both"), report.throughput(v, "ht", "both"));
  };
  auto ratio = [&](double over) -> std::optional<double> {
    if (fluid_ht > 0 && over > 0) return fluid_ht / over;
    return std::nullopt;
  };
  report.fluid_ht_over_static = ratio(best_mode("static"));
  report.fluid_ht_over_dynamic = ratio(best_mode("dynamic"));
  report.fluid_ht_over_standalone_sum =
      ratio(report.throughput("fluid", "ht", "1") + report.throughput("fluid", "ht", "2"));
  return report;
}

}  // namespace fluidedge::experiment
