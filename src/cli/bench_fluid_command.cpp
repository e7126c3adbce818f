// `fluidedge bench fluid`: the Fluid DyDNN paper's experiment, end to end, with real device-node
// processes on this machine. Static, Dynamic and Fluid models are trained (or reused), deployed
// one part per node (Static cut in two stages, never replicated), and served in HA and HT mode
// with device 1 only, device 2 only, and both; then each device is killed mid-stream to measure
// what the failure costs. A table on stdout (or one JSON object), and an SVG like Figure 2.

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cli/bench_devices.h"
#include "cli/commands.h"
#include "cli/json_output.h"
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

struct FluidBenchOptions {
  std::string models = "runs/bench-fluid";
  std::string data = "mnist";
  int epochs = 15;
  double link_rate = 100;
  double link_latency = 0.5;
  int max_batch = 8;
  int concurrency = 32;
  int requests = 0;  // 0: the whole test split once per cell
  // The emulated devices: each node's CPU is slowed down so that it runs the models at
  // `device_gflops` (calibrated against this machine in the same run), unless `slowdown` is
  // given. Without it, one core of this machine runs the paper CNN ~50x faster than an embedded
  // Arm core, and every cell only measures the 100 Mbit/s input links.
  double device_gflops = 4.0;
  double slowdown = 0;  // 0: calibrate to device_gflops
  double failure_seconds = 3;
  std::string backend;  // the nodes' (and the calibration's); empty: runtime::default_backend()
  std::string tls = "on";  // on: mutual TLS between the client and the nodes (a throwaway CA); off: plaintext
  std::shared_ptr<const cluster::LocalCertificates> certs;  // set when run, as --tls says
  std::string plot = "bench-fluid.svg";
  bool skip_failures = false;
  bool json = false;
  std::vector<std::string> variants{"static", "dynamic", "fluid"};
};

double since_ms(Clock::time_point t0, Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(t - t0).count();
}

DeviceSettings device_settings(const FluidBenchOptions& o, const std::string& name, int cpu, double slowdown) {
  return {o.max_batch, o.link_rate, o.link_latency, slowdown, o.backend, o.certs->node_arguments(name), cpu};
}

// The Static model as a two-stage pipeline: the partitioner's best-throughput two-stage plan
// for two equal devices running at `device_gflops` joined by the bench's link. The model is
// split, never replicated: each device holds only its own stage.
std::string ensure_static_stages(const FluidBenchOptions& o, double device_gflops) {
  fs::path dir = fs::path(o.models) / "static";
  auto g = graph::load_onnx((dir / "model.onnx").string());
  // The emulated device runs every node `slowdown` times slower than this core: as a roofline
  // device whose conv/gemm rate is device_gflops (efficiency 1: the rate is an achieved one).
  std::string device = fmt::format(
      "    peak_gflops: {}\n    memory_bandwidth_gbps: 4\n    efficiency: 1.0\n    memory_mb: 1024\n"
      "    active_power_w: 5\n    idle_power_w: 2\n    precision: fp32\n", device_gflops);
  std::string yaml = "devices:\n  - name: dev1\n" + device + "  - name: dev2\n" + device +
                     fmt::format("links:\n  - rate_mbps: {}\n    latency_ms: {}\n    overhead: 0.054\n    power_w: 0.25\n"
                                 "objectives: [throughput, latency]\n",
                                 o.link_rate > 0 ? o.link_rate : 100000.0, o.link_latency);
  auto system = partition::parse_system(yaml, "bench-fluid system");
  partition::SearchOptions options;
  options.max_stages = 2;
  auto result = partition::search_plans(g, system, options);
  const partition::PlanCost* best = nullptr;
  for (const auto& plan : result.front)
    if (plan.plan.positions.size() == 1 && (!best || plan.throughput_fps > best->throughput_fps)) best = &plan;
  if (!best) fail("bench fluid: the partitioner found no two-stage plan for the static model");
  int position = best->plan.positions[0];
  auto stages = partition::split_stages(g, {position});
  graph::save_onnx(stages[0], (dir / "stage1.onnx").string());
  graph::save_onnx(stages[1], (dir / "stage2.onnx").string());
  int64_t batch = std::max<int64_t>(1, graph::graph_batch(g));
  return fmt::format("partitioner's best two-stage plan cuts after node {} ('{}'), {} bytes per image on the link, "
                     "predicted {:.0f} images/s",
                     position, g.nodes[position - 1].name, best->total_link_bytes / batch, best->throughput_fps * batch);
}

cluster::ClusterConfig cell_config(const FluidBenchOptions& o, const std::string& variant, const std::string& mode,
                                   const std::vector<BenchDevice*>& devices) {
  bool is_static = variant == "static";
  std::string yaml = fmt::format("variant: {}\nmode: {}\nmodel: {}\nmax_batch: {}\nwindow: {}\nrequest_timeout_ms: 20000\nnodes:\n",
                                 variant, mode, fs::absolute(fs::path(o.models) / variant).string(), o.max_batch,
                                 2 * o.max_batch);
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
  std::string first_error;
  double seconds = 0;
};

// Closed-loop stream of single-image requests, `concurrency` in flight, until `count` are sent
// or `stop_at` passes; calls `tick` between submissions. A new request goes out as soon as any
// answer comes back (not the oldest: nodes of different speed answer out of order).
Stream run_stream(cluster::Coordinator& c, const data::Split& test, int64_t count, int concurrency,
                  std::optional<Clock::time_point> stop_at = {}, const std::function<void()>& tick = {}) {
  Stream s;
  std::mutex mutex;
  std::condition_variable answered;
  int in_flight = 0;
  std::map<uint64_t, int> seen;
  const int64_t* labels = test.labels.data<int64_t>();
  auto start = Clock::now();
  for (int64_t i = 0;; ++i) {
    if (stop_at ? Clock::now() >= *stop_at : i >= count) break;
    if (tick) tick();
    int64_t index = i % test.size();
    {
      std::unique_lock lock(mutex);
      answered.wait(lock, [&] { return in_flight < concurrency; });
      ++in_flight;
      ++s.sent;
      s.submitted_at.push_back(Clock::now());
      s.done.emplace_back();
    }
    c.submit({{"input", test.images.rows(index, 1)}}, [&, i, index](cluster::Answer a) {
      std::lock_guard lock(mutex);
      if (seen[a.id]++) ++s.duplicated;
      s.done[i] = std::make_pair(Clock::now(), a.error.empty());
      if (!a.error.empty()) {
        ++s.failed;
        if (s.first_error.empty()) s.first_error = a.error;
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
  answered.wait(lock, [&] { return in_flight == 0; });
  s.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return s;
}

struct Cell {
  std::string variant, mode, online;
  double throughput = 0, p50 = 0, p99 = 0, accuracy = 0;
  std::string error;
};

std::string svg_plot(const std::vector<Cell>& cells) {
  // Two panels like the paper's Figure 2: throughput and accuracy per (variant, mode), one bar
  // per set of online devices.
  const std::vector<std::string> onlines = {"1", "2", "both"};
  const std::vector<std::string> colours = {"#4e79a7", "#f28e2b", "#59a14f"};
  std::vector<std::pair<std::string, std::string>> groups;
  for (const auto& c : cells)
    if (std::find(groups.begin(), groups.end(), std::make_pair(c.variant, c.mode)) == groups.end())
      groups.push_back({c.variant, c.mode});
  double max_ips = 1;
  for (const auto& c : cells) max_ips = std::max(max_ips, c.throughput);
  const int W = 900, panel_h = 260, left = 70, group_w = (W - left - 20) / std::max<size_t>(1, groups.size());
  std::string svg = fmt::format("<svg xmlns='http://www.w3.org/2000/svg' width='{}' height='{}' font-family='sans-serif' font-size='12'>\n", W, 2 * panel_h + 80);
  svg += "<rect width='100%' height='100%' fill='white'/>\n";
  for (int panel = 0; panel < 2; ++panel) {
    int top = 30 + panel * (panel_h + 20), base = top + panel_h - 40;
    svg += fmt::format("<text x='{}' y='{}' font-weight='bold'>{}</text>\n", left, top - 8,
                       panel == 0 ? "Throughput (images/s)" : "Accuracy (%)");
    svg += fmt::format("<line x1='{}' y1='{}' x2='{}' y2='{}' stroke='black'/>\n", left, base, W - 20, base);
    double scale_max = panel == 0 ? max_ips : 100.0;
    for (int t = 0; t <= 4; ++t) {
      double v = scale_max * t / 4;
      int y = base - static_cast<int>((base - top - 10) * t / 4.0);
      svg += fmt::format("<text x='{}' y='{}' text-anchor='end'>{:.0f}</text><line x1='{}' y1='{}' x2='{}' y2='{}' stroke='#ddd'/>\n",
                         left - 5, y + 4, v, left, y, W - 20, y);
    }
    for (size_t g = 0; g < groups.size(); ++g) {
      int gx = left + static_cast<int>(g) * group_w;
      svg += fmt::format("<text x='{}' y='{}' text-anchor='middle'>{} {}</text>\n", gx + group_w / 2, base + 16,
                         groups[g].first, groups[g].second == "ha" ? "HA" : "HT");
      for (size_t k = 0; k < onlines.size(); ++k) {
        auto it = std::find_if(cells.begin(), cells.end(), [&](const Cell& c) {
          return c.variant == groups[g].first && c.mode == groups[g].second && c.online == onlines[k];
        });
        if (it == cells.end()) continue;
        int bw = (group_w - 20) / 3, x = gx + 10 + static_cast<int>(k) * bw;
        if (!it->error.empty()) {
          svg += fmt::format("<text x='{}' y='{}' text-anchor='middle' fill='#b00'>x</text>\n", x + bw / 2, base - 4);
          continue;
        }
        double v = panel == 0 ? it->throughput : 100 * it->accuracy;
        int h = static_cast<int>((base - top - 10) * v / scale_max);
        svg += fmt::format("<rect x='{}' y='{}' width='{}' height='{}' fill='{}'/>\n", x, base - h, bw - 2, h, colours[k]);
      }
    }
  }
  int ly = 2 * panel_h + 60;
  for (size_t k = 0; k < onlines.size(); ++k)
    svg += fmt::format("<rect x='{}' y='{}' width='12' height='12' fill='{}'/><text x='{}' y='{}'>{}</text>\n",
                       left + 150 * static_cast<int>(k), ly, colours[k], left + 150 * static_cast<int>(k) + 16, ly + 11,
                       onlines[k] == "both" ? "both devices" : "device " + onlines[k] + " only");
  svg += fmt::format("<text x='{}' y='{}' fill='#b00'>x = cannot run</text>\n", left + 470, ly + 11);
  return svg + "</svg>\n";
}

void run_bench_fluid(FluidBenchOptions o) {
  if (o.backend.empty()) o.backend = runtime::default_backend();
  o.certs = std::make_shared<cluster::LocalCertificates>(o.tls == "on", std::vector<std::string>{"dev1", "dev2"},
                                                         "bench-fluid");
  ensure_trained(o.models, "static", o.data, o.epochs, "bench fluid");  // calibrates the devices' speed, whatever runs
  for (const auto& v : o.variants) ensure_trained(o.models, v, o.data, o.epochs, "bench fluid");
  double host = host_gflops(o.models, o.backend, o.max_batch);
  double slowdown = o.slowdown > 0 ? o.slowdown : std::max(1.0, host / o.device_gflops);
  double device_gflops = host / slowdown;
  std::string static_cut = ensure_static_stages(o, device_gflops);
  auto dataset = data::load_dataset(o.data);
  const auto& test = dataset.test;
  int64_t count = o.requests > 0 ? o.requests : test.size();
  bool pin = std::thread::hardware_concurrency() >= 2;
  BenchDevice dev1("dev1", device_settings(o, "dev1", pin ? 0 : -1, slowdown)),
      dev2("dev2", device_settings(o, "dev2", pin ? 1 : -1, slowdown));
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
                {"cpu_slowdown", slowdown},
                {"host_gflops", host},
                {"device_gflops", device_gflops},
                {"data", o.data},
                {"models", o.models},
                {"static_split", static_cut}};
  if (!o.json)
    std::cout << fmt::format("bench fluid: 2 devices (1 core each{}, {} backend, CPU slowdown {:.1f}x: {:.1f} GFLOP/s on the "
                             "Static model, this core {:.1f}), links {} Mbit/s + {} ms each way, requests of 1 image, "
                             "micro-batches up to {}, {} in flight, {} requests per cell; Static cut: {}\n",
                             pin ? ", pinned" : "", o.backend, slowdown, device_gflops, host, o.link_rate, o.link_latency, o.max_batch,
                             o.concurrency, count, static_cut);

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
    if (!o.json) std::cout << "failure runs (device killed 1 s into the stream):\n";
    for (const std::string& variant : o.variants)
      for (std::string mode : {"ha", "ht"})
        for (int killed = 0; killed < 2; ++killed) {
          for (auto* d : devices) d->revive();
          cluster::Coordinator c(cell_config(o, variant, mode, devices));
          c.start(10000);
          auto start = Clock::now();
          auto kill_at = start + std::chrono::seconds(1);
          std::optional<Clock::time_point> killed_time;
          Stream s = run_stream(c, test, 0, o.concurrency,
                                start + std::chrono::milliseconds(static_cast<int>(1000 * (1 + o.failure_seconds))),
                                [&] {
                                  if (!killed_time && Clock::now() >= kill_at) {
                                    killed_time = Clock::now();
                                    devices[killed]->kill();
                                  }
                                });
          Json f{{"variant", variant}, {"mode", mode}, {"killed", devices[killed]->name()}, {"sent", s.sent},
                 {"answered", s.answered}, {"failed", s.failed}, {"lost", s.sent - s.answered - s.failed},
                 {"duplicated", s.duplicated}};
          std::optional<Clock::time_point> detected;
          for (const auto& e : c.events())
            if (e.node == devices[killed]->name() && !e.up && killed_time && e.time >= *killed_time - std::chrono::milliseconds(50)) {
              detected = e.time;
              break;
            }
          f["detect_ms"] = detected ? Json(since_ms(*killed_time, *detected)) : Json(nullptr);
          // Recovered: the first request submitted after detection that was answered.
          std::optional<Clock::time_point> recovered;
          if (detected)
            for (size_t i = 0; i < s.submitted_at.size(); ++i)
              if (s.submitted_at[i] >= *detected && s.done[i] && s.done[i]->second) {
                recovered = s.done[i]->first;
                break;
              }
          f["recover_ms"] = recovered ? Json(since_ms(*killed_time, *recovered)) : Json(nullptr);
          if (s.failed) f["error"] = s.first_error;
          // The device comes back: time until the cluster serves with it again.
          auto back = Clock::now();
          devices[killed]->revive();
          double rejoin_ms = -1;
          for (int i = 0; i < 1000 && rejoin_ms < 0; ++i) {
            for (auto& n : c.nodes())
              if (n.name == devices[killed]->name() && n.ready) rejoin_ms = since_ms(back, Clock::now());
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
          }
          f["rejoin_ms"] = rejoin_ms >= 0 ? Json(rejoin_ms) : Json(nullptr);
          if (!o.json)
            std::cout << fmt::format("  {:8} {:2}  kill {}: sent {:6} answered {:6} failed {:5} lost {} twice {}  detect {} ms  recover {} ms  rejoin {} ms{}\n",
                                     variant, mode, devices[killed]->name(), s.sent, s.answered, s.failed,
                                     f["lost"].get<int64_t>(), s.duplicated,
                                     detected ? fmt::format("{:.1f}", f["detect_ms"].get<double>()) : "-",
                                     recovered ? fmt::format("{:.1f}", f["recover_ms"].get<double>()) : "-",
                                     rejoin_ms >= 0 ? fmt::format("{:.0f}", rejoin_ms) : "-",
                                     s.failed ? "  (" + s.first_error.substr(0, 90) + ")" : "");
          failures.push_back(f);
        }
  }

  write_file_atomically(o.plot, "", svg_plot(cells));
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
  Json ratios{{"fluid_ht_over_static", static_best > 0 ? fluid_ht / static_best : 0.0},
              {"fluid_ht_over_dynamic", dynamic_best > 0 ? fluid_ht / dynamic_best : 0.0},
              {"fluid_ht_over_standalone_sum",
               ips("fluid", "ht", "1") + ips("fluid", "ht", "2") > 0 ? fluid_ht / (ips("fluid", "ht", "1") + ips("fluid", "ht", "2")) : 0.0}};
  if (o.json) {
    print_json(Json{{"settings", settings}, {"cells", cell_list}, {"failures", failures}, {"ratios", ratios}, {"plot", o.plot}});
  } else {
    if (fluid_ht > 0 && static_best > 0 && dynamic_best > 0)
      std::cout << fmt::format("Fluid HT (both) = {:.2f}x Static, {:.2f}x Dynamic (each in its faster mode), {:.0f} % of the two standalone sub-networks' sum\n",
                               ratios["fluid_ht_over_static"].get<double>(), ratios["fluid_ht_over_dynamic"].get<double>(),
                               100 * ratios["fluid_ht_over_standalone_sum"].get<double>());
    std::cout << "plot: " << o.plot << "\n";
  }
}

}  // namespace

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
                  "Speed of each emulated device on the Static model, GFLOP/s (default: an embedded Arm core, "
                  "Cortex-A72 class); the nodes' CPU slowdown is calibrated against this machine to match")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--slowdown", o->slowdown, "CPU slowdown of each node instead of calibrating (1 = this machine's speed)")
      ->check(CLI::Range(1.0, 1000.0));
  cmd->add_option("--max-batch", o->max_batch, "Micro-batch limit on each node")->check(CLI::Range(1, 1024))->capture_default_str();
  cmd->add_option("--concurrency", o->concurrency, "Requests in flight from the client")->check(CLI::Range(1, 100000))->capture_default_str();
  cmd->add_option("--requests", o->requests, "Requests per cell (default: the test split once)")->check(CLI::Range(0, 10000000));
  cmd->add_option("--failure-seconds", o->failure_seconds, "How long each failure run goes on after the kill")
      ->check(CLI::Range(0.5, 600.0))->capture_default_str();
  cmd->add_flag("--skip-failures", o->skip_failures, "Only the throughput/accuracy cells");
  cmd->add_option("--tls", o->tls, "on: mutual TLS between the client and the nodes, as deployed; off: plaintext "
                                   "(to measure what TLS costs)")
      ->check(CLI::IsMember({"on", "off"}))->capture_default_str();
  cmd->add_option("--backend", o->backend, kNodeBackendHelp)
      ->check(CLI::IsMember(kNodeBackends));
  cmd->add_option("--variants", o->variants, "Variants to run (static, dynamic, fluid)")
      ->delimiter(',')->check(CLI::IsMember({"static", "dynamic", "fluid"}))->capture_default_str();
  cmd->add_option("--plot", o->plot, "Where to write the SVG plot")->capture_default_str();
  cmd->add_flag("--json", o->json, "Print one JSON object");
  cmd->callback([o] { run_bench_fluid(*o); });
}

}  // namespace fluidedge::cli
