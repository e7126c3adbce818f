// Shape and cost of matrix products: Gemm and MatMul.
#include "graph/ops/families.h"

namespace fluidedge::graph::ops {

namespace {

void infer_gemm(InferContext& c) {
  const Shape& a = c.shape(0);
  const Shape& b = c.shape(1);
  if (a.size() != 2 || b.size() != 2) c.error("A {} and B {} must both be matrices", shape_str(a), shape_str(b));
  bool ta = c.node.attr_int("transA", 0) != 0, tb = c.node.attr_int("transB", 0) != 0;
  int64_t m = ta ? a[1] : a[0], k = ta ? a[0] : a[1];
  int64_t kb = tb ? b[1] : b[0], n = tb ? b[0] : b[1];
  if (k != kb)
    c.error("inner dimensions differ: A {} (transA={}) and B {} (transB={})", shape_str(a), int(ta), shape_str(b),
            int(tb));
  if (c.has_input(2)) broadcast_shapes(c.node, Shape{m, n}, c.shape(2));
  if (c.has_input(2)) {
    Shape bc = broadcast_shapes(c.node, Shape{m, n}, c.shape(2));
    if (bc != Shape{m, n}) c.error("C of shape {} does not broadcast to [{},{}]", shape_str(c.shape(2)), m, n);
  }
  c.set_output(0, c.in(0).dtype, {m, n});
}

int64_t gemm_macs(const Node& node, const std::vector<const ValueInfo*>& in, const std::vector<const ValueInfo*>& out) {
  const Shape& a = in[0]->shape;
  int64_t k = node.attr_int("transA", 0) ? a[0] : a[1];
  return shape_numel(out[0]->shape) * k;
}

void infer_matmul(InferContext& c) {
  Shape a = c.shape(0), b = c.shape(1);
  if (a.empty() || b.empty()) c.error("MatMul inputs must have rank >= 1");
  if (c.in(0).dtype != c.in(1).dtype) c.error("inputs must have the same type");
  bool a_vec = a.size() == 1, b_vec = b.size() == 1;
  if (a_vec) a.insert(a.begin(), 1);
  if (b_vec) b.push_back(1);
  if (a.back() != b[b.size() - 2])
    c.error("inner dimensions differ: {} x {}", shape_str(c.shape(0)), shape_str(c.shape(1)));
  Shape batch = broadcast_shapes(c.node, Shape(a.begin(), a.end() - 2), Shape(b.begin(), b.end() - 2));
  Shape out = batch;
  if (!a_vec) out.push_back(a[a.size() - 2]);
  if (!b_vec) out.push_back(b.back());
  c.set_output(0, c.in(0).dtype, out);
}

int64_t matmul_macs(const Node&, const std::vector<const ValueInfo*>& in, const std::vector<const ValueInfo*>& out) {
  return shape_numel(out[0]->shape) * in[0]->shape.back();
}

}  // namespace

std::vector<OpSchema> linear_schemas() {
  return {
      {.type = "Gemm", .min_inputs = 2, .max_inputs = 3, .infer = infer_gemm, .macs = gemm_macs},
      {.type = "MatMul", .min_inputs = 2, .max_inputs = 2, .infer = infer_matmul, .macs = matmul_macs},
  };
}

}  // namespace fluidedge::graph::ops
