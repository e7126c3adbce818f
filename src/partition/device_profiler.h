// Measuring a device profile (per-node latency at batch 1) on this machine with a lean backend,
// as it fuses and executes the model. The partitioner cuts the model's own nodes, so the time of
// each executed step is attributed back to them: the step's main node gets the step (and the
// layout reorders run just before it, which exist because of it); nodes fused into a step, and
// nodes the backend folded away (batch norms into convolutions, identities), are listed with 0 ms
// and say where their work went. The JSON written is what load_device_profile reads. An int8
// profile times the model's quantized form and is keyed by the float model's node names, as the
// partitioner cuts the float model.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "partition/system.h"

namespace fluidedge::partition {

struct ProfileOptions {
  std::string device;   // name written into the profile (default: this machine's host name)
  std::string backend;  // fast or xnnpack; empty: runtime::default_backend(), as a node picks
  int threads = 1;      // backend threads (a device node uses 1)
  int repeats = 20;     // timed runs; each step's median is kept
  uint64_t seed = 1;    // random inputs
  double scale = 1.0;   // multiplies every time (an emulated device `scale` times slower)
  // kInt8: the model is quantized first (post-training, calibrated on a few random inputs) and
  // its int8 form timed; each step's time goes back to the node of `graph` it came from. No
  // backend runs fp16.
  Precision precision = Precision::kFp32;
};

struct ProfiledNode {
  std::string name, op_type;
  double ms = 0;
  std::string fused_into;  // non-empty: executed inside that node's step
  bool folded = false;     // removed by the backend's rewrites (its work is in another node)
  int reorders = 0;        // layout conversions charged to this node
};

struct MeasuredProfile {
  std::string model;
  ProfileOptions options;
  std::vector<ProfiledNode> nodes;  // every node of the model, in its order
  double total_ms = 0;              // sum of the node times (steps timed one by one)
  double run_ms = 0;                // median of whole runs without per-step synchronisation
  int64_t steps = 0;

  DeviceProfile profile() const;  // as load_device_profile would return it
  std::string json() const;       // the file `fluidedge profile` writes
};

MeasuredProfile measure_device_profile(const graph::Graph& graph, const ProfileOptions& options);

}  // namespace fluidedge::partition
