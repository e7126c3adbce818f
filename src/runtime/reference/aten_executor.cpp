#include "runtime/reference/aten_executor.h"

#include <cstring>
#include <set>

#include "common/error.h"
#include "runtime/reference/aten_ops.h"

namespace fluidedge::runtime::reference {

at::ScalarType aten_type(graph::DType dtype) {
  switch (dtype) {
    case graph::DType::kFloat32:
      return at::kFloat;
    case graph::DType::kFloat16:
      return at::kHalf;
    case graph::DType::kFloat64:
      return at::kDouble;
    case graph::DType::kInt8:
      return at::kChar;
    case graph::DType::kUInt8:
      return at::kByte;
    case graph::DType::kInt16:
      return at::kShort;
    case graph::DType::kInt32:
      return at::kInt;
    case graph::DType::kInt64:
      return at::kLong;
    case graph::DType::kBool:
      return at::kBool;
    default:
      fail("the reference backend has no ATen type for {}", graph::dtype_name(dtype));
  }
}

static graph::DType dtype_of_aten(at::ScalarType t) {
  switch (t) {
    case at::kFloat:
      return graph::DType::kFloat32;
    case at::kHalf:
      return graph::DType::kFloat16;
    case at::kDouble:
      return graph::DType::kFloat64;
    case at::kChar:
      return graph::DType::kInt8;
    case at::kByte:
      return graph::DType::kUInt8;
    case at::kShort:
      return graph::DType::kInt16;
    case at::kInt:
      return graph::DType::kInt32;
    case at::kLong:
      return graph::DType::kInt64;
    case at::kBool:
      return graph::DType::kBool;
    default:
      fail("ATen type {} has no fluidedge dtype", c10::toString(t));
  }
}

at::Tensor to_aten(const graph::Tensor& t) {
  std::vector<int64_t> sizes(t.shape().begin(), t.shape().end());
  at::Tensor out = at::empty(sizes, at::TensorOptions().dtype(aten_type(t.dtype())));
  if (t.nbytes()) std::memcpy(out.data_ptr(), t.raw(), t.nbytes());
  return out;
}

graph::Tensor from_aten(const at::Tensor& t) {
  at::Tensor c = t.detach().contiguous();
  graph::Tensor out(dtype_of_aten(c.scalar_type()), graph::Shape(c.sizes().begin(), c.sizes().end()));
  if (out.nbytes()) std::memcpy(out.raw(), c.data_ptr(), out.nbytes());
  return out;
}

AtenExecutor::AtenExecutor(const graph::Graph& graph) : graph_(graph) {
  for (const auto& node : graph_.nodes)
    if (find_aten_op(node.op_type) == nullptr)
      fail("{}: the reference backend has no implementation of {}", node.describe(), node.op_type);
  for (const auto& [name, t] : graph_.initializers) params_[name] = to_aten(t);
}

std::map<std::string, at::Tensor> AtenExecutor::evaluate(const std::map<std::string, at::Tensor>& inputs,
                                                         const std::vector<std::string>& wanted, bool training) {
  std::map<std::string, at::Tensor> values = inputs;
  auto lookup = [&](const std::string& name) -> at::Tensor {
    auto it = values.find(name);
    if (it != values.end()) return it->second;
    auto p = params_.find(name);
    if (p != params_.end()) return p->second;
    fail("value '{}' is not available (missing input?)", name);
  };
  // Only the nodes the wanted values depend on run (a trainer asking for one head of a
  // multi-head graph does not pay for the others).
  std::set<std::string> needed(wanted.begin(), wanted.end());
  std::vector<bool> run(graph_.nodes.size(), false);
  for (size_t k = graph_.nodes.size(); k-- > 0;) {
    const graph::Node& node = graph_.nodes[k];
    for (const auto& o : node.outputs)
      if (!o.empty() && needed.count(o) && !values.count(o)) run[k] = true;
    if (run[k])
      for (const auto& in : node.inputs)
        if (!in.empty()) needed.insert(in);
  }
  for (size_t k = 0; k < graph_.nodes.size(); ++k) {
    if (!run[k]) continue;
    const graph::Node& node = graph_.nodes[k];
    std::vector<at::Tensor> ins;
    for (const auto& in : node.inputs) ins.push_back(in.empty() ? at::Tensor() : lookup(in));
    OpContext ctx;
    ctx.training = training;
    if (training && node.op_type == "BatchNormalization" && node.inputs.size() >= 5) {
      ctx.running_mean = &params_.at(node.inputs[3]);
      ctx.running_var = &params_.at(node.inputs[4]);
    }
    std::vector<at::Tensor> outs = (*find_aten_op(node.op_type))(node, ins, ctx);
    for (size_t i = 0; i < node.outputs.size() && i < outs.size(); ++i)
      if (!node.outputs[i].empty()) values[node.outputs[i]] = outs[i];
  }
  std::map<std::string, at::Tensor> result;
  for (const auto& w : wanted) result[w] = lookup(w);
  return result;
}

std::map<std::string, at::Tensor> AtenExecutor::forward(const std::map<std::string, at::Tensor>& inputs,
                                                        bool training) {
  return evaluate(inputs, graph_.outputs, training);
}

}  // namespace fluidedge::runtime::reference
