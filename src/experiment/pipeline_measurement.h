// A Static pipeline deployed on running nodes and measured: the stages of a model directory
// (ModelDirectory::write_static; stage i on node i) served through the coordinator, a closed-loop stream timed after a
// warm-up, and what each node says it computed meanwhile (its Stats): the measured side of `bench partition`'s
// predicted against measured.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cluster/tls.h"
#include "experiment/node_process.h"
#include "runtime/session.h"

namespace fluidedge::experiment {

struct PipelineMeasurement {
  double ips = 0;  // answered requests per second while measured
  int64_t answered = 0, failed = 0;
  std::vector<double> node_ms;  // per stage: the node's mean compute per request (the emulated device's wait included)
  std::vector<double> host_ms;  // per stage: the same runs on this host, before that wait
  std::vector<int64_t> overruns;      // per stage: runs the host could not finish within the emulated time
  std::vector<std::string> backends;  // per stage: the node's backend, as its stats name it
  std::string error;                  // the first failure's message
};

// Deploys `model_dir`'s stages on `nodes` (max batch 1) and streams `input` with `concurrency` in
// flight for `seconds` (at least `concurrency` requests), after a warm-up of 2 x concurrency.
// Throws Error when no request is answered.
PipelineMeasurement measure_pipeline(const std::string& model_dir, const std::vector<NodeProcess*>& nodes,
                                     const runtime::TensorMap& input, int concurrency, double seconds,
                                     const cluster::LocalCertificates& certs);

}  // namespace fluidedge::experiment
