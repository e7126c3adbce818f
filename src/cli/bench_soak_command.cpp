// `fluidedge bench soak`: a two-node Fluid cluster under steady load for M minutes while its
// nodes are killed (kill -9) and frozen (SIGSTOP) at random and brought back. Counts what was
// sent, answered, failed, lost and answered twice, and samples every node's resident memory
// (and the client's) once a second: a node or coordinator that leaks, or a failover path that
// drops or doubles a request, shows here. A table on stdout (or one JSON object), and a plot.

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "cli/gnuplot.h"
#include "cli/json_output.h"
#include "cli/tool_paths.h"
#include "cluster/coordinator.h"
#include "cluster/tls.h"
#include "common/error.h"
#include "common/progress.h"
#include "common/resources.h"
#include "data/dataset.h"
#include "experiment/emulated_devices.h"
#include "experiment/node_process.h"
#include "experiment/request_stream.h"
#include "experiment/trained_models.h"
#include "runtime/backends.h"

namespace fluidedge::cli {
namespace {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct SoakOptions {
  double minutes = 10;
  std::string models = "runs/bench-fluid";  // shared with bench fluid: trained once
  std::string data = "mnist";
  int epochs = 15;
  std::string mode = "ht";
  int concurrency = 16;
  int max_batch = 8;
  double device_gflops = 2.0;  // each node emulates a device of these (as bench fluid)
  double device_bandwidth = 4.0;
  double link_rate = 100;
  double link_latency = 0.5;
  double gap_min = 4, gap_max = 12;       // seconds between one fault's repair and the next fault
  double outage_min = 1, outage_max = 6;  // seconds a node stays killed or frozen
  uint64_t seed = 1;
  std::string backend;
  std::string tls = "on";
  std::string plot = "bench-soak.png";
  bool json = false;
};

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double self_rss_mib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0;
}

struct Fault {
  double at = 0, repaired = 0;  // seconds into the soak
  std::string node, action;     // "kill -9" or "SIGSTOP"
};

// Memory of one series (a node, or the client) per process: a node killed and restarted is a
// new process that starts small. For every process that lived over a minute, its growth after
// its first minute: the largest sample after against the largest in that minute (a process
// grows to its working set first; a leak keeps growing).
struct Sample {
  double t = 0, mib = 0;
  long pid = 0;  // 0: not running
};

Json memory_summary(const std::vector<Sample>& series) {
  struct Life {
    double start = -1, end = 0, first = 0, after = 0;
  };
  std::map<long, Life> lives;
  double peak = 0;
  for (const Sample& s : series) {
    if (s.pid == 0 || s.mib <= 0) continue;
    Life& l = lives[s.pid];
    if (l.start < 0) l.start = s.t;
    l.end = s.t;
    (s.t - l.start <= 60 ? l.first : l.after) = std::max(s.t - l.start <= 60 ? l.first : l.after, s.mib);
    peak = std::max(peak, s.mib);
  }
  double longest = 0, worst = -1e300;
  int judged = 0;
  for (const auto& [pid, l] : lives) {
    longest = std::max(longest, l.end - l.start);
    if (l.after > 0 && l.first > 0) {
      ++judged;
      worst = std::max(worst, 100 * (l.after / l.first - 1));
    }
  }
  return Json{{"processes", lives.size()},
              {"longest_life_s", longest},
              {"lived_over_a_minute", judged},
              {"worst_growth_after_first_minute_percent", judged ? Json(worst) : Json(nullptr)},
              {"peak_mib", peak}};
}

void draw_plot(const SoakOptions& o, const std::vector<std::string>& names, const std::vector<std::vector<Sample>>& rss,
               const std::vector<std::pair<double, double>>& rate, const std::vector<Fault>& faults) {
  std::string data = "# seconds";
  for (const auto& n : names) data += " " + n + "_rss_mib";
  data += " answers_per_s\n";
  for (size_t k = 0; k < rate.size(); ++k) {
    data += fmt::format("{:.2f}", rate[k].first);
    for (const auto& s : rss) data += fmt::format(" {:.2f}", k < s.size() && s[k].mib > 0 ? s[k].mib : NAN);
    data += fmt::format(" {:.1f}\n", rate[k].second);
  }
  const std::string dat = o.plot + ".dat";
  std::ofstream(dat) << data;
  std::string marks;
  for (const auto& f : faults) {
    marks += fmt::format(
        "set object rect from {:.2f}, graph 0 to {:.2f}, graph 1 fc rgb {} fs transparent solid 0.25 noborder behind\n",
        f.at, std::max(f.repaired, f.at + 0.2), f.action == "kill -9" ? "\"#e15759\"" : "\"#4e79a7\"");
    if (faults.size() <= 24)
      marks += fmt::format("set label {} at {:.2f}, graph 0.97 font ',7' front\n", gnuplot_quoted(f.node), f.at);
  }
  std::string plot_lines;
  for (size_t i = 0; i < names.size(); ++i)
    plot_lines += fmt::format("{}{} using 1:{} with lines lw 2 title {}", i ? ", " : "", gnuplot_quoted(dat), i + 2,
                              gnuplot_quoted(names[i] + (names[i] == "client" ? " (coordinator)" : "")));
  std::string script = fmt::format(
      "set terminal pngcairo size 1000,700 font 'sans,10'\nset output {}\nset multiplot layout 2,1 title {}\n"
      "set grid\nset xlabel 'time into the soak (s)'\nset key outside right top\nset lmargin 10\nset rmargin 26\n{}"
      "set ylabel 'resident memory (MiB)'\nset yrange [0:*]\nplot {}\n"
      "set ylabel 'answers per second'\nplot {} using 1:{} with lines lw 1 lc rgb '#59a14f' title 'answered'\n"
      "unset multiplot\n",
      gnuplot_quoted(o.plot),
      gnuplot_quoted(fmt::format("bench soak: Fluid {} on 2 nodes, faults shaded (red: kill -9, blue: SIGSTOP)",
                                 o.mode == "ha" ? "HA" : "HT")),
      marks, plot_lines, gnuplot_quoted(dat), names.size() + 2);
  draw_with_gnuplot(o.plot, script);
}

void run_bench_soak(SoakOptions o) {
  if (o.backend.empty()) o.backend = runtime::default_backend();
  if (o.gap_max < o.gap_min) fail("bench soak: --gap-max ({}) is below --gap-min ({})", o.gap_max, o.gap_min);
  if (o.outage_max < o.outage_min)
    fail("bench soak: --outage-max ({}) is below --outage-min ({})", o.outage_max, o.outage_min);
  if (!fs::path(o.plot).parent_path().empty() && !fs::is_directory(fs::path(o.plot).parent_path()))
    fail("bench soak: --plot {}: no directory {}", o.plot, fs::path(o.plot).parent_path().string());
  cluster::LocalCertificates certs(o.tls == "on", {"dev1", "dev2"}, "bench-soak");
  // The coordinator's warnings would be one per fault; the summary counts them instead.
  spdlog::set_level(spdlog::level::err);
  experiment::ensure_trained(tool_binary(), o.models, "fluid", o.data, o.epochs, "bench soak");
  const std::string system =
      experiment::write_emulated_system((fs::path(o.models) / "bench-soak-devices.yaml").string(), 2, o.device_gflops,
                                        o.device_bandwidth, o.link_rate, o.link_latency);
  auto dataset = data::load_dataset(o.data);
  bool pin = std::thread::hardware_concurrency() >= 2;
  std::vector<std::unique_ptr<experiment::NodeProcess>> devices;
  for (int i = 0; i < 2; ++i) {
    std::string name = fmt::format("dev{}", i + 1);
    experiment::DeviceSettings d{o.max_batch,         o.link_rate, o.link_latency,
                                 system + ":" + name, o.backend,   certs.node_arguments(name),
                                 pin ? i : -1};
    devices.push_back(std::make_unique<experiment::NodeProcess>(std::vector<std::string>{node_binary()}, name,
                                                                experiment::device_arguments(d)));
  }
  std::string yaml =
      fmt::format("variant: fluid\nmode: {}\nmodel: {}\nmax_batch: {}\nwindow: {}\nrequest_timeout_ms: 20000\nnodes:\n",
                  o.mode, fs::absolute(fs::path(o.models) / "fluid").string(), o.max_batch, 2 * o.max_batch);
  for (size_t i = 0; i < devices.size(); ++i)
    yaml += fmt::format("  - {{name: {}, address: {}, part: part{}.onnx}}\n", devices[i]->name(), devices[i]->address(),
                        i + 1);
  yaml += certs.cluster_yaml();
  cluster::Coordinator coordinator(cluster::parse_cluster_config(yaml, "bench-soak cluster", "."));
  coordinator.start(10000);

  Json settings{{"minutes", o.minutes},
                {"variant", "fluid"},
                {"mode", o.mode},
                {"devices", 2},
                {"pinned", pin},
                {"backend", o.backend},
                {"tls", o.tls == "on" ? "mutual TLS" : "off (plaintext)"},
                {"emulated_devices", system},
                {"device_gflops", o.device_gflops},
                {"device_bandwidth_gbps", o.device_bandwidth},
                {"link_rate_mbps", o.link_rate},
                {"link_latency_ms", o.link_latency},
                {"concurrency", o.concurrency},
                {"max_batch", o.max_batch},
                {"fault_gap_s", {o.gap_min, o.gap_max}},
                {"outage_s", {o.outage_min, o.outage_max}},
                {"seed", o.seed}};
  if (!o.json)
    std::cout << fmt::format(
                     "bench soak: Fluid {} on 2 nodes ({} backend, each emulating {:g} GFLOP/s and {:g} GB/s, {}), {} "
                     "in flight, "
                     "{:g} minutes; a fault every {:g}-{:g} s (kill -9 or SIGSTOP, {:g}-{:g} s long)\n",
                     o.mode == "ha" ? "HA" : "HT", o.backend, o.device_gflops, o.device_bandwidth,
                     o.tls == "on" ? "mutual TLS" : "plaintext", o.concurrency, o.minutes, o.gap_min, o.gap_max,
                     o.outage_min, o.outage_max)
              << std::flush;

  // The load: `concurrency` single-image requests in flight for as long as the soak runs; every
  // request's answers are counted, so one answered twice or never is seen.
  std::atomic<bool> stop{false};
  std::atomic<int64_t> answered{0}, correct{0};
  const data::Split& test = dataset.test;
  experiment::StreamOptions load;
  load.concurrency = o.concurrency;
  load.stop_when = [&] { return stop.load(); };
  load.retry_after_failure = std::chrono::milliseconds(0);
  load.drain_timeout = std::chrono::milliseconds(30000);
  experiment::StreamResult sent;
  std::thread sender([&] {
    sent = experiment::run_stream(
        coordinator,
        [&](int64_t i) {
          return runtime::TensorMap{{"input", test.images.rows(i % test.size(), 1)}};
        },
        load,
        [&](int64_t i, const cluster::Answer& a) {
          if (!a.error.empty()) return;
          ++answered;
          correct += experiment::predicts(a, 0, test.labels.data<int64_t>()[i % test.size()]);
        });
  });

  std::mt19937_64 random(o.seed);
  auto uniform = [&](double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(random); };
  const auto start = Clock::now();
  const double total_s = o.minutes * 60;
  std::vector<std::string> names{"dev1", "dev2", "client"};
  std::vector<std::vector<Sample>> rss(names.size());
  std::vector<std::pair<double, double>> rate;  // answers per second, per sample
  std::vector<Fault> faults;
  int down = -1;  // the faulted device (-1: none)
  double next_fault = uniform(o.gap_min, o.gap_max), repair_at = 0;
  int64_t last_answered = 0;
  double last_sample = 0;
  ProgressBar progress("bench soak", static_cast<int64_t>(total_s));
  int64_t shown = 0;
  auto all_ready = [&] {
    for (const auto& n : coordinator.nodes())
      if (!n.ready) return false;
    return true;
  };
  // Once a second: every node's memory (with its process, as a killed node comes back as a new
  // one), the client's, and the answers since the last sample.
  auto take_sample = [&](double now) {
    for (size_t i = 0; i < devices.size(); ++i)
      rss[i].push_back({now, devices[i]->rss_mib(), devices[i]->pid() > 0 ? devices[i]->pid() : 0});
    rss.back().push_back({now, self_rss_mib(), static_cast<long>(::getpid())});
    int64_t a = answered.load();
    rate.push_back({now, static_cast<double>(a - last_answered) / (rate.empty() ? now : now - rate.back().first)});
    last_answered = a;
  };
  while (true) {
    double now = seconds_since(start);
    if (now >= total_s) break;
    if (now - last_sample >= 1.0) {
      last_sample = now;
      take_sample(now);
      progress.advance(static_cast<int64_t>(now) - shown,
                       fmt::format("{} answered, {} faults{}", last_answered, faults.size(),
                                   down >= 0 ? ", " + devices[down]->name() + " down" : ""));
      shown = static_cast<int64_t>(now);
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
  const bool drained = sent.lost == 0;
  progress.finish(drained ? "drained" : "requests still in flight after 30 s");
  Json result{
      {"sent", sent.sent},
      {"answered", sent.answered},
      {"failed", sent.failed},
      {"lost", sent.lost},
      {"answered_twice", sent.duplicated},
      {"accuracy", sent.answered ? static_cast<double>(correct.load()) / static_cast<double>(sent.answered) : 0.0}};
  if (!sent.first_error.empty()) result["first_error"] = sent.first_error;
  result["drained"] = drained;
  result["late_replies_ignored"] = coordinator.late_replies();
  result["seconds"] = seconds_since(start);
  result["throughput_ips"] = result["answered"].get<double>() / total_s;

  Json memory = Json::object(), samples = Json::array();
  for (size_t s = 0; s < names.size(); ++s) memory[names[s]] = memory_summary(rss[s]);
  for (size_t k = 0; k < rate.size(); ++k) {
    Json row{{"t", rate[k].first}, {"answers_per_s", rate[k].second}};
    for (size_t s = 0; s < names.size(); ++s) row[names[s] + "_rss_mib"] = rss[s][k].mib;
    samples.push_back(row);
  }
  Json fault_list = Json::array();
  for (const auto& f : faults)
    fault_list.push_back({{"at_s", f.at}, {"repaired_s", f.repaired}, {"node", f.node}, {"action", f.action}});
  int64_t kills = std::count_if(faults.begin(), faults.end(), [](const Fault& f) { return f.action == "kill -9"; });
  draw_plot(o, names, rss, rate, faults);

  if (o.json) {
    print_json(Json{{"settings", settings},
                    {"result", result},
                    {"memory", memory},
                    {"faults", fault_list},
                    {"samples", samples},
                    {"plot", o.plot}});
    return;
  }
  std::cout << fmt::format("faults: {} ({} kill -9, {} SIGSTOP)\n", faults.size(), kills, faults.size() - kills);
  std::cout << fmt::format(
      "sent {}  answered {}  failed {}  lost {}  answered twice {}  ({:.0f} images/s, accuracy {:.2f} %, "
      "{} late replies ignored)\n",
      result["sent"].get<int64_t>(), result["answered"].get<int64_t>(), result["failed"].get<int64_t>(),
      result["lost"].get<int64_t>(), result["answered_twice"].get<int64_t>(), result["throughput_ips"].get<double>(),
      100 * result["accuracy"].get<double>(), result["late_replies_ignored"].get<int64_t>());
  if (result.contains("first_error"))
    std::cout << "first failure: " << result["first_error"].get<std::string>() << "\n";
  for (const auto& n : names) {
    const Json& m = memory[n];
    const Json& worst = m["worst_growth_after_first_minute_percent"];
    std::cout << fmt::format(
        "  {:7} {} process{}, {} lived over a minute (longest {:.0f} s): largest growth after its first "
        "minute {}, peak {:.1f} MiB\n",
        n, m["processes"].get<int>(), m["processes"].get<int>() == 1 ? "" : "es", m["lived_over_a_minute"].get<int>(),
        m["longest_life_s"].get<double>(),
        worst.is_null() ? std::string("-") : fmt::format("{:+.1f} %", worst.get<double>()),
        m["peak_mib"].get<double>());
  }
  std::cout << "plot: " << o.plot << "\n";
}

}  // namespace

void add_bench_soak_command(CLI::App& bench) {
  auto* cmd =
      bench.add_subcommand("soak", "A Fluid cluster under steady load while its nodes are killed and frozen at random");
  auto o = std::make_shared<SoakOptions>();
  cmd->add_option("--minutes", o->minutes, "How long the load runs")
      ->check(CLI::Range(0.1, 10000.0))
      ->capture_default_str();
  cmd->add_option("--mode", o->mode, "Fluid mode: ht or ha")->check(CLI::IsMember({"ht", "ha"}))->capture_default_str();
  cmd->add_option("--models", o->models, "Directory of trained models (fluid/); trained there if missing")
      ->capture_default_str();
  cmd->add_option("--data", o->data, "mnist, fashion-mnist or an IDX directory")->capture_default_str();
  cmd->add_option("--epochs", o->epochs, "Epochs when training is needed")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option("--concurrency", o->concurrency, "Requests in flight from the client")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--max-batch", o->max_batch, "Micro-batch limit on each node")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  cmd->add_option("--device-gflops", o->device_gflops,
                  "Conv/gemm rate of each emulated device, GFLOP/s (as bench fluid)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--device-bandwidth", o->device_bandwidth, "Memory bandwidth of each emulated device, GB/s")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--link-rate", o->link_rate, "Emulated link rate of each device, Mbit/s (0 = none)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--link-latency", o->link_latency, "Emulated one-way latency of each link, ms")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--gap-min", o->gap_min, "Least time between a repair and the next fault, s")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  cmd->add_option("--gap-max", o->gap_max, "Most time between a repair and the next fault, s")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  cmd->add_option("--outage-min", o->outage_min, "Shortest outage (a node killed or frozen), s")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  cmd->add_option("--outage-max", o->outage_max, "Longest outage, s")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "Seed of the fault schedule")->capture_default_str();
  cmd->add_option("--tls", o->tls, "on: mutual TLS between the client and the nodes; off: plaintext")
      ->check(CLI::IsMember({"on", "off"}))
      ->capture_default_str();
  cmd->add_option("--backend", o->backend, kNodeBackendHelp)->check(CLI::IsMember(kNodeBackends));
  cmd->add_option("--plot", o->plot, "Where to write the PNG plot (its data and gnuplot script beside it)")
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "Print one JSON object");
  cmd->callback([o] { run_bench_soak(*o); });
}

}  // namespace fluidedge::cli
