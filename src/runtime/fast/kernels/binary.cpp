// Add, Sub, Mul, Div with numpy broadcasting on oneDNN's binary primitive. oneDNN broadcasts
// only the second operand, so a broadcast or constant first operand of Add/Mul swaps the two,
// and of Sub too, negated after: c - x = -(x - c).
#include "runtime/fast/kernels/kernels.h"

namespace fluidedge::runtime::fast {

namespace {

graph::Shape padded(graph::Shape s, size_t rank) {
  while (s.size() < rank) s.insert(s.begin(), 1);
  return s;
}

class BinaryKernel : public Kernel {
 public:
  BinaryKernel(const FusedStep& step, const graph::Graph& g, bool swap) : step_(step), g_(g), swap_(swap) {}

  void plan(const dnnl::engine& engine, KernelPlan& plan) override {
    const graph::Node& n = step_.node;
    std::string a = n.input(swap_ ? 1 : 0), b = n.input(swap_ ? 0 : 1);
    const graph::Shape& y = g_.value(n.outputs[0]).shape;
    size_t rank = y.size();
    // Runtime inputs in plan.inputs follow the node's input order.
    auto slot = [&](const std::string& v) {
      int k = 0;
      for (const auto& in : n.inputs) {
        if (in == v) return k;
        if (!g_.is_initializer(in)) ++k;
      }
      return -1;
    };
    memory::desc a_md = plan.inputs[slot(a)];
    bool a_padded = a_md.dims().size() != rank;
    if (a_padded) a_md = plain_desc(y);  // lower-rank first operand: plain, viewed at full rank
    const graph::Tensor* bc = g_.initializer(b);
    graph::Shape bs = padded(g_.value(b).shape, rank);
    memory::desc b_md;
    if (bc) {
      b_const_ = constant_memory(*bc, engine);
      b_md = plain_desc(bs);
    } else {
      // A broadcast operand (a squeeze-excitation scale [N,C,1,1]) is tiny: bring it to the first
      // operand's format, which keeps oneDNN on its optimised kernel (mixed formats run the
      // reference loops, 20x slower).
      b_md = bs == y ? a_md : like(a_md, bs);
      plan.inputs[slot(b)] = b_md.dims().size() == g_.value(b).shape.size() ? b_md : plain_desc(g_.value(b).shape);
    }
    plan.inputs[slot(a)] = a_padded ? plain_desc(g_.value(a).shape) : a_md;
    a_view_ = a_md;
    b_view_ = b_md;
    dnnl::algorithm alg = n.op_type == "Add"   ? dnnl::algorithm::binary_add
                          : n.op_type == "Sub" ? dnnl::algorithm::binary_sub
                          : n.op_type == "Mul" ? dnnl::algorithm::binary_mul
                                               : dnnl::algorithm::binary_div;
    dnnl::binary::desc d(alg, a_md, b_md, memory::desc(to_dims(y), memory::data_type::f32, memory::format_tag::any));
    FusedStep then = step_;
    if (swap_ && n.op_type == "Sub") {
      PostOp negate;
      negate.activation = Activation::kNeg;
      then.post_ops.insert(then.post_ops.begin(), negate);
    }
    pd_ = dnnl::binary::primitive_desc(d, post_op_attr(then), engine);
    prim_ = PlannedPrimitive(pd_, plan.scratchpad);
    a_slot_ = slot(a);
    b_slot_ = bc ? -1 : slot(b);
    plan.outputs = {pd_.dst_desc()};
    plan.alias = {-1};
  }

  void execute(dnnl::stream& stream, const std::vector<memory>& in, const std::vector<memory>& out) override {
    memory b = b_slot_ < 0 ? b_const_ : memory(b_view_, pd_.get_engine(), in[b_slot_].get_data_handle());
    memory a = memory(a_view_, pd_.get_engine(), in[a_slot_].get_data_handle());
    prim_.execute(stream, {{DNNL_ARG_SRC_0, a}, {DNNL_ARG_SRC_1, b}, {DNNL_ARG_DST, out[0]}});
  }

 private:
  FusedStep step_;
  const graph::Graph& g_;
  bool swap_;
  int a_slot_ = 0, b_slot_ = 1;
  memory b_const_;
  memory::desc a_view_, b_view_;
  dnnl::binary::primitive_desc pd_;
  PlannedPrimitive prim_;
};

}  // namespace

std::unique_ptr<Kernel> make_binary_kernel(const FusedStep& step, const graph::Graph& g, std::string& why_not) {
  const graph::Node& n = step.node;
  const graph::Shape& y = g.value(n.outputs[0]).shape;
  bool a_full = padded(g.value(n.input(0)).shape, y.size()) == y;
  bool b_full = padded(g.value(n.input(1)).shape, y.size()) == y;
  bool swappable = n.op_type == "Add" || n.op_type == "Mul" || n.op_type == "Sub";
  if (g.is_initializer(n.input(0)) && g.is_initializer(n.input(1))) {
    why_not = "both operands constant";
    return nullptr;
  }
  bool swap = !a_full || (g.is_initializer(n.input(0)) && swappable);
  if (swap && (!swappable || !b_full)) {
    why_not = "broadcasting of the first operand of " + n.op_type;
    return nullptr;
  }
  if (!swap && g.is_initializer(n.input(0))) {
    why_not = "a constant first operand of " + n.op_type;
    return nullptr;
  }
  if (y.size() > 6 || y.empty()) {
    why_not = fmt::format("rank-{} operands", y.size());
    return nullptr;
  }
  return std::make_unique<BinaryKernel>(step, g, swap);
}

}  // namespace fluidedge::runtime::fast
