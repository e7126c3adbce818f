#include "runtime/reference/aten_ops.h"

#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <set>

#include "common/error.h"
#include "graph/op_schema.h"
#include "runtime/reference/aten_executor.h"

namespace fluidedge::runtime::reference {

namespace {

using Inputs = std::vector<at::Tensor>;
using Outputs = std::vector<at::Tensor>;

std::vector<int64_t> ints_of(const at::Tensor& t) {
  at::Tensor c = t.to(at::kLong).contiguous();
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

graph::Shape shape_of(const at::Tensor& t) { return graph::Shape(t.sizes().begin(), t.sizes().end()); }

// Pads the spatial dims (2..) of x by begin/end amounts (negative crops) with `value`.
at::Tensor pad_spatial(const at::Tensor& x, const std::vector<int64_t>& begin, const std::vector<int64_t>& end,
                       double value) {
  std::vector<int64_t> pad;  // ATen order: last dim first
  for (int64_t i = static_cast<int64_t>(begin.size()) - 1; i >= 0; --i) {
    pad.push_back(begin[i]);
    pad.push_back(end[i]);
  }
  bool any = std::any_of(pad.begin(), pad.end(), [](int64_t p) { return p != 0; });
  return any ? at::constant_pad_nd(x, pad, value) : x;
}

// End padding that makes a window of `geo` produce exactly geo.output (ceil_mode extends it,
// unused trailing input is cropped).
std::vector<int64_t> effective_end(const graph::WindowGeometry& geo, const graph::Shape& in) {
  std::vector<int64_t> end;
  for (size_t i = 0; i < geo.kernel.size(); ++i) {
    int64_t extent = (geo.kernel[i] - 1) * geo.dilations[i] + 1;
    end.push_back((geo.output[i] - 1) * geo.strides[i] + extent - in[2 + i] - geo.pads_begin[i]);
  }
  return end;
}

Outputs conv(const graph::Node& n, const Inputs& in, OpContext&) {
  return {convolution(n, in[0], in[1], in.size() > 2 ? in[2] : at::Tensor())};
}

Outputs max_pool(const graph::Node& n, const Inputs& in, OpContext& ctx) {
  if (!at::isFloatingType(in[0].scalar_type())) {  // uint8, int8: exactly through float
    Outputs out = max_pool(n, {in[0].to(at::kFloat)}, ctx);
    return {out[0].to(in[0].scalar_type())};
  }
  const at::Tensor& x = in[0];
  auto geo = graph::window_geometry(n, shape_of(x), n.attr_ints("kernel_shape"), n.attr_int("ceil_mode", 0) != 0);
  double lowest = -std::numeric_limits<double>::infinity();
  at::Tensor p = pad_spatial(x, geo.pads_begin, effective_end(geo, shape_of(x)), lowest);
  std::vector<int64_t> zeros(geo.kernel.size(), 0);
  switch (geo.kernel.size()) {
    case 1:
      return {at::max_pool1d(p, geo.kernel, geo.strides, zeros, geo.dilations, false)};
    case 2:
      return {at::max_pool2d(p, geo.kernel, geo.strides, zeros, geo.dilations, false)};
    case 3:
      return {at::max_pool3d(p, geo.kernel, geo.strides, zeros, geo.dilations, false)};
  }
  fail("{}: {}-D pooling is not supported", n.describe(), geo.kernel.size());
}

at::Tensor avg_pool_nd(const at::Tensor& x, const std::vector<int64_t>& k, const std::vector<int64_t>& s) {
  std::vector<int64_t> zeros(k.size(), 0);
  switch (k.size()) {
    case 1:
      return at::avg_pool1d(x, k, s, zeros, false, true);
    case 2:
      return at::avg_pool2d(x, k, s, zeros, false, true);
    default:
      return at::avg_pool3d(x, k, s, zeros, false, true);
  }
}

// Average = window sum / number of counted positions. Counted: the input, plus the explicit
// pads when count_include_pad; never ceil_mode's extension (as in ONNX and PyTorch).
Outputs average_pool(const graph::Node& n, const Inputs& in, OpContext&) {
  const at::Tensor& x = in[0];
  auto geo = graph::window_geometry(n, shape_of(x), n.attr_ints("kernel_shape"), n.attr_int("ceil_mode", 0) != 0);
  if (geo.kernel.size() > 3) fail("{}: {}-D pooling is not supported", n.describe(), geo.kernel.size());
  auto end = effective_end(geo, shape_of(x));
  bool include = n.attr_int("count_include_pad", 0) != 0;
  at::Tensor ones = at::ones_like(x.select(1, 0).unsqueeze(1));
  at::Tensor mask;
  if (include) {
    // Counted region: input + explicit pads; the ceil extension beyond pads_end is not.
    std::vector<int64_t> extra;
    for (size_t i = 0; i < end.size(); ++i) extra.push_back(end[i] - geo.pads_end[i]);
    mask = pad_spatial(pad_spatial(ones, geo.pads_begin, geo.pads_end, 1.0), std::vector<int64_t>(end.size(), 0), extra,
                       0.0);
  } else {
    mask = pad_spatial(ones, geo.pads_begin, end, 0.0);
  }
  at::Tensor padded = pad_spatial(x, geo.pads_begin, end, 0.0);
  int64_t area = std::accumulate(geo.kernel.begin(), geo.kernel.end(), int64_t{1}, std::multiplies<>());
  at::Tensor sum = avg_pool_nd(padded, geo.kernel, geo.strides) * static_cast<double>(area);
  at::Tensor count = avg_pool_nd(mask, geo.kernel, geo.strides) * static_cast<double>(area);
  return {sum / count};
}

std::vector<int64_t> spatial_dims(const at::Tensor& x) {
  std::vector<int64_t> d;
  for (int64_t i = 2; i < x.dim(); ++i) d.push_back(i);
  return d;
}

Outputs binary(const graph::Node& n, const Inputs& in, OpContext&) {
  const std::string& op = n.op_type;
  const at::Tensor &a = in[0], &b = in[1];
  if (op == "Add") return {at::add(a, b)};
  if (op == "Sub") return {at::sub(a, b)};
  if (op == "Mul") return {at::mul(a, b)};
  if (at::isIntegralType(a.scalar_type(), true)) return {at::div(a, b, "trunc")};
  return {at::div(a, b)};
}

Outputs batch_norm(const graph::Node& n, const Inputs& in, OpContext& ctx) {
  double eps = n.attr_float("epsilon", 1e-5f);
  double momentum = 1.0 - n.attr_float("momentum", 0.9f);  // PyTorch's convention
  if (ctx.training && ctx.running_mean && ctx.running_var)
    return {at::batch_norm(in[0], in[1], in[2], *ctx.running_mean, *ctx.running_var, true, momentum, eps, false)};
  return {at::batch_norm(in[0], in[1], in[2], in[3], in[4], false, momentum, eps, false)};
}

Outputs gemm(const graph::Node& n, const Inputs& in, OpContext&) {
  at::Tensor a = n.attr_int("transA", 0) ? in[0].t() : in[0];
  at::Tensor b = n.attr_int("transB", 0) ? in[1].t() : in[1];
  at::Tensor y = at::matmul(a, b);
  double alpha = n.attr_float("alpha", 1.f), beta = n.attr_float("beta", 1.f);
  if (alpha != 1.0) y = y * alpha;
  if (in.size() > 2 && in[2].defined()) y = y + (beta == 1.0 ? in[2] : in[2] * beta);
  return {y};
}

Outputs reshape(const graph::Node& n, const Inputs& in, OpContext&) {
  auto target = ints_of(in[1]);
  bool allow_zero = n.attr_int("allowzero", 0) != 0;
  for (size_t i = 0; i < target.size(); ++i)
    if (target[i] == 0 && !allow_zero) target[i] = in[0].size(static_cast<int64_t>(i));
  return {in[0].reshape(target)};
}

Outputs flatten(const graph::Node& n, const Inputs& in, OpContext&) {
  int64_t rank = in[0].dim();
  int64_t axis = n.attr_int("axis", 1);
  if (axis < 0) axis += rank;
  int64_t outer = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= in[0].size(i);
  return {in[0].reshape({outer, -1})};
}

Outputs transpose(const graph::Node& n, const Inputs& in, OpContext&) {
  int64_t rank = in[0].dim();
  std::vector<int64_t> perm(rank);
  for (int64_t i = 0; i < rank; ++i) perm[i] = rank - 1 - i;
  return {in[0].permute(n.attr_ints("perm", perm))};
}

Outputs concat(const graph::Node& n, const Inputs& in, OpContext&) {
  std::vector<at::Tensor> parts(in.begin(), in.end());
  return {at::cat(parts, graph::normalize_axis(n, n.attr_int("axis", 0), in[0].dim()))};
}

Outputs split(const graph::Node& n, const Inputs& in, OpContext&) {
  int64_t axis = graph::normalize_axis(n, n.attr_int("axis", 0), in[0].dim());
  std::vector<int64_t> sizes;
  if (in.size() > 1 && in[1].defined()) {
    sizes = ints_of(in[1]);
  } else {
    int64_t parts = static_cast<int64_t>(n.outputs.size()), dim = in[0].size(axis);
    int64_t chunk = (dim + parts - 1) / parts;
    for (int64_t i = 0; i < parts; ++i) sizes.push_back(std::min(chunk, dim - i * chunk));
  }
  auto pieces = at::split_with_sizes(in[0], sizes, axis);
  return Outputs(pieces.begin(), pieces.end());
}

Outputs squeeze(const graph::Node& n, const Inputs& in, OpContext&) {
  at::Tensor x = in[0];
  if (in.size() < 2 || !in[1].defined()) return {x.squeeze()};
  auto axes = ints_of(in[1]);
  for (auto& a : axes) a = graph::normalize_axis(n, a, x.dim());
  std::sort(axes.rbegin(), axes.rend());
  for (int64_t a : axes) x = x.squeeze(a);
  return {x};
}

Outputs unsqueeze(const graph::Node& n, const Inputs& in, OpContext&) {
  at::Tensor x = in[0];
  auto axes = ints_of(in[1]);
  int64_t out_rank = x.dim() + static_cast<int64_t>(axes.size());
  for (auto& a : axes) a = graph::normalize_axis(n, a, out_rank);
  std::sort(axes.begin(), axes.end());
  for (int64_t a : axes) x = x.unsqueeze(a);
  return {x};
}

Outputs pad(const graph::Node& n, const Inputs& in, OpContext&) {
  at::Tensor x = in[0];
  int64_t rank = x.dim();
  auto pads = ints_of(in[1]);
  std::vector<int64_t> axes(rank);
  std::iota(axes.begin(), axes.end(), 0);
  if (in.size() > 3 && in[3].defined()) {
    axes = ints_of(in[3]);
    for (auto& a : axes) a = graph::normalize_axis(n, a, rank);
  }
  size_t k = axes.size();
  std::string mode = n.attr_string("mode", "constant");
  if (mode == "constant") {
    double value = in.size() > 2 && in[2].defined() ? in[2].item<double>() : 0.0;
    std::vector<int64_t> aten(2 * rank, 0);  // last dim first
    for (size_t i = 0; i < k; ++i) {
      int64_t d = axes[i];
      aten[2 * (rank - 1 - d)] = pads[i];
      aten[2 * (rank - 1 - d) + 1] = pads[k + i];
    }
    return {at::constant_pad_nd(x, aten, value)};
  }
  // reflect / edge: gather along each padded dimension with mirrored or clamped indices.
  for (size_t i = 0; i < k; ++i) {
    int64_t d = axes[i], size = x.size(d), b = pads[i], e = pads[k + i];
    if (b == 0 && e == 0) continue;
    std::vector<int64_t> idx;
    for (int64_t j = -b; j < size + e; ++j) {
      int64_t s = j;
      if (mode == "edge") {
        s = std::clamp<int64_t>(j, 0, size - 1);
      } else if (mode == "reflect") {
        if (size == 1)
          s = 0;
        else {
          int64_t period = 2 * (size - 1);
          s = ((j % period) + period) % period;
          if (s >= size) s = period - s;
        }
      } else {
        fail("{}: pad mode '{}' is not one of constant, reflect, edge", n.describe(), mode);
      }
      idx.push_back(s);
    }
    x = x.index_select(d, at::tensor(idx, at::kLong));
  }
  return {x};
}

Outputs softmax(const graph::Node& n, const Inputs& in, OpContext&) {
  return {at::softmax(in[0], graph::normalize_axis(n, n.attr_int("axis", -1), in[0].dim()))};
}

Outputs clip(const graph::Node&, const Inputs& in, OpContext&) {
  c10::optional<at::Tensor> lo, hi;
  if (in.size() > 1 && in[1].defined()) lo = in[1];
  if (in.size() > 2 && in[2].defined()) hi = in[2];
  if (!lo && !hi) return {in[0].clone()};
  return {at::clamp(in[0], lo, hi)};
}

Outputs dropout(const graph::Node& n, const Inputs& in, OpContext& ctx) {
  bool training = ctx.training;
  if (in.size() > 2 && in[2].defined()) training = in[2].item<bool>();
  double ratio = in.size() > 1 && in[1].defined() ? in[1].item<double>() : n.attr_float("ratio", 0.5f);
  at::Tensor y = training && ratio > 0 ? at::dropout(in[0], ratio, true) : in[0];
  return {y, at::ones(in[0].sizes(), at::kBool)};
}

Outputs shape(const graph::Node& n, const Inputs& in, OpContext&) {
  std::vector<int64_t> s(in[0].sizes().begin(), in[0].sizes().end());
  int64_t rank = static_cast<int64_t>(s.size());
  int64_t start = n.attr_int("start", 0), end = n.attr_int("end", rank);
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, start, rank);
  return {at::tensor(std::vector<int64_t>(s.begin() + start, s.begin() + end), at::kLong)};
}

Outputs gather(const graph::Node& n, const Inputs& in, OpContext&) {
  int64_t axis = graph::normalize_axis(n, n.attr_int("axis", 0), in[0].dim());
  at::Tensor idx = in[1].to(at::kLong);
  idx = at::where(idx < 0, idx + in[0].size(axis), idx);
  std::vector<int64_t> out(in[0].sizes().begin(), in[0].sizes().begin() + axis);
  out.insert(out.end(), idx.sizes().begin(), idx.sizes().end());
  out.insert(out.end(), in[0].sizes().begin() + axis + 1, in[0].sizes().end());
  return {in[0].index_select(axis, idx.flatten()).reshape(out)};
}

Outputs slice(const graph::Node& n, const Inputs& in, OpContext&) {
  at::Tensor x = in[0];
  auto starts = ints_of(in[1]), ends = ints_of(in[2]);
  std::vector<int64_t> axes(starts.size()), steps(starts.size(), 1);
  std::iota(axes.begin(), axes.end(), 0);
  if (in.size() > 3 && in[3].defined()) axes = ints_of(in[3]);
  if (in.size() > 4 && in[4].defined()) steps = ints_of(in[4]);
  for (size_t i = 0; i < starts.size(); ++i) {
    int64_t d = graph::normalize_axis(n, axes[i], x.dim()), size = x.size(d), step = steps[i];
    int64_t s = starts[i] < 0 ? starts[i] + size : starts[i];
    int64_t e = ends[i] < 0 ? ends[i] + size : ends[i];
    if (step > 0) {
      s = std::clamp<int64_t>(s, 0, size);
      e = std::clamp<int64_t>(e, 0, size);
      x = x.slice(d, s, std::max(s, e), step);
    } else {
      s = std::clamp<int64_t>(s, -1, size - 1);
      e = std::clamp<int64_t>(e, -1, size - 1);
      std::vector<int64_t> idx;
      for (int64_t j = s; j > e; j += step) idx.push_back(j);
      x = x.index_select(d, at::tensor(idx, at::kLong));
    }
  }
  return {x};
}

Outputs cast(const graph::Node& n, const Inputs& in, OpContext&) {
  graph::DType to = graph::dtype_from_onnx(static_cast<int>(n.attr_int("to", 0)));
  return {in[0].to(aten_type(to))};
}

// ReduceMean, ReduceMax, ReduceSum, ReduceL2: `reduce` over the dims graph::reduced_axes names.
template <typename Reduce>
AtenOp reduction(Reduce reduce) {
  return [reduce](const graph::Node& n, const Inputs& in, OpContext&) -> Outputs {
    std::optional<graph::Tensor> axes;
    if (in.size() > 1 && in[1].defined()) axes = graph::Tensor::from_vector<int64_t>({in[1].numel()}, ints_of(in[1]));
    std::set<int64_t> reduced = graph::reduced_axes(n, axes ? &*axes : nullptr, in[0].dim());
    if (reduced.empty()) return {in[0]};
    std::vector<int64_t> dims(reduced.begin(), reduced.end());
    return {reduce(in[0], at::IntArrayRef(dims), n.attr_int("keepdims", 1) != 0)};
  };
}

Outputs layer_norm(const graph::Node& n, const Inputs& in, OpContext&) {
  const at::Tensor& x = in[0];
  int64_t axis = graph::normalize_axis(n, n.attr_int("axis", -1), x.dim());
  std::vector<int64_t> normalized(x.sizes().begin() + axis, x.sizes().end());
  at::Tensor scale = in[1].expand(normalized).contiguous();
  at::Tensor bias = in.size() > 2 && in[2].defined() ? in[2].expand(normalized).contiguous() : at::Tensor();
  const double epsilon = n.attr_float("epsilon", 1e-5f);
  if (n.outputs.size() == 1) return {at::layer_norm(x, normalized, scale, bias, epsilon)};
  // With the Mean and InvStdDev outputs: the statistics over the normalised dims, kept as 1s.
  std::vector<int64_t> dims(normalized.size());
  std::iota(dims.begin(), dims.end(), axis);
  at::Tensor mean = x.mean(dims, true);
  at::Tensor inv_std = at::rsqrt(x.var(dims, false, true) + epsilon);
  at::Tensor y = (x - mean) * inv_std * scale;
  if (bias.defined()) y = y + bias;
  return {y, mean.to(at::kFloat), inv_std.to(at::kFloat)};
}

Outputs gelu(const graph::Node& n, const Inputs& in, OpContext&) {
  std::string approximate = n.attr_string("approximate", "none");
  if (approximate != "none" && approximate != "tanh")
    fail("{}: approximate '{}' is not one of none, tanh", n.describe(), approximate);
  return {at::gelu(in[0], approximate)};
}

// Elementwise ops of one input with no attributes.
template <at::Tensor (*F)(const at::Tensor&)>
Outputs unary(const graph::Node&, const Inputs& in, OpContext&) {
  return {F(in[0])};
}

const std::map<std::string, AtenOp>& table() {
  static const std::map<std::string, AtenOp> ops = [] {
    std::map<std::string, AtenOp> t = {
        {"Conv", conv},
        {"MaxPool", max_pool},
        {"AveragePool", average_pool},
        {"GlobalAveragePool",
         [](const graph::Node&, const Inputs& in, OpContext&) -> Outputs {
           return {in[0].mean(spatial_dims(in[0]), true)};
         }},
        {"GlobalMaxPool",
         [](const graph::Node&, const Inputs& in, OpContext&) -> Outputs {
           return {in[0].amax(spatial_dims(in[0]), true)};
         }},
        {"Add", binary},
        {"Sub", binary},
        {"Mul", binary},
        {"Div", binary},
        {"Relu", [](const graph::Node&, const Inputs& in, OpContext&) -> Outputs { return {at::relu(in[0])}; }},
        {"Sigmoid", [](const graph::Node&, const Inputs& in, OpContext&) -> Outputs { return {at::sigmoid(in[0])}; }},
        {"Tanh", [](const graph::Node&, const Inputs& in, OpContext&) -> Outputs { return {at::tanh(in[0])}; }},
        {"HardSigmoid",
         [](const graph::Node& n, const Inputs& in, OpContext&) -> Outputs {
           return {at::clamp(in[0] * n.attr_float("alpha", 0.2f) + n.attr_float("beta", 0.5f), 0.0, 1.0)};
         }},
        {"HardSwish",
         [](const graph::Node&, const Inputs& in, OpContext&) -> Outputs {
           return {in[0] * at::clamp(in[0] / 6.0 + 0.5, 0.0, 1.0)};
         }},
        {"LeakyRelu",
         [](const graph::Node& n, const Inputs& in, OpContext&) -> Outputs {
           return {at::leaky_relu(in[0], n.attr_float("alpha", 0.01f))};
         }},
        {"Elu",
         [](const graph::Node& n, const Inputs& in, OpContext&) -> Outputs {
           return {at::elu(in[0], n.attr_float("alpha", 1.f))};
         }},
        {"Selu",
         [](const graph::Node& n, const Inputs& in, OpContext&) -> Outputs {
           return {at::elu(in[0], n.attr_float("alpha", 1.67326319217681884765625f),
                           n.attr_float("gamma", 1.05070102214813232421875f))};
         }},
        {"Gelu", gelu},
        {"Erf", unary<at::erf>},
        {"Exp", unary<at::exp>},
        {"Sqrt", unary<at::sqrt>},
        {"Abs", unary<at::abs>},
        {"Neg", unary<at::neg>},
        {"Pow",
         [](const graph::Node&, const Inputs& in, OpContext&) -> Outputs {
           return {at::pow(in[0], in[1]).to(in[0].scalar_type())};
         }},
        {"PRelu",
         [](const graph::Node&, const Inputs& in, OpContext&) -> Outputs {
           return {at::where(in[0] < 0, in[0] * in[1], in[0])};
         }},
        {"Where",
         [](const graph::Node&, const Inputs& in, OpContext&) -> Outputs {
           return {at::where(in[0].to(at::kBool), in[1], in[2])};
         }},
        {"ReduceMean", reduction([](const at::Tensor& x, at::IntArrayRef d, bool k) { return x.mean(d, k); })},
        {"ReduceMax", reduction([](const at::Tensor& x, at::IntArrayRef d, bool k) { return x.amax(d, k); })},
        {"ReduceSum", reduction([](const at::Tensor& x, at::IntArrayRef d, bool k) { return x.sum(d, k); })},
        {"ReduceL2",
         reduction([](const at::Tensor& x, at::IntArrayRef d, bool k) { return at::linalg_vector_norm(x, 2, d, k); })},
        {"LayerNormalization", layer_norm},
        {"Identity", [](const graph::Node&, const Inputs& in, OpContext&) -> Outputs { return {in[0]}; }},
        {"Clip", clip},
        {"Dropout", dropout},
        {"BatchNormalization", batch_norm},
        {"Softmax", softmax},
        {"Gemm", gemm},
        {"MatMul",
         [](const graph::Node&, const Inputs& in, OpContext&) -> Outputs { return {at::matmul(in[0], in[1])}; }},
        {"Reshape", reshape},
        {"Flatten", flatten},
        {"Transpose", transpose},
        {"Concat", concat},
        {"Split", split},
        {"Squeeze", squeeze},
        {"Unsqueeze", unsqueeze},
        {"Pad", pad},
        {"Shape", shape},
        {"Gather", gather},
        {"Slice", slice},
        {"Cast", cast},
    };
    add_quantized_ops(t);
    return t;
  }();
  return ops;
}

}  // namespace

at::Tensor convolution(const graph::Node& n, const at::Tensor& x, const at::Tensor& w, const at::Tensor& bias) {
  std::vector<int64_t> kernel(w.sizes().begin() + 2, w.sizes().end());
  auto geo = graph::window_geometry(n, shape_of(x), kernel, false);
  at::Tensor padded = pad_spatial(x, geo.pads_begin, effective_end(geo, shape_of(x)), 0.0);
  std::vector<int64_t> zeros(kernel.size(), 0);
  int64_t groups = n.attr_int("group", 1);
  // ATen's mkldnn convolution is pathologically slow for single-channel inputs (25x, forward
  // and backward); its native path is slow everywhere else. Pick per convolution; the choice
  // made at forward time also holds for the backward pass autograd records.
  bool single_channel = w.size(1) == 1 && groups == 1;
  bool was = at::globalContext().userEnabledMkldnn();
  if (single_channel) at::globalContext().setUserEnabledMkldnn(false);
  at::Tensor y = at::convolution(padded, w, bias, geo.strides, zeros, geo.dilations, false, zeros, groups);
  at::globalContext().setUserEnabledMkldnn(was);
  return y;
}

std::vector<std::string> aten_table_ops() {
  std::vector<std::string> out;
  for (const auto& [op, f] : table()) out.push_back(op);
  return out;
}

const AtenOp* find_aten_op(const std::string& op_type) {
  auto it = table().find(op_type);
  return it == table().end() ? nullptr : &it->second;
}

}  // namespace fluidedge::runtime::reference
