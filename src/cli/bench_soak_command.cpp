// `fluidedge bench soak`: the soak (experiment/soak_experiment.h) from the command line: its
// flags, a progress bar, a table on stdout (or one JSON object), and a plot of every process's
// memory and the answers per second, faults shaded.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/gnuplot.h"
#include "cli/json_output.h"
#include "cli/tool_paths.h"
#include "common/error.h"
#include "common/progress.h"
#include "experiment/soak_experiment.h"

namespace fluidedge::cli {
namespace {
namespace fs = std::filesystem;
using experiment::Fault;

struct SoakCommandOptions {
  experiment::SoakOptions soak;
  std::string tls = "on";
  std::string plot = "bench-soak.png";
  bool json = false;
};

Json memory_json(const experiment::MemorySummary& m) {
  return Json{
      {"processes", m.processes},
      {"longest_life_s", m.longest_life_s},
      {"lived_over_a_minute", m.lived_over_a_minute},
      {"worst_growth_after_first_minute_percent",
       m.worst_growth_after_first_minute_percent ? Json(*m.worst_growth_after_first_minute_percent) : Json(nullptr)},
      {"peak_mib", m.peak_mib}};
}

Json settings_json(const experiment::SoakReport& r, const std::string& tls) {
  const auto& o = r.options;
  return Json{{"minutes", o.minutes},
              {"variant", "fluid"},
              {"mode", o.mode},
              {"devices", 2},
              {"pinned", r.pinned},
              {"backend", o.backend},
              {"tls", tls == "on" ? "mutual TLS" : "off (plaintext)"},
              {"emulated_devices", r.emulated_devices},
              {"device_gflops", o.device_gflops},
              {"device_bandwidth_gbps", o.device_bandwidth},
              {"link_rate_mbps", o.link_rate},
              {"link_latency_ms", o.link_latency},
              {"concurrency", o.concurrency},
              {"max_batch", o.max_batch},
              {"fault_gap_s", {o.gap_min, o.gap_max}},
              {"outage_s", {o.outage_min, o.outage_max}},
              {"seed", o.seed}};
}

void draw_plot(const std::string& plot, const experiment::SoakReport& r) {
  const auto& names = r.series;
  const auto& rss = r.memory;
  const auto& rate = r.rate;
  const auto& faults = r.faults;
  std::string data = "# seconds";
  for (const auto& n : names) data += " " + n + "_rss_mib";
  data += " answers_per_s\n";
  for (size_t k = 0; k < rate.size(); ++k) {
    data += fmt::format("{:.2f}", rate[k].first);
    for (const auto& s : rss) data += fmt::format(" {:.2f}", k < s.size() && s[k].mib > 0 ? s[k].mib : NAN);
    data += fmt::format(" {:.1f}\n", rate[k].second);
  }
  const std::string dat = plot + ".dat";
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
      gnuplot_quoted(plot),
      gnuplot_quoted(fmt::format("bench soak: Fluid {} on 2 nodes, faults shaded (red: kill -9, blue: SIGSTOP)",
                                 r.options.mode == "ha" ? "HA" : "HT")),
      marks, plot_lines, gnuplot_quoted(dat), names.size() + 2);
  draw_with_gnuplot(plot, script);
}

void run_bench_soak(const SoakCommandOptions& c) {
  if (!fs::path(c.plot).parent_path().empty() && !fs::is_directory(fs::path(c.plot).parent_path()))
    fail("bench soak: --plot {}: no directory {}", c.plot, fs::path(c.plot).parent_path().string());
  const experiment::SoakOptions& o = c.soak;
  std::optional<ProgressBar> progress;  // from the start of the load
  int64_t shown = 0;
  auto started = [&](const experiment::SoakReport& r) {
    if (!c.json)
      std::cout
          << fmt::format(
                 "bench soak: Fluid {} on 2 nodes ({} backend, each emulating {:g} GFLOP/s and {:g} GB/s, {}), {} "
                 "in flight, {:g} minutes; a fault every {:g}-{:g} s (kill -9 or SIGSTOP, {:g}-{:g} s long)\n",
                 o.mode == "ha" ? "HA" : "HT", r.options.backend, o.device_gflops, o.device_bandwidth,
                 o.tls ? "mutual TLS" : "plaintext", o.concurrency, o.minutes, o.gap_min, o.gap_max, o.outage_min,
                 o.outage_max)
          << std::flush;
    progress.emplace("bench soak", static_cast<int64_t>(o.minutes * 60));
  };
  auto tick = [&](double now, int64_t answered, size_t faults, const std::string& down) {
    progress->advance(static_cast<int64_t>(now) - shown, fmt::format("{} answered, {} faults{}", answered, faults,
                                                                     down.empty() ? "" : ", " + down + " down"));
    shown = static_cast<int64_t>(now);
  };
  const experiment::SoakReport r = experiment::run_soak(o, started, tick);
  if (progress) progress->finish(r.drained ? "drained" : "requests still in flight after 30 s");
  const experiment::StreamResult& sent = r.stream;
  Json result{{"sent", sent.sent}, {"answered", sent.answered},         {"failed", sent.failed},
              {"lost", sent.lost}, {"answered_twice", sent.duplicated}, {"accuracy", r.accuracy()}};
  if (!sent.first_error.empty()) result["first_error"] = sent.first_error;
  result["drained"] = r.drained;
  result["late_replies_ignored"] = r.late_replies;
  result["seconds"] = r.seconds;
  result["throughput_ips"] = r.throughput_ips();

  Json memory = Json::object(), samples = Json::array();
  for (size_t s = 0; s < r.series.size(); ++s)
    memory[r.series[s]] = memory_json(experiment::summarize_memory(r.memory[s]));
  for (size_t k = 0; k < r.rate.size(); ++k) {
    Json row{{"t", r.rate[k].first}, {"answers_per_s", r.rate[k].second}};
    for (size_t s = 0; s < r.series.size(); ++s) row[r.series[s] + "_rss_mib"] = r.memory[s][k].mib;
    samples.push_back(row);
  }
  Json fault_list = Json::array();
  for (const auto& f : r.faults)
    fault_list.push_back({{"at_s", f.at}, {"repaired_s", f.repaired}, {"node", f.node}, {"action", f.action}});
  int64_t kills = std::count_if(r.faults.begin(), r.faults.end(), [](const Fault& f) { return f.action == "kill -9"; });
  draw_plot(c.plot, r);

  if (c.json) {
    print_json(Json{{"settings", settings_json(r, c.tls)},
                    {"result", result},
                    {"memory", memory},
                    {"faults", fault_list},
                    {"samples", samples},
                    {"plot", c.plot}});
    return;
  }
  std::cout << fmt::format("faults: {} ({} kill -9, {} SIGSTOP)\n", r.faults.size(), kills, r.faults.size() - kills);
  std::cout << fmt::format(
      "sent {}  answered {}  failed {}  lost {}  answered twice {}  ({:.0f} images/s, accuracy {:.2f} %, "
      "{} late replies ignored)\n",
      sent.sent, sent.answered, sent.failed, sent.lost, sent.duplicated, r.throughput_ips(), 100 * r.accuracy(),
      r.late_replies);
  if (!sent.first_error.empty()) std::cout << "first failure: " << sent.first_error << "\n";
  for (const auto& n : r.series) {
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
  std::cout << "plot: " << c.plot << "\n";
}

}  // namespace

void add_bench_soak_command(CLI::App& bench) {
  auto* cmd =
      bench.add_subcommand("soak", "A Fluid cluster under steady load while its nodes are killed and frozen at random");
  auto o = std::make_shared<SoakCommandOptions>();
  cmd->add_option("--minutes", o->soak.minutes, "How long the load runs")
      ->check(CLI::Range(0.1, 10000.0))
      ->capture_default_str();
  cmd->add_option("--mode", o->soak.mode, "Fluid mode: ht or ha")
      ->check(CLI::IsMember({"ht", "ha"}))
      ->capture_default_str();
  cmd->add_option("--models", o->soak.models, "Directory of trained models (fluid/); trained there if missing")
      ->capture_default_str();
  cmd->add_option("--data", o->soak.data, "mnist, fashion-mnist or an IDX directory")->capture_default_str();
  cmd->add_option("--epochs", o->soak.epochs, "Epochs when training is needed")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option("--concurrency", o->soak.concurrency, "Requests in flight from the client")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--max-batch", o->soak.max_batch, "Micro-batch limit on each node")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  cmd->add_option("--device-gflops", o->soak.device_gflops,
                  "Conv/gemm rate of each emulated device, GFLOP/s (as bench fluid)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--device-bandwidth", o->soak.device_bandwidth, "Memory bandwidth of each emulated device, GB/s")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--link-rate", o->soak.link_rate, "Emulated link rate of each device, Mbit/s (0 = none)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--link-latency", o->soak.link_latency, "Emulated one-way latency of each link, ms")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--gap-min", o->soak.gap_min, "Least time between a repair and the next fault, s")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  cmd->add_option("--gap-max", o->soak.gap_max, "Most time between a repair and the next fault, s")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  cmd->add_option("--outage-min", o->soak.outage_min, "Shortest outage (a node killed or frozen), s")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  cmd->add_option("--outage-max", o->soak.outage_max, "Longest outage, s")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  cmd->add_option("--seed", o->soak.seed, "Seed of the fault schedule")->capture_default_str();
  cmd->add_option("--tls", o->tls, "on: mutual TLS between the client and the nodes; off: plaintext")
      ->check(CLI::IsMember({"on", "off"}))
      ->capture_default_str();
  cmd->add_option("--backend", o->soak.backend, kNodeBackendHelp)->check(CLI::IsMember(kNodeBackends));
  cmd->add_option("--plot", o->plot, "Where to write the PNG plot (its data and gnuplot script beside it)")
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "Print one JSON object");
  cmd->callback([o] {
    o->soak.tls = o->tls == "on";
    o->soak.tool_binary = tool_binary();
    o->soak.node_binary = node_binary();
    run_bench_soak(*o);
  });
}

}  // namespace fluidedge::cli
