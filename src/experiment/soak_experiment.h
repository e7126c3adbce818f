// The soak: a two-node Fluid cluster under steady load for M minutes while its nodes are killed
// (kill -9) and frozen (SIGSTOP) at random and brought back, one at a time. Counts what was
// sent, answered, failed, lost and answered twice, and samples every node's resident memory (and
// this process's, the coordinator's) once a second: a node or coordinator that leaks, or a
// failover path that drops or doubles a request, shows here. `fluidedge bench soak` runs it and
// renders its report.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "experiment/request_stream.h"

namespace fluidedge::experiment {

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
  std::string backend;  // empty: runtime::default_backend()
  bool tls = true;
  std::string tool_binary;  // fluidedge (to train with)
  std::string node_binary;  // fluidedge-node
};

struct Fault {
  double at = 0, repaired = 0;  // seconds into the soak
  std::string node, action;     // "kill -9" or "SIGSTOP"
};

// One resident-memory sample of a series (a node, or the client).
struct MemorySample {
  double t = 0, mib = 0;
  long pid = 0;  // 0: not running
};

// A series' memory per process: a node killed and restarted is a new process that starts small.
// For every process that lived over a minute, its growth after its first minute: the largest
// sample after against the largest in that minute (a process grows to its working set first; a
// leak keeps growing).
struct MemorySummary {
  size_t processes = 0;
  double longest_life_s = 0;
  int lived_over_a_minute = 0;
  std::optional<double> worst_growth_after_first_minute_percent;  // none lived over a minute
  double peak_mib = 0;
};
MemorySummary summarize_memory(const std::vector<MemorySample>& series);

struct SoakReport {
  SoakOptions options;
  bool pinned = false;
  std::string emulated_devices;  // the system file the nodes emulate
  StreamResult stream;           // the load's counts
  int64_t correct = 0;           // answers with the test label
  bool drained = false;          // every request answered or failed before the stream returned
  int64_t late_replies = 0;      // replies the coordinator ignored (already answered)
  double seconds = 0;
  std::vector<Fault> faults;
  std::vector<std::string> series;                // "dev1", "dev2", "client"
  std::vector<std::vector<MemorySample>> memory;  // per series, one sample a second
  std::vector<std::pair<double, double>> rate;    // (t, answers per second), one a second

  double accuracy() const;
  double throughput_ips() const;  // answered over the soak's planned length
};

// Called once a second (from the experiment's thread), for progress output.
using SoakTick = std::function<void(double seconds, int64_t answered, size_t faults, const std::string& down)>;
// Called once the cluster serves, before the load starts.
using SoakStarted = std::function<void(const SoakReport& settings)>;

// Throws Error for inconsistent options (gap or outage ranges) or a cluster that cannot start.
SoakReport run_soak(const SoakOptions& options, const SoakStarted& started = {}, const SoakTick& tick = {});

}  // namespace fluidedge::experiment
