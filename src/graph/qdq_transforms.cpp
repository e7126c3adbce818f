#include "graph/qdq_transforms.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "graph/quantization.h"
#include "graph/shape_inference.h"
#include "graph/transforms.h"

namespace fluidedge::graph {

namespace {

bool all_constant(const Graph& g, const Node& n, size_t from) {
  for (size_t i = from; i < n.inputs.size(); ++i)
    if (!n.inputs[i].empty() && !g.is_initializer(n.inputs[i])) return false;
  return true;
}

// The DequantizeLinear producing `value` (its scale and zero point constant), or nullptr.
const Node* dequantize_of(const Graph& g, const std::string& value) {
  int p = g.producer(value);
  if (p < 0) return nullptr;
  const Node& n = g.nodes[p];
  return n.op_type == "DequantizeLinear" && all_constant(g, n, 1) ? &n : nullptr;
}

QuantParams dequantize_params(const Graph& g, const Node& dq) {
  const ValueInfo& x = g.value(dq.inputs[0]);
  auto rank = static_cast<int64_t>(x.shape.size());
  return quant_params(g, dq, 1, 2, x.dtype, rank == 0 ? 0 : dq.attr_int("axis", 1), rank);
}

bool is_8bit(DType t) { return t == DType::kUInt8 || t == DType::kInt8; }

// The scale of a per-tensor or per-channel parameter as a constant of its own shape.
Tensor scale_tensor(const QuantParams& p) {
  if (p.per_tensor()) return Tensor::scalar(p.scale[0]);
  return Tensor::from_vector<float>({static_cast<int64_t>(p.scale.size())}, p.scale);
}

Tensor zero_point_tensor(const QuantParams& p, DType dtype) {
  if (p.per_tensor()) return Tensor::scalar<int32_t>(p.zero_point[0]).cast(dtype);
  return Tensor::from_vector<int32_t>({static_cast<int64_t>(p.zero_point.size())}, p.zero_point).cast(dtype);
}

// The int32 bias of a QLinearConv with input scale `x_scale` and weight scales `w`: the bias's
// own integers when it is DequantizeLinear(int32) at exactly that scale, else the float bias
// rounded to it. False when a value does not fit.
bool integer_bias(const Graph& g, const std::string& bias, float x_scale, const QuantParams& w, int64_t channels,
                  Tensor& out) {
  std::vector<float> want(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) want[c] = x_scale * w.scale_at(c);
  if (const Node* dq = dequantize_of(g, bias); dq && g.is_initializer(dq->inputs[0])) {
    const Tensor& q = *g.initializer(dq->inputs[0]);
    QuantParams b = dequantize_params(g, *dq);
    bool exact = q.dtype() == DType::kInt32 && q.numel() == channels;
    for (int64_t c = 0; exact && c < channels; ++c)
      exact = b.zero_point_at(c) == 0 && std::fabs(b.scale_at(c) - want[c]) <= 1e-6f * want[c];
    if (exact) {
      out = q.reshaped({channels});
      return true;
    }
  }
  std::vector<float> f;
  if (const Node* dq = dequantize_of(g, bias); dq && g.is_initializer(dq->inputs[0])) {
    QuantParams b = dequantize_params(g, *dq);
    auto q = g.initializer(dq->inputs[0])->to_int64();
    for (size_t c = 0; c < q.size(); ++c)
      f.push_back(static_cast<float>(static_cast<double>(q[c] - b.zero_point_at(static_cast<int64_t>(c))) *
                                     b.scale_at(static_cast<int64_t>(c))));
  } else if (const Tensor* t = g.initializer(bias)) {
    f = t->to_float();
  } else {
    return false;
  }
  if (static_cast<int64_t>(f.size()) != channels) return false;
  std::vector<int32_t> q(f.size());
  for (size_t c = 0; c < f.size(); ++c) {
    double v = std::nearbyint(static_cast<double>(f[c]) / want[c]);
    if (!(std::fabs(v) < 2147483647.0)) return false;
    q[c] = static_cast<int32_t>(v);
  }
  out = Tensor::from_vector<int32_t>({channels}, q);
  return true;
}

// Whether a Relu or a Clip (constant bounds) between a value and the QuantizeLinear with
// parameters `y` changes nothing: the quantization saturates there anyway (Q of the clip's lower
// bound is the type's minimum, Q of its upper bound the maximum; Q is monotone).
bool saturation_does(const Graph& g, const Node& activation, const QuantParams& y) {
  float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
  if (activation.op_type == "Relu") {
    lo = 0;
  } else {
    for (size_t i : {1, 2}) {
      if (!activation.has_input(i)) continue;
      const Tensor* t = g.initializer(activation.input(i));
      if (t == nullptr || t->numel() != 1) return false;
      (i == 1 ? lo : hi) = t->to_float()[0];
    }
  }
  const int64_t qmin = dtype_min(y.dtype), qmax = dtype_max(y.dtype);
  auto q = [&](float v) { return quantize_scaled(v / y.scale[0], y.zero_point[0], qmin, qmax); };
  return (std::isinf(lo) || q(lo) == qmin) && (std::isinf(hi) || q(hi) == qmax);
}

// The QuantizeLinear (per tensor, 8-bit, constant parameters) that alone reads `value`, directly
// or through a Relu or Clip that its saturation makes redundant (saturation_does); -1 if none.
int requantizer_of(const Graph& g, const std::string& value) {
  int next = sole_consumer(g, value);
  int activation = -1;
  if (next >= 0 && (g.nodes[next].op_type == "Relu" || g.nodes[next].op_type == "Clip")) {
    activation = next;
    next = sole_consumer(g, g.nodes[next].outputs[0]);
  }
  if (next < 0 || g.nodes[next].op_type != "QuantizeLinear" || !all_constant(g, g.nodes[next], 1)) return -1;
  const Node& q = g.nodes[next];
  QuantParams y = quant_params(g, q, 1, 2, DType::kUInt8, 1, static_cast<int64_t>(g.value(value).shape.size()));
  if (!y.per_tensor() || !is_8bit(y.dtype)) return -1;
  if (activation >= 0 && !saturation_does(g, g.nodes[activation], y)) return -1;
  return next;
}

// A per-tensor 8-bit DequantizeLinear of a computed value producing `value`, or nullptr.
const Node* per_tensor_dequantize_of(const Graph& g, const std::string& value) {
  const Node* dq = dequantize_of(g, value);
  if (!dq || g.is_initializer(dq->inputs[0])) return nullptr;
  QuantParams p = dequantize_params(g, *dq);
  return p.per_tensor() && is_8bit(p.dtype) ? dq : nullptr;
}

// Adds the constants of `p` (scale, zero point) named after `node` and returns their names.
std::pair<std::string, std::string> add_params(Graph& g, const std::string& node, const std::string& what,
                                               const QuantParams& p) {
  std::string s = g.unique_name(node + "/" + what + "_scale");
  g.set_initializer(s, scale_tensor(p));
  std::string z = g.unique_name(node + "/" + what + "_zero_point");
  g.set_initializer(z, zero_point_tensor(p, p.dtype));
  return {s, z};
}

// DQ(a), DQ(b) -> Add -> [Relu ->] Q  =>  com.microsoft QLinearAdd(a, b).
int fuse_adds(Graph& g) {
  int changed = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node add = g.nodes[i];
    if (add.op_type != "Add") continue;
    const Node* da = per_tensor_dequantize_of(g, add.inputs[0]);
    const Node* db = per_tensor_dequantize_of(g, add.inputs[1]);
    int next = requantizer_of(g, add.outputs[0]);
    if (!da || !db || next < 0) continue;
    QuantParams a = dequantize_params(g, *da), b = dequantize_params(g, *db);
    QuantParams y = quant_params(g, g.nodes[next], 1, 2, DType::kUInt8, 0, 0);
    if (a.dtype != b.dtype || a.dtype != y.dtype) continue;
    Node fused;
    fused.name = add.name;
    fused.op_type = "QLinearAdd";
    fused.domain = "com.microsoft";
    auto [as, az] = add_params(g, add.name, "a", a);
    auto [bs, bz] = add_params(g, add.name, "b", b);
    auto [ys, yz] = add_params(g, add.name, "y", y);
    fused.inputs = {da->inputs[0], as, az, db->inputs[0], bs, bz, ys, yz};
    fused.outputs = {g.nodes[next].outputs[0]};
    g.nodes[next] = std::move(fused);
    ++changed;
  }
  return changed;
}

// DQ(x) -> GlobalAveragePool -> Q  =>  com.microsoft QLinearGlobalAveragePool(x).
int fuse_global_average_pools(Graph& g) {
  int changed = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node pool = g.nodes[i];
    if (pool.op_type != "GlobalAveragePool") continue;
    const Node* dx = per_tensor_dequantize_of(g, pool.inputs[0]);
    int next = requantizer_of(g, pool.outputs[0]);
    if (!dx || next < 0) continue;
    QuantParams x = dequantize_params(g, *dx);
    QuantParams y = quant_params(g, g.nodes[next], 1, 2, DType::kUInt8, 0, 0);
    if (x.dtype != y.dtype) continue;
    Node fused;
    fused.name = pool.name;
    fused.op_type = "QLinearGlobalAveragePool";
    fused.domain = "com.microsoft";
    auto [xs, xz] = add_params(g, pool.name, "x", x);
    auto [ys, yz] = add_params(g, pool.name, "y", y);
    fused.inputs = {dx->inputs[0], xs, xz, ys, yz};
    fused.outputs = {g.nodes[next].outputs[0]};
    g.nodes[next] = std::move(fused);
    ++changed;
  }
  return changed;
}

// DQ(x) -> MaxPool -> Q with the same parameters  =>  MaxPool(x) on the integers: the maximum
// commutes with the monotone DQ, and Q(DQ(q)) = q.
int fuse_max_pools(Graph& g) {
  int changed = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node pool = g.nodes[i];
    if (pool.op_type != "MaxPool" || (pool.outputs.size() > 1 && !pool.outputs[1].empty())) continue;
    const Node* dx = per_tensor_dequantize_of(g, pool.inputs[0]);
    int next = sole_consumer(g, pool.outputs[0]);
    if (!dx || next < 0 || g.nodes[next].op_type != "QuantizeLinear" || !all_constant(g, g.nodes[next], 1)) continue;
    QuantParams x = dequantize_params(g, *dx);
    QuantParams y = quant_params(g, g.nodes[next], 1, 2, DType::kUInt8, 0, 0);
    if (y.dtype != x.dtype || !y.per_tensor() || y.scale[0] != x.scale[0] || y.zero_point[0] != x.zero_point[0])
      continue;
    Node integer = pool;
    integer.inputs[0] = dx->inputs[0];
    integer.outputs = {g.nodes[next].outputs[0]};
    g.nodes[next] = std::move(integer);
    ++changed;
  }
  return changed;
}

// DQ(x_i) -> Concat -> Q, every x_i with the Q's parameters  =>  Concat(x_i) of the integers.
int fuse_concats(Graph& g) {
  int changed = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node concat = g.nodes[i];
    if (concat.op_type != "Concat") continue;
    int next = sole_consumer(g, concat.outputs[0]);
    if (next < 0 || g.nodes[next].op_type != "QuantizeLinear" || !all_constant(g, g.nodes[next], 1)) continue;
    QuantParams y = quant_params(g, g.nodes[next], 1, 2, DType::kUInt8, 0, 0);
    if (!y.per_tensor()) continue;
    std::vector<std::string> integers;
    for (const auto& in : concat.inputs) {
      const Node* dq = per_tensor_dequantize_of(g, in);
      if (!dq) break;
      QuantParams x = dequantize_params(g, *dq);
      if (x.dtype != y.dtype || x.scale[0] != y.scale[0] || x.zero_point[0] != y.zero_point[0]) break;
      integers.push_back(dq->inputs[0]);
    }
    if (integers.size() != concat.inputs.size()) continue;
    Node integer = concat;
    integer.inputs = integers;
    integer.outputs = {g.nodes[next].outputs[0]};
    g.nodes[next] = std::move(integer);
    ++changed;
  }
  return changed;
}

// DQ(x) -> Gemm(DQ(constant W), bias) -> [Relu ->] Q, x of rank 2, alpha = beta = 1, A not
// transposed  =>  Reshape(x, [0, K, 1, 1]) -> QLinearConv 1x1 -> Reshape([0, M]): an inner product
// is a 1x1 convolution over one pixel, and both lean backends have int8 convolutions with
// per-channel scales (oneDNN's, XNNPACK's qc8) where ONNX has no quantized Gemm.
int fuse_gemms(Graph& g) {
  int changed = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node gemm = g.nodes[i];
    if (gemm.op_type != "Gemm" || gemm.inputs.size() < 2) continue;
    if (gemm.attr_float("alpha", 1.f) != 1.f || gemm.attr_float("beta", 1.f) != 1.f || gemm.attr_int("transA", 0) != 0)
      continue;
    const Node* dx = per_tensor_dequantize_of(g, gemm.inputs[0]);
    const Node* dw = dequantize_of(g, gemm.inputs[1]);
    if (!dx || !dw || !g.is_initializer(dw->inputs[0]) || g.value(dx->inputs[0]).shape.size() != 2) continue;
    const Tensor& w = *g.initializer(dw->inputs[0]);
    const bool trans_b = gemm.attr_int("transB", 0) != 0;
    QuantParams x = dequantize_params(g, *dx), wq = dequantize_params(g, *dw);
    // Per channel: along the output features (W's rows when transposed, its columns if not).
    if (w.rank() != 2 || !is_8bit(wq.dtype) || (!wq.per_tensor() && wq.axis != (trans_b ? 0 : 1))) continue;
    const int64_t m = trans_b ? w.dim(0) : w.dim(1), k = trans_b ? w.dim(1) : w.dim(0);
    int next = requantizer_of(g, gemm.outputs[0]);
    if (next < 0) continue;
    QuantParams y = quant_params(g, g.nodes[next], 1, 2, DType::kUInt8, 1, 0);
    if (wq.axis >= 0) wq.axis = 0;
    Tensor bias;
    if (gemm.has_input(2) && !integer_bias(g, gemm.inputs[2], x.scale[0], wq, m, bias)) continue;

    // W as [M, K, 1, 1], rows the output features.
    Tensor w4(w.dtype(), {m, k, 1, 1});
    const auto* from = static_cast<const uint8_t*>(w.raw());
    auto* to = static_cast<uint8_t*>(w4.raw());
    for (int64_t r = 0; r < m; ++r)
      for (int64_t c = 0; c < k; ++c) to[r * k + c] = trans_b ? from[r * k + c] : from[c * m + r];
    auto constant = [&](const std::string& what, Tensor t) {
      std::string name = g.unique_name(gemm.name + "/" + what);
      g.set_initializer(name, std::move(t));
      return name;
    };
    const std::string x4 = g.unique_name(gemm.name + "/x_as_pixels"), y4 = g.unique_name(gemm.name + "/y_as_pixels");
    g.values.try_emplace(x4);
    g.values.try_emplace(y4);
    Node to_pixels{gemm.name + "/to_pixels",
                   "Reshape",
                   "",
                   {dx->inputs[0], constant("pixels_shape", Tensor::from_vector<int64_t>({4}, {0, k, 1, 1}))},
                   {x4},
                   {}};
    Node conv;
    conv.name = gemm.name;
    conv.op_type = "QLinearConv";
    conv.inputs = {x4,
                   constant("x_scale", scale_tensor(x)),
                   constant("x_zero_point", zero_point_tensor(x, x.dtype)),
                   constant("w", std::move(w4)),
                   constant("w_scale", scale_tensor(wq)),
                   constant("w_zero_point", zero_point_tensor(wq, wq.dtype)),
                   constant("y_scale", scale_tensor(y)),
                   constant("y_zero_point", zero_point_tensor(y, y.dtype))};
    if (bias.defined()) conv.inputs.push_back(constant("bias", std::move(bias)));
    conv.outputs = {y4};
    Node to_rows{gemm.name + "/to_rows",
                 "Reshape",
                 "",
                 {y4, constant("rows_shape", Tensor::from_vector<int64_t>({2}, {0, m}))},
                 {g.nodes[next].outputs[0]},
                 {}};
    // In the QuantizeLinear's place (every input is computed by then, and its readers follow).
    g.nodes[next] = std::move(to_rows);
    g.nodes.insert(g.nodes.begin() + next, std::move(conv));
    g.nodes.insert(g.nodes.begin() + next, std::move(to_pixels));
    ++changed;
  }
  return changed;
}

}  // namespace

int fuse_qdq(Graph& g) {
  int changed = fuse_qdq_convolutions(g);
  changed += fuse_gemms(g);
  changed += fuse_adds(g);
  changed += fuse_global_average_pools(g);
  changed += fuse_max_pools(g);
  changed += fuse_concats(g);
  if (changed) {
    remove_dead_nodes(g);
    infer_shapes(g);
  }
  return changed;
}

int fuse_qdq_convolutions(Graph& g) {
  int changed = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node conv = g.nodes[i];
    if (conv.op_type != "Conv" || conv.inputs.size() < 2) continue;
    const Node* dx = dequantize_of(g, conv.inputs[0]);
    const Node* dw = dequantize_of(g, conv.inputs[1]);
    if (!dx || !dw || g.is_initializer(dx->inputs[0]) || !g.is_initializer(dw->inputs[0])) continue;
    QuantParams x = dequantize_params(g, *dx), w = dequantize_params(g, *dw);
    const ValueInfo& wv = g.value(dw->inputs[0]);
    int64_t channels = wv.shape.empty() ? 0 : wv.shape[0];
    if (!x.per_tensor() || !is_8bit(x.dtype) || !is_8bit(w.dtype) || (!w.per_tensor() && w.axis != 0)) continue;

    // Conv -> [Relu or Clip ->] QuantizeLinear, each read by the next alone.
    int next = requantizer_of(g, conv.outputs[0]);
    if (next < 0) continue;
    const Node& q = g.nodes[next];
    QuantParams y = quant_params(g, q, 1, 2, DType::kUInt8, 1, 0);

    Tensor bias;
    if (conv.has_input(2) && !integer_bias(g, conv.inputs[2], x.scale[0], w, channels, bias)) continue;

    Node fused;
    fused.name = conv.name;
    fused.op_type = "QLinearConv";
    fused.attrs = conv.attrs;
    auto constant = [&](const std::string& what, Tensor t) {
      std::string name = g.unique_name(conv.name + "/" + what);
      g.set_initializer(name, std::move(t));
      return name;
    };
    fused.inputs = {dx->inputs[0],
                    constant("x_scale", scale_tensor(x)),
                    constant("x_zero_point", zero_point_tensor(x, x.dtype)),
                    dw->inputs[0],
                    constant("w_scale", scale_tensor(w)),
                    constant("w_zero_point", zero_point_tensor(w, w.dtype)),
                    constant("y_scale", scale_tensor(y)),
                    constant("y_zero_point", zero_point_tensor(y, y.dtype))};
    if (bias.defined()) fused.inputs.push_back(constant("bias", std::move(bias)));
    fused.outputs = {q.outputs[0]};
    // In the QuantizeLinear's place: every input is computed by then, and its readers follow.
    g.nodes[next] = std::move(fused);
    ++changed;
  }
  if (changed) {
    remove_dead_nodes(g);
    infer_shapes(g);
  }
  return changed;
}

namespace {

// Where an op keeps its activations' zero points: input `zp` is that of input (or output)
// `tensor`. Weights' zero points are not listed. nullopt: an op unknown to to_signed_activations;
// an empty list: one that moves activations of any type (pools, concatenation, shape ops, lookups).
struct ZeroPointOf {
  size_t zp;
  bool output;
  size_t tensor;
};
std::optional<std::vector<ZeroPointOf>> activation_zero_points(const Node& n) {
  const std::string& op = n.op_type;
  if (op == "QuantizeLinear") return std::vector<ZeroPointOf>{{2, true, 0}};
  if (op == "DequantizeLinear") return std::vector<ZeroPointOf>{{2, false, 0}};
  if (op == "QLinearConv" || op == "QLinearMatMul") return std::vector<ZeroPointOf>{{2, false, 0}, {7, true, 0}};
  if (op == "QLinearAdd") return std::vector<ZeroPointOf>{{2, false, 0}, {5, false, 3}, {7, true, 0}};
  if (op == "QLinearGlobalAveragePool") return std::vector<ZeroPointOf>{{2, false, 0}, {4, true, 0}};
  if (op == "QLinearLookup" || op == "MaxPool" || op == "Concat" || op == "Reshape" || op == "Flatten")
    return std::vector<ZeroPointOf>{};
  return std::nullopt;
}

// uint8 values (constants or not) shifted into int8: v - 128.
Tensor shifted(const Tensor& t) {
  Tensor out(DType::kInt8, t.shape());
  const auto* in = static_cast<const uint8_t*>(t.raw());
  auto* o = static_cast<int8_t*>(out.raw());
  for (int64_t i = 0; i < t.numel(); ++i) o[i] = static_cast<int8_t>(static_cast<int32_t>(in[i]) - 128);
  return out;
}

}  // namespace

int to_signed_activations(Graph& g) {
  auto is_u8_activation = [&](const std::string& v) {
    return !v.empty() && !g.is_initializer(v) && g.value(v).dtype == DType::kUInt8;
  };
  for (const auto& v : g.inputs)
    if (is_u8_activation(v)) return 0;
  for (const auto& v : g.outputs)
    if (is_u8_activation(v)) return 0;
  for (const auto& n : g.nodes) {
    bool touches = std::any_of(n.inputs.begin(), n.inputs.end(), is_u8_activation) ||
                   std::any_of(n.outputs.begin(), n.outputs.end(), is_u8_activation);
    if (touches && !activation_zero_points(n)) return 0;
  }
  int changed = 0;
  for (auto& n : g.nodes) {
    auto zps = activation_zero_points(n);
    if (!zps) continue;
    bool node_changed = false;
    for (const ZeroPointOf& z : *zps) {
      const std::string& tensor = z.output ? n.outputs[z.tensor] : n.input(z.tensor);
      if (!is_u8_activation(tensor)) continue;
      if (!n.has_input(z.zp)) {  // an absent zero point is uint8's 0
        n.inputs.resize(std::max(n.inputs.size(), z.zp + 1));
        std::string name = g.unique_name(n.name + "/zero_point_signed");
        g.set_initializer(name, Tensor::scalar<int8_t>(-128));
        n.inputs[z.zp] = name;
        node_changed = true;
        continue;
      }
      const Tensor* zp = g.initializer(n.inputs[z.zp]);
      if (zp == nullptr || zp->dtype() != DType::kUInt8) continue;
      std::string name = g.unique_name(n.inputs[z.zp] + "_signed");
      g.set_initializer(name, shifted(*zp));
      n.inputs[z.zp] = name;
      node_changed = true;
    }
    if (n.op_type == "QLinearLookup") {
      const Tensor& table = *g.initializer(n.inputs[1]);
      if (table.dtype() == DType::kUInt8) {
        std::string name = g.unique_name(n.inputs[1] + "_signed");
        g.set_initializer(name, shifted(table));
        n.inputs[1] = name;
        node_changed = true;
      }
    }
    changed += node_changed;
  }
  if (changed) {
    g.prune_unused();
    infer_shapes(g);
  }
  return changed;
}

int fold_constant_dequantize(Graph& g) {
  int changed = 0;
  for (size_t i = 0; i < g.nodes.size();) {
    const Node& n = g.nodes[i];
    if (n.op_type != "DequantizeLinear" || !g.is_initializer(n.inputs[0]) || !all_constant(g, n, 1)) {
      ++i;
      continue;
    }
    const Tensor& q = *g.initializer(n.inputs[0]);
    QuantParams p = dequantize_params(g, n);
    auto ints = q.to_int64();
    int64_t inner = 1, channels = 1;
    if (!p.per_tensor()) {
      channels = q.dim(p.axis);
      for (int64_t d = p.axis + 1; d < q.rank(); ++d) inner *= q.dim(d);
    }
    std::vector<float> f(ints.size());
    for (size_t k = 0; k < ints.size(); ++k) {
      int64_t c = (static_cast<int64_t>(k) / inner) % channels;
      f[k] = static_cast<float>(static_cast<double>(ints[k] - p.zero_point_at(c)) * p.scale_at(c));
    }
    std::string out = n.outputs[0];
    Tensor t = Tensor::from_vector<float>(q.shape(), f);
    g.nodes.erase(g.nodes.begin() + static_cast<long>(i));
    g.set_initializer(out, std::move(t));
    ++changed;
  }
  if (changed) {
    g.prune_unused();
    infer_shapes(g);
  }
  return changed;
}

}  // namespace fluidedge::graph
