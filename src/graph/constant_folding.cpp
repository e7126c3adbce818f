#include "graph/constant_folding.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <string_view>

#include "graph/op_schema.h"
#include "graph/shape_inference.h"

namespace fluidedge::graph {

namespace {

// Folding works on small tensors (shape vectors, scalars); anything large is left to backends.
constexpr int64_t kMaxFoldElements = 1 << 16;

std::vector<int64_t> strides_of(const Shape& shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

// Copies element `src_index` of `src` to element `dst_index` of `dst` (same dtype).
void copy_element(const Tensor& src, int64_t src_index, Tensor& dst, int64_t dst_index) {
  size_t es = dtype_size(src.dtype());
  std::memcpy(static_cast<std::byte*>(dst.raw()) + dst_index * es,
              static_cast<const std::byte*>(src.raw()) + src_index * es, es);
}

// Element index of `src` that output element `out_index` of a broadcast result reads.
int64_t broadcast_index(int64_t out_index, const Shape& out, const Shape& in) {
  auto os = strides_of(out);
  auto is = strides_of(in);
  int64_t offset = static_cast<int64_t>(out.size() - in.size());
  int64_t idx = 0;
  for (size_t d = 0; d < out.size(); ++d) {
    int64_t coord = (out_index / os[d]) % out[d];
    int64_t di = static_cast<int64_t>(d) - offset;
    if (di >= 0 && in[di] != 1) idx += coord * is[di];
  }
  return idx;
}

Tensor binary(const std::string& op, const Tensor& a, const Tensor& b, const ValueInfo& out) {
  Tensor result(out.dtype, out.shape);
  int64_t n = result.numel();
  bool is_float = dtype_is_float(out.dtype);
  auto af = is_float ? a.to_float() : std::vector<float>{};
  auto bf = is_float ? b.to_float() : std::vector<float>{};
  auto ai = is_float ? std::vector<int64_t>{} : a.to_int64();
  auto bi = is_float ? std::vector<int64_t>{} : b.to_int64();
  std::vector<double> values(n);
  for (int64_t i = 0; i < n; ++i) {
    int64_t ia = broadcast_index(i, out.shape, a.shape()), ib = broadcast_index(i, out.shape, b.shape());
    if (is_float) {
      double x = af[ia], y = bf[ib];
      values[i] = op == "Add" ? x + y : op == "Sub" ? x - y : op == "Mul" ? x * y : x / y;
    } else {
      int64_t x = ai[ia], y = bi[ib];
      if (op == "Div" && y == 0) fail("division by zero while folding constants");
      // ONNX integer Div truncates toward zero, like C++.
      values[i] = static_cast<double>(op == "Add" ? x + y : op == "Sub" ? x - y : op == "Mul" ? x * y : x / y);
    }
  }
  Tensor as_double = Tensor::from_vector<double>(out.shape, values);
  return as_double.cast(out.dtype);
}

Tensor gather(const Node& node, const Tensor& data, const Tensor& indices, const ValueInfo& out) {
  int64_t axis = normalize_axis(node, node.attr_int("axis", 0), data.rank());
  int64_t outer = 1, inner = 1, dim = data.dim(axis);
  for (int64_t d = 0; d < axis; ++d) outer *= data.dim(d);
  for (int64_t d = axis + 1; d < data.rank(); ++d) inner *= data.dim(d);
  auto idx = indices.to_int64();
  Tensor result(out.dtype, out.shape);
  int64_t k = 0;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j : idx) {
      int64_t jj = j < 0 ? j + dim : j;
      if (jj < 0 || jj >= dim) fail("{}: index {} is out of range for a dimension of {}", node.describe(), j, dim);
      for (int64_t i = 0; i < inner; ++i) copy_element(data, (o * dim + jj) * inner + i, result, k++);
    }
  return result;
}

Tensor slice(const Node& node, const std::vector<const Tensor*>& in, const ValueInfo& out) {
  const Tensor& data = *in[0];
  int64_t rank = data.rank();
  SliceGeometry geometry = slice_geometry(node, data.shape(), *in[1], *in[2], in.size() > 3 ? in[3] : nullptr,
                                          in.size() > 4 ? in[4] : nullptr);
  const std::vector<int64_t>& start = geometry.start;
  const std::vector<int64_t>& step = geometry.step;
  Tensor result(out.dtype, out.shape);
  auto in_strides = strides_of(data.shape());
  auto out_strides = strides_of(out.shape);
  for (int64_t i = 0; i < result.numel(); ++i) {
    int64_t src = 0;
    for (int64_t d = 0; d < rank; ++d) {
      int64_t coord = (i / out_strides[d]) % out.shape[d];
      src += (start[d] + coord * step[d]) * in_strides[d];
    }
    copy_element(data, src, result, i);
  }
  return result;
}

Tensor transpose(const Node& node, const Tensor& data, const ValueInfo& out) {
  int64_t rank = data.rank();
  std::vector<int64_t> perm(rank);
  for (int64_t i = 0; i < rank; ++i) perm[i] = rank - 1 - i;
  perm = node.attr_ints("perm", perm);
  Tensor result(out.dtype, out.shape);
  auto in_strides = strides_of(data.shape());
  auto out_strides = strides_of(out.shape);
  for (int64_t i = 0; i < result.numel(); ++i) {
    int64_t src = 0;
    for (int64_t d = 0; d < rank; ++d) src += ((i / out_strides[d]) % out.shape[d]) * in_strides[perm[d]];
    copy_element(data, src, result, i);
  }
  return result;
}

Tensor concat(const Node& node, const std::vector<const Tensor*>& in, const ValueInfo& out) {
  int64_t axis = normalize_axis(node, node.attr_int("axis", 0), static_cast<int64_t>(out.shape.size()));
  int64_t outer = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= out.shape[d];
  Tensor result(out.dtype, out.shape);
  int64_t k = 0;
  for (int64_t o = 0; o < outer; ++o)
    for (const Tensor* t : in) {
      if (t->dtype() != out.dtype) fail("{}: inputs of different types", node.describe());
      int64_t chunk = t->numel() / std::max<int64_t>(outer, 1);
      for (int64_t i = 0; i < chunk; ++i) copy_element(*t, o * chunk + i, result, k++);
    }
  return result;
}

// What folding evaluates, by op: the result, or nullopt when this form is not folded.
using Evaluator = std::optional<Tensor> (*)(const Node&, const std::vector<const Tensor*>&, const ValueInfo&);

std::optional<Tensor> reinterpret(const Node&, const std::vector<const Tensor*>& in, const ValueInfo& o) {
  return in[0]->clone().reshaped(o.shape);
}

std::optional<Tensor> arithmetic(const Node& node, const std::vector<const Tensor*>& in, const ValueInfo& o) {
  if (in[0]->dtype() != in[1]->dtype()) return std::nullopt;
  return binary(node.op_type, *in[0], *in[1], o);
}

const std::map<std::string_view, Evaluator>& evaluators() {
  static const std::map<std::string_view, Evaluator> t = {
      // Shape is evaluated by fold_constants from the input's inferred shape.
      {"Gather",
       [](const Node& n, const std::vector<const Tensor*>& in, const ValueInfo& o) -> std::optional<Tensor> {
         return gather(n, *in[0], *in[1], o);
       }},
      {"Cast",
       [](const Node&, const std::vector<const Tensor*>& in, const ValueInfo& o) -> std::optional<Tensor> {
         return in[0]->cast(o.dtype);
       }},
      {"ConstantOfShape",
       [](const Node& n, const std::vector<const Tensor*>&, const ValueInfo& o) -> std::optional<Tensor> {
         Tensor result(o.dtype, o.shape);  // zeros unless `value` says otherwise
         if (n.has_attr("value")) {
           const Tensor& v = n.attr_tensor("value");
           for (int64_t i = 0; i < result.numel(); ++i) copy_element(v, 0, result, i);
         }
         return result;
       }},
      {"Slice",
       [](const Node& n, const std::vector<const Tensor*>& in, const ValueInfo& o) -> std::optional<Tensor> {
         return slice(n, in, o);
       }},
      {"Concat",
       [](const Node& n, const std::vector<const Tensor*>& in, const ValueInfo& o) -> std::optional<Tensor> {
         return concat(n, in, o);
       }},
      {"Transpose",
       [](const Node& n, const std::vector<const Tensor*>& in, const ValueInfo& o) -> std::optional<Tensor> {
         return transpose(n, *in[0], o);
       }},
      {"Unsqueeze", reinterpret},
      {"Squeeze", reinterpret},
      {"Reshape", reinterpret},
      {"Flatten", reinterpret},
      {"Identity", reinterpret},
      {"Dropout", reinterpret},
      {"Add", arithmetic},
      {"Sub", arithmetic},
      {"Mul", arithmetic},
      {"Div", arithmetic},
  };
  return t;
}

}  // namespace

bool evaluate_constant_node(const Node& node, const std::vector<const Tensor*>& in,
                            const std::vector<ValueInfo>& out_infos, std::vector<Tensor>& out) {
  if (!node.domain.empty()) return false;
  auto it = evaluators().find(node.op_type);
  if (it == evaluators().end()) return false;
  for (const auto& info : out_infos)
    if (shape_numel(info.shape) > kMaxFoldElements) return false;
  std::optional<Tensor> result = it->second(node, in, out_infos.at(0));
  if (!result) return false;
  out.clear();
  out.push_back(std::move(*result));
  return true;
}

int fold_constants(Graph& graph) {
  std::vector<Node> kept;
  int folded = 0;
  for (const Node& node : graph.nodes) {
    infer_node(graph, node);
    std::vector<ValueInfo> infos;
    for (const auto& name : node.outputs) infos.push_back(name.empty() ? ValueInfo{} : graph.value(name));
    bool all_constant = true;
    std::vector<const Tensor*> inputs;
    for (const auto& name : node.inputs) {
      const Tensor* t = name.empty() ? nullptr : graph.initializer(name);
      if (!name.empty() && t == nullptr) all_constant = false;
      inputs.push_back(t);
    }
    std::vector<Tensor> results;
    bool done = false;
    if (node.op_type == "Shape") {
      const Shape& s = graph.value(node.input(0)).shape;
      const Shape& o = infos[0].shape;
      int64_t rank = static_cast<int64_t>(s.size());
      int64_t start = node.attr_int("start", 0);
      if (start < 0) start += rank;
      start = std::clamp<int64_t>(start, 0, rank);
      results.push_back(Tensor::from_vector<int64_t>(o, Shape(s.begin() + start, s.begin() + start + o[0])));
      done = true;
    } else if (all_constant) {
      done = evaluate_constant_node(node, inputs, infos, results);
    }
    if (done) {
      for (size_t i = 0; i < node.outputs.size() && i < results.size(); ++i)
        if (!node.outputs[i].empty()) graph.set_initializer(node.outputs[i], results[i]);
      // Dropout's optional mask output of a folded node: all true.
      for (size_t i = results.size(); i < node.outputs.size(); ++i)
        if (!node.outputs[i].empty()) {
          Tensor mask(DType::kBool, infos[i].shape);
          std::memset(mask.raw(), 1, mask.nbytes());
          graph.set_initializer(node.outputs[i], mask);
        }
      ++folded;
      continue;
    }
    // A Cast of a run-time value to the type it already has (PyTorch's quantized export puts
    // one between every QuantizeLinear and DequantizeLinear) passes it through.
    if (node.op_type == "Cast" && node.domain.empty() && graph.value(node.input(0)).dtype == infos[0].dtype) {
      Node identity = node;
      identity.op_type = "Identity";
      identity.attrs.clear();
      kept.push_back(std::move(identity));
      continue;
    }
    const OpSchema* schema = find_op_schema(node.op_type);
    if (schema != nullptr && schema->fold_only)
      fail(
          "{}: its inputs are not constant, and fluidedge only supports {} on values known when "
          "the model is loaded",
          node.describe(), node.op_type);
    kept.push_back(node);
  }
  graph.nodes = std::move(kept);
  // Graph outputs that folded to constants stay as initializers; prune the rest.
  graph.prune_unused();
  return folded;
}

}  // namespace fluidedge::graph
