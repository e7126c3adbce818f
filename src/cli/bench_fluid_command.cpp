// `fluidedge bench fluid`: the Fluid DyDNN paper's experiment, end to end, with real device-node
// processes on this machine. Static, Dynamic and Fluid models are trained (or reused), deployed
// one part per node (Static cut in two stages, never replicated), and served in HA and HT mode
// with device 1 only, device 2 only, and both; then each device is killed mid-stream and
// restarted, to measure what the failure costs and how it rejoins. A table on stdout (or one JSON
// object), a PNG like Figure 2, and with --report an HTML report (cli/report/sections.h).

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cli/bench_devices.h"
#include "cli/bench_fluid.h"
#include "cli/commands.h"
#include "cli/error_boundary.h"
#include "cli/json_output.h"
#include "cli/report/sections.h"
#include "cli/tool_paths.h"
#include "cluster/coordinator.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "common/statistics.h"
#include "common/subprocess.h"
#include "common/thread_clock.h"
#include "data/dataset.h"
#include "graph/cost.h"
#include "graph/onnx_io.h"
#include "graph/shape_inference.h"
#include "partition/cut.h"
#include "partition/search.h"
#include "partition/system.h"
#include "runtime/backends.h"
#include "runtime/session.h"

namespace fluidedge::cli {
namespace {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double since_ms(Clock::time_point t0, Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(t - t0).count();
}

DeviceSettings device_settings(const FluidBenchOptions& o, const std::string& name, int cpu, const std::string& system) {
  return {o.max_batch, o.link_rate, o.link_latency, system + ":" + name, o.backend, o.certs->node_arguments(name), cpu};
}

// The Static model as a two-stage pipeline: the partitioner's best-throughput two-stage plan
// for the two emulated devices of `system` (which the nodes emulate). The model is split,
// never replicated: each device holds only its own stage.
struct StaticSplit {
  std::string description;
  double predicted_ips = 0;  // the partitioner's throughput of the plan, images/s
};
StaticSplit ensure_static_stages(const FluidBenchOptions& o, const std::string& system_file) {
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
  return {fmt::format("partitioner's best two-stage plan cuts after node {} ('{}'), {} bytes per image on the link, "
                      "predicted {:.0f} images/s",
                      position, g.nodes[position - 1].name, best->total_link_bytes / batch, best->throughput_fps * batch),
          best->throughput_fps * static_cast<double>(batch)};
}

cluster::ClusterConfig cell_config(const FluidBenchOptions& o, const std::string& variant, const std::string& mode,
                                   const std::vector<BenchDevice*>& devices) {
  bool is_static = variant == "static";
  std::string yaml = fmt::format("variant: {}\nmode: {}\nmodel: {}\nmax_batch: {}\nwindow: {}\nrequest_timeout_ms: 20000\nnodes:\n",
                                 variant, mode, fs::absolute(fs::path(o.models) / variant).string(), o.max_batch,
                                 // Four micro-batches per node in flight: one running, the next ones
                                 // queued or on the link, so a node never waits for its client and a
                                 // cell measures the device it emulates.
                                 4 * o.max_batch);
  for (size_t i = 0; i < devices.size(); ++i)
    yaml += fmt::format("  - {{name: {}, address: {}, part: {}{}.onnx}}\n", devices[i]->name(), devices[i]->address(),
                        is_static ? "stage" : "part", i + 1);
  yaml += o.certs->cluster_yaml();
  return cluster::parse_cluster_config(yaml, "bench-fluid cluster", ".");
}

struct Stream {
  int64_t sent = 0, answered = 0, failed = 0, correct = 0, duplicated = 0;
  std::vector<double> latencies;
  std::vector<Clock::time_point> submitted_at;                          // per request
  std::vector<std::optional<std::pair<Clock::time_point, bool>>> done;  // per request: when, ok
  std::vector<std::vector<std::string>> nodes;                          // per request: the nodes that answered it
  std::string first_error;
  double seconds = 0;
};

// Closed-loop stream of single-image requests, `concurrency` in flight, until `count` are sent
// or `stop_at` passes; calls `tick` between submissions. A new request goes out as soon as any
// answer comes back (not the oldest: nodes of different speed answer out of order). A slot
// whose request failed waits kRetryAfterFailure before its next one, as a client would, instead
// of spinning on a cluster that answers "cannot" in microseconds.
constexpr auto kRetryAfterFailure = std::chrono::milliseconds(50);

Stream run_stream(cluster::Coordinator& c, const data::Split& test, int64_t count, int concurrency,
                  std::optional<Clock::time_point> stop_at = {}, const std::function<void()>& tick = {}) {
  Stream s;
  std::mutex mutex;
  std::condition_variable answered;
  int in_flight = 0;                     // slots taken: requests out, and failed slots cooling down
  std::deque<Clock::time_point> cooling;  // when each cooling slot frees, oldest first
  std::map<uint64_t, int> seen;
  const int64_t* labels = test.labels.data<int64_t>();
  auto start = Clock::now();
  for (int64_t i = 0;; ++i) {
    if (stop_at ? Clock::now() >= *stop_at : i >= count) break;
    if (tick) tick();
    int64_t index = i % test.size();
    {
      std::unique_lock lock(mutex);
      for (;;) {
        for (auto now = Clock::now(); !cooling.empty() && cooling.front() <= now; cooling.pop_front()) --in_flight;
        if (in_flight < concurrency) break;
        if (cooling.empty())
          answered.wait(lock);
        else
          answered.wait_until(lock, cooling.front());
      }
      ++in_flight;
      ++s.sent;
      s.submitted_at.push_back(Clock::now());
      s.done.emplace_back();
      s.nodes.emplace_back();
    }
    c.submit({{"input", test.images.rows(index, 1)}}, [&, i, index](cluster::Answer a) {
      std::lock_guard lock(mutex);
      if (seen[a.id]++) ++s.duplicated;
      s.done[i] = std::make_pair(Clock::now(), a.error.empty());
      s.nodes[i] = a.nodes;
      if (!a.error.empty()) {
        ++s.failed;
        if (s.first_error.empty()) s.first_error = a.error;
        cooling.push_back(Clock::now() + kRetryAfterFailure);
        answered.notify_all();
        return;
      } else {
        ++s.answered;
        s.latencies.push_back(a.latency_ms);
        const float* p = a.prediction.data<float>();
        int64_t classes = a.prediction.numel();
        s.correct += (std::max_element(p, p + classes) - p) == labels[index];
      }
      --in_flight;
      answered.notify_all();
    });
  }
  std::unique_lock lock(mutex);
  answered.wait(lock, [&] { return in_flight == static_cast<int>(cooling.size()); });
  s.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return s;
}

struct Cell {
  std::string variant, mode, online;
  double throughput = 0, p50 = 0, p99 = 0, accuracy = 0;
  std::string error;
};

// One failure run: a stream of `variant` in `mode` on both devices; 1 s in, devices[killed] is
// killed (kill -9), `failure_seconds` later it is restarted on its address, and the stream goes
// on until 2 s after that. What was lost, how long detection, recovery and the rejoin took, and
// the answers per 100 ms (all, and those the restarted device took part in) for the timeline.
Json failure_run(const FluidBenchOptions& o, const std::string& variant, const std::string& mode,
                 const std::vector<BenchDevice*>& devices, int killed, const data::Split& test) {
  constexpr auto kBeforeKill = std::chrono::seconds(1), kAfterRestart = std::chrono::seconds(2);
  constexpr double kBinMs = 100;
  for (auto* d : devices) d->revive();
  BenchDevice& victim = *devices[killed];
  cluster::Coordinator c(cell_config(o, variant, mode, devices));
  c.start(10000);
  const auto start = Clock::now();
  const auto kill_at = start + kBeforeKill;
  const auto restart_at = kill_at + std::chrono::milliseconds(static_cast<int64_t>(1000 * o.failure_seconds));
  std::optional<Clock::time_point> killed_time, restart_time;
  std::thread restarter;  // the restart waits for the node's start line: not on the stream's thread
  Stream s = run_stream(c, test, 0, o.concurrency, restart_at + kAfterRestart, [&] {
    const auto now = Clock::now();
    if (!killed_time && now >= kill_at) {
      killed_time = now;
      victim.kill();
    }
    if (killed_time && !restart_time && now >= restart_at) {
      restart_time = now;
      restarter = std::thread([&victim] { victim.revive(); });
    }
  });
  if (restarter.joinable()) restarter.join();
  // A rejoin after the stream ended still counts: give it up to 5 s.
  auto membership = [&](bool up, Clock::time_point after) -> std::optional<Clock::time_point> {
    for (const auto& e : c.events())
      if (e.node == victim.name() && e.up == up && e.time >= after) return e.time;
    return std::nullopt;
  };
  std::optional<Clock::time_point> detected, rejoined;
  if (killed_time) detected = membership(false, *killed_time - std::chrono::milliseconds(50));
  for (int i = 0; restart_time && i < 500 && !(rejoined = membership(true, *restart_time)); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));

  Json f{{"variant", variant}, {"mode", mode}, {"killed", victim.name()}, {"sent", s.sent},
         {"answered", s.answered}, {"failed", s.failed}, {"lost", s.sent - s.answered - s.failed},
         {"duplicated", s.duplicated}};
  f["detect_ms"] = detected && killed_time ? Json(since_ms(*killed_time, *detected)) : Json(nullptr);
  // Recovered: the first request submitted after detection that was answered.
  std::optional<Clock::time_point> recovered;
  if (detected)
    for (size_t i = 0; i < s.submitted_at.size(); ++i)
      if (s.submitted_at[i] >= *detected && s.done[i] && s.done[i]->second) {
        recovered = s.done[i]->first;
        break;
      }
  f["recover_ms"] = recovered && killed_time ? Json(since_ms(*killed_time, *recovered)) : Json(nullptr);
  f["rejoin_ms"] = rejoined && restart_time ? Json(since_ms(*restart_time, *rejoined)) : Json(nullptr);
  if (s.failed) f["error"] = s.first_error;

  const auto stream_end = restart_at + kAfterRestart;
  const size_t bins = static_cast<size_t>(std::ceil(since_ms(start, stream_end) / kBinMs));
  std::vector<int64_t> answered(bins, 0), with_victim(bins, 0);
  int64_t served_after_rejoin = 0;
  for (size_t i = 0; i < s.done.size(); ++i) {
    if (!s.done[i] || !s.done[i]->second) continue;
    const auto bin = static_cast<size_t>(std::max(0.0, since_ms(start, s.done[i]->first)) / kBinMs);
    const bool by_victim = std::find(s.nodes[i].begin(), s.nodes[i].end(), victim.name()) != s.nodes[i].end();
    if (bin < bins) {
      ++answered[bin];
      with_victim[bin] += by_victim;
    }
    if (by_victim && rejoined && s.done[i]->first >= *rejoined) ++served_after_rejoin;
  }
  f["served_by_it_after_rejoin"] = served_after_rejoin;
  auto at_s = [&](const std::optional<Clock::time_point>& t) {
    return t ? Json(since_ms(start, *t) / 1000) : Json(nullptr);
  };
  f["timeline"] = Json{{"bin_ms", kBinMs},          {"answered", answered},      {"with_killed_device", with_victim},
                       {"killed_s", at_s(killed_time)}, {"detected_s", at_s(detected)}, {"restarted_s", at_s(restart_time)},
                       {"rejoined_s", at_s(rejoined)}};
  return f;
}

}  // namespace

Json run_bench_fluid(FluidBenchOptions o) {
  if (o.backend.empty()) o.backend = runtime::default_backend();
  o.certs = std::make_shared<cluster::LocalCertificates>(o.tls == "on", std::vector<std::string>{"dev1", "dev2"},
                                                         "bench-fluid");
  ensure_trained(o.models, "static", o.data, o.epochs, "bench fluid");  // calibrates the devices' speed, whatever runs
  for (const auto& v : o.variants) ensure_trained(o.models, v, o.data, o.epochs, "bench fluid");
  const double host = host_gflops(o.models, o.backend, o.max_batch);
  const std::string system = write_emulated_system((fs::path(o.models) / "bench-fluid-devices.yaml").string(), 2,
                                                   o.device_gflops, o.device_bandwidth, o.link_rate, o.link_latency);
  if (host < 4 * o.device_gflops)
    std::cerr << fmt::format("bench fluid: warning: one core of this machine runs the Static model at {:.1f} GFLOP/s, less "
                             "than 4x the emulated device's {:g}: its nodes may not keep up with the device they emulate "
                             "(see their overruns)\n", host, o.device_gflops);
  const StaticSplit static_cut = ensure_static_stages(o, system);
  auto dataset = data::load_dataset(o.data);
  const auto& test = dataset.test;
  int64_t count = o.requests > 0 ? o.requests : test.size();
  bool pin = std::thread::hardware_concurrency() >= 2;
  BenchDevice dev1("dev1", device_settings(o, "dev1", pin ? 0 : -1, system)),
      dev2("dev2", device_settings(o, "dev2", pin ? 1 : -1, system));
  std::vector<BenchDevice*> devices = {&dev1, &dev2};

  Json settings{{"devices", 2},
                {"cores_per_device", 1},
                {"pinned", pin},
                {"backend", o.backend},
                {"tls", o.tls == "on" ? "mutual TLS (a throwaway CA; every node and the client with a certificate)" : "off (plaintext)"},
                {"link_rate_mbps", o.link_rate},
                {"link_latency_ms", o.link_latency},
                {"max_batch", o.max_batch},
                {"concurrency", o.concurrency},
                {"requests_per_cell", count},
                {"images_per_request", 1},
                {"emulated_devices", system},
                {"device_gflops", o.device_gflops},
                {"device_bandwidth_gbps", o.device_bandwidth},
                {"host_gflops", host},
                {"data", o.data},
                {"models", o.models},
                {"static_split", static_cut.description},
                {"static_predicted_ips", static_cut.predicted_ips}};
  if (!o.json)
    std::cout << fmt::format("bench fluid: 2 devices (1 core each{}, {} backend, each emulating a device of {:g} GFLOP/s and "
                             "{:g} GB/s; this core runs the Static model at {:.1f}), links {} Mbit/s + {} ms each way, requests of 1 image, "
                             "micro-batches up to {}, {} in flight, {} requests per cell; Static cut: {}\n",
                             pin ? ", pinned" : "", o.backend, o.device_gflops, o.device_bandwidth, host, o.link_rate, o.link_latency, o.max_batch,
                             o.concurrency, count, static_cut.description);

  std::vector<Cell> cells;
  for (const std::string& variant : o.variants)
    for (std::string mode : {"ha", "ht"})
      for (std::string online : {"1", "2", "both"}) {
        Cell cell;
        cell.variant = variant;
        cell.mode = mode;
        cell.online = online;
        for (auto* d : devices) d->revive();
        if (online == "1") dev2.kill();
        if (online == "2") dev1.kill();
        try {
          cluster::Coordinator c(cell_config(o, variant, mode, devices));
          c.start(online == "both" ? 10000 : 1500);
          run_stream(c, test, std::min<int64_t>(count, 200), o.concurrency);  // warm-up
          Stream s = run_stream(c, test, count, o.concurrency);
          if (s.answered == 0) fail("{}", s.first_error);
          cell.throughput = s.answered / s.seconds;
          cell.p50 = percentile(s.latencies, 0.5);
          cell.p99 = percentile(s.latencies, 0.99);
          cell.accuracy = static_cast<double>(s.correct) / s.answered;
          if (s.failed) cell.error = fmt::format("{} of {} failed: {}", s.failed, s.sent, s.first_error);
        } catch (const Error& e) {
          cell.error = e.what();
        }
        if (!o.json) {
          if (cell.throughput > 0)
            std::cout << fmt::format("  {:8} {:2}  online {:4}  {:8.1f} images/s  p50 {:6.2f} ms  p99 {:6.2f} ms  accuracy {:6.2f} %\n",
                                     variant, mode, online, cell.throughput, cell.p50, cell.p99, 100 * cell.accuracy);
          else
            std::cout << fmt::format("  {:8} {:2}  online {:4}  cannot run: {}\n", variant, mode, online, cell.error);
        }
        cells.push_back(cell);
      }
  for (auto* d : devices) d->revive();

  Json failures = Json::array();
  if (!o.skip_failures) {
    if (!o.json)
      std::cout << fmt::format("failure runs (a device killed 1 s into the stream and restarted {:g} s later):\n",
                               o.failure_seconds);
    for (const std::string& variant : o.variants)
      for (std::string mode : {"ha", "ht"})
        for (int killed = 0; killed < 2; ++killed) {
          Json f = failure_run(o, variant, mode, devices, killed, test);
          if (!o.json) {
            auto ms = [&](const char* key) {
              return f[key].is_null() ? std::string("-") : fmt::format("{:.0f}", f[key].get<double>());
            };
            std::cout << fmt::format("  {:8} {:2}  kill {}: sent {:6} answered {:6} failed {:5} lost {} twice {}  detect {} ms  "
                                     "recover {} ms  rejoin {} ms after the restart{}\n",
                                     variant, mode, f["killed"].get<std::string>(), f["sent"].get<int64_t>(),
                                     f["answered"].get<int64_t>(), f["failed"].get<int64_t>(), f["lost"].get<int64_t>(),
                                     f["duplicated"].get<int64_t>(), ms("detect_ms"), ms("recover_ms"), ms("rejoin_ms"),
                                     f.contains("error") ? "\n      failed with: " + f["error"].get<std::string>() : "");
          }
          failures.push_back(f);
        }
  }

  Json cell_list = Json::array();
  for (const auto& c : cells) {
    Json j{{"variant", c.variant}, {"mode", c.mode}, {"online", c.online}};
    if (c.throughput > 0) {
      j["throughput_ips"] = c.throughput;
      j["p50_ms"] = c.p50;
      j["p99_ms"] = c.p99;
      j["accuracy"] = c.accuracy;
    }
    if (!c.error.empty()) j["error"] = c.error;
    cell_list.push_back(j);
  }
  auto ips = [&](const std::string& v, const std::string& m, const std::string& on) {
    for (const auto& c : cells)
      if (c.variant == v && c.mode == m && c.online == on) return c.throughput;
    return 0.0;
  };
  double fluid_ht = ips("fluid", "ht", "both");
  // Against each baseline's better mode with both devices up.
  double static_best = std::max(ips("static", "ha", "both"), ips("static", "ht", "both"));
  double dynamic_best = std::max(ips("dynamic", "ha", "both"), ips("dynamic", "ht", "both"));
  // A ratio whose cells did not run (--variants, a failed cell) is null, not 0.
  auto ratio = [&](double over) { return fluid_ht > 0 && over > 0 ? Json(fluid_ht / over) : Json(nullptr); };
  Json ratios{{"fluid_ht_over_static", ratio(static_best)},
              {"fluid_ht_over_dynamic", ratio(dynamic_best)},
              {"fluid_ht_over_standalone_sum", ratio(ips("fluid", "ht", "1") + ips("fluid", "ht", "2"))}};
  Json result{{"settings", settings}, {"cells", cell_list}, {"failures", failures}, {"ratios", ratios}, {"plot", o.plot}};
  if (!o.plot.empty()) report::draw_fluid_figure(o.plot, result);
  if (!o.json) {
    if (ratios["fluid_ht_over_static"].is_number() && ratios["fluid_ht_over_dynamic"].is_number() &&
        ratios["fluid_ht_over_standalone_sum"].is_number())
      std::cout << fmt::format("Fluid HT (both) = {:.2f}x Static, {:.2f}x Dynamic (each in its faster mode), {:.0f} % of the two standalone sub-networks' sum\n",
                               ratios["fluid_ht_over_static"].get<double>(), ratios["fluid_ht_over_dynamic"].get<double>(),
                               100 * ratios["fluid_ht_over_standalone_sum"].get<double>());
    if (!o.plot.empty()) std::cout << "plot: " << o.plot << "\n";
  }
  return result;
}

void add_bench_fluid_command(CLI::App& bench) {
  auto* cmd = bench.add_subcommand("fluid", "The Fluid DyDNN experiment: Static/Dynamic/Fluid x HA/HT x devices online, and failures");
  auto o = std::make_shared<FluidBenchOptions>();
  cmd->add_option("--models", o->models, "Directory of trained models (static/, dynamic/, fluid/); trained there if missing")
      ->capture_default_str();
  cmd->add_option("--data", o->data, "mnist, fashion-mnist or an IDX directory")->capture_default_str();
  cmd->add_option("--epochs", o->epochs, "Epochs when training is needed")->check(CLI::Range(1, 1000))->capture_default_str();
  cmd->add_option("--link-rate", o->link_rate, "Emulated link rate of each device, Mbit/s (0 = none)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--link-latency", o->link_latency, "Emulated one-way latency of each link, ms")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--device-gflops", o->device_gflops,
                  "Conv/gemm rate of each emulated device, GFLOP/s (default: an embedded Arm core, Cortex-A72 class); "
                  "the nodes emulate it and the Static split is planned for it")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--device-bandwidth", o->device_bandwidth, "Memory bandwidth of each emulated device, GB/s")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--max-batch", o->max_batch, "Micro-batch limit on each node")->check(CLI::Range(1, 1024))->capture_default_str();
  cmd->add_option("--concurrency", o->concurrency, "Requests in flight from the client")->check(CLI::Range(1, 100000))->capture_default_str();
  cmd->add_option("--requests", o->requests, "Requests per cell (default: the test split once)")->check(CLI::Range(0, 10000000));
  cmd->add_option("--failure-seconds", o->failure_seconds, "How long the killed device stays down in each failure run")
      ->check(CLI::Range(0.5, 600.0))->capture_default_str();
  cmd->add_flag("--skip-failures", o->skip_failures, "Only the throughput/accuracy cells");
  cmd->add_option("--tls", o->tls, "on: mutual TLS between the client and the nodes, as deployed; off: plaintext "
                                   "(to measure what TLS costs)")
      ->check(CLI::IsMember({"on", "off"}))->capture_default_str();
  cmd->add_option("--backend", o->backend, kNodeBackendHelp)
      ->check(CLI::IsMember(kNodeBackends));
  cmd->add_option("--variants", o->variants, "Variants to run (static, dynamic, fluid)")
      ->delimiter(',')->check(CLI::IsMember({"static", "dynamic", "fluid"}))->capture_default_str();
  cmd->add_option("--plot", o->plot, "Where to write the PNG plot like the paper's Figure 2 (its data and gnuplot "
                                    "script beside it)")->capture_default_str();
  cmd->add_option("--report", o->report, "Also write an HTML report of this run to DIR/index.html (plots beside it)");
  cmd->add_flag("--json", o->json, "Print one JSON object");
  cmd->callback([o] {
    if (!o->report.empty()) check_writable_dir(o->report, "--report");
    Json result = run_bench_fluid(*o);
    if (o->json) print_json(result);
    if (!o->report.empty()) {
      report::write_bench_report(o->report, "fluidedge bench fluid", report::fluid_sections(result, o->report, invoked_command()));
      if (!o->json) std::cout << "report: " << (fs::path(o->report) / "index.html").string() << "\n";
    }
  });
}

}  // namespace fluidedge::cli
