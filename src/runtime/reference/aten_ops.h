// The reference implementation of each executable op, as functional ATen calls.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "graph/node.h"

namespace fluidedge::runtime::reference {

struct OpContext {
  bool training = false;
  // Mutable running statistics of BatchNormalization (inputs 3 and 4), for training mode.
  at::Tensor* running_mean = nullptr;
  at::Tensor* running_var = nullptr;
};

// inputs: one per node input (undefined tensors for omitted optional inputs).
using AtenOp = std::function<std::vector<at::Tensor>(const graph::Node&, const std::vector<at::Tensor>&, OpContext&)>;

// Shared by the op families: a convolution of `n`'s geometry (pads, strides, dilations, group)
// on x and w of any floating type, bias optional (undefined).
at::Tensor convolution(const graph::Node& n, const at::Tensor& x, const at::Tensor& w, const at::Tensor& bias);
// Adds the quantization ops (aten_quantized_ops.cpp) to the op table.
void add_quantized_ops(std::map<std::string, AtenOp>& table);

// The implementation of `op_type` from the reference backend's op table, or nullptr.
const AtenOp* find_aten_op(const std::string& op_type);
// Op types the table has an entry for (the coverage test holds it to supported_ops()).
std::vector<std::string> aten_table_ops();

}  // namespace fluidedge::runtime::reference
