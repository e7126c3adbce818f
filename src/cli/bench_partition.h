// `fluidedge bench partition`: the partitioner's experiment with real device-node processes
// (experiment/partition_experiment.h), callable by `fluidedge demo` as well as from its command line.
#pragma once

#include <string>
#include <vector>

#include "cli/json_output.h"
#include "experiment/partition_experiment.h"

namespace fluidedge::cli {

struct PartitionBenchOptions {
  std::vector<std::string> models;
  // Both devices slower than this host's core, so the host's own jitter (another process, a cold
  // cache) fits inside the emulated time instead of showing in it; dev2 1.6 times slower than dev1.
  std::vector<double> slowdowns{2.0, 3.2};
  double link_rate = 200;
  double link_latency = 0.2;
  double seconds = 4;
  int concurrency = 4;
  int repeats = 20;
  std::string out = "runs/bench-partition";
  std::string plot = "bench-partition.png";  // predicted against measured per model (empty: none)
  std::string report;                        // a directory for an HTML report of the run (empty: none)
  // A system.yaml of two devices to plan for and emulate, as declared (analytic or profiled),
  // instead of this host's profile scaled by `slowdowns`; its first link is dev1 -> dev2's.
  std::string system_file;
  bool json = false;
  bool explore_only = false;  // profiles and exploration only, nothing deployed
  std::string backend;        // the nodes' and their profiles'; empty: runtime::default_backend()
  std::string tls = "on";     // on: mutual TLS between the client and the nodes (a throwaway CA); off: plaintext
  std::vector<std::string> precisions;  // dev1's and dev2's, a setting run beside all-fp32 (empty: none)
  int accuracy_samples = 32;
};

// Profiles (or reads --system), explores, deploys and measures every model, printing a line per
// model as it goes (unless o.json), and draws o.plot; returns what `--json` prints.
Json run_bench_partition(PartitionBenchOptions o);

// Its rendering (bench_partition_output.cpp): the JSON `--json` prints (and the report reads),
// the start line, a line per model, and the summary.
Json partition_report_json(const experiment::PartitionReport& report);
void print_partition_started(const experiment::PartitionExperimentOptions& o, const experiment::PartitionSettings& s);
void print_partition_model(const experiment::PartitionModelResult& row);
void print_partition_summary(const experiment::PartitionReport& report, const std::string& plot);

}  // namespace fluidedge::cli
