// The fast backend's op table: one entry per op it executes. An op of supported_ops() with no
// entry here is reported at plan time (and by the coverage test), never silently skipped.
#include <functional>
#include <map>
#include <string_view>

#include "runtime/fast/kernel.h"
#include "runtime/fast/kernels/kernels.h"

namespace fluidedge::runtime::fast {

namespace {

using Factory =
    std::function<std::unique_ptr<Kernel>(const FusedStep&, const graph::Graph&, const SessionOptions&, std::string&)>;

// Most factories do not need the session's options.
template <std::unique_ptr<Kernel> (*F)(const FusedStep&, const graph::Graph&, std::string&)>
std::unique_ptr<Kernel> plain(const FusedStep& s, const graph::Graph& g, const SessionOptions&, std::string& why) {
  return F(s, g, why);
}

const std::map<std::string_view, Factory>& table() {
  static const std::map<std::string_view, Factory> t = {
      {"Conv", make_conv_kernel},
      {"Gemm", plain<make_linear_kernel>},
      {"MatMul", plain<make_linear_kernel>},
      {"MaxPool", plain<make_pool_kernel>},
      {"AveragePool", plain<make_pool_kernel>},
      {"GlobalAveragePool", plain<make_pool_kernel>},
      {"GlobalMaxPool", plain<make_pool_kernel>},
      {"Relu", plain<make_eltwise_kernel>},
      {"LeakyRelu", plain<make_eltwise_kernel>},
      {"Clip", plain<make_eltwise_kernel>},
      {"Sigmoid", plain<make_eltwise_kernel>},
      {"Tanh", plain<make_eltwise_kernel>},
      {"HardSwish", plain<make_eltwise_kernel>},
      {"HardSigmoid", plain<make_eltwise_kernel>},
      {"Elu", plain<make_eltwise_kernel>},
      {"Selu", plain<make_eltwise_kernel>},
      {"Gelu", plain<make_eltwise_kernel>},
      {"Exp", plain<make_eltwise_kernel>},
      {"Sqrt", plain<make_eltwise_kernel>},
      {"Abs", plain<make_eltwise_kernel>},
      {"Neg", plain<make_eltwise_kernel>},
      {"Erf", plain<make_eltwise_kernel>},  // oneDNN 2.6 has no erf: the shared loop, any layout
      {"Add", plain<make_binary_kernel>},
      {"Sub", plain<make_binary_kernel>},
      {"Mul", plain<make_binary_kernel>},
      {"Div", plain<make_binary_kernel>},
      {"Pow", plain<make_loop_kernel>},
      {"PRelu", plain<make_loop_kernel>},
      {"Where", plain<make_loop_kernel>},
      {"ReduceMean", plain<make_loop_kernel>},
      {"ReduceMax", plain<make_loop_kernel>},
      {"ReduceSum", plain<make_loop_kernel>},
      {"ReduceL2", plain<make_loop_kernel>},
      {"LayerNormalization", plain<make_loop_kernel>},
      {"BatchNormalization", plain<make_batch_norm_kernel>},
      {"Softmax", plain<make_softmax_kernel>},
      {"Slice", plain<make_loop_kernel>},
      {"QuantizeLinear", plain<make_loop_kernel>},
      {"DequantizeLinear", plain<make_loop_kernel>},
      {"QLinearConv", plain<make_quantized_conv_kernel>},
      {"ConvInteger", plain<make_loop_kernel>},
      {"QLinearMatMul", plain<make_loop_kernel>},
      {"MatMulInteger", plain<make_loop_kernel>},
      {"QLinearAdd", plain<make_loop_kernel>},
      {"QLinearGlobalAveragePool", plain<make_loop_kernel>},
      {"QLinearLookup", plain<make_loop_kernel>},
      {"Concat", plain<make_concat_kernel>},
      {"Reshape", plain<make_layout_kernel>},
      {"Flatten", plain<make_layout_kernel>},
      {"Squeeze", plain<make_layout_kernel>},
      {"Unsqueeze", plain<make_layout_kernel>},
      {"Transpose", plain<make_layout_kernel>},
      {"Split", plain<make_layout_kernel>},
      {"Pad", plain<make_layout_kernel>},
      {"Identity", plain<make_layout_kernel>},
      {"Dropout", plain<make_layout_kernel>},
  };
  return t;
}

}  // namespace

std::vector<std::string> kernel_table_ops() {
  std::vector<std::string> out;
  for (const auto& [op, factory] : table()) out.emplace_back(op);
  return out;
}

std::unique_ptr<Kernel> make_kernel(const FusedStep& step, const graph::Graph& g, const SessionOptions& options,
                                    std::string& why_not) {
  const std::string& op = step.node.op_type;
  auto it = table().find(op);
  if (it == table().end()) {
    why_not = "no fast kernel for this operator";
    return nullptr;
  }
  why_not = float32_input_problem(step, g, "fast", /*integer_data_movement=*/true);
  if (!why_not.empty()) return nullptr;
  return it->second(step, g, options, why_not);
}

}  // namespace fluidedge::runtime::fast
