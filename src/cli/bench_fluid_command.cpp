// `fluidedge bench fluid`: the Fluid DyDNN paper's experiment (experiment/fluid_experiment.h),
// its flags and its rendering: a table on stdout as it goes (or one JSON object), a PNG like
// Figure 2, and with --report an HTML report (cli/report/sections.h).

#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "cli/bench_fluid.h"
#include "cli/commands.h"
#include "cli/error_boundary.h"
#include "cli/json_output.h"
#include "cli/report/sections.h"
#include "cli/tool_paths.h"
#include "common/atomic_file.h"

namespace fluidedge::cli {
namespace {
namespace fs = std::filesystem;

Json optional_json(const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); }

Json settings_json(const experiment::FluidReport& r) {
  const auto& o = r.options;
  const auto& s = r.settings;
  return Json{
      {"devices", s.devices},
      {"cores_per_device", 1},
      {"pinned", s.pinned},
      {"backend", s.backend},
      {"tls", o.tls ? "mutual TLS (a throwaway CA; every node and the client with a certificate)" : "off (plaintext)"},
      {"link_rate_mbps", o.link_rate},
      {"link_latency_ms", o.link_latency},
      {"max_batch", o.max_batch},
      {"concurrency", o.concurrency},
      {"requests_per_cell", s.requests_per_cell},
      {"images_per_request", 1},
      {"emulated_devices", s.emulated_devices},
      {"device_gflops", o.device_gflops},
      {"device_bandwidth_gbps", o.device_bandwidth},
      {"host_gflops", s.host_gflops},
      {"data", o.data},
      {"models", o.models},
      {"static_split", s.static_split},
      {"static_predicted_ips", s.static_predicted_ips}};
}

Json failure_json(const experiment::FluidFailureRun& run) {
  const experiment::FailureTrial& t = run.trial;
  Json f{{"variant", run.variant},
         {"mode", run.mode},
         {"killed", t.killed},
         {"sent", t.sent},
         {"answered", t.answered},
         {"failed", t.failed},
         {"lost", t.lost},
         {"duplicated", t.duplicated},
         {"detect_ms", optional_json(t.detect_ms)},
         {"recover_ms", optional_json(t.recover_ms)},
         {"rejoin_ms", optional_json(t.rejoin_ms)},
         {"served_by_it_after_rejoin", t.served_by_it_after_rejoin}};
  if (!t.error.empty()) f["error"] = t.error;
  const auto& l = t.timeline;
  f["timeline"] = Json{{"bin_ms", l.bin_ms},
                       {"answered", l.answered},
                       {"with_killed_device", l.with_killed_device},
                       {"killed_s", optional_json(l.killed_s)},
                       {"detected_s", optional_json(l.detected_s)},
                       {"restarted_s", optional_json(l.restarted_s)},
                       {"rejoined_s", optional_json(l.rejoined_s)}};
  return f;
}

void print_started(const experiment::FluidExperimentOptions& o, const experiment::FluidSettings& s) {
  std::cout << fmt::format(
      "bench fluid: 2 devices (1 core each{}, {} backend, each emulating a device of {:g} GFLOP/s and "
      "{:g} GB/s; this core runs the Static model at {:.1f}), links {} Mbit/s + {} ms each way, requests "
      "of 1 image, micro-batches up to {}, {} in flight, {} requests per cell; Static cut: {}\n",
      s.pinned ? ", pinned" : "", s.backend, o.device_gflops, o.device_bandwidth, s.host_gflops, o.link_rate,
      o.link_latency, o.max_batch, o.concurrency, s.requests_per_cell, s.static_split);
}

void print_cell(const experiment::FluidCell& c) {
  if (c.throughput > 0)
    std::cout << fmt::format(
        "  {:8} {:2}  online {:4}  {:8.1f} images/s  p50 {:6.2f} ms  p99 {:6.2f} ms  accuracy {:6.2f} %\n", c.variant,
        c.mode, c.online, c.throughput, c.p50, c.p99, 100 * c.accuracy);
  else
    std::cout << fmt::format("  {:8} {:2}  online {:4}  cannot run: {}\n", c.variant, c.mode, c.online, c.error);
}

void print_failure(const experiment::FluidFailureRun& run) {
  const experiment::FailureTrial& t = run.trial;
  auto ms = [](const std::optional<double>& v) { return v ? fmt::format("{:.0f}", *v) : std::string("-"); };
  std::cout << fmt::format(
      "  {:8} {:2}  kill {}: sent {:6} answered {:6} failed {:5} lost {} twice {}  detect {} ms  "
      "recover {} ms  rejoin {} ms after the restart{}\n",
      run.variant, run.mode, t.killed, t.sent, t.answered, t.failed, t.lost, t.duplicated, ms(t.detect_ms),
      ms(t.recover_ms), ms(t.rejoin_ms), t.error.empty() ? "" : "\n      failed with: " + t.error);
}

}  // namespace

Json fluid_report_json(const experiment::FluidReport& r, const std::string& plot) {
  Json cells = Json::array();
  for (const auto& c : r.cells) {
    Json j{{"variant", c.variant}, {"mode", c.mode}, {"online", c.online}};
    if (c.throughput > 0) {
      j["throughput_ips"] = c.throughput;
      j["p50_ms"] = c.p50;
      j["p99_ms"] = c.p99;
      j["accuracy"] = c.accuracy;
    }
    if (!c.error.empty()) j["error"] = c.error;
    cells.push_back(j);
  }
  Json failures = Json::array();
  for (const auto& f : r.failures) failures.push_back(failure_json(f));
  // A ratio whose cells did not run (--variants, a failed cell) is null, not 0.
  Json ratios{{"fluid_ht_over_static", optional_json(r.fluid_ht_over_static)},
              {"fluid_ht_over_dynamic", optional_json(r.fluid_ht_over_dynamic)},
              {"fluid_ht_over_standalone_sum", optional_json(r.fluid_ht_over_standalone_sum)}};
  return Json{
      {"settings", settings_json(r)}, {"cells", cells}, {"failures", failures}, {"ratios", ratios}, {"plot", plot}};
}

Json run_bench_fluid(FluidBenchOptions o) {
  o.run.tls = o.tls == "on";
  o.run.tool_binary = tool_binary();
  o.run.node_binary = node_binary();
  experiment::FluidProgress progress;
  if (!o.json) {
    progress.started = [&](const experiment::FluidSettings& s) { print_started(o.run, s); };
    progress.cell = print_cell;
    progress.failures_started = [&] {
      std::cout << fmt::format("failure runs (a device killed 1 s into the stream and restarted {:g} s later):\n",
                               o.run.failure_seconds);
    };
    progress.failure = print_failure;
  }
  const experiment::FluidReport report = experiment::run_fluid_experiment(o.run, progress);
  Json result = fluid_report_json(report, o.plot);
  if (!o.plot.empty()) report::draw_fluid_figure(o.plot, result);
  if (!o.json) {
    if (report.fluid_ht_over_static && report.fluid_ht_over_dynamic && report.fluid_ht_over_standalone_sum)
      std::cout << fmt::format(
          "Fluid HT (both) = {:.2f}x Static, {:.2f}x Dynamic (each in its faster mode), {:.0f} % of the "
          "two standalone sub-networks' sum\n",
          *report.fluid_ht_over_static, *report.fluid_ht_over_dynamic, 100 * *report.fluid_ht_over_standalone_sum);
    if (!o.plot.empty()) std::cout << "plot: " << o.plot << "\n";
  }
  return result;
}

void add_bench_fluid_command(CLI::App& bench) {
  auto* cmd = bench.add_subcommand(
      "fluid", "The Fluid DyDNN experiment: Static/Dynamic/Fluid x HA/HT x devices online, and failures");
  auto o = std::make_shared<FluidBenchOptions>();
  cmd->add_option("--models", o->run.models,
                  "Directory of trained models (static/, dynamic/, fluid/); trained there if missing")
      ->capture_default_str();
  cmd->add_option("--data", o->run.data, "mnist, fashion-mnist or an IDX directory")->capture_default_str();
  cmd->add_option("--epochs", o->run.epochs, "Epochs when training is needed")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option("--link-rate", o->run.link_rate, "Emulated link rate of each device, Mbit/s (0 = none)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--link-latency", o->run.link_latency, "Emulated one-way latency of each link, ms")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--device-gflops", o->run.device_gflops,
                  "Conv/gemm rate of each emulated device, GFLOP/s (default: an embedded Arm core, Cortex-A72 class); "
                  "the nodes emulate it and the Static split is planned for it")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--device-bandwidth", o->run.device_bandwidth, "Memory bandwidth of each emulated device, GB/s")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--max-batch", o->run.max_batch, "Micro-batch limit on each node")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  cmd->add_option("--concurrency", o->run.concurrency, "Requests in flight from the client")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--requests", o->run.requests, "Requests per cell (default: the test split once)")
      ->check(CLI::Range(0, 10000000));
  cmd->add_option("--failure-seconds", o->run.failure_seconds,
                  "How long the killed device stays down in each failure run")
      ->check(CLI::Range(0.5, 600.0))
      ->capture_default_str();
  cmd->add_flag("--skip-failures", o->run.skip_failures, "Only the throughput/accuracy cells");
  cmd->add_option("--tls", o->tls,
                  "on: mutual TLS between the client and the nodes, as deployed; off: plaintext "
                  "(to measure what TLS costs)")
      ->check(CLI::IsMember({"on", "off"}))
      ->capture_default_str();
  cmd->add_option("--backend", o->run.backend, kNodeBackendHelp)->check(CLI::IsMember(kNodeBackends));
  cmd->add_option("--variants", o->run.variants, "Variants to run (static, dynamic, fluid)")
      ->delimiter(',')
      ->check(CLI::IsMember({"static", "dynamic", "fluid"}))
      ->capture_default_str();
  cmd->add_option("--plot", o->plot,
                  "Where to write the PNG plot like the paper's Figure 2 (its data and gnuplot "
                  "script beside it)")
      ->capture_default_str();
  cmd->add_option("--report", o->report, "Also write an HTML report of this run to DIR/index.html (plots beside it)");
  cmd->add_flag("--json", o->json, "Print one JSON object");
  cmd->callback([o] {
    if (!o->report.empty()) check_writable_dir(o->report, "--report");
    Json result = run_bench_fluid(*o);
    if (o->json) print_json(result);
    if (!o->report.empty()) {
      report::write_bench_report(o->report, "fluidedge bench fluid",
                                 report::fluid_sections(result, o->report, invoked_command()));
      if (!o->json) std::cout << "report: " << (fs::path(o->report) / "index.html").string() << "\n";
    }
  });
}

}  // namespace fluidedge::cli
