// A failure trial: a request stream on a running cluster; part-way through, one device is killed
// (kill -9), later restarted on its address, and the stream goes on. What was lost, how long
// detection, recovery and the rejoin took, and the answers over time (all, and those the
// restarted device took part in).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cluster/inference_client.h"
#include "experiment/node_process.h"
#include "experiment/request_stream.h"

namespace fluidedge::experiment {

struct FailureTrialOptions {
  std::chrono::milliseconds before_kill{1000};    // the stream runs this long before the kill
  std::chrono::milliseconds down{2000};           // the device stays down this long
  std::chrono::milliseconds after_restart{2000};  // and the stream goes on this long after the restart
  std::chrono::milliseconds rejoin_wait{5000};    // a rejoin after the stream ended still counts, this long
  int concurrency = 1;
  double bin_ms = 100;  // the timeline's bins
};

struct FailureTimeline {
  double bin_ms = 100;
  std::vector<int64_t> answered, with_killed_device;  // answers per bin
  // Seconds from the stream's start (nullopt: did not happen).
  std::optional<double> killed_s, detected_s, restarted_s, rejoined_s;
};

struct FailureTrial {
  std::string killed;  // the device's name
  int64_t sent = 0, answered = 0, failed = 0, lost = 0, duplicated = 0;
  // From the kill: the cluster saw it down; the first request sent after that was answered.
  std::optional<double> detect_ms, recover_ms;
  std::optional<double> rejoin_ms;  // from the restart to the cluster seeing it up
  int64_t served_by_it_after_rejoin = 0;
  std::string error;  // the first failure's message (empty: none failed)
  FailureTimeline timeline;
};

// Runs the trial on `client` (started, serving with `victim` among its nodes).
FailureTrial run_failure_trial(cluster::InferenceClient& client, NodeProcess& victim, const RequestMaker& make_request,
                               const FailureTrialOptions& options);

}  // namespace fluidedge::experiment
