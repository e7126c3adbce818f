// The xnnpack backend's op table: one entry per op it executes. An op of supported_ops() with no
// entry here is reported at plan time (and by the coverage test), never silently skipped.
#include <map>
#include <string_view>

#include "runtime/xnnpack/kernel.h"

namespace fluidedge::runtime::xnnpack {

namespace {

using Factory = std::unique_ptr<Kernel> (*)(const FusedStep&, const graph::Graph&, std::string&);

const std::map<std::string_view, Factory>& table() {
  static const std::map<std::string_view, Factory> t = {
      {"Conv", make_conv_kernel},
      {"Gemm", make_linear_kernel},
      {"MatMul", make_linear_kernel},
      {"MaxPool", make_pool_kernel},
      {"AveragePool", make_pool_kernel},
      {"GlobalAveragePool", make_pool_kernel},
      {"GlobalMaxPool", make_pool_kernel},
      {"Relu", make_activation_kernel},
      {"LeakyRelu", make_activation_kernel},
      {"Clip", make_activation_kernel},
      {"Sigmoid", make_activation_kernel},
      {"Tanh", make_activation_kernel},
      {"HardSwish", make_activation_kernel},
      {"HardSigmoid", make_activation_kernel},
      {"Elu", make_activation_kernel},
      {"Selu", make_activation_kernel},
      {"Gelu", make_activation_kernel},
      {"Erf", make_activation_kernel},
      {"Exp", make_activation_kernel},
      {"Sqrt", make_activation_kernel},
      {"Abs", make_activation_kernel},
      {"Neg", make_activation_kernel},
      {"Add", make_binary_kernel},
      {"Sub", make_binary_kernel},
      {"Mul", make_binary_kernel},
      {"Div", make_binary_kernel},
      {"Pow", make_loop_kernel},
      {"PRelu", make_loop_kernel},
      {"Where", make_loop_kernel},
      {"ReduceMean", make_loop_kernel},
      {"ReduceMax", make_loop_kernel},
      {"ReduceSum", make_loop_kernel},
      {"ReduceL2", make_loop_kernel},
      {"LayerNormalization", make_loop_kernel},
      {"BatchNormalization", make_batch_norm_kernel},
      {"Softmax", make_softmax_kernel},
      {"Slice", make_loop_kernel},
      {"QuantizeLinear", make_loop_kernel},
      {"DequantizeLinear", make_loop_kernel},
      {"QLinearConv", make_quantized_conv_kernel},
      {"ConvInteger", make_loop_kernel},
      {"QLinearMatMul", make_loop_kernel},
      {"MatMulInteger", make_loop_kernel},
      {"QLinearAdd", make_loop_kernel},
      {"QLinearGlobalAveragePool", make_loop_kernel},
      {"QLinearLookup", make_loop_kernel},
      {"Concat", make_concat_kernel},
      {"Split", make_split_kernel},
      {"Reshape", make_view_kernel},
      {"Flatten", make_view_kernel},
      {"Squeeze", make_view_kernel},
      {"Unsqueeze", make_view_kernel},
      {"Identity", make_view_kernel},
      {"Dropout", make_view_kernel},
      {"Transpose", make_transpose_kernel},
      {"Pad", make_pad_kernel},
  };
  return t;
}

}  // namespace

std::vector<std::string> kernel_table_ops() {
  std::vector<std::string> out;
  for (const auto& [op, factory] : table()) out.emplace_back(op);
  return out;
}

std::unique_ptr<Kernel> make_kernel(const FusedStep& step, const graph::Graph& g, std::string& why_not) {
  const std::string& op = step.node.op_type;
  auto it = table().find(op);
  if (it == table().end()) {
    why_not = "no xnnpack kernel for this operator";
    return nullptr;
  }
  why_not = float32_input_problem(step, g, "xnnpack", /*integer_data_movement=*/true);
  if (!why_not.empty()) return nullptr;
  return it->second(step, g, why_not);
}

}  // namespace fluidedge::runtime::xnnpack
