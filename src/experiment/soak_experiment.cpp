#include "experiment/soak_experiment.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cluster/coordinator.h"
#include "cluster/tls.h"
#include "common/error.h"
#include "data/dataset.h"
#include "experiment/emulated_devices.h"
#include "experiment/node_process.h"
#include "experiment/trained_models.h"
#include "runtime/backends.h"

namespace fluidedge::experiment {
namespace {

namespace fs = std::filesystem;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double self_rss_mib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0;
}

}  // namespace

MemorySummary summarize_memory(const std::vector<MemorySample>& series) {
  struct Life {
    double start = -1, end = 0, first = 0, after = 0;
  };
  std::map<long, Life> lives;
  MemorySummary out;
  for (const MemorySample& s : series) {
    if (s.pid == 0 || s.mib <= 0) continue;
    Life& l = lives[s.pid];
    if (l.start < 0) l.start = s.t;
    l.end = s.t;
    double& bucket = s.t - l.start <= 60 ? l.first : l.after;
    bucket = std::max(bucket, s.mib);
    out.peak_mib = std::max(out.peak_mib, s.mib);
  }
  out.processes = lives.size();
  for (const auto& [pid, l] : lives) {
    out.longest_life_s = std::max(out.longest_life_s, l.end - l.start);
    if (l.after > 0 && l.first > 0) {
      ++out.lived_over_a_minute;
      double growth = 100 * (l.after / l.first - 1);
      out.worst_growth_after_first_minute_percent =
          std::max(growth, out.worst_growth_after_first_minute_percent.value_or(growth));
    }
  }
  return out;
}

double SoakReport::accuracy() const {
  return stream.answered ? static_cast<double>(correct) / static_cast<double>(stream.answered) : 0.0;
}

double SoakReport::throughput_ips() const { return static_cast<double>(stream.answered) / (options.minutes * 60); }

SoakReport run_soak(const SoakOptions& options, const SoakStarted& started, const SoakTick& tick) {
  SoakReport report;
  SoakOptions& o = report.options;
  o = options;
  if (o.backend.empty()) o.backend = runtime::default_backend();
  if (o.gap_max < o.gap_min) fail("bench soak: --gap-max ({}) is below --gap-min ({})", o.gap_max, o.gap_min);
  if (o.outage_max < o.outage_min)
    fail("bench soak: --outage-max ({}) is below --outage-min ({})", o.outage_max, o.outage_min);
  cluster::LocalCertificates certs(o.tls, {"dev1", "dev2"}, "bench-soak");
  // The coordinator's warnings would be one per fault; the report counts them instead.
  spdlog::set_level(spdlog::level::err);
  ensure_trained(o.tool_binary, o.models, "fluid", o.data, o.epochs, "bench soak");
  report.emulated_devices = write_emulated_system((fs::path(o.models) / "bench-soak-devices.yaml").string(), 2,
                                                  o.device_gflops, o.device_bandwidth, o.link_rate, o.link_latency);
  auto dataset = data::load_dataset(o.data);
  report.pinned = std::thread::hardware_concurrency() >= 2;
  DeviceSettings node_settings;
  node_settings.max_batch = o.max_batch;
  node_settings.link_rate = o.link_rate;
  node_settings.link_latency = o.link_latency;
  node_settings.backend = o.backend;
  auto devices = start_emulated_nodes(o.node_binary, 2, report.emulated_devices, node_settings, certs, report.pinned);
  std::string yaml =
      fmt::format("variant: fluid\nmode: {}\nmodel: {}\nmax_batch: {}\nwindow: {}\nrequest_timeout_ms: 20000\nnodes:\n",
                  o.mode, fs::absolute(fs::path(o.models) / "fluid").string(), o.max_batch, 2 * o.max_batch);
  for (size_t i = 0; i < devices.size(); ++i)
    yaml += fmt::format("  - {{name: {}, address: {}, part: part{}.onnx}}\n", devices[i]->name(), devices[i]->address(),
                        i + 1);
  yaml += certs.cluster_yaml();
  cluster::Coordinator coordinator(cluster::parse_cluster_config(yaml, "bench-soak cluster", "."));
  coordinator.start(10000);
  if (started) started(report);

  // The load: `concurrency` single-image requests in flight for as long as the soak runs; every
  // request's answers are counted, so one answered twice or never is seen.
  std::atomic<bool> stop{false};
  std::atomic<int64_t> answered{0}, correct{0};
  const data::Split& test = dataset.test;
  StreamOptions load;
  load.concurrency = o.concurrency;
  load.stop_when = [&] { return stop.load(); };
  load.retry_after_failure = std::chrono::milliseconds(0);
  load.drain_timeout = std::chrono::milliseconds(30000);
  std::thread sender([&] {
    report.stream = run_stream(
        coordinator,
        [&](int64_t i) {
          return runtime::TensorMap{{"input", test.images.rows(i % test.size(), 1)}};
        },
        load,
        [&](int64_t i, const cluster::Answer& a) {
          if (!a.error.empty()) return;
          ++answered;
          correct += predicts(a, 0, test.labels.data<int64_t>()[i % test.size()]);
        });
  });

  // The fault schedule: after a random gap, one random node killed or frozen for a random
  // outage, then brought back; the next fault waits until every node serves again.
  std::mt19937_64 random(o.seed);
  auto uniform = [&](double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(random); };
  const auto start = Clock::now();
  const double total_s = o.minutes * 60;
  report.series = {"dev1", "dev2", "client"};
  auto& memory = report.memory;
  memory.resize(report.series.size());
  auto& faults = report.faults;
  int down = -1;  // the faulted device (-1: none)
  double next_fault = uniform(o.gap_min, o.gap_max), repair_at = 0;
  int64_t last_answered = 0;
  double last_sample = 0;
  auto all_ready = [&] {
    for (const auto& n : coordinator.nodes())
      if (!n.ready) return false;
    return true;
  };
  // Once a second: every node's memory (with its process, as a killed node comes back as a new
  // one), the client's, and the answers since the last sample.
  auto take_sample = [&](double now) {
    for (size_t i = 0; i < devices.size(); ++i)
      memory[i].push_back({now, devices[i]->rss_mib(), devices[i]->pid() > 0 ? devices[i]->pid() : 0});
    memory.back().push_back({now, self_rss_mib(), static_cast<long>(::getpid())});
    int64_t a = answered.load();
    auto& rate = report.rate;
    rate.push_back({now, static_cast<double>(a - last_answered) / (rate.empty() ? now : now - rate.back().first)});
    last_answered = a;
  };
  while (true) {
    double now = seconds_since(start);
    if (now >= total_s) break;
    if (now - last_sample >= 1.0) {
      last_sample = now;
      take_sample(now);
      if (tick) tick(now, last_answered, faults.size(), down >= 0 ? devices[down]->name() : "");
    }
    if (down >= 0 && now >= repair_at) {
      devices[down]->revive();
      faults.back().repaired = now;
      down = -1;
      next_fault = now + uniform(o.gap_min, o.gap_max);
    } else if (down < 0 && now >= next_fault && now + o.outage_min < total_s) {
      if (!all_ready()) {
        next_fault = now + 0.5;  // the last one to come back has not rejoined yet: one down at a time
      } else {
        int victim = static_cast<int>(random() % devices.size());
        bool kill = random() % 2 == 0;
        kill ? devices[victim]->kill() : devices[victim]->freeze();
        faults.push_back({now, 0, devices[victim]->name(), kill ? "kill -9" : "SIGSTOP"});
        down = victim;
        repair_at = now + uniform(o.outage_min, o.outage_max);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (down >= 0) {
    devices[down]->revive();
    faults.back().repaired = seconds_since(start);
    take_sample(seconds_since(start));  // the process it came back as
  }
  stop = true;
  sender.join();
  report.correct = correct.load();
  report.drained = report.stream.lost == 0;
  report.late_replies = coordinator.late_replies();
  report.seconds = seconds_since(start);
  return report;
}

}  // namespace fluidedge::experiment
