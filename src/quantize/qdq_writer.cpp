#include "quantize/qdq_writer.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>

#include "common/error.h"
#include "graph/shape_inference.h"
#include "graph/transforms.h"

namespace fluidedge::quantize {

namespace {

using graph::DType;
using graph::Graph;
using graph::Node;
using graph::Tensor;

bool is_float_activation(const Graph& g, const std::string& v) {
  return !v.empty() && !g.is_initializer(v) && g.value(v).dtype == DType::kFloat32;
}

// The weight input of a node whose product runs in integers, its per-channel axis, or -1.
struct Weighted {
  size_t weight = 0;
  int64_t axis = 0;
  bool has_bias = false;
};

std::optional<Weighted> weighted(const Graph& g, const Node& n) {
  if (n.op_type == "Conv" && n.inputs.size() >= 2 && g.is_initializer(n.inputs[1]) &&
      g.value(n.inputs[0]).shape.size() == 4 && (!n.has_input(2) || g.is_initializer(n.inputs[2])))
    return Weighted{1, 0, n.has_input(2)};
  if (n.op_type == "Gemm" && g.is_initializer(n.input(1)) && n.attr_int("transA", 0) == 0 &&
      n.attr_float("alpha", 1.f) == 1.f && n.attr_float("beta", 1.f) == 1.f &&
      (!n.has_input(2) || (g.is_initializer(n.inputs[2]) && g.initializer(n.inputs[2])->rank() == 1)))
    return Weighted{1, n.attr_int("transB", 0) ? 0 : 1, n.has_input(2)};
  if (n.op_type == "MatMul" && g.is_initializer(n.input(1)) && g.value(n.input(1)).shape.size() == 2)
    return Weighted{1, 1, false};
  return std::nullopt;
}

// Ops whose activation inputs are quantized (and their output, see quantized_output).
bool runs_quantized(const Graph& g, const Node& n) {
  if (weighted(g, n)) return is_float_activation(g, n.inputs[0]);
  if (n.op_type == "Add")
    return n.inputs.size() == 2 && is_float_activation(g, n.inputs[0]) && is_float_activation(g, n.inputs[1]) &&
           g.value(n.inputs[0]).shape == g.value(n.inputs[1]).shape;
  if (n.op_type == "GlobalAveragePool" || n.op_type == "MaxPool")
    return is_float_activation(g, n.inputs[0]) && g.value(n.inputs[0]).shape.size() == 4;
  if (n.op_type == "Concat")
    return std::all_of(n.inputs.begin(), n.inputs.end(),
                       [&](const std::string& in) { return is_float_activation(g, in); });
  return false;
}

// The value that carries a quantized op's output: its output, or the output of a Relu that alone
// reads it, or a Clip (Relu6): its range then holds the bounds and runtimes drop it. Empty for a
// graph output (the model's outputs stay float).
std::string quantized_output(const Graph& g, const Node& n) {
  std::string out = n.outputs[0];
  auto c = g.consumers(out);
  if (c.size() == 1 && !g.is_output(out) && (g.nodes[c[0]].op_type == "Relu" || g.nodes[c[0]].op_type == "Clip"))
    out = g.nodes[c[0]].outputs[0];
  return g.is_output(out) || g.consumers(out).empty() ? "" : out;
}

struct Params {
  float scale = 1;
  int32_t zero_point = 0;
};

// uint8, asymmetric: [lo, hi] widened to hold 0, in 255 steps.
Params activation_params(TensorRange r) {
  float lo = std::min(r.lo, 0.f), hi = std::max(r.hi, 0.f);
  Params p;
  p.scale = hi - lo > 1e-12f ? (hi - lo) / 255.f : 1.f;
  p.zero_point = static_cast<int32_t>(std::clamp(std::nearbyint(-lo / p.scale), 0.f, 255.f));
  return p;
}

class Writer {
 public:
  Writer(const Graph& prepared, const std::map<std::string, TensorRange>& ranges, const QdqOptions& o)
      : g_(prepared), ranges_(ranges), options_(o) {}

  Graph write() {
    std::vector<std::string> activations = quantized_activations(g_);
    // MaxPool's output takes its input's parameters (so that DQ -> MaxPool -> Q is exact).
    for (const auto& n : g_.nodes)
      if (n.op_type == "MaxPool" && runs_quantized(g_, n))
        if (std::string out = quantized_output(g_, n); !out.empty()) shared_[out] = n.inputs[0];
    // A Concat's inputs take its output's parameters (its range holds theirs): it then copies
    // integers.
    for (const auto& n : g_.nodes)
      if (n.op_type == "Concat" && runs_quantized(g_, n))
        if (std::string out = quantized_output(g_, n); !out.empty() && !shared_.count(out))
          for (const auto& in : n.inputs) shared_.try_emplace(in, out);
    for (const auto& a : activations) params_[a] = params_of(a);
    std::vector<std::pair<size_t, Weighted>> products;  // (node, its weights), before the graph changes
    for (size_t i = 0; i < g_.nodes.size(); ++i)
      if (auto w = weighted(g_, g_.nodes[i]); w && runs_quantized(g_, g_.nodes[i])) products.emplace_back(i, *w);
    for (const auto& a : activations) insert_pair(a);
    // Weights and biases, with the scales of the (now dequantized) input activations.
    for (const auto& [i, w] : products) quantize_weights(i, w);
    g_.topological_sort();
    g_.prune_unused();  // the float weights
    graph::infer_shapes(g_);
    return std::move(g_);
  }

 private:
  Params params_of(const std::string& a) {
    if (auto s = shared_.find(a); s != shared_.end()) return params_of(s->second);
    auto r = ranges_.find(a);
    if (r == ranges_.end()) fail("quantize: no calibrated range for '{}'", a);
    return activation_params(r->second);
  }

  // value -> Q -> DQ, every reader of `value` reading the DQ instead.
  void insert_pair(const std::string& value) {
    const Params& p = params_.at(value);
    std::string s = g_.unique_name(value + "_scale");
    g_.set_initializer(s, Tensor::scalar(p.scale));
    std::string z = g_.unique_name(value + "_zero_point");
    g_.set_initializer(z, Tensor::scalar<uint8_t>(static_cast<uint8_t>(p.zero_point)));
    std::string q = g_.unique_name(value + "_quantized"), dq = g_.unique_name(value + "_dequantized");
    std::vector<int> readers = g_.consumers(value);
    add_node("QuantizeLinear", {value, s, z}, q);
    add_node("DequantizeLinear", {q, s, z}, dq);
    for (int r : readers)
      for (auto& in : g_.nodes[r].inputs)
        if (in == value) in = dq;
    dequantized_[dq] = p;
  }

  void add_node(std::string op, std::vector<std::string> inputs, const std::string& output,
                std::map<std::string, graph::Attribute> attrs = {}) {
    Node n;
    n.name = g_.unique_name(output + "_" + op);
    n.op_type = std::move(op);
    n.inputs = std::move(inputs);
    n.outputs = {output};
    n.attrs = std::move(attrs);
    g_.values.try_emplace(output);
    g_.nodes.push_back(std::move(n));
  }

  void quantize_weights(size_t node_index, const Weighted& w) {
    Node n = g_.nodes[node_index];
    const Tensor& weight = *g_.initializer(n.inputs[w.weight]);
    const float x_scale = dequantized_.at(n.inputs[0]).scale;
    const int64_t channels = weight.dim(w.axis);
    int64_t inner = 1;
    for (int64_t d = w.axis + 1; d < weight.rank(); ++d) inner *= weight.dim(d);
    auto values = weight.to_float();
    // Symmetric int8 in [-127, 127] (or [-63, 63], reduce_range): one scale per channel (or one for all).
    std::vector<float> scale(static_cast<size_t>(options_.per_channel ? channels : 1), 0.f);
    for (size_t k = 0; k < values.size(); ++k) {
      size_t c = options_.per_channel ? static_cast<size_t>((static_cast<int64_t>(k) / inner) % channels) : 0;
      scale[c] = std::max(scale[c], std::fabs(values[k]));
    }
    const float limit = options_.reduce_range ? 63.f : 127.f;
    for (float& s : scale) s = s > 0 ? s / limit : 1.f;
    std::vector<int8_t> q(values.size());
    for (size_t k = 0; k < values.size(); ++k) {
      size_t c = options_.per_channel ? static_cast<size_t>((static_cast<int64_t>(k) / inner) % channels) : 0;
      q[k] = static_cast<int8_t>(std::clamp(std::nearbyint(values[k] / scale[c]), -limit, limit));
    }
    const std::string& name = n.inputs[w.weight];
    auto per = [&](auto values, auto one) {
      return options_.per_channel ? Tensor::from_vector({channels}, values) : one;
    };
    std::string wq = g_.unique_name(name + "_quantized"), ws = g_.unique_name(name + "_scale"),
                wz = g_.unique_name(name + "_zero_point"), wdq = g_.unique_name(name + "_dequantized");
    g_.set_initializer(wq, Tensor::from_vector<int8_t>(weight.shape(), q));
    g_.set_initializer(ws, per(scale, Tensor::scalar(scale[0])));
    g_.set_initializer(wz, per(std::vector<int8_t>(scale.size(), 0), Tensor::scalar<int8_t>(0)));
    add_node("DequantizeLinear", {wq, ws, wz}, wdq, {{"axis", w.axis}});
    g_.nodes[node_index].inputs[w.weight] = wdq;
    if (!w.has_bias) return;

    const std::string& bias_name = n.inputs[2];
    auto bias = g_.initializer(bias_name)->to_float();
    if (static_cast<int64_t>(bias.size()) != channels) return;  // a broadcast bias stays float
    std::vector<float> bias_scale(scale.size());
    for (size_t c = 0; c < scale.size(); ++c) bias_scale[c] = x_scale * scale[c];
    std::vector<int32_t> bq(bias.size());
    for (size_t c = 0; c < bias.size(); ++c) {
      double v = std::nearbyint(static_cast<double>(bias[c]) / bias_scale[options_.per_channel ? c : 0]);
      bq[c] = static_cast<int32_t>(std::clamp(v, -2147483647.0, 2147483647.0));
    }
    std::string bqn = g_.unique_name(bias_name + "_quantized"), bs = g_.unique_name(bias_name + "_scale"),
                bz = g_.unique_name(bias_name + "_zero_point"), bdq = g_.unique_name(bias_name + "_dequantized");
    g_.set_initializer(bqn, Tensor::from_vector<int32_t>({channels}, bq));
    g_.set_initializer(bs, per(bias_scale, Tensor::scalar(bias_scale[0])));
    g_.set_initializer(bz, per(std::vector<int32_t>(scale.size(), 0), Tensor::scalar<int32_t>(0)));
    add_node("DequantizeLinear", {bqn, bs, bz}, bdq, {{"axis", int64_t{0}}});
    g_.nodes[node_index].inputs[2] = bdq;
  }

  Graph g_;
  const std::map<std::string, TensorRange>& ranges_;
  QdqOptions options_;
  std::map<std::string, std::string> shared_;  // activation -> the one whose parameters it takes
  std::map<std::string, Params> params_;
  std::map<std::string, Params> dequantized_;  // DQ output -> its parameters
};

}  // namespace

graph::Graph prepare_for_quantization(const graph::Graph& graph) {
  Graph g = graph;
  graph::remove_identities(g);
  graph::fold_batch_norms(g);
  graph::remove_dead_nodes(g);
  return g;
}

std::vector<std::string> quantized_activations(const graph::Graph& g) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  auto add = [&](const std::string& v) {
    if (!v.empty() && seen.insert(v).second) out.push_back(v);
  };
  for (const auto& n : g.nodes) {
    if (!runs_quantized(g, n)) continue;
    add(n.inputs[0]);
    if (n.op_type == "Add" || n.op_type == "Concat")
      for (size_t i = 1; i < n.inputs.size(); ++i) add(n.inputs[i]);
    add(quantized_output(g, n));
  }
  return out;
}

graph::Graph write_qdq(const graph::Graph& prepared, const std::map<std::string, TensorRange>& ranges,
                       const QdqOptions& options) {
  return Writer(prepared, ranges, options).write();
}

}  // namespace fluidedge::quantize
