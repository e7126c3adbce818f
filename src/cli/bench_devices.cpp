#include "cli/bench_devices.h"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "cli/json_output.h"
#include "cli/tool_paths.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "common/statistics.h"
#include "common/thread_clock.h"
#include "graph/cost.h"
#include "graph/onnx_io.h"
#include "graph/shape_inference.h"
#include "runtime/backends.h"
#include "runtime/session.h"

namespace fluidedge::cli {
namespace fs = std::filesystem;

BenchDevice::BenchDevice(std::string name, const DeviceSettings& s) : name_(std::move(name)) {
  args_ = {node_binary(), "node", "--name", name_, "--max-batch", std::to_string(s.max_batch),
           "--link-rate", fmt::format("{}", s.link_rate), "--link-latency", fmt::format("{}", s.link_latency),
           "--backend", s.backend};
  if (!s.emulate.empty()) args_.insert(args_.end(), {"--emulate", s.emulate});
  args_.insert(args_.end(), s.security.begin(), s.security.end());
  if (s.cpu >= 0) args_.insert(args_.end(), {"--cpu", std::to_string(s.cpu)});
  start("127.0.0.1:0");
}

void BenchDevice::start(const std::string& listen) {
  auto argv = args_;
  argv.insert(argv.end(), {"--listen", listen});
  process_ = std::make_unique<Subprocess>(argv, true);
  std::string line = process_->read_line(20000);
  if (line.rfind("listening on ", 0) != 0) fail("device {} did not start: '{}'", name_, line);
  address_ = line.substr(13);
}

void BenchDevice::kill() {
  if (!alive_) return;
  process_->kill(SIGKILL);
  process_->wait(5000);
  alive_ = false;
  frozen_ = false;
}

void BenchDevice::freeze() {
  if (!alive_ || frozen_) return;
  process_->kill(SIGSTOP);
  frozen_ = true;
}

void BenchDevice::resume() {
  if (!frozen_) return;
  process_->kill(SIGCONT);
  frozen_ = false;
}

void BenchDevice::revive() {
  if (frozen_) resume();
  if (!alive_) start(address_);
  alive_ = true;
}

pid_t BenchDevice::pid() const { return alive_ ? process_->pid() : -1; }

double BenchDevice::rss_mib() const {
  if (!alive_) return 0;
  std::ifstream status(fmt::format("/proc/{}/status", process_->pid()));
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;  // "VmRSS:  1234 kB"
  return 0;
}

std::string self_binary() { return (fs::path(executable_dir()) / "fluidedge").string(); }

TrainingReuse ensure_trained(const std::string& models, const std::string& variant, const std::string& data, int epochs,
                             const std::string& who) {
  fs::path dir = fs::path(models) / variant;
  if (fs::exists(dir / "metrics.json")) {
    Json metrics = Json::parse(std::ifstream(dir / "metrics.json"), nullptr, false);
    if (!metrics.is_object()) fail("{}: {} is not a training's metrics.json: remove {} or pass another --models", who,
                                   (dir / "metrics.json").string(), dir.string());
    const std::string had_data = metrics.value("dataset", std::string("?"));
    const int had_epochs = metrics.contains("config") ? metrics["config"].value("epochs", -1) : -1;
    const std::string& wanted_data = data;
    if (had_data != wanted_data || had_epochs != epochs)
      fail("{}: {} holds a {} model trained {} epochs on {}, not {} epochs on {}: remove it or pass another --models",
           who, dir.string(), variant, had_epochs, had_data, epochs, wanted_data);
    return {true, metrics.value("train_seconds", 0.0)};
  }
  std::cerr << who << ": training the " << variant << " model (" << epochs << " epochs on " << data << ") into "
            << dir.string() << std::endl;
  const auto start = std::chrono::steady_clock::now();
  int code = run_command({self_binary(), "train", "--variant", variant, "--data", data, "--epochs",
                          std::to_string(epochs), "--out", dir.string()},
                         /*stdout_to_stderr=*/true);
  if (code != 0) fail("{}: training the {} model failed (exit {})", who, variant, code);
  return {false, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()};
}

std::string write_emulated_system(const std::string& path, int count, double gflops, double bandwidth_gbps,
                                  double link_rate, double link_latency) {
  std::string yaml = "# The devices a bench's nodes emulate (fluidedge node --emulate FILE:NAME); written by the bench.\ndevices:\n";
  for (int i = 1; i <= count; ++i)
    yaml += fmt::format("  - name: dev{}\n    peak_gflops: {}\n    memory_bandwidth_gbps: {}\n    efficiency: 1.0\n"
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

// CPU time, as the nodes measure it for their slowdown, so other load does not skew it.
double host_gflops(const std::string& models, const std::string& backend, int max_batch) {
  auto g = graph::load_onnx((fs::path(models) / "static" / "model.onnx").string());
  auto session = runtime::make_session(backend, g);
  std::string input = g.inputs.at(0);
  auto shape = g.values.at(input).shape;
  shape[0] = max_batch;
  graph::Tensor x(graph::DType::kFloat32, shape);
  std::vector<double> ms;
  for (int i = 0; i < 60; ++i) {
    double t0 = thread_cpu_ms();
    session->run({{input, x}});
    if (i >= 10) ms.push_back(thread_cpu_ms() - t0);
  }
  double macs = static_cast<double>(graph::graph_cost(g).macs) / std::max<int64_t>(1, graph::graph_batch(g));
  return 2.0 * macs * max_batch / (percentile(ms, 0.5) * 1e6);
}

}  // namespace fluidedge::cli
