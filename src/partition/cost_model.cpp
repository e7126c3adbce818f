#include "partition/cost_model.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "common/error.h"
#include "graph/cost.h"
#include "graph/op_schema.h"
#include "graph/shape_inference.h"

namespace fluidedge::partition {

namespace {

constexpr double kMiB = 1024.0 * 1024.0;

// Ops that cost no compute: a runtime aliases their output to their input, or they are
// evaluated when the graph is loaded (Shape and Constant).
bool shape_only(const std::string& op) {
  return graph::op_has_trait(op, graph::kShapeOnly) || op == "Shape" || op == "Constant";
}

// Bytes of a value when float tensors take `float_bytes` per element.
double value_bytes(const graph::ValueInfo& v, int float_bytes) {
  double numel = static_cast<double>(graph::shape_numel(v.shape));
  return numel * (graph::dtype_is_float(v.dtype) ? float_bytes : static_cast<int>(graph::dtype_size(v.dtype)));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// DeviceModel

DeviceModel::DeviceModel(DeviceSpec spec) : spec_(std::move(spec)) {}

double DeviceModel::node_ms(const graph::Graph& graph, const graph::Node& node) const {
  return scaled_node_ms(graph, node, 1.0);
}

double DeviceModel::scaled_node_ms(const graph::Graph& graph, const graph::Node& node, double scale) const {
  if (spec_.profile) {
    auto it = spec_.profile->node_ms.find(node.name);
    return it == spec_.profile->node_ms.end() ? 0.0 : it->second * scale;
  }
  if (shape_only(node.op_type)) return kNodeOverheadMs;
  // A quantized graph (an int8 device's stage file) costs what the float graph it quantizes does
  // at the device's precision: runtimes fuse its QuantizeLinear/DequantizeLinear pairs into the
  // integer kernels' requantisation and fold those of constant weights.
  if (node.op_type == "QuantizeLinear" || node.op_type == "DequantizeLinear") return 0;
  graph::NodeCost cost = graph::node_cost(graph, node);
  // GFLOP/s = 1e6 FLOP per ms; GB/s = 1e6 bytes per ms.
  double compute_ms = scale * 2.0 * static_cast<double>(cost.macs) / (spec_.peak_gflops * spec_.efficiency * 1e6);
  double bytes =
      (scale * static_cast<double>(cost.input_bytes + cost.output_bytes) + static_cast<double>(cost.weight_bytes)) *
      precision_scale();
  double memory_ms = bytes / (spec_.memory_bandwidth_gbps * 1e6);
  return std::max(compute_ms, memory_ms) + kNodeOverheadMs;
}

double DeviceModel::graph_ms(const graph::Graph& graph, int64_t rows) const {
  const double own_batch = static_cast<double>(spec_.profile ? std::max(1, spec_.profile->batch)
                                                             : std::max<int64_t>(1, graph::graph_batch(graph)));
  const double scale = static_cast<double>(rows) / own_batch;
  double total = 0;
  for (const auto& node : graph.nodes) total += scaled_node_ms(graph, node, scale);
  return total;
}

NodeLatencies DeviceModel::node_latencies(const graph::Graph& graph) const {
  NodeLatencies out;
  out.ms.reserve(graph.nodes.size());
  for (const auto& node : graph.nodes) {
    out.ms.push_back(node_ms(graph, node));
    if (spec_.profile && spec_.profile->node_ms.count(node.name) == 0) {
      ++out.missing_from_profile;
      if (out.missing_names.size() < 5) out.missing_names.push_back(node.name);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// LinkModel

LinkModel::LinkModel(LinkSpec spec) : spec_(std::move(spec)) {}

double LinkModel::wire_bits(int64_t bytes) const { return static_cast<double>(bytes) * 8.0 * (1.0 + spec_.overhead); }

double LinkModel::busy_ms(int64_t bytes) const {
  return wire_bits(bytes) / (spec_.rate_mbps * 1e3);  // Mbit/s = 1e3 bits per ms
}

double LinkModel::transfer_ms(int64_t bytes) const { return spec_.latency_ms + busy_ms(bytes); }

double LinkModel::energy_mj(int64_t bytes) const {
  if (spec_.energy_nj_per_bit > 0) return wire_bits(bytes) * spec_.energy_nj_per_bit * 1e-6;
  return spec_.power_w * busy_ms(bytes);  // W * ms = mJ
}

double LinkModel::utilisation(int64_t bytes, double fps) const {
  return wire_bits(bytes) * fps / (spec_.rate_mbps * 1e6);
}

// ---------------------------------------------------------------------------------------------
// PlanCost

double PlanCost::minimised(Objective objective) const {
  switch (objective) {
    case Objective::kThroughput:
      return period_ms;
    case Objective::kLatency:
      return latency_ms;
    case Objective::kEnergy:
      return energy_mj;
    case Objective::kMemory:
      return static_cast<double>(peak_memory_bytes);
    case Objective::kLinkBytes:
      return static_cast<double>(total_link_bytes);
  }
  return 0;
}

double PlanCost::value(Objective objective) const {
  return objective == Objective::kThroughput ? throughput_fps : minimised(objective);
}

// ---------------------------------------------------------------------------------------------
// PlanEvaluator

PlanEvaluator::PlanEvaluator(const graph::Graph& graph, const std::vector<Cut>& cuts, const SystemDescription& system,
                             Precision transfer)
    : system_(system), nodes_(static_cast<int>(graph.nodes.size())) {
  if (nodes_ == 0) fail("graph '{}' has no nodes to partition", graph.name);
  if (system_.links.size() + 1 != system_.devices.size())
    fail("{}: {} links for {} devices", system_.source, system_.links.size(), system_.devices.size());
  const int n = nodes_;
  for (const auto& spec : system_.devices) devices_.emplace_back(spec);
  for (const auto& spec : system_.links) links_.emplace_back(spec);
  for (int d = 0; d < devices(); ++d) {
    latencies_.push_back(devices_[d].node_latencies(graph));
    std::vector<double> prefix(n + 1, 0.0);
    for (int i = 0; i < n; ++i) prefix[i + 1] = prefix[i] + latencies_[d].ms[i];
    prefix_ms_.push_back(std::move(prefix));
    memory_limit_.push_back(system_.memory_limit_bytes(d));
  }

  // Weights: each node's initializers, so a stage holds the weights of its nodes. An
  // initializer read by several nodes is counted for each (an overestimate, never an underestimate).
  prefix_float_weights_.assign(n + 1, 0.0);
  prefix_other_weights_.assign(n + 1, 0.0);
  for (int i = 0; i < n; ++i) {
    double fl = 0, other = 0;
    for (const auto& in : graph.nodes[i].inputs) {
      if (in.empty()) continue;
      if (const graph::Tensor* t = graph.initializer(in))
        (graph::dtype_is_float(t->dtype()) ? fl : other) += static_cast<double>(t->nbytes());
    }
    prefix_float_weights_[i + 1] = prefix_float_weights_[i] + fl;
    prefix_other_weights_[i + 1] = prefix_other_weights_[i] + other;
  }

  // Live activations at each node: every non-initializer value from the node producing it (0
  // for graph inputs) to its last reader (the last node for graph outputs).
  std::map<std::string, std::pair<int, int>> span;  // value -> [first, last] node index
  for (const auto& in : graph.inputs) span[in] = {0, 0};
  for (int i = 0; i < n; ++i) {
    for (const auto& in : graph.nodes[i].inputs)
      if (!in.empty() && !graph.is_initializer(in)) {
        auto [it, fresh] = span.try_emplace(in, i, i);
        it->second.second = std::max(it->second.second, i);
      }
    for (const auto& out : graph.nodes[i].outputs)
      if (!out.empty()) span.try_emplace(out, i, i);
  }
  for (const auto& out : graph.outputs)
    if (auto it = span.find(out); it != span.end()) it->second.second = n - 1;
  std::set<int> float_sizes;
  for (const auto& d : system_.devices) float_sizes.insert(precision_bytes(d.precision));
  for (int fb : float_sizes) {
    std::vector<double> delta(n + 1, 0.0);
    for (const auto& [name, s] : span) {
      double b = value_bytes(graph.value(name), fb);
      delta[s.first] += b;
      delta[s.second + 1] -= b;
    }
    std::vector<std::vector<double>> table(1, std::vector<double>(n));
    double run = 0;
    for (int i = 0; i < n; ++i) table[0][i] = run += delta[i];
    for (int j = 1; (1 << j) <= n; ++j) {
      const auto& prev = table[j - 1];
      std::vector<double> level(n - (1 << j) + 1);
      for (size_t i = 0; i < level.size(); ++i) level[i] = std::max(prev[i], prev[i + (1 << (j - 1))]);
      table.push_back(std::move(level));
    }
    live_table_[fb] = std::move(table);
  }

  // Link payloads in the transfer format: float tensors scaled, others (indices) as they are.
  const int tb = precision_bytes(transfer);
  boundary_bytes_.assign(n + 1, 0);
  is_cut_.assign(n + 1, 0);
  for (const auto& in : graph.inputs) boundary_bytes_[0] += static_cast<int64_t>(value_bytes(graph.value(in), tb));
  for (const auto& out : graph.outputs) boundary_bytes_[n] += static_cast<int64_t>(value_bytes(graph.value(out), tb));
  for (const auto& cut : cuts) {
    if (cut.position < 1 || cut.position >= n)
      fail("cut position {} is outside 1..{} of graph '{}'", cut.position, n - 1, graph.name);
    if (is_cut_[cut.position]) continue;
    int64_t bytes = 0;
    for (const auto& t : cut.tensors) bytes += static_cast<int64_t>(value_bytes(graph.value(t), tb));
    boundary_bytes_[cut.position] = bytes;
    is_cut_[cut.position] = 1;
    cut_positions_.push_back(cut.position);
  }
  std::sort(cut_positions_.begin(), cut_positions_.end());
}

bool PlanEvaluator::is_cut(int position) const { return position > 0 && position < nodes_ && is_cut_[position]; }

bool PlanEvaluator::link_usable(int from, int to) const {
  if (to == from + 1) return true;
  return to == from - 1 && links_[to].spec().bidirectional;
}

double PlanEvaluator::live_max(int float_bytes, int begin, int end) const {
  const auto& table = live_table_[float_bytes];
  int j = std::bit_width(static_cast<unsigned>(end - begin)) - 1;
  return std::max(table[j][begin], table[j][end - (1 << j)]);
}

double PlanEvaluator::stage_memory_bytes(int device, int begin, int end) const {
  const DeviceModel& d = devices_[device];
  double weights = (prefix_float_weights_[end] - prefix_float_weights_[begin]) * d.precision_scale() +
                   (prefix_other_weights_[end] - prefix_other_weights_[begin]);
  // Incoming and outgoing cut tensors get their own buffers so that the device can receive the
  // next frame and send the previous one while it computes (that is what makes it a pipeline).
  double buffers = static_cast<double>(boundary_bytes_[begin] + boundary_bytes_[end]);
  return weights + live_max(precision_bytes(d.spec().precision), begin, end) + buffers;
}

PlanCost PlanEvaluator::evaluate(const PipelinePlan& plan) const {
  const auto& pos = plan.positions;
  const auto& dev = plan.devices;
  if (dev.size() != pos.size() + 1)
    fail("a plan with {} cuts needs {} devices, not {}", pos.size(), pos.size() + 1, dev.size());
  for (size_t i = 0; i < pos.size(); ++i) {
    if (!is_cut(pos[i])) fail("position {} is not a cut the planner may use", pos[i]);
    if (i > 0 && pos[i] <= pos[i - 1]) fail("cut positions must increase strictly");
  }
  for (size_t s = 0; s < dev.size(); ++s) {
    if (dev[s] < 0 || dev[s] >= devices()) fail("device index {} out of range", dev[s]);
    if (s > 0 && !link_usable(dev[s - 1], dev[s]))
      fail("devices '{}' and '{}' are not joined by a link in that direction", system_.devices[dev[s - 1]].name,
           system_.devices[dev[s]].name);
    if (std::count(dev.begin(), dev.end(), dev[s]) > 1) fail("device '{}' is used twice", system_.devices[dev[s]].name);
  }

  PlanCost c;
  c.plan = plan;
  const size_t k = dev.size();
  const std::vector<int> bounds = stage_bounds(pos, nodes_);
  for (size_t s = 0; s < k; ++s) {
    c.stage_ms.push_back(stage_ms(dev[s], bounds[s], bounds[s + 1]));
    c.memory_bytes.push_back(static_cast<int64_t>(stage_memory_bytes(dev[s], bounds[s], bounds[s + 1])));
  }
  const double fps = system_.constraints.target_fps;
  double link_energy = 0;
  for (size_t s = 0; s + 1 < k; ++s) {
    const LinkModel& l = link(dev[s], dev[s + 1]);
    int64_t bytes = cut_bytes(bounds[s + 1]);
    c.link_bytes.push_back(bytes);
    c.link_ms.push_back(l.transfer_ms(bytes));
    c.link_busy_ms.push_back(l.busy_ms(bytes));
    c.link_utilisation.push_back(fps > 0 ? l.utilisation(bytes, fps) : 0.0);
    link_energy += l.energy_mj(bytes);
    c.total_link_bytes += bytes;
  }
  c.period_ms = 0;
  for (double t : c.stage_ms) c.period_ms = std::max(c.period_ms, t);
  for (double t : c.link_busy_ms) c.period_ms = std::max(c.period_ms, t);
  // A model costed at zero everywhere (an empty profile) would have infinite throughput.
  c.period_ms = std::max(c.period_ms, 1e-9);
  c.throughput_fps = 1000.0 / c.period_ms;
  c.latency_ms = 0;
  for (double t : c.stage_ms) c.latency_ms += t;
  for (double t : c.link_ms) c.latency_ms += t;
  // Each device used is busy for its stage and idles for the rest of the pipeline's period;
  // devices the plan leaves out are not counted (they may be switched off or do other work).
  c.energy_mj = link_energy;
  for (size_t s = 0; s < k; ++s) {
    const DeviceSpec& d = system_.devices[dev[s]];
    c.energy_mj += d.active_power_w * c.stage_ms[s] + d.idle_power_w * (c.period_ms - c.stage_ms[s]);
  }
  c.peak_memory_bytes = *std::max_element(c.memory_bytes.begin(), c.memory_bytes.end());

  for (size_t s = 0; s < k && c.feasible; ++s) {
    double limit = memory_limit_[dev[s]];
    if (limit > 0 && static_cast<double>(c.memory_bytes[s]) > limit) {
      c.feasible = false;
      c.infeasible_reason = fmt::format("device '{}' needs {:.3g} MB for nodes {}..{}, over its {:g} MB limit",
                                        system_.devices[dev[s]].name, c.memory_bytes[s] / kMiB, bounds[s],
                                        bounds[s + 1] - 1, limit / kMiB);
    }
  }
  for (size_t s = 0; s + 1 < k && c.feasible; ++s) {
    if (c.link_utilisation[s] > 1.0) {
      const LinkModel& l = link(dev[s], dev[s + 1]);
      c.feasible = false;
      c.infeasible_reason = fmt::format(
          "link {}->{} would carry {:.3f} MB per frame, {:.1f} Mbit/s with framing at {} fps, over its {} Mbit/s",
          system_.devices[dev[s]].name, system_.devices[dev[s + 1]].name, c.link_bytes[s] / kMiB,
          l.wire_bits(c.link_bytes[s]) * fps / 1e6, fps, l.spec().rate_mbps);
    }
  }
  const double max_latency = system_.constraints.max_latency_ms;
  if (c.feasible && max_latency > 0 && c.latency_ms > max_latency) {
    c.feasible = false;
    c.infeasible_reason = fmt::format("latency {:.2f} ms is over the {} ms bound", c.latency_ms, max_latency);
  }
  return c;
}

PlanCost evaluate(const graph::Graph& graph, const std::vector<Cut>& cuts, const std::vector<int>& positions,
                  const std::vector<int>& device_order, const SystemDescription& system, Precision transfer_dtype) {
  PlanEvaluator evaluator(graph, cuts, system, transfer_dtype);
  return evaluator.evaluate({positions, device_order});
}

}  // namespace fluidedge::partition
