// The Fluid DyDNN paper's experiment, end to end, with real device-node processes on this
// machine. Static, Dynamic and Fluid models are trained (or reused), deployed one part per node
// (Static cut in two stages by the partitioner, never replicated), and served in HA and HT mode
// with device 1 only, device 2 only, and both; then each device is killed mid-stream and
// restarted, to measure what the failure costs and how it rejoins. `fluidedge bench fluid` and
// `fluidedge demo` run it and render its report.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "experiment/failure_trial.h"

namespace fluidedge::experiment {

struct FluidExperimentOptions {
  std::string models = "runs/bench-fluid";  // trained there when missing
  std::string data = "mnist";
  int epochs = 15;
  double link_rate = 100;     // Mbit/s, each device's link
  double link_latency = 0.5;  // ms each way
  int max_batch = 8;
  int concurrency = 64;
  int requests = 0;  // per cell; 0: the whole test split once
  // The emulated devices: each node emulates a declared device of `device_gflops` (achieved on
  // conv/gemm) and `device_bandwidth` GB/s, the same the partitioner plans the Static split for
  // (fluidedge node --emulate): an embedded Arm core on these small layers. Unemulated, one core
  // of this machine runs the paper CNN ~50x faster, and every cell would measure the client and
  // the links, i.e. this host, instead of the devices.
  double device_gflops = 2.0;
  double device_bandwidth = 4.0;
  double failure_seconds = 2;  // how long a killed device stays down before it is restarted
  std::string backend;         // the nodes' (and the calibration's); empty: runtime::default_backend()
  bool tls = true;             // mutual TLS between the client and the nodes (a throwaway CA); false: plaintext
  bool skip_failures = false;
  std::vector<std::string> variants{"static", "dynamic", "fluid"};
  std::string tool_binary;  // fluidedge (to train with)
  std::string node_binary;  // fluidedge-node
};

struct FluidSettings {
  int devices = 2;
  bool pinned = false;  // each node on its own core
  std::string backend;
  int64_t requests_per_cell = 0;
  std::string emulated_devices;  // the system file the nodes emulate
  double host_gflops = 0;        // one core of this machine on the Static model
  std::string static_split;      // the partitioner's two-stage plan, described
  double static_predicted_ips = 0;
};

struct FluidCell {
  std::string variant, mode, online;                      // mode ha|ht; online "1", "2" or "both"
  double throughput = 0, p50 = 0, p99 = 0, accuracy = 0;  // images/s, ms, ms, fraction (0: did not run)
  std::string error;                                      // why it could not run, or what failed
};

struct FluidFailureRun {
  std::string variant, mode;
  FailureTrial trial;
};

struct FluidReport {
  FluidExperimentOptions options;
  FluidSettings settings;
  std::vector<FluidCell> cells;
  std::vector<FluidFailureRun> failures;
  // Fluid HT with both devices over each baseline's better mode with both up, and over the sum
  // of its two standalone sub-networks: nullopt when a cell it needs did not run.
  std::optional<double> fluid_ht_over_static, fluid_ht_over_dynamic, fluid_ht_over_standalone_sum;

  // A cell's throughput (0 when it did not run or is not in the report).
  double throughput(const std::string& variant, const std::string& mode, const std::string& online) const;
};

// Called as the experiment goes (from its thread), for progress output.
struct FluidProgress {
  std::function<void(const FluidSettings&)> started;
  std::function<void(const FluidCell&)> cell;
  std::function<void()> failures_started;
  std::function<void(const FluidFailureRun&)> failure;
};

FluidReport run_fluid_experiment(const FluidExperimentOptions& options, const FluidProgress& progress = {});

}  // namespace fluidedge::experiment
