#include "runtime/loop_ops.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numbers>
#include <set>

#include "common/error.h"
#include "graph/op_schema.h"
#include "runtime/quantized_loops.h"
#include "runtime/vector_math.h"

namespace fluidedge::runtime {

namespace {

constexpr std::ptrdiff_t kParallelFrom = 65536;  // elements; below, one thread is faster

template <typename F>
void each_in_place(float* x, size_t count, int threads, F f) {
  const auto n = static_cast<std::ptrdiff_t>(count);
#pragma omp parallel for num_threads(threads) if (threads > 1 && n > kParallelFrom)
  for (std::ptrdiff_t i = 0; i < n; ++i) x[i] = f(x[i]);
}

void apply_post_ops(const FusedStep& step, float* data, size_t count, int threads) {
  for (const PostOp& p : step.post_ops) {
    if (p.kind != PostOp::Kind::kEltwise) fail("{}: internal: a sum post-op on a loop op", step.node.describe());
    activation_in_place(p, data, count, threads);
  }
}

// A value as a loop reads it: a runtime input (by index) or a constant's floats.
struct Operand {
  int runtime = -1;
  bool runtime_bool = false;  // a runtime input of bools (a Where's condition), read as bytes
  std::vector<float> constant;
  graph::Shape shape;
};

// Numpy-broadcasting elementwise op of two or three operands.
class BroadcastOp : public FloatLoopOp {
 public:
  using F = std::function<float(float, float, float)>;

  BroadcastOp(const FusedStep& step, const graph::Graph& g, F f) : step_(step), f_(std::move(f)) {
    int next_runtime = 0;
    for (const auto& name : step.node.inputs) {
      Operand o;
      o.shape = g.value(name).shape;
      if (const graph::Tensor* t = g.initializer(name))
        o.constant = t->to_float();
      else
        o.runtime = next_runtime++;
      o.runtime_bool = o.runtime >= 0 && g.value(name).dtype == graph::DType::kBool;
      operands_.push_back(std::move(o));
    }
    out_shape_ = g.value(step.node.outputs[0]).shape;
    output_count_ = static_cast<size_t>(graph::shape_numel(out_shape_));
    const size_t rank = out_shape_.size();
    // Each operand's element stride along every output dim (0 where it broadcasts).
    for (const Operand& o : operands_) {
      std::vector<int64_t> strides(rank, 0);
      int64_t stride = 1;
      for (size_t k = 0; k < o.shape.size(); ++k) {
        size_t d = o.shape.size() - 1 - k, od = rank - 1 - k;
        strides[od] = o.shape[d] == 1 ? 0 : stride;
        stride *= o.shape[d];
      }
      strides_.push_back(std::move(strides));
    }
  }

  void run_float(const std::vector<const float*>& inputs, const std::vector<float*>& outputs,
                 int threads) const override {
    float* out = outputs[0];
    std::vector<const float*> base;
    std::vector<std::vector<float>> as_float;  // runtime bools, as 0 and 1
    as_float.reserve(operands_.size());
    for (const Operand& o : operands_) {
      if (o.runtime_bool) {
        const auto* bytes = reinterpret_cast<const uint8_t*>(inputs[o.runtime]);
        as_float.emplace_back(bytes, bytes + graph::shape_numel(o.shape));
        base.push_back(as_float.back().data());
      } else {
        base.push_back(o.runtime >= 0 ? inputs[o.runtime] : o.constant.data());
      }
    }
    while (base.size() < 3) base.push_back(nullptr);
    const size_t rank = out_shape_.size();
    const int64_t inner = rank == 0 ? 1 : out_shape_[rank - 1];
    const int64_t rows = inner == 0 ? 0 : static_cast<int64_t>(output_count_) / inner;
    std::vector<int64_t> inner_stride(3, 0);
    for (size_t k = 0; k < operands_.size(); ++k) inner_stride[k] = rank == 0 ? 0 : strides_[k][rank - 1];
#pragma omp parallel for num_threads(threads) if (threads > 1 && \
                                                  static_cast <std::ptrdiff_t>(output_count_) > kParallelFrom)
    for (int64_t r = 0; r < rows; ++r) {
      // The row's offset in each operand, from its index over the outer dims.
      int64_t off[3] = {0, 0, 0};
      int64_t rest = r;
      for (size_t d = rank - 1; d-- > 0;) {
        int64_t i = rest % out_shape_[d];
        rest /= out_shape_[d];
        for (size_t k = 0; k < operands_.size(); ++k) off[k] += i * strides_[k][d];
      }
      float* o = out + r * inner;
      for (int64_t i = 0; i < inner; ++i) {
        float a = base[0][off[0] + i * inner_stride[0]];
        float b = base[1][off[1] + i * inner_stride[1]];
        float c = base[2] ? base[2][off[2] + i * inner_stride[2]] : 0.f;
        o[i] = f_(a, b, c);
      }
    }
    apply_post_ops(step_, out, output_count_, threads);
  }

 private:
  FusedStep step_;
  F f_;
  std::vector<Operand> operands_;
  std::vector<std::vector<int64_t>> strides_;
  graph::Shape out_shape_;
};

// ReduceMean, ReduceMax, ReduceSum, ReduceL2 over a set of axes.
class ReduceOp : public FloatLoopOp {
 public:
  enum class Kind { kMean, kMax, kSum, kL2 };

  ReduceOp(const FusedStep& step, const graph::Graph& g, Kind kind) : step_(step), kind_(kind) {
    in_shape_ = g.value(step.node.inputs[0]).shape;
    const graph::Tensor* axes = step.node.has_input(1) ? g.initializer(step.node.input(1)) : nullptr;
    std::set<int64_t> reduced = graph::reduced_axes(step.node, axes, static_cast<int64_t>(in_shape_.size()));
    // The output offset of each input dim (0 along reduced dims).
    out_strides_.assign(in_shape_.size(), 0);
    int64_t stride = 1;
    for (size_t d = in_shape_.size(); d-- > 0;) {
      if (reduced.count(static_cast<int64_t>(d))) continue;
      out_strides_[d] = stride;
      stride *= in_shape_[d];
    }
    output_count_ = static_cast<size_t>(stride);
    int64_t in_count = graph::shape_numel(in_shape_);
    per_output_ = output_count_ == 0 ? 0 : in_count / static_cast<int64_t>(output_count_);
  }

  void run_float(const std::vector<const float*>& inputs, const std::vector<float*>& outputs,
                 int threads) const override {
    float* out = outputs[0];
    const float* x = inputs[0];
    const float init = kind_ == Kind::kMax ? -std::numeric_limits<float>::infinity() : 0.f;
    std::vector<double> acc(output_count_, init);
    const size_t rank = in_shape_.size();
    const int64_t count = graph::shape_numel(in_shape_);
    std::vector<int64_t> index(rank, 0);
    int64_t o = 0;
    for (int64_t i = 0; i < count; ++i) {
      double v = x[i];
      double& a = acc[static_cast<size_t>(o)];
      switch (kind_) {
        case Kind::kMax:
          a = std::isnan(v) || v > a ? v : a;
          break;
        case Kind::kL2:
          a += v * v;
          break;
        default:
          a += v;
          break;
      }
      // Next input index, carrying the output offset along.
      for (size_t d = rank; d-- > 0;) {
        o += out_strides_[d];
        if (++index[d] < in_shape_[d]) break;
        o -= out_strides_[d] * in_shape_[d];
        index[d] = 0;
      }
    }
    for (size_t k = 0; k < output_count_; ++k) {
      double a = acc[k];
      if (kind_ == Kind::kMean) a = per_output_ > 0 ? a / static_cast<double>(per_output_) : std::nan("");
      if (kind_ == Kind::kL2) a = std::sqrt(a);
      out[k] = static_cast<float>(a);
    }
    apply_post_ops(step_, out, output_count_, threads);
  }

 private:
  FusedStep step_;
  Kind kind_;
  graph::Shape in_shape_;
  std::vector<int64_t> out_strides_;
  int64_t per_output_ = 0;
};

// LayerNormalization over the dims from `axis` on, with constant scale and bias; also the Mean
// and InvStdDev outputs (one per normalised row) when the node has them.
class LayerNormOp : public FloatLoopOp {
 public:
  LayerNormOp(const FusedStep& step, const graph::Graph& g, std::vector<float> scale, std::vector<float> bias)
      : step_(step), scale_(std::move(scale)), bias_(std::move(bias)) {
    const graph::Shape& x = g.value(step.node.inputs[0]).shape;
    int64_t axis = graph::normalize_axis(step.node, step.node.attr_int("axis", -1), static_cast<int64_t>(x.size()));
    inner_ = 1;
    for (size_t d = static_cast<size_t>(axis); d < x.size(); ++d) inner_ *= x[d];
    output_count_ = static_cast<size_t>(graph::shape_numel(x));
    epsilon_ = step.node.attr_float("epsilon", 1e-5f);
  }

  void run_float(const std::vector<const float*>& inputs, const std::vector<float*>& outputs,
                 int threads) const override {
    float* out = outputs[0];
    const float* x = inputs[0];
    const int64_t rows = inner_ == 0 ? 0 : static_cast<int64_t>(output_count_) / inner_;
#pragma omp parallel for num_threads(threads) if (threads > 1 && \
                                                  static_cast <std::ptrdiff_t>(output_count_) > kParallelFrom)
    for (int64_t r = 0; r < rows; ++r) {
      const float* xr = x + r * inner_;
      float* yr = out + r * inner_;
      double mean = 0, var = 0;
      for (int64_t i = 0; i < inner_; ++i) mean += xr[i];
      mean /= static_cast<double>(inner_);
      for (int64_t i = 0; i < inner_; ++i) var += (xr[i] - mean) * (xr[i] - mean);
      var /= static_cast<double>(inner_);
      const double inv = 1 / std::sqrt(var + epsilon_);
      if (outputs.size() > 1 && outputs[1]) outputs[1][r] = static_cast<float>(mean);
      if (outputs.size() > 2 && outputs[2]) outputs[2][r] = static_cast<float>(inv);
      for (int64_t i = 0; i < inner_; ++i) {
        double y = (xr[i] - mean) * inv * scale_[static_cast<size_t>(i) % scale_.size()];
        if (!bias_.empty()) y += bias_[static_cast<size_t>(i) % bias_.size()];
        yr[i] = static_cast<float>(y);
      }
    }
    apply_post_ops(step_, out, output_count_, threads);
  }

 private:
  FusedStep step_;
  std::vector<float> scale_, bias_;
  int64_t inner_ = 1;
  float epsilon_ = 1e-5f;
};

// Slice with constant starts, ends, axes and steps: a strided copy.
class SliceOp : public FloatLoopOp {
 public:
  SliceOp(const FusedStep& step, const graph::Graph& g, graph::SliceGeometry geometry)
      : step_(step), geometry_(std::move(geometry)) {
    const graph::Shape& in = g.value(step.node.inputs[0]).shape;
    in_strides_.assign(in.size(), 1);
    for (size_t d = in.size(); d-- > 1;) in_strides_[d - 1] = in_strides_[d] * in[d];
    output_count_ = static_cast<size_t>(graph::shape_numel(geometry_.output));
  }

  void run_float(const std::vector<const float*>& inputs, const std::vector<float*>& outputs,
                 int threads) const override {
    float* out = outputs[0];
    const float* x = inputs[0];
    const graph::Shape& shape = geometry_.output;
    const size_t rank = shape.size();
    if (output_count_ == 0) return;
    if (rank == 0) {
      out[0] = x[0];
      return;
    }
    // Walk the output in order; the innermost dim runs as a strided loop.
    std::vector<int64_t> index(rank, 0);
    int64_t offset = 0;
    for (size_t d = 0; d < rank; ++d) offset += geometry_.start[d] * in_strides_[d];
    const int64_t inner = shape[rank - 1], inner_stride = geometry_.step[rank - 1] * in_strides_[rank - 1];
    for (size_t o = 0; o < output_count_; o += static_cast<size_t>(inner)) {
      const float* src = x + offset;
      for (int64_t k = 0; k < inner; ++k) out[o + static_cast<size_t>(k)] = src[k * inner_stride];
      for (size_t d = rank - 1; d-- > 0;) {
        offset += geometry_.step[d] * in_strides_[d];
        if (++index[d] < shape[d]) break;
        offset -= geometry_.step[d] * in_strides_[d] * shape[d];
        index[d] = 0;
      }
    }
    apply_post_ops(step_, out, output_count_, threads);
  }

 private:
  FusedStep step_;
  graph::SliceGeometry geometry_;
  std::vector<int64_t> in_strides_;
};

// Pad in any mode (constant, reflect, edge), negative pads cropping.
class PadOp : public FloatLoopOp {
 public:
  enum class Mode { kConstant, kReflect, kEdge };

  PadOp(const FusedStep& step, const graph::Graph& g, Mode mode, std::vector<int64_t> pads, float value)
      : step_(step), mode_(mode), value_(value) {
    in_shape_ = g.value(step.node.inputs[0]).shape;
    out_shape_ = g.value(step.node.outputs[0]).shape;
    begin_.assign(pads.begin(), pads.begin() + static_cast<std::ptrdiff_t>(in_shape_.size()));
    output_count_ = static_cast<size_t>(graph::shape_numel(out_shape_));
  }

  void run_float(const std::vector<const float*>& inputs, const std::vector<float*>& outputs,
                 int threads) const override {
    float* out = outputs[0];
    const float* x = inputs[0];
    const size_t rank = out_shape_.size();
    // Per dim, the input index each output index reads (-1: the constant).
    std::vector<std::vector<int64_t>> source(rank);
    for (size_t d = 0; d < rank; ++d) {
      const int64_t size = in_shape_[d];
      for (int64_t j = 0; j < out_shape_[d]; ++j) {
        int64_t i = j - begin_[d];
        if (i < 0 || i >= size) {
          if (mode_ == Mode::kConstant)
            i = -1;
          else if (mode_ == Mode::kEdge)
            i = std::clamp<int64_t>(i, 0, size - 1);
          else if (size == 1)
            i = 0;
          else {
            const int64_t period = 2 * (size - 1);
            i = ((i % period) + period) % period;
            if (i >= size) i = period - i;
          }
        }
        source[d].push_back(i);
      }
    }
    std::vector<int64_t> in_strides(rank, 1);
    for (size_t d = rank; d-- > 1;) in_strides[d - 1] = in_strides[d] * in_shape_[d];
    std::vector<int64_t> index(rank, 0);
    for (size_t o = 0; o < output_count_; ++o) {
      int64_t offset = 0;
      bool inside = true;
      for (size_t d = 0; d < rank && inside; ++d) {
        int64_t i = source[d][static_cast<size_t>(index[d])];
        inside = i >= 0;
        offset += i * in_strides[d];
      }
      out[o] = inside ? x[offset] : value_;
      for (size_t d = rank; d-- > 0;) {
        if (++index[d] < out_shape_[d]) break;
        index[d] = 0;
      }
    }
    apply_post_ops(step_, out, output_count_, threads);
  }

 private:
  FusedStep step_;
  Mode mode_;
  float value_;
  graph::Shape in_shape_, out_shape_;
  std::vector<int64_t> begin_;
};

// MaxPool and AveragePool over 2 spatial dims, plain NCHW, for the window forms XNNPACK lacks
// (a 1x1 window, an average counting the padding). As the reference: a max ignores the padding;
// an average divides by the positions of the input, plus the explicit pads when
// count_include_pad, never ceil_mode's extension.
class PoolOp : public FloatLoopOp {
 public:
  PoolOp(const FusedStep& step, const graph::Graph& g) : step_(step) {
    const graph::Node& n = step.node;
    in_shape_ = g.value(n.inputs[0]).shape;
    geo_ = graph::window_geometry(n, in_shape_, n.attr_ints("kernel_shape"), n.attr_int("ceil_mode", 0) != 0);
    max_ = n.op_type == "MaxPool";
    include_pad_ = n.attr_int("count_include_pad", 0) != 0;
    output_count_ = static_cast<size_t>(in_shape_[0] * in_shape_[1] * geo_.output[0] * geo_.output[1]);
  }

  void run_float(const std::vector<const float*>& inputs, const std::vector<float*>& outputs,
                 int threads) const override {
    float* out = outputs[0];
    const int64_t planes = in_shape_[0] * in_shape_[1], h = in_shape_[2], w = in_shape_[3];
    const int64_t oh = geo_.output[0], ow = geo_.output[1];
#pragma omp parallel for num_threads(threads) if (threads > 1 && \
                                                  static_cast <std::ptrdiff_t>(output_count_) > kParallelFrom)
    for (int64_t p = 0; p < planes; ++p) {
      const float* x = inputs[0] + p * h * w;
      float* y = out + p * oh * ow;
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          double acc = max_ ? -std::numeric_limits<double>::infinity() : 0.0;
          int64_t counted = 0;
          for (int64_t ki = 0; ki < geo_.kernel[0]; ++ki)
            for (int64_t kj = 0; kj < geo_.kernel[1]; ++kj) {
              int64_t r = i * geo_.strides[0] - geo_.pads_begin[0] + ki * geo_.dilations[0];
              int64_t c = j * geo_.strides[1] - geo_.pads_begin[1] + kj * geo_.dilations[1];
              bool inside = r >= 0 && r < h && c >= 0 && c < w;
              bool in_pads = r >= -geo_.pads_begin[0] && r < h + geo_.pads_end[0] && c >= -geo_.pads_begin[1] &&
                             c < w + geo_.pads_end[1];
              if (inside) {
                double v = x[r * w + c];
                acc = max_ ? std::max(acc, v) : acc + v;
              }
              if (inside || (include_pad_ && in_pads)) ++counted;
            }
          y[i * ow + j] = static_cast<float>(max_ ? acc : acc / static_cast<double>(counted));
        }
    }
    apply_post_ops(step_, out, output_count_, threads);
  }

 private:
  FusedStep step_;
  graph::Shape in_shape_;
  graph::WindowGeometry geo_;
  bool max_ = true, include_pad_ = false;
};

// A standalone activation (and anything fused after it).
class ActivationOp : public FloatLoopOp {
 public:
  ActivationOp(const FusedStep& step, const graph::Graph& g) : step_(step) {
    first_ = activation_post_op(g, step.node);
    output_count_ = static_cast<size_t>(graph::shape_numel(g.value(step.node.outputs[0]).shape));
  }

  void run_float(const std::vector<const float*>& inputs, const std::vector<float*>& outputs,
                 int threads) const override {
    float* out = outputs[0];
    if (out != inputs[0]) std::copy(inputs[0], inputs[0] + output_count_, out);
    activation_in_place(first_, out, output_count_, threads);
    apply_post_ops(step_, out, output_count_, threads);
  }

 private:
  FusedStep step_;
  PostOp first_;
};

// A constant input's floats when it has `count` elements or broadcasts as one per position of
// the normalised dims' trailing `count`; empty with `why_not` otherwise.
bool trailing_constant(const graph::Graph& g, const graph::Node& n, size_t i, int64_t inner, std::vector<float>& out,
                       std::string& why_not) {
  const graph::Tensor* t = g.initializer(n.input(i));
  if (t == nullptr) {
    why_not = fmt::format("input '{}' is computed at run time; the lean backends need it constant", n.input(i));
    return false;
  }
  out = t->to_float();
  if (out.size() != 1 && static_cast<int64_t>(out.size()) != inner) {
    why_not = fmt::format("input '{}' has {} elements; the lean backends take 1 or one per normalised element ({})",
                          n.input(i), out.size(), inner);
    return false;
  }
  return true;
}

}  // namespace

void activation_in_place(const PostOp& p, float* x, size_t count, int threads) {
  const float alpha = p.alpha, beta = p.beta;
  switch (p.activation) {
    case Activation::kRelu:
      each_in_place(x, count, threads, [](float v) { return v > 0 ? v : 0.f; });
      break;
    case Activation::kLeakyRelu:
      each_in_place(x, count, threads, [alpha](float v) { return v >= 0 ? v : alpha * v; });
      break;
    case Activation::kClip:
      each_in_place(x, count, threads, [alpha, beta](float v) { return std::min(std::max(v, alpha), beta); });
      break;
    case Activation::kSigmoid:
      each_in_place(x, count, threads, [](float v) { return 1 / (1 + std::exp(-v)); });
      break;
    case Activation::kSwish:
      swish_in_place(x, count, alpha, threads);
      break;
    case Activation::kTanh:
      each_in_place(x, count, threads, [](float v) { return std::tanh(v); });
      break;
    case Activation::kHardSwish:
      each_in_place(x, count, threads, [](float v) { return v * std::max(0.f, std::min(1.f, v / 6 + 0.5f)); });
      break;
    case Activation::kHardSigmoid:
      each_in_place(x, count, threads,
                    [alpha, beta](float v) { return std::max(0.f, std::min(1.f, alpha * v + beta)); });
      break;
    case Activation::kElu:
      each_in_place(x, count, threads, [alpha](float v) { return v >= 0 ? v : alpha * std::expm1(v); });
      break;
    case Activation::kSelu:
      each_in_place(x, count, threads, [alpha, beta](float v) { return beta * (v > 0 ? v : alpha * std::expm1(v)); });
      break;
    case Activation::kGeluErf:
      each_in_place(x, count, threads,
                    [](float v) { return 0.5f * v * (1 + std::erf(v * static_cast<float>(1 / std::numbers::sqrt2))); });
      break;
    case Activation::kGeluTanh: {
      const float k = static_cast<float>(std::sqrt(2 / std::numbers::pi));
      each_in_place(x, count, threads,
                    [k](float v) { return 0.5f * v * (1 + std::tanh(k * (v + 0.044715f * v * v * v))); });
      break;
    }
    case Activation::kErf:
      each_in_place(x, count, threads, [](float v) { return std::erf(v); });
      break;
    case Activation::kExp:
      each_in_place(x, count, threads, [](float v) { return std::exp(v); });
      break;
    case Activation::kSqrt:
      each_in_place(x, count, threads, [](float v) { return std::sqrt(v); });
      break;
    case Activation::kAbs:
      each_in_place(x, count, threads, [](float v) { return std::fabs(v); });
      break;
    case Activation::kNeg:
      each_in_place(x, count, threads, [](float v) { return -v; });
      break;
  }
}

void FloatLoopOp::run(const std::vector<const void*>& inputs, const std::vector<void*>& outputs, int threads) const {
  std::vector<const float*> in(inputs.size());
  std::vector<float*> out(outputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) in[i] = static_cast<const float*>(inputs[i]);
  for (size_t i = 0; i < outputs.size(); ++i) out[i] = static_cast<float*>(outputs[i]);
  run_float(in, out, threads);
}

std::unique_ptr<LoopOp> make_loop_op(const FusedStep& step, const graph::Graph& g, std::string& why_not) {
  const graph::Node& n = step.node;
  const std::string& op = n.op_type;
  if (graph::op_has_trait(op, graph::kQuantized)) return make_quantized_loop_op(step, g, why_not);
  if (op == "Pow")
    return std::make_unique<BroadcastOp>(step, g, [](float a, float b, float) {
      return b == 2.f ? a * a : b == 0.5f ? std::sqrt(a) : std::pow(a, b);
    });
  if (op == "PRelu")
    return std::make_unique<BroadcastOp>(step, g, [](float x, float slope, float) { return x < 0 ? slope * x : x; });
  if (op == "Where")
    return std::make_unique<BroadcastOp>(step, g, [](float cond, float a, float b) { return cond != 0 ? a : b; });
  if (op == "ReduceMean" || op == "ReduceMax" || op == "ReduceSum" || op == "ReduceL2") {
    if (n.has_input(1) && !g.is_initializer(n.input(1))) {
      why_not = fmt::format("axes '{}' must be constant", n.input(1));
      return nullptr;
    }
    auto kind = op == "ReduceMean"  ? ReduceOp::Kind::kMean
                : op == "ReduceMax" ? ReduceOp::Kind::kMax
                : op == "ReduceSum" ? ReduceOp::Kind::kSum
                                    : ReduceOp::Kind::kL2;
    return std::make_unique<ReduceOp>(step, g, kind);
  }
  if (op == "LayerNormalization") {
    const graph::Shape& x = g.value(n.inputs[0]).shape;
    int64_t axis = graph::normalize_axis(n, n.attr_int("axis", -1), static_cast<int64_t>(x.size()));
    int64_t inner = 1;
    for (size_t d = static_cast<size_t>(axis); d < x.size(); ++d) inner *= x[d];
    std::vector<float> scale, bias;
    if (!trailing_constant(g, n, 1, inner, scale, why_not)) return nullptr;
    if (n.has_input(2) && !trailing_constant(g, n, 2, inner, bias, why_not)) return nullptr;
    return std::make_unique<LayerNormOp>(step, g, std::move(scale), std::move(bias));
  }
  if (op == "Pad") {
    for (size_t i = 1; i < n.inputs.size(); ++i)
      if (n.has_input(i) && !g.is_initializer(n.input(i))) {
        why_not = fmt::format("input '{}' is computed at run time; the lean backends need it constant", n.input(i));
        return nullptr;
      }
    std::string mode = n.attr_string("mode", "constant");
    if (mode != "constant" && mode != "reflect" && mode != "edge") {
      why_not = fmt::format("Pad mode '{}'", mode);
      return nullptr;
    }
    float value = n.has_input(2) ? g.initializer(n.input(2))->to_float().at(0) : 0.f;
    auto m = mode == "constant" ? PadOp::Mode::kConstant : mode == "edge" ? PadOp::Mode::kEdge : PadOp::Mode::kReflect;
    return std::make_unique<PadOp>(step, g, m, g.initializer(n.input(1))->to_int64(), value);
  }
  if (op == "MaxPool" || op == "AveragePool") {
    if (g.value(n.inputs[0]).shape.size() != 4 || (n.outputs.size() > 1 && !n.outputs[1].empty()) ||
        n.attr_int("storage_order", 0) != 0) {
      why_not = "pooling other than 2-D, or with MaxPool's Indices output";
      return nullptr;
    }
    return std::make_unique<PoolOp>(step, g);
  }
  if (op == "Slice") {
    for (size_t i = 1; i < n.inputs.size(); ++i)
      if (n.has_input(i) && !g.is_initializer(n.input(i))) {
        why_not = fmt::format("input '{}' is computed at run time; the lean backends need it constant", n.input(i));
        return nullptr;
      }
    auto constant = [&](size_t i) { return n.has_input(i) ? g.initializer(n.input(i)) : nullptr; };
    graph::SliceGeometry geometry =
        graph::slice_geometry(n, g.value(n.inputs[0]).shape, *constant(1), *constant(2), constant(3), constant(4));
    return std::make_unique<SliceOp>(step, g, std::move(geometry));
  }
  if (is_fusable_activation(g, n)) return std::make_unique<ActivationOp>(step, g);
  why_not = "not an op the lean backends run as a loop";
  return nullptr;
}

}  // namespace fluidedge::runtime
