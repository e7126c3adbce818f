// `fluidedge bench partition`: the partitioner's experiment (experiment/partition_experiment.h)
// from the command line: its flags, a line per model as it goes (bench_partition_output.cpp),
// the JSON and the report.

#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "cli/bench_partition.h"
#include "cli/commands.h"
#include "cli/error_boundary.h"
#include "cli/json_output.h"
#include "cli/report/sections.h"
#include "cli/tool_paths.h"
#include "common/atomic_file.h"
#include "experiment/partition_experiment.h"

namespace fluidedge::cli {
namespace {

namespace fs = std::filesystem;
using experiment::kPartitionPaperModels;

}  // namespace

Json run_bench_partition(PartitionBenchOptions o) {
  experiment::PartitionExperimentOptions e;
  e.models = o.models;
  e.slowdowns = o.slowdowns;
  e.link_rate = o.link_rate;
  e.link_latency = o.link_latency;
  e.seconds = o.seconds;
  e.concurrency = o.concurrency;
  e.repeats = o.repeats;
  e.out = o.out;
  e.system_file = o.system_file;
  e.explore_only = o.explore_only;
  e.backend = o.backend;
  e.tls = o.tls == "on";
  e.precisions = o.precisions;
  e.accuracy_samples = o.accuracy_samples;
  e.node_binary = node_binary();
  experiment::PartitionProgress progress;
  if (!o.json) {
    progress.started = [&e](const experiment::PartitionSettings& s) { print_partition_started(e, s); };
    progress.model = [](const experiment::PartitionModelResult& row) { print_partition_model(row); };
  }
  const experiment::PartitionReport report = experiment::run_partition_experiment(e, progress);
  Json out = partition_report_json(report);
  if (!o.explore_only && !o.plot.empty()) {
    out["plot"] = o.plot;
    report::draw_partition_figure(o.plot, out);
  }
  if (!o.json) print_partition_summary(report, o.plot);
  return out;
}

void add_bench_partition_command(CLI::App& bench) {
  auto* cmd = bench.add_subcommand("partition",
                                   "The partitioner's experiment: best single device vs best split on two emulated "
                                   "devices, predicted and measured");
  auto o = std::make_shared<PartitionBenchOptions>();
  cmd->add_option("--models", o->models, fmt::format("Zoo models (default: {})", kPartitionPaperModels))
      ->delimiter(',');
  cmd->add_option("--slowdowns", o->slowdowns,
                  "How much slower than this host's core dev1 and dev2 are: their profiles are this host's, scaled by "
                  "these (the nodes emulate the profiles)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--link-rate", o->link_rate, "Emulated dev1 -> dev2 link rate, Mbit/s (0 = none)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--link-latency", o->link_latency, "Emulated one-way latency of that link, ms")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--seconds", o->seconds, "Measured streaming time per deployment")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  cmd->add_option("--concurrency", o->concurrency, "Requests in flight")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  cmd->add_option("--repeats", o->repeats, "Timed runs of the profile")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  cmd->add_option("--out", o->out, "Directory for profiles, system.yaml and stage files per model")
      ->capture_default_str();
  cmd->add_option("--system", o->system_file,
                  "Plan for and emulate the two devices of this system.yaml as declared (e.g. examples/"
                  "two_boards_100mbit.yaml), instead of this host's profile scaled by --slowdowns")
      ->excludes("--slowdowns")
      ->excludes("--link-rate")
      ->excludes("--link-latency");
  cmd->add_option("--plot", o->plot,
                  "Where to write the PNG chart of predicted against measured throughput (its "
                  "data and gnuplot script beside it)")
      ->capture_default_str();
  cmd->add_option("--report", o->report, "Also write an HTML report of this run to DIR/index.html (plots beside it)");
  cmd->add_flag("--explore-only", o->explore_only, "Profile and explore (2, 3 and 4 devices) only; deploy nothing");
  cmd->add_option("--tls", o->tls,
                  "on: mutual TLS between the client and the nodes, as deployed; off: plaintext "
                  "(to measure what TLS costs)")
      ->check(CLI::IsMember({"on", "off"}))
      ->capture_default_str();
  cmd->add_option("--backend", o->backend, kNodeBackendHelp)->check(CLI::IsMember(kNodeBackends));
  cmd->add_option("--precision", o->precisions,
                  "dev1's and dev2's precision (fp32 or int8, e.g. fp32,int8): that setting run beside the all-fp32 "
                  "one, each device profiled in its precision, the front's plans scored on accuracy with int8 stages "
                  "quantized, int8 stages deployed quantized")
      ->delimiter(',')
      ->excludes("--system");
  cmd->add_option("--accuracy-samples", o->accuracy_samples,
                  "Random inputs the front's plans are scored on when a device is below fp32")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "Print one JSON object");
  cmd->callback([o] {
    if (!o->report.empty()) check_writable_dir(o->report, "--report");
    Json result = run_bench_partition(*o);
    if (o->json) print_json(result);
    if (!o->report.empty()) {
      report::write_bench_report(o->report, "fluidedge bench partition",
                                 report::partition_sections(result, o->report, invoked_command()));
      if (!o->json) std::cout << "report: " << (fs::path(o->report) / "index.html").string() << "\n";
    }
  });
}

}  // namespace fluidedge::cli
