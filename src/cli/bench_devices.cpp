#include "cli/bench_devices.h"

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "cli/tool_paths.h"
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
           "--slowdown", fmt::format("{}", s.slowdown), "--backend", s.backend};
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

void ensure_trained(const std::string& models, const std::string& variant, const std::string& data, int epochs,
                    const std::string& who) {
  fs::path dir = fs::path(models) / variant;
  if (fs::exists(dir / "metrics.json")) return;
  std::cerr << who << ": training the " << variant << " model (" << epochs << " epochs on " << data << ") into "
            << dir.string() << std::endl;
  int code = run_command({self_binary(), "train", "--variant", variant, "--data", data, "--epochs",
                          std::to_string(epochs), "--out", dir.string()},
                         /*stdout_to_stderr=*/true);
  if (code != 0) fail("{}: training the {} model failed (exit {})", who, variant, code);
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
