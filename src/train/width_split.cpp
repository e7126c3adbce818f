#include "train/width_split.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

#include "common/error.h"
#include "graph/shape_inference.h"

namespace fluidedge::train {

namespace {

using graph::Graph;
using graph::Node;
using graph::Tensor;

std::string key_of(const std::vector<int>& members) {
  std::string k;
  for (int m : members) k += (k.empty() ? "" : "+") + std::to_string(m);
  return k;
}

// All subsets of {1..k} with at least two members, by size then lexicographically.
std::vector<std::vector<int>> combinations(int k) {
  std::vector<std::vector<int>> out;
  for (int size = 2; size <= k; ++size)
    for (int mask = 0; mask < (1 << k); ++mask) {
      if (__builtin_popcount(mask) != size) continue;
      std::vector<int> s;
      for (int i = 0; i < k; ++i)
        if (mask & (1 << i)) s.push_back(i + 1);
      out.push_back(s);
    }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.size() != b.size() ? a.size() < b.size() : a < b; });
  return out;
}

// Builds the split graph node by node, inferring shapes as it goes.
class Builder {
 public:
  Builder(Graph& g, uint64_t seed) : g_(g), rng_(seed) {}

  std::string add(const std::string& op, const std::string& name, std::vector<std::string> inputs,
                  std::map<std::string, graph::Attribute> attrs = {}) {
    Node n;
    n.name = name;
    n.op_type = op;
    n.inputs = std::move(inputs);
    n.outputs = {name};
    n.attrs = std::move(attrs);
    g_.values.try_emplace(name);
    g_.nodes.push_back(n);
    graph::infer_node(g_, g_.nodes.back());
    return name;
  }
  std::string concat(const std::string& name, const std::vector<std::string>& parts) {
    if (parts.size() == 1) return parts[0];
    return add("Concat", name, parts, {{"axis", int64_t{1}}});
  }
  // PyTorch's default initialisation of Conv2d/Linear: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
  std::string param(const std::string& name, graph::Shape shape, int64_t fan_in, int stage,
                    std::map<std::string, int>& stages) {
    float bound = 1.f / std::sqrt(static_cast<float>(fan_in));
    std::uniform_real_distribution<float> u(-bound, bound);
    Tensor t(graph::DType::kFloat32, std::move(shape));
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = u(rng_);
    g_.set_initializer(name, t);
    stages[name] = stage;
    return name;
  }
  const graph::Shape& shape(const std::string& v) const { return g_.value(v).shape; }

 private:
  Graph& g_;
  std::mt19937_64 rng_;
};

struct Layer {
  const Node* node;
  bool splits;      // hidden Conv/Gemm: divided into groups
  bool classifier;  // the last Gemm
};

std::vector<Layer> chain_of(const Graph& base) {
  if (base.inputs.size() != 1 || base.outputs.size() != 1)
    fail("width split needs a model with one input and one output; '{}' has {} and {}", base.name, base.inputs.size(),
         base.outputs.size());
  std::vector<Layer> layers;
  std::string cur = base.inputs[0];
  int last_gemm = -1;
  for (const Node& n : base.nodes) {
    std::vector<std::string> runtime;
    for (const auto& in : n.inputs)
      if (!in.empty() && !base.is_initializer(in)) runtime.push_back(in);
    if (runtime.size() != 1 || runtime[0] != cur)
      fail("width split needs a chain of layers; {} does not read only the previous layer's output", n.describe());
    static const std::set<std::string> kind = {"Conv",    "Gemm", "Relu",    "MaxPool", "AveragePool",
                                               "Flatten", "Clip", "Dropout", "Identity"};
    if (!kind.count(n.op_type))
      fail("width split cannot split {}: supported layers are Conv, Gemm, Relu, Clip, MaxPool, AveragePool, Flatten",
           n.describe());
    if (n.op_type == "Gemm") last_gemm = static_cast<int>(layers.size());
    layers.push_back({&n, n.op_type == "Conv" || n.op_type == "Gemm", false});
    cur = n.outputs[0];
  }
  if (last_gemm < 0 || last_gemm != static_cast<int>(layers.size()) - 1)
    fail("width split needs the model to end in its classifier (a Gemm); '{}' does not", base.name);
  layers[last_gemm].splits = false;
  layers[last_gemm].classifier = true;
  return layers;
}

}  // namespace

Variant variant_from_name(const std::string& name) {
  if (name == "static") return Variant::kStatic;
  if (name == "dynamic") return Variant::kDynamic;
  if (name == "fluid") return Variant::kFluid;
  fail("--variant '{}' is not one of static, dynamic, fluid", name);
}

std::string variant_name(Variant v) {
  return v == Variant::kStatic ? "static" : v == Variant::kDynamic ? "dynamic" : "fluid";
}

int SplitModel::stages() const {
  return variant == Variant::kStatic ? 1 : variant == Variant::kDynamic ? groups : groups + 1;
}

std::vector<std::string> subset_keys(Variant variant, int groups) {
  std::vector<std::string> keys;
  if (variant == Variant::kStatic) return {"full"};
  if (variant == Variant::kDynamic) {
    std::vector<int> members;
    for (int j = 1; j <= groups; ++j) {
      members.push_back(j);
      keys.push_back(key_of(members));
    }
  } else {
    for (int j = 1; j <= groups; ++j) keys.push_back(std::to_string(j));
    for (const auto& s : combinations(groups)) keys.push_back(key_of(s));
  }
  keys.push_back("full");
  return keys;
}

SplitModel width_split(const Graph& base_in, Variant variant, int groups, uint64_t seed) {
  if (variant != Variant::kStatic && (groups < 2 || groups > 4))
    fail("--groups {} is out of range: a width split has 2 to 4 groups", groups);
  Graph base = base_in;
  graph::infer_shapes(base);
  std::vector<Layer> layers = chain_of(base);
  SplitModel m;
  m.variant = variant;
  m.groups = variant == Variant::kStatic ? 1 : groups;
  const int k = m.groups;
  Graph& g = m.graph;
  g.name = base.name + "_" + variant_name(variant) + (variant == Variant::kStatic ? "" : std::to_string(k));
  g.opset = base.opset;
  std::string input = base.inputs[0];
  g.inputs = {input};
  g.values[input] = base.value(input);
  Builder b(g, seed);

  // cur[j]: group j's current value (index 0 unused).
  std::vector<std::string> cur(k + 1, input);
  m.group_values.assign(k, {});
  m.exposed.assign(k, {});
  auto expose = [&](int reader, int s) {
    if (reader != s && std::find(m.exposed[s - 1].begin(), m.exposed[s - 1].end(), cur[s]) == m.exposed[s - 1].end())
      m.exposed[s - 1].push_back(cur[s]);
  };
  bool first_split = true;
  auto sources = [&](int j) {
    std::vector<int> s;
    for (int i = 1; i <= k; ++i)
      if (variant == Variant::kStatic || (variant == Variant::kDynamic && i <= j) || i == j) s.push_back(i);
    return s;
  };
  for (size_t l = 0; l < layers.size(); ++l) {
    const Node& n = *layers[l].node;
    std::string prefix = fmt::format("l{}", l);
    if (layers[l].classifier) break;
    if (!layers[l].splits) {
      if (n.op_type == "Dropout" || n.op_type == "Identity") continue;
      for (int j = 1; j <= k; ++j) {
        std::vector<std::string> ins = n.inputs;
        ins[0] = cur[j];
        Node copy = n;
        cur[j] = b.add(n.op_type, fmt::format("g{}.{}.{}", j, prefix, n.op_type), ins, n.attrs);
        // Clip's bound inputs are initializers of the base graph: carry them over.
        for (size_t i = 1; i < n.inputs.size(); ++i)
          if (const Tensor* t = base.initializer(n.inputs[i])) g.set_initializer(n.inputs[i], *t);
      }
      continue;
    }
    const Tensor& w = *base.initializer(n.input(1));
    int64_t out = w.dim(0);
    if (out % k != 0)
      fail("width split: {} has {} output channels, which do not divide into {} groups", n.describe(), out, k);
    int64_t out_g = out / k;
    std::vector<std::string> next(k + 1);
    for (int j = 1; j <= k; ++j) {
      std::vector<std::string> parts;
      if (first_split) {
        parts = {input};
      } else {
        for (int s : sources(j)) {
          parts.push_back(cur[s]);
          expose(j, s);
        }
      }
      std::string in = b.concat(fmt::format("g{}.{}.in", j, prefix), parts);
      std::string name = fmt::format("g{}.{}.{}", j, prefix, n.op_type);
      if (n.op_type == "Conv") {
        int64_t in_c = b.shape(in)[1];
        graph::Shape ws = {out_g, in_c};
        for (int64_t d = 2; d < w.rank(); ++d) ws.push_back(w.dim(d));
        int64_t fan_in = graph::shape_numel(ws) / out_g;
        std::vector<std::string> ins = {in, b.param(name + ".weight", ws, fan_in, j, m.param_stage)};
        if (n.has_input(2)) ins.push_back(b.param(name + ".bias", {out_g}, fan_in, j, m.param_stage));
        next[j] = b.add("Conv", name, ins, n.attrs);
      } else {
        int64_t in_f = b.shape(in)[1];
        std::vector<std::string> ins = {in, b.param(name + ".weight", {out_g, in_f}, in_f, j, m.param_stage)};
        ins.push_back(b.param(name + ".bias", {out_g}, in_f, j, m.param_stage));
        next[j] = b.add("Gemm", name, ins, {{"transB", int64_t{1}}});
      }
      m.group_values[j - 1].push_back(next[j]);
    }
    for (int j = 1; j <= k; ++j) cur[j] = next[j];
    first_split = false;
  }

  const Node& cls = *layers.back().node;
  int64_t classes = base.initializer(cls.input(1))->dim(0);
  auto head = [&](const std::string& name, const std::vector<int>& members, int stage) {
    std::vector<std::string> parts;
    for (int s : members) {
      parts.push_back(cur[s]);
      expose(0, s);
    }
    std::string in = b.concat(name + ".in", parts);
    int64_t in_f = b.shape(in)[1];
    std::string w = b.param(name + ".weight", {classes, in_f}, in_f, stage, m.param_stage);
    std::string bias = b.param(name + ".bias", {classes}, in_f, stage, m.param_stage);
    std::string out = b.add("Gemm", name, {in, w, bias}, {{"transB", int64_t{1}}});
    g.outputs.push_back(out);
    return out;
  };
  for (int j = 1; j <= k; ++j) m.features.push_back(cur[j]);
  if (variant == Variant::kStatic) {
    std::vector<int> all;
    for (int j = 1; j <= k; ++j) all.push_back(j);
    m.predictions["full"] = head("logits", all, 1);
  } else if (variant == Variant::kDynamic) {
    std::vector<int> members;
    for (int j = 1; j <= k; ++j) {
      members.push_back(j);
      m.predictions[key_of(members)] = head("logits_" + key_of(members), members, j);
    }
    m.predictions["full"] = m.predictions[key_of(members)];
  } else {
    for (int j = 1; j <= k; ++j) m.predictions[std::to_string(j)] = head("logits_" + std::to_string(j), {j}, j);
    for (const auto& s : combinations(k)) m.predictions[key_of(s)] = head("combiner_" + key_of(s), s, k + 1);
    std::vector<int> all;
    for (int j = 1; j <= k; ++j) all.push_back(j);
    m.predictions["full"] = m.predictions[key_of(all)];
  }
  graph::infer_shapes(g);
  return m;
}

}  // namespace fluidedge::train
