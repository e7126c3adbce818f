// Helpers shared by the xnnpack backend's kernels: status checks, buffers, the activation chain
// and the layout conversions.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "common/error.h"
#include "runtime/loop_ops.h"
#include "runtime/vector_math.h"
#include "runtime/xnnpack/kernel.h"

namespace fluidedge::runtime::xnnpack {

bool layouts_agree(const graph::Shape& s) { return s.size() == 4 && (s[1] == 1 || s[2] * s[3] == 1); }

graph::Shape nhwc_shape(const graph::Shape& s) {
  if (s.size() != 4) return s;
  return {s[0], s[2], s[3], s[1]};
}

graph::Shape padded(const graph::Shape& s, size_t rank) {
  graph::Shape out(rank > s.size() ? rank - s.size() : 0, 1);
  out.insert(out.end(), s.begin(), s.end());
  return out;
}

void check(xnn_status status, const char* what) {
  if (status == xnn_status_success) return;
  const char* why = status == xnn_status_invalid_parameter       ? "invalid parameter"
                    : status == xnn_status_unsupported_parameter ? "unsupported parameter"
                    : status == xnn_status_unsupported_hardware  ? "unsupported hardware"
                    : status == xnn_status_out_of_memory         ? "out of memory"
                    : status == xnn_status_uninitialized         ? "XNNPACK not initialised"
                                                                 : "error";
  fail("XNNPACK refused {} ({}, status {})", what, why, static_cast<int>(status));
}

std::shared_ptr<float[]> float_buffer(size_t count, const char* what) {
  size_t bytes = (count * sizeof(float) + XNN_EXTRA_BYTES + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, bytes);
  if (p == nullptr) fail("out of memory allocating {} ({} bytes)", what, bytes);
  return std::shared_ptr<float[]>(static_cast<float*>(p), [](float* q) { std::free(q); });
}

ActivationChain::ActivationChain(const std::vector<PostOp>& ops, bool fold_range) {
  size_t i = 0;
  for (; fold_range && i < ops.size(); ++i) {
    const PostOp& p = ops[i];
    if (p.is(Activation::kRelu)) {
      min_ = std::max(min_, 0.f);
      max_ = std::max(max_, 0.f);
    } else if (p.is(Activation::kClip)) {
      min_ = std::min(std::max(min_, p.alpha), p.beta);
      max_ = std::max(std::min(max_, p.beta), p.alpha);
      if (p.alpha > p.beta) min_ = max_ = p.beta;  // ONNX: min > max gives max everywhere
    } else {
      break;
    }
  }
  for (; i < ops.size(); ++i) {
    if (ops[i].kind != PostOp::Kind::kEltwise) fail("internal: a sum in an activation chain");
    rest_.push_back({ops[i], nullptr});
  }
}

void ActivationChain::plan(size_t count) {
  count_ = count;
  for (Step& s : rest_) {
    xnn_operator_t op = nullptr;
    const PostOp& p = s.op;
    switch (p.activation) {
      case Activation::kRelu:
        check(xnn_create_clamp_nc_f32(count, count, count, 0.f, INFINITY, 0, &op), "a Relu");
        break;
      case Activation::kClip:
        check(xnn_create_clamp_nc_f32(count, count, count, p.alpha, std::max(p.alpha, p.beta), 0, &op), "a Clip");
        break;
      case Activation::kLeakyRelu:
        check(xnn_create_leaky_relu_nc_f32(count, count, count, p.alpha, 0, &op), "a LeakyRelu");
        break;
      case Activation::kSigmoid:
        check(xnn_create_sigmoid_nc_f32(count, count, count, 0, &op), "a Sigmoid");
        break;
      case Activation::kHardSwish:
        check(xnn_create_hardswish_nc_f32(count, count, count, 0, &op), "a HardSwish");
        break;
      case Activation::kElu:
        check(xnn_create_elu_nc_f32(count, count, count, p.alpha, 0, &op), "an Elu");
        break;
      case Activation::kAbs:
        check(xnn_create_abs_nc_f32(count, count, count, 0, &op), "an Abs");
        break;
      case Activation::kNeg:
        check(xnn_create_negate_nc_f32(count, count, count, 0, &op), "a Neg");
        break;
      case Activation::kSqrt:
        check(xnn_create_square_root_nc_f32(count, count, count, 0, &op), "a Sqrt");
        break;
      // XNNPACK (this version) has no float tanh, hard sigmoid, swish, selu, gelu, erf or exp:
      // the shared loops (runtime/loop_ops.h).
      case Activation::kSwish:
      case Activation::kTanh:
      case Activation::kHardSigmoid:
      case Activation::kSelu:
      case Activation::kGeluErf:
      case Activation::kGeluTanh:
      case Activation::kErf:
      case Activation::kExp:
        break;
    }
    s.xnn.reset(op);
  }
}

void ActivationChain::bind(float* data, pthreadpool_t threads) {
  data_ = data;
  for (Step& s : rest_) {
    if (!s.xnn) continue;
    switch (s.op.activation) {
      case Activation::kRelu:
      case Activation::kClip:
        check(xnn_setup_clamp_nc_f32(s.xnn.get(), 1, data, data, threads), "a clamp");
        break;
      case Activation::kLeakyRelu:
        check(xnn_setup_leaky_relu_nc_f32(s.xnn.get(), 1, data, data, threads), "a LeakyRelu");
        break;
      case Activation::kSigmoid:
        check(xnn_setup_sigmoid_nc_f32(s.xnn.get(), 1, data, data, threads), "a Sigmoid");
        break;
      case Activation::kHardSwish:
        check(xnn_setup_hardswish_nc_f32(s.xnn.get(), 1, data, data, threads), "a HardSwish");
        break;
      case Activation::kElu:
        check(xnn_setup_elu_nc_f32(s.xnn.get(), 1, data, data, threads), "an Elu");
        break;
      case Activation::kAbs:
        check(xnn_setup_abs_nc_f32(s.xnn.get(), 1, data, data, threads), "an Abs");
        break;
      case Activation::kNeg:
        check(xnn_setup_negate_nc_f32(s.xnn.get(), 1, data, data, threads), "a Neg");
        break;
      case Activation::kSqrt:
        check(xnn_setup_square_root_nc_f32(s.xnn.get(), 1, data, data, threads), "a Sqrt");
        break;
      default:
        fail("internal: activation {} has an operator but no setup", activation_name(s.op.activation));
    }
  }
}

void ActivationChain::run(pthreadpool_t threads) {
  int nthreads = threads ? static_cast<int>(pthreadpool_get_threads_count(threads)) : 1;
  for (Step& s : rest_) {
    if (s.xnn) {
      check(xnn_run_operator(s.xnn.get(), threads), "running an activation");
      continue;
    }
    activation_in_place(s.op, data_, count_, nthreads);
  }
}

namespace {

template <typename T>
void convert_layout_of(const T* from, T* to, const graph::Shape& s, bool to_nhwc) {
  const int64_t n = s[0], c = s[1], hw = s[2] * s[3];
  // Blocks of 16 x 16 (channels x pixels) keep both sides' cache lines in use.
  constexpr int64_t kBlock = 16;
  for (int64_t b = 0; b < n; ++b) {
    const T* src = from + b * c * hw;
    T* dst = to + b * c * hw;
    for (int64_t c0 = 0; c0 < c; c0 += kBlock)
      for (int64_t p0 = 0; p0 < hw; p0 += kBlock) {
        int64_t c1 = std::min(c, c0 + kBlock), p1 = std::min(hw, p0 + kBlock);
        if (to_nhwc) {
          for (int64_t p = p0; p < p1; ++p)
            for (int64_t ch = c0; ch < c1; ++ch) dst[p * c + ch] = src[ch * hw + p];
        } else {
          for (int64_t ch = c0; ch < c1; ++ch)
            for (int64_t p = p0; p < p1; ++p) dst[ch * hw + p] = src[p * c + ch];
        }
      }
  }
}

}  // namespace

void convert_layout(const void* from, void* to, const graph::Shape& s, bool to_nhwc, size_t element_bytes) {
  switch (element_bytes) {
    case 1:
      return convert_layout_of(static_cast<const uint8_t*>(from), static_cast<uint8_t*>(to), s, to_nhwc);
    case 2:
      return convert_layout_of(static_cast<const uint16_t*>(from), static_cast<uint16_t*>(to), s, to_nhwc);
    case 4:
      return convert_layout_of(static_cast<const uint32_t*>(from), static_cast<uint32_t*>(to), s, to_nhwc);
    case 8:
      return convert_layout_of(static_cast<const uint64_t*>(from), static_cast<uint64_t*>(to), s, to_nhwc);
    default:
      fail("a layout conversion of {}-byte elements", element_bytes);
  }
}

void transpose(const float* in, float* out, const graph::Shape& shape, const std::vector<int64_t>& perm) {
  const size_t rank = shape.size();
  std::vector<int64_t> in_strides(rank, 1), out_dims(rank), strides(rank);
  for (int64_t i = static_cast<int64_t>(rank) - 2; i >= 0; --i) in_strides[i] = in_strides[i + 1] * shape[i + 1];
  for (size_t i = 0; i < rank; ++i) {
    out_dims[i] = shape[perm[i]];
    strides[i] = in_strides[perm[i]];  // input stride of output dimension i
  }
  const int64_t total = graph::shape_numel(shape);
  if (total == 0) return;
  if (rank == 0) {
    out[0] = in[0];
    return;
  }
  // Walk the output in order with an odometer over its dimensions; the innermost runs as a loop.
  std::vector<int64_t> index(rank, 0);
  const int64_t inner = out_dims[rank - 1], inner_stride = strides[rank - 1];
  int64_t offset = 0;
  for (int64_t o = 0; o < total; o += inner) {
    const float* src = in + offset;
    for (int64_t k = 0; k < inner; ++k) out[o + k] = src[k * inner_stride];
    for (int64_t d = static_cast<int64_t>(rank) - 2; d >= 0; --d) {
      offset += strides[d];
      if (++index[d] < out_dims[d]) break;
      offset -= strides[d] * out_dims[d];
      index[d] = 0;
    }
  }
}

}  // namespace fluidedge::runtime::xnnpack
