// What a partitioning plan costs: device models (a measured profile or an analytic roofline),
// link models (rate, latency, framing, energy), and the evaluation of a plan into latency,
// pipeline throughput, energy, memory per device and link traffic, with feasibility against
// the system's constraints. The search evaluates millions of candidates, so PlanEvaluator
// precomputes prefix sums and range-maximum tables once per (graph, system) and then costs a
// candidate in O(devices).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "partition/cut.h"
#include "partition/system.h"

namespace fluidedge::partition {

// Every node's latency on one device, in the graph's node order.
struct NodeLatencies {
  std::vector<double> ms;
  int missing_from_profile = 0;            // profiled device: nodes the profile does not name (costed 0)
  std::vector<std::string> missing_names;  // the first few of them, for the report
};

// How long a device takes to run a node at batch 1.
class DeviceModel {
 public:
  // Fixed cost of launching any node (kernel dispatch, bookkeeping) on the analytic model.
  static constexpr double kNodeOverheadMs = 0.005;

  explicit DeviceModel(DeviceSpec spec);
  const DeviceSpec& spec() const { return spec_; }

  // Analytic: max(compute, memory traffic) + overhead, where compute = 2 * MACs / (peak *
  // efficiency) with the true (grouped) MACs of graph::node_cost, and memory traffic = input,
  // output and weight bytes (scaled to the device's precision) over the memory bandwidth —
  // which is all an elementwise op costs. Shape-only ops (Reshape, Flatten, ...) cost the
  // overhead only; QuantizeLinear and DequantizeLinear nothing (a quantized stage costs as the
  // float one at the device's precision). Profiled: the measured time of the node of that name, 0 if absent.
  double node_ms(const graph::Graph& graph, const graph::Node& node) const;
  NodeLatencies node_latencies(const graph::Graph& graph) const;

  // How long this device takes to run all of `graph` on a batch of `rows` (the graph's own batch
  // being graph::graph_batch): what a node emulating this device takes for a part
  // (`fluidedge node --emulate`). Analytic: MACs and activation bytes grow with the rows, the
  // weights are read once per batch and the per-node overhead is paid once. Profiled: the
  // profile's time of every node, scaled by rows over the profile's batch (no batching gain is
  // assumed that was not measured).
  double graph_ms(const graph::Graph& graph, int64_t rows) const;

  // Bytes of a float tensor of `bytes` at fp32 once stored in the device's precision.
  double precision_scale() const { return precision_bytes(spec_.precision) / 4.0; }

 private:
  // node_ms for `scale` times the graph's batch.
  double scaled_node_ms(const graph::Graph& graph, const graph::Node& node, double scale) const;

  DeviceSpec spec_;
};

// Moving tensors over one link.
class LinkModel {
 public:
  explicit LinkModel(LinkSpec spec);
  const LinkSpec& spec() const { return spec_; }

  // Bits on the wire for a payload of `bytes`, framing included.
  double wire_bits(int64_t bytes) const;
  // Time the link is occupied sending `bytes`: what limits the pipeline's throughput
  // (propagation latency overlaps with the next frame and does not).
  double busy_ms(int64_t bytes) const;
  // Latency + serialisation: what one frame waits end to end.
  double transfer_ms(int64_t bytes) const;
  // Energy of one transfer: bits * nJ/bit, or the transmitter's power while busy (mJ).
  double energy_mj(int64_t bytes) const;
  // Fraction of the link rate used when sending `bytes` per frame at `fps` (> 1: over capacity).
  double utilisation(int64_t bytes, double fps) const;

 private:
  LinkSpec spec_;
};

// A candidate: cut positions (strictly increasing, in the graph's node order) and the device
// running each of the positions.size() + 1 stages. Consecutive stages run on neighbours in
// the device chain, since data can only travel over the links that exist.
struct PipelinePlan {
  std::vector<int> positions;
  std::vector<int> devices;  // indices into SystemDescription::devices

  bool operator==(const PipelinePlan&) const = default;
};

struct PlanCost {
  PipelinePlan plan;
  std::vector<double> stage_ms;          // compute per stage
  std::vector<double> link_ms;           // latency + serialisation per link used
  std::vector<double> link_busy_ms;      // serialisation only
  std::vector<int64_t> link_bytes;       // payload per frame in the transfer format
  std::vector<double> link_utilisation;  // at the target frame rate; 0 without one
  std::vector<int64_t> memory_bytes;     // per stage (= per device used)
  double period_ms = 0;                  // slowest stage or link: the pipeline's beat
  double throughput_fps = 0;             // 1000 / period_ms
  double latency_ms = 0;                 // one frame end to end
  double energy_mj = 0;                  // per inference, devices used only
  int64_t total_link_bytes = 0;
  int64_t peak_memory_bytes = 0;  // the largest of memory_bytes
  bool feasible = true;
  std::string infeasible_reason;  // why not, for the report (first violation found)

  // The plan's value for `objective` in the direction "smaller is better" (throughput as the
  // period), as the Pareto filter compares them.
  double minimised(Objective objective) const;
  // The natural value as reported: fps, ms, mJ, bytes.
  double value(Objective objective) const;
};

// Costs plans of one graph on one system; build once, evaluate many.
class PlanEvaluator {
 public:
  // `cuts` are the cut positions the search may use (all of enumerate_cuts, or a subset);
  // `transfer` is the format of the tensors sent over links (float tensors only are scaled).
  PlanEvaluator(const graph::Graph& graph, const std::vector<Cut>& cuts, const SystemDescription& system,
                Precision transfer = Precision::kFp32);

  int nodes() const { return nodes_; }
  int devices() const { return static_cast<int>(devices_.size()); }
  const SystemDescription& system() const { return system_; }
  const std::vector<int>& cut_positions() const { return cut_positions_; }
  bool is_cut(int position) const;
  // Profile misses per device (0 for analytic devices).
  const NodeLatencies& latencies(int device) const { return latencies_[device]; }

  // The full cost of a plan, feasibility included. An invalid plan (positions not increasing or
  // not cuts, devices not neighbours in the chain or used twice) is an Error.
  PlanCost evaluate(const PipelinePlan& plan) const;

  // O(1) pieces the exact search composes (stage = nodes [begin, end)).
  double stage_ms(int device, int begin, int end) const { return prefix_ms_[device][end] - prefix_ms_[device][begin]; }
  double stage_memory_bytes(int device, int begin, int end) const;
  double memory_limit_bytes(int device) const { return memory_limit_[device]; }
  // Payload crossing `position` in the transfer format (graph inputs at 0, outputs at nodes()).
  int64_t cut_bytes(int position) const { return boundary_bytes_[position]; }
  // The link between chain neighbours a and b (|a - b| == 1).
  const LinkModel& link(int a, int b) const { return links_[std::min(a, b)]; }
  bool link_usable(int from, int to) const;
  const DeviceModel& device(int d) const { return devices_[d]; }

 private:
  double live_max(int precision_bytes, int begin, int end) const;

  SystemDescription system_;
  int nodes_ = 0;
  std::vector<DeviceModel> devices_;
  std::vector<LinkModel> links_;
  std::vector<NodeLatencies> latencies_;
  std::vector<std::vector<double>> prefix_ms_;  // [device][i]: sum of node ms over [0, i)
  std::vector<double> prefix_float_weights_;    // [i]: float initializer bytes of nodes [0, i)
  std::vector<double> prefix_other_weights_;
  // live_table_[k][j][i]: max over nodes [i, i + 2^j) of live activation bytes when float
  // tensors take k bytes (k = 1, 2, 4); a sparse table for O(1) range maxima.
  std::vector<std::vector<double>> live_table_[5];
  std::vector<int64_t> boundary_bytes_;  // [p], p = 0 .. nodes
  std::vector<char> is_cut_;             // [p]
  std::vector<int> cut_positions_;
  std::vector<double> memory_limit_;  // [device], 0: none
};

// One-off evaluation (builds a PlanEvaluator; for many plans, keep one instead).
PlanCost evaluate(const graph::Graph& graph, const std::vector<Cut>& cuts, const std::vector<int>& positions,
                  const std::vector<int>& device_order, const SystemDescription& system,
                  Precision transfer_dtype = Precision::kFp32);

}  // namespace fluidedge::partition
