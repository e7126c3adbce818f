// Every op the importer supports, held to every backend:
// - coverage: each backend's op table has an entry for it (or a reason listed here);
// - per-op differential tests (in the manner of ggml's test-backend-ops): for each op, graphs of
//   random shapes and attributes from a seeded generator, the op standalone and after a
//   convolution (where the lean backends fuse activations into it and hand the op a blocked or
//   channels-last layout), run on fast and xnnpack against the reference backend.
#include <algorithm>
#include <array>
#include <functional>
#include <map>
#include <numeric>
#include <random>

#include <gtest/gtest.h>

#include "compare.h"
#include "graph/op_schema.h"
#include "runtime/fast/fast_session.h"
#include "runtime/fast/kernel.h"
#include "runtime/reference/reference_session.h"
#include "runtime/xnnpack/kernel.h"
#include "runtime/xnnpack/xnnpack_session.h"
#include "zoo/graph_builder.h"

namespace fluidedge::runtime {
namespace {

// ---- Coverage ----

bool has(const std::vector<std::string>& table, const std::string& op) {
  return std::find(table.begin(), table.end(), op) != table.end();
}

void expect_covers(const std::string& backend, const std::vector<std::string>& table,
                   const std::map<std::string, std::string>& reasons) {
  for (const std::string& op : graph::supported_ops())
    EXPECT_TRUE(has(table, op) || reasons.count(op)) << op << " has no " << backend << " kernel and no listed reason";
  for (const std::string& op : table)
    EXPECT_NE(graph::find_op_schema(op), nullptr) << backend << ": " << op << " is not an op we import";
}

TEST(OpTables, EveryBackendHasAnEntryForEverySupportedOp) {
  expect_covers("fast", fast::kernel_table_ops(), {});
  expect_covers("xnnpack", xnnpack::kernel_table_ops(), {});
  expect_covers("reference", reference::reference_table_ops(), {});
}

// ---- Differential tests ----

using Rng = std::mt19937;

int64_t pick(Rng& rng, int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); }
bool coin(Rng& rng) { return pick(rng, 0, 1) == 1; }
float uniform(Rng& rng, float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(rng); }

graph::Tensor int64s(std::vector<int64_t> v) {
  auto n = static_cast<int64_t>(v.size());
  return graph::Tensor::from_vector<int64_t>({n}, v);
}

graph::Tensor floats(graph::Shape shape, Rng& rng, float lo, float hi) {
  graph::Tensor t(graph::DType::kFloat32, std::move(shape));
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = uniform(rng, lo, hi);
  return t;
}

// A shape `x` broadcasts against: the same, per channel, a scalar, or with leading dims dropped.
graph::Shape broadcast_partner(const graph::Shape& x, Rng& rng) {
  switch (pick(rng, 0, 3)) {
    case 0:
      return x;
    case 1:
      return x.size() == 4 ? graph::Shape{x[1], 1, 1} : graph::Shape{x.back()};
    case 2:
      return {};
    default:
      return graph::Shape(x.begin() + 1, x.end());
  }
}

// Appends the op under test to `x` (rank 4); returns the graph's outputs.
using Generator = std::function<std::vector<std::string>(zoo::GraphBuilder&, const std::string& x, Rng&)>;

std::vector<std::string> one(std::string v) { return {std::move(v)}; }

Generator activation(const std::string& op) {
  return [op](zoo::GraphBuilder& b, const std::string& x, Rng& rng) {
    std::map<std::string, graph::Attribute> attrs;
    std::vector<std::string> in = {x};
    if (op == "LeakyRelu") attrs["alpha"] = uniform(rng, 0.01f, 0.3f);
    if (op == "Elu") attrs["alpha"] = uniform(rng, 0.5f, 1.5f);
    if (op == "Selu" && coin(rng)) {
      attrs["alpha"] = uniform(rng, 1.f, 2.f);
      attrs["gamma"] = uniform(rng, 0.8f, 1.2f);
    }
    if (op == "HardSigmoid") {
      attrs["alpha"] = uniform(rng, 0.1f, 0.4f);
      attrs["beta"] = uniform(rng, 0.3f, 0.6f);
    }
    if (op == "Gelu" && coin(rng)) attrs["approximate"] = std::string("tanh");
    if (op == "Clip") {
      float lo = uniform(rng, -1.f, 0.f), hi = uniform(rng, 0.2f, 1.5f);
      in.push_back(coin(rng) ? b.constant("clip.min", graph::Tensor::scalar<float>(lo)) : "");
      in.push_back(b.constant("clip.max", graph::Tensor::scalar<float>(hi)));
    }
    if (op == "Sqrt") in[0] = b.node("Abs", "abs", {x});  // a domain where it is defined
    return one(b.node(op, "op", in, attrs));
  };
}

Generator binary(const std::string& op) {
  return [op](zoo::GraphBuilder& b, const std::string& x, Rng& rng) {
    if (coin(rng)) return one(b.node(op, "op", {x, b.node("Sigmoid", "other", {x})}));
    graph::Tensor c = floats(broadcast_partner(b.shape(x), rng), rng, 0.5f, 2.f);
    if (coin(rng))
      for (int64_t i = 0; i < c.numel(); ++i) c.data<float>()[i] *= -1;
    std::string k = b.constant("operand", c);
    return one(coin(rng) || op == "Div" ? b.node(op, "op", {x, k}) : b.node(op, "op", {k, x}));
  };
}

Generator pool(const std::string& op) {
  return [op](zoo::GraphBuilder& b, const std::string& x, Rng& rng) {
    const graph::Shape& in = b.shape(x);
    int64_t k = pick(rng, 1, std::min<int64_t>({3, in[2], in[3]})), s = pick(rng, 1, 2), p = pick(rng, 0, k / 2);
    std::map<std::string, graph::Attribute> attrs = {{"kernel_shape", std::vector<int64_t>{k, k}},
                                                     {"strides", std::vector<int64_t>{s, s}},
                                                     {"pads", std::vector<int64_t>{p, p, p, p}}};
    bool include_pad = op == "AveragePool" && coin(rng);
    if (op == "AveragePool") attrs["count_include_pad"] = int64_t{include_pad};
    return one(b.node(op, "op", {x}, attrs));
  };
}

Generator reduction(const std::string& op) {
  return [op](zoo::GraphBuilder& b, const std::string& x, Rng& rng) {
    std::vector<std::string> in = {x};
    if (pick(rng, 0, 3) > 0) {
      std::vector<int64_t> axes;
      for (int64_t d = 0; d < 4; ++d)
        if (coin(rng)) axes.push_back(coin(rng) ? d : d - 4);
      if (axes.empty()) axes = {pick(rng, 1, 3)};
      in.push_back(b.constant("axes", int64s(axes)));
    }
    return one(b.node(op, "op", in, {{"keepdims", int64_t{coin(rng)}}}));
  };
}

// ---- Quantization ops: x is quantized first and every integer result dequantized, so the
// graph's outputs are float and compare like any other op's (all loops here are exact).

// A scale and zero point (uint8 or int8) as constants; per channel along dim 1 when `channels` > 0.
std::pair<std::string, std::string> quant_params(zoo::GraphBuilder& b, Rng& rng, const std::string& name, float scale,
                                                 bool int8, int64_t channels = 0) {
  graph::Shape shape = channels > 0 ? graph::Shape{channels} : graph::Shape{};
  graph::Tensor s(graph::DType::kFloat32, shape);
  graph::Tensor z(int8 ? graph::DType::kInt8 : graph::DType::kUInt8, shape);
  for (int64_t i = 0; i < s.numel(); ++i) {
    s.data<float>()[i] = scale * uniform(rng, 0.7f, 1.4f);
    if (int8)
      z.data<int8_t>()[i] = static_cast<int8_t>(pick(rng, -20, 20));
    else
      z.data<uint8_t>()[i] = static_cast<uint8_t>(pick(rng, 100, 150));
  }
  return {b.constant(name + ".scale", s), b.constant(name + ".zp", z)};
}

// Q(x) with per-tensor parameters; returns (q, its scale, its zero point).
std::array<std::string, 3> quantized_input(zoo::GraphBuilder& b, const std::string& x, Rng& rng) {
  auto [s, z] = quant_params(b, rng, "xq", uniform(rng, 0.01f, 0.04f), coin(rng));
  return {b.node("QuantizeLinear", "quantize", {x, s, z}), s, z};
}

std::string dequantized(zoo::GraphBuilder& b, const std::string& q, const std::string& s, const std::string& z) {
  return b.node("DequantizeLinear", "dequantize", {q, s, z});
}

graph::Tensor random_ints(graph::DType dtype, graph::Shape shape, Rng& rng, int64_t lo, int64_t hi) {
  graph::Tensor t(dtype, std::move(shape));
  for (int64_t i = 0; i < t.numel(); ++i) {
    int64_t v = pick(rng, lo, hi);
    if (dtype == graph::DType::kInt8) t.data<int8_t>()[i] = static_cast<int8_t>(v);
    if (dtype == graph::DType::kUInt8) t.data<uint8_t>()[i] = static_cast<uint8_t>(v);
    if (dtype == graph::DType::kInt32) t.data<int32_t>()[i] = static_cast<int32_t>(v);
  }
  return t;
}

Generator quantize_dequantize() {
  return [](zoo::GraphBuilder& b, const std::string& x, Rng& rng) {
    int64_t channels = coin(rng) ? b.channels(x) : 0;
    auto [s, z] = quant_params(b, rng, "q", uniform(rng, 0.005f, 0.05f), coin(rng), channels);
    std::map<std::string, graph::Attribute> attrs;
    if (channels > 0 && coin(rng)) attrs["axis"] = int64_t{-3};
    std::string q = b.node("QuantizeLinear", "quantize", {x, s, z}, attrs);
    return one(b.node("DequantizeLinear", "dequantize", {q, s, z}, attrs));
  };
}

Generator quantized_conv(bool qlinear) {
  return [qlinear](zoo::GraphBuilder& b, const std::string& x, Rng& rng) {
    auto [q, xs, xz] = quantized_input(b, x, rng);
    int64_t c = b.channels(x), k = pick(rng, 1, 3), s = pick(rng, 1, 2), p = pick(rng, 0, k / 2);
    int64_t groups = coin(rng) ? c : 1;
    int64_t m = groups == c ? c * pick(rng, 1, 2) : pick(rng, 1, 16);
    // int8 weights with a zero zero-point (what quantizers write), or uint8 ones with another.
    bool w_int8 = coin(rng);
    graph::DType wt = w_int8 ? graph::DType::kInt8 : graph::DType::kUInt8;
    std::string w = b.constant("w", random_ints(wt, {m, c / groups, k, k}, rng, w_int8 ? -127 : 0, w_int8 ? 127 : 255));
    std::map<std::string, graph::Attribute> attrs = {
        {"strides", std::vector<int64_t>{s, s}}, {"pads", std::vector<int64_t>{p, p, p, p}}, {"group", groups}};
    int64_t channels = coin(rng) ? m : 0;
    graph::Tensor wz = random_ints(wt, channels > 0 ? graph::Shape{m} : graph::Shape{}, rng, 0, w_int8 ? 0 : 255);
    std::string w_zp = b.constant("w.zp", wz);
    float w_scale = uniform(rng, 0.002f, 0.01f);
    if (!qlinear) {
      std::string acc = b.node("ConvInteger", "op", {q, w, xz, w_zp}, attrs);
      return one(
          b.node("DequantizeLinear", "dequantize", {acc, b.constant("acc.scale", graph::Tensor::scalar(0.001f))}));
    }
    graph::Tensor ws(graph::DType::kFloat32, channels > 0 ? graph::Shape{m} : graph::Shape{});
    for (int64_t i = 0; i < ws.numel(); ++i) ws.data<float>()[i] = w_scale * uniform(rng, 0.7f, 1.4f);
    auto [ys, yz] = quant_params(b, rng, "y", uniform(rng, 0.02f, 0.2f), coin(rng));
    std::vector<std::string> in = {q, xs, xz, w, b.constant("w.scale", ws), w_zp, ys, yz};
    if (coin(rng)) in.push_back(b.constant("bias", random_ints(graph::DType::kInt32, {m}, rng, -5000, 5000)));
    return one(dequantized(b, b.node("QLinearConv", "op", in, attrs), ys, yz));
  };
}

Generator quantized_matmul(bool qlinear) {
  return [qlinear](zoo::GraphBuilder& b, const std::string& x, Rng& rng) {
    std::string flat = b.flatten(x);
    auto [q, as, az] = quantized_input(b, flat, rng);
    int64_t k = b.shape(flat)[1], n = pick(rng, 1, 20);
    bool int8 = coin(rng);
    graph::DType bt = int8 ? graph::DType::kInt8 : graph::DType::kUInt8;
    std::string w = b.constant("b", random_ints(bt, {k, n}, rng, int8 ? -127 : 0, int8 ? 127 : 255));
    std::string bz = b.constant(
        "b.zp", random_ints(bt, coin(rng) ? graph::Shape{n} : graph::Shape{}, rng, int8 ? -10 : 0, int8 ? 10 : 255));
    if (!qlinear) {
      std::string acc = b.node("MatMulInteger", "op", {q, w, az, bz});
      return one(
          b.node("DequantizeLinear", "dequantize", {acc, b.constant("acc.scale", graph::Tensor::scalar(0.001f))}));
    }
    graph::Shape bz_shape = b.shape(bz);
    graph::Tensor bs(graph::DType::kFloat32, bz_shape);
    for (int64_t i = 0; i < bs.numel(); ++i) bs.data<float>()[i] = uniform(rng, 0.002f, 0.01f);
    auto [ys, yz] = quant_params(b, rng, "y", uniform(rng, 0.05f, 0.3f), coin(rng));
    std::string y = b.node("QLinearMatMul", "op", {q, as, az, w, b.constant("b.scale", bs), bz, ys, yz});
    return one(dequantized(b, y, ys, yz));
  };
}

// com.microsoft QLinearAdd of x's quantization and another's (sigmoid(x)), requantized.
Generator qlinear_add() {
  return [](zoo::GraphBuilder& b, const std::string& x, Rng& rng) {
    bool int8 = coin(rng);
    auto [as, az] = quant_params(b, rng, "a", uniform(rng, 0.01f, 0.04f), int8);
    auto [bs, bz] = quant_params(b, rng, "b", uniform(rng, 0.002f, 0.01f), int8);
    auto [cs, cz] = quant_params(b, rng, "c", uniform(rng, 0.01f, 0.05f), int8);
    std::string a = b.node("QuantizeLinear", "qa", {x, as, az});
    std::string other = b.node("QuantizeLinear", "qb", {b.node("Sigmoid", "other", {x}), bs, bz});
    std::string y = b.node("QLinearAdd", "op", {a, as, az, other, bs, bz, cs, cz});
    return one(dequantized(b, y, cs, cz));
  };
}

Generator qlinear_global_average_pool() {
  return [](zoo::GraphBuilder& b, const std::string& x, Rng& rng) {
    bool int8 = coin(rng);
    auto [xs, xz] = quant_params(b, rng, "x", uniform(rng, 0.01f, 0.04f), int8);
    std::string q = b.node("QuantizeLinear", "quantize", {x, xs, xz});
    auto [ys, yz] = quant_params(b, rng, "y", uniform(rng, 0.005f, 0.02f), int8);
    std::string y = b.node("QLinearGlobalAveragePool", "op", {q, xs, xz, ys, yz});
    return one(dequantized(b, y, ys, yz));
  };
}

// ai.fluidedge QLinearLookup with a random table, on x's quantization.
Generator qlinear_lookup() {
  return [](zoo::GraphBuilder& b, const std::string& x, Rng& rng) {
    bool int8 = coin(rng);
    auto [xs, xz] = quant_params(b, rng, "x", uniform(rng, 0.01f, 0.04f), int8);
    std::string q = b.node("QuantizeLinear", "quantize", {x, xs, xz});
    graph::DType t = coin(rng) ? graph::DType::kInt8 : graph::DType::kUInt8;
    std::string table = b.constant(
        "table", random_ints(t, {256}, rng, t == graph::DType::kInt8 ? -128 : 0, t == graph::DType::kInt8 ? 127 : 255));
    std::string y = b.node("QLinearLookup", "op", {q, table});
    auto z = b.constant("y.zp", random_ints(t, {}, rng, 0, 3));
    return one(dequantized(b, y, b.constant("y.scale", graph::Tensor::scalar(0.1f)), z));
  };
}

const std::map<std::string, Generator>& generators() {
  static const std::map<std::string, Generator> g = [] {
    std::map<std::string, Generator> m;
    for (const char* op : {"Relu", "LeakyRelu", "Clip", "Sigmoid", "Tanh", "HardSwish", "HardSigmoid", "Elu", "Selu",
                           "Gelu", "Erf", "Exp", "Sqrt", "Abs", "Neg"})
      m[op] = activation(op);
    for (const char* op : {"Add", "Sub", "Mul", "Div"}) m[op] = binary(op);
    for (const char* op : {"MaxPool", "AveragePool"}) m[op] = pool(op);
    for (const char* op : {"ReduceMean", "ReduceMax", "ReduceSum", "ReduceL2"}) m[op] = reduction(op);
    for (const char* op : {"GlobalAveragePool", "GlobalMaxPool", "Identity"})
      m[op] = [op = std::string(op)](zoo::GraphBuilder& b, const std::string& x, Rng&) {
        return one(b.node(op, "op", {x}));
      };
    m["Dropout"] = [](zoo::GraphBuilder& b, const std::string& x, Rng& rng) {
      return one(b.node("Dropout", "op", {x}, {{"ratio", uniform(rng, 0.1f, 0.5f)}}));
    };
    m["Conv"] = [](zoo::GraphBuilder& b, const std::string& x, Rng& rng) {
      int64_t c = b.channels(x), k = pick(rng, 1, 3);
      int64_t groups = coin(rng) ? c : 1;
      int64_t out = groups == c ? c * pick(rng, 1, 2) : pick(rng, 1, 24);
      return one(b.conv(x, "op", out, k, pick(rng, 1, 2), pick(rng, 0, k / 2), groups, coin(rng)));
    };
    m["BatchNormalization"] = [](zoo::GraphBuilder& b, const std::string& x, Rng&) {
      return one(b.batch_norm(x, "op"));
    };
    m["Softmax"] = [](zoo::GraphBuilder& b, const std::string& x, Rng& rng) {
      return one(b.node("Softmax", "op", {x}, {{"axis", pick(rng, -4, 3)}}));
    };
    m["Pow"] = [](zoo::GraphBuilder& b, const std::string& x, Rng& rng) {
      const float exponents[] = {2.f, 3.f, 0.5f, 1.5f};
      std::string base = b.node("Abs", "abs", {x});
      std::string e = b.constant("exponent", graph::Tensor::scalar<float>(exponents[pick(rng, 0, 3)]));
      return one(b.node("Pow", "op", {base, e}));
    };
    m["PRelu"] = [](zoo::GraphBuilder& b, const std::string& x, Rng& rng) {
      graph::Shape slope = coin(rng) ? graph::Shape{b.channels(x), 1, 1} : graph::Shape{1};
      return one(b.node("PRelu", "op", {x, b.constant("slope", floats(slope, rng, 0.f, 0.5f))}));
    };
    m["Where"] = [](zoo::GraphBuilder& b, const std::string& x, Rng& rng) {
      graph::Shape cs = broadcast_partner(b.shape(x), rng);
      graph::Tensor cond(graph::DType::kBool, cs);
      for (int64_t i = 0; i < cond.numel(); ++i) cond.data<bool>()[i] = coin(rng);
      std::string other = b.constant("other", floats(broadcast_partner(b.shape(x), rng), rng, -1.f, 1.f));
      return one(b.node("Where", "op", {b.constant("cond", cond), x, other}));
    };
    m["LayerNormalization"] = [](zoo::GraphBuilder& b, const std::string& x, Rng& rng) {
      const graph::Shape& s = b.shape(x);
      int64_t axis = pick(rng, 1, 3);
      graph::Shape normalized(s.begin() + axis, s.end());
      std::vector<std::string> in = {x, b.constant("scale", floats(normalized, rng, 0.5f, 1.5f))};
      if (coin(rng)) in.push_back(b.constant("bias", floats(normalized, rng, -1.f, 1.f)));
      return one(b.node("LayerNormalization", "op", in,
                        {{"axis", coin(rng) ? axis : axis - 4}, {"epsilon", uniform(rng, 1e-6f, 1e-3f)}}));
    };
    m["Gemm"] = [](zoo::GraphBuilder& b, const std::string& x, Rng& rng) {
      std::string flat = b.flatten(x);
      int64_t k = b.shape(flat)[1], n = pick(rng, 1, 20);
      bool trans_b = coin(rng);
      std::string w = b.constant("w", floats(trans_b ? graph::Shape{n, k} : graph::Shape{k, n}, rng, -0.5f, 0.5f));
      std::vector<std::string> in = {flat, w};
      if (coin(rng))
        in.push_back(b.constant("c", floats(coin(rng) ? graph::Shape{n} : graph::Shape{1, n}, rng, -1.f, 1.f)));
      return one(b.node("Gemm", "op", in, {{"transB", int64_t{trans_b}}}));
    };
    m["MatMul"] = [](zoo::GraphBuilder& b, const std::string& x, Rng& rng) {
      if (coin(rng)) {  // rank 4 by a matrix, as attention and MLP-mixer exports have it
        int64_t w = b.shape(x)[3];
        return one(b.node("MatMul", "op", {x, b.constant("w", floats({w, pick(rng, 1, 12)}, rng, -0.5f, 0.5f))}));
      }
      std::string flat = b.flatten(x);
      int64_t k = b.shape(flat)[1];
      return one(b.node("MatMul", "op", {flat, b.constant("w", floats({k, pick(rng, 1, 20)}, rng, -0.5f, 0.5f))}));
    };
    m["Reshape"] = [](zoo::GraphBuilder& b, const std::string& x, Rng& rng) {
      const graph::Shape& s = b.shape(x);
      std::vector<int64_t> to = coin(rng) ? std::vector<int64_t>{s[0], -1} : std::vector<int64_t>{0, s[1], s[2] * s[3]};
      return one(b.node("Reshape", "op", {x, b.constant("shape", int64s(to))}));
    };
    m["Flatten"] = [](zoo::GraphBuilder& b, const std::string& x, Rng& rng) {
      return one(b.node("Flatten", "op", {x}, {{"axis", pick(rng, 0, 4)}}));
    };
    m["Transpose"] = [](zoo::GraphBuilder& b, const std::string& x, Rng& rng) {
      std::vector<int64_t> perm(4);
      std::iota(perm.begin(), perm.end(), 0);
      std::shuffle(perm.begin(), perm.end(), rng);
      return one(b.node("Transpose", "op", {x}, {{"perm", perm}}));
    };
    m["Concat"] = [](zoo::GraphBuilder& b, const std::string& x, Rng& rng) {
      std::string other = b.node("Tanh", "other", {x});
      return one(b.node("Concat", "op", {x, other, x}, {{"axis", pick(rng, -4, 3)}}));
    };
    m["Split"] = [](zoo::GraphBuilder& b, const std::string& x, Rng& rng) {
      int64_t axis = pick(rng, 1, 3), size = b.shape(x)[axis];
      if (size < 2) return one(b.node("Split", "op", {x}, {{"axis", axis}}));
      int64_t first = pick(rng, 1, size - 1);
      std::string out =
          b.node("Split", "op", {x, b.constant("split", int64s({first, size - first}))}, {{"axis", axis}}, 2);
      return std::vector<std::string>{out, out.substr(0, out.size() - 1) + "1"};
    };
    m["Slice"] = [](zoo::GraphBuilder& b, const std::string& x, Rng& rng) {
      const graph::Shape& s = b.shape(x);
      std::vector<int64_t> starts, ends, axes, steps;
      for (int64_t d = 1; d < 4; ++d) {
        if (coin(rng) && !axes.empty()) continue;
        int64_t step = coin(rng) ? 1 : (coin(rng) ? 2 : -1);
        int64_t start = pick(rng, 0, s[d] - 1), end = step > 0 ? pick(rng, start + 1, s[d]) : pick(rng, -1, start - 1);
        if (step < 0 && end == -1) end = -s[d] - 1;  // through the first element, as exporters write it
        if (coin(rng) && step > 0) start -= s[d];    // negative starts count from the end
        starts.push_back(start);
        ends.push_back(end);
        axes.push_back(coin(rng) ? d : d - 4);
        steps.push_back(step);
      }
      std::vector<std::string> in = {x, b.constant("starts", int64s(starts)), b.constant("ends", int64s(ends)),
                                     b.constant("axes", int64s(axes))};
      if (coin(rng) || std::any_of(steps.begin(), steps.end(), [](int64_t v) { return v != 1; }))
        in.push_back(b.constant("steps", int64s(steps)));
      return one(b.node("Slice", "op", in));
    };
    m["Squeeze"] = [](zoo::GraphBuilder& b, const std::string& x, Rng& rng) {
      std::string pooled = b.global_avg_pool(x);
      std::vector<std::string> in = {pooled};
      if (coin(rng)) in.push_back(b.constant("axes", int64s({2, -1})));
      return one(b.node("Squeeze", "op", in));
    };
    m["Unsqueeze"] = [](zoo::GraphBuilder& b, const std::string& x, Rng& rng) {
      return one(b.node("Unsqueeze", "op", {x, b.constant("axes", int64s({pick(rng, -5, 4)}))}));
    };
    m["Pad"] = [](zoo::GraphBuilder& b, const std::string& x, Rng& rng) {
      const char* modes[] = {"constant", "reflect", "edge"};
      std::string mode = modes[pick(rng, 0, 2)];
      const graph::Shape& s = b.shape(x);
      std::vector<int64_t> pads(8, 0);
      for (int d = 1; d < 4; ++d) {
        int64_t most = mode == "reflect" ? s[d] - 1 : 2;
        pads[d] = pick(rng, s[d] > 2 ? -1 : 0, most);  // negative: cropping
        pads[d + 4] = pick(rng, 0, most);
      }
      std::vector<std::string> in = {x, b.constant("pads", int64s(pads))};
      if (mode == "constant") in.push_back(b.constant("value", graph::Tensor::scalar<float>(uniform(rng, -1, 1))));
      return one(b.node("Pad", "op", in, {{"mode", mode}}));
    };
    m["QuantizeLinear"] = m["DequantizeLinear"] = quantize_dequantize();
    m["QLinearConv"] = quantized_conv(true);
    m["ConvInteger"] = quantized_conv(false);
    m["QLinearMatMul"] = quantized_matmul(true);
    m["MatMulInteger"] = quantized_matmul(false);
    m["QLinearAdd"] = qlinear_add();
    m["QLinearGlobalAveragePool"] = qlinear_global_average_pool();
    m["QLinearLookup"] = qlinear_lookup();
    return m;
  }();
  return g;
}

class PerOp : public ::testing::TestWithParam<std::string> {};

// The op on random shapes and attributes: standalone (seeds 0..2) and after a convolution with a
// bias (seeds 3..5), each on fast and xnnpack, against the reference backend.
TEST_P(PerOp, EveryBackendGivesTheReferenceOutputs) {
  reference::register_reference_backend();
  const std::string& op = GetParam();
  auto gen = generators().find(op);
  ASSERT_NE(gen, generators().end()) << op << " is supported but has no generator here";
  for (uint32_t seed = 0; seed < 6; ++seed) {
    Rng rng(seed * 7919u + static_cast<uint32_t>(std::hash<std::string>{}(op)));
    bool after_conv = seed >= 3;
    graph::Shape shape = {pick(rng, 1, 2), pick(rng, 1, 12), pick(rng, 2, 9), pick(rng, 2, 9)};
    zoo::GraphBuilder b("op_" + op, shape, seed);
    std::string x = after_conv ? b.conv(b.input(), "conv", pick(rng, 1, 24), 3, 1, 1, 1, true) : b.input();
    std::vector<std::string> outputs = gen->second(b, x, rng);
    graph::Graph g = b.finish(outputs);
    graph::Tensor in = floats(shape, rng, -2.f, 2.f);
    auto want = make_session("reference", g)->run({{"input", in}});
    std::string where = fmt::format("{} seed {} ({}, input {})", op, seed,
                                    after_conv ? "after a convolution" : "standalone", graph::shape_str(shape));
    fast::FastSession fast(g, {});
    xnnpack::XnnpackSession xnn(g, {});
    xnn.set_poison_buffers(true);
    EXPECT_EQ(fast.plan_stats(shape[0]).fallback_steps, 0) << where << ": fast fell back";
    EXPECT_EQ(xnn.plan_stats(shape[0]).fallback_steps, 0) << where << ": xnnpack fell back";
    for (Session* s : std::initializer_list<Session*>{&fast, &xnn}) {
      auto got = s->run({{"input", in}});
      for (const std::string& o : outputs) {
        ASSERT_EQ(got.at(o).shape(), want.at(o).shape()) << where << " on " << s->backend();
        EXPECT_LE(testing::relative_error(got.at(o), want.at(o)), 1e-5) << where << " on " << s->backend();
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Ops, PerOp, ::testing::ValuesIn(graph::supported_ops()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace fluidedge::runtime
